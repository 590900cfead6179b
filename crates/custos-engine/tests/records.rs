//! Personal data through the gate, on both backends: one decision test per gate rule,
//! refusals that store nothing, every decision audited, and erasure that leaves old copies
//! unreadable.

use std::sync::Arc;

use custos_engine::clock::SystemClock;
use custos_engine::gate::{Actor, Rule, StaffRole};
use custos_engine::records::{AccessError, NewValue, Records};
use custos_engine::vault::{Keyring, Vault, VaultAccessError};
use custos_policy::Policy;
use custos_store::{ConsentEntry, IdentifierKind, Store, SubjectId, SubjectKind};
use custos_testkit::{TestDb, on_both_backends};
use custos_vault::MasterKey;

on_both_backends!(
    a_service_writes_and_reads_within_its_purposes,
    rule_erased,
    rule_unknown_purpose,
    rule_category_not_in_purpose,
    rule_actor_not_scoped,
    rule_role_forbids,
    rule_restricted,
    rule_no_live_consent,
    rule_objected,
    rule_objected_direct_marketing,
    a_refused_write_stores_nothing,
    erasure_leaves_a_backup_unreadable,
);

async fn records_and_vault(store: &Arc<dyn Store>, db: &TestDb) -> (Records, Arc<Vault>) {
    let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), db.keys().await).await.expect("vault"));
    (Records::new(store.clone(), vault.clone(), Arc::new(Policy::example()), Arc::new(SystemClock)), vault)
}

async fn records(store: &Arc<dyn Store>, db: &TestDb) -> Records {
    records_and_vault(store, db).await.0
}

fn service(purposes: &[&str]) -> Actor {
    Actor::Service { token: "web".into(), purposes: purposes.iter().map(|p| (*p).to_owned()).collect() }
}

fn dpo() -> Actor {
    Actor::Staff { id: "d1".into(), role: StaffRole::Dpo, purposes: vec![] }
}

/// A user with an email and a support message.
async fn alice(r: &Records) -> SubjectId {
    let (id, _) = r
        .create_subject(
            &service(&["support"]),
            SubjectKind::User,
            &[(IdentifierKind::Email, "Alice@Example.org")],
            &[
                NewValue { purpose: "support", category: "user.contact.email", value: b"alice@example.org" },
                NewValue { purpose: "support", category: "user.content.private", value: b"my parcel never came" },
            ],
        )
        .await
        .expect("create");
    id
}

fn denied(result: Result<impl std::fmt::Debug, AccessError>) -> Rule {
    match result {
        Err(AccessError::Denied { rule, .. }) => rule,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn a_service_writes_and_reads_within_its_purposes(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    assert_eq!(r.find(IdentifierKind::Email, "alice@example.ORG ").await.expect("find"), Some(id), "normalised lookup");
    let read = r.read(&service(&["support"]), id, "support", &["user.contact.email"]).await.expect("read");
    assert_eq!(read.len(), 1);
    assert_eq!(&read[0].value[..], b"alice@example.org");
    assert_eq!(read[0].policy_version, Policy::example().version().hash);
    let both = r.read(&dpo(), id, "support", &["user.contact.email", "user.content.private"]).await.expect("read");
    assert_eq!(both.len(), 2);
    let trail = store.audit_entries(0, 100).await.expect("audit");
    let actions: Vec<&str> = trail.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(actions, vec!["subject.create", "record.read", "record.read"]);
    assert!(trail.iter().all(|e| !e.entry.detail.to_string().contains("alice")), "no personal data in the audit log");
}

async fn rule_erased(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    let erased = r.erase(&Actor::System, id).await.expect("erase");
    assert!(erased.key_destroyed && erased.rows_deleted);
    assert_eq!(denied(r.read(&dpo(), id, "support", &["user.contact.email"]).await), Rule::Erased);
    assert_eq!(r.find(IdentifierKind::Email, "alice@example.org").await.expect("find"), None);
}

async fn rule_unknown_purpose(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    assert_eq!(denied(r.read(&dpo(), id, "resale", &["user.contact.email"]).await), Rule::UnknownPurpose);
}

async fn rule_category_not_in_purpose(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    let rule = denied(r.read(&service(&["support"]), id, "support", &["user.device.ip_address"]).await);
    assert_eq!(rule, Rule::CategoryNotInPurpose);
}

async fn rule_actor_not_scoped(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    assert_eq!(
        denied(r.read(&service(&["support"]), id, "account", &["user.contact.email"]).await),
        Rule::ActorNotScoped
    );
    let agent = Actor::Staff { id: "s1".into(), role: StaffRole::Support, purposes: vec!["contact".into()] };
    assert_eq!(denied(r.read(&agent, id, "support", &["user.contact.email"]).await), Rule::ActorNotScoped);
    let other = Actor::Subject(SubjectId::new());
    assert_eq!(denied(r.read(&other, id, "support", &["user.contact.email"]).await), Rule::ActorNotScoped);
}

async fn rule_role_forbids(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    for role in [StaffRole::Admin, StaffRole::Auditor] {
        let staff = Actor::Staff { id: "x".into(), role, purposes: vec!["support".into()] };
        assert_eq!(denied(r.read(&staff, id, "support", &["user.contact.email"]).await), Rule::RoleForbids);
    }
}

async fn rule_restricted(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    store.set_restriction(id, Some("accuracy contested"), jiff::Timestamp::now()).await.expect("restrict");
    assert_eq!(denied(r.read(&dpo(), id, "support", &["user.contact.email"]).await), Rule::Restricted);
    let write = NewValue { purpose: "support", category: "user.content.private", value: b"more" };
    assert_eq!(denied(r.write(&dpo(), id, &write).await), Rule::Restricted);
    r.read(&dpo(), id, "legal-claims", &["user.contact.email"]).await.expect("legal claims go on");
    r.read(&Actor::Subject(id), id, "support", &["user.contact.email"]).await.expect("the person's own access goes on");
    store.set_restriction(id, None, jiff::Timestamp::now()).await.expect("lift");
    r.read(&dpo(), id, "support", &["user.contact.email"]).await.expect("lifted");
}

async fn rule_no_live_consent(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    let mail = NewValue { purpose: "marketing", category: "user.contact.email", value: b"alice@example.org" };
    assert_eq!(denied(r.write(&service(&["marketing"]), id, &mail).await), Rule::NoLiveConsent);
    let consent = |granted| custos_testkit::consent(id, "marketing", granted);
    store.append_consent(&consent(true)).await.expect("consent");
    r.write(&service(&["marketing"]), id, &mail).await.expect("with consent");
    store.append_consent(&consent(false)).await.expect("withdraw");
    assert_eq!(
        denied(r.read(&service(&["marketing"]), id, "marketing", &["user.contact.email"]).await),
        Rule::NoLiveConsent
    );
}

async fn rule_objected(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    let now = jiff::Timestamp::now();
    store.record_objection(id, "contact", now).await.expect("object");
    assert_eq!(denied(r.read(&dpo(), id, "contact", &["user.contact.email"]).await), Rule::Objected);
    r.read(&dpo(), id, "support", &["user.contact.email"]).await.expect("other purposes go on");
    store.record_compelling_grounds(id, "contact", "open fraud case 2026-17").await.expect("grounds");
    r.read(&dpo(), id, "contact", &["user.contact.email"]).await.expect("compelling grounds recorded");
}

async fn rule_objected_direct_marketing(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let id = alice(&r).await;
    let now = jiff::Timestamp::now();
    store
        .append_consent(&ConsentEntry { at: now, ..custos_testkit::consent(id, "marketing", true) })
        .await
        .expect("consent");
    store.record_objection(id, "marketing", now).await.expect("object");
    store.record_compelling_grounds(id, "marketing", "we really want to").await.expect("grounds");
    let rule = denied(r.read(&service(&["marketing"]), id, "marketing", &["user.contact.email"]).await);
    assert_eq!(rule, Rule::ObjectedDirectMarketing, "no grounds override a direct-marketing objection");
}

async fn a_refused_write_stores_nothing(store: Arc<dyn Store>, db: &TestDb) {
    let r = records(&store, db).await;
    let result = r
        .create_subject(
            &service(&["support", "analytics"]),
            SubjectKind::Visitor,
            &[(IdentifierKind::CookieId, "c-123")],
            &[
                NewValue { purpose: "support", category: "user.contact.email", value: b"bob@example.org" },
                NewValue { purpose: "analytics", category: "user.device.ip_address", value: b"203.0.113.9" },
            ],
        )
        .await;
    assert_eq!(denied(result), Rule::NoLiveConsent, "analytics needs consent");
    assert_eq!(r.find(IdentifierKind::CookieId, "c-123").await.expect("find"), None, "no subject was stored");
    let trail = store.audit_entries(0, 10).await.expect("audit");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].entry.detail["outcome"], "denied");
    assert_eq!(trail[0].entry.detail["rule"], "no_live_consent");
    let err = r
        .create_subject(&service(&["support"]), SubjectKind::User, &[(IdentifierKind::Email, "not-an-email")], &[])
        .await
        .expect_err("bad email");
    match err {
        AccessError::Invalid { field, message } => {
            assert_eq!(field, "identifiers[0].value");
            assert!(!message.contains("not-an-email"), "errors never echo the value: {message}");
        }
        other => panic!("{other:?}"),
    }
}

async fn erasure_leaves_a_backup_unreadable(store: Arc<dyn Store>, db: &TestDb) {
    let (r, vault) = records_and_vault(&store, db).await;
    let id = alice(&r).await;
    let backup = db.snapshot().await;
    r.erase(&Actor::System, id).await.expect("erase");

    // The backup still holds the person's sealed rows…
    let old = backup.store().await;
    let rows = old.records(id).await.expect("rows in the backup");
    assert_eq!(rows.len(), 2, "the backup predates the erasure");
    assert!(old.subject(id).await.expect("subject").is_some());
    // …but the key that opened them is gone: restoring the backup brings nothing back.
    match vault.data_key(id).await {
        Err(VaultAccessError::Erased { subject, .. }) => assert_eq!(subject, id),
        other => panic!("expected an erased subject, got {other:?}"),
    }
    let restored = Records::new(old, vault.clone(), Arc::new(Policy::example()), Arc::new(SystemClock));
    assert_eq!(denied(restored.read(&dpo(), id, "support", &["user.contact.email"]).await), Rule::Erased);
    // The other people in the backup are unaffected.
    let bob = r
        .create_subject(
            &service(&["support"]),
            SubjectKind::User,
            &[],
            &[NewValue { purpose: "support", category: "user.contact.email", value: b"bob@example.org" }],
        )
        .await
        .expect("create")
        .0;
    assert_eq!(r.read(&dpo(), bob, "support", &["user.contact.email"]).await.expect("read").len(), 1);
}
