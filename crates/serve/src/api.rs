//! The JSON API's request bodies, the answers the service builds itself (jobs,
//! health, version) and its error answer, with their schemas (see [`crate::openapi`]).
//!
//! Every body is read by the library's own readers ([`Instance::from_json_with_options`],
//! [`Candidate::from_json`], [`parse_col`]), so the service accepts exactly what the
//! command line accepts and rejects it with the same messages. An error becomes
//! `{"error": "...", "field": "..."}` with `field` naming the JSON path at fault
//! (`samples[3].x[1]`, `options.timeout`, `instance.groups[0].classes`) or `body`
//! when the body as a whole is not what was expected.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partrec_core::check::Candidate;
use partrec_core::error::{Error, InputKind, Location, Result};
use partrec_core::io::instance::RawInstance;
use partrec_core::io::json::{parse_error, plain_words, text_problem, Described, Obj};
use partrec_core::model::instance::Instance;
use partrec_reduction::coloring::ColoringReduction;
use partrec_reduction::graph::{parse_col, Graph};
use partrec_sat::control::positive_seconds;
use partrec_sat::Backend;
use partrec_solve::{SolveOptions, Strategy};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::time::Duration;
use utoipa::ToSchema;

/// An error answer: its status, message, and the field at fault.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong and what was expected.
    pub error: String,
    /// The JSON path at fault (`body` for the body as a whole), if any.
    pub field: Option<String>,
    /// Seconds after which a retry may succeed (sent as `Retry-After`).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status` about `field`.
    pub fn new(status: StatusCode, field: Option<&str>, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            field: field.map(str::to_string),
            retry_after: None,
        }
    }

    /// 400 for a library error about the request (bad input); 500 for an internal one.
    pub fn from_library(e: &Error) -> Self {
        match e {
            Error::Input {
                origin, kind, at, ..
            } => ApiError::new(
                match kind {
                    InputKind::TooLarge => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::BAD_REQUEST,
                },
                Some(&field_of(origin, at.as_ref())),
                e.to_string(),
            ),
            Error::Param { name, .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, Some(name), e.to_string())
            }
            Error::Usage(m) => ApiError::new(StatusCode::BAD_REQUEST, None, m.clone()),
            Error::Budget { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("body"),
                format!("body: {e} (this server's --max-memory)"),
            ),
            Error::Io { .. } | Error::Internal(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, None, e.to_string())
            }
        }
    }

    /// 400 naming `options.NAME` for an option the library refused
    /// ([`Error::Param`]); any other error as [`ApiError::from_library`].
    pub fn from_option(e: &Error) -> Self {
        match e {
            Error::Param { name, message } => {
                let field = format!("options.{name}");
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Some(&field),
                    format!("body: {field} {message}"),
                )
            }
            other => ApiError::from_library(other),
        }
    }

    /// 503 with `Retry-After: secs`.
    pub fn unavailable(error: impl Into<String>, secs: u64) -> Self {
        ApiError {
            retry_after: Some(secs),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, None, error)
        }
    }
}

/// The body of every error answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what was expected, in one line.
    pub error: String,
    /// The JSON path at fault (`samples[3].x[1]`, `options.timeout`, or `body` for the
    /// body as a whole), or null when no part of the request is at fault.
    #[schema(required = true)]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.error,
            field: self.field,
        };
        let mut response = (self.status, JsonLine(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&secs.to_string()).expect("digits"),
            );
        }
        // A body refused unread (too large, too slow) leaves the connection unusable.
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// The state of a job just created.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Created {
    /// Waiting for a worker.
    Pending,
}

/// The answer to creating a job (202; its URL is also in `Location`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobCreated {
    /// The job's id (32 hexadecimal digits).
    pub id: String,
    /// `pending`.
    pub state: Created,
    /// The job's URL: `/v1/jobs/{id}`.
    pub href: String,
}

/// What deleting a job did.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Removed {
    /// It was pending or running: its solve is stopped.
    Cancelled,
    /// It had finished: its result is dropped.
    Deleted,
}

/// The answer to deleting a job.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobRemoved {
    /// The job's id.
    pub id: String,
    /// `cancelled` (it was pending or running) or `deleted` (it had finished).
    pub state: Removed,
}

/// Whether the server takes new work.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub enum ServerStatus {
    /// It does.
    #[serde(rename = "ok")]
    Ok,
    /// It is shutting down: new work is refused.
    #[serde(rename = "shutting down")]
    ShuttingDown,
}

/// The server's health and load.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `shutting down` once the server refuses new work.
    pub status: ServerStatus,
    /// Solves that may run at once (`--workers`).
    pub workers: usize,
    /// Solves running now.
    pub running: usize,
    /// Solves waiting for a worker.
    pub queued: usize,
    /// Jobs stored (pending, running, or finished and not yet fetched).
    pub jobs: usize,
}

/// The server's name and version.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Version {
    /// `partrec-serve`.
    pub name: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// The API version: `v1`.
    pub api: &'static str,
}

/// A JSON answer on one line ending in a newline, as the command line prints it.
#[derive(Clone, Debug)]
pub struct JsonLine<T>(pub T);

impl<T: Serialize> IntoResponse for JsonLine<T> {
    fn into_response(self) -> Response {
        match serde_json::to_string(&self.0) {
            Ok(mut text) => {
                text.push('\n');
                ([(header::CONTENT_TYPE, "application/json")], text).into_response()
            }
            Err(e) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error: cannot serialize the answer: {e}\n"),
            )
                .into_response(),
        }
    }
}

/// The `field` of an error answer: the location's JSON path, prefixed by `origin`
/// unless that is the body itself; `origin` alone for a line or no location.
pub fn field_of(origin: &str, at: Option<&Location>) -> String {
    match at {
        Some(Location::Path(path)) if origin == "body" => path.clone(),
        Some(Location::Path(path)) => format!("{origin}.{path}"),
        _ => origin.to_string(),
    }
}

/// The `options` of a solve request.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SolveRequestOptions {
    /// Decide uniqueness (count up to 2).
    #[serde(default)]
    pub unique: bool,
    /// Count consistent partitions up to this many.
    #[serde(default)]
    pub count: Option<u64>,
    /// Seconds the request may take, waiting in the queue included (capped by the server's).
    #[serde(default)]
    pub timeout: Option<f64>,
    /// The SAT backend; the server's default (`--backend`) if absent.
    #[serde(default)]
    pub backend: Option<Backend>,
    /// The search strategy, as `partrec solve --strategy` (default `auto`).
    #[serde(default)]
    pub strategy: Strategy,
    /// Renames the formula before CDCL, as `partrec solve --seed`.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Certify the answer's claim, as `partrec solve --certify`: the answer's
    /// `certificate` holds the manifest entry with the CNF (`dimacs`) and the DRAT
    /// proof (`drat`) inline.
    #[serde(default)]
    pub certify: bool,
    /// Report what every consistent partition agrees on, as `partrec solve --identify`.
    #[serde(default)]
    pub identify: bool,
    /// Find the partition violating the fewest samples, as `partrec solve --max-consistent`.
    #[serde(default)]
    pub max_consistent: bool,
}

/// What a solve request's `options` look like, for error messages.
const OPTIONS: &str = r#"{"unique": bool, "count": n, "timeout": secs, "backend": "cadical" | "varisat", "strategy": "auto" | "cdcl" | "table" | "portfolio", "seed": n, "certify": bool, "identify": bool, "max_consistent": bool}"#;

impl Described for SolveRequestOptions {
    const EXPECTED: &'static str = OPTIONS;
}

impl SolveRequestOptions {
    /// The library's options for this request, validated (the library's rules, and a
    /// timeout in range), with `backend` where the request names none.
    pub fn solve_options(&self, backend: Backend) -> Result<SolveOptions> {
        if let Some(secs) = self.timeout {
            // Above the server's longest, the server's longest applies.
            positive_seconds(secs, "timeout")?;
        }
        let options = SolveOptions {
            backend: self.backend.unwrap_or(backend),
            strategy: self.strategy,
            seed: self.seed,
            certify: self.certify,
            identify: self.identify,
            max_consistent: self.max_consistent,
            ..SolveOptions::deciding(self.unique, self.count)?
        };
        options.validate()?;
        Ok(options)
    }

    /// The time the request may take: its own timeout, at most `max`.
    pub fn timeout(&self, max: Duration) -> Duration {
        self.timeout
            .filter(|&secs| secs < max.as_secs_f64())
            .map_or(max, Duration::from_secs_f64)
    }
}

/// A solve request: an instance in the file format with optional `options`.
#[derive(Clone, Debug)]
pub struct SolveRequest {
    /// The instance.
    pub instance: Instance,
    /// What to decide and how long to try.
    pub options: SolveRequestOptions,
}

/// The first key of a raw `options` object whose value alone does not parse.
fn failing_option(raw: &str) -> Option<String> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw).ok()?;
    map.into_iter().find_map(|(key, value)| {
        let one = serde_json::Value::Object([(key.clone(), value)].into_iter().collect());
        serde_json::from_value::<SolveRequestOptions>(one)
            .is_err()
            .then_some(key)
    })
}

impl SolveRequest {
    /// Parses a solve (or job) body.
    pub fn parse(body: &[u8]) -> Result<SolveRequest, ApiError> {
        let (instance, options) = Instance::from_json_with_options(body, "body")
            .map_err(|e| ApiError::from_library(&e))?;
        let options: SolveRequestOptions = match options {
            None => SolveRequestOptions::default(),
            Some(raw) => {
                known_backend(raw.get())?;
                serde_json::from_str::<Obj<SolveRequestOptions>>(raw.get())
                    .map(|o| o.0)
                    .map_err(|e| {
                        let message = plain_words(&e.to_string());
                        let mut field = match parse_error("options", "options", &e) {
                            Error::Input { at, .. } => field_of("options", at.as_ref()),
                            _ => "options".to_string(),
                        };
                        // A value of the wrong type: serde names the type, not the key.
                        if field == "options" {
                            if let Some(key) = failing_option(raw.get()) {
                                field = format!("options.{key}");
                            }
                        }
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            Some(&field),
                            format!("body: {field}: {message} (expected {OPTIONS})"),
                        )
                    })?
            }
        };
        options
            .solve_options(Backend::default())
            .map_err(|e| ApiError::from_option(&e))?;
        Ok(SolveRequest { instance, options })
    }
}

/// Refuses (400, naming `options.backend`, like every other bad option) a backend name
/// this server does not have; any other problem with the options is left to their typed
/// reader.
fn known_backend(options: &str) -> Result<(), ApiError> {
    #[derive(Deserialize)]
    struct Named<'a> {
        #[serde(borrow)]
        backend: Option<Cow<'a, str>>,
    }
    match serde_json::from_str::<Named>(options) {
        Ok(Named {
            backend: Some(name),
        }) => name.parse::<Backend>().map(drop).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Some("options.backend"),
                format!("body: options.backend: {e}"),
            )
        }),
        _ => Ok(()),
    }
}

/// A check request: `{"instance": ..., "solution": ...}`.
#[derive(Clone, Debug)]
pub struct CheckRequest {
    /// The instance.
    pub instance: Instance,
    /// The candidate to judge.
    pub candidate: Candidate,
}

/// A check request: an instance and a solution to judge against it (any object with
/// a `partition`, such as a solve's answer; a `witness` is judged too).
#[derive(Deserialize, ToSchema)]
#[schema(as = CheckRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCheck<'a> {
    /// The instance, as in its file.
    #[serde(borrow)]
    #[schema(value_type = RawInstance)]
    instance: &'a RawValue,
    /// The solution to judge.
    #[serde(borrow)]
    #[schema(value_type = Candidate)]
    solution: &'a RawValue,
}

impl Described for RawCheck<'_> {
    const EXPECTED: &'static str = r#"a check object {"instance": {...}, "solution": {...}}"#;
}

impl CheckRequest {
    /// Parses a check body; errors name `instance.…` or `solution.…`.
    pub fn parse(body: &[u8]) -> Result<CheckRequest, ApiError> {
        let raw: RawCheck = strict_body(body)?;
        let instance = Instance::from_json(raw.instance.get().as_bytes(), "instance")
            .map_err(|e| ApiError::from_library(&e))?;
        let candidate = Candidate::from_json(raw.solution.get().as_bytes(), "solution")
            .map_err(|e| ApiError::from_library(&e))?;
        Ok(CheckRequest {
            instance,
            candidate,
        })
    }
}

/// A colouring reduction request: `{"graph": "<DIMACS .col text>", "colors": k}`.
#[derive(Clone, Debug)]
pub struct ReduceRequest {
    /// The graph.
    pub graph: Graph,
    /// The number of colours k.
    pub colors: u32,
}

/// A colouring reduction request: a graph and a number of colours.
#[derive(Deserialize, ToSchema)]
#[schema(as = ReduceRequest)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReduce {
    /// The graph as DIMACS `.col` text (`p edge V E`, then `e U V` lines).
    graph: String,
    /// The number of colours k, at least 1.
    #[schema(minimum = 1)]
    colors: u32,
}

impl Described for RawReduce {
    const EXPECTED: &'static str =
        r#"a reduction object {"graph": "<DIMACS .col text>", "colors": k}"#;
}

impl ReduceRequest {
    /// Parses a reduction body; errors in the graph text name its line.
    ///
    /// A graph whose `p` line declares more than `max_size` vertices is refused (422)
    /// before the graph is built: its reduced instance would have a sample per vertex,
    /// more than the server answers with (the graph reader allocates per vertex).
    pub fn parse(body: &[u8], max_size: u64) -> Result<ReduceRequest, ApiError> {
        let raw: RawReduce = strict_body(body)?;
        if let Some(n) = declared_vertices(&raw.graph).filter(|&n| n > max_size) {
            let why = format!("at least: the `p` line declares {n} vertices, one sample each");
            return Err(reduction_too_large(n, &why, max_size));
        }
        let graph = parse_col(&raw.graph, "graph")
            .map_err(|e| ApiError::from_library(&e))?
            .graph;
        if raw.colors == 0 || graph.vertices() == 0 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                Some(if raw.colors == 0 { "colors" } else { "graph" }),
                "body: `colors` must be >= 1 and the graph must have a vertex",
            ));
        }
        ColoringReduction::useful_colors(&graph, raw.colors).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Some("colors"),
                format!("body: colors: {e}"),
            )
        })?;
        Ok(ReduceRequest {
            graph,
            colors: raw.colors,
        })
    }
}

/// The vertex count the first `p edge N M` line of `.col` text declares, if it has one
/// that reads as a number (the graph reader reports every other problem).
pub fn declared_vertices(col: &str) -> Option<u64> {
    col.lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with('c'))
        .find_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("p")).then(|| words.nth(1)?.parse().ok())?
        })
}

/// A 422 for a graph whose reduced instance would have `samples` samples (one per
/// vertex and one per edge; `why` says how many of each), over the server's `max_size`.
pub fn reduction_too_large(samples: u64, why: &str, max_size: u64) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("graph"),
        format!(
            "graph: the reduced instance would have {samples} samples ({why}); this server builds at most {max_size} (--max-reduce-size)"
        ),
    )
}

/// A 400 for a body that is not the expected JSON document.
/// Parses a body that must be one JSON object of type `T` (not an array in its place,
/// not preceded by a byte order mark), with errors naming the field at fault.
fn strict_body<'a, T: Deserialize<'a> + Described>(body: &'a [u8]) -> Result<T, ApiError> {
    if let Some(problem) = text_problem(body, T::EXPECTED) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("body"),
            format!("body: {problem}"),
        ));
    }
    serde_json::from_slice::<Obj<T>>(body)
        .map(|o| o.0)
        .map_err(|e| body_error(&e, T::EXPECTED))
}

fn body_error(e: &serde_json::Error, expected: &str) -> ApiError {
    let message = plain_words(&e.to_string());
    let field = match parse_error("body", "body", e) {
        Error::Input { at, .. } => field_of("body", at.as_ref()),
        _ => "body".to_string(),
    };
    ApiError::new(
        StatusCode::BAD_REQUEST,
        Some(&field),
        format!("body: {message} (expected {expected})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_the_error_location() {
        let at = |p: &str| Some(Location::Path(p.into()));
        assert_eq!(
            field_of("body", at("samples[3].x[1]").as_ref()),
            "samples[3].x[1]"
        );
        assert_eq!(
            field_of("instance", at("groups[0]").as_ref()),
            "instance.groups[0]"
        );
        let line = Location::Line {
            line: 3,
            column: None,
        };
        assert_eq!(field_of("graph", Some(&line)), "graph");
        assert_eq!(field_of("body", None), "body");
        let e = SolveRequest::parse(br#"{"groups":[{"tokens":2,"classes":0}],"samples":[]}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("groups[0].classes"));
        let e = SolveRequest::parse(
            br#"{"groups":[{"tokens":2,"classes":1}],"samples":[],"options":{"uniq":true}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("options.uniq"));
        // A value of the wrong type names its key.
        for (options, key) in [
            (r#"{"certify":"yes"}"#, "options.certify"),
            (r#"{"unique":true,"identify":1}"#, "options.identify"),
            (r#"{"max_consistent":"yes"}"#, "options.max_consistent"),
            (r#"{"seed":-1}"#, "options.seed"),
            (r#"{"seed":1.5,"unique":true}"#, "options.seed"),
        ] {
            let body = format!(
                r#"{{"groups":[{{"tokens":2,"classes":1}}],"samples":[],"options":{options}}}"#
            );
            let e = SolveRequest::parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(key), "{options}");
        }
    }

    fn instance_body(extra: &str) -> String {
        format!(r#"{{"groups":[{{"tokens":2,"classes":2}}],"samples":[{{"x":[0],"y":1}}]{extra}}}"#)
    }

    #[test]
    fn solve_options_are_parsed_and_checked() {
        let ok = SolveRequest::parse(
            instance_body(r#","options":{"unique":true,"timeout":2.5}"#).as_bytes(),
        )
        .unwrap();
        let limit = |o: &SolveRequestOptions| o.solve_options(Backend::default()).unwrap().limit;
        assert_eq!(limit(&ok.options), 2);
        assert_eq!(
            ok.options.timeout(Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            ok.options.timeout(Duration::from_secs(9)),
            Duration::from_secs_f64(2.5)
        );
        assert_eq!(
            limit(
                &SolveRequest::parse(instance_body("").as_bytes())
                    .unwrap()
                    .options
            ),
            1
        );
        let varisat =
            SolveRequest::parse(instance_body(r#","options":{"backend":"varisat"}"#).as_bytes())
                .unwrap();
        assert_eq!(varisat.options.backend, Some(Backend::Varisat));
        let e =
            SolveRequest::parse(instance_body(r#","options":{"backend":"minisat"}"#).as_bytes())
                .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.field.as_deref(), Some("options.backend"), "{}", e.error);
        assert!(e.error.contains("cadical or varisat"), "{}", e.error);
        for (extra, field) in [
            (r#","options":{"backend":3}"#, "options.backend"),
            (r#","options":{"unique":true,"count":3}"#, "options.count"),
            (r#","options":{"timeout":-1}"#, "options.timeout"),
            (r#","options":{"tmeout":1}"#, "options.tmeout"),
            (r#","options":{"count":"many"}"#, "options.count"),
        ] {
            let e = SolveRequest::parse(instance_body(extra).as_bytes()).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
            assert_eq!(e.field.as_deref(), Some(field), "{extra}: {}", e.error);
        }
    }

    #[test]
    fn check_and_reduce_bodies_name_their_parts() {
        let e =
            CheckRequest::parse(br#"{"instance": {"groups": []}, "solution": {}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("instance.samples"), "{}", e.error);
        let e = CheckRequest::parse(b"{\"instance\": ").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("body"), "{}", e.error);
        let r =
            ReduceRequest::parse(br#"{"graph": "p edge 2 1\ne 1 2\n", "colors": 2}"#, 10).unwrap();
        assert_eq!((r.graph.vertices(), r.colors), (2, 2));
        let e = ReduceRequest::parse(br#"{"graph": "p edge 2 1\ne 1 3\n", "colors": 2}"#, 10)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("graph"));
        assert!(e.error.contains("line 2"), "{}", e.error);
    }

    #[test]
    fn a_declared_vertex_count_over_the_limit_is_refused_before_the_graph_is_built() {
        let body = br#"{"graph": "c big\np edge 4000000000 1\ne 1 2\n", "colors": 3}"#;
        let e = ReduceRequest::parse(body, 1000).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.field.as_deref(), Some("graph"));
        assert!(e.error.contains("4000000000"), "{}", e.error);
        assert_eq!(declared_vertices("p edge 5 1\np edge 7 1"), Some(5));
        assert_eq!(declared_vertices("e 1 2\n"), None);
        assert_eq!(declared_vertices("p edge x 1"), None);
        // A count too large for the reader is the reader's to report (400).
        let e = ReduceRequest::parse(
            br#"{"graph": "p edge 99999999999999999999999 1", "colors": 3}"#,
            1000,
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.error);
    }
}
