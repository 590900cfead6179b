//! `custos serve` with `[server] tls_cert` and `tls_key`: HTTPS through rustls, with the
//! testkit's certificate for 127.0.0.1 (issued by its test CA); plain HTTP is refused.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{custos, run};
use custos_testkit::TestDb;

const TLS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../custos-testkit/tls");

/// Starts `custos serve` with `envs`: the child, the URL it listens on (from its log) and
/// the rest of its log (kept open: a closed pipe would end the child at its next line).
fn start(dir: &std::path::Path, envs: &[(&str, &str)]) -> (Child, String, mpsc::Receiver<String>) {
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
    let url = loop {
        let line = logs.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| panic!("no listening line: {seen:?}"));
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("url").to_owned();
        }
        seen.push(line);
    };
    (child, url, logs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_through_rustls_when_a_certificate_is_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::from_env().await;
    let key_file = dir.path().join("master.key");
    assert!(run(&mut custos(dir.path(), &["keys", "generate", key_file.to_str().expect("utf-8")])).status.success());
    let (url, keys_url) = (db.url().expose().to_owned(), db.keys_url().expose().to_owned());
    let (cert, key) = (format!("{TLS}/server.pem"), format!("{TLS}/server.key"));
    let (mut child, base, _logs) = start(
        dir.path(),
        &[
            ("CUSTOS_DATABASE_URL", &url),
            ("CUSTOS_KEYSTORE_URL", &keys_url),
            ("CUSTOS_MASTER_KEY_FILE", key_file.to_str().expect("utf-8")),
            ("CUSTOS_SERVER_TLS_CERT", &cert),
            ("CUSTOS_SERVER_TLS_KEY", &key),
        ],
    );
    assert!(base.starts_with("https://"), "{base}");
    let ca = reqwest::Certificate::from_pem(custos_testkit::https::TEST_CA_PEM).expect("ca");
    let client = reqwest::Client::builder().add_root_certificate(ca).build().expect("client");
    let response = client.get(format!("{base}/healthz")).send().await.expect("https");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    // The rights request form sees the peer's address (its rate limit is per network).
    let response = client
        .post(format!("{base}/v1/rights-requests"))
        .json(&serde_json::json!({"kind": "access", "email": "ada@example.org"}))
        .send()
        .await
        .expect("https post");
    assert_eq!(response.status(), 202, "{:?}", response.text().await);

    // A client that does not trust the certificate, and plain HTTP, get nothing.
    assert!(reqwest::Client::new().get(format!("{base}/healthz")).send().await.is_err());
    let plain = base.replacen("https://", "http://", 1);
    let answer = reqwest::Client::new().get(format!("{plain}/healthz")).send().await;
    assert!(answer.is_err() || !answer.expect("answer").status().is_success());

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    let _: SocketAddr = base.trim_start_matches("https://").parse().expect("address");
}

#[test]
fn a_certificate_without_its_key_is_refused_with_the_setting_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = format!("{TLS}/server.pem");
    let output = run(custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"]).env("CUSTOS_SERVER_TLS_CERT", &cert));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tls_cert and tls_key go together"), "{stderr}");
    let output = run(custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("CUSTOS_SERVER_TLS_CERT", &cert)
        .env("CUSTOS_SERVER_TLS_KEY", "missing.key"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tls_key") && stderr.contains("missing.key"), "{stderr}");
}
