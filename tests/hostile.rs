//! Hostile input: declared sizes, huge numbers, aliased and failing output
//! files, closed pipes, strict formats, sweep parameters and `learn`, over every
//! subcommand of the binary and every route of `partrec serve`.
//!
//! Every process under test runs under a 2 GiB address-space cap (`ulimit -v`) and a
//! wall-time limit, so an allocation or a loop driven by a declared size fails its case
//! instead of the machine, and a hang is a failure. A refusal is exit 2 with exactly one
//! line on stderr starting `partrec: `, free of panic text and of Rust type names; over
//! HTTP it is a 4xx whose JSON body has a one-line `error`. Where the input is valid and
//! its data small, the answer must be a (correct) success instead. Cases run in
//! parallel, and every failure is reported in one table at the end.
//!
//! `cargo test --release --test hostile -- --nocapture` prints the tables;
//! `HOSTILE_VERBOSE=1` adds every case with what it got.

mod common;

use common::root;
use common::server::is_running;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address-space cap of every process under test, in KiB (2 GiB).
const MEM_KIB: u64 = 2 * 1024 * 1024;
/// The file-size cap, in 512-byte blocks (1 GiB): a runaway writer fails its case, not the disk.
const FILE_BLOCKS: u64 = 2 * 1024 * 1024;
/// The longest any case may take; a process still running after this (plus [`GRACE`]) is killed.
const LIMIT: Duration = Duration::from_secs(20);
/// Time past a case's bound before its process group is killed.
const GRACE: Duration = Duration::from_secs(3);
/// Command-line cases running at once (the machine has 2 cores; most cases are short).
const THREADS: usize = 4;
/// Text that betrays a panic or an abort.
const PANIC_TEXT: [&str; 6] = [
    "panicked",
    "RUST_BACKTRACE",
    "stack backtrace",
    "memory allocation of",
    "capacity overflow",
    "fatal runtime error",
];
/// Internal type names that must never reach a user.
const TYPE_NAMES: [&str; 5] = ["struct ", "Raw", "Candidate", "enum ", "RawInstance"];
/// Words of an error report that must not follow a closed standard output.
const NOISE: [&str; 4] = ["broken pipe", "os error", "bad input", "error"];

// ---------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------

const BOM: &str = "\u{feff}";

/// Small files written into the scratch folder (name, content).
const FILES: &[(&str, &str)] = &[
    // Declared sizes.
    (
        "tok4g.json",
        r#"{"groups":[{"tokens":4294967295,"classes":2}],"samples":[{"x":[0],"y":1}]}"#,
    ),
    (
        "cls4g.json",
        r#"{"groups":[{"tokens":2,"classes":4294967295}],"samples":[{"x":[1],"y":1}]}"#,
    ),
    (
        "both4g.json",
        r#"{"groups":[{"tokens":4294967295,"classes":4294967295},{"tokens":4294967295,"classes":4294967295}],"samples":[{"x":[4294967294,0],"y":"a"}]}"#,
    ),
    (
        "mega.json",
        r#"{"groups":[{"tokens":1000000,"classes":1000000}],"samples":[{"x":[0],"y":1}]}"#,
    ),
    (
        "mega2.json",
        r#"{"groups":[{"tokens":1000000,"classes":1000000},{"tokens":3,"classes":2}],"samples":[{"x":[999999,2],"y":0},{"x":[5,2],"y":1}]}"#,
    ),
    (
        "tok50m.json",
        r#"{"groups":[{"tokens":50000000,"classes":3}],"samples":[{"x":[49999999],"y":"a"}]}"#,
    ),
    (
        "pk4g.json",
        r#"{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[0,1,2]]}}"#,
    ),
    ("sol3.json", r#"{"partition":[[0,1,2]]}"#),
    // Consistent with small3.json and arr-top.json, so only a shape error can refuse it.
    ("sol-ok.json", r#"{"partition":[[0,0,1]]}"#),
    (
        "small3.json",
        r#"{"groups":[{"tokens":3,"classes":2}],"samples":[{"x":[0],"y":1},{"x":[2],"y":0}]}"#,
    ),
    // Labels that only exact comparison tells apart (or keeps together).
    (
        "lab-2e64.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":18446744073709551616},{"x":[0],"y":18446744073709551617}]}"#,
    ),
    (
        "lab-neg.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[1],"y":-18446744073709551617},{"x":[1],"y":-18446744073709551616}]}"#,
    ),
    (
        "lab-tenth.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":0.1},{"x":[0],"y":0.10000000000000001}]}"#,
    ),
    (
        "lab-2p53.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":9007199254740992},{"x":[0],"y":9007199254740993.0}]}"#,
    ),
    (
        "lab-tiny.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":0},{"x":[0],"y":1e-999999}]}"#,
    ),
    (
        "lab-exp.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":1e999999}]}"#,
    ),
    (
        "lab-exp2.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":1e400},{"x":[0],"y":2e400}]}"#,
    ),
    (
        "lab-same.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":18446744073709551616},{"x":[0],"y":18446744073709551616.0}]}"#,
    ),
    (
        "lab-u64.json",
        r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":9007199254740993},{"x":[0],"y":9007199254740992}]}"#,
    ),
    // Arrays in place of objects.
    (
        "arr-top.json",
        r#"[[{"tokens":3,"classes":2}],[[[0],1]],null,null,null]"#,
    ),
    ("arr-groups.json", r#"{"groups":[[3,2]],"samples":[]}"#),
    (
        "arr-samples.json",
        r#"{"groups":[{"tokens":3,"classes":2}],"samples":[[[0],1]]}"#,
    ),
    (
        "arr-planted.json",
        r#"{"groups":[{"tokens":3,"classes":2}],"samples":[{"x":[0],"y":1}],"planted":[[[0,0,1]],null]}"#,
    ),
    (
        "arr-table.json",
        r#"{"groups":[{"tokens":3,"classes":2}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[0,0,1]],"table":[[[0],1]]}}"#,
    ),
    ("sol-arr.json", r#"[[[0,1,0]],null]"#),
    ("sol-big-class.json", r#"{"partition":[[0,4294967296,0]]}"#),
    ("sol-one.json", r#"{"partition":[[0]]}"#),
    ("sol-short.json", r#"{"partition":[[0,0],[0,0]]}"#),
    ("sol-4g.json", r#"{"partition":[[0,4294967294]]}"#),
    ("sol-2e64.json", r#"{"partition":[[0,0]]}"#),
    // Colourings.
    ("colors2.json", r#"{"colors":[0,1]}"#),
    ("colors-arr.json", r#"[[0,1,2]]"#),
    (
        "colors-big.json",
        r#"{"colors":[0,4294967296,0,1,2,0,1,2,0,1]}"#,
    ),
    ("colors10.json", r#"{"colors":[0,1,2,3,4,5,6,7,8,9]}"#),
    // Graphs.
    ("v4g.col", "p edge 4000000000 1\ne 1 2\n"),
    ("v3m.col", "p edge 3000000 1\ne 1 2\n"),
    ("e1e11.col", "p edge 5 99999999999\ne 1 2\n"),
    ("v2p32.col", "p edge 4294967296 1\ne 1 2\n"),
    ("vneg.col", "p edge -1 0\n"),
    ("ebig.col", "p edge 3 1\ne 1 4000000000\n"),
];

/// The content of fixture `name`.
fn fixture(name: &str) -> &'static str {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}

/// A `meta` (or `x`) nested `depth` arrays deep.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// An instance whose `meta` is nested 100,000 arrays deep (valid JSON; serde's recursion limit).
fn deep_meta() -> String {
    format!(
        r#"{{"groups":[{{"tokens":2,"classes":2}}],"samples":[{{"x":[0],"y":1}}],"meta":{}}}"#,
        nested(100_000)
    )
}

/// An instance whose first sample's `x` is nested 100,000 arrays deep.
fn deep_x() -> String {
    format!(
        r#"{{"groups":[{{"tokens":2,"classes":2}}],"samples":[{{"x":{},"y":1}}]}}"#,
        nested(100_000)
    )
}

/// A one-sample instance declaring K = 2000 with a planted partition of its 2000 tokens
/// into three classes, and that partition as a solution: a check must not cost K^2 or K^3.
fn planted_k2000() -> (String, String) {
    let tokens = 2000;
    let parts: Vec<String> = (0..tokens).map(|t| (t % 3).to_string()).collect();
    let partition = format!("[[{}]]", parts.join(","));
    let instance = format!(
        r#"{{"groups":[{{"tokens":{tokens},"classes":{tokens}}}],"samples":[{{"x":[0],"y":1}}],"planted":{{"partition":{partition}}}}}"#
    );
    (instance, format!(r#"{{"partition":{partition}}}"#))
}

/// An `.npy` array: a version 1.0 header dictionary, then `data`.
fn npy(descr: &str, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

/// An `.npz` archive of one group (`tokens` tokens, 2 classes) with `x` and `y`,
/// deflated; with `lie`, every entry's uncompressed size is overwritten by it.
fn npz(tokens: u32, x: Vec<u8>, y: Vec<u8>, lie: Option<u32>) -> Vec<u8> {
    use zip::write::{SimpleFileOptions, ZipWriter};
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in [
        ("tokens.npy", npy("<u4", "(1,)", &tokens.to_le_bytes())),
        ("classes.npy", npy("|u1", "(1,)", &[2])),
        ("x.npy", x),
        ("y.npy", y),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(&bytes).unwrap();
    }
    let mut bytes = zip.finish().unwrap().into_inner();
    if let Some(size) = lie {
        for at in 0..bytes.len() - 30 {
            let field = match &bytes[at..at + 4] {
                b"PK\x01\x02" => at + 24,
                b"PK\x03\x04" => at + 22,
                _ => continue,
            };
            bytes[field..field + 4].copy_from_slice(&size.to_le_bytes());
        }
    }
    bytes
}

/// The `.npz` fixtures (name, bytes).
fn npz_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let one = || npy("|u1", "(1,)", &[1]);
    vec![
        (
            "tok4g.npz",
            npz(u32::MAX, npy("|u1", "(1, 1)", &[0]), one(), None),
        ),
        // A header declaring 1e12 x 1 elements over 100 bytes.
        (
            "shape1e12.npz",
            npz(3, npy("<i8", "(1000000000000, 1)", &[0; 100]), one(), None),
        ),
        // 4 MB of zeros deflated to a few KB, its entries declaring 4 GB, then 100 bytes.
        (
            "bomb4g.npz",
            npz(
                3,
                npy("|u1", "(4000000, 1)", &vec![0; 4_000_000]),
                npy("|u1", "(4000000,)", &vec![0; 4_000_000]),
                Some(u32::MAX - 1),
            ),
        ),
        (
            "bomb100.npz",
            npz(
                3,
                npy("|u1", "(4000000, 1)", &vec![0; 4_000_000]),
                npy("|u1", "(4000000,)", &vec![0; 4_000_000]),
                Some(100),
            ),
        ),
        // Truncated: the header promises 8 bytes of data and has 4.
        (
            "short.npz",
            npz(3, npy("<i8", "(1, 1)", &[0; 4]), one(), None),
        ),
        ("json.npz", fixture("small3.json").as_bytes().to_vec()),
    ]
}

/// The scratch folder and its fixtures.
struct Fx {
    dir: PathBuf,
}

impl Fx {
    /// The absolute path of `name` in the scratch folder, as an argument.
    fn p(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }

    /// A fresh sub-folder `name` holding copies of `files` (name, bytes).
    fn folder(&self, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let sub = self.dir.join(name);
        let _ = std::fs::remove_dir_all(&sub);
        std::fs::create_dir_all(&sub).unwrap();
        for (file, bytes) in files {
            std::fs::write(sub.join(file), bytes).unwrap();
        }
        sub
    }

    /// A shipped file (`instances/...`) as an absolute argument.
    fn shipped(&self, rel: &str) -> String {
        root().join(rel).to_str().unwrap().to_string()
    }
}

/// Writes every fixture, and the generated ones (via the binary, under the cap).
fn write_fixtures() -> Fx {
    let dir = common::scratch("hostile");
    std::fs::create_dir_all(dir.join("io")).unwrap();
    for (name, content) in FILES {
        std::fs::write(dir.join(name), content).unwrap();
    }
    let bom = |name: &str, inner: &str| std::fs::write(dir.join(name), format!("{BOM}{inner}"));
    bom("bom.json", fixture("small3.json")).unwrap();
    bom("sol-bom.json", r#"{"partition":[[0,0,1]]}"#).unwrap();
    std::fs::write(dir.join("deep-meta.json"), deep_meta()).unwrap();
    std::fs::write(dir.join("deep-x.json"), deep_x()).unwrap();
    let (instance, solution) = planted_k2000();
    std::fs::write(dir.join("pk2000.json"), instance).unwrap();
    std::fs::write(dir.join("sol2000.json"), solution).unwrap();
    for (name, bytes) in npz_fixtures() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    let fx = Fx { dir };
    let setup = |args: &str| {
        let case = cli("setup", args, args);
        let run = execute(&case, &fx.dir, 0);
        assert!(
            run.status.is_some_and(|s| s.success()),
            "setup `{args}` failed: {}",
            run.summary()
        );
    };
    setup(&format!(
        "generate --tokens 4000 --classes 3 --values 2 --ratio 3 --seed 3 -o {}",
        fx.p("base.json")
    ));
    setup(&format!("graph queen 30 30 -o {}", fx.p("queen.col")));
    for (file, extra) in [
        ("rows-a.csv", "--seed 1"),
        ("rows-b.csv", "--seed 2"),
        ("rows-k.csv", "--seed 1 --classes 3"),
    ] {
        let classes = if extra.contains("--classes") {
            ""
        } else {
            "--classes 2"
        };
        setup(&format!(
            "sweep --tokens 10 {classes} --values 2 --ratios 1 --trials 2 --jobs 1 {extra} --out {}",
            fx.p(file)
        ));
    }
    // The generated instance plus a sample with the first sample's x and another y:
    // preprocessing refutes it at once.
    let mut base: Value =
        serde_json::from_slice(&std::fs::read(fx.dir.join("base.json")).unwrap()).unwrap();
    let samples = base["samples"].as_array_mut().unwrap();
    let first = samples[0].clone();
    let other = 1 - first["y"].as_u64().unwrap();
    samples.push(serde_json::json!({"x": first["x"], "y": other}));
    std::fs::write(fx.dir.join("refuted.json"), base.to_string()).unwrap();
    fx
}

// ---------------------------------------------------------------------------------
// Running one command line
// ---------------------------------------------------------------------------------

/// `partrec ARGS` under the memory and file-size caps, in its own process group.
fn capped(prelude: &str, args: &[String]) -> Command {
    let script =
        format!("ulimit -v {MEM_KIB}; ulimit -f {FILE_BLOCKS}; {prelude} exec \"$0\" \"$@\"");
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_partrec"))
        .args(args)
        .env("MALLOC_ARENA_MAX", "2")
        .env("RUST_BACKTRACE", "0")
        .env("NO_COLOR", "1")
        .process_group(0);
    cmd
}

/// SIGKILL to the process group `pgid` (a group this test created).
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Where a case's standard output goes.
#[derive(Clone, Copy)]
enum Out {
    /// A file, read back for the checks.
    File,
    /// /dev/null (for answers too large to keep).
    Null,
    /// A pipe that is read for this many bytes and then closed (`| head -c N`).
    CloseAfter(usize),
}

/// What a case must end with.
enum Want {
    /// Exit 2 and one line `partrec: ...`, saying one of `any` (if given) and none of `not`.
    Refuse {
        any: Vec<&'static str>,
        not: Vec<&'static str>,
    },
    /// One of these exit codes; exit 2 must then be a proper refusal.
    Codes(Vec<i32>),
    /// A failed write: exit 1 or 2 with one line.
    Fail,
    /// A quiet end after the reader went away: not 1 or 2, no error text.
    Quiet,
}

/// Verdicts of a batch: (case index, verdict, run summary).
type Verdicts = Vec<(usize, Result<(), String>, String)>;

type Check = Box<dyn Fn(&Run) -> Result<(), String> + Send + Sync>;

/// One command-line case.
struct Case {
    group: &'static str,
    name: String,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    prelude: &'static str,
    cwd: Option<PathBuf>,
    out: Out,
    want: Want,
    within: Duration,
    alone: bool,
    notes: Vec<String>,
    checks: Vec<Check>,
}

/// A case running `partrec ARGS` (split at white space); by default it must be refused.
fn cli(group: &'static str, name: &str, args: &str) -> Case {
    Case {
        group,
        name: name.to_string(),
        args: args.split_whitespace().map(str::to_string).collect(),
        stdin: None,
        prelude: "",
        cwd: None,
        out: Out::File,
        want: Want::Refuse {
            any: Vec::new(),
            not: Vec::new(),
        },
        within: LIMIT,
        alone: false,
        notes: Vec::new(),
        checks: Vec::new(),
    }
}

impl Case {
    fn input(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The refusal must say one of these (case-insensitive).
    fn saying(mut self, any: &[&'static str]) -> Self {
        if let Want::Refuse { any: a, .. } = &mut self.want {
            a.extend_from_slice(any);
        }
        self
    }

    /// The refusal must not say any of these (case-insensitive).
    fn not_saying(mut self, not: &[&'static str]) -> Self {
        if let Want::Refuse { not: n, .. } = &mut self.want {
            n.extend_from_slice(not);
        }
        self
    }

    /// A bad `--timeout` value: refused as a bad value of that flag.
    fn bad_timeout(self) -> Self {
        self.saying(&["timeout"])
            .not_saying(&["unexpected argument"])
    }

    fn codes(mut self, codes: &[i32]) -> Self {
        self.want = Want::Codes(codes.to_vec());
        self
    }

    fn fail_write(mut self) -> Self {
        self.want = Want::Fail;
        self
    }

    fn quiet_after(mut self, bytes: usize) -> Self {
        self.want = Want::Quiet;
        self.out = Out::CloseAfter(bytes);
        self
    }

    fn within(mut self, secs: f64) -> Self {
        self.within = Duration::from_secs_f64(secs);
        self
    }

    /// Timing-sensitive: run before the parallel phase, alone.
    fn alone(mut self) -> Self {
        self.alone = true;
        self
    }

    fn discard(mut self) -> Self {
        self.out = Out::Null;
        self
    }

    fn prelude(mut self, prelude: &'static str) -> Self {
        self.prelude = prelude;
        self
    }

    fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    fn check(
        mut self,
        note: &str,
        f: impl Fn(&Run) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.notes.push(note.to_string());
        self.checks.push(Box::new(f));
        self
    }

    /// When the answer is not a refusal, its JSON on stdout has `want` at `pointer`.
    fn answers(self, pointer: &'static str, want: Value) -> Self {
        let note = format!("answer {pointer} = {want}");
        self.check(&note, move |run| {
            if run.code() == Some(2) {
                return Ok(());
            }
            let v = run.json()?;
            match v.pointer(pointer) {
                Some(got) if *got == want => Ok(()),
                got => Err(format!("{pointer} is {got:?}, want {want}")),
            }
        })
    }

    /// When the answer is not a refusal, its stderr summary says `text`.
    fn summary_says(self, text: &'static str) -> Self {
        self.check(&format!("summary says {text:?}"), move |run| {
            if run.code() == Some(2) || run.stderr.contains(text) {
                Ok(())
            } else {
                Err(format!("stderr does not say {text:?}"))
            }
        })
    }

    /// `path` holds the same bytes afterwards as now.
    fn unchanged(self, path: PathBuf) -> Self {
        let before = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        self.check(&format!("{name} unchanged"), move |_| {
            match std::fs::read(&path) {
                Ok(now) if now == before => Ok(()),
                Ok(now) => Err(format!(
                    "{name} changed: {} bytes, was {}",
                    now.len(),
                    before.len()
                )),
                Err(e) => Err(format!("{name} is gone: {e}")),
            }
        })
    }

    /// `path` does not exist afterwards.
    fn absent(self, path: PathBuf) -> Self {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        self.check(&format!("no {name} written"), move |_| {
            if path.exists() {
                Err(format!("{} was written", path.display()))
            } else {
                Ok(())
            }
        })
    }

    /// Folder `dir` holds exactly the files it holds now, with the same bytes.
    fn folder_untouched(self, dir: PathBuf) -> Self {
        let before = folder_state(&dir);
        self.check("folder untouched (no partial file)", move |_| {
            let now = folder_state(&dir);
            if now == before {
                Ok(())
            } else {
                let sizes: Vec<String> = now
                    .iter()
                    .map(|(n, b)| format!("{n} ({} bytes)", b.len()))
                    .collect();
                Err(format!("folder now holds {}", sizes.join(", ")))
            }
        })
    }

    fn expected(&self) -> String {
        let mut s = match &self.want {
            Want::Refuse { any, not } => {
                let mut s = "exit 2, one line `partrec: `".to_string();
                if !any.is_empty() {
                    s += &format!(" saying {}", any.join(" or "));
                }
                if !not.is_empty() {
                    s += &format!(" not {}", not.join("/"));
                }
                s
            }
            Want::Codes(codes) => {
                let codes: Vec<String> = codes.iter().map(i32::to_string).collect();
                format!("exit {}", codes.join("|"))
            }
            Want::Fail => "exit 1|2, one line".to_string(),
            Want::Quiet => "quiet end (no exit 1|2, no error text)".to_string(),
        };
        for note in &self.notes {
            s += ", ";
            s += note;
        }
        s + &format!(", < {} s", self.within.as_secs_f64())
    }
}

/// File names and contents of a folder.
fn folder_state(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let bytes = std::fs::read(e.path()).unwrap_or_default();
                    (e.file_name().to_string_lossy().into_owned(), bytes)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How a process ended.
struct Run {
    status: Option<ExitStatus>,
    killed: bool,
    elapsed: Duration,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    fn signal(&self) -> Option<i32> {
        self.status.and_then(|s| s.signal())
    }

    fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.stdout).map_err(|e| {
            format!(
                "stdout is not JSON ({e}): {}",
                clip(&String::from_utf8_lossy(&self.stdout), 120)
            )
        })
    }

    /// `exit 2, 0.01 s: partrec: ...` / `signal 6 (SIGABRT), ...` / `killed after ...`.
    fn summary(&self) -> String {
        let how = if self.killed {
            format!(
                "still running, killed at {:.1} s",
                self.elapsed.as_secs_f64()
            )
        } else if let Some(sig) = self.signal() {
            format!("signal {sig}{}", signal_name(sig))
        } else if let Some(code) = self.code() {
            format!("exit {code}")
        } else {
            "no status".to_string()
        };
        let first = self.stderr.lines().next().unwrap_or("").trim();
        format!(
            "{how}, {:.2} s: {}",
            self.elapsed.as_secs_f64(),
            clip(first, 160)
        )
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        25 => " (SIGXFSZ)",
        _ => "",
    }
}

/// The first `n` characters of `s`, on one line.
fn clip(s: &str, n: usize) -> String {
    let one: String = s.replace(['\n', '\r'], " ");
    if one.chars().count() > n {
        format!("{}...", one.chars().take(n).collect::<String>())
    } else {
        one
    }
}

/// Reads at most `cap` bytes of `path`.
fn read_capped(path: &Path, cap: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Ok(f) = File::open(path) {
        let _ = f.take(cap).read_to_end(&mut bytes);
    }
    bytes
}

/// Runs `case` (number `id`, for its capture files) with the scratch folder `dir`.
fn execute(case: &Case, dir: &Path, id: usize) -> Run {
    let io = dir.join("io");
    let out_path = io.join(format!("{id}.out"));
    let err_path = io.join(format!("{id}.err"));
    let mut cmd = capped(case.prelude, &case.args);
    cmd.current_dir(case.cwd.as_deref().unwrap_or(dir))
        .stderr(File::create(&err_path).unwrap())
        .stdin(if case.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    match case.out {
        Out::File => cmd.stdout(File::create(&out_path).unwrap()),
        Out::Null => cmd.stdout(Stdio::null()),
        Out::CloseAfter(_) => cmd.stdout(Stdio::piped()),
    };
    let start = Instant::now();
    let mut child = cmd.spawn().expect("sh runs");
    if let Some(bytes) = &case.stdin {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.clone();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        });
    }
    let reader = if let Out::CloseAfter(n) = case.out {
        let mut pipe = child.stdout.take().unwrap();
        Some(std::thread::spawn(move || {
            let mut buf = vec![0u8; n];
            let mut got = 0;
            while got < n {
                match pipe.read(&mut buf[got..]) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => got += k,
                }
            }
            drop(pipe); // the reader goes away, like `head -c N`
            buf.truncate(got);
            buf
        }))
    } else {
        None
    };
    let deadline = case.within + GRACE;
    let (status, killed) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (Some(status), false);
        }
        if start.elapsed() > deadline {
            kill_group(child.id());
            break (child.wait().ok(), true);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = start.elapsed();
    let stdout = match reader {
        Some(handle) => handle.join().unwrap_or_default(),
        None => read_capped(&out_path, 64 << 20),
    };
    let stderr = String::from_utf8_lossy(&read_capped(&err_path, 64 << 10)).into_owned();
    let _ = std::fs::remove_file(&out_path);
    Run {
        status,
        killed,
        elapsed,
        stdout,
        stderr,
    }
}

/// The rules every refusal obeys: exit 2 and one line `partrec: ...` naming no internal type.
fn refusal(run: &Run, any: &[&str], not: &[&str]) -> Result<(), String> {
    if run.code() != Some(2) {
        return Err("not exit 2".to_string());
    }
    one_line(run)?;
    let lower = run.stderr.to_lowercase();
    if !any.is_empty() && !any.iter().any(|w| lower.contains(&w.to_lowercase())) {
        return Err(format!("message says none of {any:?}"));
    }
    if let Some(w) = not.iter().find(|w| lower.contains(&w.to_lowercase())) {
        return Err(format!("message says {w:?}"));
    }
    Ok(())
}

/// Exactly one non-empty line on stderr, starting `partrec: `, with no type names.
fn one_line(run: &Run) -> Result<(), String> {
    let lines: Vec<&str> = run.stderr.lines().collect();
    if lines.len() != 1 {
        return Err(format!("{} lines on stderr, want 1", lines.len()));
    }
    let rest = lines[0].strip_prefix("partrec: ").unwrap_or("");
    if rest.trim().is_empty() {
        return Err("the line does not start `partrec: ` with a message".to_string());
    }
    if let Some(name) = TYPE_NAMES.iter().find(|n| lines[0].contains(*n)) {
        return Err(format!("the message shows the type name {name:?}"));
    }
    Ok(())
}

/// Judges one run of `case`.
fn judge(case: &Case, run: &Run) -> Result<(), String> {
    if run.killed {
        return Err(format!(
            "no end within {} s (hang)",
            case.within.as_secs_f64()
        ));
    }
    if let Some(sig) = run.signal() {
        if !(matches!(case.want, Want::Quiet) && sig == 13) {
            return Err(format!("died of signal {sig}{}", signal_name(sig)));
        }
    }
    if let Some(text) = PANIC_TEXT.iter().find(|t| run.stderr.contains(*t)) {
        return Err(format!("panic/abort text {text:?}"));
    }
    if run.elapsed > case.within {
        return Err(format!(
            "too slow: {:.2} s > {} s",
            run.elapsed.as_secs_f64(),
            case.within.as_secs_f64()
        ));
    }
    match &case.want {
        Want::Refuse { any, not } => refusal(run, any, not)?,
        Want::Codes(codes) => {
            let code = run.code().unwrap_or(-1);
            if !codes.contains(&code) {
                return Err(format!("exit {code} is not one of {codes:?}"));
            }
            if code == 2 {
                refusal(run, &[], &[])?;
            }
        }
        Want::Fail => {
            if !matches!(run.code(), Some(1 | 2)) {
                return Err("a failed write must exit 1 or 2".to_string());
            }
            one_line(run)?;
        }
        Want::Quiet => {
            if matches!(run.code(), Some(1 | 2)) {
                return Err("a closed stdout is not an error".to_string());
            }
            let lower = run.stderr.to_lowercase();
            if let Some(w) = NOISE.iter().find(|w| lower.contains(*w)) {
                return Err(format!("stderr says {w:?}"));
            }
        }
    }
    for check in &case.checks {
        check(run)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------
// The command-line cases
// ---------------------------------------------------------------------------------

fn cli_cases(fx: &Fx) -> Vec<Case> {
    let f = |name: &str| fx.p(name);
    let small = fx.shipped("instances/planted-small.json");
    let petersen = fx.shipped("instances/graphs/petersen.col");
    let long_sweep = "sweep --tokens 3000 --classes 3 --values 2 --ratios 1,2,3,4,5,6,8 --trials 20 --jobs 1 --timeout 60";
    let rows = "sweep --tokens 10 --values 2 --ratios 1 --trials 2 --jobs 1";
    let missing = f("no/such/folder");
    let mut cases = Vec::new();

    // --- controls: the harness itself works under the caps --------------------------
    cases.push(
        cli(
            "control",
            "solve a shipped instance under the cap",
            &format!("solve {small} --unique"),
        )
        .codes(&[10])
        .answers("/unique", Value::Bool(true)),
    );
    let resume_ok = fx.folder(
        "resume-ok",
        &[("r.csv", &std::fs::read(f("rows-a.csv")).unwrap())],
    );
    cases.push(
        cli(
            "control",
            "sweep --resume with the same parameters",
            &format!(
                "{rows} --classes 2 --seed 1 --resume --out {}",
                resume_ok.join("r.csv").display()
            ),
        )
        .codes(&[0]),
    );
    cases.push(
        cli(
            "control",
            "sweep merge of one experiment",
            &format!("sweep merge {} -o {}", f("rows-a.csv"), f("merged-ok.csv")),
        )
        .codes(&[0]),
    );

    // --- generate ---------------------------------------------------------------------
    let gen =
        |name: &str, extra: &str| cli("generate", name, &format!("generate --seed 1 {extra}"));
    cases.push(gen(
        "--tokens 4000000000",
        "--tokens 4000000000 --classes 2 --samples 1",
    ));
    cases.push(gen(
        "--tokens 4294967296 (over u32)",
        "--tokens 4294967296 --classes 2 --samples 1",
    ));
    cases.push(gen(
        "--tokens 10,4000000000",
        "--groups 2 --tokens 10,4000000000 --classes 2 --samples 1",
    ));
    cases.push(gen(
        "--tokens and --classes 4e9",
        "--groups 1 --tokens 4000000000 --classes 4000000000 --samples 1",
    ));
    cases.push(gen(
        "--samples 1000000000000",
        "--tokens 10 --classes 2 --samples 1000000000000",
    ));
    cases.push(gen(
        "--samples 1e12",
        "--tokens 10 --classes 2 --samples 1e12",
    ));
    cases.push(gen(
        "--samples 2^64",
        "--tokens 10 --classes 2 --samples 18446744073709551616",
    ));
    cases.push(gen("--ratio 1e30", "--tokens 10 --classes 2 --ratio 1e30"));
    cases.push(gen(
        "--ratio 1e999999",
        "--tokens 10 --classes 2 --ratio 1e999999",
    ));
    cases.push(gen("--ratio nan", "--tokens 10 --classes 2 --ratio nan"));
    cases.push(gen("--ratio inf", "--tokens 10 --classes 2 --ratio inf"));
    cases.push(gen(
        "--groups 1000000",
        "--groups 1000000 --tokens 2 --classes 2 --samples 1",
    ));
    cases.push(
        gen(
            "--values 4294967295 (small data)",
            "--tokens 10 --classes 2 --values 4294967295 --samples 3",
        )
        .codes(&[0, 2]),
    );
    cases.push(gen(
        "--seed -1",
        "--tokens 10 --classes 2 --samples 3 --seed -1",
    ));
    cases.push(
        gen(
            "-o into a missing folder",
            &format!("--tokens 10 --classes 2 --samples 3 -o {missing}/g.json"),
        )
        .absent(PathBuf::from(&missing)),
    );
    cases.push(
        gen(
            "closed stdout (| head -c 10)",
            "--tokens 1000 --classes 3 --samples 200000",
        )
        .quiet_after(10),
    );
    let full = fx.folder("full-generate", &[]);
    cases.push(
        gen(
            "full disk (ulimit -f): no truncated file",
            &format!(
                "--tokens 1000 --classes 3 --samples 20000 -o {}",
                full.join("g.json").display()
            ),
        )
        .prelude("trap '' XFSZ; ulimit -f 64;")
        .fail_write()
        .folder_untouched(full),
    );

    // --- solve ------------------------------------------------------------------------
    let solve = |name: &str, args: &str| cli("solve", name, &format!("solve {args}"));
    cases.push(
        solve("4294967295 tokens, one sample", &f("tok4g.json"))
            .codes(&[10, 2])
            .answers("/status", "sat".into()),
    );
    cases.push(
        solve(
            "4294967295 classes, one sample: sat at once",
            &f("cls4g.json"),
        )
        .codes(&[10])
        .within(10.0)
        .answers("/status", "sat".into()),
    );
    cases.push(
        solve(
            "4294967295 classes --count 1000: exactly 2",
            &format!("{} --count 1000", f("cls4g.json")),
        )
        .codes(&[10])
        .within(10.0)
        .answers("/count", 2.into())
        .answers("/count_complete", true.into()),
    );
    cases.push(
        solve(
            "4294967295 classes --unique",
            &format!("{} --unique", f("cls4g.json")),
        )
        .codes(&[10])
        .within(10.0)
        .answers("/unique", false.into()),
    );
    cases.push(
        solve("4e9 tokens and classes in two groups", &f("both4g.json"))
            .codes(&[10, 2])
            .answers("/status", "sat".into()),
    );
    cases.push(
        solve("10^6 tokens and classes, one sample", &f("mega.json"))
            .codes(&[10])
            .answers("/status", "sat".into()),
    );
    cases.push(
        solve(
            "10^6 tokens and classes --unique",
            &format!("{} --unique", f("mega.json")),
        )
        .codes(&[10])
        .answers("/unique", false.into()),
    );
    cases.push(
        solve(
            "10^6 tokens and classes --count 5",
            &format!("{} --count 5", f("mega2.json")),
        )
        .codes(&[10])
        .answers("/count", 5.into())
        .answers("/count_complete", false.into()),
    );
    cases.push(
        solve(
            "5e7 tokens, one sample (stdout discarded)",
            &f("tok50m.json"),
        )
        .discard()
        .codes(&[10, 2])
        .summary_says("sat"),
    );
    cases.push(solve("labels 2^64 and 2^64+1: not one value", &f("lab-2e64.json")).codes(&[20, 2]));
    cases.push(solve("labels -(2^64+1) and -2^64", &f("lab-neg.json")).codes(&[20, 2]));
    cases.push(solve("labels 0.1 and 0.10000000000000001", &f("lab-tenth.json")).codes(&[20, 2]));
    cases.push(solve("labels 2^53 and 9007199254740993.0", &f("lab-2p53.json")).codes(&[20, 2]));
    cases.push(solve("labels 0 and 1e-999999", &f("lab-tiny.json")).codes(&[20, 2]));
    cases.push(solve("labels 1e400 and 2e400", &f("lab-exp2.json")).codes(&[20, 2]));
    cases.push(solve("label 1e999999 alone", &f("lab-exp.json")).codes(&[10, 2]));
    cases.push(
        solve(
            "labels 2^64 and 2^64 written 18446744073709551616.0: one value",
            &f("lab-same.json"),
        )
        .codes(&[10, 2]),
    );
    cases.push(solve("labels 2^53+1 and 2^53 (u64): unsat", &f("lab-u64.json")).codes(&[20]));
    cases.push(solve("top level an array", &f("arr-top.json")));
    cases.push(solve("groups as arrays", &f("arr-groups.json")));
    cases.push(solve("samples as arrays", &f("arr-samples.json")));
    cases.push(solve("planted as an array", &f("arr-planted.json")));
    cases.push(solve(
        "planted table entries as arrays",
        &f("arr-table.json"),
    ));
    cases.push(solve("UTF-8 BOM", &f("bom.json")).saying(&["BOM", "byte order mark"]));
    cases.push(
        solve("UTF-8 BOM on stdin", "-")
            .input(std::fs::read(f("bom.json")).unwrap())
            .saying(&["BOM", "byte order mark"]),
    );
    cases.push(solve("meta nested 100000 deep", &f("deep-meta.json")).codes(&[10, 2]));
    cases.push(solve("x nested 100000 deep", &f("deep-x.json")));
    cases.push(solve("--count 0", &format!("{small} --count 0")));
    cases.push(solve(
        "--count 2^64",
        &format!("{small} --count 18446744073709551616"),
    ));
    cases.push(solve(
        "--count without a value",
        &format!("{small} --count"),
    ));
    cases.push(solve("--timeout -1", &format!("{small} --timeout -1")).bad_timeout());
    cases.push(solve("--timeout=-1", &format!("{small} --timeout=-1")).bad_timeout());
    cases.push(solve("--timeout 1e300", &format!("{small} --timeout 1e300")).bad_timeout());
    cases.push(solve("--timeout nan", &format!("{small} --timeout nan")).bad_timeout());
    cases.push(solve("--timeout inf", &format!("{small} --timeout inf")).bad_timeout());
    cases.push(solve("unknown flag", &format!("{small} --bogus")));
    cases.push(solve("missing instance argument", "").saying(&["INSTANCE"]));
    cases.push(
        solve(
            "--unique with --count",
            &format!("{small} --unique --count 3"),
        )
        .codes(&[10, 2]),
    );
    let alias = fx.folder(
        "alias-solve",
        &[("x.json", fixture("small3.json").as_bytes())],
    );
    cases.push(
        solve("-o the input file", "x.json -o x.json")
            .cwd(&alias)
            .unchanged(alias.join("x.json")),
    );
    let alias = fx.folder(
        "alias-solve2",
        &[("x.json", fixture("small3.json").as_bytes())],
    );
    cases.push(
        solve("-o the input as ./x.json", "x.json -o ./x.json")
            .cwd(&alias)
            .unchanged(alias.join("x.json")),
    );
    cases.push(solve(
        "-o into a missing folder",
        &format!("{small} -o {missing}/s.json"),
    ));
    let hard = fx.shipped("instances/hard-three-groups.json");
    let hard_samples = serde_json::from_str::<Value>(&std::fs::read_to_string(&hard).unwrap())
        .unwrap()["samples"]
        .as_array()
        .unwrap()
        .len();
    cases.push(
        solve(
            "--timeout 0.5 keeps the real stats",
            &format!("{hard} --unique --timeout 0.5"),
        )
        .codes(&[0, 10])
        .within(10.0)
        .answers("/stats/samples", hard_samples.into()),
    );
    cases.push(
        solve(
            "closed stdout (| head -c 10)",
            &format!("{} --unique", f("mega.json")),
        )
        .quiet_after(10),
    );
    cases.push(
        solve("stdout is a full device", &small)
            .prelude("exec >/dev/full;")
            .fail_write(),
    );

    // --- encode -----------------------------------------------------------------------
    let encode = |name: &str, args: &str| cli("encode", name, &format!("encode {args}"));
    cases.push(encode("4294967295 tokens", &f("tok4g.json")).codes(&[0, 2]));
    cases.push(
        encode("4294967295 classes", &f("cls4g.json"))
            .codes(&[0])
            .within(10.0),
    );
    cases.push(encode("10^6 tokens and classes", &f("mega.json")).codes(&[0]));
    cases.push(encode("top level an array", &f("arr-top.json")));
    cases.push(encode("UTF-8 BOM", &f("bom.json")).saying(&["BOM", "byte order mark"]));
    let alias = fx.folder(
        "alias-encode",
        &[("x.json", fixture("small3.json").as_bytes())],
    );
    cases.push(
        encode("x.json -o x.json", "x.json -o x.json")
            .cwd(&alias)
            .unchanged(alias.join("x.json")),
    );
    let alias = fx.folder(
        "alias-encode-link",
        &[("x.json", fixture("small3.json").as_bytes())],
    );
    std::os::unix::fs::symlink(alias.join("x.json"), alias.join("link.json")).unwrap();
    cases.push(
        encode(
            "link.json -o x.json (a symlink to it)",
            "link.json -o x.json",
        )
        .cwd(&alias)
        .unchanged(alias.join("x.json")),
    );
    cases.push(encode(
        "-o into a missing folder",
        &format!("{small} -o {missing}/e.cnf"),
    ));
    cases.push(encode("closed stdout (| head -c 10)", &f("base.json")).quiet_after(10));
    cases.push(
        encode("stdout is a full device", &f("base.json"))
            .prelude("exec >/dev/full;")
            .fail_write(),
    );
    let full = fx.folder("full-encode", &[("e.cnf", b"old content\n")]);
    cases.push(
        encode(
            "full disk over an old file: old file kept",
            &format!("{} -o {}", f("base.json"), full.join("e.cnf").display()),
        )
        .prelude("trap '' XFSZ; ulimit -f 64;")
        .fail_write()
        .folder_untouched(full),
    );

    // --- check ------------------------------------------------------------------------
    let check = |name: &str, args: &str| cli("check", name, &format!("check {args}"));
    cases.push(
        check(
            "planted K = 4294967295, three tokens",
            &format!("{} {}", f("pk4g.json"), f("sol3.json")),
        )
        .codes(&[0])
        .within(10.0)
        .answers("/consistent", true.into()),
    );
    cases.push(
        check(
            "planted K = 2000 declared, 2000 tokens",
            &format!("{} {}", f("pk2000.json"), f("sol2000.json")),
        )
        .codes(&[0])
        .within(10.0)
        .answers("/consistent", true.into()),
    );
    cases.push(check(
        "4294967295 tokens, a 1-token partition",
        &format!("{} {}", f("tok4g.json"), f("sol-one.json")),
    ));
    cases.push(
        check(
            "4294967295 classes, class 4294967294",
            &format!("{} {}", f("cls4g.json"), f("sol-4g.json")),
        )
        .codes(&[0])
        .within(10.0),
    );
    cases.push(check(
        "class 2^32 in the solution",
        &format!("{} {}", f("small3.json"), f("sol-big-class.json")),
    ));
    cases.push(check(
        "solution an array",
        &format!("{} {}", f("small3.json"), f("sol-arr.json")),
    ));
    cases.push(check(
        "instance an array",
        &format!("{} {}", f("arr-top.json"), f("sol-ok.json")),
    ));
    cases.push(
        check(
            "solution with a UTF-8 BOM",
            &format!("{} {}", f("small3.json"), f("sol-bom.json")),
        )
        .saying(&["BOM", "byte order mark"]),
    );
    cases.push(
        check(
            "labels 2^64, 2^64+1 in one class: not consistent",
            &format!("{} {}", f("lab-2e64.json"), f("sol-2e64.json")),
        )
        .codes(&[1, 2]),
    );
    cases.push(check("missing solution argument", &f("small3.json")).saying(&["SOLUTION"]));

    // --- reduce -----------------------------------------------------------------------
    let reduce = |name: &str, args: &str| cli("reduce", name, &format!("reduce {args}"));
    cases.push(reduce(
        "p edge 4000000000 1",
        &format!("{} --colors 3", f("v4g.col")),
    ));
    cases.push(reduce("p edge 4000000000 1 on stdin", "- --colors 3").input(fixture("v4g.col")));
    cases.push(
        reduce(
            "p edge 3000000 1 (stdout discarded)",
            &format!("{} --colors 3", f("v3m.col")),
        )
        .discard()
        .codes(&[0, 2]),
    );
    cases.push(
        reduce(
            "p edge 5 99999999999",
            &format!("{} --colors 3", f("e1e11.col")),
        )
        .codes(&[0, 2]),
    );
    cases.push(reduce(
        "p edge 4294967296 1",
        &format!("{} --colors 3", f("v2p32.col")),
    ));
    cases.push(reduce(
        "p edge -1 0",
        &format!("{} --colors 3", f("vneg.col")),
    ));
    cases.push(reduce(
        "edge to vertex 4000000000",
        &format!("{} --colors 3", f("ebig.col")),
    ));
    cases.push(reduce(
        "--colors 4294967295",
        &format!("{petersen} --colors 4294967295"),
    ));
    cases.push(reduce("--colors 0", &format!("{petersen} --colors 0")));
    let alias = fx.folder(
        "alias-reduce",
        &[(
            "g.col",
            fixture("ebig.col").replace("4000000000", "3").as_bytes(),
        )],
    );
    cases.push(
        reduce("-o the input graph", "g.col --colors 3 -o g.col")
            .cwd(&alias)
            .unchanged(alias.join("g.col")),
    );
    cases.push(reduce(
        "-o into a missing folder",
        &format!("{petersen} --colors 3 -o {missing}/r.json"),
    ));
    cases.push(
        reduce(
            "closed stdout (| head -c 10)",
            &format!("{} --colors 3", f("queen.col")),
        )
        .quiet_after(10),
    );

    // --- extract ----------------------------------------------------------------------
    let extract = |name: &str, args: &str| cli("extract", name, &format!("extract {args}"));
    cases.push(extract(
        "p edge 4000000000 1, short partition",
        &format!("{} {}", f("v4g.col"), f("sol-short.json")),
    ));
    cases.push(extract(
        "p edge 3000000 1, short partition",
        &format!("{} {}", f("v3m.col"), f("sol-short.json")),
    ));
    cases.push(extract(
        "p edge 4294967296 1",
        &format!("{} {}", f("v2p32.col"), f("sol-short.json")),
    ));
    cases.push(extract(
        "solution an array",
        &format!("{petersen} {}", f("sol-arr.json")),
    ));
    cases.push(
        extract(
            "solution with a UTF-8 BOM",
            &format!("{petersen} {}", f("sol-bom.json")),
        )
        .saying(&["BOM", "byte order mark"]),
    );

    // --- lift -------------------------------------------------------------------------
    let lift = |name: &str, args: &str| cli("lift", name, &format!("lift {args}"));
    cases.push(lift(
        "p edge 4000000000 1, two colours",
        &format!("{} {} --colors 3", f("v4g.col"), f("colors2.json")),
    ));
    cases.push(lift(
        "p edge 3000000 1, two colours",
        &format!("{} {} --colors 3", f("v3m.col"), f("colors2.json")),
    ));
    cases.push(lift(
        "colouring an array",
        &format!("{petersen} {} --colors 3", f("colors-arr.json")),
    ));
    cases.push(lift(
        "colour 2^32",
        &format!("{petersen} {} --colors 3", f("colors-big.json")),
    ));
    cases.push(
        lift(
            "--colors 4294967295 (small data)",
            &format!("{petersen} {} --colors 4294967295", f("colors10.json")),
        )
        .codes(&[0, 2]),
    );
    let alias = fx.folder(
        "alias-lift",
        &[("c.json", fixture("colors10.json").as_bytes())],
    );
    cases.push(
        lift(
            "-o the colouring file",
            &format!("{petersen} c.json --colors 10 -o c.json"),
        )
        .cwd(&alias)
        .unchanged(alias.join("c.json")),
    );

    // --- color ------------------------------------------------------------------------
    let color = |name: &str, args: &str| cli("color", name, &format!("color {args}"));
    cases.push(
        color(
            "p edge 4000000000 1 --colors 3",
            &format!("{} --colors 3", f("v4g.col")),
        )
        .codes(&[10, 2]),
    );
    cases.push(
        color(
            "p edge 4000000000 1 --chromatic",
            &format!("{} --chromatic", f("v4g.col")),
        )
        .codes(&[10, 0, 2]),
    );
    cases.push(
        color(
            "p edge 4000000000 1 --via direct",
            &format!("{} --colors 3 --via direct", f("v4g.col")),
        )
        .codes(&[10, 2]),
    );
    cases.push(
        color("p edge 4000000000 1 on stdin", "- --colors 3")
            .input(fixture("v4g.col"))
            .codes(&[10, 2]),
    );
    cases.push(
        color(
            "p edge 3000000 1 --colors 2",
            &format!("{} --colors 2", f("v3m.col")),
        )
        .discard()
        .codes(&[10, 2]),
    );
    cases.push(
        color(
            "p edge 3000000 1 --chromatic",
            &format!("{} --chromatic", f("v3m.col")),
        )
        .discard()
        .codes(&[10, 0, 2]),
    );
    cases.push(
        color(
            "--colors 4294967295",
            &format!("{petersen} --colors 4294967295"),
        )
        .codes(&[10, 2]),
    );
    cases.push(color("--colors 0", &format!("{petersen} --colors 0")).codes(&[20, 2]));
    cases.push(
        color(
            "--timeout -1",
            &format!("{petersen} --colors 3 --timeout -1"),
        )
        .bad_timeout(),
    );
    cases.push(
        color(
            "--timeout nan",
            &format!("{petersen} --colors 3 --timeout nan"),
        )
        .bad_timeout(),
    );
    cases.push(color(
        "--via nonsense",
        &format!("{petersen} --colors 3 --via nonsense"),
    ));
    let alias = fx.folder(
        "alias-color",
        &[("g.col", std::fs::read(&petersen).unwrap().as_slice())],
    );
    cases.push(
        color("-o the input graph", "g.col --colors 3 -o g.col")
            .cwd(&alias)
            .unchanged(alias.join("g.col")),
    );

    // --- verify-reduction -------------------------------------------------------------
    let verify = |name: &str, args: &str| {
        cli(
            "verify-reduction",
            name,
            &format!("verify-reduction {args}"),
        )
    };
    cases.push(
        verify(
            "p edge 4000000000 1",
            &format!("{} --colors 3", f("v4g.col")),
        )
        .codes(&[0, 2]),
    );
    cases.push(verify("p edge 3000000 1", &format!("{} --colors 2", f("v3m.col"))).codes(&[0, 2]));
    cases.push(verify(
        "p edge 4294967296 1",
        &format!("{} --colors 3", f("v2p32.col")),
    ));
    cases.push(
        verify(
            "--colors 4294967295",
            &format!("{petersen} --colors 4294967295"),
        )
        .codes(&[0, 2]),
    );
    cases.push(
        verify(
            "--timeout -1",
            &format!("{petersen} --colors 3 --timeout -1"),
        )
        .bad_timeout(),
    );
    cases.push(
        verify(
            "--timeout 1e300",
            &format!("{petersen} --colors 3 --timeout 1e300"),
        )
        .bad_timeout(),
    );

    // --- sweep ------------------------------------------------------------------------
    let sweep = |name: &str, args: &str| cli("sweep", name, &format!("sweep {args}"));
    cases.push(sweep(
        "--tokens 4000000000",
        "--tokens 4000000000 --classes 2 --ratios 1 --trials 1",
    ));
    cases.push(sweep(
        "--ratios 1e30",
        "--tokens 10 --classes 2 --ratios 1e30 --trials 1",
    ));
    cases.push(sweep(
        "--ratios 1,1e999999",
        "--tokens 10 --classes 2 --ratios 1,1e999999 --trials 1",
    ));
    cases.push(sweep(
        "--ratios nan",
        "--tokens 10 --classes 2 --ratios nan --trials 1",
    ));
    cases.push(sweep(
        "--groups 64 (2^64 table cells)",
        "--groups 64 --tokens 2 --classes 2 --ratios 1 --trials 1",
    ));
    cases.push(sweep(
        "--jobs 0",
        "--tokens 10 --classes 2 --ratios 1 --trials 1 --jobs 0",
    ));
    cases.push(
        sweep(
            "--timeout -1",
            "--tokens 10 --classes 2 --ratios 1 --trials 1 --timeout -1",
        )
        .bad_timeout(),
    );
    cases.push(
        cli(
            "sweep",
            "--plot into a missing folder: refused before the sweep",
            &format!("{long_sweep} --plot {missing}/p.svg"),
        )
        .within(2.5)
        .alone(),
    );
    cases.push(
        cli(
            "sweep",
            "--out into a missing folder: refused before the sweep",
            &format!("{long_sweep} --out {missing}/r.csv"),
        )
        .within(2.5)
        .alone(),
    );
    for (what, extra) in [
        ("--seed", "--classes 2 --seed 2"),
        ("--classes", "--classes 3 --seed 1"),
        ("--values", "--classes 2 --seed 1 --values 3"),
        ("--groups", "--classes 2 --seed 1 --groups 3"),
    ] {
        let folder = fx.folder(
            &format!("resume{}", what.replace('-', "")),
            &[("r.csv", &std::fs::read(f("rows-a.csv")).unwrap())],
        );
        let out = folder.join("r.csv");
        // --values given twice would be a usage error: the last one is the mismatch.
        let base = if what == "--values" {
            "sweep --tokens 10 --ratios 1 --trials 2 --jobs 1"
        } else {
            rows
        };
        cases.push(
            cli(
                "sweep",
                &format!("--resume with another {what}"),
                &format!("{base} {extra} --resume --out {}", out.display()),
            )
            .unchanged(out),
        );
    }

    // --- sweep merge ------------------------------------------------------------------
    let merge = |name: &str, args: &str| cli("sweep merge", name, &format!("sweep merge {args}"));
    cases.push(
        merge(
            "rows of two seeds",
            &format!(
                "{} {} -o {}",
                f("rows-a.csv"),
                f("rows-b.csv"),
                f("m-seeds.csv")
            ),
        )
        .absent(fx.dir.join("m-seeds.csv")),
    );
    cases.push(
        merge(
            "rows of two class counts",
            &format!(
                "{} {} -o {}",
                f("rows-a.csv"),
                f("rows-k.csv"),
                f("m-classes.csv")
            ),
        )
        .absent(fx.dir.join("m-classes.csv")),
    );
    cases.push(
        merge(
            "--plot into a missing folder: no -o written",
            &format!(
                "{} -o {} --plot {missing}/p.svg",
                f("rows-a.csv"),
                f("m-plot.csv")
            ),
        )
        .absent(fx.dir.join("m-plot.csv")),
    );
    cases.push(merge(
        "-o into a missing folder",
        &format!("{} -o {missing}/m.csv", f("rows-a.csv")),
    ));
    cases.push(merge(
        "a file of JSON arrays",
        &format!("{} -o {}", f("arr-top.json"), f("m-arr.csv")),
    ));
    let alias = fx.folder(
        "alias-merge",
        &[("a.csv", &std::fs::read(f("rows-a.csv")).unwrap())],
    );
    cases.push(
        merge("-o an input", "a.csv -o a.csv")
            .cwd(&alias)
            .unchanged(alias.join("a.csv")),
    );
    cases.push(merge("missing -o", &f("rows-a.csv")).saying(&["--output"]));

    // --- learn ------------------------------------------------------------------------
    let learn = |name: &str, args: &str| cli("learn", name, &format!("learn {args}"));
    cases.push(
        learn("refuted at once (same x, two y)", &f("refuted.json"))
            .codes(&[20, 2])
            .within(2.0)
            .alone(),
    );
    cases.push(learn("--dim 0", &format!("{small} --dim 0")));
    cases.push(learn(
        "--dim 100000000",
        &format!("{small} --dim 100000000"),
    ));
    cases.push(learn("4294967295 tokens, one sample", &f("tok4g.json")).codes(&[10, 0, 2]));
    cases.push(learn("4294967295 classes (default dim 2K)", &f("cls4g.json")).codes(&[10, 0, 2]));
    cases.push(
        learn(
            "--restarts 4294967295",
            &format!("{small} --restarts 4294967295"),
        )
        .codes(&[10, 0, 2]),
    );
    cases.push(
        learn(
            "--steps 1000000000 (small instance)",
            &format!("{small} --steps 1000000000"),
        )
        .codes(&[10, 0, 2]),
    );
    cases.push(
        learn(
            "--steps 2^64-1 (small instance)",
            &format!("{small} --steps 18446744073709551615"),
        )
        .codes(&[10, 0, 2]),
    );
    cases.push(learn("--lr nan", &format!("{small} --lr nan")));
    cases.push(learn("UTF-8 BOM", &f("bom.json")).saying(&["BOM", "byte order mark"]));
    cases.push(learn("samples as arrays", &f("arr-samples.json")));
    let alias = fx.folder(
        "alias-learn",
        &[("x.json", fixture("small3.json").as_bytes())],
    );
    cases.push(
        learn("-o the input file", "x.json -o x.json")
            .cwd(&alias)
            .unchanged(alias.join("x.json")),
    );

    // --- serve (flags; an accepted one would listen until killed, a hang) -------------
    let serve = |name: &str, args: &str| {
        cli(
            "serve",
            name,
            &format!("serve --addr 127.0.0.1:0 -q {args}"),
        )
        .within(5.0)
    };
    cases.push(serve("--workers 0", "--workers 0"));
    cases.push(serve("--timeout -1", "--timeout -1").bad_timeout());
    cases.push(serve("--timeout nan", "--timeout nan").bad_timeout());
    cases.push(serve("--queue 2^64", "--queue 18446744073709551616"));
    cases.push(serve("--max-clauses -5", "--max-clauses -5"));
    cases.push(
        cli(
            "serve",
            "--addr 127.0.0.1:99999",
            "serve --addr 127.0.0.1:99999",
        )
        .within(5.0),
    );

    // --- graph ------------------------------------------------------------------------
    let graph = |name: &str, args: &str| cli("graph", name, &format!("graph {args}"));
    cases.push(graph("complete 1000000", "complete 1000000"));
    cases.push(graph("complete 4294967296", "complete 4294967296"));
    cases.push(graph("myciel 40", "myciel 40"));
    cases.push(graph("queen 100000 100000", "queen 100000 100000"));
    cases.push(graph(
        "random 100000000 0.5",
        "random 100000000 0.5 --seed 1",
    ));
    cases.push(graph("cycle 4000000000", "cycle 4000000000"));
    cases.push(graph("random 10 1e30", "random 10 1e30 --seed 1"));
    cases.push(graph("random 10 nan", "random 10 nan --seed 1"));
    cases.push(graph("unknown graph", "frobnicate 3"));
    cases.push(graph(
        "-o into a missing folder",
        &format!("-o {missing}/g.col petersen"),
    ));
    cases.push(graph("closed stdout (| head -c 10)", "complete 2000").quiet_after(10));
    let full = fx.folder("full-graph", &[]);
    cases.push(
        graph(
            "full disk (ulimit -f): no truncated file",
            &format!("-o {} complete 500", full.join("k.col").display()),
        )
        .prelude("trap '' XFSZ; ulimit -f 64;")
        .fail_write()
        .folder_untouched(full),
    );

    // --- partrec itself ---------------------------------------------------------------
    cases.push(cli("partrec", "unknown subcommand", "frobnicate"));
    cases.push(cli("partrec", "unknown top-level flag", "--bogus solve"));

    // --- found by a second hunt ----------------------------------------------------------
    let n = 300;
    let vals300 = serde_json::json!({
        "groups": [{"tokens": n, "classes": n}, {"tokens": n, "classes": n}],
        "samples": (0..n).map(|i| serde_json::json!({"x": [i, (i * 7) % n], "y": i})).collect::<Vec<_>>(),
    });
    std::fs::write(fx.dir.join("vals300.json"), vals300.to_string()).unwrap();
    for command in ["solve", "encode"] {
        cases.push(
            cli(
                "second hunt",
                &format!("{command}: 7 kB asking for a CNF of 2.4e8 clauses"),
                &format!("{command} {}", f("vals300.json")),
            )
            .saying(&["budget"]),
        );
    }
    cases.push(cli(
        "second hunt",
        "learn --dim 4000000 on a small instance",
        &format!("learn {small} --dim 4000000"),
    ));
    cases.push(cli(
        "second hunt",
        "sweep --trials 4294967295",
        "sweep --tokens 10 --classes 2 --values 2 --ratios 1 --trials 4294967295 --jobs 1",
    ));
    cases.push(cli(
        "second hunt",
        "sweep --jobs 1000000",
        "sweep --tokens 10 --classes 2 --values 2 --ratios 1 --trials 1 --jobs 1000000",
    ));
    cases.push(
        cli(
            "second hunt",
            "serve --max-body-mb 1e20",
            "serve --addr 127.0.0.1:0 --max-body-mb 1e20",
        )
        .within(5.0),
    );
    let original = fx.dir.join("hl-a.json");
    std::fs::copy(fx.shipped("instances/planted-small.json"), &original).unwrap();
    let _ = std::fs::remove_file(fx.dir.join("hl-b.json"));
    std::fs::hard_link(&original, fx.dir.join("hl-b.json")).unwrap();
    cases.push(
        cli(
            "second hunt",
            "encode through a hard link onto its input",
            &format!("encode {} -o {}", f("hl-b.json"), f("hl-a.json")),
        )
        .saying(&["is the input"])
        .unchanged(original),
    );
    cases.push(cli(
        "second hunt",
        "sweep --plot onto --out",
        &format!(
            "sweep --tokens 10 --classes 2 --values 2 --ratios 1 --trials 1 --jobs 1 --out {} --plot {}",
            f("same.csv"),
            f("same.csv")
        ),
    ));
    std::fs::write(
        fx.dir.join("row-array.jsonl"),
        format!("[{}]\n", vec!["1"; 22].join(",")),
    )
    .unwrap();
    cases.push(
        cli(
            "second hunt",
            "sweep merge of a row given as an array",
            &format!(
                "sweep merge {} -o {}",
                f("row-array.jsonl"),
                f("merged.csv")
            ),
        )
        .not_saying(&["struct", "22 elements"]),
    );
    // --- .npz: declared shapes and sizes cost nothing; convert loses nothing ----------
    let npz = |name: &str, args: &str| cli("npz", name, args);
    cases.push(
        npz(
            "4294967295 tokens, one sample",
            &format!("solve {}", f("tok4g.npz")),
        )
        .codes(&[10, 2])
        .answers("/status", "sat".into()),
    );
    cases.push(
        npz(
            "a 1e12-element header over 100 bytes",
            &format!("solve {}", f("shape1e12.npz")),
        )
        .within(2.0)
        .saying(&["holds 100 bytes"]),
    );
    for (file, what) in [("bomb4g.npz", "4 GB"), ("bomb100.npz", "100 bytes")] {
        cases.push(
            npz(
                &format!("deflated entries declaring {what}"),
                &format!("convert {} {}", f(file), f("bomb-out.json")),
            )
            .within(2.0)
            .absent(fx.dir.join("bomb-out.json")),
        );
    }
    cases.push(
        npz("a truncated array", &format!("solve {}", f("short.npz"))).saying(&["holds 4 bytes"]),
    );
    cases.push(
        npz(
            "JSON named .npz",
            &format!("check {} {}", f("json.npz"), f("sol-ok.json")),
        )
        .saying(&["not an .npz file"]),
    );
    cases.push(
        npz(
            "convert string labels to .npz",
            &format!(
                "convert {} {}",
                fx.shipped("instances/mixed-values.json"),
                f("mixed.npz")
            ),
        )
        .saying(&["keep this instance as JSON"])
        .absent(fx.dir.join("mixed.npz")),
    );
    cases.push(
        npz(
            "convert onto its input",
            &format!("convert {} {}", f("tok4g.npz"), f("tok4g.npz")),
        )
        .saying(&["is the input"])
        .unchanged(fx.dir.join("tok4g.npz")),
    );

    // --- third hunt: certificates, budgets, weights, deadlines ----------------------
    third_hunt(fx, &mut cases);

    cases.push(cli("second hunt", "partrec with no arguments", ""));
    cases.push(cli("second hunt", "graph with no kind", "graph"));

    cases
}

/// A seeded stream of pseudo-random numbers below `n` (xorshift).
fn draws(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    move |n| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    }
}

/// Instance JSON: `groups` of (tokens, classes) and samples (x, y).
fn instance_json(groups: &[(u64, u64)], samples: impl Iterator<Item = (Vec<u64>, u64)>) -> String {
    let groups: Vec<String> = groups
        .iter()
        .map(|(n, k)| format!(r#"{{"tokens":{n},"classes":{k}}}"#))
        .collect();
    let samples: Vec<String> = samples
        .map(|(x, y)| {
            let x: Vec<String> = x.iter().map(u64::to_string).collect();
            format!(r#"{{"x":[{}],"y":{y}}}"#, x.join(","))
        })
        .collect();
    format!(
        r#"{{"groups":[{}],"samples":[{}]}}"#,
        groups.join(","),
        samples.join(",")
    )
}

/// An `.npz` of `rows` x 2 uint8 zeros and `rows` zero values, deflated while written
/// (a few hundred KB for 10^8 rows).
fn zero_npz(path: &Path, rows: u64) {
    use zip::write::{SimpleFileOptions, ZipWriter};
    let mut zip = ZipWriter::new(File::create(path).unwrap());
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let zeros = vec![0u8; 1 << 20];
    for (name, header, bytes) in [
        (
            "tokens.npy",
            npy("<u4", "(2,)", &[3, 0, 0, 0, 3, 0, 0, 0]),
            0,
        ),
        ("classes.npy", npy("|u1", "(2,)", &[2, 2]), 0),
        ("x.npy", npy("|u1", &format!("({rows}, 2)"), &[]), 2 * rows),
        ("y.npy", npy("|u1", &format!("({rows},)"), &[]), rows),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(&header).unwrap();
        let mut left = bytes;
        while left > 0 {
            let n = left.min(zeros.len() as u64);
            zip.write_all(&zeros[..n as usize]).unwrap();
            left -= n;
        }
    }
    zip.finish().unwrap();
}

/// Cases found by a third hunt: outputs onto a certificate, certificates that lie,
/// memory budgets, weights, and deadlines in every phase.
fn third_hunt(fx: &Fx, cases: &mut Vec<Case>) {
    let f = |name: &str| fx.p(name);
    let write = |name: &str, text: &str| std::fs::write(fx.dir.join(name), text).unwrap();
    let small = fx.shipped("instances/planted-small.json");
    let hunt = |name: &str, args: &str| cli("third hunt", name, args);

    // --- outputs onto a certificate or its input ---------------------------------------
    let unsat = r#"{"groups":[{"tokens":2,"classes":1},{"tokens":1,"classes":1}],"samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":1}]}"#;
    let free = r#"{"groups":[{"tokens":3,"classes":2},{"tokens":1,"classes":1}],"samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":1}]}"#;
    write("unsat.json", unsat);
    write("free.json", free);
    let certify = |instance: &str, flags: &str, dir: &str, code: i32| {
        let _ = std::fs::remove_dir_all(fx.dir.join(dir));
        let out = common::partrec()
            .args([
                "solve",
                &f(instance),
                "-q",
                "-o",
                "/dev/null",
                "--certify",
                &f(dir),
            ])
            .args(flags.split_whitespace())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "certify {instance}: {out:?}");
    };
    certify("unsat.json", "", "cert-unsat", 20);
    certify("free.json", "--count 10", "cert-free", 10);
    let inside = fx.folder("cert-in", &[("unsat.cnf", unsat.as_bytes())]);
    cases.push(
        hunt(
            "solve D/unsat.cnf --certify D: the input is the CNF it would write",
            &format!(
                "solve {} --certify {}",
                inside.join("unsat.cnf").display(),
                inside.display()
            ),
        )
        .saying(&["is the input"])
        .unchanged(inside.join("unsat.cnf")),
    );
    for file in ["manifest.json", "unsat.drat", "unsat.cnf"] {
        let dir = fx.folder(&format!("cert-o-{file}"), &[]);
        cases.push(
            hunt(
                &format!("solve --certify D -o D/{file}"),
                &format!(
                    "solve {} --certify {} -o {}",
                    f("unsat.json"),
                    dir.display(),
                    dir.join(file).display()
                ),
            )
            .saying(&["which --certify writes"])
            .folder_untouched(dir),
        );
    }
    let certificate = fx.dir.join("cert-unsat");
    for file in ["manifest.json", "unsat.cnf", "unsat.drat"] {
        cases.push(
            hunt(
                &format!("verify-certificate I D -o D/{file}"),
                &format!(
                    "verify-certificate {} {} -o {}",
                    f("unsat.json"),
                    certificate.display(),
                    certificate.join(file).display()
                ),
            )
            .unchanged(certificate.join(file)),
        );
    }
    cases.push(
        hunt(
            "verify-certificate I D -o I",
            &format!(
                "verify-certificate {} {} -o {}",
                f("unsat.json"),
                certificate.display(),
                f("unsat.json")
            ),
        )
        .saying(&["is the input"])
        .unchanged(fx.dir.join("unsat.json")),
    );
    cases.push(
        hunt(
            "verify-certificate of a true unsat claim",
            &format!(
                "verify-certificate {} {}",
                f("unsat.json"),
                certificate.display()
            ),
        )
        .codes(&[0])
        .answers("/status", "verified".into()),
    );
    cases.push(hunt(
        "verify-certificate against another instance",
        &format!(
            "verify-certificate {} {}",
            f("free.json"),
            certificate.display()
        ),
    ));
    for bad in ["-1", "nan", "1e999", "0x10", ""] {
        cases.push(
            hunt(
                &format!("verify-certificate --timeout {bad:?}"),
                &format!(
                    "verify-certificate {} {} --timeout {bad}",
                    f("unsat.json"),
                    certificate.display()
                ),
            )
            .bad_timeout(),
        );
    }

    // --- certificates that lie ---------------------------------------------------------
    // Each forgery edits a copy of a true certificate's manifest (and file names).
    let forge = |name: &str, from: &str, edit: &dyn Fn(&mut Value, &Path)| -> PathBuf {
        let dir = fx.dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(fx.dir.join(from)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        let manifest = dir.join("manifest.json");
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
        edit(&mut doc, &dir);
        std::fs::write(&manifest, doc.to_string()).unwrap();
        dir
    };
    let renamed = |kind: &'static str| {
        move |doc: &mut Value, dir: &Path| {
            for (field, ext) in [("cnf", "cnf"), ("proof", "drat")] {
                let old = doc[0][field].as_str().unwrap().to_string();
                let new = format!("{kind}.{ext}");
                std::fs::rename(dir.join(&old), dir.join(&new)).unwrap();
                doc[0][field] = new.into();
            }
            doc[0]["claim"] = kind.into();
        }
    };
    let forgeries: Vec<(&str, &str, &str, PathBuf)> = vec![
        (
            "a count of 2 renamed unique",
            "free.json",
            "count_complete",
            forge("forged-unique", "cert-free", &renamed("unique")),
        ),
        (
            "a count of 2 renamed unique, count 1",
            "free.json",
            "count_complete",
            forge("forged-unique-1", "cert-free", &|doc, dir| {
                renamed("unique")(doc, dir);
                doc[0]["count"] = 1.into();
            }),
        ),
        (
            "a count lowered to 1",
            "free.json",
            "count 2",
            forge("forged-count", "cert-free", &|doc, _| {
                doc[0]["count"] = 1.into()
            }),
        ),
        (
            "a listed partition dropped",
            "free.json",
            "",
            forge("forged-list", "cert-free", &|doc, _| {
                doc[0]["partitions"] = Value::Array(Vec::new());
            }),
        ),
        (
            "rests_on emptied",
            "unsat.json",
            "rests_on",
            forge("forged-rests", "cert-unsat", &|doc, _| {
                doc[0]["rests_on"] = Value::Array(Vec::new());
            }),
        ),
        (
            "the proof named as the CNF",
            "unsat.json",
            "",
            forge("forged-same", "cert-unsat", &|doc, _| {
                doc[0]["proof"] = doc[0]["cnf"].clone();
            }),
        ),
        (
            "the manifest named as the proof",
            "unsat.json",
            "",
            forge("forged-manifest", "cert-unsat", &|doc, _| {
                doc[0]["proof"] = "manifest.json".into();
            }),
        ),
        (
            "a CNF outside the folder",
            "unsat.json",
            "",
            forge("forged-outside", "cert-unsat", &|doc, _| {
                doc[0]["cnf"] = "../cert-unsat/unsat.cnf".into();
            }),
        ),
        (
            "the claim given twice",
            "unsat.json",
            "",
            forge("forged-twice", "cert-unsat", &|doc, _| {
                let claim = doc[0].clone();
                doc.as_array_mut().unwrap().push(claim);
            }),
        ),
        (
            "unsat claimed of a satisfiable instance",
            "free.json",
            "",
            fx.dir.join("cert-unsat"),
        ),
    ];
    for (name, instance, says, dir) in forgeries {
        let mut case = hunt(
            &format!("verify-certificate: {name}"),
            &format!("verify-certificate {} {}", f(instance), dir.display()),
        );
        if !says.is_empty() {
            case = case.saying(&[says]);
        }
        cases.push(case);
    }
    // An emptied manifest claims nothing, and nothing is verified.
    let none = forge("forged-none", "cert-unsat", &|doc, _| {
        *doc = Value::Array(Vec::new())
    });
    cases.push(
        hunt(
            "verify-certificate: the claim removed",
            &format!("verify-certificate {} {}", f("unsat.json"), none.display()),
        )
        .codes(&[0])
        .answers("/claims", Value::Array(Vec::new())),
    );
    // A certificate folder reached through a symbolic link that leaves it.
    let linked = fx.folder("cert-linked", &[]);
    let manifest = std::fs::read(certificate.join("manifest.json")).unwrap();
    std::fs::write(linked.join("manifest.json"), manifest).unwrap();
    std::os::unix::fs::symlink(&certificate, linked.join("out")).unwrap();
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(linked.join("manifest.json")).unwrap()).unwrap();
    doc[0]["cnf"] = "out/unsat.cnf".into();
    doc[0]["proof"] = "out/unsat.drat".into();
    std::fs::write(linked.join("manifest.json"), doc.to_string()).unwrap();
    cases.push(hunt(
        "verify-certificate: files through a symbolic link out of the folder",
        &format!(
            "verify-certificate {} {}",
            f("unsat.json"),
            linked.display()
        ),
    ));

    // A certificate whose CNF is a 3 GB (sparse) file: refused for the budget at once.
    let sparse = fx.folder("cert-sparse", &[]);
    for file in ["manifest.json", "unsat.drat"] {
        std::fs::copy(certificate.join(file), sparse.join(file)).unwrap();
    }
    File::create(sparse.join("unsat.cnf"))
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    cases.push(
        hunt(
            "verify-certificate: a 3 GB CNF",
            &format!(
                "verify-certificate {} {}",
                f("unsat.json"),
                sparse.display()
            ),
        )
        .within(3.0)
        .saying(&["budget"]),
    );

    // --- memory follows a budget ---------------------------------------------------------
    // An answer lists every declared token: 2^26 of them, with a witness and identify,
    // would need gigabytes; refused for the budget (one line, not an abort).
    write(
        "tok64m.json",
        r#"{"groups":[{"tokens":67108864,"classes":2}],"samples":[{"x":[0],"y":0}]}"#,
    );
    for flags in ["--unique", "--identify", "--unique --identify"] {
        cases.push(
            hunt(
                &format!("67,108,864 declared tokens {flags}"),
                &format!("solve {} {flags}", f("tok64m.json")),
            )
            .saying(&["budget"]),
        );
    }
    zero_npz(&fx.dir.join("zeros1e8.npz"), 100_000_000);
    for command in ["solve", "convert"] {
        let out = if command == "convert" {
            format!(" {}", f("zeros-out.json"))
        } else {
            String::new()
        };
        cases.push(
            hunt(
                &format!("{command}: 10^8 zero rows deflated to a few hundred KB"),
                &format!("{command} {}{out}", f("zeros1e8.npz")),
            )
            .within(10.0)
            .saying(&["budget"])
            .absent(fx.dir.join("zeros-out.json")),
        );
    }
    // Two entries named y.npy (the second name patched from z.npy).
    let mut twice = {
        use zip::write::{SimpleFileOptions, ZipWriter};
        let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in [
            ("tokens.npy", npy("<u4", "(1,)", &3u32.to_le_bytes())),
            ("classes.npy", npy("|u1", "(1,)", &[2])),
            ("x.npy", npy("|u1", "(1, 1)", &[0])),
            ("y.npy", npy("|u1", "(1,)", &[1])),
            ("z.npy", npy("|u1", "(1,)", &[0])),
        ] {
            zip.start_file(name, SimpleFileOptions::default()).unwrap();
            zip.write_all(&bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    };
    let at: Vec<usize> = (0..twice.len() - 5)
        .filter(|&i| &twice[i..i + 5] == b"z.npy")
        .collect();
    for i in at {
        twice[i..i + 5].copy_from_slice(b"y.npy");
    }
    std::fs::write(fx.dir.join("twice.npz"), twice).unwrap();
    cases.push(
        hunt(
            "an .npz with y.npy twice",
            &format!("solve {}", f("twice.npz")),
        )
        .saying(&["share one name"]),
    );
    for bad in ["0", "abc", "-1G", "1e30G", "12Q", "", "1.5.5M"] {
        cases.push(
            hunt(
                &format!("--max-memory={bad:?}"),
                &format!("--max-memory={bad} solve {small}"),
            )
            .saying(&["max-memory"]),
        );
    }
    cases.push(
        hunt(
            "--max-memory 64K: an instance over the budget",
            &format!("solve --max-memory 64K {}", f("base.json")),
        )
        .saying(&["budget"]),
    );
    // I = 9, K = 3, 20 tokens per group, 4,900 random samples: 3^9 table cells.
    let mut draw = draws(9);
    write(
        "i9.json",
        &instance_json(
            &[(20, 3); 9],
            (0..4900).map(|_| ((0..9).map(|_| draw(20)).collect(), draw(2))),
        ),
    );
    cases.push(
        hunt(
            "I = 9, K = 3, 4,900 samples under the 2 GiB cap, --timeout 5",
            &format!("solve {} --timeout 5", f("i9.json")),
        )
        .within(8.0)
        .codes(&[0, 2])
        .check("a refusal names the budget", refused_for_budget),
    );
    // I = 8, K = 1000, 50 samples of distinct tokens: satisfiable at once.
    let mut draw = draws(8);
    write(
        "k1000.json",
        &instance_json(&[(50, 1000); 8], (0..50).map(|s| (vec![s; 8], draw(2)))),
    );
    cases.push(
        hunt(
            "I = 8, K = 1000, 50 samples",
            &format!("solve {}", f("k1000.json")),
        )
        .within(10.0)
        .codes(&[10])
        .answers("/status", "sat".into()),
    );

    // --- weights ---------------------------------------------------------------------------
    let weighted = |w: &str| {
        format!(
            r#"{{"groups":[{{"tokens":2,"classes":2}}],"samples":[{{"x":[0],"y":0,"w":{w}}},{{"x":[1],"y":1}}]}}"#
        )
    };
    for (name, w, says) in [
        ("null", "null", "not a weight"),
        ("0", "0", "not a weight"),
        ("-1", "-1", "not a weight"),
        ("1.5", "1.5", "not a weight"),
        ("a string", r#""2""#, "not a weight"),
        ("true", "true", "not a weight"),
        ("1e400", "1e400", ""),
        ("2^64", "18446744073709551616", ""),
    ] {
        let file = format!("w-{}.json", name.replace(' ', "-"));
        write(&file, &weighted(w));
        let case = hunt(
            &format!("a weight of {name}"),
            &format!("solve {} --max-consistent", f(&file)),
        );
        cases.push(if says.is_empty() {
            case
        } else {
            case.saying(&[says])
        });
    }
    write("w-1e3.json", &weighted("1e3"));
    cases.push(
        hunt(
            "a weight of 1e3 (whole)",
            &format!("solve {} --max-consistent", f("w-1e3.json")),
        )
        .codes(&[10])
        .answers("/status", "sat".into()),
    );
    let max = u64::MAX.to_string();
    write(
        "w-over.json",
        &format!(
            r#"{{"groups":[{{"tokens":2,"classes":2}}],"samples":[{{"x":[0],"y":0,"w":{max}}},{{"x":[1],"y":1,"w":{max}}}]}}"#
        ),
    );
    cases.push(
        hunt(
            "weights adding up past 2^64",
            &format!("solve {}", f("w-over.json")),
        )
        .saying(&["w-over.json", "2^64"]),
    );

    // --- deadlines in every phase ----------------------------------------------------------
    setup_generate(
        fx,
        "k3i8.json",
        "--groups 8 --tokens 50 --classes 3 --samples 2000 --seed 3",
    );
    for (flags, codes) in [
        ("", &[0][..]),
        ("--identify", &[0, 10][..]),
        ("--backend varisat", &[0][..]),
    ] {
        cases.push(
            hunt(
                &format!("I = 8, K = 3, 2,000 samples {flags} --timeout 2"),
                &format!("solve {} {flags} --timeout 2", f("k3i8.json")),
            )
            .alone()
            .within(3.0)
            .codes(codes),
        );
    }
    let mut draw = draws(4);
    for (name, second) in [("pre400k.json", 10), ("enc400k.json", 1000)] {
        write(
            name,
            &instance_json(
                &[(400_000, 3), (second, 3)],
                (0..400_000).map(|i| (vec![i, draw(second)], draw(2))),
            ),
        );
        cases.push(
            hunt(
                &format!("400,000 samples, {second} group-1 tokens, --timeout 2"),
                &format!("solve {} --timeout 2", f(name)),
            )
            .alone()
            .within(3.5)
            .codes(&[0, 2])
            .answers("/status", "unknown".into())
            .check("a refusal names the budget", refused_for_budget),
        );
    }
    setup_generate(
        fx,
        "ten.json",
        "--tokens 6 --classes 2 --samples 10 --seed 1",
    );
    cases.push(
        hunt(
            "--strategy table --count 100000 on 10 samples",
            &format!("solve {} --strategy table --count 100000", f("ten.json")),
        )
        .within(10.0)
        .codes(&[10])
        .answers("/count_complete", Value::Bool(true)),
    );
    cases.push(hunt(
        "generate --groups 3 --tokens 10,10",
        "generate --groups 3 --tokens 10,10 --classes 2 --samples 5",
    ));
    cases.push(hunt(
        "solve --backend minisat",
        &format!("solve {small} --backend minisat"),
    ));
    cases.push(
        hunt(
            "solve --count 2^64",
            &format!("solve {small} --count 18446744073709551616"),
        )
        .saying(&["whole number too large"])
        .not_saying(&["target type"]),
    );
    write(
        "w-over.csv",
        "n,c,a,w\nx,nom,der,18446744073709551615\ny,nom,die,18446744073709551615\n",
    );
    cases.push(
        hunt(
            "import of weights adding up past 2^64",
            &format!(
                "import {} --group n --group c --value a --weight w -o {}",
                f("w-over.csv"),
                f("w-over-import.json")
            ),
        )
        .saying(&["2^64"])
        .absent(fx.dir.join("w-over-import.json")),
    );
}

/// Exit 2 only for the memory budget (what the 2 GiB cap allows is a refusal or an
/// answer, not an abort).
fn refused_for_budget(run: &Run) -> Result<(), String> {
    if run.code() == Some(2) && !run.stderr.contains("budget") {
        Err("refused, not for the budget".into())
    } else {
        Ok(())
    }
}

/// Runs `partrec generate FLAGS -o NAME` in the scratch folder; it must succeed.
fn setup_generate(fx: &Fx, name: &str, flags: &str) {
    let out = common::partrec()
        .args(["generate", "-q", "-o", &fx.p(name)])
        .args(flags.split_whitespace())
        .output()
        .unwrap();
    assert!(out.status.success(), "generate {name}: {out:?}");
}

/// Runs `cases` on `threads` threads; returns (case index, verdict, run summary).
fn run_all(cases: &[Case], dir: &Path, first_id: usize, threads: usize) -> Verdicts {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let run = execute(case, dir, first_id + i);
                let verdict = judge(case, &run);
                results.lock().unwrap().push((i, verdict, run.summary()));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    results
}

/// One line of a report.
struct Row {
    group: String,
    name: String,
    expected: String,
    /// What happened (exit code or status, time, first line).
    got: String,
    failure: Option<String>,
}

/// Prints case counts per group and the table of failures; fails if there are any.
fn report(title: &str, rows: &[Row], notes: &[String]) {
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for row in rows {
        let entry = counts.entry(row.group.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(row.failure.is_some());
    }
    let counted = rows.iter().filter(|r| r.group != "control").count();
    let failed: Vec<&Row> = rows.iter().filter(|r| r.failure.is_some()).collect();
    println!(
        "\n## {title}: {counted} hostile cases (and {} controls), {} failed\n",
        rows.len() - counted,
        failed.len()
    );
    println!("| subcommand / route | cases | failed |\n|---|---|---|");
    for (group, (n, bad)) in &counts {
        println!("| {group} | {n} | {bad} |");
    }
    for note in notes {
        println!("\nnote: {note}");
    }
    if std::env::var_os("HOSTILE_VERBOSE").is_some() {
        println!("\n| case | ok | got |\n|---|---|---|");
        for row in rows {
            let ok = if row.failure.is_some() { "FAIL" } else { "ok" };
            println!(
                "| {}: {} | {ok} | {} |",
                row.group,
                row.name,
                row.got.replace('|', "/")
            );
        }
    }
    if !failed.is_empty() {
        println!("\n| case | expected | got |\n|---|---|---|");
        for row in &failed {
            println!(
                "| {}: {} | {} | {} |",
                row.group,
                row.name,
                row.expected,
                row.failure.as_deref().unwrap_or("").replace('|', "/")
            );
        }
    }
    assert!(
        failed.is_empty(),
        "{title}: {} of {} cases failed (table above; run with --nocapture to see it on success too)",
        failed.len(),
        rows.len()
    );
}

#[test]
fn hostile_command_lines_are_refused_in_one_line_or_answered_cheaply() {
    let fx = write_fixtures();
    let mut cases = cli_cases(&fx);
    // `learn` with a time limit.
    cases.push(
        cli(
            "learn",
            "--timeout 1 on a long training",
            &format!("learn {} --timeout 1", fx.p("base.json")),
        )
        .codes(&[0, 10])
        .within(2.5)
        .alone(),
    );
    cases.push(
        cli(
            "learn",
            "--timeout -1",
            &format!("learn {} --timeout -1", fx.p("base.json")),
        )
        .bad_timeout(),
    );

    let (alone, together): (Vec<Case>, Vec<Case>) = cases.into_iter().partition(|c| c.alone);
    let mut rows = Vec::new();
    let mut collect = |cases: &[Case], results: Verdicts| {
        for (i, verdict, summary) in results {
            let case = &cases[i];
            rows.push(Row {
                group: case.group.to_string(),
                name: case.name.clone(),
                expected: case.expected(),
                failure: verdict.err().map(|why| format!("{why} ({summary})")),
                got: summary,
            });
        }
    };
    let results = run_all(&alone, &fx.dir, 1, 1);
    collect(&alone, results);
    let results = run_all(&together, &fx.dir, 1 + alone.len(), THREADS);
    collect(&together, results);
    report("command line", &rows, &[]);
}

// ---------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------

/// `partrec serve` on an ephemeral loopback port, under the same caps; killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, n: usize) -> Server {
        let log = dir.join(format!("server-{n}.log"));
        let data = dir.join(format!("data-{n}"));
        let args: Vec<String> = ["serve", "--addr", "127.0.0.1:0", "--timeout", "15"]
            .iter()
            .map(|s| s.to_string())
            .chain(["--data-dir".to_string(), data.display().to_string()])
            .collect();
        let mut child = capped("", &args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("partrec serve starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = rx
            .recv_timeout(LIMIT)
            .expect("partrec serve prints its address");
        let addr = line
            .trim()
            .strip_prefix("partrec: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Server { child, addr, log }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&self) -> bool {
        is_running(self.pid())
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&read_capped(&self.log, 1 << 20)).into_owned()
    }

    fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        kill_group(self.pid());
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
struct Resp {
    status: u16,
    body: Vec<u8>,
    body_len: usize,
    elapsed: Duration,
}

impl Resp {
    fn summary(&self) -> String {
        format!(
            "{} in {:.2} s, {} bytes: {}",
            self.status,
            self.elapsed.as_secs_f64(),
            self.body_len,
            clip(&String::from_utf8_lossy(&self.body), 160)
        )
    }
}

/// A request with a body and `Connection: close`.
fn request(method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Headers declaring a body of `length` bytes, and no body.
fn declared(path: &str, length: u64) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    .into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Decodes a complete chunked body (best effort).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(raw, b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size else { break };
        raw = &raw[eol + 2..];
        if size == 0 || raw.len() < size {
            out.extend_from_slice(&raw[..size.min(raw.len())]);
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = raw.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// Sends `bytes` to `addr` and reads one answer, all within `limit`.
fn exchange(addr: SocketAddr, bytes: &[u8], limit: Duration) -> Result<Resp, String> {
    const KEEP: usize = 4 << 20;
    let start = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("no connection: {e}"))?;
    stream.set_write_timeout(Some(limit)).unwrap();
    // A server may answer (413) and close before reading everything: read anyway.
    let _ = stream.write_all(bytes);
    let mut buf = Vec::new();
    let mut total = 0usize;
    let mut head: Option<(usize, u16, Option<usize>, bool)> = None;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(format!(
                "no complete answer within {} s ({total} bytes)",
                limit.as_secs_f64()
            ));
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                total += n;
                if buf.len() < KEEP {
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!(
                    "no complete answer within {} s ({total} bytes)",
                    limit.as_secs_f64()
                ));
            }
            Err(e) if total == 0 => return Err(format!("connection failed: {e}")),
            Err(_) => break,
        }
        if head.is_none() {
            if let Some(end) = find(&buf, b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                let status = text
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("no status line: {}", clip(&text, 80)))?;
                let length = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok());
                let chunked = text.contains("transfer-encoding: chunked");
                head = Some((end + 4, status, length, chunked));
            }
        }
        if let Some((start_of_body, _, length, chunked)) = head {
            let done = match length {
                Some(len) => total >= start_of_body + len,
                None => chunked && buf.ends_with(b"0\r\n\r\n"),
            };
            if done {
                break;
            }
        }
    }
    let (start_of_body, status, _, chunked) =
        head.ok_or_else(|| format!("the connection closed after {total} bytes without an answer"))?;
    let raw = buf.get(start_of_body..).unwrap_or(&[]);
    let body = if chunked { dechunk(raw) } else { raw.to_vec() };
    Ok(Resp {
        status,
        body,
        body_len: total - start_of_body.min(total),
        elapsed: start.elapsed(),
    })
}

type HttpCheck = Box<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// What an HTTP case sends and must get.
enum Http {
    /// One exchange.
    Plain {
        request: Vec<u8>,
        statuses: Vec<u16>,
        any: Vec<&'static str>,
        check: Option<HttpCheck>,
    },
    /// A sequence of exchanges judged by a function of the server address.
    Custom(Box<dyn Fn(SocketAddr) -> Result<(), String> + Send + Sync>),
}

struct HttpCase {
    route: &'static str,
    name: String,
    expected: String,
    within: Duration,
    http: Http,
}

/// Statuses a refused request may get.
const REFUSED: [u16; 5] = [400, 413, 414, 422, 431];
/// Statuses of work refused as too large.
const TOO_LARGE: [u16; 3] = [400, 413, 422];

fn http(route: &'static str, name: &str, request: Vec<u8>, statuses: &[u16]) -> HttpCase {
    let list: Vec<String> = statuses.iter().map(u16::to_string).collect();
    HttpCase {
        route,
        name: name.to_string(),
        expected: format!("HTTP {}", list.join("|")),
        within: LIMIT,
        http: Http::Plain {
            request,
            statuses: statuses.to_vec(),
            any: Vec::new(),
            check: None,
        },
    }
}

impl HttpCase {
    fn within(mut self, secs: f64) -> Self {
        self.within = Duration::from_secs_f64(secs);
        self
    }

    fn saying(mut self, words: &[&'static str]) -> Self {
        if let Http::Plain { any, .. } = &mut self.http {
            any.extend_from_slice(words);
        }
        self.expected += &format!(" saying {}", words.join(" or "));
        self
    }

    /// On a 2xx answer, `pointer` of the JSON body is `want`.
    fn answers(mut self, pointer: &'static str, want: Value) -> Self {
        self.expected += &format!(", 2xx: {pointer} = {want}");
        if let Http::Plain { check, .. } = &mut self.http {
            let previous = check.take();
            *check = Some(Box::new(move |v: &Value| {
                if let Some(previous) = &previous {
                    previous(v)?;
                }
                match v.pointer(pointer) {
                    Some(got) if *got == want => Ok(()),
                    got => Err(format!("{pointer} is {got:?}, want {want}")),
                }
            }));
        }
        self
    }
}

/// An error body: JSON with a one-line `error`, no type names, no panic text.
fn error_body(resp: &Resp, any: &[&str]) -> Result<(), String> {
    let text = String::from_utf8_lossy(&resp.body);
    if text.trim_end().contains('\n') {
        return Err("the error body is more than one line".to_string());
    }
    let value: Value =
        serde_json::from_str(&text).map_err(|e| format!("the error body is not JSON: {e}"))?;
    let error = value["error"]
        .as_str()
        .ok_or("the error body has no string `error`")?;
    if error.trim().is_empty() || error.contains('\n') {
        return Err("`error` is empty or more than one line".to_string());
    }
    if let Some(name) = TYPE_NAMES.iter().find(|n| error.contains(*n)) {
        return Err(format!("`error` shows the type name {name:?}"));
    }
    if let Some(t) = PANIC_TEXT.iter().find(|t| error.contains(*t)) {
        return Err(format!("`error` shows {t:?}"));
    }
    let lower = error.to_lowercase();
    if !any.is_empty() && !any.iter().any(|w| lower.contains(&w.to_lowercase())) {
        return Err(format!("`error` says none of {any:?}"));
    }
    Ok(())
}

/// Judges one answer: in time, an allowed status, a proper error body or a right answer.
fn judge_answer(
    resp: &Resp,
    within: Duration,
    statuses: &[u16],
    any: &[&str],
    check: Option<&HttpCheck>,
) -> Result<(), String> {
    if resp.elapsed > within {
        return Err(format!("too slow: > {} s", within.as_secs_f64()));
    }
    if !statuses.contains(&resp.status) {
        return Err(format!("status {} is not one of {statuses:?}", resp.status));
    }
    if resp.status >= 400 {
        error_body(resp, any)
    } else if let Some(check) = check {
        let value: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| format!("the answer is not JSON: {e}"))?;
        check(&value)
    } else {
        Ok(())
    }
}

/// Judges one HTTP case; on success, what it got.
fn judge_http(case: &HttpCase, addr: SocketAddr) -> Result<String, String> {
    match &case.http {
        Http::Custom(f) => f(addr).map(|()| "as expected".to_string()),
        Http::Plain {
            request,
            statuses,
            any,
            check,
        } => {
            let resp = exchange(addr, request, case.within + GRACE)?;
            let why = judge_answer(&resp, case.within, statuses, any, check.as_ref());
            why.map(|()| resp.summary())
                .map_err(|why| format!("{why} ({})", resp.summary()))
        }
    }
}

/// A solve body: `instance` (a fixture's JSON object) plus `options`.
fn with_options(instance: &str, options: &str) -> Vec<u8> {
    let trimmed = instance
        .trim_end()
        .strip_suffix('}')
        .expect("a JSON object");
    format!("{trimmed},\"options\":{options}}}").into_bytes()
}

fn check_body(instance: &str, solution: &str) -> Vec<u8> {
    format!(r#"{{"instance":{instance},"solution":{solution}}}"#).into_bytes()
}

fn reduce_body(graph: &str, colors: &str) -> Vec<u8> {
    format!(r#"{{"graph":{},"colors":{colors}}}"#, Value::from(graph)).into_bytes()
}

/// Creates a job from `body` (a 400 is a fine refusal too), polls it until done, and
/// wants `pointer` of the answer to be `want`.
fn job_case(name: &str, body: Vec<u8>, pointer: &'static str, want: Value) -> HttpCase {
    HttpCase {
        route: "GET /v1/jobs/{id}",
        name: name.to_string(),
        expected: format!("202 (or 400), then done with {pointer} = {want}"),
        within: LIMIT,
        http: Http::Custom(Box::new(move |addr| {
            let resp = exchange(addr, &request("POST", "/v1/jobs", &body), LIMIT)?;
            if resp.status == 400 {
                return error_body(&resp, &[]).map_err(|e| format!("{e} ({})", resp.summary()));
            }
            if resp.status != 202 {
                return Err(format!("POST /v1/jobs: {}", resp.summary()));
            }
            let value: Value = serde_json::from_slice(&resp.body)
                .map_err(|e| format!("{e}: {}", resp.summary()))?;
            let id = value["id"].as_str().ok_or_else(|| resp.summary())?;
            let start = Instant::now();
            while start.elapsed() < LIMIT {
                let resp = exchange(addr, &request("GET", &format!("/v1/jobs/{id}"), b""), LIMIT)?;
                let value: Value = serde_json::from_slice(&resp.body)
                    .map_err(|e| format!("not JSON ({e}): {}", resp.summary()))?;
                match value["state"].as_str() {
                    Some("pending" | "running") => std::thread::sleep(Duration::from_millis(100)),
                    Some("done") if value.pointer(pointer) == Some(&want) => return Ok(()),
                    _ => return Err(resp.summary()),
                }
            }
            Err("the job was not done within 20 s".to_string())
        })),
    }
}

fn http_cases() -> Vec<HttpCase> {
    let k2000 = planted_k2000();
    let solve = |name: &str, body: &[u8], statuses: &[u16]| {
        http(
            "POST /v1/solve",
            name,
            request("POST", "/v1/solve", body),
            statuses,
        )
    };
    let ok_or_refused: Vec<u16> = [200].iter().chain(REFUSED.iter()).copied().collect();
    let ok_or_too_large: Vec<u16> = [200].iter().chain(TOO_LARGE.iter()).copied().collect();
    let f = |name: &str| fixture(name).as_bytes();
    let mut cases = vec![
        // controls
        http(
            "control",
            "solve a small instance",
            request("POST", "/v1/solve", f("small3.json")),
            &[200],
        )
        .answers("/status", "sat".into()),
        http(
            "control",
            "health",
            request("GET", "/v1/health", b""),
            &[200],
        ),
        // /v1/solve
        solve(
            "4294967295 tokens, one sample",
            f("tok4g.json"),
            &ok_or_too_large,
        )
        .answers("/status", "sat".into()),
        solve(
            "4294967295 classes, one sample: sat",
            f("cls4g.json"),
            &[200],
        )
        .within(10.0)
        .answers("/status", "sat".into()),
        solve(
            "4e9 tokens and classes in two groups",
            f("both4g.json"),
            &ok_or_too_large,
        )
        .answers("/status", "sat".into()),
        solve(
            "10^6 tokens and classes, unique",
            &with_options(fixture("mega.json"), r#"{"unique":true}"#),
            &[200],
        )
        .answers("/unique", false.into()),
        solve("labels 2^64 and 2^64+1", f("lab-2e64.json"), &[200, 400])
            .answers("/status", "unsat".into()),
        solve(
            "labels 0.1 and 0.10000000000000001",
            f("lab-tenth.json"),
            &[200, 400],
        )
        .answers("/status", "unsat".into()),
        solve("labels 0 and 1e-999999", f("lab-tiny.json"), &[200, 400])
            .answers("/status", "unsat".into()),
        solve("top level an array", f("arr-top.json"), &[400]),
        solve("groups as arrays", f("arr-groups.json"), &[400]),
        solve("samples as arrays", f("arr-samples.json"), &[400]),
        solve(
            "UTF-8 BOM",
            format!("{BOM}{}", fixture("small3.json")).as_bytes(),
            &[400],
        )
        .saying(&["BOM", "byte order mark"]),
        solve(
            "options.count 0",
            &with_options(fixture("small3.json"), r#"{"count":0}"#),
            &[400],
        ),
        solve(
            "options.count 2^64",
            &with_options(fixture("small3.json"), r#"{"count":18446744073709551616}"#),
            &[400],
        ),
        solve(
            "options.timeout 1e999999",
            &with_options(fixture("small3.json"), r#"{"timeout":1e999999}"#),
            &[400],
        ),
        solve(
            "options as an array",
            &with_options(fixture("small3.json"), "[true,null,1]"),
            &[400],
        ),
        solve(
            "meta nested 100000 deep",
            deep_meta().as_bytes(),
            &[200, 400],
        ),
        solve(
            "body nested 100000 deep",
            nested(100_000).as_bytes(),
            &[400],
        ),
        solve(
            "binary junk",
            &[0xff, 0xfe, 0x00, 0x80, b'{', 0xc3, 0x28],
            &[400],
        ),
        http(
            "POST /v1/solve",
            "Content-Length 99999999999, no body: 413 at once",
            declared("/v1/solve", 99_999_999_999),
            &[413],
        )
        .within(3.0),
        // /v1/check
        http(
            "POST /v1/check",
            "planted K = 4294967295, three tokens",
            request(
                "POST",
                "/v1/check",
                &check_body(fixture("pk4g.json"), fixture("sol3.json")),
            ),
            &[200],
        )
        .within(10.0)
        .answers("/consistent", true.into()),
        http(
            "POST /v1/check",
            "4294967295 tokens, a 1-token partition",
            request(
                "POST",
                "/v1/check",
                &check_body(fixture("tok4g.json"), fixture("sol-one.json")),
            ),
            &[400, 422],
        ),
        http(
            "POST /v1/check",
            "4294967295 classes, class 4294967294",
            request(
                "POST",
                "/v1/check",
                &check_body(fixture("cls4g.json"), fixture("sol-4g.json")),
            ),
            &[200],
        )
        .within(10.0)
        .answers("/consistent", true.into()),
        http(
            "POST /v1/check",
            "planted K = 2000 declared, 2000 tokens",
            request("POST", "/v1/check", &check_body(&k2000.0, &k2000.1)),
            &[200],
        )
        .within(10.0)
        .answers("/consistent", true.into()),
        http(
            "POST /v1/check",
            "instance an array",
            request(
                "POST",
                "/v1/check",
                &check_body(fixture("arr-top.json"), fixture("sol-ok.json")),
            ),
            &[400],
        ),
        http(
            "POST /v1/check",
            "solution an array",
            request(
                "POST",
                "/v1/check",
                &check_body(fixture("small3.json"), fixture("sol-arr.json")),
            ),
            &[400],
        ),
        http(
            "POST /v1/check",
            "body an array",
            request(
                "POST",
                "/v1/check",
                format!("[{},{}]", fixture("small3.json"), fixture("sol-ok.json")).as_bytes(),
            ),
            &[400],
        ),
        http(
            "POST /v1/check",
            "labels 2^64, 2^64+1 in one class",
            request(
                "POST",
                "/v1/check",
                &check_body(fixture("lab-2e64.json"), fixture("sol-2e64.json")),
            ),
            &[200, 400],
        )
        .answers("/consistent", false.into()),
        http(
            "POST /v1/check",
            "UTF-8 BOM",
            request(
                "POST",
                "/v1/check",
                format!(
                    "{BOM}{}",
                    String::from_utf8(check_body(fixture("small3.json"), fixture("sol3.json")))
                        .unwrap()
                )
                .as_bytes(),
            ),
            &[400],
        )
        .saying(&["BOM", "byte order mark"]),
        http(
            "POST /v1/check",
            "Content-Length 99999999999, no body: 413 at once",
            declared("/v1/check", 99_999_999_999),
            &[413],
        )
        .within(3.0),
        // /v1/reduce/coloring
        http(
            "POST /v1/reduce/coloring",
            "p edge 4000000000 1",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body(fixture("v4g.col"), "3"),
            ),
            &TOO_LARGE,
        ),
        http(
            "POST /v1/reduce/coloring",
            "p edge 10000000 1 (300 MB answer)",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body("p edge 10000000 1\ne 1 2\n", "3"),
            ),
            &TOO_LARGE,
        ),
        http(
            "POST /v1/reduce/coloring",
            "p edge 3000000 1",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body(fixture("v3m.col"), "3"),
            ),
            &ok_or_too_large,
        ),
        http(
            "POST /v1/reduce/coloring",
            "p edge 5 99999999999",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body(fixture("e1e11.col"), "3"),
            ),
            &ok_or_refused,
        ),
        http(
            "POST /v1/reduce/coloring",
            "colors 4294967295",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body("p edge 3 1\ne 1 2\n", "4294967295"),
            ),
            &REFUSED,
        ),
        http(
            "POST /v1/reduce/coloring",
            "colors 1e30",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body("p edge 3 1\ne 1 2\n", "1e30"),
            ),
            &[400],
        ),
        http(
            "POST /v1/reduce/coloring",
            "body an array",
            request(
                "POST",
                "/v1/reduce/coloring",
                br#"["p edge 2 1\ne 1 2\n",2]"#,
            ),
            &[400],
        ),
        http(
            "POST /v1/reduce/coloring",
            "edge to vertex 4000000000",
            request(
                "POST",
                "/v1/reduce/coloring",
                &reduce_body(fixture("ebig.col"), "3"),
            ),
            &[400],
        ),
        http(
            "POST /v1/reduce/coloring",
            "Content-Length 99999999999, no body: 413 at once",
            declared("/v1/reduce/coloring", 99_999_999_999),
            &[413],
        )
        .within(3.0),
        // POST /v1/jobs
        http(
            "POST /v1/jobs",
            "4294967295 tokens, one sample",
            request("POST", "/v1/jobs", f("tok4g.json")),
            &[202, 400, 413, 422],
        ),
        http(
            "POST /v1/jobs",
            "top level an array",
            request("POST", "/v1/jobs", f("arr-top.json")),
            &[400],
        ),
        http(
            "POST /v1/jobs",
            "UTF-8 BOM",
            request(
                "POST",
                "/v1/jobs",
                format!("{BOM}{}", fixture("small3.json")).as_bytes(),
            ),
            &[400],
        )
        .saying(&["BOM", "byte order mark"]),
        http(
            "POST /v1/jobs",
            "Content-Length 99999999999, no body: 413 at once",
            declared("/v1/jobs", 99_999_999_999),
            &[413],
        )
        .within(3.0),
        // GET /v1/jobs/{id}
        http(
            "GET /v1/jobs/{id}",
            "an id of 20000 characters",
            request("GET", &format!("/v1/jobs/{}", "a".repeat(20_000)), b""),
            &[404, 414, 431],
        ),
        http(
            "GET /v1/jobs/{id}",
            "an id ..%2F..%2Fetc%2Fpasswd",
            request("GET", "/v1/jobs/..%2F..%2Fetc%2Fpasswd", b""),
            &[404],
        ),
        http(
            "GET /v1/jobs/{id}",
            "an id with %00",
            request("GET", "/v1/jobs/%00%ff", b""),
            &[400, 404],
        ),
        // DELETE /v1/jobs/{id}
        http(
            "DELETE /v1/jobs/{id}",
            "an unknown id",
            request("DELETE", "/v1/jobs/00000000000000000000000000000000", b""),
            &[404],
        ),
        http(
            "DELETE /v1/jobs/{id}",
            "an id of 20000 characters",
            request("DELETE", &format!("/v1/jobs/{}", "b".repeat(20_000)), b""),
            &[404, 414, 431],
        ),
        http(
            "DELETE /v1/jobs/{id}",
            "no id (DELETE /v1/jobs)",
            request("DELETE", "/v1/jobs", b""),
            &[404, 405],
        ),
        // /v1/health, /v1/version, /metrics, unknown routes
        http(
            "/v1/health",
            "POST",
            request("POST", "/v1/health", fixture("tok4g.json").as_bytes()),
            &[405],
        ),
        http(
            "/v1/health",
            "a query of 8000 characters",
            request("GET", &format!("/v1/health?{}", "q".repeat(8000)), b""),
            &[200, 414],
        ),
        http(
            "/v1/version",
            "PUT",
            request("PUT", "/v1/version", b"{}"),
            &[405],
        ),
        http(
            "/v1/version",
            "a path below it",
            request("GET", "/v1/version/x", b""),
            &[404],
        ),
        http(
            "/metrics",
            "POST",
            request("POST", "/metrics", b"{}"),
            &[405],
        ),
        http(
            "(unmatched)",
            "GET /v2/solve",
            request("GET", "/v2/solve", b""),
            &[404],
        ),
    ];

    cases.push(job_case(
        "a job declaring 10^6 tokens and classes, fetched when done",
        with_options(fixture("mega.json"), r#"{"unique":true}"#),
        "/result/unique",
        false.into(),
    ));
    cases.push(job_case(
        "a job with labels 2^64 and 2^64+1: unsat in the child too",
        fixture("lab-2e64.json").as_bytes().to_vec(),
        "/result/status",
        "unsat".into(),
    ));
    cases.push(HttpCase {
        route: "DELETE /v1/jobs/{id}",
        name: "delete a job declaring 4e9 tokens and classes".to_string(),
        expected: "202 (or 4xx), then DELETE 200 cancelled/deleted".to_string(),
        within: LIMIT,
        http: Http::Custom(Box::new(|addr| {
            let resp = exchange(
                addr,
                &request("POST", "/v1/jobs", fixture("both4g.json").as_bytes()),
                LIMIT,
            )?;
            if TOO_LARGE.contains(&resp.status) {
                return error_body(&resp, &[]).map_err(|e| format!("{e} ({})", resp.summary()));
            }
            let value: Value = serde_json::from_slice(&resp.body)
                .map_err(|e| format!("{e}: {}", resp.summary()))?;
            let id = value["id"].as_str().ok_or_else(|| resp.summary())?;
            let resp = exchange(
                addr,
                &request("DELETE", &format!("/v1/jobs/{id}"), b""),
                LIMIT,
            )?;
            let value: Value = serde_json::from_slice(&resp.body)
                .map_err(|e| format!("{e}: {}", resp.summary()))?;
            match (resp.status, value["state"].as_str()) {
                (200, Some("cancelled" | "deleted")) => Ok(()),
                _ => Err(resp.summary()),
            }
        })),
    });
    cases.push(HttpCase {
        route: "/metrics",
        name: "made-up paths do not grow the metrics".to_string(),
        expected: "404s, then /metrics 200 without the made-up paths".to_string(),
        within: LIMIT,
        http: Http::Custom(Box::new(|addr| {
            for i in 0..20 {
                let resp = exchange(
                    addr,
                    &request("GET", &format!("/made-up-{i}-zqx"), b""),
                    LIMIT,
                )?;
                if resp.status != 404 {
                    return Err(format!("GET /made-up-{i}-zqx: {}", resp.summary()));
                }
            }
            let resp = exchange(addr, &request("GET", "/metrics", b""), LIMIT)?;
            let text = String::from_utf8_lossy(&resp.body);
            if resp.status == 200 && !text.contains("made-up") {
                Ok(())
            } else {
                Err(resp.summary())
            }
        })),
    });
    // Found by a third hunt.
    let hunt = |name: &str, body: Vec<u8>, statuses: &[u16]| {
        http(
            "third hunt",
            name,
            request("POST", "/v1/solve", &body),
            statuses,
        )
    };
    let small = fixture("small3.json");
    cases.push(
        hunt(
            "backend minisat",
            with_options(small, r#"{"backend":"minisat"}"#),
            &[400],
        )
        .saying(&["minisat"]),
    );
    let weighted = |w: &str| {
        format!(
            r#"{{"groups":[{{"tokens":2,"classes":2}}],"samples":[{{"x":[0],"y":0,"w":{w}}},{{"x":[1],"y":1}}]}}"#
        )
    };
    for w in ["null", "0", "1.5", r#""2""#, "true", "1e400"] {
        cases.push(
            hunt(
                &format!("a weight of {w}"),
                weighted(w).into_bytes(),
                &[400],
            )
            .saying(&["not a weight"]),
        );
    }
    cases.push(
        hunt(
            "a weight of 1e3 (whole)",
            with_options(&weighted("1e3"), r#"{"max_consistent":true}"#),
            &[200],
        )
        .answers("/status", "sat".into()),
    );
    let mut draw = draws(9);
    let i9 = instance_json(
        &[(20, 3); 9],
        (0..4900).map(|_| ((0..9).map(|_| draw(20)).collect(), draw(2))),
    );
    cases.push(
        hunt(
            "I = 9, K = 3, 4,900 samples, timeout 3",
            with_options(&i9, r#"{"timeout":3}"#),
            &[200, 422],
        )
        .within(5.0),
    );
    let mut draw = draws(8);
    let k1000 = instance_json(&[(50, 1000); 8], (0..50).map(|s| (vec![s; 8], draw(2))));
    cases.push(
        hunt("I = 8, K = 1000, 50 samples", k1000.into_bytes(), &[200])
            .within(10.0)
            .answers("/status", "sat".into()),
    );
    let mut draw = draws(3);
    let i8 = instance_json(
        &[(50, 3); 8],
        (0..2000).map(|_| ((0..8).map(|_| draw(50)).collect(), draw(2))),
    );
    cases.push(
        hunt(
            "I = 8, K = 3, 2,000 samples, timeout 1",
            with_options(&i8, r#"{"timeout":1}"#),
            &[200],
        )
        .within(2.0)
        .answers("/status", "unknown".into()),
    );
    cases
}

#[test]
fn hostile_requests_get_4xx_or_cheap_answers_and_the_server_survives() {
    let dir = common::scratch("hostile-http");
    let mut server = Server::start(&dir, 0);
    let mut started = 1;
    let mut peak = 0;
    let mut rows = Vec::new();
    for case in http_cases() {
        let verdict = judge_http(&case, server.addr);
        let got = verdict.as_ref().map_or_else(Clone::clone, Clone::clone);
        let mut failure = verdict.err();
        peak = peak.max(server.peak_rss_kb().unwrap_or(0));
        if !server.alive() {
            let log = server.log();
            let last: Vec<&str> = log.lines().rev().take(2).collect();
            failure = Some(format!(
                "the server died: {} [{}]",
                failure.unwrap_or_default(),
                clip(&last.join(" / "), 200)
            ));
            server = Server::start(&dir, started);
            started += 1;
        }
        rows.push(Row {
            group: case.route.to_string(),
            name: case.name,
            expected: format!("{}, < {} s", case.expected, case.within.as_secs_f64()),
            got,
            failure,
        });
    }
    // Afterwards: still alive, /v1/health answers within 1 s, no panic in the log.
    let health = exchange(
        server.addr,
        &request("GET", "/v1/health", b""),
        Duration::from_secs(1),
    );
    let after = match health {
        Ok(r) if r.status == 200 && server.alive() => None,
        Ok(r) => Some(r.summary()),
        Err(e) => Some(e),
    };
    rows.push(Row {
        group: "/v1/health".to_string(),
        name: "answers within 1 s after every hostile request".to_string(),
        expected: "200 within 1 s, server alive".to_string(),
        got: after.clone().unwrap_or_else(|| "200, alive".to_string()),
        failure: after,
    });
    let mut all_logs = String::new();
    for n in 0..started {
        all_logs +=
            &String::from_utf8_lossy(&read_capped(&dir.join(format!("server-{n}.log")), 1 << 20));
    }
    rows.push(Row {
        group: "control".to_string(),
        name: "server log free of panics and aborts".to_string(),
        expected: "no panic text in the server's stderr".to_string(),
        got: String::new(),
        failure: PANIC_TEXT
            .iter()
            .find(|t| all_logs.contains(*t))
            .map(|t| format!("the log says {t:?}")),
    });
    let notes = vec![format!(
        "server peak RSS (VmHWM) during the hostile requests: {} MB; server (re)starts: {started}",
        peak / 1024
    )];
    report("HTTP", &rows, &notes);
}
