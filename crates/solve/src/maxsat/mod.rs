//! Maximum consistency for noisy samples (`solve --max-consistent`): a partition
//! that violates the fewest samples, by weight, with the samples to drop.
//!
//! Core-guided MaxSAT (OLL, as in RC2; the search state is in `oll`): every
//! distinct sample is a soft constraint, guarded by its selector in the ordinary
//! encoding ([`encode_with_selectors`]) and weighted by the total weight of the
//! samples it stands for. The search assumes soft constraints; each unsatisfiable
//! core raises the lower bound by its smallest weight, and its members are relaxed
//! through an incremental totalizer (in `totalizer`, counting violated members, never
//! weights) whose next output ("at most one more violated") becomes a new soft
//! constraint. What keeps diverse weights fast:
//!
//! - stratification: the heaviest soft constraints are assumed first, each level
//!   reaching down to half the heaviest weight left, so a core rarely mixes a heavy
//!   sample with light ones (each such core would pay the light weight off the heavy
//!   one, and thousands of them would be needed);
//! - core minimization: every core is shrunk by deletion under a conflict budget, as
//!   small cores make small totalizers and easy refutations later;
//! - weight-aware core extraction: a core's relaxation waits for the next model, so
//!   the search first collects cores among the untouched soft constraints;
//! - hardening: a soft constraint heavier than the gap between the best partition's
//!   cost and the lower bound becomes a hard clause (violating it cannot pay off).
//!
//! A model under every soft constraint with weight is optimal (status `sat`). A
//! deadline ends the search with status `unknown`, the best partition seen and the
//! lower bound proven so far, never a claim of optimality.
//!
//! The cost of a partition is computed by the checker ([`partrec_core::check::violations`]),
//! not read off the model: for each class tuple, the samples of every value but the
//! heaviest are dropped, which is the least any table can do for that partition.

mod oll;
mod totalizer;

use crate::count::{free_extensions, free_token_witness};
use crate::encode::{encode_with_selectors, Encoding};
use crate::options::SolveOptions;
use crate::preprocess::{PrepareOptions, Prepared};
use crate::solution::{MaxReport, Solution, Status};
use oll::Oll;
use partrec_core::check::{violations, Violations};
use partrec_core::error::{Error, Result};
use partrec_core::model::instance::Instance;
use partrec_core::model::partition::classes_used;
use partrec_core::model::partition::{canonical, Partition};
use partrec_sat::{Control, Lit, Outcome, Phase, Solver};
use std::collections::HashMap;
use std::time::Instant;

/// The tabu search's budget for a first upper bound, in sample updates (a fiftieth of
/// [`crate::options::LOCAL_SEARCH_WORK`]).
const LOCAL_WORK: u64 = crate::options::LOCAL_SEARCH_WORK / 50;

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
    partrec_core::model::compact::listable(instance.groups())?;
    let live = control.live();
    live.set_phase(Phase::Preprocess);
    let prep = Prepared::with_options(instance, PrepareOptions { must_differ: false });
    let weight = distinct_weights(instance, &prep)?;
    let mut out = prepared(instance, &prep, options);
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
    let mut search = Search {
        instance,
        prep: &prep,
        encoding,
        solver,
        control,
        calls: 0,
    };
    live.set_phase(Phase::Search);
    let t = Instant::now();
    let mut best = search.first_bound(&out, progress)?;
    let mut oll = Oll::new(&selectors, &weight);
    let optimal = search.optimize(&mut oll, &mut best, &out, progress)?;
    search.calls += oll.calls;
    let (lower, cores) = (oll.lower, oll.cores);
    out.stats.solve_seconds = t.elapsed().as_secs_f64();
    out.stats.timed_out = !optimal;
    let Some(best) = best else {
        out.stats.solver_calls = search.calls;
        return Ok(out);
    };
    if optimal && options.limit >= 2 {
        live.set_phase(Phase::Unique);
        let t = Instant::now();
        search.decide_unique(&mut oll, &best, &mut out)?;
        out.stats.unique_seconds = t.elapsed().as_secs_f64();
    }
    out.stats.solver_calls = search.calls;
    // Proven optimal: sat. Stopped first: unknown, with the best partition seen.
    Ok(report(&out, &best, lower, cores, optimal))
}

/// Per distinct sample of `prep`, the total weight of the instance samples it stands
/// for; refuses weights that add up to more than 64 bits hold.
fn distinct_weights(instance: &Instance, prep: &Prepared) -> Result<Vec<u64>> {
    // Every cost below is at most the total weight, so no sum overflows after this.
    (0..instance.num_samples())
        .try_fold(0u64, |total, s| total.checked_add(instance.weight(s)))
        .ok_or_else(|| Error::Usage("the sample weights add up to more than 2^64 - 1".into()))?;
    let of = distinct_of(instance, prep)?;
    let mut weight = vec![0u64; prep.len()];
    for (s, &d) in of.iter().enumerate() {
        weight[d] += instance.weight(s);
    }
    Ok(weight)
}

/// An `unknown` answer holding the stats of the preparation.
fn prepared(instance: &Instance, prep: &Prepared, options: &SolveOptions) -> Solution {
    let mut out = Solution::new(Status::Unknown);
    out.stats.samples = instance.num_samples();
    out.stats.distinct_samples = prep.len();
    out.stats.values = prep.values;
    out.stats.observed_tokens = prep.order.iter().map(Vec::len).collect();
    out.stats.backend = Some(options.backend);
    out
}

/// Keeps `found` as `best` when it costs less (or nothing was found before) and
/// reports it to `progress` with the bounds proven so far.
fn offer(
    best: &mut Option<Best>,
    found: Best,
    out: &Solution,
    (lower, cores): (u64, usize),
    progress: &mut dyn FnMut(&Solution),
) {
    if best
        .as_ref()
        .is_none_or(|b| found.found.cost < b.found.cost)
    {
        progress(&report(out, &found, lower, cores, false));
        *best = Some(found);
    }
}

/// What the search's steps share: the instance, its preparation, and the solver
/// holding the encoding.
struct Search<'a> {
    instance: &'a Instance,
    prep: &'a Prepared,
    encoding: Encoding,
    solver: Box<dyn Solver>,
    control: &'a Control,
    /// Solver calls made.
    calls: usize,
}

impl Search<'_> {
    /// One solver call under `assumptions`, counted.
    fn call(&mut self, assumptions: &[Lit]) -> Result<Outcome> {
        self.calls += 1;
        self.solver.solve(assumptions)
    }

    /// `compact` in full, and what the checker says it costs.
    fn evaluate(&self, compact: Partition) -> Result<Best> {
        let partition = canonical(&self.prep.tokens().expand(&compact, self.instance.groups()));
        let found = violations(self.instance, &partition)
            .map_err(|m| Error::Internal(format!("a partition of the wrong shape: {m}")))?;
        Ok(Best {
            compact,
            partition,
            found,
        })
    }

    /// The partition of the solver's model, priced.
    fn model(&self) -> Result<Best> {
        self.evaluate(self.encoding.decode(self.solver.as_ref()))
    }

    /// A first upper bound: the partition the hard clauses alone give, then a better
    /// one if a short tabu search finds it. `None` when stopped before either.
    fn first_bound(
        &mut self,
        out: &Solution,
        progress: &mut dyn FnMut(&Solution),
    ) -> Result<Option<Best>> {
        let mut best = None;
        // Any partition is an upper bound: first the one the hard clauses alone give.
        match self.call(&[])? {
            Outcome::Sat => offer(&mut best, self.model()?, out, (0, 0), progress),
            Outcome::Interrupted => {}
            Outcome::Unsat => {
                return Err(Error::Internal(
                    "the encoding without samples is unsatisfiable".into(),
                ))
            }
        }
        // A better start: the assignment with the fewest conflicting pairs a short tabu
        // search meets (nothing trusted: the checker prices it like any other).
        let tabu = crate::local_search::fewest_conflicts(self.prep, LOCAL_WORK, 1, self.control);
        if let Some(compact) = tabu {
            offer(&mut best, self.evaluate(compact)?, out, (0, 0), progress);
        }
        Ok(best)
    }

    /// The core-guided search, level by level, keeping the best partition its models
    /// give in `best`; whether that one is proven optimal (false when stopped).
    fn optimize(
        &mut self,
        oll: &mut Oll,
        best: &mut Option<Best>,
        out: &Solution,
        progress: &mut dyn FnMut(&Solution),
    ) -> Result<bool> {
        let mut level = oll.next_level(None);
        loop {
            if let Some(b) = best.as_ref() {
                if b.found.cost == oll.lower {
                    return Ok(true);
                }
                oll.harden(b.found.cost, self.solver.as_mut());
            }
            let active = oll.active(level);
            match self.call(&oll.assumptions(&active))? {
                Outcome::Interrupted => return Ok(false),
                Outcome::Sat => {
                    let bounds = (oll.lower, oll.cores);
                    offer(best, self.model()?, out, bounds, progress);
                    if oll.pending() {
                        oll.relax(self.solver.as_mut());
                        continue;
                    }
                    level = oll.next_level(level);
                    if level.is_none() {
                        // Every soft constraint with weight held: the model costs at most
                        // the lower bound, so the best partition costs exactly that.
                        let cost = best.as_ref().map_or(u64::MAX, |b| b.found.cost);
                        if cost != oll.lower {
                            return Err(Error::Internal(format!(
                                "the optimal model costs {cost} by the checker, but the lower bound is {}",
                                oll.lower
                            )));
                        }
                        return Ok(true);
                    }
                }
                Outcome::Unsat => {
                    let core = oll.core(self.solver.as_mut(), &active, self.control)?;
                    oll.add_core(core, self.solver.as_mut())?;
                }
            }
        }
    }

    /// Whether `best`, proven optimal, is the only optimal partition: sets `out`'s
    /// `unique` and witness (or `timed_out` when stopped).
    fn decide_unique(&mut self, oll: &mut Oll, best: &Best, out: &mut Solution) -> Result<()> {
        // Relaxed cores and every level: a model is then another optimal partition.
        oll.relax(self.solver.as_mut());
        self.solver
            .add_clause(&self.encoding.blocking_clause(&best.compact));
        let assumptions = oll.assumptions(&oll.active(None));
        match self.call(&assumptions)? {
            Outcome::Sat => {
                let other = self.model()?;
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
                let (instance, tokens) = (self.instance, self.prep.tokens());
                let used = classes_used(&best.compact);
                if free_extensions(instance, tokens, &used, 2) >= 2 {
                    out.unique = Some(false);
                    out.witness = free_token_witness(instance, tokens, &best.partition);
                } else {
                    out.unique = Some(true);
                }
            }
            Outcome::Interrupted => out.stats.timed_out = true,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_sat::Backend;

    /// Weights from 1 to 2^40 in one instance: token 0 carries value a heavily, token
    /// 1 value b, and token 2 is cheapest beside token 0. The light samples of each
    /// token are dropped (1 + 1000 + 1), never a heavy one.
    #[test]
    fn very_diverse_weights_give_the_exact_optimum() {
        let text = r#"{"groups": [{"tokens": 3, "classes": 2}], "samples": [
            {"x": [0], "y": "a", "w": 1099511627776}, {"x": [1], "y": "b", "w": 1000000},
            {"x": [2], "y": "a", "w": 1000}, {"x": [2], "y": "b", "w": 1},
            {"x": [0], "y": "b", "w": 1}, {"x": [1], "y": "a", "w": 1000}]}"#;
        let instance = Instance::from_json(text.as_bytes(), "t").unwrap();
        for backend in Backend::ALL {
            let options = SolveOptions {
                max_consistent: true,
                backend,
                ..SolveOptions::unique()
            };
            let sol = solve(&instance, &options, &Control::new(), &mut |_| {}).unwrap();
            let m = sol.max_consistent.as_ref().unwrap();
            assert_eq!(sol.status, Status::Sat, "{backend}");
            assert_eq!((m.cost, m.lower_bound, m.optimal), (1002, 1002, true));
            assert_eq!(m.dropped, [3, 4, 5]);
            assert_eq!(sol.partition, Some(vec![vec![0, 1, 0]]));
            assert_eq!(sol.unique, Some(true));
        }
    }
}
