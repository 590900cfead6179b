//! Forwarding a request about a partner's data to the partner (seed 3.3): custos only
//! processes that data for the partner, so the partner decides on the request.
//!
//! The job sends the person's address, what they asked and their message to the partner's
//! rights webhook when it gave one (JSON over HTTPS through [`crate::outbound`]), else by
//! mail to its contact person (read through the gate for the partner-relationship
//! purpose). The partner request is recorded as done with how it went, never with the
//! content.

use std::sync::Arc;

use async_trait::async_trait;
use custos_store::{Job, PartnerRequest, StoreError};
use lettre::message::Message;
use lettre::message::header::ContentType;

use super::Inbox;
use crate::gate::Actor;
use crate::jobs::{JobError, JobHandler};
use crate::mail::Mailer;
use crate::records::Records;

/// The job kind that forwards a request to a partner.
pub const FORWARD_KIND: &str = "inbox.forward";

/// The job that forwards requests about partners' data.
pub struct PartnerForward {
    inbox: Arc<Inbox>,
    records: Arc<Records>,
    mailer: Mailer,
    outbound: Option<crate::outbound::Outbound>,
    contact_purpose: String,
}

impl PartnerForward {
    /// Forwards by `mailer`, or through `outbound` to partners with a webhook; partner
    /// contacts are read for `contact_purpose`.
    pub fn new(
        inbox: Arc<Inbox>,
        records: Arc<Records>,
        mailer: Mailer,
        outbound: Option<crate::outbound::Outbound>,
        contact_purpose: &str,
    ) -> Self {
        Self { inbox, records, mailer, outbound, contact_purpose: contact_purpose.to_owned() }
    }

    /// Sends `request` on; returns how, as JSON without personal data.
    async fn send(&self, request: &PartnerRequest) -> Result<serde_json::Value, JobError> {
        let retry = |e: String| JobError::Retry(e);
        let thread_id =
            request.thread_id.ok_or_else(|| JobError::Permanent("a forwarded request has no thread".into()))?;
        let thread = self.inbox.thread(thread_id).await.map_err(|e| retry(e.to_string()))?;
        let sender = self.inbox.sender(&thread).await.map_err(|e| retry(e.to_string()))?;
        let messages = self.inbox.open_messages(&thread).await.map_err(|e| retry(e.to_string()))?;
        let first = messages.iter().find(|m| m.row.direction == "in").and_then(|m| m.mail.clone());
        let (subject, text) = first.map(|m| (m.subject, m.text)).unwrap_or_default();
        let partner = self
            .inbox
            .store()
            .partner(request.partner_id)
            .await
            .map_err(|e| retry(e.to_string()))?
            .ok_or_else(|| JobError::Permanent("the partner is gone".into()))?;
        let webhook = self.inbox.store().partner_webhook(partner.id).await.map_err(|e| retry(e.to_string()))?;
        if let (Some(url), Some(outbound)) = (webhook, &self.outbound) {
            let body = serde_json::json!({
                "type": "rights_request",
                "reference": request.id,
                "received_at": request.received_at,
                "kind": request.kind,
                "email": sender,
                "subject": subject,
                "message": text,
            });
            let host = url::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
            let bytes = serde_json::to_vec(&body).map_err(|e| JobError::Permanent(e.to_string()))?;
            return match outbound
                .post(&url, "application/json", &[("x-custos-request-id", request.id.to_string())], bytes)
                .await
            {
                Ok(answer) if answer.accepted() => {
                    Ok(serde_json::json!({"channel": "webhook", "host": host, "status": answer.status}))
                }
                Ok(answer) if answer.transient() => Err(retry(format!("{host} answered {}", answer.status))),
                Ok(answer) => {
                    Err(JobError::Permanent(format!("{host} refused the request with status {}", answer.status)))
                }
                Err(crate::outbound::OutboundError::Transport(why)) => Err(retry(why)),
                Err(other) => Err(JobError::Permanent(other.to_string())),
            };
        }
        let contact =
            partner.contact_subject.ok_or_else(|| JobError::Permanent("the partner has no contact".into()))?;
        let values = self
            .records
            .read(&Actor::System, contact, &self.contact_purpose, &["user.contact.email"])
            .await
            .map_err(|e| retry(e.to_string()))?;
        let to = values
            .last()
            .map(|v| String::from_utf8_lossy(&v.value).into_owned())
            .ok_or_else(|| JobError::Permanent("the partner's contact has no address".into()))?;
        let body = format!(
            "A person wrote to us about data that {name} provided to us. We process that data only on your behalf \
             (we are your processor), so the request is yours to decide; we told the person that we passed it on \
             to you.\n\nReference: {reference}\nReceived: {received}\nWhat they ask (as we read it): {kind}\n\
             Their address: {sender}\n\nTheir message:\nSubject: {subject}\n\n{text}\n\n\
             To have us give you or erase the data under one of your pseudonyms, use \
             POST /v1/partner/rights-requests with your API key.\n",
            name = partner.name,
            reference = request.id,
            received = request.received_at.strftime("%Y-%m-%d %H:%M UTC"),
            kind = request.kind,
        );
        let message = Message::builder()
            .from(self.mailer.from().clone())
            .to(to.parse().map_err(|_| JobError::Permanent("the partner's contact address is not valid".into()))?)
            .subject(format!("Data protection request about data you provided [ref:{}]", request.id))
            .message_id(Some(format!("<forward-{}@custos>", request.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| JobError::Permanent(format!("cannot build the mail: {e}")))?;
        self.mailer.send(message).await.map_err(|e| retry(crate::mail::without_addresses(&e.to_string())))?;
        Ok(serde_json::json!({"channel": "email"}))
    }
}

#[async_trait]
impl JobHandler for PartnerForward {
    fn kind(&self) -> &'static str {
        FORWARD_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let id = job.payload["partner_request_id"]
            .as_str()
            .and_then(|s| s.parse::<uuid::Uuid>().ok())
            .ok_or_else(|| JobError::Permanent("malformed forward job".into()))?;
        let store_retry = |e: StoreError| JobError::Retry(e.to_string());
        let Some(mut request) = self.inbox.store().partner_request(id).await.map_err(store_retry)? else {
            return Ok(());
        };
        if request.state != "queued" {
            return Ok(());
        }
        let now = self.inbox.clock().now();
        match self.send(&request).await {
            Ok(outcome) => {
                request.state = "done".into();
                request.outcome = Some(outcome);
            }
            Err(JobError::Permanent(why)) => {
                request.state = "failed".into();
                request.outcome = Some(serde_json::json!({"why": crate::mail::without_addresses(&why)}));
            }
            Err(e) => return Err(e),
        }
        request.done_at = Some(now);
        self.inbox.store().put_partner_request(&request).await.map_err(store_retry)?;
        Ok(())
    }
}
