//! Certified answers end to end: `solve --certify` on unsat, unique and complete-count
//! instances, `verify-certificate` on what it wrote, the external DRAT checker `rate`
//! on every proof, and tampered certificates rejected. In process: certificates on
//! tiny instances agree with brute force.

mod common;

use common::brute::consistent_partitions;
use common::{root, run, scratch, skip, tiny_instance, words};
use partrec::proof::{verify_claim, ClaimKind, Entry, MANIFEST};
use partrec::solve::{solve, SolveOptions};
use partrec::Instance;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The external checker: `$PARTREC_RATE`, `rate` on the PATH (`.ci/run` installs it
/// with `cargo install rate`) or in `~/.cargo/bin`. Without it the external check is
/// skipped, and recorded as skipped ([`skip`]).
fn rate() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/rate"));
    let candidates = [
        std::env::var_os("PARTREC_RATE").map(PathBuf::from),
        Some(PathBuf::from("rate")),
        home,
    ];
    let found = candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        skip(
            "rate",
            "the external DRAT check: no `rate` (cargo install rate --version 0.3.0)",
        );
    }
    found
}

fn manifest(dir: &Path) -> Vec<Entry> {
    serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Solves `instance` with `flags` and `--certify`, expects `code` and one `claim`, and
/// checks the certificate with `verify-certificate` and with `rate`.
fn certified(instance: &Path, flags: &str, code: i32, claim: ClaimKind, dir: &Path) {
    let mut args = vec!["solve", path(instance), "-q", "--certify", path(dir)];
    args.extend(words(flags));
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{instance:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = manifest(dir);
    assert_eq!(entries.len(), 1, "{instance:?}");
    assert_eq!(entries[0].claim, claim, "{instance:?}");
    let out = run(&["verify-certificate", path(instance), path(dir), "-q"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{instance:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(rate) = rate() {
        let out = Command::new(rate)
            .arg(dir.join(&entries[0].cnf))
            .arg(dir.join(&entries[0].proof))
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && said.contains("s VERIFIED"),
            "{instance:?}: rate says {said}"
        );
    }
}

/// A generated instance, written to `dir/name.json`.
fn generated(dir: &Path, name: &str, flags: &str) -> PathBuf {
    let file = dir.join(format!("{name}.json"));
    let line = format!("generate {flags} -q -o {}", path(&file));
    assert_eq!(run(&words(&line)).status.code(), Some(0), "{line}");
    file
}

#[test]
fn unsat_unique_and_complete_counts_are_certified_and_verified_twice() {
    let dir = scratch("certify");
    let shipped = |f: &str| root().join("instances").join(f);
    // Reductions of graphs that are not colourable with that many colours.
    certified(
        &shipped("k4-3colors.json"),
        "",
        20,
        ClaimKind::Unsat,
        &dir.join("k4"),
    );
    certified(
        &shipped("myciel4-4colors.json"),
        "--unique",
        20,
        ClaimKind::Unsat,
        &dir.join("myciel4"),
    );
    let petersen = dir.join("petersen.col");
    assert_eq!(
        run(&["graph", "petersen", "-o", path(&petersen)])
            .status
            .code(),
        Some(0)
    );
    let reduced = dir.join("petersen-2.json");
    let out = run(&[
        "reduce",
        path(&petersen),
        "--colors",
        "2",
        "-o",
        path(&reduced),
        "-q",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    certified(&reduced, "", 20, ClaimKind::Unsat, &dir.join("petersen"));
    // Unique planted instances at I = 2 and I = 3.
    certified(
        &shipped("planted-small.json"),
        "--unique",
        10,
        ClaimKind::Unique,
        &dir.join("planted"),
    );
    let three = generated(
        &dir,
        "three",
        "--groups 3 --tokens 20 --classes 2 --values 2 --ratio 6 --seed 4",
    );
    certified(
        &three,
        "--unique",
        10,
        ClaimKind::Unique,
        &dir.join("three"),
    );
    // A planted instance with one label flipped: inconsistent.
    let planted = generated(
        &dir,
        "flip",
        "--groups 2 --tokens 20 --classes 3 --values 2 --ratio 6 --seed 2",
    );
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&planted).unwrap()).unwrap();
    let y = &mut doc["samples"][0]["y"];
    *y = serde_json::json!(1 - y.as_u64().unwrap());
    std::fs::write(&planted, doc.to_string()).unwrap();
    certified(
        &planted,
        "--unique",
        20,
        ClaimKind::Unsat,
        &dir.join("flip"),
    );
    // Few samples: several partitions, all counted.
    let sparse = generated(
        &dir,
        "sparse",
        "--groups 2 --tokens 6 --classes 2 --values 2 --ratio 1 --seed 1",
    );
    certified(
        &sparse,
        "--count 100000",
        10,
        ClaimKind::CountComplete,
        &dir.join("sparse"),
    );
    let entries = manifest(&dir.join("sparse"));
    assert!(entries[0].partitions.len() >= 2, "{:?}", entries[0].count);
}

#[test]
fn a_truncated_proof_or_a_dropped_clause_is_rejected() {
    let dir = scratch("certify-tamper");
    let instance = root().join("instances/myciel4-4colors.json");
    let cert = dir.join("cert");
    certified(&instance, "", 20, ClaimKind::Unsat, &cert);
    let entry = &manifest(&cert)[0];
    let (cnf, proof) = (cert.join(&entry.cnf), cert.join(&entry.proof));
    let original_proof = std::fs::read_to_string(&proof).unwrap();
    let original_cnf = std::fs::read_to_string(&cnf).unwrap();
    let rejected = |says: &str| {
        let out = run(&["verify-certificate", path(&instance), path(&cert)]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
    };
    // Cut anywhere: at half, or only the final empty clause.
    let lines: Vec<&str> = original_proof.lines().collect();
    for keep in [lines.len() / 2, lines.len() - 1] {
        std::fs::write(&proof, lines[..keep].join("\n") + "\n").unwrap();
        rejected(&entry.proof);
        // rate accepts a proof whose lemmas end in a propagation conflict without the
        // empty clause written out; partrec's checker asks for it.
        if let (Some(rate), true) = (rate(), keep == lines.len() / 2) {
            let out = Command::new(rate).arg(&cnf).arg(&proof).output().unwrap();
            assert!(!out.status.success(), "rate accepted a proof cut at {keep}");
        }
    }
    std::fs::write(&proof, &original_proof).unwrap();
    // One clause of the CNF dropped (the header kept, or fixed): not this instance's CNF.
    let cnf_lines: Vec<&str> = original_cnf.lines().collect();
    let mut dropped = cnf_lines.clone();
    dropped.remove(cnf_lines.len() / 2);
    std::fs::write(&cnf, dropped.join("\n") + "\n").unwrap();
    rejected(&entry.cnf);
    let header: Vec<&str> = cnf_lines[0].split_whitespace().collect();
    let fewer = header[3].parse::<usize>().unwrap() - 1;
    let fixed = format!("p cnf {} {fewer}\n{}\n", header[2], dropped[1..].join("\n"));
    std::fs::write(&cnf, fixed).unwrap();
    rejected(&entry.cnf);
    std::fs::write(&cnf, &original_cnf).unwrap();
    // A claim on another instance, and a manifest naming a file outside the folder.
    let other = root().join("instances/k4-3colors.json");
    let out = run(&["verify-certificate", path(&other), path(&cert)]);
    assert_eq!(out.status.code(), Some(2));
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cert.join(MANIFEST)).unwrap()).unwrap();
    doc[0]["proof"] = serde_json::json!("../../../etc/passwd");
    std::fs::write(cert.join(MANIFEST), doc.to_string()).unwrap();
    rejected("not a file name inside the certificate folder");
    // rests_on must say what the claim rests on; a file must be a regular file.
    certified(&instance, "", 20, ClaimKind::Unsat, &cert);
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cert.join(MANIFEST)).unwrap()).unwrap();
    doc[0]["rests_on"] = serde_json::json!([]);
    std::fs::write(cert.join(MANIFEST), doc.to_string()).unwrap();
    rejected("rests_on does not list");
    certified(&instance, "", 20, ClaimKind::Unsat, &cert);
    let entry = &manifest(&cert)[0];
    let outside = dir.join("outside.drat");
    std::fs::rename(cert.join(&entry.proof), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, cert.join(&entry.proof)).unwrap();
    rejected("is not a regular file");
    // The untouched certificate still verifies.
    certified(&instance, "", 20, ClaimKind::Unsat, &cert);
}

#[test]
fn a_count_beyond_u64_is_not_verified() {
    let dir = scratch("certify-overflow");
    let instance = |tokens: u32| {
        format!(
            r#"{{"groups":[{{"tokens":{tokens},"classes":2}},{{"tokens":2,"classes":2}}],
                "samples":[{{"x":[0,0],"y":0}},{{"x":[1,1],"y":1}}]}}"#
        )
    };
    let (small, big) = (dir.join("small.json"), dir.join("big.json"));
    std::fs::write(&small, instance(4)).unwrap();
    std::fs::write(&big, instance(80)).unwrap();
    let cert = dir.join("cert");
    certified(&small, "--count 1000", 10, ClaimKind::CountComplete, &cert);
    // The same observed tokens (so the same CNF), 76 more free tokens: about 2^78
    // partitions, claimed as u64::MAX.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(cert.join(MANIFEST)).unwrap()).unwrap();
    for p in doc[0]["partitions"].as_array_mut().unwrap() {
        p[0].as_array_mut()
            .unwrap()
            .resize(80, serde_json::json!(0));
    }
    doc[0]["count"] = serde_json::json!(u64::MAX);
    std::fs::write(cert.join(MANIFEST), doc.to_string()).unwrap();
    let out = run(&["verify-certificate", path(&big), path(&cert)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("too many to certify"), "{err}");
}

#[test]
fn certificates_on_tiny_instances_agree_with_brute_force() {
    let (mut unsat, mut unique, mut counted) = (0, 0, 0);
    for seed in 0..400 {
        let instance: Instance = tiny_instance(seed);
        let options = SolveOptions {
            certify: true,
            ..SolveOptions::count(300)
        };
        let sol = solve(&instance, &options, &mut |_| {}).unwrap();
        let all = consistent_partitions(&instance).len() as u64;
        let Some(cert) = &sol.certificate else {
            // No claim: the count was capped.
            assert!(
                all >= 300 || sol.count_complete != Some(true),
                "seed {seed}"
            );
            continue;
        };
        assert_eq!(cert.entry.count, all, "seed {seed}");
        match cert.entry.claim {
            ClaimKind::Unsat => unsat += 1,
            ClaimKind::Unique => unique += 1,
            ClaimKind::CountComplete => counted += 1,
        }
        verify_claim(
            &instance,
            &cert.entry,
            cert.dimacs.as_bytes(),
            cert.drat.as_bytes(),
        )
        .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // The proof is not the CNF's by accident: without its last lemma it fails.
        let cut: Vec<&str> = cert.drat.lines().collect();
        let cut = cut[..cut.len() - 1].join("\n") + "\n";
        assert!(
            verify_claim(
                &instance,
                &cert.entry,
                cert.dimacs.as_bytes(),
                cut.as_bytes()
            )
            .is_err(),
            "seed {seed}"
        );
    }
    assert!(
        unsat >= 20 && unique >= 20 && counted >= 20,
        "{unsat} {unique} {counted}"
    );
}

#[test]
fn explain_and_identify_through_the_binary() {
    let shipped = |f: &str| root().join("instances").join(f);
    for (file, kind, size) in [
        ("k4-3colors.json", "too_many_different", 9),
        ("repeated-x.json", "same_tokens", 2),
    ] {
        let out = run(&["explain", path(&shipped(file))]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(20), "{file}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("inconsistent: "), "{err}");
        let why: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(why["reason"]["kind"], kind, "{file}");
        assert_eq!(why["samples"].as_array().unwrap().len(), size, "{file}");
    }
    let out = run(&["explain", path(&shipped("planted-small.json")), "-q"]);
    assert_eq!(out.status.code(), Some(10));
    let out = run(&["explain", "no-such-file.json"]);
    assert_eq!(out.status.code(), Some(2));
    // A unique instance: the identified blocks are the partition, every token pinned.
    let out = run(&[
        "solve",
        path(&shipped("planted-small.json")),
        "--identify",
        "-q",
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["identified"], answer["partition"]);
    let pinned = answer["pinned"].as_array().unwrap();
    assert!(pinned
        .iter()
        .all(|g| g.as_array().unwrap().iter().all(|b| b == true)));
    // Without --identify, neither field.
    let out = run(&["solve", path(&shipped("planted-small.json")), "-q"]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(answer.get("identified").is_none() && answer.get("pinned").is_none());
}

#[test]
fn a_deadline_makes_explain_unknown_and_withdraws_a_certified_claim() {
    let hard = root().join("instances/hard-three-groups.json");
    let started = std::time::Instant::now();
    let out = run(&["explain", path(&hard), "--timeout", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "unknown");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // A certified solve cut short claims nothing and writes an empty manifest.
    let dir = scratch("certify-deadline").join("cert");
    let out = run(&[
        "solve",
        path(&hard),
        "--unique",
        "--timeout",
        "1",
        "--certify",
        path(&dir),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(manifest(&dir).is_empty());
}

/// A copy of certificate folder `from` at `to`, its manifest parsed.
fn copy_certificate(from: &Path, to: &Path) -> serde_json::Value {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    serde_json::from_slice(&std::fs::read(to.join(MANIFEST)).unwrap()).unwrap()
}

/// Runs `verify-certificate instance dir` and expects a refusal: exit 2, one line on
/// standard error that says `says`.
fn refused(instance: &Path, dir: &Path, says: &str, case: &str) {
    let out = run(&["verify-certificate", path(instance), path(dir)]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{case}: {err}");
    assert_eq!(err.lines().count(), 1, "{case}: {err}");
    assert!(err.contains(says), "{case}: expected {says:?} in {err}");
}

/// Drops the last clause of a DIMACS file and fixes its header.
fn drop_last_clause(cnf: &Path) {
    let text = std::fs::read_to_string(cnf).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let header: Vec<String> = lines[0].split_whitespace().map(String::from).collect();
    let fewer = header[3].parse::<usize>().unwrap() - 1;
    lines.pop();
    let fixed = format!("p cnf {} {fewer}\n{}\n", header[2], lines[1..].join("\n"));
    std::fs::write(cnf, fixed).unwrap();
}

/// Every field of a certificate is re-derived: a forged claim kind, count, partition
/// list, file layout, `rests_on` or proof is refused, whatever else is left intact.
#[test]
fn forged_certificates_are_refused() {
    let dir = scratch("certify-forged");
    let write = |name: &str, text: &str| {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        file
    };
    // Token 2 of group 0 is in no sample: two partitions, a complete count of 2.
    let free = write(
        "free.json",
        r#"{"groups":[{"tokens":3,"classes":2},{"tokens":1,"classes":1}],
            "samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":1}]}"#,
    );
    // The same samples with two free tokens: the same CNF, another count.
    let freer = write(
        "freer.json",
        r#"{"groups":[{"tokens":4,"classes":2},{"tokens":1,"classes":1}],
            "samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":1}]}"#,
    );
    let count2 = dir.join("count2");
    certified(&free, "--count 10", 10, ClaimKind::CountComplete, &count2);
    let unique = dir.join("unique");
    let planted = root().join("instances/planted-small.json");
    certified(&planted, "--unique", 10, ClaimKind::Unique, &unique);
    let unsat = dir.join("unsat");
    let k4 = root().join("instances/k4-3colors.json");
    certified(&k4, "", 20, ClaimKind::Unsat, &unsat);
    let sparse = generated(
        &dir,
        "sparse",
        "--groups 2 --tokens 6 --classes 2 --values 2 --ratio 1 --seed 1",
    );
    let many = dir.join("many");
    certified(
        &sparse,
        "--count 100000",
        10,
        ClaimKind::CountComplete,
        &many,
    );
    assert!(manifest(&many)[0].partitions.len() >= 3);

    let forged = dir.join("forged");
    let save = |doc: &serde_json::Value| {
        std::fs::write(forged.join(MANIFEST), doc.to_string()).unwrap();
    };
    let rename = |from: &str, to: &str| {
        std::fs::rename(forged.join(from), forged.join(to)).unwrap();
    };

    // A count of 2 renamed to a unique claim (the files renamed too): the free token
    // doubles the count, so the claim cannot be unique.
    let mut doc = copy_certificate(&count2, &forged);
    rename("count_complete.cnf", "unique.cnf");
    rename("count_complete.drat", "unique.drat");
    doc[0]["claim"] = "unique".into();
    doc[0]["cnf"] = "unique.cnf".into();
    doc[0]["proof"] = "unique.drat".into();
    save(&doc);
    refused(
        &free,
        &forged,
        "a count_complete claim",
        "count renamed unique",
    );
    doc[0]["count"] = 1.into();
    save(&doc);
    refused(
        &free,
        &forged,
        "a count_complete claim",
        "count renamed unique, count 1",
    );
    // The count changed, the claim kept.
    let mut doc = copy_certificate(&count2, &forged);
    doc[0]["count"] = 1.into();
    save(&doc);
    refused(&free, &forged, "count 2, not 1", "count lowered");
    doc[0]["count"] = 3.into();
    save(&doc);
    refused(&free, &forged, "count 2, not 3", "count raised");
    // The honest certificate (its partition given the extra token), checked against an
    // instance with one more free token: 4 partitions, not 2.
    let mut doc = copy_certificate(&count2, &forged);
    doc[0]["partitions"][0][0]
        .as_array_mut()
        .unwrap()
        .push(0.into());
    save(&doc);
    refused(&freer, &forged, "count 4, not 2", "another instance");

    // A unique claim renamed to a count, or to unsat without its partition.
    let mut doc = copy_certificate(&unique, &forged);
    doc[0]["claim"] = "count_complete".into();
    save(&doc);
    refused(&planted, &forged, "a unique claim", "unique renamed count");
    let mut doc = copy_certificate(&unique, &forged);
    doc[0]["claim"] = "unsat".into();
    doc[0]["partitions"] = serde_json::json!([]);
    doc[0]["count"] = 0.into();
    save(&doc);
    refused(&planted, &forged, "unique.cnf", "unique renamed unsat");
    // A listed partition of the wrong shape, or inconsistent.
    let mut doc = copy_certificate(&unique, &forged);
    doc[0]["partitions"][0][0].as_array_mut().unwrap().pop();
    save(&doc);
    refused(&planted, &forged, "a listed partition", "short partition");
    let mut doc = copy_certificate(&unsat, &forged);
    let k4_instance: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&k4).unwrap()).unwrap();
    let zeros: Vec<Vec<u32>> = k4_instance["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| vec![0; g["tokens"].as_u64().unwrap() as usize])
        .collect();
    doc[0]["claim"] = "unique".into();
    doc[0]["partitions"] = serde_json::json!([zeros]);
    doc[0]["count"] = 1.into();
    save(&doc);
    refused(&k4, &forged, "inconsistent", "unsat claimed unique");

    // Partitions dropped, duplicated, or repeated with a free token moved.
    let mut doc = copy_certificate(&many, &forged);
    let listed = doc[0]["partitions"].as_array().unwrap().len() as u64;
    let total = doc[0]["count"].as_u64().unwrap();
    doc[0]["partitions"].as_array_mut().unwrap().pop();
    save(&doc);
    refused(&sparse, &forged, "count", "a partition dropped");
    // ... with the count lowered and the CNF's blocking clause dropped to match: the CNF
    // is then the right one, and the proof no longer refutes it.
    let dropped = partrec::proof::verify_claim(
        &Instance::read(path(&sparse)).unwrap(),
        &serde_json::from_value(doc[0].clone()).unwrap(),
        b"",
        b"",
    )
    .unwrap_err()
    .to_string();
    let recount: u64 = dropped
        .split("count ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{dropped}"));
    assert!(recount < total && listed >= 3);
    doc[0]["count"] = recount.into();
    save(&doc);
    drop_last_clause(&forged.join("count_complete.cnf"));
    refused(
        &sparse,
        &forged,
        "count_complete.drat",
        "a partition and its clause dropped",
    );
    let mut doc = copy_certificate(&many, &forged);
    let first = doc[0]["partitions"][0].clone();
    doc[0]["partitions"].as_array_mut().unwrap().push(first);
    save(&doc);
    refused(&sparse, &forged, "listed twice", "a partition listed twice");
    let mut doc = copy_certificate(&count2, &forged);
    let mut moved = doc[0]["partitions"][0].clone();
    moved[0][2] = (1 - moved[0][2].as_u64().unwrap()).into();
    doc[0]["partitions"].as_array_mut().unwrap().push(moved);
    save(&doc);
    refused(&free, &forged, "listed twice", "a free token moved");

    // rests_on: an item left out, one added, the order changed.
    for (case, edit) in [
        ("rests_on shortened", 0),
        ("rests_on lengthened", 1),
        ("rests_on reordered", 2),
    ] {
        let mut doc = copy_certificate(&count2, &forged);
        let items = doc[0]["rests_on"].as_array_mut().unwrap();
        match edit {
            0 => {
                items.pop();
            }
            1 => items.push("nothing else".into()),
            _ => items.swap(0, 1),
        }
        save(&doc);
        refused(&free, &forged, "rests_on does not list", case);
    }

    // The format, the file layout, and the manifest itself.
    let mut doc = copy_certificate(&unsat, &forged);
    doc[0]["format"] = "lrat".into();
    save(&doc);
    refused(&k4, &forged, "only \"drat\"", "another format");
    let mut doc = copy_certificate(&unsat, &forged);
    doc[0]["proof"] = "unsat.cnf".into();
    save(&doc);
    refused(
        &k4,
        &forged,
        "three different files",
        "the CNF as its proof",
    );
    let mut doc = copy_certificate(&unsat, &forged);
    doc[0]["cnf"] = MANIFEST.into();
    save(&doc);
    refused(
        &k4,
        &forged,
        "three different files",
        "the manifest as the CNF",
    );
    let mut doc = copy_certificate(&unsat, &forged);
    let again = doc[0].clone();
    doc.as_array_mut().unwrap().push(again);
    save(&doc);
    refused(&k4, &forged, "lists 2 claims", "a claim twice");
    let mut doc = copy_certificate(&unsat, &forged);
    doc[0]["extra"] = true.into();
    save(&doc);
    refused(
        &k4,
        &forged,
        "not a valid list of claims",
        "an unknown field",
    );
    // A name through a folder, even one inside DIR that links outside it.
    let outside = dir.join("outside");
    copy_certificate(&unsat, &outside);
    let mut doc = copy_certificate(&unsat, &forged);
    std::os::unix::fs::symlink(&outside, forged.join("sub")).unwrap();
    doc[0]["cnf"] = "sub/unsat.cnf".into();
    save(&doc);
    refused(&k4, &forged, "not a file name inside", "a symlinked folder");
    // Another claim's proof (of a smaller formula, which does not refute this one).
    let myciel = dir.join("myciel");
    let myciel4 = root().join("instances/myciel4-4colors.json");
    certified(&myciel4, "", 20, ClaimKind::Unsat, &myciel);
    copy_certificate(&myciel, &forged);
    std::fs::copy(unsat.join("unsat.drat"), forged.join("unsat.drat")).unwrap();
    refused(&myciel4, &forged, "unsat.drat", "another instance's proof");

    // The honest certificates still verify.
    for (instance, cert) in [(&free, &count2), (&planted, &unique), (&k4, &unsat)] {
        let out = run(&["verify-certificate", path(instance), path(cert), "-q"]);
        assert_eq!(out.status.code(), Some(0), "{cert:?}");
    }
}

/// A certificate's claim kind follows from its count, and a unique claim may rest on
/// free tokens that cannot move (a group with one class).
#[test]
fn a_unique_claim_with_free_tokens_that_cannot_move_verifies() {
    let dir = scratch("certify-fixed-free");
    let file = dir.join("i.json");
    std::fs::write(
        &file,
        r#"{"groups":[{"tokens":2,"classes":2},{"tokens":5,"classes":1}],
            "samples":[{"x":[0,0],"y":0},{"x":[1,0],"y":1}]}"#,
    )
    .unwrap();
    let cert = dir.join("cert");
    certified(&file, "--unique", 10, ClaimKind::Unique, &cert);
    let out = run(&["verify-certificate", path(&file), path(&cert)]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "verified");
    assert_eq!(report["claims"][0]["count"], 1);
    for (count, kind) in [
        (0, ClaimKind::Unsat),
        (1, ClaimKind::Unique),
        (2, ClaimKind::CountComplete),
        (u64::MAX - 1, ClaimKind::CountComplete),
    ] {
        assert_eq!(ClaimKind::of_count(count), kind);
    }
}

/// A certified solve cut short by its deadline keeps the partition it found before
/// certifying, with its claims withdrawn (`unique` null, an empty manifest); if it
/// finished in time, the claim is there and verifies.
#[test]
fn a_deadline_during_certify_keeps_the_partition_found() {
    let dir = scratch("certify-keeps");
    let instance = generated(
        &dir,
        "g16k",
        "--groups 2 --tokens 16000 --classes 3 --values 2 --ratio 6 --seed 1",
    );
    // The deadline is set from a plain solve on this machine (four times its time, at
    // least 2 s): reading the instance twice (a certified solve under a deadline runs
    // in a child process) and solving fit, the certificate (about ten times longer
    // at this size) usually does not; both outcomes are checked below.
    let start = std::time::Instant::now();
    let plain = run(&["solve", path(&instance), "--unique", "-q"]);
    assert_eq!(plain.status.code(), Some(10));
    let timeout = format!("{:.2}", (4.0 * start.elapsed().as_secs_f64()).max(2.0));
    let cert = dir.join("cert");
    let out = run(&[
        "solve",
        path(&instance),
        "--unique",
        "--certify",
        path(&cert),
        "--timeout",
        &timeout,
        "-q",
    ]);
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"], "sat", "{answer}");
    assert!(
        answer["partition"].is_array(),
        "the partition was lost: {answer}"
    );
    let claims = manifest(&cert);
    if answer["unique"].is_null() {
        assert!(claims.is_empty());
        assert_eq!(answer["stats"]["timed_out"], true);
    } else {
        assert_eq!(claims.len(), 1);
        let verified = run(&["verify-certificate", path(&instance), path(&cert), "-q"]);
        assert_eq!(verified.status.code(), Some(0));
    }
}
