//! The bounded pool of solver workers: admission, queueing and running off the async threads.
//!
//! At most `workers` solves run at once, each on a blocking thread (solving there, or
//! waiting for its child process: see [`partrec_worker`]); at most `queue` more wait
//! for a turn.
//! A request beyond that is refused at once ([`Pool::admit`] returns `None`, the
//! service answers 503), so memory and latency stay bounded under any load.
//!
//! Each piece of work also reserves the memory it is estimated to need
//! ([`Ticket::needing`]) from the pool's budget before it takes a worker, and holds it
//! until it returns, or gives part of it back once it knows it needs less
//! ([`Reservation::shrink_to`]): the estimates of the solves running at once never sum
//! to more than the budget. Work waits its turn for memory in the order it came, like for a
//! worker.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The pool: worker permits, the memory budget and the admission count.
#[derive(Debug)]
pub struct Pool {
    permits: Arc<Semaphore>,
    /// The memory budget, one permit per KiB.
    memory: Arc<Semaphore>,
    /// The budget in KiB.
    memory_kib: u64,
    admitted: AtomicUsize,
    running: Arc<AtomicUsize>,
    capacity: usize,
}

/// One admitted piece of work, waiting or running; dropping it frees its place.
#[derive(Debug)]
pub struct Ticket {
    pool: Arc<Pool>,
    /// KiB of the memory budget it reserves while it runs.
    need_kib: u32,
}

/// Bytes per permit of the memory budget.
const KIB: u64 = 1024;

/// The memory a running piece of work holds from the pool's budget.
#[derive(Debug)]
pub struct Reservation(Mutex<OwnedSemaphorePermit>);

impl Reservation {
    /// Keeps at most `bytes` of the reservation and gives the rest back to the budget
    /// (a reservation never grows).
    pub fn shrink_to(&self, bytes: u64) {
        let keep = usize::try_from(bytes.div_ceil(KIB)).unwrap_or(usize::MAX);
        let mut permit = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let held = permit.num_permits();
        if keep < held {
            drop(permit.split(held - keep));
        }
    }
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
    /// A pool of `workers` (at least 1) with room for `queue` waiting requests, whose
    /// running work reserves at most `memory` bytes together.
    pub fn new(workers: usize, queue: usize, memory: u64) -> Arc<Pool> {
        let workers = workers.max(1);
        // Whole KiB, at least one, within what a semaphore holds.
        let memory_kib = (memory / KIB).clamp(1, Semaphore::MAX_PERMITS as u64);
        Arc::new(Pool {
            permits: Arc::new(Semaphore::new(workers)),
            memory: Arc::new(Semaphore::new(memory_kib as usize)),
            memory_kib,
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
            .map(|_| Ticket {
                pool: self.clone(),
                need_kib: 0,
            })
    }

    /// The memory budget in bytes.
    pub fn memory(&self) -> u64 {
        self.memory_kib * KIB
    }

    /// Bytes of the memory budget reserved by running work now.
    pub fn memory_reserved(&self) -> u64 {
        let free = self.memory.available_permits() as u64;
        self.memory_kib.saturating_sub(free) * KIB
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
        self.memory.close();
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
    /// This ticket, reserving `bytes` of the pool's memory budget while its work runs
    /// (at most the whole budget: callers refuse work that can never fit before they
    /// admit it).
    pub fn needing(mut self, bytes: u64) -> Ticket {
        let kib = bytes.div_ceil(KIB).min(self.pool.memory_kib);
        self.need_kib = u32::try_from(kib).unwrap_or(u32::MAX);
        self
    }

    /// Waits until `deadline` for its memory (see [`Ticket::needing`]), then for a
    /// worker, calls `on_start`, then runs `work` (given the time left) on a blocking
    /// thread, waiting for it until `late` ([`Turn::Late`] after that). The worker and
    /// the memory (which `work` may shrink) stay taken until `work` returns, even if the
    /// caller stops waiting for it, so never more than `workers` solves run, nor more
    /// than the budget's worth.
    pub async fn run<T: Send + 'static>(
        self,
        deadline: Instant,
        late: Instant,
        on_start: impl FnOnce(),
        work: impl FnOnce(Duration, &Reservation) -> T + Send + 'static,
    ) -> Turn<T> {
        let memory = self.pool.memory.clone();
        let reserved = match acquire(deadline, memory.acquire_many_owned(self.need_kib)).await {
            Ok(reserved) => reserved,
            Err(ended) => return ended,
        };
        let workers = self.pool.permits.clone();
        let permit = match acquire(deadline, workers.acquire_owned()).await {
            Ok(permit) => permit,
            Err(ended) => return ended,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Turn::Expired;
        }
        on_start();
        self.pool.running.fetch_add(1, Ordering::AcqRel);
        let running = Running(self.pool.running.clone());
        let handle = tokio::task::spawn_blocking(move || {
            let reservation = Reservation(Mutex::new(reserved));
            let _held = (permit, running, self);
            work(left, &reservation)
        });
        match tokio::time::timeout_at(late, handle).await {
            Ok(Ok(value)) => Turn::Done(value),
            Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Turn::Late,
        }
    }
}

/// A permit from `acquiring` by `deadline`, or how the turn ended without one: expired,
/// or closed (the pool is shutting down).
async fn acquire<P, T>(
    deadline: Instant,
    acquiring: impl std::future::Future<Output = Result<P, tokio::sync::AcquireError>>,
) -> Result<P, Turn<T>> {
    match tokio::time::timeout_at(deadline, acquiring).await {
        Err(_) => Err(Turn::Expired),
        Ok(Err(_)) => Err(Turn::Closed),
        Ok(Ok(permit)) => Ok(permit),
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
        let pool = Pool::new(1, 2, 1 << 20);
        let tickets: Vec<_> = (0..3).map(|_| pool.admit().expect("room")).collect();
        assert!(pool.admit().is_none());
        assert_eq!(pool.queued(), 3);
        drop(tickets);
        assert!(pool.admit().is_some());
    }

    #[tokio::test]
    async fn runs_work_and_expires_waiters() {
        let pool = Pool::new(1, 1, 1 << 20);
        let long = pool.admit().unwrap();
        let waiter = pool.admit().unwrap();
        let far = Instant::now() + Duration::from_secs(30);
        let first = tokio::spawn(long.run(
            far,
            far,
            || {},
            |_, _| {
                std::thread::sleep(Duration::from_millis(300));
                7
            },
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.running(), 1);
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(waiter.run(soon, soon, || {}, |_, _| 8).await, Turn::Expired);
        assert_eq!(first.await.unwrap(), Turn::Done(7));
        assert_eq!((pool.running(), pool.queued()), (0, 0));
        // Work still running when the caller stops waiting holds its worker to the end.
        let slow = pool.admit().unwrap();
        let soon = Instant::now() + Duration::from_millis(50);
        let turn = slow.run(
            far,
            soon,
            || {},
            |_, _| {
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

    #[tokio::test]
    async fn running_work_never_reserves_more_than_the_budget() {
        // Two workers, 10 KiB: work needing 6 KiB runs alone, whatever the workers.
        let pool = Pool::new(2, 4, 10 * KIB);
        assert_eq!((pool.memory(), pool.memory_reserved()), (10 * KIB, 0));
        let far = Instant::now() + Duration::from_secs(30);
        let big = pool.admit().unwrap().needing(6 * KIB);
        let first = tokio::spawn(big.run(
            far,
            far,
            || {},
            |_, _| std::thread::sleep(Duration::from_millis(300)),
        ));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(pool.memory_reserved(), 6 * KIB);
        // A second one waits for the memory although a worker is free: it expires.
        let second = pool.admit().unwrap().needing(6 * KIB);
        let soon = Instant::now() + Duration::from_millis(50);
        assert_eq!(
            second.run(soon, soon, || {}, |_, _| ()).await,
            Turn::Expired
        );
        // Small work fits beside it and runs at once.
        let small = pool.admit().unwrap().needing(4 * KIB);
        let soon = Instant::now() + Duration::from_millis(100);
        assert_eq!(small.run(soon, soon, || {}, |_, _| 5).await, Turn::Done(5));
        first.await.unwrap();
        // The first returned: its memory is free again, and a waiter gets it.
        assert_eq!(pool.memory_reserved(), 0);
        let third = pool.admit().unwrap().needing(6 * KIB);
        assert_eq!(third.run(far, far, || {}, |_, _| 6).await, Turn::Done(6));
        // More than the budget is reserved as the whole budget (callers refuse it first).
        let huge = pool.admit().unwrap().needing(u64::MAX);
        assert_eq!(huge.run(far, far, || {}, |_, _| 7).await, Turn::Done(7));
        // Work that learns it needs less gives the rest back while it runs.
        let shrinking = pool.admit().unwrap().needing(10 * KIB);
        let watched = pool.clone();
        let seen = shrinking
            .run(
                far,
                far,
                || {},
                move |_, reservation| {
                    let before = watched.memory_reserved();
                    reservation.shrink_to(3 * KIB);
                    let after = watched.memory_reserved();
                    reservation.shrink_to(5 * KIB);
                    (before, after, watched.memory_reserved())
                },
            )
            .await;
        assert_eq!(seen, Turn::Done((10 * KIB, 3 * KIB, 3 * KIB)));
        assert_eq!(pool.memory_reserved(), 0);
    }
}
