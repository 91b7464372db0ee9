//! partrec: an exact solver for partition recovery from context
//! (Buchholz, "Learning Partitions from Context", NeurIPS 2024).
//!
//! The data flows one way, one folder per stage:
//! [`model`] (instances, labels, partitions, solutions; read and validated
//! through [`io`]) -> [`solve`] (preprocess over the observed tokens, encode
//! into CNF, search through a [`sat`] backend, decode, count) -> [`check`]
//! (the independent judge) -> the report ([`model::solution`]); [`proof`]
//! certifies `unsat`, `unique` and complete counts with DRAT proofs and checks them.
//! [`reduction`] holds graph colouring and its reduction, [`experiment`] the
//! planted instances and sweeps, [`baseline`] the paper's gradient method,
//! [`worker`] the child-process path for backends that cannot be interrupted,
//! and [`serve`] the HTTP/JSON service.
//!
//! ```
//! use partrec::check::check;
//! use partrec::sat::Backend;
//! use partrec::solve::{solve, SolveOptions};
//! use partrec::{Instance, Status};
//!
//! // One group of three tokens, at most two classes; tokens 0 and 2 share a value.
//! let text = r#"{"groups": [{"tokens": 3, "classes": 2}],
//!                "samples": [{"x": [0], "y": "a"}, {"x": [1], "y": "b"}, {"x": [2], "y": "a"}]}"#;
//! let instance = Instance::from_json(text.as_bytes(), "example")?;
//! for backend in Backend::ALL {
//!     let options = SolveOptions { backend, ..SolveOptions::unique() };
//!     let solution = solve(&instance, &options, &mut |_| {})?;
//!     assert_eq!(solution.status, Status::Sat);
//!     assert_eq!(solution.unique, Some(true));
//!     let partition = solution.partition.unwrap();
//!     assert_eq!(partition, vec![vec![0, 1, 0]]);
//!     assert!(check(&instance, &partition).unwrap().consistent);
//! }
//! # Ok::<(), partrec::Error>(())
//! ```

#![warn(missing_docs)]

pub mod baseline;
pub mod check;
pub mod error;
pub mod experiment;
pub mod io;
pub mod memory;
pub mod model;
pub mod proof;
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
