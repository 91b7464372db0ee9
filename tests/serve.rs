//! `partrec serve` end to end: the real binary on an ephemeral loopback port, a real
//! HTTP client, every route and error status, a job's life, timeouts that kill the
//! solve, shutdown, and the manual's curl examples (docs/service.md) run as printed.

mod common;

use common::server::{client, post, Server};
use common::{root, run, skip};
use partrec::check::check;
use partrec::Instance;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = client().get(server.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn shipped(name: &str) -> String {
    std::fs::read_to_string(root().join("instances").join(name)).unwrap()
}

/// The shipped hard instance (I = 3, N = 50, K = 3, V = 2 at 1.5 N ln N samples, one
/// value changed): still unknown after a 60 s solve, so every deadline strikes mid-search.
fn hard_instance() -> Instance {
    Instance::read(
        root()
            .join("instances/hard-three-groups.json")
            .to_str()
            .unwrap(),
    )
    .unwrap()
}

/// `instance` as a solve body with `options`.
fn with_options(instance: &Instance, options: Value) -> String {
    let mut body: Value = serde_json::from_str(&instance.to_json()).unwrap();
    body["options"] = options;
    body.to_string()
}

/// Drops the timing fields, which differ between any two runs.
fn untimed(mut solution: Value) -> Value {
    for (key, value) in solution["stats"].as_object_mut().unwrap() {
        if key.ends_with("_seconds") {
            *value = Value::Null;
        }
    }
    solution
}

#[tokio::test(flavor = "multi_thread")]
async fn solve_answers_exactly_what_the_command_line_prints() {
    let server = Server::start("solve", &[]);
    let path = root().join("instances/planted-small.json");
    for (options, args) in [
        (json!({"timeout": 1e300}), vec![]),
        (json!({"unique": true}), vec!["--unique"]),
        (json!({"count": 3}), vec!["--count", "3"]),
        (
            json!({"unique": true, "backend": "varisat"}),
            vec!["--unique", "--backend", "varisat"],
        ),
    ] {
        let instance = Instance::read(path.to_str().unwrap()).unwrap();
        let (status, answer) = post(&server, "/v1/solve", with_options(&instance, options)).await;
        assert_eq!(status, 200, "{answer}");
        let mut cli_args = vec!["solve", path.to_str().unwrap()];
        cli_args.extend(args);
        let cli: Value = serde_json::from_slice(&run(&cli_args).stdout).unwrap();
        assert_eq!(answer["stats"]["timed_out"], false);
        assert_eq!(untimed(answer.clone()), untimed(cli));
        let partition: Vec<Vec<u32>> = serde_json::from_value(answer["partition"].clone()).unwrap();
        assert!(check(&instance, &partition).unwrap().consistent);
    }
    // An unsat instance: K4 is not 3-colourable.
    let (status, answer) = post(&server, "/v1/solve", shipped("k4-3colors.json")).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("unsat")));
    // Certified over HTTP: the claim, its CNF and its proof inline, checked here.
    for (file, claim) in [
        ("myciel4-4colors.json", "unsat"),
        ("planted-small.json", "unique"),
    ] {
        let instance =
            Instance::read(root().join("instances").join(file).to_str().unwrap()).unwrap();
        let body = with_options(&instance, json!({"unique": true, "certify": true}));
        let (status, answer) = post(&server, "/v1/solve", body).await;
        assert_eq!(status, 200, "{answer}");
        let certified: partrec::proof::Certified =
            serde_json::from_value(answer["certificate"].clone()).unwrap();
        assert_eq!(serde_json::to_value(certified.entry.claim).unwrap(), claim);
        let verified = partrec::proof::verify_claim(
            &instance,
            &certified.entry,
            certified.dimacs.as_bytes(),
            certified.drat.as_bytes(),
        )
        .unwrap();
        assert!(verified.clauses > 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reduce_health_version_and_metrics_answer() {
    let server = Server::start("routes", &[]);
    let instance = shipped("planted-small.json");
    let (_, solution) = post(&server, "/v1/solve", instance.clone()).await;
    let body = format!(r#"{{"instance": {instance}, "solution": {solution}}}"#);
    let (status, verdict) = post(&server, "/v1/check", body).await;
    assert_eq!(
        (status, verdict["consistent"].as_bool()),
        (200, Some(true)),
        "{verdict}"
    );

    // A partition putting every token in class 0 contradicts the samples.
    let parsed = Instance::from_json(instance.as_bytes(), "x").unwrap();
    let zeros: Vec<Vec<u32>> = parsed
        .groups()
        .iter()
        .map(|g| vec![0; g.tokens as usize])
        .collect();
    let body = json!({"instance": serde_json::from_str::<Value>(&instance).unwrap(), "solution": {"partition": zeros}});
    let (status, verdict) = post(&server, "/v1/check", body.to_string()).await;
    assert_eq!(
        (status, verdict["consistent"].as_bool()),
        (200, Some(false))
    );
    assert!(!verdict["conflicts"].as_array().unwrap().is_empty());

    // The reduction route gives what `partrec reduce` gives (the graph's name aside).
    let col = std::fs::read_to_string(root().join("instances/graphs/petersen.col")).unwrap();
    let (status, reduced) = post(
        &server,
        "/v1/reduce/coloring",
        json!({"graph": col, "colors": 3}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let cli: Value = serde_json::from_slice(
        &run(&[
            "reduce",
            root()
                .join("instances/graphs/petersen.col")
                .to_str()
                .unwrap(),
            "--colors",
            "3",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(reduced["groups"], cli["groups"]);
    assert_eq!(reduced["samples"], cli["samples"]);

    let (status, health) = get(&server, "/v1/health").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&health).unwrap()["status"],
        "ok"
    );
    let (status, version) = get(&server, "/v1/version").await;
    let version: Value = serde_json::from_str(&version).unwrap();
    assert_eq!(
        (status, version["version"].as_str()),
        (200, Some(env!("CARGO_PKG_VERSION")))
    );
    let (status, metrics) = get(&server, "/metrics").await;
    assert_eq!(status, 200);
    for line in [
        "partrec_http_requests_total{method=\"POST\",route=\"/v1/solve\",status=\"200\"} 1",
        "partrec_http_requests_total{method=\"POST\",route=\"/v1/check\",status=\"200\"} 2",
        "partrec_solves_total{outcome=\"sat\"} 1",
        "partrec_backend_solves_total{backend=\"cadical\"} 1",
        "partrec_solve_duration_seconds_count 1",
        "partrec_queue_depth 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    // One log line per request on stderr.
    assert!(
        server.stderr().contains("POST /v1/check 200"),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_400_404_405_413_and_422_with_the_field() {
    let server = Server::start(
        "errors",
        &["--max-body-mb", "0.05", "--max-clauses", "3000", "-q"],
    );
    let cases = [
        ("/v1/solve", r#"{"groups": [{"tokens": 2"#.to_string(), 400, "body"),
        ("/v1/solve", "[]".to_string(), 400, "body"),
        ("/v1/solve", r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [{"x": [2], "y": 0}]}"#.to_string(), 400, "samples[0].x[0]"),
        ("/v1/solve", r#"{"groups": [{"tokens": 2, "classes": 0}], "samples": []}"#.to_string(), 400, "groups[0].classes"),
        ("/v1/solve", r#"{"groups": [{"tokens": 2, "classes": 1}], "samples": [], "options": {"timeout": 0}}"#.to_string(), 400, "options.timeout"),
        ("/v1/jobs", r#"{"groups": [{"tokens": 2, "classes": 1}], "smaples": []}"#.to_string(), 400, "smaples"),
        ("/v1/check", r#"{"instance": {"groups": [{"tokens": 2, "classes": 1}], "samples": []}, "solution": {"partition": [[0]]}}"#.to_string(), 400, "solution.partition[0]"),
        ("/v1/reduce/coloring", r#"{"graph": "p edge 2 1\ne 1 5\n", "colors": 2}"#.to_string(), 400, "graph"),
        ("/v1/solve", "x".repeat(60_000), 413, "body"),
        ("/v1/solve", shipped("hard-three-groups.json"), 422, "samples"),
    ];
    for (path, body, status, field) in cases {
        let (got, answer) = post(&server, path, body).await;
        assert_eq!(got, status, "{path}: {answer}");
        assert_eq!(answer["field"].as_str(), Some(field), "{path}: {answer}");
        assert!(answer["error"].as_str().unwrap().len() > 10);
    }
    // The limit bounds what is encoded after propagation: planted-small's whole CNF is
    // over 3,000 clauses, but propagation decides every token, so it is solved.
    let (status, answer) = post(&server, "/v1/solve", shipped("planted-small.json")).await;
    assert_eq!(
        (status, answer["unique"].as_bool()),
        (200, None),
        "{answer}"
    );
    assert_eq!(answer["status"], "sat", "{answer}");
    let (status, answer) = get(&server, "/v1/nowhere").await;
    assert_eq!(status, 404, "{answer}");
    let response = client().put(server.url("/v1/solve")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert!(!server.stderr().contains("panicked"));
}

/// How long until the server reports no running solve (`/v1/health`); at most 1 s.
async fn until_no_solve_runs(server: &Server) -> Duration {
    let start = Instant::now();
    loop {
        let (_, health) = get(server, "/v1/health").await;
        let health: Value = serde_json::from_str(&health).unwrap();
        if health["running"] == 0 {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(1), "{health}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Asserts that within `within` the server is back to `idle` threads and has no child
/// process: every solve has ended. Returns how long that took.
fn assert_back_to_idle(server: &Server, idle: usize, within: Duration) -> Duration {
    let start = Instant::now();
    while (server.threads() > idle || !server.children().is_empty()) && start.elapsed() < within {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        server.threads() <= idle,
        "{} threads, {idle} when idle: a solve is still running",
        server.threads()
    );
    assert!(
        server.children().is_empty(),
        "an orphaned solve: {:?}",
        server.children()
    );
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeout_answers_unknown_and_ends_the_solve() {
    let server = Server::start("timeout", &["-q"]);
    let idle = server.idle_threads();
    // CaDiCaL stops in the server on time; varisat's child is killed (its process takes
    // longer to start and to end).
    for (backend, limit) in [("cadical", 1.1), ("varisat", 3.0)] {
        let body = with_options(
            &hard_instance(),
            json!({"unique": true, "timeout": 1, "backend": backend}),
        );
        let t = Instant::now();
        let (status, answer) = post(&server, "/v1/solve", body).await;
        let elapsed = t.elapsed();
        assert_eq!(
            (status, answer["status"].as_str()),
            (200, Some("unknown")),
            "{answer}"
        );
        assert_eq!(answer["stats"]["timed_out"], true);
        assert_eq!(answer["count_complete"], false, "{answer}");
        println!("{backend}: a 1 s timeout answered in {elapsed:?}");
        assert!(
            elapsed < Duration::from_secs_f64(limit),
            "{backend}: {elapsed:?}"
        );
        let settled = assert_back_to_idle(&server, idle, Duration::from_secs(1));
        println!("{backend}: back to {idle} threads, no child, {settled:?} after the answer");
    }
    // The server itself is idle afterwards.
    let before = server.cpu_ticks();
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.cpu_ticks() - before <= 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_goes_away_stops_its_solve() {
    let server = Server::start("disconnect", &["-q"]);
    let idle = server.idle_threads();
    for backend in ["cadical", "varisat"] {
        let body = with_options(&hard_instance(), json!({"timeout": 60, "backend": backend}));
        let impatient = reqwest::Client::builder()
            .timeout(Duration::from_millis(700))
            .build()
            .unwrap();
        assert!(impatient
            .post(server.url("/v1/solve"))
            .body(body)
            .send()
            .await
            .is_err());
        let ended = until_no_solve_runs(&server).await;
        let settled = assert_back_to_idle(&server, idle, Duration::from_secs(1));
        println!(
            "{backend}: the solve returned {ended:?} after the client went away, threads idle {settled:?} later"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_queue_answers_503_with_retry_after() {
    let server = Server::start("queue", &["--workers", "1", "--queue", "0", "-q"]);
    let hard = with_options(&hard_instance(), json!({"timeout": 5}));
    let (status, job) = post(&server, "/v1/jobs", hard.clone()).await;
    assert_eq!(status, 202, "{job}");
    let response = client()
        .post(server.url("/v1/solve"))
        .body(hard)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let answer: Value = response.json().await.unwrap();
    assert!(
        answer["error"].as_str().unwrap().contains("queue"),
        "{answer}"
    );
    let id = job["id"].as_str().unwrap();
    let deleted = client()
        .delete(server.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
}

/// Starts a background job on the hard instance (60 s) with varisat and waits for its
/// solve process; returns that process's id.
async fn start_hard_job(server: &Server) -> (String, u32) {
    let (status, job) = post(
        server,
        "/v1/jobs",
        with_options(
            &hard_instance(),
            json!({"timeout": 60, "backend": "varisat"}),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let start = Instant::now();
    while server.children().is_empty() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let solves = server.children();
    assert_eq!(solves.len(), 1, "one solve process");
    (job["id"].as_str().unwrap().to_string(), solves[0])
}

/// Cancels the job `id`, which must be pending or running.
async fn cancel(server: &Server, id: &str) {
    let response = client()
        .delete(server.url(&format!("/v1/jobs/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["state"],
        "cancelled"
    );
}

/// Polls a job until it is no longer pending or running.
async fn wait_for_job(server: &Server, id: &str) -> Value {
    for _ in 0..500 {
        let (status, text) = get(server, &format!("/v1/jobs/{id}")).await;
        assert_eq!(status, 200, "{text}");
        let state: Value = serde_json::from_str(&text).unwrap();
        if !matches!(state["state"].as_str(), Some("pending" | "running")) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} never finished");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_lives_from_pending_to_fetched_and_can_be_cancelled() {
    let server = Server::start("jobs", &["--max-jobs", "2", "--job-ttl", "0.5", "-q"]);
    let instance = shipped("planted-small.json");
    let response = client()
        .post(server.url("/v1/jobs"))
        .body(instance.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["state"], "pending");
    assert_eq!(
        location,
        format!("/v1/jobs/{}", created["id"].as_str().unwrap())
    );
    let id = created["id"].as_str().unwrap();
    let done = wait_for_job(&server, id).await;
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!(done["result"]["status"], "sat");
    let parsed = Instance::from_json(instance.as_bytes(), "x").unwrap();
    let partition: Vec<Vec<u32>> =
        serde_json::from_value(done["result"]["partition"].clone()).unwrap();
    assert!(check(&parsed, &partition).unwrap().consistent);
    // Fetched once, then gone.
    assert_eq!(get(&server, &format!("/v1/jobs/{id}")).await.0, 404);

    // A running hard job is cancelled: its solve process goes away.
    let idle = server.idle_threads();
    let (hard_id, solve) = start_hard_job(&server).await;
    let (_, state) = get(&server, &format!("/v1/jobs/{hard_id}")).await;
    assert!(state.contains("\"running\""), "{state}");
    cancel(&server, &hard_id).await;
    assert!(server.wait_for_no_children(Duration::from_secs(2)));
    assert!(!common::server::is_running(solve));
    assert_eq!(get(&server, &format!("/v1/jobs/{hard_id}")).await.0, 404);
    // So is one solved in the server: its thread ends.
    let (status, job) = post(
        &server,
        "/v1/jobs",
        with_options(&hard_instance(), json!({"timeout": 60})),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let hard_id = job["id"].as_str().unwrap();
    let start = Instant::now();
    while !get(&server, &format!("/v1/jobs/{hard_id}"))
        .await
        .1
        .contains("\"running\"")
    {
        assert!(start.elapsed() < Duration::from_secs(10), "never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.threads() > idle, "no solving thread to stop");
    cancel(&server, hard_id).await;
    let ended = until_no_solve_runs(&server).await;
    let settled = assert_back_to_idle(&server, idle, Duration::from_secs(1));
    println!(
        "cadical: the job's solve returned {ended:?} after its cancellation, threads idle {settled:?} later"
    );

    // The cap: two stored jobs, the third is refused; an unfetched result expires after the TTL.
    for _ in 0..2 {
        assert_eq!(post(&server, "/v1/jobs", instance.clone()).await.0, 202);
    }
    let (status, refused) = post(&server, "/v1/jobs", instance.clone()).await;
    assert_eq!(status, 503, "{refused}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(post(&server, "/v1/jobs", instance).await.0, 202);
    let (_, health) = get(&server, "/v1/health").await;
    assert_eq!(
        serde_json::from_str::<Value>(&health).unwrap()["jobs"],
        1,
        "{health}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_cancels_jobs_and_exits_0() {
    let mut server = Server::start("shutdown", &[]);
    let (_, solve) = start_hard_job(&server).await;
    let status = server
        .terminate(Duration::from_secs(10))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        !common::server::is_running(solve),
        "the solve outlived the server"
    );
    assert!(
        server.stderr().contains("server stopped"),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_curl_examples_work_as_printed() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        skip("curl", "curl is not installed");
        return;
    }
    let server = Server::start("readme", &["-q"]);
    let blocks = common::manual::curl_blocks(&server.base);
    assert!(blocks.len() >= 5, "found {} curl blocks", blocks.len());
    let workdir = common::manual::workdir("manual-curl");
    for block in blocks {
        let out = std::process::Command::new("sh")
            .args(["-ec", &block])
            .current_dir(&workdir)
            .env("PATH", common::manual::path_with_partrec(None))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{block}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!stdout.trim().is_empty(), "{block} printed nothing");
        // Every answer is JSON except the metrics text; none is an error unless the block says so.
        for line in stdout.lines().filter(|l| l.starts_with('{')) {
            let value: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{block}: {e}: {line}"));
            assert!(
                value.get("error").is_none() || block.contains("# error"),
                "{block}: {line}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_server_leaves_no_solve_behind() {
    let server = Server::start("killed", &["-q"]);
    let (_, solve) = start_hard_job(&server).await;
    drop(server); // SIGKILL: the server gets no chance to kill its child.
    let alive = || common::server::is_running(solve);
    let start = Instant::now();
    while alive() && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "the orphaned solve {solve} is still running");
}
