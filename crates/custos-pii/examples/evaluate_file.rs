//! Prints the evaluation of the detector on a labelled corpus in a file (the format of
//! `tests/data/faker.ndjson`), and the records it got wrong:
//! `cargo run --release -p custos-pii --example evaluate_file -- FILE [MISTAKES]`.
//! With `PII_KIND=person_name` (or another kind), also each field of that kind missed or
//! reported wrongly.

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: evaluate_file FILE [MISTAKES]");
    let keep = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let corpus = custos_pii::corpus::from_ndjson(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let detector = custos_pii::Detector::new();
    let e = custos_pii::eval::evaluate(&detector, &corpus, keep);
    if let Ok(kind) = std::env::var("PII_KIND") {
        let kind = custos_pii::PiiType::from_name(&kind).expect("a kind");
        for r in &corpus {
            let found = detector.scan_record(&r.record);
            for (field, k) in &r.labels {
                if *k == kind && !found.iter().any(|f| &f.field == field && f.finding.kind == kind) {
                    println!("missed {field}: {:?}", custos_pii::eval::field_text(&r.record, field));
                }
            }
            for f in &found {
                if f.finding.kind == kind && !r.labels.iter().any(|(field, k)| *field == f.field && *k == kind) {
                    println!("spurious {}: {:?}", f.field, custos_pii::eval::field_text(&r.record, &f.field));
                }
            }
        }
    }
    for m in &e.mistakes {
        println!("{}\n  labels: {:?}\n  reported: {:?}\n", m.record, m.labels, m.reported);
    }
    println!(
        "records {} recall {:.4} precision {:.4} (tp {} fp {} fn {} tn {})",
        e.records,
        e.recall(),
        e.precision(),
        e.true_positives,
        e.false_positives,
        e.false_negatives,
        e.true_negatives
    );
    for (kind, c) in &e.per_type {
        println!(
            "  {:<15} recall {:.3} precision {:.3} (found {} missed {} spurious {})",
            kind.as_str(),
            c.recall(),
            c.precision(),
            c.found,
            c.missed,
            c.spurious
        );
    }
}
