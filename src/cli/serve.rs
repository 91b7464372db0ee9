//! `partrec serve`: the solver as an HTTP/JSON service.

use crate::cli::common::{after_help, cores, own_exe, BackendArg, Quiet};
use clap::Args;
use partrec::sat::control::parse_seconds;
use partrec::serve::{run as serve_run, ServeConfig};
use partrec::{Error, Result};

/// The largest request body a server may accept, in megabytes: the limits derived
/// from it (reductions, answers, stored jobs) must stay within one machine's memory.
const MAX_BODY_MB: f64 = 256.0;

/// `partrec serve` flags.
#[derive(Args)]
#[command(after_help = after_help!(
    "  partrec serve --addr 127.0.0.1:8080 --workers 2\n  curl -s http://localhost:8080/v1/solve -d @instances/planted-small.json",
    "Exit codes:\n   0  stopped by SIGTERM or Ctrl-C after finishing the running requests"
))]
pub struct ServeArgs {
    #[command(flatten)]
    backend: BackendArg,
    /// Address to listen on (port 0 picks a free one; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Solves running at once (default: the number of cores); in this process with
    /// cadical, each in a child process with varisat.
    #[arg(long)]
    workers: Option<usize>,
    /// Solve requests waiting for a worker beyond those; more get 503 with Retry-After.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Largest request body in megabytes; larger ones get 413.
    #[arg(
        long,
        value_name = "MB",
        default_value_t = 16.0,
        allow_negative_numbers = true
    )]
    max_body_mb: f64,
    /// Longest (and default) time per solve request in seconds, queueing included; then `unknown`.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60.0,
        allow_negative_numbers = true
    )]
    timeout: f64,
    /// Largest estimated CNF size in clauses, after class propagation; larger instances get 422.
    #[arg(long, default_value_t = 50_000_000)]
    max_clauses: u64,
    /// Seconds a finished job's result is kept when nobody fetches it.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 600.0,
        allow_negative_numbers = true
    )]
    job_ttl: f64,
    /// Most background jobs stored at once.
    #[arg(long, default_value_t = 1000)]
    max_jobs: usize,
    /// Seconds a request's head may take to arrive (also how long an idle connection
    /// stays open); then the connection is closed.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    header_timeout: f64,
    /// Seconds a request's whole body may take to arrive; then 408 and the connection closes.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10.0,
        allow_negative_numbers = true
    )]
    body_timeout: f64,
    /// Connections open at once; one more is answered 503 and closed.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Bodies parsed (and checks and reductions run) in the server at once; more wait
    /// up to --timeout, then get 503 (default: twice the number of cores).
    #[arg(long)]
    max_parsing: Option<usize>,
    /// Largest colouring reduction, in samples (vertices + edges), that /v1/reduce/coloring
    /// builds; larger graphs get 422 (default: the body limit in bytes / 32, so that a
    /// reply is about as large as the largest body at most).
    #[arg(long)]
    max_reduce_size: Option<u64>,
    /// Most tokens (over all groups) a solve request may declare, since its answer lists a
    /// class for each; more get 422 (default: the body limit in bytes / 4).
    #[arg(long)]
    max_answer_tokens: Option<u64>,
    /// Folder of the job database, so that background jobs survive a restart (default:
    /// $XDG_DATA_HOME/partrec/serve, else ~/.local/share/partrec/serve); `:memory:`
    /// keeps jobs in memory only.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// File of client tokens, one per line (`NAME TOKEN`, or a bare token); every route
    /// but /v1/health then needs `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "FILE")]
    token_file: Option<std::path::PathBuf>,
    /// Serve on an address beyond loopback without --token-file (anyone who reaches the
    /// port can then submit work).
    #[arg(long)]
    insecure_no_auth: bool,
}

/// The job database's folder: `--data-dir`, `None` for `:memory:`, else the default.
fn data_dir(flag: Option<String>) -> Result<Option<std::path::PathBuf>> {
    match flag {
        Some(dir) if dir == partrec::serve::IN_MEMORY => Ok(None),
        Some(dir) if dir.is_empty() => Err(Error::Usage(
            "--data-dir must name a folder, or :memory:".into(),
        )),
        Some(dir) => Ok(Some(dir.into())),
        None => partrec::serve::default_data_dir().map(Some).ok_or_else(|| {
            Error::Usage(
                "--data-dir: neither XDG_DATA_HOME nor HOME is set; give a folder, or :memory:"
                    .into(),
            )
        }),
    }
}

/// Builds the server's configuration and serves until stopped.
pub fn run(a: ServeArgs, quiet: Quiet) -> Result<i32> {
    if !(a.max_body_mb > 0.0 && a.max_body_mb <= MAX_BODY_MB) {
        return Err(Error::Usage(format!(
            "--max-body-mb must be a number from 0 (exclusive) to {MAX_BODY_MB}, got {}",
            a.max_body_mb
        )));
    }
    let max_body_bytes = (a.max_body_mb * 1024.0 * 1024.0) as usize;
    let config = ServeConfig {
        backend: a.backend.get(),
        addr: a.addr,
        workers: a.workers.unwrap_or_else(cores),
        queue: a.queue,
        max_body_bytes,
        timeout: parse_seconds(a.timeout, "timeout")?,
        max_clauses: a.max_clauses,
        max_memory: partrec::memory::budget(),
        job_ttl: parse_seconds(a.job_ttl, "job_ttl")?,
        max_jobs: a.max_jobs,
        quiet: quiet.quiet,
        exe: own_exe()?,
        header_timeout: parse_seconds(a.header_timeout, "header_timeout")?,
        body_timeout: parse_seconds(a.body_timeout, "body_timeout")?,
        max_connections: a.max_connections,
        max_parsing: a
            .max_parsing
            .unwrap_or_else(partrec::serve::default_max_parsing),
        max_reduce_size: a
            .max_reduce_size
            .unwrap_or_else(|| partrec::serve::default_max_reduce_size(max_body_bytes)),
        max_answer_tokens: a
            .max_answer_tokens
            .unwrap_or_else(|| partrec::serve::default_max_answer_tokens(max_body_bytes)),
        data_dir: data_dir(a.data_dir)?,
        token_file: a.token_file,
        insecure_no_auth: a.insecure_no_auth,
    };
    serve_run(config)?;
    Ok(0)
}
