//! `partrec serve`: the solver as an HTTP/JSON service (axum on tokio, HTTP/1.1 by hyper).
//!
//! The user's manual for this part is `docs/service.md` in the repository.
//!
//! A request flows: head (within `header_timeout`, else the connection is closed) ->
//! with a token file, a known `Authorization: Bearer TOKEN` or 401 at once (every route
//! but `GET` of the page, health and the API's description; see [`auth`]) -> a
//! declared `Content-Length` over the limit is 413 at once -> body (size-limited, 413;
//! within `body_timeout`, else 408) -> parse with the library's readers, in the format
//! its `Content-Type` names (JSON, `.npz`, CSV/TSV; else 415), on a blocking thread, at
//! most `max_parsing` at once (400) -> the solve's memory estimated (422 when it can
//! never fit `max_memory`) -> admission to the [`pool::Pool`] (503 with `Retry-After`
//! when full), waiting until a worker is free and the estimate fits beside those of
//! the running solves -> a solve
//! ([`partrec_worker::solve`]) on a blocking thread under a [`partrec_sat::Control`]
//! whose deadline is the request's, stopped when the client goes away or its job is
//! cancelled, so no abandoned solve keeps a core busy: in the server itself with an
//! interruptible backend (CaDiCaL), in a child process killed then with varisat, or
//! with a large estimate in a child whose address space is limited ->
//! the answer, checked exactly as `partrec solve` checks it. `/v1/check` and `/v1/reduce/coloring` run in the server under the
//! same deadline (then 503), and a reduction larger than `max_reduce_size` samples is
//! refused (422) before it is built.
//!
//! At most `max_connections` connections are open at once; one more is answered 503
//! and closed. Nothing in the server allocates in proportion to a count that a
//! request declares (tokens, classes, vertices): only to the bytes it sent. A solve
//! answer lists a class for every declared token, so a request declaring more than
//! `max_answer_tokens` tokens is refused (422) before anything is built.
//!
//! Background jobs (`/v1/jobs`) are kept in an SQLite database in `data_dir`
//! ([`jobs`]), so that they outlive the server, even killed: at startup the jobs left
//! pending are run. One server at a time uses a data folder.
//!
//! Shutdown (SIGTERM or Ctrl-C) stops accepting connections, refuses work that has
//! not started, stops the solves of background jobs (kept pending for the next
//! start), lets running requests finish (each is bounded by its timeout) and returns.
//!
//! ```
//! use partrec_serve::{serve, ServeConfig};
//! use std::io::{Read, Write};
//! use std::time::Duration;
//!
//! let config = ServeConfig {
//!     addr: "127.0.0.1:0".parse().unwrap(),
//!     workers: 1,
//!     queue: 4,
//!     max_body_bytes: 1 << 20,
//!     timeout: Duration::from_secs(10),
//!     max_clauses: 1 << 20,
//!     max_memory: 1 << 30,
//!     job_ttl: Duration::from_secs(60),
//!     max_jobs: 16,
//!     quiet: true,
//!     exe: std::path::PathBuf::from("partrec").into(),
//!     backend: partrec_sat::Backend::Cadical,
//!     header_timeout: Duration::from_secs(5),
//!     body_timeout: Duration::from_secs(5),
//!     max_connections: 8,
//!     max_parsing: 2,
//!     max_reduce_size: 1 << 20,
//!     max_answer_tokens: 1 << 20,
//!     data_dir: None,
//!     token_file: None,
//!     insecure_no_auth: false,
//! };
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! runtime.block_on(async {
//!     let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//!     let server = tokio::spawn(serve(listener, config, async { stopped.await.ok(); }));
//!     // Solve a two-token instance over plain HTTP/1.1.
//!     let body = r#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [0], "y": 1}]}"#;
//!     let answer = tokio::task::spawn_blocking(move || {
//!         let mut stream = std::net::TcpStream::connect(addr).unwrap();
//!         write!(stream, "POST /v1/solve HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
//!                         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
//!                body.len()).unwrap();
//!         let mut answer = String::new();
//!         stream.read_to_string(&mut answer).unwrap();
//!         answer
//!     })
//!     .await
//!     .unwrap();
//!     assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
//!     assert!(answer.contains(r#""status":"sat""#), "{answer}");
//!     stop.send(()).unwrap();
//!     server.await.unwrap()
//! })?;
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub mod api;
pub mod auth;
pub mod client;
pub mod config;
pub mod jobs;
pub mod metrics;
pub mod openapi;
pub mod pool;
mod routes;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use partrec_core::error::{Error, Result};
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};

pub use config::{
    default_data_dir, default_max_answer_tokens, default_max_parsing, default_max_reduce_size,
    ServeConfig, ANSWER_BYTES_PER_TOKEN, IN_MEMORY, REDUCED_BYTES_PER_SAMPLE,
};

/// How long an idle blocking thread of the server waits for more work before it exits.
pub const BLOCKING_KEEP_ALIVE: Duration = Duration::from_millis(250);

/// Reads the token file, opens the job store, binds `config.addr`, prints `partrec:
/// listening on http://ADDR` on standard output, and serves until SIGTERM or Ctrl-C.
pub fn run(config: ServeConfig) -> Result<()> {
    config.validate()?;
    let tokens = read_tokens(&config)?;
    let state = Arc::new(routes::AppState::new(config, tokens)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // An idle blocking thread (a finished solve's) exits soon, so the thread count
        // shows what is still running.
        .thread_keep_alive(BLOCKING_KEEP_ALIVE)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    let served = runtime.block_on(async {
        let at = state.config.addr;
        let listener = TcpListener::bind(at)
            .await
            .map_err(|e| Error::Usage(format!("--addr {at}: cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("no local address: {e}")))?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "partrec: listening on http://{addr}");
        let _ = out.flush();
        serve_state(listener, state, shutdown_signal()).await
    });
    // A check or reduction that outlived its deadline may still hold a blocking thread.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

/// Opens the job store and serves on `listener` until `shutdown` completes, then shuts
/// down gracefully: stops accepting, refuses work not yet started, lets every open
/// connection finish its request (each is bounded by its timeouts) and returns.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    config.validate()?;
    let tokens = read_tokens(&config)?;
    let state = Arc::new(routes::AppState::new(config, tokens)?);
    serve_state(listener, state, shutdown).await
}

/// The tokens of `config.token_file`, if it names one.
fn read_tokens(config: &ServeConfig) -> Result<Option<auth::Tokens>> {
    config
        .token_file
        .as_deref()
        .map(auth::Tokens::read)
        .transpose()
}

/// [`serve`] with the server's state built: resumes the stored jobs, then serves.
async fn serve_state(
    listener: TcpListener,
    state: Arc<routes::AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    state.resume();
    let app = routes::router(state.clone());
    let connections = Arc::new(Semaphore::new(state.config.max_connections));
    // Raised at shutdown; every connection task holds a receiver until it ends.
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e, state.config.quiet).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            refuse_connection(stream, state.config.max_connections);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = closing.wait_for(|&closing| closing) => {}
            }
            // Finish the request in progress (if any), then close.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
            drop(closing);
        });
    }
    drop(listener);
    state.begin_shutdown();
    let _ = closing_tx.send(true);
    drop(closing_rx);
    // Every connection task holds a receiver: when none is left, all have ended.
    closing_tx.closed().await;
    // Stopped jobs stop within a poll interval (their children are killed); wait for
    // their threads.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while state.pool.running() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if !state.config.quiet {
        eprintln!("partrec: server stopped");
    }
    Ok(())
}

/// After a failed `accept`: a connection that failed on its own is skipped; anything
/// else (too many open files) is waited out briefly instead of spinning.
async fn accept_failed(e: &std::io::Error, quiet: bool) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    if !quiet {
        eprintln!("partrec: cannot accept a connection: {e}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Answers a connection over the cap with 503 (if the socket takes it at once) and
/// closes it: no task, no buffer, no waiting on the client.
fn refuse_connection(stream: TcpStream, cap: usize) {
    let body = format!(
        "{}\n",
        serde_json::json!({
            "error": format!("the server has {cap} connections open, its limit (--max-connections); retry later"),
            "field": null,
        })
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
