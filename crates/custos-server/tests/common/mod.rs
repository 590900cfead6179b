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
}
