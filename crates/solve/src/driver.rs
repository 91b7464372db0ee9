//! The solve driver: prepare, propagate, search, and turn what was found into the
//! answer, under the memory budget and the control's deadline.

use crate::budget::{afford_answer, afford_search, estimate_with, prepare_bytes, search_memory};
use crate::identify;
use crate::maxsat;
use crate::options::{SolveOptions, Strategy};
use crate::portfolio::{
    cdcl_source, drive, portfolio, record_count, table_source, threads, Searched,
};
use crate::preprocess::Prepared;
use crate::propagate::{propagate, Propagated, Quotient};
use crate::solution::{Solution, Status};
use partrec_core::error::Result;
use partrec_core::model::compact::TokenMap;
use partrec_core::model::instance::Instance;
use partrec_sat::{Control, Phase};
use std::time::Instant;

/// Solves `instance` without a deadline; see [`solve_with`].
///
/// ```
/// use partrec_solve::{solve, SolveOptions};
/// use partrec_core::model::instance::Instance;
/// use partrec_solve::solution::Status;
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
/// # Ok::<(), partrec_core::error::Error>(())
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
/// `stats.timed_out`. An interruptible backend ([`Backend::interruptible`](partrec_sat::Backend::interruptible)) stops
/// within its polling interval; varisat only between SAT calls and phases, so callers
/// that need a hard deadline with varisat run it in a child (`partrec_worker`).
///
/// With `options.certify`, a claim (`unsat`, `unique`, a complete count) is certified
/// afterwards ([`crate::proof::certify()`]); if `control` stops that, the claim is
/// withdrawn (unknown), never left unproven.
pub fn solve_with(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    options.validate()?;
    partrec_core::model::compact::listable(instance.groups())?;
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
        use crate::solution::class_names;
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
pub(crate) fn search(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    progress: &mut dyn FnMut(&Solution),
) -> Result<(Solution, Option<(Quotient, TokenMap)>)> {
    partrec_core::model::compact::listable(instance.groups())?;
    afford_preprocessing(instance, options)?;
    let live = control.live();
    live.set_phase(Phase::Preprocess);
    let mut out = Solution::new(Status::Unknown);
    let t = Instant::now();
    let mut compact = instance.flat_tokens().to_vec();
    let map = TokenMap::compact_in_place(&mut compact, instance.groups());
    out.stats.samples = instance.num_samples();
    out.stats.values = instance.values().len();
    out.stats.observed_tokens = (0..instance.arity()).map(|g| map.observed(g)).collect();
    // The upper bound a server reserves for this solve, from the counts just made.
    let observed = out
        .stats
        .observed_tokens
        .iter()
        .map(|&n| n as u64)
        .collect();
    let shape = crate::encode::Shape::bound_observed(instance, observed);
    out.stats.memory_estimate = Some(estimate_with(instance, options, shape));
    out.stats.preprocess_seconds = t.elapsed().as_secs_f64();
    // The sizes are known: a deadline from now on still reports them.
    progress(&out);
    let quotient = if options.propagate {
        match reduce(instance, &map, &compact, control, &mut out) {
            Ok(quotient) => quotient,
            Err(reason) => return Ok((refuted(out, options, reason), None)),
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
        return Ok((refuted(out, options, reason.clone()), None));
    }
    let searched = Searched {
        instance,
        map: &map,
        prep: &prep,
        quotient: quotient.as_ref(),
    };
    let mut strategy = options.strategy.resolve(&prep, options.backend);
    let size = crate::encode::estimate(&prep, options.projection, false);
    if options.strategy == Strategy::Auto
        && strategy == Strategy::Portfolio
        && afford_search(size, options, strategy).is_err()
    {
        // Two encodings do not fit the memory budget: one search.
        strategy = Strategy::Cdcl;
    }
    if strategy != Strategy::Table {
        afford_search(size, options, strategy)?;
    }
    // What the rest of the solve needs is known: a caller holding memory for it can
    // release the rest.
    out.stats.search_memory_estimate =
        Some(search_memory(instance, &prep, size, options, strategy));
    progress(&out);
    let out = match strategy {
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

/// Refuses an instance whose preprocessing would not fit in the memory budget.
fn afford_preprocessing(instance: &Instance, options: &SolveOptions) -> Result<()> {
    let (samples, arity) = (instance.num_samples(), instance.arity());
    let budget = options
        .max_memory
        .unwrap_or_else(partrec_core::memory::budget);
    partrec_core::memory::afford_within(prepare_bytes(samples, arity), budget, || {
        format!("preprocessing ({samples} samples of {arity} tokens)")
    })
}

/// Class propagation on the instance's tokens (`compact`, compacted by `map`), its
/// stats recorded in `out`: the quotient to search, if it is worth searching, or
/// the reason no partition is consistent.
fn reduce(
    instance: &Instance,
    map: &TokenMap,
    compact: &[u32],
    control: &Control,
    out: &mut Solution,
) -> std::result::Result<Option<Quotient>, String> {
    control.live().set_phase(Phase::Propagate);
    let t = Instant::now();
    let groups = map.groups(instance.groups());
    let propagated = propagate(compact, instance.label_ids(), &groups, control);
    out.stats.propagate_seconds = t.elapsed().as_secs_f64();
    match propagated {
        Propagated::Refuted(reason) => Err(reason),
        Propagated::Reduced(q) => {
            out.stats.decided_tokens = Some(q.decided.clone());
            out.stats.lookahead_branches = (q.branches > 0).then_some(q.branches);
            // The quotient is equivalent whatever its size, but where propagation
            // decided few tokens (the hard band) it is barely smaller and CDCL was
            // measured slower on it (benches/backends.rs): search the instance.
            let decided: usize = q.decided.iter().sum();
            let observed: usize = out.stats.observed_tokens.iter().sum();
            Ok(crate::solution::Stats::searches_quotient(decided, observed).then_some(*q))
        }
        Propagated::Skipped => Ok(None),
    }
}

/// `out` answering `unsat` for `reason`: no partition, a complete count of 0.
fn refuted(mut out: Solution, options: &SolveOptions, reason: String) -> Solution {
    out.status = Status::Unsat;
    out.stats.unsat_reason = Some(reason);
    record_count(&mut out, options, 0, true);
    out
}
