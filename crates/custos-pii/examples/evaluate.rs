//! Prints the evaluation of the detector on a labelled corpus, and the records it got
//! wrong: `cargo run --release -p custos-pii --example evaluate -- [SEED|FILE] [RECORDS]
//! [MISTAKES]`. A number is the seed of a generated corpus of RECORDS records (default seed
//! 1, 5000 records); anything else is a file in the format of `tests/data/faker.ndjson`,
//! read whole. With `PII_KIND=person_name` (or another kind), also each field of that kind
//! missed or reported wrongly.

fn main() {
    let mut args = std::env::args().skip(1);
    let source = args.next().unwrap_or_else(|| "1".into());
    let count = args.next().and_then(|s| s.parse().ok()).unwrap_or(5000);
    let keep = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let detector = custos_pii::Detector::new();
    let corpus = match source.parse() {
        Ok(seed) => custos_pii::corpus::generate(seed, count),
        Err(_) => {
            let text = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
            custos_pii::corpus::from_ndjson(&text).unwrap_or_else(|e| panic!("{source}: {e}"))
        }
    };
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
    let started = std::time::Instant::now();
    let mut rounds = 0u64;
    let fixed: Option<u64> = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok());
    while fixed.map_or(started.elapsed().as_secs_f64() < 1.0, |n| rounds < n) {
        for r in &corpus {
            std::hint::black_box(detector.scan_record(&r.record));
        }
        rounds += 1;
    }
    let mbps = (e.bytes * rounds) as f64 / started.elapsed().as_secs_f64() / 1e6;
    println!("throughput {mbps:.1} MB/s over {} bytes x {rounds}", e.bytes);
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
