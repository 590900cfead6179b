//! The real application on a loopback port, for the HTTP tests: a fresh database, a vault
//! under a fresh master key, the example policy, and a service token.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_server::AppState;
use custos_store::Store;
use custos_testkit::TestDb;
use serde_json::Value;

/// A running custos and a client that talks to it as a service.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A service token for the purposes given to [`TestApp::spawn`].
    pub token: String,
    /// An HTTP client.
    pub client: reqwest::Client,
    /// The store behind the app.
    pub store: Arc<dyn Store>,
    /// The app's state (engine services included).
    pub state: AppState,
}

/// A vault on the test's key store under a fresh master key.
pub async fn vault(db: &TestDb) -> Arc<Vault> {
    Arc::new(Vault::open(Keyring::new(custos_vault::MasterKey::generate()), db.keys().await).await.expect("vault"))
}

impl TestApp {
    /// Starts custos on `db` with a token granted `purposes`.
    pub async fn spawn(db: &TestDb, purposes: &[&str]) -> Self {
        Self::spawn_with_limits(db, purposes, custos_server::RateLimits::default()).await
    }

    /// Starts custos on `db` with a token granted `purposes` and the public endpoints
    /// limited to `limits`.
    pub async fn spawn_with_limits(db: &TestDb, purposes: &[&str], limits: custos_server::RateLimits) -> Self {
        Self::spawn_with(db, purposes, |state| state.with_limits(limits)).await
    }

    /// Starts custos on `db` with a token granted `purposes`, its state set up by
    /// `configure`.
    pub async fn spawn_with(db: &TestDb, purposes: &[&str], configure: impl FnOnce(AppState) -> AppState) -> Self {
        let store = db.store().await;
        let policy = Policy::example();
        let purposes: Vec<String> = purposes.iter().map(|p| (*p).to_owned()).collect();
        let (_, token) = custos_engine::tokens::issue(&store, &policy, "test", &purposes, jiff::Timestamp::now())
            .await
            .expect("token");
        let state = configure(AppState::new(store.clone(), vault(db).await, policy));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(custos_server::serve(listener, custos_server::app(state.clone()), std::future::pending()));
        Self { base, token, client: reqwest::Client::new(), store, state }
    }

    /// Outbound settings for tests: loopback destinations allowed, the test CA trusted
    /// (see [`custos_testkit::https::HttpsSink`]).
    pub fn outbound_to_loopback() -> custos_engine::outbound::OutboundSettings {
        custos_engine::outbound::OutboundSettings {
            allow_private_destinations: true,
            extra_roots_pem: Some(custos_testkit::https::TEST_CA_PEM.to_vec()),
            timeout: std::time::Duration::from_secs(10),
        }
    }

    /// POSTs JSON with the token; returns the status and the JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("post");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// GETs with the token; returns the status and the JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.expect("get");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// Signs `email` up for marketing through the form, and confirms it as the person does
    /// (see [`TestApp::confirm_by_mail`]).
    pub async fn sign_up_confirmed(&self, name: &str, email: &str) {
        let body = serde_json::json!({"name": name, "email": email, "consents": ["marketing"]});
        let r = self.client.post(format!("{}/v1/forms/signup", self.base)).json(&body).send().await.expect("post");
        assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());
        assert_eq!(self.confirm_by_mail().await, 1, "one confirmation mailed and confirmed for {email}");
    }

    /// Does what people do with the confirmation mails queued so far (see
    /// [`confirm_by_mail`]); returns how many were confirmed.
    pub async fn confirm_by_mail(&self) -> usize {
        confirm_by_mail(&self.state, &self.base, &self.client).await
    }
}

/// Does what people do with the confirmation mails queued so far on the app with `state`
/// at `base`: the job runner mails each link (into `.eml` files here), and the button
/// behind each link is pressed. Returns how many were confirmed.
pub async fn confirm_by_mail(state: &AppState, base: &str, client: &reqwest::Client) -> usize {
    let dir = tempfile::tempdir().expect("mail dir");
    let mailer =
        custos_engine::mail::Mailer::from_url(&format!("file://{}", dir.path().display()), "Shop <news@shop.example>")
            .expect("mailer");
    let records = &state.records;
    let runner = custos_engine::jobs::JobRunner::new(records.store().clone()).register(
        custos_engine::confirmations::ConfirmationMail::new(
            records.store().clone(),
            records.vault().clone(),
            records.policy().clone(),
            records.clock().clone(),
            mailer,
            base,
        ),
    );
    runner.run_pending().await.expect("run the confirmation mails");
    let mut confirmed = 0;
    for entry in std::fs::read_dir(dir.path()).expect("read the mail dir") {
        let path = entry.expect("entry").path();
        let link = confirmation_link(&std::fs::read(&path).expect("read a mail"));
        let r = client.post(&link).send().await.expect("confirm");
        assert_eq!(r.status().as_u16(), 200, "{link}: {}", r.text().await.unwrap_or_default());
        confirmed += 1;
    }
    confirmed
}

/// The confirmation link in a mail (its text decoded).
pub fn confirmation_link(mail: &[u8]) -> String {
    let message = mail_parser::MessageParser::default().parse(mail).expect("a mail");
    let text = message.body_text(0).expect("a text body");
    text.split_whitespace().find(|w| w.contains("/confirm/")).expect("a confirmation link").to_owned()
}
