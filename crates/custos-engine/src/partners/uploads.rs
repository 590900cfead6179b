//! A partner's records in and out (seed 3.1, 3.3): uploads through the PII gate, reads
//! and deletions, only ever of the calling partner's own records.
//!
//! An upload with an `Idempotency-Key` stores its answer with its records in one
//! transaction: the same key with the same request gets the same answer and stores
//! nothing again; the same key with another request is refused.

use custos_pii::Detector;
use custos_store::{PartnerRecord, PartnerUpload, SubjectId};
use serde_json::{Value, json};
use uuid::Uuid;

use super::batch::{self, BatchFormat, BatchRecord};
use super::keys::{PartnerCaller, SCOPE_DELETE, SCOPE_READ, SCOPE_WRITE};
use super::screen::{self, PiiFinding};
use super::{PartnerError, Partners, invalid};
use crate::vault::Vault;

/// The table name bound into each sealed record.
pub(crate) const TABLE: &str = "partner_records";
/// The MAC context of pseudonym indexes.
const PSEUDONYM_CONTEXT: &str = "custos/partner-pseudonym/v1";
/// The MAC context of upload fingerprints.
const UPLOAD_CONTEXT: &str = "custos/partner-upload/v1";
/// Records deleted per statement.
pub(crate) const DELETE_BATCH: u32 = 500;
/// The most records one read returns.
pub const MAX_READ: u32 = 1000;

/// An upload as received.
#[derive(Debug, Clone)]
pub struct UploadRequest {
    /// How the body is written.
    pub format: BatchFormat,
    /// The body.
    pub body: Vec<u8>,
    /// Store the clean records and report the others, instead of rejecting the batch.
    pub quarantine: bool,
    /// The partner's idempotency key, if sent.
    pub idempotency_key: Option<String>,
}

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadAnswer {
    /// The HTTP status to answer with.
    pub status: u16,
    /// The body to answer with.
    pub body: Value,
    /// Whether this repeats the answer to an earlier request with the same key.
    pub replayed: bool,
}

/// What parsing and screening made of a batch.
struct Screened {
    clean: Vec<BatchRecord>,
    rejected: usize,
    findings: Vec<PiiFinding>,
}

impl Partners {
    /// The MAC of `pseudonym` bound to `partner`: the same pseudonym at two partners gives
    /// two unrelated indexes, so partners' data cannot be joined through it.
    pub(crate) fn pseudonym_index(&self, partner: Uuid, pseudonym: &str) -> [u8; 32] {
        let mut message = Vec::with_capacity(16 + pseudonym.len());
        message.extend_from_slice(partner.as_bytes());
        message.extend_from_slice(pseudonym.as_bytes());
        self.records.vault().mac(PSEUDONYM_CONTEXT, &message)
    }

    /// Takes in a batch for `caller`'s partner. Nothing is stored unless every record that
    /// is stored passed the PII gate; see the module's documentation for idempotency.
    pub async fn upload(&self, caller: &PartnerCaller, request: UploadRequest) -> Result<UploadAnswer, PartnerError> {
        Self::require_scope(caller, SCOPE_WRITE)?;
        let purpose = self.processor_purpose()?.id.clone();
        let partner = self.partner(caller.partner_id).await?;
        if partner.contract_status != "active" {
            return Err(PartnerError::Forbidden {
                code: "contract_not_active",
                message: format!("the partner's contract is {}: uploads are closed", partner.contract_status),
            });
        }
        if let Some(key) = &request.idempotency_key
            && (key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(invalid(
                "invalid_idempotency_key",
                "Idempotency-Key",
                "an idempotency key is 1 to 255 printable characters without spaces",
            ));
        }
        let fingerprint = {
            let mut message = Vec::with_capacity(request.body.len() + 24);
            message.extend_from_slice(partner.id.as_bytes());
            message.extend_from_slice(request.format.as_str().as_bytes());
            message.push(u8::from(request.quarantine));
            message.extend_from_slice(&request.body);
            self.records.vault().mac(UPLOAD_CONTEXT, &message)
        };
        if let Some(key) = &request.idempotency_key
            && let Some(answer) = self.replay(partner.id, key, &fingerprint).await?
        {
            return Ok(answer);
        }

        let screened = self.parse_and_screen(request.format, request.body).await?;
        let actor = caller.audit_name();
        if screened.rejected > 0 && !request.quarantine {
            self.audit(
                &actor,
                "partner.records.rejected",
                Some(&purpose),
                json!({"partner_id": partner.id, "records_with_pii": screened.rejected,
                       "findings": screened.findings.len(), "types": types_of(&screened.findings)}),
            )
            .await?;
            return Err(PartnerError::PiiDetected { rejected: screened.rejected, findings: screened.findings });
        }

        let now = self.clock.now();
        let owner = SubjectId(partner.data_key_id);
        let key = self.records.vault().data_key_or_create(owner, now).await?;
        let upload_id = Uuid::now_v7();
        let mut rows = Vec::with_capacity(screened.clean.len());
        for record in &screened.clean {
            let pseudonym =
                record.fields.get(&self.settings.pseudonym_field).and_then(Value::as_str).unwrap_or_default();
            let id = Uuid::now_v7();
            let plain =
                serde_json::to_vec(&record.fields).map_err(|e| custos_store::StoreError::Corrupt(e.to_string()))?;
            rows.push(PartnerRecord {
                partner_id: partner.id,
                pseudonym_index: self.pseudonym_index(partner.id, pseudonym),
                id,
                upload_id,
                sealed: Vault::seal(&key, TABLE, id, owner, &plain),
                purpose: purpose.clone(),
                role: "processor".into(),
                created_at: now,
            });
        }
        let body = json!({
            "upload_id": upload_id,
            "stored": rows.len(),
            "rejected": screened.findings,
            "records_rejected": screened.rejected,
            "mode": if request.quarantine { "quarantine" } else { "reject" },
            "purpose": purpose,
            "custos_role": "processor",
        });
        let status = 201;
        let upload = request.idempotency_key.as_ref().map(|k| PartnerUpload {
            partner_id: partner.id,
            idempotency_key: k.clone(),
            request_mac: fingerprint,
            status,
            response: body.clone(),
            created_at: now,
        });
        match self.records.store().put_partner_records(&rows, upload.as_ref()).await {
            Ok(()) => {}
            // The same key won a race with this request: answer as it was answered.
            Err(custos_store::StoreError::Conflict(_)) if upload.is_some() => {
                let key = request.idempotency_key.as_deref().unwrap_or_default();
                return match self.replay(partner.id, key, &fingerprint).await? {
                    Some(answer) => Ok(answer),
                    None => Err(PartnerError::IdempotencyKeyReused(key.to_owned())),
                };
            }
            Err(e) => return Err(e.into()),
        }
        self.audit(
            &actor,
            "partner.records.write",
            Some(&purpose),
            json!({"partner_id": partner.id, "upload_id": upload_id, "stored": rows.len(),
                   "records_with_pii": screened.rejected, "types": types_of(&screened.findings)}),
        )
        .await?;
        Ok(UploadAnswer { status, body, replayed: false })
    }

    /// The stored answer to an earlier upload with `key`, if the request is the same one.
    async fn replay(
        &self,
        partner: Uuid,
        key: &str,
        fingerprint: &[u8; 32],
    ) -> Result<Option<UploadAnswer>, PartnerError> {
        match self.records.store().partner_upload(partner, key).await? {
            None => Ok(None),
            Some(earlier) if earlier.request_mac == *fingerprint => {
                Ok(Some(UploadAnswer { status: earlier.status, body: earlier.response, replayed: true }))
            }
            Some(_) => Err(PartnerError::IdempotencyKeyReused(key.to_owned())),
        }
    }

    /// Parses and screens a batch on a blocking thread (both are CPU work).
    async fn parse_and_screen(&self, format: BatchFormat, body: Vec<u8>) -> Result<Screened, PartnerError> {
        let detector = self.detector.clone();
        let max = self.settings.max_records;
        let field = self.settings.pseudonym_field.clone();
        let work = move || -> Result<Screened, PartnerError> {
            let records = batch::parse(format, &body, max, &field)?;
            let detector = detector.get_or_init(Detector::new);
            let mut clean = Vec::with_capacity(records.len());
            let mut findings = Vec::new();
            let mut rejected = 0;
            for record in records {
                let found = screen::screen(detector, &record);
                if found.is_empty() {
                    clean.push(record);
                } else {
                    rejected += 1;
                    findings.extend(found);
                }
            }
            Ok(Screened { clean, rejected, findings })
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| custos_store::StoreError::Unavailable(format!("the screening task failed: {e}")))?
    }

    /// The caller's records, of one pseudonym or all, in id order after `after`.
    pub async fn read(
        &self,
        caller: &PartnerCaller,
        pseudonym: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Value>, PartnerError> {
        Self::require_scope(caller, SCOPE_READ)?;
        let purpose = self.processor_purpose()?.id.clone();
        let partner = self.partner(caller.partner_id).await?;
        let index = self.checked_index(partner.id, pseudonym)?;
        let rows =
            self.records.store().partner_records(partner.id, index.as_ref(), after, limit.clamp(1, MAX_READ)).await?;
        let owner = SubjectId(partner.data_key_id);
        let mut out = Vec::with_capacity(rows.len());
        if !rows.is_empty() {
            let key = self.records.vault().data_key(owner).await?;
            for row in &rows {
                let plain = Vault::open_value(&key, TABLE, row.id, owner, &row.sealed)
                    .map_err(crate::vault::VaultAccessError::from)?;
                let fields: Value =
                    serde_json::from_slice(&plain).map_err(|e| custos_store::StoreError::Corrupt(e.to_string()))?;
                out.push(json!({
                    "id": row.id,
                    "upload_id": row.upload_id,
                    "fields": fields,
                    "purpose": row.purpose,
                    "custos_role": row.role,
                    "created_at": row.created_at,
                }));
            }
        }
        self.audit(
            &caller.audit_name(),
            "partner.records.read",
            Some(&purpose),
            json!({"partner_id": partner.id, "by_pseudonym": pseudonym.is_some(), "records": out.len()}),
        )
        .await?;
        Ok(out)
    }

    /// Deletes the caller's records of one pseudonym, or all of them; returns how many.
    pub async fn delete(&self, caller: &PartnerCaller, pseudonym: Option<&str>) -> Result<u64, PartnerError> {
        Self::require_scope(caller, SCOPE_DELETE)?;
        let partner = self.partner(caller.partner_id).await?;
        let index = self.checked_index(partner.id, pseudonym)?;
        let mut deleted = 0;
        loop {
            let n = self.records.store().delete_partner_records(partner.id, index.as_ref(), DELETE_BATCH).await?;
            deleted += n;
            if n == 0 {
                break;
            }
        }
        self.audit(
            &caller.audit_name(),
            "partner.records.delete",
            Some(&self.settings.purpose),
            json!({"partner_id": partner.id, "by_pseudonym": pseudonym.is_some(), "records": deleted}),
        )
        .await?;
        Ok(deleted)
    }

    pub(super) fn checked_index(
        &self,
        partner: Uuid,
        pseudonym: Option<&str>,
    ) -> Result<Option<[u8; 32]>, PartnerError> {
        match pseudonym {
            None => Ok(None),
            Some(p) if batch::is_pseudonym(p) => Ok(Some(self.pseudonym_index(partner, p))),
            Some(_) => Err(invalid(
                "bad_pseudonym",
                "pseudonym",
                format!("a pseudonym is 1 to {} printable characters without spaces", batch::MAX_PSEUDONYM),
            )),
        }
    }
}

/// The PII types found, each once, for audit entries (never the values).
fn types_of(findings: &[PiiFinding]) -> Vec<&'static str> {
    let mut types: Vec<&'static str> = findings.iter().map(|f| f.kind).collect();
    types.sort_unstable();
    types.dedup();
    types
}
