//! Opening the store for a command: the data directory, the URL, the connection.

use std::path::Path;
use std::sync::Arc;

use custos_store::{Backend, ConnectOptions, Store};

use crate::config::Settings;

/// Opens (and, with `migrate`, migrates) the configured store. For the embedded SQLite
/// default, the data directory is created and checked for writing first.
pub(crate) async fn connect(settings: &Settings, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    prepare(settings)?;
    let url = settings.database_url();
    let options = ConnectOptions {
        max_connections: settings.database.max_connections,
        connect_timeout: settings.connect_timeout(),
        migrate,
    };
    custos_store::connect(&url, &options).await.map_err(|e| {
        let hint = match url.backend() {
            Backend::Postgres => "check CUSTOS_DATABASE_URL and that PostgreSQL is running and reachable",
            Backend::Sqlite => "check the path in CUSTOS_DATABASE_URL or --data-dir",
        };
        anyhow::anyhow!("{e}; {hint}")
    })
}

/// Creates and checks the data directory when the embedded SQLite default needs it.
pub(crate) fn prepare(settings: &Settings) -> anyhow::Result<()> {
    if settings.database.url.is_none() {
        prepare_data_dir(&settings.data_dir)?;
    }
    Ok(())
}

/// Opens and migrates the store, for `serve`.
pub(crate) async fn open(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    connect(settings, true).await
}

/// The database in words, without secrets, for logs.
pub(crate) fn describe(settings: &Settings) -> String {
    settings.database_url().redacted()
}

/// Creates the data directory when missing and proves it can be written.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    let hint = "choose another with --data-dir or CUSTOS_DATA_DIR";
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create the data directory {}: {e}; {hint}", dir.display()))?;
    let probe = dir.join(format!(".custos-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| anyhow::anyhow!("cannot write in the data directory {}: {e}; {hint}", dir.display()))
}
