//! custos's PII detector, as a pure library: no file or network I/O, no async, no database.
//!
//! [`Detector::scan_value`] takes a value and, if known, its field's name; it returns
//! [`Finding`]s: a [`PiiType`], a byte span of the value and a confidence from 0 to 1.
//! [`Detector::scan_record`] walks a JSON record and names each finding's field by its path
//! (`user.contact.email`, `items[2].note`). [`mask`] shows a finding without its content,
//! for error reports that must not echo PII. Findings under a confidence floor
//! ([`DEFAULT_THRESHOLD`], 0.5) are not reported unless asked for.
//!
//! # How it finds things
//!
//! One pass over the bytes notes which characters occur; each detector runs only where its
//! trigger does, and checks candidates against the real rules rather than a pattern alone:
//!
//! - `email.rs`: around each `@`, a local part and a dotted domain with an alphabetic TLD.
//! - `number.rs`: runs of digits and separators, judged in turn as an IPv4 address, a card
//!   (`card.rs`: Luhn and issuers' ranges and lengths), a national identifier
//!   (`national_id.rs`: SSN, BSN, Steuer-ID, PESEL, NIR, Belgian number, NHS), or a phone
//!   (`phone.rs`: libphonenumber's metadata from the `phonenumber` crate, compiled once).
//!   Dates, times, amounts, versions and numbers glued to letters (SKUs, UUIDs, hashes) are
//!   not candidates.
//! - `alnum.rs`: IBANs (`iban.rs`: country lengths and mod-97), DNI/NIE, NINO, codice
//!   fiscale.
//! - `ipv6.rs`: around colons, checked by the standard library's parser.
//! - `secret.rs`: PEM private keys, vendor-prefixed tokens, JWTs, `password: …` in text,
//!   high-entropy values under a secret-ish field.
//! - `name.rs` and `address.rs`, over the words of `words.rs` and the embedded word lists of
//!   `lexicon.rs` (`lexicon/*.txt`): field names, titles, introductions, known given names,
//!   street types with house numbers in each locale's order.
//! - `field.rs`: what a field's name says (`nachname`, `Telefonnummer`, `order_id`), which
//!   raises or lowers the confidence of what the value shows.
//!
//! - `text.rs`: byte helpers (boundaries, the words just before a match, entropy).
//! - `mask.rs`: [`mask`].
//!
//! Overlapping findings are resolved in favour of the more confident (the longer on a tie).
//!
//! # Speed
//!
//! Scanning is one pass to classify the bytes, then one pass per detector whose trigger
//! occurs (digits, `@`, `:`, a capitalised word, …), with table lookups rather than regular
//! expressions. Phone patterns are matched only for numbers that could be reported. Field
//! hints are remembered per path, and the buffers of a scan (tokens, number text, hints)
//! are kept per thread, so a warm scan allocates only for what it reports. A `Detector` is
//! `Send + Sync`; build it once (about 0.2 s: `phonenumber` loads its metadata).
//!
//! # Evaluation
//!
//! [`corpus`] generates labelled records in seven locales, with hard negatives (numbers
//! that fail Luhn, versions, order numbers, hashes, UUIDs, timestamps, amounts, SKUs), from
//! a seed; [`eval`] measures record-level and per-type precision and recall on them. The
//! crate's test `tests/evaluation.rs` holds the targets (recall ≥ 0.98, precision ≥ 0.95)
//! on seed 1, the seed looked at while tuning; `custos-bench pii` reports them on another.
//! `tests/other_generators.rs` measures the detector on records made by other generators,
//! Faker (`tests/data/faker_corpus.py`) and Mimesis in seven languages
//! (`tests/data/mimesis_corpus.py`), in other record shapes and field names; read with
//! [`corpus::from_ndjson`]. `tests/handwritten.rs` checks records written by hand, in shapes
//! the generator does not produce, and `tests/properties.rs` that no input makes a scan
//! panic or return a span off a char boundary. `examples/evaluate.rs` prints the mistakes on
//! a seed or on a corpus file, for tuning.

#![forbid(unsafe_code)]

mod address;
mod alnum;
mod card;
pub mod corpus;
mod detector;
mod email;
pub mod eval;
mod field;
mod finding;
mod iban;
mod ipv6;
mod lexicon;
mod mask;
mod name;
mod national_id;
mod number;
mod phone;
mod secret;
mod text;
mod words;

pub use detector::{DEFAULT_THRESHOLD, Detector};
pub use finding::{FieldFinding, Finding, PiiType};
pub use mask::mask;
