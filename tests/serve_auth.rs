//! `partrec serve --token-file`: known clients only. The real binary on loopback: every
//! route but `GET` of the page, health and the API's description refuses a request
//! without a known bearer token (401,
//! before its body is read), a known token is served and counted under its name, a bad
//! token file or an open address without one stops the server at startup (exit 2, one
//! line).

mod common;

use common::partrec;
use common::server::{client, Server};
use common::{root, scratch};
use serde_json::Value;
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

const ALICE: &str = "alice-7f3c9a0e51d24b86";
const BOB: &str = "bob-0c1d2e3f40516273";
/// A bare token: its client is named after its line.
const BARE: &str = "c4b0f6d2e8a91357bare";

/// A token file for `name`'s test: alice, bob and a bare token on line 4.
fn token_file(name: &str) -> PathBuf {
    let path = scratch(&format!("auth-{name}")).join("tokens");
    std::fs::write(
        &path,
        format!("# who may use this server\nalice {ALICE}\nbob {BOB}\n{BARE}\n"),
    )
    .unwrap();
    path
}

/// A server with the tokens of [`token_file`] and `args`.
fn with_tokens(name: &str, args: &[&str]) -> Server {
    let tokens = token_file(name);
    let mut all = vec!["--token-file", tokens.to_str().unwrap()];
    all.extend(args);
    Server::start(name, &all)
}

/// Sends `method path` with `body` and, if given, `Authorization: AUTH`; returns the
/// status, the `WWW-Authenticate` header and the body.
async fn send(
    server: &Server,
    method: &str,
    path: &str,
    body: impl Into<reqwest::Body>,
    auth: Option<&str>,
) -> (u16, Option<String>, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client().request(method, server.url(path)).body(body);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, challenge, response.text().await.unwrap())
}

fn planted() -> String {
    std::fs::read_to_string(root().join("instances/planted-small.json")).unwrap()
}

/// Every route but health, with a body each accepts.
fn guarded_routes() -> Vec<(&'static str, String, String)> {
    let job = format!("/v1/jobs/{:032x}", 7);
    let check = format!(
        r#"{{"instance": {}, "solution": {{"partition": [[0]]}}}}"#,
        planted()
    );
    let reduce = r#"{"graph": "p edge 2 1\ne 1 2\n", "colors": 2}"#;
    [
        ("POST", "/v1/solve", planted()),
        ("POST", "/v1/check", check),
        ("POST", "/v1/reduce/coloring", reduce.into()),
        ("POST", "/v1/jobs", planted()),
        ("GET", &job, String::new()),
        ("DELETE", &job, String::new()),
        ("GET", "/v1/version", String::new()),
        ("GET", "/metrics", String::new()),
        ("GET", "/v1/nowhere", String::new()),
        ("POST", "/v1/health", String::new()),
    ]
    .into_iter()
    .map(|(method, path, body)| (method, path.to_string(), body))
    .collect()
}

/// Asserts a 401 with the bearer challenge and `field: authorization`.
fn assert_401(what: &str, (status, challenge, body): &(u16, Option<String>, String)) {
    assert_eq!(*status, 401, "{what}: {body}");
    assert_eq!(challenge.as_deref(), Some("Bearer"), "{what}");
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: {e}: {body}"));
    assert_eq!(body["field"], "authorization", "{what}: {body}");
    assert!(body["error"].as_str().unwrap().len() > 10, "{what}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_but_health_needs_a_known_token() {
    let server = with_tokens("guarded", &[]);
    // A token one character off, of the right length.
    let near = format!("Bearer {}x", &ALICE[..ALICE.len() - 1]);
    let wrong = [
        None,
        Some(near.as_str()),
        Some("Bearer "),
        Some("Basic YWxpY2U6cGFzcw=="),
        Some(ALICE),
    ];
    for (method, path, body) in guarded_routes() {
        for auth in wrong {
            let answer = send(&server, method, &path, body.clone(), auth).await;
            assert_401(&format!("{method} {path} with {auth:?}"), &answer);
        }
        let (status, _, answer) = send(
            &server,
            method,
            &path,
            body,
            Some(&format!("Bearer {ALICE}")),
        )
        .await;
        assert_ne!(status, 401, "{method} {path}: {answer}");
        assert!(status < 500, "{method} {path}: {status} {answer}");
    }
    let (status, _, health) = send(&server, "GET", "/v1/health", "", None).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(
        serde_json::from_str::<Value>(&health).unwrap()["status"],
        "ok"
    );
    let (status, _, _) = send(&server, "GET", "/v1/health", "", Some("Bearer nobody")).await;
    assert_eq!(status, 200);
    // The page (it asks for a token before it sends anything) and the API's description
    // are open too.
    for path in ["/", "/v1/openapi.json"] {
        let (status, _, text) = send(&server, "GET", path, "", None).await;
        assert_eq!(status, 200, "{path}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_token_is_served_as_its_client() {
    let server = with_tokens("served", &[]);
    for (token, name) in [(ALICE, "alice"), (BARE, "line-4")] {
        let auth = format!("bearer {token}");
        let (status, _, answer) = send(&server, "POST", "/v1/solve", planted(), Some(&auth)).await;
        assert_eq!(status, 200, "{answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["status"], "sat");
        let (status, _, job) = send(&server, "POST", "/v1/jobs", planted(), Some(&auth)).await;
        assert_eq!(status, 202, "{job}");
        let href = serde_json::from_str::<Value>(&job).unwrap()["href"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, _, _) = send(&server, "GET", &href, "", Some(&auth)).await;
        assert_eq!(status, 200);
        // Each request's log line names its client.
        let log = server.stderr();
        let line = |l: &str| l.contains("POST /v1/solve 200") && l.ends_with(&format!(" ({name})"));
        assert!(log.lines().any(line), "{log}");
    }
    let (status, _, _) = send(
        &server,
        "GET",
        "/v1/version",
        "",
        Some(&format!("Bearer {BOB}")),
    )
    .await;
    assert_eq!(status, 200);
}

/// Sends `head` then `body` on a fresh connection (giving up writing after
/// `within`); returns what the server answered within `within`, the time to its first
/// byte, and how many body bytes the server took before it stopped reading.
fn exchange(
    server: &Server,
    head: &str,
    body: &[u8],
    within: Duration,
) -> (String, Option<Duration>, usize) {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let t = Instant::now();
    stream
        .set_write_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut sent = 0;
    for chunk in body.chunks(1 << 16) {
        match stream.write(chunk) {
            Ok(n) if t.elapsed() < within => sent += n,
            _ => break,
        }
    }
    let (answer, first) = common::server::read_answer(&mut stream, t, within);
    (answer, first, sent)
}

#[test]
fn the_401_comes_before_the_body_is_read_and_before_the_413() {
    let server = with_tokens(
        "unread",
        &["--max-body-mb", "1", "--body-timeout", "30", "-q"],
    );
    let head = |path: &str, length: u64, auth: &str| {
        format!("POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {length}\r\n\r\n")
    };
    // A declared length within the limit but no body sent: a server reading the body
    // would wait for it (--body-timeout 30 s); the 401 comes at once. Over the limit:
    // 401, not 413.
    for (path, length) in [
        ("/v1/solve", 1000),
        ("/v1/jobs", 1000),
        ("/v1/check", 1000),
        ("/v1/solve", 99_999_999_999),
        ("/v1/reduce/coloring", 2 << 20),
    ] {
        let (answer, first, _) = exchange(
            &server,
            &head(path, length, ""),
            b"",
            Duration::from_secs(10),
        );
        assert!(
            answer.starts_with("HTTP/1.1 401"),
            "{path} {length}: {answer:?}"
        );
        assert!(
            first.unwrap() < Duration::from_secs(2),
            "{path}: after {first:?}"
        );
        assert!(
            answer.to_lowercase().contains("www-authenticate: bearer"),
            "{answer}"
        );
    }
    // With a known token the same declared length is the 413.
    let alice = format!("Authorization: Bearer {ALICE}\r\n");
    let (answer, _, _) = exchange(
        &server,
        &head("/v1/solve", 2 << 20, &alice),
        b"",
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    // A whole 1 MB body of garbage sent before reading: 401 (not a parse error).
    let garbage = vec![b'{'; 1 << 20];
    let (answer, _, _) = exchange(
        &server,
        &head("/v1/solve", garbage.len() as u64, ""),
        &garbage,
        Duration::from_secs(10),
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer:?}");
    // 64 MB declared and sent without a token: the server reads no more than one body's
    // worth (1 MB) and closes; the rest never leaves the socket buffers.
    let huge = vec![b' '; 64 << 20];
    let (answer, _, sent) = exchange(
        &server,
        &head("/v1/solve", huge.len() as u64, ""),
        &huge,
        Duration::from_secs(20),
    );
    println!(
        "a 64 MB unauthenticated body: the server took {:.1} MB",
        sent as f64 / 1e6
    );
    assert!(sent < 24 << 20, "{sent} bytes taken");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 401"),
        "{answer:?}"
    );
    // The server is still well.
    let (answer, _, _) = exchange(
        &server,
        "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
        Duration::from_secs(5),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_sending_its_whole_body_before_reading_gets_its_401() {
    // A body within the limit and far larger than the socket buffers: the server reads
    // and drops it (keeping none of it) so that the client, still writing, is there to
    // read the 401 instead of a broken pipe.
    let server = with_tokens("whole-body", &["--max-body-mb", "64", "-q"]);
    for _ in 0..5 {
        let (status, challenge, _) =
            send(&server, "POST", "/v1/solve", vec![b' '; 60 << 20], None).await;
        assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));
    }
    assert!(
        server.peak_rss_kb().unwrap() < 60 << 10,
        "the body was kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_per_client() {
    let server = with_tokens("metrics", &["-q"]);
    let alice = format!("Bearer {ALICE}");
    let bob = format!("Bearer {BOB}");
    for _ in 0..2 {
        send(&server, "POST", "/v1/solve", planted(), Some(&alice)).await;
    }
    send(&server, "GET", "/v1/version", "", Some(&bob)).await;
    send(
        &server,
        "POST",
        "/v1/solve",
        planted(),
        Some("Bearer not-a-known-token"),
    )
    .await;
    send(&server, "GET", "/v1/health", "", None).await;
    let (status, _, metrics) = send(&server, "GET", "/metrics", "", Some(&alice)).await;
    assert_eq!(status, 200, "{metrics}");
    for line in [
        r#"partrec_client_requests_total{client="alice",route="/v1/solve",status="200"} 2"#,
        r#"partrec_client_requests_total{client="bob",route="/v1/version",status="200"} 1"#,
        r#"partrec_client_requests_total{client="",route="/v1/solve",status="401"} 1"#,
        r#"partrec_client_requests_total{client="",route="/v1/health",status="200"} 1"#,
        r#"partrec_http_requests_total{method="POST",route="/v1/solve",status="401"} 1"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line:?} in\n{metrics}"
        );
    }
    let clients = metrics
        .lines()
        .filter(|l| l.starts_with("partrec_client_requests_total{"))
        .count();
    assert_eq!(clients, 4, "{metrics}");
}

/// Runs `partrec serve ARGS` (jobs in memory), which must stop by itself within 10 s;
/// returns its exit code, standard output and standard error.
fn refused(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = partrec()
        .args(["serve", "--data-dir", ":memory:"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("partrec serve {args:?} kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (
        output.status.code(),
        text(output.stdout),
        text(output.stderr),
    )
}

#[test]
fn a_bad_token_file_stops_the_server_with_one_line() {
    let dir = scratch("auth-bad-files");
    let line = format!("{ALICE}\n");
    let cases = [
        (
            "short",
            format!("# x\nalice {ALICE}\nbob short-token\n"),
            "line 3: the token is 11 characters",
        ),
        (
            "long",
            format!("bob {}\n", "x".repeat(257)),
            "line 1: the token is 257 characters",
        ),
        (
            "same-token",
            format!("alice {ALICE}\n\nbob {ALICE}\n"),
            "line 3: the same token as line 1",
        ),
        (
            "same-name",
            format!("alice {ALICE}\nalice {BOB}\n"),
            "line 2: the name `alice` is also on line 1",
        ),
        (
            "three-words",
            format!("alice {ALICE} extra\n"),
            "line 1: 3 words",
        ),
        ("empty", String::new(), "holds no token"),
        ("comments", "# nobody yet\n\n".into(), "holds no token"),
        (
            "big",
            line.repeat((1 << 20) / line.len() + 1),
            "larger than 1048576 bytes",
        ),
    ];
    let mut files: Vec<(PathBuf, &str)> = cases
        .iter()
        .map(|(name, text, says)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            (path, *says)
        })
        .collect();
    files.push((dir.join("missing"), "cannot be read"));
    for (path, says) in files {
        let path = path.to_str().unwrap();
        let (code, out, err) = refused(&["--addr", "127.0.0.1:0", "--token-file", path]);
        assert_eq!(code, Some(2), "{path}: {err}");
        assert_eq!(out, "", "{path}: it listened");
        assert_eq!(err.lines().count(), 1, "{path}: {err}");
        let start = format!("partrec: --token-file {path}: {says}");
        assert!(err.starts_with(&start), "{path}: {err}");
        assert!(!err.contains(ALICE), "the token is shown: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_address_needs_tokens_or_insecure_no_auth() {
    let (code, out, err) = refused(&["--addr", "0.0.0.0:0"]);
    assert_eq!((code, out.as_str()), (Some(2), ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("partrec: --addr 0.0.0.0:0 ")
            && err.contains("--token-file")
            && err.contains("--insecure-no-auth"),
        "{err}"
    );
    // Served with --insecure-no-auth (to anyone), and with a token file (to its clients).
    let tokens = token_file("open");
    for (name, extra) in [
        ("open-insecure", vec!["--insecure-no-auth"]),
        (
            "open-tokens",
            vec![
                "--token-file",
                tokens.to_str().unwrap(),
                "--insecure-no-auth",
            ],
        ),
    ] {
        let mut command = partrec();
        command
            .args(["serve", "--addr", "0.0.0.0:0", "-q"])
            .args(&extra);
        let server = Server::spawn(name, command);
        // Reached over loopback only.
        let port = server.addr().rsplit(':').next().unwrap().to_string();
        let local = format!("http://127.0.0.1:{port}");
        let status = |auth: Option<String>| {
            let mut request = client().get(format!("{local}/v1/version"));
            if let Some(auth) = auth {
                request = request.header("authorization", auth);
            }
            async move { request.send().await.unwrap().status().as_u16() }
        };
        if name == "open-insecure" {
            assert_eq!(status(None).await, 200);
        } else {
            assert_eq!(status(None).await, 401);
            assert_eq!(status(Some(format!("Bearer {BOB}"))).await, 200);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_is_seen_and_cancelled_only_with_the_token_that_created_it() {
    let server = with_tokens("job-owner", &["-q"]);
    let (alice, bob) = (format!("Bearer {ALICE}"), format!("Bearer {BOB}"));
    let (status, _, created) = send(&server, "POST", "/v1/jobs", planted(), Some(&alice)).await;
    assert_eq!(status, 202, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/v1/jobs/{id}");
    // Another client (or none) is told exactly what a missing job tells: 404 (401 without
    // a token), and cannot cancel it.
    let missing = format!("/v1/jobs/{:032x}", 7);
    let (_, _, absent) = send(&server, "GET", &missing, "", Some(&bob)).await;
    for method in ["GET", "DELETE"] {
        let (status, _, text) = send(&server, method, &path, "", Some(&bob)).await;
        assert_eq!(status, 404, "{method} by bob: {text}");
        assert_eq!(
            text.replace(&id, "ID"),
            absent.replace(&format!("{:032x}", 7), "ID"),
            "{method}"
        );
        let (status, _, _) = send(&server, method, &path, "", None).await;
        assert_eq!(status, 401, "{method} without a token");
    }
    // Its owner still sees it, finished.
    let start = Instant::now();
    loop {
        let (status, _, text) = send(&server, "GET", &path, "", Some(&alice)).await;
        assert_eq!(status, 200, "{text}");
        let state = serde_json::from_str::<Value>(&text).unwrap()["state"].clone();
        if state == "done" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "still {state} after 30 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
