//! People's choices read many at a time: the reads of concurrent requests share one
//! statement.
//!
//! Every consented page view and every purpose-gated read asks for its person's choices
//! (the gate's view: the subject, live consents, objections, a restriction). On PostgreSQL
//! each such read was a statement of its own, a round trip and a wake-up of a server
//! process, and under load those, not the rows, were most of what the database did. Here the
//! reads waiting at one moment are answered by one statement (`subject_id = ANY($1)`), the
//! way group commit shares a transaction among writes.
//!
//! Nothing is cached: every read is answered by a statement that began after it was asked,
//! so a withdrawal or an objection committed before a request is seen by it, in every
//! process, as with a read of its own. A task started on first use forms the batches; when
//! it cannot be reached (its runtime ended) or a batch fails, each read runs its own
//! statement, so that each meets its own error.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use sqlx::PgPool;
use tokio::sync::{Semaphore, mpsc, oneshot};
use uuid::Uuid;

use crate::{Choices, StoreError, SubjectId};

/// People whose choices one statement reads, at most.
const MAX_BATCH: usize = 256;

/// Statements in flight at once: a batch forms while the one before is answered.
const IN_FLIGHT: usize = 4;

/// The rows of each person's choices, tagged as [`crate::queries::CHOICES`] tags them.
const CHOICES_OF_MANY: &str = "SELECT subject_id, 0, NULL, NULL FROM subjects WHERE subject_id = ANY($1) \
     UNION ALL \
     SELECT c.subject_id, 1, c.purpose, NULL FROM consents c \
     WHERE c.subject_id = ANY($1) AND c.granted AND c.seq = \
       (SELECT MAX(l.seq) FROM consents l WHERE l.subject_id = c.subject_id AND l.purpose = c.purpose) \
     AND c.at >= COALESCE((SELECT r.since FROM consent_resets r WHERE r.purpose = c.purpose), 0) \
     UNION ALL \
     SELECT subject_id, 2, purpose, compelling_grounds FROM objections WHERE subject_id = ANY($1) \
     UNION ALL \
     SELECT subject_id, 3, NULL, NULL FROM restrictions WHERE subject_id = ANY($1)";

type Answer = oneshot::Sender<Result<Option<Choices>, StoreError>>;

/// One person's rows of [`CHOICES_OF_MANY`], without their id.
type Rows = Vec<(i32, Option<String>, Option<String>)>;

/// The reads of choices of one store's pool.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChoicesReads {
    queue: Arc<OnceLock<mpsc::Sender<(SubjectId, Answer)>>>,
}

impl ChoicesReads {
    /// `subject`'s choices, `None` when no such subject exists, read with whatever other
    /// reads are waiting.
    pub(crate) async fn read(&self, pool: &PgPool, subject: SubjectId) -> Result<Option<Choices>, StoreError> {
        let queue = self.queue.get_or_init(|| spawn(pool.clone()));
        let (answer, answered) = oneshot::channel();
        if queue.send((subject, answer)).await.is_ok()
            && let Ok(choices) = answered.await
        {
            return choices;
        }
        // The batching task is gone (its runtime ended), or the batch failed: read alone.
        Ok(read_many(pool, &[subject.0]).await?.remove(&subject.0).and_then(crate::queries::choices))
    }
}

/// Starts the task that forms and runs the batches, on the current runtime.
fn spawn(pool: PgPool) -> mpsc::Sender<(SubjectId, Answer)> {
    let (queue, mut waiting) = mpsc::channel::<(SubjectId, Answer)>(4 * MAX_BATCH);
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
                answer(&pool, batch).await;
                drop(slot);
            });
        }
    });
    queue
}

/// Reads the choices of everyone in `batch` in one statement and answers each.
async fn answer(pool: &PgPool, batch: Vec<(SubjectId, Answer)>) {
    let mut ids: Vec<Uuid> = batch.iter().map(|(s, _)| s.0).collect();
    ids.sort_unstable();
    ids.dedup();
    match read_many(pool, &ids).await {
        Ok(rows) => {
            for (subject, answer) in batch {
                // The same person asked twice in one batch gets the same rows twice.
                let theirs = rows.get(&subject.0).cloned();
                let _ = answer.send(Ok(theirs.and_then(crate::queries::choices)));
            }
        }
        Err(error) => {
            // Each read then runs its own statement and meets its own error.
            tracing::debug!(%error, reads = batch.len(), "a batched read of choices failed; reading one by one");
        }
    }
}

/// The rows of each of `ids` who exists, by id.
async fn read_many(pool: &PgPool, ids: &[Uuid]) -> Result<HashMap<Uuid, Rows>, StoreError> {
    // Kept prepared, unlike the ledger's IN-lists (see `append_consents`): planning this
    // union of four at every batch cost PostgreSQL more than the batching saved (consented
    // ingest 10,600 → 13,300 events/s prepared), and its one shape is planned once per
    // connection. That plan is made for the tables as they are then; PostgreSQL makes it
    // again when autovacuum analyses a table that has grown.
    let rows = sqlx::query_as::<_, (Uuid, i32, Option<String>, Option<String>)>(CHOICES_OF_MANY)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    let mut by_subject: HashMap<Uuid, Rows> = HashMap::new();
    for (id, what, purpose, grounds) in rows {
        by_subject.entry(id).or_default().push((what, purpose, grounds));
    }
    Ok(by_subject)
}
