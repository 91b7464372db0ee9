//! Experiments: planted instances, sample-count sweeps, their summary and plot.

pub mod generate;
pub mod plot;
pub mod possible;
pub mod resume;
pub mod summary;
pub mod sweep;
