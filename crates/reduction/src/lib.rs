//! Graph colouring, the NP-hard problem partition recovery is proven hard by:
//! graphs and their files, the reduction with extraction and lifting, direct
//! and reduced colouring decisions, and closed-loop verification.

pub mod coloring;
pub mod decide;
pub mod graph;
pub mod verify;
