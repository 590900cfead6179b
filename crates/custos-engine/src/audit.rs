//! The audit trail (seed 4): every read (allowed or refused), write, erasure and other
//! access to personal data appends an entry to the hash-chained log; [`verify`] walks the
//! chain and names the first entry that was edited, removed, reordered or cut off.
//!
//! After each append the head of the chain (sequence and hash) is copied to the key
//! store, a database apart from the log: truncating the log in the main database leaves
//! the anchor pointing past its end, which [`verify`] reports.

use std::sync::Arc;

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
}

struct AuditCommitter {
    store: Arc<dyn Store>,
    keys: Arc<dyn KeyStore>,
}

#[async_trait]
impl Committer for AuditCommitter {
    type Item = NewAuditEntry;
    type Output = AuditEntry;

    async fn commit(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditEntry>, StoreError> {
        let stored = self.store.append_audit_batch(entries).await?;
        advance_anchor(&self.keys, &stored).await;
        Ok(stored)
    }

    async fn commit_one(&self, entry: &NewAuditEntry) -> Result<AuditEntry, StoreError> {
        append(&self.store, &self.keys, entry).await
    }
}

impl Auditor {
    /// Starts the appender task on the current runtime; it ends when the last handle is dropped.
    pub fn spawn(store: Arc<dyn Store>, keys: Arc<dyn KeyStore>) -> Self {
        Self { writer: GroupCommit::spawn(AuditCommitter { store, keys }, MAX_BATCH, "audit") }
    }

    /// Appends `entry`; returns once it is committed.
    pub async fn append(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.writer.submit(entry).await
    }
}

/// Moves the anchor in `keys` to the last of `appended`, entries a batch just committed. A
/// failure is logged, not returned: the entries are stored, and the next batch moves it.
pub(crate) async fn advance_anchor(keys: &Arc<dyn KeyStore>, appended: &[AuditEntry]) {
    if let Some(last) = appended.last()
        && let Err(error) = keys.advance_audit_anchor(last.seq, &last.hash, last.entry.at).await
    {
        tracing::warn!(%error, "could not move the audit anchor; the entries are stored");
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
