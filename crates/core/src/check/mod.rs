//! The independent judge: is a candidate partition consistent with every sample?
//!
//! This module deliberately shares no code with the encoder or the solver: it
//! reads the instance's samples directly, maps each to its class tuple under
//! the candidate partition, and requires that samples with the same class tuple
//! carry the same value. Every answer partrec prints has passed through here.

use crate::error::{Error, Result};
use crate::error::{InputKind, Invalid, Location};
use crate::io::json::{self, Described};
use crate::model::instance::{Instance, TableEntry};
use crate::model::label::Label;
use crate::model::partition::{best_agreement, same_partition, Partition};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The names of sample `s`'s tokens.
pub fn sample_names(instance: &Instance, s: usize) -> Vec<String> {
    instance
        .x(s)
        .iter()
        .enumerate()
        .map(|(g, &t)| instance.token_name(g, t))
        .collect()
}

/// How many conflicting pairs a verdict lists (the count covers all of them).
pub const MAX_LISTED_CONFLICTS: usize = 10;

/// Two samples with the same class tuple and different values.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    /// Indices of the two samples in the instance file.
    pub samples: [usize; 2],
    /// Their token tuples.
    pub x: [Vec<u32>; 2],
    /// The class tuple they share.
    pub cell: Vec<u32>,
    /// Their (different) values.
    pub y: [Label; 2],
    /// Their tokens' names, when the instance names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub names: Option<[Vec<String>; 2]>,
}

/// How a partition compares with the planted one.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlantedComparison {
    /// Equal to the planted partition up to renaming classes, in every group.
    pub equals_planted: bool,
    /// The same, per group.
    pub equals_planted_per_group: Vec<bool>,
    /// Fraction of all tokens classified right under the best renaming per group.
    pub accuracy: f64,
    /// The same, per group.
    pub accuracy_per_group: Vec<f64>,
}

impl PlantedComparison {
    /// The schema of a comparison that may be absent (flattened into a verdict): its
    /// fields, none required.
    #[cfg(feature = "openapi")]
    fn optional() -> utoipa::openapi::schema::Schema {
        use utoipa::openapi::{schema::Schema, RefOr};
        match <PlantedComparison as utoipa::PartialSchema>::schema() {
            RefOr::T(Schema::Object(mut object)) => {
                object.required.clear();
                Schema::Object(object)
            }
            _ => unreachable!("a struct's schema is an object"),
        }
    }

    /// `equals the planted partition, accuracy 1.0000` or `differs from ...`.
    pub fn summary(&self) -> String {
        format!(
            "{} the planted partition, accuracy {:.4}",
            if self.equals_planted {
                "equals"
            } else {
                "differs from"
            },
            self.accuracy
        )
    }
}

/// The checker's judgement of one partition.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    /// No two samples with the same class tuple have different values.
    pub consistent: bool,
    /// Number of samples that contradict an earlier sample with the same class tuple.
    pub conflicting_samples: usize,
    /// The first conflicts, at most 10 ([`MAX_LISTED_CONFLICTS`]).
    pub conflicts: Vec<Conflict>,
    /// Comparison with `planted`, when the instance has it.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(schema_with = PlantedComparison::optional))]
    pub planted: Option<PlantedComparison>,
}

/// Judges `partition` against every sample of `instance`.
///
/// Returns `Err` naming the group and token (a path relative to the partition,
/// `[g][t]`) when the partition has the wrong shape or a class outside `0..K_i`.
pub fn check(instance: &Instance, partition: &[Vec<u32>]) -> std::result::Result<Verdict, Invalid> {
    instance.validate_partition(partition)?;
    let mut conflicts = Vec::new();
    let mut conflicting_samples = 0;
    cells(instance, partition, |first, s| {
        if instance.label_id(first) != instance.label_id(s) {
            let cell = cell_of(instance, partition, s);
            conflicting_samples += 1;
            if conflicts.len() < MAX_LISTED_CONFLICTS {
                conflicts.push(Conflict {
                    samples: [first, s],
                    x: [instance.x(first).to_vec(), instance.x(s).to_vec()],
                    cell,
                    y: [instance.y(first).clone(), instance.y(s).clone()],
                    names: instance
                        .named()
                        .then(|| [sample_names(instance, first), sample_names(instance, s)]),
                });
            }
        }
    });
    Ok(Verdict {
        consistent: conflicting_samples == 0,
        conflicting_samples,
        conflicts,
        planted: compare_with_planted(instance, partition),
    })
}

/// Tables of at most this many cells (and at most 8 per sample) are checked through a
/// dense array, larger ones through a hash map.
const DENSE_CELLS: u64 = 1 << 22;

/// The class tuple of sample `s` under `partition`.
fn cell_of(instance: &Instance, partition: &[Vec<u32>], s: usize) -> Vec<u32> {
    instance
        .x(s)
        .iter()
        .zip(partition)
        .map(|(&t, row)| row[t as usize])
        .collect()
}

/// Maps every sample to its class tuple under a (shape-valid) `partition` and returns
/// the first sample of each tuple; `later(first, s)` sees every later sample with the
/// first of its tuple.
///
/// Written on its own, sharing nothing with the encoder: a tuple is numbered here by
/// its own mixed radix over the declared classes.
pub fn cells(
    instance: &Instance,
    partition: &[Vec<u32>],
    mut later: impl FnMut(usize, usize),
) -> HashMap<Vec<u32>, usize> {
    let mut first_in_cell: HashMap<Vec<u32>, usize> = HashMap::new();
    let total = instance
        .groups()
        .iter()
        .try_fold(1u64, |acc, g| acc.checked_mul(u64::from(g.classes)))
        // Dense only while the array is small beside the samples: the declared classes,
        // not the data, set its size.
        .filter(|&c| c <= DENSE_CELLS && c <= 8 * instance.num_samples() as u64 + 1024);
    if let Some(total) = total {
        let radix: Vec<u64> = instance
            .groups()
            .iter()
            .map(|g| u64::from(g.classes))
            .collect();
        let index = |s: usize| {
            instance
                .x(s)
                .iter()
                .zip(partition)
                .zip(&radix)
                .fold(0u64, |acc, ((&t, row), &r)| {
                    acc * r + u64::from(row[t as usize])
                }) as u32
        };
        // The cell of every sample, on both cores (the random reads of the partition are
        // the cost), then one pass in order.
        let samples = instance.num_samples();
        let mut of = vec![0u32; samples];
        let half = samples / 2;
        let (front, back) = of.split_at_mut(half);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                front
                    .iter_mut()
                    .enumerate()
                    .for_each(|(s, c)| *c = index(s))
            });
            back.iter_mut()
                .enumerate()
                .for_each(|(s, c)| *c = index(half + s));
        });
        let mut first = vec![usize::MAX; total as usize];
        for (s, &c) in of.iter().enumerate() {
            let slot = &mut first[c as usize];
            if *slot == usize::MAX {
                *slot = s;
                first_in_cell.insert(cell_of(instance, partition, s), s);
            } else {
                later(*slot, s);
            }
        }
        return first_in_cell;
    }
    for s in 0..instance.num_samples() {
        let cell = cell_of(instance, partition, s);
        match first_in_cell.get(&cell) {
            None => {
                first_in_cell.insert(cell, s);
            }
            Some(&first) => later(first, s),
        }
    }
    first_in_cell
}

/// Compares a (shape-valid) partition with the instance's planted partition, if any.
pub fn compare_with_planted(
    instance: &Instance,
    partition: &[Vec<u32>],
) -> Option<PlantedComparison> {
    let planted = &instance.planted.as_ref()?.partition;
    let mut per_group = Vec::new();
    let mut accuracy_per_group = Vec::new();
    let mut right = 0;
    for (g, group) in instance.groups().iter().enumerate() {
        per_group.push(same_partition(&partition[g..=g], &planted[g..=g]));
        let agree = best_agreement(&partition[g], &planted[g]);
        right += agree;
        accuracy_per_group.push(agree as f64 / group.tokens as f64);
    }
    let total: u64 = instance.groups().iter().map(|g| u64::from(g.tokens)).sum();
    Some(PlantedComparison {
        equals_planted: per_group.iter().all(|&e| e),
        equals_planted_per_group: per_group,
        accuracy: right as f64 / total as f64,
        accuracy_per_group,
    })
}

/// A candidate answer read from a solution file: only `partition` is needed.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    /// The partition to judge.
    #[serde(default, deserialize_with = "json::opt_rows")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Vec<u32>>>))]
    pub partition: Option<Partition>,
    /// An optional second partition claimed to be consistent and different.
    #[serde(default, deserialize_with = "json::opt_rows")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Vec<u32>>>))]
    pub witness: Option<Partition>,
}

impl Described for Candidate {
    const EXPECTED: &'static str = r#"a solution object {"partition": [[...], ...]}"#;
}

impl Candidate {
    /// Parses a solution file's JSON; `origin` names it in errors.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<Candidate> {
        json::parse(bytes, origin, "solution")
    }
}

/// The judgement of a candidate: its verdict, and the witness's if it has one.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Judgement {
    /// The verdict on `partition`.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// For a witness: consistent, and a different partition from `partition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness_valid: Option<bool>,
}

impl Judgement {
    /// Exit code of `partrec check`: 0 when everything holds, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.verdict.consistent && self.witness_valid != Some(false) {
            0
        } else {
            1
        }
    }

    /// A one-line human summary naming the first conflict, if any.
    pub fn summary(&self, instance: &Instance) -> String {
        let v = &self.verdict;
        let mut s = if v.consistent {
            "consistent".to_string()
        } else {
            let c = &v.conflicts[0];
            let name = |k: usize| {
                let names: Vec<String> = c.x[k]
                    .iter()
                    .enumerate()
                    .map(|(g, &t)| crate::model::shown::shown_name(&instance.token_name(g, t)))
                    .collect();
                format!(
                    "sample {} (x = [{}], y = {})",
                    c.samples[k],
                    names.join(", "),
                    c.y[k]
                )
            };
            format!(
                "inconsistent ({} conflicting samples): {} and {} share class tuple {:?}",
                v.conflicting_samples,
                name(0),
                name(1),
                c.cell
            )
        };
        if let Some(p) = &v.planted {
            s.push_str("; ");
            s.push_str(&p.summary());
        }
        match self.witness_valid {
            Some(true) => s.push_str("; witness valid"),
            Some(false) => s.push_str("; witness INVALID"),
            None => {}
        }
        s
    }
}

/// What a partition costs on noisy samples ([`violations`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Violations {
    /// Total weight of the dropped samples.
    pub cost: u64,
    /// The samples to drop, in order: in each class tuple, those whose value is not
    /// the tuple's heaviest (by total weight; a tie goes to the value seen first).
    pub dropped: Vec<usize>,
    /// Each observed class tuple with the value kept, sorted by tuple.
    pub table: Vec<TableEntry>,
}

/// The fewest samples (by weight) that `partition` must drop to be consistent, and
/// the table it then has: no table can keep more of the samples for this partition.
pub fn violations(
    instance: &Instance,
    partition: &[Vec<u32>],
) -> std::result::Result<Violations, Invalid> {
    instance.validate_partition(partition)?;
    let mut cell_ids: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut weights: Vec<Vec<(u32, u64)>> = Vec::new();
    let mut cell_of = Vec::with_capacity(instance.num_samples());
    for s in 0..instance.num_samples() {
        let cell: Vec<u32> = instance
            .x(s)
            .iter()
            .zip(partition)
            .map(|(&t, row)| row[t as usize])
            .collect();
        let next = weights.len();
        let c = *cell_ids.entry(cell).or_insert(next);
        if c == next {
            weights.push(Vec::new());
        }
        let (label, w) = (instance.label_id(s), instance.weight(s));
        match weights[c].iter_mut().find(|(l, _)| *l == label) {
            Some(entry) => entry.1 = entry.1.saturating_add(w),
            None => weights[c].push((label, w)),
        }
        cell_of.push(c);
    }
    let kept: Vec<u32> = weights
        .iter()
        .map(|ws| {
            let mut best = ws[0];
            for &(l, w) in &ws[1..] {
                if w > best.1 {
                    best = (l, w);
                }
            }
            best.0
        })
        .collect();
    let mut cost = 0u64;
    let mut dropped = Vec::new();
    for (s, &c) in cell_of.iter().enumerate() {
        if instance.label_id(s) != kept[c] {
            cost = cost.saturating_add(instance.weight(s));
            dropped.push(s);
        }
    }
    let mut table: Vec<TableEntry> = cell_ids
        .into_iter()
        .map(|(cell, c)| TableEntry {
            cell,
            y: instance.values()[kept[c] as usize].clone(),
        })
        .collect();
    table.sort_by(|a, b| a.cell.cmp(&b.cell));
    Ok(Violations {
        cost,
        dropped,
        table,
    })
}

/// [`check`] for a partition given as `field` of `origin` (a file, or empty for a
/// caller's value): a wrong shape is bad input naming the field, group and token
/// (`partition[0][3] ...`).
pub fn check_field(
    instance: &Instance,
    partition: &[Vec<u32>],
    origin: &str,
    field: &str,
) -> Result<Verdict> {
    check(instance, partition).map_err(|m| {
        Error::input_at(
            origin,
            InputKind::Invalid,
            Some(Location::Path(format!("{field}{}", m.path))),
            format!("{field} {}", m.message),
        )
    })
}

/// Judges a candidate read from `origin`: shape errors name the file and are bad input.
pub fn judge(instance: &Instance, candidate: &Candidate, origin: &str) -> Result<Judgement> {
    let partition = candidate.partition.as_ref().ok_or_else(|| {
        Error::input_at(
            origin,
            InputKind::Shape,
            Some(Location::Path("partition".into())),
            "no `partition` to check (expected a list of class lists, one per group)",
        )
    })?;
    let verdict = check_field(instance, partition, origin, "partition")?;
    let witness_valid = match &candidate.witness {
        None => None,
        Some(w) => {
            let wv = check_field(instance, w, origin, "witness")?;
            Some(wv.consistent && !same_partition(partition, w))
        }
    };
    Ok(Judgement {
        verdict,
        witness_valid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> Instance {
        Instance::from_json(
            br#"{"groups": [{"tokens": 3, "classes": 2}, {"tokens": 2, "classes": 2}],
                 "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 0}, {"x": [2, 0], "y": 1},
                             {"x": [2, 1], "y": 0}, {"x": [0, 1], "y": 0}],
                 "planted": {"partition": [[0, 0, 1], [0, 1]]}}"#,
            "t",
        )
        .unwrap()
    }

    #[test]
    fn accepts_a_consistent_partition() {
        let v = check(&instance(), &[vec![1, 1, 0], vec![0, 1]]).unwrap();
        assert!(v.consistent);
        let p = v.planted.unwrap();
        assert!(p.equals_planted);
        assert_eq!(p.accuracy, 1.0);
    }

    #[test]
    fn names_the_conflicting_pair() {
        let v = check(&instance(), &[vec![0, 0, 0], vec![0, 1]]).unwrap();
        assert!(!v.consistent);
        assert_eq!(v.conflicting_samples, 1);
        let c = &v.conflicts[0];
        assert_eq!(c.samples, [0, 2]);
        assert_eq!(c.cell, vec![0, 0]);
        assert_eq!(c.x, [vec![0, 0], vec![2, 0]]);
        let p = v.planted.unwrap();
        assert!(!p.equals_planted);
        assert_eq!(p.equals_planted_per_group, vec![false, true]);
        assert!((p.accuracy - 4.0 / 5.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_wrong_shapes() {
        let inst = instance();
        assert!(check(&inst, &[vec![0, 0, 0]])
            .unwrap_err()
            .message
            .contains("1 groups"));
        assert!(check(&inst, &[vec![0, 0], vec![0, 1]])
            .unwrap_err()
            .message
            .contains("group 0 lists 2"));
        assert!(check(&inst, &[vec![0, 0, 2], vec![0, 1]])
            .unwrap_err()
            .message
            .contains("class 2 is not in 0..1"));
    }
}
