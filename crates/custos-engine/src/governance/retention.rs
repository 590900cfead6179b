//! Retention (seed 7): every record carries the moment its retention ends, computed at
//! write time from the policy's [`RetentionRule`]s ([`expiry`]) and kept in an index; the
//! sweep walks that index and deletes what has ended.
//!
//! The sweep is incremental and never blocks ingest for long: it reads the index in
//! batches of [`DEFAULT_BATCH`] in (expiry, subject, record) order and deletes each batch in
//! its own short transaction, which also saves its progress (the last record looked at and
//! the counts per category). A sweep cut short (a crash, a restart) resumes after the last
//! batch saved. Records a legal hold keeps past their end are counted and skipped.
//!
//! Time is UTC throughout: an expiry is an instant, so daylight-saving changes move
//! nothing, and a clock moved backwards only makes the sweep delete less (a resumed sweep
//! never uses a cutoff later than the clock's time).
//!
//! Website events of identified visitors (browsing history, kept for the analytics purpose)
//! are swept the same way after the records, by the time they were recorded.
//!
//! Retention that ends when consent is withdrawn (`until = "consent_withdrawal"`) ends at
//! the first sweep after the person's latest consent entry for the purpose became a
//! withdrawal (a policy change that asks again is not a withdrawal). Retention that ends
//! with another event ends with that event: account
//! closing erases the person ([`crate::accounts`]), the end of a partner's contract is the
//! partners module's (it asks [`super::holds::Holds::held`] first).
//!
//! [`RetentionRule`]: custos_policy::RetentionRule

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::{Policy, RetentionEvent};
use custos_store::{Enqueued, Job, NewJob, RetentionSweep, Store, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::holds::Holds;
use super::{Context, GovernanceError};
use crate::gate::Actor;
use crate::jobs::{JobError, JobHandler};

/// The purpose website events of identified visitors are kept for.
const EVENTS_PURPOSE: &str = "analytics";
/// The category of website events.
const EVENTS_CATEGORY: &str = "user.behavior.browsing_history";

/// The latest time an event can have been recorded at and have ended by `cutoff` (with
/// four days to spare for uneven months; each event is then checked exactly).
fn events_bound(policy: &Policy, cutoff: Timestamp) -> Option<Timestamp> {
    let utc = cutoff.to_zoned(jiff::tz::TimeZone::UTC);
    policy
        .retention_for(EVENTS_PURPOSE, EVENTS_CATEGORY)
        .filter_map(|rule| rule.period.as_ref())
        .filter_map(|period| utc.checked_sub(period.span()).ok())
        .filter_map(|z| z.checked_add(jiff::SignedDuration::from_hours(96)).ok())
        .map(|z| z.timestamp())
        .max()
}

/// The job kind of the daily retention sweep.
pub const SWEEP_KIND: &str = "retention.sweep";
/// Records looked at per batch (and per transaction).
pub const DEFAULT_BATCH: u32 = 500;

/// When the retention of a value of `category` collected for `purpose` at `collected`
/// ends: the earliest end among the periods of the rules that cover it, counted in UTC
/// calendar units. `None` when no rule gives a period (retention ends with an event).
pub fn expiry(policy: &Policy, purpose: &str, category: &str, collected: Timestamp) -> Option<Timestamp> {
    let utc = collected.to_zoned(jiff::tz::TimeZone::UTC);
    policy
        .retention_for(purpose, category)
        .filter_map(|rule| rule.period.as_ref())
        .filter_map(|period| utc.checked_add(period.span()).ok().map(|z| z.timestamp()))
        .min()
}

/// What a sweep did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// The sweep's id (`None` for a dry run, which stores nothing).
    pub sweep_id: Option<Uuid>,
    /// Records whose retention ended by this instant were due.
    pub cutoff: Timestamp,
    /// Whether nothing was deleted.
    pub dry_run: bool,
    /// Whether it went on with a sweep cut short before.
    pub resumed: bool,
    /// Whether it reached the end of what was due (false when stopped after `max_batches`).
    pub finished: bool,
    /// Records deleted (or that would be), by category.
    pub deleted: BTreeMap<String, u64>,
    /// Records past their end kept by a legal hold, by category.
    pub held: BTreeMap<String, u64>,
    /// People whose erasure a hold had cut short, erased now that no hold covers them.
    pub erasures_finished: u64,
    /// Sign-ups never confirmed whose link had expired, deleted (see
    /// [`crate::confirmations`]).
    pub confirmations_expired: u64,
}

impl RetentionReport {
    /// Every record deleted.
    pub fn total_deleted(&self) -> u64 {
        self.deleted.values().sum()
    }
}

/// The retention sweep.
pub struct Retention {
    cx: Context,
    holds: Arc<Holds>,
    records: Arc<crate::records::Records>,
    batch: u32,
}

impl std::fmt::Debug for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retention").finish_non_exhaustive()
    }
}

impl Retention {
    pub(crate) fn from_context(cx: Context, holds: Arc<Holds>, records: Arc<crate::records::Records>) -> Self {
        Self { cx, holds, records, batch: DEFAULT_BATCH }
    }

    /// The same sweep with `batch` records per batch (at least 1).
    pub fn with_batch(&self, batch: u32) -> Self {
        Self { cx: self.cx.clone(), holds: self.holds.clone(), records: self.records.clone(), batch: batch.max(1) }
    }

    /// Sweeps to the end; see [`Retention::sweep`].
    pub async fn run(&self, dry_run: bool) -> Result<RetentionReport, GovernanceError> {
        self.sweep(dry_run, None).await
    }

    /// Deletes every record whose retention has ended, except what a legal hold keeps;
    /// resumes a sweep cut short first. With `max_batches`, stops after that many batches
    /// (the sweep stays `running` and the next call resumes it). A dry run deletes and
    /// stores nothing and only counts.
    pub async fn sweep(&self, dry_run: bool, max_batches: Option<usize>) -> Result<RetentionReport, GovernanceError> {
        let now = self.cx.clock.now();
        let running = if dry_run { None } else { self.cx.store.running_sweep().await? };
        let resumed = running.is_some();
        let mut sweep = match running {
            Some(mut sweep) => {
                // A clock moved back since the sweep began: delete only what has ended by now.
                sweep.cutoff = sweep.cutoff.min(now);
                sweep
            }
            None => {
                let sweep = RetentionSweep {
                    id: Uuid::now_v7(),
                    started_at: now,
                    cutoff: now,
                    dry_run,
                    state: "running".into(),
                    cursor: None,
                    deleted: BTreeMap::new(),
                    held: BTreeMap::new(),
                    finished_at: None,
                };
                if !dry_run {
                    self.cx.store.create_sweep(&sweep).await?;
                }
                sweep
            }
        };
        let holds = self.holds.in_force().await?;
        let mut batches = 0;
        let records_done = loop {
            if max_batches.is_some_and(|max| batches >= max) {
                break false;
            }
            let due = self.cx.store.expired_records(sweep.cutoff, sweep.cursor.as_ref(), self.batch).await?;
            let Some(last) = due.last() else { break true };
            sweep.cursor = Some(custos_store::SweepCursor {
                expires_at: last.expires_at,
                subject_id: last.subject_id,
                record_id: last.record_id,
            });
            let mut delete = Vec::with_capacity(due.len());
            for r in &due {
                if holds.keeping_past_end(r.subject_id, &r.purpose, &r.category).is_some() {
                    *sweep.held.entry(r.category.clone()).or_default() += 1;
                } else {
                    *sweep.deleted.entry(r.category.clone()).or_default() += 1;
                    delete.push((r.subject_id, r.record_id));
                }
            }
            if !dry_run {
                self.cx.store.apply_sweep_batch(&sweep, &delete).await?;
            }
            batches += 1;
            // Let writers in between batches.
            tokio::task::yield_now().await;
        };
        let mut finished = records_done;
        if records_done && let Some(bound) = events_bound(&self.cx.policy, sweep.cutoff) {
            let mut after = None;
            finished = loop {
                if max_batches.is_some_and(|max| batches >= max) {
                    break false;
                }
                let due = self.cx.store.events_before(bound, after, self.batch).await?;
                let Some(&(subject, event, at)) = due.last() else { break true };
                after = Some((at, subject, event));
                let mut delete = Vec::with_capacity(due.len());
                for &(subject, event, at) in &due {
                    let ended = expiry(&self.cx.policy, EVENTS_PURPOSE, EVENTS_CATEGORY, at)
                        .is_some_and(|end| end <= sweep.cutoff);
                    if !ended {
                        continue;
                    }
                    if holds.keeping_past_end(subject, EVENTS_PURPOSE, EVENTS_CATEGORY).is_some() {
                        *sweep.held.entry(EVENTS_CATEGORY.to_owned()).or_default() += 1;
                    } else {
                        *sweep.deleted.entry(EVENTS_CATEGORY.to_owned()).or_default() += 1;
                        delete.push((subject, event));
                    }
                }
                if !dry_run {
                    self.cx.store.apply_event_sweep_batch(&sweep, bound, &delete).await?;
                }
                batches += 1;
                tokio::task::yield_now().await;
            };
        }
        // Data kept until consent is withdrawn, whose consent was withdrawn.
        if finished {
            let ended_by_withdrawal = |purpose: &str, category: &str| {
                self.cx
                    .policy
                    .retention_for(purpose, category)
                    .any(|r| r.until == Some(RetentionEvent::ConsentWithdrawal))
            };
            let purposes: Vec<String> = self
                .cx
                .policy
                .purposes
                .iter()
                .filter(|p| p.categories.iter().any(|c| ended_by_withdrawal(&p.id, c)))
                .map(|p| p.id.clone())
                .collect();
            let mut after = None;
            finished = loop {
                if max_batches.is_some_and(|max| batches >= max) {
                    break false;
                }
                let due = self.cx.store.withdrawn_records(&purposes, after, self.batch).await?;
                let Some(last) = due.last() else { break true };
                after = Some((last.subject_id, last.record_id));
                let mut delete = Vec::with_capacity(due.len());
                for r in due.iter().filter(|r| ended_by_withdrawal(&r.purpose, &r.category)) {
                    if holds.keeping_past_end(r.subject_id, &r.purpose, &r.category).is_some() {
                        *sweep.held.entry(r.category.clone()).or_default() += 1;
                    } else {
                        *sweep.deleted.entry(r.category.clone()).or_default() += 1;
                        delete.push((r.subject_id, r.record_id));
                    }
                }
                if !dry_run {
                    self.cx.store.apply_withdrawal_sweep_batch(&sweep, &delete).await?;
                }
                batches += 1;
                tokio::task::yield_now().await;
            };
        }
        let mut erasures_finished = 0;
        let mut confirmations_expired = 0;
        if finished && !dry_run {
            erasures_finished = self.finish_held_erasures().await?;
            // Sign-ups never confirmed: what they sent goes once their link expires.
            confirmations_expired = self.cx.store.purge_confirmations(sweep.cutoff).await?;
            sweep.state = "done".into();
            sweep.finished_at = Some(self.cx.clock.now());
            self.cx.store.apply_sweep_batch(&sweep, &[]).await?;
        }
        let report = RetentionReport {
            sweep_id: (!dry_run).then_some(sweep.id),
            cutoff: sweep.cutoff,
            dry_run,
            resumed,
            finished,
            deleted: sweep.deleted,
            held: sweep.held,
            erasures_finished,
            confirmations_expired,
        };
        if !dry_run {
            self.cx
                .audit(
                    &Actor::System,
                    "retention.sweep",
                    None,
                    None,
                    json!({"sweep_id": report.sweep_id, "cutoff": report.cutoff, "finished": finished,
                           "resumed": resumed, "deleted": report.deleted, "held": report.held,
                           "erasures_finished": erasures_finished,
                           "confirmations_expired": confirmations_expired}),
                )
                .await?;
        }
        Ok(report)
    }

    /// Finishes the erasures a legal hold cut short, for each person none of whose data a
    /// hold in force covers any more (their key is destroyed and every row deleted).
    async fn finish_held_erasures(&self) -> Result<u64, GovernanceError> {
        let mut finished = 0;
        let holds = self.holds.in_force().await?;
        for (subject, _) in self.cx.store.held_erasures(10_000).await? {
            let kept = self.cx.store.records(subject).await?;
            if kept.iter().any(|r| holds.covering(subject, &r.purpose, &r.category).is_some()) {
                // Still held: nothing to do until the hold ends.
                continue;
            }
            let erasure =
                super::holds::erase_respecting_holds(&self.holds, &self.records, &Actor::System, subject).await?;
            if erasure.holds.is_empty() {
                finished += 1;
            }
        }
        Ok(finished)
    }

    /// The latest sweeps, newest first.
    pub async fn history(&self, limit: u32) -> Result<Vec<RetentionSweep>, StoreError> {
        self.cx.store.sweeps(limit).await
    }
}

/// Queues the sweep for the day of `at` (at 03:00 UTC, or now if later); queuing it again
/// for the same day changes nothing, so every process may call this at start.
pub async fn schedule_sweep(store: &Arc<dyn Store>, at: Timestamp) -> Result<Enqueued, StoreError> {
    let day = at.to_zoned(jiff::tz::TimeZone::UTC).date();
    let three = day.at(3, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).unwrap_or(at);
    store
        .enqueue_job(&NewJob {
            kind: SWEEP_KIND.into(),
            payload: json!({"day": day.to_string()}),
            idempotency_key: Some(day.to_string()),
            priority: 0,
            run_at: three.max(at),
            max_attempts: 12,
        })
        .await
}

/// The daily sweep as a job; each run queues the next day's. A run that fails part-way is
/// retried and resumes where it stopped.
pub struct RetentionSweepJob {
    retention: Arc<Retention>,
}

impl RetentionSweepJob {
    /// Sweeps through `retention`.
    pub fn new(retention: Arc<Retention>) -> Self {
        Self { retention }
    }
}

#[async_trait]
impl JobHandler for RetentionSweepJob {
    fn kind(&self) -> &'static str {
        SWEEP_KIND
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let report = self.retention.run(false).await.map_err(|e| JobError::Retry(e.to_string()))?;
        tracing::info!(deleted = report.total_deleted(), held = report.held.values().sum::<u64>(), "retention swept");
        let today = self.retention.cx.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let tomorrow = today
            .tomorrow()
            .and_then(|d| d.at(0, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC))
            .map_err(|e| JobError::Permanent(e.to_string()))?
            .timestamp();
        schedule_sweep(&self.retention.cx.store, tomorrow).await.map_err(|e| JobError::Retry(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn expiry_follows_the_rule_in_utc_calendar_units() {
        let policy = Policy::example();
        // security-logs: P30D. Across the EU daylight-saving change of 29 March 2026, the
        // end is still exactly 30 x 24 hours later.
        let end = expiry(&policy, "website-operation", "user.device.ip_address", at("2026-03-28T12:00:00Z"));
        assert_eq!(end, Some(at("2026-04-27T12:00:00Z")));
        // messages: P2Y, from 29 February to 28 February.
        let end = expiry(&policy, "contact", "user.contact.email", at("2028-02-29T08:00:00Z"));
        assert_eq!(end, Some(at("2030-02-28T08:00:00Z")));
        // accounts: until the account is closed, no period.
        assert_eq!(expiry(&policy, "account", "user.contact.email", at("2026-01-01T00:00:00Z")), None);
        // marketing: until withdrawal and at most P3Y.
        let end = expiry(&policy, "marketing", "user.name", at("2026-01-01T00:00:00Z"));
        assert_eq!(end, Some(at("2029-01-01T00:00:00Z")));
    }
}
