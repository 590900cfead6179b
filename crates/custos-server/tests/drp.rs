//! The Data Rights Protocol v0.9 over HTTP, with a test agent's Ed25519 key: pairing, a
//! signed deletion request confirmed by the person through the mailed code, status,
//! revocation; a bad signature, an expired message and another agent's request refused.

mod common;

use base64::Engine as _;
use custos_engine::drp::AgentEntry;
use custos_engine::jobs::JobRunner;
use custos_engine::mail::Mailer;
use custos_engine::rights::{RightsExecution, RightsMail};
use custos_server::{AppState, DrpSettings};
use custos_testkit::TestDb;
use custos_testkit::smtp::SmtpSink;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

const BUSINESS: &str = "EXAMPLE_SHOP";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// base64(signature || message), as agents send.
fn signed(key: &SigningKey, message: &Value) -> String {
    let bytes = message.to_string().into_bytes();
    let mut out = key.sign(&bytes).to_bytes().to_vec();
    out.extend(bytes);
    base64::engine::general_purpose::STANDARD.encode(out)
}

fn claims(agent: &str, extra: Value) -> Value {
    let now = jiff::Timestamp::now();
    let mut c = json!({
        "agent-id": agent, "business-id": BUSINESS, "drp.version": "0.9.4",
        "issued-at": now.to_string(),
        "expires-at": now.checked_add(jiff::SignedDuration::from_mins(10)).expect("time").to_string(),
    });
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    c
}

struct Site {
    base: String,
    client: reqwest::Client,
    state: AppState,
}

impl Site {
    async fn start(db: &TestDb) -> Self {
        Self::start_with(db, None).await
    }

    /// A site whose outbound calls follow `outbound` (the defaults when `None`).
    async fn start_with(db: &TestDb, outbound: Option<custos_engine::outbound::OutboundSettings>) -> Self {
        let store = db.store().await;
        let agents = ["AGENT_A", "AGENT_B"].iter().zip([1u8, 2]).map(|(id, seed)| AgentEntry {
            id: (*id).into(),
            name: format!("Agent {id}"),
            verify_key: base64::engine::general_purpose::STANDARD.encode(key(seed).verifying_key().to_bytes()),
        });
        let settings = DrpSettings { business_id: Some(BUSINESS.into()), agents: agents.collect() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut state =
            AppState::new(store, common::vault(db).await, custos_policy::Policy::example()).with_mail(None, &base);
        if let Some(outbound) = outbound {
            state = state.with_outbound(&outbound).expect("outbound settings");
        }
        let state = state.with_drp(&settings).expect("drp settings");
        tokio::spawn(custos_server::serve(listener, custos_server::app(state.clone()), std::future::pending()));
        Self { base, client: reqwest::Client::new(), state }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let r = request.send().await.expect("send");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn pair(&self, agent: &str, seed: u8) -> String {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                &format!("/v1/agent/{agent}"),
                None,
                Some(signed(&key(seed), &claims(agent, json!({})))),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["agent-id"], agent);
        body["token"].as_str().expect("token").to_owned()
    }
}

#[tokio::test]
async fn a_paired_agent_makes_a_deletion_the_person_confirms() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    let r = site
        .client
        .post(format!("{}/v1/forms/signup", site.base))
        .json(&json!({"name": "Ada", "email": "ada@example.org", "consents": ["marketing"]}))
        .send()
        .await
        .expect("signup");
    assert_eq!(r.status(), 201);
    assert_eq!(common::confirm_by_mail(&site.state, &site.base, &site.client).await, 1);

    let token = site.pair("AGENT_A", 1).await;
    let (status, body) = site.send(reqwest::Method::GET, "/v1/agent/AGENT_A", Some(&token), None).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, _) = site.send(reqwest::Method::GET, "/v1/agent/AGENT_B", Some(&token), None).await;
    assert_eq!(status, 403, "a token is its agent's only");

    let request = claims(
        "AGENT_A",
        json!({"exercise": "deletion", "regime": "ccpa", "email": "ada@example.org", "agent-request-id": "a-42"}),
    );
    let (status, body) = site
        .send(reqwest::Method::POST, "/v1/data-rights-request", Some(&token), Some(signed(&key(1), &request)))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["reason"].as_str()),
        (Some("in_progress"), Some("need_user_verification"))
    );
    assert_eq!(body["agent_request_id"], "a-42");
    let id = body["request_id"].as_str().expect("id").to_owned();
    assert!(body["user_verification_url"].as_str().is_some_and(|u| u.ends_with(&format!("/rights/{id}"))), "{body}");

    // The person confirms with the code mailed to them; then the deletion runs.
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
    let runner = JobRunner::new(site.state.store.clone())
        .register(RightsExecution::new(site.state.rights.clone()))
        .register(RightsMail::new(site.state.rights.clone(), mailer, &site.base));
    runner.run_pending().await.expect("run");
    let code =
        smtp.delivered()[0].data.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("code").trim().to_owned();
    let (status, _) = site
        .send(
            reqwest::Method::POST,
            &format!("/v1/rights-requests/{id}/verify"),
            None,
            Some(json!({"code": code}).to_string()),
        )
        .await;
    assert_eq!(status, 415, "the JSON API wants its content type");
    let r = site
        .client
        .post(format!("{}/v1/rights-requests/{id}/verify", site.base))
        .json(&json!({"code": code}))
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), 200);
    runner.run_pending().await.expect("run");
    let (status, body) =
        site.send(reqwest::Method::GET, &format!("/v1/data-rights-request/{id}"), Some(&token), None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("fulfilled")), "{body}");
    assert!(
        site.state.records.find(custos_store::IdentifierKind::Email, "ada@example.org").await.expect("find").is_none()
    );

    // Another agent may not look at it.
    let other = site.pair("AGENT_B", 2).await;
    let (status, _) =
        site.send(reqwest::Method::GET, &format!("/v1/data-rights-request/{id}"), Some(&other), None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn signatures_windows_and_revocation_are_checked() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    let (status, _) = site
        .send(reqwest::Method::POST, "/v1/agent/AGENT_A", None, Some(signed(&key(9), &claims("AGENT_A", json!({})))))
        .await;
    assert_eq!(status, 403, "signed with a key that is not the agent's");
    let (status, _) = site
        .send(reqwest::Method::POST, "/v1/agent/AGENT_Z", None, Some(signed(&key(1), &claims("AGENT_Z", json!({})))))
        .await;
    assert_eq!(status, 403, "an agent not in the directory");
    let mut tampered = base64::engine::general_purpose::STANDARD
        .decode(signed(&key(1), &claims("AGENT_A", json!({}))))
        .expect("base64");
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    let (status, _) = site
        .send(
            reqwest::Method::POST,
            "/v1/agent/AGENT_A",
            None,
            Some(base64::engine::general_purpose::STANDARD.encode(tampered)),
        )
        .await;
    assert_eq!(status, 403, "a changed message");
    let mut old = claims("AGENT_A", json!({}));
    old["expires-at"] =
        json!(jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_mins(1)).expect("time").to_string());
    let (status, body) = site.send(reqwest::Method::POST, "/v1/agent/AGENT_A", None, Some(signed(&key(1), &old))).await;
    assert_eq!(status, 422, "an expired message: {body}");

    let token = site.pair("AGENT_A", 1).await;
    let request = claims("AGENT_A", json!({"exercise": "access", "email": "zed@example.org"}));
    let (_, body) = site
        .send(reqwest::Method::POST, "/v1/data-rights-request", Some(&token), Some(signed(&key(1), &request)))
        .await;
    let id = body["request_id"].as_str().expect("id").to_owned();
    let revoke = signed(&key(1), &json!({"reason": "I changed my mind"}));
    let (status, body) = site
        .send(reqwest::Method::DELETE, &format!("/v1/data-rights-request/{id}"), Some(&token), Some(revoke.clone()))
        .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("revoked")), "{body}");
    let (status, _) =
        site.send(reqwest::Method::DELETE, &format!("/v1/data-rights-request/{id}"), Some(&token), Some(revoke)).await;
    assert_eq!(status, 409, "a closed request cannot be revoked again");
    let unsupported = claims("AGENT_A", json!({"exercise": "sale:opt_in", "email": "zed@example.org"}));
    let (_, body) = site
        .send(reqwest::Method::POST, "/v1/data-rights-request", Some(&token), Some(signed(&key(1), &unsupported)))
        .await;
    assert_eq!((body["status"].as_str(), body["reason"].as_str()), (Some("denied"), Some("claim_not_covered")));
    let (status, _) = site
        .send(reqwest::Method::POST, "/v1/data-rights-request", Some("wrong"), Some(signed(&key(1), &request)))
        .await;
    assert_eq!(status, 403, "an unknown token");
}

#[tokio::test]
async fn the_agent_is_told_of_each_status_change_at_its_callback() {
    let db = TestDb::from_env().await;
    let site = Site::start_with(&db, Some(common::TestApp::outbound_to_loopback())).await;
    let agent = custos_testkit::https::HttpsSink::start_with(&[502]).await;
    let token = site.pair("AGENT_A", 1).await;

    // A callback that is not HTTPS is refused with the request.
    let plain = claims(
        "AGENT_A",
        json!({"exercise": "access", "email": "ada@example.org", "status_callback": "http://agent.example/cb"}),
    );
    let (status, body) =
        site.send(reqwest::Method::POST, "/v1/data-rights-request", Some(&token), Some(signed(&key(1), &plain))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("status_callback"), "{body}");

    let request = claims(
        "AGENT_A",
        json!({"exercise": "access", "email": "ada@example.org", "agent-request-id": "a-7",
               "status_callback": agent.url("/drp/status")}),
    );
    let (status, body) = site
        .send(reqwest::Method::POST, "/v1/data-rights-request", Some(&token), Some(signed(&key(1), &request)))
        .await;
    assert_eq!(status, 200, "{body}");
    let id = body["request_id"].as_str().expect("id").to_owned();

    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
    let runner = JobRunner::new(site.state.store.clone())
        .with_retry_policy(custos_engine::jobs::RetryPolicy {
            base: std::time::Duration::ZERO,
            max: std::time::Duration::ZERO,
        })
        .register(RightsExecution::new(site.state.rights.clone()))
        .register(RightsMail::new(site.state.rights.clone(), mailer, &site.base))
        .register(custos_engine::drp::DrpCallbacks::new(
            site.state.drp.clone().expect("drp"),
            site.state.outbound.clone().expect("outbound"),
        ));
    runner.run_pending().await.expect("run");
    assert!(agent.received().is_empty(), "nothing to tell before anything changed");

    // Staff extend the deadline: the agent hears of it (after one failed delivery).
    site.state
        .rights
        .extend(&custos_engine::gate::Actor::System, id.parse().expect("uuid"), 1, "many requests this month")
        .await
        .expect("extend");
    runner.run_pending().await.expect("run");
    let heard = agent.received();
    assert_eq!(heard.len(), 2, "the 502 is tried again");
    let extended: Value = serde_json::from_slice(&heard[1].body).expect("json");
    assert_eq!(heard[1].header("content-type"), Some("application/json"));
    assert_eq!(
        (extended["request_id"].as_str(), extended["status"].as_str()),
        (Some(id.as_str()), Some("in_progress"))
    );
    assert_eq!(extended["agent_request_id"], "a-7");
    assert!(extended["processing_details"].as_str().is_some_and(|d| d.contains("many requests")), "{extended}");

    // The person confirms; the request runs; the agent hears it is fulfilled, once.
    let code =
        smtp.delivered()[0].data.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("code").trim().to_owned();
    site.state.rights.verify(id.parse().expect("uuid"), &code).await.expect("verify");
    runner.run_pending().await.expect("run");
    let heard = agent.received();
    let statuses: Vec<String> = heard[2..]
        .iter()
        .map(|r| serde_json::from_slice::<Value>(&r.body).expect("json")["status"].as_str().unwrap_or("").to_owned())
        .collect();
    // Whether the agent hears "in progress" for the verification depends on whether its
    // callback runs before the request is carried out; the outcome comes once, last.
    assert!(
        statuses == ["fulfilled"] || statuses == ["in_progress", "fulfilled"],
        "one callback for the outcome, none repeating it: {statuses:?}"
    );
    assert!(!String::from_utf8_lossy(&heard[2].body).contains("ada@example.org"), "no personal data in a callback");
}
