use std::sync::Arc;

use custos_store::{DataKeyLookup, Store, StoreError, StoredDataKey, StoredSystemKey, SubjectId};
use custos_testkit::{TestDb, on_both_backends};

use crate::at;

on_both_backends!(
    data_keys_are_stored_once_and_destroyed_for_good,
    keys_are_listed_and_rewrapped_by_master_key,
    system_keys_keep_the_first_one_stored,
    the_audit_anchor_only_moves_forward,
    migrating_the_key_store_again_applies_nothing,
);

fn key(subject: SubjectId, master: &str, byte: u8) -> StoredDataKey {
    StoredDataKey { subject_id: subject, master_key_id: master.into(), wrapped: vec![byte; 90], created_at: at(1) }
}

async fn data_keys_are_stored_once_and_destroyed_for_good(_store: Arc<dyn Store>, db: &TestDb) {
    let keys = db.keys().await;
    let subject = SubjectId::new();
    assert_eq!(keys.data_key(subject).await.expect("lookup"), DataKeyLookup::Missing);
    keys.put_data_key(&key(subject, "mk-1", 7)).await.expect("put");
    assert_eq!(keys.data_key(subject).await.expect("lookup"), DataKeyLookup::Found(key(subject, "mk-1", 7)));
    let err = keys.put_data_key(&key(subject, "mk-1", 8)).await.expect_err("one key per subject");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(keys.destroy_data_key(subject, at(50)).await.expect("destroy"));
    assert_eq!(keys.data_key(subject).await.expect("lookup"), DataKeyLookup::Erased(at(50)));
    let err = keys.put_data_key(&key(subject, "mk-1", 9)).await.expect_err("an erased subject gets no new key");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(!keys.destroy_data_key(subject, at(60)).await.expect("destroy again"));
    assert_eq!(keys.data_key(subject).await.expect("lookup"), DataKeyLookup::Erased(at(50)), "first erasure kept");
}

async fn keys_are_listed_and_rewrapped_by_master_key(_store: Arc<dyn Store>, db: &TestDb) {
    let keys = db.keys().await;
    let mut subjects: Vec<SubjectId> = (0..7).map(|_| SubjectId::new()).collect();
    subjects.sort();
    for s in &subjects {
        keys.put_data_key(&key(*s, "mk-old", 1)).await.expect("put");
    }
    let first = keys.data_keys_under("mk-old", None, 4).await.expect("page");
    assert_eq!(first.iter().map(|k| k.subject_id).collect::<Vec<_>>(), subjects[..4]);
    let rest = keys.data_keys_under("mk-old", Some(subjects[3]), 4).await.expect("page");
    assert_eq!(rest.iter().map(|k| k.subject_id).collect::<Vec<_>>(), subjects[4..]);
    assert!(keys.rewrap_data_key(&key(subjects[0], "mk-new", 2), "mk-old").await.expect("rewrap"));
    assert!(!keys.rewrap_data_key(&key(subjects[0], "mk-newer", 3), "mk-old").await.expect("rewrap"), "already moved");
    assert_eq!(
        keys.count_data_keys_by_master().await.expect("count"),
        vec![("mk-new".into(), 1), ("mk-old".into(), 6)]
    );
    assert_eq!(keys.data_key(subjects[0]).await.expect("lookup"), DataKeyLookup::Found(key(subjects[0], "mk-new", 2)));
}

async fn system_keys_keep_the_first_one_stored(_store: Arc<dyn Store>, db: &TestDb) {
    let keys = db.keys().await;
    let first = StoredSystemKey {
        name: "blind-index".into(),
        master_key_id: "mk-1".into(),
        wrapped: vec![1; 90],
        created_at: at(1),
    };
    assert_eq!(keys.put_system_key(&first).await.expect("put"), first);
    let second = StoredSystemKey { wrapped: vec![2; 90], ..first.clone() };
    assert_eq!(keys.put_system_key(&second).await.expect("put"), first, "a racing process gets the first key");
    let moved = StoredSystemKey { master_key_id: "mk-2".into(), wrapped: vec![3; 90], ..first.clone() };
    assert!(keys.rewrap_system_key(&moved, "mk-1").await.expect("rewrap"));
    assert_eq!(keys.system_keys().await.expect("list"), vec![moved]);
}

async fn the_audit_anchor_only_moves_forward(_store: Arc<dyn Store>, db: &TestDb) {
    let keys = db.keys().await;
    assert_eq!(keys.audit_anchor().await.expect("read"), None);
    keys.advance_audit_anchor(5, &[5; 32], at(1)).await.expect("advance");
    keys.advance_audit_anchor(3, &[3; 32], at(2)).await.expect("older");
    assert_eq!(keys.audit_anchor().await.expect("read"), Some((5, [5; 32])));
    keys.advance_audit_anchor(9, &[9; 32], at(3)).await.expect("advance");
    assert_eq!(keys.audit_anchor().await.expect("read"), Some((9, [9; 32])));
}

async fn migrating_the_key_store_again_applies_nothing(_store: Arc<dyn Store>, db: &TestDb) {
    let keys = db.keys().await;
    assert_eq!(keys.migrate_keys().await.expect("again"), vec![]);
}

#[tokio::test]
async fn batch_rewrap_on_sqlite() {
    let db = TestDb::sqlite();
    let keys = db.keys().await;
    let subjects: Vec<SubjectId> = (0..3).map(|_| SubjectId::new()).collect();
    for s in &subjects {
        keys.put_data_key(&key(*s, "mk-old", 1)).await.expect("put");
    }
    let batch: Vec<StoredDataKey> = subjects.iter().map(|s| key(*s, "mk-new", 2)).collect();
    assert_eq!(keys.rewrap_data_keys(&batch, "mk-old").await.expect("rewrap"), 3);
    assert_eq!(keys.rewrap_data_keys(&batch, "mk-old").await.expect("again"), 0, "already moved");
    assert_eq!(keys.count_data_keys_by_master().await.expect("count"), vec![("mk-new".into(), 3)]);
}
