//! The versions of the privacy policy that have been in force.
//!
//! A version is stored once, under its content hash, with the canonical JSON of the whole
//! policy, so that any past version can be shown, diffed against another, or used to
//! explain what a person consented to.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

/// A stored policy version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicyVersion {
    /// Hex SHA-256 of the canonical content.
    pub hash: String,
    /// The human label.
    pub label: String,
    /// The effective date, as `YYYY-MM-DD`.
    pub effective: String,
    /// The whole policy as canonical JSON.
    pub canonical: String,
    /// When this custos first put the version in force.
    pub first_seen_at: Timestamp,
}

/// Policy versions.
#[async_trait]
pub trait PolicyVersionStore {
    /// Stores a version unless one with the same hash exists. Returns whether it was new.
    async fn record_policy_version(&self, version: &StoredPolicyVersion) -> Result<bool, StoreError>;

    /// Every stored version, oldest first (without their canonical JSON, which is left empty).
    async fn policy_versions(&self) -> Result<Vec<StoredPolicyVersion>, StoreError>;

    /// One version with its canonical JSON.
    async fn policy_version(&self, hash: &str) -> Result<Option<StoredPolicyVersion>, StoreError>;
}
