//! `custos-bench pii`: the PII detector on a labelled corpus, on one core.
//!
//! The corpus comes from `custos_pii::corpus` with [`BENCH_SEED`], a seed other than the
//! one the detector was tuned on (the crate's evaluation test uses seed 1). Figures:
//! throughput in MB/s (bytes of every string and number value scanned, divided by the
//! seconds `Detector::scan_record` took, over passes adding up to at least two seconds),
//! and record-level recall and precision; per-type recall and precision (field level) are
//! in the notes. Presidio is not run: there is no `--with-presidio` option.

use std::time::Instant;

use custos_pii::corpus::generate;
use custos_pii::eval::evaluate;
use custos_pii::{DEFAULT_THRESHOLD, Detector};
use serde_json::{Map, Value, json};

use crate::report::Report;

/// The seed of the benchmark's corpus; never looked at while tuning the detector.
pub(crate) const BENCH_SEED: u64 = 20_260_808;

/// Scans a corpus of `size` records and measures.
pub(crate) fn run(size: u64) -> Report {
    let detector = Detector::new();
    let corpus = generate(BENCH_SEED, size as usize);
    // The evaluation pass also warms the detector up (phone patterns compile on first use).
    let e = evaluate(&detector, &corpus, 0);
    let started = Instant::now();
    let mut passes = 0u64;
    while passes == 0 || started.elapsed().as_secs_f64() < 2.0 {
        for labelled in &corpus {
            std::hint::black_box(detector.scan_record(std::hint::black_box(&labelled.record)));
        }
        passes += 1;
    }
    let seconds = started.elapsed().as_secs_f64();
    let mb_per_s = (e.bytes * passes) as f64 / seconds / 1e6;
    let mut recall = Map::new();
    let mut precision = Map::new();
    let mut counts = Map::new();
    for (kind, c) in &e.per_type {
        recall.insert(kind.as_str().into(), json!((c.recall() * 1000.0).round() / 1000.0));
        precision.insert(kind.as_str().into(), json!((c.precision() * 1000.0).round() / 1000.0));
        counts.insert(kind.as_str().into(), json!({"found": c.found, "missed": c.missed, "spurious": c.spurious}));
    }
    let mut report = Report::new("pii");
    report
        .note("records", size)
        .note("seed", BENCH_SEED)
        .note("positive_records", e.true_positives + e.false_negatives)
        .note(
            "confusion",
            json!({"tp": e.true_positives, "fp": e.false_positives, "fn": e.false_negatives, "tn": e.true_negatives}),
        )
        .note("bytes_per_pass", e.bytes)
        .note("passes", passes)
        .note("threshold", f64::from(DEFAULT_THRESHOLD))
        .note("per_type_recall", Value::Object(recall))
        .note("per_type_precision", Value::Object(precision))
        .note("per_type_counts", Value::Object(counts))
        .note("presidio", "not run (no --with-presidio option)")
        .figure("throughput", mb_per_s, "MB/s")
        .figure("recall", e.recall(), "ratio")
        .figure("precision", e.precision(), "ratio")
        .target("throughput", ">=", 50.0)
        .target("recall", ">=", 0.98)
        .target("precision", ">=", 0.95);
    report
}
