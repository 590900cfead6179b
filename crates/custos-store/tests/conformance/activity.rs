use std::sync::Arc;

use custos_store::{ConsentDay, ConsentEntry, ConsentMethodCount, EventVisitor, Store, StoredEvent, SubjectId};
use custos_testkit::{TestDb, on_both_backends};
use jiff::Timestamp;

use crate::user;

on_both_backends!(decisions_and_events_are_counted_per_utc_day, live_consents_follow_the_latest_decision_and_resets);

const DAY: i64 = 86_400_000;
/// Midnight UTC, 2026-06-01.
const MIDNIGHT: i64 = 1_780_272_000_000;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(MIDNIGHT + ms).expect("time")
}

fn consent(subject: SubjectId, purpose: &str, granted: bool, ms: i64) -> ConsentEntry {
    ConsentEntry {
        subject_id: subject,
        purpose: purpose.into(),
        granted,
        method: "banner".into(),
        policy_version: "v1".into(),
        text_version: "t1".into(),
        source_ip: None,
        at: t(ms),
    }
}

fn event(visitor: EventVisitor, ms: i64) -> StoredEvent {
    StoredEvent {
        visitor,
        event_id: uuid::Uuid::now_v7(),
        at: t(ms),
        kind: "pageview".into(),
        path: "/".into(),
        referrer: None,
        entry: true,
        duration_ms: None,
        sealed_ip: None,
        country: None,
        browser: None,
        os: None,
        device: None,
    }
}

async fn decisions_and_events_are_counted_per_utc_day(store: Arc<dyn Store>, _db: &TestDb) {
    let (a, b) = (user(), user());
    store.create_subject(&a, &[]).await.expect("create");
    store.create_subject(&b, &[]).await.expect("create");
    // Day 0: two grants and a refusal of analytics, one marketing grant; the last
    // millisecond of day 0 belongs to day 0, midnight to day 1.
    store.append_consent(&consent(a.id, "analytics", true, 10)).await.expect("append");
    store.append_consent(&consent(b.id, "analytics", true, DAY - 1)).await.expect("append");
    store.append_consent(&consent(a.id, "analytics", false, 20)).await.expect("append");
    store.append_consent(&consent(a.id, "marketing", true, 30)).await.expect("append");
    store.append_consent(&consent(b.id, "analytics", false, DAY)).await.expect("append");
    // Outside the window.
    store.append_consent(&consent(b.id, "marketing", true, 5 * DAY)).await.expect("append");

    let days = store.consents_per_day(t(0), t(2 * DAY)).await.expect("count");
    let first = MIDNIGHT / DAY;
    assert_eq!(
        days,
        vec![
            ConsentDay { day: first, purpose: "analytics".into(), granted: 2, withdrawn: 1 },
            ConsentDay { day: first, purpose: "marketing".into(), granted: 1, withdrawn: 0 },
            ConsentDay { day: first + 1, purpose: "analytics".into(), granted: 0, withdrawn: 1 },
        ]
    );

    let events = vec![
        event(EventVisitor::Subject(a.id), 5),
        event(EventVisitor::Anonymous([7; 32]), 6),
        event(EventVisitor::Anonymous([8; 32]), DAY + 5),
        event(EventVisitor::Anonymous([8; 32]), 3 * DAY),
    ];
    store.insert_events(&events).await.expect("events");
    assert_eq!(store.events_per_day(t(0), t(2 * DAY)).await.expect("count"), vec![(first, 2), (first + 1, 1)]);
    assert!(store.events_per_day(t(10 * DAY), t(11 * DAY)).await.expect("count").is_empty());
}

async fn live_consents_follow_the_latest_decision_and_resets(store: Arc<dyn Store>, _db: &TestDb) {
    let (a, b, c) = (user(), user(), user());
    for s in [&a, &b, &c] {
        store.create_subject(s, &[]).await.expect("create");
    }
    // A granted then withdrew analytics; B granted it; C granted it by the form.
    store.append_consent(&consent(a.id, "analytics", true, 10)).await.expect("append");
    store.append_consent(&consent(a.id, "analytics", false, 20)).await.expect("append");
    store.append_consent(&consent(b.id, "analytics", true, 30)).await.expect("append");
    let mut by_form = consent(c.id, "analytics", true, 40);
    by_form.method = "form".into();
    store.append_consent(&by_form).await.expect("append");
    // Marketing: A and B granted, then the purpose's terms changed; only B granted again.
    store.append_consent(&consent(a.id, "marketing", true, 50)).await.expect("append");
    store.append_consent(&consent(b.id, "marketing", true, 60)).await.expect("append");
    store.reset_consents("marketing", t(DAY)).await.expect("reset");
    store.append_consent(&consent(b.id, "marketing", true, DAY + 1)).await.expect("append");

    let live = store.live_consent_counts().await.expect("live");
    assert_eq!(live, vec![("analytics".to_owned(), 2), ("marketing".to_owned(), 1)]);

    let methods = store.consent_methods(t(0), t(DAY)).await.expect("methods");
    let row = |purpose: &str, method: &str, granted: bool, count: u64| ConsentMethodCount {
        purpose: purpose.into(),
        method: method.into(),
        granted,
        count,
    };
    assert_eq!(
        methods,
        vec![
            row("analytics", "banner", false, 1),
            row("analytics", "banner", true, 2),
            row("analytics", "form", true, 1),
            row("marketing", "banner", true, 2),
        ],
        "the renewal after the window is not counted"
    );
}
