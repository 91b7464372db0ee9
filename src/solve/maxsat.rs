//! Maximum consistency for noisy samples (`solve --max-consistent`): a partition
//! that violates the fewest samples, by weight, with the samples to drop.
//!
//! Core-guided MaxSAT (OLL, as in RC2): every distinct sample is a soft constraint,
//! guarded by its selector in the ordinary encoding ([`encode_with_selectors`]) and
//! weighted by the total weight of the samples it stands for. The search assumes every
//! soft constraint; each unsatisfiable core raises the lower bound by its smallest
//! weight, and its members are relaxed through a totalizer whose next output
//! ("at most one more violated") becomes a new soft constraint. The first model found
//! under all assumptions is optimal (status `sat`). A deadline ends the search with
//! status `unknown`, the best partition seen and the lower bound proven so far, never
//! a claim of optimality.
//!
//! The cost of a partition is computed by the checker ([`crate::check::violations`]),
//! not read off the model: for each class tuple, the samples of every value but the
//! heaviest are dropped, which is the least any table can do for that partition.

use crate::check::{violations, Violations};
use crate::error::{Error, Result};
use crate::model::instance::Instance;
use crate::model::partition::classes_used;
use crate::model::partition::{canonical, Partition};
use crate::model::solution::{MaxReport, Solution, Status};
use crate::sat::{ClauseSink, Control, Lit, Outcome, Phase};
use crate::solve::encode::encode_with_selectors;
use crate::solve::preprocess::{PrepareOptions, Prepared};
use crate::solve::{free_extensions, free_token_witness, SolveOptions};
use std::collections::HashMap;
use std::time::Instant;

/// The tabu search's budget for a first upper bound, in sample updates (a fiftieth of
/// [`crate::solve::LOCAL_SEARCH_WORK`]).
const LOCAL_WORK: u64 = crate::solve::LOCAL_SEARCH_WORK / 50;

/// A soft constraint: an assumption and its remaining weight; for a totalizer's
/// bound, which totalizer and which output.
struct Soft {
    lit: Lit,
    weight: u64,
    bound: Option<(usize, usize)>,
}

/// The assumptions of the soft constraints that still carry weight.
fn assumed(softs: &[Soft]) -> Vec<Lit> {
    softs
        .iter()
        .filter(|s| s.weight > 0)
        .map(|s| s.lit)
        .collect()
}

/// The unary counter of `inputs`: `out[j]` is implied by "at least j + 1 inputs true".
fn totalizer(sink: &mut dyn ClauseSink, inputs: &[Lit]) -> Vec<Lit> {
    if inputs.len() <= 1 {
        return inputs.to_vec();
    }
    let (left, right) = inputs.split_at(inputs.len() / 2);
    let (a, b) = (totalizer(sink, left), totalizer(sink, right));
    let out: Vec<Lit> = (0..inputs.len())
        .map(|_| sink.new_var().positive())
        .collect();
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            if i + j == 0 {
                continue;
            }
            let mut clause = Vec::with_capacity(3);
            if i > 0 {
                clause.push(!a[i - 1]);
            }
            if j > 0 {
                clause.push(!b[j - 1]);
            }
            clause.push(out[i + j - 1]);
            sink.add_clause(&clause);
        }
    }
    out
}

/// Per instance sample, the index of its distinct sample in `prep`.
fn distinct_of(instance: &Instance, prep: &Prepared) -> Result<Vec<usize>> {
    let mut index: HashMap<(Vec<u32>, u32), usize> = HashMap::with_capacity(prep.len());
    for (d, (x, label)) in prep.samples().enumerate() {
        let declared: Vec<u32> = x
            .iter()
            .enumerate()
            .map(|(g, &t)| prep.tokens().original(g, t))
            .collect();
        index.insert((declared, label), d);
    }
    (0..instance.num_samples())
        .map(|s| {
            index
                .get(&(instance.x(s).to_vec(), instance.label_id(s)))
                .copied()
                .ok_or_else(|| Error::Internal("a sample with no distinct sample".into()))
        })
        .collect()
}

/// The best partition seen: over the observed tokens (compact ids) and in full, and
/// what the checker says it costs.
struct Best {
    compact: Partition,
    partition: Partition,
    found: Violations,
}

/// `out` with `best` as its partition and what it drops; `sat` when `optimal`,
/// else `unknown`.
fn report(out: &Solution, best: &Best, lower: u64, cores: usize, optimal: bool) -> Solution {
    let mut out = out.clone();
    out.status = if optimal {
        Status::Sat
    } else {
        Status::Unknown
    };
    out.table = Some(best.found.table.clone());
    out.partition = Some(best.partition.clone());
    out.max_consistent = Some(MaxReport {
        cost: best.found.cost,
        lower_bound: lower,
        optimal,
        dropped: best.found.dropped.clone(),
        cores,
    });
    out
}

/// Finds a partition violating the fewest samples (by weight); see the module docs.
/// With `options.limit >= 2`, also decides whether the optimal partition is unique.
/// `progress` receives each better partition found, as an `unknown` answer (what a
/// stopped search reports).
pub fn solve(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    let start = Instant::now();
    crate::model::compact::listable(instance.groups())?;
    let live = control.live();
    live.set_phase(Phase::Preprocess);
    let prep = Prepared::with_options(instance, PrepareOptions { must_differ: false });
    // Every cost below is at most the total weight, so no sum overflows after this.
    (0..instance.num_samples())
        .try_fold(0u64, |total, s| total.checked_add(instance.weight(s)))
        .ok_or_else(|| Error::Usage("the sample weights add up to more than 2^64 - 1".into()))?;
    let of = distinct_of(instance, &prep)?;
    let mut weight = vec![0u64; prep.len()];
    for (s, &d) in of.iter().enumerate() {
        weight[d] += instance.weight(s);
    }
    let mut out = Solution::new(Status::Unknown);
    out.stats.samples = instance.num_samples();
    out.stats.distinct_samples = prep.len();
    out.stats.values = prep.values;
    out.stats.observed_tokens = prep.order.iter().map(Vec::len).collect();
    out.stats.backend = Some(options.backend);
    out.stats.preprocess_seconds = start.elapsed().as_secs_f64();
    live.set_phase(Phase::Encode);
    let t = Instant::now();
    let mut solver = options.backend.solver();
    solver.set_control(control);
    let Some((encoding, selectors)) = encode_with_selectors(&prep, solver.as_mut(), control)?
    else {
        out.stats.timed_out = true;
        return Ok(out);
    };
    out.stats.encode_seconds = t.elapsed().as_secs_f64();
    out.stats.variables = encoding.variables;
    out.stats.clauses = encoding.clauses;
    let evaluate = |compact: Partition| -> Result<Best> {
        let partition = canonical(&prep.tokens().expand(&compact, instance.groups()));
        let found = violations(instance, &partition)
            .map_err(|m| Error::Internal(format!("a partition of the wrong shape: {m}")))?;
        Ok(Best {
            compact,
            partition,
            found,
        })
    };
    live.set_phase(Phase::Search);
    let t = Instant::now();
    let mut calls = 0usize;
    // Any partition is an upper bound: first the one the hard clauses alone give.
    calls += 1;
    let mut best = match solver.solve(&[])? {
        Outcome::Sat => {
            let found = evaluate(encoding.decode(solver.as_ref()))?;
            progress(&report(&out, &found, 0, 0, false));
            Some(found)
        }
        Outcome::Interrupted => None,
        Outcome::Unsat => {
            return Err(Error::Internal(
                "the encoding without samples is unsatisfiable".into(),
            ))
        }
    };
    // A better start: the assignment with the fewest conflicting pairs a short tabu
    // search meets (nothing trusted: the checker prices it like any other).
    if let Some(compact) =
        crate::solve::local_search::fewest_conflicts(&prep, LOCAL_WORK, 1, control)
    {
        let found = evaluate(compact)?;
        if best
            .as_ref()
            .is_none_or(|b| found.found.cost < b.found.cost)
        {
            progress(&report(&out, &found, 0, 0, false));
            best = Some(found);
        }
    }
    let mut softs: Vec<Soft> = selectors
        .iter()
        .zip(&weight)
        .map(|(v, &w)| Soft {
            lit: v.positive(),
            weight: w,
            bound: None,
        })
        .collect();
    let mut totalizers: Vec<Vec<Lit>> = Vec::new();
    let mut lower = 0u64;
    let mut cores = 0usize;
    let mut optimal = false;
    loop {
        if best.as_ref().is_some_and(|b| b.found.cost == lower) {
            optimal = true;
            break;
        }
        let assumptions = assumed(&softs);
        calls += 1;
        match solver.solve(&assumptions)? {
            Outcome::Interrupted => break,
            Outcome::Sat => {
                let found = evaluate(encoding.decode(solver.as_ref()))?;
                if found.found.cost != lower {
                    return Err(Error::Internal(format!(
                        "the optimal model costs {} by the checker, but the lower bound is {lower}",
                        found.found.cost
                    )));
                }
                best = Some(found);
                optimal = true;
                break;
            }
            Outcome::Unsat => {}
        }
        let core: Vec<usize> = (0..softs.len())
            .filter(|&i| softs[i].weight > 0 && solver.failed(softs[i].lit))
            .collect();
        if core.is_empty() {
            return Err(Error::Internal(
                "an unsatisfiable core without soft constraints".into(),
            ));
        }
        cores += 1;
        let wmin = core.iter().map(|&i| softs[i].weight).min().unwrap_or(0);
        lower += wmin;
        let mut next = Vec::new();
        for &i in &core {
            softs[i].weight -= wmin;
            if let Some((t, k)) = softs[i].bound {
                if k + 1 < totalizers[t].len() {
                    next.push(Soft {
                        lit: !totalizers[t][k + 1],
                        weight: wmin,
                        bound: Some((t, k + 1)),
                    });
                }
            }
        }
        if core.len() == 1 {
            solver.add_clause(&[!softs[core[0]].lit]);
        } else {
            let violated: Vec<Lit> = core.iter().map(|&i| !softs[i].lit).collect();
            let outputs = totalizer(solver.as_mut(), &violated);
            // The core: at least one of them is violated.
            solver.add_clause(&[outputs[0]]);
            totalizers.push(outputs);
            next.push(Soft {
                lit: !totalizers[totalizers.len() - 1][1],
                weight: wmin,
                bound: Some((totalizers.len() - 1, 1)),
            });
        }
        softs.extend(next);
        softs.retain(|s| s.weight > 0);
    }
    out.stats.solve_seconds = t.elapsed().as_secs_f64();
    out.stats.timed_out = !optimal;
    let Some(best) = best else {
        out.stats.solver_calls = calls;
        return Ok(out);
    };
    if optimal && options.limit >= 2 {
        live.set_phase(Phase::Unique);
        let t = Instant::now();
        solver.add_clause(&encoding.blocking_clause(&best.compact));
        let assumptions = assumed(&softs);
        calls += 1;
        match solver.solve(&assumptions)? {
            Outcome::Sat => {
                let other = evaluate(encoding.decode(solver.as_ref()))?;
                if other.found.cost != best.found.cost || other.partition == best.partition {
                    return Err(Error::Internal(
                        "a second optimal partition that is not one".into(),
                    ));
                }
                out.unique = Some(false);
                out.witness = Some(other.partition);
            }
            Outcome::Unsat => {
                // Unobserved tokens may still sit in more than one class.
                let used = classes_used(&best.compact);
                if free_extensions(instance, prep.tokens(), &used, 2) >= 2 {
                    out.unique = Some(false);
                    out.witness = free_token_witness(instance, prep.tokens(), &best.partition);
                } else {
                    out.unique = Some(true);
                }
            }
            Outcome::Interrupted => out.stats.timed_out = true,
        }
        out.stats.unique_seconds = t.elapsed().as_secs_f64();
    }
    out.stats.solver_calls = calls;
    // Proven optimal: sat. Stopped first: unknown, with the best partition seen.
    Ok(report(&out, &best, lower, cores, optimal))
}
