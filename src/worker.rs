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

use crate::coloring::{ColorAnswer, Via};
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::instance::Instance;
use crate::solution::{Solution, Status};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a child run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The child exited by itself; `last_line` is its last complete stdout line.
    Exited {
        /// Its exit status.
        status: ExitStatus,
        /// Its last complete line on stdout, if any.
        last_line: Option<String>,
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
    stop: &AtomicBool,
) -> Result<Outcome> {
    if stop.load(Ordering::Relaxed) {
        return Ok(Outcome::Cancelled { last_line: None });
    }
    let deadline = Instant::now() + timeout;
    command.stdout(Stdio::piped()).env(SUPERVISED, "1");
    if input.is_some() {
        command.stdin(Stdio::piped());
    }
    let child = command
        .spawn()
        .map_err(|e| Error::Internal(format!("cannot start the solver process: {e}")))?;
    let mut child = KillOnDrop(child);
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
        if stop.load(Ordering::Relaxed) {
            return Ok(Outcome::Cancelled { last_line });
        }
        if now >= deadline {
            return Ok(Outcome::TimedOut { last_line });
        }
        match lines.recv_timeout((deadline - now).min(STOP_POLL)) {
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
            return Ok(Outcome::Exited { status, last_line });
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Outcome::Cancelled { last_line });
        }
        if Instant::now() >= deadline {
            return Ok(Outcome::TimedOut { last_line });
        }
        std::thread::sleep(Duration::from_millis(2));
    }
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
/// A background thread notices that the process was re-parented and exits.
pub fn exit_when_orphaned() {
    if std::env::var_os(SUPERVISED).is_none() {
        return;
    }
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        std::thread::spawn(move || loop {
            std::thread::sleep(ORPHAN_POLL);
            if std::os::unix::process::parent_id() != parent {
                std::process::exit(1);
            }
        });
    }
}

/// Turns the outcome of a child `solve --count LIMIT` run into the answer to report.
///
/// A child that exited 2 has already printed its one-line error; this returns
/// `Err` with the exit code to pass on. A timeout or a cancel keeps what the
/// child had proven (its last progress line) and marks the answer as timed out.
/// With `limit` 1 nothing was counted, so the count fields are left out.
pub fn solution_from_outcome(outcome: Outcome, limit: u64) -> std::result::Result<Solution, i32> {
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
        Outcome::Exited { status, last_line } => match (status.code(), parse(last_line)) {
            (Some(code), Some(sol)) if code == sol.status.exit_code() => sol,
            (Some(2), _) => return Err(2),
            _ => return Err(1),
        },
    };
    if limit < 2 {
        (sol.count, sol.count_complete) = (None, None);
    }
    Ok(sol)
}

/// Solves `instance` in a child process (`exe solve - --count LIMIT`) killed at `timeout`
/// or when `stop` is raised; what was proven before that is kept, the rest is unknown.
pub fn solve_in_child(
    exe: &Path,
    instance: &Instance,
    limit: u64,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Solution> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "solve",
        "-",
        "--count",
        &limit.to_string(),
        "--progress-lines",
    ]);
    cmd.stderr(Stdio::inherit());
    solution_from_outcome(
        run_with_deadline(cmd, Some(instance.to_json().into_bytes()), timeout, stop)?,
        limit,
    )
    .map_err(|code| Error::Internal(format!("the solver process failed (exit {code})")))
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
    cmd.stderr(Stdio::inherit());
    let never = AtomicBool::new(false);
    match run_with_deadline(cmd, Some(graph.to_col("").into_bytes()), timeout, &never)? {
        Outcome::TimedOut { .. } | Outcome::Cancelled { .. } => Ok(ColorAnswer::timed_out(
            k,
            via,
            start.elapsed().as_secs_f64(),
        )),
        Outcome::Exited { status, last_line } => {
            let answer: Option<ColorAnswer> = last_line.and_then(|l| serde_json::from_str(&l).ok());
            match answer {
                Some(a) if status.code() == Some(a.exit_code()) => Ok(a),
                _ => Err(Error::Internal(format!(
                    "the colouring process failed ({status})"
                ))),
            }
        }
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
        let never = AtomicBool::new(false);
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
        let never = AtomicBool::new(false);
        match run_with_deadline(
            cmd,
            Some(b"done\n".to_vec()),
            Duration::from_secs(20),
            &never,
        )
        .unwrap()
        {
            Outcome::Exited { status, last_line } => {
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
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let raise = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            raise.store(true, Ordering::Relaxed);
        });
        let t = Instant::now();
        match run_with_deadline(cmd, None, Duration::from_secs(60), &stop).unwrap() {
            Outcome::Cancelled { last_line } => assert_eq!(last_line.as_deref(), Some("started")),
            other => panic!("expected a cancel, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(30));
    }

    #[test]
    fn a_timeout_without_progress_is_unknown() {
        let sol = solution_from_outcome(Outcome::TimedOut { last_line: None }, 2).unwrap();
        assert_eq!(sol.status, Status::Unknown);
        assert!(sol.stats.timed_out);
    }
}
