//! The solve driver: prepare, encode into varisat, solve, decode, check, and
//! keep solving with blocking clauses to decide uniqueness or count partitions.
//!
//! Counting works on the observed tokens (each partition of them has exactly
//! one model, see [`crate::solve::encode`](mod@crate::solve::encode)); free tokens are accounted for exactly by
//! [`free_extensions`]. Every partition reported (the answer and the witness)
//! has passed [`crate::check::check`]; a failure there is an internal error,
//! never output. `unsat` is reported only when the solver finished its search
//! (or two samples with the same tokens disagree, which is a proof by itself).

pub mod dimacs;
pub mod encode;
pub mod explain;
pub mod identify;
pub mod local_search;
pub mod maxsat;
pub mod preprocess;
pub mod propagate;
pub mod table;

use crate::check::check;
use crate::error::{Error, InputKind, Location, Result};
use crate::model::compact::TokenMap;
use crate::model::instance::{Instance, TableEntry};
use crate::model::partition::{canonical, canonical_row, Partition};
use crate::model::solution::{Solution, Status};
use crate::sat::{Backend, Control, Outcome, Phase, Solver, Tuning};
use crate::solve::encode::{encode, Encoding, Projection};
use crate::solve::preprocess::{PrepareOptions, Prepared};
use crate::solve::propagate::{propagate, Propagated, Quotient};
use std::time::Instant;

/// What to decide beyond finding one partition, and how to preprocess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SolveOptions {
    /// Count consistent partitions up to this many: 1 only finds one, 2 decides uniqueness.
    pub limit: u64,
    /// Which preprocessing steps run (all by default).
    pub prepare: PrepareOptions,
    /// How the sample clauses are written (the smallest, by default).
    pub projection: Projection,
    /// Whether a local search is tried before SAT.
    pub local_search: LocalSearch,
    /// The SAT backend.
    pub backend: Backend,
    /// Whether class propagation ([`propagate::propagate`]) runs before the search.
    #[serde(default = "on")]
    pub propagate: bool,
    /// Refuse to build an encoding estimated above this many clauses (after propagation,
    /// so it bounds what is actually built); `None`: no count limit, only the memory
    /// budget.
    #[serde(default)]
    pub max_clauses: Option<u64>,
    /// The memory budget of this solve in bytes (`None`: the process's,
    /// [`crate::memory::budget`]): the encodings it would build (one per portfolio
    /// member) are estimated first and refused as [`Error::Budget`] when they exceed it.
    #[serde(default)]
    pub max_memory: Option<u64>,
    /// How the search runs (chosen from the instance by default).
    #[serde(default)]
    pub strategy: Strategy,
    /// The backend's parameter preset (the portfolio sets its members' own).
    #[serde(default)]
    pub tuning: Tuning,
    /// Certify the claim the answer makes (`unsat`, `unique`, a complete count) with
    /// a DRAT proof ([`crate::proof::certify`]), in [`Solution::certificate`].
    #[serde(default)]
    pub certify: bool,
    /// On a sat answer, also compute what every consistent partition agrees on
    /// ([`identify::identify`]), in [`Solution::identified`], [`Solution::pinned`],
    /// [`Solution::frame`] and [`Solution::pinned_counts`].
    #[serde(default)]
    pub identify: bool,
    /// Renames the formula by this seed before CDCL ([`crate::sat::shuffle`]): the same
    /// answers by another search path. The portfolio's second member is always renamed,
    /// by this seed + 1 (1 without one).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Find a partition violating the fewest samples (by weight) instead of one
    /// violating none ([`maxsat`]); with `limit >= 2`, also whether it is the only
    /// optimal one.
    #[serde(default)]
    pub max_consistent: bool,
}

/// How the search runs after preprocessing and propagation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Chosen from the instance: see [`Strategy::resolve`].
    #[default]
    Auto,
    /// Local search, then CDCL with blocking clauses.
    Cdcl,
    /// The table-first search ([`table`]) on every core.
    Table,
    /// Two CDCL searches side by side, the first to decide stopping the other, both
    /// with CaDiCaL tuned for satisfiable formulas: the local search then CDCL, and
    /// CDCL from the start on the formula renamed by another seed.
    Portfolio,
}

impl Strategy {
    /// Every strategy, in `--strategy` order.
    pub const ALL: [Strategy; 4] = [
        Strategy::Auto,
        Strategy::Cdcl,
        Strategy::Table,
        Strategy::Portfolio,
    ];

    /// Its name, as in `--strategy`.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Auto => "auto",
            Strategy::Cdcl => "cdcl",
            Strategy::Table => "table",
            Strategy::Portfolio => "portfolio",
        }
    }

    /// The strategy that runs on `prep` with `backend`. `Auto` becomes
    /// [`Strategy::Portfolio`] on instances with three or more groups and at most
    /// [`AUTO_SAMPLES`] distinct samples (the hard band: there one CDCL configuration
    /// often decides within seconds where the other stalls) when the backend can be
    /// interrupted (the loser must stop), else [`Strategy::Cdcl`]: with two groups
    /// CDCL decides the README's sweeps in seconds, and large instances would pay
    /// for two encodings.
    pub fn resolve(self, prep: &Prepared, backend: Backend) -> Strategy {
        match self {
            Strategy::Auto
                if prep.groups().len() >= 3
                    && prep.len() <= AUTO_SAMPLES
                    && backend.interruptible() =>
            {
                Strategy::Portfolio
            }
            Strategy::Auto => Strategy::Cdcl,
            s => s,
        }
    }
}

/// What preprocessing holds per sample beside the instance: compact token copies,
/// sort keys and indices (bytes per token of a sample, and per sample).
const PREPARE_BYTES_PER_TOKEN: u64 = 16;
/// See [`PREPARE_BYTES_PER_TOKEN`].
const PREPARE_BYTES_PER_SAMPLE: u64 = 48;

/// `Auto` runs the portfolio only with at most this many distinct samples.
pub const AUTO_SAMPLES: usize = 20_000;

/// The default of switches that are on unless asked otherwise.
fn on() -> bool {
    true
}

/// The local search tried before SAT (see [`crate::solve::local_search`]). It can only find
/// partitions, never refute, so on an instance without one its budget is lost time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalSearch {
    /// Budget [`LOCAL_SEARCH_WORK`], on instances with at least three groups and
    /// [`LOCAL_SEARCH_MIN_TOKENS`] observed tokens, where it affords
    /// [`LOCAL_SEARCH_MIN_STEPS`] steps. Measured: with two groups the projected CDCL
    /// encoding decides every point of the README sweep in seconds, and the local
    /// search is the weaker method there (10 s where SAT needs milliseconds at
    /// ratio 1); with three groups CDCL times out just above the identifiability
    /// threshold, where the local search finds partitions in a fraction of a second.
    /// Smaller instances are instant for SAT, and on large ones a step is expensive.
    Auto,
    /// Never.
    Off,
    /// Always, with this budget in sample updates.
    Work(u64),
}

/// The automatic local-search budget in sample updates (about 3 s on this machine).
pub const LOCAL_SEARCH_WORK: u64 = 100_000_000;

/// Fewer observed tokens than this: no automatic local search.
pub const LOCAL_SEARCH_MIN_TOKENS: usize = 64;

/// The automatic local search runs only if its budget allows this many steps.
pub const LOCAL_SEARCH_MIN_STEPS: u64 = 100;

impl LocalSearch {
    /// The budget for `prep`, or `None` when the search does not run.
    fn budget(self, prep: &Prepared) -> Option<u64> {
        let groups = prep.groups();
        match self {
            LocalSearch::Off => None,
            LocalSearch::Work(w) => Some(w),
            LocalSearch::Auto => {
                let tokens: usize = prep.order.iter().map(Vec::len).sum();
                let per_step = 2
                    * prep.len() as u64
                    * groups.iter().map(|g| u64::from(g.classes)).sum::<u64>();
                let affordable =
                    per_step.saturating_mul(LOCAL_SEARCH_MIN_STEPS) <= LOCAL_SEARCH_WORK;
                (groups.len() >= 3 && tokens >= LOCAL_SEARCH_MIN_TOKENS && affordable)
                    .then_some(LOCAL_SEARCH_WORK)
            }
        }
    }
}

impl SolveOptions {
    /// Find one consistent partition.
    pub fn find() -> Self {
        Self::count(1)
    }
    /// Find one and decide whether it is the only one.
    pub fn unique() -> Self {
        Self::count(2)
    }
    /// Count consistent partitions up to `limit` (at least 1).
    pub fn count(limit: u64) -> Self {
        SolveOptions {
            limit: limit.max(1),
            prepare: PrepareOptions::default(),
            projection: Projection::Auto,
            local_search: LocalSearch::Auto,
            backend: Backend::default(),
            propagate: true,
            max_clauses: None,
            max_memory: None,
            strategy: Strategy::Auto,
            tuning: Tuning::Default,
            seed: None,
            certify: false,
            identify: false,
            max_consistent: false,
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Strategy::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                format!("unknown strategy {s:?} (expected auto, cdcl, table or portfolio)")
            })
    }
}

/// Free tokens beyond this many change no capped count: see [`free_placements`].
const SATURATING_FREE: u64 = 128;

/// Number of ways to place `free` unconstrained tokens into a group whose other
/// tokens use `used` classes, with at most `max` classes in all, counted as
/// distinct partitions and capped at `cap`.
///
/// The recurrence `ways_f(m) = m ways_{f-1}(m) + ways_{f-1}(m+1)` (stay in one of
/// the m classes, or open class m+1 if m < max) only reads classes up to
/// `used + f`, so the table spans `used..=min(max, used + f)`. Its time does not
/// follow `free` or `max` beyond 128 (`SATURATING_FREE`): the counts never decrease
/// with f, and with `max >= 2` they exceed 2^(f-2) >= any u64 cap once f >= 66,
/// while with `max = 1` every count is 1. So after that many steps the answer is
/// the one for all `free` tokens.
pub fn free_placements(free: u64, used: usize, max: usize, cap: u64) -> u64 {
    let used = used.min(max);
    let steps = free.min(SATURATING_FREE) as usize;
    let top = max.min(used + steps);
    // ways[i] = placements of the remaining tokens when used + i classes are in use.
    let mut ways = vec![1u64; top - used + 1];
    for _ in 0..steps {
        for i in 0..ways.len() {
            let m = used + i;
            let stay = (m as u64).saturating_mul(ways[i]);
            let open = if m < max {
                // Beyond the table the (wrong) value only reaches index 0 after more
                // steps than remain, so reading 1 there is harmless.
                ways.get(i + 1).copied().unwrap_or(1)
            } else {
                0
            };
            ways[i] = stay.saturating_add(open).min(cap);
        }
    }
    ways[0]
}

/// Number of full partitions that extend one partition of the observed tokens (using
/// `used[g]` classes in group g), capped at `cap`.
pub fn free_extensions(instance: &Instance, map: &TokenMap, used: &[usize], cap: u64) -> u64 {
    let groups = instance.groups();
    groups.iter().enumerate().fold(1u64, |acc, (g, group)| {
        let free = map.free(g, groups);
        let ways = free_placements(free, used[g], group.classes as usize, cap);
        acc.saturating_mul(ways).min(cap)
    })
}

/// A second partition that differs from `partition` only in where one free token sits.
///
/// Moving one free token suffices: with two or more placements in some group, the
/// first free token of that group can go to another class (a used one, or a new one).
pub(crate) fn free_token_witness(
    instance: &Instance,
    map: &TokenMap,
    partition: &[Vec<u32>],
) -> Option<Partition> {
    for (g, group) in instance.groups().iter().enumerate() {
        let Some(t) = map.first_free(g, instance.groups()) else {
            continue;
        };
        let base = canonical_row(&partition[g]);
        let open = (base.iter().max().map_or(0, |&m| m + 1)).min(group.classes - 1);
        for class in 0..=open {
            let mut row = partition[g].clone();
            row[t as usize] = class;
            if canonical_row(&row) != base {
                let mut witness = partition.to_vec();
                witness[g] = row;
                return Some(canonical(&witness));
            }
        }
    }
    None
}

/// The observed cells of `partition` with their values, sorted by cell.
pub fn observed_table(instance: &Instance, partition: &[Vec<u32>]) -> Vec<TableEntry> {
    let cells = crate::check::cells(instance, partition, |_, _| {});
    let mut table: Vec<TableEntry> = cells
        .into_iter()
        .map(|(cell, s)| TableEntry {
            cell,
            y: instance.y(s).clone(),
        })
        .collect();
    table.sort_by(|a, b| a.cell.cmp(&b.cell));
    table
}

/// Runs the checker on a partition the solver produced; anything but "consistent" is a bug.
fn verified(instance: &Instance, partition: Partition, what: &str) -> Result<Partition> {
    let verdict = check(instance, &partition)
        .map_err(|m| Error::Internal(format!("the {what} has the wrong shape: {m}")))?;
    if !verdict.consistent {
        return Err(Error::Internal(format!(
            "the {what} failed the consistency check ({} conflicting samples)",
            verdict.conflicting_samples
        )));
    }
    Ok(partition)
}

/// Solves `instance` without a deadline; see [`solve_with`].
///
/// ```
/// use partrec::solve::{solve, SolveOptions};
/// use partrec::{Instance, Status};
///
/// // Two groups of two tokens; the value tells group 0's tokens apart.
/// let text = r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 2, "classes": 1}],
///                "samples": [{"x": [0, 0], "y": "a"}, {"x": [1, 1], "y": "b"},
///                            {"x": [0, 1], "y": "a"}]}"#;
/// let instance = Instance::from_json(text.as_bytes(), "example")?;
/// let solution = solve(&instance, &SolveOptions::unique(), &mut |_| {})?;
/// assert_eq!(solution.status, Status::Sat);
/// assert_eq!(solution.unique, Some(true));
/// assert_eq!(solution.partition, Some(vec![vec![0, 1], vec![0, 0]]));
/// # Ok::<(), partrec::Error>(())
/// ```
pub fn solve(
    instance: &Instance,
    options: &SolveOptions,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    solve_with(instance, options, &Control::new(), progress)
}

/// Solves `instance`, calling `progress` with the sizes once preprocessing is done
/// (status `unknown`), then with each improved partial answer (first partition found,
/// non-uniqueness proven), before returning the final one.
///
/// When `control` says stop (its deadline, or [`Control::stop`] from another thread),
/// the answer keeps what was proven, marks the rest unknown and sets
/// `stats.timed_out`. An interruptible backend ([`Backend::interruptible`]) stops
/// within its polling interval; varisat only between SAT calls and phases, so callers
/// that need a hard deadline with varisat run it in a child ([`crate::worker`]).
///
/// With `options.certify`, a claim (`unsat`, `unique`, a complete count) is certified
/// afterwards ([`crate::proof::certify`]); if `control` stops that, the claim is
/// withdrawn (unknown), never left unproven.
pub fn solve_with(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    if options.max_consistent && options.limit > 2 {
        return Err(Error::Usage(
            "a maximum-consistency search decides uniqueness (unique) but does not count further"
                .into(),
        ));
    }
    if options.max_consistent && (options.certify || options.identify) {
        return Err(Error::Usage(
            "a maximum-consistency answer is neither certified nor identified: certificates and identify speak of partitions consistent with every sample".into(),
        ));
    }
    crate::model::compact::listable(instance.groups())?;
    afford_answer(instance, options)?;
    let (mut out, reduced) = if options.max_consistent {
        (maxsat::solve(instance, options, control, progress)?, None)
    } else {
        search(instance, options, control, progress)?
    };
    // What the search proved is reported before the phases that follow it, so that a
    // stop during them (a child process killed at the deadline) keeps it.
    if options.certify || (options.identify && out.status == Status::Sat) {
        progress(&out);
    }
    if options.certify && crate::proof::claim_of(&out).is_some() {
        let t = Instant::now();
        control.live().set_phase(Phase::Certify);
        out.certificate = crate::proof::certify(instance, &out, control)?;
        out.stats.certify_seconds = t.elapsed().as_secs_f64();
        if out.certificate.is_none() {
            out.withdraw_claims();
        }
    }
    if options.identify && out.status == Status::Sat {
        let t = Instant::now();
        control.live().set_phase(Phase::Identify);
        let reduced = reduced.as_ref().map(|(q, map)| (q, map));
        match identify::identify_reduced(instance, reduced, control)? {
            Some(found) => {
                out.identified = Some(found.identified);
                out.pinned = Some(found.pinned);
                out.frame = Some(found.frame);
                out.pinned_counts = Some(found.counts);
                out.stats.solver_calls += found.solver_calls;
            }
            None => out.stats.timed_out = true,
        }
        out.stats.identify_seconds = t.elapsed().as_secs_f64();
    }
    if out.stats.timed_out {
        out.stats.stopped_in = Some(control.live().phase().name().to_string());
    }
    if instance.named() {
        use crate::model::solution::class_names;
        out.names = out.partition.as_ref().map(|p| class_names(instance, p));
        out.identified_names = out.identified.as_ref().map(|p| class_names(instance, p));
        out.frame_names = out.frame.as_ref().map(|frames| {
            frames
                .iter()
                .enumerate()
                .map(|(g, blocks)| {
                    blocks
                        .iter()
                        .map(|b| b.iter().map(|&t| instance.token_name(g, t)).collect())
                        .collect()
                })
                .collect()
        });
    }
    Ok(out)
}

/// [`solve_with`] without certification; with the answer, propagation's quotient of
/// the instance (and the compaction of its tokens) when the search used one.
fn search(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    progress: &mut dyn FnMut(&Solution),
) -> Result<(Solution, Option<(Quotient, TokenMap)>)> {
    crate::model::compact::listable(instance.groups())?;
    let (samples, arity) = (instance.num_samples() as u64, instance.arity() as u64);
    let budget = options.max_memory.unwrap_or_else(crate::memory::budget);
    crate::memory::afford_within(
        samples.saturating_mul(PREPARE_BYTES_PER_TOKEN * arity + PREPARE_BYTES_PER_SAMPLE),
        budget,
        || format!("preprocessing ({samples} samples of {arity} tokens)"),
    )?;
    let live = control.live();
    live.set_phase(Phase::Preprocess);
    let mut out = Solution::new(Status::Unknown);
    let t = Instant::now();
    let mut compact = instance.flat_tokens().to_vec();
    let map = TokenMap::compact_in_place(&mut compact, instance.groups());
    out.stats.samples = instance.num_samples();
    out.stats.values = instance.values().len();
    out.stats.observed_tokens = (0..instance.arity()).map(|g| map.observed(g)).collect();
    out.stats.preprocess_seconds = t.elapsed().as_secs_f64();
    // The sizes are known: a deadline from now on still reports them.
    progress(&out);
    let quotient = if options.propagate {
        live.set_phase(Phase::Propagate);
        let t = Instant::now();
        let groups = map.groups(instance.groups());
        let propagated = propagate(&compact, instance.label_ids(), &groups, control);
        out.stats.propagate_seconds = t.elapsed().as_secs_f64();
        match propagated {
            Propagated::Refuted(reason) => {
                out.status = Status::Unsat;
                out.stats.unsat_reason = Some(reason);
                record_count(&mut out, options, 0, true);
                return Ok((out, None));
            }
            Propagated::Reduced(q) => {
                out.stats.decided_tokens = Some(q.decided.clone());
                out.stats.lookahead_branches = (q.branches > 0).then_some(q.branches);
                // The quotient is equivalent whatever its size, but where propagation
                // decided few tokens (the hard band) it is barely smaller and CDCL was
                // measured slower on it (benches/backends.rs): search the instance.
                let decided: usize = q.decided.iter().sum();
                let observed: usize = out.stats.observed_tokens.iter().sum();
                (2 * decided >= observed).then_some(*q)
            }
            Propagated::Skipped => None,
        }
    } else {
        None
    };
    drop(compact);
    let searched = quotient.as_ref().map_or(instance, |q| &q.instance);
    let t = Instant::now();
    let Some(prep) = Prepared::until(searched, options.prepare, control) else {
        out.stats.preprocess_seconds += t.elapsed().as_secs_f64();
        out.stats.timed_out = true;
        record_count(&mut out, options, 0, false);
        return Ok((out, None));
    };
    out.stats.distinct_samples = prep.len();
    out.stats.preprocess_seconds += t.elapsed().as_secs_f64();
    if let Some(reason) = &prep.refutation {
        out.status = Status::Unsat;
        out.stats.unsat_reason = Some(reason.clone());
        record_count(&mut out, options, 0, true);
        return Ok((out, None));
    }
    let searched = Searched {
        instance,
        map: &map,
        prep: &prep,
        quotient: quotient.as_ref(),
    };
    let strategy = options.strategy.resolve(&prep, options.backend);
    if strategy != Strategy::Table {
        afford_search(&prep, options, strategy)?;
    }
    let out = match strategy {
        Strategy::Portfolio if !options.backend.interruptible() => Err(Error::param(
            "strategy",
            format!(
                "portfolio needs a backend that can be interrupted (cadical), not {}",
                options.backend
            ),
        )),
        Strategy::Portfolio => portfolio(&searched, options, control, out, progress),
        Strategy::Table => {
            let source = table_source(&searched, options, threads(), control, &mut out)?;
            drive(&searched, source, options, control, out, progress)
        }
        _ => {
            let source = cdcl_source(&prep, options, control, &mut out);
            drive(&searched, source, options, control, out, progress)
        }
    }?;
    Ok((out, quotient.map(|q| (q, map))))
}

/// Refuses a search whose encodings would not fit the memory budget (one per portfolio
/// member, the renamed member's held-back clauses too), before any is built.
/// Bytes an answer takes per declared token (it lists a class for each), measured at
/// peak on 20 million declared tokens: 6 for a partition, 16 with a witness, 24 with
/// identify, 30 with both (the answer, its copies for progress and its JSON text).
const ANSWER_BYTES_PER_TOKEN: u64 = 8;
/// See [`ANSWER_BYTES_PER_TOKEN`]: more with a witness (uniqueness or counting).
const WITNESS_BYTES_PER_TOKEN: u64 = 12;
/// See [`ANSWER_BYTES_PER_TOKEN`]: more with identify.
const IDENTIFY_BYTES_PER_TOKEN: u64 = 20;

/// Refuses an answer whose per-token lists would not fit the memory budget: an
/// instance may declare far more tokens than it observes, and the answer lists each.
fn afford_answer(instance: &Instance, options: &SolveOptions) -> Result<()> {
    let tokens: u64 = instance.groups().iter().map(|g| u64::from(g.tokens)).sum();
    let per_token = ANSWER_BYTES_PER_TOKEN
        + WITNESS_BYTES_PER_TOKEN * u64::from(options.limit > 1)
        + IDENTIFY_BYTES_PER_TOKEN * u64::from(options.identify);
    let budget = options.max_memory.unwrap_or_else(crate::memory::budget);
    crate::memory::afford_within(tokens.saturating_mul(per_token), budget, || {
        format!("an answer listing {tokens} declared tokens")
    })
}

fn afford_search(prep: &Prepared, options: &SolveOptions, strategy: Strategy) -> Result<()> {
    let size = encode::estimate(prep, options.projection, false);
    let budget = options.max_memory.unwrap_or_else(crate::memory::budget);
    crate::memory::afford_within(search_bytes(size, options, strategy), budget, || {
        if strategy == Strategy::Portfolio {
            format!("two encodings (about {} clauses each)", size.clauses)
        } else {
            format!("the encoding (about {} clauses)", size.clauses)
        }
    })
}

/// The bytes the encodings of a search with `strategy` hold, each of `size`: one per
/// portfolio member, plus the held-back clauses of a renamed formula.
fn search_bytes(size: encode::Size, options: &SolveOptions, strategy: Strategy) -> u64 {
    use crate::sat::Footprint;
    let solver = options.backend.footprint();
    let renamed = solver.plus(Footprint::CNF);
    let footprint = match (strategy, options.seed) {
        (Strategy::Table, _) => Footprint::CNF,
        (Strategy::Portfolio, _) => solver.plus(renamed),
        (_, Some(_)) => renamed,
        _ => solver,
    };
    size.bytes(footprint)
}

/// An upper bound on the memory a solve of `instance` with `options` holds, from one
/// pass over its samples and before anything is built: preprocessing, and the
/// encodings of the search (as for a portfolio whenever one may run), without the
/// shrinking class propagation may bring. For callers that place solves by their
/// size (a server confining large ones to a child process).
pub fn estimate_memory(instance: &Instance, options: &SolveOptions) -> u64 {
    let (samples, arity) = (instance.num_samples() as u64, instance.arity() as u64);
    let preprocessing =
        samples.saturating_mul(PREPARE_BYTES_PER_TOKEN * arity + PREPARE_BYTES_PER_SAMPLE);
    let size = encode::Shape::bound(instance).size(options.projection, false);
    let strategy = match options.strategy {
        Strategy::Auto if arity >= 3 && options.backend.interruptible() => Strategy::Portfolio,
        Strategy::Auto => Strategy::Cdcl,
        s => s,
    };
    preprocessing.saturating_add(search_bytes(size, options, strategy))
}

/// What the search runs on: the instance, its compact tokens, the prepared (possibly
/// propagated and quotiented) instance.
struct Searched<'a> {
    instance: &'a Instance,
    map: &'a TokenMap,
    prep: &'a Prepared,
    quotient: Option<&'a crate::solve::propagate::Quotient>,
}

impl Searched<'_> {
    /// A partition of the searched instance's observed tokens, over every declared token.
    fn expanded(&self, found: &[Vec<u32>]) -> Partition {
        let observed = match self.quotient {
            Some(q) => q.lift(&self.prep.tokens().expand(found, q.instance.groups())),
            None => found.to_vec(),
        };
        canonical(&self.map.expand(&observed, self.instance.groups()))
    }

    /// The number of full partitions (free tokens placed) that a partition of the
    /// searched instance's observed tokens stands for, capped at `cap`.
    fn extensions(&self, found: &[Vec<u32>], cap: u64) -> u64 {
        let used = observed_classes(self.prep, found);
        free_extensions(self.instance, self.map, &used, cap)
    }
}

/// The CDCL source: the local search's partition first (if it runs and finds one),
/// then SAT's.
fn cdcl_source(
    prep: &Prepared,
    options: &SolveOptions,
    control: &Control,
    out: &mut Solution,
) -> Source {
    out.stats.strategy = Some(Strategy::Cdcl);
    let mut next = None;
    if let Some(work) = options.local_search.budget(prep) {
        control.live().set_phase(Phase::LocalSearch);
        let t = Instant::now();
        next = local_search::search(prep, work, 0, control);
        out.stats.local_search_seconds = t.elapsed().as_secs_f64();
    }
    Source::Sat { next, sat: None }
}

/// The table source: runs the table search with `threads` workers until what it found
/// counts for `options.limit` with the free tokens' placements (or to the end, or the
/// stop), then hands out what it found.
fn table_source(
    searched: &Searched,
    options: &SolveOptions,
    threads: usize,
    control: &Control,
    out: &mut Solution,
) -> Result<Source> {
    control.live().set_phase(Phase::Search);
    let t = Instant::now();
    let counts = |p: &[Vec<u32>]| searched.extensions(p, options.limit);
    let prep = searched.prep;
    let found = table::search(prep, options.limit, &counts, threads, control).ok_or_else(|| {
        Error::param(
            "strategy",
            format!(
                "table needs at most {} cells and {} class renamings",
                table::MAX_CELLS,
                table::MAX_SYMMETRIES
            ),
        )
    })?;
    out.stats.solve_seconds = t.elapsed().as_secs_f64();
    out.stats.tables = Some(found.tables);
    out.stats.strategy = Some(Strategy::Table);
    Ok(Source::Table {
        pending: found.partitions.into(),
        rest: found.rest,
        complete: found.complete,
    })
}

/// Runs the portfolio's two CDCL members side by side, both with CaDiCaL tuned for
/// satisfiable formulas: on this thread (reporting progress) the local search then
/// CDCL on the formula (renamed by `options.seed` if set), on another thread CDCL
/// without the local search on the formula renamed by the next seed. In the hard
/// band run times are heavy-tailed and one renaming often decides in seconds where
/// another stalls. The first to decide stops the other. If neither decides, the
/// answer that says more is kept.
fn portfolio(
    searched: &Searched,
    options: &SolveOptions,
    control: &Control,
    out: Solution,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    let finder = SolveOptions {
        tuning: Tuning::Sat,
        ..*options
    };
    let renamed = SolveOptions {
        local_search: LocalSearch::Off,
        seed: Some(options.seed.map_or(1, |s| s.wrapping_add(1))),
        ..finder
    };
    let (first_control, second_control) = (control.child(), control.child());
    std::thread::scope(|scope| {
        let second = scope.spawn(|| -> Result<Solution> {
            let mut mine = out.clone();
            let source = cdcl_source(searched.prep, &renamed, &second_control, &mut mine);
            let answer = drive(
                searched,
                source,
                &renamed,
                &second_control,
                mine,
                &mut |_| {},
            );
            if answer.as_ref().is_ok_and(|s| !s.stats.timed_out) {
                first_control.stop();
            }
            answer
        });
        let mut mine = out.clone();
        let source = cdcl_source(searched.prep, &finder, &first_control, &mut mine);
        let first = drive(searched, source, &finder, &first_control, mine, progress);
        if first.as_ref().is_ok_and(|s| !s.stats.timed_out) {
            second_control.stop();
        }
        let second = second
            .join()
            .map_err(|_| Error::Internal("a portfolio member panicked".into()))?;
        let (first, second) = (first?, second?);
        let mut answer = if !first.stats.timed_out {
            first
        } else if !second.stats.timed_out || more(&second, &first) {
            second
        } else {
            first
        };
        answer.stats.strategy = Some(Strategy::Portfolio);
        // A member stopped by the other is not a timeout of the whole.
        answer.stats.timed_out &= control.should_stop();
        Ok(answer)
    })
}

/// Whether undecided answer `a` says more than `b`: a partition where `b` has none,
/// or a higher count.
fn more(a: &Solution, b: &Solution) -> bool {
    (a.partition.is_some() && b.partition.is_none()) || a.count.unwrap_or(0) > b.count.unwrap_or(0)
}

/// The driver loop: takes partitions from `source`, checks each, counts them with the
/// free tokens' placements, excludes them, until `options.limit` or the end.
fn drive(
    searched: &Searched,
    mut source: Source,
    options: &SolveOptions,
    control: &Control,
    mut out: Solution,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    let Searched {
        instance,
        map,
        prep,
        ..
    } = *searched;
    let live = control.live();
    let expanded = |found: &[Vec<u32>]| searched.expanded(found);
    let mut count = 0u64;
    let mut complete = false;
    loop {
        let found = match source.next(prep, options, control, &mut out)? {
            Next::Found(p) => p,
            Next::Exhausted => {
                complete = true;
                break;
            }
            Next::Stopped => break,
        };
        live.set_phase(Phase::Check);
        count = count
            .saturating_add(searched.extensions(&found, options.limit))
            .min(options.limit);
        let t = Instant::now();
        let mut scan_seconds = 0.0;
        if out.partition.is_none() {
            let partition = verified(instance, expanded(&found), "partition found")?;
            out.status = Status::Sat;
            out.table = Some(observed_table(instance, &partition));
            out.partition = Some(partition);
            if options.limit == 2 && count < 2 {
                // One token that can change class is a proof of non-uniqueness (its
                // time counts towards deciding uniqueness, not towards checking).
                let scan = Instant::now();
                let moved = local_search::single_move_witness(prep, &found);
                scan_seconds = scan.elapsed().as_secs_f64();
                out.stats.unique_seconds += scan_seconds;
                if let Some(w) = moved {
                    out.witness = Some(verified(instance, expanded(&w), "single-move witness")?);
                    count = 2;
                }
            }
        } else if out.witness.is_none() {
            out.witness = Some(verified(instance, expanded(&found), "second partition")?);
        }
        if out.witness.is_none() && count >= 2 {
            let first = out.partition.as_deref().unwrap_or_default();
            let witness = free_token_witness(instance, map, first).ok_or_else(|| {
                Error::Internal("free tokens counted but no witness built".into())
            })?;
            out.witness = Some(verified(instance, witness, "witness")?);
        }
        out.stats.check_seconds += t.elapsed().as_secs_f64() - scan_seconds;
        if count >= options.limit {
            break;
        }
        record_count(&mut out, options, count, false);
        progress(&out);
        match source.exclude(&found, prep, options, control, &mut out)? {
            Some(Next::Exhausted) => {
                complete = true;
                break;
            }
            Some(_) => break,
            None => {}
        }
    }
    if let Source::Table { rest, .. } = source {
        count = count.saturating_add(rest).min(options.limit);
    }
    if count == 0 && complete {
        out.status = Status::Unsat;
    }
    if !complete && count < options.limit {
        out.stats.timed_out = true;
    }
    record_count(&mut out, options, count, complete);
    Ok(out)
}

/// The number of worker threads a search may use: the machine's cores.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Where the driver's partitions come from.
enum Source {
    /// A local-search partition first (if any), then CDCL with blocking clauses.
    Sat {
        next: Option<Partition>,
        sat: Option<(Box<dyn Solver>, Encoding)>,
    },
    /// The first partitions a finished table search found, what the others count for
    /// (`rest`); `complete` if it was not stopped.
    Table {
        pending: std::collections::VecDeque<Partition>,
        rest: u64,
        complete: bool,
    },
}

/// One step of a [`Source`].
enum Next {
    /// A partition of the observed tokens not reported before.
    Found(Partition),
    /// None is left: what was found is every partition.
    Exhausted,
    /// Stopped by the control before the search ended.
    Stopped,
}

impl Source {
    /// The next partition of the observed tokens.
    fn next(
        &mut self,
        prep: &Prepared,
        options: &SolveOptions,
        control: &Control,
        out: &mut Solution,
    ) -> Result<Next> {
        match self {
            Source::Table {
                pending, complete, ..
            } => Ok(match pending.pop_front() {
                Some(p) => Next::Found(p),
                None if *complete => Next::Exhausted,
                None => Next::Stopped,
            }),
            Source::Sat { next, sat } => {
                if let Some(p) = next.take() {
                    return Ok(Next::Found(p));
                }
                if control.should_stop() {
                    return Ok(Next::Stopped);
                }
                let Some((solver, encoding)) = loaded(sat, prep, options, control, out)? else {
                    return Ok(Next::Stopped);
                };
                control.live().set_phase(if out.partition.is_none() {
                    Phase::Search
                } else {
                    Phase::Unique
                });
                let t = Instant::now();
                out.stats.solver_calls += 1;
                let outcome = solver.solve(&[])?;
                let elapsed = t.elapsed().as_secs_f64();
                if out.partition.is_none() {
                    out.stats.solve_seconds = elapsed;
                } else {
                    out.stats.unique_seconds += elapsed;
                }
                if let Some(learned) = solver.stats().learned {
                    out.stats.learned = Some(learned);
                }
                Ok(match outcome {
                    Outcome::Sat => Next::Found(encoding.decode(solver.as_ref())),
                    Outcome::Unsat => Next::Exhausted,
                    Outcome::Interrupted => Next::Stopped,
                })
            }
        }
    }

    /// Excludes `found` from what comes next; `Some(Exhausted)` if nothing can follow,
    /// `Some(Stopped)` if the control stopped the search.
    fn exclude(
        &mut self,
        found: &[Vec<u32>],
        prep: &Prepared,
        options: &SolveOptions,
        control: &Control,
        out: &mut Solution,
    ) -> Result<Option<Next>> {
        match self {
            // The table search's partitions are distinct already.
            Source::Table { .. } => Ok(None),
            Source::Sat { sat, .. } => {
                if control.should_stop() {
                    return Ok(Some(Next::Stopped));
                }
                let Some((solver, encoding)) = loaded(sat, prep, options, control, out)? else {
                    return Ok(Some(Next::Stopped));
                };
                let clause = encoding.blocking_clause(found);
                if clause.is_empty() {
                    // No observed tokens: their only partition has been found.
                    return Ok(Some(Next::Exhausted));
                }
                solver.add_clause(&clause);
                Ok(None)
            }
        }
    }
}

/// The solver holding the encoding, built on first use; `None` if `control` stopped the
/// encoding.
fn loaded<'s>(
    sat: &'s mut Option<(Box<dyn Solver>, Encoding)>,
    prep: &Prepared,
    options: &SolveOptions,
    control: &Control,
    out: &mut Solution,
) -> Result<Option<&'s mut (Box<dyn Solver>, Encoding)>> {
    if sat.is_none() {
        *sat = encode_into_solver(prep, options, control, out)?;
    }
    Ok(sat.as_mut())
}

/// Encodes the prepared instance into a new solver of the chosen backend, recording
/// sizes and time; `None` if `control` stopped the encoding.
fn encode_into_solver(
    prep: &Prepared,
    options: &SolveOptions,
    control: &Control,
    out: &mut Solution,
) -> Result<Option<(Box<dyn Solver>, Encoding)>> {
    control.live().set_phase(Phase::Encode);
    if let Some(max) = options.max_clauses {
        let estimate = encode::estimate_clauses(prep);
        if estimate > max {
            return Err(Error::input_at(
                "",
                InputKind::TooLarge,
                Some(Location::Path("samples".into())),
                format!(
                    "the encoding would have about {estimate} clauses; at most {max} are built"
                ),
            ));
        }
    }
    let t = Instant::now();
    let mut solver = options.backend.tuned(options.tuning);
    if let Some(seed) = options.seed {
        solver = Box::new(crate::sat::shuffle::Shuffled::new(solver, seed));
    }
    solver.set_control(control);
    out.stats.backend = Some(options.backend);
    let encoding = encode(prep, options.projection, solver.as_mut(), control)?;
    out.stats.encode_seconds = t.elapsed().as_secs_f64();
    Ok(encoding.map(|encoding| {
        out.stats.variables = encoding.variables;
        out.stats.clauses = encoding.clauses;
        (solver, encoding)
    }))
}

/// Per group, the number of classes the observed tokens use.
fn observed_classes(prep: &Prepared, partition: &[Vec<u32>]) -> Vec<usize> {
    prep.order
        .iter()
        .zip(partition)
        .map(|(order, row)| {
            let mut used: Vec<u32> = order.iter().map(|&t| row[t as usize]).collect();
            used.sort_unstable();
            used.dedup();
            used.len()
        })
        .collect()
}

/// Fills `count`, `count_complete` and `unique` from what has been proven so far.
fn record_count(out: &mut Solution, options: &SolveOptions, count: u64, complete: bool) {
    if options.limit < 2 {
        return;
    }
    out.count = Some(count);
    out.count_complete = Some(complete);
    out.unique = if count >= 2 {
        Some(false)
    } else if complete && count == 1 {
        Some(true)
    } else {
        None
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_placements_counts_restricted_set_partitions() {
        // 2 free tokens, nothing else, at most 2 classes: {ab}, {a}{b}.
        assert_eq!(free_placements(2, 0, 2, 100), 2);
        // 3 free tokens, at most 3 classes: Bell(3) = 5.
        assert_eq!(free_placements(3, 0, 3, 100), 5);
        // 1 free token beside 2 used classes of at most 3: join either or open a third.
        assert_eq!(free_placements(1, 2, 3, 100), 3);
        // Nothing free: exactly one way.
        assert_eq!(free_placements(0, 2, 3, 100), 1);
        // Capped.
        assert_eq!(free_placements(20, 0, 5, 7), 7);
    }

    /// The recurrence over every class count and every free token, as first written.
    fn naive_placements(free: usize, used: usize, max: usize, cap: u64) -> u64 {
        let mut ways = vec![1u64; max + 1];
        for _ in 0..free {
            ways = (0..=max)
                .map(|m| {
                    let stay = (m as u64).saturating_mul(ways[m]);
                    let open = if m < max { ways[m + 1] } else { 0 };
                    stay.saturating_add(open).min(cap)
                })
                .collect();
        }
        ways[used.min(max)]
    }

    #[test]
    fn free_placements_agree_with_the_full_recurrence() {
        for cap in [1, 2, 5, 1000, u64::MAX] {
            for max in 1..=7 {
                for used in 0..=max {
                    for free in [0, 1, 2, 3, 5, 8, 70, 129, 300] {
                        assert_eq!(
                            free_placements(free as u64, used, max, cap),
                            naive_placements(free, used, max, cap),
                            "free {free} used {used} max {max} cap {cap}"
                        );
                    }
                }
            }
        }
        // Declared sizes far beyond the data cost nothing.
        assert_eq!(
            free_placements(u64::from(u32::MAX), 1, u32::MAX as usize, 2),
            2
        );
        assert_eq!(free_placements(u64::from(u32::MAX), 1, 1, u64::MAX), 1);
    }

    fn instance(text: &str) -> Instance {
        Instance::from_json(text.as_bytes(), "t").unwrap()
    }

    #[test]
    fn finds_counts_and_checks() {
        // Group 1 token 2 is free; group 0 is forced into two classes.
        let inst = instance(
            r#"{"groups": [{"tokens": 2, "classes": 2}, {"tokens": 3, "classes": 2}],
                "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}, {"x": [0, 1], "y": 0}]}"#,
        );
        let sol = solve(&inst, &SolveOptions::count(100), &mut |_| {}).unwrap();
        assert_eq!(sol.status, Status::Sat);
        // Group 1: tokens 0,1 together or apart (2), token 2 anywhere: {012},{01}{2} | {02}{1},{0}{12}: 4.
        assert_eq!(sol.count, Some(4));
        assert_eq!(sol.count_complete, Some(true));
        assert_eq!(sol.unique, Some(false));
        let w = sol.witness.unwrap();
        assert!(check(&inst, &w).unwrap().consistent);
        assert_ne!(w, sol.partition.unwrap());
    }

    #[test]
    fn contradiction_is_unsat_without_search() {
        let inst = instance(
            r#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [1], "y": 0}, {"x": [1], "y": "0"}]}"#,
        );
        let sol = solve(&inst, &SolveOptions::unique(), &mut |_| {}).unwrap();
        assert_eq!(sol.status, Status::Unsat);
        assert_eq!(sol.stats.solver_calls, 0);
        assert!(sol.stats.unsat_reason.unwrap().contains("samples 0 and 1"));
    }

    #[test]
    fn too_few_classes_is_unsat_by_search() {
        // Three tokens that pairwise must differ, two classes.
        let inst = instance(
            r#"{"groups": [{"tokens": 3, "classes": 2}, {"tokens": 3, "classes": 3}],
                "samples": [{"x": [0, 0], "y": 0}, {"x": [1, 0], "y": 1}, {"x": [1, 1], "y": 0},
                            {"x": [2, 1], "y": 1}, {"x": [2, 2], "y": 0}, {"x": [0, 2], "y": 1}]}"#,
        );
        let sol = solve(&inst, &SolveOptions::unique(), &mut |_| {}).unwrap();
        assert_eq!(sol.status, Status::Unsat);
        assert_eq!(sol.count, Some(0));
    }
}
