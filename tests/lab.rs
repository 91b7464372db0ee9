//! Interoperability with the lab in ../shared/lab: instances from its
//! independent generator (gen.py) and verdicts from its independent checker
//! (check.py). Skipped, and recorded as skipped (`common::skip`), where ../shared or
//! Python is missing.
//!
//! Python is taken from $PARTREC_LAB_PYTHON, else target/lab-venv/bin/python
//! (made by .ci/run), else python3; gen.py also needs numpy.

mod common;

use common::{root, run, scratch, shared, skip, words, I2_N300_K3_V2};
use partrec::solve::solution::Solution;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The first Python that runs; none is a skip.
fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PARTREC_LAB_PYTHON").map(PathBuf::from),
        Some(root().join("target/lab-venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    let found = candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    });
    if found.is_none() {
        skip(
            "python",
            "no Python ($PARTREC_LAB_PYTHON, target/lab-venv or python3)",
        );
    }
    found
}

fn has_numpy(py: &Path) -> bool {
    Command::new(py)
        .args(["-c", "import numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs check.py and returns (exit code, report).
fn check_py(py: &Path, lab: &Path, instance: &Path, solution: &Path) -> (i32, serde_json::Value) {
    let out = Command::new(py)
        .arg(lab.join("check.py"))
        .arg(instance)
        .arg(solution)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), report)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn gen_py_instances_solve_and_pass_check_py() {
    let Some(shared) = shared() else { return };
    let Some(py) = python() else { return };
    if !has_numpy(&py) {
        skip(
            "numpy",
            &format!("{} has no numpy (gen.py needs it)", py.display()),
        );
        return;
    }
    let lab = shared.join("lab");
    let dir = scratch("lab-gen");
    for seed in [3, 4] {
        for (ratio, unique) in [("8", true), ("0.5", false)] {
            let inst = dir.join(format!("g{seed}-{ratio}.json"));
            let status = Command::new(&py)
                .arg(lab.join("gen.py"))
                .args(words(&format!("{I2_N300_K3_V2} --ratio {ratio}")))
                .args(["--seed", &seed.to_string(), "-o", s(&inst)])
                .status()
                .unwrap();
            assert!(status.success());
            let out = run(&["solve", s(&inst), "--unique"]);
            assert_eq!(out.status.code(), Some(10));
            let sol: Solution = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(sol.unique, Some(unique), "seed {seed} ratio {ratio}");
            let sol_file = dir.join(format!("s{seed}-{ratio}.json"));
            std::fs::write(&sol_file, &out.stdout).unwrap();
            let (code, report) = check_py(&py, &lab, &inst, &sol_file);
            assert_eq!(code, 0, "{report}");
            if unique {
                assert_eq!(report["equals_planted"], true, "{report}");
            } else {
                let witness = dir.join(format!("w{seed}-{ratio}.json"));
                let w = serde_json::json!({"status": "sat", "partition": sol.witness.unwrap(), "unique": false});
                std::fs::write(&witness, w.to_string()).unwrap();
                assert_eq!(check_py(&py, &lab, &inst, &witness).0, 0);
            }
        }
    }
}

#[test]
fn generated_instances_pass_check_py_with_their_planted_partition() {
    let Some(shared) = shared() else { return };
    let Some(py) = python() else { return };
    let lab = shared.join("lab");
    let dir = scratch("lab-check");
    let shapes = [
        format!("{I2_N300_K3_V2} --ratio 4"),
        "--groups 3 --tokens 40,30,20 --classes 2,3,4 --values 3 --samples 2000".to_string(),
        "--groups 1 --tokens 50 --classes 4 --values 4 --samples 100".to_string(),
    ];
    for (i, shape) in shapes.iter().enumerate() {
        let inst = dir.join(format!("i{i}.json"));
        let mut args = vec!["generate", "--seed", "9", "-o", s(&inst)];
        args.extend(words(shape));
        assert!(run(&args).status.success());
        let planted: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&inst).unwrap()).unwrap();
        let sol_file = dir.join(format!("planted{i}.json"));
        let sol =
            serde_json::json!({"status": "sat", "partition": planted["planted"]["partition"]});
        std::fs::write(&sol_file, sol.to_string()).unwrap();
        let (code, report) = check_py(&py, &lab, &inst, &sol_file);
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["equals_planted"], true);
        // And partrec's own answer passes the lab's judge.
        let out = run(&["solve", s(&inst), "--unique"]);
        let answer = dir.join(format!("answer{i}.json"));
        std::fs::write(&answer, &out.stdout).unwrap();
        assert_eq!(check_py(&py, &lab, &inst, &answer).0, 0);
    }
}
