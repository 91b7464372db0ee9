//! The instance model: groups, samples, optional planted truth, and their
//! validation. Reading and writing files is in [`crate::io::instance`] (JSON) and
//! [`crate::io::npz`] (NumPy).
//!
//! Samples are stored flat (one `u32` per token, one label id per sample), so
//! memory is linear in the number of samples and a million samples cost a few
//! megabytes.

use crate::error::{Error, Invalid, Result};
use crate::model::compact::TokenMap;
pub use crate::model::group::Group;
use crate::model::label::{key_of_json, Label, LabelKey};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// One entry of a table g: the value of one class tuple.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    pub(crate) weights: Option<Vec<u64>>,
    /// Ground truth, if the file carries it.
    pub planted: Option<Planted>,
    /// Free-form metadata (generator, seed, ...), carried along unchanged as its JSON
    /// text (never parsed into a tree, whose size could be many times the text's).
    pub meta: Option<Box<RawValue>>,
}

/// Interns labels: equal labels (by [`LabelKey`]) get one id, the first spelling is kept.
#[derive(Default)]
pub(crate) struct Interner {
    ids: HashMap<LabelKey, u32>,
    pub(crate) values: Vec<Label>,
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
    pub(crate) fn intern_json(&mut self, text: &str) -> std::result::Result<u32, String> {
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
                                crate::model::shown::shown_name(name)
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
}

/// An instance needs a group.
pub(crate) fn no_groups() -> Invalid {
    Invalid {
        path: "groups".into(),
        message: "`groups` must not be empty".into(),
    }
}
