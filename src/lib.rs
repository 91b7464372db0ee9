//! partrec: an exact solver for partition recovery from context
//! (Buchholz, "Learning Partitions from Context", NeurIPS 2024).
//!
//! This is the API reference. The user's manual (commands, formats, the service,
//! Python, performance) is in the repository's `docs/` folder, starting at
//! `docs/index.md`.
//!
//! This crate gathers the workspace's crates under one name; each is one concern
//! of the pipeline, and depends only on those below it:
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`model`], [`io`], [`check`], [`generate`], [`error`], [`memory`] | `partrec-core` | instances, labels, partitions; readers and writers; the independent checker; planted instances; no solver |
//! | [`sat`] | `partrec-sat` | the solver seam: literals, the clause sink, the `Solver` trait, varisat and CaDiCaL |
//! | [`solve`], [`proof`] | `partrec-solve` | preprocessing, propagation, encoding, the driver, identify, explain, MaxSAT, certificates and their DRAT checker |
//! | [`reduction`] | `partrec-reduction` | graph colouring and its reduction |
//! | [`worker`] | `partrec-worker` | solving under a hard deadline in a child process |
//! | [`baseline`] | `partrec-baseline` | the paper's gradient method |
//! | [`experiment`] | `partrec-experiment` | sweeps, summaries and plots |
//! | [`serve`] | `partrec-serve` | the HTTP/JSON service |
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

pub use partrec_baseline as baseline;
pub use partrec_core::{check, error, generate, io, memory, model};
pub use partrec_experiment as experiment;
pub use partrec_reduction as reduction;
pub use partrec_sat as sat;
pub use partrec_serve as serve;
pub use partrec_solve as solve;
pub use partrec_solve::proof;
pub use partrec_worker as worker;

pub use partrec_core::error::{Error, Result};
pub use partrec_core::model::instance::{Group, Instance};
pub use partrec_core::model::label::Label;
pub use partrec_core::model::partition::Partition;
pub use partrec_solve::solution::{Solution, Status};
