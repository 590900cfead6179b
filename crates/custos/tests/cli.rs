//! The real `custos` binary: start-up, probes, shutdown on SIGTERM, and one clear line for
//! each bad input.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use common::{custos, run};
use std::sync::mpsc;
use std::time::Duration;

use custos_testkit::TestDb;

mod common;

/// Checks that a failed start printed exactly one line, starting with `error: ` and
/// containing each of `needles`, and exited with 1.
fn assert_one_line_error(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(output.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert_eq!(lines.len(), 1, "one line, no backtrace: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "`{needle}` missing from: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Checks that a command failed with exit code 1 and an `error: ` line containing each of
/// `needles` (warnings may come before it).
fn assert_error_line(output: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(
        stderr.lines().any(|l| l.starts_with("error: ") && needles.iter().all(|n| l.contains(n))),
        "no error line with {needles:?}: {stderr}"
    );
}

/// A running `custos serve` and the address it listens on.
struct Server {
    child: Child,
    addr: SocketAddr,
    logs: mpsc::Receiver<String>,
}

impl Server {
    fn start(dir: &Path, envs: &[(&str, &str)]) -> Self {
        let mut child = custos(dir, &["serve", "--bind", "127.0.0.1:0"])
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn custos serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, logs) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut seen = Vec::new();
        let addr = loop {
            let line =
                logs.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no listening line: {seen:?}"));
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().expect("address").parse().expect("socket address");
            }
            seen.push(line);
        };
        Self { child, addr, logs }
    }

    /// Sends SIGTERM and returns the exit code and the rest of the log.
    fn terminate(mut self) -> (Option<i32>, Vec<String>) {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(killed.success());
        let status = self.child.wait().expect("wait");
        // The reader thread ends at end of file, once the child has exited: take every line.
        (status.code(), self.logs.iter().collect())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_probes_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::from_env().await;
    let url = db.url().expose().to_owned();
    let keys_url = db.keys_url().expose().to_owned();
    let key_file = dir.path().join("master.key");
    let generated = run(&mut custos(dir.path(), &["keys", "generate", key_file.to_str().expect("utf-8")]));
    assert!(generated.status.success());
    let key_file = key_file.to_str().expect("utf-8");
    let server = Server::start(
        dir.path(),
        &[("CUSTOS_DATABASE_URL", &url), ("CUSTOS_KEYSTORE_URL", &keys_url), ("CUSTOS_MASTER_KEY_FILE", key_file)],
    );
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let response = client.get(format!("http://{}{path}", server.addr)).send().await.expect("request");
        assert_eq!(response.status(), 200, "{path}");
    }
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("SIGTERM received")), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("custos stopped")), "{logs:?}");
}

#[test]
fn the_embedded_default_creates_its_data_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[]);
    assert!(dir.path().join("data/custos.db").is_file(), "SQLite under ./data");
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));
}

#[test]
fn a_malformed_database_url_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("CUSTOS_DATABASE_URL", "mysql://root:pw@localhost/custos"));
    assert_one_line_error(&output, &["CUSTOS_DATABASE_URL", "unsupported scheme `mysql`", "sqlite://PATH"]);
    let output = run(&mut custos(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--database-url", "localhost"]));
    assert_eq!(output.status.code(), Some(2), "a bad flag is a usage error");
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no scheme"));
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Port 1 on loopback: nothing listens there.
    let output = run(custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("CUSTOS_DATABASE_URL", "postgres://custos:topsecret@127.0.0.1:1/custos")
        .env("CUSTOS_DATABASE_CONNECT_TIMEOUT_SECS", "3"));
    assert_one_line_error(
        &output,
        &["cannot connect to the database", "127.0.0.1:1", "refused", "CUSTOS_DATABASE_URL"],
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("topsecret"), "the password is never shown");
}

#[test]
fn an_unwritable_data_directory_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a-file"), b"not a directory").expect("write");
    // Tests run as root here, so permissions cannot stop a write: a path through a file does.
    let output = run(&mut custos(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--data-dir", "a-file/data"]));
    assert_one_line_error(&output, &["cannot create the data directory a-file/data", "--data-dir"]);
}

#[test]
fn a_port_in_use_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = run(&mut custos(dir.path(), &["serve", "--bind", &addr]));
    assert_one_line_error(&output, &[&format!("cannot listen on {addr}"), "in use", "--bind"]);
}

#[test]
fn an_unknown_config_key_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("custos.toml"), "# settings\n[jobs]\nworkerz = 4\n").expect("write");
    let output = run(&mut custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"]));
    assert_one_line_error(&output, &["custos.toml:3:1", "unknown field `workerz`", "`workers`"]);
}

#[test]
fn config_default_prints_a_configuration_that_serve_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(&mut custos(dir.path(), &["config", "default"]));
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(text.contains("bind = \"127.0.0.1:8080\""));
    std::fs::write(dir.path().join("custos.toml"), &text).expect("write");
    let output = run(&mut custos(dir.path(), &["migrate"]));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn migrate_applies_once_then_reports_up_to_date() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = run(&mut custos(dir.path(), &["migrate"]));
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    // Every migration file of the SQLite backend, in order, each applied once.
    let sql = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../custos-store/migrations/sqlite");
    let mut files: Vec<String> = std::fs::read_dir(&sql)
        .expect("the migrations directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".sql").map(str::to_owned))
        .collect();
    files.sort();
    let expected: String = files
        .iter()
        .filter_map(|f| f.split_once('_'))
        .map(|(version, name)| format!("applied migration {version} {name}\n"))
        .collect();
    assert!(expected.contains("0001 foundation"), "{expected}");
    assert_eq!(String::from_utf8_lossy(&first.stdout), expected);
    let second = run(&mut custos(dir.path(), &["migrate"]));
    assert!(String::from_utf8_lossy(&second.stdout).contains("is up to date"));
}

#[test]
fn every_command_has_help_and_the_version_is_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["config", "--help"],
        &["config", "default", "--help"],
    ] {
        let output = run(&mut custos(dir.path(), args));
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: custos"), "{args:?}");
    }
    let version = run(&mut custos(dir.path(), &["--version"]));
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), concat!("custos ", env!("CARGO_PKG_VERSION")));
}

#[test]
fn an_unreadable_geo_database_is_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("geo.mmdb"), b"not a database").expect("write");
    let output = run(custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"]).env("CUSTOS_GEOIP_DB", "geo.mmdb"));
    assert_one_line_error(&output, &["cannot read the geo-location database geo.mmdb", "CUSTOS_GEOIP_DB"]);
}

/// Runs `custos ARGS` in `dir`, which must succeed; returns what it printed.
fn ok(dir: &Path, args: &[&str]) -> String {
    let output = run(&mut custos(dir, args));
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Makes a rights request of `kind` for `email` to `server`; returns its id.
async fn ask(server: &Server, kind: &str, email: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/rights-requests", server.addr))
        .json(&serde_json::json!({"kind": kind, "email": email}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.expect("json");
    body["id"].as_str().expect("id").to_owned()
}

/// The first mail written under `dir`/data/mail that contains `needle`, waiting for it.
async fn mailed(dir: &Path, needle: &str) -> String {
    let mail_dir = dir.join("data/mail");
    for _ in 0..100 {
        let found = std::fs::read_dir(&mail_dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .find(|text| text.contains(needle));
        if let Some(found) = found {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail with `{needle}`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_denied_or_carried_out_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[("CUSTOS_JOBS_POLL_INTERVAL_MS", "100")]);
    let to_run = ask(&server, "access", "ada@example.org").await;
    let to_deny = ask(&server, "erasure", "bob@example.org").await;
    let to_approve = ask(&server, "access", "carol@example.org").await;
    let code = {
        let mail = mailed(dir.path(), &to_run).await;
        mail.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("a code").trim().to_owned()
    };
    assert_eq!(server.terminate().0, Some(0));

    // No workers: the verified request waits until it is run from the command line.
    let server = Server::start(dir.path(), &[("CUSTOS_JOBS_WORKERS", "0")]);
    let verified = reqwest::Client::new()
        .post(format!("http://{}/v1/rights-requests/{to_run}/verify", server.addr))
        .json(&serde_json::json!({"code": code}))
        .send()
        .await
        .expect("verify");
    assert_eq!(verified.status(), 200);
    assert_eq!(server.terminate().0, Some(0));
    let shown: serde_json::Value = serde_json::from_str(&ok(dir.path(), &["rights", "show", &to_run])).expect("json");
    assert_eq!(shown["state"], "verified");
    let ran = ok(dir.path(), &["rights", "run", &to_run]);
    assert!(ran.contains("is fulfilled") && ran.contains("collect, notify"), "{ran}");
    let early = run(&mut custos(dir.path(), &["rights", "run", &to_deny]));
    assert_error_line(&early, &["only a verified request"]);
    let approve = run(&mut custos(dir.path(), &["rights", "approve", &to_run, "--reason", "passport seen"]));
    assert_error_line(&approve, &["only an unverified request"]);

    let denied =
        ok(dir.path(), &["rights", "deny", &to_deny, "--reason", "The same erasure was asked ten times today."]);
    assert!(denied.contains("is denied"), "{denied}");
    let again = run(&mut custos(dir.path(), &["rights", "deny", &to_deny, "--reason", "x"]));
    assert_error_line(&again, &["denied", "closed"]);
    let shown: serde_json::Value = serde_json::from_str(&ok(dir.path(), &["rights", "show", &to_deny])).expect("json");
    assert_eq!((shown["state"].as_str(), shown["closed_at"].is_string()), (Some("denied"), true), "{shown}");

    // Staff who confirmed a person's identity by other means approve the request.
    let approved = ok(dir.path(), &["rights", "approve", &to_approve, "--reason", "Passport seen at the counter"]);
    assert!(approved.contains("is verified on your authority"), "{approved}");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(dir.path(), &["rights", "show", &to_approve])).expect("json");
    assert_eq!(shown["state"], "verified");

    // A worker mails the person the reason and where to complain.
    let server = Server::start(dir.path(), &[("CUSTOS_JOBS_POLL_INTERVAL_MS", "100")]);
    let mail = mailed(dir.path(), "We cannot act on your erasure request").await;
    assert!(mail.contains("ten times today") && mail.contains("complain"), "{mail}");
    assert_eq!(server.terminate().0, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restriction_is_lifted_from_the_command_line_after_the_person_is_told() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[("CUSTOS_JOBS_WORKERS", "0")]);
    let wrote = reqwest::Client::new()
        .post(format!("http://{}/v1/forms/contact", server.addr))
        .json(&serde_json::json!({"name": "Ada", "email": "ada@example.org", "message": "Is my address right?"}))
        .send()
        .await
        .expect("contact");
    assert_eq!(wrote.status(), 201);
    let id = ask(&server, "restriction", "ada@example.org").await;
    assert_eq!(server.terminate().0, Some(0));
    ok(dir.path(), &["rights", "approve", &id, "--reason", "identity confirmed by phone"]);
    let ran = ok(dir.path(), &["rights", "run", &id]);
    assert!(ran.contains("is fulfilled"), "{ran}");
    let listed = ok(dir.path(), &["rights", "restrictions"]);
    let row = listed.lines().find(|l| l.starts_with(&id)).unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("\tyes\t"), "in force: {row}");

    let early = run(&mut custos(dir.path(), &["rights", "lift", &id, "--reason", "checked", "--days", "400"]));
    assert_error_line(&early, &["days"]);
    let lifted =
        ok(dir.path(), &["rights", "lift", &id, "--reason", "We checked your address: it is right.", "--days", "0"]);
    assert!(lifted.contains("will be told first"), "{lifted}");
    // A worker tells the person, then lifts.
    let server = Server::start(dir.path(), &[("CUSTOS_JOBS_POLL_INTERVAL_MS", "100")]);
    let mail = mailed(dir.path(), "We will lift the restriction").await;
    assert!(mail.contains("ada@example.org"), "to the person");
    // Long enough for one retry of the job (its first back-off is 5 s) on a loaded machine.
    for _ in 0..300 {
        if ok(dir.path(), &["rights", "restrictions"]).lines().any(|l| l.starts_with(&id) && l.ends_with("lifted")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs:?}");
    let listed = ok(dir.path(), &["rights", "restrictions"]);
    let row = listed.lines().find(|l| l.starts_with(&id)).unwrap_or_else(|| panic!("{listed}"));
    assert!(row.contains("\tno\t") && row.ends_with("lifted"), "{row}\nserver logs: {logs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rights_request_is_mailed_listed_shown_and_extended_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), &[("CUSTOS_JOBS_POLL_INTERVAL_MS", "100")]);
    let id = ask(&server, "access", "ada@example.org").await;
    // Without SMTP settings the code is written as an .eml file under ./data/mail.
    let code_mail = mailed(dir.path(), "Your code").await;
    assert!(code_mail.contains("ada@example.org"));
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs:?}");

    let ok = |args: &[&str]| ok(dir.path(), args);
    let listed = ok(&["rights", "list"]);
    assert!(listed.lines().any(|l| l.starts_with(&id) && l.contains("\taccess\tunverified\t")), "{listed}");
    let extended = ok(&["rights", "extend", &id, "--months", "2", "--reason", "We received many requests."]);
    assert!(extended.contains("the person will be told why"), "{extended}");
    let shown: serde_json::Value = serde_json::from_str(&ok(&["rights", "show", &id])).expect("json");
    assert_eq!(shown["extension_reason"], "We received many requests.");
    assert!(!shown.to_string().contains("ada@example.org"), "no personal data shown: {shown}");
    let again = run(&mut custos(dir.path(), &["rights", "extend", &id, "--months", "1", "--reason", "x"]));
    assert_eq!(again.status.code(), Some(1));
    assert_error_line(&again, &["extended already"]);
}
