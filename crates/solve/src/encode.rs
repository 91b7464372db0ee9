//! The CNF encoding of a prepared instance.
//!
//! Variables:
//! - `class(g, p, k)`: the token at position `p` of group `g`'s encoding order
//!   is in class `k`. Only `k <= p` exists (value precedence, below).
//!   Exactly one per token: one at-least-one clause, and at-most-one pairwise for
//!   fewer than [`LADDER_FROM`] classes, else by a sequential counter (Sinz's
//!   ladder: `k - 1` auxiliary variables and `3(k - 1)` clauses), so that a token
//!   costs O(K), not O(K^2), clauses when K is large.
//! - `bit(c, j)`: bit `j` of the value of cell `c` (a class tuple), with
//!   `ceil(log2 V)` bits per cell; one value needs no bits at all.
//! - `seen(g, p, k)`: class `k` is used by some token at position `<= p`.
//!
//! Clauses for each distinct sample `(x, v)` and each cell `c` its tokens can
//! reach: `OR_g -class(g, p_g, c_g) OR [bit(c, j) == v_j]`, one per bit.
//! Two samples in one cell with different values then disagree on some bit.
//!
//! Symmetry breaking (value precedence): the first token is in class 0, and a
//! token may open class `k > 0` only if class `k - 1` is already `seen`. Every
//! partition of the observed tokens therefore has exactly one assignment of
//! the `class` variables, which is what lets the solver count partitions by
//! blocking class assignments. Tokens are ordered most frequent first, which
//! fixes the best-connected tokens early.
//!
//! The encoder writes into any [`ClauseSink`]: a SAT backend itself, or a
//! [`partrec_sat::Cnf`] for DIMACS output.

use crate::preprocess::{Prepared, MUST_DIFFER_PER_TOKEN};
use partrec_core::error::{Error, Result};
use partrec_core::memory;
use partrec_core::model::cells;
use partrec_core::model::partition::{canonical_row, Partition};
use partrec_sat::{ClauseSink, Control, Footprint, Lit, Solver, Var};

/// How the sample clauses are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    /// The way with the smallest estimated footprint ([`Writing::choose`]).
    #[default]
    Auto,
    /// One clause per (sample, cell, bit) over the value table.
    Off,
    /// Over the value table, projected on this group.
    Group(usize),
    /// Without a value table: one clause per pair of samples with different values,
    /// saying their tokens differ in class in some group.
    Pairs,
}

/// How the sample clauses are written, once [`Projection::Auto`] is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writing {
    /// A clause per (sample, cell, bit) over the value table.
    Direct,
    /// Over the value table, projected on this group.
    Projected(usize),
    /// A clause per pair of samples with different values.
    Pairs,
}

impl Writing {
    /// The writing `projection` asks for on `prep` ([`Shape::writing`]): a choice made
    /// from the prepared instance alone, so a certificate re-derives it.
    pub fn choose(prep: &Prepared, projection: Projection) -> Writing {
        Shape::of(prep).writing(projection)
    }
}

/// The size of a formula: what a sink holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// Clauses.
    pub clauses: u64,
    /// Literals over all clauses.
    pub literals: u64,
    /// Variables.
    pub variables: u64,
}

impl Size {
    /// `count` clauses of `len` literals (and no variable).
    fn clauses(count: u64, len: u64) -> Size {
        Size {
            clauses: count,
            literals: count.saturating_mul(len),
            variables: 0,
        }
    }

    /// `count` variables.
    fn variables(count: u64) -> Size {
        Size {
            variables: count,
            ..Size::default()
        }
    }

    /// This size `times` times over.
    fn times(self, times: u64) -> Size {
        Size {
            clauses: self.clauses.saturating_mul(times),
            literals: self.literals.saturating_mul(times),
            variables: self.variables.saturating_mul(times),
        }
    }

    /// The bytes a sink with `footprint` holds for a formula of this size (saturating).
    pub fn bytes(&self, footprint: Footprint) -> u64 {
        self.clauses
            .saturating_mul(footprint.per_clause)
            .saturating_add(self.literals.saturating_mul(footprint.per_literal))
            .saturating_add(self.variables.saturating_mul(footprint.per_variable))
    }
}

impl std::ops::Add for Size {
    type Output = Size;
    fn add(self, o: Size) -> Size {
        Size {
            clauses: self.clauses.saturating_add(o.clauses),
            literals: self.literals.saturating_add(o.literals),
            variables: self.variables.saturating_add(o.variables),
        }
    }
}

impl std::iter::Sum for Size {
    fn sum<I: Iterator<Item = Size>>(iter: I) -> Size {
        iter.fold(Size::default(), |a, b| a + b)
    }
}

/// Variables beyond this many cannot be numbered (a literal packs one into 31 bits).
pub const MAX_VARIABLES: u64 = 1 << 31;

/// How often (in clauses and variables) the encoder looks at its [`Control`].
const POLL: usize = 1 << 12;

/// A [`ClauseSink`] that counts what passes through it and looks at a [`Control`]
/// every few thousand clauses: once it says stop, [`Counting::stopped`] is true and
/// further clauses are dropped, so an encoder's loops end within a few thousand steps.
pub struct Counting<'a, F: ClauseSink + ?Sized> {
    sink: &'a mut F,
    control: &'a Control,
    stopped: bool,
    /// Variables created so far.
    pub variables: usize,
    /// Clauses added so far.
    pub clauses: usize,
}

impl<'a, F: ClauseSink + ?Sized> Counting<'a, F> {
    /// Wraps `sink`, stopping when `control` says so.
    pub fn new(sink: &'a mut F, control: &'a Control) -> Self {
        Counting {
            sink,
            control,
            stopped: control.should_stop(),
            variables: 0,
            clauses: 0,
        }
    }

    /// Whether the control said stop: the formula is incomplete.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Looks at the control every [`POLL`] steps.
    fn poll(&mut self, steps: usize) {
        if steps.is_multiple_of(POLL) && !self.stopped {
            self.stopped = self.control.should_stop();
        }
    }
}

impl<F: ClauseSink + ?Sized> ClauseSink for Counting<'_, F> {
    fn footprint(&self) -> partrec_sat::Footprint {
        self.sink.footprint()
    }
    fn add_clause(&mut self, literals: &[Lit]) {
        if self.stopped {
            return;
        }
        self.clauses += 1;
        self.sink.add_clause(literals);
        self.poll(self.clauses);
    }
    fn new_var(&mut self) -> Var {
        self.variables += 1;
        self.poll(self.variables);
        self.sink.new_var()
    }
}

/// What the encoder made: the variable map and the formula's size.
#[derive(Clone, Debug)]
pub struct Encoding {
    /// `class_vars[g][p][k]`: token at position `p` of group `g` is in class `k`.
    class_vars: Vec<Vec<Vec<Var>>>,
    /// Per group, the token at each position (a copy of the prepared order).
    order: Vec<Vec<u32>>,
    /// Observed tokens per group, for decoding into compact rows.
    tokens: Vec<u32>,
    /// Number of variables.
    pub variables: usize,
    /// Number of clauses.
    pub clauses: usize,
}

/// What the size of an encoding depends on: per group the observed tokens, the
/// classes they can reach and the must-differ pairs; the samples, the values and the
/// pairs of samples with different values. From a prepared instance exactly
/// ([`Shape::of`]), or as an upper bound from a raw one ([`Shape::bound`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Per group, its observed tokens.
    pub observed: Vec<u64>,
    /// Per group, its classes (as declared).
    pub classes: Vec<u64>,
    /// Per group, its must-differ pairs.
    pub must_differ: Vec<u64>,
    /// Distinct samples.
    pub samples: u64,
    /// Distinct values.
    pub values: usize,
    /// Pairs of samples with different values.
    pub conflicts: u64,
}

impl Shape {
    /// The shape of a prepared instance.
    pub fn of(prep: &Prepared) -> Shape {
        let mut per_value = vec![0u64; prep.values.max(1)];
        for (_, v) in prep.samples() {
            per_value[v as usize] += 1;
        }
        Shape {
            observed: prep.order.iter().map(|o| o.len() as u64).collect(),
            classes: prep.groups().iter().map(|g| u64::from(g.classes)).collect(),
            must_differ: prep.must_differ.iter().map(|p| p.len() as u64).collect(),
            samples: prep.len() as u64,
            values: prep.values,
            conflicts: conflict_pairs(&per_value),
        }
    }

    /// An upper bound on the shape of `instance` once prepared, in one pass over its
    /// samples (no sorting): duplicates are counted, and must-differ pairs at their cap.
    pub fn bound(instance: &partrec_core::model::instance::Instance) -> Shape {
        let mut seen: Vec<std::collections::HashSet<u32>> =
            vec![Default::default(); instance.arity()];
        for s in 0..instance.num_samples() {
            for (g, &t) in instance.x(s).iter().enumerate() {
                seen[g].insert(t);
            }
        }
        Shape::bound_observed(instance, seen.iter().map(|t| t.len() as u64).collect())
    }

    /// [`Shape::bound`] for a caller that has counted each group's `observed` tokens
    /// already (a compaction of the tokens): one pass over the values only.
    pub fn bound_observed(
        instance: &partrec_core::model::instance::Instance,
        observed: Vec<u64>,
    ) -> Shape {
        let mut per_value = vec![0u64; instance.values().len().max(1)];
        for &v in instance.label_ids() {
            per_value[v as usize] += 1;
        }
        Shape {
            must_differ: observed
                .iter()
                .map(|&n| n.saturating_mul(MUST_DIFFER_PER_TOKEN as u64))
                .collect(),
            classes: instance
                .groups()
                .iter()
                .map(|g| u64::from(g.classes))
                .collect(),
            observed,
            samples: instance.num_samples() as u64,
            values: instance.values().len(),
            conflicts: conflict_pairs(&per_value),
        }
    }

    /// Per group, the classes its tokens can reach: value precedence caps them by the
    /// observed token count.
    fn reach(&self) -> impl Iterator<Item = u64> + '_ {
        self.observed
            .iter()
            .zip(&self.classes)
            .map(|(&n, &k)| n.min(k).max(1))
    }

    /// The writing `projection` asks for: `Auto` takes the one with the smallest
    /// estimated footprint in a solver ([`Footprint::SOLVER`]).
    pub fn writing(&self, projection: Projection) -> Writing {
        let last = self.observed.len().saturating_sub(1);
        match projection {
            Projection::Off => Writing::Direct,
            Projection::Group(g) => Writing::Projected(g.min(last)),
            Projection::Pairs => Writing::Pairs,
            Projection::Auto => std::iter::once(Writing::Direct)
                .chain((0..self.observed.len()).map(Writing::Projected))
                .chain([Writing::Pairs])
                .map(|w| (self.samples_size(w, false).bytes(Footprint::SOLVER), w))
                .min_by_key(|&(bytes, _)| bytes)
                .map_or(Writing::Direct, |(_, w)| w),
        }
    }

    /// An upper bound on the size of the encoding written as `projection` asks (with a
    /// selector literal in each sample clause when `guarded`), saturating.
    pub fn size(&self, projection: Projection, guarded: bool) -> Size {
        let writing = self.writing(projection);
        let groups: Size = self
            .observed
            .iter()
            .zip(&self.classes)
            .map(|(&n, &k)| group_size(n, k))
            .sum();
        let must_differ: Size = self
            .must_differ
            .iter()
            .zip(self.reach())
            .map(|(&pairs, k)| Size::clauses(pairs.saturating_mul(k), 2))
            .sum();
        let guards = Size::variables(if guarded { self.samples } else { 0 });
        groups + must_differ + guards + self.samples_size(writing, guarded)
    }

    /// The size of the sample clauses (and the table or pair variables) written as
    /// `writing`, an upper bound.
    fn samples_size(&self, writing: Writing, guarded: bool) -> Size {
        let bits = bits_for(self.values) as u64;
        if bits == 0 || self.samples == 0 {
            return Size::default();
        }
        let reach: Vec<u64> = self.reach().collect();
        let arity = reach.len() as u64;
        let guard = u64::from(guarded);
        let cells = reach.iter().fold(1u64, |a, &r| a.saturating_mul(r));
        let samples = self.samples;
        let table = Size::variables(cells.saturating_mul(bits));
        match writing {
            Writing::Direct => {
                table
                    + Size::clauses(
                        samples.saturating_mul(cells).saturating_mul(bits),
                        arity + 1 + guard,
                    )
            }
            Writing::Projected(g) => {
                let rest = cells / reach[g];
                let tokens = self.observed[g];
                let r_vars = Size::variables(tokens.saturating_mul(rest).saturating_mul(bits));
                let links = Size::clauses(
                    2u64.saturating_mul(tokens)
                        .saturating_mul(reach[g])
                        .saturating_mul(rest)
                        .saturating_mul(bits),
                    3,
                );
                let per_sample = rest.saturating_mul(bits);
                table
                    + r_vars
                    + links
                    + Size::clauses(samples.saturating_mul(per_sample), arity + guard)
            }
            Writing::Pairs => {
                let eq: Size = self
                    .observed
                    .iter()
                    .zip(&reach)
                    .map(|(&n, &k)| {
                        let pairs = self
                            .conflicts
                            .min(n.saturating_mul(n.saturating_sub(1)) / 2);
                        Size::variables(pairs) + Size::clauses(pairs.saturating_mul(2 * k), 3)
                    })
                    .sum();
                eq + Size::clauses(self.conflicts, arity + 2 * guard)
            }
        }
    }
}

/// An upper bound on the size of the encoding of `prep` written as `projection` asks
/// (with a selector literal in each sample clause when `guarded`), computed before
/// anything is built so that what cannot fit is refused at once.
pub fn estimate(prep: &Prepared, projection: Projection, guarded: bool) -> Size {
    Shape::of(prep).size(projection, guarded)
}

/// An upper bound on the clause count of the default encoding (see [`estimate`]).
pub fn estimate_clauses(prep: &Prepared) -> u64 {
    estimate(prep, Projection::Auto, false).clauses
}

/// The size of one group's class variables, exactly-one and value precedence
/// ([`encode_group`]): `n` tokens, at most `classes` classes.
fn group_size(n: u64, classes: u64) -> Size {
    // Token p may take min(p + 1, K) classes: the sizes grow until p = K - 1, then stay.
    let one = |allowed: u64| -> Size {
        let amo = if allowed < LADDER_FROM as u64 {
            Size::clauses(allowed * allowed.saturating_sub(1) / 2, 2)
        } else {
            Size::clauses(4 * allowed, 3) + Size::variables(allowed)
        };
        let tracked = allowed.min(classes.saturating_sub(1));
        Size::clauses(1, allowed)
            + amo
            + Size::clauses(allowed.saturating_sub(1), 2)
            + Size::clauses(3 * tracked, 3)
            + Size::variables(allowed + tracked)
    };
    let growing = n.min(classes);
    let mut size: Size = (1..=growing).map(one).sum();
    if n > growing {
        size = size + one(classes).times(n - growing);
    }
    size
}

/// Number of bits that tell `values` values apart.
fn bits_for(values: usize) -> usize {
    if values <= 1 {
        0
    } else {
        (usize::BITS - (values - 1).leading_zeros()) as usize
    }
}

/// Pairs of distinct samples with different values, from the samples per value.
fn conflict_pairs(per_value: &[u64]) -> u64 {
    let all: u64 = per_value.iter().sum();
    let same: u64 = per_value
        .iter()
        .map(|&n| n.saturating_mul(n.saturating_sub(1)) / 2)
        .sum();
    (all.saturating_mul(all.saturating_sub(1)) / 2).saturating_sub(same)
}

/// Encodes `prep` into `sink`, projecting as asked. Returns `Ok(None)` if `control`
/// said stop before the encoding was complete (the sink then holds part of it).
///
/// ```
/// use partrec_sat::{Cnf, Control};
/// use partrec_solve::encode::{encode, Projection};
/// use partrec_solve::preprocess::Prepared;
/// use partrec_core::model::instance::Instance;
///
/// let text = r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 2, "classes": 2}],
///                "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}]}"#;
/// let instance = Instance::from_json(text.as_bytes(), "example")?;
/// let mut cnf = Cnf::new();
/// let encoding = encode(&Prepared::new(&instance), Projection::Auto, &mut cnf, &Control::new())?
///     .expect("no deadline, so the encoding is complete");
/// assert_eq!(encoding.clauses, cnf.len());
/// # Ok::<(), partrec_core::error::Error>(())
/// ```
pub fn encode<F: ClauseSink + ?Sized>(
    prep: &Prepared,
    projection: Projection,
    sink: &mut F,
    control: &Control,
) -> Result<Option<Encoding>> {
    Ok(encode_any(prep, projection, false, sink, control)?.map(|(e, _)| e))
}

/// [`encode`] with one selector variable per distinct sample (in [`Prepared::samples`]
/// order): each sample's clauses hold only when its selector is true, so solving
/// under assumptions on the selectors decides subsets of the samples, and failed
/// assumptions name a subset that is inconsistent by itself. Must-differ clauses,
/// which follow from pairs of samples, are not guarded: `prep` should be built
/// without them.
pub fn encode_with_selectors<F: ClauseSink + ?Sized>(
    prep: &Prepared,
    sink: &mut F,
    control: &Control,
) -> Result<Option<(Encoding, Vec<Var>)>> {
    encode_any(prep, Projection::Auto, true, sink, control)
}

/// The encoder behind [`encode`] and [`encode_with_selectors`].
fn encode_any<F: ClauseSink + ?Sized>(
    prep: &Prepared,
    projection: Projection,
    guarded: bool,
    sink: &mut F,
    control: &Control,
) -> Result<Option<(Encoding, Vec<Var>)>> {
    let groups = prep.groups();
    let shape = Shape::of(prep);
    let writing = shape.writing(projection);
    let size = shape.size(projection, guarded);
    if size.variables >= MAX_VARIABLES {
        return Err(Error::Usage(format!(
            "the encoding would need about {} variables; at most {MAX_VARIABLES} can be numbered",
            size.variables
        )));
    }
    memory::afford(size.bytes(sink.footprint()), || {
        format!("the encoding (about {} clauses)", size.clauses)
    })?;
    let mut f = Counting::new(sink, control);
    let class_vars: Vec<Vec<Vec<Var>>> = prep
        .order
        .iter()
        .zip(groups)
        .map(|(order, group)| encode_group(order.len(), group.classes as usize, &mut f))
        .collect();
    encode_must_differ(prep, &class_vars, &mut f);
    let guards = guarded.then(|| (0..prep.len()).map(|_| f.new_var()).collect::<Vec<Var>>());
    match writing {
        Writing::Pairs => encode_pairs(prep, &class_vars, guards.as_deref(), &mut f),
        Writing::Direct => encode_samples(prep, &class_vars, None, guards.as_deref(), &mut f),
        Writing::Projected(g) => {
            encode_samples(prep, &class_vars, Some(g), guards.as_deref(), &mut f)
        }
    }
    if f.stopped() {
        return Ok(None);
    }
    Ok(Some((
        Encoding {
            order: prep.order.clone(),
            tokens: groups.iter().map(|g| g.tokens).collect(),
            variables: f.variables,
            clauses: f.clauses,
            class_vars,
        },
        guards.unwrap_or_default(),
    )))
}

/// From this many classes on, at-most-one is written as a ladder, not pairwise.
pub const LADDER_FROM: usize = 6;

/// At most one of `x` true: pairwise for few variables, else a sequential counter
/// whose auxiliary `s[i]` means "some of `x[..=i]` is true" (fully determined by `x`,
/// so each class assignment still has exactly one model).
fn at_most_one<F: ClauseSink + ?Sized>(x: &[Var], f: &mut F) {
    if x.len() < LADDER_FROM {
        for a in 0..x.len() {
            for b in a + 1..x.len() {
                f.add_clause(&[x[a].negative(), x[b].negative()]);
            }
        }
        return;
    }
    let s: Vec<Var> = (0..x.len() - 1).map(|_| f.new_var()).collect();
    for i in 0..x.len() - 1 {
        f.add_clause(&[x[i].negative(), s[i].positive()]);
        f.add_clause(&[x[i + 1].negative(), s[i].negative()]);
        if i + 1 < s.len() {
            f.add_clause(&[s[i].negative(), s[i + 1].positive()]);
        }
    }
    // s[i] only if some x[..=i] is true: keeps the auxiliaries determined.
    f.add_clause(&[s[0].negative(), x[0].positive()]);
    for i in 1..s.len() {
        f.add_clause(&[s[i].negative(), s[i - 1].positive(), x[i].positive()]);
    }
}

/// Class variables, exactly-one and value precedence for one group of `n` observed tokens.
fn encode_group<F: ClauseSink + ?Sized>(
    n: usize,
    classes: usize,
    f: &mut Counting<'_, F>,
) -> Vec<Vec<Var>> {
    let mut vars: Vec<Vec<Var>> = Vec::with_capacity(n);
    let mut prev_seen: Vec<Var> = Vec::new();
    for p in 0..n {
        if f.stopped() {
            break;
        }
        let allowed = (p + 1).min(classes);
        let x: Vec<Var> = (0..allowed).map(|_| f.new_var()).collect();
        f.add_clause(&x.iter().map(|v| v.positive()).collect::<Vec<_>>());
        at_most_one(&x, f);
        // Opening class k needs class k - 1 among the earlier tokens.
        for k in 1..allowed {
            f.add_clause(&[x[k].negative(), prev_seen[k - 1].positive()]);
        }
        if p + 1 < n {
            // seen[k] <-> x[k] or prev_seen[k], for the classes a later token may need.
            let tracked = allowed.min(classes - 1);
            let seen: Vec<Var> = (0..tracked).map(|_| f.new_var()).collect();
            for k in 0..tracked {
                f.add_clause(&[x[k].negative(), seen[k].positive()]);
                match prev_seen.get(k) {
                    Some(prev) => {
                        f.add_clause(&[prev.negative(), seen[k].positive()]);
                        f.add_clause(&[seen[k].negative(), x[k].positive(), prev.positive()]);
                    }
                    None => f.add_clause(&[seen[k].negative(), x[k].positive()]),
                }
            }
            prev_seen = seen;
        }
        vars.push(x);
    }
    vars
}

/// `-class(g, a, k) OR -class(g, b, k)` for every must-differ pair and shared class k.
fn encode_must_differ<F: ClauseSink + ?Sized>(
    prep: &Prepared,
    class_vars: &[Vec<Vec<Var>>],
    f: &mut Counting<'_, F>,
) {
    if f.stopped() {
        return;
    }
    for (g, pairs) in prep.must_differ.iter().enumerate() {
        for &(a, b) in pairs {
            if f.stopped() {
                return;
            }
            let pos = |t: u32| prep.position[g][t as usize] as usize;
            let (xa, xb) = (&class_vars[g][pos(a)], &class_vars[g][pos(b)]);
            for (va, vb) in xa.iter().zip(xb) {
                f.add_clause(&[va.negative(), vb.negative()]);
            }
        }
    }
}

/// The sample clauses. Directly: for each sample and cell its tokens can reach,
/// `OR_h -class(h, x_h, c_h) OR [bit(c, j) == v_j]`. Projected on group g: variables
/// `R(a, r)` = the value of cell (class of a, r) for each observed token a of g and
/// each tuple r of the other groups' classes; each sample needs clauses only over
/// the other groups, `OR_{h != g} -class(h, x_h, r_h) OR [R(x_g, r)_j == v_j]`, and
/// `class(g, a, k) -> (R(a, r)_j <-> bit((k, r), j))` links R to the table.
fn encode_samples<F: ClauseSink + ?Sized>(
    prep: &Prepared,
    class_vars: &[Vec<Vec<Var>>],
    projection: Option<usize>,
    guards: Option<&[Var]>,
    f: &mut Counting<'_, F>,
) {
    let bits = bits_for(prep.values);
    if bits == 0 || prep.is_empty() || f.stopped() {
        return;
    }
    // The classes each group can reach (value precedence caps them by the token count).
    let radix: Vec<usize> = class_vars
        .iter()
        .map(|g| g.last().map_or(1, Vec::len))
        .collect();
    let cells: usize = radix.iter().product();
    let table: Vec<Var> = (0..cells * bits).map(|_| f.new_var()).collect();
    let options = |x: &[u32]| -> Vec<&[Var]> {
        x.iter()
            .enumerate()
            .map(|(h, &t)| class_vars[h][prep.position[h][t as usize] as usize].as_slice())
            .collect()
    };
    let projected = projection.map(|g| project(g, &radix, class_vars, &table, bits, f));
    // One clause per sample, cell (over the groups not projected) and bit, into the
    // table directly or into the projected token's R block.
    let mut clause: Vec<Lit> = Vec::new();
    for (i, (x, value)) in prep.samples().enumerate() {
        if f.stopped() {
            return;
        }
        let mut opts = options(x);
        let (target, index_radix) = match &projected {
            None => (&table, &radix),
            Some(projected) => {
                let g = projected.group;
                opts.remove(g);
                let p = prep.position[g][x[g] as usize] as usize;
                (&projected.r_vars[p], &projected.rest_radix)
            }
        };
        let lens: Vec<usize> = opts.iter().map(|o| o.len()).collect();
        cells::for_each(&lens, |c| {
            let index = cells::index(c.iter().copied(), index_radix);
            for j in 0..bits {
                clause.clear();
                clause.extend(opts.iter().zip(c).map(|(o, &k)| o[k].negative()));
                clause.push(target[index * bits + j].lit((value >> j) & 1 == 1));
                if let Some(guards) = guards {
                    clause.push(guards[i].negative());
                }
                f.add_clause(&clause);
            }
        });
    }
}

/// The sample clauses' projection on one group (see [`encode_samples`]).
struct Projected {
    /// The group projected on.
    group: usize,
    /// The classes each other group can reach, in group order.
    rest_radix: Vec<usize>,
    /// Per observed token of the group (by position), its `R` variables over the other
    /// groups' cells, `bits` per cell.
    r_vars: Vec<Vec<Var>>,
}

/// The projection on group `g`: per observed token of g, a block of `R` variables over
/// the other groups' cells, with the clauses linking them to `table` (the cells of
/// `radix`, `bits` variables each).
fn project<F: ClauseSink + ?Sized>(
    g: usize,
    radix: &[usize],
    class_vars: &[Vec<Vec<Var>>],
    table: &[Var],
    bits: usize,
    f: &mut Counting<'_, F>,
) -> Projected {
    let rest_radix: Vec<usize> = radix
        .iter()
        .enumerate()
        .filter(|&(h, _)| h != g)
        .map(|(_, &r)| r)
        .collect();
    let rest_cells: usize = rest_radix.iter().product();
    let r_vars: Vec<Vec<Var>> = class_vars[g]
        .iter()
        .map(|_| (0..rest_cells * bits).map(|_| f.new_var()).collect())
        .collect();
    for (x_g, r) in class_vars[g].iter().zip(&r_vars) {
        if f.stopped() {
            break;
        }
        for (k, class) in x_g.iter().enumerate() {
            cells::for_each(&rest_radix, |rest| {
                let ri = cells::index(rest.iter().copied(), &rest_radix);
                let full = rest[..g]
                    .iter()
                    .copied()
                    .chain([k])
                    .chain(rest[g..].iter().copied());
                let ti = cells::index(full, radix);
                for j in 0..bits {
                    let (rv, tv) = (r[ri * bits + j], table[ti * bits + j]);
                    f.add_clause(&[class.negative(), rv.negative(), tv.positive()]);
                    f.add_clause(&[class.negative(), rv.positive(), tv.negative()]);
                }
            });
        }
    }
    Projected {
        group: g,
        rest_radix,
        r_vars,
    }
}

/// Token pairs of one group up to this many (n^2) get their `eq` variables from a
/// dense index; larger groups from a hash map.
const DENSE_PAIRS: usize = 1 << 22;

/// The `eq(g, a, b)` variables of the pairwise writing ("tokens a and b of group g are
/// in one class"), made when first needed, each with the clauses that define it.
struct SameClass<'p> {
    prep: &'p Prepared,
    dense: Vec<Option<Vec<Option<Var>>>>,
    sparse: Vec<std::collections::HashMap<(u32, u32), Var>>,
}

impl<'p> SameClass<'p> {
    fn new(prep: &'p Prepared) -> Self {
        let dense = prep
            .order
            .iter()
            .map(|o| {
                let n = o.len();
                (n.saturating_mul(n) <= DENSE_PAIRS).then(|| vec![None; n * n])
            })
            .collect();
        SameClass {
            prep,
            dense,
            sparse: vec![Default::default(); prep.order.len()],
        }
    }

    /// `eq(g, a, b)` for compact tokens `a != b`; new ones are defined by
    /// `eq <-> OR_k (class(a, k) AND class(b, k))`, written as `class(a, k) AND
    /// class(b, k) -> eq` and `eq AND class(a, k) -> class(b, k)`, which with
    /// exactly one class per token makes `eq` a function of the classes.
    fn var<F: ClauseSink + ?Sized>(
        &mut self,
        g: usize,
        a: u32,
        b: u32,
        class_vars: &[Vec<Vec<Var>>],
        f: &mut F,
    ) -> Var {
        let (a, b) = (a.min(b), a.max(b));
        let n = self.prep.order[g].len();
        let known = match &self.dense[g] {
            Some(index) => index[a as usize * n + b as usize],
            None => self.sparse[g].get(&(a, b)).copied(),
        };
        if let Some(v) = known {
            return v;
        }
        let eq = f.new_var();
        let pos = |t: u32| self.prep.position[g][t as usize] as usize;
        let (xa, xb) = (&class_vars[g][pos(a)], &class_vars[g][pos(b)]);
        for (k, va) in xa.iter().enumerate() {
            match xb.get(k) {
                Some(vb) => {
                    f.add_clause(&[va.negative(), vb.negative(), eq.positive()]);
                    f.add_clause(&[eq.negative(), va.negative(), vb.positive()]);
                }
                None => f.add_clause(&[eq.negative(), va.negative()]),
            }
        }
        // Classes only b can take: b there means not eq (a cannot follow).
        for vb in xb.iter().skip(xa.len()) {
            f.add_clause(&[eq.negative(), vb.negative()]);
        }
        match &mut self.dense[g] {
            Some(index) => index[a as usize * n + b as usize] = Some(eq),
            None => {
                self.sparse[g].insert((a, b), eq);
            }
        }
        eq
    }
}

/// The pairwise writing: for each pair of distinct samples with different values,
/// `OR_{g: x_g != x'_g} -eq(g, x_g, x'_g)`: the two fall in different cells, so no
/// table is needed. Its size follows the pairs of samples, not the cells, which wins
/// for many groups or many classes and few samples.
fn encode_pairs<F: ClauseSink + ?Sized>(
    prep: &Prepared,
    class_vars: &[Vec<Vec<Var>>],
    guards: Option<&[Var]>,
    f: &mut Counting<'_, F>,
) {
    if bits_for(prep.values) == 0 || f.stopped() {
        return;
    }
    let samples: Vec<(&[u32], u32)> = prep.samples().collect();
    let mut same = SameClass::new(prep);
    let mut clause: Vec<Lit> = Vec::new();
    for (s, &(xs, vs)) in samples.iter().enumerate() {
        if f.stopped() {
            return;
        }
        for (t, &(xt, vt)) in samples.iter().enumerate().skip(s + 1) {
            if vs == vt {
                continue;
            }
            clause.clear();
            for (g, (&a, &b)) in xs.iter().zip(xt).enumerate() {
                if a != b {
                    clause.push(same.var(g, a, b, class_vars, f).negative());
                }
            }
            if let Some(guards) = guards {
                clause.extend([guards[s].negative(), guards[t].negative()]);
            }
            f.add_clause(&clause);
        }
    }
}

impl Encoding {
    /// The class variables of the token at `position` of group `group`'s order, one per
    /// class it may take (value precedence cuts the rest).
    pub fn class_vars(&self, group: usize, position: usize) -> &[Var] {
        &self.class_vars[group][position]
    }

    /// Per group, the observed tokens in encoding order.
    pub fn order(&self) -> &[Vec<u32>] {
        &self.order
    }

    /// Decodes the solver's model into a partition of the observed tokens, in the
    /// compact ids of [`partrec_core::model::compact`].
    pub fn decode(&self, solver: &dyn Solver) -> Partition {
        let mut partition: Partition = self.tokens.iter().map(|&n| vec![0; n as usize]).collect();
        for (g, vars) in self.class_vars.iter().enumerate() {
            for (p, class) in partrec_sat::first_true(solver, vars)
                .into_iter()
                .enumerate()
            {
                partition[g][self.order[g][p] as usize] = class;
            }
        }
        partition
    }

    /// A clause excluding exactly the model of `partition` (of any labelling): its
    /// observed tokens' classes, renumbered by first occurrence in the encoding order
    /// as value precedence demands.
    pub fn blocking_clause(&self, partition: &[Vec<u32>]) -> Vec<Lit> {
        let mut clause = Vec::new();
        for (g, vars) in self.class_vars.iter().enumerate() {
            let row: Vec<u32> = self.order[g]
                .iter()
                .map(|&t| partition[g][t as usize])
                .collect();
            for (x, class) in vars.iter().zip(canonical_row(&row)) {
                clause.push(x[class as usize].negative());
            }
        }
        clause
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::PrepareOptions;
    use partrec_core::model::instance::Instance;

    #[test]
    fn bit_counts() {
        assert_eq!(bits_for(0), 0);
        assert_eq!(bits_for(1), 0);
        assert_eq!(bits_for(2), 1);
        assert_eq!(bits_for(3), 2);
        assert_eq!(bits_for(4), 2);
        assert_eq!(bits_for(5), 3);
    }

    #[test]
    fn counts_match_the_estimate_order_and_the_formula() {
        let inst = Instance::from_json(
            br#"{"groups": [{"tokens": 3, "classes": 2}, {"tokens": 2, "classes": 2}],
                 "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 1], "y": 1}, {"x": [2, 0], "y": 1}]}"#,
            "t",
        )
        .unwrap();
        let prep = Prepared::new(&inst);
        let mut formula = partrec_sat::Cnf::new();
        let enc = encode(&prep, Projection::Off, &mut formula, &Control::new())
            .unwrap()
            .unwrap();
        assert_eq!(enc.variables, formula.variables());
        assert_eq!(enc.clauses, formula.len());
        assert!(enc.clauses as u64 <= estimate_clauses(&prep));
        // Group 0: tokens 0 and 2 must differ ((0,0)->0 vs (2,0)->1), so that clique
        // comes first, then token 1. Group 1: token 0 (twice) before token 1.
        assert_eq!(enc.order(), &[vec![0, 2, 1], vec![0, 1]]);
        assert!(
            enc.class_vars(0, 1).len() == 2,
            "token 2 may open class 1 (it must)"
        );
        assert!(
            enc.class_vars(0, 0).len() == 1,
            "first token is fixed to class 0"
        );
    }

    #[test]
    fn the_estimate_bounds_every_encoding() {
        use partrec_core::generate::{generate, GenerateParams};
        let mut pairs_chosen = 0;
        for seed in 0..60u64 {
            let groups = 2 + (seed % 3) as usize;
            let k = 2 + (seed % 6) as u32;
            let p = GenerateParams {
                tokens: vec![12; groups],
                classes: vec![k.min(12); groups],
                values: 2 + (seed % 3) as u32,
                samples: 20 + 7 * seed as usize,
                seed,
                zipf: None,
            };
            let Ok(inst) = generate(&p, None) else {
                continue;
            };
            let prep = Prepared::new(&inst);
            pairs_chosen += usize::from(Writing::choose(&prep, Projection::Auto) == Writing::Pairs);
            for (projection, guarded) in [
                (Projection::Auto, false),
                (Projection::Off, false),
                (Projection::Group(1), false),
                (Projection::Pairs, false),
                (Projection::Auto, true),
                (Projection::Pairs, true),
            ] {
                let mut formula = partrec_sat::Cnf::new();
                let never = Control::new();
                let enc = if guarded {
                    let prep = Prepared::with_options(&inst, PrepareOptions { must_differ: false });
                    let est = estimate(&prep, projection, true);
                    let (e, _) = encode_any(&prep, projection, true, &mut formula, &never)
                        .unwrap()
                        .unwrap();
                    (e, est)
                } else {
                    let e = encode(&prep, projection, &mut formula, &never)
                        .unwrap()
                        .unwrap();
                    (e, estimate(&prep, projection, false))
                };
                let (enc, est) = enc;
                let literals: u64 = formula.clauses().map(|c| c.len() as u64).sum();
                let what = format!("seed {seed} {projection:?} guarded {guarded}");
                assert!(
                    enc.clauses as u64 <= est.clauses,
                    "{what}: {} > {est:?}",
                    enc.clauses
                );
                assert!(literals <= est.literals, "{what}: {literals} > {est:?}");
                assert!(
                    enc.variables as u64 <= est.variables,
                    "{what}: {} > {est:?}",
                    enc.variables
                );
                // For the writing chosen, a bound, not a guess: within a small factor
                // of the truth.
                if projection == Projection::Auto {
                    assert!(est.clauses <= 3 * enc.clauses as u64 + 300, "{what}");
                    assert!(est.literals <= 3 * literals + 900, "{what}");
                }
            }
        }
        assert!(pairs_chosen > 0, "no instance chose the pairwise writing");
    }

    #[test]
    fn the_pairwise_writing_has_one_model_per_partition() {
        // Brute force over tiny instances: the solver's count of models (blocking each)
        // equals the count with the table writing.
        for seed in 0..200u64 {
            let inst = partrec_core::generate::generate(
                &partrec_core::generate::GenerateParams {
                    tokens: vec![3, 3, 2],
                    classes: vec![2, 3, 2],
                    values: 2 + (seed % 2) as u32,
                    samples: 3 + (seed % 5) as usize,
                    seed,
                    zipf: None,
                },
                None,
            )
            .unwrap();
            let prep = Prepared::new(&inst);
            let count = |projection| {
                let mut s = partrec_sat::Backend::Cadical.solver();
                let enc = encode(&prep, projection, s.as_mut(), &Control::new())
                    .unwrap()
                    .unwrap();
                let mut n = 0;
                while s.solve(&[]).unwrap() == partrec_sat::Outcome::Sat {
                    n += 1;
                    let p = enc.decode(s.as_ref());
                    s.add_clause(&enc.blocking_clause(&p));
                    assert!(n < 10_000);
                }
                n
            };
            assert_eq!(
                count(Projection::Pairs),
                count(Projection::Off),
                "seed {seed}"
            );
        }
    }
}
