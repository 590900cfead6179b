//! The PII gate of partner uploads (seed 3.1): every record is scanned by the `custos-pii`
//! detector before anything is stored, and each finding is reported by record, field and
//! type with its matched span masked (`j***@e***.com`, `****1234`), never in clear.

use custos_pii::{Detector, mask};
use serde::Serialize;
use serde_json::Value;

use super::batch::BatchRecord;

/// One piece of PII found in a record, as reported to the partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiiFinding {
    /// The record, from 0.
    pub record: usize,
    /// The line the record starts on (NDJSON and CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The field.
    pub field: String,
    /// What was found: `email`, `phone`, `payment_card`, `iban`, `ip_address`,
    /// `national_id`, `postal_address`, `person_name` or `secret`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The matched span, masked.
    pub masked: String,
}

/// The findings in `record`; empty when it holds no PII.
pub fn screen(detector: &Detector, record: &BatchRecord) -> Vec<PiiFinding> {
    let object = Value::Object(record.fields.clone());
    detector
        .scan_record(&object)
        .into_iter()
        .map(|found| {
            // Records are flat, so the finding's path is the field's name.
            let masked = match record.fields.get(&found.field) {
                Some(Value::String(text)) => mask(text, &found.finding),
                Some(other) => mask(&other.to_string(), &found.finding),
                None => "****".to_owned(),
            };
            PiiFinding {
                record: record.index,
                line: record.line,
                field: found.field,
                kind: found.finding.kind.as_str(),
                masked,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(value: Value) -> BatchRecord {
        let Value::Object(fields) = value else { unreachable!("an object") };
        BatchRecord { index: 4, line: Some(7), fields }
    }

    #[test]
    fn findings_are_masked_and_pseudonyms_pass() {
        let detector = Detector::new();
        let clean = record(json!({"pseudonym": "5f0c6a1e9b7d4c2a8e3f1b0d6c9a7e21", "amount": 12.5, "country": "DE"}));
        assert_eq!(screen(&detector, &clean), vec![]);
        let uuid = record(json!({"pseudonym": "0b8f2d7e-3c41-4e8a-9f65-1d2c3b4a5e6f", "sku": "AB-1234-X"}));
        assert_eq!(screen(&detector, &uuid), vec![]);
        let dirty = record(json!({"pseudonym": "a1b2c3", "note": "write to jane.doe@example.com"}));
        let found = screen(&detector, &dirty);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].record, found[0].line, found[0].field.as_str(), found[0].kind),
            (4, Some(7), "note", "email")
        );
        assert_eq!(found[0].masked, "j***@e***.com");
    }
}
