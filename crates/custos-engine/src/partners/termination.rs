//! Contract end (seed 3.1, 7): every record of the partner is deleted through the job
//! runner, its data key destroyed (so no backup can be read for it any more), and the
//! partner told what was done.
//!
//! [`Partners::terminate`] closes the contract at once: the partner's keys are revoked,
//! its status becomes `terminating` (no more uploads; aggregates leave it out) and the job
//! is queued. [`PartnerTermination`] then deletes records in batches, the stored upload
//! answers, and the key; mails the report to the partner's contact; and stores the report
//! with the partner, status `terminated`. Each step is safe to repeat, so a worker that
//! dies mid-way leaves a job that the next run finishes.

use std::sync::Arc;

use async_trait::async_trait;
use custos_store::{Job, NewJob, Partner, SubjectId};
use serde_json::json;
use uuid::Uuid;

use super::uploads::DELETE_BATCH;
use super::{PartnerError, Partners};
use crate::gate::Actor;
use crate::jobs::{JobError, JobHandler};
use crate::mail::{self, MailRequest};

/// The job kind that deletes a terminated partner's data.
pub const TERMINATE_KIND: &str = "partners.terminate";

impl Partners {
    /// Ends the partner's contract: revokes its keys and queues the deletion of its data.
    pub async fn terminate(&self, actor: &Actor, partner: Uuid) -> Result<Partner, PartnerError> {
        self.check_staff(actor)?;
        let mut p = self.partner(partner).await?;
        let now = self.clock.now();
        let keys = self.records.store().revoke_partner_keys(partner, now).await?;
        if p.contract_status == "active" || p.contract_status == "suspended" {
            p.contract_status = "terminating".into();
            p.terminated_at = Some(now);
            p.records_at_termination = Some(self.records.store().count_partner_records(partner).await?);
            self.records.store().update_partner(&p).await?;
        }
        self.records
            .store()
            .enqueue_job(&NewJob {
                kind: TERMINATE_KIND.into(),
                payload: json!({"partner_id": partner}),
                idempotency_key: Some(format!("partner-terminate:{partner}")),
                priority: 1,
                run_at: now,
                max_attempts: 50,
            })
            .await?;
        self.audit(
            &actor.audit_name(),
            "partner.terminate",
            Some(&self.settings.purpose),
            json!({"partner_id": partner, "keys_revoked": keys, "records": p.records_at_termination}),
        )
        .await?;
        Ok(p)
    }

    /// Carries out the deletion of a terminated partner's data; see the module's documentation.
    pub async fn finish_termination(&self, partner: Uuid) -> Result<Partner, PartnerError> {
        let mut p = self.partner(partner).await?;
        match p.contract_status.as_str() {
            "terminated" => return Ok(p),
            "terminating" => {}
            other => {
                return Err(PartnerError::Forbidden {
                    code: "not_terminating",
                    message: format!("partner {partner} is {other}; terminate it first"),
                });
            }
        }
        // A legal hold on partner data (all data, the partners' purpose or one of its
        // categories) stops the deletion: the job ends dead with the hold's reason, and
        // staff give it fresh attempts once the hold is released.
        if let Some(hold) = self.legal_hold().await? {
            return Err(PartnerError::Forbidden {
                code: "legal_hold",
                message: format!(
                    "legal hold {} keeps partner data ({}); release it, then retry the termination",
                    hold.id, hold.reason
                ),
            });
        }
        let store = self.records.store();
        // Keys again: one made between the termination and now must not outlive it.
        store.revoke_partner_keys(partner, self.clock.now()).await?;
        while store.delete_partner_records(partner, None, DELETE_BATCH).await? > 0 {}
        let uploads = store.delete_partner_uploads(partner).await?;
        let now = self.clock.now();
        let key_destroyed = self.records.vault().shred(SubjectId(p.data_key_id), now).await?;
        let remaining = store.count_partner_records(partner).await?;
        let report = json!({
            "partner_id": partner,
            "partner": p.name,
            "records_deleted": p.records_at_termination.unwrap_or(0),
            "records_remaining": remaining,
            "upload_answers_deleted": uploads,
            "data_key_destroyed": true,
            "data_key_destroyed_now": key_destroyed,
            "terminated_at": p.terminated_at,
            "completed_at": now,
            "custos_role": "processor",
        });
        if let Some(contact) = p.contact_subject {
            let body = format!(
                "Hello {{{{name}}}},\n\nYour contract with us has ended, and as your processor we have deleted all the \
                 data you handed in: {} records. The key they were encrypted under was destroyed, so no copy of them, \
                 backups included, can be read any more.\n\nReport:\n{}\n",
                p.records_at_termination.unwrap_or(0),
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            mail::enqueue(
                store,
                &MailRequest {
                    subject_id: contact,
                    purpose: self.settings.contact_purpose.clone(),
                    subject_line: "Your data has been deleted".into(),
                    body,
                    unsubscribe: None,
                    campaign: None,
                },
                Some(format!("partner-terminated:{partner}")),
            )
            .await?;
        }
        self.audit(
            "system",
            "partner.data.deleted",
            Some(&self.settings.purpose),
            json!({"partner_id": partner, "records_deleted": p.records_at_termination, "remaining": remaining}),
        )
        .await?;
        p.contract_status = "terminated".into();
        p.termination_report = Some(report);
        store.update_partner(&p).await?;
        Ok(p)
    }
}

impl Partners {
    /// The legal hold in force on partner data, if any: one on everything, on the partners'
    /// purpose, or on one of that purpose's categories (see [`crate::governance::holds`]).
    async fn legal_hold(&self) -> Result<Option<custos_store::LegalHold>, PartnerError> {
        let holds = crate::governance::holds::Holds::new(
            self.records.store().clone(),
            self.policy.clone(),
            self.records.auditor().clone(),
            self.clock.clone(),
        );
        let purpose = self.settings.purpose.as_str();
        let categories: Vec<&str> =
            self.policy.purpose(purpose).map(|p| p.categories.iter().map(String::as_str).collect()).unwrap_or_default();
        let set = holds.in_force().await?;
        Ok(set
            .holds()
            .iter()
            .find(|h| match (h.scope.as_str(), h.target.as_deref()) {
                ("all", _) => true,
                ("purpose", Some(t)) => t == purpose,
                ("category", Some(t)) => categories.contains(&t),
                _ => false,
            })
            .cloned())
    }
}

/// The job that carries out a partner's termination.
pub struct PartnerTermination {
    partners: Arc<Partners>,
}

impl PartnerTermination {
    /// The handler, on `partners`.
    pub fn new(partners: Arc<Partners>) -> Self {
        Self { partners }
    }
}

#[async_trait]
impl JobHandler for PartnerTermination {
    fn kind(&self) -> &'static str {
        TERMINATE_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let partner = job
            .payload
            .get("partner_id")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| JobError::Permanent("the job names no partner".into()))?;
        match self.partners.finish_termination(partner).await {
            Ok(_) => Ok(()),
            Err(e @ (PartnerError::NotFound(_) | PartnerError::Forbidden { .. })) => {
                Err(JobError::Permanent(e.to_string()))
            }
            Err(e) => Err(JobError::Retry(e.to_string())),
        }
    }
}
