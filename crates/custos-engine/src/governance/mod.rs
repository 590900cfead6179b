//! Governance (seed 2.4, 4, 6, 7, 11): what custos does so that data leaves only where the
//! policy lets it, is deleted when its time is up, and incidents and authorities' requests
//! are handled by the book.
//!
//! - [`holds`]: legal holds, which stop deletion in their scope (the sweep, erasure
//!   requests, account closing), and the question other modules ask: "is this held?".
//! - [`retention`]: the expiry of each record under the policy's retention rules and the
//!   incremental, resumable sweep that deletes what has expired.
//! - [`disclose`]: disclosures to recipients, checked against the policy and the Chapter V
//!   transfer rules, logged, and fed to the access report.
//! - [`notices`]: notices to organisations: Art. 19 notices to recipients after a
//!   rectification, erasure or restriction; breach notices to partners.
//! - [`breach`]: the breach register, the people and partners a breach affects, the
//!   Art. 33(3) draft, the 72-hour clock and the Art. 34 notices.
//! - [`legal`]: requests from authorities to disclose data (seed 11).
//! - [`interests`]: the legitimate-interest assessments a person may obtain.
//!
//! [`Governance`] holds one of each, built on the same store, policy, audit log and clock.

use std::sync::Arc;

use custos_policy::Policy;
use custos_store::{NewAuditEntry, Store, StoreError, SubjectId};

use crate::audit::Auditor;
use crate::clock::Clock;
use crate::gate::{Actor, Rule};
use crate::records::{AccessError, Records};

pub mod breach;
pub mod disclose;
pub mod holds;
pub mod interests;
pub mod legal;
pub mod notices;
pub mod retention;

/// Why a governance operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// An input is wrong; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The input at fault, as a path such as `subjects[2]`.
        field: String,
        /// What is wrong (never a personal value).
        message: String,
    },
    /// A disclosure the policy does not allow; `rule` names the rule broken.
    #[error("refused by rule {}: {reason}", rule.code())]
    Refused {
        /// The rule.
        rule: disclose::DisclosureRule,
        /// Why.
        reason: String,
    },
    /// The gate refused the data of one of the people named.
    #[error("refused by rule {rule} for {field}: {reason}")]
    Denied {
        /// The gate's rule.
        rule: Rule,
        /// Which person, as `subjects[i]`.
        field: String,
        /// Why.
        reason: String,
    },
    /// No such hold, breach or request.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The thing is past the step asked for.
    #[error("{0}")]
    WrongState(String),
    /// Reading personal data failed.
    #[error(transparent)]
    Access(AccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AccessError> for GovernanceError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Store(e) => GovernanceError::Store(e),
            other => GovernanceError::Access(other),
        }
    }
}

pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> GovernanceError {
    GovernanceError::Invalid { field: field.into(), message: message.into() }
}

/// Checks staff register text: present, one to `max` characters.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, GovernanceError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(invalid(field, format!("give 1 to {max} characters")));
    }
    Ok(value.to_owned())
}

/// What the governance modules share.
#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) auditor: Auditor,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Context {
    pub(crate) async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        subject: Option<SubjectId>,
        purpose: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.auditor
            .append(NewAuditEntry {
                at: self.clock.now(),
                actor: actor.audit_name(),
                action: action.to_owned(),
                subject_id: subject,
                purpose: purpose.map(str::to_owned),
                detail,
            })
            .await
            .map(|_| ())
    }
}

/// Every governance service, on one store, policy, audit log and clock.
pub struct Governance {
    /// Legal holds.
    pub holds: Arc<holds::Holds>,
    /// Retention and its sweep.
    pub retention: Arc<retention::Retention>,
    /// Disclosures to recipients.
    pub disclose: Arc<disclose::Disclose>,
    /// The breach register.
    pub breaches: Arc<breach::Breaches>,
    /// Legal disclosure requests.
    pub legal: Arc<legal::LegalRequests>,
}

impl std::fmt::Debug for Governance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governance").finish_non_exhaustive()
    }
}

impl Governance {
    /// The services on `records`' store and audit log, under `policy`, at `clock`'s time.
    /// Breaches find no affected partners until a partners module provides them (see
    /// [`breach::AffectedPartners`] and [`Governance::with_partners`]).
    pub fn new(records: Arc<Records>, policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        Self::with_partners(records, policy, clock, Arc::new(breach::NoPartners))
    }

    /// As [`Governance::new`], with the partners a breach affects found by `partners`.
    pub fn with_partners(
        records: Arc<Records>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
        partners: Arc<dyn breach::AffectedPartners>,
    ) -> Self {
        let cx = Context { store: records.store().clone(), policy, auditor: records.auditor().clone(), clock };
        let holds = Arc::new(holds::Holds::from_context(cx.clone()));
        let disclose = Arc::new(disclose::Disclose::from_context(cx.clone(), records.clone()));
        Self {
            retention: Arc::new(retention::Retention::from_context(cx.clone(), holds.clone(), records)),
            breaches: Arc::new(breach::Breaches::from_context(cx.clone(), partners)),
            legal: Arc::new(legal::LegalRequests::from_context(cx, disclose.clone())),
            holds,
            disclose,
        }
    }
}
