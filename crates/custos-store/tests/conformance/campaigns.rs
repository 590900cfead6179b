use std::sync::Arc;

use custos_store::{Campaign, ConsentEntry, Store, StoreError, SubjectId};
use custos_testkit::{TestDb, on_both_backends};

use crate::{at, user};

on_both_backends!(
    a_campaign_is_queued_once_and_each_delivery_recorded_once,
    the_audience_is_who_consents_now_without_objection_or_restriction,
);

fn campaign() -> Campaign {
    Campaign {
        id: uuid::Uuid::now_v7(),
        name: "Spring".into(),
        purpose: "marketing".into(),
        subject_line: "Spring offers".into(),
        body: "Hello {{name}}".into(),
        created_at: at(0),
        queued_at: None,
    }
}

fn consent(subject: SubjectId, granted: bool, ms: i64) -> ConsentEntry {
    ConsentEntry {
        subject_id: subject,
        purpose: "marketing".into(),
        granted,
        method: "form".into(),
        policy_version: "v1".into(),
        text_version: String::new(),
        source_ip: None,
        at: at(ms),
    }
}

async fn a_campaign_is_queued_once_and_each_delivery_recorded_once(store: Arc<dyn Store>, _db: &TestDb) {
    let c = campaign();
    store.create_campaign(&c).await.expect("create");
    assert!(matches!(store.create_campaign(&c).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.campaign(c.id).await.expect("read"), Some(c.clone()), "every field round-trips");
    assert!(store.mark_campaign_queued(c.id, at(5)).await.expect("queue"));
    assert!(!store.mark_campaign_queued(c.id, at(6)).await.expect("again"), "sending starts once");
    assert_eq!(store.campaign(c.id).await.expect("read").expect("exists").queued_at, Some(at(5)));
    let later = Campaign { created_at: at(10), ..campaign() };
    store.create_campaign(&later).await.expect("create");
    let listed: Vec<uuid::Uuid> = store.campaigns(10).await.expect("list").iter().map(|c| c.id).collect();
    assert_eq!(listed, vec![later.id, c.id], "newest first");

    let s = user();
    store.create_subject(&s, &[]).await.expect("subject");
    assert!(!store.delivered(c.id, s.id).await.expect("delivered"));
    assert!(store.record_delivery(c.id, s.id, at(7)).await.expect("record"));
    assert!(!store.record_delivery(c.id, s.id, at(8)).await.expect("again"), "one delivery per person");
    assert!(store.delivered(c.id, s.id).await.expect("delivered"));
    assert!(!store.delivered(later.id, s.id).await.expect("delivered"), "per campaign");
    assert_eq!(store.delivery_count(c.id).await.expect("count"), 1);
    let unknown = store.record_delivery(c.id, SubjectId::new(), at(9)).await.expect_err("no such subject");
    assert!(matches!(unknown, StoreError::NotFound(_)), "{unknown:?}");
}

async fn the_audience_is_who_consents_now_without_objection_or_restriction(store: Arc<dyn Store>, _db: &TestDb) {
    let mut people = Vec::new();
    for _ in 0..6 {
        let s = user();
        store.create_subject(&s, &[]).await.expect("subject");
        people.push(s.id);
    }
    people.sort_by_key(|s| s.0);
    let [granted, withdrew, regranted, objected, restricted, never] = people[..] else { unreachable!() };
    for s in [granted, withdrew, regranted, objected, restricted] {
        store.append_consent(&consent(s, true, 1)).await.expect("grant");
    }
    store.append_consent(&consent(withdrew, false, 2)).await.expect("withdraw");
    store.append_consent(&consent(regranted, false, 2)).await.expect("withdraw");
    store.append_consent(&consent(regranted, true, 3)).await.expect("grant again");
    store.record_objection(objected, "marketing", at(2)).await.expect("object");
    store.set_restriction(restricted, Some("accuracy contested"), at(2)).await.expect("restrict");
    let mut analytics_only = consent(never, true, 1);
    analytics_only.purpose = "analytics".into();
    store.append_consent(&analytics_only).await.expect("other purpose");

    assert_eq!(store.audience("marketing", None, 100).await.expect("audience"), vec![granted, regranted]);
    let first = store.audience("marketing", None, 1).await.expect("page");
    let rest = store.audience("marketing", first.last().copied(), 100).await.expect("page");
    assert_eq!([first, rest].concat(), vec![granted, regranted], "pages follow on");

    // New terms: consents given before no longer count until given again.
    store.reset_consents("marketing", at(2)).await.expect("reset");
    assert_eq!(store.audience("marketing", None, 100).await.expect("audience"), vec![regranted]);
}
