//! Partners (seed 3): the partners staff registered, their API keys (only as hashes), the
//! sub-processors they consented to, the pseudonymised records they handed in (sealed
//! under each partner's own data key; the pseudonym only as a MAC bound to the partner),
//! the answers given to idempotent uploads, and the privacy budget of noisy aggregates.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{StoreError, SubjectId};

/// A partner, as registered by staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its id.
    pub id: Uuid,
    /// The partner's business name (a company, not a person).
    pub name: String,
    /// Where the partner is established (ISO 3166-1 alpha-2).
    pub country: String,
    /// What it is to us: `advertiser`, `publisher`, `agency`, `platform` or `affiliate`.
    pub role: String,
    /// `active`, `suspended`, `terminating` (deletion under way) or `terminated`.
    pub contract_status: String,
    /// The partner's contact person, kept as a subject of kind `partner_contact` whose
    /// address and name are sealed like any person's.
    pub contact_subject: Option<SubjectId>,
    /// The owner id of the data key the partner's records are sealed under; destroyed at
    /// contract end.
    pub data_key_id: Uuid,
    /// Whether the partner consented in writing to processing outside the EEA.
    pub transfers_outside_eea: bool,
    /// The reference of that written consent.
    pub transfer_consent_ref: Option<String>,
    /// The date of that written consent (`YYYY-MM-DD`).
    pub transfer_consent_date: Option<String>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When its contract was terminated.
    pub terminated_at: Option<Timestamp>,
    /// How many records it held when termination started.
    pub records_at_termination: Option<u64>,
    /// What the deletion at termination did, as JSON without personal data.
    pub termination_report: Option<serde_json::Value>,
}

/// A partner's API key, as stored: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerKey {
    /// The key's id, the part of the key that is safe to show and log.
    pub id: String,
    /// The partner it belongs to.
    pub partner_id: Uuid,
    /// SHA-256 of the secret part.
    pub key_hash: [u8; 32],
    /// What it may do (`records:write`, `records:read`, `records:delete`).
    pub scopes: Vec<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A sub-processor a partner consented to in writing (seed 3.4 (g)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubProcessor {
    /// The partner whose data it processes.
    pub partner_id: Uuid,
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Where it processes the data (ISO 3166-1 alpha-2).
    pub country: String,
    /// What it does with the data.
    pub activity: String,
    /// The reference of the partner's written consent.
    pub consent_ref: String,
    /// The date of that consent (`YYYY-MM-DD`).
    pub consent_date: String,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// One record a partner handed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRecord {
    /// The partner.
    pub partner_id: Uuid,
    /// MAC of the partner's pseudonym, bound to the partner.
    pub pseudonym_index: [u8; 32],
    /// The record's id.
    pub id: Uuid,
    /// The upload it came in.
    pub upload_id: Uuid,
    /// The record as JSON, sealed under the partner's data key.
    pub sealed: Vec<u8>,
    /// The purpose it is processed for (the policy's processor purpose).
    pub purpose: String,
    /// custos's role for it: `processor` for partner data (seed 3.3).
    pub role: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// The answer given to an upload made with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUpload {
    /// The partner.
    pub partner_id: Uuid,
    /// The key the partner sent.
    pub idempotency_key: String,
    /// MAC of the request (mode and body), to tell a repeat from a different request.
    pub request_mac: [u8; 32],
    /// The HTTP status answered.
    pub status: u16,
    /// The body answered (no personal data: findings are masked).
    pub response: serde_json::Value,
    /// When it was answered.
    pub created_at: Timestamp,
}

/// A dataset's privacy budget: the total epsilon noisy queries may spend, and how much is spent.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyBudget {
    /// The dataset.
    pub dataset: String,
    /// The total epsilon.
    pub total: f64,
    /// The epsilon spent so far.
    pub spent: f64,
}

/// Partners and their data.
#[async_trait]
pub trait PartnerStore {
    /// Stores a new partner.
    async fn create_partner(&self, partner: &Partner) -> Result<(), StoreError>;

    /// A partner by id.
    async fn partner(&self, id: Uuid) -> Result<Option<Partner>, StoreError>;

    /// Every partner, oldest first.
    async fn partners(&self) -> Result<Vec<Partner>, StoreError>;

    /// Replaces a partner's mutable fields (status, contact, transfer consent, termination).
    async fn update_partner(&self, partner: &Partner) -> Result<bool, StoreError>;

    /// Stores a new key.
    async fn create_partner_key(&self, key: &PartnerKey) -> Result<(), StoreError>;

    /// A key by id.
    async fn partner_key(&self, id: &str) -> Result<Option<PartnerKey>, StoreError>;

    /// A partner's keys, oldest first.
    async fn partner_keys(&self, partner: Uuid) -> Result<Vec<PartnerKey>, StoreError>;

    /// Revokes a live key of `partner`; false when there is none by that id.
    async fn revoke_partner_key(&self, partner: Uuid, id: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Revokes every live key of a partner; returns how many.
    async fn revoke_partner_keys(&self, partner: Uuid, at: Timestamp) -> Result<u64, StoreError>;

    /// Registers a sub-processor.
    async fn add_subprocessor(&self, sub: &SubProcessor) -> Result<(), StoreError>;

    /// A partner's sub-processors, oldest first.
    async fn subprocessors(&self, partner: Uuid) -> Result<Vec<SubProcessor>, StoreError>;

    /// Stores records and, if given, the answer to the upload, all or nothing.
    /// [`StoreError::Conflict`] when the upload's idempotency key was used already.
    async fn put_partner_records(
        &self,
        records: &[PartnerRecord],
        upload: Option<&PartnerUpload>,
    ) -> Result<(), StoreError>;

    /// The answer given to an upload with this idempotency key.
    async fn partner_upload(&self, partner: Uuid, key: &str) -> Result<Option<PartnerUpload>, StoreError>;

    /// A partner's records, of one pseudonym or all, in id order after `after`.
    async fn partner_records(
        &self,
        partner: Uuid,
        pseudonym: Option<&[u8; 32]>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PartnerRecord>, StoreError>;

    /// Every partner's records, in id order after `after` (for aggregation).
    async fn all_partner_records(&self, after: Option<Uuid>, limit: u32) -> Result<Vec<PartnerRecord>, StoreError>;

    /// Deletes up to `limit` of a partner's records (of one pseudonym, or all); returns how many.
    async fn delete_partner_records(
        &self,
        partner: Uuid,
        pseudonym: Option<&[u8; 32]>,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// How many records a partner holds.
    async fn count_partner_records(&self, partner: Uuid) -> Result<u64, StoreError>;

    /// Deletes the stored answers of a partner's uploads; returns how many.
    async fn delete_partner_uploads(&self, partner: Uuid) -> Result<u64, StoreError>;

    /// Spends `epsilon` of `dataset`'s budget (created with `total` on first use) if that
    /// much is left; `None` when it is not (nothing is spent then).
    async fn charge_privacy_budget(
        &self,
        dataset: &str,
        total: f64,
        epsilon: f64,
    ) -> Result<Option<PrivacyBudget>, StoreError>;

    /// A dataset's budget, once used.
    async fn privacy_budget(&self, dataset: &str) -> Result<Option<PrivacyBudget>, StoreError>;
}

/// The columns of `partners`, in the order [`partner_row`] reads them.
pub(crate) const PARTNER_COLUMNS: &str = "partner_id, name, country, role, contract_status, contact_subject_id, \
     data_key_id, transfers_outside_eea, transfer_consent_ref, transfer_consent_date, created_at, terminated_at, \
     records_at_termination, termination_report";

/// A `partners` row as read.
pub(crate) type PartnerRow = (
    Uuid,
    String,
    String,
    String,
    String,
    Option<Uuid>,
    Uuid,
    bool,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

pub(crate) fn partner_row(r: PartnerRow) -> Result<Partner, StoreError> {
    let report = r
        .13
        .map(|text| serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("termination report: {e}"))))
        .transpose()?;
    Ok(Partner {
        id: r.0,
        name: r.1,
        country: r.2,
        role: r.3,
        contract_status: r.4,
        contact_subject: r.5.map(SubjectId),
        data_key_id: r.6,
        transfers_outside_eea: r.7,
        transfer_consent_ref: r.8,
        transfer_consent_date: r.9,
        created_at: crate::time::from_millis(r.10)?,
        terminated_at: r.11.map(crate::time::from_millis).transpose()?,
        records_at_termination: r.12.map(|n| u64::try_from(n).unwrap_or(0)),
        termination_report: report,
    })
}

pub(crate) type KeyRow = (String, Uuid, Vec<u8>, String, i64, Option<i64>);

pub(crate) fn key_row(r: KeyRow) -> Result<PartnerKey, StoreError> {
    Ok(PartnerKey {
        id: r.0,
        partner_id: r.1,
        key_hash: hash32(r.2, "key hash")?,
        scopes: serde_json::from_str(&r.3).map_err(|e| StoreError::Corrupt(format!("key scopes: {e}")))?,
        created_at: crate::time::from_millis(r.4)?,
        revoked_at: r.5.map(crate::time::from_millis).transpose()?,
    })
}

pub(crate) type RecordRow = (Uuid, Vec<u8>, Uuid, Uuid, Vec<u8>, String, String, i64);

pub(crate) const RECORD_COLUMNS: &str =
    "partner_id, pseudonym_index, record_id, upload_id, sealed, purpose, role, created_at";

pub(crate) fn record_row(r: RecordRow) -> Result<PartnerRecord, StoreError> {
    Ok(PartnerRecord {
        partner_id: r.0,
        pseudonym_index: hash32(r.1, "pseudonym index")?,
        id: r.2,
        upload_id: r.3,
        sealed: r.4,
        purpose: r.5,
        role: r.6,
        created_at: crate::time::from_millis(r.7)?,
    })
}

pub(crate) fn hash32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    let len = bytes.len();
    bytes.try_into().map_err(|_| StoreError::Corrupt(format!("{what} of {len} bytes, expected 32")))
}

/// Implements [`PartnerStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! partner_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::PartnerStore for $store {
            async fn create_partner(&self, p: &$crate::Partner) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(&format!(
                    "INSERT INTO partners ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                    $crate::partners::PARTNER_COLUMNS
                ))
                .bind(p.id)
                .bind(&p.name)
                .bind(&p.country)
                .bind(&p.role)
                .bind(&p.contract_status)
                .bind(p.contact_subject.map(|s| s.0))
                .bind(p.data_key_id)
                .bind(p.transfers_outside_eea)
                .bind(&p.transfer_consent_ref)
                .bind(&p.transfer_consent_date)
                .bind($crate::time::to_millis(p.created_at))
                .bind(p.terminated_at.map($crate::time::to_millis))
                .bind(p.records_at_termination.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                .bind(p.termination_report.as_ref().map(|r| r.to_string()))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("partner {} exists", p.id)))?;
                Ok(())
            }

            async fn partner(&self, id: uuid::Uuid) -> Result<Option<$crate::Partner>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, $crate::partners::PartnerRow>(&format!(
                    "SELECT {} FROM partners WHERE partner_id = $1",
                    $crate::partners::PARTNER_COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::partners::partner_row).transpose()
            }

            async fn partners(&self) -> Result<Vec<$crate::Partner>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, $crate::partners::PartnerRow>(&format!(
                    "SELECT {} FROM partners ORDER BY created_at, partner_id",
                    $crate::partners::PARTNER_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::partners::partner_row).collect()
            }

            async fn update_partner(&self, p: &$crate::Partner) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE partners SET contract_status = $2, contact_subject_id = $3, transfers_outside_eea = $4, \
                     transfer_consent_ref = $5, transfer_consent_date = $6, terminated_at = $7, \
                     records_at_termination = $8, termination_report = $9 WHERE partner_id = $1",
                )
                .bind(p.id)
                .bind(&p.contract_status)
                .bind(p.contact_subject.map(|s| s.0))
                .bind(p.transfers_outside_eea)
                .bind(&p.transfer_consent_ref)
                .bind(&p.transfer_consent_date)
                .bind(p.terminated_at.map($crate::time::to_millis))
                .bind(p.records_at_termination.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
                .bind(p.termination_report.as_ref().map(|r| r.to_string()))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_partner_key(&self, k: &$crate::PartnerKey) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO partner_keys (key_id, partner_id, key_hash, scopes, created_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&k.id)
                .bind(k.partner_id)
                .bind(&k.key_hash[..])
                .bind(serde_json::to_string(&k.scopes).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?)
                .bind($crate::time::to_millis(k.created_at))
                .bind(k.revoked_at.map($crate::time::to_millis))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                        $crate::StoreError::NotFound(format!("partner {}", k.partner_id))
                    }
                    e => $crate::error::conflict_on_unique(e, || format!("partner key {} exists", k.id)),
                })?;
                Ok(())
            }

            async fn partner_key(&self, id: &str) -> Result<Option<$crate::PartnerKey>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, $crate::partners::KeyRow>(
                    "SELECT key_id, partner_id, key_hash, scopes, created_at, revoked_at FROM partner_keys WHERE key_id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::partners::key_row).transpose()
            }

            async fn partner_keys(&self, partner: uuid::Uuid) -> Result<Vec<$crate::PartnerKey>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, $crate::partners::KeyRow>(
                    "SELECT key_id, partner_id, key_hash, scopes, created_at, revoked_at FROM partner_keys \
                     WHERE partner_id = $1 ORDER BY created_at, key_id",
                )
                .bind(partner)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::partners::key_row).collect()
            }

            async fn revoke_partner_key(
                &self,
                partner: uuid::Uuid,
                id: &str,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE partner_keys SET revoked_at = $3 WHERE partner_id = $1 AND key_id = $2 AND revoked_at IS NULL",
                )
                .bind(partner)
                .bind(id)
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_partner_keys(&self, partner: uuid::Uuid, at: jiff::Timestamp) -> Result<u64, $crate::StoreError> {
                let done =
                    sqlx::query::<$db>("UPDATE partner_keys SET revoked_at = $2 WHERE partner_id = $1 AND revoked_at IS NULL")
                        .bind(partner)
                        .bind($crate::time::to_millis(at))
                        .execute(&mut *self.write_conn().await?)
                        .await?;
                Ok(done.rows_affected())
            }

            async fn add_subprocessor(&self, s: &$crate::SubProcessor) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO partner_subprocessors (partner_id, subprocessor_id, name, country, activity, consent_ref, \
                     consent_date, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(s.partner_id)
                .bind(s.id)
                .bind(&s.name)
                .bind(&s.country)
                .bind(&s.activity)
                .bind(&s.consent_ref)
                .bind(&s.consent_date)
                .bind($crate::time::to_millis(s.created_at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::not_found_on_foreign_key(e, || format!("partner {}", s.partner_id)))?;
                Ok(())
            }

            async fn subprocessors(&self, partner: uuid::Uuid) -> Result<Vec<$crate::SubProcessor>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (uuid::Uuid, uuid::Uuid, String, String, String, String, String, i64)>(
                    "SELECT partner_id, subprocessor_id, name, country, activity, consent_ref, consent_date, created_at \
                     FROM partner_subprocessors WHERE partner_id = $1 ORDER BY created_at, subprocessor_id",
                )
                .bind(partner)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        Ok($crate::SubProcessor {
                            partner_id: r.0,
                            id: r.1,
                            name: r.2,
                            country: r.3,
                            activity: r.4,
                            consent_ref: r.5,
                            consent_date: r.6,
                            created_at: $crate::time::from_millis(r.7)?,
                        })
                    })
                    .collect()
            }

            async fn put_partner_records(
                &self,
                records: &[$crate::PartnerRecord],
                upload: Option<&$crate::PartnerUpload>,
            ) -> Result<(), $crate::StoreError> {
                const CHUNK: usize = 200;
                let mut tx = self.begin_write().await?;
                if let Some(u) = upload {
                    // First, so that a repeat loses the race before writing anything.
                    sqlx::query::<$db>(
                        "INSERT INTO partner_uploads (partner_id, idempotency_key, request_mac, status, response, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(u.partner_id)
                    .bind(&u.idempotency_key)
                    .bind(&u.request_mac[..])
                    .bind(i32::from(u.status))
                    .bind(u.response.to_string())
                    .bind($crate::time::to_millis(u.created_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            $crate::StoreError::NotFound(format!("partner {}", u.partner_id))
                        }
                        e => $crate::error::conflict_on_unique(e, || {
                            format!("idempotency key {:?} was used already", u.idempotency_key)
                        }),
                    })?;
                }
                for chunk in records.chunks(CHUNK) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO partner_records (partner_id, pseudonym_index, record_id, upload_id, sealed, purpose, role, created_at) ",
                    );
                    insert.push_values(chunk, |mut row, r| {
                        row.push_bind(r.partner_id)
                            .push_bind(r.pseudonym_index.to_vec())
                            .push_bind(r.id)
                            .push_bind(r.upload_id)
                            .push_bind(r.sealed.clone())
                            .push_bind(r.purpose.clone())
                            .push_bind(r.role.clone())
                            .push_bind($crate::time::to_millis(r.created_at));
                    });
                    insert.build().execute(&mut *tx).await.map_err(|e| match e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            $crate::StoreError::NotFound("partner".into())
                        }
                        e => $crate::error::conflict_on_unique(e, || "a partner record with this id exists".into()),
                    })?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn partner_upload(
                &self,
                partner: uuid::Uuid,
                key: &str,
            ) -> Result<Option<$crate::PartnerUpload>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (uuid::Uuid, String, Vec<u8>, i32, String, i64)>(
                    "SELECT partner_id, idempotency_key, request_mac, status, response, created_at FROM partner_uploads \
                     WHERE partner_id = $1 AND idempotency_key = $2",
                )
                .bind(partner)
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok($crate::PartnerUpload {
                        partner_id: r.0,
                        idempotency_key: r.1,
                        request_mac: $crate::partners::hash32(r.2, "request mac")?,
                        status: u16::try_from(r.3).map_err(|_| $crate::StoreError::Corrupt("upload status".into()))?,
                        response: serde_json::from_str(&r.4)
                            .map_err(|e| $crate::StoreError::Corrupt(format!("upload response: {e}")))?,
                        created_at: $crate::time::from_millis(r.5)?,
                    })
                })
                .transpose()
            }

            async fn partner_records(
                &self,
                partner: uuid::Uuid,
                pseudonym: Option<&[u8; 32]>,
                after: Option<uuid::Uuid>,
                limit: u32,
            ) -> Result<Vec<$crate::PartnerRecord>, $crate::StoreError> {
                let after = after.unwrap_or(uuid::Uuid::nil());
                let rows = match pseudonym {
                    Some(index) => {
                        sqlx::query_as::<$db, $crate::partners::RecordRow>(&format!(
                            "SELECT {} FROM partner_records WHERE partner_id = $1 AND pseudonym_index = $2 \
                             AND record_id > $3 ORDER BY record_id LIMIT $4",
                            $crate::partners::RECORD_COLUMNS
                        ))
                        .bind(partner)
                        .bind(&index[..])
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                    None => {
                        sqlx::query_as::<$db, $crate::partners::RecordRow>(&format!(
                            "SELECT {} FROM partner_records WHERE partner_id = $1 AND record_id > $2 \
                             ORDER BY record_id LIMIT $3",
                            $crate::partners::RECORD_COLUMNS
                        ))
                        .bind(partner)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?
                    }
                };
                rows.into_iter().map($crate::partners::record_row).collect()
            }

            async fn all_partner_records(
                &self,
                after: Option<uuid::Uuid>,
                limit: u32,
            ) -> Result<Vec<$crate::PartnerRecord>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, $crate::partners::RecordRow>(&format!(
                    "SELECT {} FROM partner_records WHERE record_id > $1 ORDER BY record_id LIMIT $2",
                    $crate::partners::RECORD_COLUMNS
                ))
                .bind(after.unwrap_or(uuid::Uuid::nil()))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map($crate::partners::record_row).collect()
            }

            async fn delete_partner_records(
                &self,
                partner: uuid::Uuid,
                pseudonym: Option<&[u8; 32]>,
                limit: u32,
            ) -> Result<u64, $crate::StoreError> {
                let done = match pseudonym {
                    Some(index) => {
                        sqlx::query::<$db>(
                            "DELETE FROM partner_records WHERE record_id IN (SELECT record_id FROM partner_records \
                             WHERE partner_id = $1 AND pseudonym_index = $2 LIMIT $3)",
                        )
                        .bind(partner)
                        .bind(&index[..])
                        .bind(i64::from(limit))
                        .execute(&mut *self.write_conn().await?)
                        .await?
                    }
                    None => {
                        sqlx::query::<$db>(
                            "DELETE FROM partner_records WHERE record_id IN (SELECT record_id FROM partner_records \
                             WHERE partner_id = $1 LIMIT $2)",
                        )
                        .bind(partner)
                        .bind(i64::from(limit))
                        .execute(&mut *self.write_conn().await?)
                        .await?
                    }
                };
                Ok(done.rows_affected())
            }

            async fn count_partner_records(&self, partner: uuid::Uuid) -> Result<u64, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM partner_records WHERE partner_id = $1")
                    .bind(partner)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(row.0).unwrap_or(0))
            }

            async fn delete_partner_uploads(&self, partner: uuid::Uuid) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM partner_uploads WHERE partner_id = $1")
                    .bind(partner)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn charge_privacy_budget(
                &self,
                dataset: &str,
                total: f64,
                epsilon: f64,
            ) -> Result<Option<$crate::PrivacyBudget>, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>(
                    "INSERT INTO privacy_budgets (dataset, total, spent) VALUES ($1, $2, 0) ON CONFLICT (dataset) DO NOTHING",
                )
                .bind(dataset)
                .bind(total)
                .execute(&mut *tx)
                .await?;
                // One statement checks and spends, so concurrent queries cannot overspend.
                let row = sqlx::query_as::<$db, (f64, f64)>(
                    "UPDATE privacy_budgets SET spent = spent + $2 WHERE dataset = $1 AND spent + $2 <= total + 1e-9 \
                     RETURNING total, spent",
                )
                .bind(dataset)
                .bind(epsilon)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(row.map(|(total, spent)| $crate::PrivacyBudget { dataset: dataset.to_owned(), total, spent }))
            }

            async fn privacy_budget(&self, dataset: &str) -> Result<Option<$crate::PrivacyBudget>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (f64, f64)>("SELECT total, spent FROM privacy_budgets WHERE dataset = $1")
                    .bind(dataset)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(total, spent)| $crate::PrivacyBudget { dataset: dataset.to_owned(), total, spent }))
            }
        }
    };
}
pub(crate) use partner_store;
