//! Reading strict JSON, NumPy `.npz` archives and in-memory arrays, and writing
//! results atomically.

pub mod arrays;
pub mod json;
pub mod npz;
pub mod output;
