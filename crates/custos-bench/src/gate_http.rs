//! The `gate` scenario's second half: purpose-gated reads over HTTP on loopback
//! (`GET /v1/subjects/{id}/records?purpose=…&categories=…` with a service token), each one
//! decided by the gate, opened from the vault and audited, as the operator's services read.
//! Target ≥ 10,000 reads/s. The load comes from `wrk` in its own process when installed.

use std::time::Instant;

use crate::consent::wrk;
use crate::report::Report;
use crate::served::Served;

const CONNECTIONS: u64 = 64;

/// Runs the in-process gate half, then the HTTP half, into one report.
pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let mut report = crate::scenarios::gate(size);
    let served = Served::start(postgres, &["support"]).await?;
    let (base, token) = (served.base.clone(), served.token.clone());

    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{base}/v1/subjects"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "kind": "user",
            "identifiers": [{"kind": "email", "value": "reader@bench.example"}],
            "records": [
                {"purpose": "support", "category": "user.name", "value": "Ada Bench"},
                {"purpose": "support", "category": "user.contact.email", "value": "reader@bench.example"},
            ],
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let subject = created["subject_id"].as_str().ok_or_else(|| anyhow::anyhow!("no subject id: {created}"))?;
    let url = format!("{base}/v1/subjects/{subject}/records?purpose=support&categories=user.name,user.contact.email");
    let seconds = (size / 500_000).clamp(1, 20);
    let script = format!("wrk.headers['Authorization'] = 'Bearer {token}'\n");
    let (reads, generator) = match wrk(&url, &script, seconds) {
        Some(reads) => (reads, "wrk (separate process)"),
        None => (in_process(&client, &url, &token, (size / 100).max(CONNECTIONS)).await?, "in-process client"),
    };

    served.finish().await?;
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("http_connections", CONNECTIONS)
        .note("http_load_generator", generator)
        .figure("gated_reads_per_s", reads, "1/s")
        .target("gated_reads_per_s", ">=", 10_000.0);
    Ok(report)
}

async fn in_process(client: &reqwest::Client, url: &str, token: &str, total: u64) -> anyhow::Result<f64> {
    let per = (total / CONNECTIONS).max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per {
                let response = client.get(&url).bearer_auth(&token).send().await?;
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
