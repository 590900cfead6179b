//! Group commit: the writes of concurrent callers in this process share one transaction,
//! and each caller gets its own answer once that transaction is committed.
//!
//! One transaction per write queues every caller behind the database's write lock (SQLite
//! has one writer; PostgreSQL serialises the audit chain), so throughput under concurrency
//! is bounded by commits per second. Batching makes it bounded by rows per second instead.
//! A batch that fails is retried one write at a time, so that one bad write cannot fail
//! the others and each caller learns its own outcome.

use async_trait::async_trait;
use custos_store::StoreError;
use tokio::sync::{mpsc, oneshot};

/// Commits writes of one kind, many at a time or one alone.
#[async_trait]
pub(crate) trait Committer: Send + Sync + 'static {
    /// One write.
    type Item: Send + Sync + 'static;
    /// What a committed write answers.
    type Output: Send + 'static;

    /// Commits `items` in one transaction, all or nothing; one output per item, in order.
    async fn commit(&self, items: &[Self::Item]) -> Result<Vec<Self::Output>, StoreError>;

    /// Commits one item on its own.
    async fn commit_one(&self, item: &Self::Item) -> Result<Self::Output, StoreError>;
}

struct Pending<C: Committer> {
    item: C::Item,
    done: oneshot::Sender<Result<C::Output, StoreError>>,
}

/// A handle to a committer task; cloning shares the task.
pub(crate) struct GroupCommit<C: Committer> {
    queue: mpsc::Sender<Pending<C>>,
    what: &'static str,
}

impl<C: Committer> Clone for GroupCommit<C> {
    fn clone(&self) -> Self {
        Self { queue: self.queue.clone(), what: self.what }
    }
}

impl<C: Committer> std::fmt::Debug for GroupCommit<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").field("what", &self.what).finish_non_exhaustive()
    }
}

impl<C: Committer> GroupCommit<C> {
    /// Starts the committer task on the current runtime, committing at most `max_batch`
    /// writes per transaction; it ends when the last handle is dropped. `what` names the
    /// writes in logs and errors.
    pub(crate) fn spawn(committer: C, max_batch: usize, what: &'static str) -> Self {
        let (queue, mut incoming) = mpsc::channel::<Pending<C>>(4 * max_batch);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < max_batch {
                    match incoming.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                let (items, answers): (Vec<C::Item>, Vec<_>) = batch.into_iter().map(|p| (p.item, p.done)).unzip();
                match committer.commit(&items).await {
                    Ok(outputs) if outputs.len() == items.len() => {
                        for (done, output) in answers.into_iter().zip(outputs) {
                            let _ = done.send(Ok(output));
                        }
                    }
                    Ok(outputs) => {
                        // Committed, but not answered item by item: committing again would
                        // write twice, so every caller learns of the fault.
                        let message = format!("{what}: {} answers for {} writes", outputs.len(), items.len());
                        for done in answers {
                            let _ = done.send(Err(StoreError::Corrupt(message.clone())));
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, writes = items.len(), what, "batched commit failed; committing one by one");
                        for (item, done) in items.iter().zip(answers) {
                            let _ = done.send(committer.commit_one(item).await);
                        }
                    }
                }
            }
        });
        Self { queue, what }
    }

    /// Commits `item` with whatever else is waiting; returns once it is committed.
    pub(crate) async fn submit(&self, item: C::Item) -> Result<C::Output, StoreError> {
        let (done, answer) = oneshot::channel();
        let closed = || StoreError::Unavailable(format!("the {} writer has stopped", self.what));
        self.queue.send(Pending { item, done }).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}
