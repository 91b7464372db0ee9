//! The varisat backend: pure Rust, no C++ toolchain needed. varisat cannot be
//! interrupted (its issue #111), so [`Solver::set_control`] answers `false` and
//! callers with a deadline run it in a child process (`partrec_worker`).

use crate::backend::Backend;
use crate::backend::ProofFormat;
use crate::control::Control;
use crate::lit::{Lit, Var};
use crate::sink::{ClauseSink, Footprint};
use crate::solver::{Outcome, Solver, Stats};
use partrec_core::error::{Error, Result};
use varisat::ExtendFormula;

/// A varisat solver.
pub struct Varisat {
    solver: varisat::Solver<'static>,
    variables: usize,
    model: Vec<bool>,
    scratch: Vec<varisat::Lit>,
    /// Assumptions are set in the solver.
    assumed: bool,
    /// A proof is being written.
    proving: bool,
}

impl Varisat {
    /// A fresh solver.
    pub fn new() -> Self {
        Varisat {
            solver: varisat::Solver::new(),
            variables: 0,
            model: Vec::new(),
            scratch: Vec::new(),
            assumed: false,
            proving: false,
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
    fn footprint(&self) -> Footprint {
        Footprint::VARISAT
    }
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

    fn solve(&mut self, assumptions: &[Lit]) -> Result<Outcome> {
        // varisat logs even an empty set of assumptions as a proof step, which its
        // DRAT writer cannot express: set them only when there are some, or to clear.
        if !assumptions.is_empty() || self.assumed {
            if self.proving {
                return Err(Error::Internal(
                    "assumptions cannot be used while writing a DRAT proof".into(),
                ));
            }
            let assumed: Vec<varisat::Lit> = assumptions.iter().map(|&l| to_varisat(l)).collect();
            self.solver.assume(&assumed);
            self.assumed = !assumptions.is_empty();
        }
        let sat = self
            .solver
            .solve()
            .map_err(|e| Error::Internal(format!("the SAT solver failed: {e}")))?;
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

    fn failed(&self, lit: Lit) -> bool {
        self.solver
            .failed_core()
            .is_some_and(|core| core.contains(&to_varisat(lit)))
    }

    fn set_control(&mut self, _control: &Control) -> bool {
        false
    }

    fn stats(&self) -> Stats {
        Stats::default()
    }

    fn trace_proof(&mut self, out: Box<dyn std::io::Write>, format: ProofFormat) -> Result<()> {
        if self.variables > 0 {
            return Err(Error::Internal(
                "a proof must be traced from the first clause on".into(),
            ));
        }
        let ProofFormat::Drat = format;
        self.solver.write_proof(out, varisat::ProofFormat::Drat);
        self.proving = true;
        Ok(())
    }

    fn close_proof(&mut self) -> Result<()> {
        self.solver
            .close_proof()
            .map_err(|e| Error::Internal(format!("writing the proof failed: {e}")))
    }
}
