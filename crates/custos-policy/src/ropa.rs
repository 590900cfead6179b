//! The record of processing activities (GDPR Art. 30(1)), derived from the policy: one
//! activity per purpose, with the controller and DPO, the categories of people and data,
//! the recipients, the transfers and their safeguards, the erasure time limits and the
//! security measures.

use serde::Serialize;

use crate::{Policy, countries};

/// The whole record.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// Controller name and contact (30(1)(a)).
    pub controller: String,
    /// The DPO's contact (30(1)(a)).
    pub dpo: String,
    /// The policy version it was derived from.
    pub policy_version: String,
    /// One entry per purpose.
    pub activities: Vec<Activity>,
    /// Technical and organisational measures (30(1)(g)).
    pub security_measures: Vec<String>,
}

/// One processing activity.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    /// The purpose id.
    pub purpose: String,
    /// The purpose's name and description (30(1)(b)).
    pub description: String,
    /// The legal basis.
    pub legal_basis: String,
    /// Controller or processor.
    pub role: String,
    /// Categories of people (30(1)(c)).
    pub subjects: Vec<String>,
    /// Categories of personal data (30(1)(c)).
    pub categories: Vec<String>,
    /// Recipients with their country (30(1)(d)).
    pub recipients: Vec<String>,
    /// Transfers outside the EEA with their safeguard (30(1)(e)).
    pub transfers: Vec<String>,
    /// Time limits for erasure (30(1)(f)).
    pub retention: Vec<String>,
}

/// Builds the record from `policy`.
pub fn record(policy: &Policy) -> Record {
    let c = &policy.controller;
    let activities = policy
        .purposes
        .iter()
        .map(|p| {
            let recipients: Vec<&crate::Recipient> =
                policy.recipients.iter().filter(|r| r.purposes.contains(&p.id)).collect();
            let mut retention: Vec<String> = p
                .categories
                .iter()
                .flat_map(|cat| policy.retention_for(&p.id, cat))
                .map(|r| format!("{}: {}", r.id, r.describe()))
                .collect();
            retention.sort();
            retention.dedup();
            Activity {
                purpose: p.id.clone(),
                description: format!("{}: {}", p.name, p.description),
                legal_basis: p.legal_basis.as_str().to_owned(),
                role: format!("{:?}", p.role).to_lowercase(),
                subjects: p.subjects.iter().map(|s| s.to_string()).collect(),
                categories: p.categories.clone(),
                recipients: recipients.iter().map(|r| format!("{} ({})", r.name, r.country)).collect(),
                transfers: recipients
                    .iter()
                    .filter(|r| !countries::in_eea(&r.country))
                    .map(|r| format!("{} ({}): {}", r.name, r.country, r.transfer.describe()))
                    .collect(),
                retention,
            }
        })
        .collect();
    Record {
        controller: format!("{}, {}, {}", c.name, c.address, c.email),
        dpo: format!("{} <{}>", c.dpo.name, c.dpo.email),
        policy_version: policy.version().hash,
        activities,
        security_measures: policy.security.clone(),
    }
}

/// The record as pretty JSON.
pub fn to_json(policy: &Policy) -> String {
    serde_json::to_string_pretty(&record(policy)).unwrap_or_default()
}

/// The record as CSV: a header, then one row per activity; lists are joined with "; ".
pub fn to_csv(policy: &Policy) -> String {
    let record = record(policy);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "controller",
        "dpo",
        "purpose",
        "description",
        "legal_basis",
        "role",
        "subjects",
        "categories",
        "recipients",
        "transfers",
        "retention",
        "security_measures",
        "policy_version",
    ];
    let security = record.security_measures.join("; ");
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for a in &record.activities {
        rows.push(vec![
            record.controller.clone(),
            record.dpo.clone(),
            a.purpose.clone(),
            a.description.clone(),
            a.legal_basis.clone(),
            a.role.clone(),
            a.subjects.join("; "),
            a.categories.join("; "),
            a.recipients.join("; "),
            a.transfers.join("; "),
            a.retention.join("; "),
            security.clone(),
            record.policy_version.clone(),
        ]);
    }
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&row);
    }
    writer.into_inner().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}
