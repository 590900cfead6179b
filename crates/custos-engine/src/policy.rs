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
    let previous = store.policy_versions().await?.into_iter().rev().find(|v| v.hash != version.hash);
    let new = store.record_policy_version(&stored).await?;
    if new {
        tracing::info!(version = version.short(), label = %version.label, "a new policy version is in force");
        if let Some(previous) = previous
            && let Some(stored) = store.policy_version(&previous.hash).await?
            && let Ok(old) = serde_json::from_str::<Policy>(&stored.canonical)
        {
            announce(store, &old, policy, now).await?;
        }
    }
    Ok((version, new))
}

/// What a new version changed for people: the consent purposes whose consent no longer
/// counts, and how many account holders were sent a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Consent purposes to ask again.
    pub reconsent: Vec<String>,
    /// Notices queued.
    pub notices: usize,
}

/// Makes a change of policy take effect for people (seed 10): consents to the consent
/// purposes whose terms changed stop counting (the banner and forms ask again), and every
/// account holder is sent a notice listing the changes.
pub async fn announce(
    store: &Arc<dyn Store>,
    old: &Policy,
    new: &Policy,
    now: Timestamp,
) -> Result<Announcement, StoreError> {
    let diff = PolicyDiff::between(old, new);
    let reconsent = diff.reconsent_purposes(new);
    for purpose in &reconsent {
        store.reset_consents(purpose, now).await?;
    }
    if diff.is_empty() {
        return Ok(Announcement { reconsent, notices: 0 });
    }
    let name = |id: &str| new.purpose(id).or_else(|| old.purpose(id)).map_or(id.to_owned(), |p| p.name.clone());
    let mut lines = Vec::new();
    for (what, part) in [
        ("purposes", &diff.purposes),
        ("data categories", &diff.categories),
        ("recipients", &diff.recipients),
        ("cookies", &diff.cookies),
        ("retention rules", &diff.retention),
    ] {
        for (verb, ids) in [("added", &part.added), ("changed", &part.changed), ("removed", &part.removed)] {
            if !ids.is_empty() {
                let ids: Vec<String> =
                    ids.iter().map(|id| if what == "purposes" { name(id) } else { id.clone() }).collect();
                lines.push(format!("- {what} {verb}: {}", ids.join(", ")));
            }
        }
    }
    if diff.other {
        lines.push("- our contact details, your rights' contact or our security measures changed".into());
    }
    let version = new.version();
    let mut body = format!(
        "Hello {{{{name}}}},\n\nour privacy notice has changed (version {}, in effect from {}):\n\n{}\n\nRead it at /privacy.",
        version.label,
        new.meta.effective,
        lines.join("\n")
    );
    if !reconsent.is_empty() {
        let names: Vec<String> = reconsent.iter().map(|id| name(id)).collect();
        body.push_str(&format!(
            "\n\nThese uses rest on your consent and their terms changed, so we will ask you again before going on: {}.",
            names.join(", ")
        ));
    }
    let mut notices = 0;
    for subject in store.account_holders().await? {
        let mail = crate::mail::MailRequest {
            subject_id: subject,
            purpose: "account".into(),
            subject_line: "Our privacy notice has changed".into(),
            body: body.clone(),
            unsubscribe: None,
            campaign: None,
        };
        crate::mail::enqueue(store, &mail, Some(format!("policy-notice:{}:{subject}", version.hash))).await?;
        notices += 1;
    }
    Ok(Announcement { reconsent, notices })
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
