//! Partners end to end in the engine (seed 3): contract termination through the job
//! runner, resumed after a worker died mid-way, leaves nothing readable (backups
//! included) and tells the partner; aggregates across partners hide small and
//! single-partner groups and charge noisy queries to a privacy budget.

use std::collections::BTreeMap;
use std::sync::Arc;

use custos_engine::clock::SystemClock;
use custos_engine::gate::{Actor, StaffRole};
use custos_engine::jobs::JobRunner;
use custos_engine::mail::{MailJob, Mailer};
use custos_engine::partners::batch::BatchFormat;
use custos_engine::partners::{
    AggregateQuery, AggregationSettings, NewPartner, PartnerError, PartnerSettings, PartnerTermination, Partners,
    UploadRequest,
};
use custos_engine::records::Records;
use custos_engine::vault::{Keyring, Vault, VaultAccessError};
use custos_policy::Policy;
use custos_store::{Store, SubjectId};
use custos_testkit::smtp::SmtpSink;
use custos_testkit::{TestDb, on_both_backends};
use custos_vault::MasterKey;
use serde_json::{Value, json};

on_both_backends!(
    a_termination_interrupted_mid_way_resumes_deletes_everything_and_reports_once,
    aggregates_hide_small_and_single_partner_groups_and_spend_a_privacy_budget,
    a_legal_hold_on_partner_data_stops_a_termination_until_released,
    a_breach_of_partner_data_names_each_partner_holding_data_and_mails_its_contact,
);

struct Fixture {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    records: Arc<Records>,
    partners: Arc<Partners>,
    smtp: SmtpSink,
    runner: JobRunner,
}

fn staff() -> Actor {
    Actor::Staff { id: "dpo".into(), role: StaffRole::Dpo, purposes: vec![] }
}

impl Fixture {
    async fn new(store: Arc<dyn Store>, db: &TestDb, settings: PartnerSettings) -> Self {
        let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), db.keys().await).await.expect("vault"));
        let policy = Arc::new(Policy::example());
        let records = Arc::new(Records::new(store.clone(), vault.clone(), policy.clone(), Arc::new(SystemClock)));
        let partners = Arc::new(Partners::new(records.clone(), policy, settings, Arc::new(SystemClock)));
        let smtp = SmtpSink::start().await;
        let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
        let runner = JobRunner::new(store.clone())
            .register(PartnerTermination::new(partners.clone()))
            .register(MailJob::new(records.clone(), mailer));
        Self { store, vault, records, partners, smtp, runner }
    }

    /// A partner with a key; returns its id and the caller the key stands for.
    async fn partner(&self, name: &str, email: &str) -> (uuid::Uuid, custos_engine::partners::PartnerCaller) {
        let new = NewPartner {
            name: name.into(),
            country: "DE".into(),
            role: "advertiser".into(),
            contact_email: email.into(),
            contact_name: Some("Grace Hopper".into()),
        };
        let partner = self.partners.register(&staff(), &new).await.expect("register");
        let (_, key) = self.partners.create_key(&staff(), partner.id, &[]).await.expect("key");
        let caller = self.partners.authenticate(&key).await.expect("authenticate");
        (partner.id, caller)
    }

    async fn upload(&self, caller: &custos_engine::partners::PartnerCaller, rows: &[Value]) {
        let body = rows.iter().map(|r| format!("{r}\n")).collect::<String>().into_bytes();
        let request = UploadRequest { format: BatchFormat::Ndjson, body, quarantine: false, idempotency_key: None };
        let answer = self.partners.upload(caller, request).await.expect("upload");
        assert_eq!(answer.body["stored"], json!(rows.len()));
    }
}

async fn a_termination_interrupted_mid_way_resumes_deletes_everything_and_reports_once(
    store: Arc<dyn Store>,
    db: &TestDb,
) {
    let f = Fixture::new(store, db, PartnerSettings::default()).await;
    let (id, caller) = f.partner("Acme Ads", "grace@acme.example").await;
    let rows: Vec<Value> =
        (0..5).map(|i| json!({"pseudonym": format!("p{i:02}"), "country": "DE", "amount": i})).collect();
    f.upload(&caller, &rows).await;
    let (_, other) = f.partner("Other Media", "ops@other.example").await;
    f.upload(&other, &[json!({"pseudonym": "keep-me", "country": "FR"})]).await;
    let backup = db.snapshot().await;

    let p = f.partners.terminate(&staff(), id).await.expect("terminate");
    assert_eq!((p.contract_status.as_str(), p.records_at_termination), ("terminating", Some(5)));
    // A worker died after deleting part of the data: the job is still queued.
    assert_eq!(f.store.delete_partner_records(id, None, 2).await.expect("partial"), 2);

    let report = f.runner.run_pending().await.expect("run");
    assert!(report.succeeded >= 2, "the termination and its mail: {report:?}");
    let done = f.store.partner(id).await.expect("read").expect("partner");
    assert_eq!(done.contract_status, "terminated");
    let r = done.termination_report.expect("a report");
    assert_eq!((r["records_deleted"].clone(), r["records_remaining"].clone()), (json!(5), json!(0)));
    assert_eq!(r["custos_role"], "processor");
    assert_eq!(f.store.count_partner_records(id).await.expect("count"), 0);
    assert_eq!(f.store.count_partner_records(other.partner_id).await.expect("other"), 1, "only this partner's data");
    assert!(f.store.partner_keys(id).await.expect("keys").iter().all(|k| k.revoked_at.is_some()));

    // The partner is told, once, however often the job runs.
    f.partners.finish_termination(id).await.expect("again: nothing to do");
    f.runner.run_pending().await.expect("run again");
    let mails: Vec<_> = f.smtp.delivered().into_iter().filter(|m| m.to == ["grace@acme.example"]).collect();
    assert_eq!(mails.len(), 1, "one report mail");
    assert!(mails[0].data.contains("Your data has been deleted") && mails[0].data.contains("5 records"));

    // The backup taken before still holds the sealed rows, but nothing opens them.
    let old = backup.store().await;
    let rows = old.partner_records(id, None, None, 100).await.expect("backup rows");
    assert_eq!(rows.len(), 5, "the backup predates the termination");
    match f.vault.data_key(SubjectId(done.data_key_id)).await {
        Err(VaultAccessError::Erased { .. }) => {}
        other => panic!("the partner's key must be destroyed, got {other:?}"),
    }
    // Keys cannot be made for an ended contract.
    let refused = f.partners.create_key(&staff(), id, &[]).await;
    assert!(matches!(refused, Err(PartnerError::Forbidden { code: "contract_not_active", .. })), "{refused:?}");
    let _ = &f.records;
}

async fn aggregates_hide_small_and_single_partner_groups_and_spend_a_privacy_budget(
    store: Arc<dyn Store>,
    db: &TestDb,
) {
    let settings = PartnerSettings {
        aggregation: AggregationSettings {
            k: 3,
            measures: BTreeMap::from([("amount".to_owned(), 50.0)]),
            epsilon_budget: 1.0,
            ..AggregationSettings::default()
        },
        ..PartnerSettings::default()
    };
    let f = Fixture::new(store, db, settings).await;
    let (_, a) = f.partner("Acme Ads", "grace@acme.example").await;
    let (b_id, b) = f.partner("Other Media", "ops@other.example").await;
    let row = |p: &str, country: &str, amount: f64| json!({"pseudonym": p, "country": country, "amount": amount});
    let mut rows_a: Vec<Value> = (1..=4).map(|i| row(&format!("a{i}"), "DE", 10.0)).collect();
    rows_a.push(row("a1", "DE", 5.0)); // a second record of one person: still one person
    rows_a.extend([row("a5", "FR", 1.0), row("a6", "FR", 1.0)]); // two people: fewer than k
    rows_a.extend((7..=9).map(|i| row(&format!("a{i}"), "IT", 1.0))); // one partner only
    f.upload(&a, &rows_a).await;
    // Another partner's pseudonym `a1` is another person: pseudonyms are per partner.
    f.upload(&b, &[row("a1", "DE", 100.0), row("b2", "DE", 100.0), row("b3", "FR", 1.0)]).await;

    let service = Actor::Service { token: "stats".into(), purposes: vec!["aggregation".into()] };
    let query = AggregateQuery { group_by: vec!["country".into()], measure: Some("amount".into()), epsilon: None };
    let answer = f.partners.aggregate(&service, &query).await.expect("aggregate");
    // DE: 4 people at A (45 in all) + 2 at B (100 each, clamped to 50) = 6 people, 145.
    // FR: a5, a6 and b3 = 3 people, but A holds 2 of 3 (< 90 %): shown.
    // IT: 3 people, all at A: suppressed.
    assert_eq!(
        answer["groups"],
        json!([
            {"dimensions": {"country": "DE"}, "count": 6, "sum": 145.0},
            {"dimensions": {"country": "FR"}, "count": 3, "sum": 3.0},
        ]),
        "{answer}"
    );
    assert_eq!(answer["suppressed_groups"], 1);
    let text = answer.to_string();
    for pseudonym in ["\"a1\"", "\"b2\"", "a9"] {
        assert!(!text.contains(pseudonym), "no pseudonym leaves: {text}");
    }

    let refuse = |q: AggregateQuery| {
        let partners = f.partners.clone();
        let service = service.clone();
        async move { partners.aggregate(&service, &q).await }
    };
    let e = refuse(AggregateQuery { group_by: vec!["pseudonym".into()], measure: None, epsilon: None }).await;
    assert!(matches!(e, Err(PartnerError::Invalid { code: "dimension_not_allowed", .. })), "{e:?}");
    let e =
        refuse(AggregateQuery { group_by: vec!["country".into()], measure: Some("age".into()), epsilon: None }).await;
    assert!(matches!(e, Err(PartnerError::Invalid { code: "measure_not_allowed", .. })), "{e:?}");
    let partner_token = Actor::Service { token: "web".into(), purposes: vec!["support".into()] };
    assert!(matches!(f.partners.aggregate(&partner_token, &query).await, Err(PartnerError::Forbidden { .. })));

    // Noise: epsilon is charged before the answer; once the budget is spent, refused.
    let noisy = AggregateQuery { epsilon: Some(0.6), ..query.clone() };
    let answer = f.partners.aggregate(&service, &noisy).await.expect("noisy");
    assert_eq!(answer["noise"]["mechanism"], "laplace");
    assert!((answer["noise"]["budget_spent"].as_f64().expect("spent") - 0.6).abs() < 1e-9);
    assert_eq!(answer["groups"].as_array().expect("groups").len(), 2, "suppression does not depend on noise");
    let spent = f.partners.aggregate(&service, &AggregateQuery { epsilon: Some(0.5), ..query.clone() }).await;
    assert!(matches!(spent, Err(PartnerError::BudgetSpent { .. })), "{spent:?}");
    let budget = f.store.privacy_budget("partner-records").await.expect("budget").expect("exists");
    assert!((budget.spent - 0.6).abs() < 1e-9, "a refused query spends nothing");

    // A partner whose contract is ending drops out of every aggregate at once.
    f.partners.terminate(&staff(), b_id).await.expect("terminate");
    let answer = f.partners.aggregate(&service, &query).await.expect("aggregate");
    assert_eq!(answer["groups"], json!([]), "DE and FR are now A's alone or too small: {answer}");
}

async fn a_legal_hold_on_partner_data_stops_a_termination_until_released(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db, PartnerSettings::default()).await;
    let (id, caller) = f.partner("Acme Ads", "grace@acme.example").await;
    f.upload(&caller, &[json!({"pseudonym": "p01", "country": "DE"}), json!({"pseudonym": "p02", "country": "FR"})])
        .await;
    let holds = custos_engine::governance::holds::Holds::new(
        f.store.clone(),
        Arc::new(Policy::example()),
        f.records.auditor().clone(),
        Arc::new(SystemClock),
    );
    let hold = holds
        .place(
            &staff(),
            &custos_engine::governance::holds::NewHold {
                scope: "purpose".into(),
                target: Some("partner-services".into()),
                reason: "a court order to preserve the campaign data".into(),
                placed_by: "dpo".into(),
                until: None,
            },
        )
        .await
        .expect("hold");
    f.partners.terminate(&staff(), id).await.expect("terminate");
    let e = f.partners.finish_termination(id).await.expect_err("held");
    assert!(matches!(e, PartnerError::Forbidden { code: "legal_hold", .. }), "{e}");
    assert_eq!(f.store.count_partner_records(id).await.expect("count"), 2, "nothing deleted under the hold");
    holds.release(&staff(), hold.id, "dpo", "the order was lifted").await.expect("release");
    let done = f.partners.finish_termination(id).await.expect("finish");
    assert_eq!(done.contract_status, "terminated");
    assert_eq!(f.store.count_partner_records(id).await.expect("count"), 0);
}

async fn a_breach_of_partner_data_names_each_partner_holding_data_and_mails_its_contact(
    store: Arc<dyn Store>,
    db: &TestDb,
) {
    use custos_engine::governance::Governance;
    use custos_engine::governance::breach::{NewBreach, PartnerData};
    let f = Fixture::new(store, db, PartnerSettings::default()).await;
    let (acme, caller) = f.partner("Acme Ads", "grace@acme.example").await;
    f.upload(&caller, &[json!({"pseudonym": "p01", "country": "DE"}), json!({"pseudonym": "p02", "country": "FR"})])
        .await;
    let (_, _idle) = f.partner("Idle Media", "ops@idle.example").await;
    let policy = Arc::new(Policy::example());
    let gov = Governance::with_partners(
        f.records.clone(),
        policy.clone(),
        Arc::new(SystemClock),
        Arc::new(PartnerData::new(f.partners.clone(), &policy)),
    );
    let now = jiff::Timestamp::now();
    let breach = |categories: &[&str]| NewBreach {
        detected_at: None,
        nature: "an exposed upload bucket".into(),
        categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        systems: vec!["uploads".into()],
        measures: "bucket closed".into(),
        consequences: "pseudonyms exposed".into(),
        keys_exposed: false,
        window_start: now.checked_sub(jiff::SignedDuration::from_hours(2)).expect("time"),
        window_end: now,
        opened_by: "dpo".into(),
    };
    // A breach of other data concerns no partner.
    let other = gov.breaches.open(&staff(), &breach(&["user.device.ip_address"])).await.expect("open");
    assert!(gov.breaches.affected(other.id).await.expect("affected").partners.is_empty());
    // A breach of partner data names the partner holding records (not the idle one) and
    // mails its contact through the job runner.
    let opened = gov.breaches.open(&staff(), &breach(&["user.unique_id.pseudonymous"])).await.expect("open");
    let affected = gov.breaches.affected(opened.id).await.expect("affected");
    assert_eq!(
        affected.partners.iter().map(|p| (p.id.clone(), p.records)).collect::<Vec<_>>(),
        vec![(acme.to_string(), 2)]
    );
    f.runner.run_pending().await.expect("run");
    let mails: Vec<_> = f.smtp.delivered().into_iter().filter(|m| m.to == ["grace@acme.example"]).collect();
    assert_eq!(mails.len(), 1, "one breach notice to the partner's contact");
    assert!(mails[0].data.contains("an exposed upload bucket"), "{}", mails[0].data);
    let notices = f.store.notices_for(opened.id).await.expect("notices");
    assert_eq!((notices.len(), notices[0].channel.as_deref()), (1, Some("mail")));
}
