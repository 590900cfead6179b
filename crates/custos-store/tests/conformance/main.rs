//! The storage conformance suite: the same checks on SQLite and on PostgreSQL.
//!
//! Every test runs twice, as `<area>::sqlite::<name>` and `<area>::postgres::<name>`; the
//! PostgreSQL run needs `CUSTOS_TEST_POSTGRES_URL` (see the `custos-testkit` crate).

mod activity;
mod audit;
mod campaigns;
mod confirmations;
mod events;
mod governance;
mod inbox;
mod jobs;
mod keys;
mod migrations;
mod partners;
mod policy_versions;
mod records;
mod rights;
mod staff;
mod subject_state;
mod subjects;

use custos_store::{BlindIndex, NewSubject, SubjectId, SubjectKind};
use jiff::Timestamp;

/// A fixed instant, `ms` milliseconds after an arbitrary origin in 2026.
pub(crate) fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_780_000_000_000 + ms).expect("a valid timestamp")
}

/// A blind index whose bytes are all `n`.
pub(crate) fn index(n: u8) -> BlindIndex {
    BlindIndex([n; 32])
}

/// A new user subject.
pub(crate) fn user() -> NewSubject {
    NewSubject { id: SubjectId::new(), kind: SubjectKind::User, created_at: at(0) }
}
