//! The detector on corpora it was not built against, made by other generators:
//!
//! - Faker (`tests/data/faker_corpus.py`): its names, addresses, phone formats and
//!   identifiers per locale, in field names and English sentences written for it;
//! - Mimesis (`tests/data/mimesis_corpus.py`): its own name lists, phone shapes and streets
//!   per locale, in the field names and support notes of seven languages (`nachname`,
//!   `telefono`, `adres`; "Il signor … chiede di essere richiamato al …").
//!
//! Each committed file was generated on a seed not looked at while tuning (see the scripts
//! for how to make another). The floors sit under what they measured, so that a change
//! that loses ground fails here. Measured: Faker, record recall 1.0 and precision 0.999,
//! person names' recall 0.992 the lowest type; Mimesis, record recall and precision 1.0,
//! person names' recall 0.978 the lowest.

use custos_pii::PiiType;
use custos_pii::eval::evaluate;

/// Evaluates the detector on `ndjson` and fails, listing its mistakes, below the floors:
/// record recall and precision 0.99; per type, recall 0.95 for names and 0.97 for the
/// rest, precision 0.98.
fn judged_right(ndjson: &str) {
    let corpus = custos_pii::corpus::from_ndjson(ndjson).expect("the corpus");
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

#[test]
fn records_made_with_faker_are_judged_right() {
    judged_right(include_str!("data/faker.ndjson"));
}

#[test]
fn records_in_seven_languages_made_with_mimesis_are_judged_right() {
    judged_right(include_str!("data/mimesis.ndjson"));
}
