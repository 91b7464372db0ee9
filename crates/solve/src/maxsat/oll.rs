//! The state of the core-guided search (OLL, as in RC2): soft constraints with their
//! remaining weights, the totalizers that relax cores, the lower bound, and the
//! techniques that keep diverse weights fast: stratification, core minimization,
//! weight-aware core extraction and hardening.

use super::totalizer::Totalizer;
use partrec_core::error::{Error, Result};
use partrec_sat::{ClauseSink, Control, Lit, Outcome, Solver, Var};
use std::collections::HashMap;

/// The conflicts each test of core minimization may take; one that runs out keeps
/// the members it tested. Measured on a generated noisy instance (I = 2, N = 100,
/// 8 N ln N samples, 3% of the values flipped) weighted from {1, 2, 3, 5, 1000}: 30
/// leaves cores large enough to make later refutations slow, 300 and 1000 spend more
/// on minimizing than they save.
pub(super) const MINIMIZE_CONFLICTS: u32 = 100;

/// What a soft constraint stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A distinct sample: its selector.
    Sample,
    /// "At most `k` inputs of totalizer `tot` are true": the negation of its output `k`.
    Bound { tot: usize, k: usize },
}

/// A soft constraint: an assumption and its remaining weight.
struct Soft {
    lit: Lit,
    weight: u64,
    kind: Kind,
    /// Made hard (a unit clause): assumed no more, never given weight again.
    hard: bool,
}

/// A core taken into the lower bound whose relaxation waits for the next model: its
/// members (indices of soft constraints) and the weight it took from each.
struct Core {
    members: Vec<usize>,
    weight: u64,
}

/// The soft constraints, totalizers and lower bound of the search.
///
/// Invariant (OLL's reformulation): an assignment to the formula violates samples of
/// total weight at most `lower` plus the weight of the soft constraints it violates.
/// A soft constraint is made hard only when violating it would cost more than a
/// partition already known, so every partition costing at most that one keeps a model.
pub(super) struct Oll {
    softs: Vec<Soft>,
    totalizers: Vec<Totalizer>,
    /// The soft constraint of each totalizer bound made so far.
    bounds: HashMap<(usize, usize), usize>,
    /// Cores not relaxed yet (weight-aware core extraction): until the next model,
    /// their members keep only their remaining weight and the search looks for more
    /// cores among the other soft constraints.
    pending: Vec<Core>,
    /// The proven lower bound on the least cost.
    pub(super) lower: u64,
    /// Cores found.
    pub(super) cores: usize,
    /// Solver calls made to minimize cores.
    pub(super) calls: usize,
}

impl Oll {
    /// One soft constraint per selector, weighing `weights` (in the same order).
    pub(super) fn new(selectors: &[Var], weights: &[u64]) -> Oll {
        Oll {
            softs: selectors
                .iter()
                .zip(weights)
                .map(|(v, &weight)| Soft {
                    lit: v.positive(),
                    weight,
                    kind: Kind::Sample,
                    hard: false,
                })
                .collect(),
            totalizers: Vec::new(),
            bounds: HashMap::new(),
            pending: Vec::new(),
            lower: 0,
            cores: 0,
            calls: 0,
        }
    }

    /// The stratification level after `above` (the first without it): the least weight
    /// assumed, half the heaviest weight below `above`, rounded up. A level's cores
    /// mix weights within a factor of two, so a heavy soft constraint is paid off by
    /// cores of its own level rather than by many cores of light ones; lighter
    /// constraints join at later levels. `None` when no weight is left below `above`.
    pub(super) fn next_level(&self, above: Option<u64>) -> Option<u64> {
        let top = self
            .softs
            .iter()
            .map(|s| s.weight)
            .filter(|&w| w > 0 && above.is_none_or(|a| w < a))
            .max()?;
        Some(top.div_ceil(2))
    }

    /// The soft constraints assumed at `level`: those weighing at least that (every
    /// one with weight for `None`).
    pub(super) fn active(&self, level: Option<u64>) -> Vec<usize> {
        let least = level.unwrap_or(1).max(1);
        (0..self.softs.len())
            .filter(|&i| self.softs[i].weight >= least)
            .collect()
    }

    /// The assumptions of `softs`.
    pub(super) fn assumptions(&self, softs: &[usize]) -> Vec<Lit> {
        softs.iter().map(|&i| self.softs[i].lit).collect()
    }

    /// Whether cores wait for [`Oll::relax`].
    pub(super) fn pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The members of `softs` among the failed assumptions of the last refutation.
    fn failed(&self, solver: &dyn Solver, softs: &[usize]) -> Vec<usize> {
        softs
            .iter()
            .copied()
            .filter(|&i| solver.failed(self.softs[i].lit))
            .collect()
    }

    /// The core of the last refutation among the `active` soft constraints, minimized.
    pub(super) fn core(
        &mut self,
        solver: &mut dyn Solver,
        active: &[usize],
        control: &Control,
    ) -> Result<Vec<usize>> {
        let core = self.failed(solver, active);
        self.minimize(solver, core, control)
    }

    /// Deletion-based core minimization with growing and shrinking chunks: drop a
    /// chunk of members and keep the rest if still unsatisfiable (then only the members
    /// its refutation used, and a chunk twice as large next), else halve the chunk;
    /// a member that cannot go alone stays. Lightest members go first, so the core's
    /// weight stays high. Each test runs within [`MINIMIZE_CONFLICTS`] conflicts; a
    /// test that runs out keeps what it tested, and a stop leaves the core as it is
    /// (every step keeps it a core).
    fn minimize(
        &mut self,
        solver: &mut dyn Solver,
        mut core: Vec<usize>,
        control: &Control,
    ) -> Result<Vec<usize>> {
        core.sort_by_key(|&i| self.softs[i].weight);
        let mut chunk = (core.len() / 2).max(1);
        // core[..kept] stay: each was needed (or undecided) when tested.
        let mut kept = 0;
        while kept < core.len() && core.len() > 1 && !control.should_stop() {
            // Never test nothing: the hard clauses alone have a model.
            chunk = chunk.clamp(1, core.len() - kept - usize::from(kept == 0));
            let end = kept + chunk;
            let test: Vec<usize> = core[..kept].iter().chain(&core[end..]).copied().collect();
            self.calls += 1;
            match solver.solve_limited(&self.assumptions(&test), MINIMIZE_CONFLICTS)? {
                Outcome::Unsat => {
                    let front = self.failed(solver, &core[..kept]);
                    let back = self.failed(solver, &core[end..]);
                    kept = front.len();
                    core = front.into_iter().chain(back).collect();
                    chunk *= 2;
                }
                Outcome::Sat | Outcome::Interrupted if chunk > 1 => chunk /= 2,
                Outcome::Sat | Outcome::Interrupted => kept += 1,
            }
        }
        Ok(core)
    }

    /// Takes `core` into the lower bound: its lightest weight is paid, every member
    /// keeps the rest, and a lone member is false for good. Its relaxation waits for
    /// [`Oll::relax`].
    pub(super) fn add_core(&mut self, core: Vec<usize>, sink: &mut dyn ClauseSink) -> Result<()> {
        let Some(weight) = core.iter().map(|&i| self.softs[i].weight).min() else {
            return Err(Error::Internal(
                "an unsatisfiable core without soft constraints".into(),
            ));
        };
        self.cores += 1;
        self.lower += weight;
        for &i in &core {
            self.softs[i].weight -= weight;
        }
        if let [only] = core[..] {
            sink.add_clause(&[!self.softs[only].lit]);
        }
        self.pending.push(Core {
            members: core,
            weight,
        });
        Ok(())
    }

    /// Relaxes the pending cores: a core of several members gets a totalizer over
    /// their violations, of which at least one is now hard and "at most one" is soft
    /// with the core's weight; a bound in a core passes the weight on to the next
    /// bound of its totalizer.
    pub(super) fn relax(&mut self, sink: &mut dyn ClauseSink) {
        for core in std::mem::take(&mut self.pending) {
            for &i in &core.members {
                if let Kind::Bound { tot, k } = self.softs[i].kind {
                    self.add_bound(tot, k + 1, core.weight, sink);
                }
            }
            if core.members.len() > 1 {
                let violated: Vec<Lit> = core.members.iter().map(|&i| !self.softs[i].lit).collect();
                let mut totalizer = Totalizer::new(&violated);
                totalizer.grow(sink, 1);
                sink.add_clause(&[totalizer.output(0)]);
                self.totalizers.push(totalizer);
                self.add_bound(self.totalizers.len() - 1, 1, core.weight, sink);
            }
        }
    }

    /// Adds `weight` to the soft constraint "at most `k` inputs of totalizer `tot` are
    /// true", growing the totalizer to read it (nothing once `k` covers every input).
    fn add_bound(&mut self, tot: usize, k: usize, weight: u64, sink: &mut dyn ClauseSink) {
        let totalizer = &mut self.totalizers[tot];
        if k >= totalizer.size() {
            return;
        }
        totalizer.grow(sink, k + 1);
        let lit = !totalizer.output(k);
        let i = *self.bounds.entry((tot, k)).or_insert_with(|| {
            self.softs.push(Soft {
                lit,
                weight: 0,
                kind: Kind::Bound { tot, k },
                hard: false,
            });
            self.softs.len() - 1
        });
        if !self.softs[i].hard {
            // Saturating: a weight past the total weight is made hard by any partition.
            self.softs[i].weight = self.softs[i].weight.saturating_add(weight);
        }
    }

    /// Makes hard every soft constraint heavier than `upper - lower`, `upper` being
    /// the cost of a known partition: violating it would cost more than that.
    pub(super) fn harden(&mut self, upper: u64, sink: &mut dyn ClauseSink) {
        let gap = upper.saturating_sub(self.lower);
        for soft in &mut self.softs {
            if soft.weight > gap {
                sink.add_clause(&[soft.lit]);
                soft.weight = 0;
                soft.hard = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_sat::Backend;

    /// A solver with `n` selectors and their soft constraints of these weights.
    fn softs(backend: Backend, weights: &[u64]) -> (Box<dyn Solver>, Vec<Var>, Oll) {
        let mut s = backend.solver();
        let v: Vec<Var> = weights.iter().map(|_| s.new_var()).collect();
        let oll = Oll::new(&v, weights);
        (s, v, oll)
    }

    #[test]
    fn levels_halve_the_heaviest_weight_left() {
        let (_, _, oll) = softs(Backend::Cadical, &[1, 2, 3, 5, 1000, 1001, 2000, 2]);
        let mut levels = Vec::new();
        let mut level = oll.next_level(None);
        while let Some(l) = level {
            levels.push((l, oll.active(Some(l)).len()));
            level = oll.next_level(level);
        }
        // 2000 and 1000 together (within a factor of two), then 5 and 3, then 2s, 1.
        assert_eq!(levels, [(1000, 3), (3, 5), (1, 8)]);
        assert_eq!(oll.active(None).len(), 8);
        // Huge weights round up rather than overflow.
        let (_, _, oll) = softs(Backend::Cadical, &[u64::MAX, 1]);
        assert_eq!(oll.next_level(None), Some(u64::MAX / 2 + 1));
        assert_eq!(oll.next_level(Some(u64::MAX / 2 + 1)), Some(1));
        assert_eq!(oll.next_level(Some(1)), None);
        let (_, _, oll) = softs(Backend::Cadical, &[]);
        assert_eq!(oll.next_level(None), None);
    }

    #[test]
    fn minimizing_keeps_a_core_and_prefers_heavy_members() {
        for backend in Backend::ALL {
            // {0, 1} and {2, 3} are cores (each pair cannot hold together); 4 and 5
            // are free. The lightest go first, so the heavier core stays.
            let (mut s, v, mut oll) = softs(backend, &[1, 1, 5, 5, 1, 9]);
            s.add_clause(&[v[0].negative(), v[1].negative()]);
            s.add_clause(&[v[2].negative(), v[3].negative()]);
            let core = oll
                .minimize(s.as_mut(), vec![0, 1, 2, 3, 4, 5], &Control::new())
                .unwrap();
            let mut sorted = core.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [2, 3], "{backend}");
            assert!(oll.calls > 0);
            // A core of one member stays as it is, without a call.
            let calls = oll.calls;
            let (mut s, v, _) = softs(backend, &[1]);
            s.add_clause(&[v[0].negative()]);
            assert_eq!(
                oll.minimize(s.as_mut(), vec![0], &Control::new()).unwrap(),
                [0]
            );
            assert_eq!(oll.calls, calls);
        }
    }

    #[test]
    fn a_core_pays_its_lightest_weight_and_relaxes_into_a_bound() {
        for backend in Backend::ALL {
            // Three selectors of which at most one can hold.
            let (mut s, v, mut oll) = softs(backend, &[3, 5, 4]);
            for (a, b) in [(0, 1), (0, 2), (1, 2)] {
                s.add_clause(&[v[a].negative(), v[b].negative()]);
            }
            let all = oll.active(None);
            assert_eq!(s.solve(&oll.assumptions(&all)).unwrap(), Outcome::Unsat);
            let core = oll.core(s.as_mut(), &all, &Control::new()).unwrap();
            assert_eq!(core.len(), 2, "{backend}: a pair is a core");
            let lightest = core.iter().map(|&i| [3, 5, 4][i]).min();
            oll.add_core(core, s.as_mut()).unwrap();
            assert_eq!(Some(oll.lower), lightest);
            assert!(oll.pending());
            oll.relax(s.as_mut());
            assert!(!oll.pending());
            // The bound is a new soft constraint weighing the core's weight, and the
            // search goes on to the optimum: two violated, cost 3 + 4 = 7.
            loop {
                let active = oll.active(None);
                match s.solve(&oll.assumptions(&active)).unwrap() {
                    Outcome::Sat => break,
                    _ => {
                        let core = oll.core(s.as_mut(), &active, &Control::new()).unwrap();
                        oll.add_core(core, s.as_mut()).unwrap();
                        oll.relax(s.as_mut());
                    }
                }
            }
            assert_eq!(oll.lower, 7, "{backend}");
            let held: Vec<usize> = (0..3).filter(|&i| s.value(v[i]) == Some(true)).collect();
            assert_eq!(held, [1], "{backend}: only the heaviest holds");
        }
    }

    #[test]
    fn hardening_makes_constraints_heavier_than_the_gap_hard() {
        for backend in Backend::ALL {
            let (mut s, v, mut oll) = softs(backend, &[1, 10, 100]);
            oll.lower = 40;
            // A partition of cost 50 is known: violating the 100 cannot pay off.
            oll.harden(50, s.as_mut());
            assert_eq!(oll.active(None), [0, 1]);
            assert_eq!(s.solve(&[v[2].negative()]).unwrap(), Outcome::Unsat);
            assert_eq!(s.solve(&[v[1].negative()]).unwrap(), Outcome::Sat);
            // A better partition hardens more.
            oll.harden(45, s.as_mut());
            assert_eq!(oll.active(None), [0]);
            assert!(oll.softs[1].hard && oll.softs[2].hard && !oll.softs[0].hard);
        }
    }
}
