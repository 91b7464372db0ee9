//! The instance model: groups, samples, optional planted truth; reading and
//! validating the JSON file format, and writing it back (`.npz` is in [`crate::io::npz`]).
//!
//! Samples are stored flat (one `u32` per token, one label id per sample), so
//! memory is linear in the number of samples and a million samples cost a few
//! megabytes. Every problem in a file is reported as an [`Error::Input`] that
//! names the file and the field, sample index or JSON line and column.

use crate::error::Invalid;
use crate::error::{Error, Result};
use crate::io::json::{self, Described, Obj, Whole};
use crate::io::npz;
use crate::model::compact::TokenMap;
use crate::model::label::{key_of_json, Label, LabelKey};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::sync::Arc;

/// One group of tokens.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    /// Number of tokens N_i (token ids are `0..tokens`).
    pub tokens: u32,
    /// Maximum number of classes K_i.
    pub classes: u32,
    /// Optional human name of the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Optional human names of the tokens (one per token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_names: Option<Vec<String>>,
}

impl Group {
    /// A group with `tokens` tokens and at most `classes` classes, without names.
    pub fn new(tokens: u32, classes: u32) -> Self {
        Group {
            tokens,
            classes,
            name: None,
            token_names: None,
        }
    }
}

/// One entry of a table g: the value of one class tuple.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableEntry {
    /// The class tuple (one class per group).
    pub cell: Vec<u32>,
    /// Its value.
    pub y: Label,
}

/// The ground truth of a generated instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Planted {
    /// The class of every token, per group.
    pub partition: Vec<Vec<u32>>,
    /// The planted table, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<TableEntry>>,
}

/// Where an instance's token ids lie, S x I row by row: a vector it owns, or memory
/// a caller lends for the instance's lifetime (the Python module lends a NumPy
/// array's buffer, so a large `x` is read in place, never copied).
pub trait TokenSource: Send + Sync {
    /// The token ids.
    fn tokens(&self) -> &[u32];

    /// The token ids as a vector: a copy, unless the source is a vector held nowhere else.
    fn into_vec(self: Arc<Self>) -> Vec<u32> {
        self.tokens().to_vec()
    }
}

impl TokenSource for Vec<u32> {
    fn tokens(&self) -> &[u32] {
        self
    }

    fn into_vec(self: Arc<Self>) -> Vec<u32> {
        Arc::try_unwrap(self).unwrap_or_else(|shared| shared.to_vec())
    }
}

/// An instance's token storage, shared by its clones.
#[derive(Clone)]
struct Tokens(Arc<dyn TokenSource>);

impl From<Vec<u32>> for Tokens {
    fn from(v: Vec<u32>) -> Tokens {
        Tokens(Arc::new(v))
    }
}

impl std::ops::Deref for Tokens {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        self.0.tokens()
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tokens({} ids)", self.len())
    }
}

/// A validated instance: every sample has one in-range token per group.
#[derive(Clone, Debug)]
pub struct Instance {
    groups: Vec<Group>,
    tokens: Tokens,
    labels: Vec<u32>,
    values: Vec<Label>,
    /// Per-sample weights (`"w"`), when any sample has one (1 for those without).
    weights: Option<Vec<u64>>,
    /// Ground truth, if the file carries it.
    pub planted: Option<Planted>,
    /// Free-form metadata (generator, seed, ...), carried along unchanged as its JSON
    /// text (never parsed into a tree, whose size could be many times the text's).
    pub meta: Option<Box<RawValue>>,
}

/// Interns labels: equal labels (by [`LabelKey`]) get one id, the first spelling is kept.
#[derive(Default)]
struct Interner {
    ids: HashMap<LabelKey, u32>,
    values: Vec<Label>,
    /// `small[n]`: the id of the label written `n` (plain digits, n < [`SMALL_LABELS`]),
    /// or `u32::MAX`: the common labels skip parsing and hashing.
    small: Vec<u32>,
}

/// Labels `0..SMALL_LABELS` written as plain digits are looked up in an array.
const SMALL_LABELS: usize = 1024;

/// The value of JSON text that is a plain small natural number (`0`, `17`; no sign,
/// leading zero, fraction or exponent).
fn small_natural(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() > 4 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    let mut n = 0usize;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + usize::from(c - b'0');
    }
    (n < SMALL_LABELS).then_some(n)
}

impl Interner {
    /// Interns a label; only a new value is copied.
    fn intern(&mut self, label: &Label) -> u32 {
        let next = self.values.len() as u32;
        let id = *self.ids.entry(label.key()).or_insert(next);
        if id == next {
            self.values.push(label.clone());
        }
        id
    }

    /// Interns a label given as JSON text; only a new value is copied.
    fn intern_json(&mut self, text: &str) -> std::result::Result<u32, String> {
        let small = small_natural(text);
        if let Some(&id) = small
            .and_then(|n| self.small.get(n))
            .filter(|&&id| id != u32::MAX)
        {
            return Ok(id);
        }
        let key = key_of_json(text)?;
        let id = match self.ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.values.len() as u32;
                self.values.push(Label::from_json_text(text)?);
                self.ids.insert(key, id);
                id
            }
        };
        if let Some(n) = small {
            if self.small.is_empty() {
                self.small = vec![u32::MAX; SMALL_LABELS];
            }
            self.small[n] = id;
        }
        Ok(id)
    }
}

impl Instance {
    /// Builds and validates an instance from groups and `(x, y)` samples.
    /// The labels may be owned or borrowed (`&Label`): a generator can lend its V
    /// values instead of making one per sample.
    pub fn new<L: std::borrow::Borrow<Label>>(
        groups: Vec<Group>,
        samples: impl IntoIterator<Item = (Vec<u32>, L)>,
    ) -> Result<Instance> {
        let mut interner = Interner::default();
        let mut tokens = Vec::new();
        let mut labels = Vec::new();
        for (x, y) in samples {
            if x.len() != groups.len() {
                return Err(Error::Usage(format!(
                    "sample {}: x has {} tokens, expected {} (one per group)",
                    labels.len(),
                    x.len(),
                    groups.len()
                )));
            }
            tokens.extend_from_slice(&x);
            labels.push(interner.intern(y.borrow()));
        }
        let instance = Instance {
            groups,
            tokens: tokens.into(),
            labels,
            values: interner.values,
            weights: None,
            planted: None,
            meta: None,
        };
        instance
            .validate()
            .map_err(|m| Error::Usage(format!("invalid instance: {m}")))?;
        Ok(instance)
    }

    /// The groups.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Number of groups I.
    pub fn arity(&self) -> usize {
        self.groups.len()
    }

    /// Number of samples S (duplicates included).
    pub fn num_samples(&self) -> usize {
        self.labels.len()
    }

    /// The tokens of sample `s`, one per group.
    pub fn x(&self, s: usize) -> &[u32] {
        let i = self.arity();
        &self.tokens[s * i..(s + 1) * i]
    }

    /// The label id of sample `s` (an index into [`Instance::values`]).
    pub fn label_id(&self, s: usize) -> u32 {
        self.labels[s]
    }

    /// Every sample's tokens, one row of [`Instance::arity`] tokens per sample.
    pub fn flat_tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Every sample's tokens, row by row, taken out of the instance (no copy when its
    /// storage is its own and not shared with a clone).
    pub fn into_flat_tokens(self) -> Vec<u32> {
        self.tokens.0.into_vec()
    }

    /// Every sample's label id, in order.
    pub fn label_ids(&self) -> &[u32] {
        &self.labels
    }

    /// The weight of sample `s` (its `"w"`, 1 when the instance has none).
    pub fn weight(&self, s: usize) -> u64 {
        self.weights.as_ref().map_or(1, |w| w[s])
    }

    /// Whether any sample carries a weight.
    pub fn weighted(&self) -> bool {
        self.weights.is_some()
    }

    /// The instance with these per-sample weights (each >= 1, one per sample).
    pub fn with_weights(mut self, weights: Vec<u64>) -> std::result::Result<Instance, Invalid> {
        if weights.len() != self.num_samples() {
            return Err(Invalid::at(
                "samples",
                format_args!(
                    ": {} weights for {} samples",
                    weights.len(),
                    self.num_samples()
                ),
            ));
        }
        if let Some(s) = weights.iter().position(|&w| w == 0) {
            return Err(Invalid::at(
                format!("samples[{s}].w"),
                " must be a whole number >= 1",
            ));
        }
        // Costs are sums of weights: they must fit 64 bits, as the JSON reader demands.
        let mut total = 0u64;
        for (s, &w) in weights.iter().enumerate() {
            total = total.checked_add(w).ok_or_else(|| {
                Invalid::at(
                    format!("samples[{s}].w"),
                    format_args!(" = {w}: the weights add up to more than 2^64 - 1"),
                )
            })?;
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// The instance with these token names (one list per group, one name per token).
    pub fn with_names(mut self, names: Vec<Vec<String>>) -> std::result::Result<Instance, Invalid> {
        if names.len() != self.arity() {
            return Err(Invalid::at(
                "names",
                format_args!(
                    " has {} lists, expected one per group ({})",
                    names.len(),
                    self.arity()
                ),
            ));
        }
        for (g, (list, group)) in names.iter().zip(&self.groups).enumerate() {
            if list.len() != group.tokens as usize {
                return Err(Invalid::at(
                    format!("names[{g}]"),
                    format_args!(" has {} names, expected {}", list.len(), group.tokens),
                ));
            }
        }
        for (group, list) in self.groups.iter_mut().zip(names) {
            group.token_names = Some(list);
        }
        self.validate()?;
        Ok(self)
    }

    /// Whether every group has token names.
    pub fn named(&self) -> bool {
        self.groups.iter().all(|g| g.token_names.is_some())
    }

    /// The distinct values in order of first occurrence.
    pub fn values(&self) -> &[Label] {
        &self.values
    }

    /// The value of sample `s`.
    pub fn y(&self, s: usize) -> &Label {
        &self.values[self.labels[s] as usize]
    }

    /// The instance over its observed tokens only, with at most `min(K, n)` classes
    /// per group (see [`crate::model::compact`]), and the map back to the declared tokens.
    /// Planted truth and metadata are left out.
    pub fn compact(&self) -> (Instance, TokenMap) {
        let mut tokens = self.tokens.to_vec();
        let map = TokenMap::compact_in_place(&mut tokens, &self.groups);
        let compact = Instance {
            groups: map.groups(&self.groups),
            tokens: tokens.into(),
            labels: self.labels.clone(),
            values: self.values.clone(),
            weights: self.weights.clone(),
            planted: None,
            meta: None,
        };
        (compact, map)
    }

    /// A human name for token `t` of group `g`: its `token_names` entry if given, else the id.
    pub fn token_name(&self, g: usize, t: u32) -> String {
        match &self.groups[g].token_names {
            Some(names) => names[t as usize].clone(),
            None => t.to_string(),
        }
    }

    /// Checks that `partition` has the right shape (one class per token, each in `0..K_i`).
    ///
    /// Returns a message naming the first offending group and token.
    /// The [`Invalid`] path is relative (`[g][t]`): the caller prefixes the field.
    pub fn validate_partition(&self, partition: &[Vec<u32>]) -> std::result::Result<(), Invalid> {
        if partition.len() != self.arity() {
            return Err(Invalid {
                path: String::new(),
                message: format!("has {} groups, expected {}", partition.len(), self.arity()),
            });
        }
        for (g, (row, group)) in partition.iter().zip(&self.groups).enumerate() {
            if row.len() != group.tokens as usize {
                return Err(Invalid {
                    path: format!("[{g}]"),
                    message: format!(
                        "group {g} lists {} classes, expected one for each of its {} tokens",
                        row.len(),
                        group.tokens
                    ),
                });
            }
            if let Some(t) = row.iter().position(|&c| c >= group.classes) {
                return Err(Invalid {
                    path: format!("[{g}][{t}]"),
                    message: format!(
                        "group {g} token {t}: class {} is not in 0..{}",
                        row[t],
                        group.classes - 1
                    ),
                });
            }
        }
        Ok(())
    }

    fn validate(&self) -> std::result::Result<(), Invalid> {
        if self.groups.is_empty() {
            return Err(no_groups());
        }
        for (g, group) in self.groups.iter().enumerate() {
            if group.tokens == 0 {
                return Err(Invalid::at(format!("groups[{g}].tokens"), " must be >= 1"));
            }
            if group.classes == 0 {
                return Err(Invalid::at(format!("groups[{g}].classes"), " must be >= 1"));
            }
            if let Some(names) = &group.token_names {
                if names.len() != group.tokens as usize {
                    return Err(Invalid::at(
                        format!("groups[{g}].token_names"),
                        format_args!(" has {} names, expected {}", names.len(), group.tokens),
                    ));
                }
                // A name stands for one token: answers in names must not be ambiguous.
                let mut seen = HashMap::with_capacity(names.len());
                for (t, name) in names.iter().enumerate() {
                    if let Some(first) = seen.insert(name.as_str(), t) {
                        return Err(Invalid::at(
                            format!("groups[{g}].token_names[{t}]"),
                            format_args!(
                                " = {} also names token {first}; names must differ",
                                crate::model::solution::shown_name(name)
                            ),
                        ));
                    }
                }
            }
        }
        for s in 0..self.num_samples() {
            for (g, (&t, group)) in self.x(s).iter().zip(&self.groups).enumerate() {
                if t >= group.tokens {
                    return Err(Invalid::at(
                        format!("samples[{s}].x[{g}]"),
                        format_args!(
                            " = {t} is out of range: group {g} has {} tokens (0..{})",
                            group.tokens,
                            group.tokens - 1
                        ),
                    ));
                }
            }
        }
        if let Some(planted) = &self.planted {
            self.validate_partition(&planted.partition)
                .map_err(|m| Invalid {
                    path: format!("planted.partition{}", m.path),
                    message: format!("planted.partition {}", m.message),
                })?;
            for (e, entry) in planted.table.iter().flatten().enumerate() {
                let ok = entry.cell.len() == self.arity()
                    && entry
                        .cell
                        .iter()
                        .zip(&self.groups)
                        .all(|(&c, g)| c < g.classes);
                if !ok {
                    return Err(Invalid::at(
                        format!("planted.table[{e}].cell"),
                        " must list one class per group, each below that group's `classes`",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Builds and validates an instance from flat storage, as a file reader makes it:
    /// `tokens` holds S x I token ids row by row, `labels` one id into `values` per
    /// sample (distinct values, none unused). The [`Invalid`] path is the JSON one
    /// (`samples[3].x[1]`) whatever the file's format.
    pub(crate) fn from_flat(
        groups: Vec<Group>,
        tokens: Vec<u32>,
        labels: Vec<u32>,
        values: Vec<Label>,
        planted: Option<Planted>,
    ) -> std::result::Result<Instance, Invalid> {
        Self::from_source(groups, Arc::new(tokens), labels, values, planted)
    }

    /// `Instance::from_flat` over token ids the caller lends ([`TokenSource`]): they
    /// are validated in place and never copied. `tokens` must hold `labels.len()` rows
    /// of one id per group.
    pub fn from_source(
        groups: Vec<Group>,
        tokens: Arc<dyn TokenSource>,
        labels: Vec<u32>,
        values: Vec<Label>,
        planted: Option<Planted>,
    ) -> std::result::Result<Instance, Invalid> {
        let tokens = Tokens(tokens);
        if tokens.len() != labels.len() * groups.len() {
            return Err(Invalid::at(
                "samples",
                format_args!(
                    ": {} token ids for {} samples of {} groups",
                    tokens.len(),
                    labels.len(),
                    groups.len()
                ),
            ));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l as usize >= values.len()) {
            return Err(Invalid::at(
                "samples",
                format_args!(": label id {bad} with {} values", values.len()),
            ));
        }
        let instance = Instance {
            groups,
            tokens,
            labels,
            values,
            weights: None,
            planted,
            meta: None,
        };
        instance.validate()?;
        Ok(instance)
    }

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

/// Reads a whole file, or standard input for `-`, refusing more bytes than the
/// memory budget ([`crate::memory::budget`]) before holding them.
pub fn read_input(path: &str) -> Result<Vec<u8>> {
    let budget = crate::memory::budget();
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin()
            .lock()
            .take(budget.saturating_add(1))
            .read_to_end(&mut bytes)
    } else {
        refuse_devices(path)?;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        if let Ok(meta) = file.metadata() {
            crate::memory::afford_within(meta.len(), budget, || {
                format!("{path} ({} bytes)", meta.len())
            })?;
        }
        file.take(budget.saturating_add(1)).read_to_end(&mut bytes)
    };
    read.map_err(|e| Error::io(path, e))?;
    crate::memory::afford_within(bytes.len() as u64, budget, || {
        format!("{path} (more than {budget} bytes)")
    })?;
    Ok(bytes)
}

/// Refuses a character or block device (`/dev/zero` would be read forever); files,
/// pipes and `-` are read.
fn refuse_devices(path: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let kind = meta.file_type();
            if kind.is_char_device() || kind.is_block_device() {
                return Err(Error::input(
                    path,
                    "is a device, not a file (give - to read standard input)",
                ));
            }
        }
    }
    Ok(())
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
                .groups
                .iter()
                .map(|g| Group {
                    token_names: None,
                    ..g.clone()
                })
                .collect();
            let names: Vec<&Vec<String>> = self
                .groups
                .iter()
                .filter_map(|g| g.token_names.as_ref())
                .collect();
            map.serialize_entry("groups", &groups)?;
            map.serialize_entry("names", &names)?;
        } else {
            map.serialize_entry("groups", &self.groups)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstance {
    groups: Vec<Obj<RawGroup>>,
    samples: RawSamples,
    #[serde(default)]
    names: Option<Vec<Vec<String>>>,
    #[serde(default)]
    planted: Option<Obj<RawPlanted>>,
    #[serde(default)]
    meta: Option<Box<RawValue>>,
    #[serde(default)]
    options: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    tokens: serde_json::Number,
    classes: serde_json::Number,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    token_names: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlanted {
    #[serde(deserialize_with = "json::rows")]
    partition: Vec<Vec<u32>>,
    #[serde(default)]
    table: Option<Vec<Obj<RawTableEntry>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTableEntry {
    cell: Vec<Whole>,
    y: Label,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSample<'a> {
    x: Vec<serde_json::Number>,
    #[serde(borrow)]
    y: &'a RawValue,
    /// As written (`null`, a string or a bool included): anything but a whole number
    /// is refused by name.
    #[serde(default, borrow, deserialize_with = "present")]
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

/// An instance needs a group.
fn no_groups() -> Invalid {
    Invalid {
        path: "groups".into(),
        message: "`groups` must not be empty".into(),
    }
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
