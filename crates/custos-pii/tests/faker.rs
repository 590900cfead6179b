//! The detector on a corpus it was not built against: records made with Faker
//! (`tests/data/faker_corpus.py`), whose names, addresses, phone formats and identifiers
//! per locale, and whose field names, are not custos's own generator's.
//!
//! The committed file was generated on a seed not looked at while tuning (see the script
//! for how to make another). The floors below sit under what it measured (record recall
//! 1.0 and precision 0.999; per type, person names' recall 0.969 the lowest), so that a
//! change that loses ground fails here.

use custos_pii::PiiType;
use custos_pii::eval::evaluate;

#[test]
fn records_made_by_another_generator_are_judged_right() {
    let corpus = custos_pii::corpus::from_ndjson(include_str!("data/faker.ndjson")).expect("the corpus");
    assert!(corpus.len() >= 1_000, "the corpus holds {} records", corpus.len());
    let e = evaluate(&custos_pii::Detector::new(), &corpus, 20);
    let (recall, precision) = (e.recall(), e.precision());
    let mistakes: Vec<String> = e
        .mistakes
        .iter()
        .map(|m| format!("{}\n  labels {:?}\n  reported {:?}", m.record, m.labels, m.reported))
        .collect();
    assert!(
        recall >= 0.99 && precision >= 0.99,
        "recall {recall:.4}, precision {precision:.4}\n{}",
        mistakes.join("\n")
    );
    for (kind, counts) in &e.per_type {
        let floor = if *kind == PiiType::PersonName { 0.95 } else { 0.97 };
        assert!(
            counts.recall() >= floor && counts.precision() >= 0.98,
            "{}: recall {:.3}, precision {:.3} ({counts:?})\n{}",
            kind.as_str(),
            counts.recall(),
            counts.precision(),
            mistakes.join("\n")
        );
    }
}
