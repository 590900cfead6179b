use std::collections::BTreeMap;
use std::sync::Arc;

use custos_store::{
    Breach, Disclosure, GovernanceNotice, LegalHold, LegalRequest, NewRecord, RetentionSweep, Store, StoreError,
    SubjectId,
};
use custos_testkit::{TestDb, on_both_backends};
use uuid::Uuid;

use crate::{at, user};

on_both_backends!(
    holds_are_placed_listed_and_released_once,
    the_expiry_index_is_walked_in_order_and_a_batch_saves_progress_with_its_deletes,
    disclosures_are_logged_with_their_subjects_and_outlive_the_person,
    notices_are_stored_once_per_addressee_and_marked_sent,
    breaches_are_notified_once_and_legal_requests_decided_once,
);

fn hold(scope: &str, target: Option<&str>, placed: i64) -> LegalHold {
    LegalHold {
        id: Uuid::now_v7(),
        scope: scope.into(),
        target: target.map(str::to_owned),
        reason: "pending claim".into(),
        placed_by: "dpo".into(),
        placed_at: at(placed),
        until: None,
        released_at: None,
        released_by: None,
        release_reason: None,
    }
}

async fn holds_are_placed_listed_and_released_once(store: Arc<dyn Store>, _db: &TestDb) {
    let a = hold("purpose", Some("contact"), 1);
    let b = hold("all", None, 2);
    store.put_hold(&a).await.expect("put");
    store.put_hold(&b).await.expect("put");
    let e = store.put_hold(&hold("all", Some("x"), 3)).await.expect_err("all names no target");
    assert!(!matches!(e, StoreError::Conflict(_)), "{e}");
    assert_eq!(store.holds(false).await.expect("list").iter().map(|h| h.id).collect::<Vec<_>>(), vec![b.id, a.id]);
    assert!(store.release_hold(a.id, "dpo", "settled", at(5)).await.expect("release"));
    assert!(!store.release_hold(a.id, "dpo", "again", at(6)).await.expect("release"), "once");
    assert_eq!(store.holds(false).await.expect("list").len(), 1);
    let all = store.holds(true).await.expect("all");
    let released = all.iter().find(|h| h.id == a.id).expect("kept");
    assert_eq!((released.released_at, released.release_reason.as_deref()), (Some(at(5)), Some("settled")));
}

async fn the_expiry_index_is_walked_in_order_and_a_batch_saves_progress_with_its_deletes(
    store: Arc<dyn Store>,
    _db: &TestDb,
) {
    let subject = user();
    store.create_subject(&subject, &[]).await.expect("create");
    let mut ids = Vec::new();
    for (i, expires) in [Some(30), Some(10), None, Some(20), Some(90)].into_iter().enumerate() {
        let id = Uuid::now_v7();
        ids.push(id);
        store
            .put_record(&NewRecord {
                subject_id: subject.id,
                record_id: id,
                category: format!("c{i}"),
                purpose: "p".into(),
                policy_version: "v".into(),
                sealed: vec![1],
                created_at: at(0),
                expires_at: expires.map(at),
            })
            .await
            .expect("put");
    }
    let first = store.expired_records(at(50), None, 2).await.expect("walk");
    assert_eq!(first.iter().map(|r| r.record_id).collect::<Vec<_>>(), vec![ids[1], ids[3]]);
    let mut sweep = RetentionSweep {
        id: Uuid::now_v7(),
        started_at: at(50),
        cutoff: at(50),
        dry_run: false,
        state: "running".into(),
        cursor: None,
        deleted: BTreeMap::new(),
        held: BTreeMap::new(),
        finished_at: None,
    };
    store.create_sweep(&sweep).await.expect("create");
    let last = first.last().expect("two");
    sweep.cursor = Some(custos_store::SweepCursor {
        expires_at: last.expires_at,
        subject_id: last.subject_id,
        record_id: last.record_id,
    });
    sweep.deleted.insert("c1".into(), 1);
    sweep.held.insert("c3".into(), 1);
    let deleted = store.apply_sweep_batch(&sweep, &[(subject.id, ids[1])]).await.expect("batch");
    assert_eq!(deleted, 1);
    let running = store.running_sweep().await.expect("running").expect("one");
    assert_eq!(running, sweep);
    let rest = store.expired_records(at(50), running.cursor.as_ref(), 10).await.expect("walk on");
    assert_eq!(rest.iter().map(|r| r.record_id).collect::<Vec<_>>(), vec![ids[0]]);
    // A record not yet past the cutoff is never deleted by a sweep, even if asked.
    assert_eq!(store.apply_sweep_batch(&sweep, &[(subject.id, ids[4])]).await.expect("batch"), 0);
    sweep.state = "done".into();
    sweep.finished_at = Some(at(60));
    store.apply_sweep_batch(&sweep, &[]).await.expect("finish");
    assert!(store.running_sweep().await.expect("running").is_none());
    assert_eq!(store.sweeps(5).await.expect("history"), vec![sweep]);
    assert_eq!(store.records(subject.id).await.expect("records").len(), 4);
}

async fn disclosures_are_logged_with_their_subjects_and_outlive_the_person(store: Arc<dyn Store>, _db: &TestDb) {
    let (a, b) = (user(), user());
    store.create_subject(&a, &[]).await.expect("create");
    store.create_subject(&b, &[]).await.expect("create");
    let request = Uuid::now_v7();
    let d = Disclosure {
        id: Uuid::now_v7(),
        recipient: "support-desk".into(),
        country: "CA".into(),
        safeguard: "adequacy".into(),
        purpose: "support".into(),
        categories: vec!["user.name".into(), "user.contact.email".into()],
        actor: "service:0123".into(),
        legal_request: Some(request),
        at: at(7),
        subjects: vec![(a.id, 2), (b.id, 1)],
    };
    store.put_disclosure(&d).await.expect("log");
    let twice = Disclosure { id: Uuid::now_v7(), subjects: vec![(a.id, 1), (a.id, 1)], ..d.clone() };
    assert!(store.put_disclosure(&twice).await.is_err(), "one person twice");
    assert_eq!(store.disclosures(None, 10).await.expect("list").len(), 1, "the failed one left nothing");
    store.delete_subject(a.id).await.expect("erase");
    let of_a = store.disclosures_of(a.id).await.expect("of a");
    assert_eq!(of_a.len(), 1);
    assert_eq!(of_a[0].subjects, vec![(a.id, 2)]);
    assert_eq!(of_a[0].categories, d.categories);
    let linked = store.disclosures(Some(request), 10).await.expect("linked");
    let mut expected = d.subjects.clone();
    expected.sort_by_key(|(s, _)| *s);
    assert_eq!(linked[0].subjects, expected);
    assert!(store.disclosures(Some(Uuid::now_v7()), 10).await.expect("none").is_empty());
    assert!(store.disclosures_of(SubjectId::new()).await.expect("none").is_empty());
}

async fn notices_are_stored_once_per_addressee_and_marked_sent(store: Arc<dyn Store>, _db: &TestDb) {
    let reference = Uuid::now_v7();
    let notice = GovernanceNotice {
        id: Uuid::now_v7(),
        kind: "art19".into(),
        addressee: "hosting".into(),
        contact: None,
        subject_id: Some(SubjectId::new()),
        reference,
        body: "erased".into(),
        created_at: at(1),
        sent_at: None,
        channel: None,
    };
    assert!(store.put_notice(&notice).await.expect("put"));
    assert!(!store.put_notice(&GovernanceNotice { id: Uuid::now_v7(), ..notice.clone() }).await.expect("again"));
    store.mark_notice_sent(notice.id, "recorded", at(2)).await.expect("sent");
    let stored = store.notice(notice.id).await.expect("read").expect("there");
    assert_eq!((stored.sent_at, stored.channel.as_deref()), (Some(at(2)), Some("recorded")));
    assert_eq!(store.notices_for(reference).await.expect("for").len(), 1);
}

async fn breaches_are_notified_once_and_legal_requests_decided_once(store: Arc<dyn Store>, _db: &TestDb) {
    let breach = Breach {
        id: Uuid::now_v7(),
        detected_at: at(100),
        nature: "lost laptop".into(),
        categories: vec!["user.name".into()],
        systems: vec!["laptop".into()],
        measures: "remote wipe".into(),
        consequences: "none expected".into(),
        keys_exposed: false,
        window_start: at(10),
        window_end: at(90),
        opened_by: "dpo".into(),
        created_at: at(100),
        notified_at: None,
        delay_reason: None,
    };
    store.put_breach(&breach).await.expect("put");
    let backwards = Breach { id: Uuid::now_v7(), window_start: at(95), ..breach.clone() };
    assert!(store.put_breach(&backwards).await.is_err(), "a window that ends before it starts");
    assert!(store.set_breach_notified(breach.id, at(120), None).await.expect("notify"));
    assert!(!store.set_breach_notified(breach.id, at(130), Some("late")).await.expect("again"));
    let stored = store.breach(breach.id).await.expect("read").expect("there");
    assert_eq!(stored, Breach { notified_at: Some(at(120)), ..breach });
    assert_eq!(store.breaches(10).await.expect("list").len(), 1);

    let mut request = LegalRequest {
        id: Uuid::now_v7(),
        authority: "police".into(),
        legal_basis: "court order".into(),
        scope: "one subject".into(),
        received_at: at(5),
        decision: "pending".into(),
        decided_by: None,
        decided_at: None,
        reason: None,
        recorded_by: "dpo".into(),
        created_at: at(5),
    };
    store.put_legal_request(&request).await.expect("put");
    request.decision = "refused".into();
    request.decided_by = Some("dpo".into());
    request.decided_at = Some(at(6));
    request.reason = Some("no legal basis".into());
    assert!(store.decide_legal_request(&request).await.expect("decide"));
    assert!(!store.decide_legal_request(&request).await.expect("again"), "decided once");
    assert_eq!(store.legal_request(request.id).await.expect("read"), Some(request.clone()));
    assert_eq!(store.legal_requests(10).await.expect("list"), vec![request]);
}
