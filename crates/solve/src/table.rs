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
//!   `Symmetries`).
//! * **One table per partition.** A cell that no sample lands in could hold any value,
//!   so a partition fits every table that agrees on its observed cells. It is accepted
//!   under one only: its *completion*, its observed cells with their values and every
//!   other cell the most frequent value (the default). So a table needs, for each
//!   other value, at least as many samples of that value as cells holding it: a prefix
//!   with more is cut with its subtree. Under a full table, every non-default cell
//!   must keep a sample of its value that can still land in it; when one is left, it
//!   is placed there.
//! * **Propagation.** Token domains are bit sets of classes; a sample is revised to
//!   generalised arc consistency with cell masks: the cells its tokens' domains allow,
//!   intersected with the cells of the sample's value, must be non-empty, and each
//!   class survives only if some such cell uses it.
//! * **Tokens under a full table**: depth first, fewest classes per weight of samples
//!   first (dom/wdeg), with the same propagation; every leaf is a consistent partition
//!   whose completion is the table.
//! * **Tokens first when the samples cannot fill the table.** With fewer distinct
//!   samples than cells, no partition observes every cell, and the tables to try
//!   outnumber the partitions by far (they differ in cells that no sample reaches).
//!   Then the same token search runs under a table whose cells are all open: a cell
//!   takes its value when a sample is left only it, and samples of other values lose
//!   it. Renamings are broken on the tokens instead: a token tries the classes
//!   already told apart (used by a fixed token or cell) and one of the others, which
//!   are interchangeable. Every leaf is then a distinct partition, found once.
//! * **Counting in the same search**: under a full table, leaves are deduplicated by
//!   their canonical form (a renaming that maps the table to itself maps one leaf to
//!   another; no other table has them). Each distinct partition counts with the
//!   placements of the free tokens the caller gives, and the search stops once these
//!   add up to `limit`; if it ends earlier, it found every partition, which proves
//!   uniqueness or inconsistency. Only the first two partitions are kept (the answer
//!   and a witness); the others are counted.
//! * **Both cores** when tables come first: subtrees below a fixed depth of the table
//!   are handed to worker threads. Tokens first runs on one.
//!
//! The search is exact and complete over the prepared instance's observed tokens; the
//! driver checks every partition it reports.

use crate::preprocess::Prepared;
use partrec_core::model::cells;
use partrec_core::model::partition::{canonical_row, Partition};
use partrec_sat::Control;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// At most this many cells (one bit each in a cell mask).
pub const MAX_CELLS: usize = 64;

/// At most this many class renamings (the orderly generation compares each one; it
/// also keeps every group within 7 classes, one bit each in a token's domain).
pub const MAX_SYMMETRIES: usize = 5_040;

/// At most this many units of parallel work (table prefixes).
const MAX_PREFIXES: usize = 1 << 10;

/// Units of work (a sample revised, a token weighed, a sample tried for a cell)
/// between two looks at the stop control: well under a millisecond.
const POLL_WORK: u64 = 1 << 14;

/// No sample (an empty slot of a cell's supports).
const NONE: u32 = u32::MAX;

/// The code of a cell that holds no value yet (every cell, when the tokens come first).
const OPEN: u32 = u32::MAX;

/// Marks a trail entry that fixed a cell (the rest is the cell) rather than a domain.
const CELL: u32 = 1 << 31;

/// Partitions handed out in full: the answer and a witness; the others are counted.
const LISTED: usize = 2;

/// What the search found.
#[derive(Clone, Debug, Default)]
pub struct Found {
    /// The first distinct consistent partitions of the observed tokens found
    /// (canonical, compact ids; at most two: the answer and a witness).
    pub partitions: Vec<Partition>,
    /// What the other distinct partitions found count for together (the sum of their
    /// extensions, capped at `limit`).
    pub rest: u64,
    /// Whether the search ended by itself: then every consistent partition was found.
    pub complete: bool,
    /// Tables visited: full tables enumerated, or, when the tokens come first, the
    /// observed tables of the partitions found.
    pub tables: u64,
}

/// The size of the table space of `prep`: `(values^cells, renamings)`, or `None` when
/// the table search does not apply (more than [`MAX_CELLS`] cells or
/// [`MAX_SYMMETRIES`] renamings). `values^cells / renamings` (roughly: some orbits
/// are smaller) bounds the tables visited; the samples bound them more tightly.
pub fn table_space(prep: &Prepared) -> Option<(f64, usize)> {
    let sizes = class_sizes(prep);
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

/// Searches `prep` for distinct consistent partitions with `threads` workers until
/// their `extensions` (what each counts for, at least 1: the free tokens' placements)
/// add up to `limit`, or returns `None` if the search does not apply ([`table_space`]).
/// A stop from `control` returns what was found, not complete.
pub fn search(
    prep: &Prepared,
    limit: u64,
    extensions: &(dyn Fn(&[Vec<u32>]) -> u64 + Sync),
    threads: usize,
    control: &Control,
) -> Option<Found> {
    table_space(prep)?;
    let space = Space::new(prep);
    // No partition observes every cell: tokens first.
    let open = prep.len() < space.cells;
    Some(run(&space, open, limit, extensions, threads, control))
}

/// The search over `space`, tokens first under open cells if `open`, else tables
/// first; as [`search`].
fn run(
    space: &Space,
    open: bool,
    limit: u64,
    extensions: &(dyn Fn(&[Vec<u32>]) -> u64 + Sync),
    threads: usize,
    control: &Control,
) -> Found {
    let symmetries = Symmetries::new(&space.sizes);
    let shared = Shared {
        limit: limit.max(1),
        extensions,
        seen: Mutex::new(Seen::default()),
        enough: AtomicBool::new(false),
        tables: AtomicU64::new(0),
        control,
    };
    let stopped = if open {
        let mut worker = Worker::new(space, &symmetries, &shared);
        worker.table = vec![OPEN; space.cells];
        !worker.tokens()
    } else {
        tables_first(space, &symmetries, &shared, threads)
    };
    let seen = shared.seen.into_inner().unwrap_or_else(|e| e.into_inner());
    let enough = shared.enough.load(Ordering::Relaxed);
    let tables = if open {
        seen.distinct
    } else {
        shared.tables.load(Ordering::Relaxed)
    };
    Found {
        complete: !stopped && !enough,
        partitions: seen.listed,
        rest: seen.rest,
        tables,
    }
}

/// Visits the canonical tables with `threads` workers, each taking the canonical
/// prefixes of the first cells (at most [`MAX_PREFIXES`]) in turn. Returns true if
/// stopped.
fn tables_first(space: &Space, symmetries: &Symmetries, shared: &Shared, threads: usize) -> bool {
    let split = (0..space.cells)
        .take_while(|&d| {
            space
                .values
                .checked_pow(d as u32 + 1)
                .is_some_and(|n| n <= MAX_PREFIXES)
        })
        .count();
    let mut prefixes = Vec::new();
    let mut root = Worker::new(space, symmetries, shared);
    if root.walk(split, &mut |w| {
        prefixes.push(w.table.clone());
        true
    }) {
        return true;
    }
    let next = AtomicUsize::new(0);
    let run = || {
        let mut worker = Worker::new(space, symmetries, shared);
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
    std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads.max(1)).map(|_| scope.spawn(run)).collect();
        let mine = run();
        helpers
            .into_iter()
            .fold(mine, |acc, h| h.join().unwrap_or(true) || acc)
    })
}

/// What the workers share: the partitions found so far and the counters.
struct Shared<'c> {
    limit: u64,
    extensions: &'c (dyn Fn(&[Vec<u32>]) -> u64 + Sync),
    seen: Mutex<Seen>,
    enough: AtomicBool,
    tables: AtomicU64,
    control: &'c Control,
}

/// The distinct partitions found: the first ones, what the others count for, and how
/// many there are.
#[derive(Default)]
struct Seen {
    listed: Vec<Partition>,
    rest: u64,
    count: u64,
    distinct: u64,
}

impl Shared<'_> {
    fn should_stop(&self) -> bool {
        self.enough.load(Ordering::Relaxed) || self.control.should_stop()
    }

    /// Records a partition not recorded before; false once the distinct ones count
    /// for `limit`.
    fn record(&self, partition: Partition) -> bool {
        let counts = (self.extensions)(&partition).max(1);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.count = seen.count.saturating_add(counts);
        seen.distinct += 1;
        if seen.listed.len() < LISTED {
            seen.listed.push(partition);
        } else {
            seen.rest = seen.rest.saturating_add(counts).min(self.limit);
        }
        if seen.count >= self.limit {
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
    /// `cell_classes[cell * arity + g]`: the class in group g of a cell.
    cell_classes: Vec<u8>,
    /// Global token ids, `arity` per sample.
    tokens: Vec<u32>,
    /// Each sample's value as a code: 0 for the most frequent value (the default of
    /// unobserved cells), the others in order from 1.
    labels: Vec<u32>,
    /// The samples of each code.
    by_code: Vec<Vec<u32>>,
    /// The samples of token t: `occurrences[starts[t]..starts[t + 1]]`.
    starts: Vec<usize>,
    occurrences: Vec<u32>,
    /// Tokens by decreasing number of samples: the tie-break of the branching rule.
    order: Vec<u32>,
    /// `slabs[g][domain]`: the cells whose class in group g is in `domain`.
    slabs: Vec<Vec<u64>>,
    /// `full[g]`: group g's full domain.
    full: Vec<u16>,
}

impl Space {
    fn new(prep: &Prepared) -> Space {
        let sizes = class_sizes(prep);
        let arity = sizes.len();
        let cells: usize = sizes.iter().product();
        let mut coord = sizes.iter().map(|&k| vec![0u64; k]).collect::<Vec<_>>();
        let mut cell_classes = Vec::with_capacity(cells * arity);
        let mut cell = 0;
        cells::for_each(&sizes, |c| {
            for (g, &class) in c.iter().enumerate() {
                coord[g][class] |= 1 << cell;
                cell_classes.push(class as u8);
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
        let values = prep.values.max(1);
        let labels = default_first(&labels, values);
        let mut by_code = vec![Vec::new(); values];
        for (s, &code) in labels.iter().enumerate() {
            by_code[code as usize].push(s as u32);
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
        let slabs = coord
            .iter()
            .map(|c| (0..1u32 << c.len()).map(|d| union(c, d as u16)).collect())
            .collect();
        let full = sizes.iter().map(|&k| ((1u32 << k) - 1) as u16).collect();
        Space {
            sizes,
            cells,
            values,
            offsets,
            coord,
            cell_classes,
            tokens,
            labels,
            by_code,
            starts,
            occurrences,
            order,
            slabs,
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

    /// The tokens of sample `s`.
    fn sample(&self, s: usize) -> &[u32] {
        let arity = self.arity();
        &self.tokens[s * arity..(s + 1) * arity]
    }

    /// The classes of `cell`, one per group.
    fn classes(&self, cell: usize) -> &[u8] {
        let arity = self.arity();
        &self.cell_classes[cell * arity..(cell + 1) * arity]
    }
}

/// Renumbers `labels` (below `values`) so that the most frequent one (the smallest of
/// those tied) becomes 0 and the others keep their order from 1.
fn default_first(labels: &[u32], values: usize) -> Vec<u32> {
    let mut counts = vec![0usize; values];
    for &y in labels {
        counts[y as usize] += 1;
    }
    let default = (0..values as u32)
        .max_by_key(|&y| (counts[y as usize], std::cmp::Reverse(y)))
        .unwrap_or(0);
    labels
        .iter()
        .map(|&y| match y.cmp(&default) {
            std::cmp::Ordering::Less => y + 1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => y,
        })
        .collect()
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

/// One thread's search state: the table, its cells by code, token domains and their
/// trail, the branching weights, and the non-default cells with their supports.
struct Worker<'a> {
    space: &'a Space,
    symmetries: &'a Symmetries,
    shared: &'a Shared<'a>,
    /// The code of each cell (a prefix while tables are enumerated; [`OPEN`] where no
    /// value is fixed yet).
    table: Vec<u32>,
    /// Per code, how many cells of `table` hold it.
    held: Vec<u32>,
    /// Under the token search: per code, the cells that hold it (as a mask), and the
    /// open cells.
    fixed: Vec<u64>,
    open: u64,
    domains: Vec<u16>,
    /// Undo entries: a token and its previous domain, or [`CELL`] | a cell fixed.
    trail: Vec<(u32, u16)>,
    queue: Vec<u32>,
    queued: Vec<bool>,
    /// Per sample, 1 + the wipe-outs it caused: the dom/wdeg branching weights,
    /// kept from table to table.
    weights: Vec<u32>,
    /// The cells of the full table not holding the default, each to be landed in.
    marked: Vec<u32>,
    /// Per marked cell, up to two samples last seen able to land in it (residual
    /// supports: checked again before use, so never undone on backtracking).
    supports: Vec<[u32; 2]>,
    /// The partitions found under the current full table: a renaming that maps the
    /// table to itself maps one to another, and no other table has them.
    here: HashSet<Partition>,
    /// Work since the stop control was last looked at.
    work: u64,
}

/// What [`Worker::cover`] found.
enum Cover {
    /// Every marked cell has two samples that can land in it, or one that is there.
    Met,
    /// A marked cell had one sample left, now placed in it.
    Placed,
    /// A marked cell has no sample left.
    Failed,
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
            held: vec![0; space.values],
            fixed: vec![0; space.values],
            open: 0,
            domains,
            trail: Vec::new(),
            queue: Vec::new(),
            queued: vec![false; space.labels.len()],
            weights: vec![1; space.labels.len()],
            marked: Vec::new(),
            supports: Vec::new(),
            here: HashSet::new(),
            work: 0,
        }
    }

    /// Enumerates the canonical table prefixes of length `depth`, calling `visit` at
    /// each (which returns false to stop). Returns true if stopped.
    fn walk(&mut self, depth: usize, visit: &mut dyn FnMut(&mut Self) -> bool) -> bool {
        let state = self.symmetries.start();
        self.extend(depth, &state, visit)
    }

    /// Whether one more cell may hold `code`: the default always; another value only
    /// while fewer cells hold it than samples have it (each needs its own sample).
    fn affordable(&self, code: u32) -> bool {
        code == 0 || (self.held[code as usize] as usize) < self.space.by_code[code as usize].len()
    }

    fn push(&mut self, code: u32) {
        self.table.push(code);
        self.held[code as usize] += 1;
    }

    fn pop(&mut self) {
        if let Some(code) = self.table.pop() {
            self.held[code as usize] -= 1;
        }
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
            if !self.affordable(v) {
                continue;
            }
            self.push(v);
            next.copy_from_slice(state);
            let stopped = self.symmetries.advance(&self.table, fixed + 1, &mut next)
                && self.extend(depth, &next, visit);
            self.pop();
            if stopped {
                return true;
            }
        }
        false
    }

    /// Searches every canonical table that starts with `prefix`. Returns true if stopped.
    fn resume(&mut self, prefix: &[u32]) -> bool {
        let mut state = self.symmetries.start();
        let mut canonical = true;
        for (cell, &v) in prefix.iter().enumerate() {
            canonical = canonical && self.affordable(v);
            self.push(v);
            canonical = canonical && self.symmetries.advance(&self.table, cell + 1, &mut state);
        }
        let cells = self.space.cells;
        let stopped = canonical
            && self.extend(cells, &state, &mut |w: &mut Self| {
                w.shared.tables.fetch_add(1, Ordering::Relaxed);
                w.tokens()
            });
        while !self.table.is_empty() {
            self.pop();
        }
        stopped || self.shared.should_stop()
    }

    /// Whether it is time to stop: the stop control is looked at once every
    /// [`POLL_WORK`] units of work.
    fn poll(&mut self) -> bool {
        if self.work < POLL_WORK {
            return false;
        }
        self.work = 0;
        self.shared.should_stop()
    }

    /// Searches the tokens under the current table, recording each consistent
    /// partition whose completion it is (open cells take the value of the first sample
    /// that lands in them); false to stop everything.
    fn tokens(&mut self) -> bool {
        struct Frame {
            token: u32,
            rest: u16,
            mark: usize,
        }
        self.marked.clear();
        self.supports.clear();
        self.here.clear();
        for (cell, &code) in self.table.iter().enumerate() {
            if code == OPEN {
                self.open |= 1 << cell;
                continue;
            }
            self.fixed[code as usize] |= 1 << cell;
            if code != 0 {
                self.marked.push(cell as u32);
                self.supports.push([NONE; 2]);
            }
        }
        for s in 0..self.space.labels.len() as u32 {
            self.enqueue(s);
        }
        let full = self.open == 0;
        let mut stack: Vec<Frame> = Vec::new();
        let mut descend = self.settle();
        let go_on = loop {
            if descend {
                match self.branch_token() {
                    Some(t) => stack.push(Frame {
                        token: t,
                        rest: self.distinct_classes(t as usize),
                        mark: self.trail.len(),
                    }),
                    None => {
                        if !self.leaf(full) {
                            break false;
                        }
                    }
                }
            }
            if self.poll() {
                break false;
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
            descend = self.settle();
        };
        self.undo(0);
        self.open = 0;
        for &code in &self.table {
            if code != OPEN {
                self.fixed[code as usize] = 0;
            }
        }
        go_on
    }

    /// Records the partition at a leaf unless already found under this `full` table;
    /// false to stop everything. With open cells there is no table to repeat it under:
    /// the branching opens one new class at a time, so no two leaves are renamings.
    fn leaf(&mut self, full: bool) -> bool {
        let partition = self.partition();
        if full && !self.here.insert(partition.clone()) {
            return true;
        }
        self.shared.record(partition)
    }

    /// Propagates to a fixpoint of the samples and the marked cells (placing the last
    /// sample that can land in a cell there); false on a wipe-out.
    fn settle(&mut self) -> bool {
        loop {
            if !self.propagate() {
                return false;
            }
            match self.cover() {
                Cover::Met => return true,
                Cover::Placed => {}
                Cover::Failed => return false,
            }
        }
    }

    /// Checks that every marked cell can still be landed in by a sample of its value,
    /// placing the only one left where there is one.
    fn cover(&mut self) -> Cover {
        let space = self.space;
        let mut placed = false;
        for i in 0..self.marked.len() {
            let cell = self.marked[i] as usize;
            let mut found = [NONE; 2];
            let mut n = 0;
            for s in self.supports[i] {
                if s != NONE && self.lands(s as usize, cell) {
                    if self.fixed_in(s as usize, cell) {
                        n = 2;
                        found = [s, NONE];
                        break;
                    }
                    found[n] = s;
                    n += 1;
                }
            }
            if n < 2 {
                let candidates = &space.by_code[self.table[cell] as usize];
                let mut tried = 0;
                for &s in candidates {
                    if n == 2 {
                        break;
                    }
                    tried += 1;
                    if s != found[0] && self.lands(s as usize, cell) {
                        found[n] = s;
                        n += 1;
                    }
                }
                self.work += tried;
            }
            self.supports[i] = found;
            match n {
                0 => return Cover::Failed,
                1 => {
                    let s = found[0] as usize;
                    for (g, &t) in space.sample(s).iter().enumerate() {
                        let class = 1 << space.classes(cell)[g];
                        if self.domains[t as usize] != class {
                            self.set_domain(t as usize, class);
                            placed = true;
                        }
                    }
                }
                _ => {}
            }
        }
        if placed {
            Cover::Placed
        } else {
            Cover::Met
        }
    }

    /// Whether sample `s` can still land in `cell`.
    fn lands(&self, s: usize, cell: usize) -> bool {
        let classes = self.space.classes(cell);
        self.space
            .sample(s)
            .iter()
            .zip(classes)
            .all(|(&t, &c)| self.domains[t as usize] >> c & 1 != 0)
    }

    /// Whether sample `s` is in `cell` (every token fixed to its class there).
    fn fixed_in(&self, s: usize, cell: usize) -> bool {
        let classes = self.space.classes(cell);
        self.space
            .sample(s)
            .iter()
            .zip(classes)
            .all(|(&t, &c)| self.domains[t as usize] == 1 << c)
    }

    /// The unfixed token with the least classes left per weight of its samples that
    /// have another unfixed token (dom/wdeg; ties: most samples), if any.
    fn branch_token(&mut self) -> Option<u32> {
        let space = self.space;
        let mut best: Option<(u32, u64, u64)> = None;
        for &t in &space.order {
            let size = u64::from(self.domains[t as usize].count_ones());
            if size <= 1 {
                continue;
            }
            let mut weight = 0u64;
            for &s in space.samples_of(t as usize) {
                if space
                    .sample(s as usize)
                    .iter()
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
        self.work += space.order.len() as u64;
        best.map(|(t, ..)| t)
    }

    /// The classes of token `t` worth trying: those already told apart (some token is
    /// fixed to it, or a fixed cell uses it) and the first of the others. Classes told
    /// apart by nothing are interchangeable (no fixed cell uses them, and propagation
    /// treats them alike), so one of them stands for all.
    fn distinct_classes(&self, t: usize) -> u16 {
        let space = self.space;
        let g = space.group_of(t);
        let domain = self.domains[t];
        let mut apart = project(&space.coord[g], !self.open, space.full[g]);
        if apart == space.full[g] {
            return domain; // under a full table: every class is told apart
        }
        for &d in &self.domains[space.offsets[g]..space.offsets[g + 1]] {
            if d.is_power_of_two() {
                apart |= d;
            }
        }
        let others = domain & !apart;
        (domain & apart) | (others & others.wrapping_neg())
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
            if t & CELL == 0 {
                self.domains[t as usize] = d;
                continue;
            }
            let cell = (t & !CELL) as usize;
            self.fixed[self.table[cell] as usize] &= !(1 << cell);
            self.open |= 1 << cell;
            self.table[cell] = OPEN;
        }
    }

    /// Revises queued samples to a fixpoint; false on a wipe-out (the queue is emptied).
    fn propagate(&mut self) -> bool {
        while let Some(s) = self.queue.pop() {
            self.queued[s as usize] = false;
            self.work += 1;
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

    /// Generalised arc consistency for sample `s`: the cells its tokens' domains allow,
    /// among the open cells and those of its value, must be non-empty, and a class
    /// stays only if one of these cells uses it; false if no cell fits. A sample whose
    /// tokens are all fixed fixes its cell if open.
    fn revise(&mut self, s: usize) -> bool {
        let space = self.space;
        let code = space.labels[s];
        let x = space.sample(s);
        let mut allowed = self.fixed[code as usize] | self.open;
        for (g, &t) in x.iter().enumerate() {
            allowed &= space.slabs[g][usize::from(self.domains[t as usize])];
        }
        if allowed == 0 {
            return false;
        }
        for (g, &t) in x.iter().enumerate() {
            let domain = project(&space.coord[g], allowed, self.domains[t as usize]);
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
        if allowed.is_power_of_two() && allowed & self.open != 0 {
            // Landed in an open cell: it now holds this value, which other values lose.
            let cell = allowed.trailing_zeros();
            self.trail.push((CELL | cell, 0));
            self.table[cell as usize] = code;
            self.open &= !allowed;
            self.fixed[code as usize] |= allowed;
            for (o, &other) in space.labels.iter().enumerate() {
                if other != code {
                    self.enqueue(o as u32);
                }
            }
        }
        true
    }
}

/// The classes in `domain` (of one group, whose cells by class are `coord`) that some
/// cell of `cells` uses.
fn project(coord: &[u64], cells: u64, domain: u16) -> u16 {
    let used = coord
        .iter()
        .enumerate()
        .fold(0u16, |m, (c, &mask)| m | u16::from(cells & mask != 0) << c);
    used & domain
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

    use partrec_core::model::instance::{Group, Instance};
    use partrec_core::model::label::Label;
    use rand::{Rng, SeedableRng};

    fn instance(groups: &[(u32, u32)], samples: &[(&[u32], u64)]) -> Instance {
        let groups = groups.iter().map(|&(n, k)| Group::new(n, k)).collect();
        let samples = samples.iter().map(|&(x, y)| (x.to_vec(), Label::from(y)));
        Instance::new(groups, samples).unwrap()
    }

    /// A seeded instance: 2 or 3 groups of 2 to 4 tokens, 2 or 3 classes, 2 or 3
    /// values, up to 14 samples; values from a hidden table (consistent) or at random.
    fn random_instance(seed: u64) -> Instance {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let groups: Vec<(u32, u32)> = (0..rng.random_range(2..=3))
            .map(|_| (rng.random_range(2..=4), rng.random_range(2..=3)))
            .collect();
        let values = rng.random_range(2..=3u64);
        let classes: Vec<Vec<u32>> = groups
            .iter()
            .map(|&(n, k)| (0..n).map(|_| rng.random_range(0..k)).collect())
            .collect();
        let planted = rng.random_bool(0.5);
        let mut table = std::collections::HashMap::new();
        let mut samples = Vec::new();
        for _ in 0..rng.random_range(0..=14) {
            let x: Vec<u32> = groups
                .iter()
                .map(|&(n, _)| rng.random_range(0..n))
                .collect();
            let random = rng.random_range(0..values);
            let cell: Vec<u32> = x
                .iter()
                .zip(&classes)
                .map(|(&t, c)| c[t as usize])
                .collect();
            let y = if planted {
                *table.entry(cell).or_insert(random)
            } else {
                random
            };
            samples.push((x, Label::from(y)));
        }
        let groups = groups.iter().map(|&(n, k)| Group::new(n, k)).collect();
        Instance::new(groups, samples).unwrap()
    }

    /// Runs the search in one order on one thread, with every partition counting 1,
    /// recording each partition it counts.
    fn counted(prep: &Prepared, open: bool, limit: u64) -> (Found, Vec<Partition>) {
        let recorded = Mutex::new(Vec::new());
        let record = |p: &[Vec<u32>]| {
            recorded.lock().unwrap().push(p.to_vec());
            1
        };
        let found = run(&Space::new(prep), open, limit, &record, 1, &Control::new());
        (found, recorded.into_inner().unwrap())
    }

    #[test]
    fn the_most_frequent_value_becomes_the_default() {
        assert_eq!(
            default_first(&[2, 0, 2, 1, 2, 0], 3),
            vec![0, 1, 0, 2, 0, 1]
        );
        // Ties go to the smallest value; the others keep their order.
        assert_eq!(default_first(&[1, 0, 1, 0, 2], 3), vec![1, 0, 1, 0, 2]);
        assert_eq!(default_first(&[3, 1, 3], 4), vec![0, 2, 0]);
    }

    #[test]
    fn both_orders_find_every_partition_once_as_cdcl_counts_them() {
        use crate::{solve, SolveOptions, Strategy};
        let (mut none, mut some, mut compared) = (0, 0, 0);
        for seed in 0..300 {
            let inst = random_instance(seed);
            let prep = Prepared::new(&inst);
            let Some((tables, renamings)) = table_space(&prep) else {
                continue;
            };
            let mut orders = vec![true];
            // Tables first on sparse instances only where the table space is small.
            if prep.len() >= tables.log2() as usize || tables / renamings as f64 <= 2e4 {
                orders.push(false);
            }
            let mut counts = Vec::new();
            for open in orders {
                let (found, recorded) = counted(&prep, open, u64::MAX);
                let ctx = format!("open {open} seed {seed}: {}", inst.to_json());
                assert!(found.complete, "{ctx}");
                let distinct: HashSet<_> = recorded.iter().collect();
                assert_eq!(distinct.len(), recorded.len(), "counted twice: {ctx}");
                for p in &recorded {
                    assert_eq!(p, &partrec_core::model::partition::canonical(p), "{ctx}");
                }
                let count = found.partitions.len() as u64 + found.rest;
                assert_eq!(count, recorded.len() as u64, "{ctx}");
                assert_eq!(found.partitions[..], recorded[..found.partitions.len()]);
                counts.push(count);
            }
            assert!(counts.windows(2).all(|w| w[0] == w[1]), "seed {seed}");
            // Every declared token observed: the solver counts the same partitions.
            let observed = prep.groups().iter().zip(inst.groups());
            if observed.clone().all(|(p, g)| p.tokens == g.tokens) && prep.refutation.is_none() {
                let options = SolveOptions {
                    strategy: Strategy::Cdcl,
                    ..SolveOptions::count(1 << 30)
                };
                let sol = solve(&inst, &options, &mut |_| {}).unwrap();
                assert_eq!(
                    sol.count,
                    Some(counts[0]),
                    "seed {seed}: {}",
                    inst.to_json()
                );
                compared += 1;
            }
            if counts[0] == 0 {
                none += 1;
            } else {
                some += 1;
            }
        }
        assert!(
            none > 30 && some > 100 && compared > 80,
            "{none} {some} {compared}"
        );
    }

    #[test]
    fn tables_first_visits_only_tables_the_samples_can_fill() {
        // 27 cells and three samples, one of value 1: besides the all-default table,
        // only tables with one cell of value 1 (one orbit) can be a completion, where
        // enumerating every table would visit about 2^27 / 216.
        let samples: [(&[u32], u64); 3] = [(&[0, 0, 0], 0), (&[1, 1, 1], 1), (&[2, 2, 2], 0)];
        let inst = instance(&[(3, 3), (3, 3), (3, 3)], &samples);
        let prep = Prepared::new(&inst);
        assert_eq!(table_space(&prep), Some((2f64.powi(27), 216)));
        let (found, _) = counted(&prep, false, u64::MAX);
        let (open, _) = counted(&prep, true, u64::MAX);
        assert!(found.complete && open.complete);
        assert!(found.tables <= 2, "{} tables", found.tables);
        // Token 1's cell differs from tokens 0's and 2's: 110 of the 5^3 partitions.
        let count = |f: &Found| f.partitions.len() as u64 + f.rest;
        assert_eq!((count(&found), count(&open)), (110, 110));
    }

    #[test]
    fn the_search_stops_once_the_extensions_reach_the_limit() {
        // No samples in the way: every partition of 4 + 3 tokens into 2 + 2 classes.
        let inst = instance(
            &[(4, 2), (3, 2)],
            &[(&[0, 0], 0), (&[1, 1], 0), (&[2, 2], 0), (&[3, 0], 0)],
        );
        let prep = Prepared::new(&inst);
        for open in [true, false] {
            let space = Space::new(&prep);
            let control = Control::new();
            // Each partition counts 3: the fourth reaches 10.
            let found = run(&space, open, 10, &|_: &[Vec<u32>]| 3, 1, &control);
            assert!(!found.complete, "open {open}");
            assert_eq!((found.partitions.len(), found.rest), (2, 6), "open {open}");
            // One partition that counts for the limit is enough.
            let found = run(&space, open, 1000, &|_: &[Vec<u32>]| 1000, 1, &control);
            assert!(!found.complete, "open {open}");
            assert_eq!((found.partitions.len(), found.rest), (1, 0), "open {open}");
            // Counted to the end otherwise: 8 * 4 = 32 partitions.
            let found = run(&space, open, 1000, &|_: &[Vec<u32>]| 1, 2, &control);
            assert!(found.complete, "open {open}");
            assert_eq!(
                found.partitions.len() as u64 + found.rest,
                32,
                "open {open}"
            );
        }
    }

    #[test]
    fn a_stop_during_the_search_ends_it_incomplete() {
        // Two groups of 7 tokens, 3 classes, every sample of one value: all
        // (1 + 63 + 301)^2 = 133,225 partitions are consistent. The control stops at
        // the fifth found.
        let samples: Vec<(&[u32], u64)> = vec![
            (&[0, 0], 0),
            (&[1, 1], 0),
            (&[2, 2], 0),
            (&[3, 3], 0),
            (&[4, 4], 0),
            (&[5, 5], 0),
            (&[6, 6], 0),
            (&[0, 1], 0),
        ];
        let prep = Prepared::new(&instance(&[(7, 3), (7, 3)], &samples));
        for (open, threads) in [(true, 1), (false, 1), (false, 2)] {
            let control = Control::new();
            let recorded = AtomicU64::new(0);
            let stop_at_five = |_: &[Vec<u32>]| {
                if recorded.fetch_add(1, Ordering::Relaxed) == 4 {
                    control.stop();
                }
                1
            };
            let space = Space::new(&prep);
            let found = run(&space, open, u64::MAX, &stop_at_five, threads, &control);
            let ctx = format!("open {open} threads {threads}");
            assert!(!found.complete, "{ctx}");
            assert!(recorded.into_inner() < 10_000, "{ctx}");
        }
        // Without the stop, all of them (counted, not kept).
        let found = search(&prep, u64::MAX, &|_: &[Vec<u32>]| 1, 2, &Control::new()).unwrap();
        assert!(found.complete);
        assert_eq!(found.partitions.len() as u64 + found.rest, 133_225);
    }

    #[test]
    fn no_samples_leave_one_partition_of_no_tokens() {
        let prep = Prepared::new(&instance(&[(3, 2), (2, 2)], &[]));
        let found = search(&prep, 5, &|_: &[Vec<u32>]| 1, 2, &Control::new()).unwrap();
        assert!(found.complete);
        assert_eq!(found.partitions, vec![vec![Vec::<u32>::new(); 2]]);
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
