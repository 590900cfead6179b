use std::sync::Arc;

use custos_store::{EventVisitor, Store, StoreError, StoredEvent, SubjectId};
use custos_testkit::{TestDb, on_both_backends};

use crate::{at, user};

on_both_backends!(
    events_are_stored_and_totalled,
    daily_salts_are_shared_then_destroyed,
    events_and_the_audit_entries_tracing_them_commit_together
);

fn event(visitor: EventVisitor, ms: i64, kind: &str, path: &str, entry: bool) -> StoredEvent {
    StoredEvent {
        visitor,
        event_id: uuid::Uuid::now_v7(),
        at: at(ms),
        kind: kind.into(),
        path: path.into(),
        referrer: Some("https://search.example".into()),
        entry,
        duration_ms: (kind == "leave").then_some(30_000),
        sealed_ip: None,
        country: Some("DE".into()),
        browser: Some("Firefox".into()),
        os: Some("Linux".into()),
        device: Some("pc".into()),
    }
}

async fn events_are_stored_and_totalled(store: Arc<dyn Store>, _db: &TestDb) {
    let s = user();
    store.create_subject(&s, &[]).await.expect("create");
    let known = EventVisitor::Subject(s.id);
    let anon = EventVisitor::Anonymous([7; 32]);
    store
        .insert_events(&[
            event(known.clone(), 1, "pageview", "/", true),
            event(known.clone(), 2, "pageview", "/pricing", false),
            event(known.clone(), 3, "leave", "/pricing", false),
            event(anon.clone(), 4, "pageview", "/pricing", true),
            event(anon.clone(), 5, "click", "/pricing", false),
            event(anon, 10_000, "pageview", "/late", true),
        ])
        .await
        .expect("insert");
    let totals = store.event_totals(at(0), at(1_000), 10).await.expect("totals");
    assert_eq!((totals.visitors, totals.visits, totals.page_views), (2, 2, 3));
    assert_eq!(totals.duration, (30_000, 1));
    assert_eq!(totals.pages, vec![("/pricing".to_owned(), 2), ("/".to_owned(), 1)]);
    assert_eq!(totals.entry_pages, vec![("/".to_owned(), 1), ("/pricing".to_owned(), 1)]);
    assert_eq!(totals.countries, vec![("DE".to_owned(), 3)]);
    // A person's events read back as written, every column (the sealed address too, and
    // the columns left empty).
    let mut written =
        vec![event(known.clone(), 20, "pageview", "/a", true), event(known.clone(), 21, "click", "/b", false)];
    written[0].sealed_ip = Some(vec![0, 1, 2, 255]);
    written[1].referrer = None;
    written[1].country = None;
    written[1].browser = None;
    written[1].os = None;
    written[1].device = None;
    store.insert_events(&written).await.expect("insert");
    let mut read = store.subject_events(s.id, 100).await.expect("read");
    read.retain(|e| written.iter().any(|w| w.event_id == e.event_id));
    read.sort_by_key(|e| e.event_id);
    written.sort_by_key(|e| e.event_id);
    assert_eq!(read, written, "read back as written");
    let err = store.insert_events(&[event(EventVisitor::Subject(SubjectId::new()), 1, "pageview", "/", true)]).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");
    assert!(store.delete_subject(s.id).await.expect("delete"));
    assert_eq!(
        store.event_totals(at(0), at(1_000), 10).await.expect("totals").page_views,
        1,
        "erasure removes the events"
    );
}

async fn daily_salts_are_shared_then_destroyed(store: Arc<dyn Store>, _db: &TestDb) {
    let first = store.analytics_salt("2026-11-29", &[1; 32], at(0)).await.expect("salt");
    let second = store.analytics_salt("2026-11-29", &[2; 32], at(5)).await.expect("salt");
    assert_eq!((first, second), ([1; 32], [1; 32]), "every process uses the first salt of the day");
    store.analytics_salt("2026-11-30", &[3; 32], at(86_400_000)).await.expect("salt");
    assert_eq!(store.purge_salts(at(86_400_000)).await.expect("purge"), 1);
    assert_eq!(
        store.analytics_salt("2026-11-29", &[4; 32], at(86_400_001)).await.expect("salt"),
        [4; 32],
        "a destroyed salt is gone"
    );
}

async fn events_and_the_audit_entries_tracing_them_commit_together(store: Arc<dyn Store>, _db: &TestDb) {
    let s = user();
    store.create_subject(&s, &[]).await.expect("create");
    let entry = |subject: SubjectId| custos_store::NewAuditEntry {
        at: at(1),
        actor: "system".into(),
        action: "events.write".into(),
        subject_id: Some(subject),
        purpose: Some("analytics".into()),
        detail: serde_json::json!({"events": 1}),
    };
    let before = store.audit_entries(0, 1_000).await.expect("audit").len();
    // An event of nobody's fails, and its audit entry is not kept either.
    let ghost = SubjectId::new();
    let failed = store
        .insert_events_audited(&[event(EventVisitor::Subject(ghost), 1, "pageview", "/", true)], &[entry(ghost)])
        .await;
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(store.audit_entries(0, 1_000).await.expect("audit").len(), before, "nothing half-written");
    let appended = store
        .insert_events_audited(
            &[
                event(EventVisitor::Subject(s.id), 1, "pageview", "/", true),
                event(EventVisitor::Anonymous([3; 32]), 2, "pageview", "/", true),
            ],
            &[entry(s.id)],
        )
        .await
        .expect("insert");
    assert_eq!(appended.len(), 1);
    let log = store.audit_entries(0, 1_000).await.expect("audit");
    assert_eq!(log.len(), before + 1);
    assert_eq!(log.last().map(|e| (e.seq, e.hash)), appended.last().map(|e| (e.seq, e.hash)), "the chain goes on");
    assert_eq!(store.event_totals(at(0), at(1_000), 10).await.expect("totals").page_views, 2);
    assert!(store.insert_events_audited(&[], &[]).await.expect("nothing").is_empty());
}
