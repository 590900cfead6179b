//! [`JobRunner`]: claims due jobs, runs their handlers, records the outcome.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use custos_store::{Job, JobFailure, Store, StoreError};
use jiff::{SignedDuration, Timestamp};
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// A failure that may pass (a peer down, a timeout): try again later.
    #[error("{0}")]
    Retry(String),
    /// A failure that no retry can mend (a malformed payload): the job is dead at once.
    #[error("{0}")]
    Permanent(String),
}

/// Runs one kind of job.
#[async_trait]
pub trait JobHandler: Send + Sync + 'static {
    /// The job kind this handler runs.
    fn kind(&self) -> &'static str;

    /// Does the work. It may run more than once for one job (a worker can die after the
    /// effect and before the acknowledgement), so it must be idempotent.
    async fn run(&self, job: &Job) -> Result<(), JobError>;
}

/// When to try a failed job again: `base × 2^(attempt−1)`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay after the first failed attempt.
    pub base: Duration,
    /// The longest delay between two attempts.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { base: Duration::from_secs(5), max: Duration::from_secs(3_600) }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt number `attempt` (from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.checked_mul(factor).unwrap_or(self.max).min(self.max)
    }
}

/// What one call to [`JobRunner::try_execute_one`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// No job was due.
    EmptyQueue,
    /// The job ran and is done.
    Succeeded {
        /// The job's id.
        id: i64,
    },
    /// The attempt failed; the job will run again at `at`.
    Retrying {
        /// The job's id.
        id: i64,
        /// When it will be tried again.
        at: Timestamp,
    },
    /// The job failed for the last time and is dead.
    Dead {
        /// The job's id.
        id: i64,
    },
    /// The worker lost its claim before it could record the outcome (its lease ran out
    /// and another worker took the job over).
    LostClaim {
        /// The job's id.
        id: i64,
    },
}

/// What [`JobRunner::run_pending`] did, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Jobs run to completion.
    pub succeeded: u32,
    /// Failed attempts scheduled for a retry.
    pub retrying: u32,
    /// Jobs that died.
    pub dead: u32,
    /// Claims lost to another worker.
    pub lost: u32,
}

/// Claims due jobs and runs them with the handler registered for their kind.
pub struct JobRunner {
    store: Arc<dyn Store>,
    handlers: HashMap<&'static str, Arc<dyn JobHandler>>,
    worker_id: String,
    lease: Duration,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<_> = self.handlers.keys().collect();
        kinds.sort();
        f.debug_struct("JobRunner")
            .field("worker_id", &self.worker_id)
            .field("kinds", &kinds)
            .field("lease", &self.lease)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl JobRunner {
    /// A runner on `store` with a fresh worker id, a five-minute lease and the default
    /// retry policy, on the system clock. It runs nothing until handlers are registered.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            handlers: HashMap::new(),
            worker_id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            lease: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Runs jobs of `handler.kind()` with `handler`.
    pub fn register(mut self, handler: impl JobHandler) -> Self {
        self.handlers.insert(handler.kind(), Arc::new(handler));
        self
    }

    /// Names this worker in claims (default: a random id).
    pub fn with_worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker_id = id.into();
        self
    }

    /// How long a claim holds; an attempt that runs longer is cut off and fails.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// When to retry failed attempts.
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Where the runner takes the time from.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// This worker's id.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Claims one due job, runs it and records the outcome.
    #[tracing::instrument(level = "debug", skip(self), fields(worker = %self.worker_id))]
    pub async fn try_execute_one(&self) -> Result<ExecutionOutcome, StoreError> {
        let now = self.clock.now();
        let lease_until = add(now, self.lease);
        let kinds: Vec<&str> = self.handlers.keys().copied().collect();
        let Some(job) = self.store.claim_job(&self.worker_id, &kinds, now, lease_until).await? else {
            return Ok(ExecutionOutcome::EmptyQueue);
        };
        let result = if job.attempts > job.max_attempts {
            // Claimed again after its last attempt's worker vanished mid-run.
            Err(JobError::Permanent(format!(
                "gave up after {} attempts whose workers stopped before finishing",
                job.max_attempts
            )))
        } else {
            self.run_handler(&job).await
        };
        let now = self.clock.now();
        let outcome = match result {
            Ok(()) => {
                if self.store.complete_job(job.id, &self.worker_id, now).await? {
                    tracing::debug!(job.id, job.kind, "job done");
                    ExecutionOutcome::Succeeded { id: job.id }
                } else {
                    ExecutionOutcome::LostClaim { id: job.id }
                }
            }
            Err(error) => {
                let failure = match &error {
                    JobError::Retry(_) if job.attempts < job.max_attempts => {
                        JobFailure::RetryAt(add(now, self.retry.delay(job.attempts)))
                    }
                    _ => JobFailure::Dead,
                };
                let message = error.to_string();
                if !self.store.fail_job(job.id, &self.worker_id, &message, &failure, now).await? {
                    ExecutionOutcome::LostClaim { id: job.id }
                } else if let JobFailure::RetryAt(at) = failure {
                    tracing::warn!(job.id, job.kind, job.attempts, error = %message, retry_at = %at, "job failed; will retry");
                    ExecutionOutcome::Retrying { id: job.id, at }
                } else {
                    tracing::error!(job.id, job.kind, job.attempts, error = %message, "job is dead");
                    ExecutionOutcome::Dead { id: job.id }
                }
            }
        };
        Ok(outcome)
    }

    /// Runs jobs until none is due, and says what happened.
    pub async fn run_pending(&self) -> Result<RunReport, StoreError> {
        let mut report = RunReport::default();
        loop {
            match self.try_execute_one().await? {
                ExecutionOutcome::EmptyQueue => return Ok(report),
                ExecutionOutcome::Succeeded { .. } => report.succeeded += 1,
                ExecutionOutcome::Retrying { .. } => report.retrying += 1,
                ExecutionOutcome::Dead { .. } => report.dead += 1,
                ExecutionOutcome::LostClaim { .. } => report.lost += 1,
            }
        }
    }

    /// Runs jobs as they fall due until `shutdown` is cancelled, checking for due jobs
    /// every `poll` when idle. A job in progress is finished before returning.
    pub async fn run_until(&self, shutdown: CancellationToken, poll: Duration) {
        tracing::info!(worker = %self.worker_id, "job worker started");
        while !shutdown.is_cancelled() {
            let idle = match self.try_execute_one().await {
                Ok(ExecutionOutcome::EmptyQueue) => true,
                Ok(_) => false,
                Err(error) => {
                    tracing::warn!(worker = %self.worker_id, %error, "cannot reach the job queue");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(poll) => {}
                }
            }
        }
        tracing::info!(worker = %self.worker_id, "job worker stopped");
    }

    /// Runs the job's handler within the lease, turning panics and overruns into failures.
    async fn run_handler(&self, job: &Job) -> Result<(), JobError> {
        let Some(handler) = self.handlers.get(job.kind.as_str()).cloned() else {
            // Not claimed by this worker (it claims only the kinds it handles); kept as the
            // answer should a store hand one over all the same.
            return Err(JobError::Retry(format!("this worker has no handler for job kind `{}`", job.kind)));
        };
        let owned = job.clone();
        let task = tokio::spawn(async move { handler.run(&owned).await });
        let abort = task.abort_handle();
        match tokio::time::timeout(self.lease, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) if join.is_panic() => Err(JobError::Retry("the handler panicked".into())),
            Ok(Err(_)) => Err(JobError::Retry("the handler was cancelled".into())),
            Err(_) => {
                abort.abort();
                Err(JobError::Retry(format!("the handler ran past its lease of {:?}", self.lease)))
            }
        }
    }
}

/// `at + by`, saturating at the latest representable time.
fn add(at: Timestamp, by: Duration) -> Timestamp {
    let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
    at.saturating_add(by).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy { base: Duration::from_secs(5), max: Duration::from_secs(60) };
        let delays: Vec<_> = (1..=6).map(|a| policy.delay(a).as_secs()).collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 60, 60]);
        assert_eq!(policy.delay(200), Duration::from_secs(60), "no overflow on huge attempt counts");
    }
}
