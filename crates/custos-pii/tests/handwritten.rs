//! Records written by hand, not by the generator, in other shapes and spellings: a check
//! that the detector does not only know the generator's habits.

use custos_pii::{Detector, PiiType};
use serde_json::Value;

#[test]
fn handwritten_records_are_judged_right() {
    let detector = Detector::new();
    let mut wrong = Vec::new();
    for (i, line) in include_str!("data/handwritten.ndjson").lines().enumerate() {
        let entry: Value = serde_json::from_str(line).expect("a JSON line");
        let expect: Vec<PiiType> = entry["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .map(|k| PiiType::from_name(k.as_str().expect("a name")).expect("a kind"))
            .collect();
        let found = detector.scan_record(&entry["record"]);
        let kinds: Vec<PiiType> = found.iter().map(|f| f.finding.kind).collect();
        let ok = if expect.is_empty() { found.is_empty() } else { expect.iter().all(|k| kinds.contains(k)) };
        if !ok {
            wrong.push(format!("line {}: expected {expect:?}, found {found:?}", i + 1));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Found by the `pii_detector` fuzz target: long digit runs with a decimal point and a
/// slash, beside a `bearer`-like word and a 20-digit number.
#[test]
fn a_fuzzed_run_of_nines_and_a_long_number_scan_without_a_panic() {
    let text = "5\t\t\t\t\t\t\t\tvisitor_id\": -999999999999.99999999999,\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\
                lllllllllllllllllllstllllllvisitor_id\": -999999999999.99/9990099999, \"eearer 073709551616}";
    let detector = custos_pii::Detector::new();
    for finding in detector.scan_value(Some("note"), text) {
        assert!(finding.start <= finding.end && finding.end <= text.len(), "{finding:?}");
    }
}
