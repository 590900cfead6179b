//! Governance registers (seed 2.4, 4, 6, 7, 11): legal holds, retention sweeps over the
//! expiry index, the disclosure log, notices to organisations, the breach register and
//! legal disclosure requests. People appear only by their random subject id; the text
//! fields are staff register text.

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{AuditEntry, StoreError, SubjectId};

/// A legal hold: while active, nothing in its scope is deleted (Art. 17(3)(b), (e)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// Its id.
    pub id: Uuid,
    /// `subject`, `category`, `purpose` or `all`.
    pub scope: String,
    /// The subject id, category key or purpose id it holds; `None` for `all`.
    pub target: Option<String>,
    /// Why (the legal obligation or the claim), told to a person whose erasure it stops.
    pub reason: String,
    /// Who placed it.
    pub placed_by: String,
    /// When.
    pub placed_at: Timestamp,
    /// When it ends by itself, if ever.
    pub until: Option<Timestamp>,
    /// When it was released, if it was.
    pub released_at: Option<Timestamp>,
    /// Who released it.
    pub released_by: Option<String>,
    /// Why it was released.
    pub release_reason: Option<String>,
}

impl LegalHold {
    /// Whether the hold is in force at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        self.released_at.is_none() && self.until.is_none_or(|until| now < until)
    }
}

/// A record the expiry index found past its retention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredRecord {
    /// The person.
    pub subject_id: SubjectId,
    /// The record.
    pub record_id: Uuid,
    /// Its category.
    pub category: String,
    /// Its purpose.
    pub purpose: String,
    /// When its retention ended.
    pub expires_at: Timestamp,
}

/// Where in the expiry index a sweep has got to: the last record it looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepCursor {
    /// The record's expiry.
    pub expires_at: Timestamp,
    /// Its subject.
    pub subject_id: SubjectId,
    /// Its id.
    pub record_id: Uuid,
}

/// One run of the retention sweep, as stored after each batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionSweep {
    /// Its id.
    pub id: Uuid,
    /// When it started.
    pub started_at: Timestamp,
    /// Records whose retention ended at or before this are deleted.
    pub cutoff: Timestamp,
    /// Whether it only counts (deletes nothing).
    pub dry_run: bool,
    /// `running` or `done`.
    pub state: String,
    /// The last record looked at, to resume after.
    pub cursor: Option<SweepCursor>,
    /// Records deleted (or, dry, that would be), by category.
    pub deleted: BTreeMap<String, u64>,
    /// Records kept past their end by a legal hold, by category.
    pub held: BTreeMap<String, u64>,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
}

/// A disclosure to a recipient, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// Its id.
    pub id: Uuid,
    /// The recipient's id in the policy.
    pub recipient: String,
    /// Where the recipient processes the data.
    pub country: String,
    /// The transfer safeguard (`eea`, `adequacy`, `scc`…).
    pub safeguard: String,
    /// The purpose it was disclosed for.
    pub purpose: String,
    /// The categories disclosed.
    pub categories: Vec<String>,
    /// Who asked for it (the audit name of the service or staff member).
    pub actor: String,
    /// The legal request it answered, if any (seed 11).
    pub legal_request: Option<Uuid>,
    /// When.
    pub at: Timestamp,
    /// The people whose data went, with how many records of each.
    pub subjects: Vec<(SubjectId, i64)>,
}

/// A notice to an organisation: an Art. 19 notice to a recipient, or a breach notice to a
/// partner. It names people only by subject id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernanceNotice {
    /// Its id.
    pub id: Uuid,
    /// `art19` or `breach_partner`.
    pub kind: String,
    /// The recipient's or partner's id.
    pub addressee: String,
    /// Where to mail it, if the addressee has a contact.
    pub contact: Option<String>,
    /// The person it concerns, if one.
    pub subject_id: Option<SubjectId>,
    /// The rights request or breach it comes from.
    pub reference: Uuid,
    /// The text.
    pub body: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was sent (or recorded).
    pub sent_at: Option<Timestamp>,
    /// `mail` or `recorded`.
    pub channel: Option<String>,
}

/// A personal-data breach, as registered (Art. 33(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// Its id.
    pub id: Uuid,
    /// When custos's operator became aware of it: the 72 hours run from here.
    pub detected_at: Timestamp,
    /// What happened.
    pub nature: String,
    /// The data categories concerned.
    pub categories: Vec<String>,
    /// The systems concerned.
    pub systems: Vec<String>,
    /// The measures taken or proposed.
    pub measures: String,
    /// The likely consequences.
    pub consequences: String,
    /// Whether the keys that open sealed values were exposed too.
    pub keys_exposed: bool,
    /// When the exposure began.
    pub window_start: Timestamp,
    /// When it ended.
    pub window_end: Timestamp,
    /// Who registered it.
    pub opened_by: String,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When the supervisory authority was notified.
    pub notified_at: Option<Timestamp>,
    /// Why the notification came after 72 hours, if it did.
    pub delay_reason: Option<String>,
}

/// A request from an authority to disclose personal data (seed 11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalRequest {
    /// Its id.
    pub id: Uuid,
    /// The authority that asks.
    pub authority: String,
    /// The law it relies on.
    pub legal_basis: String,
    /// What it asks for (staff text, no identifiers in clear).
    pub scope: String,
    /// When it was received.
    pub received_at: Timestamp,
    /// `pending`, `granted`, `partly_granted` or `refused`.
    pub decision: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<Timestamp>,
    /// Why.
    pub reason: Option<String>,
    /// Who registered it.
    pub recorded_by: String,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// The governance registers.
#[async_trait]
pub trait GovernanceStore {
    /// Stores a new hold.
    async fn put_hold(&self, hold: &LegalHold) -> Result<(), StoreError>;

    /// Releases a hold not yet released; false when there was none to release.
    async fn release_hold(&self, id: Uuid, by: &str, reason: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Holds, newest first; released ones too when `all`.
    async fn holds(&self, all: bool) -> Result<Vec<LegalHold>, StoreError>;

    /// Up to `limit` records whose retention ended at or before `cutoff`, in expiry-index
    /// order, after `after`.
    async fn expired_records(
        &self,
        cutoff: Timestamp,
        after: Option<&SweepCursor>,
        limit: u32,
    ) -> Result<Vec<ExpiredRecord>, StoreError>;

    /// Stores a new sweep.
    async fn create_sweep(&self, sweep: &RetentionSweep) -> Result<(), StoreError>;

    /// Deletes `records` (each only if still past `sweep.cutoff`) and saves `sweep`'s
    /// progress, in one transaction: a crash leaves both or neither. Returns the rows deleted.
    async fn apply_sweep_batch(&self, sweep: &RetentionSweep, records: &[(SubjectId, Uuid)])
    -> Result<u64, StoreError>;

    /// Up to `limit` website events of identified visitors recorded at or before `before`,
    /// in (time, subject, event) order after `after`, as (subject, event, time).
    async fn events_before(
        &self,
        before: Timestamp,
        after: Option<(Timestamp, SubjectId, Uuid)>,
        limit: u32,
    ) -> Result<Vec<(SubjectId, Uuid, Timestamp)>, StoreError>;

    /// Deletes `events` (each only if recorded at or before `before`) and saves `sweep`'s
    /// progress, in one transaction. Returns the rows deleted.
    async fn apply_event_sweep_batch(
        &self,
        sweep: &RetentionSweep,
        before: Timestamp,
        events: &[(SubjectId, Uuid)],
    ) -> Result<u64, StoreError>;

    /// Up to `limit` records held for one of `purposes` whose person's latest consent
    /// entry for that purpose is a withdrawal made after the record was collected, in
    /// (subject, record) order after `after`; `expires_at` is the withdrawal's time.
    async fn withdrawn_records(
        &self,
        purposes: &[String],
        after: Option<(SubjectId, Uuid)>,
        limit: u32,
    ) -> Result<Vec<ExpiredRecord>, StoreError>;

    /// Deletes `records` and saves `sweep`'s counts, in one transaction. Returns the rows
    /// deleted.
    async fn apply_withdrawal_sweep_batch(
        &self,
        sweep: &RetentionSweep,
        records: &[(SubjectId, Uuid)],
    ) -> Result<u64, StoreError>;

    /// Remembers that `subject`'s erasure was cut short by a legal hold (again: no change).
    async fn put_held_erasure(&self, subject: SubjectId, since: Timestamp) -> Result<(), StoreError>;

    /// Erasures cut short by a hold, oldest first.
    async fn held_erasures(&self, limit: u32) -> Result<Vec<(SubjectId, Timestamp)>, StoreError>;

    /// Forgets a held erasure once it is finished.
    async fn delete_held_erasure(&self, subject: SubjectId) -> Result<(), StoreError>;

    /// The sweep still running, if any (the oldest).
    async fn running_sweep(&self) -> Result<Option<RetentionSweep>, StoreError>;

    /// The latest sweeps, newest first.
    async fn sweeps(&self, limit: u32) -> Result<Vec<RetentionSweep>, StoreError>;

    /// Logs a disclosure with its subjects, in one transaction.
    async fn put_disclosure(&self, disclosure: &Disclosure) -> Result<(), StoreError>;

    /// The disclosures of one person's data, oldest first, each naming only them.
    async fn disclosures_of(&self, subject: SubjectId) -> Result<Vec<Disclosure>, StoreError>;

    /// The latest disclosures, newest first; only those answering `legal_request` if given.
    async fn disclosures(&self, legal_request: Option<Uuid>, limit: u32) -> Result<Vec<Disclosure>, StoreError>;

    /// Stores a notice unless one of the same kind, reference and addressee exists; returns
    /// whether it was stored.
    async fn put_notice(&self, notice: &GovernanceNotice) -> Result<bool, StoreError>;

    /// A notice by id.
    async fn notice(&self, id: Uuid) -> Result<Option<GovernanceNotice>, StoreError>;

    /// Records that a notice went out, by `channel`.
    async fn mark_notice_sent(&self, id: Uuid, channel: &str, at: Timestamp) -> Result<(), StoreError>;

    /// The notices made for a rights request or a breach.
    async fn notices_for(&self, reference: Uuid) -> Result<Vec<GovernanceNotice>, StoreError>;

    /// Registers a breach.
    async fn put_breach(&self, breach: &Breach) -> Result<(), StoreError>;

    /// A breach by id.
    async fn breach(&self, id: Uuid) -> Result<Option<Breach>, StoreError>;

    /// The latest breaches, newest first.
    async fn breaches(&self, limit: u32) -> Result<Vec<Breach>, StoreError>;

    /// Records that the authority was notified (once); false if it already was.
    async fn set_breach_notified(
        &self,
        id: Uuid,
        at: Timestamp,
        delay_reason: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// The people holding records in `categories` collected at or before `before`, with
    /// how many such records each holds.
    async fn inventory_subjects(
        &self,
        categories: &[String],
        before: Timestamp,
    ) -> Result<Vec<(SubjectId, i64)>, StoreError>;

    /// Deletes a person's website events; returns how many.
    async fn delete_subject_events(&self, subject: SubjectId) -> Result<u64, StoreError>;

    /// The people with website events recorded at or before `before`, with how many.
    async fn event_subjects(&self, before: Timestamp) -> Result<Vec<(SubjectId, i64)>, StoreError>;

    /// Audit entries about a person made between `from` and `to` (inclusive), after
    /// sequence number `after`, in order.
    async fn audit_window(
        &self,
        from: Timestamp,
        to: Timestamp,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Registers a legal request.
    async fn put_legal_request(&self, request: &LegalRequest) -> Result<(), StoreError>;

    /// A legal request by id.
    async fn legal_request(&self, id: Uuid) -> Result<Option<LegalRequest>, StoreError>;

    /// The latest legal requests, newest first.
    async fn legal_requests(&self, limit: u32) -> Result<Vec<LegalRequest>, StoreError>;

    /// Records the decision on a pending request; false if it was already decided.
    async fn decide_legal_request(&self, request: &LegalRequest) -> Result<bool, StoreError>;
}

/// Reads a JSON list of strings.
pub(crate) fn string_list(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a stored list: {e}")))
}

/// Reads a JSON map of counts.
pub(crate) fn count_map(text: &str) -> Result<BTreeMap<String, u64>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored counts: {e}")))
}

/// Writes a value as JSON text.
pub(crate) fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Implements [`GovernanceStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! governance_store {
    ($store:ty, $db:ty) => {
        impl $store {
            fn hold_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::LegalHold, $crate::StoreError> {
                use sqlx::Row;
                let ts = |v: Option<i64>| v.map($crate::time::from_millis).transpose();
                Ok($crate::LegalHold {
                    id: row.try_get("hold_id")?,
                    scope: row.try_get("scope")?,
                    target: row.try_get("target")?,
                    reason: row.try_get("reason")?,
                    placed_by: row.try_get("placed_by")?,
                    placed_at: $crate::time::from_millis(row.try_get("placed_at")?)?,
                    until: ts(row.try_get("until_at")?)?,
                    released_at: ts(row.try_get("released_at")?)?,
                    released_by: row.try_get("released_by")?,
                    release_reason: row.try_get("release_reason")?,
                })
            }

            fn sweep_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::RetentionSweep, $crate::StoreError> {
                use sqlx::Row;
                let cursor_at: Option<i64> = row.try_get("cursor_at")?;
                let cursor_subject: Option<uuid::Uuid> = row.try_get("cursor_subject")?;
                let cursor_record: Option<uuid::Uuid> = row.try_get("cursor_record")?;
                let cursor = match (cursor_at, cursor_subject, cursor_record) {
                    (Some(at), Some(s), Some(r)) => Some($crate::SweepCursor {
                        expires_at: $crate::time::from_millis(at)?,
                        subject_id: $crate::SubjectId(s),
                        record_id: r,
                    }),
                    _ => None,
                };
                let finished: Option<i64> = row.try_get("finished_at")?;
                Ok($crate::RetentionSweep {
                    id: row.try_get("sweep_id")?,
                    started_at: $crate::time::from_millis(row.try_get("started_at")?)?,
                    cutoff: $crate::time::from_millis(row.try_get("cutoff")?)?,
                    dry_run: row.try_get("dry_run")?,
                    state: row.try_get("state")?,
                    cursor,
                    deleted: $crate::governance::count_map(&row.try_get::<String, _>("deleted")?)?,
                    held: $crate::governance::count_map(&row.try_get::<String, _>("held")?)?,
                    finished_at: finished.map($crate::time::from_millis).transpose()?,
                })
            }

            fn disclosure_row(
                row: &<$db as sqlx::Database>::Row,
            ) -> Result<$crate::Disclosure, $crate::StoreError> {
                use sqlx::Row;
                Ok($crate::Disclosure {
                    id: row.try_get("disclosure_id")?,
                    recipient: row.try_get("recipient")?,
                    country: row.try_get("country")?,
                    safeguard: row.try_get("safeguard")?,
                    purpose: row.try_get("purpose")?,
                    categories: $crate::governance::string_list(&row.try_get::<String, _>("categories")?)?,
                    actor: row.try_get("actor")?,
                    legal_request: row.try_get("legal_request")?,
                    at: $crate::time::from_millis(row.try_get("at")?)?,
                    subjects: Vec::new(),
                })
            }

            async fn disclosure_subjects(
                &self,
                mut found: Vec<$crate::Disclosure>,
            ) -> Result<Vec<$crate::Disclosure>, $crate::StoreError> {
                for d in &mut found {
                    let rows = sqlx::query_as::<$db, (uuid::Uuid, i64)>(
                        "SELECT subject_id, records FROM disclosure_subjects WHERE disclosure_id = $1 ORDER BY subject_id",
                    )
                    .bind(d.id)
                    .fetch_all(&self.pool)
                    .await?;
                    d.subjects = rows.into_iter().map(|(s, n)| ($crate::SubjectId(s), n)).collect();
                }
                Ok(found)
            }

            fn notice_row(
                row: &<$db as sqlx::Database>::Row,
            ) -> Result<$crate::GovernanceNotice, $crate::StoreError> {
                use sqlx::Row;
                let sent: Option<i64> = row.try_get("sent_at")?;
                Ok($crate::GovernanceNotice {
                    id: row.try_get("notice_id")?,
                    kind: row.try_get("kind")?,
                    addressee: row.try_get("addressee")?,
                    contact: row.try_get("contact")?,
                    subject_id: row.try_get::<Option<uuid::Uuid>, _>("subject_id")?.map($crate::SubjectId),
                    reference: row.try_get("reference")?,
                    body: row.try_get("body")?,
                    created_at: $crate::time::from_millis(row.try_get("created_at")?)?,
                    sent_at: sent.map($crate::time::from_millis).transpose()?,
                    channel: row.try_get("channel")?,
                })
            }

            fn breach_row(row: &<$db as sqlx::Database>::Row) -> Result<$crate::Breach, $crate::StoreError> {
                use sqlx::Row;
                let notified: Option<i64> = row.try_get("notified_at")?;
                Ok($crate::Breach {
                    id: row.try_get("breach_id")?,
                    detected_at: $crate::time::from_millis(row.try_get("detected_at")?)?,
                    nature: row.try_get("nature")?,
                    categories: $crate::governance::string_list(&row.try_get::<String, _>("categories")?)?,
                    systems: $crate::governance::string_list(&row.try_get::<String, _>("systems")?)?,
                    measures: row.try_get("measures")?,
                    consequences: row.try_get("consequences")?,
                    keys_exposed: row.try_get("keys_exposed")?,
                    window_start: $crate::time::from_millis(row.try_get("window_start")?)?,
                    window_end: $crate::time::from_millis(row.try_get("window_end")?)?,
                    opened_by: row.try_get("opened_by")?,
                    created_at: $crate::time::from_millis(row.try_get("created_at")?)?,
                    notified_at: notified.map($crate::time::from_millis).transpose()?,
                    delay_reason: row.try_get("delay_reason")?,
                })
            }

            fn legal_request_row(
                row: &<$db as sqlx::Database>::Row,
            ) -> Result<$crate::LegalRequest, $crate::StoreError> {
                use sqlx::Row;
                let decided: Option<i64> = row.try_get("decided_at")?;
                Ok($crate::LegalRequest {
                    id: row.try_get("request_id")?,
                    authority: row.try_get("authority")?,
                    legal_basis: row.try_get("legal_basis")?,
                    scope: row.try_get("scope")?,
                    received_at: $crate::time::from_millis(row.try_get("received_at")?)?,
                    decision: row.try_get("decision")?,
                    decided_by: row.try_get("decided_by")?,
                    decided_at: decided.map($crate::time::from_millis).transpose()?,
                    reason: row.try_get("reason")?,
                    recorded_by: row.try_get("recorded_by")?,
                    created_at: $crate::time::from_millis(row.try_get("created_at")?)?,
                })
            }
        }

        #[async_trait::async_trait]
        impl $crate::GovernanceStore for $store {
            async fn put_hold(&self, h: &$crate::LegalHold) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO legal_holds (hold_id, scope, target, reason, placed_by, placed_at, until_at, \
                     released_at, released_by, release_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(h.id)
                .bind(&h.scope)
                .bind(&h.target)
                .bind(&h.reason)
                .bind(&h.placed_by)
                .bind($crate::time::to_millis(h.placed_at))
                .bind(h.until.map($crate::time::to_millis))
                .bind(h.released_at.map($crate::time::to_millis))
                .bind(&h.released_by)
                .bind(&h.release_reason)
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("legal hold {} exists", h.id)))?;
                Ok(())
            }

            async fn release_hold(
                &self,
                id: uuid::Uuid,
                by: &str,
                reason: &str,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE legal_holds SET released_at = $2, released_by = $3, release_reason = $4 \
                     WHERE hold_id = $1 AND released_at IS NULL",
                )
                .bind(id)
                .bind($crate::time::to_millis(at))
                .bind(by)
                .bind(reason)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn holds(&self, all: bool) -> Result<Vec<$crate::LegalHold>, $crate::StoreError> {
                let sql = if all {
                    "SELECT * FROM legal_holds ORDER BY placed_at DESC, hold_id"
                } else {
                    "SELECT * FROM legal_holds WHERE released_at IS NULL ORDER BY placed_at DESC, hold_id"
                };
                let rows = sqlx::query::<$db>(sql).fetch_all(&self.pool).await?;
                rows.iter().map(Self::hold_row).collect()
            }

            async fn expired_records(
                &self,
                cutoff: jiff::Timestamp,
                after: Option<&$crate::SweepCursor>,
                limit: u32,
            ) -> Result<Vec<$crate::ExpiredRecord>, $crate::StoreError> {
                let cutoff = $crate::time::to_millis(cutoff);
                let rows = match after {
                    None => {
                        sqlx::query_as::<$db, (uuid::Uuid, uuid::Uuid, String, String, i64)>(
                            "SELECT subject_id, record_id, category, purpose, expires_at FROM records \
                             WHERE expires_at IS NOT NULL AND expires_at <= $1 \
                             ORDER BY expires_at, subject_id, record_id LIMIT $2",
                        )
                        .bind(cutoff)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                    Some(c) => {
                        sqlx::query_as::<$db, (uuid::Uuid, uuid::Uuid, String, String, i64)>(
                            "SELECT subject_id, record_id, category, purpose, expires_at FROM records \
                             WHERE expires_at IS NOT NULL AND expires_at <= $1 \
                             AND (expires_at, subject_id, record_id) > ($3, $4, $5) \
                             ORDER BY expires_at, subject_id, record_id LIMIT $2",
                        )
                        .bind(cutoff)
                        .bind(i64::from(limit))
                        .bind($crate::time::to_millis(c.expires_at))
                        .bind(c.subject_id.0)
                        .bind(c.record_id)
                        .fetch_all(&self.pool)
                        .await?
                    }
                };
                rows.into_iter()
                    .map(|(s, r, category, purpose, at)| {
                        Ok($crate::ExpiredRecord {
                            subject_id: $crate::SubjectId(s),
                            record_id: r,
                            category,
                            purpose,
                            expires_at: $crate::time::from_millis(at)?,
                        })
                    })
                    .collect()
            }

            async fn create_sweep(&self, s: &$crate::RetentionSweep) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO retention_sweeps (sweep_id, started_at, cutoff, dry_run, state, deleted, held) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(s.id)
                .bind($crate::time::to_millis(s.started_at))
                .bind($crate::time::to_millis(s.cutoff))
                .bind(s.dry_run)
                .bind(&s.state)
                .bind($crate::governance::json_text(&s.deleted)?)
                .bind($crate::governance::json_text(&s.held)?)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn apply_sweep_batch(
                &self,
                s: &$crate::RetentionSweep,
                records: &[($crate::SubjectId, uuid::Uuid)],
            ) -> Result<u64, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut deleted = 0;
                if !s.dry_run {
                    for (subject, record) in records {
                        let done = sqlx::query::<$db>(
                            "DELETE FROM records WHERE subject_id = $1 AND record_id = $2 \
                             AND expires_at IS NOT NULL AND expires_at <= $3",
                        )
                        .bind(subject.0)
                        .bind(record)
                        .bind($crate::time::to_millis(s.cutoff))
                        .execute(&mut *tx)
                        .await?;
                        deleted += done.rows_affected();
                    }
                }
                sqlx::query::<$db>(
                    "UPDATE retention_sweeps SET state = $2, cursor_at = $3, cursor_subject = $4, cursor_record = $5, \
                     deleted = $6, held = $7, finished_at = $8, cutoff = $9 WHERE sweep_id = $1",
                )
                .bind(s.id)
                .bind(&s.state)
                .bind(s.cursor.map(|c| $crate::time::to_millis(c.expires_at)))
                .bind(s.cursor.map(|c| c.subject_id.0))
                .bind(s.cursor.map(|c| c.record_id))
                .bind($crate::governance::json_text(&s.deleted)?)
                .bind($crate::governance::json_text(&s.held)?)
                .bind(s.finished_at.map($crate::time::to_millis))
                .bind($crate::time::to_millis(s.cutoff))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(deleted)
            }

            async fn events_before(
                &self,
                before: jiff::Timestamp,
                after: Option<(jiff::Timestamp, $crate::SubjectId, uuid::Uuid)>,
                limit: u32,
            ) -> Result<Vec<($crate::SubjectId, uuid::Uuid, jiff::Timestamp)>, $crate::StoreError> {
                let before = $crate::time::to_millis(before);
                let rows = match after {
                    None => {
                        sqlx::query_as::<$db, (uuid::Uuid, uuid::Uuid, i64)>(
                            "SELECT subject_id, event_id, at FROM events WHERE at <= $1 \
                             ORDER BY at, subject_id, event_id LIMIT $2",
                        )
                        .bind(before)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                    Some((at, subject, event)) => {
                        sqlx::query_as::<$db, (uuid::Uuid, uuid::Uuid, i64)>(
                            "SELECT subject_id, event_id, at FROM events WHERE at <= $1 \
                             AND (at, subject_id, event_id) > ($3, $4, $5) \
                             ORDER BY at, subject_id, event_id LIMIT $2",
                        )
                        .bind(before)
                        .bind(i64::from(limit))
                        .bind($crate::time::to_millis(at))
                        .bind(subject.0)
                        .bind(event)
                        .fetch_all(&self.pool)
                        .await?
                    }
                };
                rows.into_iter()
                    .map(|(s, e, at)| Ok(($crate::SubjectId(s), e, $crate::time::from_millis(at)?)))
                    .collect()
            }

            async fn apply_event_sweep_batch(
                &self,
                s: &$crate::RetentionSweep,
                before: jiff::Timestamp,
                events: &[($crate::SubjectId, uuid::Uuid)],
            ) -> Result<u64, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut deleted = 0;
                if !s.dry_run {
                    for (subject, event) in events {
                        let done = sqlx::query::<$db>(
                            "DELETE FROM events WHERE subject_id = $1 AND event_id = $2 AND at <= $3",
                        )
                        .bind(subject.0)
                        .bind(event)
                        .bind($crate::time::to_millis(before))
                        .execute(&mut *tx)
                        .await?;
                        deleted += done.rows_affected();
                    }
                }
                sqlx::query::<$db>("UPDATE retention_sweeps SET deleted = $2, held = $3 WHERE sweep_id = $1")
                    .bind(s.id)
                    .bind($crate::governance::json_text(&s.deleted)?)
                    .bind($crate::governance::json_text(&s.held)?)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(deleted)
            }

            async fn withdrawn_records(
                &self,
                purposes: &[String],
                after: Option<($crate::SubjectId, uuid::Uuid)>,
                limit: u32,
            ) -> Result<Vec<$crate::ExpiredRecord>, $crate::StoreError> {
                if purposes.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new(
                    "SELECT r.subject_id, r.record_id, r.category, r.purpose, c.at FROM records r \
                     JOIN consents c ON c.subject_id = r.subject_id AND c.purpose = r.purpose \
                     WHERE c.seq = (SELECT MAX(l.seq) FROM consents l WHERE l.subject_id = r.subject_id \
                     AND l.purpose = r.purpose) AND r.created_at <= c.at AND c.granted = ",
                );
                q.push_bind(false).push(" AND r.purpose IN (");
                let mut list = q.separated(", ");
                for p in purposes {
                    list.push_bind(p.clone());
                }
                q.push(")");
                if let Some((subject, record)) = after {
                    q.push(" AND (r.subject_id, r.record_id) > (").push_bind(subject.0).push(", ").push_bind(record).push(")");
                }
                q.push(" ORDER BY r.subject_id, r.record_id LIMIT ").push_bind(i64::from(limit));
                let rows = q.build_query_as::<(uuid::Uuid, uuid::Uuid, String, String, i64)>().persistent(false).fetch_all(&self.pool).await?;
                rows.into_iter()
                    .map(|(s, r, category, purpose, at)| {
                        Ok($crate::ExpiredRecord {
                            subject_id: $crate::SubjectId(s),
                            record_id: r,
                            category,
                            purpose,
                            expires_at: $crate::time::from_millis(at)?,
                        })
                    })
                    .collect()
            }

            async fn apply_withdrawal_sweep_batch(
                &self,
                s: &$crate::RetentionSweep,
                records: &[($crate::SubjectId, uuid::Uuid)],
            ) -> Result<u64, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut deleted = 0;
                if !s.dry_run {
                    for (subject, record) in records {
                        let done = sqlx::query::<$db>("DELETE FROM records WHERE subject_id = $1 AND record_id = $2")
                            .bind(subject.0)
                            .bind(record)
                            .execute(&mut *tx)
                            .await?;
                        deleted += done.rows_affected();
                    }
                }
                sqlx::query::<$db>("UPDATE retention_sweeps SET deleted = $2, held = $3 WHERE sweep_id = $1")
                    .bind(s.id)
                    .bind($crate::governance::json_text(&s.deleted)?)
                    .bind($crate::governance::json_text(&s.held)?)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(deleted)
            }

            async fn put_held_erasure(
                &self,
                subject: $crate::SubjectId,
                since: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO held_erasures (subject_id, since) VALUES ($1, $2) ON CONFLICT (subject_id) DO NOTHING",
                )
                .bind(subject.0)
                .bind($crate::time::to_millis(since))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn held_erasures(
                &self,
                limit: u32,
            ) -> Result<Vec<($crate::SubjectId, jiff::Timestamp)>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (uuid::Uuid, i64)>(
                    "SELECT subject_id, since FROM held_erasures ORDER BY since, subject_id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|(s, at)| Ok(($crate::SubjectId(s), $crate::time::from_millis(at)?))).collect()
            }

            async fn delete_held_erasure(&self, subject: $crate::SubjectId) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>("DELETE FROM held_erasures WHERE subject_id = $1")
                    .bind(subject.0)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(())
            }

            async fn running_sweep(&self) -> Result<Option<$crate::RetentionSweep>, $crate::StoreError> {
                let row = sqlx::query::<$db>(
                    "SELECT * FROM retention_sweeps WHERE state = 'running' ORDER BY started_at, sweep_id LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::sweep_row).transpose()
            }

            async fn sweeps(&self, limit: u32) -> Result<Vec<$crate::RetentionSweep>, $crate::StoreError> {
                let rows =
                    sqlx::query::<$db>("SELECT * FROM retention_sweeps ORDER BY started_at DESC, sweep_id LIMIT $1")
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter().map(Self::sweep_row).collect()
            }

            async fn put_disclosure(&self, d: &$crate::Disclosure) -> Result<(), $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>(
                    "INSERT INTO disclosures (disclosure_id, recipient, country, safeguard, purpose, categories, actor, \
                     legal_request, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(d.id)
                .bind(&d.recipient)
                .bind(&d.country)
                .bind(&d.safeguard)
                .bind(&d.purpose)
                .bind($crate::governance::json_text(&d.categories)?)
                .bind(&d.actor)
                .bind(d.legal_request)
                .bind($crate::time::to_millis(d.at))
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("disclosure {} exists", d.id)))?;
                for (subject, records) in &d.subjects {
                    sqlx::query::<$db>(
                        "INSERT INTO disclosure_subjects (subject_id, disclosure_id, records) VALUES ($1, $2, $3)",
                    )
                    .bind(subject.0)
                    .bind(d.id)
                    .bind(*records)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| $crate::error::conflict_on_unique(e, || format!("subject {subject} is named twice")))?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn disclosures_of(
                &self,
                subject: $crate::SubjectId,
            ) -> Result<Vec<$crate::Disclosure>, $crate::StoreError> {
                use sqlx::Row;
                let rows = sqlx::query::<$db>(
                    "SELECT d.*, s.records AS subject_records FROM disclosure_subjects s \
                     JOIN disclosures d ON d.disclosure_id = s.disclosure_id \
                     WHERE s.subject_id = $1 ORDER BY d.at, d.disclosure_id",
                )
                .bind(subject.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let mut d = Self::disclosure_row(row)?;
                        d.subjects = vec![(subject, row.try_get("subject_records")?)];
                        Ok(d)
                    })
                    .collect()
            }

            async fn disclosures(
                &self,
                legal_request: Option<uuid::Uuid>,
                limit: u32,
            ) -> Result<Vec<$crate::Disclosure>, $crate::StoreError> {
                let rows = match legal_request {
                    Some(id) => {
                        sqlx::query::<$db>(
                            "SELECT * FROM disclosures WHERE legal_request = $1 ORDER BY at DESC, disclosure_id LIMIT $2",
                        )
                        .bind(id)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                    None => {
                        sqlx::query::<$db>("SELECT * FROM disclosures ORDER BY at DESC, disclosure_id LIMIT $1")
                            .bind(i64::from(limit))
                            .fetch_all(&self.pool)
                            .await?
                    }
                };
                let found = rows.iter().map(Self::disclosure_row).collect::<Result<Vec<_>, _>>()?;
                self.disclosure_subjects(found).await
            }

            async fn put_notice(&self, n: &$crate::GovernanceNotice) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "INSERT INTO governance_notices (notice_id, kind, addressee, contact, subject_id, reference, body, \
                     created_at, sent_at, channel) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (kind, reference, addressee) DO NOTHING",
                )
                .bind(n.id)
                .bind(&n.kind)
                .bind(&n.addressee)
                .bind(&n.contact)
                .bind(n.subject_id.map(|s| s.0))
                .bind(n.reference)
                .bind(&n.body)
                .bind($crate::time::to_millis(n.created_at))
                .bind(n.sent_at.map($crate::time::to_millis))
                .bind(&n.channel)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn notice(&self, id: uuid::Uuid) -> Result<Option<$crate::GovernanceNotice>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM governance_notices WHERE notice_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::notice_row).transpose()
            }

            async fn mark_notice_sent(
                &self,
                id: uuid::Uuid,
                channel: &str,
                at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "UPDATE governance_notices SET sent_at = $2, channel = $3 WHERE notice_id = $1 AND sent_at IS NULL",
                )
                .bind(id)
                .bind($crate::time::to_millis(at))
                .bind(channel)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn notices_for(
                &self,
                reference: uuid::Uuid,
            ) -> Result<Vec<$crate::GovernanceNotice>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM governance_notices WHERE reference = $1 ORDER BY addressee, notice_id",
                )
                .bind(reference)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::notice_row).collect()
            }

            async fn put_breach(&self, b: &$crate::Breach) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO breaches (breach_id, detected_at, nature, categories, systems, measures, consequences, \
                     keys_exposed, window_start, window_end, opened_by, created_at, notified_at, delay_reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                )
                .bind(b.id)
                .bind($crate::time::to_millis(b.detected_at))
                .bind(&b.nature)
                .bind($crate::governance::json_text(&b.categories)?)
                .bind($crate::governance::json_text(&b.systems)?)
                .bind(&b.measures)
                .bind(&b.consequences)
                .bind(b.keys_exposed)
                .bind($crate::time::to_millis(b.window_start))
                .bind($crate::time::to_millis(b.window_end))
                .bind(&b.opened_by)
                .bind($crate::time::to_millis(b.created_at))
                .bind(b.notified_at.map($crate::time::to_millis))
                .bind(&b.delay_reason)
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("breach {} exists", b.id)))?;
                Ok(())
            }

            async fn breach(&self, id: uuid::Uuid) -> Result<Option<$crate::Breach>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM breaches WHERE breach_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::breach_row).transpose()
            }

            async fn breaches(&self, limit: u32) -> Result<Vec<$crate::Breach>, $crate::StoreError> {
                let rows = sqlx::query::<$db>("SELECT * FROM breaches ORDER BY detected_at DESC, breach_id LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::breach_row).collect()
            }

            async fn set_breach_notified(
                &self,
                id: uuid::Uuid,
                at: jiff::Timestamp,
                delay_reason: Option<&str>,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE breaches SET notified_at = $2, delay_reason = $3 WHERE breach_id = $1 AND notified_at IS NULL",
                )
                .bind(id)
                .bind($crate::time::to_millis(at))
                .bind(delay_reason)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn inventory_subjects(
                &self,
                categories: &[String],
                before: jiff::Timestamp,
            ) -> Result<Vec<($crate::SubjectId, i64)>, $crate::StoreError> {
                if categories.is_empty() {
                    return Ok(Vec::new());
                }
                let mut q = sqlx::QueryBuilder::<$db>::new("SELECT subject_id, COUNT(*) FROM records WHERE created_at <= ");
                q.push_bind($crate::time::to_millis(before)).push(" AND category IN (");
                let mut list = q.separated(", ");
                for c in categories {
                    list.push_bind(c.clone());
                }
                q.push(") GROUP BY subject_id ORDER BY subject_id");
                let rows = q.build_query_as::<(uuid::Uuid, i64)>().persistent(false).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(|(s, n)| ($crate::SubjectId(s), n)).collect())
            }

            async fn delete_subject_events(&self, subject: $crate::SubjectId) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM events WHERE subject_id = $1")
                    .bind(subject.0)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn event_subjects(
                &self,
                before: jiff::Timestamp,
            ) -> Result<Vec<($crate::SubjectId, i64)>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (uuid::Uuid, i64)>(
                    "SELECT subject_id, COUNT(*) FROM events WHERE at <= $1 GROUP BY subject_id ORDER BY subject_id",
                )
                .bind($crate::time::to_millis(before))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(s, n)| ($crate::SubjectId(s), n)).collect())
            }

            async fn audit_window(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
                after: i64,
                limit: u32,
            ) -> Result<Vec<$crate::AuditEntry>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM audit_log WHERE subject_id IS NOT NULL AND at >= $1 AND at <= $2 AND seq > $3 \
                     ORDER BY seq LIMIT $4",
                )
                .bind($crate::time::to_millis(from))
                .bind($crate::time::to_millis(to))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::audit_entry).collect()
            }

            async fn put_legal_request(&self, r: &$crate::LegalRequest) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO legal_requests (request_id, authority, legal_basis, scope, received_at, decision, \
                     decided_by, decided_at, reason, recorded_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(r.id)
                .bind(&r.authority)
                .bind(&r.legal_basis)
                .bind(&r.scope)
                .bind($crate::time::to_millis(r.received_at))
                .bind(&r.decision)
                .bind(&r.decided_by)
                .bind(r.decided_at.map($crate::time::to_millis))
                .bind(&r.reason)
                .bind(&r.recorded_by)
                .bind($crate::time::to_millis(r.created_at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("legal request {} exists", r.id)))?;
                Ok(())
            }

            async fn legal_request(&self, id: uuid::Uuid) -> Result<Option<$crate::LegalRequest>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM legal_requests WHERE request_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::legal_request_row).transpose()
            }

            async fn legal_requests(&self, limit: u32) -> Result<Vec<$crate::LegalRequest>, $crate::StoreError> {
                let rows =
                    sqlx::query::<$db>("SELECT * FROM legal_requests ORDER BY received_at DESC, request_id LIMIT $1")
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter().map(Self::legal_request_row).collect()
            }

            async fn decide_legal_request(&self, r: &$crate::LegalRequest) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE legal_requests SET decision = $2, decided_by = $3, decided_at = $4, reason = $5 \
                     WHERE request_id = $1 AND decision = 'pending'",
                )
                .bind(r.id)
                .bind(&r.decision)
                .bind(&r.decided_by)
                .bind(r.decided_at.map($crate::time::to_millis))
                .bind(&r.reason)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }
    };
}
pub(crate) use governance_store;
