use std::sync::Arc;

use custos_store::{Partner, PartnerKey, PartnerRecord, PartnerUpload, Store, StoreError, SubProcessor};
use custos_testkit::{TestDb, on_both_backends};
use uuid::Uuid;

use crate::at;

on_both_backends!(
    partners_keys_and_subprocessors_round_trip,
    records_and_their_upload_answer_are_stored_together_or_not_at_all,
    records_are_read_and_deleted_per_partner_and_pseudonym,
    the_privacy_budget_is_never_overspent,
);

fn partner() -> Partner {
    Partner {
        id: Uuid::now_v7(),
        name: "Acme Ads".into(),
        country: "DE".into(),
        role: "advertiser".into(),
        contract_status: "active".into(),
        contact_subject: None,
        data_key_id: Uuid::now_v7(),
        transfers_outside_eea: false,
        transfer_consent_ref: None,
        transfer_consent_date: None,
        created_at: at(0),
        terminated_at: None,
        records_at_termination: None,
        termination_report: None,
    }
}

fn record(partner: Uuid, pseudonym: u8) -> PartnerRecord {
    PartnerRecord {
        partner_id: partner,
        pseudonym_index: [pseudonym; 32],
        id: Uuid::now_v7(),
        upload_id: Uuid::nil(),
        sealed: vec![1, 2, 3],
        purpose: "partner-services".into(),
        role: "processor".into(),
        created_at: at(1),
    }
}

async fn partners_keys_and_subprocessors_round_trip(store: Arc<dyn Store>, _db: &TestDb) {
    let p = partner();
    store.create_partner(&p).await.expect("create");
    assert!(matches!(store.create_partner(&p).await, Err(StoreError::Conflict(_))));
    assert_eq!(store.partner(p.id).await.expect("read"), Some(p.clone()), "every field round-trips");

    let mut changed = p.clone();
    changed.contract_status = "terminated".into();
    changed.transfers_outside_eea = true;
    changed.transfer_consent_ref = Some("DPA-7 annex 2".into());
    changed.transfer_consent_date = Some("2026-10-01".into());
    changed.terminated_at = Some(at(5));
    changed.records_at_termination = Some(42);
    changed.termination_report = Some(serde_json::json!({"records_deleted": 42}));
    assert!(store.update_partner(&changed).await.expect("update"));
    assert_eq!(store.partner(p.id).await.expect("read"), Some(changed.clone()));
    assert_eq!(store.partners().await.expect("list"), vec![changed]);

    let key = PartnerKey {
        id: "abc123".into(),
        partner_id: p.id,
        key_hash: [9; 32],
        scopes: vec!["records:write".into()],
        created_at: at(2),
        revoked_at: None,
    };
    store.create_partner_key(&key).await.expect("key");
    let orphan = PartnerKey { id: "zzz".into(), partner_id: Uuid::now_v7(), ..key.clone() };
    assert!(matches!(store.create_partner_key(&orphan).await, Err(StoreError::NotFound(_))), "no such partner");
    assert_eq!(store.partner_key("abc123").await.expect("read"), Some(key.clone()));
    assert!(!store.revoke_partner_key(Uuid::now_v7(), "abc123", at(3)).await.expect("other partner"));
    assert!(store.revoke_partner_key(p.id, "abc123", at(3)).await.expect("revoke"));
    assert!(!store.revoke_partner_key(p.id, "abc123", at(4)).await.expect("twice"));
    assert_eq!(store.partner_keys(p.id).await.expect("keys")[0].revoked_at, Some(at(3)));

    let sub = SubProcessor {
        partner_id: p.id,
        id: Uuid::now_v7(),
        name: "Cloud GmbH".into(),
        country: "DE".into(),
        activity: "hosting".into(),
        consent_ref: "letter 2026-09".into(),
        consent_date: "2026-09-30".into(),
        created_at: at(6),
    };
    store.add_subprocessor(&sub).await.expect("sub");
    assert_eq!(store.subprocessors(p.id).await.expect("subs"), vec![sub]);
}

async fn records_and_their_upload_answer_are_stored_together_or_not_at_all(store: Arc<dyn Store>, _db: &TestDb) {
    let p = partner();
    store.create_partner(&p).await.expect("create");
    let upload = PartnerUpload {
        partner_id: p.id,
        idempotency_key: "batch-1".into(),
        request_mac: [4; 32],
        status: 201,
        response: serde_json::json!({"stored": 2}),
        created_at: at(1),
    };
    store.put_partner_records(&[record(p.id, 1), record(p.id, 2)], Some(&upload)).await.expect("put");
    assert_eq!(store.partner_upload(p.id, "batch-1").await.expect("upload"), Some(upload.clone()));
    let again = store.put_partner_records(&[record(p.id, 3)], Some(&upload)).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.count_partner_records(p.id).await.expect("count"), 2, "the repeat stored nothing");
    assert_eq!(store.delete_partner_uploads(p.id).await.expect("delete uploads"), 1);
    assert_eq!(store.partner_upload(p.id, "batch-1").await.expect("upload"), None);
}

async fn records_are_read_and_deleted_per_partner_and_pseudonym(store: Arc<dyn Store>, _db: &TestDb) {
    let (a, b) = (partner(), partner());
    store.create_partner(&a).await.expect("a");
    store.create_partner(&b).await.expect("b");
    let rows: Vec<_> = (0..5u8).map(|i| record(a.id, i % 2)).chain([record(b.id, 0)]).collect();
    store.put_partner_records(&rows, None).await.expect("put");
    assert_eq!(store.partner_records(a.id, None, None, 100).await.expect("all").len(), 5);
    assert_eq!(store.partner_records(a.id, Some(&[0; 32]), None, 100).await.expect("one").len(), 3);
    assert_eq!(store.partner_records(b.id, None, None, 100).await.expect("b"), vec![rows[5].clone()]);
    let page = store.partner_records(a.id, None, Some(rows[1].id), 2).await.expect("page");
    assert_eq!(page.iter().map(|r| r.id).collect::<Vec<_>>(), vec![rows[2].id, rows[3].id]);
    assert_eq!(store.all_partner_records(None, 100).await.expect("every").len(), 6);

    assert_eq!(store.delete_partner_records(a.id, Some(&[1; 32]), 100).await.expect("delete one"), 2);
    assert_eq!(store.delete_partner_records(a.id, None, 2).await.expect("a batch"), 2);
    assert_eq!(store.count_partner_records(a.id).await.expect("count"), 1);
    assert_eq!(store.delete_partner_records(a.id, None, 100).await.expect("the rest"), 1);
    assert_eq!(store.count_partner_records(b.id).await.expect("b untouched"), 1);
}

async fn the_privacy_budget_is_never_overspent(store: Arc<dyn Store>, _db: &TestDb) {
    assert_eq!(store.privacy_budget("partner-records").await.expect("none"), None);
    let first = store.charge_privacy_budget("partner-records", 1.0, 0.4).await.expect("charge").expect("allowed");
    assert!((first.spent - 0.4).abs() < 1e-9 && (first.total - 1.0).abs() < 1e-9);
    assert!(store.charge_privacy_budget("partner-records", 1.0, 0.6).await.expect("charge").is_some(), "exactly spent");
    assert!(store.charge_privacy_budget("partner-records", 1.0, 0.01).await.expect("charge").is_none(), "spent");
    let left = store.privacy_budget("partner-records").await.expect("read").expect("exists");
    assert!((left.spent - 1.0).abs() < 1e-9, "a refused charge spends nothing: {left:?}");
}
