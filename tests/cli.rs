//! Integration tests of the real `partrec` binary: exit codes, output formats,
//! bad input, checking, generation, DIMACS output, and timeouts.

mod common;

use common::{root, run, scratch, words, I2_N300_K3_V2};
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
            "--seed",
            seed,
        ]);
        let sol = solution(&out);
        assert_eq!(out.status.code(), Some(10), "{strategy}: {}", stderr(&out));
        (sol.count, sol.count_complete)
    })
    .collect();
    assert!(verdicts.windows(2).all(|w| w[0] == w[1]), "{verdicts:?}");
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
/// before the summary; `-q` hides it. Skipped, visibly, without util-linux's `script`.
#[test]
fn a_long_solve_on_a_terminal_shows_live_progress() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no `script` (util-linux) to give the solve a terminal");
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
        shown.contains("(timed out)"),
        "the summary follows: {shown}"
    );
    let quiet = on_terminal("-q");
    assert!(!quiet.contains("learnt clauses"), "{quiet}");
}

/// Every command's `--help` shows an example of it, every `partrec` line there names a
/// real command, and every shipped file an example names (`instances/...`) exists.
#[test]
fn every_help_example_names_real_commands_and_existing_files() {
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 15, "{commands:?}");
    let mut examples = 0;
    for command in &commands {
        let out = run(&[command, "--help"]);
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        let mut own = 0;
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() == Some(&"partrec") {
                let named = words.get(1).copied().unwrap_or("");
                assert!(commands.contains(&named), "{command}: {line}");
                own += usize::from(named == *command);
            }
            for word in words.iter().filter(|w| w.starts_with("instances/")) {
                assert!(
                    root().join(word).is_file(),
                    "{command}: {word} is not shipped"
                );
            }
            examples += 1;
        }
        assert!(own > 0, "`{command} --help` shows no example of {command}");
    }
    assert!(examples >= 20, "only {examples} examples");
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
