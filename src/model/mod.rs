//! The problem's data: instances and their labels, partitions, the solution
//! report, and the compact numbering of observed tokens.

pub mod cells;
pub mod compact;
pub mod instance;
pub mod label;
pub mod matching;
pub mod partition;
pub mod solution;
