//! `partrec serve`: the solver as an HTTP/JSON service (axum on tokio).
//!
//! A request flows: body (size-limited, 413) -> parse with the library's readers
//! on a blocking thread (400) -> encoding-size check (422) -> admission to the
//! [`pool::Pool`] (503 with `Retry-After` when full) -> a solve in a child process
//! ([`crate::worker::solve_in_child`]) killed at the request's deadline, when the
//! client goes away or when its job is cancelled, so no abandoned solve keeps a
//! core busy -> the answer, checked by the child exactly as `partrec solve` checks it.
//!
//! Shutdown (SIGTERM or Ctrl-C) stops accepting connections, refuses work that has
//! not started, cancels background jobs, lets running requests finish (each is
//! bounded by its timeout) and returns.

pub mod api;
pub mod jobs;
pub mod metrics;
pub mod pool;
mod routes;

use crate::error::{Error, Result};
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to bind (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Solves running at once.
    pub workers: usize,
    /// Solves waiting for a worker beyond those; more are refused with 503.
    pub queue: usize,
    /// Largest request body in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// The longest (and default) time a solve request may take, queueing included.
    pub timeout: Duration,
    /// Largest estimated CNF size in clauses; larger instances get 422.
    pub max_clauses: u64,
    /// How long a finished job's result is kept when nobody fetches it.
    pub job_ttl: Duration,
    /// Most jobs stored at once.
    pub max_jobs: usize,
    /// No per-request log lines.
    pub quiet: bool,
    /// The `partrec` executable that runs each solve as a child process.
    pub exe: PathBuf,
}

impl ServeConfig {
    /// Checks that every limit is usable.
    pub fn validate(&self) -> Result<()> {
        if self.workers == 0 || self.max_body_bytes == 0 || self.max_jobs == 0 {
            return Err(Error::Usage(
                "--workers, --max-body-mb and --max-jobs must be > 0".into(),
            ));
        }
        if self.timeout.is_zero() || self.job_ttl.is_zero() {
            return Err(Error::Usage(
                "--timeout and --job-ttl must be > 0 seconds".into(),
            ));
        }
        Ok(())
    }
}

/// Binds `config.addr`, prints `partrec: listening on http://ADDR` on standard output,
/// and serves until SIGTERM or Ctrl-C.
pub fn run(config: ServeConfig) -> Result<()> {
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| Error::Usage(format!("--addr {}: cannot listen: {e}", config.addr)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::Internal(format!("no local address: {e}")))?;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "partrec: listening on http://{addr}");
        let _ = out.flush();
        serve(listener, config, shutdown_signal()).await
    })
}

/// Serves on `listener` until `shutdown` completes, then shuts down gracefully.
pub async fn serve(
    listener: TcpListener,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let state = Arc::new(routes::AppState::new(config));
    let app = routes::router(state.clone());
    let closing = state.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.begin_shutdown();
        })
        .await
        .map_err(|e| Error::Internal(format!("the server failed: {e}")))?;
    // Cancelled jobs' children are killed within a poll interval; wait for their threads.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while state.pool.running() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if !state.config.quiet {
        eprintln!("partrec: server stopped");
    }
    Ok(())
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
