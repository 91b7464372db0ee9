//! The CaDiCaL backend (CaDiCaL 1.9.5, bundled and built by the `cadical`
//! crate with the C++ compiler alone). It is interrupted through CaDiCaL's
//! terminate callback, which it polls throughout search and inprocessing.

use crate::backend::{Backend, Tuning};
use crate::cnf::FREE_APART_FROM;
use crate::control::Control;
use crate::lit::{Lit, Var};
use crate::sink::{ClauseSink, Footprint};
use crate::solver::{Outcome, Solver, Stats};

/// The callbacks CaDiCaL calls while it runs: the stop test and learnt clauses.
struct Hooks {
    control: Control,
}

impl cadical::Callbacks for Hooks {
    fn terminate(&mut self) -> bool {
        self.control.should_stop()
    }
    fn max_length(&self) -> i32 {
        if self.control.collects() {
            i32::MAX
        } else {
            0
        }
    }
    fn learn(&mut self, _clause: &[i32]) {
        self.control.live().add_learned();
    }
}

/// A CaDiCaL solver.
pub struct Cadical {
    /// Always `Some` but while being dropped.
    solver: Option<cadical::Solver<Hooks>>,
    variables: usize,
    clauses: usize,
    learned_before: u64,
    control: Option<Control>,
}

/// Freeing millions of clauses takes a noticeable fraction of a second, which the
/// answer (and a deadline) should not wait for: large solvers are freed apart.
impl Drop for Cadical {
    fn drop(&mut self) {
        if let Some(solver) = self.solver.take() {
            if self.clauses >= FREE_APART_FROM {
                std::thread::spawn(move || drop(solver));
            }
        }
    }
}

impl Cadical {
    /// A fresh solver.
    pub fn new() -> Self {
        Self::tuned(Tuning::Default)
    }

    /// A fresh solver with one of CaDiCaL's configurations.
    pub fn tuned(tuning: Tuning) -> Self {
        let solver = match tuning {
            Tuning::Default => cadical::Solver::new(),
            // The names are CaDiCaL's own, so the configuration always exists.
            named => cadical::Solver::with_config(named.name()).unwrap_or_default(),
        };
        Cadical {
            solver: Some(solver),
            variables: 0,
            clauses: 0,
            learned_before: 0,
            control: None,
        }
    }

    /// The solver (present until drop).
    fn inner(&self) -> &cadical::Solver<Hooks> {
        self.solver.as_ref().expect("present until drop")
    }

    /// The solver, mutably.
    fn inner_mut(&mut self) -> &mut cadical::Solver<Hooks> {
        self.solver.as_mut().expect("present until drop")
    }
}

impl Default for Cadical {
    fn default() -> Self {
        Self::new()
    }
}

impl ClauseSink for Cadical {
    fn new_var(&mut self) -> Var {
        self.variables += 1;
        Var::from_index(self.variables - 1)
    }
    fn footprint(&self) -> Footprint {
        Footprint::CADICAL
    }
    fn add_clause(&mut self, lits: &[Lit]) {
        self.clauses += 1;
        self.inner_mut()
            .add_clause(lits.iter().map(|l| l.to_dimacs()));
    }
}

impl Solver for Cadical {
    fn backend(&self) -> Backend {
        Backend::Cadical
    }

    fn solve(&mut self, assumptions: &[Lit]) -> partrec_core::error::Result<Outcome> {
        if self.control.as_ref().is_some_and(Control::should_stop) {
            return Ok(Outcome::Interrupted);
        }
        // Every variable made is known to the solver, even one in no clause.
        if self.variables > 0 {
            let variables = self.variables as i32;
            self.inner_mut().reserve(variables);
        }
        Ok(
            match self
                .inner_mut()
                .solve_with(assumptions.iter().map(|l| l.to_dimacs()))
            {
                Some(true) => Outcome::Sat,
                Some(false) => Outcome::Unsat,
                None => Outcome::Interrupted,
            },
        )
    }

    fn solve_limited(
        &mut self,
        assumptions: &[Lit],
        conflicts: u32,
    ) -> partrec_core::error::Result<Outcome> {
        let limit = i32::try_from(conflicts).unwrap_or(i32::MAX);
        self.inner_mut()
            .set_limit("conflicts", limit)
            .map_err(|e| {
                partrec_core::error::Error::Internal(format!(
                    "CaDiCaL refused a conflict limit: {e}"
                ))
            })?;
        self.solve(assumptions)
    }

    fn value(&self, var: Var) -> Option<bool> {
        if var.index() >= self.variables {
            return None;
        }
        // CaDiCaL leaves a variable free when either value satisfies the formula.
        Some(self.inner().value(var.to_dimacs()).unwrap_or(false))
    }

    fn failed(&self, lit: Lit) -> bool {
        self.inner().failed(lit.to_dimacs())
    }

    fn set_control(&mut self, control: &Control) -> bool {
        self.learned_before = control.live().learned();
        self.control = Some(control.clone());
        self.inner_mut().set_callbacks(Some(Hooks {
            control: control.clone(),
        }));
        true
    }

    fn stats(&self) -> Stats {
        Stats {
            learned: self
                .control
                .as_ref()
                .filter(|c| c.collects())
                .map(|c| c.live().learned() - self.learned_before),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::pigeonhole;
    use std::time::{Duration, Instant};

    #[test]
    fn a_deadline_interrupts_a_hard_search_and_counts_conflicts() {
        let mut s = Cadical::new();
        pigeonhole(&mut s, 13);
        let control = Control::with_timeout(Some(Duration::from_millis(200))).collecting();
        assert!(s.set_control(&control));
        let t = Instant::now();
        assert_eq!(s.solve(&[]).unwrap(), Outcome::Interrupted);
        assert!(t.elapsed() < Duration::from_secs(20));
        assert!(s.stats().learned.unwrap() > 0);
    }

    #[test]
    fn a_stop_from_another_thread_interrupts() {
        let mut s = Cadical::new();
        pigeonhole(&mut s, 13);
        let control = Control::new();
        s.set_control(&control);
        let remote = control.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            remote.stop();
        });
        assert_eq!(s.solve(&[]).unwrap(), Outcome::Interrupted);
        assert_eq!(s.stats().learned, None);
    }

    #[test]
    fn a_conflict_budget_stops_one_search_only() {
        let mut s = Cadical::new();
        pigeonhole(&mut s, 7);
        let control = Control::new().collecting();
        s.set_control(&control);
        assert_eq!(s.solve_limited(&[], 50).unwrap(), Outcome::Interrupted);
        let learned = s.stats().learned.unwrap();
        assert!((1..=60).contains(&learned), "{learned} conflicts");
        // The next search has no budget left over.
        assert_eq!(s.solve(&[]).unwrap(), Outcome::Unsat);
        assert!(s.stats().learned.unwrap() > 60);
        // Within its budget, a limited search answers like any other.
        let mut s = Cadical::new();
        let v = s.new_var();
        s.add_clause(&[v.positive()]);
        assert_eq!(s.solve_limited(&[], 1).unwrap(), Outcome::Sat);
        assert_eq!(s.solve_limited(&[v.negative()], 1).unwrap(), Outcome::Unsat);
    }
}
