//! The routes of the service and the shared state they work on.

use super::api::{ApiError, CheckRequest, JsonLine, ReduceRequest, SolveRequest};
use super::jobs::{JobState, Jobs, Lookup};
use super::metrics::{Gauges, Metrics};
use super::pool::{Pool, StopOnDrop, Ticket, Turn};
use super::ServeConfig;
use crate::check::judge;
use crate::encode::estimate_clauses;
use crate::preprocess::Prepared;
use crate::reduce::ColoringReduction;
use crate::solution::Solution;
use crate::worker::{solution_from_outcome, solve_in_child, Outcome};
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::BodyExt;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What every route shares.
pub(crate) struct AppState {
    pub(crate) config: ServeConfig,
    pub(crate) pool: Arc<Pool>,
    jobs: Jobs,
    metrics: Metrics,
    shutting_down: AtomicBool,
}

/// Seconds a refused client is asked to wait before retrying.
const RETRY_AFTER_SECS: u64 = 1;

impl AppState {
    pub(crate) fn new(config: ServeConfig) -> AppState {
        AppState {
            pool: Pool::new(config.workers, config.queue),
            jobs: Jobs::new(config.job_ttl, config.max_jobs),
            metrics: Metrics::default(),
            shutting_down: AtomicBool::new(false),
            config,
        }
    }

    /// Refuses work not yet started and cancels background jobs.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.pool.close();
        self.jobs.cancel_all();
        if !self.config.quiet {
            eprintln!("partrec: shutting down: no new connections, jobs cancelled");
        }
    }

    /// A place in the pool, or 503.
    fn admit(&self) -> Result<Ticket, ApiError> {
        self.pool.admit().ok_or_else(|| {
            if self.shutting_down.load(Ordering::Relaxed) {
                ApiError::unavailable("the server is shutting down", RETRY_AFTER_SECS)
            } else {
                ApiError::unavailable(
                    format!(
                        "all {} workers are busy and the queue of {} is full; retry later",
                        self.config.workers, self.config.queue
                    ),
                    RETRY_AFTER_SECS,
                )
            }
        })
    }

    /// Parses a solve body and checks its encoding size, on a blocking thread.
    async fn solve_request(self: &Arc<Self>, body: Bytes) -> Result<SolveRequest, ApiError> {
        let max = self.config.max_clauses;
        blocking(move || {
            let request = SolveRequest::parse(&body)?;
            let prep = Prepared::new(&request.instance);
            let clauses = estimate_clauses(&prep, request.instance.groups());
            if clauses > max {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("samples"),
                    format!(
                        "body: the encoding would have about {clauses} clauses; this server takes at most {max} (--max-clauses)"
                    ),
                ));
            }
            Ok(request)
        })
        .await
    }

    /// Runs `request` on a worker in a child process, stopped at its deadline or by `stop`.
    async fn solve(
        self: &Arc<Self>,
        ticket: Ticket,
        request: SolveRequest,
        stop: Arc<AtomicBool>,
        on_start: impl FnOnce(),
    ) -> Result<Solution, ApiError> {
        let deadline = tokio::time::Instant::now() + request.options.timeout(self.config.timeout);
        let limit = request.options.limit();
        let exe = self.config.exe.clone();
        let turn = ticket
            .run(deadline, on_start, move |left| {
                let t = Instant::now();
                let answer = solve_in_child(&exe, &request.instance, limit, left, &stop);
                (answer, t.elapsed().as_secs_f64())
            })
            .await;
        match turn {
            Turn::Done((Ok(solution), seconds)) => {
                let outcome = format!("{:?}", solution.status).to_lowercase();
                self.metrics.solve(&outcome, seconds);
                Ok(solution)
            }
            Turn::Done((Err(e), seconds)) => {
                self.metrics.solve("error", seconds);
                Err(ApiError::from_library(&e))
            }
            Turn::Expired => Ok(solution_from_outcome(
                Outcome::TimedOut { last_line: None },
                limit,
            )
            .expect("a timeout always has an answer")),
            Turn::Closed => Err(ApiError::unavailable(
                "the server is shutting down",
                RETRY_AFTER_SECS,
            )),
        }
    }
}

/// Runs parsing work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// How many bytes past the limit are read and dropped before a 413 is sent: a client
/// gets its 413 only if it is still reading, and most clients read only after they
/// have sent the whole body. A body larger still is cut off (connection closed).
const DRAIN_FACTOR: usize = 16;

/// Reads the body, up to `limit` bytes; a larger one is 413 (after draining, see above).
async fn read_body(mut body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("body"),
            format!("body: larger than this server's limit of {limit} bytes (--max-body-mb)"),
        )
    };
    let mut kept = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                Some("body"),
                format!("body: cannot be read: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= limit {
            kept.extend_from_slice(&data);
        } else if seen > limit.saturating_mul(DRAIN_FACTOR) {
            break;
        } else {
            kept = Vec::new();
        }
    }
    if seen > limit {
        return Err(too_large());
    }
    Ok(Bytes::from(kept))
}

/// The router with every route, the body limit, and the log-and-count layer.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/solve", post(solve))
        .route("/v1/check", post(check))
        .route("/v1/reduce/coloring", post(reduce_coloring))
        .route("/v1/jobs", post(create_job))
        .route("/v1/jobs/{id}", get(get_job).delete(delete_job))
        .route("/v1/health", get(health))
        .route("/v1/version", get(version))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Logs one line per request (unless quiet) and counts it by route and status.
async fn observe(State(s): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    // Counted by route pattern, so that made-up paths cannot grow the metrics.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_string();
    let t = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    s.metrics.request(method.as_str(), &route, status);
    if !s.config.quiet {
        eprintln!(
            "partrec: {method} {path} {status} {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    response
}

async fn solve(State(s): State<Arc<AppState>>, raw: Body) -> Result<JsonLine<Solution>, ApiError> {
    let request = s
        .solve_request(read_body(raw, s.config.max_body_bytes).await?)
        .await?;
    let ticket = s.admit()?;
    let stop = Arc::new(AtomicBool::new(false));
    // Raised when this handler ends, also when the client disconnects and the
    // handler is dropped mid-solve: the child process is then killed.
    let _stop_on_drop = StopOnDrop(stop.clone());
    Ok(JsonLine(s.solve(ticket, request, stop, || {}).await?))
}

async fn check(State(s): State<Arc<AppState>>, raw: Body) -> Result<Response, ApiError> {
    let raw = read_body(raw, s.config.max_body_bytes).await?;
    let judgement = blocking(move || {
        let request = CheckRequest::parse(&raw)?;
        judge(&request.instance, &request.candidate, "solution")
            .map_err(|e| ApiError::from_library(&e))
    })
    .await?;
    Ok(JsonLine(judgement).into_response())
}

async fn reduce_coloring(State(s): State<Arc<AppState>>, raw: Body) -> Result<Response, ApiError> {
    let raw = read_body(raw, s.config.max_body_bytes).await?;
    let text = blocking(move || {
        let request = ReduceRequest::parse(&raw)?;
        let reduction = ColoringReduction::new(&request.graph, request.colors)
            .map_err(|e| ApiError::from_library(&e))?;
        Ok(reduction.reduce("graph").to_json())
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text + "\n").into_response())
}

async fn create_job(State(s): State<Arc<AppState>>, raw: Body) -> Result<Response, ApiError> {
    let request = s
        .solve_request(read_body(raw, s.config.max_body_bytes).await?)
        .await?;
    let ticket = s.admit()?;
    let id = format!("{:032x}", rand::random::<u128>());
    let stop = Arc::new(AtomicBool::new(false));
    if !s.jobs.insert(&id, stop.clone()) {
        return Err(ApiError::unavailable(
            format!(
                "the job store is full ({} jobs); fetch or delete finished jobs",
                s.config.max_jobs
            ),
            RETRY_AFTER_SECS,
        ));
    }
    let job = id.clone();
    let state = s.clone();
    tokio::spawn(async move {
        let starting = state.clone();
        let started = job.clone();
        let answer = state
            .solve(ticket, request, stop, move || {
                starting.jobs.update(&started, JobState::Running)
            })
            .await;
        let finished = match answer {
            Ok(solution) => JobState::Done {
                result: Box::new(solution),
            },
            Err(e) => JobState::Failed { error: e.error },
        };
        state.jobs.update(&job, finished);
    });
    let href = format!("/v1/jobs/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, href.clone())],
        JsonLine(serde_json::json!({ "id": id, "state": "pending", "href": href })),
    )
        .into_response())
}

fn no_such_job(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        Some("id"),
        format!("no job {id}: never created, already fetched, deleted, or expired"),
    )
}

/// A job's state with its id, as `GET /v1/jobs/{id}` answers.
#[derive(Serialize)]
struct JobAnswer {
    id: String,
    #[serde(flatten)]
    state: JobState,
}

async fn get_job(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<JsonLine<JobAnswer>, ApiError> {
    match s.jobs.fetch(&id) {
        Lookup::Missing => Err(no_such_job(&id)),
        Lookup::Found(state) => Ok(JsonLine(JobAnswer { id, state })),
    }
}

async fn delete_job(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<JsonLine<serde_json::Value>, ApiError> {
    match s.jobs.cancel(&id) {
        Lookup::Missing => Err(no_such_job(&id)),
        Lookup::Found(JobState::Pending | JobState::Running) => Ok(JsonLine(
            serde_json::json!({ "id": id, "state": "cancelled" }),
        )),
        Lookup::Found(_) => Ok(JsonLine(
            serde_json::json!({ "id": id, "state": "deleted" }),
        )),
    }
}

async fn health(State(s): State<Arc<AppState>>) -> JsonLine<serde_json::Value> {
    let status = if s.shutting_down.load(Ordering::Relaxed) {
        "shutting down"
    } else {
        "ok"
    };
    JsonLine(serde_json::json!({
        "status": status,
        "workers": s.config.workers,
        "running": s.pool.running(),
        "queued": s.pool.queued(),
        "jobs": s.jobs.len(),
    }))
}

async fn version() -> JsonLine<serde_json::Value> {
    JsonLine(serde_json::json!({
        "name": env!("CARGO_PKG_NAME"),
        "version": env!("CARGO_PKG_VERSION"),
        "api": "v1",
    }))
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let text = s.metrics.render(Gauges {
        queued: s.pool.queued(),
        running: s.pool.running(),
        jobs: s.jobs.len(),
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        None,
        format!(
            "no route {method} {}; see /v1/version and the README",
            uri.path()
        ),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        format!("{} does not take {method}", uri.path()),
    )
}
