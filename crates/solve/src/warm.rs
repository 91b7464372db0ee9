//! A statistical warm start for three or more groups: classes estimated from the
//! samples' statistics, then refined, before any search.
//!
//! For two groups g and h, the samples form a sparse N_g x N_h matrix whose entry
//! (a, b) adds, for each sample with tokens a and b, the sample's centred value. Its
//! expectation has rank at most min(K_g, K_h): it depends on the tokens only through
//! their classes. The top singular subspace, found by block power iteration on the
//! sparse matrix, therefore gives every token coordinates in which tokens of one class
//! sit together; with each token's mean value they are clustered by k-means into K_g
//! classes. A refinement then alternates between the table each cell's majority value
//! gives and moving every token to the class whose cells its samples agree with most.
//! Where that leaves samples unexplained, expectation maximisation (mean field, with
//! annealing) refines soft class probabilities instead, from the clusters and then
//! from random classes.
//!
//! With three groups of a thousand tokens this finds a consistent partition from
//! about 2 N ln N samples on, in a fraction of a second; with fewer samples per
//! token (N = 50 to 100 at 1.5 N ln N) it finds none, and it is only a starting
//! point for the local search. Nothing here is trusted: the driver passes
//! every partition through the checker, and a wrong estimate proves nothing.

use crate::kmeans::kmeans_until;
use crate::preprocess::Prepared;
use partrec_sat::Control;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Tables larger than this many cells are not refined (nor estimated).
pub const MAX_CELLS: usize = crate::local_search::MAX_CELLS;

/// Block power iterations per pair of groups.
const POWER_ITERATIONS: usize = 30;

/// k-means restarts per group (the lowest within-cluster sum is kept).
const KMEANS_RESTARTS: usize = 8;

/// Rounds of the majority refinement.
const REFINE_ROUNDS: usize = 100;

/// Rounds of expectation maximisation.
const EM_ROUNDS: usize = 100;

/// The first rounds of expectation maximisation divide log-likelihoods by a
/// temperature falling geometrically from this to 1 ...
const ANNEAL_FROM: f64 = 4.0;

/// ... over this many rounds.
const ANNEAL_ROUNDS: usize = 20;

/// Starts of expectation maximisation: the clusters, then random classes.
const EM_STARTS: usize = 4;

/// Expectation maximisation stops after this many rounds past the annealing without
/// fewer disagreeing samples.
const EM_PATIENCE: usize = 10;

/// Expectation maximisation runs only on tables of at most this many cells (each
/// round costs cells x samples).
const MAX_SOFT_CELLS: usize = 1 << 10;

/// At most this many value channels (one-vs-rest indicators) are used.
const MAX_CHANNELS: usize = 3;

/// A class for every observed token (compact ids), and how many distinct samples
/// disagree with their cell's majority value under it (0: a consistent partition).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// Per group, per observed token, its class.
    pub class: Vec<Vec<usize>>,
    /// Distinct samples outside their cell's majority value.
    pub mismatches: usize,
}

/// Estimates the classes of `prep`'s observed tokens from the samples' statistics
/// (seeded by `seed`), refined by majority; `None` with fewer than three groups,
/// fewer than two values, a table above [`MAX_CELLS`] cells, or when `control` says
/// stop.
pub fn estimate(prep: &Prepared, seed: u64, control: &Control) -> Option<Estimate> {
    let groups = prep.groups();
    let cells = groups
        .iter()
        .try_fold(1usize, |a, g| a.checked_mul(g.classes as usize))
        .filter(|&c| c <= MAX_CELLS)?;
    if groups.len() < 3 || prep.values < 2 || prep.is_empty() || cells == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let features = Features::of(prep, &mut rng, control)?;
    let class = (0..groups.len())
        .map(|g| {
            let k = groups[g].classes as usize;
            let rows = &features.rows[g];
            let stop = &mut || control.should_stop();
            let labels = kmeans_until(rows, features.dims[g], k, KMEANS_RESTARTS, &mut rng, stop)?;
            Some(labels.into_iter().map(|c| c as usize).collect())
        })
        .collect::<Option<Vec<Vec<usize>>>>()?;
    let mut best = refine(prep, class.clone(), control)?;
    if cells > MAX_SOFT_CELLS {
        return Some(best);
    }
    // Expectation maximisation from the clusters, then from random classes: it can
    // settle in a local optimum that another start avoids.
    let mut start = Some(class);
    for _ in 0..EM_STARTS {
        if best.mismatches == 0 {
            break;
        }
        let from = start
            .take()
            .unwrap_or_else(|| random_classes(prep, &mut rng));
        let soft = refine(
            prep,
            expectation_maximisation(prep, &from, control)?,
            control,
        )?;
        if soft.mismatches < best.mismatches {
            best = soft;
        }
    }
    Some(best)
}

/// A class for every observed token, uniformly at random.
fn random_classes(prep: &Prepared, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    prep.groups()
        .iter()
        .map(|g| {
            (0..g.tokens)
                .map(|_| rng.random_range(0..g.classes.max(1) as usize))
                .collect()
        })
        .collect()
}

/// Per group, every observed token's coordinates (row-major, `dims[g]` per token).
struct Features {
    rows: Vec<Vec<f64>>,
    dims: Vec<usize>,
}

impl Features {
    /// The spectral coordinates of every pair of groups and the mean of every value
    /// channel, per token.
    fn of(prep: &Prepared, rng: &mut ChaCha8Rng, control: &Control) -> Option<Features> {
        let groups = prep.groups();
        let arity = groups.len();
        let sizes: Vec<usize> = groups.iter().map(|g| g.tokens as usize).collect();
        let channels = (prep.values - 1).min(MAX_CHANNELS);
        let mut frequency = vec![0f64; channels];
        for (_, v) in prep.samples() {
            if (v as usize) < channels {
                frequency[v as usize] += 1.0;
            }
        }
        frequency.iter_mut().for_each(|f| *f /= prep.len() as f64);
        let mut count = sizes.iter().map(|&n| vec![0f64; n]).collect::<Vec<_>>();
        for (x, _) in prep.samples() {
            for (g, &t) in x.iter().enumerate() {
                count[g][t as usize] += 1.0;
            }
        }
        // Per group, its blocks of columns: every (other group, channel) subspace, then
        // the channel means.
        let mut blocks: Vec<Vec<Vec<f64>>> = vec![Vec::new(); arity];
        let mut widths: Vec<Vec<usize>> = vec![Vec::new(); arity];
        for (channel, &share) in frequency.iter().enumerate() {
            let score = |v: u32| f64::from(u8::from(v as usize == channel)) - share;
            for g in 0..arity {
                for h in g + 1..arity {
                    let rank = (groups[g].classes.min(groups[h].classes) as usize).max(1);
                    let pair = Pair {
                        prep,
                        g,
                        h,
                        score: &score,
                    };
                    let (left, right) = pair.subspace(&sizes, rank, rng, control)?;
                    blocks[g].push(scaled(left, &count[g], sizes[h], rank));
                    widths[g].push(rank);
                    blocks[h].push(scaled(right, &count[h], sizes[g], rank));
                    widths[h].push(rank);
                }
            }
            for g in 0..arity {
                let mut mean = vec![0f64; sizes[g]];
                for (x, v) in prep.samples() {
                    mean[x[g] as usize] += score(v);
                }
                for (m, &c) in mean.iter_mut().zip(&count[g]) {
                    *m /= c.max(1.0);
                }
                blocks[g].push(mean);
                widths[g].push(1);
            }
        }
        let dims: Vec<usize> = widths.iter().map(|w| w.iter().sum()).collect();
        let rows = (0..arity)
            .map(|g| interleave(&blocks[g], &widths[g], sizes[g]))
            .collect();
        Some(Features { rows, dims })
    }
}

/// The columns of `blocks` (each `width` wide, row-major over `n` rows) side by side.
fn interleave(blocks: &[Vec<f64>], widths: &[usize], n: usize) -> Vec<f64> {
    let dim: usize = widths.iter().sum();
    let mut rows = vec![0f64; n * dim];
    for t in 0..n {
        let mut at = t * dim;
        for (block, &w) in blocks.iter().zip(widths) {
            rows[at..at + w].copy_from_slice(&block[t * w..(t + 1) * w]);
            at += w;
        }
    }
    rows
}

/// `product` (rows of `rank` sums over a token's samples) as per-sample means, scaled
/// by the square root of the other side's size so that unit singular vectors give
/// coordinates of order one.
fn scaled(mut product: Vec<f64>, count: &[f64], other: usize, rank: usize) -> Vec<f64> {
    let scale = (other as f64).sqrt();
    for (row, &c) in product.chunks_exact_mut(rank).zip(count) {
        row.iter_mut().for_each(|x| *x *= scale / c.max(1.0));
    }
    product
}

/// The sparse matrix of one pair of groups and one value channel.
struct Pair<'a, F: Fn(u32) -> f64> {
    prep: &'a Prepared,
    g: usize,
    h: usize,
    score: &'a F,
}

impl<F: Fn(u32) -> f64> Pair<'_, F> {
    /// `M q` (into group g's rows) when `forward`, else `M^T q` (into group h's rows),
    /// for `rank` columns stored row-major.
    fn times(&self, q: &[f64], rows: usize, rank: usize, forward: bool) -> Vec<f64> {
        let (to, from) = if forward {
            (self.g, self.h)
        } else {
            (self.h, self.g)
        };
        let mut out = vec![0f64; rows * rank];
        for (x, v) in self.prep.samples() {
            let w = (self.score)(v);
            let (a, b) = (x[to] as usize * rank, x[from] as usize * rank);
            for j in 0..rank {
                out[a + j] += w * q[b + j];
            }
        }
        out
    }

    /// The top `rank` singular subspace by block power iteration: `M Q` and `M^T P`,
    /// for the orthonormal bases P (group g) and Q (group h) it converged to.
    fn subspace(
        &self,
        sizes: &[usize],
        rank: usize,
        rng: &mut ChaCha8Rng,
        control: &Control,
    ) -> Option<(Vec<f64>, Vec<f64>)> {
        let (ng, nh) = (sizes[self.g], sizes[self.h]);
        let mut q: Vec<f64> = (0..nh * rank)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        orthonormalize(&mut q, rank);
        let mut p = Vec::new();
        for _ in 0..POWER_ITERATIONS {
            if control.should_stop() {
                return None;
            }
            p = self.times(&q, ng, rank, true);
            orthonormalize(&mut p, rank);
            q = self.times(&p, nh, rank, false);
            orthonormalize(&mut q, rank);
        }
        Some((
            self.times(&q, ng, rank, true),
            self.times(&p, nh, rank, false),
        ))
    }
}

/// Gram-Schmidt on the `rank` columns of row-major `m`; a column that vanishes stays 0.
fn orthonormalize(m: &mut [f64], rank: usize) {
    for j in 0..rank {
        for i in 0..j {
            let dot: f64 = m.chunks_exact(rank).map(|r| r[i] * r[j]).sum();
            m.chunks_exact_mut(rank).for_each(|r| r[j] -= dot * r[i]);
        }
        let norm = m
            .chunks_exact(rank)
            .map(|r| r[j] * r[j])
            .sum::<f64>()
            .sqrt();
        if norm > 1e-12 {
            m.chunks_exact_mut(rank).for_each(|r| r[j] /= norm);
        } else {
            m.chunks_exact_mut(rank).for_each(|r| r[j] = 0.0);
        }
    }
}

/// Soft refinement by expectation maximisation (mean field): every token holds a
/// distribution over its classes, started near `class`; each round estimates each
/// cell's distribution of values from the samples weighted by their tokens' class
/// probabilities, then, group by group, sets every token's class probabilities in
/// proportion to the likelihood of its samples' values. Returns the most likely
/// class of every token after the round whose classes disagreed with the fewest
/// samples (stopping early at none); `None` if `control` says stop. Where hard
/// moves stall on a few wrong tokens, the soft ones keep the evidence of every
/// sample, which is what recovers the partition from a spectral estimate at a few
/// N ln N samples.
fn expectation_maximisation(
    prep: &Prepared,
    class: &[Vec<usize>],
    control: &Control,
) -> Option<Vec<Vec<usize>>> {
    let groups = prep.groups();
    let cells = Cells::of(prep);
    let sizes = &cells.sizes;
    let values = prep.values;
    // q[g][t * K_g + k]: the probability that token t of group g is in class k.
    let mut q: Vec<Vec<f64>> = class
        .iter()
        .zip(sizes)
        .map(|(row, &k)| {
            let other = if k > 1 { 0.05 / (k - 1) as f64 } else { 0.0 };
            let mut p = vec![other; row.len() * k];
            for (t, &c) in row.iter().enumerate() {
                p[t * k + c] = 1.0 - other * (k - 1) as f64;
            }
            p
        })
        .collect();
    let mut weight = vec![0f64; cells.len];
    let (mut best, mut fewest, mut improved) = (hard_classes(&q, sizes), usize::MAX, 0);
    for round in 0..EM_ROUNDS {
        if control.should_stop() {
            return None;
        }
        // Each cell's distribution of values (add-one smoothing).
        let mut counts = vec![0.5f64; cells.len * values];
        for (x, v) in prep.samples() {
            outer(&q, sizes, x, None, &mut weight);
            for (c, w) in weight.iter().enumerate() {
                counts[c * values + v as usize] += w;
            }
        }
        let log: Vec<f64> = counts
            .chunks_exact(values)
            .flat_map(|row| {
                let total: f64 = row.iter().sum();
                row.iter().map(move |n| (n / total).ln())
            })
            .collect();
        for (g, group) in groups.iter().enumerate() {
            if control.should_stop() {
                return None;
            }
            let (k, stride) = (sizes[g], cells.stride[g]);
            let mut score = vec![0f64; group.tokens as usize * k];
            for (x, v) in prep.samples() {
                outer(&q, sizes, x, Some(g), &mut weight);
                let t = x[g] as usize;
                for (c, w) in weight.iter().enumerate() {
                    score[t * k + (c / stride) % k] += w * log[c * values + v as usize];
                }
            }
            let damped = round < 5;
            let temperature =
                ANNEAL_FROM.powf(1.0 - (round as f64 / ANNEAL_ROUNDS as f64).min(1.0));
            for (row, old) in score.chunks_exact(k).zip(q[g].chunks_exact_mut(k)) {
                let top = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = row.iter().map(|s| ((s - top) / temperature).exp()).sum();
                for (o, s) in old.iter_mut().zip(row) {
                    let p = ((s - top) / temperature).exp() / total;
                    *o = if damped { (*o + p) / 2.0 } else { p };
                }
            }
        }
        let hard = hard_classes(&q, sizes);
        let (_, wrong) = cells.majority(prep, &hard);
        if wrong < fewest {
            (best, fewest, improved) = (hard, wrong, round);
        }
        if fewest == 0 || round > ANNEAL_ROUNDS.max(improved) + EM_PATIENCE {
            break;
        }
    }
    Some(best)
}

/// Into `weight` (one entry per cell, the last group fastest): the product over the
/// groups of the class probabilities of sample `x`'s tokens, with group `skip`'s
/// factor left out (1 for each of its classes).
fn outer(q: &[Vec<f64>], sizes: &[usize], x: &[u32], skip: Option<usize>, weight: &mut [f64]) {
    let mut len = 1;
    weight[0] = 1.0;
    for (g, &k) in sizes.iter().enumerate() {
        let t = x[g] as usize;
        let p = &q[g][t * k..(t + 1) * k];
        for i in (0..len).rev() {
            let base = weight[i];
            for c in 0..k {
                weight[i * k + c] = if skip == Some(g) { base } else { base * p[c] };
            }
        }
        len *= k;
    }
}

/// The most likely class of every token.
fn hard_classes(q: &[Vec<f64>], sizes: &[usize]) -> Vec<Vec<usize>> {
    q.iter()
        .zip(sizes)
        .map(|(p, &k)| {
            p.chunks_exact(k)
                .map(|row| {
                    (0..k)
                        .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
                        .unwrap_or(0)
                })
                .collect()
        })
        .collect()
}

/// The table's cells: a mixed-radix index over the groups' classes, the last group
/// fastest.
struct Cells {
    /// Per group, the classes.
    sizes: Vec<usize>,
    /// Per group, the step of one class in the cell index.
    stride: Vec<usize>,
    /// The number of cells.
    len: usize,
}

impl Cells {
    fn of(prep: &Prepared) -> Cells {
        let sizes: Vec<usize> = prep.groups().iter().map(|g| g.classes as usize).collect();
        let mut stride = vec![1usize; sizes.len()];
        for g in (0..sizes.len().saturating_sub(1)).rev() {
            stride[g] = stride[g + 1] * sizes[g + 1];
        }
        let len = sizes.iter().product();
        Cells { sizes, stride, len }
    }

    /// The cell of sample tokens `x` under `class`.
    fn cell(&self, class: &[Vec<usize>], x: &[u32]) -> usize {
        x.iter()
            .enumerate()
            .map(|(g, &t)| class[g][t as usize] * self.stride[g])
            .sum()
    }

    /// Each cell's majority value under `class` (`None` for a cell no sample is in;
    /// ties to the smaller value), and the distinct samples outside their cell's
    /// majority.
    fn majority(&self, prep: &Prepared, class: &[Vec<usize>]) -> (Vec<Option<u32>>, usize) {
        let values = prep.values;
        let mut counts = vec![0usize; self.len * values];
        for (x, v) in prep.samples() {
            counts[self.cell(class, x) * values + v as usize] += 1;
        }
        let mut mismatches = 0;
        let table = counts
            .chunks_exact(values)
            .map(|row| {
                let (best, &most) = row
                    .iter()
                    .enumerate()
                    .max_by_key(|&(v, &n)| (n, std::cmp::Reverse(v)))?;
                mismatches += row.iter().sum::<usize>() - most;
                (most > 0).then_some(best as u32)
            })
            .collect();
        (table, mismatches)
    }
}

/// The majority refinement: per group in turn, the table of each cell's majority
/// value, then every token of the group moved to the class whose cells disagree with
/// the fewest of its samples (staying on ties), until nothing moves; `None` if
/// `control` says stop.
fn refine(prep: &Prepared, mut class: Vec<Vec<usize>>, control: &Control) -> Option<Estimate> {
    let groups = prep.groups();
    let cells = Cells::of(prep);
    for _ in 0..REFINE_ROUNDS {
        let mut moved = false;
        for (g, group) in groups.iter().enumerate() {
            if control.should_stop() {
                return None;
            }
            let (table, _) = cells.majority(prep, &class);
            let (k, stride) = (group.classes as usize, cells.stride[g]);
            let mut cost = vec![0u32; group.tokens as usize * k];
            for (x, v) in prep.samples() {
                let t = x[g] as usize;
                let base = cells.cell(&class, x) - class[g][t] * stride;
                for c in 0..k {
                    if table[base + c * stride].is_some_and(|m| m != v) {
                        cost[t * k + c] += 1;
                    }
                }
            }
            for (t, row) in cost.chunks_exact(k).enumerate() {
                let now = class[g][t];
                let lowest = (0..k).min_by_key(|&c| row[c]).unwrap_or(now);
                if row[lowest] < row[now] {
                    class[g][t] = lowest;
                    moved = true;
                }
            }
        }
        if !moved {
            break;
        }
    }
    let (_, mismatches) = cells.majority(prep, &class);
    Some(Estimate { class, mismatches })
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_core::generate::{generate, GenerateParams};
    use partrec_core::model::partition::same_partition;

    fn prepared(tokens: u32, ratio: f64, seed: u64) -> (Prepared, Vec<Vec<u32>>) {
        let samples = (ratio * f64::from(tokens) * f64::from(tokens).ln()).round() as usize;
        let params = GenerateParams {
            tokens: vec![tokens; 3],
            classes: vec![3; 3],
            values: 2,
            samples,
            seed,
            zipf: None,
        };
        let instance = generate(&params, None).unwrap();
        let prep = Prepared::new(&instance);
        let truth = instance.planted.as_ref().unwrap().partition.clone();
        let truth = prep.tokens().restrict(&truth);
        (prep, truth)
    }

    #[test]
    fn recovers_planted_partitions_with_many_samples_per_token() {
        for seed in 0..4 {
            let (prep, truth) = prepared(400, 12.0, seed);
            let found = estimate(&prep, 0, &Control::new()).expect("three groups");
            assert_eq!(found.mismatches, 0, "seed {seed}");
            let found: Vec<Vec<u32>> = found
                .class
                .iter()
                .map(|r| r.iter().map(|&c| c as u32).collect())
                .collect();
            assert!(same_partition(&found, &truth), "seed {seed}");
        }
    }

    #[test]
    fn finds_consistent_partitions_at_three_n_ln_n() {
        let mut found = 0;
        for seed in 0..4 {
            let (prep, _) = prepared(600, 3.0, seed);
            let estimate = estimate(&prep, 0, &Control::new()).expect("three groups");
            if estimate.mismatches == 0 {
                found += 1;
            }
        }
        assert!(found >= 3, "consistent on {found} of 4");
    }

    #[test]
    fn needs_three_groups_and_two_values() {
        let text = r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 2, "classes": 2}],
                       "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 1], "y": 1}]}"#;
        let instance =
            partrec_core::model::instance::Instance::from_json(text.as_bytes(), "t").unwrap();
        assert!(estimate(&Prepared::new(&instance), 0, &Control::new()).is_none());
    }

    #[test]
    fn a_stop_stops_it() {
        let (prep, _) = prepared(100, 6.0, 1);
        let control = Control::new();
        control.stop();
        assert!(estimate(&prep, 0, &control).is_none());
    }
}
