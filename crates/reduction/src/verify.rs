//! Closed-loop verification of the colouring reduction on one graph and k:
//! decide colourability directly and through the reduction, require the
//! verdicts to agree, check the colouring extracted from the partition, and
//! lift the direct colouring and run it through the consistency checker.

use crate::coloring::{proper_coloring, ColoringReduction};
use crate::decide::{ColorAnswer, Via};
use crate::graph::Graph;
use partrec_core::check::check;
use partrec_core::error::Result;
use serde::Serialize;

/// One line of the verification table.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// What was checked.
    pub step: String,
    /// What came out.
    pub result: String,
    /// Passed (true), failed (false), or could not be decided in time (null).
    pub ok: Option<bool>,
}

/// The verification table and its overall verdict.
#[derive(Clone, Debug, Serialize)]
pub struct Verification {
    /// The rows, in order.
    pub rows: Vec<Row>,
}

impl Verification {
    /// All rows passed: Some(true); one failed: Some(false); else undecided: None.
    pub fn verdict(&self) -> Option<bool> {
        if self.rows.iter().any(|r| r.ok == Some(false)) {
            Some(false)
        } else if self.rows.iter().all(|r| r.ok == Some(true)) {
            Some(true)
        } else {
            None
        }
    }

    /// Exit code of `verify-reduction`: 0 verified, 1 a disagreement, 3 undecided.
    pub fn exit_code(&self) -> i32 {
        match self.verdict() {
            Some(true) => 0,
            Some(false) => 1,
            None => 3,
        }
    }

    /// The table as text.
    pub fn table(&self) -> String {
        let w = self.rows.iter().map(|r| r.step.len()).max().unwrap_or(0);
        let mut s = String::new();
        for r in &self.rows {
            let mark = match r.ok {
                Some(true) => "ok",
                Some(false) => "FAIL",
                None => "??",
            };
            s.push_str(&format!("{:<w$}  {:<4}  {}\n", r.step, mark, r.result));
        }
        s
    }
}

fn verdict_text(a: &ColorAnswer) -> String {
    let v = match a.colorable {
        Some(true) => "colourable",
        Some(false) => "not colourable",
        None => "undecided (timeout)",
    };
    format!("{v} ({:.3} s)", a.seconds)
}

/// Verifies the reduction on `graph` with `k` colours; `decide` answers the
/// colourability question by each path (in process, or in a child under a deadline).
pub fn verify_reduction(
    graph: &Graph,
    k: u32,
    decide: &mut dyn FnMut(Via) -> Result<ColorAnswer>,
) -> Result<Verification> {
    let reduction = ColoringReduction::new(graph, k)?;
    let instance = reduction.reduce("graph");
    let direct = decide(Via::Direct)?;
    let reduced = decide(Via::Reduction)?;
    let mut rows = vec![
        Row {
            step: format!("direct SAT, {k} colours"),
            result: verdict_text(&direct),
            ok: direct.colorable.map(|_| true),
        },
        Row {
            step: format!(
                "reduction ({} tokens, {} samples)",
                reduction.size().tokens,
                reduction.size().samples
            ),
            result: verdict_text(&reduced),
            ok: reduced.colorable.map(|_| true),
        },
    ];
    let agree = match (direct.colorable, reduced.colorable) {
        (Some(a), Some(b)) => Some(a == b),
        _ => None,
    };
    rows.push(Row {
        step: "verdicts agree".into(),
        result: match agree {
            Some(true) => "yes".into(),
            Some(false) => "NO: the reduction is broken".into(),
            None => "not known".into(),
        },
        ok: agree,
    });
    if let Some(colors) = &reduced.colors {
        let proper = proper_coloring(graph, colors, k);
        rows.push(Row {
            step: "extracted colouring is proper".into(),
            result: proper.clone().err().unwrap_or_else(|| "yes".into()),
            ok: Some(proper.is_ok()),
        });
    }
    if let Some(colors) = &direct.colors {
        let lifted = reduction.lift(colors);
        let consistent = lifted
            .as_ref()
            .ok()
            .and_then(|p| check(&instance, p).ok())
            .map(|v| v.consistent);
        rows.push(Row {
            step: "lifted direct colouring passes check".into(),
            result: match consistent {
                Some(true) => "consistent".into(),
                Some(false) => "inconsistent".into(),
                None => format!("cannot lift: {}", lifted.err().unwrap_or_default()),
            },
            ok: Some(consistent == Some(true)),
        });
    }
    Ok(Verification { rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::decide;
    use crate::graph::{complete, cycle};
    use partrec_sat::{Backend, Control};

    #[test]
    fn verifies_yes_and_no_instances() {
        for (g, k, colourable) in [
            (cycle(5), 3, true),
            (cycle(5), 2, false),
            (complete(4), 3, false),
        ] {
            let v = verify_reduction(&g, k, &mut |via| {
                decide(&g, k, via, Backend::default(), &Control::new())
            })
            .unwrap();
            assert_eq!(v.verdict(), Some(true), "{}", v.table());
            assert_eq!(v.rows.len(), if colourable { 5 } else { 3 });
        }
    }

    #[test]
    fn a_disagreement_fails() {
        let g = cycle(5);
        let v = verify_reduction(&g, 3, &mut |via| {
            let mut a = decide(&g, 3, via, Backend::default(), &Control::new())?;
            if via == Via::Reduction {
                (a.colorable, a.colors) = (Some(false), None);
            }
            Ok(a)
        })
        .unwrap();
        assert_eq!(v.exit_code(), 1, "{}", v.table());
    }
}
