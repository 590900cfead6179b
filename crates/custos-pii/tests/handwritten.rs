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
