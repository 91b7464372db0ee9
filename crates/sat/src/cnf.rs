//! A formula held in memory, written out as DIMACS CNF for external solvers.

use crate::lit::{Lit, Var};
use crate::sink::ClauseSink;
use std::io::{self, Write};

/// Clauses collected by an encoder, with their variable count.
#[derive(Clone, Debug, Default)]
pub struct Cnf {
    variables: usize,
    literals: Vec<Lit>,
    ends: Vec<usize>,
}

impl Cnf {
    /// An empty formula.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of variables made.
    pub fn variables(&self) -> usize {
        self.variables
    }
    /// Number of clauses.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether there are no clauses.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The clauses in the order added.
    pub fn clauses(&self) -> impl Iterator<Item = &[Lit]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.literals[a..b])
    }
    /// Clause `i` (in the order added).
    pub fn clause(&self, i: usize) -> &[Lit] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.literals[start..self.ends[i]]
    }
    /// Writes the `p cnf` header and the clauses.
    pub fn write_dimacs(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "p cnf {} {}", self.variables, self.len())?;
        for clause in self.clauses() {
            for lit in clause {
                write!(out, "{} ", lit.to_dimacs())?;
            }
            writeln!(out, "0")?;
        }
        Ok(())
    }
}

impl ClauseSink for Cnf {
    fn new_var(&mut self) -> Var {
        self.variables += 1;
        Var::from_index(self.variables - 1)
    }
    fn add_clause(&mut self, lits: &[Lit]) {
        self.literals.extend_from_slice(lits);
        self.ends.push(self.literals.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_dimacs() {
        let mut f = Cnf::new();
        let (a, b) = (f.new_var(), f.new_var());
        f.add_clause(&[a.positive(), b.negative()]);
        f.add_clause(&[]);
        let mut out = Vec::new();
        f.write_dimacs(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "p cnf 2 2\n1 -2 0\n0\n");
    }
}
