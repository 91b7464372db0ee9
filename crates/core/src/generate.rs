//! The paper's planted model: random partitions, a random table whose slices
//! tell every pair of classes apart, and uniform random samples.
//!
//! Deterministic: the same parameters give the same file on every machine
//! (ChaCha8 seeded from `seed`, a fixed order of draws, `Cargo.lock` pinning
//! the sampling code).

use crate::error::{Error, Result};
use crate::model::instance::{Group, Instance, Planted, TableEntry};
use crate::model::label::Label;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::HashMap;

/// How many times a draw is repeated before the generator gives up.
pub const MAX_REDRAWS: usize = 1_000_000;

/// Parameters of a planted instance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GenerateParams {
    /// Tokens per group (its length is the number of groups I).
    pub tokens: Vec<u32>,
    /// Classes per group (same length as `tokens`).
    pub classes: Vec<u32>,
    /// Number of values V (labels 0..V-1).
    pub values: u32,
    /// Number of samples S.
    pub samples: usize,
    /// Seed of the random generator.
    pub seed: u64,
    /// Token frequencies: uniform when `None`; with `Some(s)`, token `r` of every group
    /// (0 the most frequent) is drawn with probability proportional to `(r + 1)^-s`, as
    /// word frequencies are (Zipf's law; `s` near 1 for words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipf: Option<f64>,
}

/// The most samples a generated instance may have (2^28, about 268 million).
pub const MAX_SAMPLES: usize = 1 << 28;

/// The sample count for `ratio`: round(ratio * N ln N) with N the largest group,
/// refused when the ratio is negative or not finite, or the count above [`MAX_SAMPLES`].
pub fn samples_for_ratio(tokens: &[u32], ratio: f64) -> Result<usize> {
    if !(ratio.is_finite() && ratio >= 0.0) {
        return Err(Error::param(
            "ratio",
            format!("must be a finite number >= 0, got {ratio}"),
        ));
    }
    let n = f64::from(tokens.iter().copied().max().unwrap_or(1));
    let s = (ratio * n * n.ln()).round().max(0.0);
    if !s.is_finite() || s > MAX_SAMPLES as f64 {
        return Err(Error::Usage(format!(
            "ratio {ratio} asks for {s:e} samples; at most {MAX_SAMPLES} are generated"
        )));
    }
    Ok(s as usize)
}

/// Row-major index of a cell (last group fastest).
fn cell_index(cell: &[u32], classes: &[u32]) -> usize {
    cell.iter()
        .zip(classes)
        .fold(0, |acc, (&c, &k)| acc * k as usize + c as usize)
}

/// True iff in every group no two classes have identical slices of `table`.
fn slices_distinct(table: &[u32], classes: &[u32]) -> bool {
    let cells = table.len();
    let mut stride = cells;
    for &k in classes {
        let k = k as usize;
        stride /= k; // cells per step of this group's class
        let slice = |c: usize| -> Vec<u32> {
            (0..cells)
                .filter(|&i| (i / stride) % k == c)
                .map(|i| table[i])
                .collect()
        };
        let mut slices: Vec<Vec<u32>> = (0..k).map(slice).collect();
        slices.sort();
        slices.dedup();
        if slices.len() < k {
            return false;
        }
    }
    true
}

/// Checks a Zipf exponent ([`GenerateParams::zipf`]): a finite number from 0 to 8.
pub fn check_zipf(s: f64) -> Result<()> {
    if s.is_finite() && (0.0..=8.0).contains(&s) {
        Ok(())
    } else {
        Err(Error::param(
            "zipf",
            format!("must be an exponent from 0 to 8, got {s}"),
        ))
    }
}

fn validate(p: &GenerateParams) -> Result<()> {
    let bad = |m: String| Err(Error::Usage(m));
    if p.tokens.is_empty() || p.tokens.len() != p.classes.len() {
        return Err(Error::param(
            "classes",
            format!(
                "must give one value per group, as tokens does: got {} tokens and {} classes values",
                p.tokens.len(),
                p.classes.len()
            ),
        ));
    }
    if p.values == 0 {
        return Err(Error::param("values", "must be >= 1"));
    }
    if let Some(s) = p.zipf {
        check_zipf(s)?;
    }
    if p.samples > MAX_SAMPLES {
        return bad(format!(
            "{} samples asked for; at most {MAX_SAMPLES} are generated",
            p.samples
        ));
    }
    let groups: Vec<Group> = p.tokens.iter().map(|&n| Group::new(n, 1)).collect();
    crate::model::compact::listable(&groups)?;
    if p.samples.saturating_mul(p.tokens.len()) > MAX_SAMPLES {
        return bad(format!(
            "{} samples of {} groups are {} token ids; at most {MAX_SAMPLES} are generated",
            p.samples,
            p.tokens.len(),
            p.samples.saturating_mul(p.tokens.len())
        ));
    }
    let log_cells: f64 = p.classes.iter().map(|&k| f64::from(k).log2()).sum();
    if log_cells > 1e8f64.log2() {
        return bad(format!(
            "the table would have about 2^{log_cells:.1} cells (the product of the classes); at most 1e8 are supported"
        ));
    }
    for (g, (&n, &k)) in p.tokens.iter().zip(&p.classes).enumerate() {
        if n == 0 || k == 0 {
            return bad(format!("group {g}: tokens and classes must be >= 1"));
        }
        if k > n {
            return bad(format!(
                "group {g}: {k} classes cannot all be non-empty with {n} tokens"
            ));
        }
        // Distinct slices need V^(cells / K_g) >= K_g.
        let others = (log_cells - f64::from(k).log2()).exp2();
        if others * f64::from(p.values).log2() < f64::from(k).log2() {
            return bad(format!(
                "group {g}: {k} classes cannot have distinct table slices with {} values",
                p.values
            ));
        }
    }
    Ok(())
}

/// Generates a planted instance.
pub fn generate(p: &GenerateParams, ratio: Option<f64>) -> Result<Instance> {
    validate(p)?;
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let partition = draw_partition(p, &mut rng)?;
    let table = draw_table(p, &mut rng)?;
    let groups: Vec<Group> = p
        .tokens
        .iter()
        .zip(&p.classes)
        .map(|(&n, &k)| Group::new(n, k))
        .collect();
    // One label per value the table uses (never one per declared value, nor per sample).
    let labels: HashMap<u32, Label> = table
        .iter()
        .map(|&v| (v, Label::from(u64::from(v))))
        .collect();
    let samples = draw_samples(p, &partition, &table, &labels, &mut rng)?;
    let mut instance = Instance::new(groups, samples)?;
    let entries = table_entries(&table, &labels, &p.classes);
    instance.planted = Some(Planted {
        partition,
        table: Some(entries),
    });
    instance.meta = Some(metadata(p, ratio));
    Ok(instance)
}

/// Each group's planted class of every token, drawn until every class is non-empty.
fn draw_partition(p: &GenerateParams, rng: &mut ChaCha8Rng) -> Result<Vec<Vec<u32>>> {
    let mut partition = Vec::with_capacity(p.tokens.len());
    for (&n, &k) in p.tokens.iter().zip(&p.classes) {
        let row = redraw(|| {
            let row: Vec<u32> = (0..n).map(|_| rng.random_range(0..k)).collect();
            let mut seen = vec![false; k as usize];
            row.iter().for_each(|&c| seen[c as usize] = true);
            seen.iter().all(|&s| s).then_some(row)
        })
        .ok_or_else(|| {
            Error::Usage(format!(
                "could not make all {k} classes non-empty in {MAX_REDRAWS} draws"
            ))
        })?;
        partition.push(row);
    }
    Ok(partition)
}

/// The value of every cell (row-major), drawn until its slices tell every pair of
/// classes apart.
fn draw_table(p: &GenerateParams, rng: &mut ChaCha8Rng) -> Result<Vec<u32>> {
    let cells: usize = p.classes.iter().map(|&k| k as usize).product();
    redraw(|| {
        let t: Vec<u32> = (0..cells).map(|_| rng.random_range(0..p.values)).collect();
        slices_distinct(&t, &p.classes).then_some(t)
    })
    .ok_or_else(|| {
        Error::Usage(format!(
            "could not draw a table with distinct slices in {MAX_REDRAWS} draws"
        ))
    })
}

/// The samples: tokens drawn per group, each valued by `table` at its planted cell.
fn draw_samples<'a>(
    p: &GenerateParams,
    partition: &[Vec<u32>],
    table: &[u32],
    labels: &'a HashMap<u32, Label>,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(Vec<u32>, &'a Label)>> {
    if p.zipf.is_some() {
        // The cumulative weights: one float per token of every group.
        let floats: u64 = p.tokens.iter().map(|&n| u64::from(n)).sum();
        crate::memory::afford(floats.saturating_mul(8), || {
            format!("Zipf weights for {floats} tokens")
        })?;
    }
    let draws: Vec<TokenDraw> = p
        .tokens
        .iter()
        .map(|&n| TokenDraw::new(n, p.zipf))
        .collect();
    let mut samples = Vec::with_capacity(p.samples);
    for _ in 0..p.samples {
        let x: Vec<u32> = draws.iter().map(|d| d.draw(rng)).collect();
        let cell: Vec<u32> = x
            .iter()
            .zip(partition)
            .map(|(&t, row)| row[t as usize])
            .collect();
        samples.push((x, &labels[&table[cell_index(&cell, &p.classes)]]));
    }
    Ok(samples)
}

/// The planted table's entries: every cell of `classes` in row-major order, with its
/// value.
fn table_entries(table: &[u32], labels: &HashMap<u32, Label>, classes: &[u32]) -> Vec<TableEntry> {
    let mut entries = Vec::with_capacity(table.len());
    let mut cell = vec![0u32; classes.len()];
    for &value in table {
        entries.push(TableEntry {
            cell: cell.clone(),
            y: labels[&value].clone(),
        });
        for g in (0..cell.len()).rev() {
            cell[g] += 1;
            if cell[g] < classes[g] {
                break;
            }
            cell[g] = 0;
        }
    }
    entries
}

/// The instance's `meta`: the parameters, the generator and its version, the number of
/// groups, and `ratio` when the sample count came from one.
fn metadata(p: &GenerateParams, ratio: Option<f64>) -> Box<serde_json::value::RawValue> {
    let mut meta = serde_json::to_value(p).expect("parameters serialize");
    meta["generator"] = format!("partrec {} generate", env!("CARGO_PKG_VERSION")).into();
    meta["groups"] = p.tokens.len().into();
    if let Some(r) = ratio {
        meta["ratio"] = r.into();
    }
    serde_json::value::to_raw_value(&meta).expect("metadata serializes")
}

/// How a group's tokens are drawn: uniformly, or by Zipf's law through the cumulative
/// weights of the ranks.
enum TokenDraw {
    Uniform(u32),
    Zipf(Vec<f64>),
}

impl TokenDraw {
    fn new(n: u32, zipf: Option<f64>) -> TokenDraw {
        match zipf {
            None => TokenDraw::Uniform(n),
            Some(s) => {
                let mut total = 0.0;
                TokenDraw::Zipf(
                    (1..=n)
                        .map(|r| {
                            total += f64::from(r).powf(-s);
                            total
                        })
                        .collect(),
                )
            }
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> u32 {
        match self {
            TokenDraw::Uniform(n) => rng.random_range(0..*n),
            TokenDraw::Zipf(cumulative) => {
                let total = cumulative.last().copied().unwrap_or(0.0);
                let u = rng.random::<f64>() * total;
                let r = cumulative.partition_point(|&c| c <= u);
                r.min(cumulative.len() - 1) as u32
            }
        }
    }
}

/// Flips each sample's value, with probability `noise`, to one of the other `values`
/// values (labels `0..values`), drawn uniformly; the planted truth is kept and
/// `meta` records `noise` and the indices of the flipped samples (`flipped`). The
/// random stream is its own (from `seed`), so the flips fall on the instance the
/// same seed gives without noise.
pub fn add_noise(instance: Instance, noise: f64, values: u32, seed: u64) -> Result<Instance> {
    if !(0.0..=1.0).contains(&noise) {
        return Err(Error::param(
            "noise",
            format!("must be a probability from 0 to 1, got {noise}"),
        ));
    }
    if noise > 0.0 && values < 2 {
        return Err(Error::param(
            "noise",
            "needs at least 2 values to flip between",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6e6f_6973_6521);
    let labels: Vec<Label> = (0..values).map(|v| Label::from(u64::from(v))).collect();
    let mut flipped = Vec::new();
    let mut samples = Vec::with_capacity(instance.num_samples());
    for s in 0..instance.num_samples() {
        let y = instance.y(s);
        let label = if rng.random_bool(noise) {
            let current = y.integer().and_then(|v| u32::try_from(v).ok());
            let others: Vec<u32> = (0..values).filter(|&v| Some(v) != current).collect();
            flipped.push(s);
            &labels[others[rng.random_range(0..others.len())] as usize]
        } else {
            y
        };
        samples.push((instance.x(s).to_vec(), label));
    }
    let mut noisy = Instance::new(instance.groups().to_vec(), samples)?;
    noisy.planted = instance.planted.clone();
    let mut meta: serde_json::Value = instance
        .meta
        .as_ref()
        .and_then(|m| serde_json::from_str(m.get()).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    meta["noise"] = noise.into();
    meta["flipped"] = flipped.into();
    noisy.meta = Some(serde_json::value::to_raw_value(&meta).expect("metadata serializes"));
    Ok(noisy)
}

fn redraw<T>(mut draw: impl FnMut() -> Option<T>) -> Option<T> {
    (0..MAX_REDRAWS).find_map(|_| draw())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check;

    fn params(seed: u64) -> GenerateParams {
        GenerateParams {
            tokens: vec![30, 20, 10],
            classes: vec![3, 2, 4],
            values: 2,
            samples: 200,
            seed,
            zipf: None,
        }
    }

    #[test]
    fn zipf_frequencies_fall_with_rank_as_asked() {
        let mut p = params(5);
        p.tokens = vec![1000, 1000];
        p.classes = vec![3, 3];
        p.samples = 200_000;
        p.zipf = Some(1.0);
        let inst = generate(&p, None).unwrap();
        let mut counts = vec![0u32; 1000];
        for s in 0..inst.num_samples() {
            counts[inst.x(s)[0] as usize] += 1;
        }
        // P(r) = (r + 1)^-1 / H_1000, H_1000 = 7.485: token 0 about 13.4%, token 9
        // about 1.34%, token 99 about 0.134%.
        let share = |t: usize| f64::from(counts[t]) / 200_000.0;
        for (t, want) in [(0, 0.1336), (9, 0.01336), (99, 0.001336)] {
            assert!(
                (share(t) / want - 1.0).abs() < 0.1,
                "token {t}: {}",
                share(t)
            );
        }
        assert!(generate(
            &GenerateParams {
                zipf: Some(-1.0),
                ..p.clone()
            },
            None
        )
        .is_err());
        assert!(generate(
            &GenerateParams {
                zipf: Some(f64::NAN),
                ..p
            },
            None
        )
        .is_err());
    }

    #[test]
    fn same_seed_same_file_other_seed_other_file() {
        let a = generate(&params(7), None).unwrap().to_json();
        assert_eq!(a, generate(&params(7), None).unwrap().to_json());
        assert_ne!(a, generate(&params(8), None).unwrap().to_json());
    }

    #[test]
    fn planted_is_consistent_and_well_formed() {
        for seed in 0..20 {
            let inst = generate(&params(seed), None).unwrap();
            let planted = inst.planted.clone().unwrap();
            assert!(check(&inst, &planted.partition).unwrap().consistent);
            for (row, &k) in planted.partition.iter().zip(&[3u32, 2, 4]) {
                assert_eq!(
                    crate::model::partition::classes_used(std::slice::from_ref(row))[0],
                    k as usize
                );
            }
            let table: Vec<u32> = planted
                .table
                .unwrap()
                .iter()
                .map(|e| if e.y == Label::from(1u64) { 1 } else { 0 })
                .collect();
            assert!(slices_distinct(&table, &[3, 2, 4]));
        }
    }

    #[test]
    fn slices_distinct_looks_at_every_group() {
        // 2x2 table [[0,1],[0,1]]: group 0's rows are equal.
        assert!(!slices_distinct(&[0, 1, 0, 1], &[2, 2]));
        // [[0,1],[1,1]]: rows differ, columns differ.
        assert!(slices_distinct(&[0, 1, 1, 1], &[2, 2]));
        // [[0,0],[1,1]]: columns equal.
        assert!(!slices_distinct(&[0, 0, 1, 1], &[2, 2]));
    }

    #[test]
    fn impossible_parameters_are_refused() {
        let mut p = params(1);
        p.classes = vec![31, 2, 4];
        assert!(generate(&p, None).is_err());
        let p = GenerateParams {
            tokens: vec![10],
            classes: vec![3],
            values: 2,
            samples: 5,
            seed: 1,
            zipf: None,
        };
        assert!(
            generate(&p, None).is_err(),
            "I=1, V=2: slices are single values, 3 classes need 3 values"
        );
        assert_eq!(
            samples_for_ratio(&[100, 50], 2.0).unwrap(),
            (2.0 * 100.0 * 100f64.ln()).round() as usize
        );
        assert!(samples_for_ratio(&[100], 1e30).is_err());
        assert!(samples_for_ratio(&[100], f64::INFINITY).is_err());
    }
}
