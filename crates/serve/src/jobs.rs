//! The store of background solve jobs (`/v1/jobs`): an SQLite database, [`FILE`] in the
//! data folder (`--data-dir`), or in memory (`--data-dir :memory:`).
//!
//! A job is pending until a worker takes it, running while it is solved, then done,
//! failed or interrupted. Every change of state is one transaction, on disk before the
//! call returns (write-ahead log, `synchronous=FULL`), so that however the server ends,
//! even killed, the next start on the same folder finds every job as it last was:
//! - a finished job (done, failed, interrupted) waits to be fetched once, until its TTL,
//!   counted in wall-clock time from when it finished, has passed;
//! - a pending job runs, from the request body stored with it;
//! - a job that was running is queued again, once: one that had already been queued
//!   again after a kill becomes interrupted, with the last partial answer its solve
//!   reported (stored while it ran, see [`Jobs::progress`]).
//!
//! A shutdown ([`Jobs::shutdown`]) stops the solves and puts their jobs back to pending,
//! for the next start; cancelling a job ([`Jobs::cancel`]) stops its solve (a child
//! process is killed) and removes it.
//!
//! At most `cap` jobs are stored at a time, and their answers take at most `budget` bytes
//! together (an answer lists a class per declared token, so a tiny request can have a
//! large answer: one that does not fit beside those waiting is dropped and the job
//! fails, saying so). A job belongs to the client that created it
//! ([`crate::client::Client`], or none): to any other it does not exist. One server at a
//! time uses a database: it holds it locked (SQLite's exclusive locking mode) while it runs.

use axum::body::Bytes;
use partrec_core::error::{Error, Result};
use partrec_sat::Control;
use partrec_solve::solution::Solution;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The database's file name in the data folder.
pub const FILE: &str = "jobs.sqlite3";

/// The layout of the database this version reads and writes (`PRAGMA user_version`);
/// a database of another layout is refused.
pub const SCHEMA_VERSION: i32 = 1;

/// Marks a database as partrec's job store (`PRAGMA application_id`, "prjb").
const APPLICATION_ID: i32 = 0x7072_6a62;

/// The jobs table. `body` is the request as received (with its `content_type` and
/// `query`), kept while the job is unfinished;
/// `answer` the JSON of its result (done), of its last partial answer (running,
/// interrupted); `answer_bytes` what a finished answer counts against the budget;
/// `lost_runs` how many of its runs were cut off by the server being killed; the
/// times are milliseconds since the Unix epoch.
const SCHEMA: &str = "
CREATE TABLE jobs (
    id TEXT PRIMARY KEY NOT NULL,
    owner TEXT,
    state TEXT NOT NULL
        CHECK (state IN ('pending', 'running', 'done', 'failed', 'interrupted')),
    body BLOB,
    content_type TEXT,
    query TEXT,
    lost_runs INTEGER NOT NULL DEFAULT 0,
    answer TEXT,
    answer_bytes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_ms INTEGER NOT NULL,
    finished_ms INTEGER
) STRICT;
CREATE INDEX jobs_by_state ON jobs (state, created_ms);
";

/// A job's state with its id, as `GET /v1/jobs/{id}` answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobAnswer {
    /// The job's id.
    pub id: String,
    /// Its state, and what goes with it.
    #[serde(flatten)]
    pub state: JobState,
}

/// A solve request as it was sent: what it takes to read it again after a restart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Submission {
    /// Its media type (`Content-Type` without parameters), if it named one.
    pub content_type: Option<String>,
    /// Its query string, if any.
    pub query: Option<String>,
    /// Its body.
    pub body: Bytes,
}

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
    /// The server was killed while it solved this job, twice: it is not run again.
    Interrupted {
        /// What happened.
        error: String,
        /// What the solve had proven by then, as `/v1/solve` answers a solve stopped
        /// at its deadline; `null` when it had reported nothing yet.
        partial: Option<Box<Solution>>,
    },
}

/// What [`Jobs::fetch`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// No such job of this client's (never created, already fetched, cancelled or expired).
    Missing,
    /// The job's state (a finished job is removed by the lookup).
    Found(JobState),
}

/// What [`Jobs::cancel`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancelled {
    /// No such job of this client's.
    Missing,
    /// The job was pending or running: its solve was stopped and the job removed.
    Stopped,
    /// The job had finished: its result was removed.
    Deleted,
}

/// The job store.
#[derive(Debug)]
pub struct Jobs {
    db: Mutex<Db>,
    /// The stop flags of the jobs this server has started or will start.
    live: Mutex<HashMap<String, Control>>,
    /// Jobs stored after the last transaction.
    stored: AtomicUsize,
    ttl: Duration,
    cap: usize,
    budget: usize,
    location: String,
}

#[derive(Debug)]
struct Db {
    conn: Connection,
    /// Set by [`Jobs::shutdown`]: what solves still report changes nothing.
    closing: bool,
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A job database failure while the server runs.
fn failed(e: rusqlite::Error) -> Error {
    Error::Internal(format!("the job database failed: {e}"))
}

/// A count as SQLite stores it.
fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Why the database `file` cannot be used, in a user's terms.
fn refusal(file: &str, e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "{file} is in use by another partrec serve (one server per data folder: stop it, or give another --data-dir)"
        ),
        Some(ErrorCode::NotADatabase) => format!(
            "{file} is not a partrec job database ({e}); move it away, or give another --data-dir"
        ),
        Some(ErrorCode::DatabaseCorrupt) => {
            format!("{file} is damaged ({e}); move it away to start with no jobs")
        }
        _ => format!("cannot open the job database {file}: {e}"),
    }
}

/// The message of an interrupted job.
const INTERRUPTED: &str = "the server was killed while it solved this job, for the second time; the job is not run again (partial: what the solve had proven by then)";

impl Jobs {
    /// Opens (creating it if need be) the job store in the folder `dir` (created too), or
    /// in memory when `None`, keeping finished results for `ttl`, at most `cap` jobs whose
    /// answers take at most `budget` bytes together. Jobs that were running when the
    /// previous server was killed are queued again once, else interrupted.
    ///
    /// A database that another server holds, that cannot be opened, is damaged, is not
    /// partrec's or has another [`SCHEMA_VERSION`] is refused with one line naming
    /// `--data-dir` ([`Error::Usage`]).
    pub fn open(dir: Option<&Path>, ttl: Duration, cap: usize, budget: usize) -> Result<Jobs> {
        let flag = dir.map_or_else(
            || crate::config::IN_MEMORY.to_string(),
            |d| d.display().to_string(),
        );
        // One line, whatever SQLite's message holds.
        let refuse = |why: String| {
            let why = why.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            Error::Usage(format!("--data-dir {flag}: {why}"))
        };
        let (conn, location) = match dir {
            None => (
                Connection::open_in_memory(),
                crate::config::IN_MEMORY.to_string(),
            ),
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| refuse(format!("cannot create the folder: {e}")))?;
                let file = dir.join(FILE);
                (Connection::open(&file), file.display().to_string())
            }
        };
        let mut conn = conn.map_err(|e| refuse(refusal(&location, &e)))?;
        let stored = prepare(&mut conn, &location, ttl)
            .map_err(|e| refuse(e.unwrap_or_else(|e| refusal(&location, &e))))?;
        Ok(Jobs {
            db: Mutex::new(Db {
                conn,
                closing: false,
            }),
            live: Mutex::new(HashMap::new()),
            stored: AtomicUsize::new(stored),
            ttl,
            cap,
            budget,
            location,
        })
    }

    /// Where the jobs are kept: the database file, or `:memory:`.
    pub fn location(&self) -> &str {
        &self.location
    }

    fn db(&self) -> MutexGuard<'_, Db> {
        // A panic cannot leave the database half-updated: an unfinished transaction
        // rolls back when it is dropped.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self) -> MutexGuard<'_, HashMap<String, Control>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commits `tx`, noting how many jobs are stored then.
    fn commit(&self, tx: Transaction<'_>) -> Result<()> {
        let n = count(&tx).map_err(failed)?;
        tx.commit().map_err(failed)?;
        self.stored.store(n, Ordering::Release);
        Ok(())
    }

    /// Stores a new pending job `id` of `owner` (the client's name, if any) with its
    /// request and its solve's `stop` flag; `false` when the store is full.
    pub fn insert(
        &self,
        id: &str,
        owner: Option<&str>,
        request: &Submission,
        stop: Control,
    ) -> Result<bool> {
        let mut db = self.db();
        let tx = db.conn.transaction().map_err(failed)?;
        purge(&tx, self.ttl).map_err(failed)?;
        if count(&tx).map_err(failed)? >= self.cap {
            self.commit(tx)?;
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO jobs (id, owner, state, body, content_type, query, created_ms)
             VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6)",
            params![
                id,
                owner,
                &request.body[..],
                request.content_type,
                request.query,
                now_ms()
            ],
        )
        .map_err(failed)?;
        self.commit(tx)?;
        self.live().insert(id.to_string(), stop);
        Ok(true)
    }

    /// The ids of the pending jobs, oldest first: at startup, those to run.
    pub fn pending(&self) -> Result<Vec<String>> {
        let db = self.db();
        let mut query = db
            .conn
            .prepare("SELECT id FROM jobs WHERE state = 'pending' ORDER BY created_ms, id")
            .map_err(failed)?;
        let ids = query
            .query_map([], |row| row.get(0))
            .map_err(failed)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(failed)?;
        Ok(ids)
    }

    /// The stored request of job `id` if it is pending (`None`: cancelled since).
    pub fn request(&self, id: &str) -> Result<Option<Submission>> {
        self.db()
            .conn
            .query_row(
                "SELECT body, content_type, query FROM jobs WHERE id = ?1 AND state = 'pending'",
                [id],
                |row| {
                    Ok(Submission {
                        body: Bytes::from(row.get::<_, Vec<u8>>(0)?),
                        content_type: row.get(1)?,
                        query: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(failed)
    }

    /// Takes on pending job `id` (one stored before this server started) with its solve's
    /// `stop` flag; `false` when it is no longer pending (cancelled since).
    pub fn adopt(&self, id: &str, stop: Control) -> Result<bool> {
        let db = self.db();
        let pending = db
            .conn
            .query_row(
                "SELECT 1 FROM jobs WHERE id = ?1 AND state = 'pending'",
                [id],
                |_| Ok(()),
            )
            .optional()
            .map_err(failed)?
            .is_some();
        if pending {
            self.live().insert(id.to_string(), stop);
        }
        Ok(pending)
    }

    /// Runs the update `sql` with `params`, unless the store is shutting down: then
    /// what the solves report changes nothing.
    fn update_while_open(&self, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        let db = self.db();
        if db.closing {
            return Ok(());
        }
        db.conn.execute(sql, params).map(drop).map_err(failed)
    }

    /// Marks job `id` running (a worker took it).
    pub fn start(&self, id: &str) -> Result<()> {
        self.update_while_open(
            "UPDATE jobs SET state = 'running' WHERE id = ?1 AND state = 'pending'",
            [id],
        )
    }

    /// Stores `partial`, what running job `id` would answer if it were stopped now: the
    /// partial answer it is interrupted with if the server is killed twice while it runs.
    pub fn progress(&self, id: &str, partial: &Solution) -> Result<()> {
        let text = serde_json::to_string(partial)
            .map_err(|e| Error::Internal(format!("a partial answer cannot be written: {e}")))?;
        self.update_while_open(
            "UPDATE jobs SET answer = ?2 WHERE id = ?1 AND state = 'running'",
            params![id, text],
        )
    }

    /// Finishes job `id` (if it still exists: a cancelled job is gone) with its solution
    /// or the reason it has none. An answer takes twice the length of its JSON against
    /// the budget (held as a structure once fetched, its lists of small numbers take
    /// about twice their text); one that does not fit beside those stored makes the job
    /// fail instead. After [`Jobs::shutdown`] nothing changes: the job stays pending.
    pub fn finish(&self, id: &str, answer: std::result::Result<Solution, String>) -> Result<()> {
        let (mut state, mut text, mut error) =
            match &answer {
                Ok(solution) => (
                    "done",
                    Some(serde_json::to_string(solution).map_err(|e| {
                        Error::Internal(format!("the answer cannot be written: {e}"))
                    })?),
                    None,
                ),
                Err(error) => ("failed", None, Some(error.clone())),
            };
        let size = text.as_ref().map_or(0, |t| t.len().saturating_mul(2));
        let mut db = self.db();
        if db.closing {
            return Ok(());
        }
        self.live().remove(id);
        let tx = db.conn.transaction().map_err(failed)?;
        purge(&tx, self.ttl).map_err(failed)?;
        if text.is_some() {
            let stored: i64 = tx
                .query_row("SELECT coalesce(sum(answer_bytes), 0) FROM jobs", [], |r| {
                    r.get(0)
                })
                .map_err(failed)?;
            let stored = usize::try_from(stored).unwrap_or(usize::MAX);
            if stored.saturating_add(size) > self.budget {
                let mb = |b: usize| b as f64 / (1024.0 * 1024.0);
                (state, text) = ("failed", None);
                error = Some(format!(
                    "the answer ({:.1} MB) does not fit beside the {:.1} MB of answers waiting to be fetched (the job store keeps {:.1} MB, 16 x --max-body-mb); fetch results sooner, or use /v1/solve",
                    mb(size),
                    mb(stored),
                    mb(self.budget)
                ));
            }
        }
        let bytes = if text.is_some() { size } else { 0 };
        tx.execute(
            "UPDATE jobs SET state = ?2, answer = ?3, answer_bytes = ?4, error = ?5,
                 finished_ms = ?6, body = NULL
             WHERE id = ?1 AND state IN ('pending', 'running')",
            params![id, state, text, sql_count(bytes), error, now_ms()],
        )
        .map_err(failed)?;
        self.commit(tx)
    }

    /// The state of `owner`'s job `id`; a finished job is handed out once and then removed.
    pub fn fetch(&self, id: &str, owner: Option<&str>) -> Result<Lookup> {
        let found = {
            let mut db = self.db();
            let tx = db.conn.transaction().map_err(failed)?;
            purge(&tx, self.ttl).map_err(failed)?;
            let found = tx
                .query_row(
                    "SELECT state, CASE WHEN state IN ('done', 'interrupted') THEN answer END, error
                     FROM jobs WHERE id = ?1 AND owner IS ?2",
                    params![id, owner],
                    |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(failed)?;
            if found
                .as_ref()
                .is_some_and(|(state, ..)| !matches!(state.as_str(), "pending" | "running"))
            {
                tx.execute("DELETE FROM jobs WHERE id = ?1", [id])
                    .map_err(failed)?;
            }
            self.commit(tx)?;
            found
        };
        // Read outside the lock: a stored answer may be large.
        Ok(found.map_or(Lookup::Missing, |(state, answer, error)| {
            Lookup::Found(decode(&state, answer, error))
        }))
    }

    /// Removes `owner`'s job `id`, stopping its solve if it is pending or running.
    pub fn cancel(&self, id: &str, owner: Option<&str>) -> Result<Cancelled> {
        let mut db = self.db();
        let tx = db.conn.transaction().map_err(failed)?;
        purge(&tx, self.ttl).map_err(failed)?;
        let state: Option<String> = tx
            .query_row(
                "SELECT state FROM jobs WHERE id = ?1 AND owner IS ?2",
                params![id, owner],
                |r| r.get(0),
            )
            .optional()
            .map_err(failed)?;
        let Some(state) = state else {
            self.commit(tx)?;
            return Ok(Cancelled::Missing);
        };
        tx.execute("DELETE FROM jobs WHERE id = ?1", [id])
            .map_err(failed)?;
        self.commit(tx)?;
        if let Some(stop) = self.live().remove(id) {
            stop.stop();
        }
        Ok(match state.as_str() {
            "pending" | "running" => Cancelled::Stopped,
            _ => Cancelled::Deleted,
        })
    }

    /// At shutdown: puts every running job back to pending (it runs after the next
    /// start), stops every solve, and from then on ignores what the solves report.
    /// Returns how many unfinished jobs are kept.
    pub fn shutdown(&self) -> Result<usize> {
        let mut db = self.db();
        db.closing = true;
        let kept = db
            .conn
            .execute(
                "UPDATE jobs SET state = 'pending' WHERE state = 'running'",
                [],
            )
            .and_then(|_| {
                db.conn.query_row(
                    "SELECT count(*) FROM jobs WHERE state = 'pending'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            });
        for stop in self.live().drain().map(|(_, stop)| stop) {
            stop.stop();
        }
        kept.map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(failed)
    }

    /// Jobs stored (as of the last change).
    pub fn len(&self) -> usize {
        self.stored.load(Ordering::Acquire)
    }

    /// Whether no job is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Readies an opened database: takes and keeps its lock, checks that it is partrec's
/// and readable (creating the table in a new one), applies what a kill left (running
/// jobs queued again or interrupted) and drops expired results; returns how many jobs
/// are stored. An error is either a message or SQLite's.
fn prepare(
    conn: &mut Connection,
    location: &str,
    ttl: Duration,
) -> std::result::Result<usize, std::result::Result<String, rusqlite::Error>> {
    // Another server holding the database is refused at once, not waited for.
    conn.busy_timeout(Duration::ZERO).map_err(Err)?;
    // Held from the first read to the end: no other process can use the database.
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")
        .map_err(Err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(Err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(Err)?;
    let tx = conn.transaction().map_err(Err)?;
    let pragma = |name: &str| tx.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let application = pragma("application_id").map_err(Err)?;
    let version = pragma("user_version").map_err(Err)?;
    let objects: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(Err)?;
    if application == 0 && version == 0 && objects == 0 {
        tx.execute_batch(SCHEMA).map_err(Err)?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(Err)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(Err)?;
    } else if application != i64::from(APPLICATION_ID) {
        return Err(Ok(format!(
            "{location} is another program's SQLite database, not a partrec job database; move it away, or give another --data-dir"
        )));
    } else if version != i64::from(SCHEMA_VERSION) {
        return Err(Ok(format!(
            "{location} is a job database of layout {version}, which this partrec ({}) does not read (it reads layout {SCHEMA_VERSION}); use the partrec that wrote it, or give another --data-dir",
            env!("CARGO_PKG_VERSION")
        )));
    }
    let check: String = tx
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(Err)?;
    if check != "ok" {
        return Err(Ok(format!(
            "{location} is damaged ({check}); move it away to start with no jobs"
        )));
    }
    let now = now_ms();
    tx.execute(
        "UPDATE jobs SET state = 'interrupted', error = ?1, finished_ms = ?2, body = NULL,
             answer_bytes = 2 * coalesce(length(CAST(answer AS BLOB)), 0)
         WHERE state = 'running' AND lost_runs >= 1",
        params![INTERRUPTED, now],
    )
    .map_err(Err)?;
    tx.execute(
        "UPDATE jobs SET state = 'pending', lost_runs = lost_runs + 1 WHERE state = 'running'",
        [],
    )
    .map_err(Err)?;
    purge(&tx, ttl).map_err(Err)?;
    let stored = count(&tx).map_err(Err)?;
    tx.commit().map_err(Err)?;
    Ok(stored)
}

/// Drops finished jobs older than the TTL.
fn purge(tx: &Transaction<'_>, ttl: Duration) -> rusqlite::Result<()> {
    let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
    tx.execute(
        "DELETE FROM jobs WHERE finished_ms IS NOT NULL AND finished_ms <= ?1",
        [now_ms().saturating_sub(ttl)],
    )
    .map(drop)
}

/// Jobs stored.
fn count(tx: &Transaction<'_>) -> rusqlite::Result<usize> {
    tx.query_row("SELECT count(*) FROM jobs", [], |r| r.get::<_, i64>(0))
        .map(|n| usize::try_from(n).unwrap_or(0))
}

/// A job's state from its stored columns. A stored answer that does not read back as a
/// solution is never served: the job is failed, saying so.
fn decode(state: &str, answer: Option<String>, error: Option<String>) -> JobState {
    let unreadable = |why: String| JobState::Failed {
        error: format!("the stored result of this job cannot be read ({why}); submit it again"),
    };
    let solution = |text: &str| serde_json::from_str::<Solution>(text).map(Box::new);
    match (state, answer, error) {
        ("pending", ..) => JobState::Pending,
        ("running", ..) => JobState::Running,
        ("done", Some(text), _) => match solution(&text) {
            Ok(result) => JobState::Done { result },
            Err(e) => unreadable(e.to_string()),
        },
        ("failed", _, Some(error)) => JobState::Failed { error },
        ("interrupted", text, Some(error)) => match text.as_deref().map(solution).transpose() {
            Ok(partial) => JobState::Interrupted { error, partial },
            Err(e) => unreadable(e.to_string()),
        },
        (state, ..) => unreadable(format!("state {state:?} without its answer or error")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use partrec_solve::solution::Status;
    use std::path::PathBuf;

    /// A JSON request with `body`.
    fn sent(body: &[u8]) -> Submission {
        Submission {
            content_type: None,
            query: None,
            body: Bytes::copy_from_slice(body),
        }
    }

    /// A fresh folder for one test's database, removed when dropped.
    struct Folder(PathBuf);

    impl Folder {
        fn new(name: &str) -> Folder {
            let dir =
                std::env::temp_dir().join(format!("partrec-jobs-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Folder(dir)
        }

        /// Opens the store in this folder (a server starting).
        fn open(&self, ttl: Duration, cap: usize, budget: usize) -> Jobs {
            Jobs::open(Some(&self.0), ttl, cap, budget).unwrap()
        }

        /// A connection of its own to the database file, to look at or damage it.
        fn raw(&self) -> Connection {
            Connection::open(self.0.join(FILE)).unwrap()
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn memory(ttl: Duration, cap: usize, budget: usize) -> Jobs {
        Jobs::open(None, ttl, cap, budget).unwrap()
    }

    const MINUTE: Duration = Duration::from_secs(60);

    fn sat(tokens: usize) -> Solution {
        let mut s = Solution::new(Status::Sat);
        s.partition = Some(vec![(0..tokens as u32).map(|t| t % 3).collect()]);
        s
    }

    fn done(solution: Solution) -> Lookup {
        Lookup::Found(JobState::Done {
            result: Box::new(solution),
        })
    }

    #[test]
    fn a_job_lives_pending_running_done_then_is_fetched_once() {
        let jobs = memory(MINUTE, 10, 1 << 20);
        assert!(jobs
            .insert("a", None, &sent(b"{}"), Control::new())
            .unwrap());
        assert_eq!(
            jobs.fetch("a", None).unwrap(),
            Lookup::Found(JobState::Pending)
        );
        jobs.start("a").unwrap();
        assert_eq!(
            jobs.fetch("a", None).unwrap(),
            Lookup::Found(JobState::Running)
        );
        jobs.finish("a", Ok(sat(5))).unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs.fetch("a", None).unwrap(), done(sat(5)));
        assert_eq!(jobs.fetch("a", None).unwrap(), Lookup::Missing);
        assert!(jobs.is_empty());
        assert_eq!(jobs.location(), ":memory:");
    }

    #[test]
    fn results_and_pending_jobs_survive_a_restart() {
        let folder = Folder::new("restart");
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        for (id, body) in [("a", "first"), ("b", "second"), ("c", "third")] {
            assert!(jobs
                .insert(id, None, &sent(body.as_bytes()), Control::new())
                .unwrap());
        }
        let table = Submission {
            content_type: Some("text/csv".into()),
            query: Some("group=a&value=y".into()),
            body: Bytes::from_static(b"a,y\n1,0\n"),
        };
        assert!(jobs.insert("t", None, &table, Control::new()).unwrap());
        jobs.start("a").unwrap();
        jobs.finish("a", Ok(sat(7))).unwrap();
        jobs.start("c").unwrap();
        jobs.finish("c", Err("no".into())).unwrap();
        drop(jobs);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        assert!(jobs.location().ends_with(FILE));
        assert_eq!(jobs.len(), 4);
        assert_eq!(jobs.pending().unwrap(), ["b", "t"]);
        assert_eq!(jobs.request("b").unwrap(), Some(sent(b"second")));
        assert_eq!(jobs.request("t").unwrap(), Some(table));
        assert_eq!(jobs.request("a").unwrap(), None);
        assert_eq!(jobs.fetch("a", None).unwrap(), done(sat(7)));
        assert_eq!(
            jobs.fetch("c", None).unwrap(),
            Lookup::Found(JobState::Failed { error: "no".into() })
        );
        drop(jobs);
        // Only the unfinished jobs' bodies are kept.
        let bodies: i64 = folder
            .raw()
            .query_row("SELECT count(body) FROM jobs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(bodies, 2);
    }

    #[test]
    fn a_running_job_is_queued_again_once_then_interrupted_with_its_partial_answer() {
        let folder = Folder::new("interrupted");
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        jobs.insert("a", None, &sent(b"body"), Control::new())
            .unwrap();
        jobs.insert("b", None, &sent(b"body"), Control::new())
            .unwrap();
        jobs.start("a").unwrap();
        jobs.start("b").unwrap();
        let mut partial = Solution::new(Status::Unknown);
        partial.stats.samples = 42;
        jobs.progress("a", &partial).unwrap();
        // Killed while they run: both are queued again.
        drop(jobs);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        assert_eq!(jobs.pending().unwrap(), ["a", "b"]);
        assert_eq!(
            jobs.fetch("a", None).unwrap(),
            Lookup::Found(JobState::Pending)
        );
        assert!(jobs.adopt("a", Control::new()).unwrap());
        jobs.start("a").unwrap();
        jobs.start("b").unwrap();
        partial.stats.samples = 43;
        jobs.progress("a", &partial).unwrap();
        // Killed while they run again: interrupted, with the last partial answer if any.
        drop(jobs);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        assert!(jobs.pending().unwrap().is_empty());
        assert_eq!(jobs.request("a").unwrap(), None);
        assert_eq!(
            jobs.fetch("a", None).unwrap(),
            Lookup::Found(JobState::Interrupted {
                error: INTERRUPTED.into(),
                partial: Some(Box::new(partial)),
            })
        );
        assert_eq!(jobs.fetch("a", None).unwrap(), Lookup::Missing);
        assert_eq!(
            jobs.fetch("b", None).unwrap(),
            Lookup::Found(JobState::Interrupted {
                error: INTERRUPTED.into(),
                partial: None,
            })
        );
    }

    #[test]
    fn a_shutdown_keeps_unfinished_jobs_pending_for_the_next_start() {
        let folder = Folder::new("shutdown");
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        let (a, b) = (Control::new(), Control::new());
        jobs.insert("a", None, &sent(b"first"), a.clone()).unwrap();
        jobs.insert("b", None, &sent(b"second"), b.clone()).unwrap();
        jobs.start("a").unwrap();
        assert_eq!(jobs.shutdown().unwrap(), 2);
        assert!(a.stop_requested() && b.stop_requested());
        // What the stopped solves report changes nothing.
        jobs.finish("a", Ok(sat(3))).unwrap();
        jobs.start("b").unwrap();
        drop(jobs);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        assert_eq!(jobs.pending().unwrap(), ["a", "b"]);
        // A graceful stop is not a kill: the job is queued again after the next kill too.
        jobs.start("a").unwrap();
        drop(jobs);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        assert_eq!(jobs.pending().unwrap(), ["a", "b"]);
    }

    #[test]
    fn cancel_stops_the_solve_and_removes_the_job() {
        let jobs = memory(MINUTE, 10, 1 << 20);
        let stop = Control::new();
        jobs.insert("a", None, &sent(b"{}"), stop.clone()).unwrap();
        jobs.start("a").unwrap();
        assert_eq!(jobs.cancel("a", None).unwrap(), Cancelled::Stopped);
        assert!(stop.stop_requested());
        assert_eq!(jobs.cancel("a", None).unwrap(), Cancelled::Missing);
        // The stopped solve's end finds no job to finish.
        jobs.finish("a", Ok(sat(2))).unwrap();
        assert!(jobs.is_empty());
        assert_eq!(jobs.fetch("a", None).unwrap(), Lookup::Missing);
        jobs.insert("b", None, &sent(b"{}"), Control::new())
            .unwrap();
        jobs.finish("b", Err("x".into())).unwrap();
        assert_eq!(jobs.cancel("b", None).unwrap(), Cancelled::Deleted);
        assert!(!jobs.adopt("b", Control::new()).unwrap());
    }

    #[test]
    fn a_job_is_visible_only_to_its_owner() {
        let jobs = memory(MINUTE, 10, 1 << 20);
        jobs.insert("a", Some("alice"), &sent(b"{}"), Control::new())
            .unwrap();
        jobs.insert("n", None, &sent(b"{}"), Control::new())
            .unwrap();
        for other in [None, Some("bob"), Some("Alice")] {
            assert_eq!(jobs.fetch("a", other).unwrap(), Lookup::Missing);
            assert_eq!(jobs.cancel("a", other).unwrap(), Cancelled::Missing);
        }
        assert_eq!(jobs.fetch("n", Some("alice")).unwrap(), Lookup::Missing);
        assert_eq!(jobs.cancel("n", Some("alice")).unwrap(), Cancelled::Missing);
        jobs.finish("a", Ok(sat(4))).unwrap();
        assert_eq!(jobs.fetch("a", Some("bob")).unwrap(), Lookup::Missing);
        assert_eq!(jobs.fetch("a", Some("alice")).unwrap(), done(sat(4)));
        assert_eq!(
            jobs.fetch("n", None).unwrap(),
            Lookup::Found(JobState::Pending)
        );
        assert_eq!(jobs.cancel("n", None).unwrap(), Cancelled::Stopped);
    }

    #[test]
    fn finished_results_expire_after_their_ttl_also_across_a_restart() {
        let folder = Folder::new("ttl");
        let ttl = Duration::from_millis(1500);
        let jobs = folder.open(ttl, 10, 1 << 20);
        jobs.insert("a", None, &sent(b"{}"), Control::new())
            .unwrap();
        jobs.insert("b", None, &sent(b"{}"), Control::new())
            .unwrap();
        jobs.finish("a", Ok(sat(2))).unwrap();
        std::thread::sleep(Duration::from_millis(1000));
        jobs.finish("b", Ok(sat(3))).unwrap();
        let finished = std::time::Instant::now();
        drop(jobs);
        std::thread::sleep(Duration::from_millis(600));
        // Over 1.6 s after a finished, well under 1.5 s after b did.
        let jobs = folder.open(ttl, 10, 1 << 20);
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs.fetch("a", None).unwrap(), Lookup::Missing);
        assert_eq!(jobs.fetch("b", None).unwrap(), done(sat(3)));
        assert!(
            finished.elapsed() < ttl,
            "too slow to tell: {:?}",
            finished.elapsed()
        );
    }

    #[test]
    fn the_cap_holds_and_expired_results_make_room() {
        let jobs = memory(Duration::from_millis(50), 2, 1 << 20);
        assert!(jobs
            .insert("a", None, &sent(b"{}"), Control::new())
            .unwrap());
        assert!(jobs
            .insert("b", None, &sent(b"{}"), Control::new())
            .unwrap());
        assert!(!jobs
            .insert("c", None, &sent(b"{}"), Control::new())
            .unwrap());
        jobs.finish("a", Err("x".into())).unwrap();
        assert!(!jobs
            .insert("c", None, &sent(b"{}"), Control::new())
            .unwrap());
        std::thread::sleep(Duration::from_millis(80));
        assert!(jobs
            .insert("c", None, &sent(b"{}"), Control::new())
            .unwrap());
        assert_eq!(jobs.fetch("a", None).unwrap(), Lookup::Missing);
        assert_eq!(jobs.len(), 2);
    }

    /// What an answer counts against the budget: twice its JSON.
    fn weight(solution: &Solution) -> usize {
        2 * serde_json::to_string(solution).unwrap().len()
    }

    #[test]
    fn answers_beyond_the_byte_budget_fail_the_job() {
        let (one, two) = (weight(&sat(1000)), weight(&sat(2000)));
        // Room for two small answers, not for a small and a large one.
        let jobs = memory(MINUTE, 10, 2 * one + 10);
        assert!(one + two > 2 * one + 10);
        for id in ["a", "b", "c"] {
            assert!(jobs.insert(id, None, &sent(b"{}"), Control::new()).unwrap());
        }
        jobs.finish("a", Ok(sat(1000))).unwrap();
        jobs.finish("b", Ok(sat(1000))).unwrap();
        assert_eq!(jobs.fetch("a", None).unwrap(), done(sat(1000)));
        jobs.finish("c", Ok(sat(2000))).unwrap();
        match jobs.fetch("c", None).unwrap() {
            Lookup::Found(JobState::Failed { error }) => {
                assert!(error.contains("fetch results sooner"), "{error}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(jobs.fetch("b", None).unwrap(), done(sat(1000)));
    }

    #[test]
    fn a_certificate_counts_towards_the_budget() {
        let mut s = Solution::new(Status::Unsat);
        let bare = weight(&s);
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
        assert!(weight(&s) >= bare + 3_000_000);
        let jobs = memory(MINUTE, 10, 3_000_000);
        jobs.insert("a", None, &sent(b"{}"), Control::new())
            .unwrap();
        jobs.finish("a", Ok(s)).unwrap();
        assert!(matches!(
            jobs.fetch("a", None).unwrap(),
            Lookup::Found(JobState::Failed { .. })
        ));
    }

    #[test]
    fn an_unreadable_stored_result_fails_the_job_and_is_never_served() {
        let folder = Folder::new("unreadable");
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        for id in ["a", "b", "c"] {
            jobs.insert(id, None, &sent(b"{}"), Control::new()).unwrap();
        }
        jobs.finish("a", Ok(sat(9))).unwrap();
        jobs.finish("c", Ok(sat(9))).unwrap();
        drop(jobs);
        // A torn answer, and one that is JSON but not a solution.
        let raw = folder.raw();
        raw.execute(
            "UPDATE jobs SET answer = substr(answer, 1, 25) WHERE id = 'a'",
            [],
        )
        .unwrap();
        raw.execute(
            "UPDATE jobs SET state = 'interrupted', error = 'x', answer = '{\"status\": 3}' WHERE id = 'b'",
            [],
        )
        .unwrap();
        drop(raw);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        for id in ["a", "b"] {
            match jobs.fetch(id, None).unwrap() {
                Lookup::Found(JobState::Failed { error }) => {
                    assert!(
                        error.contains("stored result of this job cannot be read"),
                        "{error}"
                    )
                }
                other => panic!("{id}: {other:?}"),
            }
            assert_eq!(jobs.fetch(id, None).unwrap(), Lookup::Missing);
        }
        assert_eq!(jobs.fetch("c", None).unwrap(), done(sat(9)));
    }

    /// The message of a refused open, checked to be one line naming `--data-dir`.
    fn refused(dir: &Path) -> String {
        let e = Jobs::open(Some(dir), MINUTE, 10, 1 << 20).unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e:?}");
        let message = e.to_string();
        assert!(message.starts_with("--data-dir "), "{message}");
        assert!(!message.contains('\n'), "{message}");
        message
    }

    #[test]
    fn a_second_server_on_the_same_folder_is_refused() {
        let folder = Folder::new("second");
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        jobs.insert("a", None, &sent(b"{}"), Control::new())
            .unwrap();
        let message = refused(&folder.0);
        assert!(
            message.contains("in use by another partrec serve"),
            "{message}"
        );
        // The first goes on undisturbed; once it is gone the folder opens.
        jobs.start("a").unwrap();
        drop(jobs);
        let jobs = folder.open(MINUTE, 10, 1 << 20);
        assert_eq!(jobs.pending().unwrap(), ["a"]);
    }

    #[test]
    fn foreign_newer_or_damaged_databases_are_refused() {
        let folder = Folder::new("foreign");
        std::fs::create_dir_all(&folder.0).unwrap();
        let file = folder.0.join(FILE);
        std::fs::write(
            &file,
            "this is not SQLite, but long enough to have a header .....",
        )
        .unwrap();
        assert!(refused(&folder.0).contains("is not a partrec job database"));
        std::fs::remove_file(&file).unwrap();
        let other = Connection::open(&file).unwrap();
        other
            .execute_batch("CREATE TABLE notes (text TEXT)")
            .unwrap();
        drop(other);
        assert!(refused(&folder.0).contains("another program's SQLite database"));
        std::fs::remove_file(&file).unwrap();
        drop(folder.open(MINUTE, 10, 1 << 20));
        folder.raw().pragma_update(None, "user_version", 2).unwrap();
        let message = refused(&folder.0);
        assert!(message.contains("of layout 2"), "{message}");
        folder.raw().pragma_update(None, "user_version", 1).unwrap();
        drop(folder.open(MINUTE, 10, 1 << 20));
        // The jobs table's page (the second) overwritten.
        let mut bytes = std::fs::read(&file).unwrap();
        let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
        bytes[page..2 * page].fill(0xab);
        std::fs::write(&file, bytes).unwrap();
        let message = refused(&folder.0);
        assert!(message.contains("is damaged"), "{message}");
        // A folder that cannot be created.
        let message = refused(&file.join("below-a-file"));
        assert!(message.contains("cannot create the folder"), "{message}");
    }
}
