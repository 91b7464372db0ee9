//! Closed-loop tests of the colouring reduction, on YES and NO instances
//! (a reduction tested only on YES instances can be unsound unnoticed):
//! reduce, solve, extract, lift and check, against brute-force colouring.

mod common;

use common::{run, scratch, shared};
use partrec::check::check;
use partrec::reduction::coloring::{proper_coloring, ColoringReduction};
use partrec::reduction::decide::{chromatic, decide, Via};
use partrec::reduction::graph::{
    complete, cycle, mycielski, petersen, queen, random, read_col, Graph,
};
use partrec::sat::{Backend, Control};
use partrec::solve::solution::Status;
use partrec::solve::{solve, SolveOptions};
use std::path::Path;

/// Is there a proper k-colouring? By trying all k^n colourings.
fn brute_colorable(g: &Graph, k: u32) -> bool {
    let n = g.vertices() as u32;
    (0..(k as u64).pow(n)).any(|mut code| {
        let c: Vec<u32> = (0..n)
            .map(|_| {
                let d = (code % k as u64) as u32;
                code /= k as u64;
                d
            })
            .collect();
        proper_coloring(g, &c, k).is_ok()
    })
}

/// Reduce, solve, extract (or refute), lift a proper colouring and an improper one.
fn closed_loop(g: &Graph, k: u32) {
    let truth = brute_colorable(g, k);
    let reduction = ColoringReduction::new(g, k).unwrap();
    let instance = reduction.reduce("g");
    assert_eq!(instance.num_samples(), reduction.size().samples);
    assert_eq!(
        instance
            .groups()
            .iter()
            .map(|g| g.tokens as usize)
            .sum::<usize>(),
        reduction.size().tokens
    );
    let sol = solve(&instance, &SolveOptions::find(), &mut |_| {}).unwrap();
    let ctx = format!(
        "{} vertices, edges {:?}, k {k}",
        g.vertices(),
        g.edges().collect::<Vec<_>>()
    );
    assert_eq!(sol.status == Status::Sat, truth, "{ctx}");
    let direct = decide(g, k, Via::Direct, Backend::default(), &Control::new()).unwrap();
    assert_eq!(direct.colorable, Some(truth), "direct: {ctx}");
    if let Some(p) = &sol.partition {
        let colors = reduction
            .extract(p)
            .unwrap_or_else(|m| panic!("{ctx}: {m}"));
        assert!(proper_coloring(g, &colors, k).is_ok());
        let lifted = reduction.lift(direct.colors.as_ref().unwrap()).unwrap();
        assert!(check(&instance, &lifted).unwrap().consistent, "{ctx}");
    }
    // An improper colouring (both ends of the first edge alike) lifts to an inconsistent partition.
    if let Some((u, v)) = g.edges().next() {
        let mut bad = vec![0u32; g.vertices()];
        bad[v as usize] = bad[u as usize];
        let lifted = reduction.lift(&bad).unwrap();
        assert!(!check(&instance, &lifted).unwrap().consistent, "{ctx}");
    }
}

#[test]
fn every_graph_up_to_5_vertices_and_k_up_to_4() {
    let mut checked = 0;
    for n in 1..=5u32 {
        let pairs: Vec<(u32, u32)> = (0..n)
            .flat_map(|u| (u + 1..n).map(move |v| (u, v)))
            .collect();
        for mask in 0u32..(1 << pairs.len()) {
            let edges = pairs
                .iter()
                .enumerate()
                .filter(|(i, _)| mask >> i & 1 == 1)
                .map(|(_, &e)| e);
            let g = Graph::new(n as usize, edges);
            for k in 1..=4 {
                closed_loop(&g, k);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * (1 + 2 + 8 + 64 + 1024));
}

#[test]
fn seeded_random_graphs_beyond() {
    for seed in 0..60 {
        let n = 6 + (seed as usize % 4);
        let p = [0.3, 0.5, 0.7][seed as usize % 3];
        let g = random(n, p, seed);
        for k in 2..=4 {
            closed_loop(&g, k);
        }
    }
}

#[test]
fn named_graphs_have_their_chromatic_numbers_through_the_reduction() {
    let cases = [
        ("C5", cycle(5), 3),
        ("C8", cycle(8), 2),
        ("Petersen", petersen(), 3),
        ("K4", complete(4), 4),
        ("myciel3", mycielski(3), 4),
        ("myciel4", mycielski(4), 5),
        ("queen5_5", queen(5, 5), 5),
        ("queen6_6", queen(6, 6), 7),
    ];
    for (name, g, chi) in cases {
        let r = chromatic(&g, Via::Reduction, &mut |k| {
            decide(&g, k, Via::Reduction, Backend::default(), &Control::new())
        })
        .unwrap();
        assert_eq!(r.chromatic, Some(chi), "{name}");
        assert!(proper_coloring(&g, &r.colors, chi).is_ok(), "{name}");
        assert_eq!(
            decide(
                &g,
                chi - 1,
                Via::Reduction,
                Backend::default(),
                &Control::new()
            )
            .unwrap()
            .colorable,
            Some(false),
            "{name}"
        );
    }
}

/// The DIMACS graphs of ../shared/dimacs with their literature chromatic numbers
/// (the folder's README), decided through the reduction at chi and chi - 1 by the binary.
#[test]
fn dimacs_graphs_through_the_reduction() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("dimacs");
    let cases = [
        ("myciel3", 4),
        ("myciel4", 5),
        ("queen5_5", 5),
        ("queen6_6", 7),
        ("jean", 10),
        ("huck", 11),
        ("david", 11),
        ("anna", 11),
        ("miles250", 8),
        ("games120", 9),
    ];
    for (name, chi) in cases {
        let file = dir.join(format!("{name}.col"));
        let graph = read_col(file.to_str().unwrap()).unwrap().graph;
        let f = file.to_str().unwrap();
        let out = run(&["color", f, "--colors", &chi.to_string()]);
        assert_eq!(out.status.code(), Some(10), "{name} with {chi} colours");
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let colors: Vec<u32> = serde_json::from_value(answer["colors"].clone()).unwrap();
        assert!(proper_coloring(&graph, &colors, chi).is_ok(), "{name}");
        let out = run(&["color", f, "--colors", &(chi - 1).to_string()]);
        assert_eq!(
            out.status.code(),
            Some(20),
            "{name} with {} colours",
            chi - 1
        );
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn reduce_solve_extract_and_lift_through_the_binary() {
    let dir = scratch("reduce-cli");
    // C5 with an isolated vertex 6, a duplicate edge, a self-loop and a wrong edge count.
    let graph = write(&dir, "c5.col", "c C5 plus an isolated vertex\np edge 6 99\ne 1 2\ne 2 1\ne 2 3\ne 3 4\ne 4 5\ne 5 1\ne 3 3\n");
    let inst = dir.join("c5-3.json");
    let out = run(&[
        "reduce",
        &graph,
        "--colors",
        "3",
        "-o",
        inst.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("self-loop") && err.contains("says 99 edges"),
        "{err}"
    );
    let sol = dir.join("sol.json");
    let out = run(&["solve", inst.to_str().unwrap(), "-o", sol.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(10));
    let out = run(&["extract", &graph, sol.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let colors: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let colors: Vec<u32> = serde_json::from_value(colors["colors"].clone()).unwrap();
    let g = read_col(&graph).unwrap().graph;
    assert!(proper_coloring(&g, &colors, 3).is_ok());

    let good = write(&dir, "good.json", r#"{"colors": [0, 1, 0, 1, 2, 0]}"#);
    let lifted = dir.join("lifted.json");
    assert!(run(&[
        "lift",
        &graph,
        &good,
        "--colors",
        "3",
        "-o",
        lifted.to_str().unwrap()
    ])
    .status
    .success());
    let out = run(&["check", inst.to_str().unwrap(), lifted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));

    let bad = write(&dir, "bad.json", r#"{"colors": [0, 0, 1, 0, 1, 2]}"#);
    let out = run(&[
        "lift",
        &graph,
        &bad,
        "--colors",
        "3",
        "-o",
        lifted.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a proper colouring"));
    let out = run(&["check", inst.to_str().unwrap(), lifted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // Extracting from that (inconsistent) partition exposes the clash.
    let out = run(&["extract", &graph, lifted.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("edge 1 - 2"));

    let out_of_range = write(&dir, "range.json", r#"{"colors": [0, 1, 0, 1, 3, 0]}"#);
    let out = run(&["lift", &graph, &out_of_range, "--colors", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vertex 5: colour 3 is not in 0..2"));
}

#[test]
fn verify_reduction_on_yes_and_no_instances_with_file_quirks() {
    let dir = scratch("verify");
    for seed in 0..8u64 {
        let g = random(9, 0.45, 100 + seed);
        // Add the quirks of real files: both directions, a self-loop, an isolated vertex, a wrong M.
        let mut text = format!("c random seed {seed}\np edge {} 1\n", g.vertices() + 1);
        for (u, v) in g.edges() {
            text.push_str(&format!("e {} {}\ne {} {}\n", u + 1, v + 1, v + 1, u + 1));
        }
        text.push_str("e 2 2\n");
        let file = write(&dir, &format!("r{seed}.col"), &text);
        for k in 2..=4u32 {
            let out = run(&["verify-reduction", &file, "--colors", &k.to_string()]);
            let table = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(0), "seed {seed} k {k}:\n{table}");
            let colourable = brute_colorable(&g, k);
            assert_eq!(
                table.contains("lifted direct colouring passes check"),
                colourable,
                "{table}"
            );
            assert_eq!(table.contains("not colourable"), !colourable, "{table}");
        }
    }
    let out = run(&[
        "verify-reduction",
        &write(&dir, "k4.col", &complete(4).to_col("K4")),
        "--colors",
        "3",
        "--timeout",
        "30",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn color_commands_and_their_exit_codes() {
    let dir = scratch("color");
    let out = run(&[
        "graph",
        "myciel",
        "4",
        "-o",
        dir.join("m4.col").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let m4 = dir.join("m4.col");
    let m4 = m4.to_str().unwrap();
    let out = run(&["color", m4, "--chromatic"]);
    assert_eq!(out.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            r["lower"].as_u64(),
            r["upper"].as_u64(),
            r["chromatic"].as_u64()
        ),
        (Some(5), Some(5), Some(5))
    );
    for via in ["reduction", "direct"] {
        assert_eq!(
            run(&["color", m4, "--colors", "5", "--via", via])
                .status
                .code(),
            Some(10)
        );
        assert_eq!(
            run(&["color", m4, "--colors", "4", "--via", via])
                .status
                .code(),
            Some(20)
        );
    }
    // Timeouts: the child is killed, the answer is undecided, the bounds stay honest.
    let out = run(&[
        "graph",
        "queen",
        "8",
        "8",
        "-o",
        dir.join("q8.col").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let q8 = dir.join("q8.col");
    let out = run(&[
        "color",
        q8.to_str().unwrap(),
        "--colors",
        "8",
        "--via",
        "direct",
        "--timeout",
        "0.3",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let a: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(a["colorable"], serde_json::Value::Null);
    assert_eq!(a["timed_out"], true);
    let out = run(&[
        "color",
        q8.to_str().unwrap(),
        "--chromatic",
        "--timeout",
        "0.5",
    ]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (lo, hi) = (r["lower"].as_u64().unwrap(), r["upper"].as_u64().unwrap());
    assert!(
        lo <= 9 && hi >= 9,
        "chi(queen8_8) = 9 lies within [{lo}, {hi}]"
    );
    if r["chromatic"].is_null() {
        assert!(lo < hi);
    }
}

#[test]
fn malformed_col_files_exit_2_naming_file_and_line() {
    let dir = scratch("bad-col");
    let cases = [
        (
            "edge-first.col",
            "e 1 2\np edge 2 1\n",
            "line 1: an edge before",
        ),
        (
            "out-of-range.col",
            "p edge 3 1\ne 1 4\n",
            "line 2: expected vertices in 1..3",
        ),
        (
            "short-edge.col",
            "c x\np edge 3 1\ne 1\n",
            "line 3: expected `e U V`",
        ),
        (
            "bad-header.col",
            "p edge three 1\n",
            "line 1: expected `p edge N M`",
        ),
        (
            "junk.col",
            "p edge 3 1\nhello\n",
            "line 2: expected a `c`, `p` or `e` line",
        ),
        ("no-header.col", "c nothing\n", "no `p edge N M` line"),
    ];
    for (name, text, want) in cases {
        let file = write(&dir, name, text);
        for args in [
            vec!["color", &file, "--colors", "3"],
            vec!["reduce", &file, "--colors", "3"],
        ] {
            let out = run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains(name) && err.contains(want), "{name}: {err}");
        }
    }
}
