//! Class propagation on the samples themselves: the path that decides the easy
//! regime without building a CNF, and shrinks every other instance before SAT.
//!
//! # What is proven, and why it is a proof
//! Renaming the classes of one group never changes consistency, so for each group
//! we may fix, without loss of generality, the classes of tokens proven to be
//! pairwise in different classes: the first token examined is put in class 0; a
//! token proven to differ from the tokens of every class opened so far opens the
//! next class (it is in some class other than theirs; call it the next one). These
//! *representatives* are the only choices made, and they are not choices: every
//! consistent partition can be renamed so that they hold.
//!
//! From there, only forced steps follow. A token's *domain* is the set of opened
//! classes it can still be in; a class leaves it only when a sample proves it
//! impossible:
//! - *exact partners*: two samples that agree outside group g and differ in value
//!   put their group-g tokens in different classes, so a token whose partner sits
//!   in class k leaves k;
//! - *table entries*: a sample whose tokens all have known classes fixes the value of
//!   its cell (two different values there are a contradiction: the instance is
//!   inconsistent); a sample whose tokens are known but one, u, removes from u's
//!   domain every class whose cell already holds another value.
//!
//! A token whose domain is one class, while every class of its group is opened, is
//! in that class in every consistent partition (renamed as above): it is *decided*.
//! So a decided token is in the same class as its class's representative in every
//! consistent partition, a statement no renaming changes.
//!
//! # What is handed on
//! Tokens proven to share a class can be merged without changing the set of
//! consistent partitions: the [`Quotient`] keeps one token per opened class and
//! every undecided token, and its samples are the images of all samples (those
//! whose tokens are all decided collapse to one sample per table entry). Its
//! consistent partitions are in one-to-one correspondence with the original's, so
//! finding, counting and uniqueness on the quotient (by SAT, which is complete) are
//! exactly those of the instance. When propagation decides everything, the quotient
//! has one token per class and one sample per table entry, and SAT settles it at
//! once; the partition it lifts is checked against the original samples as always.

use partrec_core::model::cells;
use partrec_core::model::instance::{Group, Instance};
use partrec_core::model::label::Label;
use partrec_sat::Control;

/// Marks a token whose class is not decided, and a table cell whose value is unknown.
const UNKNOWN: u32 = u32::MAX;

/// Propagation runs only on tables up to this many cells (K_1 x ... x K_I).
pub const MAX_CELLS: usize = 1 << 20;

/// Propagation runs only for groups of at most this many classes (a domain is a `u64`).
pub const MAX_CLASSES: u32 = 64;

/// How often (in sample entries visited, [`State::work`]) the propagation looks at its
/// [`Control`]: well under a millisecond of work, counted across calls, so the many
/// small settles of the lookahead are polled as well as one long one.
const STOP_POLL: usize = 1 << 14;

/// The outcome of propagation.
#[derive(Debug)]
pub enum Propagated {
    /// The samples contradict each other whatever the partition: why.
    Refuted(String),
    /// The instance with every proven merge applied.
    Reduced(Box<Quotient>),
    /// Propagation did not run (too many cells or classes, or stopped by its control).
    Skipped,
}

/// An instance whose tokens proven to share a class are merged (see the module doc).
#[derive(Debug)]
pub struct Quotient {
    /// The merged instance: per group, one token per opened class (ids `0..opened`), then
    /// the undecided tokens; every token occurs in a sample.
    pub instance: Instance,
    /// Per group, per observed token of the original (compact id): its token in `instance`.
    pub token: Vec<Vec<u32>>,
    /// Per group, the tokens propagation decided.
    pub decided: Vec<usize>,
    /// Branches the lookahead propagated (0 when propagation alone sufficed).
    pub branches: usize,
}

impl Quotient {
    /// A partition of the original's observed tokens from one of the quotient's tokens.
    pub fn lift(&self, partition: &[Vec<u32>]) -> Vec<Vec<u32>> {
        self.token
            .iter()
            .zip(partition)
            .map(|(map, row)| map.iter().map(|&q| row[q as usize]).collect())
            .collect()
    }
}

/// Samples grouped by their tokens outside group g, to find exact partners.
enum Partners {
    /// Two groups: the partners of a sample for group g are the entries of its token of
    /// the other group (whose one other token is then the group-g token).
    Pair,
    /// Three or more groups: per group, the sample ids sorted by their other tokens,
    /// and each sample's run in that order.
    Runs {
        /// `order[g]`: sample ids sorted by the tokens outside g.
        order: Vec<Vec<u32>>,
        /// `start[g][s]..end[g][s]`: sample s's run in `order[g]`.
        start: Vec<Vec<u32>>,
        /// See `start`.
        end: Vec<Vec<u32>>,
    },
}

/// The samples, indexed for propagation (never changed once built).
struct Index<'a> {
    arity: usize,
    x: &'a [u32],
    y: &'a [u32],
    /// Classes per group (at most [`MAX_CLASSES`]).
    classes: Vec<u32>,
    stride: Vec<usize>,
    /// Per group, each token's samples as entries of `width` numbers: the sample's
    /// tokens outside the group, its value id and (three or more groups) its id. Token
    /// t's entries are `first[g][t]..first[g][t + 1]`, stored together, so that
    /// processing a token reads memory in sequence.
    first: Vec<Vec<u32>>,
    entries: Vec<Vec<u32>>,
    width: usize,
    partners: Partners,
}

impl<'a> Index<'a> {
    fn new(x: &'a [u32], y: &'a [u32], groups: &[Group]) -> Index<'a> {
        let arity = groups.len();
        let samples = y.len();
        let width = arity + usize::from(arity > 2);
        // One thread per group: the groups' lists are independent.
        let (first, entries): (Vec<Vec<u32>>, Vec<Vec<u32>>) = std::thread::scope(|scope| {
            let built: Vec<_> = groups
                .iter()
                .enumerate()
                .map(|(g, group)| {
                    let n = group.tokens as usize;
                    scope.spawn(move || token_lists(x, y, arity, g, n, width))
                })
                .collect();
            built
                .into_iter()
                .map(|h| h.join().expect("building a token list does not panic"))
                .unzip()
        });
        let classes: Vec<u32> = groups.iter().map(|g| g.classes).collect();
        let sizes: Vec<usize> = classes.iter().map(|&k| k as usize).collect();
        Index {
            arity,
            x,
            y,
            stride: cells::strides(&sizes),
            classes,
            first,
            entries,
            width,
            partners: if arity == 2 {
                Partners::Pair
            } else {
                runs(x, arity, samples)
            },
        }
    }

    /// The range of token `t`'s entries in group `g`.
    fn range(&self, g: usize, t: u32) -> std::ops::Range<usize> {
        self.first[g][t as usize] as usize..self.first[g][t as usize + 1] as usize
    }

    /// Entry `i` of group `g`: the sample's tokens outside g, and its value id.
    fn entry(&self, g: usize, i: usize) -> (&[u32], u32) {
        let e = &self.entries[g][i * self.width..(i + 1) * self.width];
        (&e[..self.arity - 1], e[self.arity - 1])
    }

    /// The tokens of sample `s`.
    fn row(&self, s: u32) -> &'a [u32] {
        let a = self.arity;
        &self.x[s as usize * a..(s as usize + 1) * a]
    }
}

/// Tokens per bucket of the first scatter pass in [`token_lists`] (a power of two).
const BUCKET_TOKENS: usize = 1 << 10;

/// Group `g`'s token lists (see [`Index`]): the offsets of each of its `n` tokens'
/// entries, and the entries, `width` numbers each.
///
/// A counting sort by token in two scatter passes: first into buckets of
/// [`BUCKET_TOKENS`] consecutive tokens (few write streams, so writes stay in cache),
/// then within each bucket (a region small enough for the cache) to the final places.
/// One direct scatter over a large instance misses the cache on nearly every write.
fn token_lists(
    x: &[u32],
    y: &[u32],
    arity: usize,
    g: usize,
    n: usize,
    width: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut first = vec![0u32; n + 1];
    for row in x.chunks_exact(arity) {
        first[row[g] as usize + 1] += 1;
    }
    for t in 0..n {
        first[t + 1] += first[t];
    }
    let write = |slot: &mut [u32], s: usize, row: &[u32]| {
        let others = row.iter().enumerate().filter(|&(h, _)| h != g);
        for (i, (_, &u)) in others.enumerate() {
            slot[i] = u;
        }
        slot[arity - 1] = y[s];
        if width > arity {
            slot[arity] = s as u32;
        }
    };
    let mut entries = vec![0u32; y.len() * width];
    if n <= BUCKET_TOKENS {
        let mut fill = first.clone();
        for (s, row) in x.chunks_exact(arity).enumerate() {
            let t = row[g] as usize;
            let at = fill[t] as usize * width;
            fill[t] += 1;
            write(&mut entries[at..at + width], s, row);
        }
        return (first, entries);
    }
    // Pass 1: into buckets, each entry with its token in front.
    let wide = width + 1;
    let buckets = n.div_ceil(BUCKET_TOKENS);
    let mut fill: Vec<u32> = (0..buckets).map(|b| first[b * BUCKET_TOKENS]).collect();
    let mut staged = vec![0u32; y.len() * wide];
    for (s, row) in x.chunks_exact(arity).enumerate() {
        let t = row[g] as usize;
        let b = t / BUCKET_TOKENS;
        let at = fill[b] as usize * wide;
        fill[b] += 1;
        staged[at] = t as u32;
        write(&mut staged[at + 1..at + wide], s, row);
    }
    // Pass 2: within each bucket, to each token's place.
    let mut place = first.clone();
    for b in 0..buckets {
        let lo = first[b * BUCKET_TOKENS] as usize;
        let hi = first[((b + 1) * BUCKET_TOKENS).min(n)] as usize;
        for e in staged[lo * wide..hi * wide].chunks_exact(wide) {
            let t = e[0] as usize;
            let at = place[t] as usize * width;
            place[t] += 1;
            entries[at..at + width].copy_from_slice(&e[1..]);
        }
    }
    (first, entries)
}

/// Per group, the samples sorted by their tokens outside the group, with runs.
fn runs(x: &[u32], arity: usize, samples: usize) -> Partners {
    let mut order = Vec::with_capacity(arity);
    let mut start = Vec::with_capacity(arity);
    let mut end = Vec::with_capacity(arity);
    for g in 0..arity {
        let others = |s: u32| {
            let row = &x[s as usize * arity..(s as usize + 1) * arity];
            row.iter()
                .enumerate()
                .filter(move |&(h, _)| h != g)
                .map(|(_, &t)| t)
        };
        let mut o: Vec<u32> = (0..samples as u32).collect();
        o.sort_unstable_by(|&a, &b| others(a).cmp(others(b)));
        let (mut st, mut en) = (vec![0u32; samples], vec![0u32; samples]);
        let mut i = 0;
        while i < o.len() {
            let mut j = i + 1;
            while j < o.len() && others(o[j]).eq(others(o[i])) {
                j += 1;
            }
            for &s in &o[i..j] {
                st[s as usize] = i as u32;
                en[s as usize] = j as u32;
            }
            i = j;
        }
        order.push(o);
        start.push(st);
        end.push(en);
    }
    Partners::Runs { order, start, end }
}

/// What propagation has proven so far (under the hypotheses of its lookahead branch, if
/// any: see [`lookahead`]).
#[derive(Clone)]
struct State {
    /// Per group, per token: its class, or [`UNKNOWN`].
    class: Vec<Vec<u32>>,
    /// Per group, per token: the opened classes it is proven not to be in.
    excluded: Vec<Vec<u64>>,
    /// Per group, the classes opened so far.
    opened: Vec<u32>,
    /// Per cell (mixed radix over the classes), its value id, or [`UNKNOWN`].
    table: Vec<u32>,
    /// Cells with a known value.
    known_cells: usize,
    /// Decided tokens not processed yet, first in first out (so that decisions spread
    /// over the groups and the table fills early).
    queue: std::collections::VecDeque<(u32, u32)>,
    /// Tokens processed while the table was incomplete: the only ones whose samples a
    /// new table entry can teach more (the others saw the whole table).
    early: Vec<(u32, u32)>,
    refutation: Option<String>,
    /// Exact-partner groups already applied: (group, partner set, class, value). The
    /// rule's effect depends only on these, so each is applied once, however many
    /// samples of decided tokens share them (on Zipfian data most do).
    applied: std::collections::HashSet<(u32, u32, u32, u32)>,
    /// Sample entries visited so far (the lookahead's work budget counts them).
    work: usize,
    /// [`State::work`] when the control was last looked at.
    polled: usize,
    /// Tokens decided so far, over all groups.
    decided: usize,
    /// Tokens that have had a class excluded (decided since, or not), in that order:
    /// where the lookahead looks for its next hub.
    narrowed: Vec<(u32, u32)>,
    /// Whether changes go on the trail (during the lookahead).
    recording: bool,
    /// What changed since the lookahead's first mark, latest last.
    trail: Vec<Undo>,
}

/// One change to a [`State`], as its trail keeps it to be undone.
#[derive(Clone, Copy)]
enum Undo {
    /// A token's class was set (group, token).
    Class(u32, u32),
    /// A token's excluded classes changed (group, token, before).
    Excluded(u32, u32, u64),
    /// A table cell got its value.
    Table(usize),
    /// An exact-partner group was applied.
    Applied((u32, u32, u32, u32)),
}

/// Where a [`State`] was, to come back to: its trail's length and what the trail does
/// not keep.
struct Mark {
    trail: usize,
    opened: Vec<u32>,
    known_cells: usize,
    decided: usize,
    narrowed: usize,
    early: usize,
}

impl State {
    /// Propagates until nothing more follows (or a contradiction). Returns `false` if
    /// `control` said stop.
    fn settle(&mut self, ix: &Index, control: &Control) -> bool {
        let mut swept_at = 0;
        loop {
            if !self.drain(ix, control) {
                return false;
            }
            if self.refutation.is_some() || self.known_cells == swept_at {
                return true;
            }
            swept_at = self.known_cells;
            self.sweep(ix);
            if control.should_stop() {
                return false;
            }
        }
    }

    /// Where the state is now (settled, not refuted), to [`State::undo`] back to.
    fn mark(&self) -> Mark {
        Mark {
            trail: self.trail.len(),
            opened: self.opened.clone(),
            known_cells: self.known_cells,
            decided: self.decided,
            narrowed: self.narrowed.len(),
            early: self.early.len(),
        }
    }

    /// Undoes every change since `mark` (the trail must have been recording).
    fn undo(&mut self, mark: Mark) {
        for change in self.trail.drain(mark.trail..).rev() {
            match change {
                Undo::Class(g, t) => self.class[g as usize][t as usize] = UNKNOWN,
                Undo::Excluded(g, t, before) => self.excluded[g as usize][t as usize] = before,
                Undo::Table(cell) => self.table[cell] = UNKNOWN,
                Undo::Applied(key) => {
                    self.applied.remove(&key);
                }
            }
        }
        self.opened = mark.opened;
        self.known_cells = mark.known_cells;
        self.decided = mark.decided;
        self.narrowed.truncate(mark.narrowed);
        self.early.truncate(mark.early);
        self.queue.clear();
        self.refutation = None;
    }

    /// Assumes token `t` of group `g` is in class `k`: an opened class, or (`k` equal to
    /// the classes opened) the next one, which it opens.
    fn assume(&mut self, g: usize, t: u32, k: u32) {
        if k == self.opened[g] {
            self.open(g, t);
        } else {
            self.decide(g, t, k);
        }
    }

    /// Decides token `t` of group `g` to be in class `k`.
    fn decide(&mut self, g: usize, t: u32, k: u32) {
        if self.recording {
            self.trail.push(Undo::Class(g as u32, t));
        }
        self.class[g][t as usize] = k;
        self.decided += 1;
        self.queue.push_back((g as u32, t));
    }

    /// Opens the next class of group `g` with token `t` as its representative.
    fn open(&mut self, g: usize, t: u32) {
        let k = self.opened[g];
        self.opened[g] += 1;
        self.decide(g, t, k);
    }

    /// Records that token `t` of group `g` is not in class `k`: decides it, opens a
    /// class for it, or finds a contradiction when that leaves one class or none.
    fn exclude(&mut self, ix: &Index, g: usize, t: u32, k: u32) {
        let c = self.class[g][t as usize];
        if c != UNKNOWN {
            if c == k && self.refutation.is_none() {
                self.refutation = Some(format!(
                    "group {g}: samples prove one token both in and out of the class of another"
                ));
            }
            return;
        }
        let before = self.excluded[g][t as usize];
        if before == 0 {
            self.narrowed.push((g as u32, t));
        }
        if self.recording {
            self.trail.push(Undo::Excluded(g as u32, t, before));
        }
        self.excluded[g][t as usize] |= 1u64 << k;
        let opened = self.opened[g];
        let all = if opened == 64 {
            u64::MAX
        } else {
            (1u64 << opened) - 1
        };
        let left = all & !self.excluded[g][t as usize];
        if left == 0 {
            if opened < ix.classes[g] {
                self.open(g, t);
            } else if self.refutation.is_none() {
                self.refutation = Some(format!(
                    "group {g}: samples leave a token none of the {} classes",
                    ix.classes[g]
                ));
            }
        } else if opened == ix.classes[g] && left.count_ones() == 1 {
            self.decide(g, t, left.trailing_zeros());
        }
    }

    /// The cell of a sample whose group-`g` token is in class `k` and whose other tokens
    /// (`others`, in group order without g) have known classes, leaving out the one at
    /// `skip` (its class counts as 0).
    fn cell(&self, ix: &Index, g: usize, k: u32, others: &[u32], skip: Option<usize>) -> usize {
        let mut cell = k as usize * ix.stride[g];
        for (i, &u) in others.iter().enumerate() {
            if Some(i) != skip {
                let h = i + usize::from(i >= g);
                cell += self.class[h][u as usize] as usize * ix.stride[h];
            }
        }
        cell
    }

    /// The table rule for a sample with token `t` of group `g` (decided, in class `k`),
    /// other tokens `others` and value `v`: record the entry when all are decided, or
    /// narrow the one undecided other token.
    fn table_rule(&mut self, ix: &Index, g: usize, k: u32, others: &[u32], v: u32) {
        let mut unknown = None;
        for (i, &u) in others.iter().enumerate() {
            let h = i + usize::from(i >= g);
            if self.class[h][u as usize] == UNKNOWN {
                if unknown.is_some() {
                    return;
                }
                unknown = Some((i, h, u));
            }
        }
        match unknown {
            None => {
                let cell = self.cell(ix, g, k, others, None);
                match self.table[cell] {
                    UNKNOWN => {
                        if self.recording {
                            self.trail.push(Undo::Table(cell));
                        }
                        self.table[cell] = v;
                        self.known_cells += 1;
                    }
                    w if w != v && self.refutation.is_none() => {
                        self.refutation = Some(
                            "two samples whose tokens are proven to share classes have different values"
                                .into(),
                        );
                    }
                    _ => {}
                }
            }
            Some((i, h, u)) => {
                // The cell with u in class j: g's token in k, u's slot set to j.
                let base = self.cell(ix, g, k, others, Some(i));
                for j in 0..self.opened[h] {
                    if self.excluded[h][u as usize] >> j & 1 == 1 {
                        continue;
                    }
                    let w = self.table[base + j as usize * ix.stride[h]];
                    if w != UNKNOWN && w != v {
                        self.exclude(ix, h, u, j);
                        if self.class[h][u as usize] != UNKNOWN {
                            return;
                        }
                    }
                }
            }
        }
    }

    /// The exact-partner rule for a sample (entry `i` of group `g`) whose group-g token
    /// is in class `k`: every sample that agrees with it outside g and differs in value
    /// has its group-g token outside class `k`.
    fn partner_rule(&mut self, ix: &Index, g: usize, i: usize, k: u32) {
        let (others, v) = ix.entry(g, i);
        let set = match &ix.partners {
            Partners::Pair => others[0],
            Partners::Runs { start, .. } => {
                start[g][ix.entries[g][i * ix.width + ix.arity] as usize]
            }
        };
        if !self.applied.insert((g as u32, set, k, v)) {
            return;
        }
        if self.recording {
            self.trail.push(Undo::Applied((g as u32, set, k, v)));
        }
        match &ix.partners {
            Partners::Pair => {
                let h = 1 - g;
                self.work += ix.range(h, others[0]).len();
                for j in ix.range(h, others[0]) {
                    let (them, w) = ix.entry(h, j);
                    if w != v {
                        self.exclude_unless_known(ix, g, them[0], k);
                    }
                }
            }
            Partners::Runs { order, start, end } => {
                let s = ix.entries[g][i * ix.width + ix.arity] as usize;
                self.work += (end[g][s] - start[g][s]) as usize;
                for &p in &order[g][start[g][s] as usize..end[g][s] as usize] {
                    if ix.y[p as usize] != v {
                        self.exclude_unless_known(ix, g, ix.row(p)[g], k);
                    }
                }
            }
        }
    }

    /// [`State::exclude`], skipping what is already known (a decided token in another
    /// class, a class already excluded).
    fn exclude_unless_known(&mut self, ix: &Index, g: usize, u: u32, k: u32) {
        let c = self.class[g][u as usize];
        if (c == UNKNOWN && self.excluded[g][u as usize] >> k & 1 == 0) || c == k {
            self.exclude(ix, g, u, k);
        }
    }

    /// Processes decided tokens until none is left. The exact-partner rule runs until the
    /// table is complete (after that the table rule finds all it would). Returns `false`
    /// if `control` said stop.
    fn drain(&mut self, ix: &Index, control: &Control) -> bool {
        while let Some((g, t)) = self.queue.pop_front() {
            if self.refutation.is_some() {
                return true;
            }
            if self.work >= self.polled + STOP_POLL {
                self.polled = self.work;
                if control.should_stop() {
                    return false;
                }
            }
            let (g, k) = (g as usize, self.class[g as usize][t as usize]);
            let partners = self.known_cells < self.table.len();
            if partners {
                self.early.push((g as u32, t));
            }
            self.work += ix.range(g, t).len();
            for i in ix.range(g, t) {
                let (others, v) = ix.entry(g, i);
                self.table_rule(ix, g, k, others, v);
                if partners {
                    self.partner_rule(ix, g, i, k);
                }
            }
        }
        true
    }

    /// The table rule again on the samples of the tokens processed while the table was
    /// incomplete (new table entries may narrow their undecided partners).
    fn sweep(&mut self, ix: &Index) {
        for e in 0..self.early.len() {
            let (g, t) = self.early[e];
            let (g, k) = (g as usize, self.class[g as usize][t as usize]);
            self.work += ix.range(g, t).len();
            for i in ix.range(g, t) {
                if self.refutation.is_some() {
                    return;
                }
                let (others, v) = ix.entry(g, i);
                self.table_rule(ix, g, k, others, v);
            }
        }
    }
}

/// Propagates classes over the compact samples `x` (S x I, row-major) with value ids
/// `y`, for `groups` over the observed tokens (every token occurs in a sample).
pub fn propagate(x: &[u32], y: &[u32], groups: &[Group], control: &Control) -> Propagated {
    let cells = groups
        .iter()
        .try_fold(1usize, |acc, g| acc.checked_mul(g.classes as usize))
        .filter(|&c| c <= MAX_CELLS);
    let Some(cells) = cells else {
        return Propagated::Skipped;
    };
    if groups.len() < 2 || groups.iter().any(|g| g.classes > MAX_CLASSES) || y.is_empty() {
        return Propagated::Skipped;
    }
    let ix = Index::new(x, y, groups);
    if control.should_stop() {
        return Propagated::Skipped;
    }
    let mut st = State::start(&ix, groups, cells);
    if !st.settle(&ix, control) {
        return Propagated::Skipped;
    }
    if let Some(reason) = st.refutation {
        return Propagated::Refuted(reason);
    }
    let observed: usize = groups.iter().map(|g| g.tokens as usize).sum();
    let mut branches = 0;
    if 2 * st.decided < observed {
        let entries = ix.y.len() * ix.arity;
        let budget = LOOKAHEAD_WORK.saturating_mul(entries);
        let (looked, tried) = lookahead(&mut st, &ix, budget, control);
        branches = tried;
        match looked {
            Looked::Stopped => return Propagated::Skipped,
            Looked::Refuted => {
                return Propagated::Refuted(
                    "every class of the undecided tokens tried in turn leads to a contradiction"
                        .into(),
                )
            }
            Looked::Proven(assumed) => {
                for (g, t, k) in assumed {
                    st.assume(g as usize, t, k);
                    // The replay is the explored branch again (propagation is
                    // deterministic), which ended in no contradiction.
                    if !st.settle(&ix, control) || st.refutation.is_some() {
                        return Propagated::Skipped;
                    }
                }
            }
        }
    }
    if control.should_stop() {
        return Propagated::Skipped;
    }
    let mut q = st.quotient(&ix, groups);
    q.branches = branches;
    Propagated::Reduced(Box::new(q))
}

impl State {
    /// The state before any step: per group, its busiest token opens class 0 (without
    /// loss of generality); with one class, every token is in it.
    fn start(ix: &Index, groups: &[Group], cells: usize) -> State {
        let mut st = State {
            class: groups
                .iter()
                .map(|g| vec![UNKNOWN; g.tokens as usize])
                .collect(),
            excluded: groups.iter().map(|g| vec![0; g.tokens as usize]).collect(),
            opened: vec![0; groups.len()],
            table: vec![UNKNOWN; cells],
            known_cells: 0,
            queue: std::collections::VecDeque::new(),
            early: Vec::new(),
            refutation: None,
            applied: std::collections::HashSet::new(),
            work: 0,
            polled: 0,
            decided: 0,
            narrowed: Vec::new(),
            recording: false,
            trail: Vec::new(),
        };
        for (g, group) in groups.iter().enumerate() {
            let busiest = (0..group.tokens)
                .max_by_key(|&t| (ix.range(g, t).len(), std::cmp::Reverse(t)))
                .unwrap_or(0);
            st.open(g, busiest);
            if group.classes == 1 {
                for t in 0..group.tokens {
                    if st.class[g][t as usize] == UNKNOWN {
                        st.decide(g, t, 0);
                    }
                }
            }
        }
        st
    }
}

/// The lookahead's work budget, in sample entries visited (and tokens looked at) per
/// sample entry of the instance: a few dozen propagations, less than encoding the
/// instance would cost. At 1.25 N ln N uniform samples it takes about half of it.
const LOOKAHEAD_WORK: usize = 24;

/// Branches beyond which the lookahead gives up.
const LOOKAHEAD_BRANCHES: usize = 1 << 16;

/// Hub tokens assumed on one path, at most: deeper, a branch counts as surviving.
const LOOKAHEAD_DEPTH: usize = 32;

/// What the lookahead found.
enum Looked {
    /// Its control said stop.
    Stopped,
    /// Every branch contradicts the samples.
    Refuted,
    /// The branches in which every consistent partition lies share these first
    /// assumptions (group, hub token, class): they hold for the instance.
    Proven(Vec<(u32, u32, u32)>),
}

/// Lookahead on undecided tokens, when propagation has stalled.
///
/// A *branch* assumes the class of one undecided *hub* token (per level, alternating
/// between the groups: the one with the fewest classes left, then the most samples,
/// so that branches are few and say much): each class still in its domain, and, while
/// its group has classes left to open, "a class not opened yet", which opens the next
/// one (a renaming, as for the first representatives). These cases cover every
/// consistent partition, each exactly once. Each branch is propagated; one that
/// reaches a contradiction holds no consistent partition. A surviving branch is split
/// again on its own next hub, depth first, until it has decided half the tokens (the
/// propagation has cascaded) or runs out of hubs or depth.
///
/// Every consistent partition lies in a surviving leaf, so the assumptions the
/// surviving leaves share are proven for the instance; none surviving proves the
/// instance inconsistent. Below about 2.5 N ln N uniform samples a handful of hubs
/// make the propagation cascade, and the wrong branches then end in contradictions.
/// The state is changed in place and restored from its trail after each branch, so
/// the lookahead holds one state whatever its width. It gives up (proving nothing
/// more) past a work budget or once surviving leaves share no assumption.
fn lookahead(st: &mut State, ix: &Index, budget: usize, control: &Control) -> (Looked, usize) {
    let busiest: Vec<Vec<u32>> = (0..ix.arity)
        .map(|g| {
            let mut order: Vec<u32> = (0..ix.first[g].len() as u32 - 1).collect();
            order.sort_by_key(|&t| (std::cmp::Reverse(ix.range(g, t).len()), t));
            order
        })
        .collect();
    let mut search = Lookahead {
        observed: busiest.iter().map(Vec::len).sum(),
        busiest,
        budget: st.work.saturating_add(budget),
        branches: 0,
        path: Vec::new(),
        shared: None,
    };
    st.recording = true;
    let done = search.explore(st, ix, control);
    st.recording = false;
    let looked = match done {
        Explored::Stopped => Looked::Stopped,
        Explored::Complete | Explored::GaveUp => match search.shared {
            None if done == Explored::Complete => Looked::Refuted,
            shared => Looked::Proven(shared.unwrap_or_default()),
        },
    };
    (looked, search.branches)
}

/// How an exploration ended.
#[derive(PartialEq, Eq)]
enum Explored {
    /// Every branch below was propagated.
    Complete,
    /// Over budget, or the surviving leaves share nothing: what is not yet explored
    /// counts as surviving.
    GaveUp,
    /// The control said stop.
    Stopped,
}

/// The lookahead's search (see [`lookahead`]).
struct Lookahead {
    busiest: Vec<Vec<u32>>,
    observed: usize,
    /// Work (see [`State::work`]) at which it gives up.
    budget: usize,
    branches: usize,
    /// The assumptions of the branch being explored.
    path: Vec<(u32, u32, u32)>,
    /// The assumptions every surviving leaf (or unexplored branch) so far shares;
    /// `None` before the first.
    shared: Option<Vec<(u32, u32, u32)>>,
}

impl Lookahead {
    /// Counts the current path as surviving: the shared assumptions shrink to its
    /// common prefix with it.
    fn survive(&mut self) {
        let path = &self.path;
        match &mut self.shared {
            None => self.shared = Some(path.clone()),
            Some(shared) => {
                let common = shared.iter().zip(path).take_while(|(a, b)| a == b).count();
                shared.truncate(common);
            }
        }
    }

    /// Explores below the current state (settled, not refuted).
    fn explore(&mut self, st: &mut State, ix: &Index, control: &Control) -> Explored {
        let depth = self.path.len();
        let g = depth % ix.arity;
        let (hub, scanned) = self.hub(st, ix, g);
        // Choosing is work too: a branch with little propagation still scans.
        st.work += scanned;
        let (Some(hub), false, false) = (
            hub,
            2 * st.decided >= self.observed,
            depth >= LOOKAHEAD_DEPTH,
        ) else {
            self.survive();
            return Explored::Complete;
        };
        let opened = st.opened[g];
        let excluded = st.excluded[g][hub as usize];
        let domain = (0..opened).filter(|&k| excluded >> k & 1 == 0);
        let fresh = (opened < ix.classes[g]).then_some(opened);
        let classes: Vec<u32> = domain.chain(fresh).collect();
        for &k in &classes {
            let over = st.work > self.budget || self.branches >= LOOKAHEAD_BRANCHES;
            if over || self.shared.as_ref().is_some_and(Vec::is_empty) {
                // This branch and its later siblings are not explored: they may hold
                // consistent partitions.
                self.survive();
                return Explored::GaveUp;
            }
            let mark = st.mark();
            self.branches += 1;
            self.path.push((g as u32, hub, k));
            st.assume(g, hub, k);
            if !st.settle(ix, control) {
                return Explored::Stopped;
            }
            let below = if st.refutation.is_none() {
                self.explore(st, ix, control)
            } else {
                Explored::Complete
            };
            self.path.pop();
            st.undo(mark);
            match below {
                Explored::Complete => {}
                Explored::Stopped => return below,
                Explored::GaveUp => {
                    if Some(&k) != classes.last() {
                        self.survive();
                    }
                    return below;
                }
            }
        }
        Explored::Complete
    }

    /// The next hub of group `g`: of the undecided tokens with a class excluded, the one
    /// with the most excluded, then the most samples; else the busiest undecided. With
    /// the tokens looked at.
    fn hub(&self, st: &State, ix: &Index, g: usize) -> (Option<u32>, usize) {
        let undecided = |&t: &u32| st.class[g][t as usize] == UNKNOWN;
        let narrowed = st.narrowed.iter().filter(|&&(h, _)| h as usize == g);
        let best = narrowed
            .map(|&(_, t)| t)
            .filter(undecided)
            .max_by_key(|&t| {
                let excluded = st.excluded[g][t as usize].count_ones();
                (excluded, ix.range(g, t).len(), std::cmp::Reverse(t))
            });
        let scanned = st.narrowed.len();
        if best.is_some() {
            return (best, scanned);
        }
        let busiest = &self.busiest[g];
        match busiest.iter().position(undecided) {
            Some(i) => (Some(busiest[i]), scanned + i + 1),
            None => (None, scanned + busiest.len()),
        }
    }
}

impl State {
    /// The merged instance (see [`Quotient`]).
    fn quotient(self, ix: &Index, groups: &[Group]) -> Quotient {
        let arity = ix.arity;
        let mut token = Vec::with_capacity(arity);
        let mut decided = Vec::with_capacity(arity);
        let mut sizes = Vec::with_capacity(arity);
        for g in 0..arity {
            let mut next = self.opened[g];
            let map: Vec<u32> = self.class[g]
                .iter()
                .map(|&c| {
                    if c != UNKNOWN {
                        c
                    } else {
                        next += 1;
                        next - 1
                    }
                })
                .collect();
            decided.push(self.class[g].iter().filter(|&&c| c != UNKNOWN).count());
            sizes.push(next);
            token.push(map);
        }
        let mut samples: Vec<(Vec<u32>, Label)> = Vec::new();
        // One sample per table entry stands for every sample whose tokens are all decided.
        let class_sizes: Vec<usize> = ix.classes.iter().map(|&k| k as usize).collect();
        cells::for_each(&class_sizes, |c| {
            let value = self.table[cells::index(c.iter().copied(), &class_sizes)];
            if value != UNKNOWN {
                let x = c.iter().map(|&k| k as u32).collect();
                samples.push((x, Label::from(u64::from(value))));
            }
        });
        let undecided = decided
            .iter()
            .zip(groups)
            .any(|(&d, g)| d < g.tokens as usize);
        for (row, &v) in ix.x.chunks_exact(arity).zip(ix.y).filter(|_| undecided) {
            let open = row
                .iter()
                .enumerate()
                .any(|(h, &t)| self.class[h][t as usize] == UNKNOWN);
            if open {
                let x = row
                    .iter()
                    .enumerate()
                    .map(|(h, &t)| token[h][t as usize])
                    .collect();
                samples.push((x, Label::from(u64::from(v))));
            }
        }
        let quotient_groups: Vec<Group> = groups
            .iter()
            .zip(&sizes)
            .map(|(g, &n)| Group::new(n, g.classes))
            .collect();
        let instance = Instance::new(quotient_groups, samples)
            .expect("the quotient of a valid instance is valid");
        Quotient {
            instance,
            token,
            decided,
            branches: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_core::generate::{generate, samples_for_ratio, GenerateParams};
    use partrec_core::model::compact::TokenMap;

    fn compact(instance: &Instance) -> (Vec<u32>, Vec<u32>, Vec<Group>) {
        let mut x: Vec<u32> = (0..instance.num_samples())
            .flat_map(|s| instance.x(s).iter().copied())
            .collect();
        let map = TokenMap::compact_in_place(&mut x, instance.groups());
        let y = (0..instance.num_samples())
            .map(|s| instance.label_id(s))
            .collect();
        (x, y, map.groups(instance.groups()))
    }

    /// A planted instance of two groups of `n` tokens, 3 classes, 2 values, at `ratio`.
    fn planted(n: u32, ratio: f64, seed: u64) -> Instance {
        let tokens = vec![n, n];
        let p = GenerateParams {
            samples: samples_for_ratio(&tokens, ratio).unwrap(),
            tokens,
            classes: vec![3, 3],
            values: 2,
            seed,
            zipf: None,
        };
        generate(&p, Some(ratio)).unwrap()
    }

    #[test]
    fn decides_a_planted_instance_above_the_threshold() {
        let inst = planted(200, 6.0, 3);
        let (x, y, groups) = compact(&inst);
        let Propagated::Reduced(q) = propagate(&x, &y, &groups, &Control::new()) else {
            panic!("expected a quotient");
        };
        assert_eq!(q.decided, vec![200, 200]);
        assert_eq!(q.instance.groups()[0].tokens, 3);
        assert!(q.instance.num_samples() <= 9);
        // The lifted partition of the representatives is the planted one, renamed.
        let reps: Vec<Vec<u32>> = vec![vec![0, 1, 2], vec![0, 1, 2]];
        let lifted = q.lift(&reps);
        let planted = inst.planted.unwrap().partition;
        assert!(partrec_core::model::partition::same_partition(
            &lifted, &planted
        ));
    }

    #[test]
    fn lookahead_decides_below_the_threshold_and_agrees_with_the_planted_partition() {
        // At 1.5 N ln N propagation alone stalls on some seeds; what the lookahead
        // commits must hold in every consistent partition, so in the planted one: two
        // decided tokens share a class exactly when they share a planted class.
        let mut looked = 0;
        for seed in 0..6 {
            let inst = planted(20_000, 1.5, seed);
            let truth = inst.planted.clone().unwrap().partition;
            let (x, y, groups) = compact(&inst);
            let Propagated::Reduced(q) = propagate(&x, &y, &groups, &Control::new()) else {
                panic!("seed {seed}: expected a quotient");
            };
            looked += usize::from(q.branches > 0);
            for g in 0..2 {
                // Compact token -> planted class, through any sample holding it.
                let mut class = vec![u32::MAX; groups[g].tokens as usize];
                for (s, row) in x.chunks_exact(2).enumerate() {
                    class[row[g] as usize] = truth[g][inst.x(s)[g] as usize];
                }
                let opened = q.instance.groups()[g].tokens as usize - (class.len() - q.decided[g]);
                let mut seen: Vec<Option<u32>> = vec![None; opened];
                for (t, &k) in class.iter().enumerate() {
                    let qt = q.token[g][t] as usize;
                    if qt < opened {
                        let first = *seen[qt].get_or_insert(k);
                        assert_eq!(
                            first, k,
                            "seed {seed} group {g}: decided class mixes planted classes"
                        );
                    }
                }
                let mut reps: Vec<u32> = seen.into_iter().flatten().collect();
                reps.sort_unstable();
                reps.dedup();
                assert_eq!(
                    reps.len(),
                    opened,
                    "seed {seed} group {g}: two decided classes share a planted one"
                );
                assert!(
                    2 * q.decided[g] > class.len(),
                    "seed {seed} group {g}: decided {:?}",
                    q.decided
                );
            }
        }
        assert!(
            looked > 0,
            "propagation alone decided every seed: the lookahead was not tried"
        );
    }

    #[test]
    fn the_lookahead_leaves_its_state_as_it_found_it() {
        // However the search ends (complete or over budget), every branch is undone.
        for (ratio, budget) in [(1.2, usize::MAX), (1.2, 2_000), (1.0, usize::MAX)] {
            let (x, y, groups) = compact(&planted(3_000, ratio, 11));
            let ix = Index::new(&x, &y, &groups);
            let mut st = State::start(&ix, &groups, 9);
            assert!(st.settle(&ix, &Control::new()));
            let before = st.clone();
            let (_, branches) = lookahead(&mut st, &ix, budget, &Control::new());
            assert!(branches > 0, "ratio {ratio}: no branch tried");
            assert_eq!(st.class, before.class);
            assert_eq!(st.excluded, before.excluded);
            assert_eq!(st.table, before.table);
            assert_eq!(st.opened, before.opened);
            assert_eq!(st.applied, before.applied);
            assert_eq!(
                (st.decided, st.known_cells),
                (before.decided, before.known_cells)
            );
            assert_eq!(
                (st.narrowed.len(), st.early.len()),
                (before.narrowed.len(), before.early.len())
            );
            assert!(st.trail.is_empty() && st.refutation.is_none());
        }
    }

    #[test]
    fn a_stop_is_seen_within_the_lookahead_s_many_small_settles() {
        // Each branch settles a few tokens only; the control is polled by work done
        // across settles, so a stop ends the search after about one poll's work, not
        // after the whole search (which here tries many branches).
        let (x, y, groups) = compact(&planted(3_000, 1.2, 11));
        let ix = Index::new(&x, &y, &groups);
        let mut st = State::start(&ix, &groups, 9);
        assert!(st.settle(&ix, &Control::new()));
        let (_, all) = lookahead(&mut st.clone(), &ix, usize::MAX, &Control::new());
        let stopped = Control::new();
        stopped.stop();
        let work = st.work;
        let (looked, tried) = lookahead(&mut st, &ix, usize::MAX, &stopped);
        assert!(matches!(looked, Looked::Stopped), "the stop was not seen");
        assert!(
            tried < all.min(20),
            "{tried} of {all} branches tried after the stop"
        );
        assert!(st.work - work <= 2 * STOP_POLL + ix.y.len() * ix.arity);
    }

    #[test]
    fn token_lists_hold_each_tokens_samples_in_order_on_both_paths() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for (n, arity) in [(40usize, 2usize), (3 * BUCKET_TOKENS + 17, 2), (2500, 3)] {
            let samples = 20_000;
            let x: Vec<u32> = (0..samples * arity)
                .map(|_| rng.random_range(0..n as u32))
                .collect();
            let y: Vec<u32> = (0..samples).map(|_| rng.random_range(0..3)).collect();
            let width = arity + usize::from(arity > 2);
            for g in 0..arity {
                let (first, entries) = token_lists(&x, &y, arity, g, n, width);
                let mut seen = 0;
                for t in 0..n {
                    let mine: Vec<&[u32]> = entries
                        [first[t] as usize * width..first[t + 1] as usize * width]
                        .chunks_exact(width)
                        .collect();
                    let expected: Vec<Vec<u32>> = x
                        .chunks_exact(arity)
                        .enumerate()
                        .filter(|(_, row)| row[g] as usize == t)
                        .map(|(s, row)| {
                            let mut e: Vec<u32> =
                                (0..arity).filter(|&h| h != g).map(|h| row[h]).collect();
                            e.push(y[s]);
                            if width > arity {
                                e.push(s as u32);
                            }
                            e
                        })
                        .collect();
                    assert_eq!(mine, expected, "n {n} group {g} token {t}");
                    seen += mine.len();
                }
                assert_eq!(seen, samples);
            }
        }
    }

    #[test]
    fn finds_contradictions_between_proven_classes() {
        // Token 0 and 1 of group 0 share partner 0 with different values: different
        // classes; with one class only that is a contradiction.
        let x = vec![0, 0, 1, 0];
        let y = vec![0, 1];
        let groups = vec![Group::new(2, 1), Group::new(1, 1)];
        assert!(matches!(
            propagate(&x, &y, &groups, &Control::new()),
            Propagated::Refuted(_)
        ));
    }

    #[test]
    fn a_stopped_control_skips() {
        let x = vec![0, 0];
        let y = vec![0];
        let groups = vec![Group::new(1, 1), Group::new(1, 1)];
        let control = Control::new();
        // Not stopped: it finishes.
        assert!(matches!(
            propagate(&x, &y, &groups, &control),
            Propagated::Reduced(_)
        ));
        // Stopped: it looks at the control between its steps, whatever the work.
        control.stop();
        assert!(matches!(
            propagate(&x, &y, &groups, &control),
            Propagated::Skipped
        ));
    }
}
