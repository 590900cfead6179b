//! The real server on a loopback port: probes, errors, metrics and graceful shutdown.

mod common;

use common::vault;

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use custos_server::{ApiError, AppState};
use custos_testkit::TestDb;
use serde_json::Value;
use tokio::sync::oneshot;

/// A running server and what a test needs to talk to it and stop it.
struct TestApp {
    addr: SocketAddr,
    client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    state: AppState,
    _db: TestDb,
}

impl TestApp {
    /// Starts the app (plus `extra` routes) on a fresh database and port 0.
    async fn spawn(extra: axum::Router<AppState>) -> Self {
        let db = TestDb::from_env().await;
        let state = AppState::new(db.store().await, vault(&db).await, custos_policy::Policy::example());
        let app = custos_server::finish(custos_server::routes().merge(extra), state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(custos_server::serve(listener, app, async move {
            let _ = stopped.await;
        }));
        Self { addr, client: reqwest::Client::new(), stop: Some(stop), server, state, _db: db }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// Asks the server to stop and waits until it has.
    async fn shutdown(mut self) {
        self.stop.take().expect("running").send(()).expect("server alive");
        tokio::time::timeout(Duration::from_secs(10), self.server).await.expect("stops").expect("join").expect("serve");
    }
}

#[tokio::test]
async fn probes_answer_and_the_server_shuts_down() {
    let app = TestApp::spawn(axum::Router::new()).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.json::<Value>().await.expect("json")["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.expect("json");
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], app.state.store.backend().name());
    app.shutdown().await;
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn(axum::Router::new()).await;
    app.state.store.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.expect("json");
    assert_eq!(body["error"]["code"], "database_unavailable");
    assert_eq!(app.get("/healthz").await.status(), 200, "liveness does not depend on the database");
    app.shutdown().await;
}

#[tokio::test]
async fn errors_are_json_with_a_request_id() {
    let failing = axum::Router::new().route(
        "/boom",
        get(|| async { Err::<(), _>(ApiError::internal(anyhow::anyhow!("disk full at /var/lib/secret-path"))) }),
    );
    let app = TestApp::spawn(failing).await;

    let missing = app.get("/no/such/page?email=someone@example.com").await;
    assert_eq!(missing.status(), 404);
    let header_id = missing.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["code"], "no_such_route");
    assert_eq!(body["error"]["request_id"], header_id.as_str());

    let boom = app.client.get(app.url("/boom")).header("x-request-id", "req-123").send().await.expect("request");
    assert_eq!(boom.status(), 500);
    assert_eq!(boom.headers()["x-request-id"], "req-123", "the caller's request id is kept");
    let text = boom.text().await.expect("body");
    assert!(!text.contains("secret-path"), "internal causes are never sent: {text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["request_id"], "req-123");
    app.shutdown().await;
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_pool_and_queue() {
    let app = TestApp::spawn(axum::Router::new()).await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/subjects/0f8e1c/secret").await;
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    assert!(metrics.headers()["content-type"].to_str().expect("ascii").starts_with("application/openmetrics-text"));
    let text = metrics.text().await.expect("body");
    let line = |needle: &str| text.lines().find(|l| l.starts_with(needle)).map(str::to_owned);
    let healthz =
        line("custos_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}").expect("healthz counted");
    assert!(healthz.ends_with(" 3"), "{healthz}");
    assert!(line("custos_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}").is_some(), "{text}");
    assert!(!text.contains("0f8e1c"), "raw paths never become labels");
    assert!(line("custos_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"}").is_some(), "{text}");
    assert!(line("custos_db_pool_connections{state=\"idle\"}").is_some(), "{text}");
    assert!(line("custos_db_pool_max_connections").is_some(), "{text}");
    assert!(line("custos_jobs{state=\"pending\"} 0").is_some(), "{text}");
    app.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_requests_in_flight() {
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let gates = std::sync::Arc::new(std::sync::Mutex::new(Some((entered_tx, release_rx))));
    let slow = axum::Router::new().route(
        "/slow",
        get(move || {
            let gates = gates.clone();
            async move {
                let (entered, release) = gates.lock().expect("lock").take().expect("called once");
                entered.send(()).expect("test waiting");
                release.await.expect("released");
                "finished"
            }
        }),
    );
    let app = TestApp::spawn(slow).await;
    let request = tokio::spawn(app.client.get(app.url("/slow")).send());
    entered_rx.await.expect("the request is in flight");
    let addr = app.addr;
    let stopping = tokio::spawn(app.shutdown());
    // New connections are refused while the slow request is still being served.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the listener closed on shutdown");
    assert!(!stopping.is_finished(), "the server waits for the request in flight");
    release_tx.send(()).expect("handler waiting");
    let response = request.await.expect("join").expect("response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "finished");
    stopping.await.expect("server stopped");
}
