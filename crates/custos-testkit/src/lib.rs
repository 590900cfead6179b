//! Test harness for custos: a fresh database for every test, on either backend.
//!
//! - [`TestDb::sqlite`] makes a SQLite file in a temporary directory.
//! - [`TestDb::postgres`] creates a new database on the server named by
//!   `CUSTOS_TEST_POSTGRES_URL` and drops it when the `TestDb` is dropped. Without that
//!   variable it returns `None` and the caller skips, unless `CUSTOS_REQUIRE_POSTGRES=1`,
//!   in which case a missing or unreachable server fails the test.
//! - [`TestDb::from_env`] is PostgreSQL when the variable is set, SQLite otherwise: tests
//!   above the store use it, so that the second CI pass runs them on PostgreSQL.
//!
//! Every test owns its database, so tests run in parallel without sharing state.
//!
//! [`smtp::SmtpSink`] and [`https::HttpsSink`] are real mail and HTTPS servers on loopback
//! that keep what they receive; [`dovecot::Dovecot`] is a real IMAP server with a test
//! user; [`mmdb`] builds small MaxMind-format databases;
//! [`postgres_instance::PostgresInstance`] is a PostgreSQL server of the test's own, to stop
//! and start without touching the shared one.

#![forbid(unsafe_code)]

pub mod browser;
pub mod dovecot;
pub mod https;
pub mod mmdb;
pub mod postgres_instance;
pub mod smtp;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use custos_store::{ConnectOptions, ConsentEntry, DatabaseUrl, KeyStore, Store, SubjectId};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// A consent ledger entry as a test writes it straight to the store: given (or withdrawn)
/// through a form now, under policy version `v`, with no source address. Change what a
/// test cares about with struct-update syntax: `ConsentEntry { method: "banner".into(),
/// ..consent(id, "analytics", true) }`.
pub fn consent(subject_id: SubjectId, purpose: &str, granted: bool) -> ConsentEntry {
    ConsentEntry {
        subject_id,
        purpose: purpose.into(),
        granted,
        method: "form".into(),
        policy_version: "v".into(),
        text_version: String::new(),
        source_ip: None,
        at: jiff::Timestamp::now(),
    }
}

/// The variable that names the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "CUSTOS_TEST_POSTGRES_URL";
/// The variable that makes a missing PostgreSQL a failure rather than a skip.
pub const REQUIRE_POSTGRES_VAR: &str = "CUSTOS_REQUIRE_POSTGRES";

/// A database made for one test.
pub struct TestDb {
    url: DatabaseUrl,
    /// The key store, a database of its own as in production.
    keys_url: DatabaseUrl,
    /// Keeps the SQLite directory alive as long as the database.
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server to drop the databases from, and their names.
    drop_on_exit: Option<(PgConnectOptions, Vec<String>)>,
}

impl TestDb {
    /// A fresh SQLite database in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = DatabaseUrl::sqlite_file(&dir.path().join("custos.db"));
        let keys_url = DatabaseUrl::sqlite_file(&dir.path().join("keys.db"));
        Self { url, keys_url, _dir: Some(dir), drop_on_exit: None }
    }

    /// A SQLite database (and key store) in `dir`, which the caller keeps, such as a
    /// small file system of the test's own.
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        let url = DatabaseUrl::sqlite_file(&dir.join("custos.db"));
        let keys_url = DatabaseUrl::sqlite_file(&dir.join("keys.db"));
        Self { url, keys_url, _dir: None, drop_on_exit: None }
    }

    /// A fresh PostgreSQL database, or `None` when PostgreSQL tests are not asked for.
    ///
    /// Panics when `CUSTOS_REQUIRE_POSTGRES=1` and the server is not set or not reachable.
    pub async fn postgres() -> Option<Self> {
        let required = std::env::var(REQUIRE_POSTGRES_VAR).is_ok_and(|v| v == "1");
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            assert!(!required, "{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set");
            eprintln!("skipped: {POSTGRES_URL_VAR} is not set");
            return None;
        };
        match Self::create_on(&admin_url).await {
            Ok(db) => Some(db),
            Err(why) => {
                assert!(
                    !required,
                    "{REQUIRE_POSTGRES_VAR}=1 but PostgreSQL at {POSTGRES_URL_VAR} is unreachable: {why}"
                );
                eprintln!("skipped: PostgreSQL is unreachable: {why}");
                None
            }
        }
    }

    /// Fresh databases (main and key store) on the PostgreSQL server at `admin_url`, such
    /// as a [`postgres_instance::PostgresInstance`] of the test's own.
    pub async fn create_on(admin_url: &str) -> Result<Self, String> {
        let admin = PgConnectOptions::from_str(admin_url)
            .unwrap_or_else(|e| panic!("{admin_url} is not a PostgreSQL URL: {e}"));
        let name = format!("custos_test_{}", uuid::Uuid::new_v4().simple());
        let keys_name = format!("{name}_keys");
        let created = async {
            let mut conn = PgConnection::connect_with(&admin).await?;
            for db in [&name, &keys_name] {
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {db}").as_str()).await?;
            }
            conn.close().await
        };
        match tokio::time::timeout(Duration::from_secs(30), created).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.to_string()),
            Err(_) => return Err("timed out".to_owned()),
        }
        let with_path = |db: &str| {
            let mut url = url::Url::parse(admin_url).expect("a PostgreSQL URL");
            url.set_path(db);
            DatabaseUrl::from_str(url.as_str()).expect("a valid database URL")
        };
        Ok(Self {
            url: with_path(&name),
            keys_url: with_path(&keys_name),
            _dir: None,
            drop_on_exit: Some((admin, vec![name, keys_name])),
        })
    }

    /// PostgreSQL when `CUSTOS_TEST_POSTGRES_URL` is set, SQLite otherwise.
    pub async fn from_env() -> Self {
        if std::env::var(POSTGRES_URL_VAR).is_ok()
            && let Some(db) = Self::postgres().await
        {
            return db;
        }
        Self::sqlite()
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The key store's URL.
    pub fn keys_url(&self) -> &DatabaseUrl {
        &self.keys_url
    }

    /// A migrated key store on its own database; each call opens a new pool.
    pub async fn keys(&self) -> Arc<dyn KeyStore> {
        custos_store::connect_keys(&self.keys_url, &ConnectOptions { max_connections: 5, ..ConnectOptions::default() })
            .await
            .unwrap_or_else(|e| panic!("open the test key store: {e}"))
    }

    /// A migrated store on the database; each call opens a new pool, as another custos
    /// process would.
    pub async fn store(&self) -> Arc<dyn Store> {
        custos_store::connect(&self.url, &ConnectOptions { max_connections: 5, ..ConnectOptions::default() })
            .await
            .unwrap_or_else(|e| panic!("open the test store: {e}"))
    }
}

/// A copy of a test database taken at one moment, as a backup would be; dropped with it.
pub struct Snapshot {
    /// The copy's URL.
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    drop_on_exit: Option<(PgConnectOptions, Vec<String>)>,
}

impl Snapshot {
    /// A store on the copy.
    pub async fn store(&self) -> Arc<dyn Store> {
        custos_store::connect(&self.url, &ConnectOptions { max_connections: 2, ..ConnectOptions::default() })
            .await
            .unwrap_or_else(|e| panic!("open the snapshot: {e}"))
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        if let Some(target) = self.drop_on_exit.take() {
            drop_databases(target);
        }
    }
}

impl TestDb {
    /// Runs raw SQL on the main database, behind the store's back: for tests that tamper
    /// with or inspect what is stored.
    pub async fn execute_raw(&self, sql: &str) {
        match self.url.sqlite_path() {
            Some(path) => {
                let mut conn =
                    sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{path}")).await.expect("open");
                sqlx::Executor::execute(&mut conn, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
            }
            None => {
                let mut conn = PgConnection::connect(self.url.expose()).await.expect("connect");
                sqlx::Executor::execute(&mut conn, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
            }
        }
    }

    /// Rows of `sql` on the main database, a text and a count each (such as `SELECT path,
    /// COUNT(*) FROM … GROUP BY path`): for tests that check what was stored, and how often.
    pub async fn text_counts(&self, sql: &str) -> Vec<(String, i64)> {
        match self.url.sqlite_path() {
            Some(path) => {
                let mut conn =
                    sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{path}")).await.expect("open");
                let rows = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
                rows
            }
            None => {
                let mut conn = PgConnection::connect(self.url.expose()).await.expect("connect");
                let rows = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                conn.close().await.expect("close");
                rows
            }
        }
    }

    /// Every byte stored for this test, to search for what must not be there: for SQLite
    /// both database files with their write-ahead logs; for PostgreSQL, after a checkpoint,
    /// the data files of every table, index and TOAST table of both databases (the test
    /// must run as a user who can read PostgreSQL's data directory, such as root in CI).
    pub async fn stored_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        for url in [&self.url, &self.keys_url] {
            if let Some(path) = url.sqlite_path() {
                for suffix in ["", "-wal", "-shm"] {
                    if let Ok(data) = std::fs::read(format!("{path}{suffix}")) {
                        bytes.extend(data);
                    }
                }
                continue;
            }
            let mut conn = PgConnection::connect(url.expose()).await.expect("connect");
            sqlx::Executor::execute(&mut conn, "CHECKPOINT").await.expect("checkpoint");
            let dir: String =
                sqlx::query_scalar("SELECT current_setting('data_directory')").fetch_one(&mut conn).await.expect("dir");
            let files: Vec<String> = sqlx::query_scalar(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't') \
                 AND pg_relation_filepath(c.oid) IS NOT NULL",
            )
            .fetch_all(&mut conn)
            .await
            .expect("files");
            for path in files {
                let base = format!("{dir}/{path}");
                let data = std::fs::read(&base)
                    .unwrap_or_else(|e| panic!("read {base}: {e}; run as a user who can read PostgreSQL's data"));
                bytes.extend(data);
                for segment in 1.. {
                    match std::fs::read(format!("{base}.{segment}")) {
                        Ok(data) => bytes.extend(data),
                        Err(_) => break,
                    }
                }
            }
            conn.close().await.expect("close");
        }
        bytes
    }

    /// Copies the main database (not the key store) as a backup would: SQLite with
    /// `VACUUM INTO`, PostgreSQL with `pg_dump` restored by `psql` into a new database.
    pub async fn snapshot(&self) -> Snapshot {
        match self.url.sqlite_path() {
            Some(path) => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let copy = dir.path().join("backup.db");
                let mut conn =
                    sqlx::sqlite::SqliteConnection::connect(&format!("sqlite://{path}")).await.expect("open");
                sqlx::Executor::execute(&mut conn, format!("VACUUM INTO '{}'", copy.display()).as_str())
                    .await
                    .expect("VACUUM INTO");
                conn.close().await.expect("close");
                Snapshot { url: DatabaseUrl::sqlite_file(&copy), _dir: Some(dir), drop_on_exit: None }
            }
            None => {
                let (admin, _) = self.drop_on_exit.clone().expect("a PostgreSQL test database");
                let name = format!("custos_test_{}_backup", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect_with(&admin).await.expect("connect");
                sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await.expect("create");
                conn.close().await.expect("close");
                let source = url::Url::parse(self.url.expose()).expect("url");
                let mut target = source.clone();
                target.set_path(&name);
                let dump = std::process::Command::new("pg_dump")
                    .args(["--no-owner", "--dbname", source.as_str()])
                    .output()
                    .expect("run pg_dump (package postgresql-client)");
                assert!(dump.status.success(), "pg_dump: {}", String::from_utf8_lossy(&dump.stderr));
                let mut restore = std::process::Command::new("psql")
                    .args(["--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", target.as_str()])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .expect("run psql");
                std::io::Write::write_all(&mut restore.stdin.take().expect("stdin"), &dump.stdout).expect("feed psql");
                assert!(restore.wait().expect("psql").success(), "psql restore failed");
                Snapshot {
                    url: DatabaseUrl::from_str(target.as_str()).expect("url"),
                    _dir: None,
                    drop_on_exit: Some((admin, vec![name])),
                }
            }
        }
    }
}

/// Drops PostgreSQL test databases from a thread of its own (Drop may run in a runtime).
fn drop_databases((admin, names): (PgConnectOptions, Vec<String>)) {
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let mut conn = PgConnection::connect_with(&admin).await.map_err(std::io::Error::other)?;
            for name in &names {
                sqlx::Executor::execute(&mut conn, format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map_err(std::io::Error::other)?;
            }
            conn.close().await.map_err(std::io::Error::other)
        })
    })
    .join();
    if !matches!(dropped, Ok(Ok(()))) {
        eprintln!("warning: could not drop test databases: {dropped:?}");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(target) = self.drop_on_exit.take() {
            drop_databases(target);
        }
    }
}

/// Runs each named async test once per backend: `sqlite::NAME` and `postgres::NAME`.
///
/// Each function takes `Arc<dyn Store>` (a fresh migrated store) and the `TestDb`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::TestDb::sqlite();
                    super::$name(db.store().await, &db).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres().await else { return };
                    super::$name(db.store().await, &db).await;
                }
            )+
        }
    };
}
