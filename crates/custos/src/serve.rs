//! `custos serve`: the HTTP server and the job workers, until SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use custos_engine::accounts::AccountMailJob;
use custos_engine::campaigns::CampaignFanout;
use custos_engine::confirmations::ConfirmationMail;
use custos_engine::drp::DrpCallbacks;
use custos_engine::inbox::{InboxReply, PartnerForward};
use custos_engine::jobs::{JobRunner, RetryPolicy};
use custos_engine::mail::{MailJob, Mailer};
use custos_engine::partners::PartnerTermination;
use custos_engine::rights::{RightsExecution, RightsMail, RightsSweep};
use custos_server::AppState;
use custos_store::Store;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::storage;

/// Runs until a shutdown signal, then drains requests and workers and returns.
pub(crate) async fn run(settings: Settings) -> anyhow::Result<()> {
    // Everything that can be wrong in the settings is found before anything starts.
    let policy = crate::policy::load(settings.policy.as_deref())?;
    let geo = match &settings.geoip_db {
        Some(path) => Some(maxminddb::Reader::open_readfile(path).map_err(|e| {
            anyhow::anyhow!("cannot read the geo-location database {}: {e}; check CUSTOS_GEOIP_DB", path.display())
        })?),
        None => None,
    };
    let mailer = mailer(&settings, &policy)?;
    let tls = settings.server.tls()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    storage::prepare(&settings)?;
    // Bind before touching the database, so that a taken port fails fast and alone.
    let listener = tokio::net::TcpListener::bind(settings.bind).await.map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {}: {e}; stop whatever uses it or choose another address with --bind or CUSTOS_BIND",
            settings.bind
        )
    })?;
    let imap = settings.inbox.imap()?;
    let smtp_listener = match settings.inbox.smtp_listen {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen for mail on {addr}: {e}; check [inbox] smtp_listen or CUSTOS_INBOX_SMTP_LISTEN"
            )
        })?),
        None => None,
    };
    let store = storage::open(&settings).await?;
    let (vault, keys) = crate::keys::open_vault(&settings).await?;
    let (version, _) = custos_engine::policy::publish(&store, &policy, jiff::Timestamp::now()).await?;
    let address = listener.local_addr().context("cannot read the listening address")?;
    let public_url = settings.public_url.clone().unwrap_or_else(|| format!("{scheme}://{address}"));
    let state = AppState::new(store.clone(), vault, policy)
        .with_mail(Some(mailer.clone()), &public_url)
        .with_limits(settings.limits)
        .with_banner(&settings.banner)
        .map_err(|e| anyhow::anyhow!("the configuration's [banner] section: {e}"))?
        .with_branding(&settings.privacy_center)
        .map_err(|e| anyhow::anyhow!("the configuration's [privacy_center] section: {e}"))?
        .with_outbound(&settings.outbound.load()?)
        .map_err(|e| anyhow::anyhow!("the configuration's [outbound] section: {e}"))?
        .with_drp(&settings.drp)
        .map_err(|e| anyhow::anyhow!("the configuration's [drp] section: {e}"))?
        .with_partners(settings.partners.clone());
    if let Some(geo) = geo {
        state.analytics.set_geo(geo);
    }
    // Listen for signals before announcing the address, so that a SIGTERM sent as soon as
    // the address is known shuts down cleanly instead of killing the process.
    let shutdown = CancellationToken::new();
    let signals = ShutdownSignals::install()?;
    tokio::spawn(signals.cancel(shutdown.clone()));
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        database = %storage::describe(&settings),
        policy = %format!("{} ({})", version.short(), version.label),
        "custos listening on {scheme}://{address}"
    );
    // A fresh installation has no staff: a one-time link creates the first admin.
    if let Some(token) = state.staff.setup_token().await? {
        tracing::warn!(
            "no staff yet: open {public_url}/admin/setup/{token} to create the first admin of the console \
             (the link works once, for 24 hours; a restart makes a new one)"
        );
    }
    if settings.mail.url.is_none() {
        tracing::info!(dir = %settings.data_dir.join("mail").display(), "no SMTP settings: mail is written as .eml files");
    }

    let records = state.records.clone();
    let auditor = records.auditor().clone();
    let accounts = state.accounts.clone();
    let rights = state.rights.clone();
    let inbox = state.inbox.clone();
    let outbound = state.outbound.clone();
    let contact_purpose = settings.partners.contact_purpose.clone();
    spawn_mailbox(&state, &settings, imap, smtp_listener, &shutdown)?;
    let partners = state.partners.clone();
    let callbacks = match (&state.drp, &state.outbound) {
        (Some(drp), Some(outbound)) => Some((drp.clone(), outbound.clone())),
        _ => None,
    };
    // Today's sweep of rights requests (each run queues the next day's).
    custos_engine::rights::schedule_sweep(&store, jiff::Timestamp::now()).await?;
    // Verified requests whose execution a crash kept from being queued.
    let resumed = state.rights.resume_verified().await?;
    tracing::debug!(resumed, "verified rights requests checked for a queued execution");
    // Today's retention sweep (each run queues the next day's).
    custos_engine::governance::retention::schedule_sweep(&store, jiff::Timestamp::now()).await?;
    let governance = state.governance.clone();
    let mut workers = custos_server::workers::spawn(
        |n| {
            let runner = job_runner(store.clone(), n, &settings.jobs)
                .register(MailJob::new(records.clone(), mailer.clone()))
                .register(AccountMailJob::new(accounts.clone()))
                .register(ConfirmationMail::new(
                    store.clone(),
                    records.vault().clone(),
                    records.policy().clone(),
                    records.clock().clone(),
                    mailer.clone(),
                    &public_url,
                ))
                .register(CampaignFanout::new(store.clone(), records.vault().clone(), &public_url))
                .register(RightsExecution::new(rights.clone()))
                .register(RightsMail::new(rights.clone(), mailer.clone(), &public_url))
                .register(custos_engine::rights::LiftJob::new(rights.clone(), mailer.clone(), &public_url))
                .register(RightsSweep::new(rights.clone(), mailer.clone()))
                .register(custos_engine::governance::retention::RetentionSweepJob::new(governance.retention.clone()))
                .register(custos_engine::governance::notices::NoticeJob::new(
                    store.clone(),
                    Some(mailer.clone()),
                    Arc::new(custos_engine::SystemClock),
                ))
                .register(PartnerTermination::new(partners.clone()))
                .register(InboxReply::new(inbox.clone(), mailer.clone(), &public_url))
                .register(PartnerForward::new(
                    inbox.clone(),
                    records.clone(),
                    mailer.clone(),
                    outbound.clone(),
                    &contact_purpose,
                ));
            match &callbacks {
                Some((drp, outbound)) => runner.register(DrpCallbacks::new(drp.clone(), outbound.clone())),
                None => runner,
            }
        },
        settings.jobs.workers,
        Duration::from_millis(settings.jobs.poll_interval_ms.max(10)),
        &shutdown,
    );

    let app = custos_server::app(state);
    let stopping = shutdown.clone();
    let stopped = async move { stopping.cancelled().await };
    let server = async move {
        match tls {
            Some(config) => custos_server::serve_tls(listener, config, app, stopped).await,
            None => custos_server::serve(listener, app, stopped).await,
        }
    };
    let grace = Duration::from_secs(settings.shutdown_grace_secs);
    let drained = async {
        shutdown.cancelled().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server => served.context("the HTTP server failed")?,
        () = drained => tracing::warn!(?grace, "requests still in flight after the grace period; stopping anyway"),
    }
    // The server has stopped accepting; let each worker finish its current job.
    if tokio::time::timeout(grace, async { while workers.join_next().await.is_some() {} }).await.is_err() {
        tracing::warn!(?grace, "job workers still busy after the grace period; their jobs will be retried");
    }
    // The audit anchor's task copies the chain's head every few milliseconds; copy the
    // last one now, before the key store closes.
    if let Err(error) = auditor.settle().await {
        tracing::warn!(%error, "could not move the audit anchor at shutdown; the entries are stored");
    }
    store.close().await;
    keys.close_keys().await;
    tracing::info!("custos stopped");
    Ok(())
}

/// Starts the privacy mailbox's IMAP reader and SMTP listener, as configured, until
/// `shutdown`.
fn spawn_mailbox(
    state: &AppState,
    settings: &Settings,
    imap: Option<custos_server::mailbox::ImapSettings>,
    smtp: Option<tokio::net::TcpListener>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    if let Some(imap) = imap {
        let reader = custos_server::mailbox::ImapReader::new(imap, state.inbox.clone())
            .map_err(|e| anyhow::anyhow!("the configuration's [inbox] section: {e}"))?;
        let shutdown = shutdown.clone();
        tokio::spawn(async move { reader.run(shutdown).await });
    }
    if let Some(listener) = smtp {
        let mut recipients = settings.inbox.smtp_recipients.clone();
        if recipients.is_empty() {
            recipients.push(state.policy.rights.email.clone());
        }
        let address = listener.local_addr().context("cannot read the mail listener's address")?;
        let host = state.public_url.split("://").nth(1).and_then(|r| r.split(['/', ':']).next()).map(str::to_owned);
        let server = Arc::new(custos_server::mailbox::SmtpListener::new(
            state.inbox.clone(),
            &recipients,
            host.as_deref().unwrap_or("custos"),
        ));
        tracing::info!(%address, recipients = recipients.len(), "taking privacy mail over SMTP");
        tokio::spawn(server.serve(listener, shutdown.clone()));
    }
    Ok(())
}

/// The mailer: SMTP when configured, `.eml` files in the data directory otherwise.
fn mailer(settings: &Settings, policy: &custos_policy::Policy) -> anyhow::Result<Mailer> {
    let url = match &settings.mail.url {
        Some(url) => url.0.clone(),
        None => {
            let dir = settings.data_dir.join("mail");
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            format!("file://{}", dir.display())
        }
    };
    let from = settings.mail.from.clone().unwrap_or_else(|| policy.rights.email.clone());
    let mailer =
        Mailer::from_url(&url, &from).map_err(|e| anyhow::anyhow!("CUSTOS_MAIL_URL or CUSTOS_MAIL_FROM: {e}"))?;
    Ok(mailer)
}

/// One job runner. Handlers are registered here as the modules that need them land.
fn job_runner(store: Arc<dyn Store>, n: usize, jobs: &crate::config::JobSettings) -> JobRunner {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "custos".into());
    JobRunner::new(store)
        .with_worker_id(format!("{host}-{}-{n}", std::process::id()))
        .with_lease(Duration::from_secs(jobs.lease_secs.max(1)))
        .with_retry_policy(RetryPolicy {
            base: Duration::from_millis(jobs.retry_base_ms.max(10)),
            ..RetryPolicy::default()
        })
}

/// SIGINT and SIGTERM, listened for from the moment they are installed.
struct ShutdownSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn install() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
            let interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
            Ok(Self { terminate, interrupt })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Cancels `token` on the first signal.
    async fn cancel(mut self, token: CancellationToken) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => tracing::info!("SIGINT received; shutting down"),
            _ = self.terminate.recv() => tracing::info!("SIGTERM received; shutting down"),
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupt received; shutting down");
        }
        token.cancel();
    }
}
