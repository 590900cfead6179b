//! The privacy mailbox (seed 7, 8, 9): people exercise their rights, withdraw consent,
//! object to marketing and ask for the legitimate-interest assessment by mail.
//!
//! A mail arrives (read over IMAP or taken by custos's own SMTP listener, both in
//! `custos-server`) and [`Inbox::receive`] takes it in:
//! - a mail sent by a machine (auto-reply, bounce, list mail; see [`parse`]) is dropped
//!   and audited, never turned into a request;
//! - a mail already stored (same Message-ID) is not taken twice;
//! - a reply (In-Reply-To/References naming a mail of a thread, or the thread's reference
//!   in the subject) from the thread's own sender joins that thread;
//! - any other mail starts a thread. [`mod@classify`] reads what it asks. When sure enough, a
//!   rights request is made for the From address through [`crate::rights`], so the person
//!   gets the usual code by mail: nothing is done or disclosed before whoever holds that
//!   address enters it, and a forged sender gets nothing. A request for the
//!   legitimate-interest assessment is answered at once from the policy (it holds no
//!   personal data). Anything else goes to staff for triage. Every sender is sent an
//!   acknowledgement in the thread with the reference and what happens next.
//! - a mail a receiving server marked as forged (`dmarc=fail`) waits for staff and is
//!   not answered, so custos sends nothing to whoever was impersonated;
//! - a mail that names a partner whose data custos processes (seed 3.3: custos is its
//!   processor) is also forwarded to that partner through the job runner ([`forward`]),
//!   recorded, and the person told.
//!
//! Every mail, in and out, is kept whole, sealed under the thread's own data key; the
//! deadline runs from the first mail's arrival. Once the person is told the outcome of
//! the request, the thread's key is destroyed with the request's ([`forget_thread_of`]). Staff read threads in the console, triage
//! them into requests, and answer in the thread ([`reply`]).

use std::sync::Arc;

use custos_policy::Policy;
use custos_store::{
    IdentifierKind, InboxMessage, InboxThread, NewAuditEntry, NewJob, PartnerRequest, Store, StoreError, SubjectId,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::Auditor;
use crate::clock::Clock;
use crate::gate::Actor;
use crate::rights::{NewRightsRequest, Rights, RightsError, due_date};
use crate::vault::Vault;

pub mod classify;
pub mod forward;
pub mod lexicon;
pub mod parse;
pub mod reply;

pub use classify::{Classification, Intent, THRESHOLD, classify};
pub use forward::{FORWARD_KIND, PartnerForward};
pub use parse::{InboundMail, ParseError};
pub use reply::{InboxReply, REPLY_KIND};

/// The table name bound into sealed messages.
const MESSAGES: &str = "inbox_messages";
/// The table name bound into the sealed sender.
const THREADS: &str = "inbox_threads";
/// The MAC context of Message-ID hashes.
const HEADER_MAC: &str = "custos/inbox/message-id/v1";

/// Why a mail or a staff action was refused.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The mail cannot be read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such thread.
    #[error("no inbox thread {0}")]
    NotFound(Uuid),
    /// The rights request could not be made.
    #[error(transparent)]
    Rights(#[from] RightsError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultAccessError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> InboxError {
    InboxError::Invalid { field, message: message.into() }
}

/// What became of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A new thread; `request` is the rights request it became, if it did.
    Thread {
        /// The thread.
        thread: Uuid,
        /// The rights request.
        request: Option<Uuid>,
        /// `request`, `triage` or `answered`.
        state: String,
    },
    /// A reply added to a thread.
    Reply {
        /// The thread.
        thread: Uuid,
    },
    /// Sent by a machine; dropped (why).
    Automatic(&'static str),
    /// Stored already.
    Duplicate,
}

/// A mail of a thread, opened for staff.
#[derive(Debug, Clone)]
pub struct OpenedMessage {
    /// The stored row (sealed bytes included).
    pub row: InboxMessage,
    /// The mail as it was, headers and all.
    pub raw: String,
    /// Its subject and text, as read.
    pub mail: Option<InboundMail>,
}

/// The privacy mailbox.
pub struct Inbox {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    policy: Arc<Policy>,
    rights: Arc<Rights>,
    auditor: Auditor,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Inbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox").finish_non_exhaustive()
    }
}

/// What the reply job is asked to send.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "message", rename_all = "snake_case")]
pub(crate) enum ReplyMessage {
    /// The acknowledgement of a new thread.
    Ack,
    /// The legitimate-interest assessments.
    Assessments,
    /// A staff answer, sealed under the thread's key.
    Answer {
        /// The text, sealed.
        sealed_text: Vec<u8>,
    },
}

/// A reply job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReplyPayload {
    pub(crate) thread_id: Uuid,
    #[serde(flatten)]
    pub(crate) message: ReplyMessage,
}

impl Inbox {
    /// The mailbox over `rights` (whose records, vault and auditor it shares).
    pub fn new(rights: Arc<Rights>, records: &crate::records::Records, clock: Arc<dyn Clock>) -> Self {
        Self {
            store: records.store().clone(),
            vault: records.vault().clone(),
            policy: records.policy().clone(),
            rights,
            auditor: records.auditor().clone(),
            clock,
        }
    }

    /// The MAC a Message-ID is found by.
    pub(crate) fn header_hash(&self, message_id: &str) -> Vec<u8> {
        let id = message_id.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
        self.vault.mac(HEADER_MAC, id.as_bytes()).to_vec()
    }

    /// Takes in one mail that arrived at `arrived` through `source` (`imap` or `smtp`).
    pub async fn receive(&self, raw: &[u8], source: &str, arrived: Timestamp) -> Result<Received, InboxError> {
        let mail = InboundMail::parse(raw)?;
        if let Some(why) = mail.automatic {
            self.audit(None, "inbox.automatic", serde_json::json!({"source": source, "why": why})).await?;
            return Ok(Received::Automatic(why));
        }
        let hash = self.header_hash(&mail.message_id);
        if self.store.inbox_thread_by_header(&hash).await?.is_some() {
            return Ok(Received::Duplicate);
        }
        let sender =
            self.vault.blind_index(IdentifierKind::Email, &mail.from).map_err(|e| invalid("from", e.to_string()))?;
        let arrived = arrived.min(self.clock.now());
        if let Some(mut thread) = self.thread_replied_to(&mail, &sender.0).await? {
            match self.keep(&thread, &hash, "in", source, raw, arrived).await {
                Ok(()) => {}
                // The thread was forgotten with its request: this mail starts a new one.
                Err(InboxError::Vault(crate::vault::VaultAccessError::Erased { .. })) => {
                    return self.start(&mail, raw, &hash, sender.0.to_vec(), source, arrived).await;
                }
                Err(e) => return Err(e),
            }
            thread.updated_at = self.clock.now();
            if thread.state == "answered" {
                thread.state = "triage".into();
            }
            self.store.update_inbox_thread(&thread).await?;
            self.audit(Some(&thread), "inbox.reply", serde_json::json!({"source": source})).await?;
            return Ok(Received::Reply { thread: thread.id });
        }
        self.start(&mail, raw, &hash, sender.0.to_vec(), source, arrived).await
    }

    /// The thread `mail` answers, when its sender is the thread's.
    async fn thread_replied_to(&self, mail: &InboundMail, sender: &[u8]) -> Result<Option<InboxThread>, InboxError> {
        let mut candidates = Vec::new();
        for id in &mail.replies_to {
            if let Some(thread) = self.store.inbox_thread_by_header(&self.header_hash(id)).await? {
                candidates.push(thread);
            }
        }
        candidates.extend(references_in(&mail.subject));
        for id in candidates {
            let thread = match self.store.inbox_thread(id).await? {
                Some(t) => Some(t),
                None => self.store.inbox_thread_of_request(id).await?,
            };
            if let Some(thread) = thread.filter(|t| t.sender_index == sender) {
                return Ok(Some(thread));
            }
        }
        Ok(None)
    }

    /// Starts a thread for `mail`: classifies it, makes the request or sends it to
    /// triage, forwards it to a partner it names, acknowledges it.
    async fn start(
        &self,
        mail: &InboundMail,
        raw: &[u8],
        hash: &[u8],
        sender_index: Vec<u8>,
        source: &str,
        arrived: Timestamp,
    ) -> Result<Received, InboxError> {
        let now = self.clock.now();
        let id = Uuid::now_v7();
        let key = self.vault.create_data_key(SubjectId(id), now).await?;
        let reading = classify(&format!("{}\n{}", mail.subject, mail.text));
        let mut thread = InboxThread {
            id,
            request_id: None,
            state: "triage".into(),
            intent: reading.intent.map(|i| i.as_str().to_owned()),
            language: reading.language.to_owned(),
            confidence: (reading.confidence * 1000.0).round() as i32,
            sender_index,
            sealed_sender: Vault::seal(&key, THREADS, id, SubjectId(id), mail.from.as_bytes()),
            partner_id: None,
            received_at: arrived,
            due_at: due_date(arrived, 1),
            updated_at: now,
        };
        self.store.create_inbox_thread(&thread).await?;
        if let Err(e) = self.keep(&thread, hash, "in", source, raw, arrived).await {
            // Another reader stored the same mail meanwhile: this thread is not needed.
            self.vault.shred(SubjectId(id), now).await?;
            thread.state = "closed".into();
            self.store.update_inbox_thread(&thread).await?;
            return match e {
                InboxError::Store(StoreError::Conflict(_)) => Ok(Received::Duplicate),
                other => Err(other),
            };
        }
        if mail.forged {
            // The receiving server says the From address is forged: nothing is sent to it
            // (that would be backscatter to whoever was impersonated); staff look.
            self.audit(Some(&thread), "inbox.receive", serde_json::json!({"source": source, "forged": true})).await?;
            return Ok(Received::Thread { thread: id, request: None, state: thread.state });
        }
        match reading.confident() {
            Some(Intent::LiInformation) => {
                thread.state = "answered".into();
                self.reply(id, ReplyMessage::Assessments, "assessments").await?;
            }
            Some(intent) => {
                if let Some(new) = self.request_for(intent, reading.marketing, &mail.from, reading.language) {
                    let request = self.rights.submit_received(&new, "email", arrived).await?;
                    thread.request_id = Some(request.id);
                    thread.state = "request".into();
                }
            }
            None => {}
        }
        thread.partner_id = self.partner_named(mail).await?;
        self.store.update_inbox_thread(&thread).await?;
        if let Some(partner) = thread.partner_id {
            self.forward(&thread, partner).await?;
        }
        self.reply(id, ReplyMessage::Ack, "ack").await?;
        self.audit(
            Some(&thread),
            "inbox.receive",
            serde_json::json!({"source": source, "intent": thread.intent, "confidence": reading.confidence,
                               "language": thread.language, "state": thread.state, "partner_id": thread.partner_id}),
        )
        .await?;
        Ok(Received::Thread { thread: id, request: thread.request_id, state: thread.state })
    }

    /// The rights request an intent asks for (`None` for one custos does not carry out
    /// from a mail: a rectification needs the corrected values, which staff take from
    /// the person).
    fn request_for(&self, intent: Intent, marketing: bool, email: &str, language: &str) -> Option<NewRightsRequest> {
        let marketing_purpose = || {
            let mut found = self.policy.purposes.iter().filter(|p| p.direct_marketing);
            match (found.next(), found.next()) {
                (Some(p), None) => Some(p.id.clone()),
                _ => None,
            }
        };
        let (kind, purpose) = match intent {
            Intent::Access => ("access", None),
            Intent::Erasure => ("erasure", None),
            Intent::Restriction => ("restriction", None),
            Intent::Portability => ("portability", None),
            Intent::Objection => ("objection", None),
            Intent::ObjectionMarketing => ("objection", marketing_purpose()),
            Intent::Withdrawal => {
                let purpose = marketing_purpose().filter(|id| {
                    marketing
                        && self.policy.purpose(id).is_some_and(|p| p.legal_basis == custos_policy::LegalBasis::Consent)
                });
                ("withdrawal", purpose)
            }
            Intent::Rectification | Intent::LiInformation => return None,
        };
        Some(NewRightsRequest {
            kind: kind.into(),
            email: email.to_owned(),
            purpose,
            corrections: Vec::new(),
            transmit_to: None,
            // The mails about it answer in the language the person wrote in.
            language: Some(language.to_owned()),
            agent: None,
        })
    }

    /// The partner (not terminated) whose name the mail's subject or text holds, if one.
    async fn partner_named(&self, mail: &InboundMail) -> Result<Option<Uuid>, InboxError> {
        let words = classify::words(&format!("{} {}", mail.subject, mail.text));
        let text = format!(" {} ", words.join(" "));
        let mut named = None;
        for partner in self.store.partners().await? {
            if partner.contract_status == "terminated" {
                continue;
            }
            let name = classify::words(&partner.name).join(" ");
            if !name.is_empty() && text.contains(&format!(" {name} ")) {
                if named.is_some() {
                    // Two partners named: staff decide.
                    return Ok(None);
                }
                named = Some(partner.id);
            }
        }
        Ok(named)
    }

    /// Records and queues the forwarding of `thread` to `partner`.
    async fn forward(&self, thread: &InboxThread, partner: Uuid) -> Result<(), InboxError> {
        let now = self.clock.now();
        let request = PartnerRequest {
            id: Uuid::now_v7(),
            partner_id: partner,
            direction: "forwarded".into(),
            kind: thread.intent.clone().unwrap_or_else(|| "unclear".into()),
            thread_id: Some(thread.id),
            pseudonym_index: None,
            state: "queued".into(),
            outcome: None,
            received_at: thread.received_at,
            done_at: None,
        };
        self.store.put_partner_request(&request).await?;
        self.store
            .enqueue_job(&NewJob {
                kind: FORWARD_KIND.into(),
                payload: serde_json::json!({"partner_request_id": request.id}),
                idempotency_key: Some(format!("{}:forward", request.id)),
                priority: 1,
                run_at: now,
                max_attempts: 12,
            })
            .await?;
        self.audit(
            Some(thread),
            "inbox.forward",
            serde_json::json!({"partner_id": partner, "partner_request_id": request.id}),
        )
        .await?;
        Ok(())
    }

    /// Seals `raw` under the thread's key and stores it.
    pub(crate) async fn keep(
        &self,
        thread: &InboxThread,
        hash: &[u8],
        direction: &str,
        source: &str,
        raw: &[u8],
        at: Timestamp,
    ) -> Result<(), InboxError> {
        let owner = SubjectId(thread.id);
        let key = self.vault.data_key(owner).await?;
        let id = Uuid::now_v7();
        let message = InboxMessage {
            thread_id: thread.id,
            id,
            header_hash: hash.to_vec(),
            direction: direction.into(),
            source: source.into(),
            sealed: Vault::seal(&key, MESSAGES, id, owner, raw),
            at,
        };
        self.store.add_inbox_message(&message).await?;
        Ok(())
    }

    /// Queues a mail to the thread's sender.
    async fn reply(&self, thread: Uuid, message: ReplyMessage, key: &str) -> Result<(), StoreError> {
        let payload = serde_json::to_value(ReplyPayload { thread_id: thread, message })
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .enqueue_job(&NewJob {
                kind: REPLY_KIND.into(),
                payload,
                idempotency_key: Some(format!("{thread}:{key}")),
                priority: 1,
                run_at: self.clock.now(),
                max_attempts: 12,
            })
            .await?;
        Ok(())
    }

    /// A thread by id.
    pub async fn thread(&self, id: Uuid) -> Result<InboxThread, InboxError> {
        self.store.inbox_thread(id).await?.ok_or(InboxError::NotFound(id))
    }

    /// The thread's sender, opened.
    pub(crate) async fn sender(&self, thread: &InboxThread) -> Result<String, InboxError> {
        let owner = SubjectId(thread.id);
        let key = self.vault.data_key(owner).await?;
        let plain = Vault::open_value(&key, THREADS, thread.id, owner, &thread.sealed_sender)
            .map_err(|_| StoreError::Corrupt(format!("the sender of thread {} does not open", thread.id)))?;
        Ok(String::from_utf8_lossy(&plain).into_owned())
    }

    /// A thread's mails opened (for the console and the reply job); reading them for
    /// staff is audited by the caller through [`Inbox::read`].
    pub(crate) async fn open_messages(&self, thread: &InboxThread) -> Result<Vec<OpenedMessage>, InboxError> {
        let owner = SubjectId(thread.id);
        let rows = self.store.inbox_messages(thread.id).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.vault.data_key(owner).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let plain = Vault::open_value(&key, MESSAGES, row.id, owner, &row.sealed)
                .map_err(|_| StoreError::Corrupt(format!("a mail of thread {} does not open", thread.id)))?;
            let mail = InboundMail::parse(&plain).ok();
            out.push(OpenedMessage { row, raw: String::from_utf8_lossy(&plain).into_owned(), mail });
        }
        Ok(out)
    }

    /// A thread with its sender and mails, for staff; audited.
    pub async fn read(&self, actor: &Actor, id: Uuid) -> Result<(InboxThread, String, Vec<OpenedMessage>), InboxError> {
        let thread = self.thread(id).await?;
        let sender = self.sender(&thread).await?;
        let messages = self.open_messages(&thread).await?;
        self.audit_as(actor, Some(&thread), "inbox.read", serde_json::json!({"messages": messages.len()})).await?;
        Ok((thread, sender, messages))
    }

    /// Threads not closed, soonest due first; a thread whose request is closed is closed
    /// on the way.
    pub async fn queue(
        &self,
        limit: u32,
    ) -> Result<Vec<(InboxThread, Option<custos_store::RightsRequest>)>, InboxError> {
        let mut out = Vec::new();
        for mut thread in self.store.open_inbox_threads(limit).await? {
            let request = match thread.request_id {
                Some(id) => self.store.rights_request(id).await?,
                None => None,
            };
            let closed = request
                .as_ref()
                .is_some_and(|r| matches!(r.state.as_str(), "fulfilled" | "denied" | "expired" | "revoked"));
            if closed {
                thread.state = "closed".into();
                thread.updated_at = self.clock.now();
                self.store.update_inbox_thread(&thread).await?;
                continue;
            }
            out.push((thread, request));
        }
        Ok(out)
    }

    /// Staff read a thread in triage as `intent`: the rights request is made for the
    /// sender (its deadline from the first mail's arrival) and the thread leaves triage.
    pub async fn triage(&self, actor: &Actor, id: Uuid, intent: &str) -> Result<InboxThread, InboxError> {
        let mut thread = self.thread(id).await?;
        let intent = Intent::parse(intent).ok_or_else(|| {
            let names: Vec<&str> = Intent::ALL.iter().map(|i| i.as_str()).collect();
            invalid("intent", format!("use one of: {}", names.join(", ")))
        })?;
        if thread.request_id.is_some() || thread.state == "closed" {
            return Err(invalid("intent", format!("the thread is `{}` and already has its request", thread.state)));
        }
        thread.intent = Some(intent.as_str().to_owned());
        if intent == Intent::LiInformation {
            thread.state = "answered".into();
            self.reply(id, ReplyMessage::Assessments, "assessments").await?;
        } else {
            let sender = self.sender(&thread).await?;
            let new = self.request_for(intent, true, &sender, &thread.language).ok_or_else(|| {
                invalid(
                    "intent",
                    "a rectification needs the corrected values: answer the person, or enter it as a request",
                )
            })?;
            let request = self.rights.submit_received(&new, "email", thread.received_at).await?;
            thread.request_id = Some(request.id);
            thread.state = "request".into();
        }
        thread.updated_at = self.clock.now();
        self.store.update_inbox_thread(&thread).await?;
        self.audit_as(actor, Some(&thread), "inbox.triage", serde_json::json!({"intent": intent.as_str()})).await?;
        Ok(thread)
    }

    /// Staff answer a thread: `text` is mailed to the sender in the thread.
    pub async fn answer(&self, actor: &Actor, id: Uuid, text: &str) -> Result<InboxThread, InboxError> {
        let mut thread = self.thread(id).await?;
        let text = text.trim();
        if text.is_empty() || text.len() > 20_000 {
            return Err(invalid("text", "write an answer of 1 to 20000 bytes"));
        }
        let owner = SubjectId(thread.id);
        let key = self.vault.data_key(owner).await?;
        let answer_id = Uuid::now_v7();
        let sealed_text = Vault::seal(&key, "inbox_answers", thread.id, owner, text.as_bytes());
        self.reply(id, ReplyMessage::Answer { sealed_text }, &format!("answer:{answer_id}")).await?;
        if thread.state == "triage" {
            thread.state = "answered".into();
        }
        thread.updated_at = self.clock.now();
        self.store.update_inbox_thread(&thread).await?;
        self.audit_as(actor, Some(&thread), "inbox.answer", serde_json::json!({"bytes": text.len()})).await?;
        Ok(thread)
    }

    /// Staff close a thread that needs nothing more.
    pub async fn close(&self, actor: &Actor, id: Uuid) -> Result<InboxThread, InboxError> {
        let mut thread = self.thread(id).await?;
        thread.state = "closed".into();
        thread.updated_at = self.clock.now();
        self.store.update_inbox_thread(&thread).await?;
        self.audit_as(actor, Some(&thread), "inbox.close", serde_json::json!({})).await?;
        Ok(thread)
    }

    async fn audit(
        &self,
        thread: Option<&InboxThread>,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.audit_as(&Actor::System, thread, action, detail).await
    }

    async fn audit_as(
        &self,
        actor: &Actor,
        thread: Option<&InboxThread>,
        action: &str,
        mut detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        if let Some(thread) = thread {
            detail["thread_id"] = serde_json::json!(thread.id);
            detail["request_id"] = serde_json::json!(thread.request_id);
        }
        self.auditor
            .append(NewAuditEntry {
                at: self.clock.now(),
                actor: actor.audit_name(),
                action: action.into(),
                subject_id: None,
                purpose: None,
                detail,
            })
            .await?;
        Ok(())
    }

    /// The store.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The policy.
    pub(crate) fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The vault.
    pub(crate) fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// The clock.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}

/// Forgets the mail thread a rights request came from, once the person has been told its
/// outcome (as the request forgets their address): the thread's key is destroyed, so its
/// mails and sender cannot be opened from any copy, and the thread is closed. What remains
/// says when it came and what it became, not who wrote what.
pub async fn forget_thread_of(
    store: &Arc<dyn Store>,
    vault: &Vault,
    request: Uuid,
    now: Timestamp,
) -> Result<(), StoreError> {
    let Some(mut thread) = store.inbox_thread_of_request(request).await? else { return Ok(()) };
    vault.shred(SubjectId(thread.id), now).await?;
    if thread.state != "closed" {
        thread.state = "closed".into();
        thread.updated_at = now;
        store.update_inbox_thread(&thread).await?;
    }
    Ok(())
}

/// How long a thread that never became a rights request is kept once answered or closed:
/// long enough for the person's follow-up to find it, then its purpose is served.
pub const FINISHED_THREAD_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Erases the threads that never became a rights request and were answered or closed more
/// than [`FINISHED_THREAD_LIFETIME`] before `now`: their key is destroyed and their mails
/// deleted; each erasure is audited by thread id. Returns how many. Run by the daily rights
/// sweep; safe to repeat.
pub async fn forget_finished_threads(
    store: &Arc<dyn Store>,
    vault: &Vault,
    auditor: &Auditor,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let before = now.checked_sub(FINISHED_THREAD_LIFETIME).unwrap_or(now);
    let mut forgotten = 0;
    loop {
        let batch = store.finished_inbox_threads(before, 500).await?;
        if batch.is_empty() {
            return Ok(forgotten);
        }
        for thread in batch {
            vault.shred(SubjectId(thread.id), now).await?;
            store.delete_inbox_thread(thread.id).await?;
            auditor
                .append(NewAuditEntry {
                    at: now,
                    actor: Actor::System.audit_name(),
                    action: "inbox.forget".into(),
                    subject_id: None,
                    purpose: None,
                    detail: serde_json::json!({"thread_id": thread.id, "state": thread.state}),
                })
                .await?;
            forgotten += 1;
        }
    }
}

/// The thread references (`[ref:<uuid>]`, or a bare id) in a subject line.
fn references_in(subject: &str) -> Vec<Uuid> {
    subject
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|w| w.len() == 36)
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_in_subjects() {
        let id = Uuid::now_v7();
        assert_eq!(references_in(&format!("Re: Your request [ref:{id}]")), [id]);
        assert!(references_in("Re: hello 1234").is_empty());
    }
}
