//! Disclosures and transfers (seed 2.4, 4, 6; GDPR Art. 28, 44-46): the operator's services
//! hand personal data to a recipient only through [`Disclose::disclose`], which checks
//!
//! 1. that the recipient is declared in the policy ([`DisclosureRule::UnknownRecipient`]),
//!    for that purpose ([`DisclosureRule::PurposeNotDeclared`]) and those categories
//!    ([`DisclosureRule::CategoryNotDeclared`]);
//! 2. that a transfer outside the EEA rests on an adequacy decision (Art. 45; for the
//!    United States only with Data Privacy Framework certification) or an Art. 46
//!    safeguard ([`check_transfer`]);
//! 3. that the gate allows each person's data for the purpose (consent, restriction,
//!    objection, erasure);
//!
//! and refuses with the rule's code otherwise, storing nothing. An allowed disclosure
//! returns the data, is logged (recipient, country, safeguard, purpose, categories, subject
//! ids, time) and audited for each person. The log feeds the access report's recipients
//! and the Art. 19 notices ([`super::notices`]).

use std::collections::HashSet;
use std::sync::Arc;

use custos_policy::{Policy, Recipient, TransferMechanism, countries};
use custos_store::{Disclosure, StoreError, SubjectId};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Context, GovernanceError, invalid};
use crate::gate::{Access, Actor, Decision, Request};
use crate::records::{AccessError, OpenedRecord, Records};

/// The most people one disclosure may name.
pub const MAX_SUBJECTS: usize = 1000;

/// The rules a disclosure must pass, each with a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisclosureRule {
    /// The recipient is not declared in the policy.
    UnknownRecipient,
    /// The recipient is not declared for the purpose.
    PurposeNotDeclared,
    /// The recipient is not declared for a category.
    CategoryNotDeclared,
    /// Outside the EEA with no safeguard at all.
    TransferWithoutSafeguard,
    /// Adequacy claimed for a country that has none (Art. 45).
    TransferNotAdequate,
    /// US adequacy without Data Privacy Framework certification.
    TransferNotCertified,
}

impl DisclosureRule {
    /// The stable code, used in API errors and the audit log.
    pub fn code(self) -> &'static str {
        match self {
            DisclosureRule::UnknownRecipient => "recipient_unknown",
            DisclosureRule::PurposeNotDeclared => "recipient_purpose_not_declared",
            DisclosureRule::CategoryNotDeclared => "recipient_category_not_declared",
            DisclosureRule::TransferWithoutSafeguard => "transfer_without_safeguard",
            DisclosureRule::TransferNotAdequate => "transfer_not_adequate",
            DisclosureRule::TransferNotCertified => "transfer_dpf_not_certified",
        }
    }
}

/// A disclosure asked for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    /// The recipient's id in the policy.
    pub recipient: String,
    /// The people whose data goes.
    #[schema(value_type = Vec<uuid::Uuid>)]
    pub subjects: Vec<SubjectId>,
    /// The purpose it goes for.
    pub purpose: String,
    /// The categories that go.
    pub categories: Vec<String>,
}

/// The data of one person, as disclosed.
#[derive(Debug)]
pub struct DisclosedSubject {
    /// The person.
    pub subject_id: SubjectId,
    /// Their values in the categories asked.
    pub records: Vec<OpenedRecord>,
}

/// An allowed disclosure: the log entry and the data.
#[derive(Debug)]
pub struct Disclosed {
    /// What was logged.
    pub disclosure: Disclosure,
    /// The data, person by person.
    pub data: Vec<DisclosedSubject>,
}

/// The transfer safeguard's name as logged.
pub fn safeguard_name(mechanism: TransferMechanism) -> &'static str {
    match mechanism {
        TransferMechanism::Eea => "eea",
        TransferMechanism::Adequacy => "adequacy",
        TransferMechanism::Scc => "scc",
        TransferMechanism::PublicAuthorityInstrument => "public_authority_instrument",
        TransferMechanism::Bcr => "bcr",
    }
}

/// Checks that data may go to `recipient`'s country under its declared safeguard
/// (Chapter V): inside the EEA nothing is needed; outside it, an adequacy decision for that
/// country (for the United States, only with Data Privacy Framework certification) or an
/// Art. 46 safeguard (an instrument between public authorities, standard contractual
/// clauses, binding corporate rules).
pub fn check_transfer(recipient: &Recipient) -> Result<(), (DisclosureRule, String)> {
    let country = recipient.country.as_str();
    if countries::in_eea(country) {
        return Ok(());
    }
    let who = format!("recipient `{}` is in {country}, outside the EEA", recipient.id);
    match recipient.transfer {
        TransferMechanism::Eea => Err((
            DisclosureRule::TransferWithoutSafeguard,
            format!(
                "{who}, with no adequacy decision or Art. 46 safeguard (GDPR Art. 44); declare one in the policy: \
                 adequacy, scc, public_authority_instrument or bcr"
            ),
        )),
        TransferMechanism::Adequacy if !countries::adequate(country) => Err((
            DisclosureRule::TransferNotAdequate,
            format!("{who}, and {country} has no adequacy decision (GDPR Art. 45); an Art. 46 safeguard is needed"),
        )),
        TransferMechanism::Adequacy if countries::needs_certification(country) && !recipient.dpf_certified => Err((
            DisclosureRule::TransferNotCertified,
            format!(
                "{who}: adequacy for {country} covers only organisations certified under the Data Privacy Framework"
            ),
        )),
        _ => Ok(()),
    }
}

/// Checks that `recipient_id` is declared for `purpose` and every category, and that the
/// transfer to it is safeguarded.
pub fn check_recipient<'p>(
    policy: &'p Policy,
    recipient_id: &str,
    purpose: &str,
    categories: &[String],
) -> Result<&'p Recipient, (DisclosureRule, String)> {
    let recipient = policy.recipient(recipient_id).ok_or_else(|| {
        (DisclosureRule::UnknownRecipient, format!("the policy declares no recipient `{recipient_id}`"))
    })?;
    if !recipient.purposes.iter().any(|p| p == purpose) {
        return Err((
            DisclosureRule::PurposeNotDeclared,
            format!("recipient `{recipient_id}` is not declared to receive data for purpose `{purpose}`"),
        ));
    }
    if let Some(category) = categories.iter().find(|c| !recipient.categories.contains(c)) {
        return Err((
            DisclosureRule::CategoryNotDeclared,
            format!("recipient `{recipient_id}` is not declared to receive category `{category}`"),
        ));
    }
    check_transfer(recipient)?;
    Ok(recipient)
}

/// Disclosures to recipients.
pub struct Disclose {
    cx: Context,
    records: Arc<Records>,
}

impl std::fmt::Debug for Disclose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disclose").finish_non_exhaustive()
    }
}

impl Disclose {
    pub(crate) fn from_context(cx: Context, records: Arc<Records>) -> Self {
        Self { cx, records }
    }

    /// Discloses the data `request` asks for, if every check passes; see the module docs.
    /// `legal_request` links it to the authority's request it answers.
    pub async fn disclose(
        &self,
        actor: &Actor,
        request: &DisclosureRequest,
        legal_request: Option<Uuid>,
    ) -> Result<Disclosed, GovernanceError> {
        if request.subjects.is_empty() || request.subjects.len() > MAX_SUBJECTS {
            return Err(invalid("subjects", format!("name 1 to {MAX_SUBJECTS} people")));
        }
        let mut seen = HashSet::new();
        if let Some(i) = request.subjects.iter().position(|s| !seen.insert(*s)) {
            return Err(invalid(format!("subjects[{i}]"), "this person is named twice"));
        }
        if request.categories.is_empty() {
            return Err(invalid("categories", "name at least one category"));
        }
        let mut seen = HashSet::new();
        if let Some(i) = request.categories.iter().position(|c| !seen.insert(c)) {
            return Err(invalid(format!("categories[{i}]"), "this category is named twice"));
        }
        let recipient =
            match check_recipient(&self.cx.policy, &request.recipient, &request.purpose, &request.categories) {
                Ok(recipient) => recipient,
                Err((rule, reason)) => {
                    self.cx
                        .audit(
                            actor,
                            "disclosure.refuse",
                            None,
                            Some(&request.purpose),
                            json!({"outcome": "denied", "rule": rule.code(), "recipient": request.recipient,
                               "categories": request.categories, "subjects": request.subjects.len()}),
                        )
                        .await?;
                    return Err(GovernanceError::Refused { rule, reason });
                }
            };
        let categories: Vec<&str> = request.categories.iter().map(String::as_str).collect();
        // Every person passes the gate before anyone's data is read.
        for (i, subject) in request.subjects.iter().enumerate() {
            let state = match self.records.state(*subject).await {
                Ok(state) => state,
                Err(AccessError::NoSubject(_)) => {
                    return Err(invalid(format!("subjects[{i}]"), "custos holds no such person"));
                }
                Err(e) => return Err(e.into()),
            };
            let ask = Request {
                actor,
                subject: *subject,
                purpose: &request.purpose,
                categories: &categories,
                access: Access::Read,
            };
            if let Decision::Deny { rule, reason } = self.records.gate().decide(&state, &ask) {
                self.cx
                    .audit(
                        actor,
                        "disclosure.refuse",
                        Some(*subject),
                        Some(&request.purpose),
                        json!({"outcome": "denied", "rule": rule.code(), "recipient": request.recipient,
                               "categories": request.categories}),
                    )
                    .await?;
                return Err(GovernanceError::Denied { rule, field: format!("subjects[{i}]"), reason });
            }
        }
        let mut data = Vec::with_capacity(request.subjects.len());
        for subject in &request.subjects {
            let records = self.records.read(actor, *subject, &request.purpose, &categories).await?;
            data.push(DisclosedSubject { subject_id: *subject, records });
        }
        let disclosure = Disclosure {
            id: Uuid::now_v7(),
            recipient: recipient.id.clone(),
            country: recipient.country.clone(),
            safeguard: safeguard_name(recipient.transfer).to_owned(),
            purpose: request.purpose.clone(),
            categories: request.categories.clone(),
            actor: actor.audit_name(),
            legal_request,
            at: self.cx.clock.now(),
            subjects: data.iter().map(|d| (d.subject_id, d.records.len() as i64)).collect(),
        };
        self.cx.store.put_disclosure(&disclosure).await?;
        for (subject, records) in &disclosure.subjects {
            self.cx
                .audit(
                    actor,
                    "disclosure.make",
                    Some(*subject),
                    Some(&disclosure.purpose),
                    json!({"outcome": "allowed", "disclosure_id": disclosure.id, "recipient": disclosure.recipient,
                           "country": disclosure.country, "safeguard": disclosure.safeguard,
                           "categories": disclosure.categories, "records": records,
                           "legal_request": disclosure.legal_request}),
                )
                .await?;
        }
        Ok(Disclosed { disclosure, data })
    }

    /// The disclosures of one person's data, oldest first.
    pub async fn of_subject(&self, subject: SubjectId) -> Result<Vec<Disclosure>, StoreError> {
        self.cx.store.disclosures_of(subject).await
    }

    /// The latest disclosures, newest first (those answering `legal_request` if given).
    pub async fn list(&self, legal_request: Option<Uuid>, limit: u32) -> Result<Vec<Disclosure>, StoreError> {
        self.cx.store.disclosures(legal_request, limit).await
    }
}

/// The recipients a person's data was actually disclosed to, from the log, for the access
/// report (Art. 15(1)(c), 15(2)): each with its country, safeguard, purposes, categories and
/// when.
pub fn disclosed_to(policy: &Policy, disclosures: &[Disclosure]) -> Vec<serde_json::Value> {
    let mut by_recipient: std::collections::BTreeMap<&str, Vec<&Disclosure>> = Default::default();
    for d in disclosures {
        by_recipient.entry(d.recipient.as_str()).or_default().push(d);
    }
    by_recipient
        .into_iter()
        .map(|(id, list)| {
            let recipient = policy.recipient(id);
            let mut purposes: Vec<&str> = list.iter().map(|d| d.purpose.as_str()).collect();
            purposes.sort_unstable();
            purposes.dedup();
            let mut categories: Vec<&str> = list.iter().flat_map(|d| d.categories.iter().map(String::as_str)).collect();
            categories.sort_unstable();
            categories.dedup();
            let last = list.last();
            json!({
                "recipient": id,
                "name": recipient.map_or(id, |r| r.name.as_str()),
                "country": last.map(|d| d.country.clone()),
                "safeguard": recipient.map_or_else(
                    || last.map(|d| d.safeguard.clone()).unwrap_or_default(),
                    |r| r.transfer.describe().to_owned(),
                ),
                "purposes": purposes,
                "categories": categories,
                "times": list.len(),
                "first": list.first().map(|d| d.at),
                "last": last.map(|d| d.at),
            })
        })
        .collect()
}
