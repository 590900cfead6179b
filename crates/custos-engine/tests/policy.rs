//! Publishing the policy stores each version once; past versions can be read and diffed.

use std::sync::Arc;

use custos_engine::policy::{self, PolicyHistoryError};
use custos_policy::Policy;
use custos_store::Store;
use custos_testkit::{TestDb, on_both_backends};
use jiff::Timestamp;

on_both_backends!(publishing_keeps_every_version_and_diffs_them, a_new_version_asks_again_exactly_the_changed_consents);

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

async fn a_new_version_asks_again_exactly_the_changed_consents(store: Arc<dyn Store>, _db: &TestDb) {
    use custos_store::{Account, ConsentEntry, JobState, NewSubject, SubjectId, SubjectKind};
    let start = Timestamp::from_second(1_800_000_000).expect("valid");
    policy::publish(&store, &Policy::example(), start).await.expect("publish");
    let person = NewSubject { id: SubjectId::new(), kind: SubjectKind::User, created_at: start };
    store.create_subject(&person, &[]).await.expect("subject");
    for purpose in ["analytics", "marketing"] {
        let entry = ConsentEntry {
            method: "banner".into(),
            policy_version: Policy::example().version().hash,
            at: start,
            ..custos_testkit::consent(person.id, purpose, true)
        };
        store.append_consent(&entry).await.expect("consent");
    }
    store
        .create_account(&Account {
            subject_id: person.id,
            password_hash: "x".into(),
            verified_at: None,
            created_at: start,
        })
        .await
        .expect("account");
    assert_eq!(
        store.live_consents(person.id).await.expect("live"),
        vec!["analytics".to_owned(), "marketing".to_owned()]
    );

    let text = custos_policy::EXAMPLE_TOML.replacen(
        "so that we can improve the website.",
        "so that we can improve the website and our offers.",
        1,
    );
    let changed = Policy::from_toml(&text, "v2.toml").expect("valid");
    let later = Timestamp::from_second(1_800_000_600).expect("valid");
    let (_, new) = policy::publish(&store, &changed, later).await.expect("publish");
    assert!(new);
    assert_eq!(
        store.live_consents(person.id).await.expect("live"),
        vec!["marketing".to_owned()],
        "only the changed purpose asks again"
    );
    let queued = store.jobs_in_state(JobState::Pending, 10).await.expect("jobs");
    assert_eq!(queued.len(), 1, "one notice per account holder");
    let body = queued[0].payload["body"].as_str().expect("body");
    assert!(body.contains("purposes changed: Understanding how the website is used"), "{body}");
    assert!(body.contains("we will ask you again"), "{body}");
    assert_eq!(queued[0].payload["subject_id"], serde_json::json!(person.id));

    let renewed = ConsentEntry {
        method: "banner".into(),
        policy_version: changed.version().hash,
        at: later.checked_add(jiff::SignedDuration::from_secs(1)).expect("time"),
        ..custos_testkit::consent(person.id, "analytics", true)
    };
    store.append_consent(&renewed).await.expect("renew");
    assert_eq!(store.live_consents(person.id).await.expect("live").len(), 2, "a renewed consent counts");
    let (_, again) = policy::publish(&store, &changed, later).await.expect("restart");
    assert!(!again);
    assert_eq!(
        store.jobs_in_state(JobState::Pending, 10).await.expect("jobs").len(),
        1,
        "a restart sends nothing twice"
    );
}
