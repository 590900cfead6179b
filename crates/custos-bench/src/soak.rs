//! `soak`: custos on loopback under a steady mix for a long time (default 10 minutes):
//! page views (50 %), purpose-gated reads of people's records (30 %), rights requests
//! (10 %, their code mails sent by two job workers as `custos serve` runs them) and partner
//! uploads of pseudonymised batches (10 %), from 16 concurrent clients. It reports
//! throughput, p99 latency and errors per interval and overall, and the process's resident
//! memory (RSS) over time.
//!
//! Targets: zero errors, and flat memory: the mean RSS over the last minute (the last
//! tenth of a shorter run) within 10 % of the RSS right after warm-up (the first minute,
//! or tenth). The server, the job workers and the load generator share this process, so the
//! RSS is theirs together; the generator keeps only fixed-size histograms.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use custos_engine::jobs::JobRunner;
use custos_engine::mail::Mailer;
use custos_engine::rights::{RightsExecution, RightsMail};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_server::{AppState, RateLimits};
use custos_store::ConnectOptions;
use custos_vault::MasterKey;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::report::Report;
use crate::scenarios::scratch;

/// Concurrent clients.
const CLIENTS: usize = 16;

/// Latencies in 0.1 ms buckets up to 2 s, and one bucket above.
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
}

impl Histogram {
    const BUCKETS: usize = 20_000;

    fn new() -> Self {
        Self { buckets: vec![0; Self::BUCKETS + 1], count: 0 }
    }

    fn record(&mut self, latency: Duration) {
        let bucket = ((latency.as_secs_f64() * 10_000.0) as usize).min(Self::BUCKETS);
        self.buckets[bucket] += 1;
        self.count += 1;
    }

    /// The `p` quantile in milliseconds (the upper edge of its bucket).
    fn quantile_ms(&self, p: f64) -> f64 {
        if self.count == 0 {
            return f64::NAN;
        }
        let rank = ((self.count as f64) * p).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return (i + 1) as f64 / 10.0;
            }
        }
        f64::INFINITY
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.count += other.count;
    }
}

/// What the clients count, shared.
struct Counters {
    ops: [AtomicU64; 4],
    errors: AtomicU64,
    window: Mutex<Histogram>,
    first_error: Mutex<Option<String>>,
}

const OPS: [&str; 4] = ["events", "reads", "rights_requests", "partner_uploads"];

/// The resident memory of this process, in MB (Linux).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub(crate) async fn run(people: u64, seconds: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let db = scratch(postgres).await?;
    let store = custos_store::connect(&db.url, &ConnectOptions { max_connections: 8, ..Default::default() }).await?;
    let keys = custos_store::connect_keys(&db.keys_url, &ConnectOptions::default()).await?;
    let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), keys.clone()).await?);
    let policy = Policy::example();
    let purposes: Vec<String> = ["support", "partner-relationship"].map(String::from).into();
    let (_, token) = custos_engine::tokens::issue(&store, &policy, "soak", &purposes, jiff::Timestamp::now()).await?;
    let state = AppState::new(store.clone(), vault, policy).with_limits(RateLimits::off());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = {
        let stopping = shutdown.clone();
        tokio::spawn(custos_server::serve(listener, custos_server::app(state.clone()), async move {
            stopping.cancelled().await;
        }))
    };
    // Two job workers, as `custos serve` runs by default, sending the code mails.
    let mail_dir = tempfile::tempdir()?;
    let mailer = Mailer::from_url(&format!("file://{}", mail_dir.path().display()), "privacy@shop.example")?;
    let mut workers = Vec::new();
    for n in 0..2 {
        let runner = JobRunner::new(store.clone())
            .with_worker_id(format!("soak-{n}"))
            .register(RightsExecution::new(state.rights.clone()))
            .register(RightsMail::new(state.rights.clone(), mailer.clone(), &base));
        let stop = shutdown.clone();
        workers.push(tokio::spawn(async move { runner.run_until(stop, Duration::from_millis(100)).await }));
    }

    // People with a name and an address held for support, and a partner with a key.
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
    let mut subjects = Vec::new();
    for n in 0..people.max(1) {
        let email = format!("person{n}@example.org");
        let created: serde_json::Value = client
            .post(format!("{base}/v1/subjects"))
            .bearer_auth(&token)
            .json(&json!({"kind": "user", "identifiers": [{"kind": "email", "value": email}], "records": [
                {"purpose": "support", "category": "user.name", "value": format!("Person {n}")},
                {"purpose": "support", "category": "user.contact.email", "value": email},
            ]}))
            .send()
            .await?
            .json()
            .await?;
        let id = created["subject_id"].as_str().ok_or_else(|| anyhow::anyhow!("no subject made: {created}"))?;
        subjects.push(id.to_owned());
    }
    let partner: serde_json::Value = client
        .post(format!("{base}/v1/partners"))
        .bearer_auth(&token)
        .json(&json!({"name": "Soak Ads", "country": "DE", "role": "advertiser",
                      "contact_email": "ads@partner.example", "contact_name": "Ada Ads"}))
        .send()
        .await?
        .json()
        .await?;
    let partner_id = partner["id"].as_str().ok_or_else(|| anyhow::anyhow!("no partner: {partner}"))?;
    let key: serde_json::Value = client
        .post(format!("{base}/v1/partners/{partner_id}/keys"))
        .bearer_auth(&token)
        .json(&json!({"scopes": []}))
        .send()
        .await?
        .json()
        .await?;
    let partner_key = key["key"].as_str().ok_or_else(|| anyhow::anyhow!("no partner key: {key}"))?.to_owned();

    let counters = Arc::new(Counters {
        ops: Default::default(),
        errors: AtomicU64::new(0),
        window: Mutex::new(Histogram::new()),
        first_error: Mutex::new(None),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let subjects = Arc::new(subjects);
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (client, base, token, partner_key) = (client.clone(), base.clone(), token.clone(), partner_key.clone());
        let (counters, stop, subjects) = (counters.clone(), stop.clone(), subjects.clone());
        clients.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let pick = (n * 7 + c as u64) % 10;
                let person = ((n * 131 + c as u64 * 17) % subjects.len() as u64) as usize;
                let (op, request) = match pick {
                    0..=4 => (
                        0,
                        client
                            .post(format!("{base}/v1/events"))
                            .header("content-type", "text/plain")
                            .header("origin", "https://shop.example")
                            .header("user-agent", format!("soak-client/{c}"))
                            .body(format!(
                                r#"{{"events":[{{"kind":"pageview","url":"https://shop.example/p/{}","entry":{}}}]}}"#,
                                n % 50,
                                n.is_multiple_of(10)
                            )),
                    ),
                    5..=7 => (
                        1,
                        client
                            .get(format!(
                                "{base}/v1/subjects/{}/records?purpose=support&categories=user.name,user.contact.email",
                                subjects[person]
                            ))
                            .bearer_auth(&token),
                    ),
                    8 => (
                        2,
                        client
                            .post(format!("{base}/v1/rights-requests"))
                            .json(&json!({"kind": "access", "email": format!("person{person}@example.org")})),
                    ),
                    _ => (
                        3,
                        client.post(format!("{base}/v1/partner/records")).bearer_auth(&partner_key).json(
                            &(0..10)
                                .map(|i| {
                                    json!({"pseudonym": format!("{:032x}", (n << 8) + i + ((c as u64) << 48)),
                                           "country": "DE", "amount": i})
                                })
                                .collect::<Vec<_>>(),
                        ),
                    ),
                };
                let sent = Instant::now();
                let outcome = match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        Ok(())
                    }
                    Ok(response) => {
                        let status = response.status();
                        Err(format!("{} answered {status}: {}", OPS[op], response.text().await.unwrap_or_default()))
                    }
                    Err(e) => Err(format!("{}: {e}", OPS[op])),
                };
                let latency = sent.elapsed();
                match outcome {
                    Ok(()) => {
                        counters.ops[op].fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut window) = counters.window.lock() {
                            window.record(latency);
                        }
                    }
                    Err(e) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut first) = counters.first_error.lock() {
                            first.get_or_insert(e);
                        }
                    }
                }
            }
        }));
    }

    // Sample every interval: throughput, p99 and RSS.
    let seconds = seconds.max(5);
    let interval = Duration::from_secs((seconds / 60).clamp(1, 10));
    let warm_up = Duration::from_secs((seconds / 10).clamp(1, 60));
    let tail = warm_up;
    let started = Instant::now();
    let mut overall = Histogram::new();
    let mut timeline = Vec::new();
    let mut last_total = 0u64;
    let mut rss_after_warm_up = f64::NAN;
    let mut tail_rss = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(interval).await;
        let at = started.elapsed();
        let window =
            std::mem::replace(&mut *counters.window.lock().map_err(|_| anyhow::anyhow!("poisoned"))?, Histogram::new());
        let total: u64 = counters.ops.iter().map(|o| o.load(Ordering::Relaxed)).sum();
        let rss = rss_mb();
        if rss_after_warm_up.is_nan() && at >= warm_up {
            rss_after_warm_up = rss;
        }
        if at + tail >= Duration::from_secs(seconds) {
            tail_rss.push(rss);
        }
        timeline.push(json!({
            "t_s": (at.as_secs_f64() * 10.0).round() / 10.0,
            "ops_per_s": ((total - last_total) as f64 / interval.as_secs_f64()).round(),
            "p99_ms": window.quantile_ms(0.99),
            "errors": counters.errors.load(Ordering::Relaxed),
            "rss_mb": (rss * 10.0).round() / 10.0,
        }));
        eprintln!("{}", timeline.last().map(ToString::to_string).unwrap_or_default());
        overall.merge(&window);
        last_total = total;
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    shutdown.cancel();
    let _ = server.await;
    for worker in workers {
        worker.await?;
    }
    store.close().await;
    keys.close_keys().await;
    db.finish().await?;

    let counts: Vec<u64> = counters.ops.iter().map(|o| o.load(Ordering::Relaxed)).collect();
    let total: u64 = counts.iter().sum();
    let errors = counters.errors.load(Ordering::Relaxed);
    let tail_mean = tail_rss.iter().sum::<f64>() / tail_rss.len().max(1) as f64;
    let mut report = Report::new("soak");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("seconds", seconds)
        .note("clients", CLIENTS as u64)
        .note("people", people)
        .note("mix", "50% page views, 30% gated reads, 10% rights requests, 10% partner uploads of 10 records")
        .note("warm_up_s", warm_up.as_secs())
        .note("flat_rss_means", "mean RSS of the last warm_up_s within 10% of the RSS after warm-up")
        .note("first_error", counters.first_error.lock().ok().and_then(|e| e.clone()).unwrap_or_default())
        .note("timeline", serde_json::Value::Array(timeline));
    for (name, count) in OPS.iter().zip(&counts) {
        report.note(name, *count);
    }
    report
        .figure("ops_per_s", total as f64 / elapsed, "1/s")
        .figure("events_per_s", counts[0] as f64 / elapsed, "1/s")
        .figure("reads_per_s", counts[1] as f64 / elapsed, "1/s")
        .figure("rights_requests_per_s", counts[2] as f64 / elapsed, "1/s")
        .figure("partner_uploads_per_s", counts[3] as f64 / elapsed, "1/s")
        .figure("p50_ms", overall.quantile_ms(0.50), "ms")
        .figure("p99_ms", overall.quantile_ms(0.99), "ms")
        .figure("errors", errors as f64, "count")
        .figure("rss_after_warm_up_mb", rss_after_warm_up, "MB")
        .figure("rss_last_mb", tail_mean, "MB")
        .figure("rss_growth", tail_mean / rss_after_warm_up, "ratio")
        .target("errors", "<=", 0.0)
        .target("rss_growth", "<=", 1.10);
    Ok(report)
}
