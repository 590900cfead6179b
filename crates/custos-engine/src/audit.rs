//! The audit trail (seed 4): every read (allowed or refused), write, erasure and other
//! access to personal data appends an entry to the hash-chained log; [`verify`] walks the
//! chain and names the first entry that was edited, removed, reordered or cut off.
//!
//! The head of the chain (sequence and hash) is copied to the key store, a database apart
//! from the log: truncating the log in the main database leaves the anchor pointing past
//! its end, which [`verify`] reports. The group-commit writers hand each batch's head to
//! one [`Anchor`] task, which copies the latest head at most every [`ANCHOR_INTERVAL`],
//! off the writers' path; [`Auditor::settle`] copies it at once (at shutdown, say).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use custos_store::{AuditEntry, GENESIS_HASH, KeyStore, NewAuditEntry, Store, StoreError, audit_hash};

use crate::group_commit::{Committer, GroupCommit};

/// The most entries one transaction appends.
const MAX_BATCH: usize = 512;

/// Appends audit entries with group commit (see the `group_commit` module): the entries of
/// concurrent callers in this process share one transaction, and each caller gets its
/// answer once that transaction is committed.
#[derive(Debug, Clone)]
pub struct Auditor {
    writer: GroupCommit<AuditCommitter>,
    anchor: Anchor,
}

struct AuditCommitter {
    store: Arc<dyn Store>,
    anchor: Anchor,
}

#[async_trait]
impl Committer for AuditCommitter {
    type Item = NewAuditEntry;
    type Output = AuditEntry;

    async fn commit(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditEntry>, StoreError> {
        let stored = self.store.append_audit_batch(entries).await?;
        self.anchor.advance(&stored);
        Ok(stored)
    }

    async fn commit_one(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let stored = self.store.append_audit(entry).await?;
        self.anchor.advance(std::slice::from_ref(&stored));
        Ok(stored)
    }
}

impl Auditor {
    /// Starts the appender task and the anchor's task on the current runtime; they end
    /// when the last handle is dropped.
    pub fn spawn(store: Arc<dyn Store>, keys: Arc<dyn KeyStore>) -> Self {
        let anchor = Anchor::spawn(keys);
        let writer = GroupCommit::spawn(AuditCommitter { store, anchor: anchor.clone() }, MAX_BATCH, "audit");
        Self { writer, anchor }
    }

    /// Appends `entry`; returns once it is committed.
    pub async fn append(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.writer.submit(entry).await
    }

    /// The anchor, for the other writers that append to the chain in their own
    /// transactions (the consent ledger, analytics).
    pub fn anchor(&self) -> &Anchor {
        &self.anchor
    }

    /// Copies the head of the chain, as far as it was appended through this process, to the
    /// key store now, without waiting for the anchor's task.
    pub async fn settle(&self) -> Result<(), StoreError> {
        self.anchor.settle().await
    }
}

/// How long the anchor may lag the chain's head while entries are being appended: the
/// anchor's task copies the latest head, then waits this long before the next copy. Under
/// load one key-store write then covers many commits, instead of one write per commit on
/// every writer's path (measured: docs/perf/profiles.md, "Fifth pass"). A crash can leave
/// the anchor this far behind; what was appended after it is still chained and checked,
/// but could be cut off the end without [`verify`] noticing.
pub const ANCHOR_INTERVAL: Duration = Duration::from_millis(10);

/// The head of the chain as the last commit left it.
#[derive(Debug, Clone, Copy)]
struct Head {
    seq: i64,
    hash: [u8; 32],
    at: jiff::Timestamp,
}

/// Keeps the key store's audit anchor at the head of the chain (see the module's
/// documentation). Cloning shares the task; it ends when the last handle is dropped,
/// after copying the last head.
#[derive(Clone)]
pub struct Anchor {
    head: Arc<tokio::sync::watch::Sender<Option<Head>>>,
    /// The highest sequence number copied so far, by the task or by [`Anchor::settle`].
    copied: Arc<std::sync::atomic::AtomicI64>,
    keys: Arc<dyn KeyStore>,
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchor").field("head", &self.head.borrow().map(|h| h.seq)).finish_non_exhaustive()
    }
}

impl Anchor {
    /// Starts the anchor's task on the current runtime.
    pub fn spawn(keys: Arc<dyn KeyStore>) -> Self {
        let (head, heads) = tokio::sync::watch::channel(None);
        let copied = Arc::new(std::sync::atomic::AtomicI64::new(0));
        tokio::spawn(copy_heads(keys.clone(), heads, copied.clone()));
        Self { head: Arc::new(head), copied, keys }
    }

    /// Records that `appended`, entries a transaction just committed, extend the chain; the
    /// task copies the new head within [`ANCHOR_INTERVAL`].
    pub fn advance(&self, appended: &[AuditEntry]) {
        let Some(last) = appended.last() else { return };
        let head = Head { seq: last.seq, hash: last.hash, at: last.entry.at };
        self.head.send_if_modified(|current| {
            let newer = current.is_none_or(|c| c.seq < head.seq);
            if newer {
                *current = Some(head);
            }
            newer
        });
    }

    /// Copies the latest head to the key store now, unless it was copied already.
    pub async fn settle(&self) -> Result<(), StoreError> {
        let head = *self.head.borrow();
        match head {
            Some(h) => copy(&self.keys, &self.copied, h).await,
            None => Ok(()),
        }
    }
}

/// Copies `head` to the key store unless a head as new was copied already.
async fn copy(keys: &Arc<dyn KeyStore>, copied: &std::sync::atomic::AtomicI64, head: Head) -> Result<(), StoreError> {
    use std::sync::atomic::Ordering;
    if copied.load(Ordering::Acquire) >= head.seq {
        return Ok(());
    }
    keys.advance_audit_anchor(head.seq, &head.hash, head.at).await?;
    copied.fetch_max(head.seq, Ordering::AcqRel);
    Ok(())
}

/// The anchor's task: copies each new head, at most one every [`ANCHOR_INTERVAL`], and the
/// last one when every handle is gone (unless [`Anchor::settle`] copied it). The key store
/// keeps the highest it was given, so a late or repeated copy never moves the anchor back.
/// A failure is logged once for each run of failures and tried again with the next head:
/// the entries themselves are stored.
async fn copy_heads(
    keys: Arc<dyn KeyStore>,
    mut heads: tokio::sync::watch::Receiver<Option<Head>>,
    copied: Arc<std::sync::atomic::AtomicI64>,
) {
    let mut failing = false;
    loop {
        let open = heads.changed().await.is_ok();
        let head = *heads.borrow_and_update();
        if let Some(h) = head {
            match copy(&keys, &copied, h).await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!(seq = h.seq, "the audit anchor moves again");
                }
                Ok(()) => {}
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "could not move the audit anchor; the entries are stored");
                }
                Err(_) => {}
            }
        }
        if !open {
            return;
        }
        tokio::time::sleep(ANCHOR_INTERVAL).await;
    }
}

/// Appends `entry` and moves the anchor in `keys` forward.
pub async fn append(
    store: &Arc<dyn Store>,
    keys: &Arc<dyn KeyStore>,
    entry: &NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    let stored = store.append_audit(entry).await?;
    keys.advance_audit_anchor(stored.seq, &stored.hash, entry.at).await?;
    Ok(stored)
}

/// What is wrong with the chain, at the first broken entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's content no longer matches its hash: it was edited.
    #[error("entry {seq} was altered: its content does not match its hash")]
    Altered {
        /// The entry's sequence number.
        seq: i64,
    },
    /// An entry does not follow the one before: entries were removed or reordered.
    #[error("entry {seq} does not follow entry {previous}: entries were removed or reordered")]
    Broken {
        /// The entry's sequence number.
        seq: i64,
        /// The sequence number of the entry before it.
        previous: i64,
    },
    /// The chain ends before the anchored head: entries were cut off the end.
    #[error("the log ends at entry {last} but entry {anchored} was appended: the log was truncated")]
    Truncated {
        /// The last entry present.
        last: i64,
        /// The last entry known to have been appended.
        anchored: i64,
    },
    /// The entry at the anchored position is not the one that was appended there.
    #[error("entry {seq} differs from the one anchored when it was appended")]
    AnchorMismatch {
        /// The entry's sequence number.
        seq: i64,
    },
}

/// The result of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub entries: u64,
    /// The first break, if any.
    pub first_break: Option<ChainBreak>,
}

/// Walks the whole chain in pages of `page` entries and checks every link, then the anchor.
pub async fn verify(store: &Arc<dyn Store>, keys: &Arc<dyn KeyStore>, page: u32) -> Result<Verification, StoreError> {
    let mut checked = 0u64;
    let mut previous: Option<(i64, [u8; 32])> = None;
    let mut after = 0i64;
    let anchor = keys.audit_anchor().await?;
    loop {
        let entries = store.audit_entries(after, page.max(1)).await?;
        let Some(last) = entries.last() else { break };
        after = last.seq;
        for e in &entries {
            checked += 1;
            let (expected_seq, expected_prev) = previous.map_or((1, GENESIS_HASH), |(seq, hash)| (seq + 1, hash));
            if e.seq != expected_seq || e.prev_hash != expected_prev {
                return Ok(Verification {
                    entries: checked,
                    first_break: Some(ChainBreak::Broken { seq: e.seq, previous: previous.map_or(0, |(s, _)| s) }),
                });
            }
            if audit_hash(e.seq, &e.prev_hash, &e.entry) != e.hash {
                return Ok(Verification { entries: checked, first_break: Some(ChainBreak::Altered { seq: e.seq }) });
            }
            if anchor.is_some_and(|(seq, hash)| seq == e.seq && hash != e.hash) {
                return Ok(Verification {
                    entries: checked,
                    first_break: Some(ChainBreak::AnchorMismatch { seq: e.seq }),
                });
            }
            previous = Some((e.seq, e.hash));
        }
    }
    let last = previous.map_or(0, |(seq, _)| seq);
    let first_break = match anchor {
        Some((anchored, _)) if anchored > last => Some(ChainBreak::Truncated { last, anchored }),
        _ => None,
    };
    Ok(Verification { entries: checked, first_break })
}

/// Entries from `after` on, for export.
pub async fn export(store: &Arc<dyn Store>, after: i64, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
    store.audit_entries(after, limit).await
}
