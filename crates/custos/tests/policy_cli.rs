//! `custos policy check|render|ropa`, and `custos serve` refusing an invalid policy.

use std::path::Path;

mod common;

use common::custos_output as custos;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn broken_policy() -> String {
    custos_policy::EXAMPLE_TOML.replacen("country = \"IN\"\ntransfer = \"scc\"\n", "country = \"IN\"\n", 1).replacen(
        "period = \"P13M\"",
        "period = \"thirteen months\"",
        1,
    )
}

#[test]
fn check_accepts_the_example_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "policy.toml", custos_policy::EXAMPLE_TOML);
    let out = custos(dir.path(), &["policy", "check", "policy.toml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let short = custos_policy::Policy::example().version().short().to_owned();
    assert!(stdout.starts_with("policy.toml: valid; version ") && stdout.contains(&short), "{stdout}");
}

#[test]
fn check_lists_every_error_with_its_position_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "policy.toml", &broken_policy());
    let out = custos(dir.path(), &["policy", "check", "policy.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("policy.toml has 2 errors"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("policy.toml:")).collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines.iter().any(|l| l.ends_with("[retention.bad_period]")), "{stderr}");
    assert!(lines.iter().any(|l| l.ends_with("[recipient.no_transfer_safeguard]")), "{stderr}");
    assert!(stderr.contains("help: "), "{stderr}");
}

#[test]
fn serve_refuses_an_invalid_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "policy.toml", &broken_policy());
    let out = custos(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--policy", "policy.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: policy.toml has 2 errors"), "{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
    let out = custos(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--policy", "missing.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the policy file missing.toml"));
}

#[test]
fn render_prints_the_notice_in_each_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let html = custos(dir.path(), &["policy", "render"]);
    assert!(html.status.success());
    assert!(String::from_utf8_lossy(&html.stdout).starts_with("<!doctype html>"));
    let md = custos(dir.path(), &["policy", "render", "--format", "markdown"]);
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("# Privacy notice"));
    let json = custos(dir.path(), &["policy", "render", "--format", "json"]);
    let policy: custos_policy::Policy = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(policy, custos_policy::Policy::example());
    let bad = custos(dir.path(), &["policy", "render", "--format", "pdf"]);
    assert_eq!(bad.status.code(), Some(2), "clap refuses an unknown format");
}

#[test]
fn ropa_prints_the_record_of_processing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = custos(dir.path(), &["policy", "ropa", "--format", "csv"]);
    assert!(csv.status.success());
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("controller,dpo,purpose,"));
    let json = custos(dir.path(), &["policy", "ropa", "--format", "json"]);
    let record: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(record["activities"].as_array().expect("array").len(), custos_policy::Policy::example().purposes.len());
}
