use std::sync::Arc;

use custos_store::{
    Choices, ConsentEntry, ConsentWrite, IdentifierKind, NewAuditEntry, NewSubject, NewVisitor, Store, StoreError,
    SubjectId, SubjectKind,
};
use custos_testkit::{TestDb, on_both_backends};

use crate::{at, index, user};

on_both_backends!(
    the_latest_ledger_entry_decides_consent,
    objections_and_restrictions,
    a_batch_of_entries_creates_visitors_once_and_is_all_or_nothing,
    choices_in_one_read_agree_with_each_read_alone,
    concurrent_reads_of_choices_each_get_their_own_persons,
);

fn consent(subject: SubjectId, purpose: &str, granted: bool, ms: i64) -> ConsentEntry {
    ConsentEntry {
        subject_id: subject,
        purpose: purpose.into(),
        granted,
        method: "api".into(),
        policy_version: "v1".into(),
        text_version: "banner-1".into(),
        source_ip: Some("203.0.113.0".into()),
        at: at(ms),
    }
}

async fn the_latest_ledger_entry_decides_consent(store: Arc<dyn Store>, _db: &TestDb) {
    let s = user();
    store.create_subject(&s, &[]).await.expect("create");
    assert_eq!(store.append_consent(&consent(s.id, "marketing", true, 1)).await.expect("append"), 1);
    assert_eq!(store.append_consent(&consent(s.id, "analytics", true, 2)).await.expect("append"), 2);
    assert_eq!(store.append_consent(&consent(s.id, "marketing", false, 3)).await.expect("append"), 3);
    assert_eq!(store.live_consents(s.id).await.expect("live"), vec!["analytics".to_owned()]);
    store.append_consent(&consent(s.id, "marketing", true, 4)).await.expect("append");
    assert_eq!(store.live_consents(s.id).await.expect("live"), vec!["analytics".to_owned(), "marketing".to_owned()]);
    let history = store.consent_history(s.id).await.expect("history");
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(history[2].entry, consent(s.id, "marketing", false, 3), "every field round-trips");
    let err = store.append_consent(&consent(SubjectId::new(), "marketing", true, 5)).await.expect_err("no subject");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
}

async fn objections_and_restrictions(store: Arc<dyn Store>, _db: &TestDb) {
    let s = user();
    store.create_subject(&s, &[]).await.expect("create");
    store.record_objection(s.id, "service-improvement", at(1)).await.expect("object");
    store.record_objection(s.id, "service-improvement", at(2)).await.expect("object again");
    store.record_objection(s.id, "marketing", at(2)).await.expect("object");
    assert!(store.clear_objection(s.id, "marketing").await.expect("clear"));
    assert!(!store.clear_objection(s.id, "marketing").await.expect("clear again"), "nothing left to clear");
    assert_eq!(store.objections(s.id).await.expect("list"), vec![("service-improvement".to_owned(), None)]);
    assert!(
        store.record_compelling_grounds(s.id, "service-improvement", "fraud investigation").await.expect("grounds")
    );
    assert!(!store.record_compelling_grounds(s.id, "analytics", "x").await.expect("no objection"));
    assert_eq!(
        store.objections(s.id).await.expect("list"),
        vec![("service-improvement".to_owned(), Some("fraud investigation".to_owned()))]
    );
    assert!(!store.restricted(s.id).await.expect("restricted"));
    store.set_restriction(s.id, Some("accuracy contested"), at(3)).await.expect("restrict");
    assert!(store.restricted(s.id).await.expect("restricted"));
    store.set_restriction(s.id, None, at(4)).await.expect("lift");
    assert!(!store.restricted(s.id).await.expect("restricted"));
    assert!(store.delete_subject(s.id).await.expect("delete"));
    assert!(store.objections(s.id).await.expect("list").is_empty(), "erasure removes choices too");
}

/// `choices` (one statement; inline on SQLite) says what the four reads say alone.
async fn choices_in_one_read_agree_with_each_read_alone(store: Arc<dyn Store>, _db: &TestDb) {
    let s = user();
    assert_eq!(store.choices(s.id).await.expect("choices"), None, "no such subject");
    store.create_subject(&s, &[]).await.expect("create");
    assert_eq!(store.choices(s.id).await.expect("choices"), Some(Choices::default()));
    for (purpose, granted, ms) in
        [("marketing", true, 1), ("analytics", true, 2), ("marketing", false, 3), ("support", true, 4)]
    {
        store.append_consent(&consent(s.id, purpose, granted, ms)).await.expect("append");
    }
    store.reset_consents("support", at(5)).await.expect("terms changed");
    store.record_objection(s.id, "service-improvement", at(6)).await.expect("object");
    store.record_objection(s.id, "fraud-prevention", at(6)).await.expect("object");
    store.record_compelling_grounds(s.id, "fraud-prevention", "chargebacks").await.expect("grounds");
    store.set_restriction(s.id, Some("accuracy contested"), at(7)).await.expect("restrict");
    let expected = Choices {
        consents: store.live_consents(s.id).await.expect("live"),
        objections: store.objections(s.id).await.expect("objections"),
        restricted: store.restricted(s.id).await.expect("restricted"),
    };
    assert_eq!(expected.consents, vec!["analytics".to_owned()], "withdrawn and reset purposes do not count");
    assert_eq!(expected.objections.len(), 2);
    assert!(expected.restricted);
    assert_eq!(store.choices(s.id).await.expect("choices"), Some(expected));
    store.set_restriction(s.id, None, at(8)).await.expect("lift");
    assert!(!store.choices(s.id).await.expect("choices").expect("held").restricted);
}

fn visitor_write(cookie: u8, ms: i64) -> ConsentWrite {
    let subject = NewSubject { id: SubjectId::new(), kind: SubjectKind::Visitor, created_at: at(ms) };
    let entry = consent(subject.id, "analytics", true, ms);
    ConsentWrite { visitor: Some(NewVisitor { subject, cookie: index(cookie) }), entry, audit: Some(grant(ms)) }
}

/// The audit entry a ledger write carries (the store sets its subject and `seq`).
fn grant(ms: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: at(ms),
        actor: "service:bench".into(),
        action: "consent.grant".into(),
        subject_id: None,
        purpose: Some("analytics".into()),
        detail: serde_json::json!({"method": "api"}),
    }
}

async fn a_batch_of_entries_creates_visitors_once_and_is_all_or_nothing(store: Arc<dyn Store>, _db: &TestDb) {
    let known = user();
    store.create_subject(&known, &[]).await.expect("create");
    let writes = vec![
        visitor_write(1, 1),
        ConsentWrite { visitor: None, entry: consent(known.id, "marketing", true, 2), audit: None },
        visitor_write(1, 3),
        visitor_write(2, 4),
    ];
    let before = store.audit_entries(0, 100).await.expect("audit").len() as i64;
    let appended = store.append_consents(&writes).await.expect("batch");
    let written = appended.written;
    assert_eq!(written.len(), 4);
    assert_eq!(written[0].0, written[2].0, "one cookie, one visitor, even within a batch");
    assert_eq!((written[0].1, written[2].1), (1, 2), "its entries in order");
    assert_eq!(written[1], (known.id, 1));
    assert_ne!(written[3].0, written[0].0);
    assert_eq!(store.find_subject(IdentifierKind::CookieId, &index(1)).await.expect("find"), Some(written[0].0));
    // The three writes that carried an audit entry are audited in the same transaction,
    // each naming its subject and ledger entry.
    let audited: Vec<(i64, Option<SubjectId>, serde_json::Value)> =
        appended.audit.iter().map(|a| (a.seq, a.entry.subject_id, a.entry.detail["seq"].clone())).collect();
    assert_eq!(
        audited,
        vec![
            (before + 1, Some(written[0].0), 1.into()),
            (before + 2, Some(written[2].0), 2.into()),
            (before + 3, Some(written[3].0), 1.into()),
        ]
    );
    assert_eq!(store.audit_entries(before, 100).await.expect("audit"), appended.audit, "stored as answered");
    let again = store.append_consents(&[visitor_write(2, 5)]).await.expect("batch");
    assert_eq!(again.written, vec![(written[3].0, 2)], "a later batch finds the visitor");

    let failing = vec![
        visitor_write(3, 6),
        ConsentWrite { visitor: None, entry: consent(SubjectId::new(), "x", true, 7), audit: Some(grant(7)) },
    ];
    let audited = store.audit_entries(0, 1000).await.expect("audit").len();
    let err = store.append_consents(&failing).await.expect_err("an unknown subject");
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert_eq!(
        store.find_subject(IdentifierKind::CookieId, &index(3)).await.expect("find"),
        None,
        "nothing of it stays"
    );
    assert_eq!(store.audit_entries(0, 1000).await.expect("audit").len(), audited, "nor of its audit entries");
}

/// Many reads of choices and ledgers at once (on PostgreSQL they share statements) each
/// get their own person's: the right consents, objections and restriction, `None` for no
/// one, the same answer for the same person asked twice at once, and a withdrawal committed
/// before a read is seen by it.
async fn concurrent_reads_of_choices_each_get_their_own_persons(store: Arc<dyn Store>, _db: &TestDb) {
    let mut people = Vec::new();
    for n in 0..30_i64 {
        let s = user();
        store.create_subject(&s, &[]).await.expect("create");
        let mut expected = Choices::default();
        if n % 2 == 0 {
            store.append_consent(&consent(s.id, "analytics", true, n)).await.expect("append");
            expected.consents.push("analytics".to_owned());
        }
        if n % 3 == 0 {
            store.record_objection(s.id, "marketing", at(n)).await.expect("object");
            expected.objections.push(("marketing".to_owned(), None));
        }
        if n % 5 == 0 {
            store.set_restriction(s.id, Some("accuracy contested"), at(n)).await.expect("restrict");
            expected.restricted = true;
        }
        people.push((s.id, Some(expected)));
    }
    for _ in 0..5 {
        people.push((SubjectId::new(), None));
    }
    let mut reads = tokio::task::JoinSet::new();
    for _ in 0..3 {
        for (id, expected) in &people {
            let (store, id, expected) = (store.clone(), *id, expected.clone());
            reads.spawn(async move { (id, store.choices(id).await.expect("choices"), expected) });
        }
    }
    for (id, read, expected) in reads.join_all().await {
        assert_eq!(read, expected, "the choices of {id}");
    }
    let mut ledgers = tokio::task::JoinSet::new();
    for _ in 0..3 {
        for (id, expected) in &people {
            let (store, id) = (store.clone(), *id);
            let expected: Vec<(String, bool)> =
                expected.iter().flat_map(|c| c.consents.iter().map(|p| (p.clone(), true))).collect();
            ledgers.spawn(async move { (id, store.consent_history(id).await.expect("ledger"), expected) });
        }
    }
    for (id, ledger, expected) in ledgers.join_all().await {
        let read: Vec<(String, bool)> = ledger.iter().map(|e| (e.entry.purpose.clone(), e.entry.granted)).collect();
        assert_eq!(read, expected, "the ledger of {id}");
        assert!(ledger.iter().all(|e| e.entry.subject_id == id));
    }

    let (first, _) = people[0];
    store.append_consent(&consent(first, "analytics", false, 100)).await.expect("withdraw");
    let mut reads = tokio::task::JoinSet::new();
    for (id, _) in people.iter().take(10) {
        let (store, id) = (store.clone(), *id);
        reads.spawn(async move { (id, store.choices(id).await.expect("choices")) });
    }
    let withdrawn = reads.join_all().await.into_iter().find(|(id, _)| *id == first).expect("read").1;
    assert!(withdrawn.expect("exists").consents.is_empty(), "the withdrawal counts at once");
    let ledger = store.consent_history(first).await.expect("ledger");
    assert_eq!(ledger.iter().map(|e| (e.seq, e.entry.granted)).collect::<Vec<_>>(), vec![(1, true), (2, false)]);
}
