//! partrec: an exact solver for partition recovery from context
//! (Buchholz, "Learning Partitions from Context", NeurIPS 2024).
//!
//! The data flows one way, one folder per stage:
//! [`model`] (instances, labels, partitions, solutions; read and validated
//! through [`io`]) -> [`solve`] (preprocess over the observed tokens, encode
//! into CNF, search through a [`sat`] backend, decode, count) -> [`check`]
//! (the independent judge) -> the report ([`model::solution`]).
//! [`reduction`] holds graph colouring and its reduction, [`experiment`] the
//! planted instances and sweeps, [`baseline`] the paper's gradient method,
//! [`worker`] the child-process path for backends that cannot be interrupted,
//! and [`serve`] the HTTP/JSON service.

pub mod baseline;
pub mod check;
pub mod error;
pub mod experiment;
pub mod io;
pub mod model;
pub mod reduction;
pub mod sat;
pub mod serve;
pub mod solve;
pub mod worker;

pub use error::{Error, Result};
pub use model::instance::{Group, Instance};
pub use model::label::Label;
pub use model::partition::Partition;
pub use model::solution::{Solution, Status};
