//! The audit chain catches every kind of tampering: a changed entry, a deleted one,
//! reordered ones, a truncated log, and a rewritten tail whose hashes were recomputed.

use std::sync::Arc;

use custos_engine::audit::{self, ChainBreak};
use custos_store::{KeyStore, NewAuditEntry, Store, SubjectId, audit_hash};
use custos_testkit::{TestDb, on_both_backends};
use serde_json::json;

on_both_backends!(
    an_untouched_chain_verifies,
    a_changed_entry_is_caught,
    a_deleted_entry_is_caught,
    reordered_entries_are_caught,
    a_truncated_log_is_caught,
    a_recomputed_tail_is_caught_by_the_anchor,
);

/// Five entries, each appended with the anchor moved to it at once (`audit::append`).
async fn five(store: &Arc<dyn Store>, db: &TestDb) -> Arc<dyn KeyStore> {
    let keys = db.keys().await;
    for n in 1..=5 {
        let entry = NewAuditEntry {
            at: jiff::Timestamp::from_second(1_800_000_000 + n).expect("time"),
            actor: "service:web".into(),
            action: "record.read".into(),
            subject_id: Some(SubjectId::new()),
            purpose: Some("support".into()),
            detail: json!({"outcome": "allowed", "n": n}),
        };
        audit::append(store, &keys, &entry).await.expect("append");
    }
    keys
}

async fn first_break(store: &Arc<dyn Store>, keys: &Arc<dyn KeyStore>) -> Option<ChainBreak> {
    // A small page size walks the chain across several pages.
    audit::verify(store, keys, 2).await.expect("verify").first_break
}

async fn an_untouched_chain_verifies(store: Arc<dyn Store>, db: &TestDb) {
    let keys = five(&store, db).await;
    let report = audit::verify(&store, &keys, 2).await.expect("verify");
    assert_eq!((report.entries, report.first_break), (5, None));
}

async fn a_changed_entry_is_caught(store: Arc<dyn Store>, db: &TestDb) {
    let keys = five(&store, db).await;
    db.execute_raw("UPDATE audit_log SET action = 'record.write' WHERE seq = 3").await;
    assert_eq!(first_break(&store, &keys).await, Some(ChainBreak::Altered { seq: 3 }));
}

async fn a_deleted_entry_is_caught(store: Arc<dyn Store>, db: &TestDb) {
    let keys = five(&store, db).await;
    db.execute_raw("DELETE FROM audit_log WHERE seq = 3").await;
    assert_eq!(first_break(&store, &keys).await, Some(ChainBreak::Broken { seq: 4, previous: 2 }));
}

async fn reordered_entries_are_caught(store: Arc<dyn Store>, db: &TestDb) {
    let keys = five(&store, db).await;
    db.execute_raw("UPDATE audit_log SET seq = 100 WHERE seq = 3").await;
    db.execute_raw("UPDATE audit_log SET seq = 3 WHERE seq = 4").await;
    db.execute_raw("UPDATE audit_log SET seq = 4 WHERE seq = 100").await;
    assert_eq!(first_break(&store, &keys).await, Some(ChainBreak::Broken { seq: 3, previous: 2 }));
}

async fn a_truncated_log_is_caught(store: Arc<dyn Store>, db: &TestDb) {
    let keys = five(&store, db).await;
    db.execute_raw("DELETE FROM audit_log WHERE seq >= 4").await;
    assert_eq!(first_break(&store, &keys).await, Some(ChainBreak::Truncated { last: 3, anchored: 5 }));
}

async fn a_recomputed_tail_is_caught_by_the_anchor(store: Arc<dyn Store>, db: &TestDb) {
    let keys = five(&store, db).await;
    // Someone with write access to the main database edits entry 4 and recomputes the
    // hashes of 4 and 5 so that the chain itself is consistent again.
    let entries = store.audit_entries(0, 10).await.expect("read");
    let mut edited = entries[3].entry.clone();
    edited.action = "record.write".into();
    let h4 = audit_hash(4, &entries[2].hash, &edited);
    let h5 = audit_hash(5, &h4, &entries[4].entry);
    let hex = |h: &[u8; 32]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let blob = |h: &[u8; 32]| match db.url().backend() {
        custos_store::Backend::Sqlite => format!("X'{}'", hex(h)),
        custos_store::Backend::Postgres => format!("'\\x{}'::bytea", hex(h)),
    };
    db.execute_raw(&format!("UPDATE audit_log SET action = 'record.write', hash = {} WHERE seq = 4", blob(&h4))).await;
    db.execute_raw(&format!("UPDATE audit_log SET prev_hash = {}, hash = {} WHERE seq = 5", blob(&h4), blob(&h5)))
        .await;
    assert_eq!(first_break(&store, &keys).await, Some(ChainBreak::AnchorMismatch { seq: 5 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_through_the_auditor_keep_one_chain() {
    let db = TestDb::from_env().await;
    let store = db.store().await;
    let keys = db.keys().await;
    let auditor = audit::Auditor::spawn(store.clone(), keys.clone());
    let mut writers = Vec::new();
    for w in 0..16 {
        let auditor = auditor.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..25 {
                let entry = NewAuditEntry {
                    at: jiff::Timestamp::now(),
                    actor: format!("service:w{w}"),
                    action: "record.read".into(),
                    subject_id: None,
                    purpose: None,
                    detail: json!({"n": n}),
                };
                auditor.append(entry).await.expect("append");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("join");
    }
    let report = audit::verify(&store, &keys, 100).await.expect("verify");
    assert_eq!((report.entries, report.first_break), (400, None));
    auditor.settle().await.expect("settle");
    assert_eq!(keys.audit_anchor().await.expect("anchor").map(|(seq, _)| seq), Some(400));
}

fn entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: jiff::Timestamp::now(),
        actor: "service:web".into(),
        action: "record.read".into(),
        subject_id: Some(SubjectId::new()),
        purpose: Some("support".into()),
        detail: json!({"n": n}),
    }
}

/// The anchor's task copies the head within its interval, never moves the anchor back, and
/// copies the last head when the last handle is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anchor_follows_the_head_and_keeps_the_last_one() {
    let db = TestDb::from_env().await;
    let store = db.store().await;
    let keys = db.keys().await;
    let anchored = || async { keys.audit_anchor().await.expect("anchor").map(|(seq, _)| seq) };
    let auditor = audit::Auditor::spawn(store.clone(), keys.clone());
    let mut last = 0;
    for n in 0..5 {
        last = auditor.append(entry(n)).await.expect("append").seq;
    }
    // Within the interval, give or take a loaded machine.
    let deadline = std::time::Instant::now() + audit::ANCHOR_INTERVAL * 200;
    while anchored().await != Some(last) {
        assert!(std::time::Instant::now() < deadline, "the anchor did not reach entry {last}");
        tokio::time::sleep(audit::ANCHOR_INTERVAL).await;
    }
    // An older head handed over late does not move it back.
    let older = store.audit_entries(0, 1).await.expect("entries");
    auditor.anchor().advance(&older);
    auditor.settle().await.expect("settle");
    assert_eq!(anchored().await, Some(last));
    // The last head is copied when the last handle goes, though the interval has not passed.
    let appended = auditor.append(entry(5)).await.expect("append");
    let anchor = auditor.anchor().clone();
    drop(auditor);
    drop(anchor);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while anchored().await != Some(appended.seq) {
        assert!(std::time::Instant::now() < deadline, "the last head was not copied");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let report = audit::verify(&store, &keys, 100).await.expect("verify");
    assert_eq!((report.entries, report.first_break), (6, None));
}
