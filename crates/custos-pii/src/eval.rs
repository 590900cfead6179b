//! Measuring the detector on a labelled corpus.
//!
//! Record level: a record is positive when any field holds PII; the detector says positive
//! when it reports any finding. Per type, at field level: a labelled (field, type) is found
//! when the detector reports that type in that field; a reported (field, type) is right when
//! it is labelled.

use std::collections::{BTreeMap, BTreeSet};

use crate::corpus::LabelledRecord;
use crate::{Detector, FieldFinding, PiiType};

/// Counts for one kind of PII, at field level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Labelled (field, type) pairs the detector reported.
    pub found: u64,
    /// Labelled (field, type) pairs it missed.
    pub missed: u64,
    /// Reported (field, type) pairs that were not labelled.
    pub spurious: u64,
}

impl TypeCounts {
    /// found / (found + missed); 1 when nothing was labelled.
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.found + self.missed)
    }

    /// found / (found + spurious); 1 when nothing was reported.
    pub fn precision(&self) -> f64 {
        ratio(self.found, self.found + self.spurious)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// A record the detector got wrong, for reading.
#[derive(Debug, Clone)]
pub struct Mistake {
    /// The record, as JSON text.
    pub record: String,
    /// Its labels.
    pub labels: Vec<(String, PiiType)>,
    /// What the detector reported: field, type and matched text.
    pub reported: Vec<(String, PiiType, String)>,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Records scanned.
    pub records: u64,
    /// Bytes of all values scanned (strings, and numbers as their text).
    pub bytes: u64,
    /// Positive records reported positive.
    pub true_positives: u64,
    /// Negative records reported positive.
    pub false_positives: u64,
    /// Positive records reported negative.
    pub false_negatives: u64,
    /// Negative records reported negative.
    pub true_negatives: u64,
    /// Field-level counts per kind.
    pub per_type: BTreeMap<PiiType, TypeCounts>,
    /// Up to `keep_mistakes` wrongly judged records (false negatives, then false
    /// positives), for reading.
    pub mistakes: Vec<Mistake>,
}

impl Evaluation {
    /// Record-level recall.
    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_negatives)
    }

    /// Record-level precision.
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.true_positives + self.false_positives)
    }
}

/// Scans every record of `corpus` with `detector` and counts; keeps up to `keep_mistakes`
/// wrong records.
pub fn evaluate(detector: &Detector, corpus: &[LabelledRecord], keep_mistakes: usize) -> Evaluation {
    let mut e = Evaluation::default();
    for kind in PiiType::ALL {
        e.per_type.insert(kind, TypeCounts::default());
    }
    for labelled in corpus {
        e.records += 1;
        e.bytes += value_bytes(&labelled.record);
        let findings = detector.scan_record(&labelled.record);
        let reported: BTreeSet<(String, PiiType)> =
            findings.iter().map(|f| (f.field.clone(), f.finding.kind)).collect();
        let labels: BTreeSet<(String, PiiType)> = labelled.labels.iter().cloned().collect();
        for pair in &labels {
            let counts = e.per_type.entry(pair.1).or_default();
            if reported.contains(pair) { counts.found += 1 } else { counts.missed += 1 }
        }
        for pair in reported.difference(&labels) {
            e.per_type.entry(pair.1).or_default().spurious += 1;
        }
        let truth = labelled.is_positive();
        let said = !findings.is_empty();
        match (truth, said) {
            (true, true) => e.true_positives += 1,
            (false, true) => e.false_positives += 1,
            (true, false) => e.false_negatives += 1,
            (false, false) => e.true_negatives += 1,
        }
        if truth != said && e.mistakes.len() < keep_mistakes {
            e.mistakes.push(mistake(labelled, &findings));
        }
    }
    e
}

fn mistake(labelled: &LabelledRecord, findings: &[FieldFinding]) -> Mistake {
    let text_of = |f: &FieldFinding| -> String {
        let value = field_text(&labelled.record, &f.field).unwrap_or_default();
        value.get(f.finding.start..f.finding.end).unwrap_or("").to_owned()
    };
    Mistake {
        record: labelled.record.to_string(),
        labels: labelled.labels.clone(),
        reported: findings.iter().map(|f| (f.field.clone(), f.finding.kind, text_of(f))).collect(),
    }
}

/// The text of the leaf at `path` (`a.b[2].c`), as the detector saw it.
pub fn field_text(record: &serde_json::Value, path: &str) -> Option<String> {
    let mut v = record;
    for segment in path.split('.') {
        let (name, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() && name != "$" {
            v = v.get(name)?;
        }
        for index in indices.split('[').filter(|s| !s.is_empty()) {
            v = v.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Bytes of every string and number leaf of `value`.
pub fn value_bytes(value: &serde_json::Value) -> u64 {
    match value {
        serde_json::Value::Object(map) => map.values().map(value_bytes).sum(),
        serde_json::Value::Array(items) => items.iter().map(value_bytes).sum(),
        serde_json::Value::String(s) => s.len() as u64,
        serde_json::Value::Number(n) => n.to_string().len() as u64,
        _ => 0,
    }
}
