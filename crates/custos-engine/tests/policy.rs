//! Publishing the policy stores each version once; past versions can be read and diffed.

use std::sync::Arc;

use custos_engine::policy::{self, PolicyHistoryError};
use custos_policy::Policy;
use custos_store::Store;
use custos_testkit::{TestDb, on_both_backends};
use jiff::Timestamp;

on_both_backends!(publishing_keeps_every_version_and_diffs_them);

async fn publishing_keeps_every_version_and_diffs_them(store: Arc<dyn Store>, _db: &TestDb) {
    let first = Policy::example();
    let now = Timestamp::from_second(1_800_000_000).expect("valid");
    let (v1, new) = policy::publish(&store, &first, now).await.expect("publish");
    assert!(new);
    let (again, new) = policy::publish(&store, &first, now).await.expect("publish again");
    assert_eq!((again, new), (v1.clone(), false), "a restart with the same policy adds nothing");

    let text = custos_policy::EXAMPLE_TOML.replacen("Thirteen months lets us", "Thirteen months let us", 1);
    let second = Policy::from_toml(&text, "second.toml").expect("valid");
    let (v2, new) = policy::publish(&store, &second, now).await.expect("publish");
    assert!(new);
    let hashes: Vec<String> = policy::history(&store).await.expect("history").into_iter().map(|v| v.hash).collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&v1.hash) && hashes.contains(&v2.hash));
    assert_eq!(policy::version(&store, &v1.hash).await.expect("read"), first);
    let diff = policy::diff(&store, &v1.hash, &v2.hash).await.expect("diff");
    assert_eq!(diff.retention.changed, vec!["analytics".to_owned()]);
    assert!(diff.purposes.is_empty());
    assert!(matches!(policy::version(&store, "nope").await, Err(PolicyHistoryError::UnknownVersion(_))));
}
