//! Marketing (seed 3.4, 9): signed unsubscribe links and their one-click use (RFC 8058).
//!
//! A link reads `SUBJECT.PURPOSE.MAC`, the MAC made under custos's index key over the
//! subject and purpose: it cannot be forged, nor turned into another person's link.
//! Unsubscribing withdraws the consent (method `unsubscribe`) and records an objection to
//! the purpose, which for direct marketing the gate treats as absolute: a suppression that
//! no later processing can override, while keeping no more than the person's id.

use std::sync::Arc;

use custos_store::{NewAuditEntry, Store, StoreError, SubjectId};

use crate::audit::Auditor;
use crate::consent::{ConsentError, ConsentRecord, ConsentTarget, Consents};
use crate::gate::Actor;
use crate::tokens::base64url;
use crate::vault::Vault;

const CONTEXT: &str = "custos/unsubscribe/v1";

/// Why an unsubscribe link was refused.
#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeError {
    /// The link is malformed, forged or for someone else.
    #[error("this unsubscribe link is not valid")]
    BadLink,
    /// Recording the withdrawal failed.
    #[error(transparent)]
    Consent(#[from] ConsentError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The signed token of `subject`'s unsubscribe link for `purpose`.
pub fn token(vault: &Vault, subject: SubjectId, purpose: &str) -> String {
    let mac = vault.mac(CONTEXT, format!("{subject}:{purpose}").as_bytes());
    format!("{subject}.{purpose}.{}", base64url(&mac))
}

/// Checks a token; returns the subject and purpose it names.
pub fn verify(vault: &Vault, token: &str) -> Result<(SubjectId, String), UnsubscribeError> {
    let mut parts = token.splitn(3, '.');
    let (Some(subject), Some(purpose), Some(mac)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(UnsubscribeError::BadLink);
    };
    let subject: uuid::Uuid = subject.parse().map_err(|_| UnsubscribeError::BadLink)?;
    let expected = base64url(&vault.mac(CONTEXT, format!("{subject}:{purpose}").as_bytes()));
    if !crate::tokens::constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
        return Err(UnsubscribeError::BadLink);
    }
    Ok((SubjectId(subject), purpose.to_owned()))
}

/// Unsubscribes the person a valid token names: withdraws the consent and suppresses.
pub async fn unsubscribe(
    vault: &Vault,
    consents: &Consents,
    store: &Arc<dyn Store>,
    auditor: &Auditor,
    token: &str,
) -> Result<SubjectId, UnsubscribeError> {
    let (subject, purpose) = verify(vault, token)?;
    if store.subject(subject).await?.is_none() {
        // Erased meanwhile: nothing left to mail.
        return Ok(subject);
    }
    let record = ConsentRecord {
        target: ConsentTarget::Subject(subject),
        purpose: purpose.clone(),
        granted: false,
        method: "unsubscribe".into(),
        text_version: String::new(),
        source_ip: None,
    };
    match consents.record(&Actor::Subject(subject), &record).await {
        Ok(_) | Err(ConsentError::Invalid { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let now = jiff::Timestamp::now();
    store.record_objection(subject, &purpose, now).await?;
    auditor
        .append(NewAuditEntry {
            at: now,
            actor: Actor::Subject(subject).audit_name(),
            action: "marketing.unsubscribe".into(),
            subject_id: Some(subject),
            purpose: Some(purpose),
            detail: serde_json::json!({"outcome": "suppressed"}),
        })
        .await?;
    Ok(subject)
}
