//! What a long command shows on a terminal while it runs: a spinner line on
//! standard error, cleared before the summary line.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use partrec::sat::Control;
use partrec::Solution;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the live line is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

/// Whether standard error is a terminal that wants progress (not under `NO_COLOR`).
pub fn terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// The control for a solve with this `timeout`; it counts learnt clauses only when
/// they will be `shown` (counting costs a little per conflict).
pub fn control(timeout: Option<Duration>, shown: bool) -> Control {
    let control = Control::with_timeout(timeout);
    if shown {
        control.collecting()
    } else {
        control
    }
}

/// Runs `work` and, when `shown`, a line on standard error redrawn four times a second
/// with the seconds elapsed, the solve's phase and the clauses learnt so far (when the
/// backend reports them). The line is cleared and its thread ended before this returns.
pub fn watch<T>(control: &Control, shown: bool, work: impl FnOnce() -> T) -> T {
    if !shown {
        return work();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("a valid template"));
    let done = AtomicBool::new(false);
    let start = Instant::now();
    let result = std::thread::scope(|scope| {
        let drawer = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let live = control.live();
                let learned = live.learned();
                let mut message = format!(
                    "{:.1} s, {}",
                    start.elapsed().as_secs_f64(),
                    live.phase().name()
                );
                if learned > 0 {
                    message.push_str(&format!(", {learned} learnt clauses"));
                }
                bar.set_message(message);
                bar.tick();
                std::thread::park_timeout(REDRAW);
            }
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        drawer.thread().unpark();
        result
    });
    bar.finish_and_clear();
    result
}

/// How long past the deadline a command waits for its solve to notice it before
/// answering with what was proven so far.
pub const GRACE: Duration = Duration::from_millis(40);

/// Runs a solve (`work`, given the control and a progress callback) under
/// [`watch`], and holds the deadline whatever the solve is doing: if it has not
/// returned [`GRACE`] after the control said stop, the answer is its last progress
/// (what was proven by then), marked unknown as a stopped solve's answer is
/// ([`partrec::worker::stopped`]). The solve's thread ends with the process.
pub fn bounded(
    control: &Control,
    shown: bool,
    limit: u64,
    work: impl FnOnce(&Control, &mut dyn FnMut(&Solution)) -> partrec::Result<Solution> + Send + 'static,
) -> partrec::Result<Solution> {
    let latest: Arc<Mutex<Option<Solution>>> = Arc::default();
    let (mine, seen) = (control.clone(), latest.clone());
    let done = watch(control, shown, || {
        control.within(GRACE, move || {
            work(&mine, &mut |s: &Solution| {
                if let Ok(mut last) = seen.lock() {
                    *last = Some(s.clone());
                }
            })
        })
    });
    match done {
        Some(answer) => answer,
        None => {
            let last = latest.lock().ok().and_then(|mut l| l.take());
            let phase = control.live().phase();
            // Progress after reading came from a solve in a child process, whose phase
            // this process does not follow: then the phase is not known.
            let known = last.is_none() || phase != partrec::sat::Phase::Read;
            let mut answer = partrec::worker::stopped(last, limit);
            answer.stats.stopped_in = known.then(|| phase.name().to_string());
            Ok(answer)
        }
    }
}

/// A one-line live status on standard error for callers that report their own
/// progress (hidden unless `shown`).
pub fn status(shown: bool) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.enable_steady_tick(REDRAW);
    bar
}

/// A bar of `len` steps on standard error (hidden unless `shown`).
pub fn bar(len: usize, shown: bool) -> ProgressBar {
    let target = if shown {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} points, ETA {eta} {msg}")
            .expect("a valid template"),
    );
    bar
}
