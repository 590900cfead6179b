//! Property tests of the partner batch parsers (the fuzz targets of issue 8): no input,
//! however malformed, makes them panic, and every error names a stable code and never
//! quotes the input.

use custos_engine::partners::batch::{BatchFormat, parse};
use proptest::prelude::*;

const FORMATS: [BatchFormat; 3] = [BatchFormat::Json, BatchFormat::Ndjson, BatchFormat::Csv];
const CODES: &[&str] = &[
    "malformed_batch",
    "invalid_value",
    "not_an_object",
    "nested_value",
    "bad_field_name",
    "too_many_fields",
    "missing_pseudonym",
    "bad_pseudonym",
    "too_many_records",
    "empty_batch",
];

/// Bytes that look somewhat like batches: JSON and CSV punctuation, quotes, newlines,
/// field names, and arbitrary bytes.
fn batchish() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"\"pseudonym\"".to_vec()),
        Just(b":".to_vec()),
        Just(b",".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\"a1b2\"".to_vec()),
        Just(b"pseudonym,amount\n".to_vec()),
        Just(b"12.5".to_vec()),
        Just(b"null".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

fn check(format: BatchFormat, body: &[u8]) {
    match parse(format, body, 50, "pseudonym") {
        Ok(records) => {
            assert!(!records.is_empty() && records.len() <= 50);
            for (i, r) in records.iter().enumerate() {
                assert_eq!(r.index, i);
                assert!(r.fields.get("pseudonym").and_then(|p| p.as_str()).is_some());
            }
        }
        Err(e) => assert!(CODES.contains(&e.code), "unknown code {}", e.code),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_bytes_make_a_parser_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        for format in FORMATS {
            check(format, &body);
        }
    }

    #[test]
    fn no_batch_like_input_makes_a_parser_panic(body in batchish()) {
        for format in FORMATS {
            check(format, &body);
        }
    }

    #[test]
    fn records_of_any_strings_parse_or_fail_cleanly(
        rows in proptest::collection::vec((".{0,20}", ".{0,20}"), 1..20)
    ) {
        let mut ndjson = String::new();
        let mut csv = String::from("pseudonym,note\n");
        for (p, note) in &rows {
            ndjson.push_str(&serde_json::json!({"pseudonym": p, "note": note}).to_string());
            ndjson.push('\n');
            let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            csv.push_str(&format!("{},{}\n", quote(p), quote(note)));
        }
        check(BatchFormat::Ndjson, ndjson.as_bytes());
        check(BatchFormat::Csv, csv.as_bytes());
        // The same records read the same from both formats, when they read at all.
        if let (Ok(a), Ok(b)) = (parse(BatchFormat::Ndjson, ndjson.as_bytes(), 50, "pseudonym"), parse(BatchFormat::Csv, csv.as_bytes(), 50, "pseudonym")) {
            prop_assert_eq!(a.len(), b.len());
        }
    }
}

fn detector() -> &'static custos_pii::Detector {
    static D: std::sync::OnceLock<custos_pii::Detector> = std::sync::OnceLock::new();
    D.get_or_init(custos_pii::Detector::new)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// The PII gate over any parsed record: no panic, and each finding names a field of the
    /// record and carries a masked span (the detector's own property tests cover its spans).
    #[test]
    fn screening_any_record_never_panics(values in proptest::collection::vec(any::<String>(), 1..6)) {
        let mut line = serde_json::Map::new();
        line.insert("pseudonym".into(), serde_json::Value::String("p1".into()));
        for (i, v) in values.iter().enumerate() {
            line.insert(format!("f{i}"), serde_json::Value::String(v.clone()));
        }
        let body = format!("{}\n", serde_json::Value::Object(line));
        let records = parse(BatchFormat::Ndjson, body.as_bytes(), 10, "pseudonym").expect("a valid record");
        for finding in custos_engine::partners::screen::screen(detector(), &records[0]) {
            prop_assert!(records[0].fields.contains_key(&finding.field));
            prop_assert!(!finding.masked.is_empty());
        }
    }
}
