//! `rights`: the cost of rights requests for one person, measured where the store is full of
//! other people.
//!
//! The store is loaded with `size` events of other visitors (10 each: `--size 10000000`
//! is the million people and ten million events), then
//! 20 people who each have a name, an address, a consent and 1,000 events of their own.
//! For each of them the scenario times building their access package (report and zip) and
//! erasing them; p50 and p99 over the 20. The same is measured in the same run with a
//! store 100 times smaller, and the growth between the two is reported: the cost should
//! follow the person's data, not the size of the database. Finally 200 erasure requests
//! go end to end in process (submitted, their codes mailed as .eml files and read back,
//! verified, executed, the person told) and the verified requests per second are reported.
//!
//! Targets (issue 7): access ≤ 20 ms p50, erasure ≤ 10 ms p50, growth ≤ 1.5×, ≥ 200
//! requests/s.

use std::sync::Arc;
use std::time::Instant;

use custos_engine::gate::Actor;
use custos_engine::jobs::JobRunner;
use custos_engine::mail::Mailer;
use custos_engine::records::NewValue;
use custos_engine::rights::{NewRightsRequest, RightsExecution, RightsMail};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{
    ConnectOptions, ConsentEntry, EventVisitor, IdentifierKind, NewSubject, StoredEvent, SubjectId, SubjectKind,
};
use custos_vault::MasterKey;

use crate::report::Report;
use crate::scenarios::scratch;

/// People measured one by one.
const PEOPLE: usize = 20;
/// Events each of them has.
const OWN_EVENTS: usize = 1_000;
/// Events each of the other people in the store has.
const BACKGROUND_EVENTS: usize = 10;
/// Requests sent end to end.
const REQUESTS: usize = 200;
/// Job workers carrying the requests out, as many as `custos serve` runs by default
/// (`[jobs] workers`).
const WORKERS: usize = 2;

struct Measured {
    access_ms: Vec<f64>,
    erasure_ms: Vec<f64>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn events_of(subject: SubjectId, n: usize, at: jiff::Timestamp) -> Vec<StoredEvent> {
    (0..n)
        .map(|i| StoredEvent {
            visitor: EventVisitor::Subject(subject),
            event_id: uuid::Uuid::now_v7(),
            at,
            kind: "pageview".into(),
            path: format!("/p/{}", i % 40),
            referrer: None,
            entry: i == 0,
            duration_ms: None,
            sealed_ip: None,
            country: Some("DE".into()),
            browser: Some("Firefox".into()),
            os: Some("Linux".into()),
            device: Some("pc".into()),
        })
        .collect()
}

pub(crate) async fn run(size: u64, postgres: Option<&str>) -> anyhow::Result<Report> {
    let small_size = (size / 100).max(1_000).min(size);
    let (small, _) = measure(small_size, postgres, false).await?;
    let (large, per_second) = measure(size, postgres, true).await?;
    let (a_small, e_small) = (sorted(small.access_ms), sorted(small.erasure_ms));
    let (a, e) = (sorted(large.access_ms), sorted(large.erasure_ms));
    let mut report = Report::new("rights");
    report
        .note("backend", if postgres.is_some() { "postgres" } else { "sqlite" })
        .note("background_events", size)
        .note("background_people", size.div_ceil(BACKGROUND_EVENTS as u64))
        .note("background_events_small", small_size)
        .note("people_measured", PEOPLE as u64)
        .note("events_per_person", OWN_EVENTS as u64)
        .note("requests_end_to_end", REQUESTS as u64)
        .note("job_workers", WORKERS as u64)
        .figure("access_p50_ms", percentile(&a, 0.5), "ms")
        .figure("access_p99_ms", percentile(&a, 0.99), "ms")
        .figure("erasure_p50_ms", percentile(&e, 0.5), "ms")
        .figure("erasure_p99_ms", percentile(&e, 0.99), "ms")
        .figure("access_growth", percentile(&a, 0.5) / percentile(&a_small, 0.5), "ratio")
        .figure("erasure_growth", percentile(&e, 0.5) / percentile(&e_small, 0.5), "ratio")
        .figure("requests_per_s", per_second.unwrap_or(f64::NAN), "1/s")
        .target("access_p50_ms", "<=", 20.0)
        .target("erasure_p50_ms", "<=", 10.0)
        .target("access_growth", "<=", 1.5)
        .target("erasure_growth", "<=", 1.5)
        .target("requests_per_s", ">=", 200.0);
    Ok(report)
}

/// Loads `background` events of others, measures access and erasure for [`PEOPLE`]
/// people, and with `end_to_end` the requests per second.
async fn measure(background: u64, postgres: Option<&str>, end_to_end: bool) -> anyhow::Result<(Measured, Option<f64>)> {
    let db = scratch(postgres).await?;
    let store = custos_store::connect(&db.url, &ConnectOptions { max_connections: 8, ..Default::default() }).await?;
    let keys = custos_store::connect_keys(&db.keys_url, &ConnectOptions::default()).await?;
    let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), keys.clone()).await?);
    // The engine's services as `custos serve` builds them.
    let state = custos_server::AppState::new(store.clone(), vault, Policy::example());
    let (records, rights, policy) = (state.records.clone(), state.rights.clone(), state.policy.clone());
    let now = jiff::Timestamp::now();

    // Other people: visitors with 10 events each. Loading millions of events
    // takes minutes: a progress bar on standard error says how far it is (hidden when
    // standard error is not a terminal).
    let progress = indicatif::ProgressBar::new(background).with_style(
        indicatif::ProgressStyle::with_template("loading {pos}/{len} events [{bar:40}] {per_sec}, {eta} left")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut loaded = 0u64;
    while loaded < background {
        let subject = NewSubject { id: SubjectId::new(), kind: SubjectKind::Visitor, created_at: now };
        store.create_subject(&subject, &[]).await?;
        let n = (background - loaded).min(BACKGROUND_EVENTS as u64) as usize;
        store.insert_events(&events_of(subject.id, n, now)).await?;
        loaded += n as u64;
        progress.set_position(loaded);
    }
    progress.finish_and_clear();

    // The people measured, and those who send requests end to end.
    let person = |n: usize| format!("person{n}@example.org");
    let mut people = Vec::new();
    for n in 0..PEOPLE + if end_to_end { REQUESTS } else { 0 } {
        let email = person(n);
        let (id, _) =
            records.create_subject(&Actor::System, SubjectKind::User, &[(IdentifierKind::Email, &email)], &[]).await?;
        store
            .append_consent(&ConsentEntry {
                subject_id: id,
                purpose: "marketing".into(),
                granted: true,
                method: "form".into(),
                policy_version: policy.version().hash,
                text_version: String::new(),
                source_ip: None,
                at: now,
            })
            .await?;
        let values = [
            NewValue { purpose: "marketing", category: "user.name", value: b"Ada Byron" },
            NewValue { purpose: "marketing", category: "user.contact.email", value: email.as_bytes() },
        ];
        records.write_all(&Actor::System, id, &values).await?;
        if n < PEOPLE {
            store.insert_events(&events_of(id, OWN_EVENTS, now)).await?;
        }
        people.push(id);
    }

    let mut measured = Measured { access_ms: Vec::new(), erasure_ms: Vec::new() };
    for &id in &people[..PEOPLE] {
        let started = Instant::now();
        let package = custos_engine::access::package(&records, &store, &policy, id, uuid::Uuid::now_v7()).await?;
        measured.access_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(package.data["events"].as_array().map_or(0, Vec::len) == OWN_EVENTS, "the copy misses events");
        let started = Instant::now();
        records.erase(&Actor::System, id).await?;
        measured.erasure_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }

    let per_second = if end_to_end {
        let mail_dir = tempfile::tempdir()?;
        let mailer = Mailer::from_url(&format!("file://{}", mail_dir.path().display()), "privacy@shop.example")?;
        let runners: Vec<Arc<JobRunner>> = (0..WORKERS)
            .map(|n| {
                Arc::new(
                    JobRunner::new(store.clone())
                        .with_worker_id(format!("bench-{n}"))
                        .register(RightsExecution::new(rights.clone()))
                        .register(RightsMail::new(rights.clone(), mailer.clone(), "https://privacy.shop.example")),
                )
            })
            .collect();
        let runner = runners[0].clone();
        let mut ids = Vec::new();
        for n in PEOPLE..PEOPLE + REQUESTS {
            let new = NewRightsRequest {
                transmit_to: None,
                language: None,
                kind: "erasure".into(),
                email: person(n),
                purpose: None,
                corrections: vec![],
                agent: None,
            };
            ids.push(rights.submit(&new, "api").await?.id);
        }
        runner.run_pending().await?;
        // The codes, read back from the mail as a person would.
        let mut codes = std::collections::HashMap::new();
        for entry in std::fs::read_dir(mail_dir.path())? {
            let text = std::fs::read_to_string(entry?.path())?.replace("=\r\n", "").replace("=\n", "");
            let code = text.lines().find_map(|l| l.strip_prefix("Your code: ")).map(str::trim);
            let reference = text.lines().find_map(|l| l.strip_prefix("Reference: ")).map(str::trim);
            if let (Some(code), Some(reference)) = (code, reference) {
                codes.insert(reference.to_owned(), code.to_owned());
            }
        }
        let started = Instant::now();
        for id in &ids {
            let code = codes.get(&id.to_string()).ok_or_else(|| anyhow::anyhow!("no code mailed for {id}"))?;
            rights.verify(*id, code).await?;
        }
        // The workers take jobs from the one queue side by side, as `custos serve`'s do.
        let mut working = Vec::new();
        for r in &runners {
            let r = r.clone();
            working.push(tokio::spawn(async move { r.run_pending().await }));
        }
        for w in working {
            w.await??;
        }
        runner.run_pending().await?;
        let seconds = started.elapsed().as_secs_f64();
        for id in &ids {
            anyhow::ensure!(rights.get(*id).await?.state == "fulfilled", "request {id} was not fulfilled");
        }
        Some(REQUESTS as f64 / seconds)
    } else {
        None
    };
    store.close().await;
    keys.close_keys().await;
    db.finish().await?;
    Ok((measured, per_second))
}
