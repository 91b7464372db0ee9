//! The CaDiCaL backend (CaDiCaL 1.9.5, bundled and built by the `cadical`
//! crate with the C++ compiler alone). It is interrupted through CaDiCaL's
//! terminate callback, which it polls throughout search and inprocessing.

use super::{Backend, ClauseSink, Control, Lit, Outcome, Solver, Stats, Tuning, Var};

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
    solver: cadical::Solver<Hooks>,
    variables: usize,
    learned_before: u64,
    control: Option<Control>,
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
            solver,
            variables: 0,
            learned_before: 0,
            control: None,
        }
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
    fn add_clause(&mut self, lits: &[Lit]) {
        self.solver.add_clause(lits.iter().map(|l| l.to_dimacs()));
    }
}

impl Solver for Cadical {
    fn backend(&self) -> Backend {
        Backend::Cadical
    }

    fn solve(&mut self, assumptions: &[Lit]) -> crate::Result<Outcome> {
        if self.control.as_ref().is_some_and(Control::should_stop) {
            return Ok(Outcome::Interrupted);
        }
        // Every variable made is known to the solver, even one in no clause.
        if self.variables > 0 {
            self.solver.reserve(self.variables as i32);
        }
        Ok(
            match self
                .solver
                .solve_with(assumptions.iter().map(|l| l.to_dimacs()))
            {
                Some(true) => Outcome::Sat,
                Some(false) => Outcome::Unsat,
                None => Outcome::Interrupted,
            },
        )
    }

    fn solve_limited(&mut self, assumptions: &[Lit], conflicts: u32) -> crate::Result<Outcome> {
        let limit = i32::try_from(conflicts).unwrap_or(i32::MAX);
        self.solver.set_limit("conflicts", limit).map_err(|e| {
            crate::Error::Internal(format!("CaDiCaL refused a conflict limit: {e}"))
        })?;
        self.solve(assumptions)
    }

    fn value(&self, var: Var) -> Option<bool> {
        if var.index() >= self.variables {
            return None;
        }
        // CaDiCaL leaves a variable free when either value satisfies the formula.
        Some(self.solver.value(var.to_dimacs()).unwrap_or(false))
    }

    fn failed(&self, lit: Lit) -> bool {
        self.solver.failed(lit.to_dimacs())
    }

    fn set_control(&mut self, control: &Control) -> bool {
        self.learned_before = control.live().learned();
        self.control = Some(control.clone());
        self.solver.set_callbacks(Some(Hooks {
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
    use crate::sat::tests::pigeonhole;
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
