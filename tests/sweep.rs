//! Integration tests of `partrec sweep`: rows and fields, independence from
//! --jobs, shards merged, resume, timeouts recorded, the summary and the SVG, and
//! Zipfian token frequencies (--zipf).

mod common;

use common::{run, scratch, words};
use partrec::experiment::sweep::{read_rows, Row};
use partrec::Instance;
use std::collections::HashSet;
use std::path::Path;

const SWEEP: &str =
    "sweep --groups 2 --tokens 100,200 --classes 3 --values 2 --ratios 1,4,8 --trials 10 --seed 5";

fn sweep(extra: &str) -> std::process::Output {
    run_ok(&format!("{SWEEP} {extra}"))
}

/// Rows without their timings.
fn untimed(path: &Path) -> Vec<Row> {
    read_rows(path)
        .unwrap()
        .into_iter()
        .map(Row::untimed)
        .collect()
}

#[test]
fn sweep_rows_jobs_shards_resume_summary_and_plot() {
    let dir = scratch("sweep");
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let out = sweep(&format!(
        "--jobs 2 --out {} --plot {}",
        p("s.csv"),
        p("s.svg")
    ));
    let rows = untimed(&dir.join("s.csv"));
    assert_eq!(rows.len(), 60);
    let header = std::fs::read_to_string(dir.join("s.csv")).unwrap();
    let wanted = "n ratio trial seed samples samples_per_token status unique recovered accuracy \
                  observed_fraction variables clauses encode_s solve_s unique_s timed_out";
    for field in wanted.split_whitespace() {
        assert!(
            header
                .lines()
                .next()
                .unwrap()
                .split(',')
                .any(|c| c == field),
            "{field}"
        );
    }
    for r in &rows {
        assert_eq!(r.status, "sat");
        assert_eq!(
            r.samples,
            (r.ratio * f64::from(r.n) * f64::from(r.n).ln()).round() as usize
        );
        match r.ratio as u32 {
            1 => assert_eq!(r.unique, Some(false), "{r:?}"),
            _ => assert!(r.unique.is_some()),
        }
    }
    let p_unique = |n: u32, ratio: f64| {
        let sel: Vec<&Row> = rows
            .iter()
            .filter(|r| r.n == n && r.ratio == ratio)
            .collect();
        sel.iter().filter(|r| r.unique == Some(true)).count() as f64 / sel.len() as f64
    };
    for n in [100, 200] {
        assert!(p_unique(n, 8.0) >= 0.9);
        assert_eq!(p_unique(n, 1.0), 0.0);
    }
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("| sat | 100 | 8 | 8.00 | 10 |"),
        "{summary}"
    );
    assert!(summary.contains("smallest ratio with P(unique) >= 0.5"));
    let svg = std::fs::read_to_string(dir.join("s.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    for panel in ["recovered", "time", "unique", "decided"] {
        assert!(
            svg.contains(&format!(r#"class="data-area" data-panel="{panel}""#)),
            "{panel}"
        );
        for n in [100, 200] {
            assert!(
                svg.contains(&format!(r#"data-series="sat N={n}" data-panel="{panel}""#)),
                "{panel} {n}"
            );
        }
    }
    assert!(svg.contains("timed out: 0 of 60 trials"));

    sweep(&format!("--jobs 1 --out {}", p("one.csv")));
    assert_eq!(
        untimed(&dir.join("one.csv")),
        rows,
        "--jobs 1 gives the same rows"
    );

    sweep(&format!("--shard 0/2 --out {}", p("a.csv")));
    sweep(&format!("--shard 1/2 --out {}", p("b.csv")));
    assert_eq!(untimed(&dir.join("a.csv")).len(), 30);
    let merged = run(&words(&format!(
        "sweep merge {} {} -o {}",
        p("a.csv"),
        p("b.csv"),
        p("all.csv")
    )));
    assert!(merged.status.success());
    assert_eq!(
        untimed(&dir.join("all.csv")),
        rows,
        "merged shards give the same rows"
    );

    // Resume: keep the first 25 rows of a run, resume, and get the whole sweep.
    let text = std::fs::read_to_string(dir.join("s.csv")).unwrap();
    let head: Vec<&str> = text.lines().take(26).collect();
    std::fs::write(dir.join("partial.csv"), head.join("\n") + "\n").unwrap();
    sweep(&format!("--resume --out {}", p("partial.csv")));
    assert_eq!(
        untimed(&dir.join("partial.csv")),
        rows,
        "resume completes the sweep"
    );
}

#[test]
fn timeouts_are_recorded_not_dropped() {
    let dir = scratch("sweep-timeout");
    let file = dir.join("t.jsonl");
    let picture = dir.join("t.svg");
    // Three groups of 100 tokens at 1.5 N ln N: the hard band, undecided in 0.3 s.
    let line = format!(
        "sweep --groups 3 --tokens 100 --classes 3 --values 2 --ratios 1.5 --trials 2 --seed 11 --timeout 0.3 --out {} --plot {}",
        file.display(),
        picture.display()
    );
    let out = run(&words(&line));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = read_rows(&file).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.timed_out && r.status != "unsat" && r.unique != Some(true)),
        "{rows:?}"
    );
    // Both trials timed out: none decided, and the times are lower bounds.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("| sat |"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("| 2 | 0.00 | 2 |"),
        "trials, decided, timeouts: {line}"
    );
    assert_eq!(line.matches("| >= ").count(), 2, "{line}");
    // The plot counts them and marks them with the timeout marker, on the limit line.
    let svg = std::fs::read_to_string(&picture).unwrap();
    assert!(svg.contains("timed out: 2 of 2 trials"), "{svg}");
    assert!(svg.contains(">timed out: 2 of 2</text>"), "{svg}");
    assert!(svg.contains(r#"class="limit""#), "{svg}");
    let marked = r##"xlink:href="#m-timeout" "##;
    assert_eq!(
        svg.matches(marked).count(),
        2,
        "one in the time panel, one in the legend"
    );
}

#[test]
fn bad_sweep_arguments_exit_2() {
    for extra in ["--shard 2/2", "--shard x", "--ratios -1", "--method sat,nn"] {
        let line = format!("sweep --tokens 10 --classes 2 --ratios 1 --seed 1 {extra}");
        let out = run(&words(&line));
        assert_eq!(out.status.code(), Some(2), "{extra}");
    }
    let out = run(&words("sweep --tokens 10 --classes 20 --ratios 1 --seed 1"));
    assert_eq!(out.status.code(), Some(2));
    let out = run(&words("sweep merge no-such.csv -o x.csv"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn both_methods_run_on_the_same_instances() {
    let dir = scratch("sweep-methods");
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let base =
        "sweep --groups 2 --tokens 40 --classes 3 --values 2 --ratios 1,10 --trials 3 --seed 2";
    let line = format!(
        "{base} --method sat,gd --jobs 2 --out {} --plot {}",
        p("m.csv"),
        p("m.svg")
    );
    let out = run(&words(&line));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = untimed(&dir.join("m.csv"));
    assert_eq!(rows.len(), 12, "one row per (point, method)");
    for pair in rows.chunks(2) {
        let (gd, sat) = (&pair[0], &pair[1]);
        assert_eq!((gd.method.as_str(), sat.method.as_str()), ("gd", "sat"));
        assert_eq!(
            (gd.seed, gd.samples),
            (sat.seed, sat.samples),
            "the same instance"
        );
        assert_eq!(gd.unique, None, "gd proves nothing");
        assert!(gd.accuracy.is_some());
        // A recovered partition is the planted one, hence consistent, hence sat.
        if gd.recovered == Some(true) {
            assert_eq!(gd.status, "sat");
        }
        assert!(gd.status == "sat" || gd.status == "unknown");
    }
    // At 10 N ln N both methods recover the planted partition (the lab measured the
    // gradient method exact in every run from 6 N ln N at N = 50).
    for r in rows.iter().filter(|r| r.ratio == 10.0) {
        assert_eq!(r.recovered, Some(true), "{r:?}");
    }
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("| gd | 40 | 10 | 10.00 | 3 | 1.00 | 0 | - | 1.00 | 1.00 |"),
        "{summary}"
    );
    let svg = std::fs::read_to_string(dir.join("m.svg")).unwrap();
    let drawn = |series: &str, panel: &str| {
        svg.contains(&format!(r#"data-series="{series}" data-panel="{panel}""#))
    };
    assert!(drawn("gd N=40", "recovered") && drawn("sat N=40", "recovered"));
    assert!(drawn("sat N=40", "unique") && drawn("sat N=40", "decided"));
    assert!(!drawn("gd N=40", "unique") && !drawn("gd N=40", "decided"));

    // Deterministic: the same rows with one job; resuming a sat-only file adds the gd rows.
    let one = format!("{base} --method sat,gd --jobs 1 --out {}", p("one.csv"));
    assert!(run(&words(&one)).status.success());
    assert_eq!(untimed(&dir.join("one.csv")), rows);
    let sat_only = format!("{base} --out {}", p("r.csv"));
    assert!(run(&words(&sat_only)).status.success());
    assert_eq!(untimed(&dir.join("r.csv")).len(), 6);
    let resume = format!("{base} --method sat,gd --resume --out {}", p("r.csv"));
    assert!(run(&words(&resume)).status.success());
    assert_eq!(untimed(&dir.join("r.csv")), rows);
}

/// A small sweep without noise, both methods: rows t0 gd, t0 sat, t1 gd, t1 sat (lines 2-5).
const PLAIN: &str = "sweep --groups 2 --tokens 10 --classes 2 --values 2 --ratios 1 --trials 2 --seed 1 --method sat,gd --jobs 1";

/// The same points with noise, the exact method: rows t0 sat, t1 sat (lines 2-3).
const NOISY: &str = "sweep --groups 2 --tokens 10 --classes 2 --values 2 --ratios 1 --trials 2 --seed 1 --noise 0.1 --jobs 1";

/// Runs a command line that must succeed.
fn run_ok(line: &str) -> std::process::Output {
    let out = run(&words(line));
    assert!(
        out.status.success(),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The printed summary is the summary of the rows in `file`.
fn assert_summary_of(out: &std::process::Output, file: &Path) {
    let table = partrec::experiment::summary::table(&read_rows(file).unwrap());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        table.trim_end(),
        "{}",
        file.display()
    );
}

#[test]
fn the_summary_describes_exactly_the_rows_written() {
    let dir = scratch("sweep-summary");
    let p = |name: &str| dir.join(name).display().to_string();
    let full = run_ok(&format!("{PLAIN} -o {}", p("a.csv")));
    assert_summary_of(&full, &dir.join("a.csv"));
    let rows = read_rows(&dir.join("a.csv")).unwrap();
    assert_eq!(rows.len(), 4);

    // A byte copy adds nothing: 2 trials per point, as in the file.
    std::fs::copy(dir.join("a.csv"), dir.join("b.csv")).unwrap();
    let merged = run_ok(&format!(
        "sweep merge {} {} -o {}",
        p("a.csv"),
        p("b.csv"),
        p("m.csv")
    ));
    assert_eq!(read_rows(&dir.join("m.csv")).unwrap(), rows);
    assert_summary_of(&merged, &dir.join("m.csv"));
    let stdout = String::from_utf8_lossy(&merged.stdout);
    assert!(stdout.contains("| sat | 10 | 1 | 1.00 | 2 |"), "{stdout}");

    // Overlapping files (a shard and the whole run, other timings): the first file's
    // rows are kept, and the summary is theirs.
    run_ok(&format!("{PLAIN} --shard 0/2 -o {}", p("s0.csv")));
    let merged = run_ok(&format!(
        "sweep merge {} {} -o {}",
        p("s0.csv"),
        p("a.csv"),
        p("m2.csv")
    ));
    assert_eq!(untimed(&dir.join("m2.csv")), untimed(&dir.join("a.csv")));
    assert_summary_of(&merged, &dir.join("m2.csv"));

    // Resuming a file with a row repeated keeps it once, in the file and the summary.
    let text = std::fs::read_to_string(dir.join("a.csv")).unwrap();
    let last = text.lines().last().unwrap();
    std::fs::write(dir.join("r.csv"), format!("{text}{last}\n")).unwrap();
    let resumed = run_ok(&format!("{PLAIN} --resume -o {}", p("r.csv")));
    assert_eq!(read_rows(&dir.join("r.csv")).unwrap(), rows);
    assert_summary_of(&resumed, &dir.join("r.csv"));

    // Resuming part of a file: the other rows stay, in the file and the summary.
    let head: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(dir.join("h.csv"), head.join("\n") + "\n").unwrap();
    let resumed = run_ok(&format!(
        "{} --resume -o {}",
        PLAIN.replace("sat,gd", "sat"),
        p("h.csv")
    ));
    let kept = read_rows(&dir.join("h.csv")).unwrap();
    assert_eq!(kept.len(), 3, "t0 gd from the file, t0 sat and t1 sat");
    assert_summary_of(&resumed, &dir.join("h.csv"));

    // A value given twice would run its points twice: refused.
    for (flag, list) in [
        ("--tokens", "10,10"),
        ("--ratios", "1,1"),
        ("--method", "sat,sat"),
    ] {
        let line = format!("sweep --tokens 10 --classes 2 --ratios 1 --trials 1 {flag} {list}");
        let out = run(&words(&line));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{line}: {err}");
        assert!(err.contains("twice") && err.lines().count() == 1, "{err}");
    }
}

/// `text` (a CSV row file) with cells of line `line` (from 1) replaced.
fn edit(text: &str, line: usize, cells: &[(&str, &str)]) -> String {
    let columns: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            let mut fields: Vec<String> = l.split(',').map(str::to_string).collect();
            if i + 1 == line {
                for (column, value) in cells {
                    let c = columns.iter().position(|c| c == column).unwrap();
                    fields[c] = value.to_string();
                }
            }
            fields.join(",") + "\n"
        })
        .collect()
}

/// Cells of a row file's line changed: (column, new text).
type Cells = &'static [(&'static str, &'static str)];

/// Impossible rows: (which file, line, cells changed, what the refusal says).
const IMPOSSIBLE: &[(&str, usize, Cells, &str)] = &[
    (
        "plain",
        3,
        &[("status", "maybe")],
        "status \"maybe\" is not sat, unsat or unknown",
    ),
    ("plain", 3, &[("method", "nn")], "unknown method \"nn\""),
    ("plain", 3, &[("classes", "11")], "at most N classes"),
    (
        "plain",
        3,
        &[("values", "0")],
        "at least one group, value and class",
    ),
    (
        "plain",
        3,
        &[("groups", "0")],
        "at least one group, value and class",
    ),
    (
        "plain",
        3,
        &[("noise", "1.5")],
        "noise 1.5 is not a probability",
    ),
    (
        "plain",
        3,
        &[("noise", "-0.5")],
        "noise -0.5 is not a probability",
    ),
    (
        "plain",
        3,
        &[("ratio", "-1")],
        "ratio must be a finite number >= 0",
    ),
    (
        "plain",
        3,
        &[("samples", "24")],
        "samples 24 is not round(ratio N ln N) = 23",
    ),
    (
        "plain",
        3,
        &[("samples_per_token", "9")],
        "samples_per_token 9 is not samples / N",
    ),
    ("plain", 3, &[("seconds", "-1")], "seconds -1 is not a time"),
    (
        "plain",
        3,
        &[("solve_s", "-0.25")],
        "solve_s -0.25 is not a time",
    ),
    (
        "plain",
        3,
        &[("seconds", "NaN")],
        "column seconds: \"NaN\" is not a value",
    ),
    ("plain", 3, &[("encode_s", "1e999")], "encode_s"),
    (
        "plain",
        3,
        &[("observed_fraction", "1.5")],
        "observed_fraction 1.5 is not a fraction",
    ),
    (
        "plain",
        3,
        &[("observed_fraction", "0")],
        "23 samples observe from 2 to 20",
    ),
    (
        "plain",
        3,
        &[("accuracy", "7.5")],
        "accuracy 7.5 is not a fraction",
    ),
    (
        "plain",
        3,
        &[("accuracy", "0.123")],
        "accuracy 0.123 is not a fraction",
    ),
    (
        "plain",
        3,
        &[("recovered", "true"), ("accuracy", "0.5")],
        "recovered true with accuracy 0.5",
    ),
    ("plain", 3, &[("accuracy", "")], "set or empty together"),
    (
        "plain",
        3,
        &[("dropped", "3")],
        "dropped 3 with method sat and noise 0",
    ),
    (
        "plain",
        3,
        &[("status", "unsat"), ("unique", "true")],
        "unique true with status unsat",
    ),
    (
        "plain",
        3,
        &[
            ("status", "unsat"),
            ("unique", ""),
            ("recovered", ""),
            ("accuracy", ""),
        ],
        "status unsat without noise",
    ),
    (
        "plain",
        3,
        &[
            ("unique", "true"),
            ("recovered", "true"),
            ("accuracy", "1"),
            ("timed_out", "true"),
        ],
        "unique true with timed_out true",
    ),
    (
        "plain",
        3,
        &[
            ("status", "unknown"),
            ("unique", ""),
            ("recovered", ""),
            ("accuracy", ""),
        ],
        "timed_out false with status unknown",
    ),
    (
        "plain",
        3,
        &[("unique", "")],
        "timed_out false with status sat and unique empty",
    ),
    (
        "plain",
        3,
        &[
            ("unique", ""),
            ("recovered", ""),
            ("accuracy", ""),
            ("timed_out", "true"),
        ],
        "status sat with recovered empty",
    ),
    (
        "plain",
        3,
        &[("status", "unknown"), ("unique", ""), ("timed_out", "true")],
        "status unknown with a partition",
    ),
    (
        "plain",
        3,
        &[
            ("unique", "true"),
            ("recovered", "false"),
            ("accuracy", "0.5"),
        ],
        "unique true but recovered false",
    ),
    (
        "plain",
        2,
        &[("timed_out", "true")],
        "gd runs without a deadline",
    ),
    (
        "plain",
        2,
        &[("unique", "false")],
        "gd never decides uniqueness",
    ),
    ("plain", 2, &[("clauses", "5")], "gd builds no CNF"),
    (
        "plain",
        2,
        &[("status", "unsat"), ("recovered", ""), ("accuracy", "")],
        "status unsat without noise",
    ),
    (
        "plain",
        2,
        &[("status", "sat"), ("recovered", ""), ("accuracy", "")],
        "method gd with status sat and recovered empty",
    ),
    ("noisy", 2, &[("dropped", "99")], "dropped 99 samples of 23"),
    (
        "noisy",
        2,
        &[("dropped", "")],
        "dropped empty and recovered",
    ),
    (
        "noisy",
        2,
        &[("values", "1"), ("classes", "1")],
        "no other value to flip to",
    ),
    (
        "noisy",
        2,
        &[
            ("status", "unsat"),
            ("unique", ""),
            ("recovered", ""),
            ("accuracy", ""),
            ("dropped", ""),
        ],
        "status unsat from the exact method with noise",
    ),
];

/// A refusal: exit 2, nothing on stdout, one line on stderr holding every fragment.
fn assert_refused(out: &std::process::Output, what: &str, fragments: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert!(out.stdout.is_empty(), "{what}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    for f in fragments {
        assert!(err.contains(f), "{what}: {f:?} not in {err}");
    }
}

#[test]
fn impossible_rows_are_refused_by_merge_and_resume_before_anything_is_written() {
    let dir = scratch("sweep-impossible");
    let p = |name: &str| dir.join(name).display().to_string();
    run_ok(&format!("{PLAIN} -o {}", p("plain.csv")));
    run_ok(&format!("{NOISY} -o {}", p("noisy.csv")));
    let base = |which: &str| std::fs::read_to_string(dir.join(format!("{which}.csv"))).unwrap();
    // Controls: the files as written merge and resume.
    for (which, line) in [("plain", PLAIN), ("noisy", NOISY)] {
        std::fs::write(dir.join("ok.csv"), base(which)).unwrap();
        run_ok(&format!("sweep merge {} -o {}", p("ok.csv"), p("ok-m.csv")));
        run_ok(&format!("{line} --resume -o {}", p("ok.csv")));
        assert_eq!(
            read_rows(&dir.join("ok.csv")).unwrap(),
            read_rows(&dir.join(format!("{which}.csv"))).unwrap()
        );
    }
    // Line 3 repeated with another count: two different rows for one point.
    let text = base("plain");
    let variables = read_rows(&dir.join("plain.csv")).unwrap()[1].variables + 1;
    let changed = edit(&text, 3, &[("variables", &variables.to_string())]);
    let conflict = format!("{text}{}\n", changed.lines().nth(2).unwrap());
    let mut cases: Vec<(String, String, &str, Vec<String>)> = vec![(
        "a conflicting repeated row".into(),
        conflict,
        PLAIN,
        vec![
            "bad.csv: line 6: the row for N=10, ratio 1, trial 0, method sat differs from".into(),
            "line 3's".into(),
        ],
    )];
    for (which, line, cells, says) in IMPOSSIBLE {
        cases.push((
            format!("{which} line {line} {cells:?}"),
            edit(&base(which), *line, cells),
            if *which == "plain" { PLAIN } else { NOISY },
            vec![format!("bad.csv: line {line}: "), says.to_string()],
        ));
    }
    let before = base("plain");
    for (what, text, sweep, says) in &cases {
        let says: Vec<&str> = says.iter().map(String::as_str).collect();
        std::fs::write(dir.join("bad.csv"), text).unwrap();
        std::fs::write(dir.join("out.csv"), &before).unwrap();
        let out = run(&words(&format!(
            "sweep merge {} {} -o {} --plot {}",
            p("plain.csv"),
            p("bad.csv"),
            p("out.csv"),
            p("out.svg")
        )));
        assert_refused(&out, &format!("merge, {what}"), &says);
        assert_eq!(
            std::fs::read_to_string(dir.join("out.csv")).unwrap(),
            before,
            "{what}"
        );
        assert!(!dir.join("out.svg").exists(), "{what}");
        let out = run(&words(&format!("{sweep} --resume -o {}", p("bad.csv"))));
        assert_refused(&out, &format!("resume, {what}"), &says);
        assert_eq!(
            &std::fs::read_to_string(dir.join("bad.csv")).unwrap(),
            text,
            "{what}"
        );
    }
}

/// A tiny grid: N = 200, ratio 1 (1060 samples), three trials.
const ZIPF_GRID: &str =
    "sweep --groups 2 --tokens 200 --classes 3 --values 2 --ratios 1 --trials 3 --seed 4 --jobs 1";

/// The instance `generate` makes with a row's parameters and seed (`extra`: its --zipf).
fn generated(r: &Row, extra: &str) -> Instance {
    let line = format!(
        "generate --groups {} --tokens {} --classes {} --values {} --samples {} --seed {} {extra}",
        r.groups, r.n, r.classes, r.values, r.samples, r.seed
    );
    Instance::from_json(&run_ok(&line).stdout, "generated").unwrap()
}

/// How often each token of group 0 occurs, and the fraction of all tokens observed
/// (as a row's `observed_fraction` counts it).
fn token_counts(inst: &Instance, n: u32) -> (Vec<usize>, f64) {
    let mut counts = vec![0; n as usize];
    let mut seen = HashSet::new();
    for s in 0..inst.num_samples() {
        counts[inst.x(s)[0] as usize] += 1;
        seen.extend(inst.x(s).iter().enumerate());
    }
    let groups = inst.x(0).len() as f64;
    (counts, seen.len() as f64 / (groups * f64::from(n)))
}

#[test]
fn zipf_sweeps_draw_tokens_by_zipfs_law_and_rows_record_it() {
    let dir = scratch("sweep-zipf");
    let p = |name: &str| dir.join(name).display().to_string();
    run_ok(&format!("{ZIPF_GRID} --zipf 1 -o {}", p("z.csv")));
    run_ok(&format!("{ZIPF_GRID} -o {}", p("u.csv")));
    let text = std::fs::read_to_string(dir.join("z.csv")).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",zipf"), "{text}");
    assert!(text.lines().skip(1).all(|l| l.ends_with(",1.0")), "{text}");
    let (zipf, uniform) = (
        read_rows(&dir.join("z.csv")).unwrap(),
        read_rows(&dir.join("u.csv")).unwrap(),
    );
    assert_eq!((zipf.len(), uniform.len()), (3, 3));
    for (z, u) in zipf.iter().zip(&uniform) {
        assert_eq!((z.zipf, u.zipf), (Some(1.0), None));
        // The same points and seeds: only the draws of the tokens differ.
        assert_eq!(
            (z.n, z.ratio, z.trial, z.seed, z.samples),
            (u.n, u.ratio, u.trial, u.seed, u.samples)
        );
        // Each row's instance is what `generate` makes with its seed, Zipfian or not.
        let (z_counts, z_observed) = token_counts(&generated(z, "--zipf 1"), z.n);
        let (u_counts, u_observed) = token_counts(&generated(u, ""), u.n);
        assert_eq!(z.observed_fraction, z_observed, "{z:?}");
        assert_eq!(u.observed_fraction, u_observed, "{u:?}");
        // Rare tokens go unseen: 1060 uniform draws observe about 99.5% of the tokens,
        // Zipf's law about 83%.
        assert!(
            u_observed > 0.97 && z_observed < 0.9,
            "{u_observed} {z_observed}"
        );
        // Token 0 is the most frequent, drawn with probability 1 / H_200 = 17% (about
        // 180 times), where uniform draws give no token more than a few dozen.
        let most = |c: &[usize]| c.iter().copied().max().unwrap();
        assert_eq!(z_counts[0], most(&z_counts), "{z_counts:?}");
        assert!(
            z_counts[0] > 4 * most(&u_counts),
            "{z_counts:?} {u_counts:?}"
        );
    }

    // Another token distribution is another experiment: resume and merge refuse it.
    let uniform_text = std::fs::read_to_string(dir.join("u.csv")).unwrap();
    let out = run(&words(&format!(
        "{ZIPF_GRID} --zipf 1 --resume -o {}",
        p("u.csv")
    )));
    assert_refused(
        &out,
        "resume a uniform file with --zipf 1",
        &["u.csv: line 2: a row from another experiment: uniform tokens (this sweep: zipf 1)"],
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("u.csv")).unwrap(),
        uniform_text
    );
    let out = run(&words(&format!(
        "{ZIPF_GRID} --zipf 2 --resume -o {}",
        p("z.csv")
    )));
    assert_refused(
        &out,
        "resume with --zipf 2",
        &["zipf 1 (this sweep: zipf 2)"],
    );
    let out = run(&words(&format!(
        "sweep merge {} {} -o {}",
        p("z.csv"),
        p("u.csv"),
        p("m.csv")
    )));
    assert_refused(
        &out,
        "merge",
        &["u.csv: line 2: groups 2, classes 3, values 2, noise 0, uniform tokens cannot be merged with", "zipf 1: another experiment"],
    );
    assert!(!dir.join("m.csv").exists());

    // A file written before the zipf column reads as uniform tokens.
    let old: String = uniform_text
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    std::fs::write(dir.join("old.csv"), &old).unwrap();
    let out = run(&words(&format!(
        "{ZIPF_GRID} --zipf 1 --resume -o {}",
        p("old.csv")
    )));
    assert_refused(
        &out,
        "resume an old file with --zipf 1",
        &["uniform tokens (this sweep: zipf 1)"],
    );
    run_ok(&format!("{ZIPF_GRID} --resume -o {}", p("old.csv")));
    assert_eq!(read_rows(&dir.join("old.csv")).unwrap(), uniform);

    // A bad exponent: one line naming the flag, as `generate` says it.
    for bad in ["-1", "8.5", "NaN", "inf"] {
        let out = run(&words(&format!(
            "{ZIPF_GRID} --zipf {bad} -o {}",
            p("bad.csv")
        )));
        assert_refused(&out, bad, &["--zipf must be an exponent from 0 to 8"]);
        let out = run(&words(&format!(
            "generate --tokens 10 --classes 2 --samples 5 --zipf {bad}"
        )));
        assert_refused(&out, bad, &["--zipf must be an exponent from 0 to 8"]);
    }
}
