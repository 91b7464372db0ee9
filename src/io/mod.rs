//! Reading strict JSON, NumPy `.npz` archives, in-memory arrays and CSV/TSV tables,
//! and writing results atomically.

pub mod arrays;
pub mod json;
pub mod npz;
pub mod output;
pub mod table;
