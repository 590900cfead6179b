//! The master key and the key store: where they come from, `custos keys generate` and
//! `custos keys rotate`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use custos_engine::vault::{Keyring, Vault};
use custos_store::{Backend, ConnectOptions, DatabaseUrl, KeyStore};
use custos_vault::MasterKey;

use crate::config::Settings;

/// Where the master key came from.
pub(crate) enum KeySource {
    /// `CUSTOS_MASTER_KEY`.
    Environment,
    /// A key file.
    File(PathBuf),
}

/// The master key (and a pending rotation's next key, if any) for these settings.
pub(crate) fn keyring(settings: &Settings) -> anyhow::Result<(Keyring, KeySource)> {
    if let Some(line) = &settings.keys.master_key {
        let key = MasterKey::from_key_file(&line.0).map_err(|e| anyhow::anyhow!("CUSTOS_MASTER_KEY: {e}"))?;
        return Ok((Keyring::new(key), KeySource::Environment));
    }
    let path = match &settings.keys.master_key_file {
        Some(path) => path.clone(),
        None if settings.database_url().backend() == Backend::Sqlite => {
            let path = settings.data_dir.join("master.key");
            if !path.exists() {
                std::fs::create_dir_all(&settings.data_dir)
                    .with_context(|| format!("cannot create the data directory {}", settings.data_dir.display()))?;
                write_key_file(&path, &MasterKey::generate())?;
            }
            tracing::warn!(
                path = %path.display(),
                "using a development master key kept beside the data; in production set CUSTOS_MASTER_KEY_FILE \
                 to a key made by `custos keys generate` and kept elsewhere"
            );
            path
        }
        None => bail!(
            "a master key is required with PostgreSQL: make one with `custos keys generate FILE` and set \
             CUSTOS_MASTER_KEY_FILE=FILE on every custos process"
        ),
    };
    let current = read_key_file(&path)?;
    let mut keyring = Keyring::new(current);
    let next = next_path(&path);
    if next.exists() {
        keyring = keyring.with_other(read_key_file(&next)?);
    }
    Ok((keyring, KeySource::File(path)))
}

/// The key store's URL for these settings.
pub(crate) fn keystore_url(settings: &Settings) -> DatabaseUrl {
    if let Some(url) = &settings.keys.keystore_url {
        return url.clone();
    }
    match &settings.database.url {
        None => DatabaseUrl::sqlite_file(&settings.data_dir.join("keys.db")),
        Some(url) => {
            if url.backend() == Backend::Postgres {
                tracing::warn!(
                    "the key store shares the main database: a backup of it holds the keys that open it, so an \
                     erased person could be restored from one; set CUSTOS_KEYSTORE_URL to a separate database"
                );
            }
            url.clone()
        }
    }
}

/// Opens the key store and the vault.
pub(crate) async fn open_vault(settings: &Settings) -> anyhow::Result<(Arc<Vault>, Arc<dyn KeyStore>)> {
    let (keyring, _) = keyring(settings)?;
    let keys = connect_keys(settings).await?;
    let vault = Vault::open(keyring, keys.clone()).await.map_err(|e| anyhow::anyhow!("cannot open the vault: {e}"))?;
    Ok((Arc::new(vault), keys))
}

async fn connect_keys(settings: &Settings) -> anyhow::Result<Arc<dyn KeyStore>> {
    let url = keystore_url(settings);
    let options = ConnectOptions {
        max_connections: settings.database.max_connections,
        connect_timeout: settings.connect_timeout(),
        migrate: true,
    };
    custos_store::connect_keys(&url, &options).await.map_err(|e| anyhow::anyhow!("{e}; check CUSTOS_KEYSTORE_URL"))
}

/// `custos keys generate FILE`: a new master key, readable by its owner only.
pub(crate) fn generate(file: &Path) -> anyhow::Result<()> {
    if file.exists() {
        bail!("{} exists; choose another file (a key file is never overwritten)", file.display());
    }
    let key = MasterKey::generate();
    write_key_file(file, &key)?;
    println!("wrote master key {} to {} (mode 0600); keep a copy offline", key.id(), file.display());
    Ok(())
}

/// `custos keys rotate`: re-wraps every key under a new master key; resumable.
pub(crate) async fn rotate(settings: &Settings, batch: u32) -> anyhow::Result<()> {
    let (keyring, source) = keyring(settings)?;
    let KeySource::File(path) = source else {
        bail!("rotation needs the master key in a file: set CUSTOS_MASTER_KEY_FILE instead of CUSTOS_MASTER_KEY");
    };
    let next_file = next_path(&path);
    let next = if next_file.exists() {
        println!("resuming the rotation to the key in {}", next_file.display());
        read_key_file(&next_file)?
    } else {
        let key = MasterKey::generate();
        write_key_file(&next_file, &key)?;
        key
    };
    let current_id = keyring.current().id().clone();
    let keyring = Keyring::new(read_key_file(&next_file)?).with_other(read_key_file(&path)?);
    let keys = connect_keys(settings).await?;
    let vault = Vault::open(keyring, keys.clone()).await.map_err(|e| anyhow::anyhow!("cannot open the vault: {e}"))?;
    let report = vault
        .rotate(&next, batch, |n| {
            if n % 10_000 == 0 && n > 0 {
                eprintln!("re-wrapped {n} data keys");
            }
        })
        .await
        .map_err(|e| anyhow::anyhow!("rotation stopped: {e}; run `custos keys rotate` again to resume"))?;
    if report.remaining > 0 {
        bail!("{} keys are still wrapped under another master key; run `custos keys rotate` again", report.remaining);
    }
    let retired = path.with_file_name(format!(
        "{}.retired-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("master.key"),
        current_id
    ));
    std::fs::rename(&path, &retired).with_context(|| format!("cannot retire {}", path.display()))?;
    std::fs::rename(&next_file, &path).with_context(|| format!("cannot install {}", next_file.display()))?;
    keys.close_keys().await;
    println!(
        "re-wrapped {} data keys and {} system keys under master key {}; the old key {} is retired to {} \
         (destroy it once no backup of the key store needs it); restart every custos process",
        report.data_keys,
        report.system_keys,
        next.id(),
        current_id,
        retired.display()
    );
    Ok(())
}

fn next_path(path: &Path) -> PathBuf {
    path.with_file_name(format!("{}.next", path.file_name().and_then(|n| n.to_str()).unwrap_or("master.key")))
}

fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!("cannot read the master key file {}: {e}; check CUSTOS_MASTER_KEY_FILE", path.display())
    })?;
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the master key file is readable by others; chmod 600 it");
        }
    }
    MasterKey::from_key_file(text.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file =
        options.open(path).map_err(|e| anyhow::anyhow!("cannot create the key file {}: {e}", path.display()))?;
    file.write_all(key.to_key_file().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| anyhow::anyhow!("cannot write the key file {}: {e}", path.display()))
}
