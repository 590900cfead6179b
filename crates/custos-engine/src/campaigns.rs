//! Marketing campaigns (seed 9): a subject line, a text and a direct-marketing purpose.
//!
//! Sending a campaign queues one fan-out job. The fan-out pages through the purpose's
//! audience (everyone whose latest consent to it is a grant still counting, who has not
//! objected to it and whose processing is not restricted) and queues one mail job per
//! person, keyed by campaign and person, so a fan-out run again after a crash queues nobody
//! twice. Each mail carries the person's signed unsubscribe link, in the text and in the
//! RFC 8058 headers. At send time the mail job asks the gate again (a withdrawal made after
//! queueing stops the mail) and skips anyone already recorded as sent the campaign; the
//! delivery is recorded once the mail server accepted the message.
//!
//! What remains possible: custos dying between the mail server's acceptance and the
//! delivery record sends that one mail again on restart. Both copies carry the same
//! Message-ID (`<job-N@custos>`), by which mail systems drop duplicates.

use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::Policy;
use custos_store::{Campaign, Job, NewAuditEntry, NewJob, Store, StoreError, SubjectId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::Auditor;
use crate::clock::Clock;
use crate::gate::{Actor, StaffRole};
use crate::jobs::{JobError, JobHandler};
use crate::mail::{self, MailRequest};
use crate::vault::Vault;

/// The job kind that queues a campaign's mails.
pub const FANOUT_KIND: &str = "campaign.fanout";

/// People read from the audience per page while fanning out.
const PAGE: u32 = 500;

/// The longest subject line accepted, in characters.
pub const MAX_SUBJECT_LINE: usize = 200;
/// The longest text accepted, in bytes.
pub const MAX_BODY: usize = 100 * 1024;

/// A campaign to create.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignDraft {
    /// A name for staff.
    pub name: String,
    /// The direct-marketing purpose of the policy it is sent under.
    pub purpose: String,
    /// The subject line.
    pub subject_line: String,
    /// The text; `{{name}}` becomes the recipient's name.
    pub body: String,
}

/// A campaign and how far its sending got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignStatus {
    /// The campaign.
    pub campaign: Campaign,
    /// People the mail server accepted the campaign for.
    pub delivered: u64,
}

/// Why a campaign operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// A field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The caller may not act for the campaign's purpose.
    #[error("this caller may not send mail for the purpose `{0}`")]
    Forbidden(String),
    /// No such campaign (or none the caller may see).
    #[error("no campaign {0}")]
    NotFound(Uuid),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> CampaignError {
    CampaignError::Invalid { field, message: message.into() }
}

/// Creates, lists and starts campaigns.
pub struct Campaigns {
    store: Arc<dyn Store>,
    policy: Arc<Policy>,
    auditor: Auditor,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Campaigns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Campaigns").finish_non_exhaustive()
    }
}

/// Whether `actor` may run campaigns for `purpose`: a service token holding the purpose,
/// the data protection officer or an administrator, or custos itself.
fn may_act(actor: &Actor, purpose: &str) -> bool {
    match actor {
        Actor::Service { purposes, .. } => purposes.iter().any(|p| p == purpose),
        Actor::Staff { role: StaffRole::Admin | StaffRole::Dpo, .. } => true,
        Actor::Staff { role: StaffRole::Support, purposes, .. } => purposes.iter().any(|p| p == purpose),
        Actor::System => true,
        Actor::Staff { role: StaffRole::Auditor, .. } | Actor::Subject(_) | Actor::Visitor => false,
    }
}

impl Campaigns {
    /// Campaigns on `store` under `policy`.
    pub fn new(store: Arc<dyn Store>, policy: Arc<Policy>, auditor: Auditor, clock: Arc<dyn Clock>) -> Self {
        Self { store, policy, auditor, clock }
    }

    /// Checks and stores a new campaign, as a draft.
    pub async fn create(&self, actor: &Actor, draft: &CampaignDraft) -> Result<Campaign, CampaignError> {
        let name = draft.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "give the campaign a name of 1 to 200 characters"));
        }
        let purpose = self
            .policy
            .purposes
            .iter()
            .find(|p| p.id == draft.purpose)
            .ok_or_else(|| invalid("purpose", format!("the policy has no purpose `{}`", draft.purpose)))?;
        if !purpose.direct_marketing {
            return Err(invalid(
                "purpose",
                format!(
                    "`{}` is not a direct-marketing purpose of the policy; campaigns are sent only under one",
                    purpose.id
                ),
            ));
        }
        if !may_act(actor, &purpose.id) {
            return Err(CampaignError::Forbidden(purpose.id.clone()));
        }
        let subject_line = draft.subject_line.trim();
        if subject_line.is_empty() || subject_line.chars().count() > MAX_SUBJECT_LINE {
            return Err(invalid("subject_line", format!("give a subject line of 1 to {MAX_SUBJECT_LINE} characters")));
        }
        if subject_line.chars().any(char::is_control) {
            return Err(invalid("subject_line", "a subject line is one line, without control characters"));
        }
        if draft.body.trim().is_empty() || draft.body.len() > MAX_BODY {
            return Err(invalid("body", format!("give a text of 1 to {MAX_BODY} bytes")));
        }
        let now = self.clock.now();
        let campaign = Campaign {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            purpose: purpose.id.clone(),
            subject_line: subject_line.to_owned(),
            body: draft.body.clone(),
            created_at: now,
            queued_at: None,
        };
        self.store.create_campaign(&campaign).await?;
        self.audit(actor, "campaign.create", &campaign).await?;
        Ok(campaign)
    }

    /// A campaign and its deliveries so far.
    pub async fn status(&self, actor: &Actor, id: Uuid) -> Result<CampaignStatus, CampaignError> {
        let campaign = self.store.campaign(id).await?.ok_or(CampaignError::NotFound(id))?;
        // Someone who may not act for the purpose does not learn that the campaign exists.
        if !may_act(actor, &campaign.purpose) {
            return Err(CampaignError::NotFound(id));
        }
        let delivered = self.store.delivery_count(id).await?;
        Ok(CampaignStatus { campaign, delivered })
    }

    /// The latest campaigns the caller may act for, newest first.
    pub async fn list(&self, actor: &Actor, limit: u32) -> Result<Vec<Campaign>, CampaignError> {
        let all = self.store.campaigns(limit).await?;
        Ok(all.into_iter().filter(|c| may_act(actor, &c.purpose)).collect())
    }

    /// Starts sending: queues the fan-out. Starting again changes nothing.
    pub async fn send(&self, actor: &Actor, id: Uuid) -> Result<CampaignStatus, CampaignError> {
        let status = self.status(actor, id).await?;
        let now = self.clock.now();
        if self.store.mark_campaign_queued(id, now).await? {
            self.store
                .enqueue_job(&NewJob {
                    kind: FANOUT_KIND.into(),
                    payload: serde_json::json!({"campaign_id": id}),
                    idempotency_key: Some(id.to_string()),
                    priority: 0,
                    run_at: now,
                    max_attempts: 12,
                })
                .await?;
            self.audit(actor, "campaign.send", &status.campaign).await?;
        }
        self.status(actor, id).await
    }

    async fn audit(&self, actor: &Actor, action: &str, campaign: &Campaign) -> Result<(), StoreError> {
        self.auditor
            .append(NewAuditEntry {
                at: self.clock.now(),
                actor: actor.audit_name(),
                action: action.into(),
                subject_id: None,
                purpose: Some(campaign.purpose.clone()),
                detail: serde_json::json!({"campaign_id": campaign.id}),
            })
            .await?;
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct FanoutPayload {
    campaign_id: Uuid,
}

/// The job that queues one mail per person of a campaign's audience.
pub struct CampaignFanout {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    public_url: String,
}

impl CampaignFanout {
    /// Links in the mails point at `public_url` (the address people reach custos at).
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>, public_url: &str) -> Self {
        Self { store, vault, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    /// The mail `subject` gets for `campaign`.
    fn mail(&self, campaign: &Campaign, subject: SubjectId) -> MailRequest {
        let token = crate::marketing::token(&self.vault, subject, &campaign.purpose);
        let url = format!("{}/unsubscribe/{token}", self.public_url);
        MailRequest {
            subject_id: subject,
            purpose: campaign.purpose.clone(),
            subject_line: campaign.subject_line.clone(),
            body: format!(
                "{}\n\n-- \nYou receive this because you agreed to hear from us. Unsubscribe with one click: {url}\n",
                campaign.body.trim_end()
            ),
            unsubscribe: Some(url),
            campaign: Some(campaign.id),
        }
    }
}

/// The idempotency key of `subject`'s mail of `campaign`.
fn mail_key(campaign: Uuid, subject: SubjectId) -> String {
    format!("campaign:{campaign}:{subject}")
}

#[async_trait]
impl JobHandler for CampaignFanout {
    fn kind(&self) -> &'static str {
        FANOUT_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: FanoutPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed fan-out job: {e}")))?;
        let retry = |e: StoreError| JobError::Retry(e.to_string());
        let Some(campaign) = self.store.campaign(payload.campaign_id).await.map_err(retry)? else {
            return Err(JobError::Permanent(format!("no campaign {}", payload.campaign_id)));
        };
        let mut after = None;
        let mut queued = 0u64;
        loop {
            let page = self.store.audience(&campaign.purpose, after, PAGE).await.map_err(retry)?;
            for &subject in &page {
                let mail = self.mail(&campaign, subject);
                mail::enqueue(&self.store, &mail, Some(mail_key(campaign.id, subject))).await.map_err(retry)?;
                queued += 1;
            }
            match page.last() {
                Some(&last) if page.len() == PAGE as usize => after = Some(last),
                _ => break,
            }
        }
        tracing::info!(campaign = %campaign.id, queued, "campaign fanned out");
        Ok(())
    }
}
