//! Where a sweep starts: the rows already written to its row file when it resumes,
//! or a fresh file.

use crate::sweep::{merge, Key, Row, RowFile, SweepConfig};
use partrec_core::error::{Error, Result};
use std::collections::HashSet;
use std::path::Path;

/// The rows a sweep of `config` starts from, and the (point, method) keys they cover.
#[derive(Debug, Default)]
pub struct Start {
    /// Rows already done (from the row file, when resuming).
    pub rows: Vec<Row>,
    /// Their keys ([`Row::key`]): the work to skip.
    pub done: HashSet<Key>,
}

impl Start {
    /// Reads `out` when `resume` is set, refusing an impossible row ([`Row::check`]), rows
    /// of another experiment ([`SweepConfig::check_resumable`]) and two different rows for
    /// one point ([`merge`]); a row repeated is kept once. Without `resume` an existing
    /// `out` is removed, since rows are appended to it as they finish. Without `out`
    /// nothing is done.
    pub fn prepare(config: &SweepConfig, out: Option<&Path>, resume: bool) -> Result<Start> {
        let rows = match (out, resume) {
            (Some(out), true) => {
                let file = RowFile::read(out)?;
                config.check_resumable(&file)?;
                merge(&[file])?
            }
            (Some(out), false) => {
                if out.exists() {
                    std::fs::remove_file(out).map_err(|e| Error::io(out.display(), e))?;
                }
                Vec::new()
            }
            (None, _) => Vec::new(),
        };
        let done = rows.iter().map(Row::key).collect();
        Ok(Start { rows, done })
    }
}
