//! The audit log: one entry for every access to personal data and every change made to
//! it, chained by hashes so that an edited, removed or reordered entry is detected.
//!
//! Each entry's hash is SHA-256 over the previous entry's hash and the entry's fields
//! (see [`audit_hash`]). The store appends under a lock, so the chain has no forks even
//! with several custos processes on one database. Entries never hold personal values.

use async_trait::async_trait;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::{StoreError, SubjectId};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When it happened.
    pub at: Timestamp,
    /// Who did it: a staff member, a service token, `system`, a partner key id.
    pub actor: String,
    /// What was done, as a stable dotted name such as `record.read`.
    pub action: String,
    /// The person concerned, if any.
    pub subject_id: Option<SubjectId>,
    /// The purpose the access was made for, if any.
    pub purpose: Option<String>,
    /// Further facts as JSON, never personal values.
    pub detail: serde_json::Value,
}

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The entry's content.
    pub entry: NewAuditEntry,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

/// The hash of an entry at `seq` that follows `prev_hash`.
///
/// Every field is length-prefixed so that no two different entries hash the same input.
pub fn audit_hash(seq: i64, prev_hash: &[u8; 32], entry: &NewAuditEntry) -> [u8; 32] {
    fn field(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    }
    let mut h = Sha256::new();
    h.update(b"custos-audit-v1");
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(entry.at.as_millisecond().to_be_bytes());
    field(&mut h, entry.actor.as_bytes());
    field(&mut h, entry.action.as_bytes());
    field(&mut h, entry.subject_id.map(|s| s.0.into_bytes().to_vec()).unwrap_or_default().as_slice());
    field(&mut h, entry.purpose.as_deref().unwrap_or("").as_bytes());
    field(&mut h, entry.detail.to_string().as_bytes());
    h.finalize().into()
}

/// The audit log.
#[async_trait]
pub trait AuditStore {
    /// Appends an entry at the end of the chain and returns it as stored.
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError>;

    /// Appends entries in order, in one transaction, and returns them as stored.
    async fn append_audit_batch(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditEntry>, StoreError>;

    /// Entries with `seq > after`, in order, at most `limit`.
    async fn audit_entries(&self, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}
