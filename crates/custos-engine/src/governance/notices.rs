//! Notices to organisations, sent through the job runner: Art. 19 notices to every
//! recipient that received a person's data after it was rectified, erased or restricted,
//! and breach notices to affected partners (seed 3.3, 4).
//!
//! A notice is stored first (one per kind, reference and addressee, so queuing it twice
//! changes nothing), then a job sends it: by mail to the addressee's contact when the
//! policy gives one, or else it is recorded as given for staff to pass on. Either way the
//! notice keeps when and how it went. Notices name people only by subject id, which the
//! recipient received with the data.

use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::Policy;
use custos_store::{GovernanceNotice, Job, NewJob, Store, StoreError, SubjectId};
use jiff::Timestamp;
use lettre::message::Message;
use lettre::message::header::ContentType;
use serde_json::json;
use uuid::Uuid;

use crate::clock::Clock;
use crate::jobs::{JobError, JobHandler};
use crate::mail::Mailer;

/// The job kind that sends a notice.
pub const NOTICE_KIND: &str = "governance.notice";

/// What happened to the person's data, for an Art. 19 notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It was rectified (Art. 16).
    Rectified,
    /// It was erased (Art. 17).
    Erased,
    /// Its processing was restricted (Art. 18).
    Restricted,
    /// The restriction ended (Art. 18(3)), after the person was told.
    Lifted,
}

impl Change {
    /// What was done, why, and what the recipient must do.
    fn words(self) -> (&'static str, &'static str, &'static str) {
        const ASKED: &str = "at the person's request";
        match self {
            Change::Rectified => (
                "rectified",
                ASKED,
                "Correct your copy: ask us for the corrected values through the channel you received the data by, \
                 and stop using the old ones.",
            ),
            Change::Erased => ("erased", ASKED, "Erase your copy, and any copy you passed on, without undue delay."),
            Change::Restricted => (
                "restricted",
                ASKED,
                "Restrict your copy: keep storing it but do not otherwise process it until we tell you the \
                 restriction is lifted.",
            ),
            Change::Lifted => (
                "released from the restriction of its processing",
                "after the ground for the restriction ended and the person was told",
                "The restriction we asked you to apply has ended: you may process your copy again, within the \
                 purposes and terms under which you received it.",
            ),
        }
    }
}

/// Stores and queues a notice; returns whether it is new.
pub async fn queue(store: &Arc<dyn Store>, notice: &GovernanceNotice, now: Timestamp) -> Result<bool, StoreError> {
    if !store.put_notice(notice).await? {
        return Ok(false);
    }
    store
        .enqueue_job(&NewJob {
            kind: NOTICE_KIND.into(),
            payload: json!({"notice_id": notice.id}),
            idempotency_key: Some(notice.id.to_string()),
            priority: 1,
            run_at: now,
            max_attempts: 12,
        })
        .await?;
    Ok(true)
}

/// Queues an Art. 19 notice to every recipient the disclosure log says received
/// `subject`'s data, about the `change` made by rights request `request`. Returns the
/// recipients' ids. Safe to repeat: a recipient is told once per request.
pub async fn notify_recipients(
    store: &Arc<dyn Store>,
    policy: &Policy,
    now: Timestamp,
    request: Uuid,
    subject: SubjectId,
    change: Change,
) -> Result<Vec<String>, StoreError> {
    let disclosures = store.disclosures_of(subject).await?;
    let mut recipients: Vec<&str> = disclosures.iter().map(|d| d.recipient.as_str()).collect();
    recipients.sort_unstable();
    recipients.dedup();
    let (done, why, what_to_do) = change.words();
    for id in &recipients {
        let theirs: Vec<_> = disclosures.iter().filter(|d| d.recipient == *id).collect();
        let mut categories: Vec<&str> = theirs.iter().flat_map(|d| d.categories.iter().map(String::as_str)).collect();
        categories.sort_unstable();
        categories.dedup();
        let refs: Vec<String> = theirs.iter().map(|d| format!("{} ({})", d.id, d.at.strftime("%Y-%m-%d"))).collect();
        let name = policy.recipient(id).map_or(*id, |r| r.name.as_str());
        let body = format!(
            "Notice under GDPR Art. 19 to {name}.\n\n\
             The personal data of data subject {subject}, which we disclosed to you in disclosure(s) {}, \
             in the categories {}, was {done} on {} {why}.\n\n{what_to_do}\n\n\
             Our reference: {request}\n",
            refs.join(", "),
            categories.join(", "),
            now.strftime("%Y-%m-%d"),
        );
        let notice = GovernanceNotice {
            id: Uuid::now_v7(),
            kind: "art19".into(),
            addressee: (*id).to_owned(),
            contact: policy.recipient(id).and_then(|r| r.contact.clone()),
            subject_id: Some(subject),
            reference: request,
            body,
            created_at: now,
            sent_at: None,
            channel: None,
        };
        queue(store, &notice, now).await?;
    }
    Ok(recipients.into_iter().map(str::to_owned).collect())
}

/// The job that sends a notice: by mail to its contact, or recorded when there is none.
pub struct NoticeJob {
    store: Arc<dyn Store>,
    mailer: Option<Mailer>,
    clock: Arc<dyn Clock>,
}

impl NoticeJob {
    /// Sends through `mailer` (without one, every notice is recorded).
    pub fn new(store: Arc<dyn Store>, mailer: Option<Mailer>, clock: Arc<dyn Clock>) -> Self {
        Self { store, mailer, clock }
    }
}

#[async_trait]
impl JobHandler for NoticeJob {
    fn kind(&self) -> &'static str {
        NOTICE_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let id = job.payload["notice_id"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| JobError::Permanent("malformed notice job".into()))?;
        let retry = |e: StoreError| JobError::Retry(e.to_string());
        let Some(notice) = self.store.notice(id).await.map_err(retry)? else {
            return Err(JobError::Permanent(format!("no notice {id}")));
        };
        if notice.sent_at.is_some() {
            return Ok(());
        }
        let channel = match (&notice.contact, &self.mailer) {
            (Some(contact), Some(mailer)) => {
                let to = contact.parse().map_err(|_| {
                    JobError::Permanent(format!("the contact of `{}` is not an address", notice.addressee))
                })?;
                let subject_line = match notice.kind.as_str() {
                    "art19" => "Notice of rectification, erasure or restriction (GDPR Art. 19)".to_owned(),
                    _ => "Notice of a personal data breach affecting your data".to_owned(),
                };
                let message = Message::builder()
                    .from(mailer.from().clone())
                    .to(to)
                    .subject(subject_line)
                    .message_id(Some(format!("<notice-{id}@custos>")))
                    .header(ContentType::TEXT_PLAIN)
                    .body(notice.body.clone())
                    .map_err(|e| JobError::Permanent(format!("cannot build the notice: {e}")))?;
                mailer
                    .send(message)
                    .await
                    .map_err(|e| JobError::Retry(crate::mail::without_addresses(&e.to_string())))?;
                "mail"
            }
            _ => "recorded",
        };
        self.store.mark_notice_sent(id, channel, self.clock.now()).await.map_err(retry)?;
        tracing::info!(notice = %id, kind = %notice.kind, addressee = %notice.addressee, channel, "notice given");
        Ok(())
    }
}
