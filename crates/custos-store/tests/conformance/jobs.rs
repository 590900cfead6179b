use std::collections::HashSet;
use std::sync::Arc;

use custos_store::{Enqueued, JobFailure, JobState, NewJob, Store};
use custos_testkit::{TestDb, on_both_backends};
use serde_json::json;

use crate::at;

on_both_backends!(
    enqueue_and_claim,
    idempotency_keys_are_unique_per_kind,
    claims_follow_priority_then_time,
    only_the_claim_holder_finishes_a_job,
    failures_retry_then_die,
    a_dead_job_can_be_given_fresh_attempts,
    an_expired_lease_is_claimed_again,
    concurrent_claimers_never_share_a_job,
    a_worker_claims_only_the_kinds_it_handles,
);

/// Every kind these tests enqueue, as a worker that handles them all claims them.
const KINDS: &[&str] = &["mail", "a", "b", "c", "d", "work"];

fn job(kind: &str, run_at: i64) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: json!({"subject": "0d7c2a9e", "n": run_at}),
        idempotency_key: None,
        priority: 0,
        run_at: at(run_at),
        max_attempts: 3,
    }
}

async fn enqueue_and_claim(store: Arc<dyn Store>, _db: &TestDb) {
    let id = store.enqueue_job(&job("mail", 100)).await.expect("enqueue").id();
    assert_eq!(store.claim_job("w1", KINDS, at(99), at(1_000)).await.expect("claim"), None, "not due yet");
    let claimed = store.claim_job("w1", KINDS, at(100), at(1_000)).await.expect("claim").expect("due");
    assert_eq!(claimed.id, id);
    assert_eq!(claimed.kind, "mail");
    assert_eq!(claimed.payload, json!({"subject": "0d7c2a9e", "n": 100}));
    assert_eq!(claimed.state, JobState::Running);
    assert_eq!(claimed.attempts, 1);
    assert_eq!(claimed.locked_by.as_deref(), Some("w1"));
    assert_eq!(claimed.locked_until, Some(at(1_000)));
    assert_eq!(store.claim_job("w2", KINDS, at(100), at(1_000)).await.expect("claim"), None, "already claimed");
    assert!(store.complete_job(id, "w1", at(150)).await.expect("complete"));
    let done = store.job(id).await.expect("read").expect("exists");
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.locked_by, None);
    assert_eq!(store.claim_job("w2", KINDS, at(5_000), at(6_000)).await.expect("claim"), None, "done jobs stay done");
    let counts = store.count_jobs().await.expect("count");
    assert_eq!((counts.get(JobState::Done), counts.get(JobState::Pending)), (1, 0));
}

async fn idempotency_keys_are_unique_per_kind(store: Arc<dyn Store>, _db: &TestDb) {
    let keyed = |kind: &str| NewJob { idempotency_key: Some("request-42".into()), ..job(kind, 0) };
    let first = store.enqueue_job(&keyed("mail")).await.expect("enqueue");
    let Enqueued::New(id) = first else { panic!("first is new: {first:?}") };
    assert_eq!(store.enqueue_job(&keyed("mail")).await.expect("again"), Enqueued::Duplicate(id));
    assert!(matches!(store.enqueue_job(&keyed("webhook")).await.expect("other kind"), Enqueued::New(_)));
    // Jobs without a key are never duplicates of each other.
    assert!(matches!(store.enqueue_job(&job("mail", 0)).await.expect("no key"), Enqueued::New(_)));
    assert!(matches!(store.enqueue_job(&job("mail", 0)).await.expect("no key"), Enqueued::New(_)));
    assert_eq!(store.count_jobs().await.expect("count").get(JobState::Pending), 4);
}

async fn claims_follow_priority_then_time(store: Arc<dyn Store>, _db: &TestDb) {
    let late = store.enqueue_job(&job("a", 30)).await.expect("enqueue").id();
    let early = store.enqueue_job(&job("b", 10)).await.expect("enqueue").id();
    let urgent = store.enqueue_job(&NewJob { priority: 5, ..job("c", 20) }).await.expect("enqueue").id();
    let future = store.enqueue_job(&NewJob { priority: 9, ..job("d", 1_000) }).await.expect("enqueue").id();
    let mut order = Vec::new();
    while let Some(claimed) = store.claim_job("w", KINDS, at(100), at(10_000)).await.expect("claim") {
        order.push(claimed.id);
    }
    assert_eq!(order, vec![urgent, early, late]);
    assert_eq!(store.job(future).await.expect("read").expect("exists").state, JobState::Pending);
}

async fn only_the_claim_holder_finishes_a_job(store: Arc<dyn Store>, _db: &TestDb) {
    let id = store.enqueue_job(&job("mail", 0)).await.expect("enqueue").id();
    store.claim_job("w1", KINDS, at(0), at(100)).await.expect("claim").expect("due");
    assert!(!store.complete_job(id, "w2", at(1)).await.expect("complete"), "w2 holds no claim");
    assert!(!store.fail_job(id, "w2", "boom", &JobFailure::Dead, at(1)).await.expect("fail"));
    assert_eq!(store.job(id).await.expect("read").expect("exists").state, JobState::Running);
    assert!(!store.complete_job(9_999, "w1", at(1)).await.expect("complete"), "no such job");
}

async fn failures_retry_then_die(store: Arc<dyn Store>, _db: &TestDb) {
    let id = store.enqueue_job(&NewJob { max_attempts: 2, ..job("mail", 0) }).await.expect("enqueue").id();
    store.claim_job("w", KINDS, at(0), at(100)).await.expect("claim").expect("due");
    assert!(store.fail_job(id, "w", "smtp refused", &JobFailure::RetryAt(at(50)), at(1)).await.expect("fail"));
    let retrying = store.job(id).await.expect("read").expect("exists");
    assert_eq!((retrying.state, retrying.run_at, retrying.attempts), (JobState::Pending, at(50), 1));
    assert_eq!(retrying.last_error.as_deref(), Some("smtp refused"));
    assert_eq!(store.claim_job("w", KINDS, at(49), at(100)).await.expect("claim"), None, "backing off");
    let again = store.claim_job("w", KINDS, at(50), at(100)).await.expect("claim").expect("due");
    assert_eq!(again.attempts, 2);
    assert!(store.fail_job(id, "w", "smtp refused again", &JobFailure::Dead, at(60)).await.expect("fail"));
    let dead = store.jobs_in_state(JobState::Dead, 10).await.expect("dead jobs");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("smtp refused again"));
    assert_eq!(
        store.claim_job("w", KINDS, at(1_000_000), at(2_000_000)).await.expect("claim"),
        None,
        "dead jobs stay dead"
    );
}

async fn a_dead_job_can_be_given_fresh_attempts(store: Arc<dyn Store>, _db: &TestDb) {
    let id = store.enqueue_job(&NewJob { max_attempts: 1, ..job("mail", 0) }).await.expect("enqueue").id();
    assert!(!store.retry_dead_job(id, at(5)).await.expect("retry"), "only a dead job is retried");
    store.claim_job("w", KINDS, at(0), at(100)).await.expect("claim").expect("due");
    assert!(store.fail_job(id, "w", "smtp refused", &JobFailure::Dead, at(1)).await.expect("fail"));
    assert!(store.retry_dead_job(id, at(10)).await.expect("retry"));
    let revived = store.job(id).await.expect("read").expect("exists");
    assert_eq!((revived.state, revived.attempts, revived.run_at), (JobState::Pending, 0, at(10)));
    assert_eq!(revived.last_error.as_deref(), Some("smtp refused"), "the last error stays until the next attempt");
    assert!(!store.retry_dead_job(id, at(11)).await.expect("again"), "it is pending now");
    assert!(store.claim_job("w", KINDS, at(10), at(100)).await.expect("claim").is_some(), "and runs again");
}

async fn an_expired_lease_is_claimed_again(store: Arc<dyn Store>, _db: &TestDb) {
    let id = store.enqueue_job(&job("mail", 0)).await.expect("enqueue").id();
    store.claim_job("crashed", KINDS, at(0), at(100)).await.expect("claim").expect("due");
    assert_eq!(store.claim_job("w2", KINDS, at(99), at(200)).await.expect("claim"), None, "lease still held");
    let reclaimed = store.claim_job("w2", KINDS, at(100), at(200)).await.expect("claim").expect("lease ran out");
    assert_eq!((reclaimed.id, reclaimed.attempts, reclaimed.locked_by.as_deref()), (id, 2, Some("w2")));
    assert!(!store.complete_job(id, "crashed", at(101)).await.expect("complete"), "the old claim is void");
    assert!(store.complete_job(id, "w2", at(101)).await.expect("complete"));
}

async fn concurrent_claimers_never_share_a_job(store: Arc<dyn Store>, db: &TestDb) {
    const JOBS: usize = 200;
    for n in 0..JOBS {
        store.enqueue_job(&job("work", n as i64)).await.expect("enqueue");
    }
    // Two pools on one database, as two processes would have, four claimers each.
    let stores = [store.clone(), db.store().await];
    let mut claimers = Vec::new();
    for (p, store) in stores.iter().enumerate() {
        for c in 0..4 {
            let store = store.clone();
            claimers.push(tokio::spawn(async move {
                let worker = format!("p{p}c{c}");
                let mut mine = Vec::new();
                while let Some(claimed) =
                    store.claim_job(&worker, KINDS, at(1_000), at(1_000_000)).await.expect("claim")
                {
                    assert!(store.complete_job(claimed.id, &worker, at(1_001)).await.expect("complete"));
                    mine.push(claimed.id);
                }
                mine
            }));
        }
    }
    let mut seen = HashSet::new();
    for claimer in claimers {
        for id in claimer.await.expect("join") {
            assert!(seen.insert(id), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), JOBS);
    assert_eq!(store.count_jobs().await.expect("count").get(JobState::Done), JOBS as u64);
}

async fn a_worker_claims_only_the_kinds_it_handles(store: Arc<dyn Store>, _db: &TestDb) {
    let other = store.enqueue_job(&NewJob { priority: 9, ..job("webhook", 0) }).await.expect("enqueue").id();
    let mail = store.enqueue_job(&job("mail", 10)).await.expect("enqueue").id();
    assert_eq!(store.claim_job("w", &[], at(100), at(200)).await.expect("claim"), None, "no kinds, no claim");
    let claimed = store.claim_job("w", &["mail", "sms"], at(100), at(200)).await.expect("claim").expect("due");
    assert_eq!(claimed.id, mail, "the more urgent job of another kind is passed over");
    assert_eq!(store.claim_job("w", &["mail", "sms"], at(100), at(200)).await.expect("claim"), None);
    let untouched = store.job(other).await.expect("read").expect("exists");
    assert_eq!((untouched.state, untouched.attempts, untouched.locked_by), (JobState::Pending, 0, None));
    let taken = store.claim_job("w2", &["webhook"], at(100), at(200)).await.expect("claim").expect("due");
    assert_eq!((taken.id, taken.attempts), (other, 1));
}
