use std::sync::Arc;

use custos_store::Store;
use custos_testkit::{TestDb, on_both_backends};

on_both_backends!(migrating_again_applies_nothing, concurrent_starts_migrate_once);

async fn migrating_again_applies_nothing(store: Arc<dyn Store>, _db: &TestDb) {
    assert_eq!(store.migrate().await.expect("migrate again"), vec![]);
    store.ping().await.expect("ping");
}

async fn concurrent_starts_migrate_once(_store: Arc<dyn Store>, db: &TestDb) {
    // Several processes starting together on a database nobody has migrated yet: the key
    // store's database is still empty here. Each process opens its own pool.
    let mut starts = Vec::new();
    for _ in 0..4 {
        let url = db.keys_url().clone();
        starts.push(tokio::spawn(async move {
            let options = custos_store::ConnectOptions { migrate: false, ..Default::default() };
            let keys = custos_store::connect_keys(&url, &options).await.expect("connect");
            keys.migrate_keys().await.expect("migrate").len()
        }));
    }
    let mut applied = Vec::new();
    for start in starts {
        applied.push(start.await.expect("join"));
    }
    applied.sort();
    assert_eq!(applied, vec![0, 0, 0, 1], "exactly one start applied the migration, under the lock");
}
