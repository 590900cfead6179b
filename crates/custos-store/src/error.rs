//! The one error type of the store.
//!
//! Callers match on the variants that they can act on ([`StoreError::Conflict`],
//! [`StoreError::NotFound`]); the others are operational failures to log and report.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL could not be understood.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to the database at {target}: {reason}")]
    Connect {
        /// The URL with any password removed.
        target: String,
        /// Why the connection failed, in one line.
        reason: String,
    },
    /// A migration could not be applied, or an applied one was changed since.
    #[error("database migration {version} ({name}) failed: {reason}")]
    Migration {
        /// The migration's version number.
        version: i64,
        /// The migration's name.
        name: String,
        /// Why it failed.
        reason: String,
    },
    /// The write would break a uniqueness rule (for example an identifier already held).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A stored value could not be read back (for example an unknown enum value).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A part of the storage layer is not running (for example a stopped writer task).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The disk under the database is full (SQLite's inline writer; the sqlx paths report
    /// it as a [`StoreError::Database`] error with the disk-full code).
    #[error("the database's disk is full: {0}")]
    StorageFull(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True when the database is unreachable, restarting or overloaded rather than the
    /// request bad: PostgreSQL's connection errors (SQLSTATE class 08), shutdown and
    /// crash recovery (57P01–57P03), too many connections (53300), and a connection lost
    /// mid-answer.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Connect { .. } | StoreError::Unavailable(_) => true,
            StoreError::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::Io(_)
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_),
            ) => true,
            StoreError::Database(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
            }),
            _ => false,
        }
    }

    /// True when the database's disk is full: SQLite's `SQLITE_FULL` (primary result code
    /// 13; SQLite reports extended codes, and PostgreSQL's are five characters),
    /// PostgreSQL's `disk_full` (53100). Reads still work; writes resume once space is freed.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::StorageFull(_) => true,
            StoreError::Database(sqlx::Error::Database(db)) => db.code().is_some_and(|code| {
                code == "53100" || (code.len() < 5 && code.parse::<i64>().is_ok_and(|c| c & 0xff == 13))
            }),
            _ => false,
        }
    }
}

/// Maps a unique-violation database error to [`StoreError::Conflict`] with `what`.
pub(crate) fn conflict_on_unique(err: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
    {
        return StoreError::Conflict(what());
    }
    StoreError::Database(err)
}

/// Maps a foreign-key-violation database error (the row it refers to does not exist) to
/// [`StoreError::NotFound`] with `what`.
pub(crate) fn not_found_on_foreign_key(err: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &err
        && db.is_foreign_key_violation()
    {
        return StoreError::NotFound(what());
    }
    StoreError::Database(err)
}

/// Renders an error and its causes on one line, for messages that must fit one line.
pub(crate) fn one_line(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.replace('\n', " ")
}
