//! Where results go: a file named by `-o`, or standard output.

use crate::error::{Error, Result};
use std::io::Write;

/// Writes `text` and a newline to `path`, or to standard output when `path` is `None` or `-`.
pub fn write_text(path: Option<&str>, text: &str) -> Result<()> {
    match path {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")
                .and_then(|_| out.flush())
                .map_err(|e| Error::io("standard output", e))
        }
        Some(p) => std::fs::write(p, format!("{text}\n")).map_err(|e| Error::io(p, e)),
    }
}
