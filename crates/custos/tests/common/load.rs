//! The fault harness: a `custos serve` to start, kill and start again on the same data;
//! load at full speed from several tasks (events, consents, rights requests and their
//! verification); a ledger of every write custos acknowledged; and the check that each of
//! them is stored exactly once, with every job done once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::{Duration, Instant};

use custos_testkit::TestDb;

use super::{custos, run};

/// A custos installation: a working directory (mail lands in `data/mail`), a database, a
/// master key, and the settings every start uses.
pub struct Installation {
    /// The working directory of every start.
    pub dir: tempfile::TempDir,
    /// The database (SQLite file or PostgreSQL database) and key store.
    pub db: TestDb,
    envs: Vec<(String, String)>,
}

impl Installation {
    /// An installation on `db`, with fast job polling, a short job lease (so that jobs of
    /// a killed process are taken over within seconds), no rate limits, and `extra`.
    pub fn new(db: TestDb, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("master.key");
        let made = run(&mut custos(dir.path(), &["keys", "generate", key.to_str().expect("utf-8")]));
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let mut envs: Vec<(String, String)> = [
            ("CUSTOS_DATABASE_URL", db.url().expose()),
            ("CUSTOS_KEYSTORE_URL", db.keys_url().expose()),
            ("CUSTOS_MASTER_KEY_FILE", key.to_str().expect("utf-8")),
            ("CUSTOS_JOBS_POLL_INTERVAL_MS", "50"),
            ("CUSTOS_JOBS_LEASE_SECS", "2"),
            ("CUSTOS_JOBS_RETRY_BASE_MS", "200"),
            ("CUSTOS_LIMITS_EVENTS_PER_MINUTE", "0"),
            ("CUSTOS_LIMITS_RIGHTS_PER_MINUTE", "0"),
            ("CUSTOS_SHUTDOWN_GRACE_SECS", "5"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in extra {
            envs.retain(|(name, _)| name != k);
            envs.push(((*k).to_owned(), (*v).to_owned()));
        }
        Self { dir, db, envs }
    }

    /// `custos ARGS` with this installation's settings, run to completion; must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = run(custos(self.dir.path(), args).envs(self.envs.iter().map(|(k, v)| (k, v))));
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// A service token for the analytics purpose (consents are written with it).
    pub fn token(&self) -> String {
        self.ok(&["tokens", "create", "--name", "load", "--purposes", "analytics"]).trim().to_owned()
    }

    /// Where mail is written (no SMTP settings).
    pub fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("data/mail")
    }

    /// Starts `custos serve` and waits until it listens.
    pub fn start(&self) -> Process {
        let mut child = custos(self.dir.path(), &["serve", "--bind", "127.0.0.1:0"])
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn custos serve");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
                kept.lock().expect("logs").push(line);
            }
        });
        let Ok(addr) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("custos did not start: {:?}", logs.lock().expect("logs"));
        };
        Process { child, addr: addr.parse().expect("address"), logs }
    }
}

/// A running `custos serve`.
pub struct Process {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    logs: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// `http://ADDR`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }

    /// SIGTERM; returns the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
        self.child.wait().expect("wait").code()
    }

    /// The log lines so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("logs").clone()
    }

    /// The distinct internal errors logged so far (what a 500 hid from the caller).
    pub fn internal_errors(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .logs()
            .into_iter()
            .filter(|l| l.contains("internal error"))
            .map(|l| l.split("internal error").nth(1).unwrap_or_default().chars().take(300).collect())
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }
}

impl Drop for Process {
    /// A test that fails leaves no server behind.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every write custos acknowledged (2xx), and every failure by its kind.
#[derive(Default)]
pub struct Ledger {
    /// Paths of acknowledged page views (each request sends one, on a path of its own).
    pub events: Mutex<Vec<String>>,
    /// Subjects of acknowledged consents (each a new visitor).
    pub consents: Mutex<Vec<String>>,
    /// Ids of acknowledged rights requests.
    pub rights: Mutex<Vec<String>>,
    /// Ids of requests whose verification was acknowledged.
    pub verified: Mutex<HashSet<String>>,
    /// Failures: `connection` or `STATUS code`, counted.
    pub failures: Mutex<BTreeMap<String, u64>>,
    /// Requests sent.
    pub sent: AtomicU64,
}

impl Ledger {
    fn fail(&self, what: String) {
        *self.failures.lock().expect("failures").entry(what).or_default() += 1;
    }

    /// A one-line summary.
    pub fn summary(&self) -> String {
        format!(
            "sent {}, acknowledged: {} events, {} consents, {} rights requests ({} verified); failures {:?}",
            self.sent.load(Ordering::Relaxed),
            self.events.lock().expect("events").len(),
            self.consents.lock().expect("consents").len(),
            self.rights.lock().expect("rights").len(),
            self.verified.lock().expect("verified").len(),
            self.failures.lock().expect("failures"),
        )
    }
}

/// Load running against whichever process `target` names (none while it is down).
pub struct Load {
    /// The address to send to; `None` while custos is down.
    pub target: Arc<RwLock<Option<String>>>,
    stop: Arc<AtomicBool>,
    /// What was acknowledged.
    pub ledger: Arc<Ledger>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `writers` tasks per kind of write (events, consents, rights requests) and,
    /// with a mail directory, one that reads the codes from the mail and verifies requests.
    pub fn spawn(token: &str, writers: usize, mail_dir: Option<PathBuf>, tag: &str) -> Self {
        let target = Arc::new(RwLock::new(None));
        let stop = Arc::new(AtomicBool::new(false));
        let ledger = Arc::new(Ledger::default());
        let client = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().expect("client");
        let mut tasks = Vec::new();
        for w in 0..writers {
            for kind in [Kind::Event, Kind::Consent, Kind::Rights] {
                let writer = Writer {
                    target: target.clone(),
                    stop: stop.clone(),
                    ledger: ledger.clone(),
                    client: client.clone(),
                    token: token.to_owned(),
                    tag: format!("{tag}-{w}"),
                };
                tasks.push(tokio::spawn(writer.run(kind)));
            }
        }
        if let Some(dir) = mail_dir {
            let writer = Writer {
                target: target.clone(),
                stop: stop.clone(),
                ledger: ledger.clone(),
                client,
                token: token.to_owned(),
                tag: tag.to_owned(),
            };
            tasks.push(tokio::spawn(writer.verify(dir)));
        }
        Self { target, stop, ledger, tasks }
    }

    /// Points the load at `base`, or holds it while custos is down.
    pub fn aim(&self, base: Option<String>) {
        *self.target.write().expect("target") = base;
    }

    /// Stops every task and returns the ledger.
    pub async fn finish(self) -> Arc<Ledger> {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.expect("load task");
        }
        self.ledger
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Event,
    Consent,
    Rights,
}

struct Writer {
    target: Arc<RwLock<Option<String>>>,
    stop: Arc<AtomicBool>,
    ledger: Arc<Ledger>,
    client: reqwest::Client,
    token: String,
    tag: String,
}

impl Writer {
    fn base(&self) -> Option<String> {
        self.target.read().expect("target").clone()
    }

    async fn run(self, kind: Kind) {
        let mut n = 0u64;
        while !self.stop.load(Ordering::Relaxed) {
            let Some(base) = self.base() else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            n += 1;
            let id = format!("{}-{n}", self.tag);
            let request = match kind {
                Kind::Event => self
                    .client
                    .post(format!("{base}/v1/events"))
                    .header("content-type", "text/plain")
                    .header("origin", "https://shop.example")
                    .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
                    .body(format!(r#"{{"events":[{{"kind":"pageview","url":"https://shop.example/load/{id}"}}]}}"#)),
                Kind::Consent => self.client.post(format!("{base}/v1/consents")).bearer_auth(&self.token).json(
                    &serde_json::json!({"cookie_id": format!("load-{id}"), "purpose": "analytics", "granted": true, "method": "api"}),
                ),
                Kind::Rights => self
                    .client
                    .post(format!("{base}/v1/rights-requests"))
                    .json(&serde_json::json!({"kind": "access", "email": format!("p{n}@example.org")})),
            };
            self.ledger.sent.fetch_add(1, Ordering::Relaxed);
            match send(request).await {
                Ok(body) => match kind {
                    Kind::Event => self.ledger.events.lock().expect("events").push(format!("/load/{id}")),
                    Kind::Consent => self.ledger.consents.lock().expect("consents").push(text(&body["subject_id"])),
                    Kind::Rights => self.ledger.rights.lock().expect("rights").push(text(&body["id"])),
                },
                Err(failure) => {
                    if failure == "connection" {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    self.ledger.fail(failure);
                }
            }
        }
    }

    /// Reads the codes from the mail and verifies the requests, as people do.
    async fn verify(self, dir: PathBuf) {
        let mut tried = HashSet::new();
        while !self.stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let Some(base) = self.base() else { continue };
            let acked: HashSet<String> = self.ledger.rights.lock().expect("rights").iter().cloned().collect();
            for (id, code) in codes(&dir) {
                if tried.contains(&id) || !acked.contains(&id) || self.stop.load(Ordering::Relaxed) {
                    continue;
                }
                let request = self
                    .client
                    .post(format!("{base}/v1/rights-requests/{id}/verify"))
                    .json(&serde_json::json!({"code": code}));
                match send(request).await {
                    Ok(_) => {
                        tried.insert(id.clone());
                        self.ledger.verified.lock().expect("verified").insert(id);
                    }
                    // Down: try again at the next start.
                    Err(failure) if failure == "connection" => break,
                    // An earlier try was carried out but its answer lost to the kill.
                    Err(failure) if failure == "409 wrong_state" => {
                        tried.insert(id.clone());
                        self.ledger.verified.lock().expect("verified").insert(id);
                        self.ledger.fail("verify answered before the kill, answer lost".into());
                    }
                    Err(failure) => {
                        tried.insert(id);
                        self.ledger.fail(format!("verify {failure}"));
                    }
                }
            }
        }
    }
}

/// Sends; the JSON body of a 2xx answer, or the failure as `connection` or `STATUS code`.
async fn send(request: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
    let response = request.send().await.map_err(|_| "connection".to_owned())?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|_| "connection".to_owned())?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(format!("{} {}", status.as_u16(), body["error"]["code"].as_str().unwrap_or("?")))
    }
}

fn text(value: &serde_json::Value) -> String {
    value.as_str().expect("an id in the answer").to_owned()
}

/// The mails in `dir`, their text with quoted-printable soft breaks undone.
pub fn mails(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|t| t.replace("=\r\n", "").replace("=\n", ""))
        .collect()
}

/// The request ids and codes in the code mails in `dir`.
fn codes(dir: &Path) -> Vec<(String, String)> {
    mails(dir)
        .iter()
        .filter_map(|t| {
            let code = t.lines().find_map(|l| l.strip_prefix("Your code: "))?.trim().to_owned();
            let id = t.lines().find_map(|l| l.strip_prefix("Reference: "))?.trim().to_owned();
            Some((id, code))
        })
        .collect()
}

/// What the final check found.
#[derive(Debug)]
pub struct Checked {
    /// Page views stored (acknowledged or not).
    pub events_stored: usize,
    /// Rights requests fulfilled.
    pub fulfilled: usize,
    /// Mails written.
    pub mails: usize,
    /// Jobs that ran more than once (taken over after a kill, or retried), by kind.
    pub jobs_run_again: Vec<(String, i64)>,
}

/// Checks, against the running `process`, that every acknowledged write of `ledger` is
/// stored exactly once and every job finished exactly once: waits (up to a minute) for the
/// job queue to drain first. `mail` gives the mails (from the mail directory or an SMTP
/// server) as texts.
pub async fn check(
    installation: &Installation,
    process: &Process,
    ledger: &Ledger,
    token: &str,
    mail: impl Fn() -> Vec<String>,
) -> Checked {
    let db = &installation.db;
    let client = reqwest::Client::new();
    let base = process.base();
    // Let the queue drain: the jobs of a killed process are taken over when their lease
    // ends; the daily sweeps wait for tomorrow and are not counted.
    let started = Instant::now();
    loop {
        let busy = db
            .text_counts(
                "SELECT kind, COUNT(*) FROM jobs WHERE state IN ('pending', 'running') \
                 AND kind IN ('mail.send', 'rights.mail', 'rights.execute') GROUP BY kind",
            )
            .await;
        if busy.is_empty() {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(90), "jobs still queued after 90 s: {busy:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dead = db.text_counts("SELECT kind, COUNT(*) FROM jobs WHERE state = 'dead' GROUP BY kind").await;
    assert!(dead.is_empty(), "dead jobs: {dead:?}");

    // Page views: each acknowledged one stored once; none stored twice.
    let stored: HashMap<String, i64> = db
        .text_counts("SELECT path, COUNT(*) FROM anonymous_events WHERE path LIKE '/load/%' GROUP BY path")
        .await
        .into_iter()
        .collect();
    let twice: Vec<_> = stored.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "page views stored more than once: {twice:?}");
    let events = ledger.events.lock().expect("events").clone();
    let lost: Vec<_> = events.iter().filter(|p| !stored.contains_key(*p)).collect();
    assert!(lost.is_empty(), "{} acknowledged page views lost, such as {:?}", lost.len(), lost.first());

    // Consents: each acknowledged one in its subject's ledger once; no ledger with two.
    let doubled = db
        .text_counts(
            "SELECT 'subjects', COUNT(*) FROM (SELECT subject_id FROM consents GROUP BY subject_id \
             HAVING COUNT(*) > 1) d",
        )
        .await;
    assert_eq!(doubled, vec![("subjects".to_owned(), 0)], "consent ledgers with a duplicated entry");
    let consents = ledger.consents.lock().expect("consents").clone();
    for chunk in consents.chunks(16) {
        let reads = chunk.iter().map(|subject| {
            let request = client.get(format!("{base}/v1/subjects/{subject}/consents")).bearer_auth(token);
            let subject = subject.clone();
            async move { (subject, send(request).await) }
        });
        for (subject, answer) in futures_join(reads).await {
            let ledger = answer.unwrap_or_else(|e| panic!("the ledger of {subject}: {e}"));
            let history = ledger["history"].as_array().map_or(0, Vec::len);
            assert_eq!(history, 1, "acknowledged consent of {subject}: {ledger}");
        }
    }

    // Rights requests: each acknowledged one stored; every verified one fulfilled; each
    // sent one code mail and, once fulfilled, one answer; no step run twice.
    let mails = mail();
    let mut code_mails: HashMap<String, usize> = HashMap::new();
    let mut other_mails: HashMap<String, usize> = HashMap::new();
    for text in &mails {
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("Reference: ").or_else(|| l.split("/v1/rights-requests/").nth(1)))
            .map(|rest| rest.trim().chars().take(36).collect::<String>());
        let Some(id) = id else { continue };
        let counts = if text.contains("Your code: ") { &mut code_mails } else { &mut other_mails };
        *counts.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = code_mails.iter().chain(&other_mails).filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "mails sent twice: {twice:?}");
    let rights = ledger.rights.lock().expect("rights").clone();
    let verified = ledger.verified.lock().expect("verified").clone();
    for id in &rights {
        let status = send(client.get(format!("{base}/v1/rights-requests/{id}")))
            .await
            .unwrap_or_else(|e| panic!("acknowledged rights request {id}: {e}"));
        assert_eq!(code_mails.get(id), Some(&1), "the code mail of {id}");
        let state = status["state"].as_str().unwrap_or_default();
        if verified.contains(id) {
            assert_eq!(state, "fulfilled", "verified request {id}");
        }
        if state == "fulfilled" {
            assert_eq!(other_mails.get(id), Some(&1), "the answer to {id}");
        }
    }
    let steps = db.text_counts("SELECT steps, COUNT(*) FROM rights_requests GROUP BY steps").await;
    for (steps, _) in &steps {
        let list: Vec<String> = serde_json::from_str(steps).expect("steps are a JSON list");
        let unique: HashSet<&String> = list.iter().collect();
        assert_eq!(unique.len(), list.len(), "a step recorded twice: {steps}");
    }
    let fulfilled =
        db.text_counts("SELECT state, COUNT(*) FROM rights_requests WHERE state = 'fulfilled' GROUP BY state").await;

    // The database itself, and the audit chain across every kill.
    if db.url().sqlite_path().is_some() {
        let integrity = db.text_counts("SELECT integrity_check, 1 FROM pragma_integrity_check").await;
        assert_eq!(integrity, vec![("ok".to_owned(), 1)], "PRAGMA integrity_check");
    }
    let audit = installation.ok(&["audit", "verify"]);
    assert!(audit.contains("intact"), "{audit}");

    let jobs_run_again = db.text_counts("SELECT kind, COUNT(*) FROM jobs WHERE attempts > 1 GROUP BY kind").await;
    Checked {
        jobs_run_again,
        events_stored: stored.len(),
        fulfilled: fulfilled.first().map_or(0, |(_, n)| *n as usize),
        mails: mails.len(),
    }
}

/// Awaits every future, several at a time (no extra crate for `join_all`).
async fn futures_join<F: std::future::Future + Send + 'static>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}
