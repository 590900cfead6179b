//! Checkpoints off the write path: a thread of the store's own copies the write-ahead log
//! back into the database file, so that no writer waits for it.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its mark: that writer
//! copies every page of the log into the database file and syncs both files before it
//! answers, and every writer queued behind it waits too. Profiles of the consented ingest
//! (docs/perf/profiles.md, "Fourth pass") found the one writer blocked in those syncs for
//! most of its time: about 1 ms a commit on the wall clock, a third of it on the CPU.
//!
//! Here a thread with a connection of its own runs a `PASSIVE` checkpoint every
//! [`INTERVAL`]: it copies what readers no longer need while the writers go on, and never
//! waits for a lock. A writer that finds the log copied whole starts it again from its
//! beginning (SQLite does that by itself), but under commits that never pause the log is
//! rarely whole when one begins; so once a passive round has copied a log of
//! [`RESTART_MARK`] frames or more whole, the thread asks for a `RESTART`, which gives way
//! at once to a busy writer (see `round`). The writers' own automatic checkpoint stays on,
//! at [`super::WAL_BACKSTOP`], far beyond what the thread lets the log reach: if the thread
//! cannot keep up or stops, the log is still bounded.
//!
//! Several processes on one file each run one: a checkpoint that finds another running
//! gives way (`SQLITE_BUSY`) and the next one tries again.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How often the log is copied back.
const INTERVAL: Duration = Duration::from_millis(100);

/// Log frames past which, once a passive checkpoint has copied them all, the thread makes
/// the log start again (the mark SQLite's own checkpoint used here before: 40 MB).
const RESTART_MARK: i64 = 10_000;

/// What one checkpoint reported: whether another checkpoint or a lock kept it from
/// finishing, the frames in the log, and how many of them are now in the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Progress {
    pub(crate) busy: bool,
    pub(crate) log_frames: i64,
    pub(crate) copied_frames: i64,
}

/// Runs one `PASSIVE` checkpoint on `conn`.
pub(crate) fn checkpoint(conn: &Connection) -> rusqlite::Result<Progress> {
    run_checkpoint(conn, "PASSIVE")
}

fn run_checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<Progress> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok(Progress { busy: r.get::<_, i64>(0)? != 0, log_frames: r.get(1)?, copied_frames: r.get(2)? })
    })
}

/// One round: a passive checkpoint; then, when it copied a long log whole, a `RESTART`
/// one so that the log does not keep growing under writes that never pause (a writer
/// starts the log again only when it finds it copied whole, which a steady stream of
/// commits rarely lets happen). The restart takes the write lock for as long as it copies
/// the few frames written since the passive round, and gives way at once when a writer
/// or a reader is busy (the connection has no busy timeout): the next round tries again.
fn round(conn: &Connection, restart_mark: i64) -> rusqlite::Result<Progress> {
    let passive = checkpoint(conn)?;
    if passive.busy || passive.log_frames < restart_mark || passive.copied_frames < passive.log_frames {
        return Ok(passive);
    }
    match run_checkpoint(conn, "RESTART") {
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => Ok(passive),
        other => other,
    }
}

/// The checkpoint thread of one database file; stops (after a last checkpoint) when dropped.
pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer").finish_non_exhaustive()
    }
}

impl Checkpointer {
    /// Starts checkpointing the database file at `path` (already in WAL mode).
    pub(crate) fn start(path: &Path) -> std::io::Result<Self> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = std::thread::Builder::new().name("custos-checkpoint".into()).spawn({
            let (stop, path) = (stop.clone(), path.to_owned());
            move || run(&path, &stop)
        })?;
        Ok(Self { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(path: &Path, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    let mut conn: Option<Connection> = None;
    let mut failing = false;
    loop {
        let guard = stopped.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (guard, _) = wake
            .wait_timeout_while(guard, INTERVAL, |stopped| !*stopped)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let last = *guard;
        drop(guard);
        let outcome = match conn.as_ref() {
            Some(c) => round(c, RESTART_MARK),
            None => open(path).and_then(|c| round(conn.insert(c), RESTART_MARK)),
        };
        match outcome {
            Ok(_) => failing = false,
            Err(error) => {
                // Said once per run of failures (a full disk fails every 100 ms); the
                // writers' own checkpoint still bounds the log meanwhile.
                if !failing {
                    tracing::warn!(%error, file = %path.display(), "checkpoint failed; retrying");
                }
                failing = true;
                conn = None;
            }
        }
        if last {
            return;
        }
    }
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // A small cache: the checkpoint copies from the log file, not through the page cache.
    // No busy timeout: a restart that finds the writer busy gives way at once.
    conn.execute_batch("PRAGMA cache_size = -1024;")?;
    conn.busy_timeout(Duration::ZERO)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory removed when the test ends, and a database path in it.
    fn scratch() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        (dir, path)
    }

    /// A database in WAL mode whose writer never checkpoints, with `rows` rows of 3 KB
    /// written (about one log frame a row).
    fn logged(path: &Path, rows: usize) -> Connection {
        let writer = Connection::open(path).expect("open");
        writer
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; CREATE TABLE t (v BLOB);")
            .expect("schema");
        for _ in 0..rows {
            writer.execute("INSERT INTO t VALUES (randomblob(3000))", []).expect("insert");
        }
        writer
    }

    /// The size of the database file once it passes `bytes`, or after 50 intervals.
    fn wait_for_file(path: &Path, bytes: u64) -> u64 {
        let mut db = 0;
        for _ in 0..50 {
            std::thread::sleep(INTERVAL);
            db = std::fs::metadata(path).map_or(0, |m| m.len());
            if db > bytes {
                break;
            }
        }
        db
    }

    #[test]
    fn the_thread_copies_the_log_back_while_the_writer_never_checkpoints() {
        let (_dir, path) = scratch();
        let writer = logged(&path, 200);
        let checkpointer = Checkpointer::start(&path).expect("thread");
        // Only a checkpoint writes pages into the database file: within a few intervals the
        // thread has copied the rows there.
        let db = wait_for_file(&path, 200 * 3000);
        assert!(db > 200 * 3000, "the thread never copied the log back ({db} bytes in the file)");
        // The whole log copied, the writer's next transaction starts it again.
        std::thread::sleep(INTERVAL * 2);
        writer.execute("INSERT INTO t VALUES (x'00')", []).expect("insert");
        let reader = Connection::open(&path).expect("open");
        let after = checkpoint(&reader).expect("checkpoint");
        assert!(after.log_frames < 10, "the log started again: {after:?}");
        drop(checkpointer);
        drop((writer, reader));
    }

    #[test]
    fn a_long_log_copied_whole_is_restarted_and_a_busy_writer_is_not_waited_for() {
        let (_dir, path) = scratch();
        let writer = logged(&path, 40);
        let other = Connection::open(&path).expect("open");
        let checkpointer = open(&path).expect("open");

        // A writer in the middle of a transaction: the passive copy goes ahead, the restart
        // gives way at once, and the round is no error.
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (x'01');").expect("begin");
        let started = std::time::Instant::now();
        let progress = round(&checkpointer, 10).expect("a busy writer is no error");
        assert!(started.elapsed() < Duration::from_secs(1), "the restart waited for the writer");
        assert!(progress.log_frames >= 40 && progress.copied_frames == progress.log_frames, "{progress:?}");
        other.execute_batch("COMMIT;").expect("the writer's transaction is unharmed");

        // Nobody busy: the restart runs, and the next commit writes the log from its start.
        // (A writer also starts again a log it finds copied whole; what the restart adds is
        // for commits that never pause, which one thread cannot stage.)
        let progress = round(&checkpointer, 10).expect("round");
        assert!(!progress.busy, "{progress:?}");
        writer.execute("INSERT INTO t VALUES (x'02')", []).expect("insert");
        let after = checkpoint(&checkpointer).expect("checkpoint");
        assert!(after.log_frames < 10, "the log started again: {after:?}");

        // Under the mark, a round is only a passive copy.
        writer.execute("INSERT INTO t VALUES (x'03')", []).expect("insert");
        assert!(!round(&checkpointer, RESTART_MARK).expect("round").busy);
        assert_eq!(writer.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0)).expect("count"), 43);
    }

    #[test]
    fn the_thread_starts_copying_once_a_failing_file_can_be_opened() {
        let (_dir, path) = scratch();
        // The thread starts before the file exists: its rounds fail, then it retries.
        let checkpointer = Checkpointer::start(&path).expect("thread");
        std::thread::sleep(INTERVAL * 3);
        let _writer = logged(&path, 200);
        let db = wait_for_file(&path, 200 * 3000);
        assert!(db > 200 * 3000, "the thread never recovered ({db} bytes in the file)");
        drop(checkpointer);
    }

    #[test]
    fn a_missing_file_is_never_created_and_dropping_stops_the_thread() {
        let (_dir, path) = scratch();
        // No such file (opening read-write never creates it): the thread's rounds fail, and
        // it still stops at once when dropped.
        let checkpointer = Checkpointer::start(&path).expect("thread");
        std::thread::sleep(INTERVAL * 3);
        let started = std::time::Instant::now();
        drop(checkpointer);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(!path.exists(), "the checkpoint thread must not create a database");
    }
}
