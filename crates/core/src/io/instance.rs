//! Instances as JSON: the file format read (validated, with every problem named by
//! file, field, sample index or line and column) and written back, and instance
//! files of either format (`.npz` through [`crate::io::npz`]).

use crate::error::{Error, Invalid, Result};
use crate::io::input::read_input;
use crate::io::json::{self, Described, Obj, Whole};
use crate::io::npz;
use crate::model::instance::{no_groups, Group, Instance, Interner, Planted, TableEntry};
use crate::model::label::Label;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

impl Instance {
    /// Parses and validates an instance from JSON text; `origin` names the source in errors.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Instance> {
        match Instance::from_json_with_options(bytes, origin)? {
            (instance, None) => Ok(instance),
            (_, Some(_)) => Err(Error::input(
                origin,
                "not a valid instance: unknown field `options`, expected one of `groups`, `samples`, `planted`, `meta` (`options` belongs to HTTP solve requests)",
            )),
        }
    }

    /// Parses an instance that may carry one more top-level field, `options`
    /// (the body of an HTTP solve request), returned unparsed.
    pub fn from_json_with_options(
        bytes: &[u8],
        origin: &str,
    ) -> Result<(Instance, Option<Box<RawValue>>)> {
        let mut raw: RawInstance = json::parse(bytes, origin, "instance")?;
        let options = raw.options.take();
        let instance = raw
            .into_instance()
            .map_err(|m| m.into_error(origin, "invalid instance: "))?;
        Ok((instance, options))
    }

    /// Reads and validates an instance file: NumPy `.npz` when the name ends in `.npz`
    /// (any case; see [`crate::io::npz`]), JSON otherwise; `-` reads JSON from
    /// standard input.
    pub fn read(path: &str) -> Result<Instance> {
        if npz::is_npz(path) {
            return npz::read(path);
        }
        Instance::from_json(&read_input(path)?, path)
    }

    /// Writes the instance to `path` atomically: NumPy `.npz` when the name ends in
    /// `.npz` (what it cannot hold is refused, see [`npz::to_bytes`]), JSON otherwise
    /// (`-`: standard output).
    pub fn write(&self, path: &str) -> Result<()> {
        if npz::is_npz(path) {
            return npz::write(self, path, path);
        }
        crate::io::output::write_text(Some(path), &self.to_json())
    }

    /// The instance as JSON text in the file format (one line).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an instance always serializes")
    }
}

impl Serialize for Instance {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        struct Samples<'a>(&'a Instance);
        struct Sample<'a>(&'a Instance, usize);
        impl Serialize for Samples<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.num_samples()))?;
                for i in 0..self.0.num_samples() {
                    seq.serialize_element(&Sample(self.0, i))?;
                }
                seq.end()
            }
        }
        impl Serialize for Sample<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("x", self.0.x(self.1))?;
                map.serialize_entry("y", self.0.y(self.1))?;
                if self.0.weighted() {
                    map.serialize_entry("w", &self.0.weight(self.1))?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(None)?;
        if self.named() {
            // Every group named: the names in one top-level list, as `partrec import` writes.
            let groups: Vec<Group> = self
                .groups()
                .iter()
                .map(|g| Group {
                    token_names: None,
                    ..g.clone()
                })
                .collect();
            let names: Vec<&Vec<String>> = self
                .groups()
                .iter()
                .filter_map(|g| g.token_names.as_ref())
                .collect();
            map.serialize_entry("groups", &groups)?;
            map.serialize_entry("names", &names)?;
        } else {
            map.serialize_entry("groups", self.groups())?;
        }
        map.serialize_entry("samples", &Samples(self))?;
        if let Some(planted) = &self.planted {
            map.serialize_entry("planted", planted)?;
        }
        if let Some(meta) = &self.meta {
            map.serialize_entry("meta", meta)?;
        }
        map.end()
    }
}

// ---- the raw file format, as read ----

/// An instance as its JSON file holds it (the schema of the format; the reader
/// validates it further, e.g. token ids against `tokens`).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Instance))]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    /// The groups, at least one.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<RawGroup>, min_items = 1))]
    groups: Vec<Obj<RawGroup>>,
    /// The samples: per sample, one token per group and a value.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<RawSample>))]
    samples: RawSamples,
    /// The token names of every group at once, one list per group (as `partrec import`
    /// writes them; a group's names given both here and in the group are refused).
    #[serde(default)]
    names: Option<Vec<Vec<String>>>,
    /// The planted truth of a generated instance, compared with answers by `check`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RawPlanted>))]
    planted: Option<Obj<RawPlanted>>,
    /// Free-form metadata (generator, seed, ...), carried along unchanged.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    meta: Option<Box<RawValue>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    options: Option<Box<RawValue>>,
}

/// One group of tokens.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Group))]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    /// Number of tokens N (token ids are 0..N-1), at least 1.
    #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1))]
    tokens: serde_json::Number,
    /// Most classes K its tokens fall into, at least 1.
    #[cfg_attr(feature = "openapi", schema(value_type = u32, minimum = 1))]
    classes: serde_json::Number,
    /// The group's name, for people.
    #[serde(default)]
    name: Option<String>,
    /// One name per token, for people.
    #[serde(default)]
    token_names: Option<Vec<String>>,
}

/// The planted truth of a generated instance.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Planted))]
#[serde(deny_unknown_fields)]
pub struct RawPlanted {
    /// The class of every token, per group.
    #[serde(deserialize_with = "json::rows")]
    partition: Vec<Vec<u32>>,
    /// The planted table: the value of each class tuple.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<TableEntry>>))]
    table: Option<Vec<Obj<RawTableEntry>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTableEntry {
    cell: Vec<Whole>,
    y: Label,
}

/// One sample: a token per group and the value seen with them.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Sample))]
#[serde(deny_unknown_fields)]
pub struct RawSample<'a> {
    /// One token id per group, each in 0..N-1 of its group.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<u32>))]
    x: Vec<serde_json::Number>,
    /// The value.
    #[serde(borrow)]
    #[cfg_attr(feature = "openapi", schema(value_type = Label))]
    y: &'a RawValue,
    /// The sample's weight, a whole number >= 1 (1 when absent), used by
    /// max-consistency.
    // As written (`null`, a string or a bool included): anything but a whole number
    // is refused by name.
    #[serde(default, borrow, deserialize_with = "present")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = u64, minimum = 1, required = false)
    )]
    w: Option<&'a RawValue>,
}

/// A field that is present, even as `null` (which `Option` alone would read as absent).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A weight: a whole number from 1 to 2^64 - 1, written as an integer or as a float
/// that is exactly one (`1e3`, `7.0`; up to 2^53, where every float is exact).
fn weight_of(w: &serde_json::Number) -> Option<u64> {
    let exact = || {
        w.as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= 2f64.powi(53))
            .map(|f| f as u64)
    };
    w.as_u64().or_else(exact).filter(|&w| w >= 1)
}

impl Described for RawInstance {
    const EXPECTED: &'static str = r#"an instance object {"groups": [...], "samples": [...]}"#;
}
impl Described for RawGroup {
    const EXPECTED: &'static str = r#"a group object {"tokens": N, "classes": K}"#;
}
impl Described for RawPlanted {
    const EXPECTED: &'static str = r#"a planted object {"partition": [[...], ...]}"#;
}
impl Described for RawTableEntry {
    const EXPECTED: &'static str = r#"a table entry object {"cell": [...], "y": ...}"#;
}
impl Described for RawSample<'_> {
    const EXPECTED: &'static str =
        r#"a sample object {"x": [...], "y": ..., optionally "w": weight}"#;
}

/// Samples read straight into flat storage.
#[derive(Default)]
struct RawSamples {
    arity: Option<usize>,
    tokens: Vec<u32>,
    labels: Vec<u32>,
    interner: Interner,
    /// Filled (1 for the samples before) from the first sample with a `"w"`.
    weights: Option<Vec<u64>>,
    /// The weights' sum so far (once there are weights): at most 2^64 - 1.
    total: u64,
}

impl<'de> Deserialize<'de> for RawSamples {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct SamplesVisitor;
        impl<'de> Visitor<'de> for SamplesVisitor {
            type Value = RawSamples;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`samples`: a list of {\"x\": [...], \"y\": ...} objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<RawSamples, A::Error> {
                let mut out = RawSamples::default();
                while let Some(Obj(sample)) = seq.next_element::<Obj<RawSample<'de>>>()? {
                    let s = out.labels.len();
                    let arity = *out.arity.get_or_insert(sample.x.len());
                    if sample.x.len() != arity {
                        return Err(de::Error::custom(format!(
                            "samples[{s}].x has {} tokens but samples[0].x has {arity}; expected one token per group",
                            sample.x.len()
                        )));
                    }
                    for (g, t) in sample.x.iter().enumerate() {
                        let t = t.as_u64().and_then(|t| u32::try_from(t).ok()).ok_or_else(|| {
                            de::Error::custom(format!(
                                "samples[{s}].x[{g}] = {t} is not a token id (expected a whole number 0..N-1)"
                            ))
                        })?;
                        out.tokens.push(t);
                    }
                    let id = out
                        .interner
                        .intern_json(sample.y.get())
                        .map_err(|m| de::Error::custom(format!("samples[{s}].y: {m}")))?;
                    if let Some(raw) = sample.w {
                        let number = serde_json::from_str::<serde_json::Number>(raw.get());
                        // As written: a Number beyond 64 bits would print as a float.
                        let shown: String = raw.get().chars().take(40).collect();
                        let w = number.ok().as_ref().and_then(weight_of).ok_or_else(|| {
                            de::Error::custom(format!(
                                "samples[{s}].w = {shown} is not a weight (expected a whole number >= 1)"
                            ))
                        })?;
                        let before = out.weights.as_ref().map_or(s as u64, |_| out.total);
                        out.total = before.checked_add(w).ok_or_else(|| {
                            de::Error::custom(format!(
                                "samples[{s}].w = {w}: the weights add up to more than 2^64 - 1"
                            ))
                        })?;
                        out.weights.get_or_insert_with(|| vec![1; s]).push(w);
                    } else if let Some(weights) = &mut out.weights {
                        weights.push(1);
                        out.total = out.total.checked_add(1).ok_or_else(|| {
                            de::Error::custom(format!(
                                "samples[{s}]: the weights add up to more than 2^64 - 1"
                            ))
                        })?;
                    }
                    out.labels.push(id);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(SamplesVisitor)
    }
}

fn count_field(n: &serde_json::Number, field: String) -> std::result::Result<u32, Invalid> {
    n.as_u64()
        .and_then(|v| u32::try_from(v).ok())
        .filter(|&v| v >= 1)
        .ok_or_else(|| {
            Invalid::at(
                field,
                format_args!(" must be an integer from 1 to {}, got {n}", u32::MAX),
            )
        })
}

impl RawInstance {
    fn into_instance(self) -> std::result::Result<Instance, Invalid> {
        let mut groups = Vec::with_capacity(self.groups.len());
        if let Some(names) = &self.names {
            if names.len() != self.groups.len() {
                return Err(Invalid::at(
                    "names",
                    format_args!(
                        " has {} lists, expected one per group ({})",
                        names.len(),
                        self.groups.len()
                    ),
                ));
            }
        }
        let mut names = self.names.map(|n| n.into_iter());
        for (g, Obj(raw)) in self.groups.into_iter().enumerate() {
            let listed = names.as_mut().and_then(Iterator::next);
            if let (Some(list), Some(n)) = (&listed, raw.tokens.as_u64()) {
                if list.len() as u64 != n {
                    return Err(Invalid::at(
                        format!("names[{g}]"),
                        format_args!(
                            " has {} names, expected {n} (groups[{g}].tokens)",
                            list.len()
                        ),
                    ));
                }
            }
            if listed.is_some() && raw.token_names.is_some() {
                return Err(Invalid::at(
                    format!("groups[{g}].token_names"),
                    ": the names are given twice (here and in `names`)",
                ));
            }
            groups.push(Group {
                tokens: count_field(&raw.tokens, format!("groups[{g}].tokens"))?,
                classes: count_field(&raw.classes, format!("groups[{g}].classes"))?,
                name: raw.name,
                token_names: listed.or(raw.token_names),
            });
        }
        if groups.is_empty() {
            return Err(no_groups());
        }
        if let Some(arity) = self.samples.arity {
            if arity != groups.len() {
                return Err(Invalid::at(
                    "samples[0].x",
                    format_args!(
                        " has {arity} tokens, expected {} (one per group)",
                        groups.len()
                    ),
                ));
            }
        }
        let planted = self.planted.map(|Obj(p)| Planted {
            partition: p.partition,
            table: p.table.map(|t| {
                t.into_iter()
                    .map(|Obj(e)| TableEntry {
                        cell: e.cell.into_iter().map(|w| w.0).collect(),
                        y: e.y,
                    })
                    .collect()
            }),
        });
        let mut instance = Instance::from_flat(
            groups,
            self.samples.tokens,
            self.samples.labels,
            self.samples.interner.values,
            planted,
        )?;
        instance.weights = self.samples.weights;
        instance.meta = self.meta;
        Ok(instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Instance> {
        Instance::from_json(s.as_bytes(), "t.json")
    }

    #[test]
    fn options_are_only_for_requests() {
        let text = br#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [], "options": {"unique": true}}"#;
        let (instance, options) = Instance::from_json_with_options(text, "body").unwrap();
        assert_eq!(instance.arity(), 1);
        assert_eq!(options.unwrap().get(), r#"{"unique": true}"#);
        let e = Instance::from_json(text, "f.json").unwrap_err().to_string();
        assert!(
            e.starts_with("f.json: not a valid instance: unknown field `options`"),
            "{e}"
        );
    }

    #[test]
    fn reads_the_documented_example() {
        let inst = parse(
            r#"{"groups": [{"tokens": 5, "classes": 3}, {"tokens": 4, "classes": 2, "name": "b"}],
                "samples": [{"x": [4, 3], "y": 1}, {"x": [0, 3], "y": "b"}, {"x": [1, 1], "y": 1.0}],
                "planted": {"partition": [[0, 2, 1, 0, 0], [1, 0, 0, 1]], "table": [{"cell": [0, 1], "y": 1}]},
                "meta": {"seed": 7}}"#,
        )
        .unwrap();
        assert_eq!(inst.arity(), 2);
        assert_eq!(inst.num_samples(), 3);
        assert_eq!(inst.x(1), &[0, 3]);
        assert_eq!(inst.values().len(), 2, "1 and 1.0 are one label");
        assert_eq!(inst.label_id(0), inst.label_id(2));
        assert_eq!(inst.groups()[1].name.as_deref(), Some("b"));
    }

    #[test]
    fn round_trips_through_json() {
        let text = r#"{"groups":[{"tokens":3,"classes":2}],"samples":[{"x":[2],"y":"a"},{"x":[0],"y":1.5}],"planted":{"partition":[[0,1,1]]},"meta":{"seed":1}}"#;
        let inst = parse(text).unwrap();
        assert_eq!(inst.to_json(), text);
    }

    #[test]
    fn errors_name_the_place_and_the_expectation() {
        let cases = [
            ("", "empty file"),
            ("{", "line 1 column 1"),
            (r#"{"samples": []}"#, "missing field `groups`"),
            (
                r#"{"groups": [], "samples": []}"#,
                "`groups` must not be empty",
            ),
            (
                r#"{"groups": [{"tokens": 0, "classes": 1}], "samples": []}"#,
                "groups[0].tokens",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 0}], "samples": []}"#,
                "groups[0].classes",
            ),
            (
                r#"{"groups": [{"tokens": -2, "classes": 1}], "samples": []}"#,
                "groups[0].tokens",
            ),
            (
                r#"{"groups": [{"tokens": 2.5, "classes": 1}], "samples": []}"#,
                "groups[0].tokens",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [0, 1], "y": 0}]}"#,
                "samples[0].x has 2 tokens",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [0], "y": 0}, {"x": [0, 1], "y": 0}]}"#,
                "samples[1].x",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [2], "y": 0}]}"#,
                "samples[0].x[0] = 2 is out of range",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [-1], "y": 0}]}"#,
                "samples[0].x[0] = -1",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [0], "y": true}]}"#,
                "number or string",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [0], "y": null}]}"#,
                "number or string",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [0], "y": [1]}]}"#,
                "number or string",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [], "sample": []}"#,
                "unknown field `sample`",
            ),
            (
                r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [], "planted": {"partition": [[0, 1]]}}"#,
                "planted.partition group 0 token 1",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            let msg = e.to_string();
            assert!(msg.starts_with("t.json: "), "{msg}");
            assert!(msg.contains(want), "{text}\n  gave: {msg}\n  want: {want}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
    }

    #[test]
    fn new_validates_ranges() {
        let groups = vec![Group::new(2, 1)];
        assert!(Instance::new(groups.clone(), [(vec![1], Label::from(0))]).is_ok());
        assert!(Instance::new(groups.clone(), [(vec![2], Label::from(0))]).is_err());
        assert!(Instance::new(groups, [(vec![0, 0], Label::from(0))]).is_err());
    }
}
