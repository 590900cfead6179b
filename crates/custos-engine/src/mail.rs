//! Outgoing mail: rendered and sent by the job runner, so a mail survives restarts and
//! outages and is sent once per job (seed 3.4, 7, 9, 10).
//!
//! A mail job carries no personal data: it names the subject, the purpose and the words
//! (which may hold `{{name}}`). At send time the recipient's address and name are read
//! through the gate for that purpose, so a consent withdrawn, an objection or a restriction
//! made after queueing stops the mail, and an erased person gets nothing.
//!
//! Without SMTP settings, mail is written as `.eml` files (by default under `./data/mail`).

use std::sync::Arc;

use async_trait::async_trait;
use custos_store::{Enqueued, Job, NewJob, Store, StoreError, SubjectId};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::gate::{Actor, Rule};
use crate::jobs::{JobError, JobHandler};
use crate::records::{AccessError, Records};
use crate::vault::VaultAccessError;

/// The job kind of outgoing mail.
pub const KIND: &str = "mail.send";

/// Why mail could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The mail URL or sender address is wrong.
    #[error("{0}")]
    Config(String),
    /// The transport failed.
    #[error("sending failed: {0}")]
    Send(String),
}

/// Where mail goes.
#[derive(Debug, Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(std::path::PathBuf),
}

/// Sends mail over SMTP or into `.eml` files.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// A mailer for `url`: `smtp://[user:pass@]host[:port]` (plain, for a relay on the same
    /// host), `smtp+starttls://…` (port 587), `smtps://…` (TLS, port 465), or `file:///dir`.
    pub fn from_url(url: &str, from: &str) -> Result<Self, MailError> {
        let from: Mailbox = from.parse().map_err(|e| MailError::Config(format!("sender `{from}`: {e}")))?;
        if let Some(dir) = url.strip_prefix("file://") {
            // The directory is made at the first mail, not here: settings are checked first.
            return Ok(Self { transport: Transport::Files(dir.into()), from });
        }
        let parsed = url::Url::parse(url).map_err(|e| MailError::Config(format!("mail URL: {e}")))?;
        let host = parsed.host_str().ok_or_else(|| MailError::Config("the mail URL names no host".into()))?;
        let mut builder = match parsed.scheme() {
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(parsed.port().unwrap_or(25)),
            "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| MailError::Config(e.to_string()))?
                .port(parsed.port().unwrap_or(587)),
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| MailError::Config(e.to_string()))?
                .port(parsed.port().unwrap_or(465)),
            other => {
                return Err(MailError::Config(format!(
                    "unsupported mail scheme `{other}`; use smtp, smtp+starttls, smtps or file"
                )));
            }
        };
        if !parsed.username().is_empty() {
            let password = parsed.password().unwrap_or("").to_owned();
            builder = builder.credentials(Credentials::new(parsed.username().to_owned(), password));
        }
        Ok(Self { transport: Transport::Smtp(builder.build()), from })
    }

    /// The sender.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends `message`.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(|e| MailError::Send(e.to_string())),
            Transport::Files(dir) => write_eml(dir, &message).await,
        }
    }
}

/// Writes `message` as `<Message-ID>.eml` in `dir`, through a hidden temporary file renamed
/// into place. A job run again after a crash (its mail written, its completion not yet
/// recorded) writes the same file again instead of a second mail: the file transport is
/// idempotent per message id, as a receiving server is expected to be. (lettre's own file
/// transport names each file with a fresh random id, which would duplicate the mail.)
async fn write_eml(dir: &std::path::Path, message: &Message) -> Result<(), MailError> {
    let failed = |e: std::io::Error| MailError::Send(format!("mail directory {}: {e}", dir.display()));
    tokio::fs::create_dir_all(dir).await.map_err(failed)?;
    let name = message
        .headers()
        .get_raw("Message-ID")
        .map(|id| id.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '@' | '_')).collect())
        .filter(|id: &String| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let path = dir.join(format!("{name}.eml"));
    let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&temporary, message.formatted()).await.map_err(failed)?;
    tokio::fs::rename(&temporary, &path).await.map_err(failed)
}

/// A mail to queue; holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRequest {
    /// The recipient.
    pub subject_id: SubjectId,
    /// The purpose the mail serves; the gate must allow it at send time.
    pub purpose: String,
    /// The subject line.
    pub subject_line: String,
    /// The text; `{{name}}` becomes the recipient's name when the purpose may use it.
    pub body: String,
    /// A one-click unsubscribe URL (RFC 8058), for marketing.
    pub unsubscribe: Option<String>,
    /// The campaign this mail belongs to: sent to a person at most once, and a person
    /// without an address for the purpose is skipped rather than an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<uuid::Uuid>,
}

/// Queues a mail; `key` makes the same mail queued twice a single job.
pub async fn enqueue(store: &Arc<dyn Store>, mail: &MailRequest, key: Option<String>) -> Result<Enqueued, StoreError> {
    let payload = serde_json::to_value(mail).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store
        .enqueue_job(&NewJob {
            kind: KIND.into(),
            payload,
            idempotency_key: key,
            priority: 0,
            run_at: jiff::Timestamp::now(),
            max_attempts: 12,
        })
        .await
}

/// The job handler that sends queued mail.
pub struct MailJob {
    records: Arc<Records>,
    mailer: Mailer,
}

impl MailJob {
    /// Sends through `mailer`, reading recipients through `records`.
    pub fn new(records: Arc<Records>, mailer: Mailer) -> Self {
        Self { records, mailer }
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim_matches(|c| c == '<' || c == '>').to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[async_trait]
impl JobHandler for MailJob {
    fn kind(&self) -> &'static str {
        KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let mail: MailRequest = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed mail job: {e}")))?;
        let actor = Actor::System;
        let store = self.records.store();
        if let Some(campaign) = mail.campaign
            && store.delivered(campaign, mail.subject_id).await.map_err(|e| JobError::Retry(e.to_string()))?
        {
            tracing::info!(job = job.id, %campaign, "campaign mail already sent to this person");
            return Ok(());
        }
        let email = match self.records.read(&actor, mail.subject_id, &mail.purpose, &["user.contact.email"]).await {
            Ok(values) => match values.last() {
                Some(value) => String::from_utf8_lossy(&value.value).into_owned(),
                None if mail.campaign.is_some() => return Ok(()),
                None => return Err(JobError::Permanent("the recipient has no email address for this purpose".into())),
            },
            // Not sending is the job done: a withdrawal, objection, restriction or erasure wins.
            Err(AccessError::Denied { rule, .. }) => {
                tracing::info!(job = job.id, rule = rule.code(), "mail not sent: the gate refused");
                return Ok(());
            }
            Err(AccessError::NoSubject(_)) | Err(AccessError::Vault(VaultAccessError::Erased { .. })) => return Ok(()),
            Err(e) => return Err(JobError::Retry(e.to_string())),
        };
        let name = match self.records.read(&actor, mail.subject_id, &mail.purpose, &["user.name"]).await {
            Ok(values) => values.last().map(|v| String::from_utf8_lossy(&v.value).into_owned()),
            Err(AccessError::Denied { rule: Rule::CategoryNotInPurpose, .. }) => None,
            Err(_) => None,
        };
        let to: Mailbox = match &name {
            Some(name) => format!("{name} <{email}>").parse().or_else(|_| email.parse()),
            None => email.parse(),
        }
        .map_err(|_| JobError::Permanent("the stored email address is not valid for mail".into()))?;
        let body = mail.body.replace("{{name}}", name.as_deref().unwrap_or(""));
        let mut builder = Message::builder()
            .from(self.mailer.from.clone())
            .to(to)
            .subject(mail.subject_line.clone())
            .message_id(Some(format!("<job-{}@custos>", job.id)))
            .header(ContentType::TEXT_PLAIN);
        if let Some(url) = &mail.unsubscribe {
            builder = builder.header(ListUnsubscribe(url.clone())).header(ListUnsubscribePost);
        }
        let message = builder.body(body).map_err(|e| JobError::Permanent(format!("cannot build the mail: {e}")))?;
        // A server's answer may echo the address; the error is logged and kept on the job.
        self.mailer.send(message).await.map_err(|e| JobError::Retry(without_addresses(&e.to_string())))?;
        if let Some(campaign) = mail.campaign {
            // The mail is out: retrying now would send it twice, so a failure to record it
            // is logged, not retried.
            if let Err(e) = store.record_delivery(campaign, mail.subject_id, jiff::Timestamp::now()).await {
                tracing::warn!(job = job.id, %campaign, error = %e, "campaign mail sent but its delivery not recorded");
            }
        }
        Ok(())
    }
}

/// `text` with every word that holds an `@` replaced, so that errors carry no address.
pub fn without_addresses(text: &str) -> String {
    text.split(' ').map(|word| if word.contains('@') { "<address>" } else { word }).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_lose_addresses() {
        assert_eq!(
            without_addresses("permanent error (550): <ada@example.org>: mailbox unavailable"),
            "permanent error (550): <address> mailbox unavailable"
        );
    }
}
