//! The answer to an access request (seed 8.1, GDPR Art. 15): a report of the nine facts,
//! built from the policy and from what custos actually holds about the person, and a copy
//! of their data, as JSON and as CSV, in one zip.
//!
//! The nine facts: (1) purposes, (2) categories, (3) recipients, (4) how long each is kept,
//! (5) the rights to rectify, erase, restrict and object, (6) the right to complain and to
//! which authority, (7) the source of data not collected from the person, (8) profiling and
//! automated decisions, (9) the safeguards of transfers outside the EEA. Each is limited to
//! the purposes and categories the person's data is actually held for.
//!
//! The data is read through the gate as the person's own access, so every read is audited.
//! Only the person's own records go in: custos keeps no record about one person under
//! another's id, so nothing in the copy belongs to someone else; free text the person
//! wrote (a contact message) is theirs and is given back as written.

use std::collections::BTreeSet;
use std::io::Write;

use base64::Engine as _;
use custos_policy::Policy;
use custos_policy::render::Notice;
use custos_store::{Store, StoreError, SubjectId};
use serde_json::{Value, json};

use crate::gate::Actor;
use crate::records::{AccessError, Records};
use crate::vault::Vault;

/// Events included in a copy at most (the newest are cut beyond this).
const MAX_EVENTS: u32 = 100_000;

/// What an access request produces.
#[derive(Debug)]
pub struct AccessPackage {
    /// The nine facts, as JSON.
    pub report: Value,
    /// The copy of the data, as JSON.
    pub data: Value,
    /// `report.json`, `data.json` and `data.csv` in one zip.
    pub zip: Vec<u8>,
}

/// Why a package could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AccessPackageError {
    /// Reading through the gate failed.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the zip failed.
    #[error("cannot write the package: {0}")]
    Zip(String),
}

/// A value as text when it is UTF-8, as base64 otherwise (attachments).
fn value_json(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!(text),
        Err(_) => json!({"base64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
    }
}

/// Builds the package for `subject`.
pub async fn package(
    records: &Records,
    store: &std::sync::Arc<dyn Store>,
    policy: &Policy,
    subject: SubjectId,
    request_id: uuid::Uuid,
) -> Result<AccessPackage, AccessPackageError> {
    let actor = Actor::Subject(subject);
    // The person's records, read purpose by purpose through the gate.
    let stored = store.records(subject).await?;
    let mut by_purpose: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for r in &stored {
        by_purpose.entry(r.purpose.clone()).or_default().insert(r.category.clone());
    }
    let mut values = Vec::new();
    for (purpose, categories) in &by_purpose {
        let categories: Vec<&str> = categories.iter().map(String::as_str).collect();
        values.extend(records.read(&actor, subject, purpose, &categories).await?);
    }
    values.sort_by_key(|v| (v.collected_at, v.record_id));
    let consents = store.consent_history(subject).await?;
    let events = store.subject_events(subject, MAX_EVENTS).await?;
    let key = records.vault().data_key(subject).await.ok();

    // Which purposes and categories the person's data is held for.
    let mut purposes: BTreeSet<String> = by_purpose.keys().cloned().collect();
    purposes.extend(consents.iter().filter(|c| c.entry.granted).map(|c| c.entry.purpose.clone()));
    let mut categories: BTreeSet<String> = values.iter().map(|v| v.category.clone()).collect();
    if !events.is_empty() {
        if let Some(analytics) = policy.purposes.iter().find(|p| p.id == "analytics") {
            purposes.insert(analytics.id.clone());
        }
        categories.insert("user.behavior.browsing_history".into());
        if events.iter().any(|e| e.sealed_ip.is_some()) {
            categories.insert("user.device.ip_address".into());
        }
    }
    if !consents.is_empty() {
        categories.insert("user.privacy_preferences".into());
    }

    let notice = Notice::build(policy, None, str::to_owned);
    let purpose_views: Vec<&custos_policy::render::PurposeView> =
        notice.purposes.iter().filter(|p| purposes.contains(&p.id)).collect();
    let category_views: Vec<&custos_policy::render::CategoryView> =
        notice.categories.iter().filter(|c| categories.contains(&c.key)).collect();
    let recipients: Vec<&custos_policy::Recipient> = policy
        .recipients
        .iter()
        .filter(|r| {
            r.purposes.iter().any(|p| purposes.contains(p)) && r.categories.iter().any(|c| categories.contains(c))
        })
        .collect();
    let recipient_views: Vec<&custos_policy::render::RecipientView> =
        notice.recipients.iter().filter(|v| recipients.iter().any(|r| r.id == v.id)).collect();
    let mut transfers: Vec<Value> = recipient_views
        .iter()
        .zip(recipients.iter())
        .filter(|(_, r)| !custos_policy::countries::in_eea(&r.country))
        .map(|(v, r)| json!({"recipient": v.name, "country": r.country, "safeguard": v.safeguard}))
        .collect();
    // Recipients actually disclosed to, from the disclosure log (Art. 15(1)(c), 15(2)).
    let disclosures = store.disclosures_of(subject).await?;
    let disclosed_to = crate::governance::disclose::disclosed_to(policy, &disclosures);
    let disclosed_note = if disclosed_to.is_empty() {
        "No disclosure of your data to a recipient is recorded."
    } else {
        "Each recipient your data was actually disclosed to, with its country and the safeguard of the transfer."
    };
    let interests = crate::governance::interests::assessments_for(policy, purposes.iter().map(String::as_str));
    // Transfers that actually happened count too, even to a recipient the purposes above
    // would not list.
    for d in &disclosed_to {
        let outside = d["country"].as_str().is_some_and(|c| !custos_policy::countries::in_eea(c));
        if outside && !transfers.iter().any(|t| t["recipient"] == d["name"]) {
            transfers.push(json!({"recipient": d["name"], "country": d["country"], "safeguard": d["safeguard"]}));
        }
    }
    let report = json!({
        "request_id": request_id,
        "generated_at": jiff::Timestamp::now(),
        "controller": {"name": notice.controller, "address": notice.address, "email": notice.email,
                       "dpo": {"name": notice.dpo.0, "email": notice.dpo.1}},
        "confirmation": format!("{} processes personal data about you, as listed here.", notice.controller),
        "1_purposes": purpose_views.iter().map(|p| json!({
            "id": p.id, "name": p.name, "description": p.description, "legal_basis": p.basis,
        })).collect::<Vec<_>>(),
        "2_categories": category_views.iter().map(|c| json!({"key": c.key, "description": c.description})).collect::<Vec<_>>(),
        "3_recipients": {
            "may_receive": recipient_views.iter().map(|r| json!({
                "name": r.name, "role": r.role, "country": r.country, "safeguard": r.safeguard,
            })).collect::<Vec<_>>(),
            "disclosed_to": disclosed_to,
            "note": disclosed_note,
        },
        "4_retention": purpose_views.iter().map(|p| json!({"purpose": p.name, "kept": p.retention})).collect::<Vec<_>>(),
        "5_rights": notice.rights.iter().map(|(right, what, how)| json!({"right": right, "what": what, "how": how})).collect::<Vec<_>>(),
        "6_complaint": {"authority": notice.authority.0, "country": notice.authority.1, "website": notice.authority.2},
        "7_sources": category_views.iter().map(|c| json!({"category": c.key, "source": c.source})).collect::<Vec<_>>(),
        "8_profiling": purpose_views.iter().filter_map(|p| p.profiling.as_ref().map(|text| json!({"purpose": p.name, "profiling": text}))).collect::<Vec<_>>(),
        "9_transfers": transfers,
        "legitimate_interests": interests,
        "policy_version": policy.version().hash,
    });

    let data = json!({
        "records": values.iter().map(|v| json!({
            "category": v.category, "purpose": v.purpose, "collected_at": v.collected_at,
            "policy_version": v.policy_version, "value": value_json(&v.value),
        })).collect::<Vec<_>>(),
        "consents": consents.iter().map(|c| json!({
            "purpose": c.entry.purpose, "granted": c.entry.granted, "method": c.entry.method, "at": c.entry.at,
            "policy_version": c.entry.policy_version, "text_version": c.entry.text_version, "from": c.entry.source_ip,
        })).collect::<Vec<_>>(),
        "events": events.iter().map(|e| {
            let ip = match (&key, &e.sealed_ip) {
                (Some(key), Some(sealed)) => Vault::open_value(key, "events", e.event_id, subject, sealed)
                    .ok()
                    .map(|ip| String::from_utf8_lossy(&ip).into_owned()),
                _ => None,
            };
            json!({"at": e.at, "kind": e.kind, "path": e.path, "referrer": e.referrer, "entry": e.entry,
                   "duration_ms": e.duration_ms, "ip_address": ip, "country": e.country,
                   "browser": e.browser, "os": e.os, "device": e.device})
        }).collect::<Vec<_>>(),
    });

    let mut csv = csv::Writer::from_writer(Vec::new());
    let row = |csv: &mut csv::Writer<Vec<u8>>, fields: [&str; 5]| {
        csv.write_record(fields).map_err(|e| AccessPackageError::Zip(e.to_string()))
    };
    row(&mut csv, ["kind", "category or purpose", "purpose or detail", "at", "value"])?;
    for v in &values {
        let text = match value_json(&v.value) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        row(&mut csv, ["record", &v.category, &v.purpose, &v.collected_at.to_string(), &text])?;
    }
    for c in &consents {
        let state = if c.entry.granted { "granted" } else { "withdrawn" };
        row(&mut csv, ["consent", &c.entry.purpose, &c.entry.method, &c.entry.at.to_string(), state])?;
    }
    for e in &events {
        row(&mut csv, ["event", &e.kind, e.referrer.as_deref().unwrap_or(""), &e.at.to_string(), &e.path])?;
    }
    let csv = csv.into_inner().map_err(|e| AccessPackageError::Zip(e.to_string()))?;

    let zip = zip_files(&[
        ("report.json", serde_json::to_vec_pretty(&report).unwrap_or_default()),
        ("data.json", serde_json::to_vec_pretty(&data).unwrap_or_default()),
        ("data.csv", csv),
    ])?;
    Ok(AccessPackage { report, data, zip })
}

/// `files` in one zip (stored: the package is small and sealed afterwards).
fn zip_files(files: &[(&str, Vec<u8>)]) -> Result<Vec<u8>, AccessPackageError> {
    let fail = |e: &dyn std::fmt::Display| AccessPackageError::Zip(e.to_string());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        zip.start_file(*name, options).map_err(|e| fail(&e))?;
        zip.write_all(bytes).map_err(|e| fail(&e))?;
    }
    Ok(zip.finish().map_err(|e| fail(&e))?.into_inner())
}

/// The schema of `portable.json`, shipped inside the zip.
const PORTABLE_SCHEMA: &str = r#"# portable.json

Your personal data that you gave us, where we process it on your consent or to perform
our contract with you (GDPR Art. 20), in a form another service can read.

    {
      "format": "custos-portable/1",
      "exported_at": "RFC 3339 time",
      "records": [
        {
          "category": "a fideslang data category, such as user.contact.email",
          "purpose": "the purpose it was given for",
          "legal_basis": "consent or contract",
          "collected_at": "RFC 3339 time",
          "value": "the value as text, or {\"base64\": \"...\"} for a file"
        }
      ]
    }

portable.csv holds the same records, one per line: category, purpose, legal_basis,
collected_at, value.
"#;

/// The data `subject` gave under consent or contract, as `portable.json`, `portable.csv`
/// and the schema, in one zip; and how many records it holds.
pub async fn portable(
    records: &Records,
    store: &std::sync::Arc<dyn Store>,
    policy: &Policy,
    subject: SubjectId,
) -> Result<(Vec<u8>, usize), AccessPackageError> {
    use custos_policy::LegalBasis;
    let actor = Actor::Subject(subject);
    let stored = store.records(subject).await?;
    let mut by_purpose: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for r in &stored {
        let basis = policy.purpose(&r.purpose).map(|p| p.legal_basis);
        if matches!(basis, Some(LegalBasis::Consent | LegalBasis::Contract)) {
            by_purpose.entry(r.purpose.clone()).or_default().insert(r.category.clone());
        }
    }
    let mut values = Vec::new();
    for (purpose, categories) in &by_purpose {
        let categories: Vec<&str> = categories.iter().map(String::as_str).collect();
        values.extend(records.read(&actor, subject, purpose, &categories).await?);
    }
    values.sort_by_key(|v| (v.collected_at, v.record_id));
    let basis = |purpose: &str| policy.purpose(purpose).map_or(String::new(), |p| p.legal_basis.to_string());
    let json = json!({
        "format": "custos-portable/1",
        "exported_at": jiff::Timestamp::now(),
        "records": values.iter().map(|v| json!({
            "category": v.category, "purpose": v.purpose, "legal_basis": basis(&v.purpose),
            "collected_at": v.collected_at, "value": value_json(&v.value),
        })).collect::<Vec<_>>(),
    });
    let mut csv = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AccessPackageError::Zip(e.to_string());
    csv.write_record(["category", "purpose", "legal_basis", "collected_at", "value"]).map_err(fail)?;
    for v in &values {
        let text = match value_json(&v.value) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        csv.write_record([&v.category, &v.purpose, &basis(&v.purpose), &v.collected_at.to_string(), &text])
            .map_err(fail)?;
    }
    let csv = csv.into_inner().map_err(|e| AccessPackageError::Zip(e.to_string()))?;
    let zip = zip_files(&[
        ("portable.json", serde_json::to_vec_pretty(&json).unwrap_or_default()),
        ("portable.csv", csv),
        ("SCHEMA.md", PORTABLE_SCHEMA.as_bytes().to_vec()),
    ])?;
    Ok((zip, values.len()))
}
