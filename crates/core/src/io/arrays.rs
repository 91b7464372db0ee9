//! Instances from integer arrays in memory: the `.npz` layout ([`crate::io::npz`])
//! without the archive, for callers that hold the arrays already (the Python module
//! passes NumPy's buffers). The arrays are checked with the `.npz` reader's own
//! messages (`x[3][1] = -1 is not a token id ...`, `y: has shape (4,), expected ...`),
//! then the instance is validated by the same code as a file
//! (`invalid instance: samples[3].x[1] = 9 is out of range ...`).
//!
//! ```
//! use partrec_core::io::arrays::{instance, Arrays, Ints, Labels, Xs};
//!
//! let x = [0u32, 1, 1, 0, 2, 1];
//! let y = [5i64, 7, 5];
//! let a = Arrays {
//!     tokens: Ints::U32(&[3, 2]),
//!     classes: Ints::U32(&[2, 2]),
//!     x: Xs::Ints(Ints::U32(&x)),
//!     shape: [3, 2],
//!     y: Labels::Ints(Ints::I64(&y)),
//!     planted: None,
//! };
//! let inst = instance(&a, "")?;
//! assert_eq!(inst.num_samples(), 3);
//! assert_eq!(inst.x(2), &[2, 1]);
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

use crate::error::{Error, InputKind, Location, Result};
use crate::model::instance::{Group, Instance, Planted, TokenSource};
use crate::model::label::{Label, LabelKey};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A 1-D view of integers as they lie in memory, in any of NumPy's integer dtypes.
#[derive(Clone, Copy, Debug)]
pub enum Ints<'a> {
    /// `int8`
    I8(&'a [i8]),
    /// `int16`
    I16(&'a [i16]),
    /// `int32`
    I32(&'a [i32]),
    /// `int64`
    I64(&'a [i64]),
    /// `uint8`
    U8(&'a [u8]),
    /// `uint16`
    U16(&'a [u16]),
    /// `uint32`
    U32(&'a [u32]),
    /// `uint64`
    U64(&'a [u64]),
}

impl Ints<'_> {
    /// The number of values.
    pub fn len(&self) -> usize {
        match self {
            Ints::I8(v) => v.len(),
            Ints::I16(v) => v.len(),
            Ints::I32(v) => v.len(),
            Ints::I64(v) => v.len(),
            Ints::U8(v) => v.len(),
            Ints::U16(v) => v.len(),
            Ints::U32(v) => v.len(),
            Ints::U64(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `k` (which must be below [`Ints::len`]).
    pub fn get(&self, k: usize) -> i128 {
        match self {
            Ints::I8(v) => v[k].into(),
            Ints::I16(v) => v[k].into(),
            Ints::I32(v) => v[k].into(),
            Ints::I64(v) => v[k].into(),
            Ints::U8(v) => v[k].into(),
            Ints::U16(v) => v[k].into(),
            Ints::U32(v) => v[k].into(),
            Ints::U64(v) => v[k].into(),
        }
    }
}

/// The token ids `x`, S x I in C order.
pub enum Xs<'a> {
    /// Values to check and convert (one pass, into the instance's own storage).
    Ints(Ints<'a>),
    /// 32-bit ids the caller lends ([`TokenSource`]), read in place: no copy is made.
    /// With `signed`, they are `int32` seen as `u32`, and ids of 2^31 and above are the
    /// negative values they were.
    Shared {
        /// The ids.
        source: Arc<dyn TokenSource>,
        /// Whether they are `int32` reinterpreted.
        signed: bool,
    },
}

/// The values `y`, one per sample.
pub enum Labels<'a> {
    /// Integers (`1` here is the label `1` of a JSON file).
    Ints(Ints<'a>),
    /// Labels made already (strings, numbers), one per sample.
    Given(Vec<Label>),
}

impl Labels<'_> {
    fn len(&self) -> usize {
        match self {
            Labels::Ints(v) => v.len(),
            Labels::Given(v) => v.len(),
        }
    }
}

/// An instance's arrays, named as in an `.npz` file.
pub struct Arrays<'a> {
    /// `tokens`: N_i per group.
    pub tokens: Ints<'a>,
    /// `classes`: K_i per group.
    pub classes: Ints<'a>,
    /// `x`: the token of every sample in every group, row by row.
    pub x: Xs<'a>,
    /// The shape of `x` as the caller has it (any number of dimensions is checked).
    pub shape: [usize; 2],
    /// `y`: the value of every sample.
    pub y: Labels<'a>,
    /// `planted_0` .. `planted_{I-1}`: the planted class of every token, if known.
    pub planted: Option<Vec<Ints<'a>>>,
}

/// A shape as Python writes it: `(3,)`, `(3, 2)`, `()`.
pub fn shape_text(shape: &[u64]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(u64::to_string).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// The error for array `name` of `shape` where `want` was expected.
pub fn shape_error(origin: &str, name: &str, shape: &[u64], want: impl fmt::Display) -> Error {
    Error::input_at(
        origin,
        InputKind::Shape,
        Some(Location::Path(name.into())),
        format!("{name}: has shape {}, expected {want}", shape_text(shape)),
    )
}

/// What a 1-D array must look like: as long as `like` (another array's name and
/// length), or one value per group.
pub fn one_d_want(like: Option<(&str, usize)>) -> String {
    match like {
        Some((other, n)) => format!("({n},), one value for each of the {n} of {other}"),
        None => "(I,) with I >= 1, one value per group".into(),
    }
}

/// What `x` must look like with `arity` groups.
pub fn x_want(arity: usize) -> String {
    format!("(S, {arity}): one row per sample, one column for each of the {arity} groups in tokens")
}

/// The error for value `v` at `name[k]`, which `message` says is wrong.
pub fn value_error(origin: &str, name: &str, k: usize, v: i128, message: &str) -> Error {
    Error::input_at(
        origin,
        InputKind::Invalid,
        Some(Location::Path(format!("{name}[{k}]"))),
        format!("{name}[{k}] = {v} {message}"),
    )
}

/// The error for `x[s][g] = v`, which is no token id.
pub fn token_error(origin: &str, s: usize, g: usize, v: i128) -> Error {
    Error::input_at(
        origin,
        InputKind::Invalid,
        Some(Location::Path(format!("x[{s}][{g}]"))),
        format!("x[{s}][{g}] = {v} is not a token id (expected a whole number 0..N-1)"),
    )
}

/// A group size (`tokens`, `classes`): 1 to `u32::MAX`.
pub fn count(v: i128) -> std::result::Result<u32, String> {
    u32::try_from(v)
        .ok()
        .filter(|&v| v >= 1)
        .ok_or_else(|| format!("must be an integer from 1 to {}", u32::MAX))
}

/// A planted class: 0 to `u32::MAX`.
pub fn class(v: i128) -> std::result::Result<u32, String> {
    u32::try_from(v).map_err(|_| format!("is not a class (expected 0 to {})", u32::MAX))
}

/// The label of the integer `v`.
pub fn int_label(v: i128) -> Label {
    Label::number(&v.to_string()).expect("an integer is a number")
}

/// Interns integer labels: the small non-negative ones (0..1024, the common case) by
/// array lookup, the rest by hashing; ids are numbered by first occurrence.
#[derive(Default)]
pub struct IntLabels {
    small: Vec<u32>,
    ids: HashMap<i128, u32>,
    values: Vec<Label>,
}

/// Integer labels below this are interned by array lookup.
const SMALL: i128 = 1024;

impl IntLabels {
    /// The id of the label `v`.
    pub fn id(&mut self, v: i128) -> u32 {
        if (0..SMALL).contains(&v) {
            if self.small.is_empty() {
                self.small = vec![u32::MAX; SMALL as usize];
            }
            let slot = &mut self.small[v as usize];
            if *slot == u32::MAX {
                *slot = self.values.len() as u32;
                self.values.push(int_label(v));
            }
            return *slot;
        }
        *self.ids.entry(v).or_insert_with(|| {
            self.values.push(int_label(v));
            self.values.len() as u32 - 1
        })
    }

    /// The distinct labels, by id.
    pub fn into_values(self) -> Vec<Label> {
        self.values
    }
}

/// Converts the 1-D array `name` through `convert`, checking its length against `like`.
fn read_1d(
    origin: &str,
    name: &str,
    a: &Ints<'_>,
    like: Option<(&str, usize)>,
    convert: impl Fn(i128) -> std::result::Result<u32, String>,
) -> Result<Vec<u32>> {
    let ok = match like {
        Some((_, n)) => a.len() == n,
        None => !a.is_empty(),
    };
    if !ok {
        return Err(shape_error(
            origin,
            name,
            &[a.len() as u64],
            one_d_want(like),
        ));
    }
    (0..a.len())
        .map(|k| {
            let v = a.get(k);
            convert(v).map_err(|m| value_error(origin, name, k, v, &m))
        })
        .collect()
}

/// Builds and validates the instance `a` describes; `origin` names it in errors (empty:
/// the messages stand alone).
pub fn instance(a: &Arrays<'_>, origin: &str) -> Result<Instance> {
    let tokens = read_1d(origin, "tokens", &a.tokens, None, count)?;
    let arity = tokens.len();
    let classes = read_1d(
        origin,
        "classes",
        &a.classes,
        Some(("tokens", arity)),
        count,
    )?;
    let [rows, cols] = a.shape;
    if cols != arity {
        return Err(shape_error(
            origin,
            "x",
            &[rows as u64, cols as u64],
            x_want(arity),
        ));
    }
    let planted = a
        .planted
        .as_deref()
        .map(|arrays| read_planted(origin, arrays, &tokens))
        .transpose()?;
    let source = token_source(origin, &a.x, rows, cols)?;
    if a.y.len() != rows {
        return Err(shape_error(
            origin,
            "y",
            &[a.y.len() as u64],
            one_d_want(Some(("x's rows", rows))),
        ));
    }
    let (labels, values) = intern_labels(&a.y);
    let groups = tokens
        .iter()
        .zip(&classes)
        .map(|(&n, &k)| Group::new(n, k))
        .collect();
    Instance::from_source(groups, source, labels, values, planted)
        .map_err(|m| m.into_error(origin, "invalid instance: "))
}

/// The planted partition from `arrays`, one per group, each as long as its group's
/// `tokens`.
fn read_planted(origin: &str, arrays: &[Ints<'_>], tokens: &[u32]) -> Result<Planted> {
    let arity = tokens.len();
    if arrays.len() != arity {
        return Err(Error::input_at(
            origin,
            InputKind::Shape,
            Some(Location::Path("planted".into())),
            format!(
                "planted: {} arrays, expected one per group ({arity})",
                arrays.len()
            ),
        ));
    }
    let mut partition = Vec::with_capacity(arity);
    for (g, (p, &n)) in arrays.iter().zip(tokens).enumerate() {
        let what = format!("tokens[{g}]");
        partition.push(read_1d(
            origin,
            &format!("planted_{g}"),
            p,
            Some((&what, n as usize)),
            class,
        )?);
    }
    Ok(Planted {
        partition,
        table: None,
    })
}

/// The token ids of `x` (`rows` x `cols`), each checked to be one: converted into the
/// instance's own storage, or the caller's shared ids as they are.
fn token_source(
    origin: &str,
    x: &Xs<'_>,
    rows: usize,
    cols: usize,
) -> Result<Arc<dyn TokenSource>> {
    match x {
        Xs::Ints(x) => {
            if x.len() != rows * cols {
                return Err(Error::Internal(format!(
                    "x holds {} values for shape ({rows}, {cols})",
                    x.len()
                )));
            }
            let mut out = Vec::with_capacity(x.len());
            for k in 0..x.len() {
                let v = x.get(k);
                out.push(u32::try_from(v).map_err(|_| token_error(origin, k / cols, k % cols, v))?);
            }
            Ok(Arc::new(out))
        }
        Xs::Shared { source, signed } => {
            if *signed {
                if let Some(k) = source.tokens().iter().position(|&t| t > i32::MAX as u32) {
                    let v = i128::from(source.tokens()[k] as i32);
                    return Err(token_error(origin, k / cols, k % cols, v));
                }
            }
            Ok(source.clone())
        }
    }
}

/// Every sample's label id, numbered by first occurrence, and the distinct labels.
fn intern_labels(y: &Labels<'_>) -> (Vec<u32>, Vec<Label>) {
    match y {
        Labels::Ints(y) => {
            let mut interner = IntLabels::default();
            let labels = (0..y.len()).map(|k| interner.id(y.get(k))).collect();
            (labels, interner.into_values())
        }
        Labels::Given(y) => {
            let mut ids: HashMap<LabelKey, u32> = HashMap::new();
            let mut values = Vec::new();
            let labels = y
                .iter()
                .map(|label| {
                    *ids.entry(label.key()).or_insert_with(|| {
                        values.push(label.clone());
                        values.len() as u32 - 1
                    })
                })
                .collect();
            (labels, values)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrays<'a>(x: Xs<'a>, shape: [usize; 2], y: Labels<'a>) -> Arrays<'a> {
        Arrays {
            tokens: Ints::I64(&[3, 2]),
            classes: Ints::I64(&[2, 1]),
            x,
            shape,
            y,
            planted: None,
        }
    }

    #[test]
    fn builds_from_every_dtype_and_names_bad_values() {
        let x = [0i8, 1, 2, 0];
        let inst = instance(
            &arrays(
                Xs::Ints(Ints::I8(&x)),
                [2, 2],
                Labels::Ints(Ints::U8(&[1, 2])),
            ),
            "",
        )
        .unwrap();
        assert_eq!(inst.flat_tokens(), &[0, 1, 2, 0]);
        assert_eq!(inst.y(1).to_string(), "2");
        let bad = [0i16, 1, -4, 0];
        let e = instance(
            &arrays(
                Xs::Ints(Ints::I16(&bad)),
                [2, 2],
                Labels::Ints(Ints::U8(&[1, 2])),
            ),
            "",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "x[1][0] = -4 is not a token id (expected a whole number 0..N-1)"
        );
        let far = [0u64, 1, 2, 5];
        let e = instance(
            &arrays(
                Xs::Ints(Ints::U64(&far)),
                [2, 2],
                Labels::Ints(Ints::U8(&[1, 2])),
            ),
            "f",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "f: invalid instance: samples[1].x[1] = 5 is out of range: group 1 has 2 tokens (0..1)"
        );
        let e = instance(
            &arrays(
                Xs::Ints(Ints::U64(&far)),
                [2, 2],
                Labels::Ints(Ints::U8(&[1])),
            ),
            "",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "y: has shape (1,), expected (2,), one value for each of the 2 of x's rows"
        );
        let e = instance(
            &arrays(
                Xs::Ints(Ints::U64(&far)),
                [1, 4],
                Labels::Ints(Ints::U8(&[1])),
            ),
            "",
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("x: has shape (1, 4), expected (S, 2)"));
    }

    #[test]
    fn shared_ids_are_read_in_place_and_negative_ones_refused() {
        let source: Arc<dyn TokenSource> = Arc::new(vec![0u32, 1, 2, 0]);
        let inst = instance(
            &arrays(
                Xs::Shared {
                    source: source.clone(),
                    signed: true,
                },
                [2, 2],
                Labels::Given(vec![Label::Text("a".into()), Label::Text("a".into())]),
            ),
            "",
        )
        .unwrap();
        assert_eq!(inst.flat_tokens().as_ptr(), source.tokens().as_ptr());
        assert_eq!(inst.values().len(), 1);
        let negative: Arc<dyn TokenSource> = Arc::new(vec![0u32, (-3i32) as u32, 2, 0]);
        let e = instance(
            &arrays(
                Xs::Shared {
                    source: negative,
                    signed: true,
                },
                [2, 2],
                Labels::Ints(Ints::I32(&[0, 1])),
            ),
            "",
        )
        .err()
        .unwrap();
        assert_eq!(
            e.to_string(),
            "x[0][1] = -3 is not a token id (expected a whole number 0..N-1)"
        );
    }
}
