//! Personal-data records: one sealed value of one data category, collected for one
//! purpose under one version of the policy.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{StoreError, SubjectId};

/// A record to store.
#[derive(Debug, Clone)]
pub struct NewRecord {
    /// The person the record is about.
    pub subject_id: SubjectId,
    /// The record's id, unique within the subject.
    pub record_id: Uuid,
    /// The data category, as a fideslang key such as `user.contact.email`.
    pub category: String,
    /// The purpose the value was collected for.
    pub purpose: String,
    /// The version (content hash) of the policy in force at collection.
    pub policy_version: String,
    /// The value, sealed by the vault with the subject's data key.
    pub sealed: Vec<u8>,
    /// When the value was collected.
    pub created_at: Timestamp,
    /// When retention ends, if it ends at a fixed time; `None` for event-based retention.
    pub expires_at: Option<Timestamp>,
}

/// A stored record.
pub type Record = NewRecord;

/// Personal-data records.
#[async_trait]
pub trait RecordStore {
    /// Stores a record of an existing subject.
    ///
    /// An unknown subject is [`StoreError::NotFound`]; a record id already used for the
    /// subject is a [`StoreError::Conflict`].
    async fn put_record(&self, record: &NewRecord) -> Result<(), StoreError>;

    /// Every record of a subject, oldest first.
    async fn records(&self, subject_id: SubjectId) -> Result<Vec<Record>, StoreError>;

    /// Deletes one record. Returns whether it existed.
    async fn delete_record(&self, subject_id: SubjectId, record_id: Uuid) -> Result<bool, StoreError>;
}
