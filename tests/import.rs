//! Real data: `partrec import` of CSV/TSV tables with named tokens, names in the
//! answers, noisy samples (`generate --noise`, `solve --max-consistent`), and the
//! grammatical-gender example of instances/german/. Runs the real binary.

mod common;

use common::{root, run, scratch};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `partrec generate ARGS -q -o PATH`, which must succeed.
fn generated(path: &Path, args: &str) {
    let mut all: Vec<&str> = vec!["generate"];
    all.extend(args.split_whitespace());
    all.extend(["-q", "-o", s(path)]);
    let o = run(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Imports `text` (written to `name`) with `args`; the exit code and stderr.
fn import(dir: &Path, name: &str, text: &[u8], args: &[&str]) -> (i32, String) {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let out = dir.join(format!("{name}.json"));
    let mut all = vec!["import", s(&file)];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-q", "-o", s(&out)]);
    let o = run(&all);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).trim().to_string(),
    )
}

#[test]
fn bad_tables_are_one_clear_line_and_exit_2() {
    let dir = scratch("import-bad");
    let g = ["--group", "a", "--group", "b", "--value", "y"];
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "ragged",
            b"a,b,y\n1,2,3\n1,2\n",
            "line 3: 2 fields, but the header has 3",
        ),
        (
            "empty cell",
            b"a,b,y\n1,,3\n",
            "line 2: column \"b\" (a token) is empty",
        ),
        (
            "no column",
            b"a,c,y\n1,2,3\n",
            "line 1: no column \"b\" (--group)",
        ),
        (
            "twice",
            b"a,b,b,y\n1,2,3,4\n",
            "line 1: \"b\" names 2 columns",
        ),
        ("not utf-8", b"a,b,y\n1,\xff,3\n", "not UTF-8"),
        ("unclosed quote", b"a,b,y\n1,\"2,3\n", "line 2:"),
        ("empty file", b"", "no header row"),
    ];
    for (name, text, expected) in cases {
        let (code, err) = import(&dir, &format!("{}.csv", name.replace(' ', "-")), text, &g);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
    }
    let (code, err) = import(
        &dir,
        "weights.csv",
        b"a,b,y,w\n1,2,3,0\n",
        &[&g[..], &["--weight", "w"]].concat(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("weight \"0\" is not a whole number"), "{err}");
    let (code, err) = import(
        &dir,
        "k.csv",
        b"a,b,y\n1,2,3\n",
        &[&g[..], &["--classes", "2,2,2"]].concat(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("--classes has 3 values"), "{err}");
}

#[test]
fn quoted_cells_tabs_and_weights_are_read() {
    let dir = scratch("import-quoted");
    let text =
        "a,b,y,w\n\"x, one\",\"say \"\"hi\"\"\",p,2\nz,\"two\nlines\",q,1\n\"x, one\",k,p,3\n";
    let (code, err) = import(
        &dir,
        "q.csv",
        text.as_bytes(),
        &[
            "--group",
            "a",
            "--group",
            "b",
            "--value",
            "y",
            "--weight",
            "w",
            "--classes",
            "2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let inst = json(&dir.join("q.csv.json"));
    assert_eq!(inst["names"][0], serde_json::json!(["x, one", "z"]));
    assert_eq!(
        inst["names"][1],
        serde_json::json!(["say \"hi\"", "two\nlines", "k"])
    );
    assert_eq!(
        inst["samples"][2],
        serde_json::json!({"x": [0, 2], "y": "p", "w": 3})
    );
    let (code, err) = import(
        &dir,
        "t.tsv",
        b"a\tb\ty\nu\tv\t1\n",
        &["--group", "a", "--group", "b", "--value", "y"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&dir.join("t.tsv.json"))["samples"][0]["y"], "1");
}

/// The partition as sets of names, per group (classes renamed away).
fn named_classes(classes: &Value) -> Vec<BTreeSet<BTreeSet<String>>> {
    classes
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            g.as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    c.as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap().to_string())
                        .collect()
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_csv_made_from_an_instance_solves_to_its_partition_with_names() {
    let dir = scratch("import-roundtrip");
    let inst_path = dir.join("p.json");
    generated(
        &inst_path,
        "--groups 2 --tokens 30 --classes 3 --values 2 --ratio 8 --seed 4",
    );
    let inst = json(&inst_path);
    // Names that sort differently from the ids, so first-seen numbering differs.
    let name = |g: usize, t: u64| format!("{}{}", ["w", "c"][g], 97 - t);
    let mut csv = String::from("word,context,value\n");
    for sample in inst["samples"].as_array().unwrap() {
        let x = sample["x"].as_array().unwrap();
        let (a, b) = (x[0].as_u64().unwrap(), x[1].as_u64().unwrap());
        csv.push_str(&format!("{},{},{}\n", name(0, a), name(1, b), sample["y"]));
    }
    let (code, err) = import(
        &dir,
        "p.csv",
        csv.as_bytes(),
        &[
            "--group",
            "word",
            "--group",
            "context",
            "--value",
            "value",
            "--classes",
            "3",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let solve = |path: &Path, out: &Path| {
        let o = run(&["solve", s(path), "--unique", "-q", "-o", s(out)]);
        assert_eq!(o.status.code(), Some(10));
        json(out)
    };
    let direct = solve(&inst_path, &dir.join("direct.json"));
    let imported = solve(&dir.join("p.csv.json"), &dir.join("imported.json"));
    assert_eq!(direct["unique"], true);
    assert_eq!(imported["unique"], true);
    // The instance's own partition, written with the CSV's names.
    let expected: Vec<BTreeSet<BTreeSet<String>>> = direct["partition"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(g, row)| {
            let mut classes: std::collections::BTreeMap<u64, BTreeSet<String>> = Default::default();
            for (t, c) in row.as_array().unwrap().iter().enumerate() {
                classes
                    .entry(c.as_u64().unwrap())
                    .or_default()
                    .insert(name(g, t as u64));
            }
            classes.into_values().collect()
        })
        .collect();
    assert_eq!(named_classes(&imported["names"]), expected);
    let o = run(&["solve", s(&dir.join("p.csv.json"))]);
    let summary = String::from_utf8_lossy(&o.stderr);
    assert!(summary.contains("classes: group 0: {"), "{summary}");
}

#[test]
fn noisy_planted_instances_are_recovered_by_max_consistency() {
    let dir = scratch("noise");
    let mut recovered = 0;
    for seed in 1..=3 {
        let noisy = dir.join(format!("n{seed}.json"));
        generated(&noisy, &format!("--groups 2 --tokens 100 --classes 3 --values 2 --ratio 8 --seed {seed} --noise 0.01"));
        let flipped = json(&noisy)["meta"]["flipped"].as_array().unwrap().len();
        assert!(flipped > 10, "{flipped} flipped");
        assert_eq!(
            run(&["solve", s(&noisy), "-q"]).status.code(),
            Some(20),
            "noise makes it unsat"
        );
        let out = dir.join(format!("a{seed}.json"));
        let o = run(&["solve", s(&noisy), "--max-consistent", "-q", "-o", s(&out)]);
        assert_eq!(o.status.code(), Some(10));
        let a = json(&out);
        let m = &a["max_consistent"];
        assert_eq!(m["optimal"], true);
        assert!(m["dropped"].as_array().unwrap().len() <= flipped);
        assert_eq!(m["cost"], m["lower_bound"]);
        // The checker compares with the planted partition.
        let o = run(&["check", s(&noisy), s(&out)]);
        let verdict: Value = serde_json::from_slice(&o.stdout).unwrap();
        recovered += usize::from(verdict["equals_planted"] == true);
    }
    assert_eq!(recovered, 3);
    let o = run(&[
        "generate",
        "--tokens",
        "5",
        "--classes",
        "2",
        "--samples",
        "5",
        "--noise",
        "1.5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--noise must be a probability"));
}

/// The gender example: import, solve with --identify, score against nouns.csv.
fn gender(dir: &Path, table: &str, extra: &[&str]) -> (Value, f64, f64) {
    let german = root().join("instances").join("german");
    let inst = dir.join(format!("{table}.json"));
    common::import_german(table, &inst);
    let out = dir.join(format!("{table}.answer.json"));
    let mut args = vec!["solve", s(&inst), "-q", "-o", s(&out)];
    args.extend_from_slice(extra);
    assert_eq!(run(&args).status.code(), Some(10));
    let answer = json(&out);
    let genders: std::collections::HashMap<String, String> =
        std::fs::read_to_string(german.join("nouns.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let (n, g) = l.split_once(',').unwrap();
                (n.to_string(), g.to_string())
            })
            .collect();
    let classes = answer["names"][0].as_array().unwrap().clone();
    let score = |keep: &dyn Fn(&str) -> bool| -> (usize, usize) {
        let mut best = 0;
        for perm in [
            ["m", "f", "n"],
            ["m", "n", "f"],
            ["f", "m", "n"],
            ["f", "n", "m"],
            ["n", "m", "f"],
            ["n", "f", "m"],
        ] {
            let right: usize = classes
                .iter()
                .zip(perm)
                .map(|(c, g)| {
                    c.as_array()
                        .unwrap()
                        .iter()
                        .filter(|n| keep(n.as_str().unwrap()) && genders[n.as_str().unwrap()] == g)
                        .count()
                })
                .sum();
            best = best.max(right);
        }
        (best, genders.keys().filter(|n| keep(n)).count())
    };
    let (right, all) = score(&|_| true);
    let pinned: BTreeSet<String> = answer["identified_names"][0]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.as_array().unwrap().len() > 1)
                .flat_map(|b| {
                    b.as_array()
                        .unwrap()
                        .iter()
                        .map(|n| n.as_str().unwrap().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let (pinned_right, pinned_all) = score(&|n| pinned.contains(n));
    let pinned_accuracy = if pinned_all == 0 {
        0.0
    } else {
        pinned_right as f64 / pinned_all as f64
    };
    (answer, right as f64 / all as f64, pinned_accuracy)
}

#[test]
fn the_gender_example_recovers_the_genders_and_names_the_doubtful_nouns() {
    let dir = scratch("german");
    let (answer, accuracy, pinned) = gender(&dir, "gender.csv", &["--identify"]);
    assert!(accuracy >= 0.89, "accuracy {accuracy}");
    assert_eq!(pinned, 1.0);
    // The contexts: the plural nominative and accusative behave alike; the rest differ.
    let contexts = named_classes(&answer["names"]);
    let together: BTreeSet<String> = ["acc.pl", "nom.pl"].iter().map(|s| s.to_string()).collect();
    assert!(contexts[1].contains(&together));
    assert_eq!(contexts[1].len(), 7);
    // Nouns seen only in plural contexts are identified with no other noun.
    let blocks = answer["identified_names"][0].as_array().unwrap();
    let alone = blocks
        .iter()
        .filter(|b| b.as_array().unwrap().len() == 1)
        .count();
    assert!((6..=12).contains(&alone), "{alone} nouns alone");
    // With 2% of the articles corrupted, max-consistency drops exactly those rows.
    let (noisy, accuracy_noisy, _) = gender(&dir, "gender-noisy.csv", &["--max-consistent"]);
    let corrupted: Vec<u64> =
        std::fs::read_to_string(root().join("instances/german/corrupted.txt"))
            .unwrap()
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
    let dropped: Vec<u64> = noisy["max_consistent"]["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(dropped, corrupted);
    assert_eq!(noisy["max_consistent"]["optimal"], true);
    // The 64 nouns the clean samples pin down are right whatever the optimal model.
    assert!(
        accuracy_noisy >= 64.0 / 74.0 - 1e-9,
        "accuracy {accuracy_noisy}"
    );
}

#[test]
fn a_timeout_reports_the_best_partition_seen_as_unknown_never_optimal() {
    let dir = scratch("maxsat-timeout");
    let noisy = dir.join("hard.json");
    generated(
        &noisy,
        "--groups 3 --tokens 50 --classes 3 --values 2 --ratio 1.25 --seed 3 --noise 0.05",
    );
    let out = dir.join("a.json");
    let o = run(&[
        "solve",
        s(&noisy),
        "--max-consistent",
        "--timeout",
        "0.5",
        "-q",
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "unknown");
    let a = json(&out);
    let m = &a["max_consistent"];
    assert_eq!(a["status"], "unknown");
    assert_eq!(m["optimal"], false);
    assert_eq!(a["stats"]["timed_out"], true);
    assert!(m["cost"].as_u64().unwrap() >= m["lower_bound"].as_u64().unwrap());
    // The partition reported does violate exactly the samples it lists.
    let dropped = m["dropped"].as_array().unwrap().len() as u64;
    assert_eq!(dropped, m["cost"].as_u64().unwrap());
    // Without the dropped samples, the partition is consistent.
    let mut inst = json(&noisy);
    let gone: BTreeSet<u64> = m["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let kept: Vec<Value> = inst["samples"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(i, _)| !gone.contains(&(*i as u64)))
        .map(|(_, v)| v.clone())
        .collect();
    inst["samples"] = Value::Array(kept);
    let kept_path = dir.join("kept.json");
    std::fs::write(&kept_path, inst.to_string()).unwrap();
    let o = run(&["check", s(&kept_path), s(&out), "-q"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn sweeps_with_noise_record_it_and_refuse_to_resume_another_level() {
    let dir = scratch("sweep-noise");
    let rows = dir.join("rows.csv");
    let sweep = |noise: &str| {
        run(&[
            "sweep",
            "--groups",
            "2",
            "--tokens",
            "20",
            "--classes",
            "2",
            "--values",
            "2",
            "--ratios",
            "6",
            "--trials",
            "2",
            "--noise",
            noise,
            "-q",
            "-o",
            s(&rows),
            "--resume",
        ])
    };
    let o = sweep("0.05");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&rows).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|&h| h == name).unwrap();
    let (noise, dropped) = (column("noise"), column("dropped"));
    assert_eq!(dropped, noise + 1);
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[noise], "0.05");
        assert!(!cells[dropped].is_empty(), "{line}");
    }
    let o = sweep("0.1");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("noise 0.05 (this sweep: 0.1)"));
}

#[test]
fn refusals_of_the_review() {
    let dir = scratch("import-review");
    // Weights whose total passes 2^64 - 1.
    let heavy = dir.join("heavy.json");
    let w = u64::MAX;
    std::fs::write(
        &heavy,
        format!(r#"{{"groups":[{{"tokens":2,"classes":1}}],"samples":[{{"x":[0],"y":0,"w":{w}}},{{"x":[1],"y":1,"w":{w}}}]}}"#),
    )
    .unwrap();
    let o = run(&["solve", s(&heavy), "--max-consistent"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("add up to more than 2^64 - 1"));
    let o = run(&["solve", s(&heavy), "--max-consistent", "--count", "3"]);
    assert_eq!(o.status.code(), Some(2));
    // Devices are refused at once, not read forever.
    for args in [
        &["solve", "/dev/zero"][..],
        &["import", "/dev/zero", "--group", "a", "--value", "b"][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("/dev/zero: is a device"));
    }
    // One column in two roles; two tokens with one name.
    let (code, err) = import(
        &dir,
        "twice.csv",
        b"a,y\n1,2\n",
        &["--group", "a", "--value", "a"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("column \"a\" is named twice"), "{err}");
    let dup = dir.join("dup.json");
    std::fs::write(
        &dup,
        r#"{"groups":[{"tokens":2,"classes":1}],"names":[["a","a"]],"samples":[]}"#,
    )
    .unwrap();
    let o = run(&["solve", s(&dup)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("also names token 0"));
    // Names with line breaks and escapes keep the summary on one line.
    let (code, err) = import(
        &dir,
        "odd.csv",
        b"a,b,y\n\"x\ny\",\"\x1b[2J\",0\nz,k,1\n",
        &[
            "--group",
            "a",
            "--group",
            "b",
            "--value",
            "y",
            "--classes",
            "2",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let o = run(&["solve", s(&dir.join("odd.csv.json"))]);
    let summary = String::from_utf8_lossy(&o.stderr);
    assert_eq!(summary.trim_end().lines().count(), 1, "{summary}");
    assert!(
        summary.contains(r#""x\ny""#) && !summary.contains('\x1b'),
        "{summary}"
    );
}
