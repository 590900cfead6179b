//! Policy versions, identified by content.
//!
//! A version's id is the SHA-256 of the policy's canonical form: its model as JSON with
//! object keys sorted and no insignificant whitespace, leaving out the human label and the
//! effective date. Two files that say the same thing in a different order or layout are
//! the same version; any change to what the policy says is a new one.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Policy;

/// A version of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// Hex SHA-256 of the canonical form.
    pub hash: String,
    /// The human label.
    pub label: String,
    /// The effective date.
    pub effective: jiff::civil::Date,
}

impl PolicyVersion {
    /// The version of `policy`.
    pub fn of(policy: &Policy) -> Self {
        let digest = Sha256::digest(canonical_content(policy).as_bytes());
        let hash = digest.iter().map(|b| format!("{b:02x}")).collect();
        Self { hash, label: policy.meta.label.clone(), effective: policy.meta.effective }
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.hash[..12.min(self.hash.len())]
    }
}

/// The whole policy as canonical JSON, label and date included: what is stored for a
/// version, and what [`Policy`] reads back with `serde_json`.
pub fn canonical(policy: &Policy) -> String {
    let value = serde_json::to_value(policy).unwrap_or(serde_json::Value::Null);
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

/// The canonical form without label and effective date: what the version hash covers.
fn canonical_content(policy: &Policy) -> String {
    let mut value = serde_json::to_value(policy).unwrap_or(serde_json::Value::Null);
    if let Some(meta) = value.get_mut("meta").and_then(serde_json::Value::as_object_mut) {
        meta.remove("label");
        meta.remove("effective");
    }
    let mut out = String::new();
    write_canonical(&value, &mut out);
    out
}

/// JSON with object keys sorted, whatever map type serde_json was built with.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
