//! Helpers shared by the integration tests: seeded tiny instances and the binary.
#![allow(dead_code)]

use partrec::{Group, Instance, Label};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A seeded random tiny instance: I <= 3, N_i <= 5, K_i <= 3, up to 3 values, up to 10 samples.
/// Half are planted (YES instances); the other half have random values (mostly NO when dense).
pub fn tiny_instance(seed: u64) -> Instance {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let arity = rng.random_range(1..=3usize);
    let max_tokens = if arity == 3 { 4 } else { 5 };
    let groups: Vec<Group> = (0..arity)
        .map(|_| Group::new(rng.random_range(1..=max_tokens), rng.random_range(1..=3)))
        .collect();
    let values = rng.random_range(1..=3u64);
    let planted = rng.random_bool(0.5);
    let classes = random_classes(&mut rng, &groups);
    let count = rng.random_range(0..=10);
    let samples = random_samples(&mut rng, &groups, &classes, values, count, planted);
    Instance::new(groups, samples).expect("valid by construction")
}

/// A random class for every token of every group (one partition per group).
pub fn random_classes(rng: &mut ChaCha8Rng, groups: &[Group]) -> Vec<Vec<u32>> {
    groups
        .iter()
        .map(|g| {
            (0..g.tokens)
                .map(|_| rng.random_range(0..g.classes))
                .collect()
        })
        .collect()
}

/// `count` random samples over `groups`. With `planted`, each value comes from a
/// table over `classes` (one partition per group) drawn as cells are met, so the
/// samples are consistent; otherwise values are random (below `values`).
pub fn random_samples(
    rng: &mut ChaCha8Rng,
    groups: &[Group],
    classes: &[Vec<u32>],
    values: u64,
    count: usize,
    planted: bool,
) -> Vec<(Vec<u32>, Label)> {
    let mut table = std::collections::HashMap::new();
    (0..count)
        .map(|_| {
            let x: Vec<u32> = groups
                .iter()
                .map(|g| rng.random_range(0..g.tokens))
                .collect();
            let y = if planted {
                let cell: Vec<u32> = x.iter().zip(classes).map(|(&t, c)| c[t as usize]).collect();
                *table
                    .entry(cell)
                    .or_insert_with(|| rng.random_range(0..values))
            } else {
                rng.random_range(0..values)
            };
            (x, Label::from(y))
        })
        .collect()
}

/// A command line written as one string, split at white space.
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The parameters of the paper's headline family: I = 2, N = 300, K = 3, V = 2.
pub const I2_N300_K3_V2: &str = "--groups 2 --tokens 300 --classes 3 --values 2";

/// The partrec binary built for these tests.
pub fn partrec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_partrec"))
}

/// Starts partrec with `args`, its standard output piped and its standard error
/// discarded.
pub fn spawn_piped<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Child {
    partrec()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("partrec starts")
}

/// Runs partrec with `args`.
pub fn run(args: &[&str]) -> Output {
    partrec().args(args).output().expect("partrec runs")
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = root().join("target").join("test-scratch").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `../shared` beside the repository, if present (CI has it; a fresh clone does not);
/// when it is missing, the running test is recorded as skipped ([`skip`]).
pub fn shared() -> Option<PathBuf> {
    let dir = root().join("..").join("shared");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(
            "shared",
            &format!(
                "{} does not exist (tests that need ../shared run where it does)",
                dir.display()
            ),
        );
        None
    }
}

pub mod brute;
pub mod manual;
pub mod server;
pub mod skips;

pub use skips::skip;

/// `partrec import instances/german/TABLE --group noun --group context --value article
/// --classes 3,7 -o OUT`, which must succeed: the worked German example as an instance.
pub fn import_german(table: &str, out: &std::path::Path) {
    let table = root().join("instances/german").join(table);
    let o = run(&[
        "import",
        table.to_str().unwrap(),
        "--group",
        "noun",
        "--group",
        "context",
        "--value",
        "article",
        "--classes",
        "3,7",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// What `partrec solve` prints for the German example's `table` (see [`import_german`])
/// with `solve_args`, working in the scratch folder `name`.
pub fn german_on_the_command_line(
    table: &str,
    solve_args: &[&str],
    name: &str,
) -> serde_json::Value {
    let json = scratch(name).join("german.json");
    import_german(table, &json);
    let mut args = vec!["solve", json.to_str().unwrap(), "-q"];
    args.extend(solve_args);
    serde_json::from_slice(&run(&args).stdout).unwrap()
}
