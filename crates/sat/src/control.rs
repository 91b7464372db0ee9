//! Stopping a search and watching it: one [`Control`] is shared by the caller,
//! the solve driver and the backend, across threads.
//!
//! A deadline or [`Control::stop`] makes an interruptible backend return
//! [`crate::Outcome::Interrupted`] from the solving thread itself (no
//! process is killed); the driver also looks at the control between its phases
//! and inside the encoder's loops, so that a long encoding stops as well.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A shared stop flag, an optional deadline and live statistics.
#[derive(Clone, Debug, Default)]
pub struct Control(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    stop: AtomicBool,
    deadline: Option<Instant>,
    /// A child also stops when its parent does.
    parent: Option<Control>,
    collect: AtomicBool,
    live: LiveStats,
}

/// What a running solve reports while it runs (read from any thread).
#[derive(Debug, Default)]
pub struct LiveStats {
    phase: AtomicU8,
    learned: AtomicU64,
}

/// The stages of a solve, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading the input (where a front end reads it under the deadline).
    Read,
    /// Reading the samples into the compact form.
    Preprocess,
    /// Class propagation on the samples.
    Propagate,
    /// The statistical warm start (classes estimated from the samples' statistics).
    WarmStart,
    /// The local search for a first partition.
    LocalSearch,
    /// Writing the CNF into the backend.
    Encode,
    /// The first SAT call.
    Search,
    /// Further SAT calls: uniqueness or counting.
    Unique,
    /// Checking an answer.
    Check,
    /// Certifying an answer with a proof.
    Certify,
    /// Finding what every consistent partition agrees on.
    Identify,
}

const PHASES: [Phase; 11] = [
    Phase::Read,
    Phase::Preprocess,
    Phase::Propagate,
    Phase::WarmStart,
    Phase::LocalSearch,
    Phase::Encode,
    Phase::Search,
    Phase::Unique,
    Phase::Check,
    Phase::Certify,
    Phase::Identify,
];

impl Phase {
    /// A short name for progress lines.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Read => "reading",
            Phase::Preprocess => "preprocessing",
            Phase::Propagate => "propagating",
            Phase::WarmStart => "warm start",
            Phase::LocalSearch => "local search",
            Phase::Encode => "encoding",
            Phase::Search => "searching",
            Phase::Unique => "deciding uniqueness",
            Phase::Check => "checking",
            Phase::Certify => "certifying",
            Phase::Identify => "identifying",
        }
    }
}

/// How often [`Control::within`] looks at the control while it waits.
const WITHIN_POLL: Duration = Duration::from_millis(2);

/// The longest time limit accepted (about 31 years): deadlines beyond it would overflow.
pub const MAX_SECONDS: f64 = 1e9;

/// A time limit in seconds, refused unless in (0, [`MAX_SECONDS`]], with an error
/// naming the option `name` (`timeout`, `job_ttl`).
pub fn parse_seconds(secs: f64, name: &'static str) -> partrec_core::error::Result<Duration> {
    let secs = positive_seconds(secs, name)?;
    if secs > MAX_SECONDS {
        return Err(partrec_core::error::Error::param(
            name,
            format!(
                "must be a number of seconds from 0 (exclusive) to {MAX_SECONDS:e}, got {secs}"
            ),
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A time limit in seconds that something else bounds (a server's longest), refused
/// unless it is a number > 0, with an error naming the option `name`.
pub fn positive_seconds(secs: f64, name: &'static str) -> partrec_core::error::Result<f64> {
    if secs > 0.0 {
        Ok(secs)
    } else {
        Err(partrec_core::error::Error::param(
            name,
            format!("must be a number of seconds > 0, got {secs}"),
        ))
    }
}

impl Control {
    /// A control without a deadline, stopped only by [`Control::stop`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A control whose deadline is `timeout` from now (none if `None`).
    pub fn with_timeout(timeout: Option<Duration>) -> Self {
        Self::with_deadline(timeout.and_then(|t| Instant::now().checked_add(t)))
    }

    /// A control with this deadline (none if `None`).
    pub fn with_deadline(deadline: Option<Instant>) -> Self {
        Control(Arc::new(Inner {
            deadline,
            ..Inner::default()
        }))
    }

    /// The same control, also asking the backend to count learnt clauses for
    /// [`LiveStats::learned`] (a small cost per conflict, so off by default).
    /// Every clone shares the setting (it is read when a backend starts a search).
    pub fn collecting(self) -> Self {
        self.root().0.collect.store(true, Ordering::Relaxed);
        self
    }

    /// The control this one is a [`Control::child`] of, transitively (itself if none):
    /// the owner of the live statistics and the collecting flag.
    fn root(&self) -> &Control {
        self.0.parent.as_ref().map_or(self, Control::root)
    }

    /// A control that stops when this one does (or by its own [`Control::stop`], which
    /// leaves this one running), with the same deadline, live statistics and
    /// collecting flag: for one member of a portfolio.
    pub fn child(&self) -> Self {
        Control(Arc::new(Inner {
            deadline: self.0.deadline,
            parent: Some(self.clone()),
            ..Inner::default()
        }))
    }

    /// Asks every search under this control to stop.
    pub fn stop(&self) {
        self.0.stop.store(true, Ordering::Relaxed);
    }

    /// Whether [`Control::stop`] was called (on this control or a parent).
    pub fn stop_requested(&self) -> bool {
        self.0.stop.load(Ordering::Relaxed)
            || self.0.parent.as_ref().is_some_and(Control::stop_requested)
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        self.0.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Whether the work should stop now: stopped or past the deadline.
    pub fn should_stop(&self) -> bool {
        self.stop_requested() || self.expired()
    }

    /// The deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.0.deadline
    }

    /// The time left before the deadline (`None` without one).
    pub fn remaining(&self) -> Option<Duration> {
        self.0
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether backends should count learnt clauses.
    pub fn collects(&self) -> bool {
        self.root().0.collect.load(Ordering::Relaxed)
    }

    /// Runs `work` on a thread of its own and waits for it; if the control has said
    /// stop (its deadline passed, or [`Control::stop`]) for longer than `grace` before
    /// `work` returns, gives up waiting and returns `None`. The thread then runs on
    /// unobserved until `work` notices the stop itself, so `work` must look at this
    /// control; this bounds how late the caller answers even in a step that does not.
    pub fn within<T: Send + 'static>(
        &self,
        grace: Duration,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            let _ = tx.send(done);
        });
        let mut stopped_at: Option<Instant> = None;
        loop {
            match rx.recv_timeout(WITHIN_POLL) {
                Ok(Ok(done)) => return Some(done),
                // A panic is the caller's, as if `work` had run on its own thread.
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            let since = match (self.0.deadline, self.stop_requested()) {
                (_, true) => *stopped_at.get_or_insert(now),
                (Some(d), false) if now >= d => d,
                _ => continue,
            };
            if now.saturating_duration_since(since) >= grace {
                return None;
            }
        }
    }

    /// The live statistics (a child's are its root's).
    pub fn live(&self) -> &LiveStats {
        &self.root().0.live
    }
}

/// Counts work done in a loop and looks at a [`Control`] once every
/// [`Ticker::EVERY`] units of it: for loops whose steps are too cheap to read the
/// clock at each one, however unevenly the work falls on them.
#[derive(Debug)]
pub struct Ticker<'a> {
    control: &'a Control,
    done: u64,
    next: u64,
}

impl<'a> Ticker<'a> {
    /// Units of work between two looks at the control.
    pub const EVERY: u64 = 1 << 14;

    /// A ticker for `control`; the first [`Ticker::tick`] looks at it.
    pub fn new(control: &'a Control) -> Self {
        Ticker {
            control,
            done: 0,
            next: 0,
        }
    }

    /// Records `work` more units; whether the work should stop (looked up only when
    /// [`Ticker::EVERY`] units have passed since the last look).
    pub fn tick(&mut self, work: u64) -> bool {
        self.done = self.done.saturating_add(work);
        if self.done < self.next {
            return false;
        }
        self.next = self.done.saturating_add(Self::EVERY);
        self.control.should_stop()
    }
}

impl LiveStats {
    /// The phase the solve is in.
    pub fn phase(&self) -> Phase {
        PHASES[self.phase.load(Ordering::Relaxed) as usize % PHASES.len()]
    }

    /// Enters `phase`.
    pub fn set_phase(&self, phase: Phase) {
        let i = PHASES.iter().position(|&p| p == phase).unwrap_or(0);
        self.phase.store(i as u8, Ordering::Relaxed);
    }

    /// Clauses learnt so far (0 unless the control is [`Control::collecting`] and the
    /// backend reports them).
    pub fn learned(&self) -> u64 {
        self.learned.load(Ordering::Relaxed)
    }

    /// Counts one learnt clause.
    pub fn add_learned(&self) {
        self.learned.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_on_request_and_at_the_deadline() {
        let c = Control::new();
        assert!(!c.should_stop());
        let other = c.clone();
        other.stop();
        assert!(c.should_stop() && c.stop_requested() && !c.expired());
        // A child stops with its parent, but not the other way round.
        let parent = Control::new();
        let child = parent.child();
        child.stop();
        assert!(child.should_stop() && !parent.should_stop());
        let child = parent.child();
        parent.stop();
        assert!(child.should_stop());
        let d = Control::with_timeout(Some(Duration::ZERO));
        assert!(d.expired() && d.should_stop());
        assert!(!Control::with_timeout(Some(Duration::from_secs(3600))).should_stop());
        assert!(!Control::with_timeout(Some(Duration::MAX)).should_stop());
    }

    #[test]
    fn within_answers_by_the_deadline_and_passes_results_and_panics_on() {
        let grace = Duration::from_millis(20);
        let free = Control::new();
        assert_eq!(free.within(grace, || 7), Some(7));
        // A step that ignores the control: the caller stops waiting after the grace.
        let late = Control::with_timeout(Some(Duration::from_millis(30)));
        let t = Instant::now();
        let stuck = late.within(grace, || std::thread::sleep(Duration::from_secs(5)));
        assert_eq!(stuck, None);
        assert!(t.elapsed() < Duration::from_secs(5));
        // A stop from another thread, likewise.
        let stopped = Control::new();
        let remote = stopped.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            remote.stop();
        });
        assert_eq!(
            stopped.within(grace, || std::thread::sleep(Duration::from_secs(5))),
            None
        );
        let panicked = std::panic::catch_unwind(|| free.within(grace, || panic!("inner")));
        assert!(panicked.is_err());
    }

    #[test]
    fn phases_round_trip() {
        let shared = Control::new();
        let c = shared.clone().collecting();
        assert!(c.collects() && shared.collects());
        for p in PHASES {
            c.live().set_phase(p);
            assert_eq!(c.live().phase(), p);
        }
    }
}
