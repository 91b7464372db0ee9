//! Creating a solver of a chosen backend.

use crate::backend::{Backend, Tuning};
use crate::cadical::Cadical;
use crate::solver::Solver;
use crate::varisat::Varisat;

impl Backend {
    /// A fresh solver of this backend.
    pub fn solver(self) -> Box<dyn Solver> {
        self.tuned(Tuning::Default)
    }

    /// A fresh solver of this backend with `tuning` (which only CaDiCaL has).
    pub fn tuned(self, tuning: Tuning) -> Box<dyn Solver> {
        match self {
            Backend::Cadical => Box::new(Cadical::tuned(tuning)),
            Backend::Varisat => Box::new(Varisat::new()),
        }
    }
}
