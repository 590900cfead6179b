//! The partner API over real HTTP on loopback (seed 3): staff register partners and issue
//! keys; partners upload pseudonymised batches in three formats through the PII gate,
//! read and delete only their own records; processor duties; termination; aggregates.

mod common;

use std::sync::Arc;

use custos_engine::jobs::JobRunner;
use custos_engine::partners::{PartnerSettings, PartnerTermination};
use custos_policy::Policy;
use custos_server::AppState;
use custos_testkit::{TestDb, on_both_backends};
use serde_json::{Value, json};

on_both_backends!(
    a_partner_uploads_json_ndjson_and_csv_and_reads_and_deletes_only_its_own,
    a_batch_with_pii_is_rejected_whole_with_masked_findings_and_nothing_is_stored,
    quarantine_stores_the_clean_records_and_returns_the_rejected_ones,
    an_idempotency_key_replays_the_answer_and_refuses_another_body,
    bad_batches_name_the_record_line_and_field_and_change_nothing,
    a_spreadsheets_export_in_windows_1252_is_read_as_it_was_written,
    keys_are_shown_once_scoped_revocable_and_rotatable,
    subprocessors_need_written_consent_and_transfers_outside_the_eea_the_partners,
    terminating_a_contract_deletes_the_data_through_the_job_runner_and_reports,
    aggregates_over_http_refuse_undeclared_dimensions_and_spent_budgets,
);

/// custos on loopback with a staff token for partner management and aggregates.
struct App {
    base: String,
    token: String,
    client: reqwest::Client,
    state: AppState,
}

impl App {
    async fn spawn(db: &TestDb, settings: PartnerSettings) -> Self {
        let store = db.store().await;
        let policy = Policy::example();
        let purposes = vec!["partner-relationship".to_owned(), "aggregation".to_owned()];
        let (_, token) = custos_engine::tokens::issue(&store, &policy, "staff", &purposes, jiff::Timestamp::now())
            .await
            .expect("token");
        let state = AppState::new(store, common::vault(db).await, policy).with_partners(settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(custos_server::serve(listener, custos_server::app(state.clone()), std::future::pending()));
        Self { base, token, client: reqwest::Client::new(), state }
    }

    /// A staff call with a JSON body (or none).
    async fn staff(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Registers a partner and issues it a key with `scopes` (all when empty).
    async fn partner(&self, name: &str, scopes: &[&str]) -> (String, String) {
        let (status, p) = self
            .staff(
                reqwest::Method::POST,
                "/v1/partners",
                Some(json!({"name": name, "country": "DE", "role": "advertiser",
                            "contact_email": "grace@acme.example", "contact_name": "Grace Hopper"})),
            )
            .await;
        assert_eq!(status, 201, "{p}");
        assert_eq!(p["custos_role"], "processor");
        let id = p["id"].as_str().expect("id").to_owned();
        let (status, k) = self
            .staff(reqwest::Method::POST, &format!("/v1/partners/{id}/keys"), Some(json!({"scopes": scopes})))
            .await;
        assert_eq!(status, 201, "{k}");
        let key = k["key"].as_str().expect("the key, once").to_owned();
        assert!(key.starts_with("cpk_"));
        (id, key)
    }

    /// A partner's upload.
    async fn upload(&self, key: &str, content_type: &str, body: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        self.upload_to("/v1/partner/records", key, content_type, body, extra).await
    }

    async fn upload_to(
        &self,
        path: &str,
        key: &str,
        content_type: &str,
        body: &str,
        extra: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body.to_owned());
        for (name, value) in extra {
            r = r.header(*name, *value);
        }
        let r = r.send().await.expect("upload");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn partner_call(&self, method: reqwest::Method, key: &str, path: &str) -> (u16, Value) {
        let r =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(key).send().await.expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn stored(&self, partner: &str) -> u64 {
        self.state.store.count_partner_records(partner.parse().expect("uuid")).await.expect("count")
    }
}

async fn a_partner_uploads_json_ndjson_and_csv_and_reads_and_deletes_only_its_own(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (a, key) = app.partner("Acme Ads", &[]).await;
    let (_, other) = app.partner("Other Media", &[]).await;

    let pseudonym = "5f0c6a1e9b7d4c2a8e3f1b0d6c9a7e21";
    let (status, body) = app
        .upload(
            &key,
            "application/json",
            &json!([{"pseudonym": pseudonym, "country": "DE", "amount": 12.5}]).to_string(),
            &[],
        )
        .await;
    assert_eq!((status, body["stored"].clone()), (201, json!(1)), "{body}");
    assert_eq!((body["purpose"].clone(), body["custos_role"].clone()), (json!("partner-services"), json!("processor")));
    let ndjson = format!(
        "{}\n{}\n",
        json!({"pseudonym": pseudonym, "channel": "web"}),
        json!({"pseudonym": "0b8f2d7e-3c41-4e8a-9f65-1d2c3b4a5e6f", "channel": "app"})
    );
    let (status, body) = app.upload(&key, "application/x-ndjson", &ndjson, &[]).await;
    assert_eq!((status, body["stored"].clone()), (201, json!(2)), "{body}");
    let (status, body) =
        app.upload(&key, "text/csv", "pseudonym,country,amount\nab12cd34,FR,3\nef56ab78,IT,4\n", &[]).await;
    assert_eq!((status, body["stored"].clone()), (201, json!(2)), "{body}");
    assert_eq!(app.stored(&a).await, 5);

    let (status, read) =
        app.partner_call(reqwest::Method::GET, &key, &format!("/v1/partner/records?pseudonym={pseudonym}")).await;
    assert_eq!(status, 200, "{read}");
    let records = read["records"].as_array().expect("records");
    assert_eq!(records.len(), 2, "both records of the pseudonym: {read}");
    assert_eq!(records[0]["fields"], json!({"pseudonym": pseudonym, "country": "DE", "amount": 12.5}));
    assert_eq!(records[0]["custos_role"], "processor", "each record says custos is its processor");
    assert_eq!(records[0]["purpose"], "partner-services");

    // Another partner sees nothing of it, and cannot delete it.
    let (_, theirs) =
        app.partner_call(reqwest::Method::GET, &other, &format!("/v1/partner/records?pseudonym={pseudonym}")).await;
    assert_eq!(theirs["records"], json!([]));
    let (_, deleted) = app.partner_call(reqwest::Method::DELETE, &other, "/v1/partner/records?all=true").await;
    assert_eq!(deleted["deleted"], 0);
    assert_eq!(app.stored(&a).await, 5);

    let (status, _) = app.partner_call(reqwest::Method::GET, "cpk_000000000000_nope", "/v1/partner/records").await;
    assert_eq!(status, 401);
    let (status, _) = app.partner_call(reqwest::Method::GET, &app.token, "/v1/partner/records").await;
    assert_eq!(status, 401, "a service token is not a partner key");

    let (status, body) =
        app.partner_call(reqwest::Method::DELETE, &key, &format!("/v1/partner/records?pseudonym={pseudonym}")).await;
    assert_eq!((status, body["deleted"].clone()), (200, json!(2)));
    let (status, body) = app.partner_call(reqwest::Method::DELETE, &key, "/v1/partner/records").await;
    assert_eq!((status, body["error"]["code"].clone()), (400, json!("invalid_value")), "all needs saying");
    let (_, body) = app.partner_call(reqwest::Method::DELETE, &key, "/v1/partner/records?all=true").await;
    assert_eq!(body["deleted"], 3);
    assert_eq!(app.stored(&a).await, 0);
}

async fn a_batch_with_pii_is_rejected_whole_with_masked_findings_and_nothing_is_stored(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (a, key) = app.partner("Acme Ads", &[]).await;
    let batch = format!(
        "{}\n{}\n{}\n",
        json!({"pseudonym": "p-clean-0001", "campaign": "tenerife-campaign"}),
        json!({"pseudonym": "p-0002", "note": "call jane.doe@example.com"}),
        json!({"pseudonym": "p-0003", "card": "4111 1111 1111 1111", "campaign": "tenerife-campaign"}),
    );
    let (status, body) = app.upload(&key, "application/x-ndjson", &batch, &[]).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("pii_detected")), "{body}");
    assert_eq!(body["records_rejected"], 2);
    let rejected = body["rejected"].as_array().expect("findings");
    assert_eq!(rejected.len(), 2, "{body}");
    assert_eq!(
        rejected[0],
        json!({"record": 1, "line": 2, "field": "note", "type": "email", "masked": "j***@e***.com"})
    );
    assert_eq!(rejected[1]["record"], 2);
    assert_eq!(rejected[1]["field"], "card");
    assert_eq!(rejected[1]["type"], "payment_card");
    assert!(rejected[1]["masked"].as_str().expect("masked").ends_with("1111"));
    let text = body.to_string();
    assert!(!text.contains("jane.doe") && !text.contains("4111 1111 1111 1111"), "the report masks: {text}");
    assert_eq!(app.stored(&a).await, 0, "the whole batch is refused");

    // Nothing of the rejected batch is anywhere in the stored bytes, audit log included.
    let bytes = db.stored_bytes().await;
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"Acme Ads"), "the scan sees what is stored in clear (the partner's business name)");
    for needle in [
        &b"jane.doe@example.com"[..],
        b"4111 1111 1111 1111",
        b"4111111111111111",
        b"tenerife-campaign",
        b"p-clean-0001",
    ] {
        assert!(!contains(needle), "{} found in the stored bytes", String::from_utf8_lossy(needle));
    }
    let audit = app.state.store.audit_entries(0, 1000).await.expect("audit");
    let entry = audit.iter().find(|e| e.entry.action == "partner.records.rejected").expect("the refusal is audited");
    assert_eq!(entry.entry.detail["types"], json!(["email", "payment_card"]));
}

async fn quarantine_stores_the_clean_records_and_returns_the_rejected_ones(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (a, key) = app.partner("Acme Ads", &[]).await;
    let batch = json!([
        {"pseudonym": "p-0001", "campaign": "tenerife-campaign"},
        {"pseudonym": "p-0002", "contact": "+44 20 7946 0958"},
        {"pseudonym": "p-0003", "campaign": "lisbon-campaign"},
    ])
    .to_string();
    let (status, body) =
        app.upload_to("/v1/partner/records?mode=quarantine", &key, "application/json", &batch, &[]).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["stored"].clone(), body["records_rejected"].clone()), (json!(2), json!(1)));
    assert_eq!(body["rejected"][0]["record"], 1);
    assert_eq!(body["rejected"][0]["type"], "phone");
    assert!(!body.to_string().contains("7946 0958"));
    assert_eq!(app.stored(&a).await, 2);
    let (_, read) = app.partner_call(reqwest::Method::GET, &key, "/v1/partner/records?pseudonym=p-0002").await;
    assert_eq!(read["records"], json!([]), "the record with PII was not stored");
    let bytes = db.stored_bytes().await;
    let phone = b"+44 20 7946 0958";
    assert!(!bytes.windows(phone.len()).any(|w| w == phone), "the rejected record is stored nowhere");
    let (status, body) = app.upload_to("/v1/partner/records?mode=lenient", &key, "application/json", &batch, &[]).await;
    assert_eq!((status, body["error"]["code"].clone()), (400, json!("invalid_mode")));
}

async fn an_idempotency_key_replays_the_answer_and_refuses_another_body(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (a, key) = app.partner("Acme Ads", &[]).await;
    let batch = "pseudonym,country\nab12,DE\ncd34,FR\n";
    let first = app.upload(&key, "text/csv", batch, &[("idempotency-key", "batch-2026-11-29")]).await;
    assert_eq!(first.0, 201, "{}", first.1);
    let again = app.upload(&key, "text/csv", batch, &[("idempotency-key", "batch-2026-11-29")]).await;
    assert_eq!(again, first, "the same answer, upload id included");
    assert_eq!(app.stored(&a).await, 2, "nothing stored twice");
    let other =
        app.upload(&key, "text/csv", "pseudonym,country\nzz99,IT\n", &[("idempotency-key", "batch-2026-11-29")]).await;
    assert_eq!((other.0, other.1["error"]["code"].clone()), (422, json!("idempotency_key_reused")), "{}", other.1);
    assert_eq!(app.stored(&a).await, 2);
    // Two requests with one new key at the same moment: one stores, both get its answer.
    let body = "pseudonym,country\nrace1,DE\nrace2,DE\nrace3,DE\n";
    let (x, y) = tokio::join!(
        app.upload(&key, "text/csv", body, &[("idempotency-key", "race")]),
        app.upload(&key, "text/csv", body, &[("idempotency-key", "race")]),
    );
    assert_eq!((x.0, y.0), (201, 201), "{} {}", x.1, y.1);
    assert_eq!(x.1["upload_id"], y.1["upload_id"]);
    assert_eq!(app.stored(&a).await, 5, "stored once");
    // Keys belong to one partner: another may use the same one.
    let (b, key_b) = app.partner("Other Media", &[]).await;
    let theirs = app.upload(&key_b, "text/csv", batch, &[("idempotency-key", "batch-2026-11-29")]).await;
    assert_eq!(theirs.0, 201);
    assert_ne!(theirs.1["upload_id"], first.1["upload_id"]);
    assert_eq!(app.stored(&b).await, 2);
}

/// What Excel saves as "CSV (semicolon delimited)" in Germany: Windows-1252, `;`, CRLF.
async fn a_spreadsheets_export_in_windows_1252_is_read_as_it_was_written(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (a, key) = app.partner("Acme Ads", &[]).await;
    let send = |content_type: &'static str, body: &'static [u8]| {
        app.client
            .post(format!("{}/v1/partner/records", app.base))
            .bearer_auth(&key)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cp1252 = "text/csv; charset=windows-1252";
    // "Größe" and "Köln" in Windows-1252: not UTF-8, read as what they are.
    let batch = b"pseudonym;gr\xf6\xdfe;stadt\r\nab12cd34;M;K\xf6ln\r\nef56ab78;L;M\xfcnchen\r\n";
    let answer = send(cp1252, batch).await.expect("upload");
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    assert_eq!(app.stored(&a).await, 2);
    // A surname in it is found as it would be in UTF-8, on the line an editor shows.
    let answer = send(cp1252, b"pseudonym;nachname\r\nab12cd34;M\xfcller\r\n").await.expect("upload");
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.expect("json");
    assert_eq!(
        (&body["rejected"][0]["field"], &body["rejected"][0]["type"], &body["rejected"][0]["line"]),
        (&json!("nachname"), &json!("person_name"), &json!(2)),
        "{body}"
    );
    // Without the charset, the same bytes are refused as not UTF-8, naming the line.
    let answer = send("text/csv", b"pseudonym;stadt\r\nab12cd34;K\xf6ln\r\n").await.expect("upload");
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.expect("json");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("line 2") && message.contains("UTF-8") && message.contains("charset="), "{message}");
    assert_eq!(app.stored(&a).await, 2, "a refused batch stores nothing");
}

async fn bad_batches_name_the_record_line_and_field_and_change_nothing(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let settings = PartnerSettings { max_body_bytes: 2_000, max_records: 3, ..PartnerSettings::default() };
    let app = App::spawn(db, settings).await;
    let (a, key) = app.partner("Acme Ads", &[]).await;
    // (content type, body, status, code, field, what the message says)
    type Case<'a> = (&'a str, &'a str, u16, &'a str, Option<&'a str>, &'a str);
    let cases: &[Case<'_>] = &[
        (
            "application/x-ndjson",
            "{\"pseudonym\": \"a1\"}\n{\"country\": \"DE\"}\n",
            400,
            "missing_pseudonym",
            Some("pseudonym"),
            "record 1 (line 2)",
        ),
        (
            "application/x-ndjson",
            "{\"pseudonym\": \"a1\"}\n{\"pseudonym\": \"b2\",\n",
            400,
            "malformed_batch",
            None,
            "line 2",
        ),
        (
            "application/json",
            "[{\"pseudonym\": \"a1\", \"geo\": {\"lat\": 1}}]",
            400,
            "nested_value",
            Some("geo"),
            "record 0",
        ),
        ("application/json", "{\"pseudonym\": \"a1\"}", 400, "malformed_batch", None, "array"),
        ("text/csv", "pseudonym,country\na1,DE\nb2\n", 400, "malformed_batch", None, "record 1 (line 3)"),
        ("text/csv", "pseudonym,country\na1,DE\nb2,FR\nc3,IT\nd4,ES\n", 400, "too_many_records", None, "at most 3"),
        ("text/plain", "pseudonym\na1\n", 415, "unsupported_batch_format", Some("Content-Type"), "text/csv"),
        ("text/csv; charset=klingon", "pseudonym\na1\n", 415, "unsupported_charset", Some("Content-Type"), "klingon"),
        // Thirteen bytes are not UTF-16: the last one is half a character.
        ("text/csv; charset=utf-16le", "pseudonym\na1\n", 400, "invalid_encoding", Some("body"), "byte 13"),
    ];
    for (content_type, body, status, code, field, says) in cases {
        let (got, answer) = app.upload(&key, content_type, body, &[]).await;
        assert_eq!((got, answer["error"]["code"].as_str()), (*status, Some(*code)), "{body}: {answer}");
        assert_eq!(answer["error"]["field"].as_str(), *field, "{answer}");
        let message = answer["error"]["message"].as_str().expect("message");
        assert!(message.contains(says), "{message:?} should say {says:?}");
    }
    let big = format!("pseudonym\n{}", "a1\n".repeat(1_000));
    let (status, answer) = app.upload(&key, "text/csv", &big, &[]).await;
    assert_eq!((status, answer["error"]["code"].clone()), (413, json!("batch_too_large")));
    assert_eq!(app.stored(&a).await, 0, "no failed request stored anything");
}

async fn keys_are_shown_once_scoped_revocable_and_rotatable(store: Arc<dyn custos_store::Store>, db: &TestDb) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (id, reader) = app.partner("Acme Ads", &["records:read"]).await;
    let (status, body) = app.upload(&reader, "text/csv", "pseudonym\na1\n", &[]).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("scope_missing")));
    let (status, _) = app.partner_call(reqwest::Method::GET, &reader, "/v1/partner/records").await;
    assert_eq!(status, 200);
    let (status, body) = app
        .staff(
            reqwest::Method::POST,
            &format!("/v1/partners/{id}/keys"),
            Some(json!({"scopes": ["records:everything"]})),
        )
        .await;
    assert_eq!((status, body["error"]["field"].clone()), (422, json!("scopes")));

    // The register shows keys without their secrets.
    let (_, shown) = app.staff(reqwest::Method::GET, &format!("/v1/partners/{id}"), None).await;
    let key_id = shown["keys"][0]["id"].as_str().expect("key id").to_owned();
    assert!(reader.contains(&key_id));
    assert!(!shown.to_string().contains(&reader), "the secret is never shown again");
    let secret = reader.strip_prefix("cpk_").and_then(|r| r.split_once('_')).map(|(_, secret)| secret).expect("secret");
    let bytes = db.stored_bytes().await;
    assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "only a hash of the key is stored");

    // Rotation: a new key with the same scopes; the old one stops working.
    let (status, rotated) =
        app.staff(reqwest::Method::POST, &format!("/v1/partners/{id}/keys/{key_id}/rotate"), None).await;
    assert_eq!(status, 201, "{rotated}");
    assert_eq!(rotated["scopes"], json!(["records:read"]));
    let new_key = rotated["key"].as_str().expect("new key").to_owned();
    assert_eq!(app.partner_call(reqwest::Method::GET, &reader, "/v1/partner/records").await.0, 401);
    assert_eq!(app.partner_call(reqwest::Method::GET, &new_key, "/v1/partner/records").await.0, 200);
    let new_id = rotated["id"].as_str().expect("id");
    let (status, _) = app.staff(reqwest::Method::DELETE, &format!("/v1/partners/{id}/keys/{new_id}"), None).await;
    assert_eq!(status, 204);
    assert_eq!(app.partner_call(reqwest::Method::GET, &new_key, "/v1/partner/records").await.0, 401);
    let (status, _) = app.staff(reqwest::Method::DELETE, &format!("/v1/partners/{id}/keys/{new_id}"), None).await;
    assert_eq!(status, 404, "revoked already");

    // Only staff manage partners: a partner key is no staff token.
    let r = app.client.get(format!("{}/v1/partners", app.base)).bearer_auth(&new_key).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
}

async fn subprocessors_need_written_consent_and_transfers_outside_the_eea_the_partners(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (id, _) = app.partner("Acme Ads", &[]).await;
    let path = format!("/v1/partners/{id}/subprocessors");
    let post = |body: Value| app.staff(reqwest::Method::POST, &path, Some(body));
    let (status, body) = post(json!({"name": "Cloud GmbH", "country": "DE", "activity": "hosting"})).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("subprocessor_without_consent")), "{body}");
    let (status, body) = post(json!({"name": "Cloud GmbH", "country": "DE", "activity": "hosting",
                                     "consent_reference": "DPA annex 3", "consent_date": "2026-13-01"}))
    .await;
    assert_eq!((status, body["error"]["field"].clone()), (422, json!("consent_date")));
    let (status, body) = post(json!({"name": "Cloud GmbH", "country": "DE", "activity": "hosting",
                                     "consent_reference": "DPA annex 3", "consent_date": "2026-10-01"}))
    .await;
    assert_eq!(status, 201, "{body}");
    let us = json!({"name": "Stats Inc.", "country": "US", "activity": "reporting",
                    "consent_reference": "letter 2026-10-02", "consent_date": "2026-10-02"});
    let (status, body) = post(us.clone()).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("transfer_outside_eea_without_consent")), "{body}");

    let transfers = format!("/v1/partners/{id}/transfers");
    let (status, body) =
        app.staff(reqwest::Method::PUT, &transfers, Some(json!({"allow_transfers_outside_eea": true}))).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("transfer_outside_eea_without_consent")));
    let (status, body) = app
        .staff(
            reqwest::Method::PUT,
            &transfers,
            Some(json!({"allow_transfers_outside_eea": true,
            "consent_reference": "DPA clause 9, signed", "consent_date": "2026-10-03"})),
        )
        .await;
    assert_eq!((status, body["allow_transfers_outside_eea"].clone()), (200, json!(true)), "{body}");
    let (status, _) = post(us).await;
    assert_eq!(status, 201, "with the partner's written consent on record");
    let (status, body) =
        app.staff(reqwest::Method::PUT, &transfers, Some(json!({"allow_transfers_outside_eea": false}))).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("transfer_consent_in_use")));
    let (_, shown) = app.staff(reqwest::Method::GET, &format!("/v1/partners/{id}"), None).await;
    assert_eq!(shown["subprocessors"].as_array().expect("subs").len(), 2);
    assert_eq!(shown["subprocessors"][1]["consent_reference"], "letter 2026-10-02");
}

async fn terminating_a_contract_deletes_the_data_through_the_job_runner_and_reports(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let app = App::spawn(db, PartnerSettings::default()).await;
    let (id, key) = app.partner("Acme Ads", &[]).await;
    let (_, body) = app.upload(&key, "text/csv", "pseudonym,country\na1,DE\nb2,FR\nc3,IT\n", &[]).await;
    assert_eq!(body["stored"], 3);
    let holding = app.state.partners.partners_holding_data().await.expect("holding");
    assert_eq!(
        holding.iter().map(|h| (h.partner_id.to_string(), h.records)).collect::<Vec<_>>(),
        vec![(id.clone(), 3)]
    );

    let (status, body) = app.staff(reqwest::Method::POST, &format!("/v1/partners/{id}/terminate"), None).await;
    assert_eq!((status, body["contract_status"].clone()), (202, json!("terminating")), "{body}");
    assert_eq!(app.upload(&key, "text/csv", "pseudonym\nd4\n", &[]).await.0, 401, "its keys are revoked at once");

    let runner = JobRunner::new(app.state.store.clone()).register(PartnerTermination::new(app.state.partners.clone()));
    let report = runner.run_pending().await.expect("run");
    assert_eq!(report.succeeded, 1, "{report:?}");
    assert_eq!(app.stored(&id).await, 0);
    let (_, shown) = app.staff(reqwest::Method::GET, &format!("/v1/partners/{id}"), None).await;
    assert_eq!(shown["contract_status"], "terminated");
    assert_eq!(shown["termination_report"]["records_deleted"], 3);
    assert_eq!(shown["termination_report"]["records_remaining"], 0);
    assert_eq!(shown["termination_report"]["data_key_destroyed"], true);
    let jobs = app.state.store.jobs_in_state(custos_store::JobState::Pending, 100).await.expect("jobs");
    assert!(jobs.iter().any(|j| j.kind == custos_engine::mail::KIND), "the report mail is queued: {jobs:?}");
    assert!(app.state.partners.partners_holding_data().await.expect("holding").is_empty());
}

async fn aggregates_over_http_refuse_undeclared_dimensions_and_spent_budgets(
    store: Arc<dyn custos_store::Store>,
    db: &TestDb,
) {
    drop(store);
    let mut settings = PartnerSettings::default();
    settings.aggregation.k = 2;
    settings.aggregation.epsilon_budget = 1.0;
    let app = App::spawn(db, settings).await;
    let (_, a) = app.partner("Acme Ads", &[]).await;
    let (_, b) = app.partner("Other Media", &[]).await;
    app.upload(&a, "text/csv", "pseudonym,country,amount\na1,DE,10\na2,DE,20\n", &[]).await;
    app.upload(&b, "text/csv", "pseudonym,country,amount\nb1,DE,30\nb2,DE,40\n", &[]).await;
    let (status, body) = app.staff(reqwest::Method::GET, "/v1/aggregates?group_by=country&measure=amount", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["groups"], json!([{"dimensions": {"country": "DE"}, "count": 4, "sum": 100.0}]));
    let (status, body) = app.staff(reqwest::Method::GET, "/v1/aggregates?group_by=pseudonym", None).await;
    assert_eq!((status, body["error"]["code"].clone()), (422, json!("dimension_not_allowed")), "{body}");
    assert!(body["error"]["message"].as_str().expect("message").contains("`pseudonym`"));
    let (status, _) = app.staff(reqwest::Method::GET, "/v1/aggregates?group_by=country&epsilon=1", None).await;
    assert_eq!(status, 200);
    let (status, body) = app.staff(reqwest::Method::GET, "/v1/aggregates?group_by=country&epsilon=0.1", None).await;
    assert_eq!((status, body["error"]["code"].clone()), (403, json!("privacy_budget_spent")), "{body}");
    let r = app
        .client
        .get(format!("{}/v1/aggregates?group_by=country", app.base))
        .bearer_auth(&a)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401, "a partner key cannot query aggregates");
}
