//! `custos partners …` against a running `custos serve` (seed 3): staff register a partner
//! and give it a key from the terminal, the partner uploads over HTTP, staff end the
//! contract, and the server's job runner deletes the data and mails the partner a report.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{custos, run};

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_is_added_keyed_and_terminated_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = |args: &[&str]| {
        let output = run(&mut custos(dir.path(), args));
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let id = ok(&[
        "partners",
        "add",
        "--name",
        "Acme Ads",
        "--country",
        "DE",
        "--role",
        "advertiser",
        "--contact-email",
        "grace@acme.example",
        "--contact-name",
        "Grace Hopper",
    ]);
    assert!(id.parse::<uuid::Uuid>().is_ok(), "{id}");
    let first = ok(&["partners", "key", "create", &id, "--scopes", "records:write,records:read"]);
    assert!(first.starts_with("cpk_"), "{first}");
    let first_id = first.trim_start_matches("cpk_").split('_').next().expect("key id").to_owned();
    let key = ok(&["partners", "key", "rotate", &id, &first_id]);
    assert!(key.starts_with("cpk_") && key != first);
    let bad = run(&mut custos(dir.path(), &["partners", "key", "create", &id, "--scopes", "everything"]));
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`everything` is not a scope"));

    // The server, whose job runner will carry out the termination.
    let mut child = custos(dir.path(), &["serve", "--bind", "127.0.0.1:0"])
        .env("CUSTOS_JOBS_POLL_INTERVAL_MS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn custos serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines.next().expect("a log line").expect("read");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().expect("address").to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let client = reqwest::Client::new();
    let upload = |key: String| {
        let client = client.clone();
        let url = format!("http://{addr}/v1/partner/records");
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .header("content-type", "text/csv")
                .body("pseudonym,country\na1b2c3,DE\nd4e5f6,FR\n")
                .send()
                .await
                .expect("upload")
        }
    };
    assert_eq!(upload(first.clone()).await.status(), 401, "the rotated key is revoked");
    let answer = upload(key.clone()).await;
    assert_eq!(answer.status(), 201);
    assert_eq!(answer.json::<serde_json::Value>().await.expect("json")["stored"], 2);

    let ended = ok(&["partners", "terminate", &id]);
    assert!(ended.contains("terminating") && ended.contains("2 records"), "{ended}");
    assert_eq!(upload(key.clone()).await.status(), 401, "keys stop at once");
    let mail_dir = dir.path().join("data/mail");
    let mut report = None;
    for _ in 0..150 {
        report = std::fs::read_dir(&mail_dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
            .find(|text| text.contains("Your data has been deleted"));
        if report.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = report.expect("the partner was mailed a report");
    assert!(report.contains("grace@acme.example") && report.contains("2 records"), "{report}");
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    assert_eq!(child.wait().expect("wait").code(), Some(0));

    let listed = ok(&["partners", "list"]);
    assert!(listed.lines().any(|l| l.starts_with(&id) && l.ends_with("\tterminated\t0")), "{listed}");
}
