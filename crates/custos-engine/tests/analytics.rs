//! A consenting visitor's events are traced in the audit chain per visit: every stored event
//! lies within the window of an `events.write` entry naming its visitor and purpose,
//! committed with it or before it, on SQLite and PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use custos_engine::analytics::{Analytics, EventKind, IncomingEvent, Mode, SEALING_KEY_TTL, VISIT_TRACE, Visit};
use custos_engine::audit::Auditor;
use custos_engine::clock::ManualClock;
use custos_engine::consent::{ConsentRecord, ConsentTarget, Consents};
use custos_engine::gate::Actor;
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{AuditEntry, DataKeyLookup, KeyStore, Store, SubjectId};
use custos_testkit::{TestDb, on_both_backends};
use custos_vault::MasterKey;
use jiff::Timestamp;

on_both_backends!(
    a_visitors_events_are_traced_once_per_visit_and_never_left_untraced,
    a_kept_sealing_key_seals_nothing_anyone_can_open_after_an_erasure
);

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

fn page() -> IncomingEvent {
    IncomingEvent {
        kind: EventKind::PageView,
        url: "https://shop.example/pricing".into(),
        referrer: None,
        entry: false,
        duration_ms: None,
    }
}

fn visit(cookie: &str) -> Visit<'_> {
    Visit {
        cookie_id: Some(cookie),
        ip: "203.0.113.9".parse().expect("ip"),
        user_agent: AGENT,
        gpc: false,
        site: "shop.example",
    }
}

async fn record(analytics: &Analytics, cookie: &str) -> SubjectId {
    match analytics.ingest(&visit(cookie), &[page(), page()]).await.expect("ingest") {
        (custos_engine::analytics::Mode::Consented(subject), 2) => subject,
        other => panic!("not recorded as consented: {other:?}"),
    }
}

/// The `events.write` entries naming `subject`, in chain order.
fn traces(entries: &[AuditEntry], subject: SubjectId) -> Vec<Timestamp> {
    entries
        .iter()
        .filter(|e| e.entry.action == "events.write" && e.entry.subject_id == Some(subject))
        .inspect(|e| assert_eq!(e.entry.purpose.as_deref(), Some("analytics"), "the purpose is named"))
        .map(|e| e.entry.at)
        .collect()
}

/// Analytics over a store, on a manual clock, whose visitors said yes in the banner.
struct Site {
    keys: Arc<dyn KeyStore>,
    vault: Arc<Vault>,
    policy: Arc<Policy>,
    t0: Timestamp,
    clock: ManualClock,
    auditor: Auditor,
    analytics: Arc<Analytics>,
}

/// A site over `store` where each of `cookies` consented to analytics at the clock's start.
async fn site(store: &Arc<dyn Store>, db: &TestDb, cookies: &[&str]) -> Site {
    let keys = db.keys().await;
    let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), keys.clone()).await.expect("vault"));
    let policy = Arc::new(Policy::example());
    let t0 = Timestamp::from_second(1_800_000_000).expect("time");
    let clock = ManualClock::new(t0);
    let auditor = Auditor::spawn(store.clone(), keys.clone());
    let consents =
        Consents::new(store.clone(), vault.clone(), policy.clone(), auditor.clone(), Arc::new(clock.clone()));
    for cookie in cookies {
        let grant = ConsentRecord {
            target: ConsentTarget::Visitor { cookie_id: (*cookie).into() },
            purpose: "analytics".into(),
            granted: true,
            method: "banner".into(),
            text_version: "banner-v1".into(),
            source_ip: None,
        };
        consents.record(&Actor::System, &grant).await.expect("consent");
    }
    let analytics = Arc::new(Analytics::new(store.clone(), vault.clone(), &policy, &auditor, Arc::new(clock.clone())));
    Site { keys, vault, policy, t0, clock, auditor, analytics }
}

async fn a_visitors_events_are_traced_once_per_visit_and_never_left_untraced(store: Arc<dyn Store>, db: &TestDb) {
    let Site { vault, policy, t0, clock, auditor, analytics, .. } =
        site(&store, db, &["cookie-a", "cookie-b", "cookie-c"]).await;

    // One visitor's visit: the first request is traced, the next ones within the window
    // are covered by that entry; past the window a new entry opens.
    let a = record(&analytics, "cookie-a").await;
    clock.advance(Duration::from_secs(1));
    assert_eq!(record(&analytics, "cookie-a").await, a);
    let b = record(&analytics, "cookie-b").await;
    clock.advance(Duration::from_secs(29 * 60));
    record(&analytics, "cookie-a").await;
    clock.advance(Duration::from_secs(60));
    record(&analytics, "cookie-a").await;
    record(&analytics, "cookie-b").await;
    // Many requests of one visitor at once: none waits for another's entry.
    let c = {
        let mut runs = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let analytics = analytics.clone();
            runs.spawn(async move { record(&analytics, "cookie-c").await });
        }
        let subjects = runs.join_all().await;
        assert!(subjects.windows(2).all(|w| w[0] == w[1]));
        subjects[0]
    };
    // Another process (or this one restarted) knows of no entry: it writes its own.
    let restarted = Analytics::new(store.clone(), vault, &policy, &auditor, Arc::new(clock.clone()));
    clock.advance(Duration::from_secs(1));
    record(&restarted, "cookie-a").await;

    let entries = store.audit_entries(0, 10_000).await.expect("audit");
    let minute = |m: i64| t0 + jiff::SignedDuration::from_secs(m * 60);
    let second = |s: i64| t0 + jiff::SignedDuration::from_secs(s);
    assert_eq!(traces(&entries, a), vec![t0, minute(30) + jiff::SignedDuration::from_secs(1), second(30 * 60 + 2)]);
    assert_eq!(traces(&entries, b), vec![second(1), minute(30) + jiff::SignedDuration::from_secs(1)]);
    let concurrent = traces(&entries, c).len();
    assert!((1..=16).contains(&concurrent), "{concurrent} entries for 16 concurrent requests");

    // The promise itself: every stored event of each visitor lies within an entry's window.
    for subject in [a, b, c] {
        let windows = traces(&entries, subject);
        let events = store.subject_events(subject, 1_000).await.expect("events");
        assert!(!events.is_empty());
        for event in events {
            assert!(
                windows.iter().any(|at| *at <= event.at && event.at < *at + VISIT_TRACE),
                "the event at {} is traced by no entry ({windows:?})",
                event.at
            );
        }
    }
    auditor.settle().await.expect("settle");
}

/// Analytics keeps a consenting visitor's data key a minute to seal their events. The key
/// only seals: once another process has destroyed it (an erasure's first step), what this
/// one seals with its kept copy opens for no one, the key is read again after
/// `SEALING_KEY_TTL` (and then found destroyed), and once the erasure has deleted the person
/// their next page view is counted cookielessly and nothing of theirs remains.
async fn a_kept_sealing_key_seals_nothing_anyone_can_open_after_an_erasure(store: Arc<dyn Store>, db: &TestDb) {
    let Site { keys, vault, t0, clock, auditor, analytics, .. } = site(&store, db, &["cookie-e"]).await;
    let subject = record(&analytics, "cookie-e").await;

    // The key is destroyed (as by an erasure in another process: analytics is not told);
    // analytics still holds its copy for a while.
    assert!(vault.shred(subject, t0).await.expect("shred"));
    clock.advance(Duration::from_secs(1));
    assert_eq!(record(&analytics, "cookie-e").await, subject, "sealed with the kept key");
    assert!(matches!(keys.data_key(subject).await.expect("lookup"), DataKeyLookup::Erased(_)));
    let events = store.subject_events(subject, 100).await.expect("events");
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.sealed_ip.is_some()), "every address is sealed");
    assert!(vault.data_key(subject).await.is_err(), "no key opens them any more");

    // Past the kept key's time, the process reads the key again and finds it destroyed.
    clock.advance(SEALING_KEY_TTL.unsigned_abs());
    assert!(analytics.ingest(&visit("cookie-e"), &[page()]).await.is_err(), "nothing sealed under no key");
    assert_eq!(store.subject_events(subject, 100).await.expect("events").len(), 4, "the failed request stored nothing");

    // The erasure's second step deletes the person and their events: the cookie now counts
    // cookielessly, whatever key this process kept.
    store.delete_subject(subject).await.expect("delete");
    let (mode, stored) = analytics.ingest(&visit("cookie-e"), &[page()]).await.expect("ingest");
    assert_eq!((mode, stored), (Mode::Cookieless, 1));
    assert!(store.subject_events(subject, 100).await.expect("events").is_empty());
    auditor.settle().await.expect("settle");
}
