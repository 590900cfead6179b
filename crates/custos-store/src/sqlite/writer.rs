//! The hot write transactions (consent ledger, events, audit chain), each run whole on a
//! thread of their own through one connection.
//!
//! Through sqlx every statement of a transaction is a round trip to the connection's
//! thread, and a multi-row `INSERT` of a new length is prepared anew. A group commit of
//! the consent ledger took seven round trips and as many thread wake-ups; here it takes
//! one hop to the writer thread, where the transaction runs from `BEGIN IMMEDIATE` to
//! `COMMIT` with statements prepared once and cached. The thread takes this process's
//! turn (`write_turn`) for each transaction, so that it queues with the sqlx writers in order.
//!
//! Each function here does what the portable (sqlx) version in `portable.rs` does, row for
//! row; the store conformance tests run against both (SQLite files here, PostgreSQL there).

use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use tokio::sync::oneshot;

use crate::subject_state::consent_audit;
use crate::time::to_millis;
use crate::{
    AppendedConsents, AuditEntry, ConsentWrite, EventVisitor, GENESIS_HASH, IdentifierKind, NewAuditEntry, StoreError,
    StoredEvent, SubjectId, audit_hash,
};

/// The writer thread: one connection, and the jobs it runs.
pub(crate) struct InlineWriter {
    path: PathBuf,
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for InlineWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineWriter").field("path", &self.path).finish_non_exhaustive()
    }
}

/// What a job's work answers, its type erased so that jobs of every kind share one queue.
type Output = Box<dyn Any + Send>;

/// One caller's transaction: its work, and where its answer goes once it has committed or
/// failed.
struct Job {
    work: Work,
    done: oneshot::Sender<Result<Output, StoreError>>,
}

/// A caller's work inside the transaction.
type Work = Box<dyn FnOnce(&rusqlite::Transaction<'_>) -> Result<Output, StoreError> + Send>;

impl InlineWriter {
    /// A writer to the database file at `path` (the caller has ruled out in-memory ones),
    /// taking `turn` before each transaction. Starts its thread; the thread opens the
    /// connection at the first job and ends when the writer is dropped.
    pub(crate) fn new(path: &Path, busy_timeout: Duration, turn: Arc<tokio::sync::Mutex<()>>) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        let file = path.to_owned();
        let thread = std::thread::Builder::new()
            .name("custos-writer".into())
            .spawn(move || run(&file, busy_timeout, &turn, &queue))?;
        Ok(Self { path: path.to_owned(), jobs: Some(jobs), thread: Some(thread) })
    }

    /// Runs `work` over a copy of `input` (the thread needs owned data) in one
    /// transaction: see [`InlineWriter::transaction`].
    pub(crate) async fn write<I, T>(
        &self,
        input: &[I],
        work: fn(&rusqlite::Transaction<'_>, &[I]) -> Result<T, StoreError>,
    ) -> Result<T, StoreError>
    where
        I: Clone + Send + 'static,
        T: Send + 'static,
    {
        let input = input.to_vec();
        self.transaction(move |tx| work(tx, &input)).await
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction on the writer thread, after this
    /// process's earlier writers; commits when it returns `Ok`, rolls back otherwise.
    /// Returns once the transaction has ended.
    pub(crate) async fn transaction<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let stopped = || StoreError::Unavailable("the SQLite writer thread has stopped".into());
        let (done, answer) = oneshot::channel();
        let work: Work = Box::new(move |tx| work(tx).map(|out| Box::new(out) as Output));
        self.jobs.as_ref().ok_or_else(stopped)?.send(Job { work, done }).map_err(|_| stopped())?;
        let out = answer.await.map_err(|_| stopped())??;
        out.downcast::<T>()
            .map(|out| *out)
            .map_err(|_| StoreError::Corrupt("the SQLite writer answered with another type".into()))
    }
}

impl Drop for InlineWriter {
    /// Lets the thread finish the jobs it has (it then closes the connection), and waits for
    /// it without stalling an async runtime.
    ///
    /// A job left queued by a caller that gave up waits for this process's write turn,
    /// which an async task may hold. On a multi-threaded runtime the wait moves this
    /// worker's other tasks elsewhere (`block_in_place`), so that holder can finish. On a
    /// single-threaded runtime the holder may be a task of this very thread, which a wait
    /// would deadlock: there the thread is left to end on its own, its jobs done.
    fn drop(&mut self) {
        self.jobs = None;
        let Some(thread) = self.thread.take() else { return };
        let join = move || {
            let _ = thread.join();
        };
        match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
            Err(_) => join(),
            Ok(tokio::runtime::RuntimeFlavor::CurrentThread) => {}
            Ok(_) => tokio::task::block_in_place(join),
        }
    }
}

/// The writer thread: runs the jobs one after another, each in its own transaction, until
/// the writer is dropped. Going from one job to the next here, rather than through the
/// async runtime (a blocking task per transaction, whose end wakes the caller's task, whose
/// next transaction wakes a blocking thread again), keeps SQLite's one writer busy while
/// there is work: see docs/perf/profiles.md, "Fifth pass".
fn run(path: &Path, busy_timeout: Duration, turn: &tokio::sync::Mutex<()>, queue: &mpsc::Receiver<Job>) {
    let mut conn: Option<Connection> = None;
    while let Ok(job) = queue.recv() {
        let _turn = turn.blocking_lock();
        let open = match conn {
            Some(ref mut open) => open,
            None => match open(path, busy_timeout) {
                Ok(opened) => conn.insert(opened),
                Err(e) => {
                    let _ = job.done.send(Err(e));
                    continue;
                }
            },
        };
        // A job that panics fails alone: the thread goes on with the next.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| commit(open, job.work)))
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the SQLite write panicked; it was rolled back".into())));
        if done.is_err() && !open.is_autocommit() {
            // A failed COMMIT (a full disk) or a panic can leave the transaction open:
            // start over with a new connection (closing this one rolls it back).
            conn = None;
        }
        let _ = job.done.send(done);
    }
}

/// Runs `work` in one transaction on `conn`: committed when it succeeds, rolled back
/// otherwise.
fn commit(conn: &mut Connection, work: Work) -> Result<Output, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(write_error)?;
    let out = work(&tx)?;
    tx.commit().map_err(write_error)?;
    Ok(out)
}

fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(write_error)?;
    conn.busy_timeout(busy_timeout).map_err(write_error)?;
    // As the pool's connections: WAL is the file's mode already; the same durability,
    // page cache, enforced foreign keys and checkpoint backstop. (A commit that split a
    // B-tree page walks this whole cache: SQLite orders split pages by swapping their
    // numbers through the lock-byte page, and then takes that number for the cache's
    // largest. A 2 MiB cache made that walk short but halved large transactions; see
    // docs/perf/profiles.md, sixth pass.)
    conn.execute_batch(&format!(
        "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768; PRAGMA foreign_keys = ON; \
         PRAGMA wal_autocheckpoint = {};",
        super::WAL_BACKSTOP
    ))
    .map_err(write_error)?;
    Ok(conn)
}

/// A failed write as the store reports it, with the meanings the sqlx path gives: a full
/// disk, a busy database, a broken uniqueness or reference rule.
pub(crate) fn write_error(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => StoreError::StorageFull(e.to_string()),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("SQLite is busy: {e}"))
        }
        _ => StoreError::Unavailable(format!("SQLite write failed: {e}")),
    }
}

/// Whether `e` broke a foreign key (the row referred to does not exist).
fn is_foreign_key(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

fn id(subject: SubjectId) -> [u8; 16] {
    *subject.0.as_bytes()
}

/// The ledger entries of `writes`, creating visitors as needed (see
/// [`crate::SubjectStateStore::append_consents`]).
pub(crate) fn append_consents(
    tx: &rusqlite::Transaction<'_>,
    writes: &[ConsentWrite],
) -> Result<AppendedConsents, StoreError> {
    let cookie_kind = IdentifierKind::CookieId.as_str();
    let mut find = tx.prepare_cached(crate::queries::FIND_SUBJECT).map_err(write_error)?;
    let mut add_subject = tx
        .prepare_cached("INSERT INTO subjects (subject_id, kind, created_at) VALUES ($1, $2, $3)")
        .map_err(write_error)?;
    let mut add_cookie = tx
        .prepare_cached(
            // No other writer can add this cookie between the lookup and here: the
            // transaction holds SQLite's write lock from its start.
            "INSERT INTO identifiers (subject_id, kind, blind_index, created_at) VALUES ($1, $2, $3, $4)",
        )
        .map_err(write_error)?;
    let mut last = tx.prepare_cached("SELECT MAX(seq) FROM consents WHERE subject_id = $1").map_err(write_error)?;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO consents (subject_id, seq, purpose, granted, method, policy_version, at, text_version, \
             source_ip) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .map_err(write_error)?;
    let mut last_seq: HashMap<SubjectId, i64> = HashMap::new();
    let mut written = Vec::with_capacity(writes.len());
    for w in writes {
        let subject = match &w.visitor {
            None => w.entry.subject_id,
            Some(v) => {
                let known = find
                    .query_row(params![cookie_kind, &v.cookie.0[..]], |r| super::inline::uuid_at(r, 0))
                    .optional()
                    .map_err(write_error)?;
                match known {
                    Some(known) => SubjectId(known),
                    None => {
                        let at = to_millis(v.subject.created_at);
                        add_subject
                            .execute(params![&id(v.subject.id)[..], v.subject.kind.as_str(), at])
                            .map_err(write_error)?;
                        add_cookie
                            .execute(params![&id(v.subject.id)[..], cookie_kind, &v.cookie.0[..], at])
                            .map_err(write_error)?;
                        // A new visitor's ledger starts here.
                        last_seq.insert(v.subject.id, 0);
                        v.subject.id
                    }
                }
            }
        };
        let seq = match last_seq.get(&subject) {
            Some(seq) => seq + 1,
            None => {
                let max: Option<i64> = last.query_row([&id(subject)[..]], |r| r.get(0)).map_err(write_error)?;
                max.unwrap_or(0) + 1
            }
        };
        last_seq.insert(subject, seq);
        let e = &w.entry;
        insert
            .execute(params![
                &id(subject)[..],
                seq,
                e.purpose,
                e.granted,
                e.method,
                e.policy_version,
                to_millis(e.at),
                e.text_version,
                e.source_ip
            ])
            .map_err(|err| {
                if is_foreign_key(&err) { StoreError::NotFound(format!("subject {subject}")) } else { write_error(err) }
            })?;
        written.push((subject, seq));
    }
    let audit: Vec<NewAuditEntry> = writes
        .iter()
        .zip(&written)
        .filter_map(|(w, (subject, seq))| w.audit.as_ref().map(|a| consent_audit(a, *subject, *seq)))
        .collect();
    let audit = if audit.is_empty() { Vec::new() } else { append_audit(tx, &audit)? };
    Ok(AppendedConsents { written, audit })
}

/// Appends `entries` to the audit chain after its last entry.
pub(crate) fn append_audit(
    tx: &rusqlite::Transaction<'_>,
    entries: &[NewAuditEntry],
) -> Result<Vec<AuditEntry>, StoreError> {
    let last = tx
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .map_err(write_error)?
        .query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .optional()
        .map_err(write_error)?;
    let (mut seq, mut prev_hash) = match last {
        Some((seq, hash)) => {
            let len = hash.len();
            let hash: [u8; 32] =
                hash.try_into().map_err(|_| StoreError::Corrupt(format!("audit hash of {len} bytes at seq {seq}")))?;
            (seq, hash)
        }
        None => (0, GENESIS_HASH),
    };
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit_log (seq, at, actor, action, subject_id, purpose, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .map_err(write_error)?;
    let mut appended = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let hash = audit_hash(seq, &prev_hash, entry);
        insert
            .execute(params![
                seq,
                to_millis(entry.at),
                entry.actor,
                entry.action,
                entry.subject_id.map(|s| id(s).to_vec()),
                entry.purpose,
                entry.detail.to_string(),
                &prev_hash[..],
                &hash[..]
            ])
            .map_err(write_error)?;
        appended.push(AuditEntry { seq, entry: entry.clone(), prev_hash, hash });
        prev_hash = hash;
    }
    Ok(appended)
}

/// Stores `events`: a known visitor's in `events`, a cookieless one's in `anonymous_events`.
pub(crate) fn insert_events(tx: &rusqlite::Transaction<'_>, events: &[StoredEvent]) -> Result<(), StoreError> {
    let mut known = tx
        .prepare_cached(
            "INSERT INTO events (subject_id, event_id, at, kind, path, referrer, entry, duration_ms, sealed_ip, \
             country, browser, os, device) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .map_err(write_error)?;
    let mut anonymous = tx
        .prepare_cached(
            "INSERT INTO anonymous_events (visitor_hash, event_id, at, kind, path, referrer, entry, duration_ms, \
             country, browser, os, device) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .map_err(write_error)?;
    for e in events {
        let (event_id, at) = (&e.event_id.as_bytes()[..], to_millis(e.at));
        match &e.visitor {
            EventVisitor::Subject(subject) => known
                .execute(params![
                    &id(*subject)[..],
                    event_id,
                    at,
                    e.kind,
                    e.path,
                    e.referrer,
                    e.entry,
                    e.duration_ms,
                    e.sealed_ip,
                    e.country,
                    e.browser,
                    e.os,
                    e.device
                ])
                .map_err(|err| {
                    if is_foreign_key(&err) {
                        StoreError::NotFound("the event's subject".into())
                    } else {
                        write_error(err)
                    }
                })?,
            EventVisitor::Anonymous(hash) => anonymous
                .execute(params![
                    &hash[..],
                    event_id,
                    at,
                    e.kind,
                    e.path,
                    e.referrer,
                    e.entry,
                    e.duration_ms,
                    e.country,
                    e.browser,
                    e.os,
                    e.device
                ])
                .map_err(write_error)?,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer on a new database file with one table.
    fn scratch() -> (tempfile::TempDir, InlineWriter) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("w.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER NOT NULL);"))
            .expect("create");
        let writer =
            InlineWriter::new(&path, Duration::from_secs(1), Arc::new(tokio::sync::Mutex::new(()))).expect("writer");
        (dir, writer)
    }

    fn insert(tx: &rusqlite::Transaction<'_>, v: i64) -> Result<(), StoreError> {
        tx.execute("INSERT INTO t (v) VALUES (?1)", [v]).map(drop).map_err(write_error)
    }

    fn stored(dir: &Path) -> Vec<i64> {
        let conn = Connection::open(dir.join("w.db")).expect("open");
        let mut statement = conn.prepare("SELECT v FROM t ORDER BY v").expect("prepare");
        statement.query_map([], |row| row.get(0)).expect("query").map(|v| v.expect("row")).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_or_panicking_job_leaves_nothing_and_the_next_one_commits() {
        let (dir, writer) = scratch();
        writer.transaction(|tx| insert(tx, 1)).await.expect("first");
        let failed = writer
            .transaction(|tx| {
                insert(tx, 2)?;
                Err::<(), _>(StoreError::Conflict("refused".into()))
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
        let panicked = writer
            .transaction::<(), _>(|tx| {
                insert(tx, 3)?;
                panic!("a bug in a job");
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Unavailable(_))), "{panicked:?}");
        let answer = writer.transaction(|tx| insert(tx, 4).map(|()| "four")).await.expect("after");
        assert_eq!(answer, "four", "each job gets its own answer back");
        // Jobs from many tasks at once all commit, each once.
        let writer = Arc::new(writer);
        let tasks: Vec<_> = (10..60)
            .map(|v| {
                let writer = writer.clone();
                tokio::spawn(async move { writer.transaction(move |tx| insert(tx, v)).await })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("insert");
        }
        let expected: Vec<i64> = [1, 4].into_iter().chain(10..60).collect();
        assert_eq!(stored(dir.path()), expected);
        // Dropping the writer ends its thread and waits for it (this would hang otherwise).
        let writer = Arc::try_unwrap(writer).expect("the only handle");
        let started = std::time::Instant::now();
        drop(writer);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    /// A job whose caller gave up, queued behind the write turn that a task of a
    /// single-threaded runtime holds, must not deadlock that runtime when the writer is
    /// dropped there; the job still commits once the turn is free.
    #[test]
    fn dropping_the_writer_on_a_single_threaded_runtime_does_not_wait_for_that_runtimes_tasks() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("w.db");
        Connection::open(&path)
            .and_then(|c| c.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER NOT NULL);"))
            .expect("create");
        let (finished, outcome) = mpsc::channel();
        let runtime_path = path.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let turn = Arc::new(tokio::sync::Mutex::new(()));
                let writer = InlineWriter::new(&runtime_path, Duration::from_secs(1), turn.clone()).expect("writer");
                let held = turn.lock_owned().await;
                // The caller sends its job, then gives up before the answer.
                let mut gave_up = Box::pin(writer.transaction(|tx| insert(tx, 7)));
                assert!(futures_poll_once(gave_up.as_mut()).is_none(), "the turn is held: no answer yet");
                drop(gave_up);
                let holder = tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    drop(held);
                });
                drop(writer);
                holder.await.expect("the holder ran");
            });
            let _ = finished.send(());
        });
        outcome
            .recv_timeout(Duration::from_secs(20))
            .expect("dropping the writer deadlocked the runtime that holds the write turn");
        // The detached thread commits the queued job once the turn is free, then ends.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while stored(dir.path()) != [7] {
            assert!(std::time::Instant::now() < deadline, "the queued job never committed");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls `future` once with a waker that does nothing: its answer if it is ready.
    fn futures_poll_once<F: std::future::Future>(future: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.poll(&mut context) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        }
    }
}
