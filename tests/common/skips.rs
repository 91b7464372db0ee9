//! Skips that show. A test that cannot run here (no `../shared`, no `rate`, no `curl`,
//! ...) calls [`skip`] and returns: cargo still counts it as passed, so the skip is
//! printed past the test's output capture and recorded, one file per test under
//! [`DIR`], which `.ci/run` prints at its end as "skipped tests". A resource named in `PARTREC_TEST_REQUIRE` (space- or
//! comma-separated; `.ci/run` names what it installs) may not be missing: there the
//! skip fails the test instead.

use std::io::Write;
use std::path::Path;

/// Where the skips are recorded: one file per skipped test, one line per skip.
/// `.ci/run` empties it before the tests run.
pub const DIR: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/skipped-tests");

/// The variable naming the resources that must be present.
pub const REQUIRE: &str = "PARTREC_TEST_REQUIRE";

/// Skips (the rest of) the running test because `need` (a short resource name such as
/// `rate` or `shared`) is missing, for `reason`: prints it past the test's output
/// capture, records it under [`DIR`], and panics instead when `PARTREC_TEST_REQUIRE`
/// names `need`. The caller returns.
pub fn skip(need: &str, reason: &str) {
    let required = std::env::var(REQUIRE).unwrap_or_default();
    // Straight to the standard error: libtest captures only the print macros, so
    // `cargo test` shows the skip beside the test's `ok`.
    skip_in(
        Path::new(DIR),
        &required,
        &mut std::io::stderr(),
        need,
        reason,
    );
}

/// [`skip`] with the required resources `required` (as in `PARTREC_TEST_REQUIRE`),
/// printing to `out` and recording under `dir`.
pub fn skip_in(dir: &Path, required: &str, out: &mut dyn Write, need: &str, reason: &str) {
    let test = current_test();
    if requires(required, need) {
        panic!("{test} cannot run: {reason}; {REQUIRE} requires {need}");
    }
    // One write, so that the line does not interleave with libtest's.
    let line = format!("skipped: {}", record_line(&test, need, reason));
    let _ = out.write_all(line.as_bytes());
    record(dir, &test, need, reason).unwrap_or_else(|e| {
        panic!(
            "{test}: could not record its skip in {}: {e}",
            dir.display()
        )
    });
}

/// The running test as `crate::test` (libtest names each test's thread after it).
pub fn current_test() -> String {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("unnamed thread");
    format!("{}::{name}", env!("CARGO_CRATE_NAME"))
}

/// Whether the list `required` (space- or comma-separated) names `need`.
pub fn requires(required: &str, need: &str) -> bool {
    required
        .split(|c: char| c == ',' || c.is_whitespace())
        .any(|r| r == need)
}

/// The line recorded for one skip: `test (needs need): reason`, on one line.
pub fn record_line(test: &str, need: &str, reason: &str) -> String {
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{test} (needs {need}): {reason}\n")
}

/// Adds the skip's line to `dir/<test>` unless it is there already (a test may skip
/// the same way more than once), writing the file anew and renaming it into place.
pub fn record(dir: &Path, test: &str, need: &str, reason: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let file = dir.join(test);
    let line = record_line(test, need, reason);
    let mut text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    if text.lines().any(|l| format!("{l}\n") == line) {
        return Ok(());
    }
    text.push_str(&line);
    let tmp = dir.join(format!(".{test}.{}.tmp", std::process::id()));
    std::fs::File::create(&tmp)?.write_all(text.as_bytes())?;
    std::fs::rename(&tmp, &file)
}
