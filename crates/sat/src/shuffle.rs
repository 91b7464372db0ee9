//! A seeded renaming of a formula in front of any backend: the variables are
//! renumbered and their signs flipped at random, and the clauses given before the
//! first solve are shuffled. The formula is the same up to renaming, so every
//! answer is the same, but a CDCL search (whose decisions follow variable order,
//! initial phases and clause order) takes another path: a seed for backends that
//! have none, used to diversify a portfolio.

use crate::backend::Backend;
use crate::cnf::Cnf;
use crate::control::Control;
use crate::lit::{Lit, Var};
use crate::sink::{ClauseSink, Footprint};
use crate::solver::{Outcome, Solver, Stats};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How often (in clauses) a flush looks at the control.
const FLUSH_POLL: usize = 1 << 12;

/// `inner` behind a seeded renaming of variables, signs and clause order.
pub struct Shuffled {
    inner: Box<dyn Solver>,
    rng: ChaCha8Rng,
    /// Variables handed out so far.
    variables: usize,
    /// The clauses held back until the first solve, in the caller's variables (one
    /// allocation, so holding and dropping millions of clauses stays cheap), and the
    /// shuffled order of those not yet added (made at the first flush).
    pending: Option<(Cnf, Vec<u32>)>,
    /// The inner literal of each of the caller's variables (once flushed).
    renamed: Vec<Lit>,
    /// The control a flush looks at (the inner solver's).
    control: Control,
}

impl Shuffled {
    /// `inner` renamed by `seed`.
    pub fn new(inner: Box<dyn Solver>, seed: u64) -> Self {
        Shuffled {
            inner,
            rng: ChaCha8Rng::seed_from_u64(seed),
            variables: 0,
            pending: Some((Cnf::new(), Vec::new())),
            renamed: Vec::new(),
            control: Control::new(),
        }
    }

    /// Gives the inner solver a variable for each new one of the caller's, in a random
    /// order with random signs.
    fn rename_new(&mut self) {
        let start = self.renamed.len();
        let fresh: Vec<Var> = (start..self.variables)
            .map(|_| self.inner.new_var())
            .collect();
        let mut order: Vec<usize> = (0..fresh.len()).collect();
        order.shuffle(&mut self.rng);
        for i in order {
            let sign = self.rng.random::<bool>();
            self.renamed.push(fresh[i].lit(sign));
        }
    }

    /// The inner literal of `lit`.
    fn map(&self, lit: Lit) -> Lit {
        let inner = self.renamed[lit.var().index()];
        if lit.is_positive() {
            inner
        } else {
            !inner
        }
    }

    /// Adds the held-back clauses, shuffled, and from now on passes clauses through.
    /// `false` if the control said stop first: the clauses not yet added stay held back.
    fn flush(&mut self) -> bool {
        self.rename_new();
        let Some((clauses, mut order)) = self.pending.take() else {
            return true;
        };
        if order.is_empty() {
            order = (0..clauses.len() as u32).rev().collect();
            order.shuffle(&mut self.rng);
        }
        while let Some(&i) = order.last() {
            if order.len() % FLUSH_POLL == 0 && self.control.should_stop() {
                self.pending = Some((clauses, order));
                return false;
            }
            let mapped: Vec<Lit> = clauses
                .clause(i as usize)
                .iter()
                .map(|&l| self.map(l))
                .collect();
            self.inner.add_clause(&mapped);
            order.pop();
        }
        super::free_apart(clauses);
        true
    }

    /// `assumptions` renamed, once every clause has reached the inner solver; `None`
    /// if the control said stop before they all did.
    fn assumed(&mut self, assumptions: &[Lit]) -> Option<Vec<Lit>> {
        self.flush()
            .then(|| assumptions.iter().map(|&l| self.map(l)).collect())
    }
}

impl Drop for Shuffled {
    fn drop(&mut self) {
        if let Some((clauses, _)) = self.pending.take() {
            super::free_apart(clauses);
        }
    }
}

impl ClauseSink for Shuffled {
    /// The inner solver's, plus the clauses held back until the first solve.
    fn footprint(&self) -> Footprint {
        self.inner.footprint().plus(Footprint::CNF)
    }
    fn new_var(&mut self) -> Var {
        self.variables += 1;
        Var::from_index(self.variables - 1)
    }

    fn add_clause(&mut self, lits: &[Lit]) {
        match &mut self.pending {
            Some((clauses, order)) => {
                // After a flush that stopped part-way, the order lists what is left.
                if !order.is_empty() {
                    order.push(clauses.len() as u32);
                }
                clauses.add_clause(lits);
            }
            None => {
                self.rename_new();
                let mapped: Vec<Lit> = lits.iter().map(|&l| self.map(l)).collect();
                self.inner.add_clause(&mapped);
            }
        }
    }
}

impl Solver for Shuffled {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    fn solve(&mut self, assumptions: &[Lit]) -> partrec_core::error::Result<Outcome> {
        let Some(mapped) = self.assumed(assumptions) else {
            return Ok(Outcome::Interrupted);
        };
        self.inner.solve(&mapped)
    }

    fn solve_limited(
        &mut self,
        assumptions: &[Lit],
        conflicts: u32,
    ) -> partrec_core::error::Result<Outcome> {
        let Some(mapped) = self.assumed(assumptions) else {
            return Ok(Outcome::Interrupted);
        };
        self.inner.solve_limited(&mapped, conflicts)
    }

    fn value(&self, var: Var) -> Option<bool> {
        let inner = *self.renamed.get(var.index())?;
        self.inner
            .value(inner.var())
            .map(|v| v == inner.is_positive())
    }

    fn failed(&self, lit: Lit) -> bool {
        self.renamed
            .get(lit.var().index())
            .is_some_and(|_| self.inner.failed(self.map(lit)))
    }

    fn set_control(&mut self, control: &Control) -> bool {
        self.control = control.clone();
        self.inner.set_control(control)
    }

    fn stats(&self) -> Stats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::pigeonhole;

    /// Every model of the renamed formula, read through the renaming, is a model of
    /// the original; clauses added after a solve are renamed too.
    #[test]
    fn a_renamed_formula_has_the_same_answers_and_models() {
        for backend in Backend::ALL {
            for seed in 0..8 {
                let mut s = Shuffled::new(backend.solver(), seed);
                let v: Vec<Var> = (0..6).map(|_| s.new_var()).collect();
                let clauses = vec![
                    vec![v[0].positive(), v[1].positive()],
                    vec![v[0].negative(), v[2].positive()],
                    vec![v[1].negative(), v[3].negative()],
                    vec![v[4].positive(), v[5].negative(), v[2].negative()],
                ];
                for c in &clauses {
                    s.add_clause(c);
                }
                let holds = |s: &Shuffled, c: &[Lit]| {
                    c.iter().any(|l| s.value(l.var()) == Some(l.is_positive()))
                };
                assert_eq!(s.solve(&[]).unwrap(), Outcome::Sat);
                assert!(clauses.iter().all(|c| holds(&s, c)));
                assert_eq!(s.solve(&[v[0].positive()]).unwrap(), Outcome::Sat);
                assert_eq!(s.value(v[0]), Some(true));
                assert_eq!(s.value(v[2]), Some(true));
                // Limited searches rename their assumptions too.
                let refuted = [v[0].positive(), v[2].negative()];
                assert_eq!(s.solve_limited(&refuted, 1000).unwrap(), Outcome::Unsat);
                assert!(refuted.iter().all(|&l| s.failed(l)));
                assert_eq!(
                    s.solve_limited(&[v[0].negative()], 1000).unwrap(),
                    Outcome::Sat
                );
                assert_eq!(s.value(v[1]), Some(true));
                // A variable made after the first solve.
                let w = s.new_var();
                s.add_clause(&[w.negative(), v[0].negative()]);
                s.add_clause(&[w.positive()]);
                assert_eq!(s.solve(&[]).unwrap(), Outcome::Sat);
                assert_eq!((s.value(w), s.value(v[0])), (Some(true), Some(false)));
                assert_eq!(s.value(Var::from_index(99)), None);
                s.add_clause(&[v[2].negative()]);
                s.add_clause(&[v[1].negative()]);
                assert_eq!(s.solve(&[]).unwrap(), Outcome::Unsat);
            }
        }
    }

    #[test]
    fn pigeonhole_stays_unsat_under_every_seed() {
        for seed in 0..4 {
            let mut s = Shuffled::new(Backend::Cadical.solver(), seed);
            pigeonhole(&mut s, 5);
            assert_eq!(s.solve(&[]).unwrap(), Outcome::Unsat);
        }
    }
}
