//! The committed corpus of nasty inputs (`tests/nasty/`: huge numbers, deep nesting, invalid
//! UTF-8, NUL bytes, bidi overrides, lone surrogates, truncated bodies…), plus a 10 MB string
//! and wrong content types made here, sent to every JSON endpoint the OpenAPI document lists
//! (so a new endpoint is covered without touching this test). Each is answered with a 4xx in
//! the stable error shape, a code and the part of the request at fault, never a 5xx; and
//! nothing is stored.

mod common;

use std::path::Path;

use common::TestApp;
use custos_testkit::TestDb;
use serde_json::{Value, json};

/// Every purpose of the example policy: the token passes every gate a body could reach.
const PURPOSES: &[&str] = &[
    "website-operation",
    "analytics",
    "contact",
    "account",
    "service-communication",
    "support",
    "marketing",
    "service-improvement",
    "partner-services",
    "partner-relationship",
    "aggregation",
    "legal-obligations",
    "legal-claims",
];

/// The corpus: `(name, bytes)`, the committed files and the ones too big to commit.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nasty");
    let mut cases: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("tests/nasty")
        .map(|e| {
            let path = e.expect("entry").path();
            (path.file_name().expect("name").to_string_lossy().into_owned(), std::fs::read(&path).expect("read"))
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "the corpus is in tests/nasty");
    // A 10 MB string, in every field a body could have.
    let big = "\u{202e}A".repeat(10 * 1024 * 1024 / 4);
    let fields = ["kind", "email", "name", "purpose", "value", "visitor_id", "code", "message", "nature", "token"];
    let object: serde_json::Map<String, Value> = fields.iter().map(|f| ((*f).to_owned(), json!(big))).collect();
    cases.push(("10mb-strings.json (made here)".to_owned(), serde_json::to_vec(&object).expect("json")));
    cases
}

/// Rows in every table of the test's database.
async fn rows(db: &TestDb) -> Vec<(String, i64)> {
    use sqlx::{Connection, Row};
    let mut out = Vec::new();
    match db.url().sqlite_path() {
        Some(path) => {
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{path}")).await.expect("open");
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                    .fetch_all(&mut conn)
                    .await
                    .expect("tables");
            for t in tables {
                let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{t}\""))
                    .fetch_one(&mut conn)
                    .await
                    .expect("count")
                    .get(0);
                out.push((t, n));
            }
        }
        None => {
            let mut conn = sqlx::PgConnection::connect(db.url().expose()).await.expect("connect");
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            )
            .fetch_all(&mut conn)
            .await
            .expect("tables");
            for t in tables {
                let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{t}\""))
                    .fetch_one(&mut conn)
                    .await
                    .expect("count")
                    .get(0);
                out.push((t, n));
            }
        }
    }
    out
}

/// A path of the document with its parameters filled with `value`.
fn fill(path: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("closing brace") + start;
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Checks one answer: a 4xx (or, with `may_succeed`, a 2xx) in the stable shape; never a 5xx.
async fn check(what: &str, response: reqwest::Response, may_succeed: bool, problems: &mut Vec<String>) {
    let status = response.status().as_u16();
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = response.bytes().await.unwrap_or_default();
    if may_succeed && (200..300).contains(&status) {
        return;
    }
    if !(400..500).contains(&status) {
        problems.push(format!("{what}: {status} {}", String::from_utf8_lossy(&body[..body.len().min(200)])));
        return;
    }
    // The DRP's bare 403 is what its protocol asks for.
    if status == 403 && body.is_empty() && (what.contains("/v1/agent") || what.contains("/v1/data-rights-request")) {
        return;
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let error = &parsed["error"];
    let code_ok =
        error["code"].as_str().is_some_and(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let where_ok = error["field"].as_str().is_some_and(|f| !f.is_empty());
    if !kind.starts_with("application/json") || !code_ok || !where_ok || error["message"].as_str().is_none() {
        problems.push(format!("{what}: {status} {kind} {}", String::from_utf8_lossy(&body[..body.len().min(300)])));
    }
}

#[tokio::test]
async fn nasty_bodies_paths_and_queries_get_a_clear_4xx_and_store_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with(&db, PURPOSES, |s| s.with_limits(custos_server::RateLimits::off())).await;
    // A partner and its key, so that uploads reach their parsers.
    let (status, partner) = app
        .post(
            "/v1/partners",
            &json!({"name": "Acme", "country": "DE", "role": "advertiser", "contact_email": "grace@acme.example"}),
        )
        .await;
    assert_eq!(status, 201, "{partner}");
    let id = partner["id"].as_str().expect("id");
    let (status, key) = app.post(&format!("/v1/partners/{id}/keys"), &json!({})).await;
    assert_eq!(status, 201, "{key}");
    let partner_key = key["key"].as_str().expect("key").to_owned();

    let doc: Value =
        app.client.get(format!("{}/openapi.json", app.base)).send().await.expect("get").json().await.expect("json");
    let before = rows(&db).await;
    let corpus = corpus();
    let mut problems = Vec::new();
    let mut sent = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let secret = if op["security"][0].get("partner_key").is_some() { &partner_key } else { &app.token };
            let method: reqwest::Method = method.to_uppercase().parse().expect("method");
            let url = format!("{}{}", app.base, fill(path, "0190b3d2-1c2b-7c4e-9a1d-3f1e2d3c4b5a"));
            if !op["requestBody"].is_null() {
                for (name, bytes) in &corpus {
                    for content_type in ["application/json", "text/plain"] {
                        let response = app
                            .client
                            .request(method.clone(), &url)
                            .bearer_auth(secret)
                            .header("content-type", content_type)
                            .body(bytes.clone())
                            .send()
                            .await
                            .expect("send");
                        check(&format!("{method} {path} {name} as {content_type}"), response, false, &mut problems)
                            .await;
                        sent += 1;
                    }
                }
                // Wrong content types, and none.
                for content_type in ["text/xml", "application/x-www-form-urlencoded", "multipart/form-data", ""] {
                    let mut request = app.client.request(method.clone(), &url).bearer_auth(secret);
                    if !content_type.is_empty() {
                        request = request.header("content-type", content_type);
                    }
                    let response = request.body(&b"\xff\xfe<x>&%%00\x00"[..]).send().await.expect("send");
                    check(&format!("{method} {path} as {content_type:?}"), response, false, &mut problems).await;
                    sent += 1;
                }
            }
            // Nasty path segments, where the path has parameters.
            if path.contains('{') {
                for segment in
                    ["%00", "%E2%80%AE", "99999999999999999999999999999999", "%FF%FE", "-1", &"a".repeat(8000)]
                {
                    let url = format!("{}{}", app.base, fill(path, segment));
                    let response = app
                        .client
                        .request(method.clone(), &url)
                        .bearer_auth(secret)
                        .header("content-type", "application/json")
                        .body("{}")
                        .send()
                        .await
                        .expect("send");
                    check(
                        &format!("{method} {path} with segment {}", &segment[..segment.len().min(12)]),
                        response,
                        false,
                        &mut problems,
                    )
                    .await;
                    sent += 1;
                }
            }
            // Nasty query strings: refused with the stable shape, or ignored.
            if method == reqwest::Method::GET {
                let query = "limit=999999999999999999999&after=%FF&pseudonym=%00&epsilon=NaN&from=%E2%80%AE&to=1e999\
                             &all=maybe&format=%00&purpose=%FF&categories=&group_by=%E2%80%AE&token=%00&subject=-1";
                let url = format!("{url}?{query}");
                let response = app.client.get(&url).bearer_auth(secret).send().await.expect("send");
                check(&format!("GET {path}?nasty"), response, true, &mut problems).await;
                sent += 1;
            }
        }
    }
    assert!(sent > 1000, "only {sent} requests sent");
    assert!(problems.is_empty(), "{} of {sent} answers were not a clear 4xx:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(rows(&db).await, before, "a refused request stored something");
}
