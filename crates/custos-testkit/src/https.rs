//! A small HTTPS server for tests: TLS 1.2/1.3 through rustls with a certificate for
//! 127.0.0.1, ::1 and localhost issued by a test CA ([`TEST_CA_PEM`], which the client
//! under test must trust), HTTP/1.1 with `Content-Length` bodies, one request per
//! connection. It keeps every request it receives and answers each with the next status
//! of a script (then 200), so tests can make a destination fail and recover.
//!
//! The certificate and its key are test fixtures under `tls/`, valid until 2126; they
//! protect nothing.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// The test CA's certificate, PEM.
pub const TEST_CA_PEM: &[u8] = include_bytes!("../tls/ca.pem");
const SERVER_CERT_PEM: &[u8] = include_bytes!("../tls/server.pem");
const SERVER_KEY_PEM: &[u8] = include_bytes!("../tls/server.key");

/// The most body a request may carry here.
const MAX_BODY: usize = 64 << 20;

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// `POST`, `GET`…
    pub method: String,
    /// The path and query.
    pub path: String,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Received {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running test HTTPS server on 127.0.0.1.
#[derive(Debug)]
pub struct HttpsSink {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpsSink {
    /// Starts a server on a free loopback port that answers 200.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server whose first answers are `statuses`, in order, then 200.
    pub async fn start_with(statuses: &[u16]) -> Self {
        let cert = CertificateDer::from_pem_slice(SERVER_CERT_PEM).expect("the test certificate");
        let key = PrivateKeyDer::from_pem_slice(SERVER_KEY_PEM).expect("the test key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .expect("the test certificate and key");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the test HTTPS server");
        let addr = listener.local_addr().expect("address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(statuses.iter().copied().collect::<VecDeque<u16>>()));
        let (store, answers) = (received.clone(), script.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (acceptor, store, answers) = (acceptor.clone(), store.clone(), answers.clone());
                tokio::spawn(async move {
                    if let Ok(stream) = acceptor.accept(socket).await {
                        let _ = exchange(stream, store, answers).await;
                    }
                });
            }
        });
        Self { addr, received, script, task }
    }

    /// `https://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// What was received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Answers still scripted.
    pub fn scripted(&self) -> usize {
        self.script.lock().map(|s| s.len()).unwrap_or_default()
    }
}

impl Drop for HttpsSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn exchange<S>(
    stream: S,
    store: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<u16>>>,
) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(MAX_BODY);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await?;
    let status = script.lock().ok().and_then(|mut s| s.pop_front()).unwrap_or(200);
    if let Ok(mut all) = store.lock() {
        all.push(Received { method, path, headers, body });
    }
    let mut stream = reader.into_inner();
    stream
        .write_all(format!("HTTP/1.1 {status} Test\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes())
        .await?;
    stream.shutdown().await
}
