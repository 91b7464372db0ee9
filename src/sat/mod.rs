//! The SAT-backend seam: partrec's own variables and literals, a clause sink the
//! encoders write into, and the [`Solver`] trait every backend implements.
//!
//! Encoders ([`crate::solve::encode`], the direct colouring CNF) only know
//! [`ClauseSink`]; the solve driver only knows [`Solver`]. A backend is added by
//! implementing the trait in one file and naming it in [`Backend`], without
//! touching an encoder.
//!
//! ```
//! use partrec::sat::{Backend, ClauseSink, Outcome, Solver};
//!
//! let mut solver = Backend::Cadical.solver();
//! let (a, b) = (solver.new_var(), solver.new_var());
//! solver.add_clause(&[a.positive(), b.positive()]);
//! solver.add_clause(&[a.negative()]);
//! assert_eq!(solver.solve(&[]).unwrap(), Outcome::Sat);
//! assert_eq!(solver.value(b), Some(true));
//! // Under the assumption -b the formula has no model.
//! assert_eq!(solver.solve(&[b.negative()]).unwrap(), Outcome::Unsat);
//! ```

pub mod cadical;
pub mod cnf;
pub mod control;
pub mod shuffle;
pub mod varisat;

pub use cnf::Cnf;
pub use control::{Control, LiveStats, Phase, Ticker};

use std::fmt;
use std::str::FromStr;

/// A variable, numbered from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Var(u32);

impl Var {
    /// The variable with this 0-based index.
    pub fn from_index(index: usize) -> Var {
        Var(u32::try_from(index).expect("fewer than 2^31 variables"))
    }
    /// Its 0-based index.
    pub fn index(self) -> usize {
        self.0 as usize
    }
    /// The literal that is true when the variable is.
    pub fn positive(self) -> Lit {
        Lit(self.0 << 1)
    }
    /// The literal that is true when the variable is false.
    pub fn negative(self) -> Lit {
        Lit(self.0 << 1 | 1)
    }
    /// The literal that is true when the variable has `value`.
    pub fn lit(self, value: bool) -> Lit {
        if value {
            self.positive()
        } else {
            self.negative()
        }
    }
    /// Its DIMACS number (1-based).
    pub fn to_dimacs(self) -> i32 {
        self.0 as i32 + 1
    }
}

/// A literal: a variable or its negation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lit(u32);

impl Lit {
    /// Its variable.
    pub fn var(self) -> Var {
        Var(self.0 >> 1)
    }
    /// Whether it is the variable itself rather than its negation.
    pub fn is_positive(self) -> bool {
        self.0 & 1 == 0
    }
    /// Its DIMACS number: the variable's, negated for a negative literal.
    pub fn to_dimacs(self) -> i32 {
        let v = self.var().to_dimacs();
        if self.is_positive() {
            v
        } else {
            -v
        }
    }
}

impl std::ops::Not for Lit {
    type Output = Lit;
    fn not(self) -> Lit {
        Lit(self.0 ^ 1)
    }
}

/// Where an encoder writes: new variables and clauses (rustsat's `CollectClauses`).
pub trait ClauseSink {
    /// A fresh variable.
    fn new_var(&mut self) -> Var;
    /// Adds the clause `lits` (their disjunction).
    fn add_clause(&mut self, lits: &[Lit]);
    /// What it holds per clause, literal and variable, for estimates made before a
    /// formula is built (by default a flat clause list's).
    fn footprint(&self) -> Footprint {
        Footprint::CNF
    }
}

/// Bytes a clause sink holds per clause, per literal and per variable: estimates,
/// measured on this project's encodings (resident memory after loading and a first
/// search, divided out) with a margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Bytes per clause (headers, watches).
    pub per_clause: u64,
    /// Bytes per literal.
    pub per_literal: u64,
    /// Bytes per variable (assignment, phases, heap, occurrence lists).
    pub per_variable: u64,
}

impl Footprint {
    /// A flat clause list ([`Cnf`]): the literals and one end offset per clause.
    pub const CNF: Footprint = Footprint {
        per_clause: 8,
        per_literal: 4,
        per_variable: 0,
    };
    /// CaDiCaL: measured 110 to 160 bytes per clause of 2 to 7 literals, including the
    /// learnt clauses of a first search.
    pub const CADICAL: Footprint = Footprint {
        per_clause: 64,
        per_literal: 12,
        per_variable: 160,
    };
    /// varisat: measured 55 to 75 bytes per clause of 2 to 7 literals.
    pub const VARISAT: Footprint = Footprint {
        per_clause: 36,
        per_literal: 8,
        per_variable: 96,
    };
    /// The footprint the encoder's choices are made with: a solver's (CaDiCaL).
    pub const SOLVER: Footprint = Footprint::CADICAL;

    /// Two sinks fed the same formula.
    pub fn plus(self, other: Footprint) -> Footprint {
        Footprint {
            per_clause: self.per_clause + other.per_clause,
            per_literal: self.per_literal + other.per_literal,
            per_variable: self.per_variable + other.per_variable,
        }
    }
}

/// How a call to [`Solver::solve`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A model exists; read it with [`Solver::value`].
    Sat,
    /// No model exists under the assumptions: the search was complete.
    Unsat,
    /// The search was stopped by its [`Control`] (a deadline or a stop request).
    Interrupted,
}

/// Search statistics, where the backend exposes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Clauses learnt from conflicts (one per conflict), if the backend reports them.
    pub learned: Option<u64>,
}

/// A SAT solver backend.
pub trait Solver: ClauseSink {
    /// The backend's name, as in `--backend`.
    fn backend(&self) -> Backend;
    /// Searches for a model in which every literal of `assumptions` is true. A backend
    /// that can be interrupted returns [`Outcome::Interrupted`] soon after its control
    /// (see [`Solver::set_control`]) says stop.
    fn solve(&mut self, assumptions: &[Lit]) -> crate::Result<Outcome>;
    /// [`Solver::solve`] that gives up after about `conflicts` conflicts, answering
    /// [`Outcome::Interrupted`], on a backend with such a budget (CaDiCaL); the others
    /// search to the end.
    fn solve_limited(&mut self, assumptions: &[Lit], conflicts: u32) -> crate::Result<Outcome> {
        let _ = conflicts;
        self.solve(assumptions)
    }
    /// The value of `var` in the last model (after [`Outcome::Sat`]); `None` for a
    /// variable the solver never saw.
    fn value(&self, var: Var) -> Option<bool>;
    /// After [`Outcome::Unsat`] under assumptions: whether assumption `lit` is in the
    /// subset the refutation used (those alone are already unsatisfiable).
    fn failed(&self, lit: Lit) -> bool;
    /// Lets `control` stop the search and collect live statistics. Returns `false` if this
    /// backend cannot be interrupted (the caller must then enforce deadlines another way).
    fn set_control(&mut self, control: &Control) -> bool;
    /// Statistics of the search so far.
    fn stats(&self) -> Stats;
}

/// A preset of the backend's search parameters: CaDiCaL's `--sat` and `--unsat`
/// configurations (varisat has none and ignores it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tuning {
    /// The backend's defaults.
    #[default]
    Default,
    /// Tuned for satisfiable formulas. In the hard band, where deciding is mostly
    /// finding a second partition, one CDCL search with it decided 11 of 20 instances
    /// within 30 s, the default 6 (see the README's hard-band section).
    Sat,
    /// Tuned for unsatisfiable formulas.
    Unsat,
}

impl Tuning {
    /// CaDiCaL's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Tuning::Default => "default",
            Tuning::Sat => "sat",
            Tuning::Unsat => "unsat",
        }
    }
}

/// The available backends.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// CaDiCaL 1.9.5 (the `cadical` crate, bundled C++): interruptible, the faster one.
    #[default]
    Cadical,
    /// varisat, pure Rust: cannot be interrupted, so deadlines run it in a child process.
    Varisat,
}

impl Backend {
    /// Every backend, in the order of `--backend`'s help.
    pub const ALL: [Backend; 2] = [Backend::Cadical, Backend::Varisat];

    /// A fresh solver of this backend.
    pub fn solver(self) -> Box<dyn Solver> {
        self.tuned(Tuning::Default)
    }

    /// A fresh solver of this backend with `tuning` (which only CaDiCaL has).
    pub fn tuned(self, tuning: Tuning) -> Box<dyn Solver> {
        match self {
            Backend::Cadical => Box::new(cadical::Cadical::tuned(tuning)),
            Backend::Varisat => Box::new(varisat::Varisat::new()),
        }
    }

    /// What its solvers hold per clause, literal and variable.
    pub fn footprint(self) -> Footprint {
        match self {
            Backend::Cadical => Footprint::CADICAL,
            Backend::Varisat => Footprint::VARISAT,
        }
    }

    /// Whether a running search can be stopped in-process.
    pub fn interruptible(self) -> bool {
        match self {
            Backend::Cadical => true,
            Backend::Varisat => false,
        }
    }

    /// Its name, as in `--backend`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cadical => "cadical",
            Backend::Varisat => "varisat",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name() == s)
            .ok_or_else(|| format!("unknown backend {s:?} (expected cadical or varisat)"))
    }
}

/// Drops `formula` on a thread of its own when it is large: unmapping hundreds of
/// megabytes takes tens of milliseconds, which neither an answer nor a deadline
/// should wait for.
pub fn free_apart(formula: Cnf) {
    if formula.len() >= FREE_APART_FROM {
        std::thread::spawn(move || drop(formula));
    }
}

/// From this many clauses on, a formula or a solver is freed on a thread of its own
/// ([`free_apart`]).
pub const FREE_APART_FROM: usize = 1 << 16;

/// Reads a model: for each variable list, the position of the first true variable
/// (0 if none is true, which the encodings' at-least-one clauses rule out).
///
/// The one model decoder: the partition encoding and the direct colouring both
/// keep one list of variables per item (a token, a vertex), one per class.
pub fn first_true(solver: &dyn Solver, lists: &[Vec<Var>]) -> Vec<u32> {
    lists
        .iter()
        .map(|vars| {
            vars.iter()
                .position(|&v| solver.value(v) == Some(true))
                .unwrap_or(0) as u32
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn literals_round_trip_through_dimacs() {
        let v = Var::from_index(4);
        assert_eq!(v.to_dimacs(), 5);
        assert_eq!(v.positive().to_dimacs(), 5);
        assert_eq!(v.negative().to_dimacs(), -5);
        assert_eq!(!v.positive(), v.negative());
        assert_eq!(v.negative().var(), v);
        assert!(v.lit(true).is_positive() && !v.lit(false).is_positive());
    }

    #[test]
    fn backends_parse_by_name() {
        for b in Backend::ALL {
            assert_eq!(b.name().parse::<Backend>(), Ok(b));
        }
        assert!("minisat".parse::<Backend>().is_err());
    }

    /// Pigeonhole: `n + 1` pigeons, `n` holes (unsat; hard for CDCL from n = 10 on).
    pub(crate) fn pigeonhole(s: &mut dyn ClauseSink, n: usize) {
        let x: Vec<Vec<Var>> = (0..=n)
            .map(|_| (0..n).map(|_| s.new_var()).collect())
            .collect();
        for p in &x {
            s.add_clause(&p.iter().map(|v| v.positive()).collect::<Vec<_>>());
        }
        for (a, pa) in x.iter().enumerate() {
            for pb in &x[a + 1..] {
                for (u, v) in pa.iter().zip(pb) {
                    s.add_clause(&[u.negative(), v.negative()]);
                }
            }
        }
    }

    #[test]
    fn every_backend_and_tuning_answers_sat_unsat_and_assumptions_alike() {
        let tunings = [Tuning::Default, Tuning::Sat, Tuning::Unsat];
        for (backend, tuning) in Backend::ALL
            .into_iter()
            .flat_map(|b| tunings.map(|t| (b, t)))
        {
            let mut s = backend.tuned(tuning);
            assert_eq!(s.backend(), backend);
            pigeonhole(s.as_mut(), 3);
            assert_eq!(s.solve(&[]).unwrap(), Outcome::Unsat, "{backend}");
            let mut s = backend.tuned(tuning);
            let v: Vec<Var> = (0..3).map(|_| s.new_var()).collect();
            s.add_clause(&[v[0].positive(), v[1].positive()]);
            s.add_clause(&[v[0].negative(), v[2].positive()]);
            assert_eq!(s.solve(&[v[2].negative()]).unwrap(), Outcome::Sat);
            assert_eq!(
                (s.value(v[0]), s.value(v[1]), s.value(v[2])),
                (Some(false), Some(true), Some(false)),
                "{backend} {tuning:?}"
            );
            let w = s.new_var();
            let assumed = [w.positive(), v[2].negative(), v[1].negative()];
            assert_eq!(s.solve(&assumed).unwrap(), Outcome::Unsat);
            // A budget far beyond what a formula this small needs changes nothing.
            assert_eq!(s.solve_limited(&assumed, 1000).unwrap(), Outcome::Unsat);
            // The failed assumptions are unsatisfiable by themselves.
            let failed: Vec<Lit> = assumed.into_iter().filter(|&l| s.failed(l)).collect();
            assert!(failed.contains(&v[1].negative()), "{backend}");
            assert_eq!(s.solve(&failed).unwrap(), Outcome::Unsat, "{backend}");
            // Assumptions do not stick.
            assert_eq!(s.solve(&[]).unwrap(), Outcome::Sat);
            assert_eq!(first_true(s.as_ref(), std::slice::from_ref(&v)).len(), 1);
        }
    }

    #[test]
    fn an_empty_clause_is_unsat_on_every_backend() {
        for backend in Backend::ALL {
            let mut s = backend.solver();
            s.add_clause(&[]);
            assert_eq!(s.solve(&[]).unwrap(), Outcome::Unsat, "{backend}");
        }
    }
}
