//! Table-first search: enumerate the value table up to renaming classes, and for each
//! table find the tokens' classes by constraint propagation and backtracking.
//!
//! Near the counting threshold with three groups (the hard band), CDCL on the CNF
//! stalls: a sample's value depends on all three classes at once, so clauses learnt
//! under one guess of the table rarely help under another. With the table fixed,
//! though, every sample is a tight constraint on its tokens' classes. This search
//! makes the table the outer loop:
//!
//! * **Tables up to symmetry.** Renaming the classes of each group maps solutions to
//!   solutions, so only one table per orbit of the group of class renamings is
//!   visited: the lexicographically least, generated cell by cell and pruned as soon
//!   as a prefix shows that some renaming yields a smaller table (orderly generation,
//!   [`Symmetries`]).
//! * **Propagation at every node.** Token domains are bit sets of classes; a sample is
//!   revised to generalised arc consistency with cell masks: the cells its tokens'
//!   domains allow, intersected with the cells whose value is the sample's (or not yet
//!   fixed), must be non-empty, and each class survives only if some such cell uses it.
//!   A partial table whose propagation wipes out a domain is cut with its whole subtree.
//! * **Tokens under a full table**: depth first, smallest domain first (ties: most
//!   samples), with the same propagation; every leaf is a consistent partition.
//! * **Counting in the same search**: leaves are deduplicated by their canonical form
//!   (one partition fits several tables when cells are unobserved), and the search
//!   stops once `limit` distinct partitions are known; if it ends earlier, the list is
//!   complete, which proves uniqueness or inconsistency.
//! * **Both cores**: subtrees below a fixed depth are handed to worker threads.
//!
//! The search is exact and complete over the prepared instance's observed tokens; the
//! driver checks every partition it reports.

use crate::model::cells;
use crate::model::partition::{canonical_row, Partition};
use crate::sat::Control;
use crate::solve::preprocess::Prepared;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// At most this many cells (one bit each in a cell mask).
pub const MAX_CELLS: usize = 64;

/// At most this many classes over all groups (a sample's domains index a table of
/// `values * 2^classes` revisions, rebuilt for every table).
pub const MAX_CLASSES: usize = 12;

/// At most this many class renamings (the orderly generation compares each one).
pub const MAX_SYMMETRIES: usize = 5_040;

/// At most this many units of parallel work (table prefixes).
const MAX_PREFIXES: usize = 1 << 10;

/// At most this many entries in a revision table (`values * 2^classes`), rebuilt for
/// every table: many distinct values make the search useless long before this.
pub const MAX_REVISIONS: usize = 1 << 20;

/// Token-search nodes between two looks at the stop flag.
const POLL_NODES: u64 = 1 << 12;

/// What the search found.
#[derive(Clone, Debug, Default)]
pub struct Found {
    /// Distinct consistent partitions of the observed tokens (canonical, compact ids),
    /// at most `limit`, in the order found.
    pub partitions: Vec<Partition>,
    /// Whether the search ended by itself: then `partitions` lists every consistent
    /// partition (if fewer than `limit`).
    pub complete: bool,
    /// Full tables visited.
    pub tables: u64,
}

/// The size of the table space of `prep`: `(values^cells, renamings)`, or `None` when
/// the table search does not apply (more than [`MAX_CELLS`] cells, [`MAX_CLASSES`]
/// classes, [`MAX_SYMMETRIES`] renamings or [`MAX_REVISIONS`] revision entries). `values^cells / renamings` estimates the number of
/// tables visited.
pub fn table_space(prep: &Prepared) -> Option<(f64, usize)> {
    let sizes = class_sizes(prep);
    let classes: usize = sizes.iter().sum();
    if classes > MAX_CLASSES || prep.values.max(1) > MAX_REVISIONS >> classes {
        return None;
    }
    let cells = sizes.iter().try_fold(1usize, |acc, &k| {
        acc.checked_mul(k).filter(|&c| c <= MAX_CELLS)
    })?;
    let renamings = sizes.iter().try_fold(1usize, |acc, &k| {
        (1..=k).try_fold(acc, |a, f| {
            a.checked_mul(f).filter(|&r| r <= MAX_SYMMETRIES)
        })
    })?;
    let values = prep.values.max(1) as f64;
    Some((values.powi(cells as i32), renamings))
}

/// Per group, the number of classes the search uses (at least 1).
fn class_sizes(prep: &Prepared) -> Vec<usize> {
    prep.groups()
        .iter()
        .map(|g| (g.classes as usize).max(1))
        .collect()
}

/// Searches `prep` for up to `limit` distinct consistent partitions with `threads`
/// workers, or returns `None` if the search does not apply ([`table_space`]).
/// A stop from `control` returns what was found, not complete.
pub fn search(prep: &Prepared, limit: u64, threads: usize, control: &Control) -> Option<Found> {
    table_space(prep)?;
    let space = Space::new(prep);
    let symmetries = Symmetries::new(&space.sizes);
    let shared = Shared {
        limit: limit.max(1),
        seen: Mutex::new((HashSet::new(), Vec::new())),
        enough: AtomicBool::new(false),
        tables: AtomicU64::new(0),
        control,
    };
    // Units of work: the canonical prefixes of the first cells, at most MAX_PREFIXES.
    let split = (0..space.cells)
        .take_while(|&d| {
            space
                .values
                .checked_pow(d as u32 + 1)
                .is_some_and(|n| n <= MAX_PREFIXES)
        })
        .count();
    let mut prefixes = Vec::new();
    let mut root = Worker::new(&space, &symmetries, &shared);
    let mut stopped = root.walk(split, &mut |w| {
        prefixes.push(w.table.clone());
        true
    });
    let next = AtomicUsize::new(0);
    if !stopped {
        let run = || {
            let mut worker = Worker::new(&space, &symmetries, &shared);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(prefix) = prefixes.get(i) else {
                    return false;
                };
                if worker.resume(prefix) {
                    return true;
                }
            }
        };
        stopped = std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads.max(1)).map(|_| scope.spawn(run)).collect();
            let mine = run();
            helpers
                .into_iter()
                .fold(mine, |acc, h| h.join().unwrap_or(true) || acc)
        });
    }
    let (_, partitions) = shared.seen.into_inner().unwrap_or_else(|e| e.into_inner());
    let enough = shared.enough.load(Ordering::Relaxed);
    Some(Found {
        complete: !stopped && !enough,
        partitions,
        tables: shared.tables.load(Ordering::Relaxed),
    })
}

/// What the workers share: the partitions found so far and the counters.
struct Shared<'c> {
    limit: u64,
    seen: Mutex<(HashSet<Partition>, Vec<Partition>)>,
    enough: AtomicBool,
    tables: AtomicU64,
    control: &'c Control,
}

impl Shared<'_> {
    fn should_stop(&self) -> bool {
        self.enough.load(Ordering::Relaxed) || self.control.should_stop()
    }

    /// Records a partition; false once `limit` distinct ones are known.
    fn record(&self, partition: Partition) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let (set, list) = &mut *seen;
        if set.insert(partition.clone()) {
            list.push(partition);
        }
        if list.len() as u64 >= self.limit {
            self.enough.store(true, Ordering::Relaxed);
        }
        !self.enough.load(Ordering::Relaxed)
    }
}

/// The instance as the search sees it: tokens numbered across groups, samples, cell masks.
struct Space {
    sizes: Vec<usize>,
    cells: usize,
    values: usize,
    /// First global token id of each group (and the total at the end).
    offsets: Vec<usize>,
    /// `coord[g][c]`: the cells whose class in group g is c.
    coord: Vec<Vec<u64>>,
    /// Global token ids, `arity` per sample.
    tokens: Vec<u32>,
    labels: Vec<u32>,
    /// The samples of token t: `occurrences[starts[t]..starts[t + 1]]`.
    starts: Vec<usize>,
    occurrences: Vec<u32>,
    /// Tokens by decreasing number of samples: the tie-break of the branching rule.
    order: Vec<u32>,
    /// A sample's token domains packed side by side: group g's at bit `shifts[g]`,
    /// `bits` in all; `full[g]` is group g's full domain.
    shifts: Vec<usize>,
    bits: usize,
    full: Vec<u16>,
}

impl Space {
    fn new(prep: &Prepared) -> Space {
        let sizes = class_sizes(prep);
        let arity = sizes.len();
        let cells: usize = sizes.iter().product();
        let mut coord = sizes.iter().map(|&k| vec![0u64; k]).collect::<Vec<_>>();
        let mut cell = 0;
        cells::for_each(&sizes, |c| {
            for (g, &class) in c.iter().enumerate() {
                coord[g][class] |= 1 << cell;
            }
            cell += 1;
        });
        let mut offsets = vec![0usize];
        for g in prep.groups() {
            offsets.push(offsets[offsets.len() - 1] + g.tokens as usize);
        }
        let total = offsets[arity];
        let mut tokens = Vec::with_capacity(prep.len() * arity);
        let mut labels = Vec::with_capacity(prep.len());
        let mut degree = vec![0usize; total];
        for (x, y) in prep.samples() {
            for (g, &t) in x.iter().enumerate() {
                let global = offsets[g] + t as usize;
                tokens.push(global as u32);
                degree[global] += 1;
            }
            labels.push(y);
        }
        let mut starts = vec![0usize; total + 1];
        for t in 0..total {
            starts[t + 1] = starts[t] + degree[t];
        }
        let mut fill = starts.clone();
        let mut occurrences = vec![0u32; starts[total]];
        for (s, x) in tokens.chunks_exact(arity.max(1)).enumerate() {
            for &t in x {
                occurrences[fill[t as usize]] = s as u32;
                fill[t as usize] += 1;
            }
        }
        let mut order: Vec<u32> = (0..total as u32).collect();
        order.sort_by_key(|&t| std::cmp::Reverse(degree[t as usize]));
        let mut shifts = Vec::with_capacity(arity);
        let mut bits = 0;
        for &k in &sizes {
            shifts.push(bits);
            bits += k;
        }
        let full = sizes.iter().map(|&k| ((1u32 << k) - 1) as u16).collect();
        Space {
            sizes,
            cells,
            values: prep.values.max(1),
            offsets,
            coord,
            tokens,
            labels,
            starts,
            occurrences,
            order,
            shifts,
            bits,
            full,
        }
    }

    fn arity(&self) -> usize {
        self.sizes.len()
    }

    fn group_of(&self, t: usize) -> usize {
        self.offsets.partition_point(|&o| o <= t) - 1
    }

    fn samples_of(&self, t: usize) -> &[u32] {
        &self.occurrences[self.starts[t]..self.starts[t + 1]]
    }
}

/// The class renamings as permutations of cells, and the test that a table prefix can
/// still be the least of its orbit.
struct Symmetries {
    /// For each renaming but the identity, the cell each cell is compared with.
    maps: Vec<Vec<u8>>,
}

impl Symmetries {
    fn new(sizes: &[usize]) -> Symmetries {
        let per_group: Vec<Vec<Vec<usize>>> = sizes.iter().map(|&k| permutations(k)).collect();
        let mut maps = Vec::new();
        let counts: Vec<usize> = per_group.iter().map(Vec::len).collect();
        // Every tuple of per-group permutations, as a cell permutation.
        cells::for_each(&counts, |pick| {
            if pick.iter().all(|&p| p == 0) {
                return; // the identity (each group's first permutation is the identity)
            }
            let mut map = Vec::new();
            cells::for_each(sizes, |c| {
                let image = c.iter().enumerate().map(|(g, &x)| per_group[g][pick[g]][x]);
                map.push(cells::index(image, sizes) as u8);
            });
            maps.push(map);
        });
        Symmetries { maps }
    }

    /// The state before any cell is fixed: every renaming still compares equal from cell 0.
    fn start(&self) -> Vec<u8> {
        vec![0; self.maps.len()]
    }

    /// Advances each renaming's comparison after cells `0..fixed` of `table` are set;
    /// false if some renaming maps the table to a smaller one. `state[r]` is the first
    /// cell not yet known equal under renaming r, or `u8::MAX` once r maps to a larger
    /// table.
    fn advance(&self, table: &[u32], fixed: usize, state: &mut [u8]) -> bool {
        for (map, at) in self.maps.iter().zip(state.iter_mut()) {
            while (*at as usize) < fixed {
                let d = *at as usize;
                let other = map[d] as usize;
                if other >= fixed {
                    break;
                }
                match table[d].cmp(&table[other]) {
                    std::cmp::Ordering::Equal => *at += 1,
                    std::cmp::Ordering::Less => {
                        *at = u8::MAX;
                    }
                    std::cmp::Ordering::Greater => return false,
                }
            }
        }
        true
    }
}

/// All permutations of `0..k` in lexicographic order (the identity first).
fn permutations(k: usize) -> Vec<Vec<usize>> {
    let mut all: Vec<Vec<usize>> = vec![Vec::new()];
    for j in 0..k {
        all = all
            .into_iter()
            .flat_map(|p| {
                (0..=p.len()).map(move |pos| {
                    let mut q = p.clone();
                    q.insert(pos, j);
                    q
                })
            })
            .collect();
    }
    all.sort_unstable();
    all
}

/// One thread's search state: the table, its revision table, token domains and their
/// trail, and the branching weights.
struct Worker<'a> {
    space: &'a Space,
    symmetries: &'a Symmetries,
    shared: &'a Shared<'a>,
    table: Vec<u32>,
    /// `revised[y * tuples + packed domains]`: the packed domains that generalised arc
    /// consistency keeps for a sample of value y under the current table (0: none).
    revised: Vec<u16>,
    domains: Vec<u16>,
    trail: Vec<(u32, u16)>,
    queue: Vec<u32>,
    queued: Vec<bool>,
    /// Per sample, 1 + the wipe-outs it caused: the dom/wdeg branching weights,
    /// kept from table to table.
    weights: Vec<u32>,
    nodes: u64,
}

impl<'a> Worker<'a> {
    fn new(space: &'a Space, symmetries: &'a Symmetries, shared: &'a Shared<'a>) -> Self {
        let domains = (0..space.offsets[space.arity()])
            .map(|t| space.full[space.group_of(t)])
            .collect();
        Worker {
            space,
            symmetries,
            shared,
            table: Vec::with_capacity(space.cells),
            revised: vec![0; space.values << space.bits],
            domains,
            trail: Vec::new(),
            queue: Vec::new(),
            queued: vec![false; space.labels.len()],
            weights: vec![1; space.labels.len()],
            nodes: 0,
        }
    }

    /// Enumerates the canonical table prefixes of length `depth`, calling `visit` at
    /// each (which returns false to stop). Returns true if stopped.
    fn walk(&mut self, depth: usize, visit: &mut dyn FnMut(&mut Self) -> bool) -> bool {
        let state = self.symmetries.start();
        self.extend(depth, &state, visit)
    }

    fn extend(
        &mut self,
        depth: usize,
        state: &[u8],
        visit: &mut dyn FnMut(&mut Self) -> bool,
    ) -> bool {
        let fixed = self.table.len();
        if fixed == depth {
            return !visit(self);
        }

        let mut next = state.to_vec();
        for v in 0..self.space.values as u32 {
            if self.shared.should_stop() {
                return true;
            }
            self.table.push(v);
            next.copy_from_slice(state);
            let stopped = self.symmetries.advance(&self.table, fixed + 1, &mut next)
                && self.extend(depth, &next, visit);
            self.table.pop();
            if stopped {
                return true;
            }
        }
        false
    }

    /// Searches every canonical table that starts with `prefix`. Returns true if stopped.
    fn resume(&mut self, prefix: &[u32]) -> bool {
        let mut state = self.symmetries.start();
        self.table.clear();
        let mut canonical = true;
        for (cell, &v) in prefix.iter().enumerate() {
            self.table.push(v);
            canonical = canonical && self.symmetries.advance(&self.table, cell + 1, &mut state);
        }
        let cells = self.space.cells;
        let stopped = canonical
            && self.extend(cells, &state, &mut |w: &mut Self| {
                w.shared.tables.fetch_add(1, Ordering::Relaxed);
                w.tokens()
            });
        self.table.clear();
        stopped || self.shared.should_stop()
    }

    /// Fills the revision table for the current full table.
    fn revise_table(&mut self) {
        let space = self.space;
        let tuples = 1usize << space.bits;
        for y in 0..space.values {
            let cells = self
                .table
                .iter()
                .enumerate()
                .filter(|&(_, &v)| v as usize == y)
                .fold(0u64, |m, (c, _)| m | 1 << c);
            for packed in 0..tuples {
                let domain = |g: usize| (packed >> space.shifts[g]) as u16 & space.full[g];
                let mut allowed = cells;
                for g in 0..space.arity() {
                    allowed &= union(&space.coord[g], domain(g));
                }
                let mut kept = 0usize;
                if allowed != 0 {
                    for g in 0..space.arity() {
                        let mut rest = domain(g);
                        while rest != 0 {
                            let c = rest.trailing_zeros() as usize;
                            rest &= rest - 1;
                            if allowed & space.coord[g][c] != 0 {
                                kept |= 1 << (space.shifts[g] + c);
                            }
                        }
                    }
                }
                self.revised[y * tuples + packed] = kept as u16;
            }
        }
    }

    /// Searches the tokens under the current full table, recording each consistent
    /// partition; false to stop everything.
    fn tokens(&mut self) -> bool {
        struct Frame {
            token: u32,
            rest: u16,
            mark: usize,
        }
        self.revise_table();
        for s in 0..self.space.labels.len() as u32 {
            self.enqueue(s);
        }
        let mut stack: Vec<Frame> = Vec::new();
        let mut descend = self.propagate();
        let go_on = loop {
            if descend {
                self.nodes += 1;
                if self.nodes.is_multiple_of(POLL_NODES) && self.shared.should_stop() {
                    break false;
                }
                match self.branch_token() {
                    Some(t) => stack.push(Frame {
                        token: t,
                        rest: self.domains[t as usize],
                        mark: self.trail.len(),
                    }),
                    None => {
                        if !self.shared.record(self.partition()) {
                            break false;
                        }
                    }
                }
            }
            let Some(top) = stack.last_mut() else {
                break true;
            };
            let (t, mark) = (top.token, top.mark);
            if top.rest == 0 {
                stack.pop();
                descend = false;
                continue;
            }
            let class = top.rest & top.rest.wrapping_neg();
            top.rest &= !class;
            self.undo(mark);
            self.set_domain(t as usize, class);
            descend = self.propagate();
        };
        self.undo(0);
        go_on
    }

    /// The unfixed token with the least classes left per weight of its samples that
    /// have another unfixed token (dom/wdeg; ties: most samples), if any.
    fn branch_token(&self) -> Option<u32> {
        let space = self.space;
        let arity = space.arity();
        let mut best: Option<(u32, u64, u64)> = None;
        for &t in &space.order {
            let size = u64::from(self.domains[t as usize].count_ones());
            if size <= 1 {
                continue;
            }
            let mut weight = 0u64;
            for &s in space.samples_of(t as usize) {
                let x = &space.tokens[s as usize * arity..(s as usize + 1) * arity];
                if x.iter()
                    .any(|&o| o != t && self.domains[o as usize].count_ones() > 1)
                {
                    weight += u64::from(self.weights[s as usize]);
                }
            }
            let weight = weight.max(1);
            if best.is_none_or(|(_, bs, bw)| size * bw < bs * weight) {
                best = Some((t, size, weight));
            }
        }
        best.map(|(t, ..)| t)
    }

    /// The partition the fixed domains spell, canonical per group.
    fn partition(&self) -> Partition {
        let space = self.space;
        (0..space.arity())
            .map(|g| {
                let row: Vec<u32> = self.domains[space.offsets[g]..space.offsets[g + 1]]
                    .iter()
                    .map(|d| d.trailing_zeros())
                    .collect();
                canonical_row(&row)
            })
            .collect()
    }

    fn set_domain(&mut self, t: usize, domain: u16) {
        self.trail.push((t as u32, self.domains[t]));
        self.domains[t] = domain;
        for i in self.space.starts[t]..self.space.starts[t + 1] {
            self.enqueue(self.space.occurrences[i]);
        }
    }

    fn enqueue(&mut self, s: u32) {
        if !self.queued[s as usize] {
            self.queued[s as usize] = true;
            self.queue.push(s);
        }
    }

    fn undo(&mut self, mark: usize) {
        while self.trail.len() > mark {
            let (t, d) = self.trail.pop().unwrap_or_default();
            self.domains[t as usize] = d;
        }
    }

    /// Revises queued samples to a fixpoint; false on a wipe-out (the queue is emptied).
    fn propagate(&mut self) -> bool {
        while let Some(s) = self.queue.pop() {
            self.queued[s as usize] = false;
            if !self.revise(s as usize) {
                self.weights[s as usize] = self.weights[s as usize].saturating_add(1);
                for q in self.queue.drain(..) {
                    self.queued[q as usize] = false;
                }
                return false;
            }
        }
        true
    }

    /// Generalised arc consistency for sample `s`; false if no cell fits it.
    fn revise(&mut self, s: usize) -> bool {
        let space = self.space;
        let arity = space.arity();
        let x = &space.tokens[s * arity..(s + 1) * arity];
        let mut packed = 0usize;
        for (g, &t) in x.iter().enumerate() {
            packed |= usize::from(self.domains[t as usize]) << space.shifts[g];
        }
        let kept = usize::from(self.revised[(space.labels[s] as usize) << space.bits | packed]);
        if kept == packed {
            return true;
        }
        if kept == 0 {
            return false;
        }
        for (g, &t) in x.iter().enumerate() {
            let domain = (kept >> space.shifts[g]) as u16 & space.full[g];
            if domain != self.domains[t as usize] {
                self.trail.push((t, self.domains[t as usize]));
                self.domains[t as usize] = domain;
                for &o in space.samples_of(t as usize) {
                    if o as usize != s {
                        self.enqueue(o);
                    }
                }
            }
        }
        true
    }
}

/// The cells whose class (in one group) is in `domain`.
fn union(coord: &[u64], domain: u16) -> u64 {
    let mut mask = 0;
    let mut rest = domain;
    while rest != 0 {
        mask |= coord[rest.trailing_zeros() as usize];
        rest &= rest - 1;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_values_are_refused_before_anything_is_allocated() {
        use crate::model::instance::{Group, Instance};
        use crate::model::label::Label;
        // One group, one class: 2^19 values fit the revision table (2^19 * 2^1), one more not.
        let with_values = |n: u64| {
            let samples: Vec<(Vec<u32>, Label)> =
                (0..n).map(|y| (vec![0], Label::from(y))).collect();
            Prepared::new(&Instance::new(vec![Group::new(1, 1)], samples).unwrap())
        };
        assert!(table_space(&with_values(1 << 19)).is_some());
        assert!(table_space(&with_values((1 << 19) + 1)).is_none());
    }

    #[test]
    fn permutations_are_all_distinct_and_start_with_the_identity() {
        for k in 1..=4 {
            let all = permutations(k);
            let distinct: HashSet<_> = all.iter().cloned().collect();
            assert_eq!(all.len(), (1..=k).product::<usize>());
            assert_eq!(distinct.len(), all.len());
            assert_eq!(all[0], (0..k).collect::<Vec<_>>());
        }
    }

    /// Every table over `sizes` with `values` values, as value lists in cell order.
    fn all_tables(cells: usize, values: u32) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new()];
        for _ in 0..cells {
            out = out
                .into_iter()
                .flat_map(|t| {
                    (0..values).map(move |v| {
                        let mut t = t.clone();
                        t.push(v);
                        t
                    })
                })
                .collect();
        }
        out
    }

    #[test]
    fn the_orderly_check_keeps_exactly_the_least_table_of_each_orbit() {
        for (sizes, values) in [
            (vec![2, 2], 2),
            (vec![2, 3], 2),
            (vec![3, 3], 2),
            (vec![2, 2], 3),
            (vec![2, 2, 2], 2),
            (vec![3, 2, 2], 2),
        ] {
            let cells: usize = sizes.iter().product();
            let symmetries = Symmetries::new(&sizes);
            let renamings: usize = sizes.iter().map(|&k| (1..=k).product::<usize>()).product();
            assert_eq!(symmetries.maps.len(), renamings - 1);
            let mut orbits = HashSet::new();
            let mut kept = 0;
            for table in all_tables(cells, values) {
                // The orbit's least member, by applying every renaming.
                let least = symmetries
                    .maps
                    .iter()
                    .map(|m| (0..cells).map(|c| table[m[c] as usize]).collect::<Vec<_>>())
                    .fold(table.clone(), |a, b| a.min(b));
                orbits.insert(least.clone());
                // The check, prefix by prefix as the search applies it.
                let mut state = symmetries.start();
                let survives =
                    (1..=cells).all(|fixed| symmetries.advance(&table, fixed, &mut state));
                assert_eq!(survives, table == least, "{sizes:?} {table:?}");
                kept += usize::from(survives);
            }
            assert_eq!(kept, orbits.len(), "{sizes:?} values {values}");
        }
    }
}
