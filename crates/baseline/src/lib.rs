//! The paper's gradient method on token embeddings, for comparison.

pub mod kmeans;
pub mod learn;
