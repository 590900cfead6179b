//! The daily sweep of rights requests: unverified ones expire, the DPO is reminded of
//! what is due.

use super::*;

/// The job kind of the daily sweep: expiring unverified requests and reminding staff.
pub const SWEEP_KIND: &str = "rights.sweep";
/// Unverified requests expire this long after receipt.
pub const UNVERIFIED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
/// Staff are reminded of requests due within this time.
pub const REMIND_BEFORE: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Unverified requests expired (and their addresses forgotten).
    pub expired: usize,
    /// Requests the reminder named: due soon or overdue, waiting on staff or custos.
    pub reminded: usize,
    /// Mail threads that never became a request, erased once their purpose was served
    /// ([`crate::inbox::forget_finished_threads`]).
    pub threads_forgotten: usize,
}

impl Rights {
    /// Expires requests left unverified for [`UNVERIFIED_LIFETIME`], and mails the data
    /// protection officer (the policy's DPO address) the requests due within
    /// [`REMIND_BEFORE`] or overdue. The reminder names requests by id, kind, state and due
    /// date: no personal data.
    pub async fn sweep(&self, mailer: &Mailer) -> Result<SweepReport, RightsError> {
        let now = self.clock.now();
        let mut report = SweepReport {
            threads_forgotten: crate::inbox::forget_finished_threads(&self.store, self.vault(), &self.auditor, now)
                .await?,
            ..SweepReport::default()
        };
        let open = self.store.open_rights_requests(10_000).await?;
        let mut attention = Vec::new();
        for mut request in open {
            let age = now.duration_since(request.received_at);
            if request.state == "unverified" && age.as_secs() >= UNVERIFIED_LIFETIME.as_secs() as i64 {
                request.state = "expired".into();
                request.closed_at = Some(now);
                request.code_hash = None;
                request.code_expires_at = None;
                if self.store.update_rights_request(&request, "unverified").await? {
                    self.forget_address(request.id).await?;
                    self.audit(&Actor::System, "rights.expire", &request, serde_json::json!({})).await?;
                    self.announce(&request, "expired").await?;
                    report.expired += 1;
                }
                continue;
            }
            let soon = request.due_at.duration_since(now).as_secs() < REMIND_BEFORE.as_secs() as i64;
            if request.state != "unverified" && soon {
                attention.push(request);
            }
        }
        if !attention.is_empty() {
            let lines: Vec<String> = attention
                .iter()
                .map(|r| {
                    let flag = if r.due_at <= now { " OVERDUE" } else { "" };
                    format!("{}  {:<13} {:<11} due {}{flag}", r.id, r.kind, r.state, r.due_at.strftime("%Y-%m-%d"))
                })
                .collect();
            let body = format!(
                "{} rights request(s) are due within a week or overdue:\n\n{}\n\n\
                 See them with `custos rights list`; extend one with `custos rights extend ID --months N --reason ...` \
                 (once, within its first month).\n",
                attention.len(),
                lines.join("\n")
            );
            let to = self
                .policy
                .controller
                .dpo
                .email
                .parse()
                .map_err(|_| invalid("dpo", "the policy's DPO email is not a valid address"))?;
            let message = Message::builder()
                .from(mailer.from().clone())
                .to(to)
                .subject(format!("{} rights request(s) need attention", attention.len()))
                .header(ContentType::TEXT_PLAIN)
                .body(body)
                .map_err(|e| invalid("dpo", e.to_string()))?;
            mailer.send(message).await.map_err(|e| RightsError::Store(StoreError::Unavailable(e.to_string())))?;
            report.reminded = attention.len();
        }
        Ok(report)
    }
}

/// Queues the sweep for the day of `at` (at 06:00 UTC, or now if later); queuing it again
/// for the same day changes nothing, so every process may call this at start.
pub async fn schedule_sweep(store: &Arc<dyn Store>, at: Timestamp) -> Result<Enqueued, StoreError> {
    let day = at.to_zoned(jiff::tz::TimeZone::UTC).date();
    let six = day.at(6, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).unwrap_or(at);
    store
        .enqueue_job(&NewJob {
            kind: SWEEP_KIND.into(),
            payload: serde_json::json!({"day": day.to_string()}),
            idempotency_key: Some(day.to_string()),
            priority: 0,
            run_at: six.max(at),
            max_attempts: 12,
        })
        .await
}

/// The daily sweep as a job; each run queues the next day's.
pub struct RightsSweep {
    rights: Arc<Rights>,
    mailer: Mailer,
}

impl RightsSweep {
    /// Sweeps through `rights`, reminding through `mailer`.
    pub fn new(rights: Arc<Rights>, mailer: Mailer) -> Self {
        Self { rights, mailer }
    }
}

#[async_trait]
impl JobHandler for RightsSweep {
    fn kind(&self) -> &'static str {
        SWEEP_KIND
    }

    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let report = self.rights.sweep(&self.mailer).await.map_err(|e| JobError::Retry(e.to_string()))?;
        tracing::info!(
            expired = report.expired,
            reminded = report.reminded,
            threads_forgotten = report.threads_forgotten,
            "rights requests and the mailbox swept"
        );
        let today = self.rights.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
        let tomorrow = today
            .tomorrow()
            .and_then(|d| d.at(0, 0, 0, 0).to_zoned(jiff::tz::TimeZone::UTC))
            .map_err(|e| JobError::Permanent(e.to_string()))?
            .timestamp();
        schedule_sweep(&self.rights.store, tomorrow).await.map_err(|e| JobError::Retry(e.to_string()))?;
        Ok(())
    }
}
