//! The varisat backend: pure Rust, no C++ toolchain needed. varisat cannot be
//! interrupted (its issue #111), so [`Solver::set_control`] answers `false` and
//! callers with a deadline run it in a child process ([`crate::worker`]).

use super::{Backend, ClauseSink, Control, Footprint, Lit, Outcome, Solver, Stats, Var};
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

impl Varisat {
    /// A fresh solver that writes a textual DRAT proof of every clause it derives to
    /// `proof` (before any clause is added, as varisat requires). Clauses added after
    /// a solve (blocking clauses) appear in the proof as lemmas; they are RUP only
    /// when the CNF checked against the proof contains them too.
    pub fn proving(proof: impl std::io::Write + 'static) -> Self {
        let mut v = Self::new();
        v.solver.write_proof(proof, varisat::ProofFormat::Drat);
        v.proving = true;
        v
    }

    /// Ends the proof and flushes it.
    pub fn finish_proof(&mut self) -> crate::Result<()> {
        self.solver
            .close_proof()
            .map_err(|e| crate::Error::Internal(format!("writing the proof failed: {e}")))
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

    fn solve(&mut self, assumptions: &[Lit]) -> crate::Result<Outcome> {
        // varisat logs even an empty set of assumptions as a proof step, which its
        // DRAT writer cannot express: set them only when there are some, or to clear.
        if !assumptions.is_empty() || self.assumed {
            if self.proving {
                return Err(crate::Error::Internal(
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
}
