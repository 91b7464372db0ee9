//! The store of background solve jobs (`/v1/jobs`): their states, results, TTL and cap.
//!
//! A job is pending until a worker takes it, running while it is solved, then done
//! (or failed). A finished job is kept until its result is
//! fetched once or its TTL passes; at most `cap` jobs are stored at a time, and
//! their answers take at most `budget` bytes together (an answer lists a class per
//! declared token, so a tiny request can have a large answer: one that does not fit
//! beside those waiting is dropped and the job fails, saying so).
//! Cancelling a job stops its [`Control`]: the solve stops (a child process is killed).

use partrec_sat::Control;
use partrec_solve::solution::Solution;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a job is in its life.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker.
    Pending,
    /// A worker is solving it.
    Running,
    /// Finished with this answer.
    Done {
        /// The solution, exactly as `/v1/solve` would answer.
        result: Box<Solution>,
    },
    /// Finished without an answer.
    Failed {
        /// Why.
        error: String,
    },
}

impl JobState {
    fn finished(&self) -> bool {
        matches!(self, JobState::Done { .. } | JobState::Failed { .. })
    }
}

#[derive(Debug)]
struct Job {
    state: JobState,
    stop: Control,
    finished_at: Option<Instant>,
}

/// The job store.
#[derive(Debug)]
pub struct Jobs {
    jobs: Mutex<HashMap<String, Job>>,
    ttl: Duration,
    cap: usize,
    budget: usize,
}

/// How many bytes a stored answer takes: twice the length of the JSON it is served as
/// (held as a structure, its lists of small numbers take about twice their text), with
/// everything it carries (partitions, table, names, identified blocks, a certificate's
/// CNF and proof), counted without building the text.
pub fn answer_bytes(solution: &Solution) -> usize {
    /// A writer that only counts.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Serializing a solution into a counter cannot fail; if it did, count it as huge.
    match serde_json::to_writer(&mut count, solution) {
        Ok(()) => count.0.saturating_mul(2),
        Err(_) => usize::MAX,
    }
}

/// What [`Jobs::fetch`] and [`Jobs::cancel`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// No such job (never created, already fetched, cancelled or expired).
    Missing,
    /// The job's state (a finished job is removed by the lookup).
    Found(JobState),
}

impl Jobs {
    /// A store keeping finished results for `ttl`, holding at most `cap` jobs whose
    /// answers take at most `budget` bytes together (see [`answer_bytes`]).
    pub fn new(ttl: Duration, cap: usize, budget: usize) -> Jobs {
        Jobs {
            jobs: Mutex::new(HashMap::new()),
            ttl,
            cap,
            budget,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        // A panic elsewhere cannot leave the map half-updated: every update is one statement.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops finished jobs older than the TTL.
    fn purge(&self, jobs: &mut HashMap<String, Job>) {
        let ttl = self.ttl;
        jobs.retain(|_, job| job.finished_at.is_none_or(|t| t.elapsed() < ttl));
    }

    /// Stores a new pending job under `id` with its stop flag; `false` when the store is full.
    pub fn insert(&self, id: &str, stop: Control) -> bool {
        let mut jobs = self.lock();
        self.purge(&mut jobs);
        if jobs.len() >= self.cap {
            return false;
        }
        jobs.insert(
            id.to_string(),
            Job {
                state: JobState::Pending,
                stop,
                finished_at: None,
            },
        );
        true
    }

    /// Moves a job to `state` (if it still exists: a cancelled job is gone). An answer
    /// that does not fit in the budget beside those stored makes the job fail instead.
    pub fn update(&self, id: &str, mut state: JobState) {
        let mut jobs = self.lock();
        if let JobState::Done { result } = &state {
            self.purge(&mut jobs);
            let stored: usize = jobs
                .values()
                .filter_map(|job| match &job.state {
                    JobState::Done { result } => Some(answer_bytes(result)),
                    _ => None,
                })
                .sum();
            let size = answer_bytes(result);
            if stored.saturating_add(size) > self.budget {
                let mb = |b: usize| b as f64 / (1024.0 * 1024.0);
                state = JobState::Failed {
                    error: format!(
                        "the answer ({:.1} MB) does not fit beside the {:.1} MB of answers waiting to be fetched (the job store keeps {:.1} MB, 16 x --max-body-mb); fetch results sooner, or use /v1/solve",
                        mb(size),
                        mb(stored),
                        mb(self.budget)
                    ),
                };
            }
        }
        if let Some(job) = jobs.get_mut(id) {
            if state.finished() {
                job.finished_at = Some(Instant::now());
            }
            job.state = state;
        }
    }

    /// The job's state; a finished job is handed out once and then removed.
    pub fn fetch(&self, id: &str) -> Lookup {
        let mut jobs = self.lock();
        self.purge(&mut jobs);
        match jobs.get(id) {
            None => Lookup::Missing,
            Some(job) if job.state.finished() => {
                Lookup::Found(jobs.remove(id).expect("present").state)
            }
            Some(job) => Lookup::Found(job.state.clone()),
        }
    }

    /// Removes the job, stopping its solve if it is still pending or running.
    pub fn cancel(&self, id: &str) -> Lookup {
        let mut jobs = self.lock();
        self.purge(&mut jobs);
        match jobs.remove(id) {
            None => Lookup::Missing,
            Some(job) => {
                job.stop.stop();
                Lookup::Found(job.state)
            }
        }
    }

    /// Stops every unfinished job (at shutdown).
    pub fn cancel_all(&self) {
        for job in self.lock().values() {
            job.stop.stop();
        }
    }

    /// Jobs stored now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no job is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_solve::solution::Status;

    fn flag() -> Control {
        Control::new()
    }

    #[test]
    fn a_job_lives_pending_running_done_then_is_fetched_once() {
        let jobs = Jobs::new(Duration::from_secs(60), 10, 1 << 20);
        assert!(jobs.insert("a", flag()));
        assert_eq!(jobs.fetch("a"), Lookup::Found(JobState::Pending));
        jobs.update("a", JobState::Running);
        assert_eq!(jobs.fetch("a"), Lookup::Found(JobState::Running));
        let done = JobState::Done {
            result: Box::new(Solution::new(Status::Sat)),
        };
        jobs.update("a", done.clone());
        assert_eq!(jobs.fetch("a"), Lookup::Found(done));
        assert_eq!(jobs.fetch("a"), Lookup::Missing);
    }

    #[test]
    fn cancel_raises_the_stop_flag_and_removes_the_job() {
        let jobs = Jobs::new(Duration::from_secs(60), 10, 1 << 20);
        let stop = flag();
        jobs.insert("a", stop.clone());
        assert_eq!(jobs.cancel("a"), Lookup::Found(JobState::Pending));
        assert!(stop.stop_requested());
        assert_eq!(jobs.cancel("a"), Lookup::Missing);
        jobs.update("a", JobState::Running);
        assert!(jobs.is_empty());
    }

    #[test]
    fn answers_beyond_the_byte_budget_fail_the_job() {
        let big = |tokens: usize| {
            let mut s = Solution::new(Status::Sat);
            s.partition = Some(vec![vec![0; tokens]]);
            JobState::Done {
                result: Box::new(s),
            }
        };
        let (one, two) = (answer(&big(1000)), answer(&big(2000)));
        // Room for two small answers, not for a small and a large one.
        let jobs = Jobs::new(Duration::from_secs(60), 10, 2 * one + 10);
        assert!(one + two > 2 * one + 10);
        for id in ["a", "b", "c"] {
            assert!(jobs.insert(id, flag()));
        }
        jobs.update("a", big(1000));
        jobs.update("b", big(1000));
        assert!(matches!(
            jobs.fetch("a"),
            Lookup::Found(JobState::Done { .. })
        ));
        jobs.update("c", big(2000));
        match jobs.fetch("c") {
            Lookup::Found(JobState::Failed { error }) => {
                assert!(error.contains("fetch results sooner"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            jobs.fetch("b"),
            Lookup::Found(JobState::Done { .. })
        ));
    }

    /// The bytes of a finished job's answer.
    fn answer(state: &JobState) -> usize {
        match state {
            JobState::Done { result } => answer_bytes(result),
            _ => 0,
        }
    }

    #[test]
    fn a_certificate_counts_towards_the_budget() {
        let mut s = Solution::new(Status::Unsat);
        let bare = answer_bytes(&s);
        s.certificate = Some(partrec_solve::proof::Certified {
            entry: partrec_solve::proof::Entry {
                claim: partrec_solve::proof::ClaimKind::Unsat,
                cnf: "unsat.cnf".into(),
                proof: "unsat.drat".into(),
                format: "drat".into(),
                rests_on: Vec::new(),
                partitions: Vec::new(),
                count: 0,
            },
            dimacs: "1 0\n".repeat(250_000),
            drat: "0\n".repeat(250_000),
        });
        let with = answer_bytes(&s);
        assert!(with >= bare + 3_000_000, "{bare} {with}");
        assert_eq!(with, 2 * serde_json::to_string(&s).unwrap().len());
    }

    #[test]
    fn the_cap_holds_and_expired_results_make_room() {
        let jobs = Jobs::new(Duration::from_millis(50), 2, 1 << 20);
        assert!(jobs.insert("a", flag()));
        assert!(jobs.insert("b", flag()));
        assert!(!jobs.insert("c", flag()));
        jobs.update("a", JobState::Failed { error: "x".into() });
        assert!(!jobs.insert("c", flag()));
        std::thread::sleep(Duration::from_millis(80));
        assert!(jobs.insert("c", flag()));
        assert_eq!(jobs.fetch("a"), Lookup::Missing);
        assert_eq!(jobs.len(), 2);
    }
}
