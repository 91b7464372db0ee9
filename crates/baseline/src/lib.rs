//! The paper's gradient method on token embeddings, for comparison.
//!
//! The user's manual for this part is `docs/gradient.md` in the repository.
//!
//! ```
//! use partrec_baseline::learn::{learn, LearnOptions};
//! use partrec_core::generate::{generate, GenerateParams};
//!
//! // A planted instance with plenty of samples; the report says whether the
//! // partition learned is consistent and whether it is the planted one.
//! let params = GenerateParams {
//!     tokens: vec![12, 12],
//!     classes: vec![2, 2],
//!     values: 2,
//!     samples: 400,
//!     seed: 1,
//!     zipf: None,
//! };
//! let instance = generate(&params, None)?;
//! let report = learn(&instance, &LearnOptions::default())?;
//! assert!(report.planted.is_some());
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub use partrec_solve::kmeans;
pub mod learn;
