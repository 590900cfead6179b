//! The governance registers from the terminal: legal holds, the retention sweep, the
//! breach register and legal requests, on the embedded database.

use common::{custos, run};

mod common;

fn id_in(text: &str) -> String {
    let word = |w: &str| w.trim_end_matches([';', ',', '.']).to_owned();
    text.split_whitespace().map(word).find(|w| uuid::Uuid::parse_str(w).is_ok()).expect("an id")
}

#[test]
fn holds_retention_breaches_and_legal_requests_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = |args: &[&str]| {
        let output = run(&mut custos(dir.path(), args));
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let fails = |args: &[&str]| {
        let output = run(&mut custos(dir.path(), args));
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        // The last line is the error (a warning about the development key may come first).
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        stderr.lines().last().unwrap_or_default().to_owned()
    };

    // Legal holds.
    let placed = ok(&["holds", "add", "--scope", "purpose", "--target", "contact", "--reason", "tax audit 2027"]);
    let hold = id_in(&placed);
    let error = fails(&["holds", "add", "--scope", "purpose", "--target", "shoe-sizes", "--reason", "x"]);
    assert!(error.starts_with("error: ") && error.contains("target") && error.contains("shoe-sizes"), "{error}");
    let listed = ok(&["holds", "list"]);
    assert_eq!(listed.lines().count(), 2, "a header and the one hold: {listed}");
    assert!(listed.contains(&format!("{hold}\tpurpose\tcontact\t")), "{listed}");
    assert!(ok(&["holds", "release", &hold, "--reason", "audit over"]).contains("released"));
    assert_eq!(ok(&["holds", "list"]).lines().count(), 1);
    assert_eq!(ok(&["holds", "list", "--all"]).lines().count(), 2);

    // Retention: nothing has expired in a fresh database.
    let dry = ok(&["retention", "run", "--dry-run"]);
    assert!(dry.contains("0 record(s) would delete"), "{dry}");
    assert!(ok(&["retention", "run"]).contains("0 record(s) deleted"));
    let history = ok(&["retention", "history"]);
    assert_eq!(history.lines().count(), 2, "a dry run leaves no trace: {history}");
    assert!(history.contains("\tdone\t0\t0"), "{history}");

    // A breach: registered, listed with its clock, drafted, notified.
    let opened = ok(&[
        "breach",
        "open",
        "--nature",
        "a lost backup tape",
        "--categories",
        "user.contact.email,user.name",
        "--systems",
        "backup",
        "--measures",
        "keys rotated",
        "--consequences",
        "none: the tape is sealed",
        "--window-start",
        "2026-01-01T00:00:00Z",
        "--window-end",
        "2026-01-02T00:00:00Z",
    ]);
    let breach = id_in(&opened);
    assert!(ok(&["breach", "list"]).contains(&breach));
    let draft = ok(&["breach", "draft", &breach]);
    assert!(draft.contains("Art. 33") && draft.contains("a lost backup tape"), "{draft}");
    let affected: serde_json::Value = serde_json::from_str(&ok(&["breach", "affected", &breach])).expect("json");
    assert_eq!(affected["subjects"], serde_json::json!([]));
    assert!(ok(&["breach", "notify", &breach, "--authority"]).contains("was notified"));
    let again = fails(&["breach", "notify", &breach, "--authority"]);
    assert!(again.contains("already notified"), "{again}");

    // A legal request, refused.
    let added = ok(&["legal", "add", "--authority", "Police", "--legal-basis", "none given", "--scope", "all users"]);
    let request = id_in(&added);
    assert!(
        ok(&["legal", "decide", &request, "--decision", "refused", "--reason", "no legal basis"]).contains("refused")
    );
    let shown: serde_json::Value = serde_json::from_str(&ok(&["legal", "show", &request])).expect("json");
    assert_eq!((shown["decision"].as_str(), shown["reason"].as_str()), (Some("refused"), Some("no legal basis")));
    let error = fails(&["legal", "decide", &request, "--decision", "granted", "--reason", "changed my mind"]);
    assert!(error.contains("already refused"), "{error}");
}
