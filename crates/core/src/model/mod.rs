//! The problem's data: groups, instances and their labels, partitions, and the
//! compact numbering of observed tokens.

pub mod cells;
pub mod compact;
pub mod group;
pub mod instance;
pub mod label;
pub mod matching;
pub mod partition;
pub mod shown;
