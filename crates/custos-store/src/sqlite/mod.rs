//! The SQLite store: the embedded default, one file under the data directory.
//!
//! Connections use WAL (readers never wait for the writer), a busy timeout (writers queue
//! instead of failing) and enforced foreign keys. Transactions that write begin with
//! `BEGIN IMMEDIATE`, so that a transaction never has to upgrade a read lock.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, Transaction};

mod checkpoint;
mod inline;
pub(crate) mod writer;

pub(crate) use inline::InlineReads;
pub(crate) use writer::InlineWriter;

use crate::activity::activity_store;
use crate::campaigns::campaign_store;
use crate::confirmations::confirmation_store;
use crate::governance::governance_store;
use crate::inbox::inbox_store;
use crate::migrate::{AppliedMigration, Migration, apply_migrations, key_migrations, main_migrations};
use crate::partners::partner_store;
use crate::portable::{portable_keystore, portable_store};
use crate::rights::rights_store;
use crate::staff::staff_store;
use crate::{Backend, ConnectOptions, DatabaseUrl, Job, PoolStats, Store, StoreError};

/// The SQLite migrations, in order.
const MIGRATIONS: &[Migration] = main_migrations!("sqlite");

/// The key-store migrations, in order (see [`crate::KeyStore`]).
const KEY_MIGRATIONS: &[Migration] = key_migrations!("sqlite");

/// How long a writer waits for another writer before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// WAL pages after which a committing connection copies the WAL back into the database
/// itself. The store's checkpoint thread (see the `checkpoint` module) does that every
/// 100 ms without holding up any writer, so a writer reaches this mark only when the thread
/// cannot keep up or has stopped: it bounds the log (400 MB at 4 KiB pages) rather than
/// paces it. Before the thread, the mark was 10,000 pages and the commit crossing it copied
/// and synced the log while every other writer waited (docs/perf/profiles.md).
pub(crate) const WAL_BACKSTOP: &str = "100000";

/// A store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    max_connections: u32,
    /// This process's writers take turns here before `BEGIN IMMEDIATE`. SQLite has one
    /// writer per file; without the queue, a writer that finds the lock taken sleeps in
    /// SQLite's busy handler (1, 2, 5, 10… ms) instead of starting the moment it is free,
    /// and concurrent group commits (ledger, events, audit) waste most of their time there.
    write_turn: Arc<tokio::sync::Mutex<()>>,
    /// The hot reads, on the caller's thread (see the `inline` module); none in memory.
    inline: Option<Arc<InlineReads>>,
    /// The hot write transactions, on the writer thread (see the `writer` module); none in memory.
    writer: Option<Arc<InlineWriter>>,
    /// Copies the log back into the file off the write path (see the `checkpoint` module);
    /// none in memory. Stops when the last clone of the store is dropped.
    _checkpointer: Option<Arc<checkpoint::Checkpointer>>,
}

/// A connection (`C`: a transaction or a pooled connection) held together with this
/// process's turn to write; dereferences to the connection. Dropped, it releases the
/// connection (a transaction rolls back), then passes the turn on.
pub(crate) struct Turned<C> {
    conn: C,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

/// A write transaction holding the turn, like a [`Transaction`].
pub(crate) type WriteTx = Turned<Transaction<'static, Sqlite>>;

/// A connection for one statement that writes outside a transaction (SQLite commits it on
/// its own), holding the turn.
pub(crate) type WriteConn = Turned<PoolConnection<Sqlite>>;

impl WriteTx {
    /// Commits, then passes the turn on.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.conn.commit().await
    }
}

impl<C: std::ops::Deref<Target = SqliteConnection>> std::ops::Deref for Turned<C> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl<C: std::ops::DerefMut<Target = SqliteConnection>> std::ops::DerefMut for Turned<C> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

impl SqliteStore {
    /// Opens (and creates when missing) the SQLite database that `url` names.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Self, StoreError> {
        let fail = |reason: String| StoreError::Connect { target: url.redacted(), reason };
        let connect = SqliteConnectOptions::from_str(url.expose())
            .map_err(|e| StoreError::InvalidUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            // 32 MiB of page cache per connection (SQLite's default is 2 MiB): a person's
            // rows in a database of many gigabytes stay a few page reads away.
            .pragma("cache_size", "-32768")
            .pragma("wal_autocheckpoint", WAL_BACKSTOP)
            .foreign_keys(true);
        let max_connections = options.max_connections.max(1);
        // Several processes opening a new database together race to turn on WAL; SQLite
        // answers the losers "database is locked" at once, without waiting out the busy
        // timeout (two readers both upgrading would deadlock). They try again shortly.
        let mut attempt = 0;
        loop {
            match Self::open_pool(connect.clone(), max_connections, options).await {
                Err(e) if attempt < 6 && e.to_string().contains("database is locked") => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
                }
                Err(e) => {
                    return Err(fail(format!(
                        "{}; check that the directory exists and is writable",
                        crate::error::one_line(&e)
                    )));
                }
                Ok(pool) => {
                    let inline = InlineReads::for_file(connect.get_filename()).map(Arc::new);
                    let write_turn = Arc::new(tokio::sync::Mutex::new(()));
                    let writer = inline
                        .as_ref()
                        .map(|_| {
                            InlineWriter::new(connect.get_filename(), BUSY_TIMEOUT, write_turn.clone()).map(Arc::new)
                        })
                        .transpose()
                        .map_err(|e| fail(format!("could not start the writer thread: {e}")))?;
                    let checkpointer = inline
                        .as_ref()
                        .map(|_| checkpoint::Checkpointer::start(connect.get_filename()).map(Arc::new))
                        .transpose()
                        .map_err(|e| fail(format!("could not start the checkpoint thread: {e}")))?;
                    return Ok(Self { pool, max_connections, write_turn, inline, writer, _checkpointer: checkpointer });
                }
            }
        }
    }

    async fn open_pool(
        connect: SqliteConnectOptions,
        max_connections: u32,
        options: &ConnectOptions,
    ) -> Result<SqlitePool, sqlx::Error> {
        SqlitePoolOptions::new()
            .max_connections(max_connections)
            // A COMMIT that fails (the disk full: SQLite then rolls the transaction back
            // itself) leaves sqlx counting a transaction that no longer exists, and every
            // later BEGIN on that connection fails. Such a connection is closed instead of
            // handed out again; the ping first lets a rollback still queued on it run.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection;
                    if conn.is_in_transaction() {
                        conn.ping().await?;
                    }
                    Ok(!conn.is_in_transaction())
                })
            })
            .acquire_timeout(options.connect_timeout)
            .connect_with(connect)
            .await
    }

    /// Where the hot reads run: inline, on a file database.
    fn inline_reads(&self) -> Option<&InlineReads> {
        self.inline.as_deref()
    }

    /// Where the hot write transactions run: on the inline writer, on a file database.
    fn inline_writer(&self) -> Option<&InlineWriter> {
        self.writer.as_deref()
    }

    /// SQLite takes the portable multi-row INSERT (when the inline writer does not write).
    async fn insert_events_as_arrays(
        _conn: &mut sqlx::SqliteConnection,
        _events: &[crate::StoredEvent],
    ) -> Option<Result<(), StoreError>> {
        None
    }

    /// SQLite reads choices one by one (inline, on a file database): a statement is no
    /// round trip there.
    async fn batched_choices(&self, _subject: crate::SubjectId) -> Option<Result<Option<crate::Choices>, StoreError>> {
        None
    }

    /// SQLite reads each ledger alone, as it does choices.
    async fn batched_ledger(
        &self,
        _subject: crate::SubjectId,
    ) -> Option<Result<Vec<crate::queries::ConsentRow>, StoreError>> {
        None
    }

    /// A transaction that holds SQLite's write lock from its first statement, after this
    /// process's earlier writers.
    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let turn = self.write_turn.clone().lock_owned().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Turned { conn: tx, _turn: turn })
    }

    /// A connection for one write statement outside a transaction, after this process's
    /// other writers: every write waits its turn here rather than in SQLite's busy handler,
    /// which sleeps 1, 2, 5, 10… ms between tries (2.25 s of sleep in one `rights` run
    /// before; see docs/perf/profiles.md).
    async fn write_conn(&self) -> Result<WriteConn, StoreError> {
        let turn = self.write_turn.clone().lock_owned().await;
        let conn = self.pool.acquire().await?;
        Ok(Turned { conn, _turn: turn })
    }

    /// Appends to the audit chain are already serialised by `BEGIN IMMEDIATE`.
    async fn lock_audit(_tx: &mut WriteTx) -> Result<(), StoreError> {
        Ok(())
    }

    /// One `UPDATE … RETURNING` picks and claims the next due job atomically: SQLite runs
    /// one writer at a time, so no two claimers can see the same job as due.
    async fn claim_one(
        &self,
        worker: &str,
        kinds: &[&str],
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Job>, StoreError> {
        // The kinds as a JSON array, which `json_each` reads: one statement for any number.
        let kinds = serde_json::to_string(kinds).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let row = sqlx::query::<Sqlite>(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $3, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE ((state = 'pending' AND run_at <= $2) OR (state = 'running' AND locked_until <= $2)) \
                           AND kind IN (SELECT value FROM json_each($4)) \
                         ORDER BY priority DESC, run_at, id LIMIT 1) \
             RETURNING *",
        )
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(kinds)
        .fetch_optional(&mut *self.write_conn().await?)
        .await?;
        row.as_ref().map(crate::rows::job).transpose()
    }

    /// Applies the key-store migrations.
    async fn migrate_keys_impl(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        self.apply_migrations("custos_key_migrations", KEY_MIGRATIONS).await
    }

    /// Applies `migrations` not yet recorded in the bookkeeping table `table`, in one
    /// transaction that holds the migration lock.
    async fn apply_migrations(
        &self,
        table: &str,
        migrations: &[Migration],
    ) -> Result<Vec<AppliedMigration>, StoreError> {
        let mut tx = self.begin_write().await?;
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {table} (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, \
             checksum BLOB NOT NULL, applied_at INTEGER NOT NULL)"
        );
        let applied = apply_migrations!(Sqlite, tx, table, migrations, create);
        tx.commit().await?;
        Ok(applied)
    }
}

portable_store!(SqliteStore, Sqlite);
campaign_store!(SqliteStore, Sqlite);
rights_store!(SqliteStore, Sqlite);
governance_store!(SqliteStore, Sqlite);
staff_store!(SqliteStore, Sqlite);
activity_store!(SqliteStore, Sqlite);
partner_store!(SqliteStore, Sqlite);
inbox_store!(SqliteStore, Sqlite);
confirmation_store!(SqliteStore, Sqlite);
portable_keystore!(SqliteStore, Sqlite);

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query::<Sqlite>("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        self.apply_migrations("custos_migrations", MIGRATIONS).await
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.max_connections,
        }
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
