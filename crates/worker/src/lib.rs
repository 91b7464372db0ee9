//! Solving under a wall-clock deadline: in process when the backend can be
//! interrupted, else in a child process killed when time is up.
//!
//! [`solve`] and [`decide`] choose. CaDiCaL stops in-process through its
//! [`Control`]; varisat cannot be interrupted from outside (its issue #111), so
//! under a deadline it runs in a child process (`partrec worker`, see
//! [`protocol`]) that is killed at the deadline or when the caller stops the
//! control: no solve keeps running behind the caller's back. The child streams
//! typed [`Response`] lines; the parent keeps the last one, so a timeout still
//! reports what was proven before it (a partition found, non-uniqueness shown)
//! and marks the rest unknown.
//!
//! A child's standard error is passed through line by line, and its last line is
//! kept: a child that refuses its input answers [`Response::Failed`] with its
//! one-line message ([`ChildFailure::Input`]), one killed by a signal is reported
//! as such ([`ChildFailure::Signal`]), never as a bare exit code.
//!
//! ```
//! use partrec_core::model::instance::Instance;
//! use partrec_sat::Control;
//! use partrec_solve::solution::Status;
//! use partrec_solve::SolveOptions;
//! use std::time::Duration;
//!
//! // With CaDiCaL (interruptible) the solve runs in this process under the deadline;
//! // with varisat, pass the partrec executable as `exe` and it runs in a child.
//! let text = r#"{"groups": [{"tokens": 2, "classes": 2}], "samples": [{"x": [0], "y": 1}]}"#;
//! let instance = Instance::from_json(text.as_bytes(), "example")?;
//! let control = Control::with_timeout(Some(Duration::from_secs(10)));
//! let solution = partrec_worker::solve(&instance, &SolveOptions::find(), &control, None, &mut |_| {})?;
//! assert_eq!(solution.status, Status::Sat);
//! # Ok::<(), partrec_core::error::Error>(())
//! ```

pub mod protocol;

pub use protocol::{child_main, FailureKind, Request, Response};

use partrec_core::error::{Error, InputKind, Location, Result};
use partrec_core::model::instance::Instance;
use partrec_reduction::decide::{ColorAnswer, Via};
use partrec_reduction::graph::Graph;
use partrec_sat::{Backend, Control};
use partrec_solve::solution::{Solution, Status};
use partrec_solve::SolveOptions;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How many characters of a child's last standard-error line are kept.
const KEPT_ERROR_CHARS: usize = 1000;

/// How a child run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The child exited by itself; `last_line` is its last complete stdout line.
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// Its last complete line on stdout, if any.
        last_line: Option<String>,
        /// Its last non-empty standard-error line (a Rust panic's `note:` hint skipped),
        /// at most 1,000 characters, if any.
        last_error: Option<String>,
    },
    /// The deadline struck and the child was killed.
    TimedOut {
        /// The last complete line it printed before that.
        last_line: Option<String>,
    },
    /// The caller raised the stop flag and the child was killed.
    Cancelled {
        /// The last complete line it printed before that.
        last_line: Option<String>,
    },
}

/// How often a running child is checked against the stop flag.
const STOP_POLL: Duration = Duration::from_millis(20);

/// Kills the child when dropped, so that no early return leaves it running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        if matches!(self.0.try_wait(), Ok(None)) {
            // A killed process that holds much memory takes a while to release it;
            // it is reaped on a thread of its own, so that the answer does not wait.
            let pid = self.0.id() as libc::pid_t;
            std::thread::spawn(move || {
                // SAFETY: waitpid on our own child's pid, with no status wanted; std's
                // `Child` never waits on drop, so nothing else reaps it.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            });
        }
    }
}

/// Runs `command` with stdout piped, collecting its lines, and kills it at `timeout`
/// or as soon as `stop` is raised (checked every 20 ms). With `input`, that is
/// written to the child's standard input.
pub fn run_with_deadline(
    command: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    stop: &Control,
) -> Result<Outcome> {
    run_watching(command, input, timeout, stop, &mut |_| {})
}

/// [`run_with_deadline`], calling `on_line` with each line as it arrives.
fn run_watching(
    command: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    stop: &Control,
    on_line: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    if stop.stop_requested() {
        return Ok(Outcome::Cancelled { last_line: None });
    }
    // The caller's own deadline, if earlier: writing a large request took some of it.
    let deadline = match (Instant::now().checked_add(timeout), stop.deadline()) {
        (Some(d), Some(c)) => Some(d.min(c)),
        (d, c) => d.or(c),
    };
    let (mut child, errors, lines) = start(command, input)?;
    let mut last_line = None;
    if let Some(end) = relay_lines(&lines, deadline, stop, on_line, &mut last_line) {
        return Ok(end);
    }
    await_exit(&mut child, &errors, deadline, stop, last_line)
}

/// Starts `command` with its standard output and error piped (`input` written to its
/// standard input on a thread): the child, its last standard-error line to come (see
/// [`pass_stderr_through`]) and its standard-output lines, read on a thread.
fn start(
    mut command: Command,
    input: Option<Vec<u8>>,
) -> Result<(
    KillOnDrop,
    mpsc::Receiver<Option<String>>,
    mpsc::Receiver<String>,
)> {
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env(SUPERVISED, std::process::id().to_string());
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let child = command
        .spawn()
        .map_err(|e| Error::Internal(format!("cannot start the solver process: {e}")))?;
    let mut child = KillOnDrop(child);
    let errors = pass_stderr_through(child.0.stderr.take().expect("stderr is piped"));
    if let (Some(bytes), Some(mut stdin)) = (input, child.0.stdin.take()) {
        // A child that stops reading early (an error, a kill) only breaks this pipe.
        std::thread::spawn(move || stdin.write_all(&bytes));
    }
    let stdout = child.0.stdout.take().expect("stdout is piped");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(l) => {
                    if lines_tx.send(l).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    });
    Ok((child, errors, lines))
}

/// How the run ends at `now`, if it must: cancelled when `stop` is raised, else timed
/// out once `deadline` has passed; `last_line` is taken into the outcome.
fn cut_short(
    stop: &Control,
    deadline: Option<Instant>,
    now: Instant,
    last_line: &mut Option<String>,
) -> Option<Outcome> {
    if stop.stop_requested() {
        return Some(Outcome::Cancelled {
            last_line: last_line.take(),
        });
    }
    if deadline.is_some_and(|d| now >= d) {
        return Some(Outcome::TimedOut {
            last_line: last_line.take(),
        });
    }
    None
}

/// Passes each line of `lines` to `on_line`, keeping the last in `last_line`, until the
/// child closes its standard output (`None`) or the run is cut short (its outcome).
fn relay_lines(
    lines: &mpsc::Receiver<String>,
    deadline: Option<Instant>,
    stop: &Control,
    on_line: &mut dyn FnMut(&str),
    last_line: &mut Option<String>,
) -> Option<Outcome> {
    loop {
        let now = Instant::now();
        if let Some(end) = cut_short(stop, deadline, now, last_line) {
            return Some(end);
        }
        match lines.recv_timeout(deadline.map_or(STOP_POLL, |d| (d - now).min(STOP_POLL))) {
            Ok(line) => {
                on_line(&line);
                *last_line = Some(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// Waits for a child whose standard output has closed to exit (it may still be busy),
/// keeping to the deadline and the stop flag.
fn await_exit(
    child: &mut KillOnDrop,
    errors: &mpsc::Receiver<Option<String>>,
    deadline: Option<Instant>,
    stop: &Control,
    mut last_line: Option<String>,
) -> Result<Outcome> {
    loop {
        if let Some(status) = child
            .0
            .try_wait()
            .map_err(|e| Error::Internal(format!("cannot wait for the solver process: {e}")))?
        {
            // The child is gone, so its stderr is at its end (or about to be).
            let last_error = errors.recv_timeout(Duration::from_secs(1)).ok().flatten();
            return Ok(Outcome::Exited {
                status,
                last_line,
                last_error,
            });
        }
        if let Some(end) = cut_short(stop, deadline, Instant::now(), &mut last_line) {
            return Ok(end);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Copies a child's standard error to ours line by line, on a thread; the channel
/// receives its last non-empty line (see [`Outcome::Exited`]) once it ends.
fn pass_stderr_through(stderr: std::process::ChildStderr) -> mpsc::Receiver<Option<String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut last = None;
        for line in BufReader::new(stderr).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line);
            let text = line.trim_end();
            // A closed standard error of ours loses the copy, never the last line.
            let _ = writeln!(std::io::stderr(), "{text}");
            let text = text.trim();
            if !text.is_empty() && !text.starts_with("note: run with `RUST_BACKTRACE") {
                last = Some(text.chars().take(KEPT_ERROR_CHARS).collect::<String>());
            }
        }
        let _ = tx.send(last);
    });
    rx
}

/// How often a child checks whether its parent is still there.
const ORPHAN_POLL: Duration = Duration::from_millis(100);

/// The environment variable [`run_with_deadline`] sets in every child it starts.
pub const SUPERVISED: &str = "PARTREC_SUPERVISED";

/// Called at the start of `partrec`: in a child started by [`run_with_deadline`],
/// exits the process as soon as its parent is gone.
///
/// The parent enforces the deadline by killing the child; if the parent itself
/// dies first (killed, crashed), the child would otherwise run on unsupervised.
/// A background thread notices that the process was re-parented and exits. The
/// parent's id comes from the environment (the supervisor writes its own), so a
/// parent that died before this process started is noticed too.
pub fn exit_when_orphaned() {
    let Some(value) = std::env::var_os(SUPERVISED) else {
        return;
    };
    #[cfg(unix)]
    {
        let parent = value
            .to_str()
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or_else(std::os::unix::process::parent_id);
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(1);
        }
        std::thread::spawn(move || loop {
            std::thread::sleep(ORPHAN_POLL);
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(1);
            }
        });
    }
    #[cfg(not(unix))]
    let _ = value;
}

/// Why a child gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildFailure {
    /// It refused its input ([`FailureKind::Input`]): its one-line message and where.
    Input(String, Option<Location>),
    /// It failed otherwise and said why ([`FailureKind::Internal`]).
    Internal(String),
    /// It was killed by this signal (not by the deadline or a cancel, which are answers);
    /// with its last standard-error line, if any.
    Signal {
        /// The signal number.
        signal: i32,
        /// Its last standard-error line, if any (`memory allocation of ... failed`).
        message: Option<String>,
    },
    /// It exited without a final answer (a panic, a protocol mismatch).
    Failed {
        /// The exit code.
        code: i32,
        /// Its last standard-error line, if any.
        message: Option<String>,
    },
}

impl std::fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = |m: &Option<String>| m.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
        match self {
            ChildFailure::Input(m, _) => f.write_str(m),
            ChildFailure::Internal(m) => write!(f, "the solver process failed: {m}"),
            ChildFailure::Signal { signal, message } => write!(
                f,
                "the solver was killed by signal {signal}{}{}",
                signal_name(*signal)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                tail(message)
            ),
            ChildFailure::Failed { code, message } => write!(
                f,
                "the solver process exited without an answer (exit {code}){}",
                tail(message)
            ),
        }
    }
}

impl From<ChildFailure> for Error {
    /// A refused input is [`Error::Input`] with the child's own message and location (as
    /// the same refusal in process reads), anything else [`Error::Internal`] saying how
    /// it ended.
    fn from(failure: ChildFailure) -> Error {
        match failure {
            ChildFailure::Input(message, at) => {
                Error::input_at("", InputKind::Invalid, at, message)
            }
            other => Error::Internal(other.to_string()),
        }
    }
}

/// The usual name of a Linux signal number.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return None,
    })
}

/// The signal that ended a process, if one did.
fn killed_by(status: &ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        std::os::unix::process::ExitStatusExt::signal(status)
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// What a child run gave, read through the [`protocol`].
#[derive(Debug, PartialEq)]
pub enum Reply {
    /// Its final answer ([`Response::Solved`] or [`Response::Decided`]).
    Answered(Response),
    /// It was stopped (deadline or cancel) first; its last progress, if any.
    Stopped(Option<Solution>),
}

/// Reads a child run's outcome: its final answer, its last progress when it was stopped,
/// or why it failed.
pub fn reply(outcome: Outcome) -> std::result::Result<Reply, ChildFailure> {
    let parse =
        |line: Option<String>| -> Option<Response> { serde_json::from_str(line.as_deref()?).ok() };
    let (last, exit) = match outcome {
        Outcome::TimedOut { last_line } | Outcome::Cancelled { last_line } => {
            (parse(last_line), None)
        }
        Outcome::Exited {
            status,
            last_line,
            last_error,
        } => (parse(last_line), Some((status, last_error))),
    };
    match (last, exit) {
        (Some(Response::Failed { kind, message, at }), _) => Err(match kind {
            FailureKind::Input => ChildFailure::Input(message, at),
            FailureKind::Internal => ChildFailure::Internal(message),
        }),
        // An answer that arrived just before the deadline is still the answer.
        (Some(answer @ (Response::Solved(_) | Response::Decided(_))), _) => {
            Ok(Reply::Answered(answer))
        }
        (progress, None) => Ok(Reply::Stopped(match progress {
            Some(Response::Progress(sol)) => Some(sol),
            _ => None,
        })),
        (_, Some((status, message))) => Err(match killed_by(&status) {
            Some(signal) => ChildFailure::Signal { signal, message },
            None => ChildFailure::Failed {
                code: status.code().unwrap_or(1),
                message,
            },
        }),
    }
}

/// The answer of a solve stopped before it finished: what `progress` had proven (or
/// nothing), marked timed out, as an in-process solve stopped there answers. With
/// `limit` 1 nothing was counted, so the count fields are left out.
pub fn stopped(progress: Option<Solution>, limit: u64) -> Solution {
    let mut sol = progress.unwrap_or_else(|| Solution::new(Status::Unknown));
    // Progress reported before certifying may carry claims; stopped there, they are not
    // proven (certified) and are withdrawn.
    sol.withdraw_claims();
    if limit < 2 {
        (sol.count, sol.count_complete) = (None, None);
    } else {
        sol.count.get_or_insert(0);
        sol.count_complete = Some(false);
    }
    sol
}

/// The command that starts a worker child: a program and the arguments before
/// `worker` (none for the `partrec` executable; `-m partrec._worker` for Python's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exe {
    /// The program.
    pub program: PathBuf,
    /// Its arguments before `worker`.
    pub args: Vec<OsString>,
}

impl From<PathBuf> for Exe {
    /// The `partrec` executable at this path.
    fn from(program: PathBuf) -> Exe {
        Exe {
            program,
            args: Vec::new(),
        }
    }
}

/// Runs `request` in a child process (`exe worker`), killed at `timeout` or when `stop`
/// is raised.
fn run_request(
    exe: &Exe,
    request: &Request<'_>,
    timeout: Duration,
    stop: &Control,
    address_limit: Option<u64>,
    on_line: &mut dyn FnMut(&str),
) -> Result<Outcome> {
    let mut cmd = Command::new(&exe.program);
    cmd.args(&exe.args).arg(protocol::COMMAND);
    if let Some(bytes) = address_limit {
        cmd.env(partrec_core::memory::ADDRESS_LIMIT_VAR, bytes.to_string());
    }
    let input = serde_json::to_vec(request)
        .map_err(|e| Error::Internal(format!("cannot write the worker request: {e}")))?;
    run_watching(cmd, Some(input), timeout, stop, on_line)
}

/// The protocol error for a child that answered a question it was not asked.
fn mismatched(answer: &Response) -> Error {
    Error::Internal(format!(
        "the solver process gave an answer of the wrong kind: {}",
        serde_json::to_string(answer).unwrap_or_default()
    ))
}

/// Solves `instance` with `options` in a child process (`exe worker`) killed at `timeout`
/// or when `stop` is raised; what was proven before that is kept, the rest is unknown.
///
/// A child that refuses the instance gives [`Error::Usage`] with its own message; one
/// that dies otherwise gives [`Error::Internal`] saying how (signal or
/// exit code, and its last standard-error line).
pub fn solve_in_child(
    exe: &Exe,
    instance: &Instance,
    options: &SolveOptions,
    timeout: Duration,
    stop: &Control,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    solve_in_confined_child(exe, instance, options, timeout, stop, None, progress)
}

/// [`solve_in_child`] with the child's address space limited to `address_limit` bytes
/// (`RLIMIT_AS`): an allocation the estimate did not foresee fails in the child, which
/// dies alone ([`ChildFailure::Signal`]), never in the caller's process. `progress`
/// gets each partial answer the child reports, as it arrives.
pub fn solve_in_confined_child(
    exe: &Exe,
    instance: &Instance,
    options: &SolveOptions,
    timeout: Duration,
    stop: &Control,
    address_limit: Option<u64>,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    let request = Request::solve(instance, options);
    let mut on_line = |line: &str| {
        if let Ok(Response::Progress(sol)) = serde_json::from_str::<Response>(line) {
            progress(&sol);
        }
    };
    let outcome = run_request(exe, &request, timeout, stop, address_limit, &mut on_line)?;
    match reply(outcome)? {
        Reply::Answered(Response::Solved(sol)) => Ok(sol),
        Reply::Answered(other) => Err(mismatched(&other)),
        Reply::Stopped(progress) => Ok(stopped(progress, options.limit)),
    }
}

/// Decides k-colourability of `graph` by `via` on `backend` in a child process
/// (`exe worker`) killed at `timeout`: an undecided answer then, never a guess.
pub fn decide_in_child(
    exe: &Exe,
    graph: &Graph,
    k: u32,
    via: Via,
    backend: Backend,
    timeout: Duration,
) -> Result<ColorAnswer> {
    let start = Instant::now();
    let request = Request::decide(graph, k, via, backend);
    match reply(run_request(
        exe,
        &request,
        timeout,
        &Control::new(),
        None,
        &mut |_| {},
    )?)? {
        Reply::Answered(Response::Decided(answer)) => Ok(answer),
        Reply::Answered(other) => Err(mismatched(&other)),
        Reply::Stopped(_) => Ok(ColorAnswer::timed_out(
            k,
            via,
            start.elapsed().as_secs_f64(),
        )),
    }
}

/// Solves `instance` under `control`: in this process when the backend can be
/// interrupted (or `exe` is `None`), else in a child process running `exe`, killed at
/// the deadline or when `control` is stopped. Either way a stop keeps what was proven
/// and marks the rest unknown.
pub fn solve(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    exe: Option<&Exe>,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    match exe {
        // Certification runs varisat, which cannot be interrupted either.
        Some(exe) if !options.backend.interruptible() || options.certify => {
            let timeout = control.remaining().unwrap_or(Duration::MAX);
            let options = SolveOptions {
                max_memory: Some(
                    options
                        .max_memory
                        .unwrap_or_else(partrec_core::memory::budget),
                ),
                ..*options
            };
            solve_in_child(exe, instance, &options, timeout, control, progress)
        }
        _ => partrec_solve::solve_with(instance, options, control, progress),
    }
}

/// Decides k-colourability under `control`, in process when the backend can be
/// interrupted (or `exe` is `None`, or there is no deadline), else in a child process
/// running `exe`.
pub fn decide(
    graph: &Graph,
    k: u32,
    via: Via,
    backend: Backend,
    control: &Control,
    exe: Option<&Exe>,
) -> Result<ColorAnswer> {
    match exe {
        Some(exe) if !backend.interruptible() && control.deadline().is_some() => {
            let timeout = control.remaining().unwrap_or(Duration::MAX);
            if timeout.is_zero() {
                return Ok(ColorAnswer::timed_out(k, via, 0.0));
            }
            decide_in_child(exe, graph, k, via, backend, timeout)
        }
        _ => partrec_reduction::decide::decide(graph, k, via, backend, control),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_at_the_deadline_and_keeps_the_last_line() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo first; echo second; sleep 30"]);
        let t = Instant::now();
        let never = Control::new();
        match run_with_deadline(cmd, None, Duration::from_millis(300), &never).unwrap() {
            Outcome::TimedOut { last_line } => assert_eq!(last_line.as_deref(), Some("second")),
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn reports_a_normal_exit() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "cat; exit 3"]);
        let never = Control::new();
        match run_with_deadline(
            cmd,
            Some(b"done\n".to_vec()),
            Duration::from_secs(20),
            &never,
        )
        .unwrap()
        {
            Outcome::Exited {
                status, last_line, ..
            } => {
                assert_eq!(status.code(), Some(3));
                assert_eq!(last_line.as_deref(), Some("done"));
            }
            other => panic!("expected an exit, got {other:?}"),
        }
    }

    #[test]
    fn stops_when_the_flag_is_raised() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo started; sleep 30"]);
        let stop = Control::new();
        let raise = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            raise.stop();
        });
        let t = Instant::now();
        match run_with_deadline(cmd, None, Duration::from_secs(60), &stop).unwrap() {
            Outcome::Cancelled { last_line } => assert_eq!(last_line.as_deref(), Some("started")),
            other => panic!("expected a cancel, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(30));
    }

    /// A shell command printing `lines` on stdout, then running `then`.
    fn printing(lines: &[Response], then: &str) -> Command {
        let mut script = String::new();
        for l in lines {
            let json = serde_json::to_string(l).unwrap();
            script.push_str(&format!("echo '{json}'; "));
        }
        script.push_str(then);
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]);
        cmd
    }

    fn run(cmd: Command, timeout: Duration) -> std::result::Result<Reply, ChildFailure> {
        reply(run_with_deadline(cmd, None, timeout, &Control::new()).unwrap())
    }

    #[test]
    fn a_refused_input_keeps_the_childs_message() {
        let failed = Response::Failed {
            kind: FailureKind::Input,
            message: "groups[0].tokens = 9: too many".into(),
            at: Some(Location::Path("groups[0].tokens".into())),
        };
        let failure = run(printing(&[failed], "exit 1"), Duration::from_secs(20)).unwrap_err();
        assert_eq!(
            failure,
            ChildFailure::Input(
                "groups[0].tokens = 9: too many".into(),
                Some(Location::Path("groups[0].tokens".into()))
            )
        );
        assert_eq!(
            Error::from(failure).to_string(),
            "groups[0].tokens = 9: too many"
        );
    }

    #[test]
    fn a_signal_is_reported_as_a_signal() {
        let progress = Response::Progress(Solution::new(Status::Unknown));
        let cmd = printing(
            &[progress],
            "echo 'memory allocation failed' >&2; kill -9 $$",
        );
        let failure = run(cmd, Duration::from_secs(20)).unwrap_err();
        assert_eq!(
            failure.to_string(),
            "the solver was killed by signal 9 (SIGKILL): memory allocation failed"
        );
        assert!(matches!(Error::from(failure), Error::Internal(_)));
        let failure = run(printing(&[], "exit 101"), Duration::from_secs(20)).unwrap_err();
        assert_eq!(
            failure.to_string(),
            "the solver process exited without an answer (exit 101)"
        );
    }

    #[test]
    fn a_timeout_keeps_the_last_progress_and_its_stats() {
        let mut partial = Solution::new(Status::Unknown);
        partial.stats.samples = 7;
        partial.stats.observed_tokens = vec![3, 2];
        partial.count = Some(0);
        let cmd = printing(&[Response::Progress(partial)], "sleep 30");
        let Ok(Reply::Stopped(progress)) = run(cmd, Duration::from_millis(300)) else {
            panic!("expected a stop");
        };
        let sol = stopped(progress, 2);
        assert_eq!(
            (sol.stats.samples, sol.stats.observed_tokens),
            (7, vec![3, 2])
        );
        assert_eq!(sol.count_complete, Some(false));
        assert!(sol.stats.timed_out);
        // An answer printed before the deadline struck is kept whole.
        let done = Response::Solved(Solution::new(Status::Sat));
        let cmd = printing(std::slice::from_ref(&done), "sleep 30");
        assert_eq!(
            run(cmd, Duration::from_millis(300)),
            Ok(Reply::Answered(done))
        );
    }

    #[test]
    fn a_timeout_without_progress_is_unknown() {
        let sol = stopped(None, 1);
        assert_eq!(sol.status, Status::Unknown);
        assert!(sol.stats.timed_out);
        assert_eq!((sol.count, sol.count_complete), (None, None));
        let sol = stopped(None, 2);
        assert_eq!((sol.count, sol.count_complete), (Some(0), Some(false)));
    }
}
