//! The PostgreSQL store: the production backend.
//!
//! Several custos processes may share one database: job claims use
//! `FOR UPDATE SKIP LOCKED`, appends to the audit chain and migrations take advisory
//! locks, and nothing is cached in a process that another could change.

mod batched;
mod events;

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};

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

/// The PostgreSQL migrations, in order.
const MIGRATIONS: &[Migration] = main_migrations!("postgres");

/// The key-store migrations, in order (see [`crate::KeyStore`]).
const KEY_MIGRATIONS: &[Migration] = key_migrations!("postgres");

/// Advisory lock keys ("custos" in ASCII, then a number per use).
const MIGRATION_LOCK: i64 = 0x0063_7573_746f_7301;
const AUDIT_LOCK: i64 = 0x0063_7573_746f_7302;

/// A store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    max_connections: u32,
    /// The connections the batched reads run on (see [`batched::pool`]).
    batch_pool: PgPool,
    /// Concurrent reads of people's choices, answered together.
    choices: batched::Batched<batched::ChoicesRows>,
    /// Concurrent reads of consent ledgers, answered together.
    ledgers: batched::Batched<batched::LedgerRows>,
}

impl PgStore {
    /// Connects to the PostgreSQL database that `url` names.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect = PgConnectOptions::from_str(url.expose())
            .map_err(|e| StoreError::InvalidUrl(format!("{url}: {}", crate::error::one_line(&e))))?
            .application_name("custos");
        let unreachable = |reason: String| StoreError::Connect { target: url.redacted(), reason };
        // One direct attempt first: a pool that cannot connect only says that it timed out,
        // while the attempt says why (refused, unknown host, authentication, no database).
        match tokio::time::timeout(options.connect_timeout, PgConnection::connect_with(&connect)).await {
            Ok(Ok(conn)) => conn.close().await?,
            Ok(Err(e)) => return Err(unreachable(crate::error::one_line(&e))),
            Err(_) => return Err(unreachable(format!("no answer within {:?}", options.connect_timeout))),
        }
        let max_connections = options.max_connections.max(1);
        let batch_pool = batched::pool(&connect, options.connect_timeout);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(options.connect_timeout)
            .connect_with(connect)
            .await
            .map_err(|e| unreachable(crate::error::one_line(&e)))?;
        Ok(Self { pool, max_connections, batch_pool, choices: Default::default(), ledgers: Default::default() })
    }

    /// PostgreSQL reads through the pool: its statements are network round trips already.
    fn inline_reads(&self) -> Option<&crate::sqlite::InlineReads> {
        None
    }

    /// PostgreSQL writes through the pool.
    fn inline_writer(&self) -> Option<&crate::sqlite::InlineWriter> {
        None
    }

    /// Events are inserted as arrays, one statement per table (see `events.rs`).
    async fn insert_events_as_arrays(
        conn: &mut PgConnection,
        events: &[crate::StoredEvent],
    ) -> Option<Result<(), StoreError>> {
        Some(events::insert(conn, events).await)
    }

    /// `subject`'s choices, read with the other requests' that wait at the same moment.
    async fn batched_choices(&self, subject: crate::SubjectId) -> Option<Result<Option<crate::Choices>, StoreError>> {
        Some(self.choices.read(&self.batch_pool, subject.0).await.map(crate::queries::choices))
    }

    /// `subject`'s consent ledger, read with the other requests' that wait at the same
    /// moment.
    async fn batched_ledger(
        &self,
        subject: crate::SubjectId,
    ) -> Option<Result<Vec<crate::queries::ConsentRow>, StoreError>> {
        Some(self.ledgers.read(&self.batch_pool, subject.0).await)
    }

    /// A read-write transaction.
    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A connection for one write statement outside a transaction: PostgreSQL queues
    /// writers itself, so any connection of the pool.
    async fn write_conn(&self) -> Result<sqlx::pool::PoolConnection<Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Serialises appends to the audit chain across every process on the database.
    async fn lock_audit(tx: &mut Transaction<'static, Postgres>) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(AUDIT_LOCK).execute(&mut **tx).await?;
        Ok(())
    }

    /// Picks the next due job with `FOR UPDATE SKIP LOCKED`, so that concurrent claimers
    /// each lock a different row, and claims it in the same statement.
    async fn claim_one(
        &self,
        worker: &str,
        kinds: &[&str],
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query::<Postgres>(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $3, updated_at = $2 \
             WHERE id = (SELECT id FROM jobs \
                         WHERE ((state = 'pending' AND run_at <= $2) OR (state = 'running' AND locked_until <= $2)) \
                           AND kind = ANY($4) \
                         ORDER BY priority DESC, run_at, id LIMIT 1 \
                         FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(kinds)
        .fetch_optional(&self.pool)
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
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {table} (version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, \
             checksum BYTEA NOT NULL, applied_at BIGINT NOT NULL)"
        );
        let applied = apply_migrations!(Postgres, tx, table, migrations, create);
        tx.commit().await?;
        Ok(applied)
    }
}

portable_store!(PgStore, Postgres);
campaign_store!(PgStore, Postgres);
rights_store!(PgStore, Postgres);
governance_store!(PgStore, Postgres);
staff_store!(PgStore, Postgres);
activity_store!(PgStore, Postgres);
partner_store!(PgStore, Postgres);
inbox_store!(PgStore, Postgres);
confirmation_store!(PgStore, Postgres);
portable_keystore!(PgStore, Postgres);

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query::<Postgres>("SELECT 1").execute(&self.pool).await?;
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
        self.batch_pool.close().await;
        self.pool.close().await;
    }
}
