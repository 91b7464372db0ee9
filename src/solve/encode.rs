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
//! [`crate::sat::Cnf`] for DIMACS output.

use crate::error::{Error, Result};
use crate::model::cells;
use crate::model::partition::{canonical_row, Partition};
use crate::sat::{ClauseSink, Control, Lit, Solver, Var};
use crate::solve::preprocess::Prepared;

/// How the sample clauses are written (one clause per sample, cell and bit, or projected on one group).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Projection {
    /// Project on the group that gives the fewest clauses, or not at all if that is fewest.
    #[default]
    Auto,
    /// One clause per (sample, cell, bit).
    Off,
    /// Project on this group.
    Group(usize),
}

/// Encodings larger than this many clauses (2^25, about 33.5 million: some 1.3 GB in
/// the solver, which holds about 40 bytes a clause) are refused up front, before
/// anything is built. The I = 2, N = 100,000 instances of the README (27 million
/// clauses) fit.
pub const MAX_CLAUSES: u64 = 1 << 25;

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

/// Number of bits that tell `values` values apart.
fn bits_for(values: usize) -> usize {
    if values <= 1 {
        0
    } else {
        (usize::BITS - (values - 1).leading_zeros()) as usize
    }
}

/// An upper bound on the clause count of the default (`Projection::Auto`) encoding,
/// computed before anything is built so that hopeless instances are refused at once
/// (saturates instead of overflowing).
pub fn estimate_clauses(prep: &Prepared) -> u64 {
    let reach: Vec<u64> = prep
        .order
        .iter()
        .zip(prep.groups())
        .map(|(o, g)| (o.len() as u64).min(u64::from(g.classes)))
        .collect();
    let cells = reach.iter().fold(1u64, |a, &r| a.saturating_mul(r.max(1)));
    let bits = bits_for(prep.values) as u64;
    let samples = prep.len() as u64;
    // Direct: a clause per (sample, cell, bit). Projected on g (what `encode` picks
    // by default): a clause per (sample, cell of the other groups, bit), plus two link
    // clauses per (token of g, cell, bit).
    let sample_clauses = match best_projection(prep) {
        None => samples.saturating_mul(cells).saturating_mul(bits),
        Some(g) => {
            let per_sample = (cells / reach[g].max(1)).saturating_mul(bits);
            let links = 2u64
                .saturating_mul(prep.order[g].len() as u64)
                .saturating_mul(cells)
                .saturating_mul(bits);
            samples.saturating_mul(per_sample).saturating_add(links)
        }
    };
    let tokens: u64 = reach
        .iter()
        .zip(&prep.order)
        .map(|(&k, o)| {
            let amo = if k < LADDER_FROM as u64 { k * k } else { 6 * k };
            (o.len() as u64).saturating_mul(amo + 3 * k)
        })
        .sum();
    let must_differ: u64 = prep
        .must_differ
        .iter()
        .zip(&reach)
        .map(|(pairs, &k)| (pairs.len() as u64).saturating_mul(k))
        .sum();
    sample_clauses
        .saturating_add(tokens)
        .saturating_add(must_differ)
}

/// The group whose projection gives the fewest sample and link clauses, if any beats
/// the direct encoding: projection on g divides the per-sample clauses by K_g and adds
/// 2 K_g (cells / K_g) clauses per observed token of g (sizes estimated with full K).
pub fn best_projection(prep: &Prepared) -> Option<usize> {
    let groups = prep.groups();
    let k: Vec<f64> = groups.iter().map(|g| f64::from(g.classes)).collect();
    let cells: f64 = k.iter().product();
    let s = prep.len() as f64;
    let direct = s * cells;
    (0..groups.len())
        .map(|g| {
            (
                g,
                s * cells / k[g] + 2.0 * prep.order[g].len() as f64 * cells,
            )
        })
        .filter(|&(_, size)| size < direct)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(g, _)| g)
}

/// Encodes `prep` into `sink`, projecting as asked. Returns `Ok(None)` if `control`
/// said stop before the encoding was complete (the sink then holds part of it).
///
/// ```
/// use partrec::sat::{Cnf, Control};
/// use partrec::solve::encode::{encode, Projection};
/// use partrec::solve::preprocess::Prepared;
/// use partrec::Instance;
///
/// let text = r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 2, "classes": 2}],
///                "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}]}"#;
/// let instance = Instance::from_json(text.as_bytes(), "example")?;
/// let mut cnf = Cnf::new();
/// let encoding = encode(&Prepared::new(&instance), Projection::Auto, &mut cnf, &Control::new())?
///     .expect("no deadline, so the encoding is complete");
/// assert_eq!(encoding.clauses, cnf.len());
/// # Ok::<(), partrec::Error>(())
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
    let estimate = estimate_clauses(prep);
    if estimate > MAX_CLAUSES {
        return Err(Error::Usage(format!(
            "instance too large to encode: about {estimate} clauses (limit {MAX_CLAUSES})"
        )));
    }
    let projection = match projection {
        Projection::Off => None,
        Projection::Group(g) => Some(g.min(groups.len() - 1)),
        Projection::Auto => best_projection(prep),
    };
    let mut f = Counting::new(sink, control);
    let class_vars: Vec<Vec<Vec<Var>>> = prep
        .order
        .iter()
        .zip(groups)
        .map(|(order, group)| encode_group(order.len(), group.classes as usize, &mut f))
        .collect();
    encode_must_differ(prep, &class_vars, &mut f);
    let guards = guarded.then(|| (0..prep.len()).map(|_| f.new_var()).collect::<Vec<Var>>());
    encode_samples(prep, &class_vars, projection, guards.as_deref(), &mut f);
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
    // Projected on g: per observed token of g, a block of R variables over the other
    // groups' cells, linked to the table.
    let projected = projection.map(|g| {
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
                    let ti = cells::index(full, &radix);
                    for j in 0..bits {
                        let (rv, tv) = (r[ri * bits + j], table[ti * bits + j]);
                        f.add_clause(&[class.negative(), rv.negative(), tv.positive()]);
                        f.add_clause(&[class.negative(), rv.positive(), tv.negative()]);
                    }
                });
            }
        }
        (g, rest_radix, r_vars)
    });
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
            Some((g, rest_radix, r_vars)) => {
                opts.remove(*g);
                let p = prep.position[*g][x[*g] as usize] as usize;
                (&r_vars[p], rest_radix)
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
    /// compact ids of [`crate::model::compact`].
    pub fn decode(&self, solver: &dyn Solver) -> Partition {
        let mut partition: Partition = self.tokens.iter().map(|&n| vec![0; n as usize]).collect();
        for (g, vars) in self.class_vars.iter().enumerate() {
            for (p, class) in crate::sat::first_true(solver, vars).into_iter().enumerate() {
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
    use crate::Instance;

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
        let mut formula = crate::sat::Cnf::new();
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
        use crate::experiment::generate::{generate, GenerateParams};
        for seed in 0..40u64 {
            let groups = 2 + (seed % 2) as usize;
            let k = 2 + (seed % 6) as u32;
            let p = GenerateParams {
                tokens: vec![12; groups],
                classes: vec![k.min(12); groups],
                values: 2 + (seed % 3) as u32,
                samples: 20 + 7 * seed as usize,
                seed,
            };
            let Ok(inst) = generate(&p, None) else {
                continue;
            };
            let prep = Prepared::new(&inst);
            let mut formula = crate::sat::Cnf::new();
            let enc = encode(&prep, Projection::Auto, &mut formula, &Control::new())
                .unwrap()
                .unwrap();
            let estimate = estimate_clauses(&prep);
            assert!(
                enc.clauses as u64 <= estimate,
                "seed {seed}: {} > {estimate}",
                enc.clauses
            );
            // A bound, not a guess: within a small factor of the truth.
            assert!(estimate <= 3 * enc.clauses as u64 + 100, "seed {seed}");
        }
    }
}
