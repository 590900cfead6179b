//! custos served in this process on a loopback port, over a scratch database, as the HTTP
//! scenarios measure it: the example policy, rate limits off (the load comes from one
//! address), eight database connections.

use std::sync::Arc;

use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_server::{AppState, RateLimits};
use custos_store::{ConnectOptions, KeyStore, Store};
use custos_vault::MasterKey;

use crate::scenarios::{Scratch, scratch};

/// A running server and what it runs on.
pub(crate) struct Served {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// Its store, for what a scenario writes or measures beside HTTP.
    pub(crate) store: Arc<dyn Store>,
    /// A service token granted `purposes`, when some were asked for.
    pub(crate) token: String,
    keys: Arc<dyn KeyStore>,
    db: Scratch,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Serves a new scratch database (`postgres`, or SQLite in a temporary directory),
    /// with a service token for `purposes` (none when empty).
    pub(crate) async fn start(postgres: Option<&str>, purposes: &[&str]) -> anyhow::Result<Self> {
        let db = scratch(postgres).await?;
        let store =
            custos_store::connect(&db.url, &ConnectOptions { max_connections: 8, ..Default::default() }).await?;
        let keys = custos_store::connect_keys(&db.keys_url, &ConnectOptions::default()).await?;
        let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), keys.clone()).await?);
        let policy = Policy::example();
        let token = if purposes.is_empty() {
            String::new()
        } else {
            let purposes: Vec<String> = purposes.iter().map(|p| (*p).to_owned()).collect();
            custos_engine::tokens::issue(&store, &policy, "bench", &purposes, jiff::Timestamp::now()).await?.1
        };
        let app = custos_server::app(AppState::new(store.clone(), vault, policy).with_limits(RateLimits::off()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(custos_server::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        Ok(Self { base, store, token, keys, db, stop, server })
    }

    /// Stops the server, closes the database and drops a scratch PostgreSQL database.
    pub(crate) async fn finish(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.store.close().await;
        self.keys.close_keys().await;
        self.db.finish().await
    }
}
