//! Graph k-colouring reduces to partition recovery: the NP-hardness proof of
//! the problem, as a typed reduction with solution extraction and lifting.
//!
//! # The construction
//! Given a graph G = (V, E) and k colours, build the instance with I = 2
//! groups, both with |V| tokens and k classes, and the samples
//! - `(v, v) -> 0` for every vertex v,
//! - `(u, v) -> 1` for every edge {u, v} (one orientation).
//!
//! # Claim: G is k-colourable iff the instance is consistent
//! - (=>) If c is a proper colouring, P_1 = P_2 = c with g(a, a) = 0 and
//!   g(a, b) = 1 for a != b is consistent: a vertex sample has the class
//!   pair (c(v), c(v)), on the diagonal, and an edge sample has
//!   (c(u), c(v)) with c(u) != c(v), off the diagonal.
//! - (<=) If P_1, P_2 are consistent, then for every edge {u, v} the samples
//!   (u, v) -> 1 and (u, u) -> 0 differ in value and share the group-1
//!   token u, so their class pairs must differ in group 2:
//!   P_2(u) != P_2(v). So P_2 is a proper k-colouring (and, through
//!   (v, v) -> 0 and the shared group-2 token v, so is P_1).
//!
//! So partition recovery is NP-hard already for I = 2, two values and
//! |V| + |E| samples; it is in NP because the checker runs in linear time.
//! [`ColoringReduction::extract`] is the (<=) direction, applied to any
//! consistent partition; [`ColoringReduction::lift`] is the (=>) direction.

use crate::graph::Graph;
use partrec_core::error::{Error, Result};
use partrec_core::io::json::{self, Described, Whole};
use partrec_core::model::instance::{Group, Instance, TableEntry};
use partrec_core::model::label::Label;
use partrec_core::model::partition::Partition;
use partrec_solve::solution::{Solution, Status};
use serde::{Deserialize, Serialize};

/// The size of the reduced instance, declared in closed form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReductionSize {
    /// Tokens over both groups: 2 |V|.
    pub tokens: usize,
    /// Samples: |V| + |E|.
    pub samples: usize,
}

/// The reduction from k-colouring of one graph to one partition-recovery instance.
#[derive(Clone, Debug)]
pub struct ColoringReduction<'g> {
    graph: &'g Graph,
    colors: u32,
}

/// A colouring: `colors[v]` is the colour (`0..k`) of vertex v (vertex v + 1 in a `.col` file).
pub type Coloring = Vec<u32>;

/// A colouring file: `{"colors": [...]}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ColoringFile {
    /// `colors[i]` is the colour of vertex i + 1.
    #[serde(deserialize_with = "whole_list")]
    pub colors: Coloring,
}

/// A list of whole numbers.
fn whole_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<u32>, D::Error> {
    Ok(Vec::<Whole>::deserialize(d)?
        .into_iter()
        .map(|w| w.0)
        .collect())
}

impl Described for ColoringFile {
    const EXPECTED: &'static str = r#"a colouring object {"colors": [...]}"#;
}

impl ColoringFile {
    /// Parses a colouring file; `origin` names it in errors.
    pub fn from_json(bytes: &[u8], origin: &str) -> Result<ColoringFile> {
        json::parse(bytes, origin, "colouring file ({\"colors\": [...]})")
    }
}

impl<'g> ColoringReduction<'g> {
    /// The reduction of `graph` with `colors` colours (the graph needs a vertex, k >= 1).
    pub fn new(graph: &'g Graph, colors: u32) -> Result<Self> {
        if graph.vertices() == 0 {
            return Err(Error::Usage(
                "the graph has no vertices: there is nothing to reduce".into(),
            ));
        }
        if colors == 0 {
            return Err(Error::Usage("the number of colours must be >= 1".into()));
        }
        Ok(ColoringReduction { graph, colors })
    }

    /// Refuses more colours than vertices for a reduction meant to be written out:
    /// such an instance only asks a question whose answer is always yes.
    pub fn useful_colors(graph: &Graph, colors: u32) -> Result<()> {
        if colors as usize > graph.vertices().max(1) {
            return Err(Error::Usage(format!(
                "{colors} colours for a graph of {} vertices: more colours than vertices make every question trivially yes; use at most {}",
                graph.vertices(),
                graph.vertices().max(1)
            )));
        }
        Ok(())
    }

    /// The declared size of the reduced instance.
    pub fn size(&self) -> ReductionSize {
        ReductionSize {
            tokens: 2 * self.graph.vertices(),
            samples: self.graph.vertices() + self.graph.edge_count(),
        }
    }

    /// The reduced instance (with `meta` naming the graph and k).
    pub fn reduce(&self, graph_name: &str) -> Instance {
        let n = self.graph.vertices() as u32;
        let vertex_samples = (0..n).map(|v| (vec![v, v], Label::from(0u64)));
        let edge_samples = self
            .graph
            .edges()
            .map(|(u, v)| (vec![u, v], Label::from(1u64)));
        let groups = vec![Group::new(n, self.colors), Group::new(n, self.colors)];
        let mut instance = Instance::new(groups, vertex_samples.chain(edge_samples))
            .expect("the reduction is well-formed");
        let meta = serde_json::json!({
            "reduction": "graph k-colouring",
            "graph": graph_name,
            "vertices": n,
            "edges": self.graph.edge_count(),
            "colors": self.colors,
        });
        instance.meta = Some(serde_json::value::to_raw_value(&meta).expect("metadata serializes"));
        instance
    }

    /// The colouring read off a partition of the reduced instance: group 2's classes.
    ///
    /// Fails (naming an edge) if that is not a proper colouring, which by the claim
    /// above can only happen when the partition is not consistent.
    pub fn extract(&self, partition: &[Vec<u32>]) -> std::result::Result<Coloring, String> {
        let n = self.graph.vertices();
        let row = match partition {
            [_, row] if row.len() == n => row,
            _ => {
                return Err(format!(
                    "expected a partition of 2 groups with {n} tokens each"
                ))
            }
        };
        proper_coloring(self.graph, row, self.colors)?;
        Ok(row.clone())
    }

    /// The partition P_1 = P_2 = c of the (=>) direction. Does not require `c` to be
    /// proper (the checker then finds the conflict), only to have the right shape.
    pub fn lift(&self, coloring: &[u32]) -> std::result::Result<Partition, String> {
        check_shape(self.graph, coloring, self.colors)?;
        Ok(vec![coloring.to_vec(), coloring.to_vec()])
    }

    /// The lifted partition as a solution, with the table g(a, a) = 0, g(a, b) = 1
    /// on the cells the samples use.
    pub fn lift_solution(&self, coloring: &[u32]) -> std::result::Result<Solution, String> {
        let partition = self.lift(coloring)?;
        let mut cells: Vec<Vec<u32>> = (0..self.graph.vertices())
            .map(|v| vec![coloring[v], coloring[v]])
            .chain(
                self.graph
                    .edges()
                    .map(|(u, v)| vec![coloring[u as usize], coloring[v as usize]]),
            )
            .collect();
        cells.sort();
        cells.dedup();
        let table = cells
            .into_iter()
            .map(|cell| TableEntry {
                y: Label::from(u64::from(cell[0] != cell[1])),
                cell,
            })
            .collect();
        let mut solution = Solution::new(Status::Sat);
        solution.partition = Some(partition);
        solution.table = Some(table);
        Ok(solution)
    }
}

/// A colouring read off a candidate partition of a reduced instance whose k is not
/// known: k is taken as the largest colour used plus one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadColoring {
    /// Group 2's classes: the colour of each vertex.
    pub colors: Coloring,
    /// The number of colours used (largest colour + 1).
    pub k: u32,
    /// Whether it is proper, or the first edge it breaks.
    pub proper: std::result::Result<(), String>,
}

/// Reads the colouring off `partition` (a candidate solution of `graph`'s reduction;
/// `None` when the candidate has none). Bad input, naming `origin`, unless the
/// partition has 2 groups of one token per vertex each; an improper colouring is
/// an answer ([`ReadColoring::proper`]), not an error.
pub fn read_coloring(
    graph: &Graph,
    partition: Option<&[Vec<u32>]>,
    origin: &str,
) -> Result<ReadColoring> {
    let n = graph.vertices();
    let partition = partition
        .filter(|p| p.len() == 2 && p.iter().all(|row| row.len() == n))
        .ok_or_else(|| {
            Error::input(
                origin,
                format!("expected a `partition` of 2 groups with {n} tokens each"),
            )
        })?;
    let k = partition[1].iter().max().map_or(1, |&m| m + 1);
    let proper = ColoringReduction::new(graph, k)?
        .extract(partition)
        .map(|_| ());
    Ok(ReadColoring {
        colors: partition[1].clone(),
        k,
        proper,
    })
}

/// Checks that `coloring` has one colour in `0..k` per vertex.
pub fn check_shape(graph: &Graph, coloring: &[u32], k: u32) -> std::result::Result<(), String> {
    if coloring.len() != graph.vertices() {
        return Err(format!(
            "the colouring has {} entries, expected one per vertex ({})",
            coloring.len(),
            graph.vertices()
        ));
    }
    match coloring.iter().position(|&c| c >= k) {
        Some(v) => Err(format!(
            "vertex {}: colour {} is not in 0..{}",
            v + 1,
            coloring[v],
            k - 1
        )),
        None => Ok(()),
    }
}

/// Checks that `coloring` is a proper k-colouring of `graph` (messages use 1-based vertices).
pub fn proper_coloring(graph: &Graph, coloring: &[u32], k: u32) -> std::result::Result<(), String> {
    check_shape(graph, coloring, k)?;
    match graph
        .edges()
        .find(|&(u, v)| coloring[u as usize] == coloring[v as usize])
    {
        Some((u, v)) => Err(format!(
            "edge {} - {}: both ends have colour {}",
            u + 1,
            v + 1,
            coloring[u as usize]
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{complete, cycle};
    use partrec_core::check::check;

    #[test]
    fn declared_size_matches_the_instance() {
        let g = cycle(5);
        let r = ColoringReduction::new(&g, 3).unwrap();
        let inst = r.reduce("C5");
        let size = r.size();
        let tokens: usize = inst.groups().iter().map(|g| g.tokens as usize).sum();
        assert_eq!((tokens, inst.num_samples()), (size.tokens, size.samples));
        assert_eq!(
            size,
            ReductionSize {
                tokens: 10,
                samples: 10
            }
        );
        assert_eq!(inst.values().len(), 2);
    }

    #[test]
    fn lift_of_a_proper_colouring_is_consistent_and_extracts_back() {
        let g = cycle(5);
        let r = ColoringReduction::new(&g, 3).unwrap();
        let inst = r.reduce("C5");
        let c = vec![0, 1, 0, 1, 2];
        let sol = r.lift_solution(&c).unwrap();
        let p = sol.partition.unwrap();
        assert!(check(&inst, &p).unwrap().consistent);
        assert_eq!(r.extract(&p).unwrap(), c);
        assert_eq!(
            sol.table.unwrap().len(),
            3 + 4,
            "diagonal cells used and off-diagonal pairs"
        );
    }

    #[test]
    fn lift_of_an_improper_colouring_fails_the_checker() {
        let g = complete(3);
        let r = ColoringReduction::new(&g, 3).unwrap();
        let inst = r.reduce("K3");
        let p = r.lift(&[0, 0, 1]).unwrap();
        assert!(!check(&inst, &p).unwrap().consistent);
        assert!(r.extract(&p).unwrap_err().contains("edge 1 - 2"));
        assert!(r
            .lift(&[0, 3, 1])
            .unwrap_err()
            .contains("vertex 2: colour 3"));
        assert!(r.lift(&[0, 1]).unwrap_err().contains("2 entries"));
    }
}
