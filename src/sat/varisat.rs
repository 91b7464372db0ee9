//! The varisat backend: pure Rust, no C++ toolchain needed. varisat cannot be
//! interrupted (its issue #111), so [`Solver::set_control`] answers `false` and
//! callers with a deadline run it in a child process ([`crate::worker`]).

use super::{Backend, ClauseSink, Control, Lit, Outcome, Solver, Stats, Var};
use varisat::ExtendFormula;

/// A varisat solver.
pub struct Varisat {
    solver: varisat::Solver<'static>,
    variables: usize,
    model: Vec<bool>,
    scratch: Vec<varisat::Lit>,
}

impl Varisat {
    /// A fresh solver.
    pub fn new() -> Self {
        Varisat {
            solver: varisat::Solver::new(),
            variables: 0,
            model: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl Default for Varisat {
    fn default() -> Self {
        Self::new()
    }
}

fn to_varisat(lit: Lit) -> varisat::Lit {
    varisat::Lit::from_index(lit.var().index(), lit.is_positive())
}

impl ClauseSink for Varisat {
    fn new_var(&mut self) -> Var {
        self.variables += 1;
        Var::from_index(self.solver.new_var().index())
    }
    fn add_clause(&mut self, lits: &[Lit]) {
        self.scratch.clear();
        self.scratch.extend(lits.iter().map(|&l| to_varisat(l)));
        self.solver.add_clause(&self.scratch);
    }
}

impl Solver for Varisat {
    fn backend(&self) -> Backend {
        Backend::Varisat
    }

    fn solve(&mut self, assumptions: &[Lit]) -> crate::Result<Outcome> {
        let assumed: Vec<varisat::Lit> = assumptions.iter().map(|&l| to_varisat(l)).collect();
        self.solver.assume(&assumed);
        let sat = self
            .solver
            .solve()
            .map_err(|e| crate::Error::Internal(format!("the SAT solver failed: {e}")))?;
        self.model.clear();
        if !sat {
            return Ok(Outcome::Unsat);
        }
        self.model.resize(self.variables, false);
        for lit in self.solver.model().unwrap_or_default() {
            if let Some(slot) = self.model.get_mut(lit.index()) {
                *slot = lit.is_positive();
            }
        }
        Ok(Outcome::Sat)
    }

    fn value(&self, var: Var) -> Option<bool> {
        self.model.get(var.index()).copied()
    }

    fn set_control(&mut self, _control: &Control) -> bool {
        false
    }

    fn stats(&self) -> Stats {
        Stats::default()
    }
}
