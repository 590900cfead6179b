//! Reading the privacy mailbox over IMAP (RFC 9051/3501) with `async-imap`, over TLS
//! (rustls through tokio; Mozilla's roots plus any the operator adds).
//!
//! Every unseen mail of the mailbox is handed to [`Inbox::receive`] with the time the
//! server received it, then marked `\Seen`. A mail custos cannot read as a request (not a
//! mail, no sender) is marked `\Seen` and `\Flagged`, so whoever opens the mailbox sees it;
//! a mail that failed for a passing reason (the database) stays unseen and is read again.
//! Between rounds the reader waits in IDLE when the server offers it (new mail wakes it at
//! once), else polls.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Session;
use custos_engine::inbox::{Inbox, InboxError, Received};
use futures_util::TryStreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

/// How long one IDLE lasts before it is renewed (servers end it after 30 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
/// How long connecting and logging in may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to read the mailbox.
#[derive(Clone)]
pub struct ImapSettings {
    /// The server's host name (checked against its certificate).
    pub host: String,
    /// Its port: 993 for IMAPS.
    pub port: u16,
    /// The user custos logs in as.
    pub user: String,
    /// Its password.
    pub password: String,
    /// TLS from the first byte (IMAPS). Off only for a server on the same host.
    pub tls: bool,
    /// The mailbox to read.
    pub mailbox: String,
    /// How often to look for new mail when the server has no IDLE, and how long to wait
    /// before connecting again after a failure.
    pub poll: Duration,
    /// Extra trusted root certificates, PEM (a private CA).
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ImapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("mailbox", &self.mailbox)
            .finish_non_exhaustive()
    }
}

/// Why reading the mailbox failed.
#[derive(Debug, thiserror::Error)]
pub enum ImapError {
    /// The settings cannot be used.
    #[error("{0}")]
    Settings(String),
    /// Connecting, TLS, logging in or a command failed.
    #[error("{0}")]
    Connection(String),
    /// The store could not take a mail; it stays unseen.
    #[error(transparent)]
    Inbox(#[from] InboxError),
}

fn connection(e: impl std::fmt::Display) -> ImapError {
    ImapError::Connection(e.to_string())
}

/// A byte stream to the server, plain or TLS.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Conn for T {}

type ImapSession = Session<Box<dyn Conn>>;

/// Reads the privacy mailbox into the inbox.
pub struct ImapReader {
    settings: ImapSettings,
    inbox: Arc<Inbox>,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl ImapReader {
    /// A reader under `settings`; fails when the extra roots cannot be read.
    pub fn new(settings: ImapSettings, inbox: Arc<Inbox>) -> Result<Self, ImapError> {
        let tls = if settings.tls { Some(connector(settings.extra_roots_pem.as_deref())?) } else { None };
        ServerName::try_from(settings.host.clone())
            .map_err(|_| ImapError::Settings(format!("`{}` is not a host name", settings.host)))?;
        Ok(Self { settings, inbox, tls })
    }

    async fn connect(&self) -> Result<(ImapSession, bool), ImapError> {
        let s = &self.settings;
        let tcp = tokio::net::TcpStream::connect((s.host.as_str(), s.port)).await.map_err(connection)?;
        let stream: Box<dyn Conn> = match &self.tls {
            Some(tls) => {
                let name = ServerName::try_from(s.host.clone()).map_err(connection)?;
                Box::new(tls.connect(name, tcp).await.map_err(|e| connection(format!("TLS: {e}")))?)
            }
            None => Box::new(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        client.read_response().await.map_err(connection)?.ok_or_else(|| connection("the server sent no greeting"))?;
        let mut session =
            client.login(&s.user, &s.password).await.map_err(|(e, _)| connection(format!("login: {e}")))?;
        let idle = session.capabilities().await.map_err(connection)?.has_str("IDLE");
        session.select(&s.mailbox).await.map_err(|e| connection(format!("mailbox `{}`: {e}", s.mailbox)))?;
        Ok((session, idle))
    }

    /// Connects, takes every unseen mail, logs out; returns what became of each.
    pub async fn check_now(&self) -> Result<Vec<Received>, ImapError> {
        let (mut session, _) =
            tokio::time::timeout(CONNECT_TIMEOUT, self.connect()).await.map_err(|_| connection("timed out"))??;
        let taken = self.take_unseen(&mut session).await?;
        session.logout().await.map_err(connection)?;
        Ok(taken)
    }

    /// Reads the mailbox until `shutdown`: in IDLE where offered, else every
    /// [`ImapSettings::poll`]; reconnects after failures.
    pub async fn run(&self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(e) = self.session(&shutdown).await {
                tracing::warn!(error = %e, host = %self.settings.host, "reading the privacy mailbox failed; trying again");
            }
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = tokio::time::sleep(self.settings.poll) => {}
            }
        }
    }

    /// One connection's life: take unseen mail, wait, again.
    async fn session(&self, shutdown: &CancellationToken) -> Result<(), ImapError> {
        let (mut session, idle) =
            tokio::time::timeout(CONNECT_TIMEOUT, self.connect()).await.map_err(|_| connection("timed out"))??;
        tracing::info!(host = %self.settings.host, idle, "reading the privacy mailbox");
        loop {
            self.take_unseen(&mut session).await?;
            if shutdown.is_cancelled() {
                break;
            }
            if idle {
                let mut handle = session.idle();
                handle.init().await.map_err(connection)?;
                {
                    let (wait, _stop) = handle.wait_with_timeout(IDLE_RENEW);
                    tokio::select! {
                        waited = wait => { waited.map_err(connection)?; }
                        () = shutdown.cancelled() => {}
                    }
                }
                session = handle.done().await.map_err(connection)?;
            } else {
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(self.settings.poll) => {}
                }
                session.noop().await.map_err(connection)?;
            }
            if shutdown.is_cancelled() {
                break;
            }
        }
        session.logout().await.map_err(connection)?;
        Ok(())
    }

    /// Hands every unseen mail to the inbox, oldest first, and marks it.
    async fn take_unseen(&self, session: &mut ImapSession) -> Result<Vec<Received>, ImapError> {
        let mut uids: Vec<u32> = session.uid_search("UNSEEN").await.map_err(connection)?.into_iter().collect();
        uids.sort_unstable();
        let mut taken = Vec::new();
        for uid in uids {
            let fetched: Vec<_> = session
                .uid_fetch(uid.to_string(), "(UID INTERNALDATE BODY.PEEK[])")
                .await
                .map_err(connection)?
                .try_collect()
                .await
                .map_err(connection)?;
            for fetch in fetched {
                let Some(raw) = fetch.body() else { continue };
                let arrived = fetch
                    .internal_date()
                    .and_then(|d| jiff::Timestamp::from_second(d.timestamp()).ok())
                    .unwrap_or_else(jiff::Timestamp::now);
                let flags = match self.inbox.receive(raw, "imap", arrived).await {
                    Ok(received) => {
                        taken.push(received);
                        "+FLAGS (\\Seen)"
                    }
                    Err(e @ (InboxError::Parse(_) | InboxError::Invalid { .. })) => {
                        tracing::warn!(uid, error = %e, "a mail in the privacy mailbox is not a request; flagged for a person");
                        "+FLAGS (\\Seen \\Flagged)"
                    }
                    Err(e) => return Err(e.into()),
                };
                let _: Vec<_> = session
                    .uid_store(uid.to_string(), flags)
                    .await
                    .map_err(connection)?
                    .try_collect()
                    .await
                    .map_err(connection)?;
            }
        }
        Ok(taken)
    }
}

/// A TLS client trusting Mozilla's roots and `extra_pem`.
fn connector(extra_pem: Option<&[u8]>) -> Result<tokio_rustls::TlsConnector, ImapError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| ImapError::Settings(format!("extra root certificates: {e}")))?;
            roots.add(cert).map_err(|e| ImapError::Settings(format!("extra root certificates: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(ImapError::Settings("extra root certificates: no certificate in the file".into()));
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Settings(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
