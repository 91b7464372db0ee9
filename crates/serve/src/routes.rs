//! The routes of the service and the shared state they work on.

use crate::api::{
    field_of, reduction_too_large, ApiError, BodyFormat, CheckRequest, Created, Health, JobCreated,
    JobRemoved, JsonLine, ReduceRequest, Removed, ServerStatus, SolveRequest, Version,
};
use crate::auth::{Tokens, OPEN_ROUTES};
use crate::client::Client;
use crate::config::ServeConfig;
use crate::jobs::{Cancelled, JobAnswer, Jobs, Lookup, Submission};
use crate::metrics::{Gauges, Metrics};
use crate::pool::{Pool, Reservation, StopOnDrop, Ticket, Turn};
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::PathRejection;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use http_body_util::BodyExt;
use partrec_core::check::judge;
use partrec_core::error::Error;
use partrec_core::model::compact::check_listable;
use partrec_core::model::instance::Instance;
use partrec_reduction::coloring::ColoringReduction;
use partrec_sat::Control;
use partrec_solve::solution::Solution;
use partrec_solve::SolveOptions;
use partrec_worker::{stopped, Exe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What every route shares.
pub(crate) struct AppState {
    pub(crate) config: ServeConfig,
    pub(crate) pool: Arc<Pool>,
    jobs: Jobs,
    metrics: Metrics,
    shutting_down: AtomicBool,
    /// Turns for work done in the server itself (parsing, checks, reductions).
    parsing: Arc<Semaphore>,
    /// The known clients (`--token-file`); `None` serves anyone.
    tokens: Option<Tokens>,
}

/// What a solve has reported so far (see [`solve_here`]), and how many times it did.
#[derive(Default)]
struct Progress {
    latest: Mutex<Option<Solution>>,
    reports: AtomicUsize,
}

/// A parsed solve request (shared with the thread that solves it), with its plan.
struct Parsed {
    request: Arc<SolveRequest>,
    /// When its body had been read: its deadline counts from here.
    received: Instant,
    /// The library's options: the request's, under the server's limits.
    options: SolveOptions,
    /// The bytes its solve is estimated to hold at most
    /// ([`partrec_solve::estimate_memory`]): reserved from the memory budget while it runs.
    need: u64,
}

/// The job store keeps this many times the body limit of answers waiting to be fetched.
const JOB_STORE_BODIES: usize = 16;

/// The share of the memory budget stored answers may take at most (a quarter).
const JOB_STORE_SHARE: u64 = 4;

/// Seconds a refused client is asked to wait before retrying.
const RETRY_AFTER_SECS: u64 = 1;

/// How often a running job's partial answer is stored, when its solve reported since.
const PARTIAL_EVERY: Duration = Duration::from_secs(1);

/// How often a job resumed at startup asks the pool for a place again.
const RESUME_POLL: Duration = Duration::from_millis(50);

impl AppState {
    /// The state of a server with `config` and its known clients, its job store opened
    /// (see [`Jobs::open`]).
    pub(crate) fn new(
        config: ServeConfig,
        tokens: Option<Tokens>,
    ) -> partrec_core::error::Result<AppState> {
        let jobs = Jobs::open(
            config.data_dir.as_deref(),
            config.job_ttl,
            config.max_jobs,
            config
                .max_body_bytes
                .saturating_mul(JOB_STORE_BODIES)
                .min(usize::try_from(config.max_memory / JOB_STORE_SHARE).unwrap_or(usize::MAX)),
        )?;
        Ok(AppState {
            pool: Pool::new(config.workers, config.queue, config.max_memory),
            jobs,
            metrics: Metrics::default(),
            shutting_down: AtomicBool::new(false),
            parsing: Arc::new(Semaphore::new(config.max_parsing)),
            tokens,
            config,
        })
    }

    /// Refuses work not yet started and stops the solves of background jobs, which the
    /// store keeps pending for the next start.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        self.pool.close();
        match self.jobs.shutdown() {
            Ok(kept) if !self.config.quiet => eprintln!(
                "partrec: shutting down: no new connections; unfinished jobs stopped and kept in {} for the next start: {kept}",
                self.jobs.location()
            ),
            Ok(_) => {}
            Err(e) => eprintln!("partrec: shutting down: no new connections; jobs stopped, but {e}"),
        }
    }

    /// Runs the jobs the store holds pending (left by an earlier run of the server),
    /// oldest first, each once the pool has a place for it.
    pub(crate) fn resume(self: &Arc<Self>) {
        let ids = match self.jobs.pending() {
            Ok(ids) if ids.is_empty() => return,
            Ok(ids) => ids,
            Err(e) => {
                eprintln!("partrec: cannot resume the stored jobs: {e}");
                return;
            }
        };
        if !self.config.quiet {
            eprintln!(
                "partrec: jobs resumed from {}: {}",
                self.jobs.location(),
                ids.len()
            );
        }
        let state = self.clone();
        tokio::spawn(async move {
            for id in ids {
                if !state.resume_job(&id).await {
                    break;
                }
            }
        });
    }

    /// Resumes the stored job `id`: waits for a place in the pool, parses its stored
    /// body as `create_job` did, and runs it (a body that no longer passes fails the
    /// job, saying why). `false` when the server is shutting down.
    async fn resume_job(self: &Arc<Self>, id: &str) -> bool {
        let ticket = loop {
            if self.shutting_down.load(Ordering::Relaxed) {
                return false;
            }
            if let Some(ticket) = self.pool.admit() {
                break ticket;
            }
            tokio::time::sleep(RESUME_POLL).await;
        };
        let job = id.to_string();
        let sent = match self.in_store(move |s| s.jobs.request(&job)).await {
            Ok(Some(sent)) => sent,
            Ok(None) => return true,
            Err(e) => {
                self.log_failure(id, Err(e));
                return true;
            }
        };
        let job = id.to_string();
        match self.solve_request(sent).await {
            Ok(parsed) => {
                let stop = self.control(&parsed);
                let adopted = stop.clone();
                match self.in_store(move |s| s.jobs.adopt(&job, adopted)).await {
                    Ok(true) => self.run_job(id.to_string(), ticket, parsed, stop),
                    Ok(false) => {}
                    Err(e) => self.log_failure(id, Err(e)),
                }
            }
            Err(e) => {
                let failed = self.in_store(move |s| s.jobs.finish(&job, Err(e.error)));
                self.log_failure(id, failed.await);
            }
        }
        true
    }

    /// Runs `work` (on the job store) on a blocking thread: its transactions wait for
    /// the disk. It runs to its end even if the caller is dropped (a client gone).
    async fn in_store<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Arc<Self>) -> partrec_core::error::Result<T> + Send + 'static,
    ) -> partrec_core::error::Result<T> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || work(&state))
            .await
            .unwrap_or_else(|e| {
                Err(Error::Internal(format!(
                    "the job store failed: {}",
                    panic_message(e)
                )))
            })
    }

    /// Runs the stored job `id` in the background: solves `parsed` under `stop` once
    /// `ticket`'s turn comes, storing its start, its partial answers and its end.
    fn run_job(self: &Arc<Self>, id: String, ticket: Ticket, parsed: Parsed, stop: Control) {
        let state = self.clone();
        tokio::spawn(async move {
            let progress = Arc::new(Progress::default());
            let keeper = state.keep_partials(&id, &parsed, &progress);
            let starting = state.clone();
            let started = id.clone();
            let answer = state
                .solve(ticket, parsed, stop, progress, move || {
                    // Not waited for: a job that ends first stays as it ended.
                    tokio::task::spawn_blocking(move || {
                        starting.log_failure(&started, starting.jobs.start(&started))
                    });
                })
                .await;
            keeper.abort();
            let job = id.clone();
            let finished = state
                .in_store(move |s| s.jobs.finish(&job, answer.map_err(|e| e.error)))
                .await;
            state.log_failure(&id, finished);
        });
    }

    /// While job `id` runs, stores every [`PARTIAL_EVERY`] (when its solve reported
    /// since) what it would answer if stopped then: its partial answer should the
    /// server be killed.
    fn keep_partials(
        self: &Arc<Self>,
        id: &str,
        parsed: &Parsed,
        progress: &Arc<Progress>,
    ) -> tokio::task::JoinHandle<()> {
        let limit = parsed.options.limit;
        let (state, id) = (self.clone(), id.to_string());
        let (request, progress) = (parsed.request.clone(), progress.clone());
        tokio::spawn(async move {
            let mut seen = 0;
            let mut every = tokio::time::interval(PARTIAL_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let reports = progress.reports.load(Ordering::Acquire);
                if reports == seen {
                    continue;
                }
                seen = reports;
                let last = progress.latest.lock().ok().and_then(|l| l.clone());
                if let Some(last) = last {
                    let partial = with_sizes(stopped(Some(last), limit), &request);
                    let job = id.clone();
                    let stored = state.in_store(move |s| s.jobs.progress(&job, &partial));
                    state.log_failure(&id, stored.await);
                }
            }
        })
    }

    /// Reports on standard error a job store failure about job `id` (the job keeps its
    /// last stored state).
    fn log_failure(&self, id: &str, written: partrec_core::error::Result<()>) {
        if let Err(e) = written {
            eprintln!("partrec: job {id}: {e}");
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

    /// Runs `work` on a blocking thread once one of the `max_parsing` turns is free,
    /// answering by `deadline`: waiting for a turn that long, or work still running
    /// then, is 503. Work past its deadline runs on to its end holding its turn (it
    /// cannot be interrupted), so at most `max_parsing` such threads ever run.
    async fn in_server<T: Send + 'static>(
        &self,
        deadline: tokio::time::Instant,
        what: &'static str,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let limit = self.config.timeout.as_secs_f64();
        let turn = tokio::time::timeout_at(deadline, self.parsing.clone().acquire_owned()).await;
        let permit: OwnedSemaphorePermit = match turn {
            Ok(Ok(permit)) => permit,
            _ => {
                return Err(ApiError::unavailable(
                    format!(
                        "all {} of the server's parsing turns stayed busy until this request's deadline ({limit} s, --timeout; --max-parsing); retry later",
                        self.config.max_parsing
                    ),
                    RETRY_AFTER_SECS,
                ))
            }
        };
        let handle = tokio::task::spawn_blocking(move || {
            let _turn = permit;
            work()
        });
        match tokio::time::timeout_at(deadline, handle).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                format!("internal error: the {what} failed: {}", panic_message(e)),
            )),
            // Not worth retrying as it is: no Retry-After.
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                format!(
                    "the {what} did not finish within this server's limit of {limit} s (--timeout)"
                ),
            )),
        }
    }

    /// Reads a solve (or job) request: its body within the size and time limits, the
    /// format its `Content-Type` names (415 for another) and its query.
    async fn submission(&self, raw: Request) -> Result<Submission, ApiError> {
        let (head, raw) = raw.into_parts();
        // The body is read first, also when the head is refused, so that the client is
        // reading when the answer comes.
        let body = body_of(self, raw).await?;
        let format = BodyFormat::of(head.headers.get(header::CONTENT_TYPE))?;
        Ok(Submission {
            content_type: Some(format.media_type().to_string()),
            query: head.uri.query().map(str::to_string),
            body,
        })
    }

    /// Parses a solve request (its body in its format, with its query's options) and
    /// estimates its memory, on a blocking thread: a solve that can never fit in the
    /// memory budget is refused (422). (The encoding's size is checked again by the
    /// solve, after propagation: see `SolveOptions::max_clauses`.)
    async fn solve_request(self: &Arc<Self>, sent: Submission) -> Result<Parsed, ApiError> {
        let received = Instant::now();
        let deadline = tokio::time::Instant::from_std(received) + self.config.timeout;
        let state = self.clone();
        self.in_server(deadline, "parsing of the request", move || {
            let format =
                BodyFormat::named(sent.content_type.as_deref().unwrap_or("application/json"))?;
            let request = SolveRequest::parse_as(format, sent.query.as_deref(), &sent.body)?;
            answer_fits(&request, state.config.max_answer_tokens)?;
            let options = state.solve_options(&request)?;
            let need = partrec_solve::estimate_memory(&request.instance, &options);
            state.memory_fits(need)?;
            Ok(Parsed {
                request: Arc::new(request),
                received,
                options,
                need,
            })
        })
        .await
    }

    /// Refuses (422) a solve estimated to need more than the whole memory budget: it
    /// could never start.
    fn memory_fits(&self, need: u64) -> Result<(), ApiError> {
        partrec_core::memory::afford_within(need, self.config.max_memory, || {
            "its solve (preprocessing, encodings and answer)".into()
        })
        .map_err(|e| ApiError::from_library(&e))
    }

    /// The address-space limit of a confined child for a solve estimated at `need`
    /// bytes, or `None` to solve in this process: solves estimated at a
    /// `1 / CONFINE_FROM` share of a worker's part of the budget or more are confined,
    /// so a wrong estimate ends that solve, never the server.
    fn confinement(&self, need: u64) -> Option<u64> {
        let share = self.config.max_memory / self.config.workers.max(1) as u64;
        (need >= share / CONFINE_FROM).then(|| {
            need.saturating_mul(CHILD_HEADROOM)
                .saturating_add(CHILD_ADDRESS_SLACK)
        })
    }

    /// The control of a parsed request's solve: its deadline is the request's, counted
    /// from when its body was received (parsing and queueing included); the caller stops
    /// it when the answer is no longer wanted (client gone, job cancelled).
    fn control(&self, parsed: &Parsed) -> Control {
        let timeout = parsed.request.options.timeout(self.config.timeout);
        Control::with_deadline(parsed.received.checked_add(timeout))
    }

    /// Runs `parsed` on a worker under `control` (see [`AppState::control`]): in this
    /// process when its backend can be interrupted, else in a child process.
    /// Its reports go to `progress`.
    async fn solve(
        self: &Arc<Self>,
        ticket: Ticket,
        parsed: Parsed,
        control: Control,
        progress: Arc<Progress>,
        on_start: impl FnOnce(),
    ) -> Result<Solution, ApiError> {
        let Parsed {
            request,
            options,
            need,
            ..
        } = parsed;
        let solved = Arc::clone(&request);
        let deadline = control.deadline().map_or_else(
            || tokio::time::Instant::now() + self.config.timeout,
            tokio::time::Instant::from_std,
        );
        let confined = self.confinement(need);
        let exe = self.config.exe.clone();
        // What the solve has proven so far: the answer if it is late to notice its stop.
        let seen = progress.clone();
        let watched = control.clone();
        let turn = ticket
            .needing(need)
            .run(deadline, deadline + GRACE, on_start, move |_, memory| {
                let run = Run {
                    confined,
                    control: &control,
                    progress: &seen,
                    memory,
                };
                solve_here(&exe, &solved.instance, &options, run)
            })
            .await;
        self.answer(turn, &request, &options, &progress, &watched)
    }

    /// The request's solve options under the server's limits (clauses, memory).
    fn solve_options(&self, request: &SolveRequest) -> Result<SolveOptions, ApiError> {
        Ok(SolveOptions {
            max_clauses: Some(self.config.max_clauses),
            max_memory: Some(self.config.max_memory),
            ..request
                .options
                .solve_options(self.config.backend)
                .map_err(|e| ApiError::from_option(&e))?
        })
    }

    /// The answer for how a solve's `turn` went, counted in the metrics: a late solve
    /// answers with what it had proven (`latest`) and the phase its `control` was in.
    fn answer(
        &self,
        turn: Turn<(Result<Solution, Error>, f64)>,
        request: &SolveRequest,
        options: &SolveOptions,
        progress: &Progress,
        control: &Control,
    ) -> Result<Solution, ApiError> {
        match turn {
            Turn::Done((Ok(solution), seconds)) => {
                let outcome = format!("{:?}", solution.status).to_lowercase();
                self.metrics.solve(&outcome, options.backend, seconds);
                Ok(with_sizes(solution, request))
            }
            Turn::Done((Err(e), seconds)) => {
                self.metrics.solve("error", options.backend, seconds);
                Err(solver_error(&e))
            }
            Turn::Late => {
                let last = progress.latest.lock().ok().and_then(|mut l| l.take());
                let mut answer = stopped(last, options.limit);
                answer.stats.stopped_in = Some(control.live().phase().name().to_string());
                Ok(with_sizes(answer, request))
            }
            Turn::Expired => Ok(with_sizes(stopped(None, options.limit), request)),
            Turn::Closed => Err(ApiError::unavailable(
                "the server is shutting down",
                RETRY_AFTER_SECS,
            )),
        }
    }
}

/// How one solve runs on its worker.
struct Run<'a> {
    /// The address-space limit of its child process, if confined (see
    /// [`AppState::confinement`]); else it runs in this process.
    confined: Option<u64>,
    /// Its deadline and stop.
    control: &'a Control,
    /// What it has reported so far: the answer if it is late to notice its stop.
    progress: &'a Progress,
    /// Its share of the memory budget, shrunk once propagation tells what the rest needs.
    memory: &'a Reservation,
}

/// Solves `instance` on this (blocking) thread as `run` says, recording each progress:
/// the answer and the seconds it took.
fn solve_here(
    exe: &Exe,
    instance: &Instance,
    options: &SolveOptions,
    run: Run<'_>,
) -> (Result<Solution, Error>, f64) {
    let t = Instant::now();
    let Run {
        confined,
        control,
        progress,
        memory,
    } = run;
    let mut report = |s: &Solution| {
        if let Some(rest) = s.stats.search_memory_estimate {
            memory.shrink_to(rest);
        }
        if let Ok(mut last) = progress.latest.lock() {
            *last = Some(s.clone());
        }
        progress.reports.fetch_add(1, Ordering::Release);
    };
    let answer = match confined {
        Some(limit) => {
            let timeout = control.remaining().unwrap_or(Duration::MAX);
            partrec_worker::solve_in_confined_child(
                exe,
                instance,
                options,
                timeout,
                control,
                Some(limit),
                &mut report,
            )
        }
        None => partrec_worker::solve(instance, options, control, Some(exe), &mut report),
    };
    (answer, t.elapsed().as_secs_f64())
}

/// Refuses (422) a request whose answer, a class for every declared token, would list
/// more than `max` tokens.
fn answer_fits(request: &SolveRequest, max: u64) -> Result<(), ApiError> {
    check_listable(request.instance.groups(), max).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&format!("groups[{}].tokens", e.group)),
            format!("body: {e} (--max-answer-tokens)"),
        )
    })
}

/// A timed-out answer given before the solve reported its sizes (it never started, or
/// a child was killed before its first line) gets the sizes the parsed request already
/// knows: its samples and values. Nothing is preprocessed for an answer that is late.
fn with_sizes(mut solution: Solution, request: &SolveRequest) -> Solution {
    let stats = &mut solution.stats;
    if stats.timed_out && stats.samples == 0 {
        stats.samples = request.instance.num_samples();
        stats.values = request.instance.values().len();
    }
    solution
}

/// A solve estimated at this fraction of a worker's share of the memory budget or more
/// runs in a confined child process (`1 / CONFINE_FROM`).
const CONFINE_FROM: u64 = 4;

/// A confined child may use this many times its estimate (the estimate is an upper
/// bound; this is room for it being wrong) ...
const CHILD_HEADROOM: u64 = 2;

/// ... plus this much address space: code, thread stacks and allocator reserves that
/// count as address space but not as memory used.
const CHILD_ADDRESS_SLACK: u64 = 1 << 30;

/// How long past a request's deadline the server waits for its solve to notice it
/// before answering with what the solve had proven (the solve keeps its worker until
/// it returns).
const GRACE: Duration = Duration::from_millis(40);

/// The answer for a failed solve: the solver refusing the instance (which the server's
/// reader accepted) is 422 with its own message, naming the field; anything else is 500
/// saying what happened (for a child process: a signal, an exit code).
fn solver_error(e: &Error) -> ApiError {
    match e {
        Error::Input { message, at, .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&field_of("body", at.as_ref())),
            format!("body: {message}"),
        ),
        Error::Usage(message) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("body"),
            format!("body: {message}"),
        ),
        _ => ApiError::from_library(e),
    }
}

/// The message of a panicked or cancelled blocking task, on one line.
fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "it was cancelled".into();
    }
    let payload = e.into_panic();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    format!("it panicked: {}", text.replace('\n', " "))
}

/// How many bytes past the limit are read and dropped before a 413 is sent: a client
/// gets its 413 only if it is still reading, and most clients read only after they
/// have sent the whole body. A body larger still is cut off (connection closed).
const DRAIN_FACTOR: usize = 16;

/// After a 413 for a declared length, how long the rest of a body may pause before
/// the connection is closed.
const DRAIN_IDLE: Duration = Duration::from_secs(1);

/// The 413 for a body over `limit` bytes.
fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Some("body"),
        format!("body: larger than this server's limit of {limit} bytes (--max-body-mb)"),
    )
}

/// Reads the body, up to `limit` bytes, within `within`; a larger one is 413 (after
/// draining, see above), a slower one 408.
async fn read_body(body: Body, limit: usize, within: Duration) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(within, read_body_now(body, limit)).await {
        Ok(read) => read,
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            Some("body"),
            format!(
                "body: not received within {} s (--body-timeout): it is shorter than its Content-Length, or too slow",
                within.as_secs_f64()
            ),
        )),
    }
}

async fn read_body_now(mut body: Body, limit: usize) -> Result<Bytes, ApiError> {
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
        return Err(too_large(limit));
    }
    Ok(Bytes::from(kept))
}

/// Reads and drops what a client sends of a refused body, up to `cap` bytes, while it
/// keeps coming (pauses under a second) and for at most `within`, so that a client
/// that sends its whole body before reading is still there to read its 413.
async fn drain(mut body: Body, cap: usize, within: Duration) {
    let end = tokio::time::Instant::now() + within;
    let mut seen = 0usize;
    while seen <= cap {
        let next = tokio::time::Instant::now() + DRAIN_IDLE;
        match tokio::time::timeout_at(next.min(end), body.frame()).await {
            Ok(Some(Ok(frame))) => {
                seen = seen.saturating_add(frame.data_ref().map_or(0, |d| d.len()));
            }
            _ => break,
        }
    }
}

/// The body length a request declares, if it declares one that reads as a number.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Answers 413 at once, before reading any body, when the declared `Content-Length`
/// is over the limit; the body is not awaited (the connection closes after the
/// answer, once what the client already sends has been read and dropped).
async fn refuse_declared_oversize(
    State(s): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let limit = s.config.max_body_bytes;
    if declared_length(request.headers()).is_none_or(|n| n <= limit as u64) {
        return next.run(request).await;
    }
    drop_unread(&s, request, limit.saturating_mul(DRAIN_FACTOR));
    too_large(limit).into_response()
}

/// Reads and drops in the background what a client sends of a body refused unread, up
/// to `cap` bytes (see [`drain`]); nothing when it waits for `100 Continue`, which it
/// then never gets.
fn drop_unread(s: &AppState, request: Request, cap: usize) {
    let waits_for_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if !waits_for_continue {
        tokio::spawn(drain(request.into_body(), cap, s.config.body_timeout));
    }
}

/// With a token file, answers 401 to a request without a known bearer token, before
/// anything else (the declared-length 413 included) and without keeping or parsing its
/// body; the [`OPEN_ROUTES`] are open to anyone. An authenticated request carries its
/// [`Client`] in its extensions, and its response too (for [`observe`]).
async fn require_token(
    State(s): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(tokens) = &s.tokens else {
        return next.run(request).await;
    };
    let open = matches!(*request.method(), Method::GET | Method::HEAD)
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|m| OPEN_ROUTES.contains(&m.as_str()));
    if open {
        return next.run(request).await;
    }
    match tokens.authenticate(request.headers()) {
        Ok(client) => {
            request.extensions_mut().insert(client.clone());
            let mut response = next.run(request).await;
            response.extensions_mut().insert(client);
            response
        }
        Err(refusal) => {
            let has_body = request.body().size_hint().exact() != Some(0);
            let mut response = refusal.into_response();
            if has_body {
                // At most a body's worth is read (and dropped), so that a client that
                // sends it all before reading still gets this answer.
                drop_unread(&s, request, s.config.max_body_bytes);
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    }
}

/// The router with every route, the declared-length check, the token check (which comes
/// first), and the log-and-count layer.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/v1/solve", post(solve))
        .route("/v1/check", post(check))
        .route("/v1/reduce/coloring", post(reduce_coloring))
        .route("/v1/jobs", post(create_job))
        .route("/v1/jobs/{id}", get(get_job).delete(delete_job))
        .route("/v1/health", get(health))
        .route("/v1/version", get(version))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(crate::openapi::serve))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_declared_oversize,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Logs one line per request (unless quiet), naming its client if it has one, and
/// counts it by route and status, and by client (`""` for none).
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
    let client = response.extensions().get::<Client>().map(|c| c.0.as_str());
    s.metrics
        .request(method.as_str(), &route, status, client.unwrap_or(""));
    if !s.config.quiet {
        eprintln!(
            "partrec: {method} {path} {status} {:.1} ms{}",
            t.elapsed().as_secs_f64() * 1e3,
            client.map_or(String::new(), |c| format!(" ({c})"))
        );
    }
    response
}

/// The body of a request, within the server's size and time limits.
async fn body_of(s: &AppState, raw: Body) -> Result<Bytes, ApiError> {
    read_body(raw, s.config.max_body_bytes, s.config.body_timeout).await
}

async fn solve(
    State(s): State<Arc<AppState>>,
    raw: Request,
) -> Result<JsonLine<Solution>, ApiError> {
    let request = s.solve_request(s.submission(raw).await?).await?;
    let ticket = s.admit()?;
    let control = s.control(&request);
    // Stopped when this handler ends, also when the client disconnects and the
    // handler is dropped mid-solve: the solve then returns at once (a child process
    // is killed).
    let _stop_on_drop = StopOnDrop(control.clone());
    let progress = Arc::default();
    Ok(JsonLine(
        s.solve(ticket, request, control, progress, || {}).await?,
    ))
}

async fn check(State(s): State<Arc<AppState>>, raw: Body) -> Result<Response, ApiError> {
    let deadline = tokio::time::Instant::now() + s.config.timeout;
    let raw = body_of(&s, raw).await?;
    let judgement = s
        .in_server(deadline, "check", move || {
            let request = CheckRequest::parse(&raw)?;
            judge(&request.instance, &request.candidate, "solution")
                .map_err(|e| ApiError::from_library(&e))
        })
        .await?;
    Ok(JsonLine(judgement).into_response())
}

async fn reduce_coloring(State(s): State<Arc<AppState>>, raw: Body) -> Result<Response, ApiError> {
    let deadline = tokio::time::Instant::now() + s.config.timeout;
    let raw = body_of(&s, raw).await?;
    let max = s.config.max_reduce_size;
    let text = s
        .in_server(deadline, "reduction", move || {
            let request = ReduceRequest::parse(&raw, max)?;
            let reduction = ColoringReduction::new(&request.graph, request.colors)
                .map_err(|e| ApiError::from_library(&e))?;
            // Refused before the reduced instance (and its reply) is built.
            let samples = reduction.size().samples as u64;
            if samples > max {
                let (v, e) = (request.graph.vertices(), request.graph.edge_count());
                let what = format!("{v} vertices + {e} edges");
                return Err(reduction_too_large(samples, &what, max));
            }
            Ok(reduction.reduce("graph").to_json())
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], text + "\n").into_response())
}

async fn create_job(
    State(s): State<Arc<AppState>>,
    client: Option<Extension<Client>>,
    raw: Request,
) -> Result<Response, ApiError> {
    let sent = s.submission(raw).await?;
    let request = s.solve_request(sent.clone()).await?;
    let ticket = s.admit()?;
    let id = format!("{:032x}", rand::random::<u128>());
    let stop = s.control(&request);
    let (job, owner) = (id.clone(), owner(client));
    // A stored job runs, even if its client is gone by then.
    let stored = s
        .in_store(move |s| {
            let stored = s.jobs.insert(&job, owner.as_deref(), &sent, stop.clone())?;
            if stored {
                s.run_job(job, ticket, request, stop);
            }
            Ok(stored)
        })
        .await
        .map_err(|e| ApiError::from_library(&e))?;
    if !stored {
        return Err(ApiError::unavailable(
            format!(
                "the job store is full ({} jobs); fetch or delete finished jobs",
                s.config.max_jobs
            ),
            RETRY_AFTER_SECS,
        ));
    }
    let href = format!("/v1/jobs/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, href.clone())],
        JsonLine(JobCreated {
            id,
            state: Created::Pending,
            href,
        }),
    )
        .into_response())
}

/// The name of the client a request was authenticated as, if any: a job's owner.
fn owner(client: Option<Extension<Client>>) -> Option<String> {
    client.map(|Extension(Client(name))| name)
}

fn no_such_job(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        Some("id"),
        format!("no job {id}: never created, already fetched, deleted, or expired"),
    )
}

/// A job id from the path, or a JSON 400 (not axum's plain-text rejection).
fn job_id(id: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    id.map(|Path(id)| id).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            Some("id"),
            format!("the job id is not valid: {}", e.body_text()),
        )
    })
}

async fn get_job(
    State(s): State<Arc<AppState>>,
    client: Option<Extension<Client>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<JsonLine<JobAnswer>, ApiError> {
    let id = job_id(id)?;
    let (job, owner) = (id.clone(), owner(client));
    let found = s.in_store(move |s| s.jobs.fetch(&job, owner.as_deref()));
    match found.await.map_err(|e| ApiError::from_library(&e))? {
        Lookup::Missing => Err(no_such_job(&id)),
        Lookup::Found(state) => Ok(JsonLine(JobAnswer { id, state })),
    }
}

async fn delete_job(
    State(s): State<Arc<AppState>>,
    client: Option<Extension<Client>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<JsonLine<JobRemoved>, ApiError> {
    let id = job_id(id)?;
    let (job, owner) = (id.clone(), owner(client));
    let cancelled = s.in_store(move |s| s.jobs.cancel(&job, owner.as_deref()));
    match cancelled.await.map_err(|e| ApiError::from_library(&e))? {
        Cancelled::Missing => Err(no_such_job(&id)),
        Cancelled::Stopped => Ok(JsonLine(JobRemoved {
            id,
            state: Removed::Cancelled,
        })),
        Cancelled::Deleted => Ok(JsonLine(JobRemoved {
            id,
            state: Removed::Deleted,
        })),
    }
}

/// The page at `/`: a form that sends an instance file to `/v1/solve` and shows the
/// answer, one static file with its script and style inline.
const PAGE: &str = include_str!("page.html");

/// What the page may load: its own inline script and style, and requests to this
/// server; nothing from elsewhere.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
        ],
        PAGE,
    )
        .into_response()
}

async fn health(State(s): State<Arc<AppState>>) -> JsonLine<Health> {
    let status = if s.shutting_down.load(Ordering::Relaxed) {
        ServerStatus::ShuttingDown
    } else {
        ServerStatus::Ok
    };
    JsonLine(Health {
        status,
        workers: s.config.workers,
        running: s.pool.running(),
        queued: s.pool.queued(),
        jobs: s.jobs.len(),
        memory_reserved: s.pool.memory_reserved(),
        max_memory: s.pool.memory(),
    })
}

async fn version() -> JsonLine<Version> {
    JsonLine(Version {
        name: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        api: "v1",
    })
}

async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let text = s.metrics.render(Gauges {
        queued: s.pool.queued(),
        running: s.pool.running(),
        jobs: s.jobs.len(),
        memory_reserved: s.pool.memory_reserved(),
        memory_budget: s.pool.memory(),
    });
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        None,
        format!(
            "no route {method} {}; see /v1/version and the manual, docs/service.md",
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
