use std::sync::Arc;

use custos_store::{PendingConfirmation, Store, StoreError};
use custos_testkit::{TestDb, on_both_backends};

use crate::at;

on_both_backends!(a_pending_confirmation_is_taken_once_and_not_after_its_expiry, writing_one_purges_the_expired);

fn pending(created: i64, expires: i64) -> PendingConfirmation {
    PendingConfirmation {
        id: uuid::Uuid::new_v4(),
        sealed: vec![7; 40],
        created_at: at(created),
        expires_at: at(expires),
    }
}

async fn a_pending_confirmation_is_taken_once_and_not_after_its_expiry(store: Arc<dyn Store>, _db: &TestDb) {
    let p = pending(0, 1_000);
    store.put_confirmation(&p).await.expect("put");
    assert!(matches!(store.put_confirmation(&p).await, Err(StoreError::Conflict(_))), "ids are unique");
    assert_eq!(store.confirmation(p.id, at(10)).await.expect("read"), Some(p.clone()));
    assert_eq!(store.confirmation(p.id, at(1_000)).await.expect("read"), None, "expired at its expiry");
    assert_eq!(store.take_confirmation(p.id, at(1_000)).await.expect("take"), None, "an expired one is not taken");
    assert_eq!(store.take_confirmation(p.id, at(999)).await.expect("take"), Some(p.clone()));
    assert_eq!(store.take_confirmation(p.id, at(999)).await.expect("take"), None, "taken once");
    assert_eq!(store.confirmation(p.id, at(10)).await.expect("read"), None, "gone once taken");
    assert_eq!(store.take_confirmation(uuid::Uuid::new_v4(), at(10)).await.expect("take"), None);
}

async fn writing_one_purges_the_expired(store: Arc<dyn Store>, _db: &TestDb) {
    let old = pending(0, 1_000);
    let live = pending(0, 5_000);
    store.put_confirmation(&old).await.expect("put");
    store.put_confirmation(&live).await.expect("put");
    let late = pending(2_000, 9_000);
    store.put_confirmation(&late).await.expect("put");
    assert_eq!(store.take_confirmation(old.id, at(0)).await.expect("take"), None, "purged when `late` was written");
    assert_eq!(store.confirmation(live.id, at(2_000)).await.expect("read"), Some(live.clone()));
    assert_eq!(store.purge_confirmations(at(6_000)).await.expect("purge"), 1, "`live` expired at 5,000");
    assert_eq!(store.confirmation(late.id, at(6_000)).await.expect("read"), Some(late));
}
