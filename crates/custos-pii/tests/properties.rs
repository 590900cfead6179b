//! Scanning never panics, whatever the value, and every finding is a well-formed span of
//! the value it was found in.

use custos_pii::{Detector, Finding, mask};
use proptest::prelude::*;

const FIELDS: &[Option<&str>] = &[
    None,
    Some("email"),
    Some("phone"),
    Some("first_name"),
    Some("name"),
    Some("address.line1"),
    Some("zip"),
    Some("iban"),
    Some("card_number"),
    Some("ssn"),
    Some("api_key"),
    Some("password"),
    Some("order_id"),
    Some("version"),
    Some("notes"),
];

fn detector() -> &'static Detector {
    static D: std::sync::OnceLock<Detector> = std::sync::OnceLock::new();
    D.get_or_init(|| Detector::new().with_threshold(0.0))
}

fn check(value: &str, findings: &[Finding]) {
    let mut last_end = 0;
    for f in findings {
        assert!(f.start < f.end && f.end <= value.len(), "{f:?} in {value:?}");
        assert!(value.is_char_boundary(f.start) && value.is_char_boundary(f.end), "{f:?} in {value:?}");
        assert!((0.0..=1.0).contains(&f.confidence), "{f:?}");
        assert!(f.start >= last_end, "overlapping or unsorted: {findings:?} in {value:?}");
        last_end = f.end;
        let _ = mask(value, f);
    }
}

/// Strings built from the characters PII is made of, so that the detectors' inner paths
/// run, not only their prefilters.
fn pii_ish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "0",
        "1",
        "4",
        "7",
        "9",
        "+",
        "-",
        ".",
        " ",
        "/",
        "(",
        ")",
        ":",
        "@",
        "_",
        "=",
        "A",
        "Z",
        "DE",
        "GB89",
        "x",
        "é",
        "ß",
        "€",
        "’",
        "Maria",
        "Müller",
        "Street",
        "rue",
        "Via",
        "Herr",
        "my name is",
        "Bearer ",
        "eyJ",
        "AKIA",
        "ghp_",
        "-----BEGIN ",
        "PRIVATE KEY-----",
        "::",
        "ff",
        "\n",
        ",",
        "'",
        "\u{0}",
        "日本",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_string(value in any::<String>(), field in prop::sample::select(FIELDS)) {
        check(&value, &detector().scan_value(field, &value));
    }

    #[test]
    fn any_bytes_as_lossy_utf8(bytes in prop::collection::vec(any::<u8>(), 0..200), field in prop::sample::select(FIELDS)) {
        let value = String::from_utf8_lossy(&bytes);
        check(&value, &detector().scan_value(field, &value));
    }

    #[test]
    fn strings_made_of_pii_pieces(value in pii_ish(), field in prop::sample::select(FIELDS)) {
        check(&value, &detector().scan_value(field, &value));
    }

    #[test]
    fn masks_of_any_span(value in any::<String>(), start in 0usize..300, len in 0usize..300) {
        let f = Finding { kind: custos_pii::PiiType::Email, start, end: start + len, confidence: 1.0 };
        let _ = mask(&value, &f);
    }
}
