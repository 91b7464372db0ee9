//! `partrec learn` through the binary: it recovers easy planted partitions, its
//! answers are honest (`sat` exactly when the checker accepts), it is deterministic,
//! and bad arguments exit 2.

mod common;

use common::{run, scratch, words};
use partrec::check::check;
use partrec::Instance;
use serde_json::Value;

/// Generates I = 2, N = 100, K = 3, V = 2 at `ratio` with `seed`, learns it; returns (exit code, report, instance).
fn learn_planted(ratio: f64, seed: u64) -> (i32, Value, Instance) {
    let dir = scratch(&format!("learn-{ratio}-{seed}"));
    let file = dir.join("i.json");
    let line = format!(
        "generate --groups 2 --tokens 100 --classes 3 --values 2 --ratio {ratio} --seed {seed} -o {}",
        file.display()
    );
    assert!(run(&words(&line)).status.success());
    let out = run(&words(&format!("learn {} --seed {seed}", file.display())));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let instance = Instance::read(file.to_str().unwrap()).unwrap();
    (out.status.code().unwrap(), report, instance)
}

fn partition(value: &Value) -> Vec<Vec<u32>> {
    serde_json::from_value(value.clone()).unwrap()
}

/// `sat` (exit 10) with a consistent `partition`, or `unknown` (exit 0) with an inconsistent `candidate`.
fn assert_honest(code: i32, report: &Value, instance: &Instance) {
    match report["status"].as_str() {
        Some("sat") => {
            assert_eq!(code, 10);
            assert!(
                check(instance, &partition(&report["partition"]))
                    .unwrap()
                    .consistent
            );
            assert!(report.get("candidate").is_none());
        }
        Some("unknown") => {
            assert_eq!(code, 0);
            assert!(report["partition"].is_null());
            let verdict = check(instance, &partition(&report["candidate"])).unwrap();
            assert!(!verdict.consistent);
            assert_eq!(report["conflicting_samples"], verdict.conflicting_samples);
        }
        other => panic!("unexpected status {other:?}"),
    }
}

#[test]
fn recovers_at_ratio_8_and_is_honest_at_ratio_1() {
    let mut recovered = 0;
    for seed in 1..=5 {
        let (code, report, instance) = learn_planted(8.0, seed);
        assert_honest(code, &report, &instance);
        recovered += usize::from(report["planted"]["equals_planted"] == true);
        assert!(report["training"]["steps"].as_u64().unwrap() > 0);
        assert!(report["training"]["final_loss"]
            .as_f64()
            .unwrap()
            .is_finite());
    }
    assert!(recovered >= 4, "recovered {recovered}/5");
    for seed in 1..=5 {
        let (code, report, instance) = learn_planted(1.0, seed);
        assert_honest(code, &report, &instance);
        assert!(report["planted"]["accuracy"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn is_deterministic_for_a_seed_and_reads_any_instance() {
    let path = common::root().join("instances/three-groups.json");
    let line = format!("learn {} --seed 4 --steps 300", path.display());
    let (a, b) = (run(&words(&line)), run(&words(&line)));
    let strip = |out: &std::process::Output| {
        let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for key in ["train_seconds", "cluster_seconds", "seconds"] {
            v["training"][key] = Value::Null;
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));
    let instance = Instance::read(path.to_str().unwrap()).unwrap();
    assert_honest(a.status.code().unwrap(), &strip(&a), &instance);
}

#[test]
fn bad_arguments_exit_2() {
    for extra in [
        "--steps 0",
        "--lr 0",
        "--restarts 0",
        "--lambda=-1",
        "--lr nan",
    ] {
        let out = run(&words(&format!(
            "learn instances/planted-small.json {extra}"
        )));
        assert_eq!(out.status.code(), Some(2), "{extra}");
    }
    let out = run(&words("learn no/such.json"));
    assert_eq!(out.status.code(), Some(2));
}
