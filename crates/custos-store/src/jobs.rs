//! The durable job table: mail, webhooks, sweeps and every other piece of background work.
//!
//! A job is claimed by exactly one worker at a time: the claim marks it `running` with a
//! lease (`locked_until`). A worker that finishes calls [`JobStore::complete_job`]; one
//! that fails calls [`JobStore::fail_job`], which either schedules a retry or, after the
//! last attempt, marks the job `dead` with its last error. A worker that dies leaves its
//! job to be claimed again once the lease runs out, so handlers must be idempotent.
//!
//! Payloads are JSON and carry ids, never personal values in clear.

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;
use crate::subjects::stored_enum;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

stored_enum! {
    /// Where a job is in its life.
    JobState {
        /// Waiting for its `run_at` time and a worker.
        Pending => "pending",
        /// Claimed by a worker whose lease has not run out.
        Running => "running",
        /// Done: its effect happened.
        Done => "done",
        /// Failed on every attempt; kept with its last error for staff to see.
        Dead => "dead",
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// The job kind, which picks the handler.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// When set, a second job of the same kind with the same key is not enqueued.
    pub idempotency_key: Option<String>,
    /// Higher runs first among due jobs.
    pub priority: i16,
    /// The earliest time the job may run.
    pub run_at: Timestamp,
    /// How many attempts before the job is dead.
    pub max_attempts: u32,
}

/// What [`JobStore::enqueue_job`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job was stored with this id.
    New(i64),
    /// A job of this kind with this idempotency key already exists; its id.
    Duplicate(i64),
}

impl Enqueued {
    /// The id of the job, new or existing.
    pub fn id(self) -> i64 {
        match self {
            Enqueued::New(id) | Enqueued::Duplicate(id) => id,
        }
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's id.
    pub id: i64,
    /// The job kind.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// The idempotency key, if one was given.
    pub idempotency_key: Option<String>,
    /// Where the job is in its life.
    pub state: JobState,
    /// Higher runs first among due jobs.
    pub priority: i16,
    /// Attempts started so far, counting the one in progress.
    pub attempts: u32,
    /// How many attempts before the job is dead.
    pub max_attempts: u32,
    /// The earliest time the job may run (next).
    pub run_at: Timestamp,
    /// Until when the current claim holds, while running.
    pub locked_until: Option<Timestamp>,
    /// The worker holding the claim, while running.
    pub locked_by: Option<String>,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// When the job was enqueued.
    pub created_at: Timestamp,
    /// When the job last changed.
    pub updated_at: Timestamp,
}

/// The outcome of a failed attempt, as recorded by [`JobStore::fail_job`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Try again at this time.
    RetryAt(Timestamp),
    /// Give up: the job is dead.
    Dead,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts(pub BTreeMap<JobState, u64>);

impl JobCounts {
    /// Jobs in `state`.
    pub fn get(&self, state: JobState) -> u64 {
        self.0.get(&state).copied().unwrap_or(0)
    }
}

impl PartialOrd for JobState {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for JobState {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

/// The job table.
#[async_trait]
pub trait JobStore {
    /// Stores a job, unless one of the same kind with the same idempotency key exists.
    async fn enqueue_job(&self, job: &NewJob) -> Result<Enqueued, StoreError>;

    /// Claims the most urgent due job of one of `kinds` for `worker` until `lease_until`,
    /// counting an attempt.
    ///
    /// A job is due when it is pending with `run_at <= now`, or running with a lease that
    /// ran out before `now`. Each job is handed to one claimer only, however many workers
    /// and processes ask at once. Jobs of other kinds are left for a worker that handles
    /// them (another version of custos, during a rolling upgrade), their attempts untouched;
    /// with no kinds, nothing is claimed.
    async fn claim_job(
        &self,
        worker: &str,
        kinds: &[&str],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>, StoreError>;

    /// Marks a claimed job done. Returns false when `worker` no longer holds the claim.
    async fn complete_job(&self, id: i64, worker: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// Records a failed attempt: schedules a retry or marks the job dead.
    /// Returns false when `worker` no longer holds the claim.
    async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        outcome: &JobFailure,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Reads one job.
    async fn job(&self, id: i64) -> Result<Option<Job>, StoreError>;

    /// Jobs in `state`, oldest first, at most `limit`.
    async fn jobs_in_state(&self, state: JobState, limit: u32) -> Result<Vec<Job>, StoreError>;

    /// How many jobs are in each state.
    async fn count_jobs(&self) -> Result<JobCounts, StoreError>;

    /// Gives a dead job a fresh set of attempts, due at `now` (its last error is kept until
    /// the next attempt); false when the job is not dead.
    async fn retry_dead_job(&self, id: i64, now: Timestamp) -> Result<bool, StoreError>;
}
