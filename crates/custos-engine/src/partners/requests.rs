//! Rights requests a partner makes for one of its pseudonyms (seed 3.3): the partner is
//! the controller of the data it gave custos, so when its own user asks it for access or
//! erasure, it asks custos through the partner API. custos carries the request out at
//! once, records it (the pseudonym only as its MAC) and confirms it: the answer carries
//! the outcome, and the request can be read back by its id.
//!
//! Webhooks: a partner names where custos forwards requests people send custos about the
//! partner's data ([`crate::inbox::forward`]); without one they go to its contact by mail.

use custos_store::PartnerRequest;
use serde_json::{Value, json};
use uuid::Uuid;

use super::keys::{PartnerCaller, SCOPE_DELETE, SCOPE_READ};
use super::uploads::MAX_READ;
use super::{PartnerError, Partners, invalid};

/// What a partner may ask for its pseudonyms.
pub const PARTNER_KINDS: &[&str] = &["access", "erasure"];

impl Partners {
    /// Carries out `kind` (`access` or `erasure`) for the caller's `pseudonym`; returns
    /// the recorded request and, for access, the records.
    pub async fn rights_request(
        &self,
        caller: &PartnerCaller,
        kind: &str,
        pseudonym: &str,
    ) -> Result<(PartnerRequest, Option<Vec<Value>>), PartnerError> {
        if !PARTNER_KINDS.contains(&kind) {
            return Err(invalid("invalid_value", "kind", format!("use one of: {}", PARTNER_KINDS.join(", "))));
        }
        Self::require_scope(caller, if kind == "access" { SCOPE_READ } else { SCOPE_DELETE })?;
        let partner = self.partner(caller.partner_id).await?;
        let index = self.checked_index(partner.id, Some(pseudonym))?;
        let received_at = self.clock.now();
        let (outcome, records) = if kind == "access" {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let page = self.read(caller, Some(pseudonym), after, MAX_READ).await?;
                let full = page.len() as u32 >= MAX_READ;
                after = page.last().and_then(|r| r["id"].as_str()).and_then(|s| s.parse::<Uuid>().ok());
                all.extend(page);
                if !full || after.is_none() {
                    break;
                }
            }
            (json!({"records": all.len()}), Some(all))
        } else {
            let deleted = self.delete(caller, Some(pseudonym)).await?;
            (json!({"deleted": deleted}), None)
        };
        let request = PartnerRequest {
            id: Uuid::now_v7(),
            partner_id: partner.id,
            direction: "received".into(),
            kind: kind.into(),
            thread_id: None,
            pseudonym_index: index.map(|i| i.to_vec()),
            state: "done".into(),
            outcome: Some(outcome.clone()),
            received_at,
            done_at: Some(self.clock.now()),
        };
        self.store().put_partner_request(&request).await?;
        self.audit(
            &caller.audit_name(),
            "partner.rights_request",
            Some(&self.settings.purpose),
            json!({"partner_id": partner.id, "request_id": request.id, "kind": kind, "outcome": outcome}),
        )
        .await?;
        Ok((request, records))
    }

    /// One of the caller's requests (made by it, or forwarded to it).
    pub async fn rights_request_status(
        &self,
        caller: &PartnerCaller,
        id: Uuid,
    ) -> Result<PartnerRequest, PartnerError> {
        match self.store().partner_request(id).await? {
            Some(r) if r.partner_id == caller.partner_id => Ok(r),
            _ => Err(PartnerError::NotFound(format!("partner rights request {id}"))),
        }
    }

    /// Sets where the partner takes forwarded rights requests (https, checked like every
    /// outbound destination by `check`), or with `None` mail to its contact again.
    pub async fn set_rights_webhook(
        &self,
        actor: &crate::gate::Actor,
        partner: Uuid,
        url: Option<&str>,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Result<(), PartnerError> {
        self.check_staff(actor)?;
        self.partner(partner).await?;
        if let Some(url) = url {
            check(url).map_err(|e| invalid("invalid_value", "url", e))?;
        }
        self.store().set_partner_webhook(partner, url, self.clock.now()).await?;
        self.audit(
            &actor.audit_name(),
            "partner.rights_webhook",
            Some(&self.settings.contact_purpose),
            json!({"partner_id": partner, "set": url.is_some()}),
        )
        .await?;
        Ok(())
    }
}
