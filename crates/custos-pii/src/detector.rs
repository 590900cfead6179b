//! The detector: one value, or one JSON record, in; findings out.

use std::fmt::Write as _;

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
/// An ASCII capital: IBANs, DNI/NIE, NINO and codici fiscali need one.
const ASCII_UPPER: u8 = 32;
/// `_`, `-`, `.`, `A`, `:` or `=`: every vendor token, JWT, PEM block and `key: secret`
/// has one.
const SECRET_MARK: u8 = 64;

/// What each byte tells the prefilter (non-ASCII bytes count as letters that may be
/// capitals).
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i as u8 {
            b'@' => AT,
            b'0'..=b'9' => DIGIT,
            b':' => COLON | SECRET_MARK,
            b'a'..=b'z' => LOWER,
            b'A' => UPPER | ASCII_UPPER | SECRET_MARK,
            b'B'..=b'Z' => UPPER | ASCII_UPPER,
            b'_' | b'-' | b'.' => SECRET_MARK,
            b'=' => SECRET_MARK,
            0x80..=0xff => UPPER,
            _ => 0,
        };
        i += 1;
    }
    t
};

thread_local! {
    /// Buffers reused between scans on this thread, so that a warm scan allocates only for
    /// what it reports.
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

fn has_capitalised_word(b: &[u8]) -> bool {
    b.windows(2).any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_lowercase() || w[0] >= 0x80)
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
        let mut scratch = Scratch::take();
        let mut out = Vec::new();
        let hint = field.map_or(Hint::None, |f| scratch.hints.hint(f));
        self.scan_hinted(hint, value, &mut scratch, &mut out);
        scratch.give_back();
        out
    }

    /// Scans `value` into `out` (cleared first).
    fn scan_hinted(&self, hint: Hint, value: &str, scratch: &mut Scratch, out: &mut Vec<Finding>) {
        out.clear();
        if value.is_empty() {
            return;
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
            email::scan(value, out);
        }
        if digit {
            number::scan(value, hint, &self.phones, self.threshold, out);
            if seen & ASCII_UPPER != 0 {
                alnum::scan(value, hint, out);
            }
        }
        if colon {
            ipv6::scan(value, hint, out);
        }
        // Every secret pattern needs 16 bytes, or a field that names a secret.
        if seen & SECRET_MARK != 0 && value.len() >= 16 || matches!(hint, Hint::Password | Hint::Token) {
            secret::scan(value, hint, out);
        }
        let wants_words = match hint {
            Hint::PersonName | Hint::MaybeName | Hint::NameBesideProduct | Hint::Address | Hint::Postcode => true,
            // A name or a street needs a capitalised word ("Maria", "Rue"): a capital followed
            // by a lower-case letter, or letters beyond ASCII.
            Hint::None => upper && has_capitalised_word(value.as_bytes()),
            // A product's, a company's or a place's name: a title would be the only sign of a
            // person, and names of things rarely hold one.
            Hint::NotAPerson => {
                upper && has_capitalised_word(value.as_bytes()) && value.bytes().filter(|&b| b == b' ').count() >= 3
            }
            _ => false,
        };
        if wants_words && (alpha || digit) {
            words::tokenize_into(value, &self.lexicon, &mut scratch.tokens);
            name::scan(value, hint, &scratch.tokens, out);
            address::scan(value, hint, &scratch.tokens, out);
        }
        resolve(out, self.threshold);
    }

    /// The PII in a record: every string and number leaf of `record`, with the path of its
    /// field (`user.contact.email`, `items[2].note`; `$` for a bare value).
    pub fn scan_record(&self, record: &Value) -> Vec<FieldFinding> {
        let mut out = Vec::new();
        let mut scratch = Scratch::take();
        let mut path = std::mem::take(&mut scratch.path);
        path.clear();
        self.walk(record, &mut path, &mut scratch, &mut out);
        scratch.path = path;
        scratch.give_back();
        out
    }

    fn walk(&self, value: &Value, path: &mut String, scratch: &mut Scratch, out: &mut Vec<FieldFinding>) {
        match value {
            Value::Object(map) => {
                // Whether this object describes a product (then its bare `name` is not a
                // person's, though its `contact` or `owner` may be); looked at only when a
                // `name` needs it.
                let mut product: Option<bool> = None;
                for (k, v) in map {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    if v.is_object() || v.is_array() {
                        self.walk(v, path, scratch, out);
                    } else {
                        let mut hint = scratch.hints.hint(path);
                        if hint == Hint::MaybeName
                            && Hint::is_bare_name(k)
                            && *product.get_or_insert_with(|| map.keys().any(|k| scratch.hints.marks_a_product(k)))
                        {
                            hint = Hint::NameBesideProduct;
                        } else if hint == Hint::MaybeName
                            && Hint::other_half_of_name(k).is_some_and(|other| map.contains_key(other))
                        {
                            hint = Hint::PersonName;
                        }
                        self.leaf(path, hint, v, scratch, out);
                    }
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    self.walk(v, path, scratch, out);
                    path.truncate(len);
                }
            }
            Value::String(_) | Value::Number(_) => {
                let field = if path.is_empty() { "$" } else { path.as_str() };
                let hint = scratch.hints.hint(field);
                self.leaf(field, hint, value, scratch, out);
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn leaf(&self, field: &str, hint: Hint, value: &Value, scratch: &mut Scratch, out: &mut Vec<FieldFinding>) {
        let mut found = std::mem::take(&mut scratch.found);
        match value {
            Value::String(s) => self.scan_hinted(hint, s, scratch, &mut found),
            Value::Number(n) => {
                let mut text = std::mem::take(&mut scratch.number);
                text.clear();
                let _ = write!(text, "{n}");
                self.scan_hinted(hint, &text, scratch, &mut found);
                scratch.number = text;
            }
            _ => found.clear(),
        }
        for finding in found.drain(..) {
            out.push(FieldFinding { field: field.to_owned(), finding });
        }
        scratch.found = found;
    }
}

/// Buffers a scan reuses from value to value, kept per thread between calls.
#[derive(Default)]
struct Scratch {
    hints: crate::field::HintCache,
    tokens: words::Tokens,
    number: String,
    path: String,
    found: Vec<Finding>,
}

impl Scratch {
    fn take() -> Scratch {
        SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }

    fn give_back(self) {
        SCRATCH.with(|s| *s.borrow_mut() = self);
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
        b.confidence
            .total_cmp(&a.confidence)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
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
    fn bare_first_and_last_beside_each_other_are_a_name() {
        let d = Detector::new();
        let fields = |record: serde_json::Value| -> Vec<String> {
            d.scan_record(&record).into_iter().map(|f| f.field).collect()
        };
        assert_eq!(fields(serde_json::json!({"first": "Jina", "last": "Okafor"})), ["first", "last"]);
        assert!(fields(serde_json::json!({"first": "Checkout", "step": 2})).is_empty());
        assert!(fields(serde_json::json!({"first": 1, "last": 20})).is_empty());
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
        assert_eq!(
            found,
            [
                ("items[2].note".to_owned(), PiiType::PersonName),
                ("items[2].note".to_owned(), PiiType::Phone),
                ("user.contact.email".to_owned(), PiiType::Email),
                ("user.contact.phone".to_owned(), PiiType::Phone),
            ]
        );
    }
}
