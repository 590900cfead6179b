//! Storage for custos.
//!
//! The engine talks to storage only through the [`Store`] trait, which is the sum of one
//! small trait per area ([`SubjectStore`], [`RecordStore`], [`JobStore`], [`AuditStore`]).
//! Two implementations exist, each with its own SQL and migrations:
//!
//! - [`sqlite::SqliteStore`]: the embedded default (WAL, busy timeout, foreign keys);
//! - [`postgres::PgStore`]: the production backend; several custos processes may share one
//!   database.
//!
//! [`connect`] picks the backend from the URL scheme (`sqlite://…` or `postgres://…`),
//! opens a pool and applies pending migrations.
//!
//! The store never sees personal values in clear: identifiers arrive as blind indexes and
//! record values as sealed bytes. Every personal-data table has `subject_id` as the first
//! column of its key, so that one person's rows stay together on a sharded database.

#![forbid(unsafe_code)]

mod accounts;
mod activity;
mod audit;
mod campaigns;
mod confirmations;
mod error;
mod events;
mod governance;
mod inbox;
mod jobs;
mod keys;
mod migrate;
mod partners;
mod policy_versions;
mod portable;
pub mod postgres;
mod queries;
mod records;
mod rights;
mod rows;
pub mod sqlite;
mod staff;
mod subject_state;
mod subjects;
mod time;
mod tokens;
mod url;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use crate::accounts::{Account, AccountStore};
pub use crate::activity::{ActivityStore, ConsentDay, ConsentMethodCount};
pub use crate::audit::{AuditEntry, AuditStore, GENESIS_HASH, NewAuditEntry, audit_hash};
pub use crate::campaigns::{Campaign, CampaignStore};
pub use crate::confirmations::{ConfirmationStore, PendingConfirmation};
pub use crate::error::StoreError;
pub use crate::events::{EventStore, EventTotals, EventVisitor, StoredEvent};
pub use crate::governance::{
    Breach, Disclosure, ExpiredRecord, GovernanceNotice, GovernanceStore, LegalHold, LegalRequest, RetentionSweep,
    SweepCursor,
};
pub use crate::inbox::{InboxMessage, InboxStore, InboxThread, PartnerRequest};
pub use crate::jobs::{Enqueued, Job, JobCounts, JobFailure, JobState, JobStore, NewJob};
pub use crate::keys::{DataKeyLookup, KeyStore, StoredDataKey, StoredSystemKey};
pub use crate::migrate::AppliedMigration;
pub use crate::partners::{
    Partner, PartnerKey, PartnerRecord, PartnerStore, PartnerUpload, PrivacyBudget, SubProcessor,
};
pub use crate::policy_versions::{PolicyVersionStore, StoredPolicyVersion};
pub use crate::records::{NewRecord, Record, RecordStore};
pub use crate::rights::{RightsCount, RightsRequest, RightsStore};
pub use crate::staff::{StaffMember, StaffStore};
pub use crate::subject_state::{
    AppendedConsents, Choices, ConsentEntry, ConsentWrite, NewVisitor, StoredConsent, SubjectStateStore,
};
pub use crate::subjects::{BlindIndex, IdentifierKind, NewSubject, Subject, SubjectId, SubjectKind, SubjectStore};
pub use crate::tokens::{ServiceToken, TokenStore};
pub use crate::url::{Backend, DatabaseUrl};

/// Everything the engine needs from storage.
///
/// Implemented by [`sqlite::SqliteStore`] and [`postgres::PgStore`]; the conformance suite
/// in `tests/conformance` runs the same checks against both.
#[async_trait]
pub trait Store:
    SubjectStore
    + SubjectStateStore
    + RecordStore
    + JobStore
    + AuditStore
    + PolicyVersionStore
    + TokenStore
    + EventStore
    + AccountStore
    + CampaignStore
    + RightsStore
    + GovernanceStore
    + StaffStore
    + ActivityStore
    + PartnerStore
    + InboxStore
    + ConfirmationStore
    + Send
    + Sync
    + 'static
{
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks that the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Applies every migration not yet applied and returns the ones applied now.
    async fn migrate(&self) -> Result<Vec<AppliedMigration>, StoreError>;

    /// How the connection pool is used right now.
    fn pool_stats(&self) -> PoolStats;

    /// Closes the pool, waiting for connections in use to be returned.
    async fn close(&self);
}

/// Connection pool use, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open, idle or in use.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool will open.
    pub max: u32,
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The most connections the pool may hold.
    pub max_connections: u32,
    /// How long to keep trying to reach the database before giving up.
    pub connect_timeout: Duration,
    /// Whether to apply pending migrations when connecting.
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 10, connect_timeout: Duration::from_secs(10), migrate: true }
    }
}

/// Opens the key store that `url` names (see [`KeyStore`]) and, unless told otherwise,
/// migrates it. It may be the same database as the main store, but then a backup of that
/// database holds the keys that open it.
pub async fn connect_keys(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Arc<dyn KeyStore>, StoreError> {
    let keys: Arc<dyn KeyStore> = match url.backend() {
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::connect(url, options).await?),
        Backend::Postgres => Arc::new(postgres::PgStore::connect(url, options).await?),
    };
    if options.migrate {
        keys.migrate_keys().await?;
    }
    Ok(keys)
}

/// Opens the store that `url` names and, unless told otherwise, migrates it.
pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Arc<dyn Store>, StoreError> {
    let store: Arc<dyn Store> = match url.backend() {
        Backend::Sqlite => Arc::new(sqlite::SqliteStore::connect(url, options).await?),
        Backend::Postgres => Arc::new(postgres::PgStore::connect(url, options).await?),
    };
    if options.migrate {
        store.migrate().await?;
    }
    Ok(store)
}
