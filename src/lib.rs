//! partrec: an exact solver for partition recovery from context
//! (Buchholz, "Learning Partitions from Context", NeurIPS 2024).
//!
//! The data flows one way, one module per stage:
//! [`instance`] (read and validate) -> [`preprocess`] (over the observed tokens
//! only, see [`compact`]) -> [`encode`] (CNF) ->
//! [`solve`] (varisat, counting and uniqueness) -> [`check`] (the independent
//! judge) -> [`solution`] (the report). [`generate`] makes planted instances,
//! [`brute`] enumerates tiny instances exhaustively for differential testing,
//! [`worker`] runs a solve in a child process under a deadline, and [`serve`]
//! offers all of it as an HTTP/JSON service.

pub mod assignment;
pub mod brute;
pub mod check;
pub mod coloring;
pub mod compact;
pub mod dimacs;
pub mod encode;
pub mod error;
pub mod generate;
pub mod graph;
pub mod instance;
pub mod json;
pub mod kmeans;
pub mod label;
pub mod learn;
pub mod local_search;
pub mod output;
pub mod partition;
pub mod plot;
pub mod preprocess;
pub mod reduce;
pub mod serve;
pub mod solution;
pub mod solve;
pub mod summary;
pub mod sweep;
pub mod verify;
pub mod worker;

pub use error::{Error, Result};
pub use instance::{Group, Instance};
pub use label::Label;
pub use partition::Partition;
