//! Graph colouring, the NP-hard problem partition recovery is proven hard by:
//! graphs and their files, the reduction with extraction and lifting, direct
//! and reduced colouring decisions, and closed-loop verification.
//!
//! The user's manual for this part is `docs/coloring.md` in the repository.
//!
//! ```
//! use partrec_reduction::coloring::ColoringReduction;
//! use partrec_reduction::graph::petersen;
//! use partrec_solve::solution::Status;
//! use partrec_solve::{solve, SolveOptions};
//!
//! // The Petersen graph is 3-colourable: its reduced instance is consistent, and the
//! // partition found extracts to a proper colouring.
//! let graph = petersen();
//! let reduction = ColoringReduction::new(&graph, 3)?;
//! let instance = reduction.reduce("petersen");
//! let solution = solve(&instance, &SolveOptions::find(), &mut |_| {})?;
//! assert_eq!(solution.status, Status::Sat);
//! let coloring = reduction.extract(&solution.partition.unwrap()).unwrap();
//! assert!(graph.edges().all(|(u, v)| coloring[u as usize] != coloring[v as usize]));
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub mod coloring;
pub mod decide;
pub mod graph;
pub mod verify;
