//! Crash safety: the real `custos serve` under load from several tasks (page views,
//! consents, rights requests and their verification, at full speed) is killed with SIGKILL
//! at random moments, many times, and started again on the same data. At the end, every
//! write it acknowledged is stored exactly once, every job it had queued has run exactly
//! once (one code mail per request, one answer per fulfilled request, no step of a request
//! recorded twice), SQLite's integrity check passes and the audit chain verifies.
//!
//! The kill times come from a seeded generator; the seed is printed, and
//! `CUSTOS_CRASH_SEED=N` runs the same schedule again.

use std::time::Duration;

use common::load::{Installation, Load, check, mails};
use custos_testkit::TestDb;
use rand::{Rng, SeedableRng};

mod common;

/// Kills per run: each start, load, kill takes about a second in a debug build.
const KILLS: usize = 8;

async fn killed_at_random_moments(db: TestDb, backend: &str) {
    let seed = std::env::var("CUSTOS_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
    });
    eprintln!("{backend}: kill schedule seed {seed} (CUSTOS_CRASH_SEED={seed} repeats it)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let installation = Installation::new(db, &[]);
    let token = installation.token();
    let load = Load::spawn(&token, 2, Some(installation.mail_dir()), backend);
    for kill in 0..KILLS {
        let process = installation.start();
        load.aim(Some(process.base()));
        let up = rng.random_range(100..1_200);
        tokio::time::sleep(Duration::from_millis(up)).await;
        process.kill();
        load.aim(None);
        eprintln!("{backend}: kill {} after {up} ms; {}", kill + 1, load.ledger.summary());
    }
    // A last start: the load runs a little longer, then stops, and everything is checked.
    let process = installation.start();
    load.aim(Some(process.base()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ledger = load.finish().await;
    eprintln!("{backend}: {}", ledger.summary());
    assert!(ledger.events.lock().expect("events").len() > 20, "too little load to prove anything");
    assert!(ledger.consents.lock().expect("consents").len() > 5, "too little load to prove anything");
    assert!(ledger.rights.lock().expect("rights").len() > 5, "too little load to prove anything");
    assert!(!ledger.verified.lock().expect("verified").is_empty(), "no request was verified");
    let mail_dir = installation.mail_dir();
    let checked = check(&installation, &process, &ledger, &token, || mails(&mail_dir)).await;
    eprintln!("{backend}: {checked:?}");
    let failures = ledger.failures.lock().expect("failures").clone();
    let unexpected: Vec<_> = failures
        .keys()
        .filter(|k| !matches!(k.as_str(), "connection" | "verify answered before the kill, answer lost"))
        .collect();
    assert!(unexpected.is_empty(), "answers other than a dropped connection: {failures:?}");
    assert_eq!(process.terminate(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_every_acknowledged_write_through_sigkills() {
    killed_at_random_moments(TestDb::sqlite(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_every_acknowledged_write_through_sigkills() {
    let Some(db) = TestDb::postgres().await else { return };
    killed_at_random_moments(db, "postgres").await;
}
