//! The key store: wrapped data keys, the erased-subject tombstones, custos's own keys and
//! the audit anchor.
//!
//! It is a separate database from the main store (by default `./data/keys.db` beside
//! `./data/custos.db`; in production a separate PostgreSQL database), so that a copy or
//! backup of the main database never holds the keys that open it. Erasing a person destroys
//! their data key here first; from then on every copy of their sealed values is unreadable.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::{AppliedMigration, StoreError, SubjectId};

/// A data key as stored: wrapped under a master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDataKey {
    /// Whose key it is.
    pub subject_id: SubjectId,
    /// The id of the master key that wraps it.
    pub master_key_id: String,
    /// The wrapped key bytes.
    pub wrapped: Vec<u8>,
    /// When it was made.
    pub created_at: Timestamp,
}

/// What the key store knows of a subject's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataKeyLookup {
    /// The key exists.
    Found(StoredDataKey),
    /// The key was destroyed at this time: the subject is erased.
    Erased(Timestamp),
    /// No key was ever made for this subject.
    Missing,
}

/// One of custos's own keys (such as the blind-index key), wrapped under a master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSystemKey {
    /// The key's name.
    pub name: String,
    /// The id of the master key that wraps it.
    pub master_key_id: String,
    /// The wrapped key bytes.
    pub wrapped: Vec<u8>,
    /// When it was made.
    pub created_at: Timestamp,
}

/// The key store.
#[async_trait]
pub trait KeyStore: Send + Sync + 'static {
    /// Applies every key-store migration not yet applied.
    async fn migrate_keys(&self) -> Result<Vec<AppliedMigration>, StoreError>;

    /// Stores a new data key. A subject that has a key, or was erased, is a
    /// [`StoreError::Conflict`].
    async fn put_data_key(&self, key: &StoredDataKey) -> Result<(), StoreError>;

    /// A subject's data key, or why there is none.
    async fn data_key(&self, subject: SubjectId) -> Result<DataKeyLookup, StoreError>;

    /// Destroys a subject's data key and records the erasure, in one transaction. Returns
    /// whether a key was destroyed.
    async fn destroy_data_key(&self, subject: SubjectId, at: Timestamp) -> Result<bool, StoreError>;

    /// Up to `limit` data keys wrapped under `master_key_id`, in subject order, after `after`.
    async fn data_keys_under(
        &self,
        master_key_id: &str,
        after: Option<SubjectId>,
        limit: u32,
    ) -> Result<Vec<StoredDataKey>, StoreError>;

    /// Replaces a data key's wrapping, if it is still wrapped under `from_master_key_id`.
    /// Returns whether it was replaced.
    async fn rewrap_data_key(&self, key: &StoredDataKey, from_master_key_id: &str) -> Result<bool, StoreError>;

    /// [`KeyStore::rewrap_data_key`] for a batch, in one transaction. Returns how many were
    /// replaced.
    async fn rewrap_data_keys(&self, keys: &[StoredDataKey], from_master_key_id: &str) -> Result<u64, StoreError>;

    /// How many data keys each master key wraps.
    async fn count_data_keys_by_master(&self) -> Result<Vec<(String, u64)>, StoreError>;

    /// Stores a system key unless one of that name exists; returns the one stored.
    async fn put_system_key(&self, key: &StoredSystemKey) -> Result<StoredSystemKey, StoreError>;

    /// Every system key.
    async fn system_keys(&self) -> Result<Vec<StoredSystemKey>, StoreError>;

    /// Replaces a system key's wrapping, if still wrapped under `from_master_key_id`.
    async fn rewrap_system_key(&self, key: &StoredSystemKey, from_master_key_id: &str) -> Result<bool, StoreError>;

    /// The last audit entry known to have been appended: (sequence, hash).
    async fn audit_anchor(&self) -> Result<Option<(i64, [u8; 32])>, StoreError>;

    /// Moves the audit anchor forward to (seq, hash); an older seq leaves it unchanged.
    async fn advance_audit_anchor(&self, seq: i64, hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError>;

    /// Closes the key store's connections.
    async fn close_keys(&self);
}
