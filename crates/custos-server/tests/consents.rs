//! The consent ledger over HTTP: visitors by cookie, history kept, withdrawal effective at
//! once in the gate, receipts, and refusals that name the field.

mod common;

use common::TestApp;
use custos_policy::Policy;
use custos_testkit::TestDb;
use serde_json::json;

/// custos with a token granted `purposes`.
async fn start(db: &TestDb, purposes: &[&str]) -> TestApp {
    TestApp::spawn(db, purposes).await
}

#[tokio::test]
async fn a_visitor_consents_then_withdraws_and_the_history_is_kept() {
    let db = TestDb::from_env().await;
    let api = start(&db, &["analytics", "marketing"]).await;
    let choice = |granted: bool| json!({"cookie_id": "v-8c1f", "purpose": "analytics", "granted": granted, "method": "banner", "text_version": "banner-2026-11"});
    let (status, first) = api.post("/v1/consents", &choice(true)).await;
    assert_eq!(status, 201, "{first}");
    let subject = first["subject_id"].as_str().expect("subject").to_owned();
    let (status, second) = api.post("/v1/consents", &choice(false)).await;
    assert_eq!(
        (status, second["subject_id"].as_str()),
        (201, Some(subject.as_str())),
        "the same cookie is the same visitor"
    );
    assert_eq!(second["seq"], 2);

    let (status, ledger) = api.get(&format!("/v1/subjects/{subject}/consents")).await;
    assert_eq!(status, 200, "{ledger}");
    assert_eq!(
        ledger["current"],
        json!([{
            "purpose": "analytics", "granted": false, "at": ledger["history"][1]["at"], "method": "banner",
            "policy_version": Policy::example().version().hash,
        }])
    );
    let history = ledger["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "withdrawals never erase the grant before them");
    assert_eq!(history[0]["granted"], true);
    assert_eq!(history[0]["text_version"], "banner-2026-11");
    assert_eq!(history[0]["source_ip"], "127.0.0.0", "the address is kept truncated");

    let (status, receipt) = api.get(&format!("/v1/subjects/{subject}/consents/receipt")).await;
    assert_eq!(status, 200);
    assert_eq!(receipt["version"], "KI-CR-v1.1.0");
    assert_eq!(receipt["services"][0]["purposes"][0]["granted"], false);
}

#[tokio::test]
async fn a_withdrawal_takes_effect_at_once_in_the_gate() {
    let db = TestDb::from_env().await;
    let api = start(&db, &["marketing", "support"]).await;
    let (status, created) = api
        .post(
            "/v1/subjects",
            &json!({"kind": "user", "records": [{"purpose": "support", "category": "user.name", "value": "Ada"}]}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["subject_id"].as_str().expect("id").to_owned();
    let write = json!({"purpose": "marketing", "category": "user.contact.email", "value": "ada@example.org"});
    let (status, body) = api.post(&format!("/v1/subjects/{id}/records"), &write).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("no_live_consent")));

    let consent =
        |granted: bool| json!({"subject_id": id, "purpose": "marketing", "granted": granted, "method": "form"});
    assert_eq!(api.post("/v1/consents", &consent(true)).await.0, 201);
    assert_eq!(api.post(&format!("/v1/subjects/{id}/records"), &write).await.0, 201);
    let read = format!("/v1/subjects/{id}/records?purpose=marketing&categories=user.contact.email");
    assert_eq!(api.get(&read).await.0, 200);
    assert_eq!(api.post("/v1/consents", &consent(false)).await.0, 201);
    let (status, body) = api.get(&read).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("no_live_consent")),
        "the very next read is refused"
    );
}

#[tokio::test]
async fn bad_consent_records_are_refused_with_the_field() {
    let db = TestDb::from_env().await;
    let api = start(&db, &["analytics", "support"]).await;
    let (status, body) = api
        .post("/v1/consents", &json!({"cookie_id": "v1", "purpose": "support", "granted": true, "method": "banner"}))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("purpose")),
        "support rests on a contract: {body}"
    );
    let (status, body) = api
        .post("/v1/consents", &json!({"cookie_id": "v1", "purpose": "marketing", "granted": true, "method": "banner"}))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("actor_not_scoped")), "{body}");
    let (status, body) = api
        .post(
            "/v1/consents",
            &json!({"cookie_id": "v1", "purpose": "analytics", "granted": true, "method": "telepathy"}),
        )
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("method")), "{body}");
    let (status, body) =
        api.post("/v1/consents", &json!({"purpose": "analytics", "granted": true, "method": "banner"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("subject_id")), "{body}");
    let (status, body) = api
        .post("/v1/consents", &json!({"cookie_id": "v1", "purpose": "analytics", "granted": "yes", "method": "banner"}))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("granted")), "{body}");
    let (status, _) = api.get("/v1/subjects/00000000-0000-4000-8000-000000000000/consents").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_public_banner_endpoint_records_choices_and_is_rate_limited() {
    let db = TestDb::from_env().await;
    let api = start(&db, &["analytics"]).await;
    let choice = |n: u32| json!({"visitor_id": format!("visitor-{n:012}"), "choices": {"analytics": n.is_multiple_of(2)}, "method": "banner"});
    let post = |body: serde_json::Value| {
        api.client
            .post(format!("{}/v1/banner/consent", api.base))
            .header("content-type", "text/plain")
            .body(body.to_string())
            .send()
    };
    let first = post(choice(0)).await.expect("post");
    assert_eq!(first.status(), 202);
    let bad = post(json!({"visitor_id": "short", "choices": {}, "method": "banner"})).await.expect("post");
    assert_eq!(bad.status(), 422);
    let unknown = post(json!({"visitor_id": "visitor-unknown-cat", "choices": {"tracking": true}, "method": "banner"}))
        .await
        .expect("post");
    assert_eq!(unknown.status(), 422);
    let mut statuses = Vec::new();
    for n in 1..70 {
        statuses.push(post(choice(n)).await.expect("post").status().as_u16());
    }
    assert!(statuses.contains(&429), "an address cannot flood the ledger: {statuses:?}");
}
