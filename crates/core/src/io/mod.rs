//! Reading strict JSON, instance files (JSON and NumPy `.npz`), in-memory arrays and
//! CSV/TSV tables, and writing results atomically.

pub mod arrays;
pub mod input;
pub mod instance;
pub mod json;
pub mod npz;
pub mod output;
pub mod table;
