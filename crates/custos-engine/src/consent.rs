//! The consent ledger (seed 2.2, 5, 7, 8.7, 9): append-only records of every grant and
//! withdrawal, with how it was given, under which policy version and text, and from where
//! (the address truncated). The current state of a purpose is its latest entry; the gate
//! reads it at every decision, so a withdrawal takes effect at once.
//!
//! Visitors who have no account are known by the id in their first-party cookie; the
//! first consent record from a new cookie creates a visitor subject found through the
//! cookie id's blind index.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::{LegalBasis, Policy};
use custos_store::{
    ConsentEntry, ConsentWrite, IdentifierKind, NewAuditEntry, NewSubject, NewVisitor, Store, StoreError,
    StoredConsent, SubjectId, SubjectKind,
};
use serde::Serialize;
use serde_json::json;

use crate::audit::{Anchor, Auditor};
use crate::clock::Clock;
use crate::gate::Actor;
use crate::group_commit::{Committer, GroupCommit};
use crate::vault::Vault;

/// How a consent was given or withdrawn.
pub const METHODS: &[&str] = &["banner", "form", "api", "email", "gpc", "agent", "unsubscribe"];

/// The methods by which people grant consent themselves. Such a grant to a
/// direct-marketing purpose lifts their earlier unsubscribe (the suppression): they asked
/// again. A grant through the API (an import, a backend) does not, so that an old list
/// loaded again cannot bring back people who unsubscribed.
pub const PERSONAL_METHODS: &[&str] = &["banner", "form", "email", "agent"];

/// Whose consent.
#[derive(Debug, Clone)]
pub enum ConsentTarget {
    /// A known subject.
    Subject(SubjectId),
    /// A visitor known by the id in their cookie (created on first record).
    Visitor {
        /// The cookie id.
        cookie_id: String,
    },
}

/// A consent or withdrawal to record.
#[derive(Debug, Clone)]
pub struct ConsentRecord {
    /// Whose.
    pub target: ConsentTarget,
    /// The purpose (a consent purpose of the policy).
    pub purpose: String,
    /// Granted or withdrawn.
    pub granted: bool,
    /// How (one of [`METHODS`]).
    pub method: String,
    /// The version of the text shown.
    pub text_version: String,
    /// Where the request came from (stored truncated).
    pub source_ip: Option<IpAddr>,
}

/// Why a consent record was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// Input was invalid; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The input at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The caller may not act for this purpose.
    #[error("the caller is not granted purpose `{0}`")]
    NotScoped(String),
    /// The subject does not exist.
    #[error("no subject {0}")]
    NoSubject(SubjectId),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The current state of one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentConsent {
    /// The purpose.
    pub purpose: String,
    /// Whether consent is live.
    pub granted: bool,
    /// When the latest entry was made.
    pub at: String,
    /// How.
    pub method: String,
    /// Under which policy version.
    pub policy_version: String,
}

/// The most ledger entries one transaction appends.
const MAX_BATCH: usize = 256;

/// The consent ledger.
pub struct Consents {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    policy: Arc<Policy>,
    auditor: Auditor,
    clock: Arc<dyn Clock>,
    writer: GroupCommit<LedgerCommitter>,
    /// The policy's version hash, computed once: hashing the policy costs microseconds.
    policy_version: String,
}

/// Appends ledger entries with their audit entries, many per transaction (see the
/// `group_commit` module), then hands the audit chain's new head to the [`Auditor`]'s anchor.
struct LedgerCommitter {
    store: Arc<dyn Store>,
    anchor: Anchor,
}

impl LedgerCommitter {
    async fn append(&self, writes: &[ConsentWrite]) -> Result<Vec<(SubjectId, i64)>, StoreError> {
        let appended = self.store.append_consents(writes).await?;
        self.anchor.advance(&appended.audit);
        Ok(appended.written)
    }
}

#[async_trait]
impl Committer for LedgerCommitter {
    type Item = ConsentWrite;
    type Output = (SubjectId, i64);

    async fn commit(&self, writes: &[ConsentWrite]) -> Result<Vec<(SubjectId, i64)>, StoreError> {
        self.append(writes).await
    }

    async fn commit_one(&self, write: &ConsentWrite) -> Result<(SubjectId, i64), StoreError> {
        let written = self.append(std::slice::from_ref(write)).await?;
        written.into_iter().next().ok_or_else(|| StoreError::Corrupt("no ledger entry appended".into()))
    }
}

impl std::fmt::Debug for Consents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consents").finish_non_exhaustive()
    }
}

impl Consents {
    /// The ledger on `store`, under `policy`, auditing through `auditor`. Starts the
    /// ledger's writer task, so it must be called within a Tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        policy: Arc<Policy>,
        auditor: Auditor,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let committer = LedgerCommitter { store: store.clone(), anchor: auditor.anchor().clone() };
        let writer = GroupCommit::spawn(committer, MAX_BATCH, "consent ledger");
        let policy_version = policy.version().hash;
        Self { store, vault, policy, auditor, clock, writer, policy_version }
    }

    /// Appends a grant or withdrawal; returns the subject and the entry's sequence number.
    pub async fn record(&self, actor: &Actor, record: &ConsentRecord) -> Result<(SubjectId, i64), ConsentError> {
        let purpose = self.policy.purpose(&record.purpose).ok_or_else(|| ConsentError::Invalid {
            field: "purpose",
            message: format!("the policy declares no purpose `{}`", record.purpose),
        })?;
        if purpose.legal_basis != LegalBasis::Consent {
            return Err(ConsentError::Invalid {
                field: "purpose",
                message: format!("purpose `{}` rests on {}, not on consent", purpose.id, purpose.legal_basis),
            });
        }
        if !METHODS.contains(&record.method.as_str()) {
            return Err(ConsentError::Invalid {
                field: "method",
                message: format!("use one of: {}", METHODS.join(", ")),
            });
        }
        if let Actor::Service { purposes, .. } = actor
            && !purposes.contains(&record.purpose)
        {
            return Err(ConsentError::NotScoped(record.purpose.clone()));
        }
        let now = self.clock.now();
        // A visitor's first record creates the visitor, in the same transaction.
        let (subject_id, visitor) = match &record.target {
            ConsentTarget::Subject(id) => (*id, None),
            ConsentTarget::Visitor { cookie_id } => {
                let cookie = self
                    .vault
                    .blind_index(IdentifierKind::CookieId, cookie_id)
                    .map_err(|e| ConsentError::Invalid { field: "cookie_id", message: e.to_string() })?;
                let subject = NewSubject { id: SubjectId::new(), kind: SubjectKind::Visitor, created_at: now };
                (subject.id, Some(NewVisitor { subject, cookie }))
            }
        };
        let entry = ConsentEntry {
            subject_id,
            purpose: record.purpose.clone(),
            granted: record.granted,
            method: record.method.clone(),
            policy_version: self.policy_version.clone(),
            text_version: record.text_version.clone(),
            source_ip: record.source_ip.map(truncate_ip),
            at: now,
        };
        // The grant or withdrawal is audited in the ledger's own transaction (the store
        // sets the subject, a new visitor's included, and the entry's `seq`).
        let audit = NewAuditEntry {
            at: now,
            actor: actor.audit_name(),
            action: if record.granted { "consent.grant" } else { "consent.withdraw" }.into(),
            subject_id: None,
            purpose: Some(record.purpose.clone()),
            detail: json!({"method": record.method}),
        };
        let (subject, seq) = match self.writer.submit(ConsentWrite { visitor, entry, audit: Some(audit) }).await {
            Err(StoreError::NotFound(_)) => return Err(ConsentError::NoSubject(subject_id)),
            other => other?,
        };
        if record.granted
            && purpose.direct_marketing
            && PERSONAL_METHODS.contains(&record.method.as_str())
            && self.store.clear_objection(subject, &record.purpose).await?
        {
            self.auditor
                .append(NewAuditEntry {
                    at: now,
                    actor: actor.audit_name(),
                    action: "marketing.resubscribe".into(),
                    subject_id: Some(subject),
                    purpose: Some(record.purpose.clone()),
                    detail: json!({"method": record.method, "seq": seq}),
                })
                .await?;
        }
        Ok((subject, seq))
    }

    /// The whole ledger of a subject, oldest first.
    pub async fn history(&self, subject: SubjectId) -> Result<Vec<StoredConsent>, ConsentError> {
        let history = self.store.consent_history(subject).await?;
        // Only an empty ledger leaves open whether the subject exists.
        if history.is_empty() && self.store.subject(subject).await?.is_none() {
            return Err(ConsentError::NoSubject(subject));
        }
        Ok(history)
    }

    /// The current state per purpose, derived from the ledger.
    pub fn current(history: &[StoredConsent]) -> Vec<CurrentConsent> {
        let mut latest: Vec<&StoredConsent> = Vec::new();
        for entry in history {
            match latest.iter_mut().find(|e| e.entry.purpose == entry.entry.purpose) {
                Some(slot) => *slot = entry,
                None => latest.push(entry),
            }
        }
        latest
            .into_iter()
            .map(|e| CurrentConsent {
                purpose: e.entry.purpose.clone(),
                granted: e.entry.granted,
                at: e.entry.at.to_string(),
                method: e.entry.method.clone(),
                policy_version: e.entry.policy_version.clone(),
            })
            .collect()
    }

    /// A consent receipt for the subject, in the shape of the Kantara Consent Receipt 1.1.
    pub fn receipt(&self, subject: SubjectId, history: &[StoredConsent]) -> serde_json::Value {
        let c = &self.policy.controller;
        let services: Vec<serde_json::Value> = Self::current(history)
            .into_iter()
            .filter_map(|current| {
                let purpose = self.policy.purpose(&current.purpose)?;
                Some(json!({
                    "service": purpose.name,
                    "purposes": [{
                        "purpose": purpose.description,
                        "purposeCategory": [purpose.id],
                        "consentType": "EXPLICIT",
                        "piiCategory": purpose.categories,
                        "primaryPurpose": false,
                        "termination": "withdrawal of consent at any time",
                        "thirdPartyDisclosure": self.policy.recipients.iter().any(|r| r.purposes.contains(&purpose.id)),
                        "granted": current.granted,
                        "method": current.method,
                        "at": current.at,
                    }],
                }))
            })
            .collect();
        json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": c.supervisory_authority.country,
            "consentTimestamp": history.last().map(|e| e.entry.at.as_second()).unwrap_or_default(),
            "collectionMethod": history.last().map(|e| e.entry.method.clone()).unwrap_or_default(),
            "consentReceiptID": format!("{subject}-{}", history.len()),
            "publicKey": serde_json::Value::Null,
            "language": self.policy.meta.language,
            "piiPrincipalId": subject,
            "piiControllers": [{"piiController": c.name, "contact": c.dpo.name, "address": c.address, "email": c.dpo.email}],
            "policyUrl": "/privacy",
            "policyVersion": self.policy_version,
            "services": services,
            "sensitive": false,
        })
    }
}

/// An address truncated so that it no longer points at one device: IPv4 to /24, IPv6 to /48.
pub fn truncate_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0")
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return truncate_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_truncated() {
        assert_eq!(truncate_ip("203.0.113.77".parse().expect("ip")), "203.0.113.0");
        assert_eq!(truncate_ip("2001:db8:85a3:1234::8a2e:370:7334".parse().expect("ip")), "2001:db8:85a3::");
        assert_eq!(truncate_ip("::ffff:198.51.100.9".parse().expect("ip")), "198.51.100.0");
    }
}
