//! `custos keys`, `custos tokens` and `custos audit` on the embedded default.

use std::process::{Command, Output, Stdio};

mod common;

use common::custos_output as custos;

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tokens_audit_and_rotation_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = ok(&custos(dir.path(), &["tokens", "create", "--name", "web", "--purposes", "support,contact"]));
    assert!(token.trim().starts_with("cst_"), "{token}");
    let listed = ok(&custos(dir.path(), &["tokens", "list"]));
    assert!(listed.contains("web\tsupport,contact"), "{listed}");
    assert!(!listed.contains(token.trim()), "secrets are never listed");
    let bad = custos(dir.path(), &["tokens", "create", "--name", "x", "--purposes", "resale"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("purpose `resale` is not declared"));

    assert!(ok(&custos(dir.path(), &["audit", "verify"])).contains("intact"));
    assert!(dir.path().join("data/master.key").exists(), "the development key was generated");
    let old_key = std::fs::read_to_string(dir.path().join("data/master.key")).expect("key");

    let rotated = ok(&custos(dir.path(), &["keys", "rotate"]));
    assert!(rotated.contains("system keys under master key"), "{rotated}");
    let new_key = std::fs::read_to_string(dir.path().join("data/master.key")).expect("key");
    assert_ne!(old_key, new_key);
    let retired: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("master.key.retired-"))
        .collect();
    assert_eq!(retired.len(), 1);
    // After rotation custos opens its vault with the new key alone.
    assert!(ok(&custos(dir.path(), &["audit", "verify"])).contains("intact"));

    let key_file = dir.path().join("prod.key");
    ok(&custos(dir.path(), &["keys", "generate", key_file.to_str().expect("utf-8")]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = custos(dir.path(), &["keys", "generate", key_file.to_str().expect("utf-8")]);
    assert_eq!(again.status.code(), Some(1), "a key file is never overwritten");
}

#[test]
fn postgres_needs_an_explicit_master_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_clear()
        .env(
            "CUSTOS_DATABASE_URL",
            std::env::var("CUSTOS_TEST_POSTGRES_URL").unwrap_or("postgres://127.0.0.1:1/x".into()),
        )
        .env("CUSTOS_DATABASE_CONNECT_TIMEOUT_SECS", "2")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key is required with PostgreSQL") || stderr.contains("cannot connect"), "{stderr}");
}
