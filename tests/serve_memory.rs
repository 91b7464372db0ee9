//! `partrec serve`'s memory budget, end to end: a solve that can never fit is refused,
//! large solves run in confined child processes one after another while their
//! estimates would not fit side by side, and another client's small solves keep
//! succeeding meanwhile; the server's own peak memory stays far below the solves'.

mod common;

use common::server::{client, post, Server};
use common::{root, run, scratch};
use serde_json::Value;
use std::time::{Duration, Instant};

async fn health(server: &Server) -> Value {
    let text = client()
        .get(server.url("/v1/health"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A planted instance (I = 2, N = 20,000, K = 3, V = 2) at one N ln N samples, seeded:
/// propagation decides little at this ratio, so its solve keeps its whole estimate
/// (about 330 MB; 260 MB at its peak) to the end.
fn large_body() -> String {
    let file = scratch("serve-memory").join("large.json");
    let out = run(&[
        "generate",
        "--groups",
        "2",
        "--tokens",
        "20000",
        "--classes",
        "3",
        "--values",
        "2",
        "--ratio",
        "1",
        "--seed",
        "1",
        "-q",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    std::fs::read_to_string(file).unwrap()
}

/// The estimate a solve of `body` records (`stats.memory_estimate`), from a server with
/// room for it.
async fn estimate_of(body: &str) -> u64 {
    let server = Server::start("memory-probe", &["-q"]);
    let (status, answer) = post(&server, "/v1/solve", body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    answer["stats"]["memory_estimate"]
        .as_u64()
        .expect("an estimate")
}

#[tokio::test(flavor = "multi_thread")]
async fn solves_are_admitted_by_their_estimates_and_large_ones_are_confined() {
    let large = large_body();
    let need = estimate_of(&large).await;
    let small = std::fs::read_to_string(root().join("instances/planted-small.json")).unwrap();
    eprintln!("the large solve is estimated at {} MB", need >> 20);

    // A budget below the estimate: refused at once, naming the flag; small ones still run.
    let tight = format!("{}", need / 2);
    let server = Server::start("memory-tight", &["-q", "--max-memory", &tight]);
    let (status, answer) = post(&server, "/v1/solve", large.clone()).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["field"], "body");
    let error = answer["error"].as_str().unwrap();
    assert!(error.contains("--max-memory"), "{error}");
    let (status, answer) = post(&server, "/v1/solve", small.clone()).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("sat")));
    drop(server);

    // Room for one large solve at a time (not two), two workers: each is a large share
    // of a worker's part of the budget, so it runs in a confined child process.
    let budget = need + need / 2;
    let args = ["-q", "--workers", "2", "--max-memory", &budget.to_string()];
    let server = Server::start("memory-budget", &args);
    let watch = async {
        let (mut waited, mut confined) = (false, false);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(90) {
            let h = health(&server).await;
            let reserved = h["memory_reserved"].as_u64().unwrap();
            assert!(reserved <= h["max_memory"].as_u64().unwrap(), "{h}");
            let (running, queued) = (
                h["running"].as_u64().unwrap(),
                h["queued"].as_u64().unwrap(),
            );
            // Only a large solve holds more than half the budget; while one does, a
            // request waiting is the other large one (or a small one behind it).
            if reserved > budget / 2 {
                waited |= queued >= 1;
                confined |= !server.children().is_empty();
            }
            if running == 0 && queued == 0 && start.elapsed() > Duration::from_millis(500) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (waited, confined)
    };
    let others = async {
        let mut answers = Vec::new();
        for _ in 0..10 {
            answers.push(post(&server, "/v1/solve", small.clone()).await);
        }
        answers
    };
    let (first, second, seen, others) = tokio::join!(
        post(&server, "/v1/solve", large.clone()),
        post(&server, "/v1/solve", large.clone()),
        watch,
        others
    );
    for (status, answer) in [first, second] {
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], "sat", "{answer}");
    }
    for (status, answer) in others {
        assert_eq!(
            (status, answer["status"].as_str()),
            (200, Some("sat")),
            "{answer}"
        );
    }
    let (waited, confined) = seen;
    eprintln!("while a large solve held memory: the other waited: {waited}, a confined child seen: {confined}");
    assert!(waited, "the second large solve never waited for memory");
    assert!(confined, "no confined child process was seen");
    // The large solves' memory was held by their children, not by the server.
    let peak = server.peak_rss_kb().expect("VmHWM") * 1024;
    eprintln!(
        "server peak memory: {} MB (each large solve estimated at {} MB)",
        peak >> 20,
        need >> 20
    );
    assert!(peak < need, "the server itself peaked at {peak} bytes");
}
