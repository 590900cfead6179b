//! The scenarios. Each measures the real code path and returns its report.

use std::sync::Arc;
use std::time::Instant;

use custos_engine::audit::Auditor;
use custos_engine::gate::{Access, Actor, Gate, Objection, Request, SubjectState};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{ConnectOptions, DatabaseUrl, KeyStore, NewAuditEntry, Store, StoredDataKey, SubjectId};
use custos_vault::{Aad, DataKey, MasterKey};

use crate::report::Report;

/// Gate decisions per second on one thread, over a mix of allowed and refused requests.
pub(crate) fn gate(size: u64) -> Report {
    let policy = Policy::example();
    let gate = Gate::new(&policy);
    let subject = SubjectId::new();
    let mut state = SubjectState::default();
    state.consents.insert("analytics".into());
    state.objections.insert("contact".into(), Objection::default());
    let service =
        Actor::Service { token: "web".into(), purposes: vec!["support".into(), "analytics".into(), "contact".into()] };
    let requests = [
        ("support", &["user.contact.email", "user.name"][..]),
        ("analytics", &["user.device.ip_address"][..]),
        ("contact", &["user.contact.email"][..]),
        ("marketing", &["user.contact.email"][..]),
    ];
    let started = Instant::now();
    let mut allowed = 0u64;
    for i in 0..size {
        let (purpose, categories) = requests[(i % requests.len() as u64) as usize];
        let request = Request { actor: &service, subject, purpose, categories, access: Access::Read };
        if std::hint::black_box(gate.decide(&state, &request)).is_allowed() {
            allowed += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut report = Report::new("gate");
    report
        .note("decisions", size)
        .note("allowed", allowed)
        .figure("decisions_per_s", size as f64 / seconds, "1/s")
        .figure("ns_per_decision", seconds * 1e9 / size as f64, "ns")
        .target("decisions_per_s", ">=", 1_000_000.0);
    report
}

/// Seal and open of 200-byte values, bound to table, row and subject.
pub(crate) fn seal(size: u64) -> Report {
    let key = DataKey::generate();
    let value = [0x5au8; 200];
    let subject = SubjectId::new();
    let rows: Vec<[u8; 16]> = (0..1024u128).map(|i| i.to_be_bytes()).collect();
    let started = Instant::now();
    let mut sealed = Vec::with_capacity(1024);
    for i in 0..size {
        let row = &rows[(i % 1024) as usize];
        let out = key.seal(&value, &Aad::new("records", row, subject.0.as_bytes()));
        if sealed.len() < 1024 {
            sealed.push(out);
        }
    }
    let seal_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for i in 0..size {
        let n = (i % sealed.len() as u64) as usize;
        let opened = key.open(&sealed[n], &Aad::new("records", &rows[n], subject.0.as_bytes()));
        std::hint::black_box(opened.is_ok());
    }
    let open_s = started.elapsed().as_secs_f64();
    let mut report = Report::new("seal");
    report
        .note("values", size)
        .note("value_bytes", 200)
        .figure("seals_per_s", size as f64 / seal_s, "1/s")
        .figure("opens_per_s", size as f64 / open_s, "1/s")
        .figure("seal_mb_per_s", size as f64 * 200.0 / seal_s / 1e6, "MB/s");
    report
}

/// A database for a storage scenario, and what to drop afterwards.
pub(crate) struct Scratch {
    pub(crate) url: DatabaseUrl,
    /// The key store, where `custos serve` keeps it: on SQLite a file of its own beside the
    /// data (`keys.db`), on PostgreSQL the same database unless told otherwise.
    pub(crate) keys_url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    drop: Option<(String, String)>,
}

pub(crate) async fn scratch(postgres: Option<&str>) -> anyhow::Result<Scratch> {
    match postgres {
        None => {
            let dir = tempfile::tempdir()?;
            Ok(Scratch {
                url: DatabaseUrl::sqlite_file(&dir.path().join("bench.db")),
                keys_url: DatabaseUrl::sqlite_file(&dir.path().join("keys.db")),
                _dir: Some(dir),
                drop: None,
            })
        }
        Some(admin) => {
            let name = format!("custos_bench_{}", std::process::id());
            run_sql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
            run_sql(admin, &format!("CREATE DATABASE {name}")).await?;
            let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
            let url: DatabaseUrl = format!("{base}/{name}").parse()?;
            Ok(Scratch { keys_url: url.clone(), url, _dir: None, drop: Some((admin.to_owned(), name)) })
        }
    }
}

/// Runs one statement on the PostgreSQL server with `psql` (the store offers no raw SQL).
async fn run_sql(admin: &str, sql: &str) -> anyhow::Result<()> {
    let status = std::process::Command::new("psql").args(["--quiet", "--dbname", admin, "--command", sql]).status()?;
    anyhow::ensure!(status.success(), "psql failed: {sql}");
    Ok(())
}

impl Scratch {
    pub(crate) async fn finish(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = &self.drop {
            run_sql(admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await?;
        }
        Ok(())
    }
}

/// Re-wrapping `size` data keys under a new master key, extrapolated to a million.
pub(crate) async fn rotation(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let db = scratch(postgres).await?;
    let keys: Arc<dyn KeyStore> = custos_store::connect_keys(&db.keys_url, &ConnectOptions::default()).await?;
    let old = MasterKey::generate();
    let started = Instant::now();
    for _ in 0..size {
        let subject = SubjectId::new();
        let wrapped = old.wrap(&DataKey::generate(), subject.0.as_bytes()).to_bytes();
        keys.put_data_key(&StoredDataKey {
            subject_id: subject,
            master_key_id: old.id().as_str().to_owned(),
            wrapped,
            created_at: jiff::Timestamp::now(),
        })
        .await?;
    }
    let load_s = started.elapsed().as_secs_f64();
    let new = MasterKey::generate();
    let keyring = Keyring::new(MasterKey::from_key_file(&new.to_key_file())?).with_other(old);
    let vault = Vault::open(keyring, keys.clone()).await?;
    let started = Instant::now();
    let done = vault.rotate(&new, 1_000, |_| {}).await?;
    let rotate_s = started.elapsed().as_secs_f64();
    keys.close_keys().await;
    db.finish().await?;
    let mut report = Report::new("rotation");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("data_keys", size)
        .note("rewrapped", done.data_keys)
        .figure("rotation_s", rotate_s, "s")
        .figure("keys_per_s", size as f64 / rotate_s, "1/s")
        .figure("rotation_s_per_million", rotate_s * 1e6 / size as f64, "s")
        .figure("key_inserts_per_s", size as f64 / load_s, "1/s");
    Ok(report)
}

/// Audit appends per second with 16 concurrent writers: through the group-committing
/// [`Auditor`] that custos uses, and, as a comparison, one transaction per entry.
pub(crate) async fn audit(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    const WRITERS: u64 = 16;
    let per_writer = (size / WRITERS).max(1);
    let appended = per_writer * WRITERS;
    let entry = |w: u64, n: u64| NewAuditEntry {
        at: jiff::Timestamp::now(),
        actor: format!("service:w{w}"),
        action: "record.read".into(),
        subject_id: Some(SubjectId::new()),
        purpose: Some("support".into()),
        detail: serde_json::json!({"outcome": "allowed", "n": n}),
    };

    let db = scratch(postgres).await?;
    let store: Arc<dyn Store> =
        custos_store::connect(&db.url, &ConnectOptions { max_connections: 16, ..Default::default() }).await?;
    let keys: Arc<dyn KeyStore> = custos_store::connect_keys(&db.keys_url, &ConnectOptions::default()).await?;
    let auditor = Auditor::spawn(store.clone(), keys.clone());
    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let auditor = auditor.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..per_writer {
                auditor.append(entry(w, n)).await?;
            }
            Ok::<_, custos_store::StoreError>(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let grouped_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..per_writer {
                store.append_audit(&entry(w, n)).await?;
            }
            Ok::<_, custos_store::StoreError>(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    let single_s = started.elapsed().as_secs_f64();
    drop(auditor);
    store.close().await;
    keys.close_keys().await;
    db.finish().await?;

    let mut report = Report::new("audit");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("writers", WRITERS)
        .note("appends", appended)
        .figure("appends_per_s", appended as f64 / grouped_s, "1/s")
        .figure("one_transaction_per_entry_appends_per_s", appended as f64 / single_s, "1/s")
        .figure("group_commit_speedup", single_s / grouped_s, "x");
    Ok(report)
}
