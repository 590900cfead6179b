//! Website events written as columns of arrays: one `INSERT … SELECT FROM UNNEST(…)` per
//! table and transaction, whatever the number of rows.
//!
//! The portable multi-row `INSERT … VALUES` has one statement text per number of rows, so
//! a group commit's batches of 1 to 200 requests each prepared their own, and their
//! thirteen parameters a row made PostgreSQL parse and bind thousands of parameters a batch.
//! Here the statement is one (prepared once per connection) with thirteen parameters.

use sqlx::postgres::PgConnection;

use crate::{EventVisitor, StoreError, StoredEvent};

const INSERT_EVENTS: &str = "INSERT INTO events (subject_id, event_id, at, kind, path, referrer, entry, duration_ms, \
     sealed_ip, country, browser, os, device) \
     SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::bool[], \
     $8::int8[], $9::bytea[], $10::text[], $11::text[], $12::text[], $13::text[])";

const INSERT_ANONYMOUS_EVENTS: &str = "INSERT INTO anonymous_events (visitor_hash, event_id, at, kind, path, \
     referrer, entry, duration_ms, country, browser, os, device) \
     SELECT * FROM UNNEST($1::bytea[], $2::uuid[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::bool[], \
     $8::int8[], $9::text[], $10::text[], $11::text[], $12::text[])";

/// The columns every event has, one array each.
#[derive(Default)]
struct Common {
    event_id: Vec<uuid::Uuid>,
    at: Vec<i64>,
    kind: Vec<String>,
    path: Vec<String>,
    referrer: Vec<Option<String>>,
    entry: Vec<bool>,
    duration_ms: Vec<Option<i64>>,
    country: Vec<Option<String>>,
    browser: Vec<Option<String>>,
    os: Vec<Option<String>>,
    device: Vec<Option<String>>,
}

impl Common {
    fn push(&mut self, e: &StoredEvent) {
        self.event_id.push(e.event_id);
        self.at.push(crate::time::to_millis(e.at));
        self.kind.push(e.kind.clone());
        self.path.push(e.path.clone());
        self.referrer.push(e.referrer.clone());
        self.entry.push(e.entry);
        self.duration_ms.push(e.duration_ms);
        self.country.push(e.country.clone());
        self.browser.push(e.browser.clone());
        self.os.push(e.os.clone());
        self.device.push(e.device.clone());
    }
}

/// Binds the columns after the first of `INSERT_EVENTS` or `INSERT_ANONYMOUS_EVENTS`, in
/// their order: only `events` has `sealed_ip`, between `duration_ms` and `country`.
fn bind_columns<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    c: Common,
    sealed_ip: Option<Vec<Option<Vec<u8>>>>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let query =
        query.bind(c.event_id).bind(c.at).bind(c.kind).bind(c.path).bind(c.referrer).bind(c.entry).bind(c.duration_ms);
    let query = match sealed_ip {
        Some(sealed_ip) => query.bind(sealed_ip),
        None => query,
    };
    query.bind(c.country).bind(c.browser).bind(c.os).bind(c.device)
}

/// Inserts `events` on `conn` (in the caller's transaction): a consenting person's into
/// `events`, the others into `anonymous_events`.
pub(super) async fn insert(conn: &mut PgConnection, events: &[StoredEvent]) -> Result<(), StoreError> {
    let (mut known, mut anonymous) = (Common::default(), Common::default());
    let (mut subjects, mut sealed_ips, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
    for e in events {
        match &e.visitor {
            EventVisitor::Subject(subject) => {
                subjects.push(subject.0);
                sealed_ips.push(e.sealed_ip.clone());
                known.push(e);
            }
            EventVisitor::Anonymous(hash) => {
                hashes.push(hash.to_vec());
                anonymous.push(e);
            }
        }
    }
    if !subjects.is_empty() {
        bind_columns(sqlx::query(INSERT_EVENTS).bind(subjects), known, Some(sealed_ips))
            .execute(&mut *conn)
            .await
            .map_err(|e| crate::error::not_found_on_foreign_key(e, || "the event's subject".into()))?;
    }
    if !hashes.is_empty() {
        bind_columns(sqlx::query(INSERT_ANONYMOUS_EVENTS).bind(hashes), anonymous, None).execute(&mut *conn).await?;
    }
    Ok(())
}
