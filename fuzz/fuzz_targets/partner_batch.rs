//! Partner uploads: the same bytes read as a JSON array, NDJSON and CSV batch.
#![no_main]

use custos_engine::partners::batch::{BatchFormat, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [
        BatchFormat::from_content_type("application/json"),
        BatchFormat::from_content_type("application/x-ndjson"),
        BatchFormat::from_content_type("text/csv"),
    ]
    .into_iter()
    .flatten()
    {
        match parse(format, data, 1000, "pseudonym") {
            Ok(records) => assert!(records.len() <= 1000),
            Err(e) => assert!(!e.code.is_empty()),
        }
    }
});
