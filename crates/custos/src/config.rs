//! Settings, layered: defaults, then the configuration file, then `CUSTOS_*` environment
//! variables, then command-line flags. Every error names its source: `custos.toml:3:1`,
//! `CUSTOS_BIND`, or the flag.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use custos_store::DatabaseUrl;
use serde::Deserialize;

use crate::cli::StorageArgs;

/// Everything custos can be configured with.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Settings {
    /// Address the HTTP server listens on.
    pub(crate) bind: SocketAddr,
    /// Directory for the embedded SQLite database and local files.
    pub(crate) data_dir: PathBuf,
    /// The privacy policy file; `None` runs the embedded example policy.
    pub(crate) policy: Option<PathBuf>,
    /// The address people reach custos at, for links in mail; `None`: `http://<bind>`.
    pub(crate) public_url: Option<String>,
    /// A MaxMind-format country database (GeoLite2-Country), for analytics' countries.
    pub(crate) geoip_db: Option<PathBuf>,
    /// How long to wait for requests in flight at shutdown, in seconds.
    pub(crate) shutdown_grace_secs: u64,
    /// HTTPS.
    pub(crate) server: ServerSettings,
    /// The database.
    pub(crate) database: DatabaseSettings,
    /// Logging.
    pub(crate) log: LogSettings,
    /// Background workers.
    pub(crate) jobs: JobSettings,
    /// Keys.
    pub(crate) keys: KeySettings,
    /// Outgoing mail.
    pub(crate) mail: MailSettings,
    /// Requests per network per minute on the public endpoints.
    pub(crate) limits: custos_server::RateLimits,
    /// The consent banner's wording.
    pub(crate) banner: custos_server::BannerSettings,
    /// The Data Rights Protocol for authorized agents.
    pub(crate) drp: custos_server::DrpSettings,
    /// Calls custos makes to other parties.
    pub(crate) outbound: OutboundSettings,
    /// The partner API: upload limits and aggregation rules.
    pub(crate) partners: custos_engine::partners::PartnerSettings,
    /// The privacy center's name, logo and colour.
    pub(crate) privacy_center: custos_server::BrandingSettings,
    /// The privacy mailbox: requests by mail, over IMAP or custos's own SMTP listener.
    pub(crate) inbox: InboxSettings,
}

/// The `[inbox]` section: where mail to the privacy address is read (seed 7, 8, 9).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct InboxSettings {
    /// The IMAP server; no reader runs without one.
    pub(crate) imap_host: Option<String>,
    /// Its port (993 for IMAPS).
    pub(crate) imap_port: u16,
    /// The user custos logs in as.
    pub(crate) imap_user: Option<String>,
    /// Its password.
    pub(crate) imap_password: Option<Secret>,
    /// TLS from the first byte; turn off only for a server on the same host.
    pub(crate) imap_tls: bool,
    /// The mailbox read.
    pub(crate) imap_mailbox: String,
    /// How often to look when the server has no IDLE, and to wait after a failure (seconds).
    pub(crate) imap_poll_secs: u64,
    /// A PEM file of extra root certificates, for a server behind a private CA.
    pub(crate) imap_ca_file: Option<PathBuf>,
    /// Where custos's own SMTP listener listens, if it should (`IP:PORT`).
    pub(crate) smtp_listen: Option<SocketAddr>,
    /// The addresses the listener takes mail for; by default the policy's rights contact.
    pub(crate) smtp_recipients: Vec<String>,
}

impl Default for InboxSettings {
    fn default() -> Self {
        Self {
            imap_host: None,
            imap_port: 993,
            imap_user: None,
            imap_password: None,
            imap_tls: true,
            imap_mailbox: "INBOX".into(),
            imap_poll_secs: 60,
            imap_ca_file: None,
            smtp_listen: None,
            smtp_recipients: Vec::new(),
        }
    }
}

impl InboxSettings {
    /// The IMAP reader's settings, when `imap_host` is set; an error names what is missing.
    pub(crate) fn imap(&self) -> anyhow::Result<Option<custos_server::mailbox::ImapSettings>> {
        let Some(host) = &self.imap_host else { return Ok(None) };
        let (Some(user), Some(password)) = (&self.imap_user, &self.imap_password) else {
            bail!("the configuration's [inbox] section: imap_host is set, so set imap_user and imap_password too");
        };
        let extra_roots_pem = match &self.imap_ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("the configuration's [inbox] imap_ca_file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(Some(custos_server::mailbox::ImapSettings {
            host: host.clone(),
            port: self.imap_port,
            user: user.clone(),
            password: password.0.clone(),
            tls: self.imap_tls,
            mailbox: self.imap_mailbox.clone(),
            poll: Duration::from_secs(self.imap_poll_secs.clamp(1, 3600)),
            extra_roots_pem,
        }))
    }
}

/// The `[server]` section: HTTPS through rustls when both files are given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServerSettings {
    /// The certificate chain, PEM (the server's certificate first).
    pub(crate) tls_cert: Option<PathBuf>,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub(crate) tls_key: Option<PathBuf>,
}

impl ServerSettings {
    /// The TLS configuration, when a certificate is configured; an error names the setting.
    pub(crate) fn tls(&self) -> anyhow::Result<Option<std::sync::Arc<rustls::ServerConfig>>> {
        let (cert, key) = match (&self.tls_cert, &self.tls_key) {
            (None, None) => return Ok(None),
            (Some(cert), Some(key)) => (cert, key),
            _ => bail!(
                "[server] tls_cert and tls_key go together: set both (CUSTOS_SERVER_TLS_CERT, CUSTOS_SERVER_TLS_KEY) or neither"
            ),
        };
        let read = |path: &Path, name: &str| {
            std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read [server] {name} {}: {e}", path.display()))
        };
        let config = custos_server::tls_config(
            &read(cert, "tls_cert")?,
            &read(key, "tls_key")?,
            &cert.display().to_string(),
            &key.display().to_string(),
        )
        .map_err(|e| anyhow::anyhow!("the [server] TLS settings: {e}"))?;
        Ok(Some(config))
    }
}

/// The `[outbound]` section: calls to agents' status callbacks and to the controllers
/// people send their data to.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct OutboundSettings {
    /// Allow destinations on loopback, private and link-local networks (off: a request
    /// could otherwise make custos call into the operator's own network).
    pub(crate) allow_private_destinations: bool,
    /// A PEM file of extra root certificates, for destinations behind a private CA.
    pub(crate) ca_file: Option<PathBuf>,
    /// How long one call may take, in seconds.
    pub(crate) timeout_secs: u64,
}

impl Default for OutboundSettings {
    fn default() -> Self {
        Self { allow_private_destinations: false, ca_file: None, timeout_secs: 30 }
    }
}

impl OutboundSettings {
    /// The engine's settings, with the CA file read.
    pub(crate) fn load(&self) -> anyhow::Result<custos_engine::outbound::OutboundSettings> {
        let extra_roots_pem = match &self.ca_file {
            Some(path) => Some(
                std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("the configuration's [outbound] ca_file {}: {e}", path.display()))?,
            ),
            None => None,
        };
        Ok(custos_engine::outbound::OutboundSettings {
            allow_private_destinations: self.allow_private_destinations,
            extra_roots_pem,
            timeout: std::time::Duration::from_secs(self.timeout_secs.clamp(1, 600)),
        })
    }
}

/// The `[mail]` section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct MailSettings {
    /// `smtp://`, `smtp+starttls://`, `smtps://` (user and password in the URL) or
    /// `file:///dir`; by default `.eml` files in `<data_dir>/mail`.
    pub(crate) url: Option<Secret>,
    /// The sender; by default the policy's rights contact.
    pub(crate) from: Option<String>,
}

/// The `[keys]` section.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct KeySettings {
    /// The master key file (made by `custos keys generate`).
    pub(crate) master_key_file: Option<PathBuf>,
    /// The master key itself, as the one line of a key file (environment only).
    #[serde(skip)]
    pub(crate) master_key: Option<Secret>,
    /// The key store's database; by default `keys.db` in the data directory for SQLite, or
    /// the main database for PostgreSQL.
    pub(crate) keystore_url: Option<DatabaseUrl>,
}

/// A secret setting: never shown by `Debug`.
#[derive(Clone, PartialEq)]
pub(crate) struct Secret(pub(crate) String);

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The `[database]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://…`; `None` means SQLite in the data directory.
    pub(crate) url: Option<DatabaseUrl>,
    /// The most connections the pool opens.
    pub(crate) max_connections: u32,
    /// How long to keep trying to reach the database at start, in seconds.
    pub(crate) connect_timeout_secs: u64,
}

/// The `[log]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LogSettings {
    /// A tracing filter, such as `info` or `info,custos_server=debug`.
    pub(crate) filter: String,
    /// `text` for people, `json` for log collectors.
    pub(crate) format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event.
    Json,
}

/// The `[jobs]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct JobSettings {
    /// How many job workers run in this process (0 runs none).
    pub(crate) workers: usize,
    /// How often an idle worker looks for due jobs, in milliseconds.
    pub(crate) poll_interval_ms: u64,
    /// How long a claimed job is a worker's alone, in seconds: a worker that dies mid-job
    /// (a crash, a kill) leaves it to be run again by another once this has passed.
    pub(crate) lease_secs: u64,
    /// The wait before a failed job's first retry, in milliseconds; it doubles each time.
    pub(crate) retry_base_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            policy: None,
            public_url: None,
            geoip_db: None,
            shutdown_grace_secs: 30,
            server: ServerSettings::default(),
            database: DatabaseSettings::default(),
            log: LogSettings::default(),
            jobs: JobSettings::default(),
            keys: KeySettings::default(),
            mail: MailSettings::default(),
            limits: custos_server::RateLimits::default(),
            banner: custos_server::BannerSettings::default(),
            drp: custos_server::DrpSettings::default(),
            outbound: OutboundSettings::default(),
            partners: custos_engine::partners::PartnerSettings::default(),
            privacy_center: custos_server::BrandingSettings::default(),
            inbox: InboxSettings::default(),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self { url: None, max_connections: 10, connect_timeout_secs: 10 }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { filter: "info,sqlx=warn".into(), format: LogFormat::Text }
    }
}

impl Default for JobSettings {
    fn default() -> Self {
        Self { workers: 2, poll_interval_ms: 1_000, lease_secs: 300, retry_base_ms: 5_000 }
    }
}

/// The example configuration printed by `custos config default`.
pub(crate) const DEFAULT_TOML: &str = include_str!("../custos.example.toml");

/// The variable naming the configuration file.
const CONFIG_VAR: &str = "CUSTOS_CONFIG";

/// The file read when neither `--config` nor `CUSTOS_CONFIG` names one.
const DEFAULT_CONFIG_FILE: &str = "custos.toml";

impl Settings {
    /// Loads the layers: defaults, file, environment (`vars`), then `flags`.
    /// Also returns the names of unknown `CUSTOS_*` variables, to warn about once logging is up.
    pub(crate) fn load(
        config_flag: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
        flags: Option<&StorageArgs>,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let vars: Vec<(String, String)> = vars.into_iter().filter(|(k, _)| k.starts_with("CUSTOS_")).collect();
        let env_config = vars.iter().find(|(k, _)| k == CONFIG_VAR).map(|(_, v)| PathBuf::from(v));
        let mut settings = match config_flag.map(Path::to_path_buf).or(env_config) {
            Some(path) => Self::from_file(&path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => Self::from_file(Path::new(DEFAULT_CONFIG_FILE))?,
            None => Self::default(),
        };
        let mut unknown = Vec::new();
        for (name, value) in &vars {
            if !settings.apply_env(name, value)? {
                unknown.push(name.clone());
            }
        }
        if let Some(flags) = flags {
            if let Some(dir) = &flags.data_dir {
                settings.data_dir.clone_from(dir);
            }
            if let Some(url) = &flags.database_url {
                settings.database.url = Some(url.clone());
            }
        }
        Ok((settings, unknown))
    }

    /// Reads a configuration file; errors point at `file:line:column`.
    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the configuration file {}: {e}; check the path given by --config or {CONFIG_VAR}",
                path.display()
            )
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Parses configuration text; `origin` names it in errors.
    pub(crate) fn from_toml(text: &str, origin: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| {
            let position =
                e.span().map(|span| line_col(text, span.start)).map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default();
            anyhow::anyhow!("{origin}{position}: {}", e.message().trim().replace('\n', " "))
        })
    }

    /// Applies one `CUSTOS_*` variable; returns false when the name is unknown.
    fn apply_env(&mut self, name: &str, value: &str) -> anyhow::Result<bool> {
        fn parse<T: std::str::FromStr>(name: &str, value: &str, expected: &str) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            value.trim().parse().map_err(|e| anyhow::anyhow!("{name}={value:?} is not {expected}: {e}"))
        }
        match name {
            "CUSTOS_BIND" => self.bind = parse(name, value, "an address as IP:PORT, such as 127.0.0.1:8080")?,
            "CUSTOS_DATA_DIR" => self.data_dir = PathBuf::from(value),
            "CUSTOS_POLICY" => self.policy = Some(PathBuf::from(value)),
            "CUSTOS_PUBLIC_URL" => self.public_url = Some(value.trim().to_owned()),
            "CUSTOS_GEOIP_DB" => self.geoip_db = Some(PathBuf::from(value)),
            "CUSTOS_SHUTDOWN_GRACE_SECS" => self.shutdown_grace_secs = parse(name, value, "a number of seconds")?,
            "CUSTOS_DATABASE_URL" => {
                let url = value.parse::<DatabaseUrl>().map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
                self.database.url = Some(url);
            }
            "CUSTOS_DATABASE_MAX_CONNECTIONS" => {
                self.database.max_connections = parse(name, value, "a number of connections")?;
            }
            "CUSTOS_DATABASE_CONNECT_TIMEOUT_SECS" => {
                self.database.connect_timeout_secs = parse(name, value, "a number of seconds")?;
            }
            "CUSTOS_LOG" => self.log.filter = value.to_owned(),
            "CUSTOS_MAIL_URL" => self.mail.url = Some(Secret(value.trim().to_owned())),
            "CUSTOS_MAIL_FROM" => self.mail.from = Some(value.trim().to_owned()),
            "CUSTOS_MASTER_KEY_FILE" => self.keys.master_key_file = Some(PathBuf::from(value)),
            "CUSTOS_MASTER_KEY" => self.keys.master_key = Some(Secret(value.trim().to_owned())),
            "CUSTOS_KEYSTORE_URL" => {
                let url = value.parse::<DatabaseUrl>().map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
                self.keys.keystore_url = Some(url);
            }
            "CUSTOS_LOG_FORMAT" => {
                self.log.format = match value.trim() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => bail!("{name}={other:?} is not a log format; use text or json"),
                }
            }
            "CUSTOS_PARTNERS_MAX_BODY_BYTES" => self.partners.max_body_bytes = parse(name, value, "a number of bytes")?,
            "CUSTOS_PARTNERS_MAX_RECORDS" => self.partners.max_records = parse(name, value, "a number of records")?,
            "CUSTOS_PARTNERS_AGGREGATION_K" => self.partners.aggregation.k = parse(name, value, "a number of people")?,
            "CUSTOS_PARTNERS_AGGREGATION_EPSILON_BUDGET" => {
                self.partners.aggregation.epsilon_budget = parse(name, value, "a number")?
            }
            "CUSTOS_SERVER_TLS_CERT" => self.server.tls_cert = Some(PathBuf::from(value)),
            "CUSTOS_SERVER_TLS_KEY" => self.server.tls_key = Some(PathBuf::from(value)),
            "CUSTOS_JOBS_WORKERS" => self.jobs.workers = parse(name, value, "a number of workers")?,
            "CUSTOS_JOBS_POLL_INTERVAL_MS" => {
                self.jobs.poll_interval_ms = parse(name, value, "a number of milliseconds")?
            }
            "CUSTOS_JOBS_LEASE_SECS" => self.jobs.lease_secs = parse(name, value, "a number of seconds")?,
            "CUSTOS_JOBS_RETRY_BASE_MS" => self.jobs.retry_base_ms = parse(name, value, "a number of milliseconds")?,
            "CUSTOS_LIMITS_FORMS_PER_MINUTE" => self.limits.forms_per_minute = parse(name, value, "a number")?,
            "CUSTOS_LIMITS_BANNER_PER_MINUTE" => self.limits.banner_per_minute = parse(name, value, "a number")?,
            "CUSTOS_LIMITS_ACCOUNTS_PER_MINUTE" => self.limits.accounts_per_minute = parse(name, value, "a number")?,
            "CUSTOS_LIMITS_EVENTS_PER_MINUTE" => self.limits.events_per_minute = parse(name, value, "a number")?,
            "CUSTOS_LIMITS_RIGHTS_PER_MINUTE" => self.limits.rights_per_minute = parse(name, value, "a number")?,
            "CUSTOS_LIMITS_PER_IDENTIFIER_PER_HOUR" => {
                self.limits.per_identifier_per_hour = parse(name, value, "a number")?
            }
            "CUSTOS_OUTBOUND_ALLOW_PRIVATE_DESTINATIONS" => {
                self.outbound.allow_private_destinations = parse(name, value, "true or false")?
            }
            "CUSTOS_OUTBOUND_CA_FILE" => self.outbound.ca_file = Some(PathBuf::from(value)),
            "CUSTOS_INBOX_IMAP_HOST" => self.inbox.imap_host = Some(value.trim().to_owned()),
            "CUSTOS_INBOX_IMAP_PORT" => self.inbox.imap_port = parse(name, value, "a port number")?,
            "CUSTOS_INBOX_IMAP_USER" => self.inbox.imap_user = Some(value.trim().to_owned()),
            "CUSTOS_INBOX_IMAP_PASSWORD" => self.inbox.imap_password = Some(Secret(value.to_owned())),
            "CUSTOS_INBOX_IMAP_TLS" => self.inbox.imap_tls = parse(name, value, "true or false")?,
            "CUSTOS_INBOX_IMAP_MAILBOX" => self.inbox.imap_mailbox = value.trim().to_owned(),
            "CUSTOS_INBOX_IMAP_POLL_SECS" => self.inbox.imap_poll_secs = parse(name, value, "a number of seconds")?,
            "CUSTOS_INBOX_IMAP_CA_FILE" => self.inbox.imap_ca_file = Some(PathBuf::from(value)),
            "CUSTOS_INBOX_SMTP_LISTEN" => {
                self.inbox.smtp_listen = Some(parse(name, value, "an address as IP:PORT, such as 0.0.0.0:2525")?)
            }
            "CUSTOS_INBOX_SMTP_RECIPIENTS" => {
                self.inbox.smtp_recipients =
                    value.split(',').map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect()
            }
            // Read elsewhere, or by the test harness.
            CONFIG_VAR | "CUSTOS_TEST_POSTGRES_URL" | "CUSTOS_REQUIRE_POSTGRES" => {}
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The database to use: the configured URL, or SQLite in the data directory.
    pub(crate) fn database_url(&self) -> DatabaseUrl {
        self.database.url.clone().unwrap_or_else(|| DatabaseUrl::sqlite_file(&self.data_dir.join("custos.db")))
    }

    /// How long to keep trying to reach the database at start.
    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.database.connect_timeout_secs.max(1))
    }
}

/// The 1-based line and column of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_printed_default_is_the_default() {
        let parsed = Settings::from_toml(DEFAULT_TOML, "default").expect("the example parses");
        assert_eq!(parsed, Settings::default());
    }

    #[test]
    fn the_inbox_section_needs_a_user_and_password_with_a_host() {
        let s = Settings::from_toml(
            "[inbox]\nimap_host = \"imap.example.org\"\nimap_user = \"privacy\"\nsmtp_listen = \"127.0.0.1:2525\"\n",
            "custos.toml",
        )
        .expect("parses");
        let missing = s.inbox.imap().expect_err("no password");
        assert!(missing.to_string().contains("imap_password"), "{missing}");
        let (s, _) = Settings::load(
            None,
            env(&[
                ("CUSTOS_INBOX_IMAP_HOST", "imap.example.org"),
                ("CUSTOS_INBOX_IMAP_USER", "privacy"),
                ("CUSTOS_INBOX_IMAP_PASSWORD", "secret"),
                ("CUSTOS_INBOX_SMTP_RECIPIENTS", "privacy@example.org, dpo@example.org"),
            ]),
            None,
        )
        .expect("load");
        let imap = s.inbox.imap().expect("settings").expect("a reader");
        assert_eq!((imap.port, imap.tls, imap.mailbox.as_str()), (993, true, "INBOX"));
        assert_eq!(s.inbox.smtp_recipients, ["privacy@example.org", "dpo@example.org"]);
        assert!(!format!("{:?}", s.inbox).contains("secret"), "the password is never shown");
        let bad = Settings::load(None, env(&[("CUSTOS_INBOX_SMTP_LISTEN", "port 25")]), None).expect_err("bad");
        assert!(bad.to_string().contains("CUSTOS_INBOX_SMTP_LISTEN"), "{bad}");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("custos.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\ndata_dir = \"/srv/custos\"\n[jobs]\nworkers = 5\n")
            .expect("write");
        let (from_file, _) = Settings::load(Some(&file), env(&[]), None).expect("load");
        assert_eq!((from_file.bind.port(), from_file.jobs.workers), (9000, 5));
        let (from_env, unknown) = Settings::load(
            Some(&file),
            env(&[("CUSTOS_BIND", "127.0.0.1:9100"), ("CUSTOS_BND", "x"), ("PATH", "/bin")]),
            None,
        )
        .expect("load");
        assert_eq!(unknown, vec!["CUSTOS_BND".to_owned()], "typos are reported, other variables ignored");
        assert_eq!(from_env.bind.port(), 9100, "the environment beats the file");
        assert_eq!(from_env.data_dir, PathBuf::from("/srv/custos"), "what the environment leaves is the file's");
        let flags = StorageArgs { data_dir: Some(PathBuf::from("/flag")), database_url: None };
        let (from_flag, _) =
            Settings::load(Some(&file), env(&[("CUSTOS_DATA_DIR", "/env")]), Some(&flags)).expect("load");
        assert_eq!(from_flag.data_dir, PathBuf::from("/flag"), "flags beat the environment");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_position() {
        let err = Settings::from_toml("bind = \"127.0.0.1:1\"\n\n[database]\nurll = \"x\"\n", "custos.toml")
            .expect_err("unknown key");
        let text = err.to_string();
        assert!(text.starts_with("custos.toml:4:1: unknown field `urll`"), "{text}");
        assert!(text.contains("expected one of"), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let err = Settings::load(None, env(&[("CUSTOS_JOBS_WORKERS", "many")]), None).expect_err("not a number");
        assert!(err.to_string().starts_with("CUSTOS_JOBS_WORKERS=\"many\" is not a number of workers"), "{err}");
        let err = Settings::load(None, env(&[("CUSTOS_DATABASE_URL", "mysql://x@y/z")]), None).expect_err("scheme");
        assert!(
            err.to_string().contains("CUSTOS_DATABASE_URL: invalid database URL: unsupported scheme `mysql`"),
            "{err}"
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let (settings, _) =
            Settings::load(None, env(&[("CUSTOS_DATABASE_URL", "postgres://custos:hunter2@db/custos")]), None)
                .expect("load");
        let debug = format!("{settings:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("custos:***@db"), "{debug}");
    }

    #[test]
    fn the_master_key_never_shows() {
        let (settings, _) =
            Settings::load(None, env(&[("CUSTOS_MASTER_KEY", "custos-master-key:v1:mk-1:c2VjcmV0")]), None)
                .expect("load");
        assert!(!format!("{settings:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_directory() {
        let settings = Settings::default();
        assert_eq!(settings.database_url().expose(), "sqlite://./data/custos.db");
    }
}
