//! `partrec serve` background jobs across restarts: the real binary killed with SIGKILL
//! (or stopped with SIGTERM) and started again on the same `--data-dir`. Finished results
//! are still there to fetch, pending jobs run, a job running at a kill runs again once
//! and is interrupted (with its partial answer) at a second kill, and a second server on
//! the same folder, or a folder holding something else, is refused with one line.

mod common;

use common::server::{client, Server};
use common::{partrec, root, scratch};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Sends `method` to `path` with `body`; returns the status and the answer's text.
async fn send(server: &Server, method: reqwest::Method, path: &str, body: String) -> (u16, String) {
    let response = client()
        .request(method, server.url(path))
        .body(body)
        .send()
        .await
        .expect("the server answers");
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The JSON answer to `GET path` (which must parse) and its status.
async fn get(server: &Server, path: &str) -> (u16, Value) {
    let (status, text) = send(server, reqwest::Method::GET, path, String::new()).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}")),
    )
}

/// A shipped instance's text.
fn shipped(name: &str) -> String {
    std::fs::read_to_string(root().join("instances").join(name)).unwrap()
}

/// The shipped hard instance (still unknown after a 60 s solve) as a job body with a
/// 60 s timeout: it runs until stopped.
fn hard_job() -> String {
    let mut body: Value = serde_json::from_str(&shipped("hard-three-groups.json")).unwrap();
    body["options"] = json!({"timeout": 60});
    body.to_string()
}

/// Submits a job; returns its id.
async fn submit(server: &Server, body: String) -> String {
    let (status, text) = send(server, reqwest::Method::POST, "/v1/jobs", body).await;
    assert_eq!(status, 202, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    created["id"].as_str().unwrap().to_string()
}

/// Polls job `id` (never fetching it: only while it is unfinished) until it is in `state`.
async fn wait_until(server: &Server, id: &str, state: &str) {
    let start = Instant::now();
    loop {
        let (status, job) = get(server, &format!("/v1/jobs/{id}")).await;
        assert_eq!(status, 200, "{job}");
        if job["state"] == state {
            return;
        }
        assert!(
            matches!(job["state"].as_str(), Some("pending" | "running")),
            "job {id} ended while waiting for {state}: {job}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "job {id} never became {state}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls job `id` until it has finished; returns it (fetched: it is then gone).
async fn wait_for_end(server: &Server, id: &str) -> Value {
    let start = Instant::now();
    loop {
        let (status, job) = get(server, &format!("/v1/jobs/{id}")).await;
        assert_eq!(status, 200, "{job}");
        if !matches!(job["state"].as_str(), Some("pending" | "running")) {
            return job;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "job {id} never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The count of finished solves in the server's metrics.
async fn solves(server: &Server) -> u64 {
    let (_, text) = send(server, reqwest::Method::GET, "/metrics", String::new()).await;
    text.lines()
        .filter(|l| l.starts_with("partrec_solves_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum()
}

/// Whether `/v1/check` finds `result`'s partition consistent with `instance`.
async fn consistent(server: &Server, instance: &str, result: &Value) -> bool {
    let body = format!(r#"{{"instance": {instance}, "solution": {result}}}"#);
    let (status, text) = send(server, reqwest::Method::POST, "/v1/check", body).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str::<Value>(&text).unwrap()["consistent"] == true
}

/// A server on the data folder `data`, `run` distinguishing its scratch folder from
/// those of the other runs on the same data.
fn server_on(test: &str, run: usize, data: &Path, args: &[&str]) -> Server {
    let mut all = vec!["--data-dir", data.to_str().unwrap()];
    all.extend_from_slice(args);
    Server::start(&format!("{test}-{run}"), &all)
}

/// A fresh data folder for `test`.
fn data_folder(test: &str) -> PathBuf {
    scratch(&format!("durable-{test}")).join("data")
}

/// Time for a running job's partial answer to be stored (it is, every second).
const PARTIAL_STORED: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_result_survives_a_kill_and_is_fetched_once_after_the_restart() {
    let data = data_folder("finished");
    let instance = shipped("planted-small.json");
    let server = server_on("durable-finished", 1, &data, &["-q"]);
    let id = submit(&server, instance.clone()).await;
    let start = Instant::now();
    while solves(&server).await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the job never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The result is stored right after the solve is counted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(server); // SIGKILL
    let server = server_on("durable-finished", 2, &data, &["-q"]);
    let (status, job) = get(&server, &format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (status, job["state"].as_str()),
        (200, Some("done")),
        "{job}"
    );
    assert_eq!(job["result"]["status"], "sat", "{job}");
    assert!(
        consistent(&server, &instance, &job["result"]).await,
        "{job}"
    );
    assert_eq!(
        solves(&server).await,
        0,
        "the stored result was served, not solved again"
    );
    assert_eq!(get(&server, &format!("/v1/jobs/{id}")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_running_at_a_kill_runs_again_once_then_is_interrupted_with_its_partial_answer() {
    let data = data_folder("interrupted");
    let server = server_on("durable-interrupted", 1, &data, &["-q"]);
    let id = submit(&server, hard_job()).await;
    wait_until(&server, &id, "running").await;
    tokio::time::sleep(PARTIAL_STORED).await;
    drop(server); // SIGKILL while it runs: queued again.
    let server = server_on("durable-interrupted", 2, &data, &[]);
    wait_until(&server, &id, "running").await;
    assert!(
        server.stderr().contains("jobs resumed from")
            && server.stderr().contains("jobs.sqlite3: 1\n"),
        "{}",
        server.stderr()
    );
    tokio::time::sleep(PARTIAL_STORED).await;
    drop(server); // SIGKILL while it runs again: interrupted.
    let server = server_on("durable-interrupted", 3, &data, &[]);
    let (status, job) = get(&server, &format!("/v1/jobs/{id}")).await;
    assert_eq!(
        (status, job["state"].as_str()),
        (200, Some("interrupted")),
        "{job}"
    );
    assert!(job["error"].as_str().unwrap().contains("killed"), "{job}");
    // What the solve had reported: the instance's sizes, nothing proven.
    let partial = &job["partial"];
    assert_eq!(partial["status"], "unknown", "{job}");
    assert_eq!(partial["stats"]["timed_out"], true, "{job}");
    assert!(partial["stats"]["samples"].as_u64().unwrap() > 0, "{job}");
    assert_eq!(get(&server, &format!("/v1/jobs/{id}")).await.0, 404);
    assert!(
        !server.stderr().contains("jobs resumed"),
        "{}",
        server.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_pending_at_a_kill_runs_after_the_restart() {
    let data = data_folder("pending");
    let instance = shipped("planted-small.json");
    let server = server_on("durable-pending", 1, &data, &["-q", "--workers", "1"]);
    let hard = submit(&server, hard_job()).await;
    wait_until(&server, &hard, "running").await;
    let small = submit(&server, instance.clone()).await;
    let (_, job) = get(&server, &format!("/v1/jobs/{small}")).await;
    assert_eq!(job["state"], "pending", "the only worker is busy: {job}");
    drop(server); // SIGKILL
    let server = server_on("durable-pending", 2, &data, &["-q", "--workers", "2"]);
    let job = wait_for_end(&server, &small).await;
    assert_eq!(job["state"], "done", "{job}");
    assert!(
        consistent(&server, &instance, &job["result"]).await,
        "{job}"
    );
    // The hard job runs again; cancelling it removes it.
    wait_until(&server, &hard, "running").await;
    let (status, text) = send(
        &server,
        reqwest::Method::DELETE,
        &format!("/v1/jobs/{hard}"),
        String::new(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("cancelled"), "{text}");
    assert_eq!(get(&server, &format!("/v1/jobs/{hard}")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_stopped_by_sigterm_runs_after_the_next_start() {
    let data = data_folder("sigterm");
    let mut server = server_on("durable-sigterm", 1, &data, &[]);
    let id = submit(&server, hard_job()).await;
    wait_until(&server, &id, "running").await;
    let status = server
        .terminate(Duration::from_secs(10))
        .expect("the server exits");
    assert_eq!(status.code(), Some(0), "{}", server.stderr());
    assert!(
        server
            .stderr()
            .contains("jobs.sqlite3 for the next start: 1\n"),
        "{}",
        server.stderr()
    );
    let server = server_on("durable-sigterm", 2, &data, &["-q"]);
    wait_until(&server, &id, "running").await;
}

/// Runs `partrec serve` on `data` expecting it to be refused: exit 2, nothing on
/// standard output, one line on standard error (returned).
fn refused(data: &Path) -> String {
    let out = partrec()
        .args(["serve", "--addr", "127.0.0.1:0", "-q", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("--data-dir {}", data.display())),
        "{stderr}"
    );
    stderr
}

#[test]
fn a_second_server_on_the_same_folder_or_a_foreign_file_is_refused_with_one_line() {
    let data = data_folder("second");
    let first = server_on("durable-second", 1, &data, &["-q"]);
    let message = refused(&data);
    assert!(
        message.contains("in use by another partrec serve"),
        "{message}"
    );
    drop(first);
    // Once the first is gone, the folder is free.
    let again = server_on("durable-second", 2, &data, &["-q"]);
    drop(again);
    let foreign = data_folder("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(
        foreign.join("jobs.sqlite3"),
        "not a database, but long enough for a header".repeat(4),
    )
    .unwrap();
    let message = refused(&foreign);
    assert!(message.contains("not a partrec job database"), "{message}");
}
