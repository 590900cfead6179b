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

/// A new partner's API key, so that uploads reach their parsers.
async fn partner_key(app: &TestApp) -> String {
    let (status, partner) = app
        .post(
            "/v1/partners",
            &json!({"name": "Acme", "country": "DE", "role": "advertiser", "contact_email": "grace@acme.example"}),
        )
        .await;
    assert_eq!(status, 201, "{partner}");
    let (status, key) =
        app.post(&format!("/v1/partners/{}/keys", partner["id"].as_str().expect("id")), &json!({})).await;
    assert_eq!(status, 201, "{key}");
    key["key"].as_str().expect("key").to_owned()
}

#[tokio::test]
async fn nasty_bodies_paths_and_queries_get_a_clear_4xx_and_store_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with(&db, PURPOSES, |s| s.with_limits(custos_server::RateLimits::off())).await;
    // A partner and its key, so that uploads reach their parsers.
    let partner_key = partner_key(&app).await;

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

/// Every string leaf of `value`, as `(path, value with that leaf ending in NUL)`, the path
/// written as the server names fields (`events[0].url`).
fn with_nul_in_each_string(value: &Value) -> Vec<(String, Value)> {
    fn walk(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::String(_) => out.push(path.to_owned()),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), out);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    walk(item, &if path.is_empty() { key.clone() } else { format!("{path}.{key}") }, out);
                }
            }
            _ => {}
        }
    }
    let mut paths = Vec::new();
    walk(value, "", &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let pointer = format!("/{}", path.replace(['.', '['], "/").replace(']', ""));
            let mut changed = value.clone();
            let leaf = changed.pointer_mut(&pointer).expect("leaf");
            *leaf = Value::String(format!("{}\u{0}", leaf.as_str().expect("a string")));
            (path, changed)
        })
        .collect()
}

/// Checks that `response` is `422 invalid_value` naming `field`, without the value.
async fn refused_at(what: &str, response: reqwest::Response, field: &str, problems: &mut Vec<String>) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let error = &body["error"];
    if status != 422
        || error["code"] != "invalid_value"
        || error["field"] != field
        || !error["message"].as_str().is_some_and(|m| m.contains("U+0000") && !m.contains('\0'))
    {
        problems.push(format!("{what}: expected 422 invalid_value at `{field}`, got {status} {text}"));
    }
}

#[tokio::test]
async fn a_nul_in_any_string_of_a_json_body_form_or_query_is_refused_by_name_and_stores_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with(&db, PURPOSES, |s| s.with_limits(custos_server::RateLimits::off())).await;
    let subject = "0190b3d2-1c2b-7c4e-9a1d-3f1e2d3c4b5a";
    let visitor = "0123456789abcdef0123";
    // Bodies each endpoint accepts; a NUL goes into each of their strings in turn.
    let bodies = [
        (
            "/v1/subjects",
            json!({"kind": "user", "identifiers": [{"kind": "email", "value": "ada@example.org"}],
                   "records": [{"purpose": "account", "category": "user.name", "value": "Ada"}]}),
        ),
        ("/v1/consents", json!({"subject_id": subject, "purpose": "marketing", "granted": true, "method": "api"})),
        (
            "/v1/events",
            json!({"visitor_id": visitor, "events": [{"kind": "pageview", "url": "https://shop.example/",
                   "referrer": "https://search.example/"}]}),
        ),
        ("/v1/banner/consent", json!({"visitor_id": visitor, "choices": {"analytics": true}, "method": "banner"})),
        (
            "/v1/forms/contact",
            json!({"name": "Ada", "email": "ada@example.org", "phone": "+44 20 7946 0958",
                   "message": "Do you ship to Malta?", "consents": ["marketing"]}),
        ),
        ("/v1/forms/signup", json!({"name": "Ada", "email": "ada@example.org", "consents": ["marketing"]})),
        (
            "/v1/accounts",
            json!({"name": "Ada", "company": "Engines Ltd", "address": "12 St James's Square", "email": "ada@example.org",
                   "phone": "+44 20 7946 0958", "password": "correct horse battery"}),
        ),
        ("/v1/accounts/login", json!({"email": "ada@example.org", "password": "correct horse battery"})),
        ("/v1/accounts/password-reset", json!({"email": "ada@example.org"})),
        ("/v1/accounts/password-reset/confirm", json!({"token": "abc", "password": "correct horse battery"})),
        (
            "/v1/rights-requests",
            json!({"kind": "rectification", "email": "ada@example.org",
                   "corrections": [{"category": "user.name", "value": "Ada King"}]}),
        ),
        (
            "/v1/partners",
            json!({"name": "Acme", "country": "DE", "role": "advertiser", "contact_email": "grace@acme.example"}),
        ),
        (
            "/v1/campaigns",
            json!({"name": "Spring", "purpose": "marketing", "subject_line": "Spring sale", "body": "Hello {{name}}!"}),
        ),
        (
            "/v1/holds",
            json!({"scope": "category", "target": "user.content.private", "reason": "litigation hold", "placed_by": "dpo"}),
        ),
        (
            "/v1/legal-requests",
            json!({"authority": "District Court", "legal_basis": "a production order", "scope": "one name",
                   "recorded_by": "dpo"}),
        ),
    ];
    let before = rows(&db).await;
    let mut problems = Vec::new();
    let mut sent = 0;
    for (path, body) in &bodies {
        for (field, bad) in with_nul_in_each_string(body) {
            let response =
                app.client.post(format!("{}{path}", app.base)).bearer_auth(&app.token).json(&bad).send().await;
            refused_at(&format!("POST {path} ({field})"), response.expect("send"), &field, &mut problems).await;
            sent += 1;
        }
    }
    // A NUL in a key is named by the object that holds it.
    let response = app
        .client
        .post(format!("{}/v1/banner/consent", app.base))
        .json(&json!({"visitor_id": visitor, "choices": {"analytics\u{0}": true}, "method": "banner"}))
        .send()
        .await
        .expect("send");
    refused_at("POST /v1/banner/consent (a key)", response, "choices", &mut problems).await;

    // Forms: the website's (URL-encoded and multipart), the privacy center's, the console's.
    let forms = [
        ("/v1/forms/contact", "name=Ada&email=ada%40example.org&message=Malta%00%3F", "message"),
        ("/v1/forms/signup", "name=Ada%00&email=ada%40example.org&consent=marketing", "name"),
        ("/rights", "kind=access&email=ada%00%40example.org", "email"),
        ("/account/login", "email=ada%40example.org&password=correct%00horse", "password"),
        ("/privacy/cookies", "analytics=on%00", "analytics"),
        ("/admin/login", "username=root%00&password=correct+horse+battery", "username"),
    ];
    for (path, body, field) in forms {
        for accept in ["application/json", "text/html"] {
            let response = app
                .client
                .post(format!("{}{path}", app.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", accept)
                .body(body)
                .send()
                .await
                .expect("send");
            refused_at(&format!("POST {path} as a form ({accept})"), response, field, &mut problems).await;
            sent += 1;
        }
    }
    let multipart = reqwest::multipart::Form::new()
        .text("name", "Ada")
        .text("email", "ada@example.org")
        .text("message", "Malta\u{0}?");
    let response =
        app.client.post(format!("{}/v1/forms/contact", app.base)).multipart(multipart).send().await.expect("send");
    refused_at("POST /v1/forms/contact as multipart", response, "message", &mut problems).await;

    assert_eq!(rows(&db).await, before, "a refused request stored something");
    // A partner's batch, in each of its formats.
    let partner_key = partner_key(&app).await;
    let before = rows(&db).await;
    for (content_type, batch) in [
        ("application/json", "[{\"pseudonym\": \"ab12cd34\", \"country\": \"D\\u0000E\"}]"),
        ("application/x-ndjson", "{\"pseudonym\": \"ab12cd34\", \"country\": \"D\\u0000E\"}\n"),
        ("text/csv", "pseudonym,country\nab12cd34,D\u{0}E\n"),
    ] {
        let response = app
            .client
            .post(format!("{}/v1/partner/records", app.base))
            .bearer_auth(&partner_key)
            .header("content-type", content_type)
            .body(batch)
            .send()
            .await
            .expect("send");
        refused_at(&format!("POST /v1/partner/records as {content_type}"), response, "country", &mut problems).await;
        sent += 1;
    }

    // Query strings, wherever they are read.
    for (query, field) in [
        ("/v1/accounts/verify?token=abc%00", "token"),
        ("/privacy/diff?from=ab%00&to=cd", "from"),
        ("/v1/disclosures?subject=x%00", "subject"),
        ("/rights/ab%00", "path"),
    ] {
        let response =
            app.client.get(format!("{}{query}", app.base)).bearer_auth(&app.token).send().await.expect("send");
        refused_at(&format!("GET {query}"), response, field, &mut problems).await;
        sent += 1;
    }
    assert!(sent > 60, "only {sent} requests sent");
    assert!(problems.is_empty(), "{} of {sent} were not refused by name:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(rows(&db).await, before, "a refused request stored something");
}
