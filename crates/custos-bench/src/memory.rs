//! `memory`: the resident memory (RSS) of a real `custos serve` process, started on a
//! store that already holds `size` people (each with an email identifier and two sealed
//! records), idle, then during a burst of purpose-gated reads of random people, then during
//! cookieless page-view ingest. Target ≤ 200 MB throughout. The process is the release or
//! debug `custos` binary next to this one (`cargo build --release -p custos`); its RSS is
//! read from `/proc/PID/status` every 100 ms while the load runs (from `wrk` in its own
//! process when installed).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_engine::gate::Actor;
use custos_engine::records::{NewValue, Records};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{ConnectOptions, IdentifierKind, SubjectKind};
use custos_vault::MasterKey;

use crate::consent::wrk;
use crate::report::Report;
use crate::scenarios::scratch;

/// People loaded at once by each of the loader's tasks.
const LOADERS: u64 = 4;

pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let binary = std::env::current_exe()?.with_file_name("custos");
    anyhow::ensure!(
        binary.exists(),
        "{} is missing: build it first (cargo build --release -p custos, or without --release for a debug run)",
        binary.display()
    );
    let dir = tempfile::tempdir()?;
    let db = scratch(postgres).await?;
    let master = MasterKey::generate();
    let key_file = dir.path().join("master.key");
    std::fs::write(&key_file, master.to_key_file().as_bytes())?;
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let policy = Arc::new(Policy::example());

    // The store with `size` people, written through the same code the server uses.
    let store = custos_store::connect(&db.url, &ConnectOptions { max_connections: 8, ..Default::default() }).await?;
    let keys = custos_store::connect_keys(&db.keys_url, &ConnectOptions::default()).await?;
    let vault = Arc::new(Vault::open(Keyring::new(master), keys.clone()).await?);
    let records = Arc::new(Records::new(store.clone(), vault, policy.clone(), Arc::new(custos_engine::SystemClock)));
    let progress = indicatif::ProgressBar::new(size).with_style(
        indicatif::ProgressStyle::with_template("loading {pos}/{len} people [{bar:40}] {per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    let mut sample = Vec::new();
    for task in 0..LOADERS {
        let (records, progress) = (records.clone(), progress.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut n = task;
            while n < size {
                let email = format!("person{n}@bench.example");
                let name = format!("Person {n}");
                let values = [
                    NewValue { purpose: "support", category: "user.name", value: name.as_bytes() },
                    NewValue { purpose: "support", category: "user.contact.email", value: email.as_bytes() },
                ];
                let (id, _) = records
                    .create_subject(&Actor::System, SubjectKind::User, &[(IdentifierKind::Email, &email)], &values)
                    .await?;
                if n % (size / 1000).max(1) == 0 {
                    ids.push(id);
                }
                progress.inc(1);
                n += LOADERS;
            }
            Ok::<_, anyhow::Error>(ids)
        }));
    }
    for task in tasks {
        sample.extend(task.await??);
    }
    progress.finish_and_clear();
    let load_s = started.elapsed().as_secs_f64();
    let (_, token) =
        custos_engine::tokens::issue(&store, &policy, "bench", &["support".into()], jiff::Timestamp::now()).await?;
    store.close().await;
    keys.close_keys().await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let (url, keys_url) = (db.url.to_string(), db.keys_url.to_string());
    let mut server = Server(
        Command::new(&binary)
            .arg("serve")
            .env("CUSTOS_BIND", format!("127.0.0.1:{port}"))
            .env("CUSTOS_DATA_DIR", dir.path().join("data"))
            .env("CUSTOS_DATABASE_URL", &url)
            .env("CUSTOS_KEYSTORE_URL", &keys_url)
            .env("CUSTOS_MASTER_KEY_FILE", &key_file)
            .env("CUSTOS_LOG", "warn")
            .env("CUSTOS_LIMITS_EVENTS_PER_MINUTE", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "custos serve did not become ready within a minute");
        anyhow::ensure!(server.0.try_wait()?.is_none(), "custos serve exited at start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = server.0.id();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_mb(pid)?;

    // Gated reads of people spread over the whole store.
    let seconds = (size / 100_000).clamp(2, 20);
    let reads = sample_while(pid, async {
        let reads_started = Instant::now();
        let mut done = 0u64;
        while reads_started.elapsed() < Duration::from_secs(seconds) {
            let batch: Vec<_> = sample
                .iter()
                .take(64)
                .cycle()
                .skip((done % sample.len().max(1) as u64) as usize)
                .take(64)
                .map(|id| {
                    let url = format!(
                        "{base}/v1/subjects/{id}/records?purpose=support&categories=user.name,user.contact.email"
                    );
                    let (client, token) = (client.clone(), token.clone());
                    tokio::spawn(async move { client.get(url).bearer_auth(token).send().await })
                })
                .collect();
            for read in batch {
                anyhow::ensure!(read.await??.status().is_success(), "a gated read failed");
                done += 1;
            }
        }
        Ok(done)
    })
    .await?;
    // Page views, as the tracker sends them.
    let script = "wrk.method = 'POST'\n\
                  wrk.headers['Content-Type'] = 'text/plain'\n\
                  wrk.headers['Origin'] = 'https://shop.example'\n\
                  wrk.headers['User-Agent'] = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'\n\
                  wrk.body = '{\"events\":[{\"kind\":\"pageview\",\"url\":\"https://shop.example/p/1\",\"entry\":true}]}'\n";
    let events_url = format!("{base}/v1/events");
    let ingest = sample_while(pid, async {
        let wrk_url = events_url.clone();
        match tokio::task::spawn_blocking(move || wrk(&wrk_url, script, seconds)).await? {
            Some(per_s) => Ok(per_s),
            None => post_events(&client, &events_url, seconds).await,
        }
    })
    .await?;
    drop(server);
    db.finish().await?;

    let peak = reads.1.max(ingest.1);
    let mut report = Report::new("memory");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("people", size)
        .note("binary", binary.display().to_string())
        .note("gated_reads", reads.0)
        .figure("load_s", load_s, "s")
        .figure("rss_idle_mb", idle, "MB")
        .figure("rss_peak_reads_mb", reads.1, "MB")
        .figure("rss_peak_ingest_mb", ingest.1, "MB")
        .figure("ingest_events_per_s", ingest.0, "1/s")
        .figure("rss_peak_mb", peak, "MB")
        .target("rss_peak_mb", "<=", 200.0);
    Ok(report)
}

/// Page views posted by 64 tasks of this process for `seconds` (without `wrk`); events/s.
async fn post_events(client: &reqwest::Client, url: &str, seconds: u64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while started.elapsed() < Duration::from_secs(seconds) {
                let response = client
                    .post(&url)
                    .header("content-type", "text/plain")
                    .header("origin", "https://shop.example")
                    .body(r#"{"events":[{"kind":"pageview","url":"https://shop.example/p/1","entry":true}]}"#)
                    .send()
                    .await?;
                anyhow::ensure!(response.status().is_success(), "an event was answered {}", response.status());
                sent += 1;
            }
            Ok::<_, anyhow::Error>(sent)
        }));
    }
    let mut sent = 0;
    for task in tasks {
        sent += task.await??;
    }
    Ok(sent as f64 / started.elapsed().as_secs_f64())
}

/// Kills the server when the scenario ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The resident set of process `pid`, in MB.
fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for process {pid}"))?;
    Ok(kb / 1024.0)
}

/// Runs `work` while sampling `pid`'s RSS every 100 ms; returns its result and the peak.
async fn sample_while<T>(pid: u32, work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<(T, f64)> {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut peak = 0f64;
        loop {
            peak = peak.max(rss_mb(pid).unwrap_or(0.0));
            tokio::select! {
                _ = &mut stopped => return peak,
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    });
    let result = work.await;
    let _ = stop.send(());
    let peak = sampler.await?;
    Ok((result?, peak))
}
