//! The PII detector: any value, and any JSON record, is scanned without a panic, and every
//! finding points inside the value.
#![no_main]

use std::sync::OnceLock;

use custos_pii::Detector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let detector = DETECTOR.get_or_init(Detector::new);
    if let Ok(text) = std::str::from_utf8(data) {
        for finding in detector.scan_value(Some("note"), text) {
            assert!(
                finding.end <= text.len()
                    && finding.start <= finding.end
                    && text.is_char_boundary(finding.start)
                    && text.is_char_boundary(finding.end),
                "{finding:?}"
            );
        }
        if let Ok(record) = serde_json::from_str::<serde_json::Value>(text) {
            let _ = detector.scan_record(&record);
        }
    }
});
