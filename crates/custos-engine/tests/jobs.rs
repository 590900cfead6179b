//! The job runner on a real store: exactly-once execution across workers and processes,
//! retries with backoff, dead jobs, panics and overruns, kinds a worker does not handle. Time is moved by a ManualClock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use custos_engine::jobs::{ExecutionOutcome, JobError, JobHandler, JobRunner, RetryPolicy, RunReport};
use custos_engine::{Clock, ManualClock};
use custos_store::{Job, JobState, NewJob, Store};
use custos_testkit::{TestDb, on_both_backends};
use jiff::Timestamp;
use serde_json::json;

on_both_backends!(
    two_workers_run_each_job_exactly_once,
    failures_back_off_then_die_with_their_last_error,
    permanent_failures_die_at_once,
    panics_and_overruns_are_failures_not_crashes,
    unknown_kinds_are_left_for_a_worker_that_handles_them,
);

/// Counts how often each job ran; fails the first `fail_first` attempts of every job.
#[derive(Clone, Default)]
struct Counting {
    runs: Arc<Mutex<HashMap<i64, u32>>>,
    fail_first: u32,
}

#[async_trait]
impl JobHandler for Counting {
    fn kind(&self) -> &'static str {
        "count"
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let mut runs = self.runs.lock().expect("lock");
        let n = runs.entry(job.id).or_default();
        *n += 1;
        if *n <= self.fail_first { Err(JobError::Retry(format!("attempt {n} refused"))) } else { Ok(()) }
    }
}

struct Misbehaving;

#[async_trait]
impl JobHandler for Misbehaving {
    fn kind(&self) -> &'static str {
        "misbehave"
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        match job.payload["do"].as_str() {
            Some("panic") => panic!("handler bug"),
            Some("hang") => {
                tokio::time::sleep(Duration::from_secs(3_600)).await;
                Ok(())
            }
            Some("reject") => Err(JobError::Permanent("payload names no subject".into())),
            _ => Ok(()),
        }
    }
}

fn start() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("valid")
}

fn new_job(kind: &str, payload: serde_json::Value, max_attempts: u32) -> NewJob {
    NewJob { kind: kind.into(), payload, idempotency_key: None, priority: 0, run_at: start(), max_attempts }
}

fn runner(store: Arc<dyn Store>, clock: &ManualClock) -> JobRunner {
    JobRunner::new(store)
        .with_clock(Arc::new(clock.clone()))
        .with_retry_policy(RetryPolicy { base: Duration::from_secs(10), max: Duration::from_secs(60) })
}

async fn two_workers_run_each_job_exactly_once(store: Arc<dyn Store>, db: &TestDb) {
    const JOBS: i64 = 300;
    for n in 0..JOBS {
        store.enqueue_job(&new_job("count", json!({"n": n}), 5)).await.expect("enqueue");
    }
    let clock = ManualClock::new(start());
    let handler = Counting { fail_first: 0, ..Counting::default() };
    // Two workers, each with its own pool, as two custos processes on one database.
    let first = runner(store.clone(), &clock).register(handler.clone()).with_worker_id("first");
    let second = runner(db.store().await, &clock).register(handler.clone()).with_worker_id("second");
    let (a, b) = tokio::join!(first.run_pending(), second.run_pending());
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.succeeded + b.succeeded, JOBS as u32, "{a:?} {b:?}");
    assert!(a.succeeded > 0 && b.succeeded > 0, "both workers took part: {a:?} {b:?}");
    let runs = handler.runs.lock().expect("lock").clone();
    assert_eq!(runs.len(), JOBS as usize);
    assert!(runs.values().all(|&n| n == 1), "a job ran twice");
    assert_eq!(store.count_jobs().await.expect("count").get(JobState::Done), JOBS as u64);
}

async fn failures_back_off_then_die_with_their_last_error(store: Arc<dyn Store>, _db: &TestDb) {
    let clock = ManualClock::new(start());
    let handler = Counting { fail_first: u32::MAX, ..Counting::default() };
    let worker = runner(store.clone(), &clock).register(handler.clone());
    let id = store.enqueue_job(&new_job("count", json!({}), 4)).await.expect("enqueue").id();

    let mut retry_times = Vec::new();
    for _ in 0..3 {
        match worker.try_execute_one().await.expect("run") {
            ExecutionOutcome::Retrying { id: retried, at } => {
                assert_eq!(retried, id);
                retry_times.push(at.duration_since(clock.now()).as_secs());
                assert_eq!(worker.try_execute_one().await.expect("run"), ExecutionOutcome::EmptyQueue, "backing off");
                clock.set(at);
            }
            other => panic!("expected a retry, got {other:?}"),
        }
    }
    assert_eq!(retry_times, vec![10, 20, 40]);
    assert_eq!(worker.try_execute_one().await.expect("run"), ExecutionOutcome::Dead { id });
    let dead = store.job(id).await.expect("read").expect("exists");
    assert_eq!((dead.state, dead.attempts), (JobState::Dead, 4));
    assert_eq!(dead.last_error.as_deref(), Some("attempt 4 refused"));
    assert_eq!(handler.runs.lock().expect("lock")[&id], 4);
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(worker.run_pending().await.expect("run"), RunReport::default(), "dead jobs never run again");
}

async fn permanent_failures_die_at_once(store: Arc<dyn Store>, _db: &TestDb) {
    let clock = ManualClock::new(start());
    let worker = runner(store.clone(), &clock).register(Misbehaving);
    let id = store.enqueue_job(&new_job("misbehave", json!({"do": "reject"}), 5)).await.expect("enqueue").id();
    assert_eq!(worker.try_execute_one().await.expect("run"), ExecutionOutcome::Dead { id });
    let dead = store.job(id).await.expect("read").expect("exists");
    assert_eq!(dead.last_error.as_deref(), Some("payload names no subject"));
}

async fn panics_and_overruns_are_failures_not_crashes(store: Arc<dyn Store>, _db: &TestDb) {
    let clock = ManualClock::new(start());
    // A panic is caught however long printing its backtrace takes: a generous lease.
    let patient = runner(store.clone(), &clock).register(Misbehaving).with_lease(Duration::from_secs(60));
    let panicking = store.enqueue_job(&new_job("misbehave", json!({"do": "panic"}), 3)).await.expect("enqueue").id();
    assert!(
        matches!(patient.try_execute_one().await.expect("run"), ExecutionOutcome::Retrying { id, .. } if id == panicking)
    );
    let panicked = store.job(panicking).await.expect("read").expect("exists");
    assert_eq!(panicked.last_error.as_deref(), Some("the handler panicked"));

    // A handler that never ends is cut off at the end of its lease.
    let strict = runner(store.clone(), &clock).register(Misbehaving).with_lease(Duration::from_millis(200));
    let hanging = store.enqueue_job(&new_job("misbehave", json!({"do": "hang"}), 3)).await.expect("enqueue").id();
    assert!(
        matches!(strict.try_execute_one().await.expect("run"), ExecutionOutcome::Retrying { id, .. } if id == hanging)
    );
    let overran = store.job(hanging).await.expect("read").expect("exists");
    assert!(overran.last_error.as_deref().is_some_and(|e| e.contains("past its lease")), "{overran:?}");
    assert_eq!(overran.state, JobState::Pending);
}

async fn unknown_kinds_are_left_for_a_worker_that_handles_them(store: Arc<dyn Store>, _db: &TestDb) {
    let clock = ManualClock::new(start());
    // A worker of an older version, and a job of a kind only a newer version knows, more
    // urgent than a job the older one knows.
    let older = runner(store.clone(), &clock).register(Counting::default()).with_worker_id("older");
    let newer_kind = NewJob { priority: 10, ..new_job("from.a.newer.version", json!({}), 2) };
    let id = store.enqueue_job(&newer_kind).await.expect("enqueue").id();
    let known = store.enqueue_job(&new_job("count", json!({}), 2)).await.expect("enqueue").id();
    // The older worker passes over it to the job it knows, and then finds nothing to do.
    assert_eq!(older.try_execute_one().await.expect("run"), ExecutionOutcome::Succeeded { id: known });
    for _ in 0..3 {
        clock.advance(Duration::from_secs(600));
        assert_eq!(older.try_execute_one().await.expect("run"), ExecutionOutcome::EmptyQueue);
    }
    let waiting = store.job(id).await.expect("read").expect("exists");
    assert_eq!((waiting.state, waiting.attempts, waiting.last_error), (JobState::Pending, 0, None), "no attempt spent");
    // A worker that handles the kind runs it, on its first attempt.
    struct Newer;
    #[async_trait]
    impl JobHandler for Newer {
        fn kind(&self) -> &'static str {
            "from.a.newer.version"
        }
        async fn run(&self, _job: &Job) -> Result<(), JobError> {
            Ok(())
        }
    }
    let newer = runner(store.clone(), &clock).register(Newer).with_worker_id("newer");
    assert_eq!(newer.try_execute_one().await.expect("run"), ExecutionOutcome::Succeeded { id });
    assert_eq!(store.job(id).await.expect("read").expect("exists").attempts, 1);
    // A runner with no handlers claims nothing at all.
    store.enqueue_job(&new_job("count", json!({}), 2)).await.expect("enqueue");
    assert_eq!(runner(store.clone(), &clock).try_execute_one().await.expect("run"), ExecutionOutcome::EmptyQueue);
}
