//! Graph colouring, decided two ways: through the reduction to partition
//! recovery (the point of the exercise) and by a direct SAT encoding (the
//! independent cross-check); plus the clique lower bound, the DSATUR upper
//! bound, and the chromatic-number search that ties them together.
//!
//! Every colouring returned has been checked to be proper; `false` (not
//! colourable) comes only from a complete search or a clique larger than k.

use crate::coloring::{proper_coloring, Coloring, ColoringReduction};
use crate::graph::{greedy_clique, Graph};
use partrec_core::error::{Error, Result};
use partrec_sat::{Backend, ClauseSink, Control, Outcome, Var};
use partrec_solve::solution::Status;
use partrec_solve::{solve_with, LocalSearch, SolveOptions};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use std::time::Instant;

/// How a colouring question is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Reduce to partition recovery, solve that, extract the colouring.
    Reduction,
    /// The direct colouring CNF.
    Direct,
}

impl FromStr for Via {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Via, String> {
        match s {
            "reduction" => Ok(Via::Reduction),
            "direct" => Ok(Via::Direct),
            _ => Err(format!("expected `reduction` or `direct`, got `{s}`")),
        }
    }
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Via::Reduction => "reduction",
            Via::Direct => "direct",
        })
    }
}

/// The answer to "is the graph k-colourable?".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColorAnswer {
    /// true, false, or null when undecided (timeout).
    pub colorable: Option<bool>,
    /// A proper colouring when colourable (`colors[i]` is the colour of vertex i + 1).
    pub colors: Option<Coloring>,
    /// The number of colours asked for.
    pub k: u32,
    /// How it was decided.
    pub via: Via,
    /// Seconds spent.
    pub seconds: f64,
    /// The deadline struck first.
    #[serde(default)]
    pub timed_out: bool,
}

impl ColorAnswer {
    /// An undecided answer (the deadline struck).
    pub fn timed_out(k: u32, via: Via, seconds: f64) -> Self {
        ColorAnswer {
            colorable: None,
            colors: None,
            k,
            via,
            seconds,
            timed_out: true,
        }
    }

    /// The exit code of `partrec color --colors K`: 10 colourable, 20 not, 0 undecided.
    pub fn exit_code(&self) -> i32 {
        match self.colorable {
            Some(true) => Status::Sat.exit_code(),
            Some(false) => Status::Unsat.exit_code(),
            None => Status::Unknown.exit_code(),
        }
    }
}

/// A proper colouring by DSATUR (an upper bound on chi), in O((V + E) log V): the
/// next vertex is the uncoloured one with the most distinct neighbour colours, then
/// the highest degree, then the lowest number.
pub fn dsatur(graph: &Graph) -> Coloring {
    use std::collections::{BTreeSet, HashSet};
    let adj = graph.neighbours();
    let n = adj.len();
    let mut color: Vec<Option<u32>> = vec![None; n];
    let mut seen: Vec<HashSet<u32>> = vec![HashSet::new(); n];
    let key = |v: usize, sat: usize| (sat, adj[v].len(), std::cmp::Reverse(v));
    let mut queue: BTreeSet<_> = (0..n).map(|v| key(v, 0)).collect();
    while let Some((_, _, std::cmp::Reverse(v))) = queue.pop_last() {
        let c = (0..)
            .find(|c| !seen[v].contains(c))
            .expect("some colour is free");
        color[v] = Some(c);
        for &u in &adj[v] {
            let u = u as usize;
            if color[u].is_none() && !seen[u].contains(&c) {
                queue.remove(&key(u, seen[u].len()));
                seen[u].insert(c);
                queue.insert(key(u, seen[u].len()));
            }
        }
    }
    color
        .into_iter()
        .map(|c| c.expect("all coloured"))
        .collect()
}

/// The direct CNF: `x[v][c]` vertex v has colour c; at least one colour per vertex,
/// never the same colour on both ends of an edge, and the clique's vertices fixed to
/// colours 0, 1, 2, ... (symmetry breaking). Returns the variables. At-most-one
/// clauses are not needed: every colour a vertex takes differs from its neighbours',
/// so the first true one is a proper choice.
pub fn encode_direct<F: ClauseSink + ?Sized>(
    graph: &Graph,
    k: u32,
    clique: &[u32],
    f: &mut F,
) -> Vec<Vec<Var>> {
    let x: Vec<Vec<Var>> = (0..graph.vertices())
        .map(|_| (0..k).map(|_| f.new_var()).collect())
        .collect();
    for vars in &x {
        f.add_clause(&vars.iter().map(|v| v.positive()).collect::<Vec<_>>());
    }
    for (u, v) in graph.edges() {
        for (xu, xv) in x[u as usize].iter().zip(&x[v as usize]) {
            f.add_clause(&[xu.negative(), xv.negative()]);
        }
    }
    for (c, &v) in clique.iter().take(k as usize).enumerate() {
        f.add_clause(&[x[v as usize][c].positive()]);
    }
    x
}

/// Decides k-colourability in this process, by `via` on `backend`. The colouring is
/// checked. When `control` says stop first, the answer is undecided (`timed_out`).
///
/// ```
/// use partrec_reduction::decide::{decide, Via};
/// use partrec_reduction::graph::petersen;
/// use partrec_sat::{Backend, Control};
///
/// let control = Control::new();
/// let three = decide(&petersen(), 3, Via::Reduction, Backend::Cadical, &control)?;
/// assert_eq!(three.colorable, Some(true));
/// let two = decide(&petersen(), 2, Via::Direct, Backend::Varisat, &control)?;
/// assert_eq!(two.colorable, Some(false));
/// # Ok::<(), partrec_core::error::Error>(())
/// ```
pub fn decide(
    graph: &Graph,
    k: u32,
    via: Via,
    backend: Backend,
    control: &Control,
) -> Result<ColorAnswer> {
    if k == 0 {
        return Err(Error::param("colors", "must be >= 1"));
    }
    let start = Instant::now();
    if let Some((core, kept)) = graph.without_isolated() {
        // Isolated vertices take colour 0; the question is the rest's.
        let answer = decide(&core, k, via, backend, control)?;
        let colors = answer.colors.map(|c| {
            let mut full = vec![0; graph.vertices()];
            for (&v, &color) in kept.iter().zip(&c) {
                full[v as usize] = color;
            }
            full
        });
        if let Some(c) = &colors {
            proper_coloring(graph, c, k).map_err(|m| {
                Error::Internal(format!(
                    "the {via} path produced an improper colouring: {m}"
                ))
            })?;
        }
        return Ok(ColorAnswer {
            colors,
            seconds: start.elapsed().as_secs_f64(),
            ..answer
        });
    }
    let verdict = if k as usize >= graph.vertices() {
        // Every vertex its own colour: no search (and no encoding of size V x k).
        Some(Some((0..graph.vertices() as u32).collect()))
    } else {
        match via {
            Via::Direct => decide_direct(graph, k, backend, control)?,
            Via::Reduction => decide_by_reduction(graph, k, backend, control)?,
        }
    };
    let Some(colors) = verdict else {
        return Ok(ColorAnswer::timed_out(
            k,
            via,
            start.elapsed().as_secs_f64(),
        ));
    };
    if let Some(c) = &colors {
        proper_coloring(graph, c, k).map_err(|m| {
            Error::Internal(format!(
                "the {via} path produced an improper colouring: {m}"
            ))
        })?;
    }
    Ok(ColorAnswer {
        colorable: Some(colors.is_some()),
        colors,
        k,
        via,
        seconds: start.elapsed().as_secs_f64(),
        timed_out: false,
    })
}

/// `Some(colouring)` or `Some(None)` (not colourable) when decided, `None` when stopped.
type Decided = Option<Option<Coloring>>;

fn decide_direct(graph: &Graph, k: u32, backend: Backend, control: &Control) -> Result<Decided> {
    let clique = greedy_clique(&graph.neighbours());
    if clique.len() > k as usize {
        return Ok(Some(None));
    }
    let mut solver = backend.solver();
    solver.set_control(control);
    let x = encode_direct(graph, k, &clique, solver.as_mut());
    Ok(match solver.solve(&[])? {
        Outcome::Sat => Some(Some(partrec_sat::first_true(solver.as_ref(), &x))),
        Outcome::Unsat => Some(None),
        Outcome::Interrupted => None,
    })
}

fn decide_by_reduction(
    graph: &Graph,
    k: u32,
    backend: Backend,
    control: &Control,
) -> Result<Decided> {
    let reduction = ColoringReduction::new(graph, k)?;
    let instance = reduction.reduce("graph");
    // Half the questions of a chromatic search are refutations, where a local search
    // can only lose time: the reduction is decided by the complete search alone.
    let options = SolveOptions {
        local_search: LocalSearch::Off,
        backend,
        ..SolveOptions::find()
    };
    let solution = solve_with(&instance, &options, control, &mut |_| {})?;
    match (solution.status, solution.partition) {
        (Status::Sat, Some(partition)) => reduction
            .extract(&partition)
            .map(|c| Some(Some(c)))
            .map_err(|m| Error::Internal(format!("extraction failed on a checked partition: {m}"))),
        (Status::Unsat, _) => Ok(Some(None)),
        _ => Ok(None),
    }
}

/// A clique (the first lower bound) and a DSATUR colouring (the first upper bound),
/// both found on the graph without its isolated vertices (which take colour 0), so
/// their cost follows the edges rather than a `.col` header's vertex count.
fn first_bounds(graph: &Graph) -> (Vec<u32>, Coloring) {
    let Some((core, kept)) = graph.without_isolated() else {
        return (greedy_clique(&graph.neighbours()), dsatur(graph));
    };
    let mut clique: Vec<u32> = greedy_clique(&core.neighbours())
        .iter()
        .map(|&v| kept[v as usize])
        .collect();
    if clique.is_empty() && graph.vertices() > 0 {
        clique.push(0); // no edge: any one vertex is the largest clique
    }
    let mut colors = vec![0; graph.vertices()];
    for (&v, c) in kept.iter().zip(dsatur(&core)) {
        colors[v as usize] = c;
    }
    (clique, colors)
}

/// One colourability question asked during the chromatic search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchStep {
    /// Colours asked for.
    pub k: u32,
    /// The verdict (null when the deadline struck).
    pub colorable: Option<bool>,
    /// Seconds spent.
    pub seconds: f64,
}

/// The result of the chromatic-number search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Chromatic {
    /// Proven lower bound.
    pub lower: u32,
    /// Proven upper bound (`colors` uses this many colours).
    pub upper: u32,
    /// The chromatic number, when both bounds are proven equal.
    pub chromatic: Option<u32>,
    /// A proper colouring with `upper` colours.
    pub colors: Coloring,
    /// How the colourability questions were decided.
    pub via: Via,
    /// The clique behind the first lower bound (1-based vertices).
    pub clique: Vec<u32>,
    /// Every question asked, in order.
    pub steps: Vec<SearchStep>,
    /// Total seconds.
    pub seconds: f64,
}

/// Finds the chromatic number: a clique gives the lower bound L, DSATUR a first upper
/// bound U. Then `decide` (by `via`) is asked k = L first (on many graphs the clique
/// is tight, and a colouring with L colours ends the search), and then downward from
/// U - 1 (or at U itself, so that the colouring always comes through `via`) until a k
/// is refuted or meets the lower bound. `decide` may return an undecided answer (a
/// deadline); the bounds then stay honest.
pub fn chromatic(
    graph: &Graph,
    via: Via,
    decide: &mut dyn FnMut(u32) -> Result<ColorAnswer>,
) -> Result<Chromatic> {
    let start = Instant::now();
    let (clique, mut colors) = first_bounds(graph);
    let mut lower = clique.len() as u32;
    let mut upper = colors.iter().max().map_or(0, |&c| c + 1);
    let mut steps = Vec::new();
    let mut k = lower.max(1);
    let mut first = true;
    while k >= lower.max(1) && k <= upper {
        let answer = decide(k)?;
        steps.push(SearchStep {
            k,
            colorable: answer.colorable,
            seconds: answer.seconds,
        });
        match (answer.colorable, answer.colors) {
            (Some(true), Some(c)) => {
                proper_coloring(graph, &c, k).map_err(|m| {
                    Error::Internal(format!("improper colouring in the search: {m}"))
                })?;
                upper = c.iter().max().map_or(0, |&m| m + 1);
                colors = c;
                k = upper - 1;
            }
            (Some(false), _) if k >= upper => {
                return Err(Error::Internal(format!(
                    "the {via} path says {k} colours do not suffice, but a proper {upper}-colouring is known"
                )));
            }
            (Some(false), _) => {
                lower = k + 1;
                if !first {
                    break;
                }
                // The clique bound was not tight: continue downward from the top.
                k = (upper - 1).max(lower);
            }
            _ => break,
        }
        first = false;
    }
    Ok(Chromatic {
        lower,
        upper,
        chromatic: (lower == upper).then_some(upper),
        colors,
        via,
        clique: clique.iter().map(|v| v + 1).collect(),
        steps,
        seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{complete, cycle, mycielski, petersen, queen};

    #[test]
    fn dsatur_colours_properly() {
        for g in [petersen(), mycielski(4), queen(5, 5), cycle(7), complete(6)] {
            let c = dsatur(&g);
            let k = c.iter().max().unwrap() + 1;
            assert!(proper_coloring(&g, &c, k).is_ok());
        }
    }

    #[test]
    fn chromatic_numbers_of_named_graphs_both_ways() {
        let cases = [
            (cycle(5), 3),
            (cycle(6), 2),
            (petersen(), 3),
            (complete(4), 4),
            (mycielski(3), 4),
            (mycielski(4), 5),
            (queen(5, 5), 5),
        ];
        for (g, chi) in cases {
            for via in [Via::Reduction, Via::Direct] {
                let r = chromatic(&g, via, &mut |k| {
                    decide(&g, k, via, Backend::default(), &Control::new())
                })
                .unwrap();
                assert_eq!(r.chromatic, Some(chi), "{via}");
                assert!(proper_coloring(&g, &r.colors, chi).is_ok());
            }
        }
    }

    #[test]
    fn an_undecided_step_leaves_honest_bounds() {
        let g = mycielski(4);
        let r = chromatic(&g, Via::Direct, &mut |k| {
            Ok(ColorAnswer::timed_out(k, Via::Direct, 0.0))
        })
        .unwrap();
        assert_eq!(r.chromatic, None);
        assert_eq!(r.lower, 2);
        assert!(r.upper >= 5);
        assert!(proper_coloring(&g, &r.colors, r.upper).is_ok());
    }
}
