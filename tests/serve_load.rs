//! A load test of `partrec serve`, to 127.0.0.1 only: 1,000 solve requests with 100 in
//! flight, a seeded mix of easy instances (60%), malformed bodies (20%) and oversized
//! bodies (20%). Every valid answer is checked (sat answers by the library's checker,
//! unique ones against the planted partition, unsat ones are known unsat); every malformed
//! body must get 400 and every oversized one 413; the server must stay healthy, never
//! panic, and keep its peak memory bounded. It prints requests/s and latency percentiles:
//!
//!     cargo test --release --test serve_load -- --nocapture
//!
//! With `PARTREC_LOAD_BIN=/path/to/partrec` it loads that build instead, so that two
//! builds can be compared in one run.

mod common;

use common::server::Server;
use partrec::check::check;
use partrec::generate::{generate, samples_for_ratio, GenerateParams};
use partrec::model::partition::same_partition;
use partrec::reduction::coloring::ColoringReduction;
use partrec::reduction::graph::complete;
use partrec::Instance;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const REQUESTS: usize = 1000;
const IN_FLIGHT: usize = 100;
const MAX_BODY_MB: &str = "1";

/// What a request sends and what its answer must be.
#[derive(Clone)]
enum Case {
    /// A valid instance: sat (planted) or unsat (K4 with 3 colours).
    Valid {
        instance: Arc<Instance>,
        body: Arc<String>,
        unsat: bool,
    },
    /// A malformed body: 400 expected.
    Malformed(Arc<String>),
    /// A body over the limit: 413 expected.
    Oversized(Arc<String>),
}

fn cases() -> Vec<Case> {
    let mut valid = Vec::new();
    for seed in 0..20 {
        let tokens = vec![30, 30];
        let params = GenerateParams {
            samples: samples_for_ratio(&tokens, 6.0).unwrap(),
            tokens,
            classes: vec![3, 3],
            values: 2,
            seed,
            zipf: None,
        };
        let instance = generate(&params, Some(6.0)).unwrap();
        let mut body: Value = serde_json::from_str(&instance.to_json()).unwrap();
        body["options"] = serde_json::json!({"unique": true, "timeout": 30});
        valid.push(Case::Valid {
            instance: Arc::new(instance),
            body: Arc::new(body.to_string()),
            unsat: false,
        });
    }
    let k4 = complete(4);
    let unsat = ColoringReduction::new(&k4, 3).unwrap().reduce("K4");
    valid.push(Case::Valid {
        body: Arc::new(unsat.to_json()),
        instance: Arc::new(unsat),
        unsat: true,
    });
    let malformed: Vec<Case> = [
        r#"{"groups": [{"tokens": 3, "classes": 2}], "samples": [{"x": [0], "y": 1}"#,
        r#"{"groups": [{"tokens": 3, "classes": 2}], "samples": [{"x": [7], "y": 1}]}"#,
        r#"{"groups": [{"tokens": -1, "classes": 2}], "samples": []}"#,
        r#"{"groups": [], "samples": []}"#,
        r#"{"groups": [{"tokens": 3, "classes": 2}], "samples": [{"x": [0, 1], "y": 1}]}"#,
        r#"{"groups": [{"tokens": 3, "classes": 2}], "samples": [], "options": {"unique": "yes"}}"#,
        r#"not json at all"#,
        "",
        "\u{0}\u{1}\u{2}",
        r#"[{"groups": 1}]"#,
    ]
    .iter()
    .map(|b| Case::Malformed(Arc::new(b.to_string())))
    .collect();
    // Valid-looking JSON, 1.5 MB: over the 1 MB limit.
    let sample = r#"{"x": [0, 1], "y": 0}, "#;
    let big = format!(
        r#"{{"groups": [{{"tokens": 2, "classes": 2}}, {{"tokens": 2, "classes": 2}}], "samples": [{}{{"x": [0, 0], "y": 0}}]}}"#,
        sample.repeat(1_500_000 / sample.len())
    );
    let oversized = vec![Case::Oversized(Arc::new(big))];

    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    (0..REQUESTS)
        .map(|i| {
            let pool = match i % 10 {
                0..=5 => &valid,
                6 | 7 => &malformed,
                _ => &oversized,
            };
            pool[rng.random_range(0..pool.len())].clone()
        })
        .collect()
}

/// Sends one request; returns its latency and a failure description, if it failed.
async fn send(client: &reqwest::Client, url: &str, case: &Case) -> (Duration, Option<String>) {
    let body = match case {
        Case::Valid { body, .. } | Case::Malformed(body) | Case::Oversized(body) => {
            body.as_str().to_owned()
        }
    };
    let t = Instant::now();
    let response = client.post(url).body(body).send().await;
    let (status, text) = match response {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => return (t.elapsed(), Some(format!("no answer: {e}"))),
    };
    let elapsed = t.elapsed();
    let failure = match case {
        Case::Malformed(_) if status != 400 => {
            Some(format!("malformed body answered {status}: {text}"))
        }
        Case::Oversized(_) if status != 413 => {
            Some(format!("oversized body answered {status}: {text}"))
        }
        Case::Valid {
            instance, unsat, ..
        } => judge(instance, *unsat, status, &text).err(),
        _ => None,
    };
    (elapsed, failure)
}

/// Checks a valid request's answer.
fn judge(instance: &Instance, unsat: bool, status: u16, text: &str) -> Result<(), String> {
    if status != 200 {
        return Err(format!("valid request answered {status}: {text}"));
    }
    let answer: Value = serde_json::from_str(text).map_err(|e| format!("{e}: {text}"))?;
    match (answer["status"].as_str(), unsat) {
        (Some("unsat"), true) => Ok(()),
        (Some("sat"), false) => {
            let partition: Vec<Vec<u32>> = serde_json::from_value(answer["partition"].clone())
                .map_err(|e| format!("{e}: {text}"))?;
            if !check(instance, &partition)
                .map_err(|e| e.to_string())?
                .consistent
            {
                return Err(format!("inconsistent partition: {text}"));
            }
            let planted = &instance.planted.as_ref().unwrap().partition;
            if answer["unique"] == true && !same_partition(&partition, planted) {
                return Err(format!("unique but not the planted partition: {text}"));
            }
            Ok(())
        }
        _ => Err(format!("wrong verdict (unsat expected: {unsat}): {text}")),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_requests_with_a_hundred_in_flight() {
    let args = [
        "--workers",
        "2",
        "--queue",
        "128",
        "--max-body-mb",
        MAX_BODY_MB,
        "-q",
    ];
    // PARTREC_LOAD_BIN names another build to load (to compare two builds in one run).
    let server = match std::env::var_os("PARTREC_LOAD_BIN") {
        Some(bin) => {
            eprintln!("load test against {}", bin.to_string_lossy());
            let mut command = std::process::Command::new(bin);
            command.args(["serve", "--addr", "127.0.0.1:0"]).args(args);
            Server::spawn_as_given("load", command)
        }
        None => Server::start("load", &args),
    };
    let cases = cases();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()
        .unwrap();
    let url = server.url("/v1/solve");
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, case) in cases.iter().cloned().enumerate() {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (client, url) = (client.clone(), url.clone());
        tasks.spawn(async move {
            let result = send(&client, &url, &case).await;
            drop(permit);
            (i, case, result)
        });
    }
    let mut latencies = vec![Vec::new(); 3];
    let mut failures = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (i, case, (latency, failure)) = done.expect("no client task panics");
        let kind = match case {
            Case::Valid { .. } => 0,
            Case::Malformed(_) => 1,
            Case::Oversized(_) => 2,
        };
        latencies[kind].push(latency);
        if let Some(f) = failure {
            failures.push(format!("request {i}: {f}"));
        }
    }
    let wall = start.elapsed();
    assert!(
        failures.is_empty(),
        "{} failures, first: {}",
        failures.len(),
        failures[0]
    );

    let health = client.get(server.url("/v1/health")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(
        (health["running"].as_u64(), health["queued"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    assert!(server.wait_for_no_children(Duration::from_secs(2)));
    let peak_mb = server.peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    // Bodies are capped at 1 MB and at most 100 are in flight: far below 1 GiB.
    assert!(
        peak_mb.is_none_or(|mb| mb < 1024.0),
        "peak RSS {peak_mb:?} MB"
    );

    let mut all: Vec<Duration> = latencies.concat();
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "load: {REQUESTS} requests ({} valid, {} malformed, {} oversized), {IN_FLIGHT} in flight, 2 workers: \
         {:.1} s, {:.0} requests/s; latency p50 {:.0} ms, p99 {:.0} ms; valid p50 {:.0} ms, p99 {:.0} ms; \
         0 failures; server peak RSS {}",
        latencies[0].len(),
        latencies[1].len(),
        latencies[2].len(),
        wall.as_secs_f64(),
        REQUESTS as f64 / wall.as_secs_f64(),
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        {
            latencies[0].sort();
            ms(percentile(&latencies[0], 0.5))
        },
        ms(percentile(&latencies[0], 0.99)),
        peak_mb.map_or("unknown".into(), |mb| format!("{mb:.0} MB")),
    );
}
