//! Partners (seed 3): custos as the processor of pseudonymised data partners hand in.
//!
//! - Registry (this file): staff register a [`Partner`] (name, contact, country, contract
//!   status, role); the contact person is a `partner_contact` subject whose address is
//!   sealed like anyone's. Staff issue, revoke and rotate API keys ([`keys`]).
//! - Uploads ([`uploads`]): a batch in JSON, NDJSON or CSV ([`batch`]) passes the PII gate
//!   ([`screen`]) record by record before anything is stored; by default one record with
//!   PII rejects the batch, in quarantine mode the clean records are stored and the others
//!   reported. Records are sealed under the partner's own data key and found by a MAC of
//!   the partner's pseudonym; only that partner reads or deletes them.
//! - Processor duties ([`processors`]): sub-processors need the partner's written consent
//!   on record, and processing outside the EEA the partner's written consent to transfers.
//! - Contract end ([`termination`]): a job deletes every record, destroys the partner's
//!   key (so backups can no longer be read), and reports to the partner.
//! - Aggregation ([`aggregate`]): counts and sums across partners, over declared
//!   dimensions only, with small and single-partner groups suppressed and optional
//!   Laplace noise under a per-dataset privacy budget.
//! - Rights ([`requests`]): a partner asks for access to or erasure of the data under one
//!   of its pseudonyms, carried out at once and confirmed; requests people send custos
//!   about a partner's data are forwarded to it ([`crate::inbox::forward`]).
//! - Breaches: [`Partners::partners_holding_data`] lists the partners whose data custos
//!   holds, for the breach register to notify (seed 3.3).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use custos_pii::Detector;
use custos_policy::{Policy, Role};
use custos_store::{IdentifierKind, NewAuditEntry, Partner, PartnerKey, Store, StoreError, SubjectId, SubjectKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Clock;
use crate::gate::{Actor, StaffRole};
use crate::records::{AccessError, NewValue, Records};

pub mod aggregate;
pub mod batch;
pub mod charset;
pub mod csv_input;
pub mod keys;
pub mod processors;
pub mod requests;
pub mod screen;
pub mod termination;
pub mod uploads;

pub use aggregate::{AggregateQuery, laplace};
pub use keys::PartnerCaller;
pub use processors::{NewSubProcessor, TransferConsent};
pub use termination::{PartnerTermination, TERMINATE_KIND};
pub use uploads::{UploadAnswer, UploadRequest};

/// What partners may be to us.
pub const ROLES: &[&str] = &["advertiser", "publisher", "agency", "platform", "affiliate"];

/// How partner uploads and aggregates are limited (`[partners]` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartnerSettings {
    /// The most bytes of one upload's body.
    pub max_body_bytes: usize,
    /// The most records of one upload.
    pub max_records: usize,
    /// The field every record carries the partner's pseudonym of the person in.
    pub pseudonym_field: String,
    /// The policy's purpose partner data is processed for; custos must be its processor.
    pub purpose: String,
    /// The policy's purpose under which partner contacts are kept and mailed.
    pub contact_purpose: String,
    /// Aggregates across partners.
    pub aggregation: AggregationSettings,
}

impl Default for PartnerSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            max_records: 10_000,
            pseudonym_field: "pseudonym".into(),
            purpose: "partner-services".into(),
            contact_purpose: "partner-relationship".into(),
            aggregation: AggregationSettings::default(),
        }
    }
}

/// What aggregates may group by and add up, and how they are protected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AggregationSettings {
    /// The policy's purpose aggregates serve; a service token needs it.
    pub purpose: String,
    /// Groups of fewer distinct pseudonyms are suppressed.
    pub k: u64,
    /// Groups where one partner contributes this share or more (of people, or of the
    /// sum) are suppressed, so that no partner's figures can be isolated.
    pub dominance: f64,
    /// The fields aggregates may group by.
    pub dimensions: Vec<String>,
    /// The fields aggregates may add up, each with the most one person may contribute
    /// (larger contributions are clamped; it is also the sensitivity of the noisy sum).
    pub measures: BTreeMap<String, f64>,
    /// The name of the dataset whose privacy budget noisy queries spend.
    pub dataset: String,
    /// The total epsilon noisy queries may spend on the dataset.
    pub epsilon_budget: f64,
}

impl Default for AggregationSettings {
    fn default() -> Self {
        Self {
            purpose: "aggregation".into(),
            k: 10,
            dominance: 0.9,
            dimensions: vec!["country".into(), "channel".into(), "product_category".into(), "lead_type".into()],
            measures: BTreeMap::from([("amount".to_owned(), 10_000.0), ("quantity".to_owned(), 100.0)]),
            dataset: "partner-records".into(),
            epsilon_budget: 10.0,
        }
    }
}

/// A partner as staff register it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartner {
    /// The partner's business name.
    pub name: String,
    /// Where it is established (ISO 3166-1 alpha-2).
    pub country: String,
    /// One of [`ROLES`].
    pub role: String,
    /// The contact person's address.
    pub contact_email: String,
    /// The contact person's name.
    #[serde(default)]
    pub contact_name: Option<String>,
}

/// A partner that custos holds data for, for breach notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartnerHolding {
    /// The partner.
    pub partner_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its contract status.
    pub contract_status: String,
    /// How many of its records custos holds.
    pub records: u64,
    /// Its contact person (a `partner_contact` subject), to notify.
    pub contact_subject: Option<SubjectId>,
}

/// Why a partner operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    /// An input is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// The input at fault.
        field: String,
        /// What is wrong (never a personal value).
        message: String,
    },
    /// The batch cannot be read.
    #[error(transparent)]
    Batch(#[from] batch::BatchError),
    /// Records hold PII: nothing was stored.
    #[error("{} of the batch's records hold personal data; nothing was stored", .rejected)]
    PiiDetected {
        /// How many records hold PII.
        rejected: usize,
        /// Each finding, masked.
        findings: Vec<screen::PiiFinding>,
    },
    /// The idempotency key was used for a different request.
    #[error("idempotency key {0:?} was used for a different request; use a new key for a new batch")]
    IdempotencyKeyReused(String),
    /// The key is missing, unknown, wrong or revoked (one answer for all).
    #[error("send a valid partner key as `Authorization: Bearer cpk_…`")]
    Unauthenticated,
    /// The caller may not do this.
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// A rule of the processor duties refuses it (seed 3.4).
    #[error("refused by rule {rule}: {message}")]
    Refused {
        /// The rule, a stable code.
        rule: &'static str,
        /// Why.
        message: String,
    },
    /// No such partner or key.
    #[error("{0} does not exist")]
    NotFound(String),
    /// The privacy budget cannot pay for the query.
    #[error(
        "the privacy budget of dataset `{dataset}` is spent ({spent:.3} of {total:.3}); no more noisy queries can be answered"
    )]
    BudgetSpent {
        /// The dataset.
        dataset: String,
        /// Epsilon spent.
        spent: f64,
        /// Epsilon in all.
        total: f64,
    },
    /// Writing the contact through the gate failed.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// Keys or sealed values failed.
    #[error(transparent)]
    Vault(#[from] crate::vault::VaultAccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn invalid(code: &'static str, field: &str, message: impl Into<String>) -> PartnerError {
    PartnerError::Invalid { code, field: field.to_owned(), message: message.into() }
}

/// Partners, their keys, data, processor duties and aggregates.
pub struct Partners {
    records: Arc<Records>,
    policy: Arc<Policy>,
    settings: PartnerSettings,
    detector: Arc<OnceLock<Detector>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Partners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Partners").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Partners {
    /// Partners on `records`' store and vault under `policy`.
    pub fn new(records: Arc<Records>, policy: Arc<Policy>, settings: PartnerSettings, clock: Arc<dyn Clock>) -> Self {
        Self { records, policy, settings, detector: Arc::new(OnceLock::new()), clock }
    }

    /// The settings in force.
    pub fn settings(&self) -> &PartnerSettings {
        &self.settings
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.records.store()
    }

    /// The policy's processor purpose for partner data, checked: it must exist and make
    /// custos the processor (seed 3.3).
    pub(crate) fn processor_purpose(&self) -> Result<&custos_policy::Purpose, PartnerError> {
        match self.policy.purpose(&self.settings.purpose) {
            Some(p) if p.role == Role::Processor => Ok(p),
            Some(_) => Err(PartnerError::Forbidden {
                code: "partner_purpose_not_processor",
                message: format!("the policy's purpose `{}` does not make custos a processor", self.settings.purpose),
            }),
            None => Err(PartnerError::Forbidden {
                code: "partner_purpose_missing",
                message: format!("the policy declares no purpose `{}` for partner data", self.settings.purpose),
            }),
        }
    }

    /// Whether `actor` may manage partners: staff (not auditors), custos itself, or a
    /// service whose token holds the contact purpose.
    fn check_staff(&self, actor: &Actor) -> Result<(), PartnerError> {
        let allowed = match actor {
            Actor::Staff { role, .. } => *role != StaffRole::Auditor,
            Actor::Service { purposes, .. } => purposes.contains(&self.settings.contact_purpose),
            Actor::System => true,
            Actor::Subject(_) | Actor::Visitor => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(PartnerError::Forbidden {
                code: "forbidden",
                message: format!(
                    "managing partners needs staff, or a token for purpose `{}`",
                    self.settings.contact_purpose
                ),
            })
        }
    }

    pub(crate) async fn audit(
        &self,
        actor: &str,
        action: &str,
        purpose: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = NewAuditEntry {
            at: self.clock.now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject_id: None,
            purpose: purpose.map(str::to_owned),
            detail,
        };
        self.records.auditor().append(entry).await.map(|_| ())
    }

    /// Registers a partner; its contact is kept sealed as a `partner_contact` subject.
    pub async fn register(&self, actor: &Actor, new: &NewPartner) -> Result<Partner, PartnerError> {
        self.check_staff(actor)?;
        let name = new.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(invalid("invalid_value", "name", "give the partner's name, 1 to 200 characters"));
        }
        let country = new.country.trim().to_ascii_uppercase();
        if !custos_policy::countries::well_formed(&country) {
            return Err(invalid("invalid_value", "country", "give an ISO 3166-1 alpha-2 code such as DE"));
        }
        if !ROLES.contains(&new.role.as_str()) {
            return Err(invalid("invalid_value", "role", format!("use one of: {}", ROLES.join(", "))));
        }
        let email = new.contact_email.trim();
        if !(3..=254).contains(&email.len()) || !email.contains('@') || email.contains(char::is_whitespace) {
            return Err(invalid("invalid_value", "contact_email", "give the contact person's email address"));
        }
        let contact_name = new.contact_name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if contact_name.is_some_and(|n| n.len() > 200) {
            return Err(invalid("invalid_value", "contact_name", "a name is at most 200 characters"));
        }
        let purpose = self.settings.contact_purpose.as_str();
        let mut values = vec![NewValue { purpose, category: "user.contact.email", value: email.as_bytes() }];
        if let Some(n) = contact_name {
            values.push(NewValue { purpose, category: "user.name", value: n.as_bytes() });
        }
        let (contact, _) = self
            .records
            .create_subject(actor, SubjectKind::PartnerContact, &[] as &[(IdentifierKind, &str)], &values)
            .await?;
        let partner = Partner {
            id: Uuid::now_v7(),
            name: name.to_owned(),
            country,
            role: new.role.clone(),
            contract_status: "active".into(),
            contact_subject: Some(contact),
            data_key_id: Uuid::now_v7(),
            transfers_outside_eea: false,
            transfer_consent_ref: None,
            transfer_consent_date: None,
            created_at: self.clock.now(),
            terminated_at: None,
            records_at_termination: None,
            termination_report: None,
        };
        self.store().create_partner(&partner).await?;
        self.audit(
            &actor.audit_name(),
            "partner.register",
            Some(purpose),
            serde_json::json!({"partner_id": partner.id, "contact_subject": contact}),
        )
        .await?;
        Ok(partner)
    }

    /// Every partner.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Partner>, PartnerError> {
        self.check_staff(actor)?;
        Ok(self.store().partners().await?)
    }

    /// One partner, with its keys (never their secrets) and sub-processors.
    pub async fn get(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<(Partner, Vec<PartnerKey>, Vec<custos_store::SubProcessor>), PartnerError> {
        self.check_staff(actor)?;
        let partner = self.partner(id).await?;
        let keys = self.store().partner_keys(id).await?;
        let subs = self.store().subprocessors(id).await?;
        Ok((partner, keys, subs))
    }

    pub(crate) async fn partner(&self, id: Uuid) -> Result<Partner, PartnerError> {
        self.store().partner(id).await?.ok_or_else(|| PartnerError::NotFound(format!("partner {id}")))
    }

    /// Issues a key for `partner` with `scopes` (every scope when empty); returns it and its
    /// text, which is shown once and never stored.
    pub async fn create_key(
        &self,
        actor: &Actor,
        partner: Uuid,
        scopes: &[String],
    ) -> Result<(PartnerKey, String), PartnerError> {
        self.check_staff(actor)?;
        let p = self.partner(partner).await?;
        if p.contract_status != "active" {
            return Err(PartnerError::Forbidden {
                code: "contract_not_active",
                message: format!("partner {partner} is {}: no keys are issued", p.contract_status),
            });
        }
        let scopes: Vec<String> =
            if scopes.is_empty() { keys::SCOPES.iter().map(|s| (*s).to_owned()).collect() } else { scopes.to_vec() };
        if let Some(unknown) = scopes.iter().find(|s| !keys::SCOPES.contains(&s.as_str())) {
            return Err(invalid(
                "invalid_value",
                "scopes",
                format!("`{unknown}` is not a scope; use any of: {}", keys::SCOPES.join(", ")),
            ));
        }
        let (key, text) = keys::issue(partner, &scopes, self.clock.now());
        self.store().create_partner_key(&key).await?;
        self.audit(
            &actor.audit_name(),
            "partner.key.create",
            None,
            serde_json::json!({"partner_id": partner, "key_id": key.id, "scopes": scopes}),
        )
        .await?;
        Ok((key, text))
    }

    /// Revokes a key of `partner`.
    pub async fn revoke_key(&self, actor: &Actor, partner: Uuid, key_id: &str) -> Result<(), PartnerError> {
        self.check_staff(actor)?;
        if !self.store().revoke_partner_key(partner, key_id, self.clock.now()).await? {
            return Err(PartnerError::NotFound(format!("live key {key_id} of partner {partner}")));
        }
        self.audit(
            &actor.audit_name(),
            "partner.key.revoke",
            None,
            serde_json::json!({"partner_id": partner, "key_id": key_id}),
        )
        .await?;
        Ok(())
    }

    /// Replaces a live key by a new one with the same scopes, then revokes the old one.
    pub async fn rotate_key(
        &self,
        actor: &Actor,
        partner: Uuid,
        key_id: &str,
    ) -> Result<(PartnerKey, String), PartnerError> {
        self.check_staff(actor)?;
        let old = self
            .store()
            .partner_key(key_id)
            .await?
            .filter(|k| k.partner_id == partner && k.revoked_at.is_none())
            .ok_or_else(|| PartnerError::NotFound(format!("live key {key_id} of partner {partner}")))?;
        let (key, text) = self.create_key(actor, partner, &old.scopes).await?;
        self.revoke_key(actor, partner, key_id).await?;
        Ok((key, text))
    }

    /// The partner a presented key belongs to, if the key is live.
    pub async fn authenticate(&self, presented: &str) -> Result<PartnerCaller, PartnerError> {
        let (id, secret) = keys::parse(presented).ok_or(PartnerError::Unauthenticated)?;
        let key = self.store().partner_key(id).await?.ok_or(PartnerError::Unauthenticated)?;
        if !keys::matches(&key, secret) {
            return Err(PartnerError::Unauthenticated);
        }
        Ok(PartnerCaller { partner_id: key.partner_id, key_id: key.id, scopes: key.scopes })
    }

    pub(crate) fn require_scope(caller: &PartnerCaller, scope: &str) -> Result<(), PartnerError> {
        if caller.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(PartnerError::Forbidden {
                code: "scope_missing",
                message: format!("this key does not hold the scope `{scope}`"),
            })
        }
    }

    /// The partners whose data custos holds or may hold (every partner whose contract has
    /// not ended, and any with records left), for the breach register to notify.
    pub async fn partners_holding_data(&self) -> Result<Vec<PartnerHolding>, PartnerError> {
        let mut out = Vec::new();
        for p in self.store().partners().await? {
            let records = self.store().count_partner_records(p.id).await?;
            if records > 0 || p.contract_status != "terminated" {
                out.push(PartnerHolding {
                    partner_id: p.id,
                    name: p.name,
                    contract_status: p.contract_status,
                    records,
                    contact_subject: p.contact_subject,
                });
            }
        }
        Ok(out)
    }
}
