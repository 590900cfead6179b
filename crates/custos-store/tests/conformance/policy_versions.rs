use std::sync::Arc;

use custos_store::{Store, StoredPolicyVersion};
use custos_testkit::{TestDb, on_both_backends};

use crate::at;

on_both_backends!(stores_each_version_once_and_lists_them_in_order);

fn version(hash: &str, seen: i64) -> StoredPolicyVersion {
    StoredPolicyVersion {
        hash: hash.into(),
        label: format!("label {hash}"),
        effective: "2026-11-29".into(),
        canonical: format!("{{\"v\":\"{hash}\"}}"),
        first_seen_at: at(seen),
    }
}

async fn stores_each_version_once_and_lists_them_in_order(store: Arc<dyn Store>, _db: &TestDb) {
    assert!(store.record_policy_version(&version("bbb", 20)).await.expect("record"));
    assert!(store.record_policy_version(&version("aaa", 10)).await.expect("record"));
    let again = StoredPolicyVersion { label: "relabelled".into(), ..version("aaa", 30) };
    assert!(!store.record_policy_version(&again).await.expect("record"), "a version is stored once");
    let listed: Vec<(String, String)> =
        store.policy_versions().await.expect("list").into_iter().map(|v| (v.hash, v.label)).collect();
    assert_eq!(listed, vec![("aaa".into(), "label aaa".into()), ("bbb".into(), "label bbb".into())]);
    let one = store.policy_version("bbb").await.expect("read").expect("exists");
    assert_eq!(one, version("bbb", 20));
    assert_eq!(store.policy_version("ccc").await.expect("read"), None);
}
