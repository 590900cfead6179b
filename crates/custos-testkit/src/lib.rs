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

#![forbid(unsafe_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use custos_store::{ConnectOptions, DatabaseUrl, KeyStore, Store};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

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
        let admin = PgConnectOptions::from_str(&admin_url)
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a PostgreSQL URL: {e}"));
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
            outcome => {
                let why = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_owned(),
                };
                assert!(
                    !required,
                    "{REQUIRE_POSTGRES_VAR}=1 but PostgreSQL at {POSTGRES_URL_VAR} is unreachable: {why}"
                );
                eprintln!("skipped: PostgreSQL is unreachable: {why}");
                return None;
            }
        }
        let with_path = |db: &str| {
            let mut url = url::Url::parse(&admin_url).expect("a PostgreSQL URL");
            url.set_path(db);
            DatabaseUrl::from_str(url.as_str()).expect("a valid database URL")
        };
        Some(Self {
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

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, names)) = self.drop_on_exit.take() else {
            return;
        };
        // Drop may run inside a runtime, which cannot be blocked on: use a thread with its own.
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
            eprintln!("warning: could not drop test database: {dropped:?}");
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
