//! `custos pii scan`: NDJSON and CSV in, one JSON line per record out, and the exit status
//! saying what was found (0 nothing, 1 PII, 2 a bad line).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;

use common::custos_output as custos;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

fn kinds(line: &Value) -> Vec<(String, String)> {
    line["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["field"].as_str().unwrap_or("").to_owned(), f["type"].as_str().unwrap_or("").to_owned()))
        .collect()
}

#[test]
fn ndjson_records_with_pii_exit_1_with_one_line_each() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "records.ndjson",
        concat!(
            r#"{"order_id": 4829301756, "sku": "TSH-BLK-M", "created_at": "2024-03-15T14:22:01Z"}"#,
            "\n",
            r#"{"customer": {"email": "jane.doe@example.com", "phone": "+44 20 7946 0958"}, "total": "129.99"}"#,
            "\n\n",
            r#"{"items": [{"note": "ok"}, {"note": "call Maria Garcia on 06 12 34 56 78"}]}"#,
            "\n",
        ),
    );
    let out = custos(dir.path(), &["pii", "scan", "records.ndjson"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines = lines(&out);
    assert_eq!(lines.len(), 3, "one line per record, blank lines skipped: {lines:?}");
    assert_eq!(lines[0], serde_json::json!({"line": 1, "findings": []}));
    assert_eq!(lines[1]["line"], 2);
    assert_eq!(
        kinds(&lines[1]),
        [("customer.email".to_owned(), "email".to_owned()), ("customer.phone".to_owned(), "phone".to_owned())]
    );
    let email = &lines[1]["findings"][0];
    assert_eq!((email["start"].as_u64(), email["end"].as_u64()), (Some(0), Some(20)));
    assert!(email["confidence"].as_f64().is_some_and(|c| c > 0.5 && c <= 1.0));
    assert_eq!(lines[2]["line"], 4);
    assert_eq!(
        kinds(&lines[2]),
        [("items[1].note".to_owned(), "person_name".to_owned()), ("items[1].note".to_owned(), "phone".to_owned())]
    );
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn clean_records_exit_0() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "clean.ndjson",
        "{\"version\": \"10.0.19041.1\", \"hash\": \"9f86d081884c7d659a2feaa0c55ad015\"}\n",
    );
    let out = custos(dir.path(), &["pii", "scan", "clean.ndjson"]);
    assert_eq!(out.status.code(), Some(0), "stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines(&out), [serde_json::json!({"line": 1, "findings": []})]);
}

#[test]
fn a_bad_line_is_reported_with_its_number_and_scanning_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "mixed.ndjson",
        "{\"email\": \"a@b.io\"}\n{\"email\": \"secret-person@example.com\"\n[1, 2]\n{\"ok\": true}\n",
    );
    let out = custos(dir.path(), &["pii", "scan", "mixed.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    let lines = lines(&out);
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(kinds(&lines[0]), [("email".to_owned(), "email".to_owned())]);
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].as_str().is_some_and(|e| e.contains("invalid JSON")), "{lines:?}");
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().is_some_and(|e| e.contains("expected a JSON object")), "{lines:?}");
    assert_eq!(lines[3], serde_json::json!({"line": 4, "findings": []}));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2: ") && stderr.contains("line 3: "), "{stderr}");
    assert!(!stderr.contains("secret-person"), "errors never echo the value: {stderr}");
}

/// Scans `text` as the CSV file `name` of three rows: the first holds the two fields
/// `found` (field, type), the second none, the third is one field short.
fn three_csv_rows(dir: &Path, name: &str, text: &str, found: [(&str, &str); 2]) {
    write(dir, name, text);
    let out = custos(dir, &["pii", "scan", name, "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2), "a short row is a bad line");
    let lines = lines(&out);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["line"], 2);
    let found: Vec<(String, String)> = found.iter().map(|(f, t)| ((*f).to_owned(), (*t).to_owned())).collect();
    assert_eq!(kinds(&lines[0]), found);
    assert_eq!(lines[1], serde_json::json!({"line": 3, "findings": []}));
    assert_eq!(lines[2]["line"], 4);
    assert!(lines[2]["error"].as_str().is_some_and(|e| e.contains("expected 4 fields")), "{lines:?}");
}

#[test]
fn csv_with_a_header_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_csv_rows(
        dir.path(),
        "people.csv",
        "id,first_name,iban,amount\n1,Lucía,DE89 3704 0044 0532 0130 00,12.50\n2,,,\"1,234.00\"\n3,only,two\n",
        [("first_name", "person_name"), ("iban", "iban")],
    );
    write(dir.path(), "ok.csv", "id,email\n1,jane@example.com\n");
    let out = custos(dir.path(), &["pii", "scan", "ok.csv", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(1));
}

/// A spreadsheet saved as CSV in a locale whose decimal mark is a comma: `;` between
/// fields, CRLF line ends, a byte-order mark. Lines are the lines an editor shows.
#[test]
fn csv_from_a_european_spreadsheet() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_csv_rows(
        dir.path(),
        "export.csv",
        "\u{feff}kundennr;nachname;telefon;betrag\r\n1001;Müller;+49 30 901820;12,50\r\n1002;;;3,00\r\n1003;Schmidt\r\n",
        [("nachname", "person_name"), ("telefon", "phone")],
    );
}

/// The same export saved in Windows-1252, as Western European spreadsheets do.
#[test]
fn csv_in_windows_1252_with_its_encoding_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("export.csv"), b"kundennr;nachname;stadt\r\n1001;M\xfcller;K\xf6ln\r\n")
        .expect("write");
    let out = custos(dir.path(), &["pii", "scan", "export.csv", "--format", "csv", "--encoding", "windows-1252"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let found = &lines(&out)[0];
    assert_eq!(found["line"], 2);
    assert_eq!(kinds(found), [("nachname".to_owned(), "person_name".to_owned())]);
    assert_eq!(found["findings"][0]["end"], 7, "offsets are into the UTF-8 text: Müller is 7 bytes");
    // Unnamed, the bytes are not UTF-8: a bad line, named.
    let out = custos(dir.path(), &["pii", "scan", "export.csv", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
    let bad = &lines(&out)[0];
    assert_eq!(bad["line"], 2);
    assert!(bad["error"].as_str().is_some_and(|e| e.contains("--encoding")), "says how to read it: {bad}");
    // An unknown set is refused before anything is read.
    let out = custos(dir.path(), &["pii", "scan", "export.csv", "--encoding", "klingon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("klingon"), "{out:?}");
}

#[test]
fn reads_standard_input_and_needs_no_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A configuration file that would not load: `pii scan` must not read it.
    write(dir.path(), "custos.toml", "this is not toml = [");
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["pii", "scan", "-"])
        .current_dir(dir.path())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b"{\"ssn\": \"123-45-6789\"}\n").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(kinds(&lines(&out)[0]), [("ssn".to_owned(), "national_id".to_owned())]);

    let out = custos(dir.path(), &["pii", "scan", "missing.ndjson"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open missing.ndjson"));
}
