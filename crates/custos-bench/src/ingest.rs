//! `ingest`: durable, cookieless page views posted over HTTP on loopback by 64 concurrent
//! connections, one event per request as a tracker sends them; and, as the ceiling, the
//! same number of rows written straight to the database in batches, in the same run.
//!
//! The load comes from `wrk` in a process of its own when it is installed (Debian package
//! `wrk`), so that the load generator does not compete with the server inside one process;
//! otherwise from an HTTP client in this process, which the report says.
//!
//! With `wrk`, the run also measures the HTTP floor: the same connections asking the same
//! server for `GET /healthz` (no body, no database, the same middleware) for as long. It
//! bounds what any one-event-per-request ingest can reach on this machine, and the ratio of
//! events/s to it says how much of that bound the event path itself costs.

use std::time::{Duration, Instant};

use custos_store::{EventVisitor, StoredEvent};

use crate::report::Report;
use crate::served::Served;

const CLIENTS: u64 = 64;

pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let served = Served::start(postgres, &[]).await?;
    let (url, store) = (format!("{}/v1/events", served.base), served.store.clone());

    let load = match wrk(&url, size, INGEST_SCRIPT) {
        Some(load) => load,
        None => in_process(&url, size).await?,
    };
    let events = load.requests;
    let floor = match load.generator {
        WRK => wrk(&format!("{}/healthz", served.base), size, ""),
        _ => None,
    };

    // The ceiling: the same number of rows in one raw batch insert, in the same run.
    let rows: Vec<StoredEvent> = (0..events as usize)
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

    served.finish().await?;

    let rate = load.per_second;
    let ceiling = events / ceiling_s;
    let mut report = Report::new("ingest");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("connections", CLIENTS)
        .note("load_generator", load.generator)
        .note("events", events as u64)
        .note("events_per_request", 1)
        .figure("events_per_s", rate, "1/s")
        .figure("p50_ms", load.p50_ms, "ms")
        .figure("p99_ms", load.p99_ms, "ms")
        .figure("ceiling_rows_per_s", ceiling, "1/s")
        .figure("ratio_to_ceiling", rate / ceiling, "ratio")
        .target("events_per_s", ">=", 20_000.0)
        .target("ratio_to_ceiling", ">=", 0.5);
    if let Some(floor) = floor {
        report.figure("http_floor_per_s", floor.per_second, "1/s").figure(
            "ratio_to_http_floor",
            rate / floor.per_second,
            "ratio",
        );
    }
    Ok(report)
}

/// What a load run measured.
struct Load {
    generator: &'static str,
    requests: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// The `wrk` name of the load generator.
const WRK: &str = "wrk (separate process)";

/// One page view per request, as the tracker sends them.
const INGEST_SCRIPT: &str = "wrk.method = \"POST\"\n\
    wrk.headers[\"Content-Type\"] = \"text/plain\"\n\
    wrk.headers[\"Origin\"] = \"https://shop.example\"\n\
    wrk.headers[\"User-Agent\"] = \"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"\n\
    wrk.body = '{\"events\":[{\"kind\":\"pageview\",\"url\":\"https://shop.example/p/1\",\"entry\":true}]}'\n";

/// Requests from `wrk` running `script`, for about as long as `size` requests take at 20k/s.
fn wrk(url: &str, size: u64, script: &str) -> Option<Load> {
    let file = tempfile::NamedTempFile::new().ok()?;
    std::fs::write(file.path(), script).ok()?;
    let script = file;
    let seconds = (size / 20_000).clamp(1, 60);
    let output = std::process::Command::new("wrk")
        .args(["-t1", &format!("-c{CLIENTS}"), &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script.path())
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() || text.contains("Non-2xx") {
        eprintln!("wrk failed or saw errors:\n{text}");
        return None;
    }
    let after = |label: &str| text.lines().find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()));
    let ms = |v: String| -> Option<f64> {
        if let Some(n) = v.strip_suffix("ms") {
            n.parse().ok()
        } else if let Some(n) = v.strip_suffix("us") {
            n.parse::<f64>().ok().map(|u| u / 1000.0)
        } else {
            v.strip_suffix('s').and_then(|n| n.parse::<f64>().ok()).map(|s| s * 1000.0)
        }
    };
    let requests: f64 =
        text.lines().find_map(|l| l.trim().split_once(" requests in ").and_then(|(n, _)| n.parse().ok()))?;
    Some(Load {
        generator: WRK,
        requests,
        per_second: after("Requests/sec:")?.parse().ok()?,
        p50_ms: ms(after("50%")?)?,
        p99_ms: ms(after("99%")?)?,
    })
}

/// One event per request from an HTTP client in this process.
async fn in_process(url: &str, size: u64) -> anyhow::Result<Load> {
    let per_client = (size / CLIENTS).max(1);
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS as usize).build()?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let client = client.clone();
        let url = url.to_owned();
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
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e3;
    Ok(Load {
        generator: "in-process client (wrk not installed)",
        requests: latencies.len() as f64,
        per_second: latencies.len() as f64 / seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    })
}
