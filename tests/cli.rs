//! Integration tests of the real `partrec` binary: exit codes, output formats,
//! bad input, checking, generation, DIMACS output, and timeouts.

mod common;

use common::{root, run, scratch, skip, words, I2_N300_K3_V2};
use partrec::check::check;
use partrec::solve::solution::{Solution, Status};
use partrec::Instance;
use std::path::Path;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn solution(out: &std::process::Output) -> Solution {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn bad_instances_exit_2_with_one_line_naming_file_and_place() {
    let cases = [
        (
            "not-json.json",
            "not valid JSON: expected value at line 1 column 1",
        ),
        ("empty.json", "empty file"),
        ("missing-groups.json", "missing field `groups`"),
        ("zero-groups.json", "`groups` must not be empty"),
        (
            "tokens-zero.json",
            "groups[0].tokens must be an integer from 1",
        ),
        (
            "classes-zero.json",
            "groups[0].classes must be an integer from 1",
        ),
        (
            "tokens-negative.json",
            "groups[0].tokens must be an integer from 1 to 4294967295, got -3",
        ),
        ("classes-fractional.json", "got 1.5"),
        (
            "x-wrong-length.json",
            "samples[1].x has 1 tokens but samples[0].x has 2",
        ),
        (
            "token-out-of-range.json",
            "samples[1].x[1] = 3 is out of range: group 1 has 3 tokens",
        ),
        (
            "y-boolean.json",
            "samples[1].y: a value y must be a JSON number or string, got true at line 3",
        ),
        ("y-null.json", "must be a JSON number or string, got null"),
        ("y-array.json", "must be a JSON number or string, got ["),
        ("unknown-field.json", "unknown field `sampels`"),
        ("truncated.json", "not valid JSON: EOF while parsing"),
    ];
    for (file, want) in cases {
        let p = root().join("tests/data/bad").join(file);
        for command in ["solve", "encode"] {
            let out = run(&[command, path(&p)]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{command} {file}: {err}");
            assert_eq!(err.lines().count(), 1, "{command} {file}: one line: {err}");
            assert!(
                err.contains(file) && err.contains(want),
                "{command} {file}: {err}\nwant: {want}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}

#[test]
fn unreadable_path_and_bad_arguments_exit_2() {
    let out = run(&["solve", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no/such/file.json: No such file"),
        "{}",
        stderr(&out)
    );
    for secs in ["-1", "0", "nan", "1e300"] {
        let flag = format!("--timeout={secs}");
        let out = run(&["solve", "instances/planted-small.json", &flag]);
        assert_eq!(out.status.code(), Some(2), "--timeout {secs}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
    let out = run(&[
        "generate",
        "--tokens",
        "5",
        "--classes",
        "6",
        "--samples",
        "3",
        "--seed",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("6 classes cannot all be non-empty with 5 tokens"));
    let out = run(&[
        "generate",
        "--groups",
        "3",
        "--tokens",
        "5,6",
        "--classes",
        "2",
        "--samples",
        "3",
        "--seed",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--tokens has 2 values; expected 1 or 3"));
}

#[test]
fn a_strategy_that_cannot_run_is_exit_2_naming_the_flag() {
    let dir = scratch("strategy");
    // 7 + 7 classes: 7! * 7! class renamings, more than the table search's 5,040.
    let wide = dir.join("wide.json");
    std::fs::write(
        &wide,
        r#"{"groups":[{"tokens":9,"classes":7},{"tokens":9,"classes":7}],
            "samples":[{"x":[0,0],"y":0},{"x":[1,1],"y":1},{"x":[2,2],"y":0},{"x":[3,3],"y":1},
                       {"x":[4,4],"y":0},{"x":[5,5],"y":1},{"x":[6,6],"y":0},{"x":[7,7],"y":1}]}"#,
    )
    .unwrap();
    for (args, says) in [
        (
            vec!["solve", path(&wide), "--strategy", "table"],
            "--strategy table needs at most",
        ),
        (
            vec![
                "solve",
                "instances/three-groups.json",
                "--strategy",
                "portfolio",
                "--backend",
                "varisat",
            ],
            "--strategy portfolio needs a backend that can be interrupted",
        ),
        (
            vec![
                "solve",
                "instances/three-groups.json",
                "--strategy",
                "magic",
            ],
            "magic",
        ),
    ] {
        let out = run(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Every strategy, and CDCL on renamed formulas, gives the same verdict where the
    // table search can run.
    let small = dir.join("small.json");
    let line = format!(
        "generate --groups 3 --tokens 8 --classes 2 --values 2 --ratio 3 --seed 1 -q -o {}",
        path(&small)
    );
    assert_eq!(run(&words(&line)).status.code(), Some(0));
    let verdicts: Vec<_> = [
        ("auto", "0"),
        ("cdcl", "0"),
        ("cdcl", "3"),
        ("portfolio", "8"),
        ("table", "0"),
    ]
    .iter()
    .map(|&(strategy, seed)| {
        let out = run(&[
            "solve",
            path(&small),
            "--count",
            "5",
            "--strategy",
            strategy,
            "--search-seed",
            seed,
        ]);
        let sol = solution(&out);
        assert_eq!(out.status.code(), Some(10), "{strategy}: {}", stderr(&out));
        (sol.count, sol.count_complete)
    })
    .collect();
    assert!(verdicts.windows(2).all(|w| w[0] == w[1]), "{verdicts:?}");
    // `--seed`, the flag's old name, still runs (hidden from --help) and means the same.
    let with = |flag: &str| {
        let line = format!("solve {} --count 5 --strategy cdcl {flag} 3", path(&small));
        let out = run(&words(&line));
        assert_eq!(out.status.code(), Some(10), "{flag}: {}", stderr(&out));
        let sol = solution(&out);
        (sol.partition, sol.count)
    };
    assert_eq!(with("--seed"), with("--search-seed"));
    let help = String::from_utf8(run(&["solve", "--help"]).stdout).unwrap();
    assert!(help.contains("--search-seed <SEED>"), "{help}");
    assert!(
        !help.lines().any(|l| l.trim_start().starts_with("--seed")),
        "{help}"
    );
}

#[test]
fn shipped_instances_have_the_documented_verdicts() {
    let cases = [
        ("planted-small.json", Status::Sat, Some(true)),
        ("not-unique.json", Status::Sat, Some(false)),
        ("three-groups.json", Status::Sat, None),
        ("mixed-values.json", Status::Sat, Some(true)),
        ("k4-3colors.json", Status::Unsat, None),
        ("repeated-x.json", Status::Unsat, None),
        ("petersen-3colors.json", Status::Sat, None),
        ("myciel4-4colors.json", Status::Unsat, None),
    ];
    for (file, status, unique) in cases {
        let p = root().join("instances").join(file);
        let out = run(&["solve", path(&p), "--unique"]);
        assert_eq!(
            out.status.code(),
            Some(status.exit_code()),
            "{file}: {}",
            stderr(&out)
        );
        let sol = solution(&out);
        assert_eq!(sol.status, status, "{file}");
        if unique.is_some() {
            assert_eq!(sol.unique, unique, "{file}");
        }
        let inst = Instance::read(path(&p)).unwrap();
        if let Some(partition) = &sol.partition {
            assert!(check(&inst, partition).unwrap().consistent);
            if sol.unique == Some(true) {
                if let Some(planted) = &inst.planted {
                    assert!(
                        partrec::model::partition::same_partition(partition, &planted.partition),
                        "{file}"
                    );
                }
            }
        }
        if sol.unique == Some(false) {
            let w = sol.witness.as_ref().expect("a witness");
            assert!(check(&inst, w).unwrap().consistent);
            assert!(!partrec::model::partition::same_partition(
                w,
                sol.partition.as_ref().unwrap()
            ));
        }
    }
}

#[test]
fn planted_instances_are_recovered_at_high_ratio_and_not_unique_at_low_ratio() {
    let dir = scratch("planted");
    for seed in 1..=3 {
        for (ratio, unique) in [("8", true), ("0.5", false)] {
            let file = dir.join(format!("p{seed}-{ratio}.json"));
            let line = format!("generate {I2_N300_K3_V2} --ratio {ratio} --seed {seed}");
            let mut args = words(&line);
            args.extend(["-o", path(&file)]);
            let out = run(&args);
            assert!(out.status.success(), "{}", stderr(&out));
            let out = run(&["solve", path(&file), "--unique"]);
            assert_eq!(out.status.code(), Some(10));
            let sol = solution(&out);
            assert_eq!(sol.unique, Some(unique), "seed {seed} ratio {ratio}");
            let inst = Instance::read(path(&file)).unwrap();
            let verdict = check(&inst, sol.partition.as_ref().unwrap()).unwrap();
            assert!(verdict.consistent);
            if unique {
                assert!(verdict.planted.unwrap().equals_planted);
            } else {
                assert!(
                    check(&inst, sol.witness.as_ref().unwrap())
                        .unwrap()
                        .consistent
                );
            }
        }
    }
}

#[test]
fn generate_is_deterministic_and_planted_is_consistent() {
    let args = [
        "generate",
        "--groups",
        "3",
        "--tokens",
        "20,15,10",
        "--classes",
        "3,2,2",
        "--values",
        "3",
        "--samples",
        "500",
        "--seed",
        "42",
    ];
    let a = run(&args);
    let b = run(&args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    let inst = Instance::from_json(&a.stdout, "generated").unwrap();
    assert_eq!(inst.num_samples(), 500);
    let planted = inst.planted.clone().unwrap();
    assert!(check(&inst, &planted.partition).unwrap().consistent);
    assert_eq!(planted.table.unwrap().len(), 12);
    let meta: serde_json::Value = serde_json::from_str(inst.meta.unwrap().get()).unwrap();
    assert_eq!(meta["seed"], 42);
    assert_eq!(meta["values"], 3);
}

#[test]
fn check_judges_right_and_wrong_partitions() {
    let dir = scratch("check");
    let inst = root().join("instances/planted-small.json");
    let out = run(&["solve", path(&inst)]);
    let good = dir.join("good.json");
    std::fs::write(&good, &out.stdout).unwrap();
    let out = run(&["check", path(&inst), path(&good)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("consistent; equals the planted partition"));

    // Move one token of group 0 to another class: some pair must now conflict.
    let mut sol = solution(&run(&["solve", path(&inst)]));
    let p = sol.partition.as_mut().unwrap();
    p[0][0] = (p[0][0] + 1) % 3;
    let bad = dir.join("bad.json");
    std::fs::write(&bad, serde_json::to_string(&sol).unwrap()).unwrap();
    let out = run(&["check", path(&inst), path(&bad)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("inconsistent") && err.contains("share class tuple"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &report["conflicts"][0];
    let (a, b) = (
        c["samples"][0].as_u64().unwrap(),
        c["samples"][1].as_u64().unwrap(),
    );
    assert_ne!(c["y"][0], c["y"][1]);
    let instance = Instance::read(path(&inst)).unwrap();
    assert_eq!(serde_json::json!(instance.x(a as usize)), c["x"][0]);
    assert_eq!(serde_json::json!(instance.x(b as usize)), c["x"][1]);
}

#[test]
fn check_rejects_malformed_solutions_with_exit_2() {
    let inst = root().join("tests/data/check-instance.json");
    let cases = [
        (
            "wrong-group-count.json",
            "partition has 1 groups, expected 2",
        ),
        (
            "wrong-token-count.json",
            "partition group 0 lists 2 classes, expected one for each of its 3 tokens",
        ),
        (
            "class-out-of-range.json",
            "partition group 0 token 1: class 2 is not in 0..1",
        ),
        ("no-partition.json", "no `partition` to check"),
        ("not-an-object.json", "not a valid solution"),
    ];
    for (file, want) in cases {
        let p = root().join("tests/data/solutions").join(file);
        let out = run(&["check", path(&inst), path(&p)]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(file) && err.contains(want), "{file}: {err}");
    }
}

#[test]
fn reads_standard_input_and_writes_output_files() {
    use std::io::Write;
    use std::process::Stdio;
    let text = std::fs::read(root().join("instances/planted-small.json")).unwrap();
    let mut child = common::partrec()
        .args(["solve", "-", "--unique"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(10));
    assert_eq!(solution(&out).unique, Some(true));

    let dir = scratch("output");
    let file = dir.join("sol.json");
    let out = run(&["solve", "instances/planted-small.json", "-o", path(&file)]);
    assert_eq!(out.status.code(), Some(10));
    assert!(out.stdout.is_empty());
    let sol: Solution = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(sol.status, Status::Sat);
}

#[test]
fn count_reports_exact_totals_and_lower_bounds() {
    // not-unique.json has many partitions: a small limit is reached and says so.
    let out = run(&["solve", "instances/not-unique.json", "--count", "5"]);
    let sol = solution(&out);
    assert_eq!(
        (sol.count, sol.count_complete, sol.unique),
        (Some(5), Some(false), Some(false))
    );
    let out = run(&["solve", "instances/mixed-values.json", "--count", "50"]);
    let sol = solution(&out);
    assert_eq!(
        (sol.count, sol.count_complete, sol.unique),
        (Some(1), Some(true), Some(true))
    );
}

#[test]
fn encode_writes_dimacs_that_a_solver_reads() {
    let out = run(&["encode", "instances/k4-3colors.json"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("c class 1 3 ")));
    let mut solver = varisat::Solver::new();
    solver.add_dimacs_cnf(text.as_bytes()).unwrap();
    assert!(!solver.solve().unwrap(), "K4 is not 3-colourable");
    let out = run(&["encode", "instances/planted-small.json"]);
    let mut solver = varisat::Solver::new();
    solver.add_dimacs_cnf(&out.stdout[..]).unwrap();
    assert!(solver.solve().unwrap());
}

#[test]
fn timeout_reports_unknown_or_what_was_proven_and_stops() {
    // An I=3 instance in the hard regime: far more than a second for varisat.
    let dir = scratch("timeout");
    let file = dir.join("hard.json");
    let out = run(&[
        "generate",
        "--groups",
        "3",
        "--tokens",
        "60",
        "--classes",
        "3",
        "--values",
        "2",
        "--ratio",
        "1.5",
        "--seed",
        "11",
        "-o",
        path(&file),
    ]);
    assert!(out.status.success());
    let start = std::time::Instant::now();
    let out = run(&["solve", path(&file), "--unique", "--timeout", "0.5"]);
    let took = start.elapsed();
    let sol = solution(&out);
    assert!(sol.stats.timed_out, "{}", stderr(&out));
    assert_ne!(sol.status, Status::Unsat, "a timeout never claims unsat");
    assert_eq!(out.status.code(), Some(sol.status.exit_code()));
    assert!(
        took.as_secs_f64() < 30.0,
        "the child is killed at the deadline (took {took:?})"
    );
    if sol.status == Status::Sat {
        let inst = Instance::read(path(&file)).unwrap();
        assert!(
            check(&inst, sol.partition.as_ref().unwrap())
                .unwrap()
                .consistent
        );
        assert_ne!(
            sol.unique,
            Some(true),
            "uniqueness cannot be proven after a timeout"
        );
    }
    // With a generous deadline the same path gives the full answer.
    let out = run(&[
        "solve",
        "instances/planted-small.json",
        "--unique",
        "--timeout",
        "60",
    ]);
    let sol = solution(&out);
    assert_eq!(
        (sol.status, sol.unique, sol.stats.timed_out),
        (Status::Sat, Some(true), false)
    );
}

#[test]
fn count_through_the_binary_equals_brute_force_on_40_tiny_instances() {
    let dir = scratch("count");
    let mut nontrivial = 0;
    for seed in 0..40u64 {
        let inst = common::tiny_instance(10_000 + seed);
        let truth = common::brute::consistent_partitions(&inst).len() as u64;
        let file = dir.join(format!("t{seed}.json"));
        std::fs::write(&file, inst.to_json()).unwrap();
        let out = run(&["solve", path(&file), "--count", "100000"]);
        let sol = solution(&out);
        assert_eq!(sol.count, Some(truth), "seed {seed}: {}", inst.to_json());
        assert_eq!(sol.count_complete, Some(true));
        assert_eq!(out.status.code(), Some(if truth == 0 { 20 } else { 10 }));
        nontrivial += usize::from(truth > 1);
    }
    assert!(nontrivial > 10);
}

#[test]
fn a_supervised_solve_whose_supervisor_is_gone_exits_instead_of_solving() {
    // The supervisor's pid is in the environment; a child started after its supervisor
    // died (here: a pid that is not its parent) must not run on unsupervised. The hard
    // instance is undecided after 30 s, so an exit within seconds means it never solved.
    let start = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_partrec"))
        .args([
            "solve",
            path(&root().join("instances/hard-three-groups.json")),
            "--unique",
        ])
        .env("PARTREC_SUPERVISED", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}

/// On a terminal (a pseudo-terminal from `script`), a long solve shows a live line on
/// standard error with the elapsed time, the phase and CaDiCaL's learnt clauses, cleared
/// before the summary; `-q` hides it. Skipped (and recorded as skipped) without
/// util-linux's `script`.
#[test]
fn a_long_solve_on_a_terminal_shows_live_progress() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        skip(
            "script",
            "no `script` (util-linux) to give the solve a terminal",
        );
        return;
    }
    let bin = env!("CARGO_BIN_EXE_partrec");
    let hard = root().join("instances/hard-three-groups.json");
    let on_terminal = |extra: &str| {
        let command = format!(
            "{bin} solve {} --unique --timeout 5 --backend cadical -o /dev/null {extra}",
            path(&hard)
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = on_terminal("");
    assert!(shown.contains(" s, "), "{shown}");
    assert!(shown.contains("learnt clauses"), "{shown}");
    // Within 5 s the line shows the phase the main search is in: the local search
    // (from the warm start's classes, then from random ones) or CDCL.
    assert!(
        ["local search", "searching", "deciding uniqueness"]
            .iter()
            .any(|phase| shown.contains(phase)),
        "{shown}"
    );
    assert!(
        shown.contains("timed out after"),
        "the summary follows: {shown}"
    );
    let quiet = on_terminal("-q");
    assert!(!quiet.contains("learnt clauses"), "{quiet}");
}

/// `partrec ARGS --help`'s text.
fn help(args: &[&str]) -> String {
    let mut args = args.to_vec();
    args.push("--help");
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The commands a `--help` lists (without clap's `help`).
fn commands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

/// Every command, each as its words after `partrec` (`["graph", "random"]` too).
fn every_command() -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = Vec::new();
    let mut todo: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(prefix) = todo.pop() {
        let words: Vec<&str> = prefix.iter().map(String::as_str).collect();
        for command in commands_in(&help(&words)) {
            let mut path = prefix.clone();
            path.push(command);
            todo.push(path.clone());
            all.push(path);
        }
    }
    all.sort();
    all
}

/// The lines of a `--help`'s block that starts with a line beginning `title`.
fn block<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| !l.starts_with(title))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// The exit codes a `--help` documents (each line of its exit-code block that starts
/// with a number), refusing a code listed twice.
fn exit_codes(command: &str, help: &str) -> Vec<i32> {
    let mut codes = Vec::new();
    for line in block(help, "Exit codes") {
        if let Some(Ok(code)) = line.split_whitespace().next().map(str::parse::<i32>) {
            assert!(!codes.contains(&code), "{command}: exit code {code} twice");
            codes.push(code);
        }
    }
    assert!(codes.contains(&2), "{command}: {codes:?}");
    codes
}

/// Every command's `--help` shows an example of it, every `partrec` line there names a
/// real command, every shipped file an example names (`instances/...`) exists, each
/// exit code is listed once, and every example runs as printed: in order (a line may
/// read what an earlier one wrote), in a scratch folder that holds the shipped
/// `instances/`, each `partrec` command of a line (`a && b`, `a | other`) exiting with
/// a code its command's `--help` documents. `serve`, which runs until stopped, is
/// shown but not run.
#[test]
fn every_help_example_names_real_commands_and_runs_as_printed() {
    let commands: Vec<String> = commands_in(&help(&[]));
    assert!(commands.len() >= 17, "{commands:?}");
    let codes: std::collections::HashMap<&str, Vec<i32>> = commands
        .iter()
        .map(|c| (c.as_str(), exit_codes(c, &help(&[c]))))
        .collect();
    let top = root().join("target").join("test-scratch").join("examples");
    let _ = std::fs::remove_dir_all(&top);
    let mut examples = 0;
    let mut ran = 0;
    for command in &commands {
        let text = help(&[command]);
        let dir = top.join(command);
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(root().join("instances"), dir.join("instances")).unwrap();
        let mut own = 0;
        for line in block(&text, "Examples:") {
            examples += 1;
            let words: Vec<&str> = line.split_whitespace().collect();
            for word in words.iter().filter(|w| w.starts_with("instances/")) {
                assert!(
                    root().join(word).is_file(),
                    "{command}: {word} is not shipped"
                );
            }
            for part in line.split("&&") {
                let part = part.split(" | ").next().unwrap();
                let words: Vec<&str> = part.split_whitespace().collect();
                if words.first() != Some(&"partrec") {
                    continue;
                }
                let named = words.get(1).copied().unwrap_or("");
                assert!(commands.iter().any(|c| c == named), "{command}: {line}");
                own += usize::from(named == command);
                if named == "serve" {
                    continue;
                }
                let out = common::partrec()
                    .args(&words[1..])
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                let code = out.status.code().unwrap_or(-1);
                let err = stderr(&out);
                assert!(
                    codes[named].contains(&code) && !err.contains("panicked"),
                    "`{part}` (from `{command} --help`) exited {code}, not one of {:?}: {err}",
                    codes[named]
                );
                ran += 1;
            }
        }
        assert!(own > 0, "`{command} --help` shows no example of {command}");
    }
    assert!(examples >= 20, "only {examples} examples");
    assert!(ran >= 30, "only {ran} examples ran");
}

/// A flag whose values are an enumeration shows them in `--help` (`--via
/// <reduction|direct>`) instead of a placeholder: every flag shown with an uppercase
/// placeholder is given a value no enumeration has, and clap's error must not list
/// possible values (it would, for a flag whose values are listed).
#[test]
fn every_enumerated_flag_lists_its_values_in_help() {
    let dir = scratch("enum-flags");
    let mut placeholders = 0;
    for command in every_command() {
        let words: Vec<&str> = command.iter().map(String::as_str).collect();
        let text = help(&words);
        for line in text.lines().map(str::trim_start) {
            let mut parts = line.split_whitespace();
            let flag = match parts.next() {
                Some(short) if short.ends_with(',') => parts.next(),
                first => first,
            };
            let (Some(flag), Some(value)) = (flag, parts.next()) else {
                continue;
            };
            if !flag.starts_with("--") || !value.starts_with('<') {
                continue;
            }
            let name = value.trim_matches(|c| c == '<' || c == '>' || c == '.');
            if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                placeholders += 1;
                let mut args = words.clone();
                args.extend([flag, "zz-none-of-them"]);
                let out = common::partrec()
                    .args(&args)
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                let err = stderr(&out);
                assert!(
                    !err.contains("possible values"),
                    "{command:?}: `{flag} {value}` hides its values: {err}"
                );
            }
        }
    }
    assert!(placeholders >= 20, "only {placeholders} placeholders");
    for (command, shown) in [
        (vec!["color"], "--via <reduction|direct>"),
        (vec!["color"], "--backend <cadical|varisat>"),
        (vec!["solve"], "--strategy <auto|cdcl|table|portfolio>"),
        (vec!["sweep"], "--method <sat|gd>"),
        (vec!["import"], "--delimiter <,|;|tab>"),
        (vec!["completions"], "<bash|elvish|fish|powershell|zsh>"),
    ] {
        let text = help(&command);
        assert!(text.contains(shown), "{command:?}: {text}");
    }
    // The values are what the flag takes.
    let out = run(&[
        "color",
        "instances/graphs/petersen.col",
        "--colors",
        "3",
        "--via",
        "direct",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
}

/// `-q/--quiet` is taken by every command, and every command that writes a result
/// takes `-o/--output` (`convert` names its output as an argument; `serve` writes none).
#[test]
fn every_command_takes_quiet_and_output() {
    for command in every_command() {
        let words: Vec<&str> = command.iter().map(String::as_str).collect();
        let text = help(&words);
        assert!(text.contains("-q, --quiet"), "{command:?}: {text}");
        if !["convert", "serve"].contains(&words[0]) {
            assert!(text.contains("-o, --output <FILE>"), "{command:?}: {text}");
        }
    }
    let dir = scratch("quiet");
    let col = dir.join("p.col");
    let out = run(&["graph", "petersen", "-q", "-o", path(&col)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sol = dir.join("sol.json");
    let colouring = dir.join("colouring.json");
    for line in [
        format!("-q solve instances/petersen-3colors.json -o {}", path(&sol)),
        format!(
            "extract {} {} -q -o {}",
            path(&col),
            path(&sol),
            path(&colouring)
        ),
        format!(
            "lift {} {} --colors 3 -q --pretty",
            path(&col),
            path(&colouring)
        ),
    ] {
        let out = run(&words(&line));
        assert!(
            [0, 10].contains(&out.status.code().unwrap()),
            "{line}: {}",
            stderr(&out)
        );
        assert!(stderr(&out).is_empty(), "{line}: {}", stderr(&out));
    }
    let lifted = run(&words(&format!(
        "lift {} {} --colors 3 -q --pretty",
        path(&col),
        path(&colouring)
    )));
    let text = String::from_utf8(lifted.stdout).unwrap();
    assert!(text.starts_with("{\n"), "--pretty indents: {text}");
    // Without -q the summary line is there.
    let out = run(&["solve", "instances/planted-small.json"]);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

/// A misspelled flag, command or value is one line on stderr (exit 2) with clap's
/// suggestion and the `--help` of the command meant.
#[test]
fn a_misspelling_gets_one_line_with_a_suggestion() {
    for (line, says) in [
        (
            "solve instances/planted-small.json --uniqe",
            "unexpected argument '--uniqe' found; did you mean '--unique'? (see partrec solve --help)",
        ),
        (
            "solv instances/planted-small.json",
            "unrecognized subcommand 'solv'; did you mean 'solve'? (see partrec --help)",
        ),
        (
            "graph randm 5 0.1",
            "did you mean 'random'? (see partrec graph --help)",
        ),
        (
            "color instances/graphs/petersen.col --colors 3 --via dirct",
            "did you mean 'direct'? (see partrec color --help)",
        ),
        (
            "sweep merge a.csv --outptu b.csv",
            "did you mean '--output'? (see partrec sweep merge --help)",
        ),
    ] {
        let out = run(&words(line));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{line}: {err}");
        assert_eq!(err.lines().count(), 1, "{line}: {err}");
        assert!(err.starts_with("partrec: ") && err.contains(says), "{line}: {err}");
    }
    // An argument that is not UTF-8 is no reason to panic.
    let out = common::partrec()
        .args(["solve", "--uniqe"])
        .arg(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xff.json"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("(see partrec solve --help)"), "{err}");
    let out = run(&words("solve instances/planted-small.json --zzzzzz"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
    assert!(err.contains("(see partrec solve --help)"), "{err}");
}

/// `partrec completions SHELL` prints a completion script of the whole command line;
/// `partrec man` a roff manual page with a section for every command.
#[test]
fn completions_and_the_manual_cover_every_command() {
    let out = run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let bash = String::from_utf8(out.stdout).unwrap();
    assert!(
        bash.contains("solve") && bash.contains("--unique"),
        "{bash}"
    );
    assert!(bash.contains("--search-seed") && bash.contains("cadical"));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains("--unique"), "{shell}: {script}");
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    let dir = scratch("man");
    let file = dir.join("partrec.1");
    let out = run(&["man", "-o", path(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.starts_with(".TH "), "{page}");
    for command in every_command() {
        let title = format!(".SH \"PARTREC {}\"", command.join(" ").to_uppercase());
        assert!(page.contains(&title), "no {title}");
    }
    assert!(page.contains("search\\-seed"), "the options are in it");
    assert!(
        !page.contains("PARTREC WORKER"),
        "the hidden command is not"
    );
    assert_eq!(
        page.matches(".ds Aq").count(),
        2,
        "one definition of the apostrophe"
    );
}

/// The summary line on stderr names what each count counts, and a timeout's reports
/// the formula that was searched (the portfolio keeps the member that searched one)
/// and where the deadline struck, as the JSON answer does.
#[test]
fn the_summary_line_says_what_was_counted_and_searched() {
    let out = run(&["solve", "instances/planted-small.json", "--unique"]);
    let err = stderr(&out);
    assert!(
        err.contains(
            "sat, unique, 1 consistent partition; 816 samples, 9 distinct after merging the 60 \
             tokens whose class propagation decided; CNF of 24 variables and 84 clauses; "
        ),
        "{err}"
    );
    let hard = "instances/hard-three-groups.json";
    for strategy in ["portfolio", "cdcl"] {
        let line = format!("solve {hard} --unique --timeout 3 --strategy {strategy}");
        let out = run(&words(&line));
        let (sol, err) = (solution(&out), stderr(&out));
        let st = &sol.stats;
        assert!(st.timed_out, "{strategy}: {err}");
        assert!(err.contains("; timed out after "), "{strategy}: {err}");
        let phase = st.stopped_in.as_deref().expect("where it stopped");
        assert!(err.trim_end().ends_with(phase), "{strategy}: {err}");
        let searched = format!(
            "; CNF of {} variables and {} clauses",
            st.variables, st.clauses
        );
        if st.variables > 0 {
            assert!(err.contains(&searched), "{strategy}: {err}");
            assert!(
                ["searching", "deciding uniqueness"].contains(&phase),
                "{err}"
            );
        } else {
            assert!(err.contains("; no CNF built; "), "{strategy}: {err}");
        }
        if strategy == "portfolio" {
            // Its second member searches CDCL from the start: there is a formula.
            assert!(st.variables > 0, "{err}");
        }
    }
}

/// Standard input redirected from a file is that file: `-o` onto it is refused.
#[test]
fn an_output_onto_the_file_standard_input_reads_is_refused() {
    let dir = scratch("stdin-alias");
    let file = dir.join("ps.json");
    std::fs::copy(root().join("instances/planted-small.json"), &file).unwrap();
    let before = std::fs::read(&file).unwrap();
    let out = common::partrec()
        .args(["solve", "-", "-o", file.to_str().unwrap()])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("standard input"), "{err}");
    assert_eq!(std::fs::read(&file).unwrap(), before);
}
