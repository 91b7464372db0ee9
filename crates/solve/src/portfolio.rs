//! The searches behind the driver: CDCL with blocking clauses, the table search,
//! and the portfolio that races them and keeps the better answer.

use crate::count::{free_extensions, free_token_witness};
use crate::decode::{observed_table, verified};
use crate::encode;
use crate::encode::{encode, Encoding};
use crate::local_search;
use crate::options::{LocalSearch, SolveOptions, Strategy};
use crate::preprocess::Prepared;
use crate::solution::{Solution, Status};
use crate::table;
use crate::warm;
use partrec_core::error::{Error, InputKind, Location, Result};
use partrec_core::model::compact::TokenMap;
use partrec_core::model::instance::Instance;
use partrec_core::model::partition::{canonical, Partition};
use partrec_sat::{Control, Outcome, Phase, Solver, Tuning};
use std::time::Instant;

/// What the search runs on: the instance, its compact tokens, the prepared (possibly
/// propagated and quotiented) instance.
pub(crate) struct Searched<'a> {
    pub(crate) instance: &'a Instance,
    pub(crate) map: &'a TokenMap,
    pub(crate) prep: &'a Prepared,
    pub(crate) quotient: Option<&'a crate::propagate::Quotient>,
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

/// The CDCL source: the warm start's partition if it is consistent, else the local
/// search's (from the warm start's classes) if it runs and finds one, then SAT's.
pub(crate) fn cdcl_source(
    prep: &Prepared,
    options: &SolveOptions,
    control: &Control,
    out: &mut Solution,
) -> Source {
    out.stats.strategy = Some(Strategy::Cdcl);
    let mut start = None;
    if options.warm_start {
        control.live().set_phase(Phase::WarmStart);
        let t = Instant::now();
        let seed = options.seed.unwrap_or(0);
        if let Some(estimate) = warm::estimate(prep, seed, control) {
            out.stats.warm_start_mismatches = Some(estimate.mismatches);
            if estimate.mismatches == 0 {
                out.stats.warm_start_seconds = t.elapsed().as_secs_f64();
                let found = local_search::to_partition(&estimate.class);
                return Source::Sat {
                    next: Some(found),
                    sat: None,
                };
            }
            start = Some(estimate.class);
        }
        out.stats.warm_start_seconds = t.elapsed().as_secs_f64();
    }
    let mut next = None;
    if let Some(work) = options.local_search.budget(prep) {
        control.live().set_phase(Phase::LocalSearch);
        let t = Instant::now();
        // From the warm start's classes (best where tokens are in a few dozen samples
        // or more), then from random classes (best at 6 or 7 samples per token, where
        // the estimate can mislead), each with the whole budget.
        let warm = start.is_some();
        next = local_search::search(prep, work, 0, start, control);
        if next.is_none() && warm && !control.should_stop() {
            next = local_search::search(prep, work, 0, None, control);
        }
        out.stats.local_search_seconds = t.elapsed().as_secs_f64();
    }
    Source::Sat { next, sat: None }
}

/// The table source: runs the table search with `threads` workers until what it found
/// counts for `options.limit` with the free tokens' placements (or to the end, or the
/// stop), then hands out what it found.
pub(crate) fn table_source(
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
pub(crate) fn portfolio(
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
        } else if !second.stats.timed_out || further(&second, &first) {
            second
        } else {
            first
        };
        if answer.stats.timed_out && answer.stats.variables > 0 {
            // Both members report their phase to the one live record, the last to
            // write it winning: the answer's is where its CDCL search was stopped.
            control.live().set_phase(match answer.partition {
                Some(_) => Phase::Unique,
                None => Phase::Search,
            });
        }
        answer.stats.strategy = Some(Strategy::Portfolio);
        // A member stopped by the other is not a timeout of the whole.
        answer.stats.timed_out &= control.should_stop();
        Ok(answer)
    })
}

/// Whether undecided answer `a` says more than `b`: a partition where `b` has none,
/// or a higher count.
pub(crate) fn more(a: &Solution, b: &Solution) -> bool {
    (a.partition.is_some() && b.partition.is_none()) || a.count.unwrap_or(0) > b.count.unwrap_or(0)
}

/// Whether undecided answer `a` got further than `b`: it says [`more`], or as much
/// while it searched a CNF and `b` did not (`b` was still in the local search or the
/// encoding when both were stopped), so that the answer reports the formula searched.
fn further(a: &Solution, b: &Solution) -> bool {
    more(a, b) || (!more(b, a) && a.stats.variables > 0 && b.stats.variables == 0)
}

/// The driver loop: takes partitions from `source`, checks each, counts them with the
/// free tokens' placements, excludes them, until `options.limit` or the end.
pub(crate) fn drive(
    searched: &Searched,
    mut source: Source,
    options: &SolveOptions,
    control: &Control,
    mut out: Solution,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    let prep = searched.prep;
    let live = control.live();
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
        count = check_found(searched, &found, count, options, &mut out)?;
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

/// Checks partition `found` (of the searched instance's observed tokens, which with
/// the ones before count `count`) and records it in `out`: the first as the answer,
/// with a single-move witness of non-uniqueness when `options.limit` is 2, a later
/// one as the witness; when the count shows a second partition without one, builds
/// it from the free tokens. The count, 2 when a single-move witness was found.
fn check_found(
    searched: &Searched,
    found: &[Vec<u32>],
    mut count: u64,
    options: &SolveOptions,
    out: &mut Solution,
) -> Result<u64> {
    let Searched {
        instance,
        map,
        prep,
        ..
    } = *searched;
    let expanded = |found: &[Vec<u32>]| searched.expanded(found);
    let t = Instant::now();
    let mut scan_seconds = 0.0;
    if out.partition.is_none() {
        let partition = verified(instance, expanded(found), "partition found")?;
        out.status = Status::Sat;
        out.table = Some(observed_table(instance, &partition));
        out.partition = Some(partition);
        if options.limit == 2 && count < 2 {
            // One token that can change class is a proof of non-uniqueness (its
            // time counts towards deciding uniqueness, not towards checking).
            let scan = Instant::now();
            let moved = local_search::single_move_witness(prep, found);
            scan_seconds = scan.elapsed().as_secs_f64();
            out.stats.unique_seconds += scan_seconds;
            if let Some(w) = moved {
                out.witness = Some(verified(instance, expanded(&w), "single-move witness")?);
                count = 2;
            }
        }
    } else if out.witness.is_none() {
        out.witness = Some(verified(instance, expanded(found), "second partition")?);
    }
    if out.witness.is_none() && count >= 2 {
        let first = out.partition.as_deref().unwrap_or_default();
        let witness = free_token_witness(instance, map, first)
            .ok_or_else(|| Error::Internal("free tokens counted but no witness built".into()))?;
        out.witness = Some(verified(instance, witness, "witness")?);
    }
    out.stats.check_seconds += t.elapsed().as_secs_f64() - scan_seconds;
    Ok(count)
}

/// The number of worker threads a search may use: the machine's cores.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Where the driver's partitions come from.
pub(crate) enum Source {
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
pub(crate) enum Next {
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
pub(crate) fn loaded<'s>(
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
pub(crate) fn encode_into_solver(
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
        solver = Box::new(partrec_sat::shuffle::Shuffled::new(solver, seed));
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
pub(crate) fn observed_classes(prep: &Prepared, partition: &[Vec<u32>]) -> Vec<usize> {
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
pub(crate) fn record_count(out: &mut Solution, options: &SolveOptions, count: u64, complete: bool) {
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
