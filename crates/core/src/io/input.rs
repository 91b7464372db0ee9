//! Reading a whole input, a file or standard input, under the memory budget.

use crate::error::{Error, Result};
use std::io::Read;

/// Reads a whole file, or standard input for `-`, refusing more bytes than the
/// memory budget ([`crate::memory::budget`]) before holding them.
pub fn read_input(path: &str) -> Result<Vec<u8>> {
    let budget = crate::memory::budget();
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin()
            .lock()
            .take(budget.saturating_add(1))
            .read_to_end(&mut bytes)
    } else {
        refuse_devices(path)?;
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        if let Ok(meta) = file.metadata() {
            crate::memory::afford_within(meta.len(), budget, || {
                format!("{path} ({} bytes)", meta.len())
            })?;
        }
        file.take(budget.saturating_add(1)).read_to_end(&mut bytes)
    };
    read.map_err(|e| Error::io(path, e))?;
    crate::memory::afford_within(bytes.len() as u64, budget, || {
        format!("{path} (more than {budget} bytes)")
    })?;
    Ok(bytes)
}

/// Refuses a character or block device (`/dev/zero` would be read forever); files,
/// pipes and `-` are read.
fn refuse_devices(path: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let kind = meta.file_type();
            if kind.is_char_device() || kind.is_block_device() {
                return Err(Error::input(
                    path,
                    "is a device, not a file (give - to read standard input)",
                ));
            }
        }
    }
    Ok(())
}
