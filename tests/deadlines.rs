//! Deadlines hold in every phase: a solve stopped by its time limit answers `unknown`
//! (what it proved by then kept, nothing guessed) within 100 ms of the deadline, in
//! whichever phase the deadline strikes: reading, propagating, preprocessing, the local
//! search, encoding, searching, deciding uniqueness, identifying, certifying, checking a
//! proof, explaining, the maximum-consistency and table searches; from the command line
//! on both backends, and over HTTP. (The Python front's are in python/tests.)
//!
//! Each case is timed from the start of the command (or the request) to its answer
//! (the first line of output); the slowest allowed is the deadline plus [`SLACK`].
//! A case runs up to [`TRIES`] times and its best run counts, so one scheduling hiccup
//! on a busy machine does not fail it; every run is printed in a table.

mod common;

use common::server::Server;
use common::{partrec, root, scratch};
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How late past its deadline an answer may come.
const SLACK: Duration = Duration::from_millis(100);
/// Runs per case; the best counts.
const TRIES: usize = 3;

/// What a stopped answer must say.
#[derive(Clone, Copy)]
enum Says {
    /// `status: unknown`.
    Unknown,
    /// A partition found (`sat`), the rest undecided: `timed_out`, no identified blocks.
    SatRestUnknown,
    /// [`Says::SatRestUnknown`] or [`Says::Unknown`]: a solve in a child process (varisat)
    /// that had to receive a large instance may not have found the partition by then.
    SatOrUnknown,
    /// `verify-certificate`'s `{"status":"unknown"}`, exit 3.
    Unverified,
}

/// One deadline case of the command line.
struct Case {
    name: &'static str,
    /// `stats.stopped_in` must be one of these (empty: any; a child process killed at
    /// the deadline cannot say where it was).
    phases: &'static [&'static str],
    args: Vec<String>,
    timeout: f64,
    says: Says,
}

/// A run: how late the answer came past the deadline (negative: early), and the answer.
struct Run {
    late: Duration,
    early: bool,
    answer: Value,
    code: Option<i32>,
}

/// Writes `samples` as instance JSON with two groups, without building a value.
fn write_two_groups(path: &Path, first: u32, second: u32, samples: &[(u32, u32, u8)]) {
    let mut text = format!(
        r#"{{"groups":[{{"tokens":{first},"classes":3}},{{"tokens":{second},"classes":3}}],"samples":["#
    );
    for (i, (a, b, y)) in samples.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(r#"{{"x":[{a},{b}],"y":{y}}}"#));
    }
    text.push_str("]}");
    std::fs::write(path, text).unwrap();
}

/// The fixtures, made once: (name, path).
struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    fn make() -> Fixtures {
        let dir = scratch("deadlines");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(24);
        // Reading: 2 million samples, about 45 MB of JSON.
        let big: Vec<(u32, u32, u8)> = (0..2_000_000u32)
            .map(|i| {
                (
                    i % 100_000,
                    rng.random_range(0..1000),
                    rng.random_range(0..2),
                )
            })
            .collect();
        write_two_groups(&dir.join("big.json"), 100_000, 1000, &big);
        // Group-0 tokens seen once each, random values: propagation and preprocessing
        // over 400,000 samples; with 1,000 group-1 tokens, an encoding of millions of
        // clauses.
        for (name, second) in [("pre.json", 10u32), ("enc.json", 1000)] {
            let samples: Vec<(u32, u32, u8)> = (0..400_000u32)
                .map(|i| (i, rng.random_range(0..second), rng.random_range(0..2)))
                .collect();
            write_two_groups(&dir.join(name), 400_000, second, &samples);
        }
        let fx = Fixtures { dir };
        for (name, flags) in [
            // Eight groups: the local search runs first, for seconds.
            (
                "i8.json",
                "--groups 8 --tokens 50 --classes 3 --samples 2000 --seed 3",
            ),
            // Three groups: a partition at once, uniqueness for long.
            (
                "unique.json",
                "--groups 3 --tokens 200 --classes 3 --ratio 5 --seed 1",
            ),
            // Zipfian and sparse: found in a fraction of a second, while identify's
            // backbone takes seconds over its many free tokens.
            (
                "identify.json",
                "--tokens 20000 --classes 3 --samples 40000 --zipf 1 --seed 3",
            ),
            // A unique instance whose certificate takes seconds to make and check.
            ("cert.json", "--tokens 10000 --classes 3 --ratio 6 --seed 3"),
            // Noisy data in the hard band.
            (
                "noisy.json",
                "--groups 3 --tokens 50 --classes 3 --ratio 1.25 --seed 2 --noise 0.05",
            ),
        ] {
            let out = partrec()
                .args(["generate", "-q", "-o", fx.path(name).to_str().unwrap()])
                .args(flags.split_whitespace())
                .output()
                .unwrap();
            assert!(out.status.success(), "{name}: {out:?}");
        }
        let certified = partrec()
            .args(["solve", "--unique", "-q", "-o", "/dev/null", "--certify"])
            .arg(fx.path("cert"))
            .arg(fx.path("cert.json"))
            .status()
            .unwrap();
        assert_eq!(certified.code(), Some(10));
        // The same certificate, its proof led by three million unit lemmas on a fresh
        // variable (each RAT, as nothing holds its negation): reading the proof is the
        // long part.
        let padded = fx.path("padded");
        std::fs::create_dir_all(&padded).unwrap();
        for entry in std::fs::read_dir(fx.path("cert")).unwrap() {
            let entry = entry.unwrap();
            let mut bytes = std::fs::read(entry.path()).unwrap();
            if entry.path().extension().is_some_and(|e| e == "drat") {
                let mut lead = "2147483647 0\n".repeat(3_000_000).into_bytes();
                lead.append(&mut bytes);
                bytes = lead;
            }
            std::fs::write(padded.join(entry.file_name()), bytes).unwrap();
        }
        fx
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
}

/// Runs `partrec ARGS`, timing from the start to the first line on standard output.
fn run_cli(args: &[String], timeout: f64) -> Run {
    let start = Instant::now();
    let mut child = common::spawn_piped(args);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let at = start.elapsed();
    let code = child.wait().unwrap().code();
    let answer = serde_json::from_str(&line).unwrap_or(Value::Null);
    late(at, timeout, answer, code)
}

/// A run answered `at` after its start, with deadline `timeout` seconds.
fn late(at: Duration, timeout: f64, answer: Value, code: Option<i32>) -> Run {
    let deadline = Duration::from_secs_f64(timeout);
    Run {
        late: at.saturating_sub(deadline),
        early: at < deadline,
        answer,
        code,
    }
}

/// Whether `run` says what `says` asks for; the reason if not.
fn judge(run: &Run, says: Says, phases: &[&str]) -> Result<(), String> {
    let a = &run.answer;
    let stats = &a["stats"];
    let ok = match says {
        // `explain` answers a bare `{"status":"unknown"}`.
        Says::Unknown => {
            a["status"] == "unknown" && (stats["timed_out"] == true || stats.is_null())
        }
        Says::SatRestUnknown => {
            a["status"] == "sat" && stats["timed_out"] == true && a.get("identified").is_none()
        }
        Says::SatOrUnknown => {
            (a["status"] == "sat" || a["status"] == "unknown")
                && stats["timed_out"] == true
                && a.get("identified").is_none()
        }
        Says::Unverified => a["status"] == "unknown" && run.code == Some(3),
    };
    if !ok {
        return Err(format!("answered {}", clip(&a.to_string())));
    }
    if run.early {
        return Err("answered before the deadline, so it did not wait for it".into());
    }
    let phase = stats["stopped_in"].as_str().unwrap_or("");
    if !phases.is_empty() && !phases.contains(&phase) {
        return Err(format!("stopped in {phase:?}, expected one of {phases:?}"));
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Runs `attempt` up to [`TRIES`] times until one is within [`SLACK`]; the best run.
fn best(mut attempt: impl FnMut() -> Run) -> (Run, Vec<Duration>) {
    let mut lates = Vec::new();
    let mut best: Option<Run> = None;
    for _ in 0..TRIES {
        let run = attempt();
        lates.push(run.late);
        let better = best.as_ref().is_none_or(|b| run.late < b.late);
        let done = run.late <= SLACK;
        if better {
            best = Some(run);
        }
        if done {
            break;
        }
    }
    (best.expect("at least one try"), lates)
}

fn cli_cases(fx: &Fixtures) -> Vec<Case> {
    let a = |name: &str| fx.arg(name);
    let hard = root()
        .join("instances/hard-three-groups.json")
        .to_str()
        .unwrap()
        .to_string();
    let solve = |file: String, extra: &str, timeout: f64| -> Vec<String> {
        let mut v = vec!["solve".to_string(), file, "-q".into()];
        v.extend(extra.split_whitespace().map(String::from));
        v.extend(["--timeout".into(), timeout.to_string()]);
        v
    };
    let mut cases = Vec::new();
    for backend in ["cadical", "varisat"] {
        let with = |extra: &str| format!("--backend {backend} {extra}");
        // Under a deadline varisat runs in a child process killed then, which cannot say
        // where it was; cadical stops in process and says.
        let inside = |phases: &'static [&'static str]| -> &'static [&'static str] {
            if backend == "cadical" {
                phases
            } else {
                &[]
            }
        };
        cases.extend([
            Case {
                name: "reading 45 MB",
                phases: &["reading"],
                // Reading takes 0.25 to 0.4 s on a machine of 2 cores (less once the
                // file is in the page cache): a deadline at 0.1 s strikes while reading.
                args: solve(a("big.json"), &with(""), 0.1),
                timeout: 0.1,
                says: Says::Unknown,
            },
            Case {
                name: "propagating or preprocessing 400,000 samples",
                phases: inside(&["propagating", "preprocessing"]),
                // Reading ends near 0.25 s and propagation near 0.6 s on an idle
                // machine of 2 cores.
                args: solve(a("pre.json"), &with("--unique"), 0.4),
                timeout: 0.4,
                says: Says::Unknown,
            },
            Case {
                name: "encoding millions of clauses",
                phases: inside(&["encoding"]),
                // Propagation and its lookahead take seconds first.
                args: solve(a("enc.json"), &with("--unique"), 4.0),
                timeout: 4.0,
                says: Says::Unknown,
            },
            Case {
                name: "searching (three groups, the hard band)",
                phases: inside(&["searching", "local search"]),
                args: solve(hard.clone(), &with("--unique"), 1.0),
                timeout: 1.0,
                says: Says::Unknown,
            },
            Case {
                name: "deciding uniqueness",
                phases: inside(&["deciding uniqueness"]),
                args: solve(a("unique.json"), &with("--unique --strategy cdcl"), 1.5),
                timeout: 1.5,
                says: Says::SatRestUnknown,
            },
            Case {
                name: "identifying",
                phases: inside(&["identifying"]),
                args: solve(a("identify.json"), &with("--identify"), 1.0),
                timeout: 1.0,
                says: Says::SatOrUnknown,
            },
            Case {
                name: "certifying",
                phases: &[],
                args: solve(
                    a("cert.json"),
                    &with(&format!("--unique --certify {}", a("cert-late"))),
                    0.8,
                ),
                timeout: 0.8,
                // The partition found before certifying is kept, its claims withdrawn.
                says: Says::SatRestUnknown,
            },
            Case {
                name: "maximum consistency",
                phases: inside(&["searching", "encoding", "deciding uniqueness"]),
                args: solve(a("noisy.json"), &with("--max-consistent --unique"), 1.0),
                timeout: 1.0,
                says: Says::Unknown,
            },
        ]);
    }
    cases.extend([
        Case {
            name: "the local search (cadical)",
            phases: &["local search"],
            args: solve(a("i8.json"), "--strategy cdcl", 1.0),
            timeout: 1.0,
            says: Says::Unknown,
        },
        Case {
            name: "the portfolio (cadical)",
            phases: &["searching", "local search", "encoding"],
            args: solve(a("i8.json"), "--strategy portfolio", 1.0),
            timeout: 1.0,
            says: Says::Unknown,
        },
        Case {
            name: "the table search (cadical)",
            phases: &["searching"],
            args: solve(hard.clone(), "--strategy table --unique", 1.0),
            timeout: 1.0,
            says: Says::Unknown,
        },
        Case {
            name: "explaining",
            phases: &[],
            args: vec!["explain".into(), hard, "--timeout".into(), "1".into()],
            timeout: 1.0,
            says: Says::Unknown,
        },
        Case {
            name: "checking a proof (verify-certificate)",
            phases: &[],
            args: vec![
                "verify-certificate".into(),
                a("cert.json"),
                a("cert"),
                "-q".into(),
                "--timeout".into(),
                "1".into(),
            ],
            timeout: 1.0,
            says: Says::Unverified,
        },
        Case {
            name: "reading a long proof (verify-certificate)",
            phases: &[],
            args: vec![
                "verify-certificate".into(),
                a("cert.json"),
                a("padded"),
                "-q".into(),
                "--timeout".into(),
                "0.3".into(),
            ],
            timeout: 0.3,
            says: Says::Unverified,
        },
    ]);
    cases
}

/// Prints the table of runs and fails on the cases that did not hold.
fn report(title: &str, rows: &[(String, Vec<Duration>, Result<(), String>)]) {
    println!("\n## {title}\n\n| case | late by (ms), each try | verdict |\n|---|---|---|");
    let mut failed = Vec::new();
    for (name, lates, verdict) in rows {
        let ms: Vec<String> = lates.iter().map(|d| d.as_millis().to_string()).collect();
        let said = match verdict {
            Ok(()) => "ok".to_string(),
            Err(why) => {
                failed.push(format!("{name}: {why}"));
                format!("FAILED: {why}")
            }
        };
        println!("| {name} | {} | {said} |", ms.join(", "));
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Judges the best of a case's runs: what it says, then how late.
fn verdict(run: &Run, says: Says, phases: &[&str]) -> Result<(), String> {
    judge(run, says, phases)?;
    if run.late > SLACK {
        return Err(format!(
            "answered {} ms after the deadline (allowed {} ms)",
            run.late.as_millis(),
            SLACK.as_millis()
        ));
    }
    Ok(())
}

/// Posts `body` to `path` over one connection and times the reply from the request's
/// last byte; the reply's JSON body.
fn post(addr: &str, path: &str, body: &[u8]) -> (Duration, u16, Value) {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // Timed from before the body is sent: the server may read it all (and start its
    // deadline) before `write_all` returns here.
    let sent = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut reply = Vec::new();
    let mut chunk = [0u8; 1 << 16];
    let mut at = None;
    loop {
        let n = stream.read(&mut chunk).unwrap_or(0);
        if n == 0 {
            break;
        }
        at.get_or_insert_with(|| sent.elapsed());
        reply.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // The body may be chunked: take the JSON object in it.
    let json = body
        .find('{')
        .and_then(|i| body.rfind('}').map(|j| &body[i..=j]))
        .unwrap_or("null");
    (
        at.unwrap_or_else(|| sent.elapsed()),
        status,
        serde_json::from_str(json).unwrap_or(Value::Null),
    )
}

/// A solve request: the instance file's JSON with `options` added.
fn request(instance: &Path, options: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(instance).unwrap();
    let text = text.trim();
    let inner = &text[..text.rfind('}').expect("an object")];
    format!(r#"{inner},"options":{options}}}"#).into_bytes()
}

#[test]
fn every_phase_answers_unknown_within_100_ms_of_the_deadline() {
    let fx = Fixtures::make();
    let mut rows = Vec::new();
    for case in cli_cases(&fx) {
        let (run, lates) = best(|| run_cli(&case.args, case.timeout));
        let verdict = verdict(&run, case.says, case.phases);
        rows.push((format!("cli: {}", case.name), lates, verdict));
    }
    report("command line", &rows);

    let server = Server::start(
        "deadlines",
        &["--workers", "2", "--max-body-mb", "64", "-q"],
    );
    let hard = root().join("instances/hard-three-groups.json");
    let mut rows = Vec::new();
    for backend in ["cadical", "varisat"] {
        for (name, file, options, says) in [
            (
                "preprocessing and encoding",
                fx.path("enc.json"),
                r#""unique":true,"timeout":1.0"#,
                Says::Unknown,
            ),
            (
                "searching",
                hard.clone(),
                r#""unique":true,"timeout":1.0"#,
                Says::Unknown,
            ),
            (
                "identifying",
                fx.path("identify.json"),
                r#""identify":true,"timeout":1.0"#,
                Says::SatOrUnknown,
            ),
            (
                "maximum consistency",
                fx.path("noisy.json"),
                r#""max_consistent":true,"timeout":1.0"#,
                Says::Unknown,
            ),
        ] {
            let body = request(&file, &format!(r#"{{{options},"backend":"{backend}"}}"#));
            let (run, lates) = best(|| {
                let (at, status, answer) = post(server.addr(), "/v1/solve", &body);
                late(at, 1.0, answer, Some(i32::from(status)))
            });
            let verdict = if run.code == Some(200) {
                verdict(&run, says, &[])
            } else {
                Err(format!(
                    "HTTP {:?}: {}",
                    run.code,
                    clip(&run.answer.to_string())
                ))
            };
            rows.push((format!("http {backend}: {name}"), lates, verdict));
        }
    }
    report("HTTP", &rows);
}

/// The statistical warm start (three groups) stops within [`SLACK`] of its deadline:
/// on a million samples it runs for seconds without one.
#[test]
fn the_warm_start_stops_within_100_ms_of_the_deadline() {
    use partrec::generate::{generate, GenerateParams};
    use partrec::sat::Control;
    use partrec::solve::preprocess::Prepared;
    let params = GenerateParams {
        tokens: vec![20_000; 3],
        classes: vec![3; 3],
        values: 2,
        samples: 1_000_000,
        seed: 5,
        zipf: None,
    };
    let prep = Prepared::new(&generate(&params, None).unwrap());
    let mut lates = Vec::new();
    let mut best = Duration::MAX;
    for _ in 0..TRIES {
        let timeout = Duration::from_millis(300);
        let start = Instant::now();
        let control = Control::with_timeout(Some(timeout));
        let estimate = partrec::solve::warm::estimate(&prep, 0, &control);
        let late = start.elapsed().saturating_sub(timeout);
        assert!(
            estimate.is_none(),
            "the warm start ended before its deadline"
        );
        lates.push(late);
        best = best.min(late);
        if late <= SLACK {
            break;
        }
    }
    report(
        "The warm start",
        &[(
            "the warm start on 1,000,000 samples".to_string(),
            lates,
            if best <= SLACK {
                Ok(())
            } else {
                Err(format!(
                    "stopped {} ms after the deadline",
                    best.as_millis()
                ))
            },
        )],
    );
}
