use std::sync::Arc;

use custos_store::{IdentifierKind, NewRecord, Store, StoreError, SubjectId};
use custos_testkit::{TestDb, on_both_backends};

use crate::{at, index, user};

on_both_backends!(
    creates_and_finds_a_subject_by_identifier,
    an_identifier_belongs_to_one_subject,
    a_failed_creation_stores_nothing,
    adding_identifiers,
    deleting_a_subject_deletes_everything_about_them,
);

async fn creates_and_finds_a_subject_by_identifier(store: Arc<dyn Store>, _db: &TestDb) {
    let subject = user();
    store
        .create_subject(&subject, &[(IdentifierKind::Email, index(1)), (IdentifierKind::CookieId, index(2))])
        .await
        .expect("create");
    let stored = store.subject(subject.id).await.expect("read").expect("exists");
    assert_eq!((stored.id, stored.kind, stored.created_at), (subject.id, subject.kind, subject.created_at));
    assert_eq!(store.find_subject(IdentifierKind::Email, &index(1)).await.expect("find"), Some(subject.id));
    assert_eq!(store.find_subject(IdentifierKind::CookieId, &index(2)).await.expect("find"), Some(subject.id));
    // The same bytes under another kind are another identifier.
    assert_eq!(store.find_subject(IdentifierKind::Phone, &index(1)).await.expect("find"), None);
    assert_eq!(store.subject(SubjectId::new()).await.expect("read"), None);
    let mut ids = store.identifiers(subject.id).await.expect("identifiers");
    ids.sort_by_key(|(kind, _)| kind.as_str());
    assert_eq!(ids, vec![(IdentifierKind::CookieId, index(2)), (IdentifierKind::Email, index(1))]);
}

async fn an_identifier_belongs_to_one_subject(store: Arc<dyn Store>, _db: &TestDb) {
    let first = user();
    store.create_subject(&first, &[(IdentifierKind::Email, index(7))]).await.expect("create");
    let second = user();
    let err = store.create_subject(&second, &[(IdentifierKind::Email, index(7))]).await.expect_err("taken");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    store.create_subject(&second, &[]).await.expect("create without identifiers");
    let err = store.add_identifier(second.id, IdentifierKind::Email, &index(7), at(1)).await.expect_err("taken");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    let err = store.create_subject(&first, &[]).await.expect_err("same id twice");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn a_failed_creation_stores_nothing(store: Arc<dyn Store>, _db: &TestDb) {
    let holder = user();
    store.create_subject(&holder, &[(IdentifierKind::Email, index(9))]).await.expect("create");
    let late = user();
    let err = store
        .create_subject(&late, &[(IdentifierKind::Phone, index(3)), (IdentifierKind::Email, index(9))])
        .await
        .expect_err("second identifier taken");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.subject(late.id).await.expect("read"), None, "the subject row was rolled back");
    assert_eq!(store.find_subject(IdentifierKind::Phone, &index(3)).await.expect("find"), None, "so was the phone");
}

async fn adding_identifiers(store: Arc<dyn Store>, _db: &TestDb) {
    let subject = user();
    store.create_subject(&subject, &[]).await.expect("create");
    store.add_identifier(subject.id, IdentifierKind::Phone, &index(4), at(5)).await.expect("add");
    store.add_identifier(subject.id, IdentifierKind::Phone, &index(4), at(6)).await.expect("adding again is fine");
    assert_eq!(store.identifiers(subject.id).await.expect("list"), vec![(IdentifierKind::Phone, index(4))]);
    let err =
        store.add_identifier(SubjectId::new(), IdentifierKind::Phone, &index(5), at(5)).await.expect_err("no subject");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn deleting_a_subject_deletes_everything_about_them(store: Arc<dyn Store>, _db: &TestDb) {
    let gone = user();
    let kept = user();
    store.create_subject(&gone, &[(IdentifierKind::Email, index(1))]).await.expect("create");
    store.create_subject(&kept, &[(IdentifierKind::Email, index(2))]).await.expect("create");
    for subject in [gone.id, kept.id] {
        store
            .put_record(&NewRecord {
                subject_id: subject,
                record_id: uuid::Uuid::new_v4(),
                category: "user.contact.email".into(),
                purpose: "account".into(),
                policy_version: "v1".into(),
                sealed: vec![1, 2, 3],
                created_at: at(0),
                expires_at: None,
            })
            .await
            .expect("put");
    }
    assert!(store.delete_subject(gone.id).await.expect("delete"));
    assert!(!store.delete_subject(gone.id).await.expect("delete again"), "already gone");
    assert_eq!(store.subject(gone.id).await.expect("read"), None);
    assert_eq!(store.find_subject(IdentifierKind::Email, &index(1)).await.expect("find"), None);
    assert!(store.records(gone.id).await.expect("records").is_empty());
    assert_eq!(store.records(kept.id).await.expect("records").len(), 1, "others are untouched");
    assert_eq!(store.find_subject(IdentifierKind::Email, &index(2)).await.expect("find"), Some(kept.id));
}
