//! The background-work runner.
//!
//! Work that must survive a restart (mail, webhooks to recipients, direct transmission of
//! portable data, partner breach notices, retention sweeps, deadline reminders) is stored
//! as a job in the store's job table, then run by a [`JobRunner`]:
//!
//! - a job is claimed by exactly one worker, across every process on the database;
//! - it is acknowledged only after its handler returned `Ok`, so a worker that dies
//!   mid-run leaves it to be run again once its lease runs out: handlers are idempotent;
//! - a failed attempt is retried with exponential backoff ([`RetryPolicy`]) up to the
//!   job's `max_attempts`, then kept as `dead` with its last error;
//! - duplicates are suppressed by the idempotency key of [`custos_store::NewJob`].
//!
//! Tests drive the runner with [`JobRunner::run_pending`] and a
//! [`crate::ManualClock`]: no sleeps.

mod runner;

pub use runner::{ExecutionOutcome, JobError, JobHandler, JobRunner, RetryPolicy, RunReport};
