//! Requests from authorities to disclose personal data (seed 11).
//!
//! custos discloses personal data without the person's permission only where the law
//! requires it, or to identify, contact or take legal action against someone suspected of
//! harming rights. Each such request is registered: the authority, the legal basis it
//! relies on, what it asks for, when it came in; then the decision, who took it and why;
//! and what was disclosed, as disclosures in the log linked to the request (through the
//! same checks as every disclosure, see [`super::disclose`]). Every step is audited.

use std::sync::Arc;

use custos_store::{Disclosure, LegalRequest, StoreError};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::disclose::{Disclose, Disclosed, DisclosureRequest};
use super::{Context, GovernanceError, invalid, text};
use crate::gate::Actor;

/// The decisions a request can get.
pub const DECISIONS: &[&str] = &["granted", "partly_granted", "refused"];

/// A request as registered by staff.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLegalRequest {
    /// The authority that asks.
    pub authority: String,
    /// The law it relies on.
    pub legal_basis: String,
    /// What it asks for, without identifiers in clear (name people by subject id).
    pub scope: String,
    /// When it came in (now when absent).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub received_at: Option<Timestamp>,
    /// Who registers it.
    pub recorded_by: String,
}

/// A decision on a request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LegalDecision)]
pub struct Decision {
    /// One of [`DECISIONS`].
    pub decision: String,
    /// Who decided.
    pub decided_by: String,
    /// Why.
    pub reason: String,
}

/// The register of legal requests.
pub struct LegalRequests {
    cx: Context,
    disclose: Arc<Disclose>,
}

impl std::fmt::Debug for LegalRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegalRequests").finish_non_exhaustive()
    }
}

impl LegalRequests {
    pub(crate) fn from_context(cx: Context, disclose: Arc<Disclose>) -> Self {
        Self { cx, disclose }
    }

    /// Registers a request, pending a decision.
    pub async fn register(&self, actor: &Actor, new: &NewLegalRequest) -> Result<LegalRequest, GovernanceError> {
        let now = self.cx.clock.now();
        let request = LegalRequest {
            id: Uuid::now_v7(),
            authority: text("authority", &new.authority, 500)?,
            legal_basis: text("legal_basis", &new.legal_basis, 2000)?,
            scope: text("scope", &new.scope, 4000)?,
            received_at: new.received_at.unwrap_or(now),
            decision: "pending".into(),
            decided_by: None,
            decided_at: None,
            reason: None,
            recorded_by: text("recorded_by", &new.recorded_by, 200)?,
            created_at: now,
        };
        if request.received_at > now {
            return Err(invalid("received_at", "a request cannot be received in the future"));
        }
        self.cx.store.put_legal_request(&request).await?;
        self.cx
            .audit(
                actor,
                "legal_request.register",
                None,
                None,
                json!({"legal_request": request.id,
                   "authority": request.authority}),
            )
            .await?;
        Ok(request)
    }

    /// Records the decision on a pending request.
    pub async fn decide(&self, actor: &Actor, id: Uuid, decision: &Decision) -> Result<LegalRequest, GovernanceError> {
        if !DECISIONS.contains(&decision.decision.as_str()) {
            return Err(invalid("decision", format!("use one of: {}", DECISIONS.join(", "))));
        }
        let mut request = self.get(id).await?;
        if request.decision != "pending" {
            return Err(GovernanceError::WrongState(format!("legal request {id} is already {}", request.decision)));
        }
        request.decision = decision.decision.clone();
        request.decided_by = Some(text("decided_by", &decision.decided_by, 200)?);
        request.reason = Some(text("reason", &decision.reason, 4000)?);
        request.decided_at = Some(self.cx.clock.now());
        if !self.cx.store.decide_legal_request(&request).await? {
            return Err(GovernanceError::WrongState(format!("legal request {id} was decided meanwhile")));
        }
        self.cx
            .audit(
                actor,
                "legal_request.decide",
                None,
                None,
                json!({"legal_request": id, "decision": request.decision}),
            )
            .await?;
        Ok(request)
    }

    /// Discloses data in answer to a granted (or partly granted) request; the disclosure
    /// passes every check of [`Disclose::disclose`] and is logged linked to the request.
    pub async fn disclose(
        &self,
        actor: &Actor,
        id: Uuid,
        request: &DisclosureRequest,
    ) -> Result<Disclosed, GovernanceError> {
        let legal = self.get(id).await?;
        if !matches!(legal.decision.as_str(), "granted" | "partly_granted") {
            return Err(GovernanceError::WrongState(format!(
                "legal request {id} is {}: data is disclosed only for a granted request",
                legal.decision
            )));
        }
        self.disclose.disclose(actor, request, Some(id)).await
    }

    /// A request by id.
    pub async fn get(&self, id: Uuid) -> Result<LegalRequest, GovernanceError> {
        self.cx.store.legal_request(id).await?.ok_or_else(|| GovernanceError::NotFound(format!("legal request {id}")))
    }

    /// What was disclosed for a request.
    pub async fn disclosures(&self, id: Uuid) -> Result<Vec<Disclosure>, StoreError> {
        self.cx.store.disclosures(Some(id), 1000).await
    }

    /// The latest requests, newest first.
    pub async fn list(&self, limit: u32) -> Result<Vec<LegalRequest>, StoreError> {
        self.cx.store.legal_requests(limit).await
    }
}
