//! Processor duties towards each partner (seed 3.4 (g), (h)): a sub-processor is
//! registered only with the partner's written consent on record (a reference and a date),
//! and one that processes outside the EEA only when the partner consented in writing to
//! processing outside the EEA. The refusals name their rule:
//!
//! | rule | refuses |
//! |---|---|
//! | `subprocessor_without_consent` | a sub-processor without the partner's written consent |
//! | `transfer_outside_eea_without_consent` | a sub-processor outside the EEA for a partner that did not consent to it |
//! | `transfer_consent_in_use` | withdrawing that consent while such a sub-processor is registered |

use custos_policy::countries;
use custos_store::{Partner, SubProcessor};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{PartnerError, Partners, invalid};
use crate::gate::Actor;

/// A sub-processor to register.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubProcessor {
    /// Its name.
    pub name: String,
    /// Where it processes (ISO 3166-1 alpha-2).
    pub country: String,
    /// What it does with the partner's data.
    pub activity: String,
    /// The reference of the partner's written consent (a document, a signed letter…).
    #[serde(default)]
    pub consent_reference: Option<String>,
    /// The date of that consent, `YYYY-MM-DD`.
    #[serde(default)]
    pub consent_date: Option<String>,
}

/// A partner's answer on processing outside the EEA.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferConsent {
    /// Whether the partner consents in writing to processing outside the EEA.
    pub allow_transfers_outside_eea: bool,
    /// The reference of the written consent (needed to allow).
    #[serde(default)]
    pub consent_reference: Option<String>,
    /// Its date, `YYYY-MM-DD` (needed to allow).
    #[serde(default)]
    pub consent_date: Option<String>,
}

/// A written consent's reference and date, checked.
fn consent(reference: Option<&str>, date: Option<&str>, rule: &'static str) -> Result<(String, String), PartnerError> {
    let reference = reference.map(str::trim).filter(|r| !r.is_empty());
    let date = date.map(str::trim).filter(|d| !d.is_empty());
    let (Some(reference), Some(date)) = (reference, date) else {
        return Err(PartnerError::Refused {
            rule,
            message: "the partner's written consent must be on record: give consent_reference and consent_date".into(),
        });
    };
    if reference.len() > 500 {
        return Err(invalid("invalid_value", "consent_reference", "a reference is at most 500 characters"));
    }
    if date.parse::<jiff::civil::Date>().is_err() {
        return Err(invalid("invalid_value", "consent_date", "give the date as YYYY-MM-DD"));
    }
    Ok((reference.to_owned(), date.to_owned()))
}

impl Partners {
    /// Records the partner's answer on processing outside the EEA.
    pub async fn set_transfer_consent(
        &self,
        actor: &Actor,
        partner: Uuid,
        answer: &TransferConsent,
    ) -> Result<Partner, PartnerError> {
        self.check_staff(actor)?;
        let mut p = self.partner(partner).await?;
        if answer.allow_transfers_outside_eea {
            let (reference, date) = consent(
                answer.consent_reference.as_deref(),
                answer.consent_date.as_deref(),
                "transfer_outside_eea_without_consent",
            )?;
            p.transfers_outside_eea = true;
            p.transfer_consent_ref = Some(reference);
            p.transfer_consent_date = Some(date);
        } else {
            let outside: Vec<String> = self
                .records
                .store()
                .subprocessors(partner)
                .await?
                .into_iter()
                .filter(|s| !countries::in_eea(&s.country))
                .map(|s| s.name)
                .collect();
            if !outside.is_empty() {
                return Err(PartnerError::Refused {
                    rule: "transfer_consent_in_use",
                    message: format!("sub-processors outside the EEA are registered: {}", outside.join(", ")),
                });
            }
            p.transfers_outside_eea = false;
            p.transfer_consent_ref = None;
            p.transfer_consent_date = None;
        }
        self.records.store().update_partner(&p).await?;
        self.audit(
            &actor.audit_name(),
            "partner.transfers",
            None,
            json!({"partner_id": partner, "allow_outside_eea": p.transfers_outside_eea, "consent_reference": p.transfer_consent_ref}),
        )
        .await?;
        Ok(p)
    }

    /// Registers a sub-processor of the partner's data.
    pub async fn add_subprocessor(
        &self,
        actor: &Actor,
        partner: Uuid,
        new: &NewSubProcessor,
    ) -> Result<SubProcessor, PartnerError> {
        self.check_staff(actor)?;
        let p = self.partner(partner).await?;
        let name = new.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(invalid("invalid_value", "name", "give the sub-processor's name, 1 to 200 characters"));
        }
        let activity = new.activity.trim();
        if activity.is_empty() || activity.len() > 500 {
            return Err(invalid("invalid_value", "activity", "say what it does with the data, 1 to 500 characters"));
        }
        let country = new.country.trim().to_ascii_uppercase();
        if !countries::well_formed(&country) {
            return Err(invalid("invalid_value", "country", "give an ISO 3166-1 alpha-2 code such as DE"));
        }
        let (reference, date) =
            consent(new.consent_reference.as_deref(), new.consent_date.as_deref(), "subprocessor_without_consent")?;
        if !countries::in_eea(&country) && !p.transfers_outside_eea {
            return Err(PartnerError::Refused {
                rule: "transfer_outside_eea_without_consent",
                message: format!(
                    "{country} is outside the EEA and partner {partner} has not consented in writing to processing outside the EEA"
                ),
            });
        }
        let sub = SubProcessor {
            partner_id: partner,
            id: Uuid::now_v7(),
            name: name.to_owned(),
            country,
            activity: activity.to_owned(),
            consent_ref: reference,
            consent_date: date,
            created_at: self.clock.now(),
        };
        self.records.store().add_subprocessor(&sub).await?;
        self.audit(
            &actor.audit_name(),
            "partner.subprocessor.add",
            None,
            json!({"partner_id": partner, "subprocessor_id": sub.id, "country": sub.country}),
        )
        .await?;
        Ok(sub)
    }
}
