//! Reading strict JSON and writing results atomically.

pub mod json;
pub mod output;
