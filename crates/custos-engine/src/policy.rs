//! The policy in force and its history (seed 10).
//!
//! At start custos publishes the policy it runs with: its version (content hash) is stored
//! with the whole canonical policy, once. Every version ever in force can then be listed,
//! read back, and compared with another, which is what change notices and re-consent use.

use std::sync::Arc;

use custos_policy::version::canonical;
use custos_policy::{Policy, PolicyDiff, PolicyVersion};
use custos_store::{Store, StoreError, StoredPolicyVersion};
use jiff::Timestamp;

/// Errors reading the policy history.
#[derive(Debug, thiserror::Error)]
pub enum PolicyHistoryError {
    /// No version with this hash was ever in force.
    #[error("no policy version `{0}` was ever in force")]
    UnknownVersion(String),
    /// A stored version could not be read back.
    #[error("stored policy version `{hash}` is unreadable: {reason}")]
    Unreadable {
        /// The version.
        hash: String,
        /// Why.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Stores `policy` as a version in force, unless it already is. Returns its version and
/// whether it is new.
pub async fn publish(
    store: &Arc<dyn Store>,
    policy: &Policy,
    now: Timestamp,
) -> Result<(PolicyVersion, bool), StoreError> {
    let version = policy.version();
    let stored = StoredPolicyVersion {
        hash: version.hash.clone(),
        label: version.label.clone(),
        effective: version.effective.to_string(),
        canonical: canonical(policy),
        first_seen_at: now,
    };
    let new = store.record_policy_version(&stored).await?;
    if new {
        tracing::info!(version = version.short(), label = %version.label, "a new policy version is in force");
    }
    Ok((version, new))
}

/// Every version ever in force, oldest first.
pub async fn history(store: &Arc<dyn Store>) -> Result<Vec<StoredPolicyVersion>, StoreError> {
    store.policy_versions().await
}

/// The policy of a past (or the current) version.
pub async fn version(store: &Arc<dyn Store>, hash: &str) -> Result<Policy, PolicyHistoryError> {
    let stored =
        store.policy_version(hash).await?.ok_or_else(|| PolicyHistoryError::UnknownVersion(hash.to_owned()))?;
    serde_json::from_str(&stored.canonical)
        .map_err(|e| PolicyHistoryError::Unreadable { hash: hash.to_owned(), reason: e.to_string() })
}

/// What changed from version `from` to version `to`.
pub async fn diff(store: &Arc<dyn Store>, from: &str, to: &str) -> Result<PolicyDiff, PolicyHistoryError> {
    let (old, new) = (version(store, from).await?, version(store, to).await?);
    Ok(PolicyDiff::between(&old, &new))
}
