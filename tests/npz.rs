//! NumPy `.npz` instances through the binary: the fixtures in `tests/data/npz/`,
//! written by numpy itself (`tests/data/make_npz.py`), read back identically to
//! their JSON twins and solve to the same answer; the bad ones are refused with
//! exit 2 and one line; `convert` goes both ways and `generate -o FILE.npz` writes
//! what the reader reads.

mod common;

use common::{root, run, scratch};
use partrec::Instance;

/// The fixtures with a JSON twin.
const GOOD: [&str; 3] = ["savez", "compressed", "planted"];

fn fixture(name: &str) -> String {
    root()
        .join("tests/data/npz")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn numpy_archives_read_as_their_json_twins_and_solve_alike() {
    for name in GOOD {
        let npz = fixture(&format!("{name}.npz"));
        let json = fixture(&format!("{name}.json"));
        let a = Instance::read(&npz).unwrap_or_else(|e| panic!("{e}"));
        let b = Instance::read(&json).unwrap();
        assert_eq!(a.to_json(), b.to_json(), "{name}");
        // The same answer, timings aside.
        let solved: Vec<_> = [&npz, &json]
            .iter()
            .map(|f| {
                let out = run(&["solve", f, "--unique", "-q"]);
                let mut answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                answer.as_object_mut().unwrap().remove("stats");
                (out.status.code(), answer)
            })
            .collect();
        assert_eq!(solved[0].0, Some(10), "{name}");
        assert_eq!(solved[0], solved[1], "{name}");
        // `check` and `encode` read .npz too (any case of the extension).
        let upper = scratch(&format!("npz-{name}")).join(format!("{name}.NPZ"));
        std::fs::copy(&npz, &upper).unwrap();
        let out = run(&["encode", upper.to_str().unwrap(), "-q"]);
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert_eq!(out.stdout, run(&["encode", &json, "-q"]).stdout);
    }
}

#[test]
fn bad_archives_are_refused_in_one_line() {
    let cases = [
        ("bad-float-x", "x: dtype '<f8' is a floating-point dtype"),
        ("bad-float-y", "y: dtype '<f8' is a floating-point dtype"),
        ("bad-negative-x", "x[3][1] = -1 is not a token id"),
        ("bad-range-x", "samples[5].x[0] = 4 is out of range"),
        ("bad-unknown", "weights: unknown array"),
        ("bad-missing-y", "y: missing"),
    ];
    for (name, want) in cases {
        let path = fixture(&format!("{name}.npz"));
        for cmd in ["solve", "convert"] {
            let mut args = vec![cmd, path.as_str()];
            let out_file = scratch(&format!("npz-bad-{name}-{cmd}")).join("o.json");
            let out_file = out_file.to_string_lossy().into_owned();
            if cmd == "convert" {
                args.push(&out_file);
            }
            let out = run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {err}");
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
            assert!(
                err.starts_with(&format!("partrec: {path}: ")) && err.contains(want),
                "{name}: {err}"
            );
        }
    }
}

#[test]
fn convert_goes_both_ways_and_refuses_what_npz_cannot_hold() {
    let dir = scratch("npz-convert");
    let at = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let small = root().join("instances/planted-small.json");
    let small = small.to_str().unwrap();
    let out = run(&["convert", small, &at("s.npz")]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("left out") && err.contains("meta"), "{err}");
    let out = run(&["convert", &at("s.npz"), &at("s.json")]);
    assert_eq!(out.status.code(), Some(0));
    let original = Instance::read(small).unwrap();
    let back = Instance::read(&at("s.json")).unwrap();
    assert_eq!(back.arity(), original.arity());
    assert_eq!(back.num_samples(), original.num_samples());
    for s in 0..back.num_samples() {
        assert_eq!(back.x(s), original.x(s));
        assert_eq!(back.y(s), original.y(s));
    }
    assert_eq!(
        back.planted.as_ref().map(|p| &p.partition),
        original.planted.as_ref().map(|p| &p.partition)
    );
    // Labels .npz cannot hold, names, and the input as output: exit 2, one line.
    let mixed = root().join("instances/mixed-values.json");
    let strings = at("strings.json");
    std::fs::write(
        &strings,
        r#"{"groups":[{"tokens":2,"classes":1}],"samples":[{"x":[0],"y":1},{"x":[1],"y":"b"}]}"#,
    )
    .unwrap();
    for (args, want) in [
        (
            vec!["convert", &strings, &at("t.npz")],
            "samples[1].y = \"b\" is not an integer",
        ),
        (
            vec!["convert", mixed.to_str().unwrap(), &at("m.npz")],
            "has no array for group or token names",
        ),
        (vec!["convert", &at("s.npz"), &at("s.npz")], "is the input"),
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "{err}");
    }
    assert!(!dir.join("t.npz").exists() && !dir.join("m.npz").exists());
}

#[test]
fn generate_writes_npz_that_reads_back() {
    let dir = scratch("npz-generate");
    let npz = dir.join("g.npz").to_string_lossy().into_owned();
    let json = dir.join("g.json").to_string_lossy().into_owned();
    let args = "generate --groups 3 --tokens 30,20,300 --classes 2,3,4 --values 3 --samples 400 --seed 5 -q -o";
    for out in [&npz, &json] {
        let mut a: Vec<&str> = args.split_whitespace().collect();
        a.push(out);
        assert_eq!(run(&a).status.code(), Some(0));
    }
    let (a, b) = (
        Instance::read(&npz).unwrap(),
        Instance::read(&json).unwrap(),
    );
    let mut b = b;
    b.meta = None;
    if let Some(p) = b.planted.as_mut() {
        p.table = None;
    }
    assert_eq!(a.to_json(), b.to_json());
}
