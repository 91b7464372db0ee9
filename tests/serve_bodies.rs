//! `partrec serve` with bodies that are not JSON: NumPy `.npz` archives and CSV or TSV
//! tables, told apart by their `Content-Type`, with their options in the query string;
//! the answers match the JSON route's and the command line's, and every bad body,
//! query or content type gets one clear 4xx naming its field.

mod common;

use common::root;
use common::server::{client, Server};
use partrec::io::npz;
use partrec::Instance;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Posts `body` to `path` (with its query) as `content_type` (none if `None`); returns
/// the status and the parsed JSON answer.
async fn post(
    server: &Server,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut request = client().post(server.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
    (status, value)
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

/// The bytes of a shipped file under instances/.
fn shipped(name: &str) -> Vec<u8> {
    std::fs::read(root().join("instances").join(name)).unwrap()
}

/// The shipped planted instance.
fn planted_small() -> Instance {
    Instance::read(
        root()
            .join("instances/planted-small.json")
            .to_str()
            .unwrap(),
    )
    .unwrap()
}

/// The German example's columns and classes, as in docs/real-data.md.
const GERMAN: &str = "group=noun&group=context&value=article&classes=3,7";

#[tokio::test(flavor = "multi_thread")]
async fn an_npz_body_answers_as_its_json_does() {
    let server = Server::start("bodies-npz", &["-q"]);
    let instance = planted_small();
    let archive = npz::to_bytes(&instance, "planted-small.json").unwrap();
    for (options, query) in [
        (json!({}), ""),
        (json!({"unique": true}), "?unique=true"),
        (json!({"count": 3, "seed": 7}), "?count=3&seed=7"),
        (
            json!({"unique": true, "backend": "varisat", "strategy": "cdcl"}),
            "?unique=true&backend=varisat&strategy=cdcl",
        ),
        (json!({"identify": true}), "?identify=true"),
    ] {
        let mut body: Value = serde_json::from_str(&instance.to_json()).unwrap();
        body["options"] = options.clone();
        let (status, from_json) = post(
            &server,
            "/v1/solve",
            Some("application/json"),
            body.to_string(),
        )
        .await;
        assert_eq!(status, 200, "{from_json}");
        let path = format!("/v1/solve{query}");
        let (status, from_npz) =
            post(&server, &path, Some("application/x-npz"), archive.clone()).await;
        assert_eq!(status, 200, "{query}: {from_npz}");
        assert_eq!(from_npz["status"], "sat", "{from_npz}");
        assert_eq!(untimed(from_npz), untimed(from_json), "{options}");
    }
    // As a background job too.
    let (status, created) = post(
        &server,
        "/v1/jobs?unique=true",
        Some("application/x-npz"),
        archive,
    )
    .await;
    assert_eq!(status, 202, "{created}");
    let href = created["href"].as_str().unwrap().to_string();
    let start = Instant::now();
    let job = loop {
        let job: Value = client()
            .get(server.url(&href))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["state"] != "pending" && job["state"] != "running" {
            break job;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["result"]["unique"], true, "{job}");
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_and_tsv_bodies_answer_with_token_names_as_the_command_line() {
    let server = Server::start("bodies-tables", &["-q"]);
    let csv = shipped("german/gender.csv");
    let cli = common::german_on_the_command_line("gender.csv", &["--identify"], "bodies-german");
    assert!(cli["names"].is_array(), "{cli}");
    let tsv = String::from_utf8(csv.clone()).unwrap().replace(',', "\t");
    let semicolons = String::from_utf8(csv.clone()).unwrap().replace(',', ";");
    for (content_type, query, body) in [
        ("text/csv", "", csv.clone()),
        ("text/csv; charset=utf-8", "&delimiter=comma", csv.clone()),
        ("Text/CSV;Charset=\"UTF-8\"", "", csv.clone()),
        ("text/tab-separated-values", "", tsv.clone().into_bytes()),
        ("text/csv", "&delimiter=tab", tsv.clone().into_bytes()),
        ("text/csv", "&delimiter=semicolon", semicolons.into_bytes()),
    ] {
        let path = format!("/v1/solve?{GERMAN}&identify=true{query}");
        let (status, answer) = post(&server, &path, Some(content_type), body).await;
        assert_eq!(status, 200, "{content_type} {query}: {answer}");
        assert_eq!(
            untimed(answer),
            untimed(cli.clone()),
            "{content_type} {query}"
        );
    }
    // The names are the genders' nouns and the contexts.
    let names = &cli["names"];
    let class_of = |g: usize, name: &str| {
        names[g]
            .as_array()
            .unwrap()
            .iter()
            .position(|class| class.as_array().unwrap().iter().any(|n| n == name))
            .unwrap_or_else(|| panic!("{name} in no class: {names}"))
    };
    assert_eq!(class_of(0, "Tisch"), class_of(0, "Stuhl"));
    assert_eq!(class_of(0, "Banane"), class_of(0, "Tasse"));
    assert_ne!(class_of(0, "Tisch"), class_of(0, "Banane"));
    assert_eq!(class_of(1, "nom.pl"), class_of(1, "acc.pl"));
    // Groups in the order the query names them.
    let path = "/v1/solve?group=context&group=noun&value=article&classes=7,3";
    let (status, answer) = post(&server, path, Some("text/csv"), csv).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["names"][0].as_array().unwrap().len(), 7, "{answer}");
    assert!(
        answer["names"][0].to_string().contains("nom.pl"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn query_options_reach_the_solve() {
    let server = Server::start("bodies-options", &["-q"]);
    // The noisy table: no consistent partition, and the four corrupted rows dropped.
    let noisy = shipped("german/gender-noisy.csv");
    let path = format!("/v1/solve?{GERMAN}");
    let (status, answer) = post(&server, &path, Some("text/csv"), noisy.clone()).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("unsat")));
    let path = format!("/v1/solve?{GERMAN}&max_consistent=true&timeout=30");
    let (status, answer) = post(&server, &path, Some("text/csv"), noisy).await;
    assert_eq!(status, 200, "{answer}");
    let corrupted: Vec<u64> = std::str::from_utf8(&shipped("german/corrupted.txt"))
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let report = &answer["max_consistent"];
    assert_eq!(report["dropped"], json!(corrupted), "{answer}");
    assert_eq!(report["optimal"], true, "{answer}");
    // Uniqueness, counts, the backend and certification as asked.
    let csv = shipped("german/gender.csv");
    let path = format!("/v1/solve?{GERMAN}&unique=true");
    let (status, answer) = post(&server, &path, Some("text/csv"), csv.clone()).await;
    assert_eq!((status, answer["unique"].as_bool()), (200, Some(false)));
    let path = format!("/v1/solve?{GERMAN}&count=2&backend=varisat");
    let (status, answer) = post(&server, &path, Some("text/csv"), csv.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (
            answer["count"].as_u64(),
            answer["stats"]["backend"].as_str()
        ),
        (Some(2), Some("varisat")),
        "{answer}"
    );
    let planted = npz::to_bytes(&planted_small(), "planted-small.json").unwrap();
    let (status, answer) = post(
        &server,
        "/v1/solve?unique=true&certify=true",
        Some("application/x-npz"),
        planted,
    )
    .await;
    assert_eq!(status, 200, "{}", answer["error"]);
    assert_eq!(answer["certificate"]["claim"], "unique");
    assert!(answer["certificate"]["drat"].is_string());
    // Percent-encoded names decode: a column with a space and a plus sign.
    let table = "the noun,con+text,article\nHund,nom.sg,der\nKatze,nom.sg,die\n";
    let path = "/v1/solve?group=the+noun&group=con%2Btext&value=article";
    let (status, answer) = post(&server, path, Some("text/csv"), table).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["names"][0], json!([["Hund"], ["Katze"]]), "{answer}");
}

/// A bad request and its answer: the path with its query, the content type, the body,
/// the status, the field, and a word of the message.
type Case<'a> = (String, Option<&'a str>, Vec<u8>, u16, &'a str, &'a str);

#[tokio::test(flavor = "multi_thread")]
async fn bad_bodies_queries_and_content_types_get_one_clear_error() {
    let server = Server::start(
        "bodies-errors",
        &["--max-body-mb", "0.05", "--max-answer-tokens", "60", "-q"],
    );
    let csv = shipped("german/gender.csv");
    let planted = npz::to_bytes(&planted_small(), "planted-small.json").unwrap();
    let json_body = shipped("planted-small.json");
    #[rustfmt::skip]
    let cases: Vec<Case> = vec![
        ("/v1/solve".into(), Some("application/x-npz"), b"PK\x03\x04 not a zip".to_vec(), 400, "body", ".npz"),
        ("/v1/solve".into(), Some("application/x-npz"), planted[..planted.len() / 2].to_vec(), 400, "body", ".npz"),
        ("/v1/solve?value=article".into(), Some("text/csv"), csv.clone(), 400, "query.group", "group"),
        ("/v1/solve?group=noun".into(), Some("text/csv"), csv.clone(), 400, "query.value", "value"),
        ("/v1/solve?group=noun&group=genus&value=article".into(), Some("text/csv"), csv.clone(), 400, "query.group", "genus"),
        ("/v1/solve?group=noun&value=artikel".into(), Some("text/csv"), csv.clone(), 400, "query.value", "artikel"),
        ("/v1/solve?group=noun&value=article&weight=w".into(), Some("text/csv"), csv.clone(), 400, "query.weight", "\"w\""),
        ("/v1/solve?group=noun&value=article&classes=0".into(), Some("text/csv"), csv.clone(), 400, "query.classes", "at least 1"),
        ("/v1/solve?group=noun&value=article&classes=3,x".into(), Some("text/csv"), csv.clone(), 400, "query.classes", "3,x"),
        ("/v1/solve?group=noun&value=article&classes=1,2,3".into(), Some("text/csv"), csv.clone(), 400, "query.classes", "3 values"),
        ("/v1/solve?group=noun&value=article&delimiter=pipe".into(), Some("text/csv"), csv.clone(), 400, "query.delimiter", "pipe"),
        ("/v1/solve?group=noun&value=article&delimiter=comma".into(), Some("text/tab-separated-values"), csv.clone(), 400, "query.delimiter", "tabs"),
        ("/v1/solve?group=noun&value=article".into(), Some("text/csv"), b"noun,article\nHund\n".to_vec(), 400, "body", "line 2"),
        ("/v1/solve?group=noun&value=article".into(), Some("text/csv"), b"noun,article\nHund,d\xffr\n".to_vec(), 400, "body", "UTF-8"),
        // Solve options, checked as a JSON body's are.
        (format!("/v1/solve?{GERMAN}&count=many"), Some("text/csv"), csv.clone(), 400, "query.count", "many"),
        (format!("/v1/solve?{GERMAN}&unique=true&count=3"), Some("text/csv"), csv.clone(), 400, "query.count", "unique"),
        (format!("/v1/solve?{GERMAN}&timeout=-1"), Some("text/csv"), csv.clone(), 400, "query.timeout", "-1"),
        (format!("/v1/solve?{GERMAN}&backend=minisat"), Some("text/csv"), csv.clone(), 400, "query.backend", "minisat"),
        (format!("/v1/solve?{GERMAN}&strategy=fast"), Some("text/csv"), csv.clone(), 400, "query.strategy", "fast"),
        (format!("/v1/solve?{GERMAN}&certify=yes"), Some("text/csv"), csv.clone(), 400, "query.certify", "true or false"),
        (format!("/v1/solve?{GERMAN}&seed=-1"), Some("text/csv"), csv.clone(), 400, "query.seed", "-1"),
        (format!("/v1/solve?{GERMAN}&unique=true&unique=false"), Some("text/csv"), csv.clone(), 400, "query.unique", "more than once"),
        (format!("/v1/solve?{GERMAN}&uniq=true&colour=2"), Some("text/csv"), csv.clone(), 400, "query.uniq", "\"colour\""),
        (format!("/v1/solve?{}&value=article", "group=noun&".repeat(65)), Some("text/csv"), csv.clone(), 400, "query.group", "at most 64"),
        (format!("/v1/solve?{}", (0..500).map(|i| format!("n{i}=1")).collect::<Vec<_>>().join("&")), Some("text/csv"), csv.clone(), 400, "query.n0", "and 490 more"),
        ("/v1/solve?group=noun".into(), Some("application/x-npz"), planted.clone(), 400, "query.group", "CSV"),
        ("/v1/solve?unique=true".into(), Some("application/json"), json_body.clone(), 400, "query.unique", "options"),
        ("/v1/solve?unique=true".into(), None, json_body.clone(), 400, "query.unique", "options"),
        ("/v1/jobs?group=noun".into(), Some("application/x-npz"), planted.clone(), 400, "query.group", "CSV"),
        // Content types.
        ("/v1/solve".into(), Some("text/plain"), json_body.clone(), 415, "content-type", "text/plain"),
        ("/v1/solve".into(), Some("application/octet-stream"), planted.clone(), 415, "content-type", "application/x-npz"),
        ("/v1/jobs".into(), Some("text/html"), json_body.clone(), 415, "content-type", "text/html"),
        (format!("/v1/solve?{GERMAN}"), Some("text/csv; charset=iso-8859-1"), csv.clone(), 415, "content-type", "iso-8859-1"),
        // The server's limits hold for every format.
        (format!("/v1/solve?{GERMAN}"), Some("text/csv"), csv.repeat(20), 413, "body", "limit"),
        (format!("/v1/solve?{GERMAN}"), Some("text/csv"), csv.clone(), 422, "groups[0].tokens", "max-answer-tokens"),
    ];
    for (path, content_type, body, status, field, word) in cases {
        let (got, answer) = post(&server, &path, content_type, body).await;
        let what = format!("{path} as {content_type:?}: {answer}");
        assert_eq!(got, status, "{what}");
        assert_eq!(answer["field"].as_str(), Some(field), "{what}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(word), "{what}");
        assert!(!error.contains(" at line 1 column"), "{what}");
    }
    // JSON without a content type, or as `curl -d` sends it, reads as before.
    for content_type in [None, Some("application/x-www-form-urlencoded")] {
        let (status, answer) = post(&server, "/v1/solve", content_type, json_body.clone()).await;
        assert_eq!((status, answer["status"].as_str()), (200, Some("sat")));
    }
    assert!(!server.stderr().contains("panicked"));
}

/// `bytes` with one of three seeded damages: cut short, bits flipped, or a run of bytes
/// overwritten.
fn damaged(rng: &mut ChaCha8Rng, bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match rng.random_range(0..3) {
        0 => out.truncate(rng.random_range(0..bytes.len())),
        1 => {
            for _ in 0..rng.random_range(1..=8) {
                let i = rng.random_range(0..out.len());
                out[i] ^= 1 << rng.random_range(0..8);
            }
        }
        _ => {
            let start = rng.random_range(0..out.len());
            let end = (start + rng.random_range(1..=16)).min(out.len());
            rng.fill(&mut out[start..end]);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_npz_bodies_never_bring_the_server_down() {
    let mut server = Server::start("bodies-fuzz", &["-q"]);
    let mut rng = ChaCha8Rng::seed_from_u64(20_24);
    // A deflated archive and one whose arrays are stored as they are (numpy.savez):
    // damage hits the compressed stream in one and the .npy headers and data in the other.
    let deflated = npz::to_bytes(&planted_small(), "planted-small.json").unwrap();
    let stored = stored_copy(&deflated);
    let mut statuses = std::collections::BTreeMap::new();
    for round in 0..300 {
        let original = if round % 2 == 0 { &deflated } else { &stored };
        let body = damaged(&mut rng, original);
        let (status, answer) = post(
            &server,
            "/v1/solve?timeout=5",
            Some("application/x-npz"),
            body,
        )
        .await;
        assert!(
            [200, 400, 422].contains(&status),
            "round {round}: {status} {answer}"
        );
        if status != 200 {
            assert!(answer["error"].as_str().unwrap().len() > 10, "{answer}");
        }
        *statuses.entry(status).or_insert(0) += 1;
    }
    assert!(server.alive(), "{}", server.stderr());
    // Most damage is caught by the reader; some leaves a readable instance.
    assert!(
        statuses.get(&400).copied().unwrap_or(0) > 100,
        "{statuses:?}"
    );
    let (status, answer) = post(
        &server,
        "/v1/solve",
        Some("application/x-npz"),
        deflated.clone(),
    )
    .await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("sat")));
    assert!(!server.stderr().contains("panicked"));
}

/// The archive `deflated` rewritten with its entries stored uncompressed.
fn stored_copy(deflated: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(deflated)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.start_file(entry.name().unwrap().to_string(), options)
            .unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}
