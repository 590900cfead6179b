//! The Data Rights Protocol (v0.9) for authorized agents (seed 8; GDPR Art. 12).
//!
//! An agent acting for a person pairs with custos once (`pair`: a message signed with the
//! agent's Ed25519 key, whose verify key the operator registered from the DRP directory)
//! and receives a bearer token. It then sends signed requests (`exercise`), follows them
//! (`status`) and may revoke them (`revoke`). Every signed message is base64 of the 64-byte
//! signature followed by the JSON it signs; it must name this business and the agent, and
//! be used within its `issued-at`/`expires-at` window.
//!
//! A request becomes an ordinary rights request of channel `agent`: custos mails the
//! person a code and acts only once they confirm it (the status says
//! `need_user_verification` until then, with the page to confirm on), so a signature alone
//! never reveals or erases anyone's data.
//!
//! An agent that gives a `status_callback` address in its request is told of each change
//! of status there ([`DrpCallbacks`], through the job runner): the same Exercise Status
//! object `status` answers, POSTed as JSON over HTTPS. The address is checked at intake
//! like every outbound destination (see [`crate::outbound`]).

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use custos_store::{RightsRequest, Store, StoreError};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::jobs::{JobError, JobHandler};
use crate::outbound::Outbound;
use crate::rights::{AgentLink, CALLBACK_KIND, NewRightsRequest, Rights, RightsError};

/// The protocol version custos speaks.
pub const VERSION: &str = "0.9";
/// How far in the future `issued-at` may be (clocks drift).
const SKEW: std::time::Duration = std::time::Duration::from_secs(120);

/// An authorized agent the operator accepts, from the DRP directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    /// Its id, as in the directory (`[A-Z_]+`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its Ed25519 verify key, base64 (the directory's `verify_key`).
    pub verify_key: String,
}

/// Why a DRP call was refused.
#[derive(Debug, thiserror::Error)]
pub enum DrpError {
    /// The agent is unknown, the signature or token is wrong, or the message is for
    /// another business or agent: answered `403` with no detail, as the protocol asks.
    #[error("forbidden")]
    Forbidden,
    /// The message is signed but unusable: expired, malformed, unsupported.
    #[error("{0}")]
    Invalid(String),
    /// The request named is not this agent's (or does not exist).
    #[error("no such request for this agent")]
    NotFound,
    /// The rights request was refused.
    #[error(transparent)]
    Rights(#[from] RightsError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A configuration entry that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("drp.agents `{agent}`: {message}")]
pub struct DrpConfigError {
    /// The agent's id.
    pub agent: String,
    /// What is wrong.
    pub message: String,
}

/// The protocol's endpoints, for one business.
pub struct Drp {
    business_id: String,
    agents: HashMap<String, VerifyingKey>,
    rights: Arc<Rights>,
    store: Arc<dyn Store>,
    public_url: String,
}

impl std::fmt::Debug for Drp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drp").field("business_id", &self.business_id).finish_non_exhaustive()
    }
}

/// The message of `body` (base64 of a 64-byte Ed25519 signature followed by the message),
/// once its signature is checked with `key`.
pub fn verify_signed(key: &VerifyingKey, body: &[u8]) -> Result<Vec<u8>, DrpError> {
    let text: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut raw = base64::engine::general_purpose::STANDARD.decode(&text).map_err(|_| DrpError::Forbidden)?;
    if raw.len() < 64 {
        return Err(DrpError::Forbidden);
    }
    let message = raw.split_off(64);
    let signature = Signature::from_slice(&raw).map_err(|_| DrpError::Forbidden)?;
    key.verify(&message, &signature).map_err(|_| DrpError::Forbidden)?;
    Ok(message)
}

/// Opens a signed message from `agent_id` to `business_id`: checks the signature with `key`,
/// then that the claims name this business and this agent and are current at `now`. The
/// endpoints read every signed body through this (and the fuzz targets too).
pub fn open_signed(
    key: &VerifyingKey,
    agent_id: &str,
    business_id: &str,
    body: &[u8],
    now: Timestamp,
) -> Result<Value, DrpError> {
    let message = verify_signed(key, body)?;
    let claims: Value =
        serde_json::from_slice(&message).map_err(|_| DrpError::Invalid("the signed message is not JSON".into()))?;
    if let Some(path) = crate::nul::path(&claims) {
        return Err(DrpError::Invalid(crate::nul::message(if path.is_empty() { "the message" } else { &path })));
    }
    if claims["agent-id"].as_str() != Some(agent_id) || claims["business-id"].as_str() != Some(business_id) {
        return Err(DrpError::Forbidden);
    }
    let time = |name: &str| -> Result<Timestamp, DrpError> {
        claims[name]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
            .ok_or_else(|| DrpError::Invalid(format!("`{name}` must be an ISO 8601 time with its offset")))
    };
    let (issued, expires) = (time("issued-at")?, time("expires-at")?);
    if issued > now.checked_add(SKEW).unwrap_or(now) || expires <= now {
        return Err(DrpError::Invalid("the message is outside its issued-at/expires-at window".into()));
    }
    if !claims["drp.version"].as_str().is_some_and(|v| v.starts_with(VERSION)) {
        return Err(DrpError::Invalid(format!("`drp.version` must be {VERSION}.x")));
    }
    Ok(claims)
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Drp {
    /// The endpoints of `business_id`, accepting `agents`; links point at `public_url`.
    pub fn new(
        business_id: &str,
        agents: &[AgentEntry],
        rights: Arc<Rights>,
        store: Arc<dyn Store>,
        public_url: &str,
    ) -> Result<Self, DrpConfigError> {
        let mut keys = HashMap::new();
        for agent in agents {
            let fail = |message: &str| DrpConfigError { agent: agent.id.clone(), message: message.into() };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(agent.verify_key.trim())
                .map_err(|_| fail("verify_key is not base64"))?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| fail("verify_key is not 32 bytes"))?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|_| fail("verify_key is not an Ed25519 key"))?;
            keys.insert(agent.id.clone(), key);
        }
        Ok(Self {
            business_id: business_id.to_owned(),
            agents: keys,
            rights,
            store,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The message of `body`, once its signature is checked with `agent_id`'s key.
    fn verify(&self, agent_id: &str, body: &[u8]) -> Result<Vec<u8>, DrpError> {
        verify_signed(self.agents.get(agent_id).ok_or(DrpError::Forbidden)?, body)
    }

    /// Opens a signed message from `agent_id` (see [`open_signed`]).
    fn open(&self, agent_id: &str, body: &[u8], now: Timestamp) -> Result<Value, DrpError> {
        let key = self.agents.get(agent_id).ok_or(DrpError::Forbidden)?;
        open_signed(key, agent_id, &self.business_id, body, now)
    }

    /// Pair-wise key setup: a fresh bearer token for `agent_id`.
    pub async fn pair(&self, agent_id: &str, body: &[u8]) -> Result<Value, DrpError> {
        let now = Timestamp::now();
        self.open(agent_id, body, now)?;
        let token = crate::tokens::base64url(&crate::tokens::random_bytes::<32>());
        self.store.put_agent_token(agent_id, &token_hash(&token), now).await?;
        Ok(json!({"agent-id": agent_id, "token": token}))
    }

    /// The agent a bearer token belongs to.
    pub async fn agent(&self, bearer: &str) -> Result<String, DrpError> {
        let agent = self.store.agent_by_token(&token_hash(bearer.trim())).await?.ok_or(DrpError::Forbidden)?;
        if !self.agents.contains_key(&agent) {
            return Err(DrpError::Forbidden);
        }
        Ok(agent)
    }

    /// A data rights request from `agent`; answered with its status.
    pub async fn exercise(&self, agent: &str, body: &[u8]) -> Result<Value, DrpError> {
        let claims = self.open(agent, body, Timestamp::now())?;
        let exercise = claims["exercise"].as_str().unwrap_or_default();
        let kind = match exercise {
            "access" | "access:categories" | "access:specific" => "access",
            "deletion" => "erasure",
            // Selling is not done; opting out of it stops direct marketing for good.
            "sale:opt_out" => "objection",
            other => {
                return Ok(json!({
                    "request_id": Uuid::now_v7(), "status": "denied", "reason": "claim_not_covered",
                    "processing_details": format!("`{other}` is not a right custos acts on; use access, access:categories, access:specific, deletion or sale:opt_out"),
                }));
            }
        };
        let email = claims["email"]
            .as_str()
            .ok_or_else(|| DrpError::Invalid("the identity claims need `email`, where the person confirms".into()))?;
        let new = NewRightsRequest {
            kind: kind.into(),
            email: email.into(),
            purpose: None,
            corrections: Vec::new(),
            transmit_to: None,
            language: None,
            agent: Some(AgentLink {
                agent_id: agent.to_owned(),
                agent_request_id: claims["agent-request-id"].as_str().map(str::to_owned),
                status_callback: claims["status_callback"].as_str().map(str::to_owned),
            }),
        };
        let request = self.rights.submit(&new, "agent").await?;
        Ok(self.status_json(&request))
    }

    /// The status of one of `agent`'s requests.
    pub async fn status(&self, agent: &str, id: Uuid) -> Result<Value, DrpError> {
        let request = self.owned(agent, id).await?;
        Ok(self.status_json(&request))
    }

    /// Revokes one of `agent`'s requests that is not closed yet.
    pub async fn revoke(&self, agent: &str, id: Uuid, body: &[u8]) -> Result<Value, DrpError> {
        let request = self.owned(agent, id).await?;
        // The revoke body is signed too; its only field is the person's reason.
        self.verify(agent, body)?;
        let revoked = self.rights.revoke(&request).await?;
        Ok(self.status_json(&revoked))
    }

    async fn owned(&self, agent: &str, id: Uuid) -> Result<RightsRequest, DrpError> {
        match self.store.rights_request(id).await? {
            Some(r) if r.agent_id.as_deref() == Some(agent) => Ok(r),
            Some(_) => Err(DrpError::Forbidden),
            None => Err(DrpError::NotFound),
        }
    }

    /// The Exercise Status object of the protocol.
    fn status_json(&self, r: &RightsRequest) -> Value {
        let (status, reason) = match r.state.as_str() {
            "unverified" => ("in_progress", Some("need_user_verification")),
            "verified" | "in_progress" => ("in_progress", None),
            "fulfilled" => ("fulfilled", None),
            "expired" => ("denied", Some("insuf_verification")),
            "revoked" => ("revoked", None),
            _ => ("denied", Some("other")),
        };
        let mut status_json = json!({
            "request_id": r.id,
            "received_at": r.received_at,
            "expected_by": r.due_at,
            "status": status,
        });
        if let Some(reason) = reason {
            status_json["reason"] = json!(reason);
        }
        if let Some(agent_request_id) = &r.agent_request_id {
            status_json["agent_request_id"] = json!(agent_request_id);
        }
        if r.state == "unverified" {
            status_json["user_verification_url"] = json!(format!("{}/rights/{}", self.public_url, r.id));
            status_json["processing_details"] = json!("the person must confirm with the code mailed to them");
        }
        if let Some(reason) = &r.extension_reason {
            status_json["processing_details"] = json!(format!("extended: {reason}"));
        }
        status_json
    }
}

/// The job that tells an agent of its request's status at the callback address it gave.
pub struct DrpCallbacks {
    drp: Arc<Drp>,
    outbound: Outbound,
}

impl DrpCallbacks {
    /// Callbacks with `drp`'s status objects, sent through `outbound`.
    pub fn new(drp: Arc<Drp>, outbound: Outbound) -> Self {
        Self { drp, outbound }
    }
}

#[async_trait::async_trait]
impl JobHandler for DrpCallbacks {
    fn kind(&self) -> &'static str {
        CALLBACK_KIND
    }

    async fn run(&self, job: &custos_store::Job) -> Result<(), JobError> {
        let id = job.payload["request_id"]
            .as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| JobError::Permanent("malformed callback job".into()))?;
        let request = self
            .drp
            .store
            .rights_request(id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .ok_or_else(|| JobError::Permanent(format!("no rights request {id}")))?;
        let Some(callback) = &request.status_callback else { return Ok(()) };
        // A request closed since the change has its own callback queued: this one would
        // only repeat it.
        let then = job.payload["state"].as_str().unwrap_or_default();
        if then != request.state && matches!(request.state.as_str(), "fulfilled" | "expired" | "denied") {
            return Ok(());
        }
        // The status now, not at the change: a late callback never tells an older state.
        let body =
            serde_json::to_vec(&self.drp.status_json(&request)).map_err(|e| JobError::Permanent(e.to_string()))?;
        match self.outbound.post(callback, "application/json", &[], body).await {
            Ok(answer) if answer.accepted() => Ok(()),
            Ok(answer) if answer.transient() => Err(JobError::Retry(format!("the agent answered {}", answer.status))),
            Ok(answer) => Err(JobError::Permanent(format!("the agent refused the callback with {}", answer.status))),
            Err(crate::outbound::OutboundError::Transport(why)) => Err(JobError::Retry(why)),
            Err(other) => Err(JobError::Permanent(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};

    use super::*;

    #[test]
    fn a_signed_message_with_nul_in_a_claim_is_refused_by_name() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let claims = json!({"agent-id": "agent", "business-id": "shop", "drp.version": VERSION,
            "issued-at": "2026-01-01T00:00:00Z", "expires-at": "2026-01-02T00:00:00Z",
            "identity": {"email": "ada\u{0}@example.org"}});
        let message = serde_json::to_vec(&claims).expect("json");
        let mut signed = key.sign(&message).to_bytes().to_vec();
        signed.extend_from_slice(&message);
        let body = base64::engine::general_purpose::STANDARD.encode(signed);
        let now: Timestamp = "2026-01-01T12:00:00Z".parse().expect("time");
        match open_signed(&key.verifying_key(), "agent", "shop", body.as_bytes(), now) {
            Err(DrpError::Invalid(message)) => {
                assert!(message.starts_with("identity.email: ") && message.contains("U+0000"), "{message}");
                assert!(!message.contains("ada"), "the value is not repeated: {message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
