//! DIMACS CNF output of the encoding, with comment lines that map each class
//! variable back to (group, token, class), so that any external SAT solver
//! can be used and its model read back.

use crate::encode::{encode, Encoding, Projection};
use crate::preprocess::Prepared;
use partrec_core::error::Result;
use partrec_core::model::instance::Instance;
use partrec_sat::{Cnf, Control};
use std::io::Write;

/// Writes the instance's CNF in DIMACS format to `out`.
pub fn write_dimacs(instance: &Instance, out: &mut impl Write) -> Result<Encoding> {
    let prep = Prepared::new(instance);
    let mut formula = Cnf::new();
    let encoding =
        encode(&prep, Projection::Auto, &mut formula, &Control::new())?.ok_or_else(|| {
            partrec_core::error::Error::Internal("an encoding without a deadline stopped".into())
        })?;
    let io = |e| partrec_core::error::Error::io("output", e);
    writeln!(
        out,
        "c partrec CNF: class variables listed as 'c class GROUP TOKEN CLASS VAR'"
    )
    .map_err(io)?;
    writeln!(
        out,
        "c free tokens (in no sample) have no variables; any class is consistent for them"
    )
    .map_err(io)?;
    if let Some(reason) = &prep.refutation {
        writeln!(out, "c unsat without search: {reason}").map_err(io)?;
    }
    for (g, order) in encoding.order().iter().enumerate() {
        for (p, &t) in order.iter().enumerate() {
            let t = prep.tokens().original(g, t);
            for (k, v) in encoding.class_vars(g, p).iter().enumerate() {
                writeln!(out, "c class {g} {t} {k} {}", v.to_dimacs()).map_err(io)?;
            }
        }
    }
    formula.write_dimacs(out).map_err(io)?;
    Ok(encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_parsable_cnf_with_the_variable_map() {
        let inst = Instance::from_json(
            br#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [0], "y": 0}, {"x": [1], "y": 1}]}"#,
            "t",
        )
        .unwrap();
        let mut out = Vec::new();
        let enc = write_dimacs(&inst, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("c class 0 0 0 "));
        assert!(text.contains(&format!("p cnf {} {}", enc.variables, enc.clauses)));
        let mut solver = varisat::Solver::new();
        solver.add_dimacs_cnf(text.as_bytes()).unwrap();
        assert!(solver.solve().unwrap());
    }
}
