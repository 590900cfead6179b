//! Reads by person that concurrent requests share: the reads waiting at one moment are
//! answered by one statement (`subject_id = ANY($1)`), the way group commit shares a
//! transaction among writes.
//!
//! Every consented page view and every purpose-gated read asks for its person's choices
//! (the gate's view: the subject, live consents, objections, a restriction), and every
//! look at a consent ledger reads that ledger. On PostgreSQL each such read was a statement
//! of its own, a round trip and a wake-up of a server process, and under load those, not
//! the rows, were most of what the database did.
//!
//! Nothing is cached: every read is answered by a statement that began after it was asked,
//! so a withdrawal or an objection committed before a request is seen by it, in every
//! process, as with a read of its own. A task started on first use forms the batches; when
//! it cannot be reached (its runtime ended) or a batch fails, each read runs its own
//! statement, so that each meets its own error.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::{Semaphore, mpsc, oneshot};
use uuid::Uuid;

use crate::StoreError;

/// People whose rows one statement reads, at most.
const MAX_BATCH: usize = 256;

/// Statements in flight at once, per kind of read: the next batch forms while the one
/// before is answered. One, as in group commit: with four, batches of PostgreSQL ingest
/// held three or four reads each, and the paired runs gained 15% with one (14,905 → 17,193
/// and 15,451 → 17,673 consented events/s, p99 down from 23-26 ms to 18.5 ms).
const IN_FLIGHT: usize = 1;

/// The kinds of batched read, each with its own statements in flight: choices, ledgers.
const KINDS: usize = 2;

/// The connections batched reads run on, opened when first used: as many as may be in
/// flight, each keeping one plan per statement for all its executions.
///
/// On its own, PostgreSQL plans a prepared statement whose parameter is an array afresh at
/// every execution: a plan made for the array at hand looks cheaper than one made for any
/// array. Planning the union of four with its subqueries took 15% of the machine under
/// consented ingest. These connections take the plan made for any array
/// (`plan_cache_mode = force_generic_plan`), made when a connection first runs the
/// statement and made again when autovacuum analyses a table that has grown. The other
/// statements keep PostgreSQL's own choice, on the store's main pool.
pub(crate) fn pool(connect: &PgConnectOptions, acquire_timeout: Duration) -> PgPool {
    PgPoolOptions::new()
        .max_connections((KINDS * IN_FLIGHT) as u32)
        .acquire_timeout(acquire_timeout)
        .connect_lazy_with(connect.clone().options([("plan_cache_mode", "force_generic_plan")]))
}

/// A read by person that can be answered for many people in one statement.
pub(crate) trait ManyAtOnce: Send + Sync + 'static {
    /// One person's rows.
    type Rows: Clone + Default + Send + 'static;

    /// The rows of each of `ids` who has any, by id, in one statement.
    fn read_many(
        pool: &PgPool,
        ids: &[Uuid],
    ) -> impl Future<Output = Result<HashMap<Uuid, Self::Rows>, StoreError>> + Send;
}

type Answer<R> = oneshot::Sender<<R as ManyAtOnce>::Rows>;

/// Where reads wait for the batching task, once it is started.
type Queue<R> = mpsc::Sender<(Uuid, Answer<R>)>;

/// The reads of one kind over one store's pool.
pub(crate) struct Batched<R: ManyAtOnce> {
    queue: Arc<OnceLock<Queue<R>>>,
}

impl<R: ManyAtOnce> std::fmt::Debug for Batched<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batched").field("started", &self.queue.get().is_some()).finish()
    }
}

impl<R: ManyAtOnce> Default for Batched<R> {
    fn default() -> Self {
        Self { queue: Arc::default() }
    }
}

impl<R: ManyAtOnce> Clone for Batched<R> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone() }
    }
}

impl<R: ManyAtOnce> Batched<R> {
    /// The rows of `id` (empty when there are none), read with whatever other reads of this
    /// kind are waiting.
    pub(crate) async fn read(&self, pool: &PgPool, id: Uuid) -> Result<R::Rows, StoreError> {
        let queue = self.queue.get_or_init(|| spawn::<R>(pool.clone()));
        let (answer, answered) = oneshot::channel();
        if queue.send((id, answer)).await.is_ok()
            && let Ok(rows) = answered.await
        {
            return Ok(rows);
        }
        // The batching task is gone (its runtime ended), or the batch failed: read alone.
        Ok(R::read_many(pool, &[id]).await?.remove(&id).unwrap_or_default())
    }
}

/// Starts the task that forms and runs the batches, on the current runtime.
fn spawn<R: ManyAtOnce>(pool: PgPool) -> Queue<R> {
    let (queue, mut waiting) = mpsc::channel::<(Uuid, Answer<R>)>(4 * MAX_BATCH);
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    tokio::spawn(async move {
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else { return };
            let Some(first) = waiting.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match waiting.try_recv() {
                    Ok(more) => batch.push(more),
                    Err(_) => break,
                }
            }
            let pool = pool.clone();
            tokio::spawn(async move {
                answer::<R>(&pool, batch).await;
                drop(slot);
            });
        }
    });
    queue
}

/// Reads the rows of everyone in `batch` in one statement and answers each.
async fn answer<R: ManyAtOnce>(pool: &PgPool, batch: Vec<(Uuid, Answer<R>)>) {
    let mut ids: Vec<Uuid> = batch.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    match R::read_many(pool, &ids).await {
        Ok(rows) => {
            for (id, answer) in batch {
                // The same person asked twice in one batch gets the same rows twice.
                let _ = answer.send(rows.get(&id).cloned().unwrap_or_default());
            }
        }
        Err(error) => {
            // Dropping the answers makes each read run its own statement.
            tracing::debug!(%error, reads = batch.len(), "a batched read failed; reading one by one");
        }
    }
}

/// The gate's view of each person (see [`crate::queries::CHOICES_OF_MANY`]): one row tagged
/// 0 for the subject itself, 1 per live consent, 2 per objection, 3 for a restriction.
pub(crate) struct ChoicesRows;

impl ManyAtOnce for ChoicesRows {
    type Rows = Vec<(i32, Option<String>, Option<String>)>;

    async fn read_many(pool: &PgPool, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Rows>, StoreError> {
        // Kept prepared, unlike the ledger's IN-lists (see `append_consents`): unprepared,
        // planning this union of four at every batch cost PostgreSQL more than the batching
        // saved (consented ingest 10,600 → 13,300 events/s prepared). See [`pool`] for the
        // plan it keeps.
        let rows = sqlx::query_as::<_, (Uuid, i32, Option<String>, Option<String>)>(crate::queries::CHOICES_OF_MANY)
            .bind(ids)
            .fetch_all(pool)
            .await?;
        let mut by_subject: HashMap<Uuid, Self::Rows> = HashMap::new();
        for (id, what, purpose, grounds) in rows {
            by_subject.entry(id).or_default().push((what, purpose, grounds));
        }
        Ok(by_subject)
    }
}

/// Each person's consent ledger, oldest entry first (see [`crate::queries::CONSENT_HISTORIES`]).
pub(crate) struct LedgerRows;

impl ManyAtOnce for LedgerRows {
    type Rows = Vec<crate::queries::ConsentRow>;

    async fn read_many(pool: &PgPool, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Rows>, StoreError> {
        type Row = (Uuid, i64, String, bool, String, String, i64, String, Option<String>);
        let rows = sqlx::query_as::<_, Row>(crate::queries::CONSENT_HISTORIES).bind(ids).fetch_all(pool).await?;
        let mut by_subject: HashMap<Uuid, Self::Rows> = HashMap::new();
        for (id, seq, purpose, granted, method, policy_version, at, text_version, source_ip) in rows {
            by_subject.entry(id).or_default().push((
                seq,
                purpose,
                granted,
                method,
                policy_version,
                at,
                text_version,
                source_ip,
            ));
        }
        Ok(by_subject)
    }
}
