//! `partrec serve` against hostile clients, over loopback only: tiny bodies that declare
//! huge sizes, slow and lying clients, too many connections, a solver killed under a
//! request. Every server here runs with its address space capped (`ulimit -v`), so an
//! allocation driven by a declared size fails the test instead of the machine, and
//! every loop is bounded. The peak memory of the server is printed:
//!
//!     cargo test --release --test serve_hostile -- --nocapture

mod common;

use common::root;
use common::server::Server;
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The address-space cap of every server in these tests, in megabytes.
const CAP_MB: u64 = 2048;

/// What a case must get.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// 2xx: the instance is valid and its data small, whatever it declares.
    Answer,
    /// 4xx with a one-line `{"error", "field"}`: the work really would be too large.
    Refusal,
}

/// (route, body, expected, text the answer must contain).
type Case = (&'static str, String, Expect, &'static str);

/// Bodies of at most a few hundred bytes declaring 4e9 tokens, classes, vertices or
/// colours (and a few other extremes).
fn declared_size_cases() -> Vec<Case> {
    use Expect::{Answer, Refusal};
    let s = |t: &str| t.to_string();
    let mut cases: Vec<Case> = vec![
        // An answer lists a class for each of 4e9 tokens: too large to give.
        (
            "/v1/solve",
            s(r#"{"groups":[{"tokens":4294967295,"classes":2}],"samples":[{"x":[0],"y":1}]}"#),
            Refusal,
            "groups[0].tokens",
        ),
        (
            "/v1/solve",
            s(
                r#"{"groups":[{"tokens":4294967295,"classes":4294967295},{"tokens":4294967295,"classes":4294967295}],"samples":[{"x":[4294967294,0],"y":1}]}"#,
            ),
            Refusal,
            "tokens",
        ),
        (
            "/v1/jobs",
            s(r#"{"groups":[{"tokens":4294967295,"classes":2}],"samples":[{"x":[0],"y":1}]}"#),
            Refusal,
            "tokens",
        ),
        (
            "/v1/solve",
            s(r#"{"groups":[{"tokens":4294967296,"classes":2}],"samples":[]}"#),
            Refusal,
            "tokens",
        ),
        // 4e9 classes cost nothing: three tokens are listed.
        (
            "/v1/solve",
            s(r#"{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[0],"y":1}]}"#),
            Answer,
            r#""status":"sat""#,
        ),
        (
            "/v1/solve",
            s(
                r#"{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[0],"y":1}],"options":{"unique":true}}"#,
            ),
            Answer,
            r#""unique":false"#,
        ),
        (
            "/v1/solve",
            s(
                r#"{"groups":[{"tokens":3,"classes":4294967295},{"tokens":3,"classes":4294967295}],"samples":[{"x":[0,1],"y":1},{"x":[1,0],"y":2}],"options":{"count":18446744073709551615}}"#,
            ),
            Answer,
            r#""count_complete":true"#,
        ),
        (
            "/v1/jobs",
            s(r#"{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[0],"y":1}]}"#),
            Answer,
            r#""state":"pending""#,
        ),
        // A million free tokens with a million classes: counting them is not quadratic.
        (
            "/v1/solve",
            s(
                r#"{"groups":[{"tokens":1000000,"classes":1000000}],"samples":[{"x":[0],"y":1}],"options":{"unique":true}}"#,
            ),
            Answer,
            r#""unique":false"#,
        ),
        // Labels beyond 2^64 compare exactly: two values on one x is unsat.
        (
            "/v1/solve",
            s(
                r#"{"groups":[{"tokens":2,"classes":2}],"samples":[{"x":[0],"y":18446744073709551616},{"x":[0],"y":18446744073709551617}]}"#,
            ),
            Answer,
            r#""status":"unsat""#,
        ),
        // Checks: huge classes, with and without a planted partition to compare with.
        (
            "/v1/check",
            s(
                r#"{"instance":{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[0],"y":1}]},"solution":{"partition":[[0,1,2]]}}"#,
            ),
            Answer,
            r#""consistent":true"#,
        ),
        (
            "/v1/check",
            s(
                r#"{"instance":{"groups":[{"tokens":3,"classes":4294967295}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[0,1,2]]}},"solution":{"partition":[[0,1,2]]}}"#,
            ),
            Answer,
            r#""equals_planted":true"#,
        ),
        (
            "/v1/check",
            s(
                r#"{"instance":{"groups":[{"tokens":3,"classes":2000}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[0,1,2]]}},"solution":{"partition":[[2,1,0]]}}"#,
            ),
            Answer,
            r#""accuracy":1"#,
        ),
        (
            "/v1/check",
            s(
                r#"{"instance":{"groups":[{"tokens":4294967295,"classes":2}],"samples":[{"x":[0],"y":1}]},"solution":{"partition":[[0]]}}"#,
            ),
            Refusal,
            "solution.partition",
        ),
        // Reductions: a sample per vertex, so 3e6 or 4e9 declared vertices are too many.
        (
            "/v1/reduce/coloring",
            s(r#"{"graph":"p edge 4000000000 1\ne 1 2\n","colors":3}"#),
            Refusal,
            "--max-reduce-size",
        ),
        (
            "/v1/reduce/coloring",
            s(r#"{"graph":"p edge 3000000 1\ne 1 2\n","colors":3}"#),
            Refusal,
            "--max-reduce-size",
        ),
        (
            "/v1/reduce/coloring",
            s(r#"{"graph":"p edge 4294967295 0\n","colors":4294967295}"#),
            Refusal,
            "graph",
        ),
        (
            "/v1/reduce/coloring",
            s(r#"{"graph":"p edge 99999999999999999999999 1\n","colors":3}"#),
            Refusal,
            "graph",
        ),
        (
            "/v1/reduce/coloring",
            s(r#"{"graph":"p edge 5 1\ne 1 2\n","colors":4294967295}"#),
            Refusal,
            "colors",
        ),
        (
            "/v1/reduce/coloring",
            s(r#"{"graph":"p edge 5 1\ne 1 2\n","colors":4294967296}"#),
            Refusal,
            "colors",
        ),
    ];
    // Each body is under 200 bytes except the two-group ones, which stay under 300.
    for (path, body, _, _) in &cases {
        assert!(body.len() < 300, "{path}: {} bytes", body.len());
    }
    cases.sort_by_key(|(path, ..)| *path == "/v1/check"); // the riskiest last
    cases
}

/// Posts `body`; returns the status and text, or why there is no answer.
async fn post(
    client: &reqwest::Client,
    server: &Server,
    path: &str,
    body: String,
) -> Result<(u16, String), String> {
    let response = client
        .post(server.url(path))
        .body(body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| format!("{e}"))?;
    Ok((status, text))
}

/// What is wrong with an answer, if anything.
fn judge(expect: Expect, needle: &str, status: u16, text: &str) -> Option<String> {
    let lines = text.trim_end_matches('\n').lines().count();
    let json: Option<Value> = serde_json::from_str(text).ok();
    let wrong = match expect {
        Expect::Answer if !(200..300).contains(&status) => Some("expected 2xx"),
        Expect::Refusal if !(400..500).contains(&status) => Some("expected 4xx"),
        _ if lines != 1 || json.is_none() => Some("expected one line of JSON"),
        Expect::Refusal
            if json
                .as_ref()
                .is_some_and(|j| !j["error"].is_string() || j.get("field").is_none()) =>
        {
            Some("expected {\"error\", \"field\"}")
        }
        _ if !text.contains(needle) => Some("missing the expected text"),
        _ => None,
    };
    wrong.map(|w| {
        let shown: String = text.chars().take(300).collect();
        format!("{w} ({needle:?}), got {status}: {shown}")
    })
}

/// The time one `GET /v1/health` takes over a fresh connection, if it answers 200 within 5 s.
fn health(server: &Server) -> Option<Duration> {
    let t = Instant::now();
    let mut stream = TcpStream::connect(server.addr()).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream
        .write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer
        .starts_with("HTTP/1.1 200")
        .then(|| t.elapsed())
        .filter(|d| *d < Duration::from_secs(5))
}

fn peak_mb(server: &Server) -> f64 {
    server
        .peak_rss_kb()
        .map_or(f64::NAN, |kb| kb as f64 / 1024.0)
}

#[tokio::test(flavor = "multi_thread")]
async fn tiny_bodies_declaring_huge_sizes_get_an_answer_not_a_crash() {
    let args = ["--timeout", "10", "-q"];
    let mut server = Server::start_capped("hostile-declared", CAP_MB, &args);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut failures = Vec::new();
    let mut peak = 0.0f64;
    for (path, body, expect, needle) in declared_size_cases() {
        let t = Instant::now();
        let answer = post(&client, &server, path, body.clone()).await;
        let seconds = t.elapsed().as_secs_f64();
        let failure = match &answer {
            Ok((status, text)) => judge(expect, needle, *status, text),
            Err(e) => Some(e.clone()),
        };
        println!(
            "{path} {body}: {} in {seconds:.2} s{}",
            answer.as_ref().map_or(0, |a| a.0),
            failure
                .as_deref()
                .map_or(String::new(), |f| format!(": {f}"))
        );
        if let Some(f) = failure {
            failures.push(format!("POST {path} {body}: {f}"));
        }
        if !server.alive() {
            failures.push(format!(
                "POST {path} {body}: the server died:\n{}",
                server.stderr()
            ));
            server = Server::start_capped("hostile-declared", CAP_MB, &args);
        } else {
            peak = peak.max(peak_mb(&server));
        }
    }
    assert!(
        health(&server).is_some(),
        "/v1/health does not answer afterwards"
    );
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
    println!("hostile: declared sizes: server peak RSS {peak:.0} MB (cap {CAP_MB} MB)");
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        declared_size_cases().len(),
        failures.join("\n")
    );
    assert!(peak < 256.0, "peak RSS {peak:.0} MB");
}

/// Whether the server has closed `stream` (end of stream or reset); `false` while open.
fn closed(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 64];
    stream.set_nonblocking(true).unwrap();
    let closed = match (&mut &*stream).read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false, // an answer (none is expected): the server is still there
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

#[test]
fn two_hundred_slow_headers_do_not_block_health_and_are_dropped() {
    let server = Server::start_capped(
        "hostile-slow",
        CAP_MB,
        &["--header-timeout", "2", "--body-timeout", "2", "-q"],
    );
    let fds = |s: &Server| {
        std::fs::read_dir(format!("/proc/{}/fd", s.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let idle_fds = fds(&server);
    let head = b"POST /v1/solve HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    struct Slow {
        stream: TcpStream,
        opened: Instant,
        sent: usize,
        closed_after: Option<Duration>,
    }
    let mut slow: Vec<Slow> = (0..200)
        .map(|_| {
            let stream = TcpStream::connect(server.addr()).expect("connects");
            stream.set_nodelay(true).unwrap();
            Slow {
                stream,
                opened: Instant::now(),
                sent: 0,
                closed_after: None,
            }
        })
        .collect();
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut last_health = None::<Instant>;
    // One byte per second on each connection, for 6 s; closes are looked for every
    // 50 ms, and health is asked every half second.
    while start.elapsed() < Duration::from_secs(6) {
        for c in slow.iter_mut().filter(|c| c.closed_after.is_none()) {
            let due = c.opened.elapsed().as_secs() as usize + 1;
            while c.sent < due.min(head.len()) {
                let _ = c.stream.write_all(&head[c.sent..=c.sent]);
                c.sent += 1;
            }
            if closed(&c.stream) {
                c.closed_after = Some(c.opened.elapsed());
            }
        }
        if last_health.is_none_or(|t| t.elapsed() >= Duration::from_millis(500)) {
            worst = worst.max(health(&server).expect("/v1/health answers"));
            last_health = Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let lives: Vec<Duration> = slow.iter().filter_map(|c| c.closed_after).collect();
    let shortest = lives.iter().min().copied().unwrap_or_default();
    let longest = lives.iter().max().copied().unwrap_or_default();
    let left_fds = fds(&server);
    println!(
        "hostile: 200 slow connections: health within {:.0} ms at worst; {} closed by the server, {:.2} to {:.2} s after they opened; server fds {idle_fds} idle, {left_fds} after; peak RSS {:.0} MB",
        worst.as_secs_f64() * 1e3,
        lives.len(),
        shortest.as_secs_f64(),
        longest.as_secs_f64(),
        peak_mb(&server)
    );
    assert!(worst < Duration::from_secs(1), "health took {worst:?}");
    assert_eq!(lives.len(), 200, "slow connections still open after 6 s");
    assert!(
        shortest >= Duration::from_millis(1900),
        "a slow connection was dropped after {shortest:?}, before the 2 s timeout"
    );
    assert!(
        longest < Duration::from_secs(4),
        "a slow connection was dropped only after {longest:?}"
    );
    assert!(
        left_fds <= idle_fds + 5,
        "{left_fds} fds left (idle: {idle_fds})"
    );
}

/// Sends `head` (and `body`) on a fresh connection; returns the answer read within
/// `within` (up to the end of stream), and the time to its first byte.
fn exchange(
    server: &Server,
    head: &str,
    body: &[u8],
    within: Duration,
) -> (String, Option<Duration>) {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let t = Instant::now();
    let _ = stream.write_all(body);
    common::server::read_answer(&mut stream, t, within)
}

/// The JSON body of a raw HTTP answer.
fn json_body(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

#[test]
fn an_over_limit_content_length_gets_413_before_any_body_is_sent() {
    let server = Server::start_capped("hostile-length", CAP_MB, &["--max-body-mb", "1", "-q"]);
    for (path, length) in [
        ("/v1/solve", "99999999999"),
        ("/v1/solve", "1048577"),
        ("/v1/check", "99999999999"),
        ("/v1/reduce/coloring", "99999999999"),
        ("/v1/jobs", "18446744073709551613"),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        );
        let (answer, first) = exchange(&server, &head, b"", Duration::from_secs(5));
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "{path} {length}: {answer:?}"
        );
        let first = first.unwrap();
        assert!(
            first < Duration::from_secs(1),
            "{path}: 413 after {first:?}"
        );
        let body = json_body(&answer);
        assert_eq!(body["field"], "body", "{answer}");
        assert!(body["error"].as_str().unwrap().contains("--max-body-mb"));
    }
    // hyper itself refuses the two lengths it reserves (2^64 - 2 and 2^64 - 1): 4xx, no body.
    let head = "POST /v1/solve HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551615\r\n\r\n";
    let (answer, _) = exchange(&server, head, b"", Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer:?}");
    // A client that sends its whole 2 MB body before reading still reads its 413.
    let head = "POST /v1/solve HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n";
    let (answer, _) = exchange(&server, head, &vec![b' '; 2 << 20], Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    assert!(health(&server).is_some());
}

#[test]
fn a_body_shorter_than_its_length_times_out_with_408_and_a_close() {
    let server = Server::start_capped(
        "hostile-short",
        CAP_MB,
        &["--body-timeout", "2", "--header-timeout", "2", "-q"],
    );
    let head = "POST /v1/solve HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
    let t = Instant::now();
    let (answer, first) = exchange(&server, head, br#"{"groups":"#, Duration::from_secs(10));
    let closed_after = t.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    let first = first.unwrap();
    assert!(
        first >= Duration::from_millis(1500) && first < Duration::from_secs(4),
        "408 after {first:?}"
    );
    assert!(
        closed_after < Duration::from_secs(6),
        "closed after {closed_after:?}"
    );
    assert_eq!(json_body(&answer)["field"], "body");
    assert!(health(&server).is_some());
}

#[test]
fn connections_over_the_cap_get_503_and_idle_ones_are_closed() {
    let server = Server::start_capped(
        "hostile-cap",
        CAP_MB,
        &["--max-connections", "4", "--header-timeout", "2", "-q"],
    );
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(server.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (answer, _) = exchange(
        &server,
        "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"",
        Duration::from_secs(3),
    );
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(json_body(&answer)["error"]
        .as_str()
        .unwrap()
        .contains("--max-connections"));
    // The idle connections are closed at the header timeout; then there is room again.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(health(&server).is_some());
    drop(idle);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_and_reduce_answer_by_the_deadline() {
    let server = Server::start_capped("hostile-deadline", CAP_MB, &["--timeout", "2", "-q"]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // An O(K^3) comparison with the planted partition at K = 3000 (if the checker does
    // one): an answer, or 503 at the deadline, within 2 s and a margin.
    let body = r#"{"instance":{"groups":[{"tokens":3,"classes":3000}],"samples":[{"x":[0],"y":1}],"planted":{"partition":[[0,1,2]]}},"solution":{"partition":[[2,1,0]]}}"#;
    let t = Instant::now();
    let (status, text) = post(&client, &server, "/v1/check", body.into())
        .await
        .unwrap();
    let took = t.elapsed();
    println!(
        "hostile: check at K = 3000: {status} in {took:?}: {}",
        text.trim_end()
    );
    assert!(matches!(status, 200 | 503), "{status}: {text}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(text.trim_end().lines().count(), 1);
    // Work past the deadline is answered 503 at the deadline (here 1 ms, against a
    // reduction of half a million vertices), and the server stays healthy.
    let hasty = Server::start_capped("hostile-hasty", CAP_MB, &["--timeout", "0.001", "-q"]);
    let body = r#"{"graph":"p edge 500000 0\n","colors":3}"#;
    let (status, text) = post(&client, &hasty, "/v1/reduce/coloring", body.into())
        .await
        .unwrap();
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("did not finish within"), "{text}");
    assert_eq!(text.trim_end().lines().count(), 1);
    assert!(health(&hasty).is_some());
    // A reduction at the size limit is built; one sample more is refused before that.
    let limit = 100;
    let server = Server::start_capped(
        "hostile-reduce",
        CAP_MB,
        &["--max-reduce-size", &limit.to_string(), "-q"],
    );
    for (vertices, edges, status) in [(99, 1, 200), (100, 1, 422)] {
        let graph = format!("p edge {vertices} {edges}\ne 1 2\n");
        let body = serde_json::json!({"graph": graph, "colors": 3}).to_string();
        let (got, text) = post(&client, &server, "/v1/reduce/coloring", body)
            .await
            .unwrap();
        assert_eq!(got, status, "{vertices} vertices: {text}");
    }
}

/// The hard instance under `timeout`, solved by varisat (in a child process).
fn hard_body(timeout: f64) -> String {
    let text = std::fs::read_to_string(root().join("instances/hard-three-groups.json")).unwrap();
    let mut body: Value = serde_json::from_str(&text).unwrap();
    body["options"] = serde_json::json!({ "timeout": timeout, "backend": "varisat" });
    body.to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_solver_is_reported_as_killed_and_a_timeout_keeps_the_sizes() {
    let server = Server::start_capped("hostile-killed", CAP_MB, &["-q"]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let request = {
        let (client, url) = (client.clone(), server.url("/v1/solve"));
        tokio::spawn(async move {
            let response = client.post(url).body(hard_body(30.0)).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    };
    let start = Instant::now();
    while server.children().is_empty() && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let solver = server.children()[0];
    std::process::Command::new("kill")
        .args(["-KILL", &solver.to_string()])
        .status()
        .unwrap();
    let (status, text) = request.await.unwrap();
    assert_eq!(status, 500, "{text}");
    let error = serde_json::from_str::<Value>(&text).unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("killed by signal 9 (SIGKILL)"), "{error}");
    assert_eq!(text.trim_end().lines().count(), 1);

    // A timeout before any progress still reports the instance's sizes.
    let (status, text) = post(&client, &server, "/v1/solve", hard_body(1.0))
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["stats"]["timed_out"], true, "{text}");
    assert!(answer["stats"]["samples"].as_u64().unwrap() > 0, "{text}");
    assert_eq!(
        answer["stats"]["observed_tokens"].as_array().unwrap().len(),
        3,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_solver_refusing_its_input_is_a_4xx_with_its_message() {
    // With the server's own answer-size and memory checks lifted, the solver refuses the
    // instance itself (in the server, or in its child process through the worker
    // protocol): that is the client's to fix, so 4xx with its message.
    let server = Server::start_capped(
        "hostile-refused",
        CAP_MB,
        &[
            "--max-answer-tokens",
            "100000000000",
            "--max-memory",
            "1T",
            "-q",
        ],
    );
    let client = reqwest::Client::new();
    for backend in ["cadical", "varisat"] {
        let body = format!(
            r#"{{"groups":[{{"tokens":4294967295,"classes":2}}],"samples":[{{"x":[0],"y":1}}],"options":{{"backend":"{backend}"}}}}"#
        );
        let (status, text) = post(&client, &server, "/v1/solve", body).await.unwrap();
        assert_eq!(status, 422, "{backend}: {text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["field"], "groups[0].tokens", "{backend}: {text}");
        assert!(
            !answer["error"].as_str().unwrap().contains("partrec:"),
            "{text}"
        );
        assert!(server.wait_for_no_children(Duration::from_secs(2)));
    }
}

/// A dozen bodies of about 4 MB (200,000 samples each, group-0 tokens seen once, so
/// preprocessing has work) with 1 s timeouts, sent at once to a server with one worker
/// and a queue of one and one body parsed at a time: each is answered by its deadline
/// plus a margin (`unknown`, or 503 for those the queue cannot hold), and the server's
/// threads stay bounded (one parse, one solve and its helpers), whatever the requests.
#[tokio::test(flavor = "multi_thread")]
async fn a_dozen_large_bodies_with_short_timeouts_are_answered_by_their_deadlines() {
    let server = Server::start_capped(
        "hostile-dozen",
        CAP_MB,
        &[
            "--workers",
            "1",
            "--queue",
            "1",
            "--max-parsing",
            "1",
            "--max-body-mb",
            "8",
            "-q",
        ],
    );
    let mut state = 24u64;
    let mut draw = move |n: u64| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) % n
    };
    let n = 200_000;
    let samples: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"x":[{i},{}],"y":{}}}"#, draw(10), draw(2)))
        .collect();
    let body = format!(
        r#"{{"groups":[{{"tokens":{n},"classes":3}},{{"tokens":10,"classes":3}}],"samples":[{}],"options":{{"timeout":1}}}}"#,
        samples.join(",")
    );
    assert!(body.len() > 3_500_000, "{} bytes", body.len());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let idle = server.idle_threads();
    let mut peak = 0;
    let started = Instant::now();
    let mut sent = Vec::new();
    for _ in 0..12 {
        let (client, body) = (client.clone(), body.clone());
        let url = server.url("/v1/solve");
        sent.push(tokio::spawn(async move {
            let t = Instant::now();
            let r = client.post(url).body(body).send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (status, text, t.elapsed())
        }));
    }
    while !sent.iter().all(|h| h.is_finished()) && started.elapsed() < Duration::from_secs(20) {
        peak = peak.max(server.threads());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for handle in sent {
        let (status, text, took) = handle.await.unwrap();
        println!("dozen: {status} in {took:?}");
        assert!(
            matches!(status, 200 | 503),
            "{status}: {}",
            &text[..text.len().min(200)]
        );
        if status == 200 {
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                answer["status"],
                "unknown",
                "{}",
                &text[..text.len().min(200)]
            );
        }
        // The deadline counts from the body's receipt; sending 4 MB takes a moment.
        assert!(took < Duration::from_secs(3), "{status} after {took:?}");
    }
    println!("dozen: threads {idle} idle, {peak} at most");
    assert!(peak <= idle + 6, "{peak} threads, {idle} idle");
    assert!(health(&server).is_some());
}
