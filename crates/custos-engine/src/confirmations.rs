//! Confirmed opt-in for direct marketing (seed 2.2, 5, 9): a form anyone can fill in with
//! anyone's address must not be enough to mail that address offers, nor to undo its
//! earlier unsubscribe.
//!
//! When a form asks for a direct-marketing consent (the sign-up form, or the marketing box
//! of the contact form), nothing of that consent counts and nothing of it is stored with a
//! person. What the form sent (name, address, the purposes, the source address truncated)
//! is sealed under the vault's key for people not yet known and kept as a pending
//! confirmation for [`LINK_LIFETIME`]; a job mails the address a link. Only opening that
//! link and pressing its button records the consent (method `email`), stores the name and
//! address for the purpose, and, the person having asked again themselves, lifts an earlier
//! unsubscribe. A link works once; one never used expires, and expired ones are purged.
//!
//! The request path does the same work for every address, known or not, restricted or
//! not: it looks nobody up. How the person stands is checked when they confirm, and a
//! confirmation that their state forbids (a restriction, an objection other than to this
//! marketing) is answered like any other and stores nothing.

use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::Policy;
use custos_store::{Job, NewJob, PendingConfirmation, Store, StoreError};
use lettre::Message;
use lettre::message::header::ContentType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;
use crate::jobs::{JobError, JobHandler};
use crate::mail::Mailer;
use crate::tokens::{base64url, constant_time_eq};
use crate::vault::Vault;

/// How long a confirmation link works.
pub const LINK_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_hours(48);

/// The job kind that mails a confirmation link.
pub const MAIL_KIND: &str = "consent.confirmation_mail";

/// The context of the MAC in a confirmation link.
const LINK_CONTEXT: &str = "custos/confirm/v1";

/// What a form sent, waiting for the person's confirmation (sealed while it waits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingConsent {
    /// The name given.
    pub name: String,
    /// The address given, which the link is mailed to.
    pub email: String,
    /// The direct-marketing purposes asked for.
    pub purposes: Vec<String>,
    /// Where the form was posted from, truncated as the consent ledger keeps it.
    pub source_ip: Option<IpAddr>,
}

/// Why a confirmation link was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// Malformed, forged, used already or expired (one answer for all).
    #[error("this confirmation link is not valid: it may have been used already or have expired")]
    BadLink,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Storing the confirmed consent failed.
    #[error(transparent)]
    Form(#[from] crate::collect::FormError),
}

/// The token of the link for pending confirmation `id`: `ID.MAC`, the MAC under the vault's
/// index key, so that a made-up id is refused without a database read.
pub fn token(vault: &Vault, id: Uuid) -> String {
    format!("{}.{}", id.simple(), base64url(&vault.mac(LINK_CONTEXT, id.as_bytes())))
}

/// The pending confirmation a token names, if its MAC is right.
pub fn verify(vault: &Vault, token: &str) -> Option<Uuid> {
    let (id, mac) = token.split_once('.')?;
    let id = Uuid::try_parse(id).ok()?;
    let expected = base64url(&vault.mac(LINK_CONTEXT, id.as_bytes()));
    constant_time_eq(expected.as_bytes(), mac.as_bytes()).then_some(id)
}

/// Keeps `pending` sealed until the person confirms, and queues the mail with the link.
pub(crate) async fn ask(
    store: &Arc<dyn Store>,
    vault: &Vault,
    clock: &dyn Clock,
    pending: &PendingConsent,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    let now = clock.now();
    let plain = zeroize::Zeroizing::new(serde_json::to_vec(pending).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    store
        .put_confirmation(&PendingConfirmation {
            id,
            sealed: vault.seal_pending(id, &plain),
            created_at: now,
            expires_at: now.saturating_add(LINK_LIFETIME).unwrap_or(now),
        })
        .await?;
    store
        .enqueue_job(&NewJob {
            kind: MAIL_KIND.into(),
            payload: serde_json::json!({ "confirmation": id }),
            idempotency_key: Some(format!("confirmation:{id}")),
            priority: 0,
            run_at: now,
            max_attempts: 12,
        })
        .await?;
    Ok(id)
}

/// Opens a pending confirmation.
pub(crate) fn open(vault: &Vault, pending: &PendingConfirmation) -> Result<PendingConsent, StoreError> {
    let plain = vault
        .open_pending(pending.id, &pending.sealed)
        .map_err(|e| StoreError::Corrupt(format!("pending confirmation {}: {e}", pending.id)))?;
    serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt(format!("pending confirmation {}: {e}", pending.id)))
}

/// The job handler that mails the confirmation link. A confirmation used or expired
/// meanwhile is not mailed.
pub struct ConfirmationMail {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
    mailer: Mailer,
    public_url: String,
}

impl ConfirmationMail {
    /// Mails through `mailer` links to `public_url`.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
        mailer: Mailer,
        public_url: &str,
    ) -> Self {
        Self { store, vault, policy, clock, mailer, public_url: public_url.trim_end_matches('/').to_owned() }
    }

    fn body(&self, pending: &PendingConsent, link: &str) -> String {
        let purposes: Vec<String> = pending
            .purposes
            .iter()
            .map(|id| self.policy.purpose(id).map_or_else(|| id.clone(), |p| format!("{} ({id})", p.name)))
            .collect();
        format!(
            "Hello {name},\n\n\
             someone, we hope you, asked {controller} to send offers by email to this address, for: {purposes}.\n\n\
             To confirm, open this link within {hours} hours and press the button on the page:\n\n{link}\n\n\
             If it was not you, ignore this message: nothing is kept once the link expires, and no offers \
             are sent to this address unless it is confirmed.\n",
            name = pending.name,
            controller = self.policy.controller.name,
            purposes = purposes.join(", "),
            hours = LINK_LIFETIME.as_hours(),
        )
    }
}

#[async_trait]
impl JobHandler for ConfirmationMail {
    fn kind(&self) -> &'static str {
        MAIL_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let id = job
            .payload
            .get("confirmation")
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::try_parse(s).ok())
            .ok_or_else(|| JobError::Permanent("malformed confirmation mail job".into()))?;
        let Some(row) =
            self.store.confirmation(id, self.clock.now()).await.map_err(|e| JobError::Retry(e.to_string()))?
        else {
            tracing::info!(job = job.id, "confirmation used or expired before its mail: not sent");
            return Ok(());
        };
        let pending = open(&self.vault, &row).map_err(|e| JobError::Permanent(e.to_string()))?;
        let to =
            pending.email.parse().map_err(|_| JobError::Permanent("the address given is not valid for mail".into()))?;
        let link = format!("{}/confirm/{}", self.public_url, token(&self.vault, id));
        let message = Message::builder()
            .from(self.mailer.from().clone())
            .to(to)
            .subject("Please confirm your subscription")
            // The same id on a retry: a file transport or a receiving server keeps one mail.
            .message_id(Some(format!("<confirm-{}@custos>", id.simple())))
            .header(ContentType::TEXT_PLAIN)
            .body(self.body(&pending, &link))
            .map_err(|e| JobError::Permanent(format!("cannot build the mail: {e}")))?;
        self.mailer.send(message).await.map_err(|e| JobError::Retry(crate::mail::without_addresses(&e.to_string())))
    }
}
