//! The bounded pool of solver workers: admission, queueing and running off the async threads.
//!
//! At most `workers` solves run at once, each on a blocking thread (solving there, or
//! waiting for its child process: see [`partrec_worker`]); at most `queue` more wait
//! for a turn.
//! A request beyond that is refused at once ([`Pool::admit`] returns `None`, the
//! service answers 503), so memory and latency stay bounded under any load.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The pool: worker permits and the admission count.
#[derive(Debug)]
pub struct Pool {
    permits: Arc<Semaphore>,
    admitted: AtomicUsize,
    running: Arc<AtomicUsize>,
    capacity: usize,
}

/// One admitted piece of work, waiting or running; dropping it frees its place.
#[derive(Debug)]
pub struct Ticket {
    pool: Arc<Pool>,
}

/// How a ticket's turn ended.
#[derive(Debug, PartialEq)]
pub enum Turn<T> {
    /// The work ran and returned this.
    Done(T),
    /// The deadline passed while it waited for a worker; it never started.
    Expired,
    /// The pool closed (the server is shutting down) before it started.
    Closed,
    /// The work started but had not returned by the time the caller stopped waiting
    /// (`late`); it runs on, holding its worker, until it notices its own stop.
    Late,
}

impl Pool {
    /// A pool of `workers` (at least 1) with room for `queue` waiting requests.
    pub fn new(workers: usize, queue: usize) -> Arc<Pool> {
        let workers = workers.max(1);
        Arc::new(Pool {
            permits: Arc::new(Semaphore::new(workers)),
            admitted: AtomicUsize::new(0),
            running: Arc::new(AtomicUsize::new(0)),
            capacity: workers + queue,
        })
    }

    /// A place in the pool, or `None` when all workers are busy and the queue is full,
    /// or the pool is closed.
    pub fn admit(self: &Arc<Self>) -> Option<Ticket> {
        if self.permits.is_closed() {
            return None;
        }
        self.admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity).then_some(n + 1)
            })
            .ok()
            .map(|_| Ticket { pool: self.clone() })
    }

    /// Solves running now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Acquire)
    }

    /// Admitted work waiting for a worker.
    pub fn queued(&self) -> usize {
        self.admitted
            .load(Ordering::Acquire)
            .saturating_sub(self.running())
    }

    /// Stops admitting and starting work; work already running finishes.
    pub fn close(&self) {
        self.permits.close();
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pool.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Decrements the running count when the blocking work ends, however it ends.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Ticket {
    /// Waits for a worker until `deadline`, calls `on_start`, then runs `work` (given the
    /// time left) on a blocking thread, waiting for it until `late` ([`Turn::Late`]
    /// after that). The worker stays taken until `work` returns, even if the caller
    /// stops waiting for it, so never more than `workers` solves run.
    pub async fn run<T: Send + 'static>(
        self,
        deadline: Instant,
        late: Instant,
        on_start: impl FnOnce(),
        work: impl FnOnce(Duration) -> T + Send + 'static,
    ) -> Turn<T> {
        let permit = match tokio::time::timeout_at(
            deadline,
            self.pool.permits.clone().acquire_owned(),
        )
        .await
        {
            Err(_) => return Turn::Expired,
            Ok(Err(_)) => return Turn::Closed,
            Ok(Ok(permit)) => permit,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Turn::Expired;
        }
        on_start();
        self.pool.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.pool.running.clone());
        let handle = tokio::task::spawn_blocking(move || {
            let _held = (permit, running, self);
            work(left)
        });
        match tokio::time::timeout_at(late, handle).await {
            Ok(Ok(value)) => Turn::Done(value),
            Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Turn::Late,
        }
    }
}

/// Raises a stop flag when dropped: a solve whose requester went away stops at once.
#[derive(Debug)]
pub struct StopOnDrop(pub partrec_sat::Control);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn admits_workers_plus_queue_then_refuses() {
        let pool = Pool::new(1, 2);
        let tickets: Vec<_> = (0..3).map(|_| pool.admit().expect("room")).collect();
        assert!(pool.admit().is_none());
        assert_eq!(pool.queued(), 3);
        drop(tickets);
        assert!(pool.admit().is_some());
    }

    #[tokio::test]
    async fn runs_work_and_expires_waiters() {
        let pool = Pool::new(1, 1);
        let long = pool.admit().unwrap();
        let waiter = pool.admit().unwrap();
        let far = Instant::now() + Duration::from_secs(30);
        let first = tokio::spawn(long.run(
            far,
            far,
            || {},
            |_| {
                std::thread::sleep(Duration::from_millis(300));
                7
            },
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.running(), 1);
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(waiter.run(soon, soon, || {}, |_| 8).await, Turn::Expired);
        assert_eq!(first.await.unwrap(), Turn::Done(7));
        assert_eq!((pool.running(), pool.queued()), (0, 0));
        // Work still running when the caller stops waiting holds its worker to the end.
        let slow = pool.admit().unwrap();
        let soon = Instant::now() + Duration::from_millis(50);
        let turn = slow.run(
            far,
            soon,
            || {},
            |_| {
                std::thread::sleep(Duration::from_millis(300));
            },
        );
        assert_eq!(turn.await, Turn::Late);
        assert_eq!(pool.running(), 1);
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(pool.running(), 0);
        pool.close();
        assert!(pool.admit().is_none());
    }
}
