//! Dependency faults, with the real `custos serve`: the SMTP server down then back (no mail
//! lost or sent twice); PostgreSQL stopped and started under load (503
//! `database_unavailable` while it is down, recovery without a restart of custos, no
//! acknowledged write lost); the disk under SQLite full (507 `storage_full`, no
//! corruption, writes resume once space is freed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::load::{Installation, Load, check, mails};
use custos_testkit::TestDb;
use custos_testkit::postgres_instance::{PostgresInstance, is_root};
use custos_testkit::smtp::SmtpSink;

mod common;

/// Submits an access request for `email`; returns its id.
async fn ask(client: &reqwest::Client, base: &str, email: &str) -> String {
    let response = client
        .post(format!("{base}/v1/rights-requests"))
        .json(&serde_json::json!({"kind": "access", "email": email}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.expect("json");
    body["id"].as_str().expect("id").to_owned()
}

/// Code mails delivered to `sink`, counted by request reference.
fn code_mails(sink: &[custos_testkit::smtp::Delivered]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for mail in sink {
        let text = mail.data.replace("=\r\n", "").replace("=\n", "");
        if let Some(id) = text.lines().find_map(|l| l.strip_prefix("Reference: ")) {
            *counts.entry(id.trim().to_owned()).or_default() += 1;
        }
    }
    counts
}

/// Waits until `done` holds, up to `limit`.
async fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_while_the_smtp_server_is_down_is_sent_once_when_it_is_back() {
    let sink = SmtpSink::start().await;
    let addr = sink.addr;
    let installation = Installation::new(TestDb::from_env().await, &[("CUSTOS_MAIL_URL", &format!("smtp://{addr}"))]);
    let process = installation.start();
    let client = reqwest::Client::new();
    let base = process.base();

    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(ask(&client, &base, &format!("before{n}@example.org")).await);
    }
    assert!(until(Duration::from_secs(20), || code_mails(&sink.delivered()).len() == 5).await, "mail while up");
    let before = sink.shut_down().await;

    // Down: requests are still taken; their mail waits in the queue, retried with backoff.
    for n in 0..10 {
        ids.push(ask(&client, &base, &format!("during{n}@example.org")).await);
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let failed = installation
        .db
        .text_counts("SELECT kind, COUNT(*) FROM jobs WHERE kind = 'rights.mail' AND attempts > 1 GROUP BY kind")
        .await;
    assert!(!failed.is_empty(), "the mail jobs were tried while the server was down");

    let sink = SmtpSink::start_on(addr).await;
    assert!(
        until(Duration::from_secs(30), || code_mails(&sink.delivered()).len() == 10).await,
        "the queued mail arrives once the server is back: {:?}",
        code_mails(&sink.delivered())
    );
    // Time for a duplicate to show up, if one were coming.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let mut counts = code_mails(&before);
    for (id, n) in code_mails(&sink.delivered()) {
        *counts.entry(id).or_default() += n;
    }
    for id in &ids {
        assert_eq!(counts.get(id), Some(&1), "exactly one code mail for {id}: {counts:?}");
    }
    assert_eq!(counts.len(), ids.len(), "{counts:?}");
    let dead = installation.db.text_counts("SELECT kind, COUNT(*) FROM jobs WHERE state = 'dead' GROUP BY kind").await;
    assert!(dead.is_empty(), "{dead:?}");
    assert_eq!(process.terminate(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_restarted_under_load_answers_503_and_loses_nothing() {
    let required = std::env::var(custos_testkit::REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1");
    let postgres = match PostgresInstance::start() {
        Ok(instance) => instance,
        Err(why) => {
            assert!(!required, "CUSTOS_REQUIRE_POSTGRES=1 but a private PostgreSQL cannot start: {why}");
            eprintln!("skipped: a private PostgreSQL cannot start: {why}");
            return;
        }
    };
    let db = TestDb::create_on(&postgres.admin_url()).await.expect("databases on the private server");
    // Requests give up on the database after two seconds, so the outage is answered quickly.
    let installation = Installation::new(db, &[("CUSTOS_DATABASE_CONNECT_TIMEOUT_SECS", "2")]);
    let token = installation.token();
    let process = installation.start();
    let load = Load::spawn(&token, 2, Some(installation.mail_dir()), "pg");
    load.aim(Some(process.base()));
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    postgres.stop_immediately();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let during = load.ledger.failures.lock().expect("failures").clone();
    let ready = reqwest::get(format!("{}/readyz", process.base())).await.expect("readyz");
    assert_eq!(ready.status(), 503, "not ready while the database is down");
    postgres.start_again().expect("PostgreSQL starts again");
    let restarted = Instant::now();
    eprintln!("PostgreSQL was down for {:?}; failures meanwhile: {during:?}", down.elapsed());
    assert!(during.get("503 database_unavailable").is_some_and(|n| *n > 0), "503 while down: {during:?}");

    // custos recovers by itself: writes are acknowledged again within seconds.
    let acknowledged = || load.ledger.events.lock().expect("events").len();
    let before = acknowledged();
    assert!(until(Duration::from_secs(20), || acknowledged() > before + 20).await, "writes resume");
    eprintln!("20 more page views acknowledged {:?} after PostgreSQL was back", restarted.elapsed());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ledger = load.finish().await;
    eprintln!("{}", ledger.summary());
    let failures = ledger.failures.lock().expect("failures").clone();
    let unexpected: Vec<_> = failures
        .keys()
        .filter(|k| !matches!(k.as_str(), "503 database_unavailable" | "verify 503 database_unavailable"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "only 503 database_unavailable while down: {failures:?}; {:?}",
        process.internal_errors()
    );
    let mail_dir = installation.mail_dir();
    let checked = check(&installation, &process, &ledger, &token, || mails(&mail_dir)).await;
    eprintln!("{checked:?}");
    assert_eq!(process.terminate(), Some(0));
}

/// A small tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "custos-test"])
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !mounted.status.success() {
            return Err(String::from_utf8_lossy(&mounted.stderr).trim().to_owned());
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk with a file; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let block = vec![0x5a; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let small = vec![0x5a; 512];
        while file.write_all(&small).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Sends one page view on `path`; the status and error code.
async fn page_view(client: &reqwest::Client, base: &str, path: &str) -> (u16, String) {
    let response = client
        .post(format!("{base}/v1/events"))
        .header("content-type", "text/plain")
        .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
        .body(format!(r#"{{"events":[{{"kind":"pageview","url":"https://shop.example{path}"}}]}}"#))
        .send()
        .await
        .expect("custos answers");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_sqlite_is_507_without_corruption_and_writes_resume() {
    if !is_root() {
        eprintln!("skipped: mounting a small file system needs root (CI runs this test as root)");
        return;
    }
    let disk = match SmallDisk::mount(12) {
        Ok(disk) => disk,
        Err(why) => {
            assert!(
                std::env::var("CUSTOS_REQUIRE_FULL_DISK").is_err(),
                "CUSTOS_REQUIRE_FULL_DISK is set but a tmpfs cannot be mounted: {why}"
            );
            eprintln!("skipped: cannot mount a tmpfs: {why}");
            return;
        }
    };
    let installation = Installation::new(TestDb::sqlite_in(disk.path()), &[]);
    let process = installation.start();
    let base = process.base();
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    for n in 0..20 {
        let path = format!("/load/before-{n}");
        assert_eq!(page_view(&client, &base, &path).await.0, 202);
        acked.push(path);
    }

    let filler = disk.fill();
    let mut answers: HashMap<(u16, String), usize> = HashMap::new();
    let mut full = 0;
    for n in 0..5_000 {
        let path = format!("/load/full-{n}");
        let (status, code) = page_view(&client, &base, &path).await;
        if status == 202 {
            acked.push(path);
        }
        if status == 507 {
            full += 1;
            if full >= 20 {
                break;
            }
        }
        *answers.entry((status, code)).or_default() += 1;
    }
    eprintln!("answers with the disk full: {answers:?}; {:?}", process.internal_errors());
    assert!(full >= 20, "507 once the disk is full: {answers:?}");
    assert!(
        answers.keys().all(|(status, code)| *status == 202 || (*status == 507 && code == "storage_full")),
        "only 202 or 507 storage_full: {answers:?}"
    );
    let integrity = installation.db.text_counts("SELECT integrity_check, 1 FROM pragma_integrity_check").await;
    assert_eq!(integrity, vec![("ok".to_owned(), 1)], "no corruption while full");
    let health = client.get(format!("{base}/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), 200, "custos is still up");

    std::fs::remove_file(&filler).expect("free the space");
    let mut resumed = false;
    for n in 0..100 {
        let path = format!("/load/after-{n}");
        let (status, _) = page_view(&client, &base, &path).await;
        if status == 202 {
            acked.push(path);
            resumed = true;
        } else if resumed {
            panic!("a write failed after writes resumed: {status}");
        }
    }
    assert!(resumed, "writes resume once space is freed");
    assert_eq!(process.terminate(), Some(0));

    let stored: HashMap<String, i64> = installation
        .db
        .text_counts("SELECT path, COUNT(*) FROM anonymous_events WHERE path LIKE '/load/%' GROUP BY path")
        .await
        .into_iter()
        .collect();
    for path in &acked {
        assert_eq!(stored.get(path), Some(&1), "acknowledged {path} stored once");
    }
    assert_eq!(stored.len(), acked.len(), "nothing refused was stored");
    let integrity = installation.db.text_counts("SELECT integrity_check, 1 FROM pragma_integrity_check").await;
    assert_eq!(integrity, vec![("ok".to_owned(), 1)]);
}
