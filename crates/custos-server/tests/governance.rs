//! Governance over HTTP: disclosures checked against the policy and the transfer rules and
//! logged; the registers (holds, breaches, legal requests) for staff tools; the
//! legitimate-interest assessments for anyone.

mod common;

use custos_policy::{Policy, Recipient, RecipientRole, TransferMechanism};
use custos_server::AppState;
use custos_testkit::TestDb;
use serde_json::{Value, json};

/// custos on `db` under the example policy plus a recipient in India with no safeguard,
/// with a token for `purposes`; returns the base URL, the token and the state.
async fn spawn(db: &TestDb, purposes: &[&str]) -> (String, String, AppState) {
    let store = db.store().await;
    let mut policy = Policy::example();
    policy.recipients.push(Recipient {
        id: "offshore".into(),
        name: "Offshore Support Ltd.".into(),
        role: RecipientRole::Vendor,
        country: "IN".into(),
        purposes: vec!["support".into()],
        categories: vec!["user.name".into()],
        transfer: TransferMechanism::Eea,
        dpf_certified: false,
        contact: None,
    });
    let purposes: Vec<String> = purposes.iter().map(|p| (*p).to_owned()).collect();
    let (_, token) =
        custos_engine::tokens::issue(&store, &policy, "test", &purposes, jiff::Timestamp::now()).await.expect("token");
    let state = AppState::new(store, common::vault(db).await, policy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(custos_server::serve(listener, custos_server::app(state.clone()), std::future::pending()));
    (base, token, state)
}

async fn call(method: reqwest::Method, base: &str, token: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn post(base: &str, token: &str, path: &str, body: &Value) -> (u16, Value) {
    call(reqwest::Method::POST, base, token, path, Some(body)).await
}

async fn get(base: &str, token: &str, path: &str) -> (u16, Value) {
    call(reqwest::Method::GET, base, token, path, None).await
}

#[tokio::test]
async fn a_disclosure_over_http_is_checked_against_the_transfer_rules_logged_and_listed() {
    let db = TestDb::from_env().await;
    let (base, token, state) = spawn(&db, &["support", "legal-obligations"]).await;
    let (status, created) = post(
        &base,
        &token,
        "/v1/subjects",
        &json!({"kind": "user", "records": [{"purpose": "support", "category": "user.name", "value": "Ada Byron"}]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let ada = created["subject_id"].as_str().expect("id").to_owned();

    let ask = |recipient: &str| json!({"recipient": recipient, "subjects": [ada], "purpose": "support", "categories": ["user.name"]});
    let (status, body) = post(&base, &token, "/v1/disclosures", &ask("offshore")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("transfer_without_safeguard")), "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or("").contains("outside the EEA"), "{body}");
    let (status, body) = post(&base, &token, "/v1/disclosures", &ask("partner-network")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("recipient_purpose_not_declared")), "{body}");
    let mut unknown_person = ask("support-desk");
    unknown_person["subjects"] = json!([uuid::Uuid::now_v7()]);
    let (status, body) = post(&base, &token, "/v1/disclosures", &unknown_person).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("subjects[0]")), "{body}");
    let (status, body) = get(&base, &token, "/v1/disclosures").await;
    assert_eq!((status, body["disclosures"].as_array().map(Vec::len)), (200, Some(0)), "nothing logged: {body}");

    let (status, body) = post(&base, &token, "/v1/disclosures", &ask("support-desk")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!((body["country"].as_str(), body["safeguard"].as_str()), (Some("CA"), Some("adequacy")));
    assert_eq!(body["data"][0]["records"][0]["value"], "Ada Byron");
    let (status, body) = get(&base, &token, &format!("/v1/disclosures?subject={ada}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disclosures"][0]["recipient"], "support-desk");
    assert_eq!(body["disclosures"][0]["subjects"], json!([{"subject_id": ada, "records": 1}]));
    assert!(!body.to_string().contains("Ada Byron"), "the log holds no values");

    // The log is for staff tools: a token without a legal-obligation purpose is refused.
    let (_, support_only) = custos_engine::tokens::issue(
        &state.store,
        &state.policy,
        "support",
        &["support".to_owned()],
        jiff::Timestamp::now(),
    )
    .await
    .expect("token");
    let (status, body) = get(&base, &support_only, "/v1/disclosures").await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("not_a_staff_token")), "{body}");
}

#[tokio::test]
async fn legitimate_interest_assessments_are_served_per_purpose() {
    let db = TestDb::from_env().await;
    let (base, _, state) = spawn(&db, &["support"]).await;
    let (status, body) = get(&base, "", "/v1/legitimate-interests").await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<&str> =
        body["assessments"].as_array().expect("list").iter().filter_map(|a| a["purpose"].as_str()).collect();
    assert!(ids.contains(&"contact") && ids.contains(&"website-operation") && !ids.contains(&"marketing"), "{ids:?}");
    let (status, body) = get(&base, "", "/v1/legitimate-interests/contact").await;
    assert_eq!(status, 200, "{body}");
    let expected = state.policy.purpose("contact").and_then(|p| p.legitimate_interest.clone()).expect("assessment");
    assert_eq!(body["balancing"], expected.balancing);
    let (status, body) = get(&base, "", "/v1/legitimate-interests/marketing").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_legitimate_interests")), "{body}");
    let (status, body) = get(&base, "", "/v1/legitimate-interests/shoe-sizes").await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_purpose")), "{body}");
}

#[tokio::test]
async fn holds_breaches_and_legal_requests_are_kept_in_registers_over_http() {
    let db = TestDb::from_env().await;
    let (base, token, _) = spawn(&db, &["legal-obligations", "support"]).await;
    // Holds.
    let (status, body) =
        post(&base, &token, "/v1/holds", &json!({"scope": "everything", "reason": "x", "placed_by": "dpo"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("scope")), "{body}");
    let (status, hold) = post(
        &base,
        &token,
        "/v1/holds",
        &json!({"scope": "category", "target": "user.content.private", "reason": "litigation hold, case 17", "placed_by": "dpo"}),
    )
    .await;
    assert_eq!(status, 201, "{hold}");
    let (_, list) = get(&base, &token, "/v1/holds").await;
    assert_eq!(list["holds"].as_array().map(Vec::len), Some(1), "{list}");
    let id = hold["id"].as_str().expect("id");
    let (status, released) = post(
        &base,
        &token,
        &format!("/v1/holds/{id}/release"),
        &json!({"released_by": "dpo", "reason": "case closed"}),
    )
    .await;
    assert_eq!((status, released["release_reason"].as_str()), (200, Some("case closed")), "{released}");
    let (_, list) = get(&base, &token, "/v1/holds").await;
    assert_eq!(list["holds"].as_array().map(Vec::len), Some(0), "{list}");

    // A breach: registered with its 72-hour clock, and its Art. 33(3) draft.
    let now = jiff::Timestamp::now();
    let breach = json!({
        "nature": "a stolen laptop with an export", "categories": ["user.contact.email"], "systems": ["laptop-7"],
        "measures": "remote wipe", "consequences": "phishing risk", "keys_exposed": false,
        "window_start": now.checked_sub(jiff::SignedDuration::from_hours(5)).expect("time"), "window_end": now,
        "opened_by": "dpo",
    });
    let mut bad = breach.clone();
    bad["categories"] = json!(["user.shoe_size"]);
    let (status, body) = post(&base, &token, "/v1/breaches", &bad).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("categories[0]")), "{body}");
    let (status, opened) = post(&base, &token, "/v1/breaches", &breach).await;
    assert_eq!((status, opened["overdue"].as_bool()), (201, Some(false)), "{opened}");
    let id = opened["id"].as_str().expect("id");
    let (status, text) = get(&base, &token, &format!("/v1/breaches/{id}/draft?format=text")).await;
    assert_eq!(status, 200);
    let text = text.as_str().expect("text");
    assert!(text.contains("(b) Data protection officer") && text.contains("laptop-7"), "{text}");
    let (status, notified) = post(&base, &token, &format!("/v1/breaches/{id}/notify-authority"), &json!({})).await;
    assert_eq!((status, notified["notified_at"].is_string()), (200, true), "{notified}");
    let (_, list) = get(&base, &token, "/v1/breaches").await;
    assert_eq!(list["breaches"].as_array().map(Vec::len), Some(1));

    // A legal request, decided, and what was disclosed for it.
    let (status, created) = post(
        &base,
        &token,
        "/v1/subjects",
        &json!({"kind": "user", "records": [{"purpose": "support", "category": "user.name", "value": "Bob"}]}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (status, request) = post(
        &base,
        &token,
        "/v1/legal-requests",
        &json!({"authority": "District Court", "legal_basis": "a production order", "scope": "one subject's name", "recorded_by": "dpo"}),
    )
    .await;
    assert_eq!((status, request["decision"].as_str()), (201, Some("pending")), "{request}");
    let rid = request["id"].as_str().expect("id");
    let ask = json!({"recipient": "authorities", "subjects": [created["subject_id"]], "purpose": "legal-obligations", "categories": ["user.name"]});
    let (status, body) = post(&base, &token, &format!("/v1/legal-requests/{rid}/disclosures"), &ask).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("wrong_state")), "{body}");
    let (status, body) = post(
        &base,
        &token,
        &format!("/v1/legal-requests/{rid}/decision"),
        &json!({"decision": "granted", "decided_by": "dpo", "reason": "the order is valid"}),
    )
    .await;
    assert_eq!((status, body["decision"].as_str()), (200, Some("granted")), "{body}");
    let (status, body) = post(&base, &token, &format!("/v1/legal-requests/{rid}/disclosures"), &ask).await;
    assert_eq!((status, body["legal_request"].as_str()), (201, Some(rid)), "{body}");
    let (_, shown) = get(&base, &token, &format!("/v1/legal-requests/{rid}")).await;
    assert_eq!(shown["disclosures"].as_array().map(Vec::len), Some(1), "{shown}");
}
