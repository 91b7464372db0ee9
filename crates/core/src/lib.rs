//! The model of partition recovery from context: instances and their labels,
//! partitions, their readers and writers, the independent checker, and planted
//! instances. Nothing here solves: the checker judges an answer without sharing
//! code with any encoder or solver.
//!
//! The user's manual for this part is `docs/formats.md` in the repository.
//!
//! ```
//! use partrec_core::check::check;
//! use partrec_core::model::instance::Instance;
//!
//! // One group of three tokens, at most two classes; tokens 0 and 2 share a value.
//! let text = r#"{"groups": [{"tokens": 3, "classes": 2}],
//!                "samples": [{"x": [0], "y": "a"}, {"x": [1], "y": "b"}, {"x": [2], "y": "a"}]}"#;
//! let instance = Instance::from_json(text.as_bytes(), "example")?;
//! assert!(check(&instance, &[vec![0, 1, 0]]).unwrap().consistent);
//! assert!(!check(&instance, &[vec![0, 0, 0]]).unwrap().consistent);
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub mod check;
pub mod error;
pub mod generate;
pub mod io;
pub mod memory;
pub mod model;
pub mod units;
