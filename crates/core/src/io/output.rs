//! Where results go: a file named by `-o`, or standard output.
//!
//! Files are written atomically: into a temporary file beside the target, then
//! renamed over it, so a full disk or a crash never leaves a truncated result
//! and a failed command leaves the old file as it was. A reader that closes
//! standard output early (`partrec encode big.json | head`) is not an error.

use crate::error::{Error, Result};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// Writes `text` and a newline to `path`, or to standard output when `path` is `None` or `-`.
pub fn write_text(path: Option<&str>, text: &str) -> Result<()> {
    write_with(path, |w| {
        w.write_all(text.as_bytes())?;
        w.write_all(b"\n")
    })
}

/// Writes through `fill` to `path` (atomically), or to standard output when `path`
/// is `None` or `-`. A closed standard output ends the writing quietly.
pub fn write_with(
    path: Option<&str>,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    match path {
        None | Some("-") => {
            let mut out = std::io::stdout().lock();
            match fill(&mut out).and_then(|_| out.flush()) {
                Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(|e| Error::io("standard output", e)),
            }
        }
        Some(p) => write_file(Path::new(p), fill),
    }
}

/// Writes `path` atomically: a temporary file in the same folder, synced, then renamed.
/// A path that exists and is not a regular file (`/dev/null`, a pipe, `/dev/stdout`)
/// is written in place: renaming over it would replace the device.
pub fn write_file(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let name = path.display().to_string();
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        let direct = (|| {
            let mut w =
                std::io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
            fill(&mut w)?;
            w.flush()
        })();
        return match direct {
            Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(|e| Error::io(&name, e)),
        };
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{name}: not a file name")))?;
    let tmp = dir.join(format!(
        ".{}.partrec-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| Error::io(&name, e))
}

/// Checks an output path before any work: its folder exists, it is not a folder,
/// and it is none of the `inputs` (which it would destroy). `flag` names the option
/// in the message.
pub fn check_output(path: Option<&str>, inputs: &[&str], flag: &str) -> Result<()> {
    let Some(p) = path.filter(|p| *p != "-") else {
        return Ok(());
    };
    let out = Path::new(p);
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{flag} {p}: the folder {} does not exist",
            dir.display()
        )));
    }
    if out.is_dir() {
        return Err(Error::Usage(format!("{flag} {p}: is a folder, not a file")));
    }
    if !std::fs::metadata(out).map_or(true, |m| m.is_file()) {
        return Ok(()); // a device or a pipe: written in place, never an input's file
    }
    // Standard input redirected from a file (`< x.json`) is that file.
    let named: Vec<(&Path, String)> = inputs
        .iter()
        .map(|&i| match i {
            "-" => (Path::new("/dev/stdin"), "standard input".to_string()),
            _ => (Path::new(i), format!("the input {i}")),
        })
        .collect();
    check_apart(out, flag, &named)
}

/// Refuses `path`, which `flag` writes, when it names the same file as one of `taken`:
/// the command's inputs and its other outputs, each with what it is for the message
/// ("the input a.json", "a file --certify writes"). Paths that do not exist yet clash
/// when their folders resolve to the same place and their names are equal.
pub fn check_apart(path: &Path, flag: &str, taken: &[(&Path, String)]) -> Result<()> {
    match taken.iter().find(|(other, _)| same_file(path, other)) {
        Some((_, what)) => Err(Error::Usage(format!(
            "{flag} {}: is {what}; write the output to another file",
            path.display()
        ))),
        None => Ok(()),
    }
}

/// True when both paths name one file: the same file on disk (through links, hard
/// links included) or, when they do not exist yet, the same place.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (x.dev(), x.ino()) == (y.dev(), y.ino());
        }
    }
    place(a).is_some_and(|x| place(b).is_some_and(|y| x == y))
}

/// Where a path points: its folder resolved, then its file name.
fn place(p: &Path) -> Option<std::path::PathBuf> {
    if let Ok(full) = std::fs::canonicalize(p) {
        return Some(full);
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn writes_atomically_and_refuses_inputs_as_outputs() {
        let dir = std::env::temp_dir().join(format!("partrec-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.txt");
        let name = file.to_str().unwrap();
        write_text(Some(name), "one").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one\n");
        // A failing writer leaves the old content and no temporary file.
        let failed = write_with(Some(name), |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(failed.unwrap_err().to_string().contains("disk full"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "one\n");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        let e = check_output(Some(name), &[name], "-o")
            .unwrap_err()
            .to_string();
        assert!(e.contains("is the input"), "{e}");
        let missing = dir.join("no/such/b.txt");
        let e = check_output(missing.to_str(), &[], "-o")
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert!(check_output(dir.join("b.txt").to_str(), &[name], "-o").is_ok());
        // A hard link is the same file; two names for one new file are one place.
        let link = dir.join("link.txt");
        std::fs::hard_link(&file, &link).unwrap();
        assert!(check_output(link.to_str(), &[name], "-o").is_err());
        let new = dir.join("new.txt");
        let e = check_output(new.to_str(), &[new.to_str().unwrap()], "--plot");
        assert!(e.is_err());
        // Devices are written in place, never replaced.
        write_text(Some("/dev/null"), "gone").unwrap();
        assert!(std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
