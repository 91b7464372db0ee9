//! The JSON API's request bodies, the answers the service builds itself (jobs,
//! health, version) and its error answer, with their schemas (see [`crate::openapi`]).
//!
//! Every body is read by the library's own readers ([`Instance::from_json_with_options`],
//! [`Candidate::from_json`], [`parse_col`]), so the service accepts exactly what the
//! command line accepts and rejects it with the same messages. An error becomes
//! `{"error": "...", "field": "..."}` with `field` naming the JSON path at fault
//! (`samples[3].x[1]`, `options.timeout`, `instance.groups[0].classes`) or `body`
//! when the body as a whole is not what was expected.
//!
//! A solve (or job) body may also be a NumPy `.npz` archive or a CSV or TSV table,
//! told apart by its `Content-Type` ([`BodyFormat`]); its options are then query
//! parameters ([`SolveRequest::parse_as`]), and errors about them name `query.NAME`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use partrec_core::check::Candidate;
use partrec_core::error::{Error, InputKind, Location, Result};
use partrec_core::io::instance::RawInstance;
use partrec_core::io::json::{parse_error, plain_words, text_problem, Described, Obj};
use partrec_core::io::npz;
use partrec_core::io::table::{import, ImportOptions};
use partrec_core::model::instance::Instance;
use partrec_reduction::coloring::ColoringReduction;
use partrec_reduction::graph::{parse_col, Graph};
use partrec_sat::control::positive_seconds;
use partrec_sat::Backend;
use partrec_solve::{SolveOptions, Strategy};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::HashSet;
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
        ApiError::from_option_in(e, OptionsIn::Body)
    }

    /// [`ApiError::from_option`] for options written `place`.
    fn from_option_in(e: &Error, place: OptionsIn) -> Self {
        match e {
            Error::Param { name, message } => {
                let field = place.field(name);
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Some(&field),
                    format!("{}{field} {message}", place.lead()),
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
    /// Bytes of the memory budget the running solves reserve (their estimates).
    pub memory_reserved: u64,
    /// The memory budget the running solves share (`--max-memory`), in bytes.
    pub max_memory: u64,
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

/// The solve options as query parameters, for error messages.
const QUERY_OPTIONS: &str = "unique=true, count=N, timeout=SECS, backend=cadical|varisat, strategy=auto|cdcl|table|portfolio, seed=N, certify=true, identify=true, max_consistent=true";

/// The query parameters that are solve options (the keys of [`SolveRequestOptions`]).
const OPTION_PARAMS: [&str; 9] = [
    "unique",
    "count",
    "timeout",
    "backend",
    "strategy",
    "seed",
    "certify",
    "identify",
    "max_consistent",
];

/// The query parameters that say how a table becomes an instance.
const TABLE_PARAMS: [&str; 5] = ["group", "value", "weight", "classes", "delimiter"];

/// Where a request's solve options are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OptionsIn {
    /// In a JSON body's `options` object.
    Body,
    /// In the query string (a body that is not JSON).
    Query,
}

impl OptionsIn {
    /// The error `field` of the options as a whole.
    fn name(self) -> &'static str {
        match self {
            OptionsIn::Body => "options",
            OptionsIn::Query => "query",
        }
    }

    /// The error `field` of option `name`.
    fn field(self, name: &str) -> String {
        format!("{}.{name}", self.name())
    }

    /// What an error message about the options starts with.
    fn lead(self) -> &'static str {
        match self {
            OptionsIn::Body => "body: ",
            OptionsIn::Query => "",
        }
    }

    /// What the options look like, for error messages.
    fn expected(self) -> &'static str {
        match self {
            OptionsIn::Body => OPTIONS,
            OptionsIn::Query => QUERY_OPTIONS,
        }
    }
}

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
    /// Parses a solve (or job) JSON body.
    pub fn parse(body: &[u8]) -> Result<SolveRequest, ApiError> {
        let (instance, options) = Instance::from_json_with_options(body, "body")
            .map_err(|e| ApiError::from_library(&e))?;
        let options = match options {
            None => SolveRequestOptions::default(),
            Some(raw) => read_options(raw.get(), OptionsIn::Body)?,
        };
        Ok(SolveRequest { instance, options })
    }

    /// Parses a solve (or job) body written in `format`, with the parameters of the
    /// URL's `query` (for a body that is not JSON: its solve options and, for a table,
    /// its columns). The query is checked before the body is parsed.
    pub fn parse_as(
        format: BodyFormat,
        query: Option<&str>,
        body: &[u8],
    ) -> Result<SolveRequest, ApiError> {
        let params = QueryParams::parse(query)?;
        let table = match format {
            BodyFormat::Json => {
                if let Some((name, _)) = params.pairs.first() {
                    return Err(query_error(
                        name,
                        "is not for a JSON body, which takes its options in its `options` object (query parameters are for .npz, CSV and TSV bodies)",
                    ));
                }
                return SolveRequest::parse(body);
            }
            BodyFormat::Table { tsv } => Some(params.import_options(tsv)?),
            BodyFormat::Npz => {
                params.refuse(
                    &TABLE_PARAMS,
                    "is only for CSV and TSV bodies (Content-Type text/csv or text/tab-separated-values)",
                )?;
                None
            }
        };
        let options = params.solve_options()?;
        let instance = match table {
            Some(table) => import(body, "body", &table).map_err(|e| table_error(&e))?,
            None => npz::from_reader(std::io::Cursor::new(body), "body")
                .map_err(|e| ApiError::from_library(&e))?,
        };
        Ok(SolveRequest { instance, options })
    }
}

/// Reads solve options from the JSON object `raw`, written `place`, and checks them
/// by the library's rules; errors name the option (`options.NAME`, `query.NAME`).
fn read_options(raw: &str, place: OptionsIn) -> Result<SolveRequestOptions, ApiError> {
    known_backend(raw, place)?;
    let options = serde_json::from_str::<Obj<SolveRequestOptions>>(raw)
        .map(|o| o.0)
        .map_err(|e| {
            let mut message = plain_words(&e.to_string());
            if place == OptionsIn::Query {
                // The position is in the JSON the query was read into, not in the query.
                message = without_position(&message).to_string();
            }
            let key = match parse_error("options", "options", &e) {
                Error::Input {
                    at: Some(Location::Path(key)),
                    ..
                } => Some(key),
                // A value of the wrong type: serde names the type, not the key.
                _ => failing_option(raw),
            };
            let field = key.map_or_else(|| place.name().to_string(), |key| place.field(&key));
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Some(&field),
                format!(
                    "{}{field}: {message} (expected {})",
                    place.lead(),
                    place.expected()
                ),
            )
        })?;
    options
        .solve_options(Backend::default())
        .map_err(|e| ApiError::from_option_in(&e, place))?;
    Ok(options)
}

/// Refuses (400, naming `options.backend` or `query.backend`, like every other bad
/// option) a backend name this server does not have; any other problem with the
/// options is left to their typed reader.
fn known_backend(options: &str, place: OptionsIn) -> Result<(), ApiError> {
    #[derive(Deserialize)]
    struct Named<'a> {
        #[serde(borrow)]
        backend: Option<Cow<'a, str>>,
    }
    match serde_json::from_str::<Named>(options) {
        Ok(Named {
            backend: Some(name),
        }) => name.parse::<Backend>().map(drop).map_err(|e| {
            let field = place.field("backend");
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Some(&field),
                format!("{}{field}: {e}", place.lead()),
            )
        }),
        _ => Ok(()),
    }
}

/// `message` without the position serde adds at its end (` at line 1 column 9`).
fn without_position(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((text, at))
            if at
                .split(" column ")
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            text
        }
        _ => message,
    }
}

/// The 415 for a `Content-Type` that names no solve body format.
fn unsupported_media(why: String) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Some("content-type"),
        format!("content-type: {why}; a solve body is application/json, application/x-npz, text/csv or text/tab-separated-values"),
    )
}

/// The format of a solve (or job) body, from its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// An instance file in JSON: `application/json`, or no content type. (Also
    /// `application/x-www-form-urlencoded`, which `curl -d` sends.)
    Json,
    /// A NumPy `.npz` archive: `application/x-npz`.
    Npz,
    /// A table with a header row: `text/csv`, or `text/tab-separated-values` (`tsv`).
    Table {
        /// Separated by tabs.
        tsv: bool,
    },
}

impl BodyFormat {
    /// The format a `Content-Type` header names (its parameters allowed; a table's
    /// `charset`, if given, must be `utf-8`); 415 naming `content-type` for any other.
    pub fn of(content_type: Option<&HeaderValue>) -> Result<BodyFormat, ApiError> {
        let Some(value) = content_type else {
            return Ok(BodyFormat::Json);
        };
        let text = value
            .to_str()
            .map_err(|_| unsupported_media("is not ASCII text".into()))?;
        BodyFormat::named(text)
    }

    /// The format a `Content-Type`'s text names; see [`BodyFormat::of`].
    pub fn named(text: &str) -> Result<BodyFormat, ApiError> {
        let mut parts = text.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let format = match media.as_str() {
            "application/json" | "application/x-www-form-urlencoded" => BodyFormat::Json,
            "application/x-npz" => BodyFormat::Npz,
            "text/csv" => BodyFormat::Table { tsv: false },
            "text/tab-separated-values" => BodyFormat::Table { tsv: true },
            _ => {
                return Err(unsupported_media(format!(
                    "{:?} is not accepted",
                    shown(&media)
                )))
            }
        };
        if let BodyFormat::Table { .. } = format {
            for param in parts {
                let (name, value) = param.split_once('=').unwrap_or((param, ""));
                let value = value.trim().trim_matches('"');
                if name.trim().eq_ignore_ascii_case("charset")
                    && !value.eq_ignore_ascii_case("utf-8")
                {
                    return Err(unsupported_media(format!(
                        "charset {:?}: a table is read as UTF-8 (charset=utf-8)",
                        shown(value)
                    )));
                }
            }
        }
        Ok(format)
    }

    /// The media type that names this format (read back by [`BodyFormat::named`]).
    pub fn media_type(self) -> &'static str {
        match self {
            BodyFormat::Json => "application/json",
            BodyFormat::Npz => "application/x-npz",
            BodyFormat::Table { tsv: false } => "text/csv",
            BodyFormat::Table { tsv: true } => "text/tab-separated-values",
        }
    }
}

/// At most this many characters of a client's text in an error message.
const SHOWN_CHARS: usize = 60;

/// `text` cut to [`SHOWN_CHARS`] characters for an error message.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}

/// A 400 about query parameter `name`: `query.NAME` `problem`.
fn query_error(name: &str, problem: impl std::fmt::Display) -> ApiError {
    let field = format!("query.{}", shown(name));
    ApiError::new(
        StatusCode::BAD_REQUEST,
        Some(&field),
        format!("{field} {problem}"),
    )
}

/// Unknown query parameters named in an error message at most.
const SHOWN_UNKNOWN: usize = 10;

/// The most group columns a table body may name: each is looked up in the whole header.
const MAX_TABLE_GROUPS: usize = 64;

/// A URL's query parameters, decoded (`%XX` escapes, `+` as a space), in order: only
/// known names, each at most once but `group`.
struct QueryParams {
    pairs: Vec<(String, String)>,
}

impl QueryParams {
    /// Decodes `query`; 400 naming the unknown names, or a name given twice.
    fn parse(query: Option<&str>) -> Result<QueryParams, ApiError> {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let known = |name: &str| OPTION_PARAMS.contains(&name) || TABLE_PARAMS.contains(&name);
        // Known names seen so far (at most all of them), and unknown ones, each once.
        let mut given: Vec<&str> = Vec::new();
        let mut unknown: Vec<&str> = Vec::new();
        let mut unknown_set: HashSet<&str> = HashSet::new();
        for (name, _) in &pairs {
            if !known(name) {
                if unknown_set.insert(name) {
                    unknown.push(name);
                }
            } else if !given.contains(&name.as_str()) {
                given.push(name);
            } else if name != "group" {
                return Err(query_error(name, "is given more than once"));
            }
        }
        if let Some(first) = unknown.first() {
            let mut names: Vec<String> = unknown
                .iter()
                .take(SHOWN_UNKNOWN)
                .map(|n| format!("{:?}", shown(n)))
                .collect();
            if unknown.len() > SHOWN_UNKNOWN {
                names.push(format!("and {} more", unknown.len() - SHOWN_UNKNOWN));
            }
            let all: Vec<&str> = TABLE_PARAMS.iter().chain(&OPTION_PARAMS).copied().collect();
            return Err(query_error(
                first,
                format!(
                    "is not a parameter of this route: unknown {} (known: {})",
                    names.join(", "),
                    all.join(", ")
                ),
            ));
        }
        let groups = pairs.iter().filter(|(name, _)| name == "group").count();
        if groups > MAX_TABLE_GROUPS {
            return Err(query_error(
                "group",
                format!("is given {groups} times; this server reads at most {MAX_TABLE_GROUPS} group columns"),
            ));
        }
        Ok(QueryParams { pairs })
    }

    /// The values of parameter `name`, in order.
    fn all(&self, name: &'static str) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of parameter `name`, if given.
    fn one(&self, name: &'static str) -> Option<&str> {
        self.all(name).next()
    }

    /// 400 for the first parameter named in `names`, which `problem` says are not wanted.
    fn refuse(&self, names: &[&str], problem: &str) -> Result<(), ApiError> {
        match self.pairs.iter().find(|(n, _)| names.contains(&n.as_str())) {
            Some((name, _)) => Err(query_error(name, problem)),
            None => Ok(()),
        }
    }

    /// The solve options: each given value read as JSON would read it (`true`, `3`,
    /// `2.5`; any other text as a string), then checked as a JSON body's `options`.
    fn solve_options(&self) -> Result<SolveRequestOptions, ApiError> {
        let object: serde_json::Map<String, serde_json::Value> = self
            .pairs
            .iter()
            .filter(|(name, _)| OPTION_PARAMS.contains(&name.as_str()))
            .map(|(name, text)| {
                let value = match serde_json::from_str(text) {
                    Ok(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => v,
                    _ => serde_json::Value::String(text.clone()),
                };
                (name.clone(), value)
            })
            .collect();
        read_options(
            &serde_json::Value::Object(object).to_string(),
            OptionsIn::Query,
        )
    }

    /// How a table (a TSV table if `tsv`) becomes an instance, from `group`, `value`,
    /// `weight`, `classes` and `delimiter`.
    fn import_options(&self, tsv: bool) -> Result<ImportOptions, ApiError> {
        let value = self.one("value").ok_or_else(|| {
            query_error(
                "value",
                "is missing: name the column of the values (value=COL)",
            )
        })?;
        let classes = match self.one("classes") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|k| k.trim().parse::<u32>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    query_error(
                        "classes",
                        format!("{:?} is not K or K,K,.. (whole numbers >= 1, one for every group or one per group)", shown(list)),
                    )
                })?,
        };
        let delimiter = match (self.one("delimiter"), tsv) {
            (None, true) | (Some("tab"), _) => Some(b'\t'),
            (None, false) | (Some("comma"), false) => Some(b','),
            (Some("semicolon"), false) => Some(b';'),
            (Some(other), true) => {
                return Err(query_error(
                    "delimiter",
                    format!("{:?} does not fit a text/tab-separated-values body, which is separated by tabs", shown(other)),
                ))
            }
            (Some(other), false) => {
                return Err(query_error(
                    "delimiter",
                    format!("{:?} is not comma, semicolon or tab", shown(other)),
                ))
            }
        };
        Ok(ImportOptions {
            groups: self.all("group").map(str::to_string).collect(),
            value: value.to_string(),
            weight: self.one("weight").map(str::to_string),
            classes,
            delimiter,
        })
    }
}

/// The answer for a table the importer refused: a parameter (`query.NAME`), or the
/// table itself (`body`), where a column the query names but the header lacks names
/// its parameter (`query.group`) in the field and the message.
fn table_error(e: &Error) -> ApiError {
    if let Error::Param { .. } = e {
        return ApiError::from_option_in(e, OptionsIn::Query);
    }
    let mut answer = ApiError::from_library(e);
    // The importer names its command-line flags: `(--group)`, `(--value needs one)`.
    for name in ["group", "value", "weight"] {
        let flag = format!("(--{name}");
        if answer.error.contains(&flag) {
            answer.error = answer.error.replace(&flag, &format!("(query.{name}"));
            answer.field = Some(format!("query.{name}"));
        }
    }
    answer
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
    fn content_types_name_a_format_or_are_refused() {
        let of = |value: &str| BodyFormat::of(Some(&HeaderValue::from_str(value).unwrap()));
        assert_eq!(BodyFormat::of(None), Ok(BodyFormat::Json));
        for (value, format) in [
            ("application/json", BodyFormat::Json),
            ("application/json; charset=utf-8", BodyFormat::Json),
            ("application/x-www-form-urlencoded", BodyFormat::Json),
            ("application/x-npz", BodyFormat::Npz),
            ("text/csv", BodyFormat::Table { tsv: false }),
            (
                "TEXT/CSV ; Charset=\"utf-8\"; header=present",
                BodyFormat::Table { tsv: false },
            ),
            ("text/tab-separated-values", BodyFormat::Table { tsv: true }),
        ] {
            assert_eq!(of(value), Ok(format), "{value}");
        }
        for value in [
            "text/plain",
            "application/octet-stream",
            "application/npz",
            "",
            "text/csv; charset=latin1",
            "text/tab-separated-values;charset=utf-16",
        ] {
            let e = of(value).unwrap_err();
            assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{value}");
            assert_eq!(e.field.as_deref(), Some("content-type"), "{value}");
        }
    }

    #[test]
    fn every_option_parameter_is_an_option_and_is_described() {
        for name in OPTION_PARAMS {
            // A wrong type, not an unknown field: the name is a key of the options.
            let e = serde_json::from_str::<SolveRequestOptions>(&format!(r#"{{"{name}": []}}"#))
                .unwrap_err();
            assert!(!e.to_string().contains("unknown field"), "{name}: {e}");
            assert!(QUERY_OPTIONS.contains(&format!("{name}=")), "{name}");
            assert!(OPTIONS.contains(&format!(r#""{name}""#)), "{name}");
        }
        let e = serde_json::from_str::<SolveRequestOptions>(r#"{"group": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn query_errors_drop_the_position_of_the_json_they_were_read_into() {
        assert_eq!(without_position("bad at line 1 column 15"), "bad");
        assert_eq!(without_position("bad at line one"), "bad at line one");
        assert_eq!(
            without_position("bad at line 2 column "),
            "bad at line 2 column "
        );
        assert_eq!(without_position("plain"), "plain");
        let e = SolveRequest::parse_as(BodyFormat::Npz, Some("seed=x"), b"").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("query.seed"));
        assert!(!e.error.contains("line 1"), "{}", e.error);
        // The query is checked before the body is read.
        let e = SolveRequest::parse_as(BodyFormat::Table { tsv: false }, Some("value=v"), b"")
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("query.group"), "{}", e.error);
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
