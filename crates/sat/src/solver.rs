//! The [`Solver`] trait every backend implements: solving under assumptions,
//! models, failed assumptions, interruption and proof tracing; and reading a model.

use crate::backend::{Backend, ProofFormat};
use crate::control::Control;
use crate::lit::{Lit, Var};
use crate::sink::ClauseSink;
use partrec_core::error::{Error, Result};
use std::cell::RefCell;
use std::rc::Rc;

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
    fn solve(&mut self, assumptions: &[Lit]) -> Result<Outcome>;
    /// [`Solver::solve`] that gives up after about `conflicts` conflicts, answering
    /// [`Outcome::Interrupted`], on a backend with such a budget (CaDiCaL); the others
    /// search to the end.
    fn solve_limited(&mut self, assumptions: &[Lit], conflicts: u32) -> Result<Outcome> {
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
    /// Starts tracing a proof in `format` to `out`: every clause the search derives
    /// from now on. Call it on a fresh solver, before the first clause; a proof is
    /// traced for searches without assumptions only. A backend that cannot trace
    /// `format` answers an error ([`Backend::traces`] says which can).
    fn trace_proof(&mut self, out: Box<dyn std::io::Write>, format: ProofFormat) -> Result<()> {
        drop(out);
        Err(Error::Internal(format!(
            "the {} backend cannot trace {} proofs",
            self.backend(),
            format.name()
        )))
    }
    /// Ends the proof trace started by [`Solver::trace_proof`] and flushes it.
    fn close_proof(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A proof trace held in memory: give a clone to [`Solver::trace_proof`] and read
/// the trace with [`ProofBuffer::take`] once the solver has closed it.
#[derive(Clone, Default)]
pub struct ProofBuffer(Rc<RefCell<Vec<u8>>>);

impl ProofBuffer {
    /// The bytes traced so far, leaving the buffer empty.
    pub fn take(&self) -> Vec<u8> {
        self.0.take()
    }
}

impl std::io::Write for ProofBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
