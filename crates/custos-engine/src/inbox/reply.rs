//! The mails custos sends in a thread of the privacy mailbox: the acknowledgement, the
//! legitimate-interest assessments, and staff answers. Each goes out with In-Reply-To and
//! References naming the thread's mails, and the thread's reference in the subject, so the
//! person's mail program shows one conversation and their reply comes back to it. What is
//! sent is kept in the thread, sealed like what came in.

use std::sync::Arc;

use async_trait::async_trait;
use custos_store::{Job, SubjectId};
use lettre::message::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};

use super::{Inbox, InboxError, ReplyMessage, ReplyPayload};
use crate::jobs::{JobError, JobHandler};
use crate::mail::Mailer;
use crate::vault::Vault;

/// The job kind that mails the sender of a thread.
pub const REPLY_KIND: &str = "inbox.reply";

/// The job that mails a thread's sender, in the thread.
pub struct InboxReply {
    inbox: Arc<Inbox>,
    mailer: Mailer,
    public_url: String,
}

impl InboxReply {
    /// Mails through `mailer`; links point at `public_url`.
    pub fn new(inbox: Arc<Inbox>, mailer: Mailer, public_url: &str) -> Self {
        Self { inbox, mailer, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    /// The acknowledgement's text.
    async fn ack(&self, thread: &custos_store::InboxThread) -> Result<String, InboxError> {
        let mut text = format!(
            "We received your message of {} about your personal data.\n\nOur reference: {}\n\n",
            thread.received_at.strftime("%Y-%m-%d %H:%M UTC"),
            thread.id
        );
        let request = match thread.request_id {
            Some(id) => self.inbox.store().rights_request(id).await?,
            None => None,
        };
        match (&request, thread.state.as_str()) {
            (Some(request), _) => text.push_str(&format!(
                "We read it as a request of {kind} (GDPR Art. {article}). Its reference: {id}.\n\n\
                 Before we act or disclose anything, we must know that this address is yours: we sent you a \
                 second mail with a code. Enter it at {url}/rights/{id} within 30 minutes; if it has expired, \
                 make the request again at {url}/rights or in a new mail. If you did not write to us, ignore \
                 both mails: nothing happens.\n\nWe answer by {due}.\n\n",
                kind = request.kind,
                article = article(&request.kind),
                id = request.id,
                url = self.public_url,
                due = request.due_at.strftime("%Y-%m-%d"),
            )),
            (None, "answered") => text.push_str(
                "You asked how we weighed our legitimate interests against yours: our assessments follow in a \
                 separate mail.\n\n",
            ),
            (None, _) => text.push_str(&format!(
                "A member of our staff will read your message and answer you in this conversation by {}.\n\n",
                thread.due_at.strftime("%Y-%m-%d")
            )),
        }
        if let Some(partner) = thread.partner_id {
            let name = self.inbox.store().partner(partner).await?.map(|p| p.name).unwrap_or_default();
            text.push_str(&format!(
                "Your message concerns data that {name} gave us. We process that data only on {name}'s behalf \
                 and instructions (we are its processor), so {name} decides on your request: we have passed \
                 your message on to {name}, who will answer you.\n\n"
            ));
        }
        text.push_str("To add anything, reply to this mail and keep the reference in the subject.\n");
        Ok(text)
    }

    /// The legitimate-interest assessments as text.
    fn assessments(&self) -> String {
        let mut text = String::from(
            "You asked for the assessment behind our processing on legitimate interests (GDPR Art. 6(1)(f)). \
             For each purpose that rests on them:\n\n",
        );
        for a in crate::governance::interests::assessments(self.inbox.policy()) {
            let field = |k: &str| a[k].as_str().unwrap_or("").to_owned();
            text.push_str(&format!(
                "{name} ({purpose})\n  What we do: {description}\n  Our interest: {interest}\n  Why it is necessary: \
                 {necessity}\n  Why it does not override your interests: {balancing}\n\n",
                name = field("name"),
                purpose = field("purpose"),
                description = field("description"),
                interest = field("interest"),
                necessity = field("necessity"),
                balancing = field("balancing"),
            ));
        }
        text.push_str(&format!(
            "You may object at any time to this processing on grounds relating to your situation (Art. 21(1)): \
             reply to this mail, or use {}/rights.\n",
            self.public_url
        ));
        text
    }
}

/// `Auto-Submitted: auto-replied` (RFC 3834), on what custos sends by itself.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".to_owned())
    }
}

/// The GDPR article of a right.
fn article(kind: &str) -> &'static str {
    match kind {
        "access" => "15",
        "rectification" => "16",
        "erasure" => "17",
        "restriction" => "18",
        "portability" => "20",
        "objection" => "21",
        _ => "7(3)",
    }
}

#[async_trait]
impl JobHandler for InboxReply {
    fn kind(&self) -> &'static str {
        REPLY_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: ReplyPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed inbox reply job: {e}")))?;
        let retry = |e: InboxError| JobError::Retry(e.to_string());
        let Some(thread) =
            self.inbox.store().inbox_thread(payload.thread_id).await.map_err(|e| JobError::Retry(e.to_string()))?
        else {
            return Ok(());
        };
        let sender = match self.inbox.sender(&thread).await {
            Ok(sender) => sender,
            // The thread's key is gone, and its sender with it: nobody to write to.
            Err(InboxError::Vault(crate::vault::VaultAccessError::Erased { .. })) => return Ok(()),
            Err(e) => return Err(retry(e)),
        };
        let messages = self.inbox.open_messages(&thread).await.map_err(retry)?;
        let first_subject = messages
            .iter()
            .find(|m| m.row.direction == "in")
            .and_then(|m| m.mail.as_ref())
            .map(|m| m.subject.clone())
            .unwrap_or_default();
        let ids: Vec<String> =
            messages.iter().filter_map(|m| m.mail.as_ref()).map(|m| format!("<{}>", m.message_id)).collect();
        let last_in = messages
            .iter()
            .rev()
            .find(|m| m.row.direction == "in")
            .and_then(|m| m.mail.as_ref())
            .map(|m| format!("<{}>", m.message_id));
        let body = match &payload.message {
            ReplyMessage::Ack => self.ack(&thread).await.map_err(retry)?,
            ReplyMessage::Assessments => self.assessments(),
            ReplyMessage::Answer { sealed_text } => {
                let owner = SubjectId(thread.id);
                let key = self.inbox.vault().data_key(owner).await.map_err(|e| JobError::Retry(e.to_string()))?;
                let text = Vault::open_value(&key, "inbox_answers", thread.id, owner, sealed_text)
                    .map_err(|_| JobError::Permanent("the answer does not open".into()))?;
                String::from_utf8_lossy(&text).into_owned()
            }
        };
        let base = first_subject.trim_start_matches("Re: ").trim_start_matches("RE: ");
        let base = if base.is_empty() { "Your message about your personal data" } else { base };
        let subject = format!("Re: {base} [ref:{}]", thread.id);
        let message_id = format!("inbox-{}-{}@custos", job.id, thread.id.simple());
        let to =
            sender.parse().map_err(|_| JobError::Permanent("the sender's address is not valid for mail".into()))?;
        let mut builder = Message::builder()
            .from(self.mailer.from().clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{message_id}>")))
            .header(ContentType::TEXT_PLAIN);
        if !matches!(payload.message, ReplyMessage::Answer { .. }) {
            // RFC 3834: other auto-responders do not answer this one.
            builder = builder.header(AutoSubmitted);
        }
        if let Some(last) = last_in {
            builder = builder.in_reply_to(last);
        }
        if !ids.is_empty() {
            builder = builder.references(ids.join(" "));
        }
        let message = builder.body(body).map_err(|e| JobError::Permanent(format!("cannot build the mail: {e}")))?;
        let raw = message.formatted();
        // Kept before it is sent: a reply to it finds the thread even if the worker dies
        // right after sending. Run again, the same job finds it kept already.
        let hash = self.inbox.header_hash(&message_id);
        let source = if matches!(payload.message, ReplyMessage::Answer { .. }) { "staff" } else { "custos" };
        match self.inbox.keep(&thread, &hash, "out", source, &raw, self.inbox.clock().now()).await {
            Ok(()) | Err(InboxError::Store(custos_store::StoreError::Conflict(_))) => {}
            Err(e) => return Err(retry(e)),
        }
        self.mailer.send(message).await.map_err(|e| JobError::Retry(crate::mail::without_addresses(&e.to_string())))?;
        Ok(())
    }
}
