use std::sync::Arc;

use custos_store::{RightsRequest, Store, StoreError, SubjectId};
use custos_testkit::{TestDb, on_both_backends};

use crate::at;

on_both_backends!(
    a_request_round_trips_and_changes_only_from_the_state_expected,
    a_state_change_queues_its_jobs_in_the_same_transaction
);

fn request(due_ms: i64) -> RightsRequest {
    RightsRequest {
        id: uuid::Uuid::now_v7(),
        kind: "erasure".into(),
        purpose: None,
        channel: "form".into(),
        state: "unverified".into(),
        email_index: vec![7; 32],
        sealed_email: vec![1, 2, 3],
        sealed_details: Some(vec![4, 5]),
        subject_id: None,
        received_at: at(0),
        due_at: at(due_ms),
        extension_reason: None,
        code_hash: Some(vec![9; 32]),
        code_expires_at: Some(at(60)),
        code_attempts: 0,
        verified_at: None,
        steps: vec![],
        outcome: None,
        closed_at: None,
        agent_id: Some("AGENT_A".into()),
        agent_request_id: Some("a-1".into()),
        status_callback: Some("https://agent.example/callback".into()),
        language: Some("de".into()),
    }
}

async fn a_request_round_trips_and_changes_only_from_the_state_expected(store: Arc<dyn Store>, _db: &TestDb) {
    let late = request(2_000);
    let soon = request(1_000);
    store.create_rights_request(&late).await.expect("create");
    store.create_rights_request(&soon).await.expect("create");
    assert!(matches!(store.create_rights_request(&soon).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.rights_request(late.id).await.expect("read"), Some(late.clone()), "every field round-trips");

    let mut verified = late.clone();
    verified.state = "verified".into();
    verified.subject_id = Some(SubjectId::new());
    verified.code_hash = None;
    verified.code_expires_at = None;
    verified.verified_at = Some(at(5));
    verified.steps = vec!["erase".into()];
    verified.outcome = Some(serde_json::json!({"rows_deleted": true}));
    assert!(store.update_rights_request(&verified, "unverified").await.expect("update"));
    assert!(!store.update_rights_request(&verified, "unverified").await.expect("again"), "the state moved on");
    assert_eq!(store.rights_request(late.id).await.expect("read"), Some(verified.clone()));

    let open: Vec<uuid::Uuid> = store.open_rights_requests(10).await.expect("open").iter().map(|r| r.id).collect();
    assert_eq!(open, vec![soon.id, late.id], "soonest due first");
    let mut done = verified;
    done.state = "fulfilled".into();
    done.closed_at = Some(at(9));
    assert!(store.update_rights_request(&done, "verified").await.expect("close"));
    let open: Vec<uuid::Uuid> = store.open_rights_requests(10).await.expect("open").iter().map(|r| r.id).collect();
    assert_eq!(open, vec![soon.id], "closed requests leave the queue");
    let fulfilled = |kind: &str| {
        let store = store.clone();
        let kind = kind.to_owned();
        async move {
            let found = store.rights_requests_in_state(&kind, "fulfilled", 10).await.expect("in state");
            found.iter().map(|r| r.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(fulfilled("erasure").await, vec![done.id], "found by kind and state");
    assert!(fulfilled("restriction").await.is_empty(), "another kind is not");

    store.put_agent_token("AGENT_A", &[1; 32], at(1)).await.expect("token");
    store.put_agent_token("AGENT_A", &[2; 32], at(2)).await.expect("a new pairing replaces the old");
    assert_eq!(store.agent_by_token(&[2; 32]).await.expect("find"), Some("AGENT_A".to_owned()));
    assert_eq!(store.agent_by_token(&[1; 32]).await.expect("find"), None);
}

async fn a_state_change_queues_its_jobs_in_the_same_transaction(store: Arc<dyn Store>, _db: &TestDb) {
    let r = request(1_000);
    store.create_rights_request(&r).await.expect("create");
    let job = |key: &str| custos_store::NewJob {
        kind: "rights.execute".into(),
        payload: serde_json::json!({"request_id": r.id}),
        idempotency_key: Some(key.into()),
        priority: 1,
        run_at: at(0),
        max_attempts: 3,
    };
    let mut verified = r.clone();
    verified.state = "verified".into();
    let jobs = [job("one"), job("two")];
    assert!(store.update_rights_request_queueing(&verified, "unverified", &jobs).await.expect("update"));
    let queued = || async { store.count_jobs().await.expect("count").get(custos_store::JobState::Pending) };
    let after_first = queued().await;
    assert_eq!(after_first, 2);
    // From a state it is no longer in: refused, and nothing more queued.
    assert!(!store.update_rights_request_queueing(&verified, "unverified", &[job("three")]).await.expect("again"));
    assert_eq!(queued().await, after_first, "a refused change queues nothing");
    // A job queued already (same key) is left as it is.
    let mut running = verified.clone();
    running.state = "in_progress".into();
    assert!(store.update_rights_request_queueing(&running, "verified", &[job("one")]).await.expect("update"));
    assert_eq!(queued().await, after_first);
    assert_eq!(store.rights_request(r.id).await.expect("read").expect("held").state, "in_progress");
    let claimed = store.claim_job("w", &["rights.execute"], at(10), at(20)).await.expect("claim").expect("a job");
    assert_eq!(claimed.idempotency_key.as_deref(), Some("one"));
}
