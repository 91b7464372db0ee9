//! Tabu search over token classes: a fast, incomplete way to find a first
//! consistent partition where CDCL struggles (the hard regime just above the
//! identifiability threshold), and the cheap single-token-move witness of
//! non-uniqueness.
//!
//! The state is a class for every observed token; the table is implicit, and the
//! cost is the number of pairs of samples that share a cell and differ in value
//! (zero exactly when the partition is consistent). Unlike counting the samples
//! outside each cell's majority, this cost has a slope even from a random start,
//! where every cell tends to have the same majority. A move changes one token's
//! class; its cost change is computed from the samples of that token alone. Each step takes
//! the best move that is not tabu (or that beats the best cost so far), and a
//! long stagnation perturbs part of the assignment. The work budget is counted
//! in sample updates, not seconds, so results do not depend on the machine.
//! Nothing here is trusted: the solver passes every partition it gets from
//! here through the checker, and a failed search proves nothing.

use crate::preprocess::Prepared;
use partrec_core::model::partition::Partition;
use partrec_sat::{Control, Ticker};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Tables larger than this many cells are not searched.
pub const MAX_CELLS: usize = 1 << 16;

/// The search state over the prepared (distinct) samples.
struct State<'a> {
    prep: &'a Prepared,
    classes: Vec<usize>,
    /// Cell stride of each group (mixed radix, last group fastest).
    stride: Vec<usize>,
    values: usize,
    /// Per group, per token: its samples.
    samples_of: Vec<Vec<Vec<u32>>>,
    /// Per sample: its cell.
    cell: Vec<usize>,
    /// counts[cell * values + v]: samples of value v in the cell.
    counts: Vec<u32>,
    /// Current class of every token (observed ones matter).
    class: Vec<Vec<usize>>,
    cost: i64,
    /// Scratch: cells touched by a move evaluation.
    touched: Vec<usize>,
    mark: Vec<bool>,
}

impl<'a> State<'a> {
    fn new(prep: &'a Prepared, class: Vec<Vec<usize>>) -> Option<State<'a>> {
        let groups = prep.groups();
        let classes: Vec<usize> = groups.iter().map(|g| g.classes as usize).collect();
        let cells = classes
            .iter()
            .try_fold(1usize, |a, &k| a.checked_mul(k))
            .filter(|&c| c <= MAX_CELLS)?;
        let mut stride = vec![1; classes.len()];
        for g in (0..classes.len().saturating_sub(1)).rev() {
            stride[g] = stride[g + 1] * classes[g + 1];
        }
        let values = prep.values.max(1);
        let mut samples_of: Vec<Vec<Vec<u32>>> = groups
            .iter()
            .map(|g| vec![Vec::new(); g.tokens as usize])
            .collect();
        for (s, (x, _)) in prep.samples().enumerate() {
            for (g, &t) in x.iter().enumerate() {
                samples_of[g][t as usize].push(s as u32);
            }
        }
        let mut st = State {
            prep,
            classes,
            stride,
            values,
            samples_of,
            cell: Vec::new(),
            counts: vec![0; cells * values],
            class,
            cost: 0,
            touched: Vec::new(),
            mark: vec![false; cells],
        };
        st.rebuild();
        Some(st)
    }

    fn cell_of(&self, x: &[u32]) -> usize {
        x.iter()
            .enumerate()
            .map(|(g, &t)| self.class[g][t as usize] * self.stride[g])
            .sum()
    }

    /// Pairs of samples in cell `c` with different values.
    fn cell_cost(&self, c: usize) -> i64 {
        let row = &self.counts[c * self.values..(c + 1) * self.values];
        let n: i64 = row.iter().map(|&k| i64::from(k)).sum();
        (n * n
            - row
                .iter()
                .map(|&k| i64::from(k) * i64::from(k))
                .sum::<i64>())
            / 2
    }

    fn rebuild(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        let cells: Vec<usize> = self.prep.samples().map(|(x, _)| self.cell_of(x)).collect();
        for ((_, v), &c) in self.prep.samples().zip(&cells) {
            self.counts[c * self.values + v as usize] += 1;
        }
        self.cell = cells;
        self.cost = (0..self.mark.len()).map(|c| self.cell_cost(c)).sum();
    }

    /// Moves token `t` of group `g` to class `to` (or back), returning the cost change.
    fn shift(&mut self, g: usize, t: usize, to: usize) -> i64 {
        let from = self.class[g][t];
        let offset = (to as isize - from as isize) * self.stride[g] as isize;
        self.touched.clear();
        for &s in &self.samples_of[g][t] {
            let c = self.cell[s as usize];
            for cc in [c, (c as isize + offset) as usize] {
                if !self.mark[cc] {
                    self.mark[cc] = true;
                    self.touched.push(cc);
                }
            }
        }
        let before: i64 = self.touched.iter().map(|&c| self.cell_cost(c)).sum();
        for &s in &self.samples_of[g][t] {
            let v = self.prep.label(s as usize) as usize;
            let c = self.cell[s as usize];
            let n = (c as isize + offset) as usize;
            self.counts[c * self.values + v] -= 1;
            self.counts[n * self.values + v] += 1;
            self.cell[s as usize] = n;
        }
        let after: i64 = self.touched.iter().map(|&c| self.cell_cost(c)).sum();
        for &c in &self.touched {
            self.mark[c] = false;
        }
        self.class[g][t] = to;
        self.cost += after - before;
        after - before
    }

    /// Moves about a tenth of `tokens` to random classes and rebuilds the counts.
    fn perturb(&mut self, tokens: &[(usize, usize)], rng: &mut ChaCha8Rng) {
        for &(g, t) in tokens {
            if rng.random_range(0..10) == 0 {
                self.class[g][t] = rng.random_range(0..self.classes[g]);
            }
        }
        self.rebuild();
    }

    /// Cost change of moving token `t` of group `g` to class `to`, leaving the state as it was.
    fn delta(&mut self, g: usize, t: usize, to: usize) -> (i64, usize) {
        let from = self.class[g][t];
        let d = self.shift(g, t, to);
        self.shift(g, t, from);
        (d, 2 * self.samples_of[g][t].len())
    }
}

/// The observed tokens' classes as a partition in compact ids.
/// The classes as a partition (`u32` classes).
pub(crate) fn to_partition(class: &[Vec<usize>]) -> Partition {
    class
        .iter()
        .map(|row| row.iter().map(|&c| c as u32).collect())
        .collect()
}

/// Searches for a consistent partition of the observed tokens (compact ids, see
/// [`partrec_core::model::compact`]) with at most `work` sample updates, seeded by `seed`,
/// from the classes `start` (one per observed token; random without it).
/// Returns it or `None` (also when `control` says stop); the caller checks it.
pub fn search(
    prep: &Prepared,
    work: u64,
    seed: u64,
    start: Option<Vec<Vec<usize>>>,
    control: &Control,
) -> Option<Partition> {
    let mut consistent = None;
    tabu(prep, work, seed, start, control, &mut |class, cost| {
        if cost == 0 {
            consistent = Some(to_partition(class));
        }
    })?;
    consistent
}

/// The partition with the fewest pairs of conflicting samples that a search of `work`
/// sample updates meets (compact ids): a good start for maximum consistency on noisy
/// samples, where no partition is consistent. `None` when the table is too large to
/// search or `control` stops it before a first step.
pub fn fewest_conflicts(
    prep: &Prepared,
    work: u64,
    seed: u64,
    control: &Control,
) -> Option<Partition> {
    let mut best = None;
    tabu(prep, work, seed, None, control, &mut |class, _| {
        best = Some(to_partition(class));
    });
    best
}

/// A random class for every token of `prep`'s groups, drawn from `rng`.
fn random_classes(prep: &Prepared, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    prep.groups()
        .iter()
        .map(|g| {
            (0..g.tokens)
                .map(|_| rng.random_range(0..g.classes as usize))
                .collect()
        })
        .collect()
}

/// The tabu search behind [`search`] and [`fewest_conflicts`], from `start` (random
/// classes without it): calls `improved` with
/// the assignment and its cost at the start and whenever the cost falls below every
/// cost seen before; stops at cost 0, after `work`, or when `control` says stop
/// (then `None`).
// Its step loop stays in one piece: the hot path, every candidate move evaluated in place.
fn tabu(
    prep: &Prepared,
    work: u64,
    seed: u64,
    start: Option<Vec<Vec<usize>>>,
    control: &Control,
    improved: &mut dyn FnMut(&[Vec<usize>], i64),
) -> Option<()> {
    let groups = prep.groups();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let start = start.unwrap_or_else(|| random_classes(prep, &mut rng));
    let mut st = State::new(prep, start)?;
    let tokens: Vec<(usize, usize)> = prep
        .order
        .iter()
        .enumerate()
        .flat_map(|(g, o)| o.iter().map(move |&t| (g, t as usize)))
        .collect();
    let mut tabu: Vec<Vec<Vec<u64>>> = groups
        .iter()
        .map(|g| vec![vec![0; g.classes as usize]; g.tokens as usize])
        .collect();
    let (mut spent, mut step) = (0u64, 0u64);
    let (mut best, mut since_best) = (st.cost, 0u64);
    let mut lowest = st.cost;
    improved(&st.class, lowest);
    let stagnation = 20 * tokens.len() as u64 + 100;
    let mut ticker = Ticker::new(control);
    while st.cost > 0 && spent < work {
        if ticker.tick(1) {
            return None;
        }
        step += 1;
        let mut choice: Option<(i64, usize, usize, usize)> = None;
        let mut ties = 0u32;
        for &(g, t) in &tokens {
            for (to, &until) in tabu[g][t].iter().enumerate() {
                if to == st.class[g][t] {
                    continue;
                }
                let (d, cost) = st.delta(g, t, to);
                spent += cost as u64;
                if ticker.tick(cost as u64) {
                    return None;
                }
                let allowed = until <= step || st.cost + d < best;
                if !allowed {
                    continue;
                }
                match choice {
                    Some((bd, ..)) if d > bd => {}
                    Some((bd, ..)) if d == bd => {
                        ties += 1;
                        if rng.random_range(0..=ties) == 0 {
                            choice = Some((d, g, t, to));
                        }
                    }
                    _ => {
                        ties = 0;
                        choice = Some((d, g, t, to));
                    }
                }
            }
        }
        let Some((_, g, t, to)) = choice else { break };
        let from = st.class[g][t];
        st.shift(g, t, to);
        tabu[g][t][from] = step + 5 + rng.random_range(0..10) + tokens.len() as u64 / 10;
        if st.cost < lowest {
            lowest = st.cost;
            improved(&st.class, lowest);
        }
        if st.cost < best {
            best = st.cost;
            since_best = 0;
        } else {
            since_best += 1;
            if since_best > stagnation {
                st.perturb(&tokens, &mut rng);
                spent += prep.len() as u64;
                best = st.cost;
                since_best = 0;
            }
        }
    }
    Some(())
}

/// A consistent partition that differs from the consistent `partition` (of the
/// observed tokens, compact ids) in the class of one token, if there is one: a proof
/// that `partition` is not unique.
pub fn single_move_witness(prep: &Prepared, partition: &[Vec<u32>]) -> Option<Partition> {
    let class: Vec<Vec<usize>> = partition
        .iter()
        .map(|r| r.iter().map(|&c| c as usize).collect())
        .collect();
    let mut st = State::new(prep, class)?;
    if st.cost != 0 {
        return None;
    }
    for (g, order) in prep.order.iter().enumerate() {
        for &t in order {
            let t = t as usize;
            for to in 0..st.classes[g] {
                if to == st.class[g][t] || st.delta(g, t, to).0 != 0 {
                    continue;
                }
                let mut moved = partition.to_vec();
                moved[g][t] = to as u32;
                if !partrec_core::model::partition::same_partition(&moved, partition) {
                    return Some(moved);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_core::check::check;
    use partrec_core::generate::{generate, GenerateParams};

    fn planted(n: u32, samples: usize, seed: u64) -> partrec_core::model::instance::Instance {
        let p = GenerateParams {
            tokens: vec![n; 3],
            classes: vec![3; 3],
            values: 2,
            samples,
            seed,
            zipf: None,
        };
        generate(&p, None).unwrap()
    }

    #[test]
    fn finds_consistent_partitions_of_planted_instances() {
        let mut found = 0;
        for seed in 0..5 {
            let inst = planted(20, 300, seed);
            let prep = Prepared::new(&inst);
            if let Some(p) = search(&prep, 50_000_000, seed, None, &Control::new()) {
                let full = prep.tokens().expand(&p, inst.groups());
                assert!(check(&inst, &full).unwrap().consistent);
                found += 1;
            }
        }
        assert!(found >= 4, "found {found} of 5");
    }

    #[test]
    fn incremental_cost_matches_a_rebuild() {
        let p = GenerateParams {
            tokens: vec![30, 20],
            classes: vec![3, 3],
            values: 2,
            samples: 400,
            seed: 4,
            zipf: None,
        };
        let inst = generate(&p, None).unwrap();
        let prep = Prepared::new(&inst);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let class = prep
            .groups()
            .iter()
            .map(|g| (0..g.tokens).map(|_| rng.random_range(0..3)).collect())
            .collect();
        let mut st = State::new(&prep, class).unwrap();
        for _ in 0..200 {
            let g = rng.random_range(0..2);
            let t = prep.order[g][rng.random_range(0..prep.order[g].len())] as usize;
            let to = rng.random_range(0..3);
            let (d, _) = st.delta(g, t, to);
            let before = st.cost;
            st.shift(g, t, to);
            assert_eq!(st.cost, before + d);
            let incremental = st.cost;
            st.rebuild();
            assert_eq!(st.cost, incremental);
        }
    }

    #[test]
    fn single_moves_witness_non_uniqueness() {
        // Few samples: some token can change class without breaking anything.
        let inst = planted(20, 30, 1);
        let prep = Prepared::new(&inst);
        let p = prep
            .tokens()
            .restrict(&inst.planted.clone().unwrap().partition);
        let w = single_move_witness(&prep, &p).expect("a free move exists");
        let full = |q: &Partition| prep.tokens().expand(q, inst.groups());
        assert!(check(&inst, &full(&w)).unwrap().consistent);
        assert!(!partrec_core::model::partition::same_partition(&w, &p));
        // An inconsistent start gives nothing.
        let mut bad = p.clone();
        bad[0].iter_mut().for_each(|c| *c = 0);
        assert!(
            single_move_witness(&prep, &bad).is_none()
                || !check(&inst, &full(&bad)).unwrap().consistent
        );
    }
}
