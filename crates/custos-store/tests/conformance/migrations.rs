use std::sync::Arc;

use custos_store::Store;
use custos_testkit::{TestDb, on_both_backends};

on_both_backends!(migrating_again_applies_nothing, concurrent_starts_migrate_once);

async fn migrating_again_applies_nothing(store: Arc<dyn Store>, _db: &TestDb) {
    assert_eq!(store.migrate().await.expect("migrate again"), vec![]);
    store.ping().await.expect("ping");
}

async fn concurrent_starts_migrate_once(_store: Arc<dyn Store>, db: &TestDb) {
    // Several processes starting together on one database: each opens its own pool.
    let mut starts = Vec::new();
    for _ in 0..4 {
        let url = db.url().clone();
        starts.push(tokio::spawn(async move {
            let options = custos_store::ConnectOptions { migrate: false, ..Default::default() };
            let store = custos_store::connect(&url, &options).await.expect("connect");
            store.migrate().await.expect("migrate")
        }));
    }
    for start in starts {
        assert_eq!(start.await.expect("join"), vec![], "the first store already migrated");
    }
}
