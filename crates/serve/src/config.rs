//! How the service runs: its address, workers, limits and timeouts, and their defaults.

use partrec_core::error::{Error, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::Semaphore;

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
    /// Largest estimated CNF size in clauses (of the instance after class propagation, which
    /// is what gets encoded); larger instances get 422 when their solve starts.
    pub max_clauses: u64,
    /// The memory budget in bytes that running solves share: each reserves its
    /// estimate ([`partrec_solve::estimate_memory`]) while it runs and waits in the
    /// queue until it fits beside the others; one estimated above the whole budget gets
    /// 422. A solve estimated at a quarter of a worker's share (the budget over
    /// `workers`) or more runs in a child process whose address space is limited to
    /// twice its estimate plus 1 GiB
    /// ([`partrec_worker::solve_in_confined_child`]), so a wrong estimate ends that
    /// solve, never the server.
    pub max_memory: u64,
    /// How long a finished job's result is kept when nobody fetches it.
    pub job_ttl: Duration,
    /// Most jobs stored at once.
    pub max_jobs: usize,
    /// No per-request log lines.
    pub quiet: bool,
    /// The `partrec` executable that runs solves on a backend that cannot be
    /// interrupted (varisat) as child processes.
    pub exe: partrec_worker::Exe,
    /// The SAT backend of requests that do not name one.
    pub backend: partrec_sat::Backend,
    /// Longest time for a request's head (line and headers) to arrive, counted from
    /// its first byte or from the end of the previous request on the connection (so
    /// it also closes idle connections); then the connection is closed.
    pub header_timeout: Duration,
    /// Longest time for a request's whole body to arrive; then 408 and the connection
    /// is closed.
    pub body_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Request bodies parsed (and checks and reductions run) in the server at once;
    /// more wait for a turn, up to `timeout`, then get 503.
    pub max_parsing: usize,
    /// Largest colouring reduction, in samples (vertices + edges), that
    /// `/v1/reduce/coloring` builds; larger graphs get 422.
    pub max_reduce_size: u64,
    /// Most tokens, over all groups, that a solve request may declare: its answer lists
    /// a class for every declared token (twice with a witness), so more get 422.
    pub max_answer_tokens: u64,
    /// Where background jobs are kept: a folder holding an SQLite database, so that
    /// jobs survive a restart; `None` keeps them in this process's memory only
    /// (`--data-dir :memory:`).
    pub data_dir: Option<PathBuf>,
    /// The file of client tokens (`--token-file`): every route but `/v1/health` then
    /// needs `Authorization: Bearer TOKEN`. `None`: no authentication.
    pub token_file: Option<PathBuf>,
    /// Serve on an address beyond loopback without a token file.
    pub insecure_no_auth: bool,
}

/// The `--data-dir` value that keeps jobs in memory only.
pub const IN_MEMORY: &str = ":memory:";

/// The default data folder: `$XDG_DATA_HOME/partrec/serve`, else
/// `$HOME/.local/share/partrec/serve`; `None` when neither variable is set.
pub fn default_data_dir() -> Option<PathBuf> {
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let base = nonempty("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| nonempty("HOME").map(|home| PathBuf::from(home).join(".local/share")))?;
    Some(base.join("partrec").join("serve"))
}

/// Bytes of reply per sample of a reduced instance, roughly (`{"x":[u,v],"y":1},`
/// with six-digit vertices): the default [`ServeConfig::max_reduce_size`] is the body
/// limit over this, so a reduction's reply is about as large as the largest body.
pub const REDUCED_BYTES_PER_SAMPLE: u64 = 32;

/// The default [`ServeConfig::max_reduce_size`] for a body limit of `max_body_bytes`.
pub fn default_max_reduce_size(max_body_bytes: usize) -> u64 {
    (max_body_bytes as u64 / REDUCED_BYTES_PER_SAMPLE).max(1)
}

/// Bytes of reply per declared token of a solve answer, roughly (`0,` in the partition
/// and again in a witness): the default [`ServeConfig::max_answer_tokens`] is the body
/// limit over this.
pub const ANSWER_BYTES_PER_TOKEN: u64 = 4;

/// The default [`ServeConfig::max_answer_tokens`] for a body limit of `max_body_bytes`.
pub fn default_max_answer_tokens(max_body_bytes: usize) -> u64 {
    (max_body_bytes as u64 / ANSWER_BYTES_PER_TOKEN).max(1)
}

/// The default [`ServeConfig::max_parsing`]: twice the number of cores.
pub fn default_max_parsing() -> usize {
    2 * std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl ServeConfig {
    /// Checks that every limit is usable (an error names the field), and that an
    /// address beyond loopback has a token file or `insecure_no_auth`.
    pub fn validate(&self) -> Result<()> {
        let counts = [
            ("workers", self.workers as u64),
            ("max_body_bytes", self.max_body_bytes as u64),
            ("max_jobs", self.max_jobs as u64),
            ("max_connections", self.max_connections as u64),
            ("max_parsing", self.max_parsing as u64),
            ("max_reduce_size", self.max_reduce_size),
            ("max_answer_tokens", self.max_answer_tokens),
        ];
        if let Some((name, _)) = counts.iter().find(|(_, value)| *value == 0) {
            return Err(Error::param(name, "must be > 0"));
        }
        let times = [
            ("timeout", self.timeout),
            ("job_ttl", self.job_ttl),
            ("header_timeout", self.header_timeout),
            ("body_timeout", self.body_timeout),
        ];
        if let Some((name, _)) = times.iter().find(|(_, value)| value.is_zero()) {
            return Err(Error::param(name, "must be > 0 seconds"));
        }
        for (name, value) in [
            ("max_connections", self.max_connections),
            ("max_parsing", self.max_parsing),
        ] {
            if value > Semaphore::MAX_PERMITS {
                return Err(Error::param(
                    name,
                    format!("must be at most {}", Semaphore::MAX_PERMITS),
                ));
            }
        }
        if self.token_file.is_none()
            && !self.insecure_no_auth
            && !self.addr.ip().to_canonical().is_loopback()
        {
            return Err(Error::Usage(format!(
                "--addr {} is reachable from other machines: give --token-file FILE so that only known clients are served, or --insecure-no-auth to serve anyone",
                self.addr
            )));
        }
        Ok(())
    }
}
