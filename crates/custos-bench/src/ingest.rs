//! `ingest`: durable page views of consenting visitors posted over HTTP on loopback by 64
//! concurrent connections, as the issue states the scenario: each event is tied to its
//! visitor, its address sealed under the visitor's key, and acknowledged once committed.
//! And, as the ceiling, the same number of such rows written straight to the database in
//! batches, in the same run.
//!
//! The main figure is one event per request, as the tracker sends them. The run also
//! measures, beside it: the same visitors posting 25 events per request (a batch, as a
//! server-side forwarder or a tracker flushing its queue sends them); cookieless page
//! views (no consent: a daily-salted hash, nothing sealed); and the HTTP floor, the same
//! connections asking for `GET /healthz` (no body, no database, the same middleware). The
//! floor bounds what any one-event-per-request ingest can reach on this machine.
//!
//! The load comes from `wrk` in a process of its own when it is installed (Debian package
//! `wrk`), so that the load generator does not compete with the server inside one process;
//! otherwise from an HTTP client in this process (one event per request, consented), which
//! the report says.

use std::time::{Duration, Instant};

use custos_store::{EventVisitor, StoredEvent, SubjectId};

use crate::report::Report;
use crate::served::Served;

const CLIENTS: u64 = 64;
/// Consenting visitors the load is spread over.
const VISITORS: usize = 1_000;
/// Events per request in the batched run.
const BATCH: usize = 25;

/// The cookie id of consenting visitor `n`.
fn visitor(n: usize) -> String {
    format!("bench-visitor-{n:06}")
}

pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let served = Served::start(postgres, &[]).await?;
    let (url, store) = (format!("{}/v1/events", served.base), served.store.clone());
    // The visitors say yes to analytics in the banner, as people do.
    let client = reqwest::Client::new();
    for n in 0..VISITORS {
        let choice = serde_json::json!({"visitor_id": visitor(n), "choices": {"analytics": true}, "method": "banner"});
        let r = client.post(format!("{}/v1/banner/consent", served.base)).json(&choice).send().await?;
        anyhow::ensure!(r.status().is_success(), "the banner consent answered {}", r.status());
    }

    let load = match wrk(&url, size, &script(true, 1)) {
        Some(load) => load,
        None => in_process(&url, size).await?,
    };
    let events = load.requests;
    let (batched, cookieless, floor) = match load.generator {
        WRK => (
            wrk(&url, size / BATCH as u64, &script(true, BATCH)),
            wrk(&url, size, &script(false, 1)),
            wrk(&format!("{}/healthz", served.base), size, ""),
        ),
        _ => (None, None, None),
    };

    // The ceiling: the same number of consented rows (a visitor, a sealed address, a
    // country), written in raw batches, in the same run.
    let owners: Vec<SubjectId> = (0..VISITORS).map(|_| SubjectId::new()).collect();
    for &id in &owners {
        let subject = custos_store::NewSubject {
            id,
            kind: custos_store::SubjectKind::Visitor,
            created_at: jiff::Timestamp::now(),
        };
        store.create_subject(&subject, &[]).await?;
    }
    let rows: Vec<StoredEvent> = (0..events as usize)
        .map(|n| StoredEvent {
            visitor: EventVisitor::Subject(owners[n % VISITORS]),
            event_id: uuid::Uuid::now_v7(),
            at: jiff::Timestamp::now(),
            kind: "pageview".into(),
            path: format!("/p/{}", n % 50),
            referrer: None,
            entry: false,
            duration_ms: None,
            sealed_ip: Some(vec![(n % 251) as u8; 52]),
            country: Some("NL".into()),
            browser: Some("Firefox".into()),
            os: Some("Linux".into()),
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
        .note("visitors", VISITORS as u64)
        .note("consented", true)
        .figure("events_per_s", rate, "1/s")
        .figure("p50_ms", load.p50_ms, "ms")
        .figure("p99_ms", load.p99_ms, "ms")
        .figure("ceiling_rows_per_s", ceiling, "1/s")
        .figure("ratio_to_ceiling", rate / ceiling, "ratio")
        .target("events_per_s", ">=", 20_000.0)
        .target("ratio_to_ceiling", ">=", 0.5);
    if let Some(batched) = batched {
        let per_s = batched.per_second * BATCH as f64;
        report
            .note("batched_events_per_request", BATCH as u64)
            .figure("batched_events_per_s", per_s, "1/s")
            .figure("batched_p50_ms", batched.p50_ms, "ms")
            .figure("batched_p99_ms", batched.p99_ms, "ms")
            .figure("batched_ratio_to_ceiling", per_s / ceiling, "ratio");
    }
    if let Some(cookieless) = cookieless {
        report.figure("cookieless_events_per_s", cookieless.per_second, "1/s");
    }
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

/// A `wrk` script posting `per_request` page views per request: from the consenting
/// visitors in turn, or cookieless (no visitor id).
fn script(consented: bool, per_request: usize) -> String {
    let event = r#"{\"kind\":\"pageview\",\"url\":\"https://shop.example/p/1\",\"entry\":true}"#;
    let events = vec![event; per_request].join(",");
    let visitor = if consented {
        format!(r#"'{{\"visitor_id\":\"' .. string.format("bench-visitor-%06d", n % {VISITORS}) .. '\",'"#)
    } else {
        "'{'".to_owned()
    };
    format!(
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain"
wrk.headers["Origin"] = "https://shop.example"
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, {visitor} .. '\"events\":[{events}]}}')
end
"#
    )
}

/// Requests from `wrk` running `script`, for about as long as `size` requests take at 20k/s.
fn wrk(url: &str, size: u64, script: &str) -> Option<Load> {
    let size = size.max(20_000);
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
                    r#"{{"visitor_id":"{}","events":[{{"kind":"pageview","url":"https://shop.example/p/{}","entry":{}}}]}}"#,
                    visitor((c * per_client + n) as usize % VISITORS),
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
