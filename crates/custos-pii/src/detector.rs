//! The detector: one value, or one JSON record, in; findings out.

use serde_json::Value;

use crate::field::Hint;
use crate::finding::{FieldFinding, Finding};
use crate::lexicon::Lexicon;
use crate::phone::PhoneRules;
use crate::{address, alnum, email, ipv6, name, number, secret, words};

const AT: u8 = 1;
const DIGIT: u8 = 2;
const COLON: u8 = 4;
const LOWER: u8 = 8;
const UPPER: u8 = 16;

/// What each byte tells the prefilter (non-ASCII bytes count as letters that may be
/// capitals).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'@' => AT,
            b'0'..=b'9' => DIGIT,
            b':' => COLON,
            b'a'..=b'z' => LOWER,
            b'A'..=b'Z' | 0x80..=0xff => UPPER,
            _ => 0,
        };
        i += 1;
    }
    t
};

fn hint_of(path: &str) -> Hint {
    Hint::cached(path)
}

/// The confidence below which findings are not reported unless asked for.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// Finds PII in values and records. Build it once (it compiles phone patterns and loads
/// word lists) and share it: it is `Send + Sync` and scanning takes `&self`.
pub struct Detector {
    phones: PhoneRules,
    lexicon: Lexicon,
    threshold: f32,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector").field("threshold", &self.threshold).finish_non_exhaustive()
    }
}

impl Detector {
    /// A detector reporting findings of confidence [`DEFAULT_THRESHOLD`] and above.
    pub fn new() -> Detector {
        Detector { phones: PhoneRules::new(), lexicon: Lexicon::new(), threshold: DEFAULT_THRESHOLD }
    }

    /// The same detector reporting findings of confidence `threshold` and above (0 reports
    /// every candidate).
    pub fn with_threshold(mut self, threshold: f32) -> Detector {
        self.threshold = threshold;
        self
    }

    /// The confidence floor of reported findings.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// The PII in `value`, a field's value, given the field's name or path if known
    /// (`email`, `user.contact.phone`, `items[2].note`). Findings are sorted by start, do
    /// not overlap, and have spans on char boundaries of `value`.
    pub fn scan_value(&self, field: Option<&str>, value: &str) -> Vec<Finding> {
        self.scan_hinted(field.map_or(Hint::None, hint_of), value)
    }

    fn scan_hinted(&self, hint: Hint, value: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        if value.is_empty() {
            return out;
        }
        let mut seen = 0u8;
        for &b in value.as_bytes() {
            seen |= CLASS[b as usize];
        }
        let at = seen & AT != 0;
        let digit = seen & DIGIT != 0;
        let colon = seen & COLON != 0;
        let alpha = seen & (LOWER | UPPER) != 0;
        let upper = seen & UPPER != 0;
        if at {
            email::scan(value, &mut out);
        }
        if digit {
            number::scan(value, hint, &self.phones, &mut out);
            if alpha {
                alnum::scan(value, hint, &mut out);
            }
        }
        if colon {
            ipv6::scan(value, hint, &mut out);
        }
        // Every secret pattern needs 16 bytes, or a field that names a secret.
        if alpha && value.len() >= 16 || matches!(hint, Hint::Password | Hint::Token) {
            secret::scan(value, hint, &mut out);
        }
        let wants_words = match hint {
            Hint::PersonName | Hint::MaybeName | Hint::Address | Hint::Postcode => true,
            Hint::None | Hint::NotAPerson => upper,
            _ => false,
        };
        if wants_words && (alpha || digit) {
            let tokens = words::tokenize(value, &self.lexicon);
            name::scan(value, hint, &tokens, &mut out);
            address::scan(value, hint, &tokens, &mut out);
        }
        resolve(&mut out, self.threshold);
        out
    }

    /// The PII in a record: every string and number leaf of `record`, with the path of its
    /// field (`user.contact.email`, `items[2].note`; `$` for a bare value).
    pub fn scan_record(&self, record: &Value) -> Vec<FieldFinding> {
        let mut out = Vec::new();
        let mut path = String::new();
        self.walk(record, &mut path, &mut out);
        out
    }

    fn walk(&self, value: &Value, path: &mut String, out: &mut Vec<FieldFinding>) {
        match value {
            Value::Object(map) => {
                // Whether this object describes a product (then its `name` is not a person's);
                // looked at only when a `name` needs it.
                let mut product: Option<bool> = None;
                for (k, v) in map {
                    if !v.is_object() && !v.is_array() {
                        let len = path.len();
                        if !path.is_empty() {
                            path.push('.');
                        }
                        path.push_str(k);
                        let mut hint = hint_of(path);
                        if hint == Hint::MaybeName
                            && *product.get_or_insert_with(|| {
                                map.keys().any(|k| Hint::cached_marks_a_product(k))
                            })
                        {
                            hint = Hint::NotAPerson;
                        }
                        self.leaf_hinted(path, hint, v, out);
                        path.truncate(len);
                        continue;
                    }
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    self.walk(v, path, out);
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = path.len();
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                    self.walk(v, path, out);
                    path.truncate(len);
                }
            }
            Value::String(s) => self.leaf(path, s, out),
            Value::Number(n) => self.leaf(path, &n.to_string(), out),
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn leaf(&self, path: &str, text: &str, out: &mut Vec<FieldFinding>) {
        let field = if path.is_empty() { "$" } else { path };
        self.push_findings(field, hint_of(field), text, out);
    }

    fn leaf_hinted(&self, path: &str, hint: Hint, value: &Value, out: &mut Vec<FieldFinding>) {
        match value {
            Value::String(s) => self.push_findings(path, hint, s, out),
            Value::Number(n) => self.push_findings(path, hint, &n.to_string(), out),
            _ => {}
        }
    }

    fn push_findings(&self, field: &str, hint: Hint, text: &str, out: &mut Vec<FieldFinding>) {
        for finding in self.scan_hinted(hint, text) {
            out.push(FieldFinding { field: field.to_owned(), finding });
        }
    }
}

/// Drops findings under `threshold`, then keeps the most confident of overlapping ones
/// (the longer on a tie), sorted by start.
fn resolve(out: &mut Vec<Finding>, threshold: f32) {
    out.retain(|f| f.confidence >= threshold && f.start < f.end);
    if out.len() < 2 {
        return;
    }
    out.sort_by(|a, b| {
        b.confidence.total_cmp(&a.confidence).then((b.end - b.start).cmp(&(a.end - a.start))).then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(out.len());
    for f in out.drain(..) {
        if !kept.iter().any(|k| k.overlaps(&f)) {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| f.start);
    *out = kept;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PiiType;

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Detector>();
    }

    #[test]
    fn records_are_walked_with_paths() {
        let d = Detector::new();
        let record = serde_json::json!({
            "user": {"contact": {"email": "jane@example.com", "phone": "+44 20 7946 0958"}},
            "items": [{"sku": "AB-1234"}, {"sku": "CD-5678"}, {"note": "call Maria Garcia on 06 12 34 56 78"}],
            "order_id": 4829301756u64,
            "total": 129.99,
        });
        let found: Vec<(String, PiiType)> =
            d.scan_record(&record).into_iter().map(|f| (f.field, f.finding.kind)).collect();
        assert_eq!(found, [
            ("items[2].note".to_owned(), PiiType::PersonName),
            ("items[2].note".to_owned(), PiiType::Phone),
            ("user.contact.email".to_owned(), PiiType::Email),
            ("user.contact.phone".to_owned(), PiiType::Phone),
        ]);
    }
}
