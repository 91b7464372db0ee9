//! Reading strict JSON and NumPy `.npz` archives, and writing results atomically.

pub mod json;
pub mod npz;
pub mod output;
