//! What a person chose, as the gate needs it: the consent ledger, objections and
//! restriction of processing.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::{AuditEntry, BlindIndex, NewAuditEntry, NewSubject, StoreError, SubjectId};

/// One entry of the consent ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEntry {
    /// The person.
    pub subject_id: SubjectId,
    /// The purpose consented to or withdrawn.
    pub purpose: String,
    /// Granted (true) or withdrawn (false).
    pub granted: bool,
    /// How: `banner`, `form`, `api`, `email`, `gpc`, `agent`…
    pub method: String,
    /// The policy version in force.
    pub policy_version: String,
    /// The version of the text the person was shown (banner or form wording).
    pub text_version: String,
    /// The source address, truncated (IPv4 to /24, IPv6 to /48), if known.
    pub source_ip: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// A consent ledger entry as stored, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConsent {
    /// Position in the person's ledger, from 1.
    pub seq: i64,
    /// The entry.
    pub entry: ConsentEntry,
}

/// A ledger entry to append, for a known subject or for a visitor known by a cookie.
#[derive(Debug, Clone)]
pub struct ConsentWrite {
    /// For a visitor: the subject to create unless the cookie already names one. The
    /// entry's `subject_id` is then ignored.
    pub visitor: Option<NewVisitor>,
    /// The entry.
    pub entry: ConsentEntry,
    /// The audit entry of this write, appended to the chain in the same transaction: its
    /// `subject_id` becomes the ledger entry's subject (a new visitor's is known only
    /// then), and `seq` (the ledger entry's number) is added to its `detail` object.
    pub audit: Option<NewAuditEntry>,
}

/// What [`SubjectStateStore::append_consents`] appended.
#[derive(Debug, Clone, Default)]
pub struct AppendedConsents {
    /// Each write's subject and ledger sequence number, in order.
    pub written: Vec<(SubjectId, i64)>,
    /// The audit entries appended with them, in chain order.
    pub audit: Vec<AuditEntry>,
}

/// The audit entry of a ledger write, as [`ConsentWrite::audit`] describes.
pub(crate) fn consent_audit(template: &NewAuditEntry, subject: SubjectId, seq: i64) -> NewAuditEntry {
    let mut entry = template.clone();
    entry.subject_id = Some(subject);
    if let serde_json::Value::Object(detail) = &mut entry.detail {
        detail.insert("seq".into(), seq.into());
    }
    entry
}

/// A visitor, created with its first consent record.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    /// The subject to create (kind `visitor`).
    pub subject: NewSubject,
    /// The blind index of the cookie id.
    pub cookie: BlindIndex,
}

/// What the gate needs about one person, read in one round trip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    /// The purposes with live consent (as [`SubjectStateStore::live_consents`]), sorted.
    pub consents: Vec<String>,
    /// Objections by purpose, with any compelling grounds, sorted by purpose.
    pub objections: Vec<(String, Option<String>)>,
    /// Whether processing is restricted.
    pub restricted: bool,
}

/// The person's choices.
#[async_trait]
pub trait SubjectStateStore {
    /// Appends a consent or withdrawal to the ledger; returns its sequence number.
    async fn append_consent(&self, entry: &ConsentEntry) -> Result<i64, StoreError>;

    /// Appends several entries in one transaction, creating visitors as needed, with
    /// their audit entries; returns each entry's subject and sequence number, in order,
    /// and the audit entries. All or nothing: on an error (such as a subject that no
    /// longer exists) nothing is appended.
    async fn append_consents(&self, writes: &[ConsentWrite]) -> Result<AppendedConsents, StoreError>;

    /// The person's whole ledger, oldest first.
    async fn consent_history(&self, subject: SubjectId) -> Result<Vec<StoredConsent>, StoreError>;

    /// Makes every consent to `purpose` given before `since` stop counting (its terms changed).
    async fn reset_consents(&self, purpose: &str, since: Timestamp) -> Result<(), StoreError>;

    /// The purposes whose latest ledger entry is a grant made after any reset of the purpose.
    async fn live_consents(&self, subject: SubjectId) -> Result<Vec<String>, StoreError>;

    /// Records an objection to a purpose (again: keeps the first time).
    async fn record_objection(&self, subject: SubjectId, purpose: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Removes an objection (the person asked again, themselves); false when there was none.
    async fn clear_objection(&self, subject: SubjectId, purpose: &str) -> Result<bool, StoreError>;

    /// Records the compelling grounds that let processing on legitimate interests go on
    /// despite an objection. Returns false when there is no such objection.
    async fn record_compelling_grounds(
        &self,
        subject: SubjectId,
        purpose: &str,
        grounds: &str,
    ) -> Result<bool, StoreError>;

    /// Objections by purpose, with any compelling grounds.
    async fn objections(&self, subject: SubjectId) -> Result<Vec<(String, Option<String>)>, StoreError>;

    /// Restricts processing (`Some(ground)`) or lifts the restriction (`None`).
    async fn set_restriction(&self, subject: SubjectId, ground: Option<&str>, at: Timestamp) -> Result<(), StoreError>;

    /// Whether processing is restricted.
    async fn restricted(&self, subject: SubjectId) -> Result<bool, StoreError>;

    /// Live consents, objections and restriction together, in one query, or `None` when
    /// no such subject exists: what a purpose-gated read asks before anything else.
    async fn choices(&self, subject: SubjectId) -> Result<Option<Choices>, StoreError>;
}
