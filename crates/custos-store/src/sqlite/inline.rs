//! Hot reads on the caller's own thread, through read-only connections of their own.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement is a message
//! to that thread and an answer back, two thread wake-ups. Profiles of the purpose-gated
//! read on a 2-core machine (docs/PERFORMANCE.md, "Profiles") put half its CPU time in the
//! kernel switching those threads, for statements that SQLite itself answers in a few
//! microseconds from its page cache. The reads every request makes (the gate's view of a
//! person, their records and consent ledger, their data key, the subject behind an
//! identifier) run here instead, inline: cheaper than the hop they replace.
//!
//! The connections are opened lazily (after migrations), read through WAL beside the
//! writer (each statement sees the last commit), are `query_only`, and are kept in a small
//! idle list. An in-memory database cannot be shared between connections, so it has no
//! inline reads: the store then reads through sqlx as PostgreSQL does.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use uuid::Uuid;

use crate::queries;
use crate::time::from_millis;
use crate::{
    BlindIndex, Choices, DataKeyLookup, IdentifierKind, Record, StoreError, StoredConsent, StoredDataKey, Subject,
    SubjectId,
};

/// Idle connections kept; more are opened under load and closed when returned.
const MAX_IDLE: usize = 8;

/// A read waits at most this long for a lock (only WAL recovery takes one from readers).
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

/// Read-only connections to one SQLite file, used on the calling thread.
pub(crate) struct InlineReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for InlineReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReads").field("path", &self.path).finish_non_exhaustive()
    }
}

impl InlineReads {
    /// Inline reads of the database file at `path`, or `None` for an in-memory database.
    pub(crate) fn for_file(path: &Path) -> Option<Self> {
        let name = path.to_string_lossy();
        if name.is_empty() || name == ":memory:" || name.contains("mode=memory") {
            return None;
        }
        Some(Self { path: path.to_owned(), idle: Mutex::new(Vec::new()) })
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(read_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(read_error)?;
        // Like the pool's connections: 32 MiB of page cache; and never a write from here.
        conn.execute_batch("PRAGMA cache_size = -32768; PRAGMA query_only = ON;").map_err(read_error)?;
        Ok(conn)
    }

    /// Runs `read` on an idle connection (a new one when none is idle).
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let out = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        drop(idle);
        out.map_err(read_error)
    }

    /// The rows of `sql` (cached as a prepared statement) bound to one UUID, each mapped by `row`.
    pub(crate) fn rows_by_id<T>(
        &self,
        sql: &str,
        id: Uuid,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            let rows = statement.query_map([&id.as_bytes()[..]], row)?;
            rows.collect()
        })
    }

    /// The first row of `sql` bound to `params`, mapped by `row`, if any.
    pub(crate) fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StoreError> {
        self.read(|conn| conn.prepare_cached(sql)?.query_row(params, row).optional())
    }
}

/// The hot reads (see [`crate::queries`] for the statements).
impl InlineReads {
    pub(crate) fn subject(&self, id: SubjectId) -> Result<Option<Subject>, StoreError> {
        let row = self.row(queries::SUBJECT, [&id.0.as_bytes()[..]], |r| {
            Ok((uuid_at(r, 0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
        })?;
        row.map(|(id, kind, at)| Ok(Subject { id: SubjectId(id), kind: kind.parse()?, created_at: from_millis(at)? }))
            .transpose()
    }

    pub(crate) fn find_subject(
        &self,
        kind: IdentifierKind,
        index: &BlindIndex,
    ) -> Result<Option<SubjectId>, StoreError> {
        let id = self.row(queries::FIND_SUBJECT, rusqlite::params![kind.as_str(), &index.0[..]], |r| uuid_at(r, 0))?;
        Ok(id.map(SubjectId))
    }

    pub(crate) fn consent_history(&self, subject: SubjectId) -> Result<Vec<StoredConsent>, StoreError> {
        let rows = self.rows_by_id(queries::CONSENT_HISTORY, subject.0, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })?;
        rows.into_iter().map(|row| queries::stored_consent(subject, row)).collect()
    }

    pub(crate) fn choices(&self, subject: SubjectId) -> Result<Option<Choices>, StoreError> {
        let rows = self.rows_by_id(queries::CHOICES, subject.0, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(queries::choices(rows))
    }

    pub(crate) fn records(&self, subject: SubjectId) -> Result<Vec<Record>, StoreError> {
        let rows = self.rows_by_id(queries::RECORDS, subject.0, |r| {
            Ok((
                uuid_at(r, 1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Vec<u8>>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })?;
        rows.into_iter()
            .map(|(record_id, category, purpose, policy_version, sealed, created, expires)| {
                Ok(Record {
                    subject_id: subject,
                    record_id,
                    category,
                    purpose,
                    policy_version,
                    sealed,
                    created_at: from_millis(created)?,
                    expires_at: expires.map(from_millis).transpose()?,
                })
            })
            .collect()
    }

    pub(crate) fn data_key(&self, subject: SubjectId) -> Result<DataKeyLookup, StoreError> {
        let id = &subject.0.as_bytes()[..];
        let (key, erased) = self.read(|conn| {
            let key = conn
                .prepare_cached(queries::DATA_KEY)?
                .query_row([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, i64>(2)?)))
                .optional()?;
            let erased = match key {
                Some(_) => None,
                None => conn.prepare_cached(queries::ERASED_AT)?.query_row([id], |r| r.get::<_, i64>(0)).optional()?,
            };
            Ok((key, erased))
        })?;
        Ok(match (key, erased) {
            (Some((master_key_id, wrapped, created)), _) => DataKeyLookup::Found(StoredDataKey {
                subject_id: subject,
                master_key_id,
                wrapped,
                created_at: from_millis(created)?,
            }),
            (None, Some(at)) => DataKeyLookup::Erased(from_millis(at)?),
            (None, None) => DataKeyLookup::Missing,
        })
    }
}

/// A UUID stored as 16 bytes (as sqlx stores it in SQLite).
pub(crate) fn uuid_at(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Uuid> {
    let bytes: Vec<u8> = row.get(index)?;
    Uuid::from_slice(&bytes)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Blob, Box::new(e)))
}

/// A failed inline read, as the store reports it: a value that does not convert is a
/// corrupt row; anything else (busy, unreadable file) leaves the database unavailable.
fn read_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt(e.to_string()),
        other => StoreError::Unavailable(format!("SQLite read failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_in_memory_database_has_no_inline_reads() {
        assert!(InlineReads::for_file(Path::new(":memory:")).is_none());
        assert!(InlineReads::for_file(Path::new("")).is_none());
        assert!(InlineReads::for_file(Path::new("data/custos.db")).is_some());
    }

    #[test]
    fn reads_see_what_another_connection_committed_and_cannot_write() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db");
        let writer = Connection::open(&path).expect("open");
        writer.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (id BLOB, v TEXT);").expect("schema");
        let reads = InlineReads::for_file(&path).expect("a file");
        let id = Uuid::now_v7();
        let none = reads.rows_by_id("SELECT v FROM t WHERE id = $1", id, |r| r.get::<_, String>(0)).expect("read");
        assert!(none.is_empty());
        writer.execute("INSERT INTO t VALUES (?1, 'x')", [&id.as_bytes()[..]]).expect("insert");
        let seen = reads.rows_by_id("SELECT v FROM t WHERE id = $1", id, |r| r.get::<_, String>(0)).expect("read");
        assert_eq!(seen, vec!["x".to_owned()]);
        let refused = reads.read(|c| c.execute("DELETE FROM t", []));
        assert!(matches!(refused, Err(StoreError::Unavailable(_))), "{refused:?}");
        let still = reads.row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)).expect("count");
        assert_eq!(still, Some(1));
    }
}
