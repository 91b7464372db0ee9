//! Running a solve in a child process under a wall-clock deadline.
//!
//! varisat cannot be interrupted from outside (its issue #111), so a deadline
//! is enforced by running the solve in a child process and killing it when
//! time is up: no solve keeps running behind the caller's back. The child
//! prints one JSON line per improved partial answer; the parent keeps the last
//! complete line, so a timeout still reports what was proven before it (a
//! partition found, non-uniqueness shown) and marks the rest unknown. A caller
//! can also stop a child early through a flag (the HTTP service does this when
//! a job is cancelled or its client goes away).
//!
//! A child's standard error is passed through line by line, and its last line is
//! kept: a child that refuses its input (exit 2) is reported with its own one-line
//! message ([`ChildFailure::Input`]), one killed by a signal as such
//! ([`ChildFailure::Signal`]), never as a bare exit code.

use crate::error::{Error, Result};
use crate::model::instance::Instance;
use crate::model::solution::{Solution, Status};
use crate::reduction::decide::{ColorAnswer, Via};
use crate::reduction::graph::Graph;
use crate::sat::{Backend, Control};
use crate::solve::SolveOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
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
        let _ = self.0.wait();
    }
}

/// Runs `command` with stdout piped, collecting its lines, and kills it at `timeout`
/// or as soon as `stop` is raised (checked every 20 ms). With `input`, that is
/// written to the child's standard input.
pub fn run_with_deadline(
    mut command: Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
    stop: &Control,
) -> Result<Outcome> {
    if stop.stop_requested() {
        return Ok(Outcome::Cancelled { last_line: None });
    }
    let deadline = Instant::now().checked_add(timeout);
    let past = |now: Instant| deadline.is_some_and(|d| now >= d);
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
    let mut last_line = None;
    loop {
        let now = Instant::now();
        if stop.stop_requested() {
            return Ok(Outcome::Cancelled { last_line });
        }
        if past(now) {
            return Ok(Outcome::TimedOut { last_line });
        }
        match lines.recv_timeout(deadline.map_or(STOP_POLL, |d| (d - now).min(STOP_POLL))) {
            Ok(line) => last_line = Some(line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // stdout closed: the child is exiting; it may still be busy, so keep to the deadline.
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
        if stop.stop_requested() {
            return Ok(Outcome::Cancelled { last_line });
        }
        if past(Instant::now()) {
            return Ok(Outcome::TimedOut { last_line });
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

/// Why a child solve gave no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildFailure {
    /// It refused its input (exit 2): its one-line message, without the `partrec: `
    /// prefix and the `-: ` naming its standard input.
    Input(String),
    /// It was killed by this signal (not by the deadline or a cancel, which are answers);
    /// with its last standard-error line, if any.
    Signal {
        /// The signal number.
        signal: i32,
        /// Its last standard-error line, if any (`memory allocation of ... failed`).
        message: Option<String>,
    },
    /// It exited with another code, or with an answer that does not match its exit code.
    Failed {
        /// The exit code.
        code: i32,
        /// Its last standard-error line, if any.
        message: Option<String>,
    },
}

impl ChildFailure {
    /// The exit code `partrec solve --timeout` passes on: 2 for bad input, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            ChildFailure::Input(_) => 2,
            _ => 1,
        }
    }
}

impl std::fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = |m: &Option<String>| m.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
        match self {
            ChildFailure::Input(m) => f.write_str(m),
            ChildFailure::Signal { signal, message } => write!(
                f,
                "the solver was killed by signal {signal}{}{}",
                signal_name(*signal)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                tail(message)
            ),
            ChildFailure::Failed { code, message } => {
                write!(
                    f,
                    "the solver process failed (exit {code}){}",
                    tail(message)
                )
            }
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

/// A child's error line without the `partrec: ` prefix and the `-: ` naming its stdin.
fn own_message(line: &str) -> &str {
    let line = line.strip_prefix("partrec: ").unwrap_or(line);
    line.strip_prefix("-: ").unwrap_or(line)
}

/// Turns the outcome of a child `solve --count LIMIT` run into the answer to report,
/// or why there is none.
///
/// A timeout or a cancel keeps what the child had proven (its last progress line,
/// with its stats) and marks the answer as timed out. With `limit` 1 nothing was
/// counted, so the count fields are left out.
pub fn answer_from_outcome(
    outcome: Outcome,
    limit: u64,
) -> std::result::Result<Solution, ChildFailure> {
    let parse =
        |line: Option<String>| -> Option<Solution> { serde_json::from_str(line.as_deref()?).ok() };
    let mut sol = match outcome {
        Outcome::TimedOut { last_line } | Outcome::Cancelled { last_line } => {
            let mut sol = parse(last_line).unwrap_or_else(|| Solution::new(Status::Unknown));
            sol.stats.timed_out = true;
            if sol.count.is_some() {
                sol.count_complete = Some(false);
            }
            sol
        }
        Outcome::Exited {
            status,
            last_line,
            last_error,
        } => match (status.code(), parse(last_line)) {
            (Some(code), Some(sol)) if code == sol.status.exit_code() => sol,
            (Some(2), _) => {
                return Err(ChildFailure::Input(last_error.as_deref().map_or_else(
                    || "the solver refused its input (exit 2)".to_string(),
                    |m| own_message(m).to_string(),
                )))
            }
            (Some(code), _) => {
                return Err(ChildFailure::Failed {
                    code,
                    message: last_error,
                })
            }
            (None, _) => {
                return Err(match killed_by(&status) {
                    Some(signal) => ChildFailure::Signal {
                        signal,
                        message: last_error,
                    },
                    None => ChildFailure::Failed {
                        code: 1,
                        message: last_error,
                    },
                })
            }
        },
    };
    if limit < 2 {
        (sol.count, sol.count_complete) = (None, None);
    }
    Ok(sol)
}

/// [`answer_from_outcome`] for `partrec solve --timeout`: the failure becomes the exit
/// code to pass on, and its one-line reason has been printed on standard error (by the
/// child itself for bad input, which it prints as it exits 2; here for the others).
pub fn solution_from_outcome(outcome: Outcome, limit: u64) -> std::result::Result<Solution, i32> {
    answer_from_outcome(outcome, limit).map_err(|failure| {
        if !matches!(failure, ChildFailure::Input(_)) {
            let _ = writeln!(std::io::stderr(), "partrec: {failure}");
        }
        failure.exit_code()
    })
}

/// Solves `instance` in a child process (`exe solve - --count LIMIT`) killed at `timeout`
/// or when `stop` is raised; what was proven before that is kept, the rest is unknown.
///
/// A child that refuses the instance gives [`Error::Input`] (origin `-`, the child's own
/// message); one that dies otherwise gives [`Error::Internal`] saying how (signal or
/// exit code, and its last standard-error line).
pub fn solve_in_child(
    exe: &Path,
    instance: &Instance,
    limit: u64,
    timeout: Duration,
    stop: &Control,
) -> Result<Solution> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "solve",
        "-",
        "--count",
        &limit.to_string(),
        "--progress-lines",
    ]);
    answer_from_outcome(
        run_with_deadline(cmd, Some(instance.to_json().into_bytes()), timeout, stop)?,
        limit,
    )
    .map_err(|failure| match failure {
        ChildFailure::Input(message) => Error::input("-", message),
        other => Error::Internal(other.to_string()),
    })
}

/// Decides k-colourability of `graph` by `via` in a child process (`exe color - ...`)
/// killed at `timeout`: an undecided answer then, never a guess.
pub fn decide_in_child(
    exe: &Path,
    graph: &Graph,
    k: u32,
    via: Via,
    timeout: Duration,
) -> Result<ColorAnswer> {
    let start = Instant::now();
    let mut cmd = Command::new(exe);
    cmd.args([
        "color",
        "-",
        "--colors",
        &k.to_string(),
        "--via",
        &via.to_string(),
    ]);
    let never = Control::new();
    match run_with_deadline(cmd, Some(graph.to_col("").into_bytes()), timeout, &never)? {
        Outcome::TimedOut { .. } | Outcome::Cancelled { .. } => Ok(ColorAnswer::timed_out(
            k,
            via,
            start.elapsed().as_secs_f64(),
        )),
        Outcome::Exited {
            status,
            last_line,
            last_error,
        } => {
            let answer: Option<ColorAnswer> = last_line.and_then(|l| serde_json::from_str(&l).ok());
            match answer {
                Some(a) if status.code() == Some(a.exit_code()) => Ok(a),
                _ => Err(Error::Internal(format!(
                    "the colouring process failed ({status}){}",
                    last_error.map(|m| format!(": {m}")).unwrap_or_default()
                ))),
            }
        }
    }
}

/// Solves `instance` under `control`: in this process when the backend can be
/// interrupted (or there is nothing to interrupt: no deadline and `exe` is `None`),
/// else in a child process running `exe`, killed at the deadline or when `control`
/// is stopped. Either way a stop keeps what was proven and marks the rest unknown.
pub fn solve(
    instance: &Instance,
    options: &SolveOptions,
    control: &Control,
    exe: Option<&Path>,
    progress: &mut dyn FnMut(&Solution),
) -> Result<Solution> {
    match exe {
        Some(exe) if !options.backend.interruptible() => {
            let timeout = control.remaining().unwrap_or(Duration::MAX);
            let mut sol = solve_in_child(exe, instance, options.limit, timeout, control)?;
            sol.stats.backend = Some(options.backend);
            Ok(sol)
        }
        _ => crate::solve::solve_with(instance, options, control, progress),
    }
}

/// Decides k-colourability under `control`, in process when the backend can be
/// interrupted (or `exe` is `None`), else in a child process running `exe`.
pub fn decide(
    graph: &Graph,
    k: u32,
    via: Via,
    backend: Backend,
    control: &Control,
    exe: Option<&Path>,
) -> Result<ColorAnswer> {
    match exe {
        Some(exe) if !backend.interruptible() && control.deadline().is_some() => {
            let timeout = control.remaining().unwrap_or(Duration::MAX);
            if timeout.is_zero() {
                return Ok(ColorAnswer::timed_out(k, via, 0.0));
            }
            decide_in_child(exe, graph, k, via, timeout)
        }
        _ => crate::reduction::decide::decide(graph, k, via, backend, control),
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

    #[test]
    fn a_refused_input_keeps_the_childs_message() {
        let mut cmd = Command::new("sh");
        cmd.args([
            "-c",
            "echo 'partrec: -: groups[0].tokens = 9: too many' >&2; exit 2",
        ]);
        let never = Control::new();
        let outcome = run_with_deadline(cmd, None, Duration::from_secs(20), &never).unwrap();
        assert_eq!(
            answer_from_outcome(outcome, 1),
            Err(ChildFailure::Input("groups[0].tokens = 9: too many".into()))
        );
    }

    #[test]
    fn a_signal_is_reported_as_a_signal() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo 'memory allocation failed' >&2; kill -9 $$"]);
        let never = Control::new();
        let outcome = run_with_deadline(cmd, None, Duration::from_secs(20), &never).unwrap();
        let failure = answer_from_outcome(outcome, 1).unwrap_err();
        assert_eq!(
            failure.to_string(),
            "the solver was killed by signal 9 (SIGKILL): memory allocation failed"
        );
        assert_eq!(failure.exit_code(), 1);
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 101"]);
        let outcome = run_with_deadline(cmd, None, Duration::from_secs(20), &never).unwrap();
        assert_eq!(
            answer_from_outcome(outcome, 1).unwrap_err().to_string(),
            "the solver process failed (exit 101)"
        );
    }

    #[test]
    fn a_timeout_keeps_the_last_lines_stats() {
        let mut partial = Solution::new(Status::Unknown);
        partial.stats.samples = 7;
        partial.stats.observed_tokens = vec![3, 2];
        let line = serde_json::to_string(&partial).unwrap();
        let sol = solution_from_outcome(
            Outcome::TimedOut {
                last_line: Some(line),
            },
            2,
        )
        .unwrap();
        assert_eq!(
            (sol.stats.samples, sol.stats.observed_tokens),
            (7, vec![3, 2])
        );
        assert!(sol.stats.timed_out);
    }

    #[test]
    fn a_timeout_without_progress_is_unknown() {
        let sol = solution_from_outcome(Outcome::TimedOut { last_line: None }, 2).unwrap();
        assert_eq!(sol.status, Status::Unknown);
        assert!(sol.stats.timed_out);
    }
}
