//! `ingest`: durable, cookieless page views posted over HTTP on loopback by 64 concurrent
//! clients, one event per request as a tracker sends them; and, as the ceiling, the same
//! rows written by one raw batch insert on the same database in the same run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_server::AppState;
use custos_store::{ConnectOptions, EventVisitor, StoredEvent};
use custos_vault::MasterKey;

use crate::report::Report;
use crate::scenarios::scratch;

const CLIENTS: u64 = 64;

pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let db = scratch(postgres).await?;
    let store = custos_store::connect(&db.url, &ConnectOptions { max_connections: 8, ..Default::default() }).await?;
    let keys = custos_store::connect_keys(&db.url, &ConnectOptions::default()).await?;
    let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), keys.clone()).await?);
    let app = custos_server::app(AppState::new(store.clone(), vault, Policy::example()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/events", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(custos_server::serve(listener, app, async move {
        let _ = stopped.await;
    }));

    let per_client = (size / CLIENTS).max(1);
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS as usize).build()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client as usize);
            for n in 0..per_client {
                let body = format!(
                    r#"{{"events":[{{"kind":"pageview","url":"https://shop.example/p/{}","entry":{}}}]}}"#,
                    n % 50,
                    n == 0
                );
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .header("content-type", "text/plain")
                    .header("user-agent", format!("bench-client/{c}"))
                    .header("origin", "https://shop.example")
                    .body(body)
                    .send()
                    .await?;
                anyhow::ensure!(response.status().as_u16() == 202, "ingest answered {}", response.status());
                latencies.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let http_s = started.elapsed().as_secs_f64();
    let events = latencies.len() as f64;
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;

    // The ceiling: the same number of rows in one raw batch insert, in the same run.
    let rows: Vec<StoredEvent> = (0..latencies.len())
        .map(|n| StoredEvent {
            visitor: EventVisitor::Anonymous([(n % 251) as u8; 32]),
            event_id: uuid::Uuid::now_v7(),
            at: jiff::Timestamp::now(),
            kind: "pageview".into(),
            path: format!("/p/{}", n % 50),
            referrer: None,
            entry: false,
            duration_ms: None,
            sealed_ip: None,
            country: None,
            browser: Some("Other".into()),
            os: Some("Other".into()),
            device: Some("pc".into()),
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(10_000) {
        store.insert_events(chunk).await?;
    }
    let ceiling_s = started.elapsed().as_secs_f64();

    let _ = stop.send(());
    let _ = server.await;
    store.close().await;
    keys.close_keys().await;
    db.finish().await?;

    let rate = events / http_s;
    let ceiling = events / ceiling_s;
    let mut report = Report::new("ingest");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("clients", CLIENTS)
        .note("events", events as u64)
        .note("events_per_request", 1)
        .figure("events_per_s", rate, "1/s")
        .figure("p50_ms", pct(0.50), "ms")
        .figure("p99_ms", pct(0.99), "ms")
        .figure("ceiling_rows_per_s", ceiling, "1/s")
        .figure("ratio_to_ceiling", rate / ceiling, "ratio")
        .target("events_per_s", ">=", 20_000.0)
        .target("ratio_to_ceiling", ">=", 0.5);
    Ok(report)
}
