//! Experiments: sample-count sweeps over planted instances, their summary and plot.

pub mod plot;
pub mod possible;
pub mod resume;
pub mod summary;
pub mod sweep;
