//! The SAT-backend seam: partrec's own variables and literals, a clause sink the
//! encoders write into, and the [`Solver`] trait every backend implements.
//!
//! Encoders (`partrec_solve::encode`, the direct colouring CNF) only know
//! [`ClauseSink`]; the solve driver only knows [`Solver`]. A backend is added by
//! implementing the trait in one file and naming it in [`Backend`], without
//! touching an encoder.
//!
//! ```
//! use partrec_sat::{Backend, ClauseSink, Outcome, Solver};
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

pub mod backend;
pub mod cadical;
pub mod cnf;
pub mod control;
pub mod lit;
pub mod open;
pub mod shuffle;
pub mod sink;
pub mod solver;
pub mod varisat;

pub use backend::{Backend, ProofFormat, Tuning};
pub use cnf::{free_apart, Cnf, FREE_APART_FROM};
pub use control::{Control, LiveStats, Phase, Ticker};
pub use lit::{Lit, Var};
pub use sink::{ClauseSink, Footprint};
pub use solver::{first_true, Outcome, ProofBuffer, Solver, Stats};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn proofs_are_traced_by_the_backends_that_say_so() {
        for backend in Backend::ALL {
            let mut solver = backend.solver();
            let out = ProofBuffer::default();
            let traced = solver.trace_proof(Box::new(out.clone()), ProofFormat::Drat);
            assert_eq!(
                traced.is_ok(),
                backend.traces(ProofFormat::Drat),
                "{backend}"
            );
            if traced.is_err() {
                continue;
            }
            pigeonhole(solver.as_mut(), 4);
            assert_eq!(solver.solve(&[]).unwrap(), Outcome::Unsat);
            solver.close_proof().unwrap();
            let text = String::from_utf8(out.take()).unwrap();
            assert!(text.lines().count() > 1, "{backend}: {text:?}");
            // After the first clause, a trace can no longer start.
            let mut late = backend.solver();
            pigeonhole(late.as_mut(), 2);
            assert!(late
                .trace_proof(Box::new(ProofBuffer::default()), ProofFormat::Drat)
                .is_err());
        }
    }

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
