use std::sync::Arc;

use custos_store::{GENESIS_HASH, NewAuditEntry, Store, SubjectId, audit_hash};
use custos_testkit::{TestDb, on_both_backends};
use serde_json::json;

use crate::at;

on_both_backends!(appends_a_hash_chain, concurrent_appends_keep_one_chain);

fn entry(n: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: at(n),
        actor: "service:web".into(),
        action: "record.read".into(),
        subject_id: Some(SubjectId::new()),
        purpose: Some("support".into()),
        detail: json!({"records": n, "route": "/v1/records"}),
    }
}

async fn appends_a_hash_chain(store: Arc<dyn Store>, _db: &TestDb) {
    let first = store.append_audit(&entry(1)).await.expect("append");
    let second =
        store.append_audit(&NewAuditEntry { subject_id: None, purpose: None, ..entry(2) }).await.expect("append");
    assert_eq!((first.seq, first.prev_hash), (1, GENESIS_HASH));
    assert_eq!((second.seq, second.prev_hash), (2, first.hash));
    assert_eq!(first.hash, audit_hash(1, &GENESIS_HASH, &first.entry));
    let stored = store.audit_entries(0, 10).await.expect("read");
    assert_eq!(stored, vec![first.clone(), second.clone()]);
    for e in &stored {
        assert_eq!(e.hash, audit_hash(e.seq, &e.prev_hash, &e.entry), "stored entries re-hash to their hash");
    }
    assert_eq!(store.audit_entries(1, 10).await.expect("read"), vec![second]);
}

async fn concurrent_appends_keep_one_chain(store: Arc<dyn Store>, db: &TestDb) {
    let stores = [store.clone(), db.store().await];
    let mut writers = Vec::new();
    for (w, store) in stores.iter().cycle().take(6).enumerate() {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..15 {
                store.append_audit(&entry((w * 100 + n) as i64)).await.expect("append");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("join");
    }
    let chain = store.audit_entries(0, 1_000).await.expect("read");
    assert_eq!(chain.len(), 90);
    let mut prev = GENESIS_HASH;
    for (i, e) in chain.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "no gaps");
        assert_eq!(e.prev_hash, prev, "no forks at {}", e.seq);
        assert_eq!(e.hash, audit_hash(e.seq, &e.prev_hash, &e.entry));
        prev = e.hash;
    }
}
