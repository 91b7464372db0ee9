//! Experiments: sample-count sweeps over planted instances, their summary and plot.
//!
//! The user's manual for this part is `docs/sweeps.md` in the repository.
//!
//! ```
//! use partrec_experiment::summary::table;
//! use partrec_experiment::sweep::{run, Method, SweepConfig};
//! use partrec_solve::{solve, SolveOptions};
//! use std::collections::HashSet;
//!
//! // Two trials at 6 N ln N samples, N = 20: the exact method recovers the planted
//! // partition and proves it unique.
//! let config = SweepConfig {
//!     groups: 2,
//!     tokens: vec![20],
//!     classes: 2,
//!     values: 2,
//!     ratios: vec![6.0],
//!     trials: 2,
//!     seed: 5,
//!     shard: None,
//!     methods: vec![Method::Sat],
//!     noise: 0.0,
//!     zipf: None,
//! };
//! let exact = |instance: &_| solve(instance, &SolveOptions::unique(), &mut |_| {});
//! let rows = run(&config, &HashSet::new(), 1, &exact, &mut |_| Ok(()))?;
//! assert_eq!(rows.len(), 2);
//! assert!(rows.iter().all(|r| r.recovered == Some(true) && r.unique == Some(true)));
//! assert!(table(&rows).contains("| sat"));
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub mod plot;
pub mod possible;
pub mod resume;
pub mod summary;
pub mod sweep;
