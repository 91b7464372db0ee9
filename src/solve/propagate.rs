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

use crate::model::cells;
use crate::model::instance::{Group, Instance};
use crate::model::label::Label;
use crate::sat::Control;

/// Marks a token whose class is not decided, and a table cell whose value is unknown.
const UNKNOWN: u32 = u32::MAX;

/// Propagation runs only on tables up to this many cells (K_1 x ... x K_I).
pub const MAX_CELLS: usize = 1 << 20;

/// Propagation runs only for groups of at most this many classes (a domain is a `u64`).
pub const MAX_CLASSES: u32 = 64;

/// How often (in tokens processed) the propagation looks at its [`Control`].
const STOP_POLL: usize = 1 << 12;

/// The outcome of propagation.
#[derive(Debug)]
pub enum Propagated {
    /// The samples contradict each other whatever the partition: why.
    Refuted(String),
    /// The instance with every proven merge applied.
    Reduced(Quotient),
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

/// What propagation has proven so far.
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
}

impl State {
    /// Decides token `t` of group `g` to be in class `k`.
    fn decide(&mut self, g: usize, t: u32, k: u32) {
        self.class[g][t as usize] = k;
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
        match &ix.partners {
            Partners::Pair => {
                let h = 1 - g;
                for j in ix.range(h, others[0]) {
                    let (them, w) = ix.entry(h, j);
                    if w != v {
                        self.exclude_unless_known(ix, g, them[0], k);
                    }
                }
            }
            Partners::Runs { order, start, end } => {
                let s = ix.entries[g][i * ix.width + ix.arity] as usize;
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
        let mut done = 0usize;
        while let Some((g, t)) = self.queue.pop_front() {
            if self.refutation.is_some() {
                return true;
            }
            done += 1;
            if done.is_multiple_of(STOP_POLL) && control.should_stop() {
                return false;
            }
            let (g, k) = (g as usize, self.class[g as usize][t as usize]);
            let partners = self.known_cells < self.table.len();
            if partners {
                self.early.push((g as u32, t));
            }
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
            for i in ix.range(g, t) {
                if self.refutation.is_some() {
                    return;
                }
                let (others, v) = ix.entry(g, i);
                self.table_rule(ix, g, k, others, v);
            }
        }
        if self.known_cells == self.table.len() {
            // Every later visit sees the whole table.
            self.early = Vec::new();
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
    };
    // One representative per group to start (class 0, without loss of generality): the
    // token in the most samples. With one class, every token is in it.
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
    let mut swept_at = 0;
    loop {
        if !st.drain(&ix, control) {
            return Propagated::Skipped;
        }
        if st.refutation.is_some() || st.known_cells == swept_at {
            break;
        }
        swept_at = st.known_cells;
        st.sweep(&ix);
        if control.should_stop() {
            return Propagated::Skipped;
        }
    }
    if let Some(reason) = st.refutation {
        return Propagated::Refuted(reason);
    }
    if control.should_stop() {
        return Propagated::Skipped;
    }
    Propagated::Reduced(st.quotient(&ix, groups))
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::generate::{generate, samples_for_ratio, GenerateParams};
    use crate::model::compact::TokenMap;

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

    #[test]
    fn decides_a_planted_instance_above_the_threshold() {
        let tokens = vec![200, 200];
        let p = GenerateParams {
            samples: samples_for_ratio(&tokens, 6.0).unwrap(),
            tokens,
            classes: vec![3, 3],
            values: 2,
            seed: 3,
            zipf: None,
        };
        let inst = generate(&p, Some(6.0)).unwrap();
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
        assert!(crate::model::partition::same_partition(&lifted, &planted));
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
