//! Where encoders write: the clause sink, and what a sink holds per clause.

use crate::lit::{Lit, Var};

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
    /// A flat clause list ([`Cnf`](crate::cnf::Cnf)): the literals and one end offset per clause.
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
