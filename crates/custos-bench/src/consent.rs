//! `consent`: durable consent records written over HTTP (`POST /v1/consents`, a new
//! visitor's cookie each time) and current-state reads (`GET /v1/subjects/{id}/consents`),
//! each per second. Targets: ≥ 10,000 writes/s and ≥ 20,000 reads/s. The load comes from
//! `wrk` in its own process when installed, from an in-process client otherwise.

use std::time::Instant;

use crate::report::Report;
use crate::served::Served;

const CONNECTIONS: u64 = 64;

pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let served = Served::start(postgres, &["analytics"]).await?;
    let (base, token) = (served.base.clone(), served.token.clone());

    // One subject to read, with a consent in its ledger.
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{base}/v1/consents"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"cookie_id": "bench-reader-0001", "purpose": "analytics", "granted": true, "method": "api"}))
        .send()
        .await?
        .json()
        .await?;
    let subject = created["subject_id"].as_str().unwrap_or_default().to_owned();

    let seconds = (size / 10_000).clamp(1, 30);
    let write_script = format!(
        r#"counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{{"cookie_id":"bench-%d-%d","purpose":"analytics","granted":true,"method":"api"}}', math.random(1000000000), counter)
  return wrk.format('POST', '/v1/consents', {{['Content-Type'] = 'application/json', ['Authorization'] = 'Bearer {token}'}}, body)
end
"#
    );
    let read_script = format!("wrk.headers['Authorization'] = 'Bearer {token}'\n");
    let writes = wrk(&format!("{base}/v1/consents"), &write_script, seconds);
    let reads = wrk(&format!("{base}/v1/subjects/{subject}/consents"), &read_script, seconds);
    let (writes, reads, generator) = match (writes, reads) {
        (Some(w), Some(r)) => (w, r, "wrk (separate process)"),
        _ => {
            let w = in_process(&client, &base, &token, &subject, size, true).await?;
            let r = in_process(&client, &base, &token, &subject, size, false).await?;
            (w, r, "in-process client (wrk not installed)")
        }
    };

    served.finish().await?;

    let mut report = Report::new("consent");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("connections", CONNECTIONS)
        .note("load_generator", generator)
        .figure("writes_per_s", writes, "1/s")
        .figure("reads_per_s", reads, "1/s")
        .target("writes_per_s", ">=", 10_000.0)
        .target("reads_per_s", ">=", 20_000.0);
    Ok(report)
}

/// Requests per second `wrk` measured with `script`, or `None` without wrk or on errors.
pub(crate) fn wrk(url: &str, script: &str, seconds: u64) -> Option<f64> {
    let file = tempfile::NamedTempFile::new().ok()?;
    std::fs::write(file.path(), script).ok()?;
    let output = std::process::Command::new("wrk")
        .args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s"), "-s"])
        .arg(file.path())
        .arg(url)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") {
        eprintln!("wrk failed or saw errors:\n{text}");
        return None;
    }
    text.lines().find_map(|l| l.trim().strip_prefix("Requests/sec:").and_then(|v| v.trim().parse().ok()))
}

async fn in_process(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    subject: &str,
    size: u64,
    write: bool,
) -> anyhow::Result<f64> {
    let per = (size / CONNECTIONS).max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let (client, base, token, subject) = (client.clone(), base.to_owned(), token.to_owned(), subject.to_owned());
        tasks.push(tokio::spawn(async move {
            for n in 0..per {
                let response = if write {
                    client
                        .post(format!("{base}/v1/consents"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({"cookie_id": format!("bench-{c}-{n}"), "purpose": "analytics", "granted": true, "method": "api"}))
                        .send()
                        .await?
                } else {
                    client.get(format!("{base}/v1/subjects/{subject}/consents")).bearer_auth(&token).send().await?
                };
                anyhow::ensure!(response.status().is_success(), "answered {}", response.status());
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok((per * CONNECTIONS) as f64 / started.elapsed().as_secs_f64())
}
