//! Data-subject rights requests (seed 7, 8; GDPR Art. 12, 15-21).
//!
//! A request comes in with the kind of right and the address the person gives. custos
//! mails a one-time code to that address; whoever enters it controls the address, and the
//! request then acts on the person custos holds under it, if any. Until then nothing is
//! revealed: a request for an address custos does not know is answered exactly like one
//! for an address it does, and after verification it ends as "nothing held".
//!
//! The request is due one month after receipt ([`due_date`]); staff may extend it once by
//! up to two more months, with a reason the person is told, within the first month.
//!
//! Execution is a job ([`RightsExecution`]) that walks the request's steps and records each
//! one in the request when done, so a worker that dies mid-way resumes at the first step
//! not recorded; each step is also safe to repeat. Every kind runs automatically: access (a
//! report and a copy of the data in a zip, downloaded through a link that works for seven
//! days; see [`crate::access`]), rectification (the corrected values replace the old ones,
//! whose rows are deleted), erasure, restriction, portability (the data the person gave
//! under consent or contract, as JSON and CSV, through the same kind of link), objection
//! and withdrawal of consent. A portability request may name the HTTPS endpoint of another
//! controller: the package is sent there too ([`crate::outbound`]; an unreachable
//! destination is tried again for [`TRANSMIT_ATTEMPTS`] attempts, a refusal is recorded),
//! and the person is told which. After a rectification, erasure or restriction, every
//! recipient the disclosure log says received the person's data is sent an Art. 19 notice
//! through the job runner ([`crate::governance::notices`]). An erasure stops short of what a
//! legal hold in force covers: that is kept, restricted, and the person is told the legal
//! ground ([`crate::governance::holds::erase_respecting_holds`]).
//!
//! A restriction ends only by a staff decision with a reason, and the person is told
//! before it does (Art. 18(3); [`LiftJob`]).
//!
//! A request made by an authorized agent that gave a status callback is announced to it at
//! each change (verified, extended, fulfilled, expired) through the job runner.
//!
//! The person hears of each stage by mail ([`RightsMail`]), sent to the address they gave,
//! which is kept sealed under the request's own data key.

use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::{LegalBasis, Policy};
use custos_store::{Enqueued, IdentifierKind, Job, NewAuditEntry, NewJob, RightsRequest, Store, StoreError, SubjectId};
use jiff::{Timestamp, ToSpan};
use lettre::message::Message;
use lettre::message::header::ContentType;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::Auditor;
use crate::clock::Clock;
use crate::consent::{ConsentRecord, ConsentTarget, Consents};
use crate::gate::Actor;
use crate::jobs::{JobError, JobHandler};
use crate::mail::Mailer;
use crate::records::Records;
use crate::vault::Vault;

mod lift;
mod mail;
mod sweep;
pub mod wording;

pub use lift::{DEFAULT_NOTICE_DAYS, LIFT_KIND, Lift, LiftJob, MAX_NOTICE_DAYS, MIN_NOTICE_DAYS};
pub use mail::RightsMail;
pub use sweep::{REMIND_BEFORE, RightsSweep, SWEEP_KIND, SweepReport, UNVERIFIED_LIFETIME, schedule_sweep};

/// The rights a request can exercise.
pub const KINDS: &[&str] =
    &["access", "rectification", "erasure", "restriction", "portability", "objection", "withdrawal"];
/// The kinds custos carries out by itself once verified.
pub const AUTOMATED: &[&str] =
    &["access", "rectification", "erasure", "restriction", "portability", "objection", "withdrawal"];
/// How requests come in.
pub const CHANNELS: &[&str] = &["form", "api", "email", "agent"];

/// The job kind that carries out a verified request.
pub const EXECUTE_KIND: &str = "rights.execute";
/// The job kind that mails the person about their request.
pub const MAIL_KIND: &str = "rights.mail";

/// How long a verification code works.
pub const CODE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 60);
/// Wrong codes allowed per request before it must be made again.
pub const MAX_ATTEMPTS: i32 = 5;
/// How long the download link of an access package works.
pub const PACKAGE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// The context of the MAC that makes a package's download token.
const PACKAGE_TOKEN: &str = "custos/access-package/v1";

/// The table name bound into the sealed address.
const TABLE: &str = "rights_requests";

/// A request as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRightsRequest {
    /// One of [`KINDS`].
    #[schema(schema_with = kinds_schema)]
    pub kind: String,
    /// The address custos may hold the person under, and writes to.
    pub email: String,
    /// For an objection or a withdrawal: the purpose (every applicable one when absent).
    #[serde(default)]
    pub purpose: Option<String>,
    /// For a rectification: the corrected values.
    #[serde(default)]
    pub corrections: Vec<Correction>,
    /// For a portability request: the HTTPS endpoint of the controller the person wants
    /// their data sent to (Art. 20(2)); they get the download link as well.
    #[serde(default)]
    pub transmit_to: Option<String>,
    /// The language to write to the person in (`de`); English when absent or when custos
    /// has no wording in it ([`wording::LANGUAGES`]).
    #[serde(default)]
    pub language: Option<String>,
    /// The authorized agent that made it, set by custos (never read from a body).
    #[serde(skip)]
    pub agent: Option<AgentLink>,
}

/// [`KINDS`], for the OpenAPI document.
fn kinds_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(KINDS.iter().copied()))
        .build()
}

/// Which authorized agent made a request, and its reference for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentLink {
    /// The agent's id in the Data Rights Protocol directory.
    pub agent_id: String,
    /// The agent's own reference.
    pub agent_request_id: Option<String>,
    /// Where the agent asked to be told of status changes.
    pub status_callback: Option<String>,
}

/// What a request asks in detail, kept sealed under the request's key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct RequestDetails {
    /// A rectification's corrected values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    corrections: Vec<Correction>,
    /// A portability request's destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transmit_to: Option<String>,
}

/// A corrected value: it replaces every value the person has in `category`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// The data category, such as `user.contact.address`.
    pub category: String,
    /// The right value.
    pub value: String,
}

/// Corrections one request may carry at most.
const MAX_CORRECTIONS: usize = 20;

/// The job kind that tells an authorized agent of a status change.
pub const CALLBACK_KIND: &str = "drp.callback";
/// Attempts of a request's execution during which an unreachable portability destination
/// is tried again (about 40 minutes with the default back-off); after them the request is
/// completed with the download link alone, and the person is told.
pub const TRANSMIT_ATTEMPTS: u32 = 10;

/// Why a request operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    /// A field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such request.
    #[error("no rights request {0}")]
    NotFound(Uuid),
    /// The code is not the one sent.
    #[error("this code is not the one we sent; check the latest mail")]
    BadCode,
    /// The code's time is up.
    #[error("this code has expired; make the request again")]
    CodeExpired,
    /// Too many wrong codes.
    #[error("too many wrong codes; make the request again")]
    TooManyAttempts,
    /// A download link that is wrong, or for which there is nothing (any more).
    #[error("this download link is not valid; use the link from your latest mail")]
    BadLink,
    /// A download link past its time.
    #[error("this download link has expired; make a new access request")]
    LinkExpired,
    /// The request is past the step asked for (a code used twice, an extension repeated).
    #[error("the request is {state}: {message}")]
    WrongState {
        /// Its state.
        state: String,
        /// What cannot be done.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The vault failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultAccessError),
    /// A call to another party did not complete; it is tried again.
    #[error("{0}")]
    Outbound(String),
}

fn invalid(field: &'static str, message: impl Into<String>) -> RightsError {
    RightsError::Invalid { field, message: message.into() }
}

/// One month after `received`, in UTC (the 31st of a shorter month becomes its last day).
pub fn due_date(received: Timestamp, months: i8) -> Timestamp {
    received
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(i64::from(months).months())
        .map(|z| z.timestamp())
        .unwrap_or(received)
}

/// The hash a code is kept as: bound to its request, so it is worth nothing elsewhere.
fn code_hash(request: Uuid, code: &str) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(request.as_bytes());
    hash.update(code.as_bytes());
    hash.finalize().to_vec()
}

/// An eight-digit code.
fn new_code() -> String {
    let n = u32::from_le_bytes(crate::tokens::random_bytes::<4>()) % 100_000_000;
    format!("{n:08}")
}

/// Rights requests: intake, verification, deadlines and the queue.
pub struct Rights {
    store: Arc<dyn Store>,
    records: Arc<Records>,
    consents: Arc<Consents>,
    policy: Arc<Policy>,
    auditor: Auditor,
    clock: Arc<dyn Clock>,
    /// For portability transfers; checks agents' callback addresses too.
    outbound: Option<crate::outbound::Outbound>,
    /// The legal holds an erasure must respect.
    holds: crate::governance::holds::Holds,
}

impl std::fmt::Debug for Rights {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rights").finish_non_exhaustive()
    }
}

/// What the person is mailed about.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "message", rename_all = "snake_case")]
enum MailMessage {
    /// The verification code, sealed under the request's key.
    Code { sealed_code: Vec<u8> },
    /// The deadline moved.
    Extended,
    /// The request was carried out.
    Done,
    /// Staff refused to act on it, for the reason in the request's outcome.
    Denied,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MailPayload {
    request_id: Uuid,
    #[serde(flatten)]
    message: MailMessage,
}

impl Rights {
    /// Rights requests on `store` under `policy`.
    pub fn new(records: Arc<Records>, consents: Arc<Consents>, policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        let holds = crate::governance::holds::Holds::new(
            records.store().clone(),
            policy.clone(),
            records.auditor().clone(),
            clock.clone(),
        );
        Self {
            store: records.store().clone(),
            auditor: records.auditor().clone(),
            records,
            consents,
            policy,
            clock,
            outbound: None,
            holds,
        }
    }

    /// Sends portability packages to the controllers people name through `outbound`
    /// (without it, such requests are refused at intake).
    pub fn with_outbound(mut self, outbound: crate::outbound::Outbound) -> Self {
        self.outbound = Some(outbound);
        self
    }

    /// Checks an address custos is asked to call later (a transfer's destination, an
    /// agent's callback) the way the call will check it.
    pub fn check_destination(&self, field: &'static str, address: &str) -> Result<(), RightsError> {
        let Some(outbound) = &self.outbound else {
            return Err(invalid(field, "this custos makes no outbound calls ([outbound] is not set up)"));
        };
        outbound.check(address).map(|_| ()).map_err(|e| invalid(field, e.to_string()))
    }

    fn vault(&self) -> &Arc<Vault> {
        self.records.vault()
    }

    /// Takes in a request and mails its code; the answer is the same whether or not custos
    /// holds anything under the address.
    pub async fn submit(&self, new: &NewRightsRequest, channel: &str) -> Result<RightsRequest, RightsError> {
        self.submit_received(new, channel, self.clock.now()).await
    }

    /// [`Rights::submit`] for a request that arrived at `received` (a mail read from the
    /// privacy mailbox some time after it came in): the deadline runs from then.
    pub async fn submit_received(
        &self,
        new: &NewRightsRequest,
        channel: &str,
        received: Timestamp,
    ) -> Result<RightsRequest, RightsError> {
        if !KINDS.contains(&new.kind.as_str()) {
            return Err(invalid("kind", format!("use one of: {}", KINDS.join(", "))));
        }
        if !CHANNELS.contains(&channel) {
            return Err(invalid("channel", format!("use one of: {}", CHANNELS.join(", "))));
        }
        let purpose = match (&new.purpose, new.kind.as_str()) {
            (None, _) => None,
            (Some(id), kind @ ("objection" | "withdrawal")) => {
                let purpose = self
                    .policy
                    .purpose(id)
                    .ok_or_else(|| invalid("purpose", format!("the policy has no purpose `{id}`")))?;
                let applies = match kind {
                    "objection" => purpose.legal_basis == LegalBasis::LegitimateInterests || purpose.direct_marketing,
                    _ => purpose.legal_basis == LegalBasis::Consent,
                };
                if !applies {
                    let why = if kind == "objection" {
                        "one can object only to processing on legitimate interests or for direct marketing"
                    } else {
                        "consent can be withdrawn only where processing rests on it"
                    };
                    return Err(invalid("purpose", format!("`{id}`: {why}")));
                }
                Some(id.clone())
            }
            (Some(_), _) => {
                return Err(invalid("purpose", "a purpose is given only with an objection or a withdrawal"));
            }
        };
        self.check_corrections(new)?;
        if let Some(to) = &new.transmit_to {
            if new.kind != "portability" {
                return Err(invalid("transmit_to", "a destination is given only with a portability request"));
            }
            self.check_destination("transmit_to", to)?;
        }
        if let Some(callback) = new.agent.as_ref().and_then(|a| a.status_callback.as_deref()) {
            self.check_destination("status_callback", callback)?;
        }
        let details = RequestDetails { corrections: new.corrections.clone(), transmit_to: new.transmit_to.clone() };
        let index =
            self.vault().blind_index(IdentifierKind::Email, &new.email).map_err(|e| invalid("email", e.to_string()))?;
        let language = match new.language.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
            None => None,
            Some(tag) => Some(
                wording::primary_tag(tag)
                    .ok_or_else(|| invalid("language", "give a language tag such as de or fr-CH"))?,
            ),
        };
        let now = self.clock.now();
        let id = Uuid::now_v7();
        // The request's own key: destroying it later makes the sealed address unreadable.
        let owner = SubjectId(id);
        let key = self.vault().create_data_key(owner, now).await?;
        let code = new_code();
        let request = RightsRequest {
            id,
            kind: new.kind.clone(),
            purpose,
            channel: channel.to_owned(),
            state: "unverified".into(),
            email_index: index.0.to_vec(),
            sealed_email: Vault::seal(&key, TABLE, id, owner, new.email.trim().as_bytes()),
            sealed_details: if details == RequestDetails::default() {
                None
            } else {
                let details = serde_json::to_vec(&details).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Some(Vault::seal(&key, "rights_details", id, owner, &details))
            },
            subject_id: None,
            received_at: received.min(now),
            due_at: due_date(received.min(now), 1),
            extension_reason: None,
            code_hash: Some(code_hash(id, &code)),
            code_expires_at: Some(now.checked_add(CODE_LIFETIME).unwrap_or(now)),
            code_attempts: 0,
            verified_at: None,
            steps: Vec::new(),
            outcome: None,
            closed_at: None,
            agent_id: new.agent.as_ref().map(|a| a.agent_id.clone()),
            agent_request_id: new.agent.as_ref().and_then(|a| a.agent_request_id.clone()),
            status_callback: new.agent.as_ref().and_then(|a| a.status_callback.clone()),
            language,
        };
        self.store.create_rights_request(&request).await?;
        let sealed_code = Vault::seal(&key, "rights_mail", id, owner, code.as_bytes());
        self.mail(id, MailMessage::Code { sealed_code }, "code").await?;
        self.audit(&Actor::System, "rights.submit", &request, serde_json::json!({"channel": channel})).await?;
        Ok(request)
    }

    /// Checks the corrections of a rectification (and that no other kind carries any).
    fn check_corrections(&self, new: &NewRightsRequest) -> Result<(), RightsError> {
        if new.kind != "rectification" {
            if !new.corrections.is_empty() {
                return Err(invalid("corrections", "corrections are given only with a rectification"));
            }
            return Ok(());
        }
        if new.corrections.is_empty() || new.corrections.len() > MAX_CORRECTIONS {
            return Err(invalid("corrections", format!("give 1 to {MAX_CORRECTIONS} corrected values")));
        }
        for (i, c) in new.corrections.iter().enumerate() {
            if self.policy.category(&c.category).is_none() {
                return Err(invalid(
                    "corrections",
                    format!("corrections[{i}]: the policy has no category `{}`", c.category),
                ));
            }
            if c.value.trim().is_empty() || c.value.len() > 10_000 {
                return Err(invalid("corrections", format!("corrections[{i}]: give a value of 1 to 10000 bytes")));
            }
            if new.corrections[..i].iter().any(|d| d.category == c.category) {
                return Err(invalid("corrections", format!("corrections[{i}]: `{}` is corrected twice", c.category)));
            }
        }
        Ok(())
    }

    /// Checks a code. On success the request is verified, tied to the person custos holds
    /// under the address (if any), and queued for execution.
    pub async fn verify(&self, id: Uuid, code: &str) -> Result<RightsRequest, RightsError> {
        let mut request = self.store.rights_request(id).await?.ok_or(RightsError::NotFound(id))?;
        if request.state != "unverified" {
            return Err(RightsError::WrongState {
                state: request.state.clone(),
                message: "its code was already used".into(),
            });
        }
        let now = self.clock.now();
        if request.code_attempts >= MAX_ATTEMPTS {
            return Err(RightsError::TooManyAttempts);
        }
        if request.code_expires_at.is_none_or(|at| now >= at) {
            return Err(RightsError::CodeExpired);
        }
        let expected = request.code_hash.clone().unwrap_or_default();
        if !crate::tokens::constant_time_eq(&code_hash(id, code.trim()), &expected) {
            request.code_attempts += 1;
            self.store.update_rights_request(&request, "unverified").await?;
            self.audit(&Actor::System, "rights.verify_failed", &request, serde_json::json!({})).await?;
            return Err(if request.code_attempts >= MAX_ATTEMPTS {
                RightsError::TooManyAttempts
            } else {
                RightsError::BadCode
            });
        }
        self.accept(request, &Actor::System, "rights.verify", serde_json::json!({})).await
    }

    /// Verifies an unverified request on staff's authority, for a person whose identity
    /// staff confirmed by other means (in person, by a signed letter); `how` says how, and
    /// is audited with who approved.
    pub async fn approve(&self, actor: &Actor, id: Uuid, how: &str) -> Result<RightsRequest, RightsError> {
        let request = self.store.rights_request(id).await?.ok_or(RightsError::NotFound(id))?;
        let how = how.trim();
        if how.is_empty() || how.len() > 1000 {
            return Err(invalid("reason", "say how the person's identity was confirmed, in 1 to 1000 bytes"));
        }
        if request.state != "unverified" {
            return Err(RightsError::WrongState {
                state: request.state,
                message: "only an unverified request is approved".into(),
            });
        }
        self.accept(request, actor, "rights.approve", serde_json::json!({"how": how})).await
    }

    /// Marks `request` verified, ties it to the person held under its address (if any) and
    /// queues its execution.
    async fn accept(
        &self,
        mut request: RightsRequest,
        actor: &Actor,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<RightsRequest, RightsError> {
        let (id, now) = (request.id, self.clock.now());
        let index = custos_store::BlindIndex(
            request.email_index.clone().try_into().map_err(|_| StoreError::Corrupt("email index length".into()))?,
        );
        request.subject_id = self.store.find_subject(IdentifierKind::Email, &index).await?;
        request.state = "verified".into();
        request.verified_at = Some(now);
        request.code_hash = None;
        request.code_expires_at = None;
        // Verified, and its execution and the agent's status callback queued, in one
        // transaction: no crash can leave a verified request that nothing will run.
        let mut jobs: Vec<NewJob> = self.announcement(&request, "verified").into_iter().collect();
        if AUTOMATED.contains(&request.kind.as_str()) {
            jobs.push(execution_job(id, now));
        }
        if !self.store.update_rights_request_queueing(&request, "unverified", &jobs).await? {
            return Err(RightsError::WrongState {
                state: "verified".into(),
                message: "its code was already used".into(),
            });
        }
        self.audit(actor, action, &request, detail).await?;
        Ok(request)
    }

    /// Queues again the execution of every verified request carried out automatically.
    /// Since a request is marked verified in the same transaction that queues its
    /// execution, this finds work only for requests verified by an older custos, which did
    /// the two in turn (a process killed between them left a verified request with no
    /// job). `custos serve` calls this at start; for a request whose job exists (queued,
    /// running or done) the idempotency key makes it a no-op. Returns how many verified
    /// requests were looked at.
    pub async fn resume_verified(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut resumed = 0;
        for request in self.store.open_rights_requests(u32::MAX).await? {
            if matches!(request.state.as_str(), "verified" | "in_progress")
                && AUTOMATED.contains(&request.kind.as_str())
            {
                self.store.enqueue_job(&execution_job(request.id, now)).await?;
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// Extends the deadline by `months` (1 or 2) for `reason`; allowed once, within the
    /// first month. The person is told.
    pub async fn extend(
        &self,
        actor: &Actor,
        id: Uuid,
        months: i8,
        reason: &str,
    ) -> Result<RightsRequest, RightsError> {
        let mut request = self.store.rights_request(id).await?.ok_or(RightsError::NotFound(id))?;
        if !(1..=2).contains(&months) {
            return Err(invalid("months", "a deadline can be extended by one or two months"));
        }
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(invalid("reason", "give the reason the person will be told, in 1 to 1000 bytes"));
        }
        if request.extension_reason.is_some() {
            return Err(RightsError::WrongState { state: request.state, message: "it was extended already".into() });
        }
        if matches!(request.state.as_str(), "fulfilled" | "denied" | "expired") {
            return Err(RightsError::WrongState { state: request.state.clone(), message: "it is closed".into() });
        }
        let now = self.clock.now();
        if now >= due_date(request.received_at, 1) {
            return Err(RightsError::WrongState {
                state: request.state,
                message: "an extension must be decided and told within the first month".into(),
            });
        }
        let state = request.state.clone();
        request.due_at = due_date(request.received_at, 1 + months);
        request.extension_reason = Some(reason.to_owned());
        if !self.store.update_rights_request(&request, &state).await? {
            return Err(RightsError::WrongState { state, message: "it changed meanwhile; try again".into() });
        }
        self.mail(id, MailMessage::Extended, "extended").await?;
        self.audit(actor, "rights.extend", &request, serde_json::json!({"months": months})).await?;
        self.announce(&request, "extended").await?;
        Ok(request)
    }

    /// The token of the download link of `id`'s package: a MAC, so it cannot be guessed
    /// nor made for another request.
    pub fn package_token(&self, id: Uuid) -> String {
        crate::tokens::base64url(&self.vault().mac(PACKAGE_TOKEN, id.as_bytes()))
    }

    /// The zip of an access request, for whoever holds its link; audited.
    pub async fn download(&self, id: Uuid, token: &str) -> Result<Vec<u8>, RightsError> {
        if !crate::tokens::constant_time_eq(self.package_token(id).as_bytes(), token.as_bytes()) {
            return Err(RightsError::BadLink);
        }
        let (subject, sealed, expires) = self.store.rights_package(id).await?.ok_or(RightsError::BadLink)?;
        if self.clock.now() >= expires {
            return Err(RightsError::LinkExpired);
        }
        let key = match self.vault().data_key(subject).await {
            Ok(key) => key,
            // The person was erased since: so was their copy.
            Err(crate::vault::VaultAccessError::Erased { .. }) => return Err(RightsError::BadLink),
            Err(e) => return Err(e.into()),
        };
        let zip = Vault::open_value(&key, "rights_packages", id, subject, &sealed)
            .map_err(|_| StoreError::Corrupt(format!("the package of request {id} does not open")))?;
        let request = self.get(id).await?;
        self.audit(&Actor::Subject(subject), "rights.download", &request, serde_json::json!({"bytes": zip.len()}))
            .await?;
        Ok(zip.to_vec())
    }

    /// Revokes a request that is not closed (its agent asked): nothing more is done for it
    /// and its address is forgotten.
    pub async fn revoke(&self, request: &RightsRequest) -> Result<RightsRequest, RightsError> {
        if matches!(request.state.as_str(), "fulfilled" | "denied" | "expired" | "revoked") {
            return Err(RightsError::WrongState { state: request.state.clone(), message: "it is closed".into() });
        }
        let mut revoked = request.clone();
        revoked.state = "revoked".into();
        revoked.closed_at = Some(self.clock.now());
        revoked.code_hash = None;
        revoked.code_expires_at = None;
        if !self.store.update_rights_request(&revoked, &request.state).await? {
            return Err(RightsError::WrongState {
                state: request.state.clone(),
                message: "it changed meanwhile".into(),
            });
        }
        self.forget_address(request.id).await?;
        self.audit(&Actor::System, "rights.revoke", &revoked, serde_json::json!({"agent": revoked.agent_id})).await?;
        Ok(revoked)
    }

    /// Refuses a request that is not being carried out yet, for `reason` (Art. 12(5): the
    /// request is manifestly unfounded or excessive; Art. 12(6): the person's identity
    /// cannot be confirmed). The person is mailed the reason and where to complain (Art.
    /// 12(4)); an agent that asked for callbacks is told.
    pub async fn deny(&self, actor: &Actor, id: Uuid, reason: &str) -> Result<RightsRequest, RightsError> {
        let mut request = self.store.rights_request(id).await?.ok_or(RightsError::NotFound(id))?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 1000 {
            return Err(invalid("reason", "give the reason the person will be told, in 1 to 1000 bytes"));
        }
        if !matches!(request.state.as_str(), "unverified" | "verified") {
            let message = if request.state == "in_progress" { "it is being carried out" } else { "it is closed" };
            return Err(RightsError::WrongState { state: request.state, message: message.into() });
        }
        let state = request.state.clone();
        request.state = "denied".into();
        request.closed_at = Some(self.clock.now());
        request.code_hash = None;
        request.code_expires_at = None;
        request.outcome = Some(serde_json::json!({"denied": {"reason": reason, "by": actor.audit_name()}}));
        if !self.store.update_rights_request(&request, &state).await? {
            return Err(RightsError::WrongState { state, message: "it changed meanwhile; try again".into() });
        }
        self.mail(id, MailMessage::Denied, "denied").await?;
        self.audit(actor, "rights.deny", &request, serde_json::json!({})).await?;
        self.announce(&request, "denied").await?;
        Ok(request)
    }

    /// Carries out a verified request now, in this process, instead of waiting for a
    /// worker (the same steps, recorded the same way: a worker that picks up the queued
    /// job afterwards finds nothing left to do).
    pub async fn run_now(&self, id: Uuid) -> Result<RightsRequest, RightsError> {
        let request = self.get(id).await?;
        if !matches!(request.state.as_str(), "verified" | "in_progress") {
            return Err(RightsError::WrongState {
                state: request.state,
                message: "only a verified request can be carried out".into(),
            });
        }
        self.execute(id, 1).await.map_err(|e| RightsError::Outbound(e.to_string()))?;
        self.get(id).await
    }

    /// A request by id.
    pub async fn get(&self, id: Uuid) -> Result<RightsRequest, RightsError> {
        self.store.rights_request(id).await?.ok_or(RightsError::NotFound(id))
    }

    /// Open requests, soonest due first.
    pub async fn queue(&self, limit: u32) -> Result<Vec<RightsRequest>, RightsError> {
        Ok(self.store.open_rights_requests(limit).await?)
    }

    async fn mail(&self, id: Uuid, message: MailMessage, key: &str) -> Result<Enqueued, StoreError> {
        let payload = serde_json::to_value(MailPayload { request_id: id, message })
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .enqueue_job(&NewJob {
                kind: MAIL_KIND.into(),
                payload,
                idempotency_key: Some(format!("{id}:{key}")),
                priority: 1,
                run_at: self.clock.now(),
                max_attempts: 12,
            })
            .await
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        request: &RightsRequest,
        mut detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        detail["request_id"] = serde_json::json!(request.id);
        detail["kind"] = serde_json::json!(request.kind);
        detail["state"] = serde_json::json!(request.state);
        self.auditor
            .append(NewAuditEntry {
                at: self.clock.now(),
                actor: actor.audit_name(),
                action: action.into(),
                subject_id: request.subject_id,
                purpose: request.purpose.clone(),
                detail,
            })
            .await?;
        Ok(())
    }

    /// Seals a package under the person's key and keeps it for [`PACKAGE_LIFETIME`].
    async fn keep_package(&self, id: Uuid, subject: SubjectId, zip: &[u8]) -> Result<Timestamp, RightsError> {
        let now = self.clock.now();
        let key = self.vault().data_key_or_create(subject, now).await?;
        let sealed = Vault::seal(&key, "rights_packages", id, subject, zip);
        let expires = now.checked_add(PACKAGE_LIFETIME).unwrap_or(now);
        self.store.put_rights_package(id, subject, &sealed, expires).await?;
        Ok(expires)
    }

    /// What the request asks in detail, opened with the request's key.
    async fn details(&self, request: &RightsRequest) -> Result<RequestDetails, RightsError> {
        let Some(sealed) = &request.sealed_details else { return Ok(RequestDetails::default()) };
        let owner = SubjectId(request.id);
        let key = self.vault().data_key(owner).await?;
        let details = Vault::open_value(&key, "rights_details", request.id, owner, sealed)
            .map_err(|_| StoreError::Corrupt(format!("the details of request {} do not open", request.id)))?;
        let corrupt = |e: serde_json::Error| RightsError::Store(StoreError::Corrupt(e.to_string()));
        // Requests made before destinations existed kept their corrections as a bare list.
        if details.first() == Some(&b'[') {
            return Ok(RequestDetails {
                corrections: serde_json::from_slice(&details).map_err(corrupt)?,
                transmit_to: None,
            });
        }
        serde_json::from_slice(&details).map_err(corrupt)
    }

    /// Sends the portability package of `request` to the destination the person named;
    /// returns what happened, naming the destination's host only. An unreachable
    /// destination is an error (the step is tried again) during the first
    /// [`TRANSMIT_ATTEMPTS`] attempts, then recorded as not sent.
    async fn transmit(&self, request: &RightsRequest, attempt: u32) -> Result<serde_json::Value, RightsError> {
        let Some(to) = self.details(request).await?.transmit_to else {
            return Ok(serde_json::Value::Null);
        };
        let host = url::Url::parse(&to).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default();
        let not_sent = |why: String| Ok(serde_json::json!({"sent": false, "host": host, "why": why}));
        let Some(outbound) = &self.outbound else {
            return not_sent("this custos makes no outbound calls".into());
        };
        let (subject, sealed, _) = self
            .store
            .rights_package(request.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("request {} has no package to send", request.id)))?;
        let key = self.vault().data_key(subject).await?;
        let zip = Vault::open_value(&key, "rights_packages", request.id, subject, &sealed)
            .map_err(|_| StoreError::Corrupt(format!("the package of request {} does not open", request.id)))?;
        let headers = [
            ("x-custos-request-id", request.id.to_string()),
            ("content-disposition", "attachment; filename=\"portable-data.zip\"".to_owned()),
        ];
        let retry_or = |why: String| -> Result<serde_json::Value, RightsError> {
            if attempt < TRANSMIT_ATTEMPTS {
                Err(RightsError::Outbound(format!("sending to {host}: {why}")))
            } else {
                not_sent(format!("{why} (gave up after {attempt} attempts)"))
            }
        };
        match outbound.post(&to, "application/zip", &headers, zip.to_vec()).await {
            Ok(answer) if answer.accepted() => {
                Ok(serde_json::json!({"sent": true, "host": host, "status": answer.status, "bytes": zip.len()}))
            }
            Ok(answer) if answer.transient() => retry_or(format!("answered {}", answer.status)),
            Ok(answer) => not_sent(format!("the destination refused it with status {}", answer.status)),
            Err(crate::outbound::OutboundError::Transport(why)) => retry_or(why),
            Err(other) => not_sent(other.to_string()),
        }
    }

    /// Tells the agent that made `request`, if it asked for callbacks, of its status now
    /// (through the job runner; once per `change`).
    async fn announce(&self, request: &RightsRequest, change: &str) -> Result<(), StoreError> {
        if let Some(job) = self.announcement(request, change) {
            self.store.enqueue_job(&job).await?;
        }
        Ok(())
    }

    /// The job that tells a request's agent of `change` (its status callback), if it named one.
    fn announcement(&self, request: &RightsRequest, change: &str) -> Option<NewJob> {
        request.status_callback.as_ref()?;
        Some(NewJob {
            kind: CALLBACK_KIND.into(),
            payload: serde_json::json!({"request_id": request.id, "state": request.state}),
            idempotency_key: Some(format!("{}:callback:{change}", request.id)),
            priority: 1,
            run_at: self.clock.now(),
            max_attempts: 12,
        })
    }

    /// Replaces every value `subject` has in the correction's category by the corrected
    /// one, under each purpose it was held for, then deletes the old rows. Run again, it
    /// replaces the values written by the run before: the outcome is the same.
    async fn rectify(&self, subject: SubjectId, c: &Correction) -> Result<serde_json::Value, RightsError> {
        let old: Vec<custos_store::Record> =
            self.store.records(subject).await?.into_iter().filter(|r| r.category == c.category).collect();
        let mut purposes: Vec<String> = old.iter().map(|r| r.purpose.clone()).collect();
        purposes.sort();
        purposes.dedup();
        if purposes.is_empty() {
            return Ok(serde_json::json!({"category": c.category, "held": false}));
        }
        let values: Vec<crate::records::NewValue<'_>> = purposes
            .iter()
            .map(|p| crate::records::NewValue { purpose: p, category: &c.category, value: c.value.as_bytes() })
            .collect();
        // The person's own rectification: the gate lets a person write their own data.
        self.records
            .write_all(&Actor::Subject(subject), subject, &values)
            .await
            .map_err(|e| RightsError::Store(StoreError::Unavailable(e.to_string())))?;
        for r in &old {
            self.store.delete_record(subject, r.record_id).await?;
        }
        Ok(serde_json::json!({"category": c.category, "purposes": purposes, "replaced": old.len()}))
    }

    /// Once the person has been told the outcome, the request keeps no trace of them: its
    /// key is destroyed (the sealed address cannot be opened, from any copy) and the blind
    /// index of the address is cleared. What remains proves what was done, for whom it
    /// no longer says.
    async fn forget_address(&self, id: Uuid) -> Result<(), StoreError> {
        self.vault().shred(SubjectId(id), self.clock.now()).await?;
        for _ in 0..3 {
            let Some(mut request) = self.store.rights_request(id).await? else { return Ok(()) };
            if request.email_index.is_empty() {
                return Ok(());
            }
            let state = request.state.clone();
            request.email_index = Vec::new();
            if self.store.update_rights_request(&request, &state).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable("the request kept changing while its address was being forgotten".into()))
    }

    /// Carries out the next steps of a verified request; see [`RightsExecution`].
    async fn execute(&self, id: Uuid, attempt: u32) -> Result<(), JobError> {
        let retry = |e: StoreError| JobError::Retry(e.to_string());
        let Some(mut request) = self.store.rights_request(id).await.map_err(retry)? else {
            return Err(JobError::Permanent(format!("no rights request {id}")));
        };
        match request.state.as_str() {
            "verified" => {
                request.state = "in_progress".into();
                if !self.store.update_rights_request(&request, "verified").await.map_err(retry)? {
                    return Err(JobError::Retry("the request changed meanwhile".into()));
                }
            }
            "in_progress" => {}
            _ => return Ok(()),
        }
        let steps: &[&str] = match request.kind.as_str() {
            "access" => &["collect", "notify"],
            "rectification" => &["rectify", "recipients", "notify"],
            "portability" => &["export", "transmit", "notify"],
            "erasure" => &["erase", "recipients", "notify"],
            "restriction" => &["restrict", "recipients", "notify"],
            "objection" => &["object", "notify"],
            "withdrawal" => &["withdraw", "notify"],
            other => return Err(JobError::Permanent(format!("`{other}` requests are not carried out automatically"))),
        };
        let mut outcome = request.outcome.clone().unwrap_or_else(|| serde_json::json!({}));
        let last = steps.len() - 1;
        for (n, step) in steps.iter().enumerate() {
            if request.steps.iter().any(|s| s == step) {
                continue;
            }
            let result = self.step(&request, step, attempt).await.map_err(|e| JobError::Retry(e.to_string()))?;
            // A step that changed nothing is recorded with the next one: run again after a
            // crash, it changes nothing again.
            let effect = !(*step == "recipients" && result["notified"].as_array().is_some_and(Vec::is_empty));
            if !result.is_null() {
                outcome[*step] = result;
            }
            request.steps.push((*step).to_owned());
            request.outcome = Some(outcome.clone());
            // The last step is recorded together with the request's fulfilment, below.
            if effect && n != last && !self.store.update_rights_request(&request, "in_progress").await.map_err(retry)? {
                return Err(JobError::Retry("the request changed meanwhile".into()));
            }
        }
        request.state = "fulfilled".into();
        request.closed_at = Some(self.clock.now());
        if self.store.update_rights_request(&request, "in_progress").await.map_err(retry)? {
            self.audit(&Actor::System, "rights.fulfil", &request, outcome).await.map_err(retry)?;
            self.announce(&request, "fulfilled").await.map_err(retry)?;
        }
        Ok(())
    }

    /// One step; returns what it did, as JSON without personal data.
    async fn step(&self, request: &RightsRequest, step: &str, attempt: u32) -> Result<serde_json::Value, RightsError> {
        let now = self.clock.now();
        let Some(subject) = request.subject_id else {
            // Nothing is held under the address: there is nothing to act on.
            return Ok(if step == "notify" {
                self.mail(request.id, MailMessage::Done, "done").await?;
                serde_json::Value::Null
            } else {
                serde_json::json!({"held": false})
            });
        };
        let applicable = |pick: &dyn Fn(&custos_policy::Purpose) -> bool| -> Vec<String> {
            match &request.purpose {
                Some(p) => vec![p.clone()],
                None => self.policy.purposes.iter().filter(|p| pick(p)).map(|p| p.id.clone()).collect(),
            }
        };
        Ok(match step {
            "collect" => {
                let package = crate::access::package(&self.records, &self.store, &self.policy, subject, request.id)
                    .await
                    .map_err(|e| RightsError::Store(StoreError::Unavailable(e.to_string())))?;
                let expires = self.keep_package(request.id, subject, &package.zip).await?;
                let count = |key: &str| package.data[key].as_array().map_or(0, Vec::len);
                serde_json::json!({"records": count("records"), "consents": count("consents"), "events": count("events"),
                                   "link_expires_at": expires})
            }
            "export" => {
                let (zip, records) = crate::access::portable(&self.records, &self.store, &self.policy, subject)
                    .await
                    .map_err(|e| RightsError::Store(StoreError::Unavailable(e.to_string())))?;
                let expires = self.keep_package(request.id, subject, &zip).await?;
                serde_json::json!({"records": records, "link_expires_at": expires})
            }
            "transmit" => self.transmit(request, attempt).await?,
            "rectify" => {
                let corrections = self.details(request).await?.corrections;
                let mut done = Vec::new();
                for c in &corrections {
                    done.push(self.rectify(subject, c).await?);
                }
                serde_json::json!(done)
            }
            "erase" => {
                // Erasing again finds nothing (or, under a hold, the same kept records): safe
                // to repeat.
                let erasure = crate::governance::holds::erase_respecting_holds(
                    &self.holds,
                    &self.records,
                    &Actor::System,
                    subject,
                )
                .await
                .map_err(|e| match e {
                    crate::governance::GovernanceError::Store(e) => RightsError::Store(e),
                    other => RightsError::Store(StoreError::Unavailable(other.to_string())),
                })?;
                erasure.to_json()
            }
            "recipients" => {
                use crate::governance::notices::{Change, notify_recipients};
                let change = match request.kind.as_str() {
                    "rectification" => Change::Rectified,
                    "erasure" => Change::Erased,
                    _ => Change::Restricted,
                };
                let told = notify_recipients(&self.store, &self.policy, now, request.id, subject, change).await?;
                serde_json::json!({"notified": told})
            }
            "restrict" => {
                self.store.set_restriction(subject, Some("the person asked for restriction (Art. 18)"), now).await?;
                serde_json::json!({"restricted": true})
            }
            "object" => {
                let purposes = applicable(&|p| p.legal_basis == LegalBasis::LegitimateInterests || p.direct_marketing);
                for purpose in &purposes {
                    self.store.record_objection(subject, purpose, now).await?;
                }
                serde_json::json!({"purposes": purposes})
            }
            "withdraw" => {
                let live = self.store.live_consents(subject).await?;
                let purposes: Vec<String> = applicable(&|p| p.legal_basis == LegalBasis::Consent)
                    .into_iter()
                    .filter(|p| live.contains(p))
                    .collect();
                for purpose in &purposes {
                    let record = ConsentRecord {
                        target: ConsentTarget::Subject(subject),
                        purpose: purpose.clone(),
                        granted: false,
                        method: if request.channel == "agent" { "agent" } else { "email" }.into(),
                        text_version: String::new(),
                        source_ip: None,
                    };
                    self.consents
                        .record(&Actor::Subject(subject), &record)
                        .await
                        .map_err(|e| RightsError::Store(StoreError::Unavailable(e.to_string())))?;
                }
                serde_json::json!({"purposes": purposes})
            }
            "notify" => {
                self.mail(request.id, MailMessage::Done, "done").await?;
                serde_json::Value::Null
            }
            other => return Err(invalid("step", format!("unknown step `{other}`"))),
        })
    }
}

/// The job that carries out a verified request, step by step.
pub struct RightsExecution {
    rights: Arc<Rights>,
}

impl RightsExecution {
    /// Runs requests through `rights`.
    pub fn new(rights: Arc<Rights>) -> Self {
        Self { rights }
    }
}

#[async_trait]
impl JobHandler for RightsExecution {
    fn kind(&self) -> &'static str {
        EXECUTE_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let id = job.payload["request_id"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| JobError::Permanent("malformed rights job".into()))?;
        self.rights.execute(id, job.attempts).await
    }
}

/// The job that executes request `id`; its idempotency key makes queueing it twice a no-op.
fn execution_job(id: Uuid, now: jiff::Timestamp) -> NewJob {
    NewJob {
        kind: EXECUTE_KIND.into(),
        payload: serde_json::json!({"request_id": id}),
        idempotency_key: Some(id.to_string()),
        priority: 1,
        run_at: now,
        max_attempts: 20,
    }
}
