//! Legal holds (seed 7, 8.3; GDPR Art. 17(3)(b), (e)): data needed for a legal obligation
//! or a legal claim is kept while the hold lasts, even when its retention ends or the
//! person asks for erasure.
//!
//! A hold has a scope: one person (`subject`), a data category, a purpose, or everything
//! (`all`); a reason (the obligation or the claim, which a person whose erasure it stops is
//! told); who placed it; and optionally when it ends by itself. While it is in force:
//!
//! - the retention sweep keeps the records in its scope whose retention rule lets a hold
//!   keep data past its end (`legal_hold = true` in the policy);
//! - an erasure (a rights request, an account closing) erases everything the hold does not
//!   cover and restricts the rest, recording the hold ([`erase_respecting_holds`]);
//! - other modules ask [`Holds::held`] ("is this person / category / purpose held?"), as
//!   the deletion at the end of a partner's contract must.

use std::sync::Arc;

use custos_store::{LegalHold, Record, StoreError, SubjectId};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Context, GovernanceError, invalid, text};
use crate::gate::Actor;
use crate::records::Records;

/// The scopes a hold can have.
pub const SCOPES: &[&str] = &["subject", "category", "purpose", "all"];

/// A hold to place.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// One of [`SCOPES`].
    pub scope: String,
    /// The subject id, category key or purpose id; absent for `all`.
    #[serde(default)]
    pub target: Option<String>,
    /// The legal obligation or claim that requires keeping the data.
    pub reason: String,
    /// Who places it (a staff member's name or role).
    pub placed_by: String,
    /// When it ends by itself, if it does.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub until: Option<Timestamp>,
}

/// The holds in force at one moment, to ask many questions cheaply.
#[derive(Debug, Clone)]
pub struct HoldSet {
    holds: Vec<LegalHold>,
    policy: Arc<custos_policy::Policy>,
}

impl HoldSet {
    /// Whether no hold is in force.
    pub fn is_empty(&self) -> bool {
        self.holds.is_empty()
    }

    /// The holds in force.
    pub fn holds(&self) -> &[LegalHold] {
        &self.holds
    }

    /// The first hold whose scope covers `category` of `subject` used for `purpose`.
    pub fn covering(&self, subject: SubjectId, purpose: &str, category: &str) -> Option<&LegalHold> {
        self.holds.iter().find(|h| scope_covers(h, Some(subject), Some(purpose), Some(category)))
    }

    /// The hold that keeps such a record past the end of its retention: one whose scope
    /// covers it, where a retention rule for it lets a hold keep data (`legal_hold`).
    pub fn keeping_past_end(&self, subject: SubjectId, purpose: &str, category: &str) -> Option<&LegalHold> {
        let mut rules = self.policy.retention_for(purpose, category).peekable();
        let allowed = rules.peek().is_none() || self.policy.retention_for(purpose, category).any(|r| r.legal_hold);
        if !allowed {
            return None;
        }
        self.covering(subject, purpose, category)
    }
}

/// Whether `hold`'s scope reaches what is asked about; an unasked dimension (`None`) is
/// reached by any hold on that dimension ("is anything of this person held?").
fn scope_covers(hold: &LegalHold, subject: Option<SubjectId>, purpose: Option<&str>, category: Option<&str>) -> bool {
    let target = hold.target.as_deref();
    match hold.scope.as_str() {
        "all" => true,
        "subject" => subject.is_none_or(|s| target == Some(s.to_string().as_str())),
        "category" => category.is_none_or(|c| target == Some(c)),
        "purpose" => purpose.is_none_or(|p| target == Some(p)),
        _ => false,
    }
}

/// Legal holds: placing, releasing, listing and asking.
pub struct Holds {
    cx: Context,
}

impl std::fmt::Debug for Holds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Holds").finish_non_exhaustive()
    }
}

impl Holds {
    pub(crate) fn from_context(cx: Context) -> Self {
        Self { cx }
    }

    /// Holds on `store` under `policy`, audited through `auditor`, at `clock`'s time.
    pub fn new(
        store: Arc<dyn custos_store::Store>,
        policy: Arc<custos_policy::Policy>,
        auditor: crate::audit::Auditor,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Self {
        Self { cx: Context { store, policy, auditor, clock } }
    }

    /// Places a hold; every field is checked first, and nothing is stored if one is wrong.
    pub async fn place(&self, actor: &Actor, new: &NewHold) -> Result<LegalHold, GovernanceError> {
        if !SCOPES.contains(&new.scope.as_str()) {
            return Err(invalid("scope", format!("use one of: {}", SCOPES.join(", "))));
        }
        let target = match (new.scope.as_str(), new.target.as_deref().map(str::trim)) {
            ("all", None) => None,
            ("all", Some(_)) => return Err(invalid("target", "a hold on everything names no target")),
            (_, None | Some("")) => return Err(invalid("target", format!("name the {} the hold is on", new.scope))),
            ("subject", Some(t)) => {
                let id: Uuid = t.parse().map_err(|_| invalid("target", "give the person's subject id (a UUID)"))?;
                Some(id.to_string())
            }
            ("category", Some(t)) if self.cx.policy.category(t).is_none() => {
                return Err(invalid("target", format!("the policy has no category `{t}`")));
            }
            ("purpose", Some(t)) if self.cx.policy.purpose(t).is_none() => {
                return Err(invalid("target", format!("the policy has no purpose `{t}`")));
            }
            (_, Some(t)) => Some(t.to_owned()),
        };
        let reason = text("reason", &new.reason, 2000)?;
        let placed_by = text("placed_by", &new.placed_by, 200)?;
        let now = self.cx.clock.now();
        if new.until.is_some_and(|until| until <= now) {
            return Err(invalid("until", "a hold must end in the future"));
        }
        let hold = LegalHold {
            id: Uuid::now_v7(),
            scope: new.scope.clone(),
            target,
            reason,
            placed_by,
            placed_at: now,
            until: new.until,
            released_at: None,
            released_by: None,
            release_reason: None,
        };
        self.cx.store.put_hold(&hold).await?;
        let subject = hold.target.as_deref().filter(|_| hold.scope == "subject").and_then(|t| t.parse().ok());
        self.cx
            .audit(
                actor,
                "hold.place",
                subject.map(SubjectId),
                None,
                json!({"hold_id": hold.id, "scope": hold.scope, "target": if hold.scope == "subject" { None } else { hold.target.clone() },
                       "until": hold.until}),
            )
            .await?;
        Ok(hold)
    }

    /// Releases a hold in force, with who and why.
    pub async fn release(&self, actor: &Actor, id: Uuid, by: &str, reason: &str) -> Result<LegalHold, GovernanceError> {
        let by = text("released_by", by, 200)?;
        let reason = text("reason", reason, 2000)?;
        let now = self.cx.clock.now();
        if !self.cx.store.release_hold(id, &by, &reason, now).await? {
            let exists = self.cx.store.holds(true).await?.into_iter().any(|h| h.id == id);
            return Err(if exists {
                GovernanceError::WrongState(format!("legal hold {id} is already released"))
            } else {
                GovernanceError::NotFound(format!("legal hold {id}"))
            });
        }
        self.cx.audit(actor, "hold.release", None, None, json!({"hold_id": id})).await?;
        let hold = self.cx.store.holds(true).await?.into_iter().find(|h| h.id == id);
        hold.ok_or_else(|| GovernanceError::NotFound(format!("legal hold {id}")))
    }

    /// The holds, newest first: those not released, or every one with `all`.
    pub async fn list(&self, all: bool) -> Result<Vec<LegalHold>, StoreError> {
        self.cx.store.holds(all).await
    }

    /// The holds in force now.
    pub async fn in_force(&self) -> Result<HoldSet, StoreError> {
        let now = self.cx.clock.now();
        let holds = self.cx.store.holds(false).await?.into_iter().filter(|h| h.active(now)).collect();
        Ok(HoldSet { holds, policy: self.cx.policy.clone() })
    }

    /// The holds in force that reach what is asked: a person, a purpose, a category, or any
    /// combination (`None` asks about any). Empty means deletion may go ahead. This is what
    /// other modules call before deleting, such as at the end of a partner's contract.
    pub async fn held(
        &self,
        subject: Option<SubjectId>,
        purpose: Option<&str>,
        category: Option<&str>,
    ) -> Result<Vec<LegalHold>, StoreError> {
        let set = self.in_force().await?;
        Ok(set.holds.into_iter().filter(|h| scope_covers(h, subject, purpose, category)).collect())
    }

    pub(crate) fn context(&self) -> &Context {
        &self.cx
    }
}

/// What an erasure under the holds in force did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldErasure {
    /// Whether the person's key was destroyed (nothing was held).
    pub key_destroyed: bool,
    /// Whether the person's rows were deleted (nothing was held).
    pub rows_deleted: bool,
    /// Records deleted.
    pub records_deleted: usize,
    /// Records kept under a hold (and the person restricted).
    pub records_kept: usize,
    /// The holds that applied.
    pub holds: Vec<LegalHold>,
}

impl HeldErasure {
    /// The outcome as JSON without personal data; the hold reasons are the legal ground the
    /// person is told.
    pub fn to_json(&self) -> serde_json::Value {
        if self.holds.is_empty() {
            return json!({"key_destroyed": self.key_destroyed, "rows_deleted": self.rows_deleted});
        }
        json!({
            "key_destroyed": false,
            "records_deleted": self.records_deleted,
            "records_kept": self.records_kept,
            "restricted": true,
            "legal_hold": {
                "holds": self.holds.iter().map(|h| h.id).collect::<Vec<_>>(),
                "ground": self.holds.iter().map(|h| h.reason.clone()).collect::<Vec<_>>().join("; "),
            },
        })
    }
}

/// Erases `subject` except what a hold in force covers: with nothing held, the key is
/// destroyed and every row deleted ([`Records::erase`]); otherwise the records no hold
/// covers (and the website events, unless held) are deleted, the rest is kept restricted
/// (stored only) with the hold's reason as its ground, and the key stays so that it can
/// still be produced for the obligation or claim; the erasure is remembered, and the
/// retention sweep finishes it once no hold in force covers the person's data. Safe to
/// repeat.
pub async fn erase_respecting_holds(
    holds: &Holds,
    records: &Records,
    actor: &Actor,
    subject: SubjectId,
) -> Result<HeldErasure, GovernanceError> {
    let set = holds.in_force().await?;
    let store = records.store();
    let stored: Vec<Record> = if set.is_empty() { Vec::new() } else { store.records(subject).await? };
    let mut kept = Vec::new();
    let mut applied: Vec<LegalHold> = Vec::new();
    let mut gone = Vec::new();
    for r in &stored {
        match set.covering(subject, &r.purpose, &r.category) {
            Some(hold) => {
                kept.push(r);
                if !applied.iter().any(|h| h.id == hold.id) {
                    applied.push(hold.clone());
                }
            }
            None => gone.push(r),
        }
    }
    if kept.is_empty() {
        let erasure = records.erase(actor, subject).await?;
        store.delete_held_erasure(subject).await?;
        return Ok(HeldErasure {
            key_destroyed: erasure.key_destroyed,
            rows_deleted: erasure.rows_deleted,
            records_deleted: stored.len(),
            records_kept: 0,
            holds: Vec::new(),
        });
    }
    for r in &gone {
        store.delete_record(subject, r.record_id).await?;
    }
    if set.covering(subject, "analytics", "user.behavior.browsing_history").is_none() {
        store.delete_subject_events(subject).await?;
    }
    let ground: Vec<&str> = applied.iter().map(|h| h.reason.as_str()).collect();
    let now = holds.context().clock.now();
    // The retention sweep finishes the erasure once no hold covers what was kept.
    store.put_held_erasure(subject, now).await?;
    store.set_restriction(subject, Some(&format!("legal hold: {}", ground.join("; "))), now).await?;
    holds
        .context()
        .audit(
            actor,
            "subject.erase_held",
            Some(subject),
            None,
            json!({"outcome": "partial", "records_deleted": gone.len(), "records_kept": kept.len(),
                   "holds": applied.iter().map(|h| h.id).collect::<Vec<_>>()}),
        )
        .await?;
    Ok(HeldErasure {
        key_destroyed: false,
        rows_deleted: false,
        records_deleted: gone.len(),
        records_kept: kept.len(),
        holds: applied,
    })
}
