//! Deadlines: in process for CaDiCaL (no child, on time, stopped within ~100 ms), in a
//! child process through the worker protocol for varisat.

mod common;

use common::server::{children_of, is_running};
use common::{partrec, root, scratch};
use partrec::reduction::decide::Via;
use partrec::reduction::graph::Graph;
use partrec::sat::{Backend, Control};
use partrec::solve::{solve_with, LocalSearch, SolveOptions, Strategy};
use partrec::{Error, Instance, Solution, Status};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn hard() -> Instance {
    Instance::read(
        root()
            .join("instances/hard-three-groups.json")
            .to_str()
            .unwrap(),
    )
    .unwrap()
}

/// Runs `partrec ARGS`, watching its child processes while it runs; returns its exit
/// code, its answer, its wall time and every child it had.
fn watched(args: &[&str]) -> (Option<i32>, Solution, Duration, Vec<u32>) {
    let start = Instant::now();
    let mut child = common::spawn_piped(args);
    let mut seen = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        for c in children_of(child.id()) {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = start.elapsed();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let sol = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (status.code(), sol, wall, seen)
}

/// `partrec solve instances/hard-three-groups.json --unique --timeout 1 FLAG VALUE`,
/// watched (see [`watched`]).
fn one_second_on_the_hard_instance(
    flag: &str,
    value: &str,
) -> (Option<i32>, Solution, Duration, Vec<u32>) {
    let path = root().join("instances/hard-three-groups.json");
    let args = [
        "solve",
        path.to_str().unwrap(),
        "--unique",
        "--timeout",
        "1",
    ];
    watched(&[&args[..], &[flag, value]].concat())
}

#[test]
fn a_cadical_timeout_answers_unknown_on_time_without_a_child() {
    let (code, sol, wall, children) = one_second_on_the_hard_instance("--backend", "cadical");
    println!("cadical: `partrec solve --timeout 1` took {wall:?}");
    assert_eq!(code, Some(0));
    assert_eq!(sol.status, Status::Unknown);
    assert!(sol.stats.timed_out);
    assert!(wall < Duration::from_millis(1100), "{wall:?}");
    assert!(children.is_empty(), "children {children:?}");
}

#[test]
fn a_table_search_or_portfolio_stopped_by_its_deadline_answers_unknown() {
    for strategy in ["table", "portfolio"] {
        let (code, sol, wall, children) = one_second_on_the_hard_instance("--strategy", strategy);
        println!("{strategy}: `partrec solve --timeout 1` took {wall:?}");
        assert_eq!(code, Some(0), "{strategy}");
        assert_eq!(
            (sol.status, sol.unique, sol.count_complete),
            (Status::Unknown, None, Some(false)),
            "{strategy}"
        );
        assert!(sol.stats.timed_out, "{strategy}");
        assert_eq!(
            sol.stats.strategy.map(|s| s.to_string()).as_deref(),
            Some(strategy)
        );
        if strategy == "table" {
            assert!(sol.stats.tables.is_some_and(|t| t > 0), "{:?}", sol.stats);
        }
        assert!(wall < Duration::from_millis(1100), "{strategy}: {wall:?}");
        assert!(children.is_empty(), "{strategy}: children {children:?}");
    }
}

#[test]
fn a_varisat_timeout_kills_its_child_and_keeps_the_sizes() {
    let (code, sol, wall, children) = one_second_on_the_hard_instance("--backend", "varisat");
    println!("varisat: `partrec solve --timeout 1` took {wall:?}");
    assert_eq!(code, Some(0));
    assert_eq!(
        (sol.status, sol.count, sol.count_complete),
        (Status::Unknown, Some(0), Some(false))
    );
    assert!(sol.stats.timed_out);
    assert_eq!(sol.stats.observed_tokens, vec![50, 50, 50]);
    assert!(wall < Duration::from_secs(3), "{wall:?}");
    assert_eq!(children.len(), 1, "one worker process: {children:?}");
    // SIGKILL was sent before the parent answered; the kernel may take a moment to tear
    // down a process that holds much memory, more so on a loaded machine.
    assert!(
        gone_within(children[0], Duration::from_secs(2)),
        "the worker outlived its deadline"
    );
}

/// Whether process `pid` has ended (or is a zombie) within `grace`.
fn gone_within(pid: u32, grace: Duration) -> bool {
    let start = Instant::now();
    while is_running(pid) {
        if start.elapsed() > grace {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

#[test]
fn an_instance_the_worker_refuses_is_exit_2_with_its_one_line_message() {
    let file = scratch("worker-refused").join("huge.json");
    std::fs::write(
        &file,
        r#"{"groups":[{"tokens":4294967295,"classes":2}],"samples":[{"x":[0],"y":1}]}"#,
    )
    .unwrap();
    let mut messages = Vec::new();
    for backend in ["cadical", "varisat"] {
        let out = partrec()
            .args(["solve", file.to_str().unwrap(), "--timeout", "20"])
            .args(["--backend", backend])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{backend}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{backend}: {stderr}");
        assert!(stderr.contains("groups[0].tokens"), "{backend}: {stderr}");
        assert!(out.stdout.is_empty());
        messages.push(stderr.into_owned());
    }
    assert_eq!(
        messages[0], messages[1],
        "the same refusal in process and in a child"
    );
}

/// Solves the hard instance with `options`, stops its control after `after`, and
/// returns the answer and how long the solve took to return after the stop.
fn stop_latency(options: &SolveOptions, after: Duration) -> (Solution, Duration) {
    let instance = hard();
    let control = Control::new();
    let stopper = control.clone();
    let stopped_at = std::thread::spawn(move || {
        std::thread::sleep(after);
        stopper.stop();
        Instant::now()
    });
    let sol = solve_with(&instance, options, &control, &mut |_| {}).unwrap();
    let returned = Instant::now();
    let stopped_at = stopped_at.join().unwrap();
    (sol, returned.saturating_duration_since(stopped_at))
}

#[test]
fn a_stopped_cadical_solve_returns_within_100_ms_in_every_phase() {
    let search = SolveOptions {
        local_search: LocalSearch::Off,
        ..SolveOptions::unique()
    };
    let strategy = |strategy| SolveOptions {
        strategy,
        ..SolveOptions::unique()
    };
    for (what, options, after) in [
        ("local search", strategy(Strategy::Cdcl), 300),
        ("CDCL search", search, 300),
        ("CDCL search, later", search, 1500),
        ("table search", strategy(Strategy::Table), 300),
        ("portfolio", strategy(Strategy::Portfolio), 1500),
    ] {
        let (sol, latency) = stop_latency(&options, Duration::from_millis(after));
        println!("{what}: stop() after {after} ms took {latency:?} to return");
        assert_eq!(sol.status, Status::Unknown, "{what}");
        assert!(sol.stats.timed_out, "{what}");
        assert!(latency < Duration::from_millis(100), "{what}: {latency:?}");
    }
}

fn exe() -> &'static partrec::worker::Exe {
    static EXE: std::sync::OnceLock<partrec::worker::Exe> = std::sync::OnceLock::new();
    EXE.get_or_init(|| PathBuf::from(env!("CARGO_BIN_EXE_partrec")).into())
}

#[test]
fn varisat_decides_in_a_child_under_a_deadline() {
    // The Petersen graph is 3-colourable, not 2-colourable.
    let col = std::fs::read_to_string(root().join("instances/graphs/petersen.col")).unwrap();
    let graph: Graph = partrec::reduction::graph::parse_col(&col, "petersen")
        .unwrap()
        .graph;
    for (k, colorable) in [(3, true), (2, false)] {
        for via in [Via::Direct, Via::Reduction] {
            let control = Control::with_timeout(Some(Duration::from_secs(30)));
            let answer =
                partrec::worker::decide(&graph, k, via, Backend::Varisat, &control, Some(exe()))
                    .unwrap();
            assert_eq!(answer.colorable, Some(colorable), "k = {k} via {via}");
            assert!(!answer.timed_out);
        }
    }
    // A deadline that strikes first is undecided, never a guess.
    let control = Control::with_timeout(Some(Duration::from_millis(1)));
    std::thread::sleep(Duration::from_millis(5));
    let answer = partrec::worker::decide(
        &graph,
        3,
        Via::Direct,
        Backend::Varisat,
        &control,
        Some(exe()),
    )
    .unwrap();
    assert_eq!((answer.colorable, answer.timed_out), (None, true));
}

#[test]
fn a_varisat_solve_in_a_child_answers_what_the_library_answers() {
    let instance = Instance::read(
        root()
            .join("instances/planted-small.json")
            .to_str()
            .unwrap(),
    )
    .unwrap();
    let options = SolveOptions {
        backend: Backend::Varisat,
        ..SolveOptions::count(3)
    };
    let control = Control::with_timeout(Some(Duration::from_secs(60)));
    let child =
        partrec::worker::solve(&instance, &options, &control, Some(exe()), &mut |_| {}).unwrap();
    let own = solve_with(&instance, &options, &Control::new(), &mut |_| {}).unwrap();
    assert_eq!(
        (
            child.status,
            child.partition,
            child.count,
            child.count_complete
        ),
        (own.status, own.partition, own.count, own.count_complete)
    );
    assert_eq!(child.stats.backend, Some(Backend::Varisat));
    // A broken executable is an internal error saying how it ended, never a panic.
    let e = partrec::worker::solve(
        &instance,
        &options,
        &control,
        Some(&PathBuf::from("/bin/false").into()),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, Error::Internal(_)), "{e}");
    assert!(e.to_string().contains("without an answer (exit 1)"), "{e}");
}
