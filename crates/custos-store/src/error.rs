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
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// True when the database is unreachable or overloaded rather than the request bad.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Connect { .. }
                | StoreError::Unavailable(_)
                | StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed)
        )
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
