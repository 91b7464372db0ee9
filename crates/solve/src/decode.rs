//! From a solver's partition to a reported one: the checker's verdict, and the
//! table a partition induces on the samples.

use partrec_core::check::check;
use partrec_core::error::{Error, Result};
use partrec_core::model::instance::{Instance, TableEntry};
use partrec_core::model::partition::Partition;

/// The observed cells of `partition` with their values, sorted by cell.
pub fn observed_table(instance: &Instance, partition: &[Vec<u32>]) -> Vec<TableEntry> {
    let cells = partrec_core::check::cells(instance, partition, |_, _| {});
    let mut table: Vec<TableEntry> = cells
        .into_iter()
        .map(|(cell, s)| TableEntry {
            cell,
            y: instance.y(s).clone(),
        })
        .collect();
    table.sort_by(|a, b| a.cell.cmp(&b.cell));
    table
}

/// Runs the checker on a partition the solver produced; anything but "consistent" is a bug.
pub(crate) fn verified(instance: &Instance, partition: Partition, what: &str) -> Result<Partition> {
    let verdict = check(instance, &partition)
        .map_err(|m| Error::Internal(format!("the {what} has the wrong shape: {m}")))?;
    if !verdict.consistent {
        return Err(Error::Internal(format!(
            "the {what} failed the consistency check ({} conflicting samples)",
            verdict.conflicting_samples
        )));
    }
    Ok(partition)
}
