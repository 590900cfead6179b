use std::sync::Arc;

use custos_store::{NewRecord, Store, StoreError, SubjectId};
use custos_testkit::{TestDb, on_both_backends};

use crate::{at, user};

on_both_backends!(stores_and_reads_records_in_order, records_need_a_subject_and_a_unique_id, deletes_one_record);

fn record(subject_id: SubjectId, created: i64) -> NewRecord {
    NewRecord {
        subject_id,
        record_id: uuid::Uuid::new_v4(),
        category: "user.contact.phone_number".into(),
        purpose: "support".into(),
        policy_version: "3f2a".into(),
        sealed: vec![0xde, 0xad, created as u8],
        created_at: at(created),
        expires_at: Some(at(created + 86_400_000)),
    }
}

async fn stores_and_reads_records_in_order(store: Arc<dyn Store>, _db: &TestDb) {
    let subject = user();
    store.create_subject(&subject, &[]).await.expect("create");
    let later = record(subject.id, 20);
    let earlier = NewRecord { expires_at: None, ..record(subject.id, 10) };
    store.put_record(&later).await.expect("put");
    store.put_record(&earlier).await.expect("put");
    let stored = store.records(subject.id).await.expect("records");
    assert_eq!(stored.len(), 2);
    for (got, want) in stored.iter().zip([&earlier, &later]) {
        assert_eq!(got.record_id, want.record_id);
        assert_eq!(got.category, want.category);
        assert_eq!(got.purpose, want.purpose);
        assert_eq!(got.policy_version, want.policy_version);
        assert_eq!(got.sealed, want.sealed);
        assert_eq!(got.created_at, want.created_at);
        assert_eq!(got.expires_at, want.expires_at);
    }
}

async fn records_need_a_subject_and_a_unique_id(store: Arc<dyn Store>, _db: &TestDb) {
    let err = store.put_record(&record(SubjectId::new(), 0)).await.expect_err("no subject");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    let subject = user();
    store.create_subject(&subject, &[]).await.expect("create");
    let first = record(subject.id, 0);
    store.put_record(&first).await.expect("put");
    let err = store.put_record(&NewRecord { sealed: vec![9], ..first.clone() }).await.expect_err("same id");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let stored = store.records(subject.id).await.expect("records");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].sealed, first.sealed, "the failed write changed nothing");
}

async fn deletes_one_record(store: Arc<dyn Store>, _db: &TestDb) {
    let subject = user();
    store.create_subject(&subject, &[]).await.expect("create");
    let a = record(subject.id, 0);
    let b = record(subject.id, 1);
    store.put_record(&a).await.expect("put");
    store.put_record(&b).await.expect("put");
    assert!(store.delete_record(subject.id, a.record_id).await.expect("delete"));
    assert!(!store.delete_record(subject.id, a.record_id).await.expect("delete again"));
    let left: Vec<_> = store.records(subject.id).await.expect("records").into_iter().map(|r| r.record_id).collect();
    assert_eq!(left, vec![b.record_id]);
}
