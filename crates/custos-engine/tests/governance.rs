//! Governance end to end, on SQLite and PostgreSQL: transfers refused by the rule they
//! break, the retention sweep across clock changes and crashes, legal holds against the
//! sweep and erasure, the breach window, legal requests, the disclosure log in the access
//! report, and Art. 19 notices after a rectification.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use custos_engine::clock::{Clock, ManualClock};
use custos_engine::consent::Consents;
use custos_engine::gate::{Actor, Rule};
use custos_engine::governance::Governance;
use custos_engine::governance::GovernanceError;
use custos_engine::governance::breach::{AffectedPartner, AffectedPartners, AffectedSubject, NewBreach};
use custos_engine::governance::disclose::{DisclosureRequest, DisclosureRule};
use custos_engine::governance::holds::NewHold;
use custos_engine::governance::legal::{Decision, NewLegalRequest};
use custos_engine::governance::notices::NoticeJob;
use custos_engine::jobs::JobRunner;
use custos_engine::mail::{MailJob, Mailer};
use custos_engine::records::{NewValue, Records};
use custos_engine::rights::{Correction, LiftJob, NewRightsRequest, Rights, RightsError, RightsExecution, RightsMail};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::{Policy, Recipient, RecipientRole, TransferMechanism};
use custos_store::{Breach, IdentifierKind, Store, StoreError, SubjectId, SubjectKind};
use custos_testkit::smtp::SmtpSink;
use custos_testkit::{TestDb, on_both_backends};
use custos_vault::MasterKey;
use jiff::Timestamp;

on_both_backends!(
    a_transfer_outside_the_eea_without_adequacy_or_a_safeguard_is_refused_and_names_the_rule,
    the_retention_sweep_deletes_exactly_the_expired_rows_across_clock_changes_and_a_crash,
    a_legal_hold_stops_the_sweep_and_an_erasure_until_released,
    data_kept_until_consent_is_withdrawn_goes_at_the_next_sweep,
    the_breach_window_names_exactly_the_affected_subjects_and_partners,
    a_legal_request_is_registered_decided_and_its_disclosure_linked,
    the_disclosure_log_appears_in_the_access_report,
    an_art19_notice_goes_to_each_recipient_after_a_rectification,
    a_restriction_is_lifted_only_after_the_person_is_told,
    a_sign_up_never_confirmed_goes_at_the_first_sweep_after_its_link_expires,
);

/// Saturday 27 March 2027, the day before the EU clocks go forward: in the future of any
/// test run, so jobs queued at the real time are due on the manual clock.
const T0: &str = "2027-03-27T12:00:00Z";
const DAY: Duration = Duration::from_secs(24 * 3600);

fn t0() -> Timestamp {
    T0.parse().expect("T0")
}

fn days(n: i64) -> Timestamp {
    t0().checked_add(jiff::SignedDuration::from_hours(24 * n)).expect("in range")
}

/// The example policy, with a contact for the support desk (notices are mailed to it) and
/// three recipients whose transfers break Chapter V in different ways. A validated policy
/// cannot hold these; the run-time check must refuse them all the same.
fn policy() -> Policy {
    let mut policy = Policy::example();
    for r in &mut policy.recipients {
        if r.id == "support-desk" {
            r.contact = Some("privacy@helpdesk.example".into());
        }
    }
    let bad = |id: &str, country: &str, transfer: TransferMechanism| Recipient {
        id: id.into(),
        name: format!("{id} Ltd."),
        role: RecipientRole::Vendor,
        country: country.into(),
        purposes: vec!["support".into()],
        categories: vec!["user.name".into(), "user.contact.email".into()],
        transfer,
        dpf_certified: false,
        contact: None,
    };
    policy.recipients.push(bad("offshore", "IN", TransferMechanism::Eea));
    policy.recipients.push(bad("offshore-adequacy", "IN", TransferMechanism::Adequacy));
    policy.recipients.push(bad("us-uncertified", "US", TransferMechanism::Adequacy));
    policy
}

struct Fixture {
    store: Arc<dyn Store>,
    records: Arc<Records>,
    rights: Arc<Rights>,
    gov: Governance,
    clock: ManualClock,
    smtp: SmtpSink,
    runner: JobRunner,
    service: Actor,
}

impl Fixture {
    async fn new(store: Arc<dyn Store>, db: &TestDb) -> Self {
        Self::with_partners(store, db, Arc::new(custos_engine::governance::breach::NoPartners)).await
    }

    async fn with_partners(store: Arc<dyn Store>, db: &TestDb, partners: Arc<dyn AffectedPartners>) -> Self {
        let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), db.keys().await).await.expect("vault"));
        let policy = Arc::new(policy());
        let clock = ManualClock::new(t0());
        let records = Arc::new(Records::new(store.clone(), vault.clone(), policy.clone(), Arc::new(clock.clone())));
        let consents = Arc::new(Consents::new(
            store.clone(),
            vault,
            policy.clone(),
            records.auditor().clone(),
            Arc::new(clock.clone()),
        ));
        let rights = Arc::new(Rights::new(records.clone(), consents, policy.clone(), Arc::new(clock.clone())));
        let gov = Governance::with_partners(records.clone(), policy, Arc::new(clock.clone()), partners);
        let smtp = SmtpSink::start().await;
        let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
        let runner = JobRunner::new(store.clone())
            .register(RightsExecution::new(rights.clone()))
            .register(RightsMail::new(rights.clone(), mailer.clone(), "https://privacy.shop.example"))
            .register(LiftJob::new(rights.clone(), mailer.clone(), "https://privacy.shop.example"))
            .register(NoticeJob::new(store.clone(), Some(mailer.clone()), Arc::new(clock.clone())))
            .register(MailJob::new(records.clone(), mailer))
            .with_clock(Arc::new(clock.clone()));
        let service = Actor::Service {
            token: "0123456789ab".into(),
            purposes: vec!["support".into(), "partner-services".into(), "legal-obligations".into()],
        };
        Self { store, records, rights, gov, clock, smtp, runner, service }
    }

    /// A user known by `email`, with `values` stored now.
    async fn person(&self, email: &str, values: &[(&str, &str, &str)]) -> SubjectId {
        let values: Vec<NewValue<'_>> = values
            .iter()
            .map(|(purpose, category, value)| NewValue { purpose, category, value: value.as_bytes() })
            .collect();
        let (id, _) = self
            .records
            .create_subject(&Actor::System, SubjectKind::User, &[(IdentifierKind::Email, email)], &values)
            .await
            .expect("create");
        id
    }

    /// (category, purpose) of every record `subject` still has, sorted.
    async fn held(&self, subject: SubjectId) -> Vec<(String, String)> {
        let mut held: Vec<(String, String)> =
            self.store.records(subject).await.expect("records").into_iter().map(|r| (r.category, r.purpose)).collect();
        held.sort();
        held
    }

    fn disclosure(&self, recipient: &str, subjects: &[SubjectId], categories: &[&str]) -> DisclosureRequest {
        DisclosureRequest {
            recipient: recipient.into(),
            subjects: subjects.to_vec(),
            purpose: "support".into(),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    /// Submits a request of `kind` for `email`, verifies it with the mailed code and runs
    /// every job due.
    async fn request(&self, kind: &str, email: &str, corrections: Vec<Correction>) -> custos_store::RightsRequest {
        let new = NewRightsRequest {
            kind: kind.into(),
            email: email.into(),
            purpose: None,
            corrections,
            transmit_to: None,
            language: None,
            agent: None,
        };
        let request = self.rights.submit(&new, "form").await.expect("submit");
        self.runner.run_pending().await.expect("run");
        let mail = self.smtp.delivered().into_iter().rev().find(|d| d.to == [email]).expect("a code mail");
        let code = mail.data.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("a code").trim().to_owned();
        self.rights.verify(request.id, &code).await.expect("verify");
        self.runner.run_pending().await.expect("run");
        self.rights.get(request.id).await.expect("get")
    }
}

async fn a_transfer_outside_the_eea_without_adequacy_or_a_safeguard_is_refused_and_names_the_rule(
    store: Arc<dyn Store>,
    db: &TestDb,
) {
    let f = Fixture::new(store, db).await;
    let ada = f.person("ada@example.org", &[("support", "user.name", "Ada Byron")]).await;
    let d = &f.gov.disclose;
    let refused = |e: GovernanceError| match e {
        GovernanceError::Refused { rule, reason } => (rule, reason),
        other => panic!("expected a refusal, got {other}"),
    };

    let (rule, reason) = refused(
        d.disclose(&f.service, &f.disclosure("offshore", &[ada], &["user.name"]), None)
            .await
            .expect_err("no safeguard"),
    );
    assert_eq!(rule, DisclosureRule::TransferWithoutSafeguard);
    assert_eq!(rule.code(), "transfer_without_safeguard");
    assert!(reason.contains("IN") && reason.contains("outside the EEA"), "{reason}");
    let (rule, reason) = refused(
        d.disclose(&f.service, &f.disclosure("offshore-adequacy", &[ada], &["user.name"]), None)
            .await
            .expect_err("no adequacy"),
    );
    assert_eq!((rule.code(), reason.contains("no adequacy decision")), ("transfer_not_adequate", true), "{reason}");
    let (rule, _) = refused(
        d.disclose(&f.service, &f.disclosure("us-uncertified", &[ada], &["user.name"]), None)
            .await
            .expect_err("no DPF"),
    );
    assert_eq!(rule.code(), "transfer_dpf_not_certified");
    let (rule, _) = refused(
        d.disclose(&f.service, &f.disclosure("nobody", &[ada], &["user.name"]), None).await.expect_err("unknown"),
    );
    assert_eq!(rule.code(), "recipient_unknown");
    let (rule, _) = refused(
        d.disclose(&f.service, &f.disclosure("support-desk", &[ada], &["user.contact.address"]), None)
            .await
            .expect_err("category"),
    );
    assert_eq!(rule.code(), "recipient_category_not_declared");
    let mut wrong_purpose = f.disclosure("email-delivery", &[ada], &["user.name"]);
    wrong_purpose.purpose = "partner-services".into();
    let (rule, _) = refused(d.disclose(&f.service, &wrong_purpose, None).await.expect_err("purpose"));
    assert_eq!(rule.code(), "recipient_purpose_not_declared");
    assert!(f.store.disclosures(None, 100).await.expect("log").is_empty(), "a refused disclosure logs nothing");

    // Under an adequacy decision (Canada) the data goes, and the disclosure is logged.
    let done =
        d.disclose(&f.service, &f.disclosure("support-desk", &[ada], &["user.name"]), None).await.expect("allowed");
    assert_eq!(done.data.len(), 1);
    assert_eq!(&done.data[0].records[0].value[..], b"Ada Byron");
    let log = f.store.disclosures(None, 100).await.expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].recipient.as_str(), log[0].country.as_str(), log[0].safeguard.as_str(), log[0].subjects.clone()),
        ("support-desk", "CA", "adequacy", vec![(ada, 1)])
    );

    // The gate still applies: a restricted person's data does not go.
    f.store.set_restriction(ada, Some("the person contests accuracy"), f.clock.now()).await.expect("restrict");
    let e =
        d.disclose(&f.service, &f.disclosure("support-desk", &[ada], &["user.name"]), None).await.expect_err("gate");
    assert!(
        matches!(e, GovernanceError::Denied { rule: Rule::Restricted, ref field, .. } if field == "subjects[0]"),
        "{e}"
    );
    let e = d
        .disclose(&f.service, &f.disclosure("support-desk", &[ada, ada], &["user.name"]), None)
        .await
        .expect_err("twice");
    assert!(matches!(e, GovernanceError::Invalid { ref field, .. } if field == "subjects[1]"), "{e}");
    assert_eq!(f.store.disclosures(None, 100).await.expect("log").len(), 1, "refusals log nothing");
}

async fn the_retention_sweep_deletes_exactly_the_expired_rows_across_clock_changes_and_a_crash(
    store: Arc<dyn Store>,
    db: &TestDb,
) {
    let f = Fixture::new(store, db).await;
    let security = |ip: &'static str| ("website-operation", "user.device.ip_address", ip);
    // Day 0: Ada's address (30 days), her message (2 years) and her account email (until closed).
    let ada = f
        .person(
            "ada@example.org",
            &[
                security("192.0.2.1"),
                ("contact", "user.content.private", "hello"),
                ("account", "user.contact.email", "ada@example.org"),
            ],
        )
        .await;
    let ip = f.store.records(ada).await.expect("records").into_iter().find(|r| r.category == "user.device.ip_address");
    // Across the daylight-saving change of 28 March 2027: exactly 30 x 24 hours.
    assert_eq!(ip.and_then(|r| r.expires_at), Some(days(30)));
    // Day 10: Bob's address (ends day 40). Day 12: five more people's (end day 42).
    f.clock.set(days(10));
    let bob = f.person("bob@example.org", &[security("192.0.2.2")]).await;
    f.clock.set(days(12));
    let mut five = Vec::new();
    for i in 0..5 {
        five.push(f.person(&format!("p{i}@example.org"), &[security("192.0.2.3")]).await);
    }
    let addresses = |n: u64| std::collections::BTreeMap::from([("user.device.ip_address".to_owned(), n)]);

    // Day 30 plus an hour: only Ada's address has ended.
    f.clock.set(days(30).checked_add(jiff::SignedDuration::from_hours(1)).expect("time"));
    let dry = f.gov.retention.run(true).await.expect("dry run");
    assert_eq!((dry.deleted.clone(), dry.sweep_id), (addresses(1), None));
    assert_eq!(f.held(ada).await.len(), 3, "a dry run deletes nothing");
    let report = f.gov.retention.run(false).await.expect("sweep");
    assert_eq!((report.deleted.clone(), report.finished, report.resumed), (addresses(1), true, false));
    assert_eq!(
        f.held(ada).await,
        vec![("user.contact.email".into(), "account".into()), ("user.content.private".into(), "contact".into())]
    );
    assert_eq!(f.held(bob).await.len(), 1);

    // The clock is moved back to day 20: nothing more has ended.
    f.clock.set(days(20));
    assert_eq!(f.gov.retention.run(false).await.expect("sweep").total_deleted(), 0);
    assert_eq!(f.held(bob).await.len(), 1);

    // Day 45: Bob's and the five addresses have ended. The sweep dies after one batch of two.
    f.clock.set(days(45));
    let small = f.gov.retention.with_batch(2);
    let cut = small.sweep(false, Some(1)).await.expect("one batch");
    assert_eq!((cut.deleted.clone(), cut.finished), (addresses(2), false));
    assert!(f.held(bob).await.is_empty(), "Bob's ended first and went in the first batch");
    // The clock goes back to day 41 before the sweep resumes: it deletes only what has
    // ended by then, which is nothing more (the five end on day 42).
    f.clock.set(days(41));
    let resumed = small.sweep(false, None).await.expect("resume");
    assert!(resumed.resumed && resumed.finished);
    assert_eq!(resumed.deleted, addresses(2), "the counts carry over; nothing more deleted");
    let left: usize = {
        let mut n = 0;
        for p in &five {
            n += f.held(*p).await.len();
        }
        n
    };
    assert_eq!(left, 4);
    // Back at day 45 a new sweep deletes the four left, and only them.
    f.clock.set(days(45));
    let last = small.run(false).await.expect("sweep");
    assert_eq!((last.deleted.clone(), last.resumed), (addresses(4), false));
    for p in &five {
        assert!(f.held(*p).await.is_empty());
    }
    assert_eq!(f.held(ada).await.len(), 2, "the message (2 years) and the account email (until closed) stay");
    let history = f.gov.retention.history(10).await.expect("history");
    assert_eq!(history.len(), 4);
    assert!(history.iter().all(|s| s.state == "done"));

    // Website events are kept 13 months (the analytics rule): one from day 0, one from day 45.
    let event = |at: Timestamp| custos_store::StoredEvent {
        visitor: custos_store::EventVisitor::Subject(ada),
        event_id: uuid::Uuid::now_v7(),
        at,
        kind: "pageview".into(),
        path: "/pricing".into(),
        referrer: None,
        entry: true,
        duration_ms: None,
        sealed_ip: None,
        country: None,
        browser: None,
        os: None,
        device: None,
    };
    f.store.insert_events(&[event(t0()), event(days(45))]).await.expect("events");
    // 27 April 2028 at noon is 13 months after day 0: one minute before, nothing ends.
    let thirteen_months: Timestamp = "2028-04-27T12:00:00Z".parse().expect("time");
    f.clock.set(thirteen_months.checked_sub(jiff::SignedDuration::from_mins(1)).expect("time"));
    assert!(f.gov.retention.run(false).await.expect("sweep").deleted.is_empty());
    f.clock.set(thirteen_months);
    let swept = f.gov.retention.run(false).await.expect("sweep");
    assert_eq!(swept.deleted, std::collections::BTreeMap::from([("user.behavior.browsing_history".to_owned(), 1)]));
    let left = f.store.subject_events(ada, 10).await.expect("events");
    assert_eq!(left.iter().map(|e| e.at).collect::<Vec<_>>(), vec![days(45)]);
}

async fn a_legal_hold_stops_the_sweep_and_an_erasure_until_released(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let ada = f
        .person(
            "ada@example.org",
            &[
                ("contact", "user.contact.email", "ada@example.org"),
                ("contact", "user.content.private", "About the invoice dispute"),
                ("website-operation", "user.device.ip_address", "192.0.2.1"),
                ("account", "user.name", "Ada Byron"),
            ],
        )
        .await;
    let bob = f.person("bob@example.org", &[("contact", "user.content.private", "hi")]).await;
    let actor = Actor::System;
    let bad = NewHold {
        scope: "subject".into(),
        target: Some("not-a-uuid".into()),
        reason: "claim".into(),
        placed_by: "dpo".into(),
        until: None,
    };
    let e = f.gov.holds.place(&actor, &bad).await.expect_err("bad target");
    assert!(matches!(e, GovernanceError::Invalid { ref field, .. } if field == "target"), "{e}");
    assert!(f.gov.holds.list(true).await.expect("list").is_empty(), "a refused hold stores nothing");
    let hold = f
        .gov
        .holds
        .place(
            &actor,
            &NewHold {
                scope: "subject".into(),
                target: Some(ada.to_string()),
                reason: "a pending claim about invoice 2027-17 (legal claims)".into(),
                placed_by: "dpo".into(),
                until: None,
            },
        )
        .await
        .expect("place");
    assert_eq!(f.gov.holds.held(Some(ada), None, None).await.expect("held").len(), 1);
    assert!(f.gov.holds.held(Some(bob), None, None).await.expect("held").is_empty());

    // Two years and a day later: the messages have ended. Ada's are held (the rule lets a
    // hold keep them); her address had no such leave and goes; Bob's message goes.
    f.clock.set(days(2 * 366));
    let report = f.gov.retention.run(false).await.expect("sweep");
    assert_eq!(report.held.get("user.content.private"), Some(&1));
    assert_eq!(report.held.get("user.contact.email"), Some(&1));
    assert_eq!(report.deleted.get("user.device.ip_address"), Some(&1));
    assert!(f.held(bob).await.is_empty());
    assert_eq!(f.held(ada).await.len(), 3);

    // Ada asks for erasure: what the hold covers stays, restricted; she is told why.
    let done = f.request("erasure", "ada@example.org", vec![]).await;
    assert_eq!(done.state, "fulfilled");
    assert_eq!(done.steps, vec!["erase", "recipients", "notify"]);
    let erase = &done.outcome.as_ref().expect("outcome")["erase"];
    assert_eq!(erase["legal_hold"]["ground"], "a pending claim about invoice 2027-17 (legal claims)");
    assert_eq!(erase["key_destroyed"], false);
    assert_eq!(f.held(ada).await.len(), 3, "everything of hers is under the subject hold");
    assert!(f.store.restricted(ada).await.expect("restricted"));
    let told = f.smtp.delivered().into_iter().rev().find(|d| d.to == ["ada@example.org"]).expect("outcome mail");
    assert!(told.data.contains("invoice 2027-17"), "{}", told.data);

    // A narrower hold: only the contact purpose. A closing erases what it does not cover.
    f.gov.holds.release(&actor, hold.id, "dpo", "the claim was settled").await.expect("release");
    let e = f.gov.holds.release(&actor, hold.id, "dpo", "again").await.expect_err("twice");
    assert!(matches!(e, GovernanceError::WrongState(_)), "{e}");
    let purpose_hold = f
        .gov
        .holds
        .place(
            &actor,
            &NewHold {
                scope: "purpose".into(),
                target: Some("contact".into()),
                reason: "tax audit of 2027 correspondence (legal obligation)".into(),
                placed_by: "dpo".into(),
                until: Some(days(2 * 366 + 30)),
            },
        )
        .await
        .expect("place");
    let erased = custos_engine::governance::holds::erase_respecting_holds(&f.gov.holds, &f.records, &actor, ada)
        .await
        .expect("erase");
    assert_eq!((erased.records_deleted, erased.records_kept), (1, 2));
    assert_eq!(
        f.held(ada).await,
        vec![("user.contact.email".into(), "contact".into()), ("user.content.private".into(), "contact".into())]
    );
    // Once the hold ends by itself, the next sweep deletes what is past its end.
    f.clock.set(days(2 * 366 + 31));
    assert!(f.gov.holds.held(Some(ada), Some("contact"), None).await.expect("held").is_empty());
    let report = f.gov.retention.run(false).await.expect("sweep");
    assert_eq!(report.deleted.values().sum::<u64>(), 2);
    assert!(report.held.is_empty());
    assert!(f.held(ada).await.is_empty());
    // Her erasure, cut short by the holds, is finished: key and every row gone.
    assert_eq!(report.erasures_finished, 1);
    assert!(f.store.subject(ada).await.expect("read").is_none());
    assert!(f.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find").is_none());
    assert_eq!(f.gov.holds.list(true).await.expect("all").len(), 2);
    assert_eq!(f.gov.holds.list(false).await.expect("unreleased")[0].id, purpose_hold.id);
}

async fn data_kept_until_consent_is_withdrawn_goes_at_the_next_sweep(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let consent = |subject: SubjectId, granted: bool, at: Timestamp| custos_store::ConsentEntry {
        at,
        ..custos_testkit::consent(subject, "marketing", granted)
    };
    let mut people = Vec::new();
    for name in ["ada", "bob"] {
        let (id, _) = f
            .records
            .create_subject(
                &Actor::System,
                SubjectKind::User,
                &[(IdentifierKind::Email, &format!("{name}@example.org"))],
                &[],
            )
            .await
            .expect("create");
        f.store.append_consent(&consent(id, true, f.clock.now())).await.expect("consent");
        let values = [
            NewValue { purpose: "marketing", category: "user.name", value: name.as_bytes() },
            NewValue { purpose: "marketing", category: "user.contact.email", value: b"x@example.org" },
            NewValue { purpose: "contact", category: "user.content.private", value: b"hello" },
        ];
        f.records.write_all(&Actor::System, id, &values).await.expect("write");
        people.push(id);
    }
    let (ada, bob) = (people[0], people[1]);
    // Ada unsubscribes on day 3; Bob's consent stays.
    f.clock.set(days(3));
    f.store.append_consent(&consent(ada, false, f.clock.now())).await.expect("withdraw");
    let dry = f.gov.retention.run(true).await.expect("dry run");
    assert_eq!(dry.deleted.values().sum::<u64>(), 2);
    let report = f.gov.retention.run(false).await.expect("sweep");
    assert_eq!(
        report.deleted,
        std::collections::BTreeMap::from([("user.contact.email".to_owned(), 1), ("user.name".to_owned(), 1)])
    );
    assert_eq!(
        f.held(ada).await,
        vec![("user.content.private".into(), "contact".into())],
        "only her marketing data went"
    );
    assert_eq!(f.held(bob).await.len(), 3, "Bob consents still");
    // She signs up again on day 5: her new marketing data stays.
    f.clock.set(days(5));
    f.store.append_consent(&consent(ada, true, f.clock.now())).await.expect("consent again");
    f.records
        .write(&Actor::System, ada, &NewValue { purpose: "marketing", category: "user.name", value: b"Ada" })
        .await
        .expect("write");
    assert_eq!(f.gov.retention.run(false).await.expect("sweep").total_deleted(), 0);
    assert_eq!(f.held(ada).await.len(), 2);
}

/// Partners for the breach seam: `acme` has the listed people as end users.
struct Acme(std::sync::Mutex<Vec<SubjectId>>);

#[async_trait]
impl AffectedPartners for Acme {
    async fn affected_partners(
        &self,
        _: &Breach,
        subjects: &[AffectedSubject],
    ) -> Result<Vec<AffectedPartner>, StoreError> {
        let ends = self.0.lock().map(|l| l.clone()).unwrap_or_default();
        let n = subjects.iter().filter(|s| ends.contains(&s.subject_id)).count();
        Ok(if n == 0 {
            vec![]
        } else {
            vec![AffectedPartner {
                id: "acme".into(),
                contact: Some("security@acme.example".into()),
                contact_subject: None,
                records: n as u64,
            }]
        })
    }
}

async fn the_breach_window_names_exactly_the_affected_subjects_and_partners(store: Arc<dyn Store>, db: &TestDb) {
    // The window: day 1 to day 2.
    let email = |e: &'static str| ("contact", "user.contact.email", e);
    // Day 0: Ada and Hal hold an email; Dee only a name. Hal and Cat are Acme's end users.
    let acme = Arc::new(Acme(std::sync::Mutex::new(Vec::new())));
    let f0 = Fixture::with_partners(store, db, acme.clone()).await;
    let ada = f0.person("ada@example.org", &[email("ada@example.org")]).await;
    let hal = f0.person("hal@example.org", &[email("hal@example.org")]).await;
    let dee = f0.person("dee@example.org", &[("contact", "user.name", "Dee")]).await;
    // Day 1.5: Bob's email is written; Gus's is written and deleted; Ada's is read.
    f0.clock.set(days(1).checked_add(jiff::SignedDuration::from_hours(12)).expect("time"));
    let bob = f0.person("bob@example.org", &[email("bob@example.org")]).await;
    let gus = f0.person("gus@example.org", &[email("gus@example.org")]).await;
    for r in f0.store.records(gus).await.expect("records") {
        f0.store.delete_record(gus, r.record_id).await.expect("delete");
    }
    f0.records.read(&f0.service, ada, "support", &["user.contact.email"]).await.expect("read");
    // Day 3: Cat's email, after the window.
    f0.clock.set(days(3));
    let cat = f0.person("cat@example.org", &[email("cat@example.org")]).await;
    acme.0.lock().expect("lock").extend([hal, cat]);
    let f = f0;
    let new = NewBreach {
        detected_at: None,
        nature: "A database replica was reachable from the internet".into(),
        categories: vec!["user.contact.email".into()],
        systems: vec!["replica-2".into()],
        measures: "The replica was firewalled and its credentials rotated".into(),
        consequences: "Sealed values cannot be read without the keys; some addresses were handled in clear".into(),
        keys_exposed: false,
        window_start: days(1),
        window_end: days(2),
        opened_by: "dpo".into(),
    };
    let e = f.gov.breaches.open(&Actor::System, &NewBreach { window_start: days(4), ..new.clone() }).await;
    assert!(matches!(e, Err(GovernanceError::Invalid { ref field, .. }) if field == "window_start"), "{e:?}");
    let breach = f.gov.breaches.open(&Actor::System, &new).await.expect("open");
    assert_eq!(f.gov.breaches.list(10).await.expect("list").len(), 1, "the refused one was not stored");

    let affected = f.gov.breaches.affected(breach.id).await.expect("affected");
    let mut named: Vec<SubjectId> = affected.subjects.iter().map(|s| s.subject_id).collect();
    named.sort();
    let mut expected = vec![ada, hal, bob, gus];
    expected.sort();
    assert_eq!(named, expected, "not Dee (no email), not Cat (after the window)");
    let _ = (dee, cat);
    let by = |s: SubjectId| affected.subjects.iter().find(|a| a.subject_id == s).expect("affected");
    assert!(!by(hal).notice_needed, "Hal's sealed address only sat at rest: {}", by(hal).reason);
    assert!(by(ada).notice_needed && by(bob).notice_needed && by(gus).notice_needed);
    assert_eq!((by(gus).records, by(gus).accesses), (0, 1), "Gus is found through the audit log only");
    assert_eq!(
        affected.partners,
        vec![AffectedPartner {
            id: "acme".into(),
            contact: Some("security@acme.example".into()),
            contact_subject: None,
            records: 1
        }]
    );
    f.runner.run_pending().await.expect("run");
    let notices = f.store.notices_for(breach.id).await.expect("notices");
    assert_eq!(notices.len(), 1);
    assert_eq!((notices[0].addressee.as_str(), notices[0].channel.as_deref()), ("acme", Some("mail")));
    assert!(f.smtp.delivered().iter().any(|d| d.to == ["security@acme.example"]), "the partner was mailed");

    let draft = f.gov.breaches.draft(breach.id).await.expect("draft");
    assert_eq!(draft["a_nature"]["approximate_subjects"], 4);
    assert_eq!(draft["b_dpo"]["email"], "dpo@immediate-connect.example");
    assert_eq!(draft["people_to_notify"], 3);
    let text = custos_engine::governance::breach::draft_text(&draft);
    assert!(text.contains("(c) Likely consequences") && text.contains("replica-2"), "{text}");

    // The 72 hours: past them, the reasons for the delay are needed.
    let clock = f.gov.breaches.deadline(&breach);
    assert_eq!((clock.due_at, clock.overdue), (days(6), false));
    f.clock.set(days(6).checked_add(jiff::SignedDuration::from_hours(1)).expect("time"));
    assert!(f.gov.breaches.deadline(&breach).overdue);
    let e = f.gov.breaches.notify_authority(&Actor::System, breach.id, None).await.expect_err("late");
    assert!(matches!(e, GovernanceError::Invalid { ref field, .. } if field == "delay_reason"), "{e}");
    let notified = f
        .gov
        .breaches
        .notify_authority(&Actor::System, breach.id, Some("the scope took four days to establish"))
        .await
        .expect("notified");
    assert!(notified.notified_at.is_some() && f.gov.breaches.deadline(&notified).overdue);

    // Art. 34: the three whose data was handled in clear are told; Hal is not.
    assert_eq!(f.gov.breaches.notify_people(&Actor::System, breach.id).await.expect("notify"), 3);
    assert_eq!(f.gov.breaches.notify_people(&Actor::System, breach.id).await.expect("again"), 0, "once each");
    f.runner.run_pending().await.expect("run");
    let told: Vec<String> = f.smtp.delivered().into_iter().flat_map(|d| d.to).collect();
    assert!(told.contains(&"ada@example.org".to_owned()) && told.contains(&"bob@example.org".to_owned()));
    assert!(!told.contains(&"hal@example.org".to_owned()));
}

async fn a_legal_request_is_registered_decided_and_its_disclosure_linked(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let ada = f.person("ada@example.org", &[("contact", "user.name", "Ada Byron")]).await;
    let legal = &f.gov.legal;
    let e = legal
        .register(
            &Actor::System,
            &NewLegalRequest {
                authority: " ".into(),
                legal_basis: "s. 8 Criminal Justice Act".into(),
                scope: "the name behind one subject".into(),
                received_at: None,
                recorded_by: "dpo".into(),
            },
        )
        .await
        .expect_err("no authority");
    assert!(matches!(e, GovernanceError::Invalid { ref field, .. } if field == "authority"), "{e}");
    let request = legal
        .register(
            &Actor::System,
            &NewLegalRequest {
                authority: "An Garda Síochána".into(),
                legal_basis: "s. 8 Criminal Justice Act".into(),
                scope: "the name behind one subject".into(),
                received_at: None,
                recorded_by: "dpo".into(),
            },
        )
        .await
        .expect("register");
    let ask = DisclosureRequest {
        recipient: "authorities".into(),
        subjects: vec![ada],
        purpose: "legal-obligations".into(),
        categories: vec!["user.name".into()],
    };
    let e = legal.disclose(&f.service, request.id, &ask).await.expect_err("not decided");
    assert!(matches!(e, GovernanceError::WrongState(_)), "{e}");
    let decided = legal
        .decide(
            &Actor::System,
            request.id,
            &Decision {
                decision: "granted".into(),
                decided_by: "dpo".into(),
                reason: "a valid production order".into(),
            },
        )
        .await
        .expect("decide");
    assert_eq!((decided.decision.as_str(), decided.decided_by.as_deref()), ("granted", Some("dpo")));
    let done = legal.disclose(&f.service, request.id, &ask).await.expect("disclose");
    assert_eq!(done.disclosure.legal_request, Some(request.id));
    let linked = legal.disclosures(request.id).await.expect("linked");
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].subjects, vec![(ada, 1)]);
    let e = legal
        .decide(
            &Actor::System,
            request.id,
            &Decision { decision: "refused".into(), decided_by: "x".into(), reason: "y".into() },
        )
        .await
        .expect_err("decided");
    assert!(matches!(e, GovernanceError::WrongState(_)), "{e}");
    let audit = f.store.audit_entries(0, 1000).await.expect("audit");
    for action in ["legal_request.register", "legal_request.decide", "disclosure.make"] {
        assert!(audit.iter().any(|e| e.entry.action == action), "{action} audited");
    }
}

async fn the_disclosure_log_appears_in_the_access_report(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let ada = f
        .person("ada@example.org", &[("support", "user.name", "Ada Byron"), ("contact", "user.content.private", "hi")])
        .await;
    let policy = policy();
    let before = custos_engine::access::package(&f.records, &f.store, &policy, ada, uuid::Uuid::now_v7())
        .await
        .expect("package");
    assert_eq!(before.report["3_recipients"]["disclosed_to"], serde_json::json!([]));
    f.gov
        .disclose
        .disclose(&f.service, &f.disclosure("support-desk", &[ada], &["user.name"]), None)
        .await
        .expect("disclose");
    let after = custos_engine::access::package(&f.records, &f.store, &policy, ada, uuid::Uuid::now_v7())
        .await
        .expect("package");
    let to = &after.report["3_recipients"]["disclosed_to"];
    assert_eq!(to.as_array().map(Vec::len), Some(1), "{to}");
    assert_eq!(to[0]["recipient"], "support-desk");
    assert_eq!(to[0]["country"], "CA");
    assert_eq!(to[0]["safeguard"], TransferMechanism::Adequacy.describe());
    assert_eq!(to[0]["categories"], serde_json::json!(["user.name"]));
    let transfers = after.report["9_transfers"].as_array().expect("transfers");
    assert_eq!(transfers.iter().filter(|t| t["country"] == "CA").count(), 1, "listed once: {transfers:?}");
    // The person's legitimate-interest purposes come with their assessment.
    let interests = after.report["legitimate_interests"].as_array().expect("assessments");
    assert!(interests.iter().any(|a| a["purpose"] == "contact" && a["balancing"].is_string()), "{interests:?}");
}

async fn an_art19_notice_goes_to_each_recipient_after_a_rectification(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let ada = f.person("ada@example.org", &[("support", "user.name", "Ada Bryon")]).await;
    let bob = f.person("bob@example.org", &[("support", "user.name", "Bob")]).await;
    // Ada's name went to the support desk (which has a contact) and to the hosting
    // provider (which has none); Bob's only to the support desk.
    f.gov
        .disclose
        .disclose(&f.service, &f.disclosure("support-desk", &[ada, bob], &["user.name"]), None)
        .await
        .expect("desk");
    let mut hosting = f.disclosure("hosting", &[ada], &["user.name"]);
    hosting.purpose = "support".into();
    f.gov.disclose.disclose(&f.service, &hosting, None).await.expect("hosting");
    f.clock.advance(DAY);

    let done = f
        .request(
            "rectification",
            "ada@example.org",
            vec![Correction { category: "user.name".into(), value: "Ada Byron".into() }],
        )
        .await;
    assert_eq!(done.state, "fulfilled");
    assert_eq!(done.steps, vec!["rectify", "recipients", "notify"]);
    assert_eq!(
        done.outcome.as_ref().expect("outcome")["recipients"]["notified"],
        serde_json::json!(["hosting", "support-desk"])
    );
    let notices = f.store.notices_for(done.id).await.expect("notices");
    let sent: Vec<(&str, Option<&str>, Option<SubjectId>)> =
        notices.iter().map(|n| (n.addressee.as_str(), n.channel.as_deref(), n.subject_id)).collect();
    assert_eq!(sent, vec![("hosting", Some("recorded"), Some(ada)), ("support-desk", Some("mail"), Some(ada))]);
    assert!(notices.iter().all(|n| n.sent_at.is_some()), "every notice is recorded as given");
    let mail = f.smtp.delivered().into_iter().find(|d| d.to == ["privacy@helpdesk.example"]).expect("mailed");
    assert!(mail.data.contains(&ada.to_string()) && mail.data.contains("rectified"), "{}", mail.data);
    assert!(!mail.data.contains("Ada"), "the notice names the person by subject id only");
    // Bob's data did not change: no notice about him.
    assert!(notices.iter().all(|n| n.subject_id != Some(bob)));

    // Bob has his processing restricted: only the support desk received his data.
    let restricted = f.request("restriction", "bob@example.org", vec![]).await;
    assert_eq!(restricted.steps, vec!["restrict", "recipients", "notify"]);
    let notices = f.store.notices_for(restricted.id).await.expect("notices");
    assert_eq!(notices.iter().map(|n| n.addressee.as_str()).collect::<Vec<_>>(), vec!["support-desk"]);
    assert!(notices[0].body.contains("restricted") && notices[0].subject_id == Some(bob), "{}", notices[0].body);
    // Ada is erased: both recipients are told, though her data is gone from custos.
    let erased = f.request("erasure", "ada@example.org", vec![]).await;
    assert_eq!(erased.outcome.as_ref().expect("outcome")["erase"]["key_destroyed"], true);
    let notices = f.store.notices_for(erased.id).await.expect("notices");
    assert_eq!(notices.iter().map(|n| n.addressee.as_str()).collect::<Vec<_>>(), vec!["hosting", "support-desk"]);
    assert!(notices.iter().all(|n| n.body.contains("was erased") && n.sent_at.is_some()));
}

async fn a_restriction_is_lifted_only_after_the_person_is_told(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let dpo = Actor::Staff { id: "dpo".into(), role: custos_engine::gate::StaffRole::Dpo, purposes: vec![] };
    let bob = f
        .person(
            "bob@example.org",
            &[("support", "user.name", "Bob"), ("support", "user.contact.email", "bob@example.org")],
        )
        .await;
    // Eve's address is only a way to find her: no record of hers holds it to write to.
    let eve = f.person("eve@example.org", &[("support", "user.name", "Eve")]).await;
    f.gov
        .disclose
        .disclose(&f.service, &f.disclosure("support-desk", &[bob], &["user.name"]), None)
        .await
        .expect("disclosed");
    let restricted = f.request("restriction", "bob@example.org", vec![]).await;
    let eves = f.request("restriction", "eve@example.org", vec![]).await;
    assert!(f.store.restricted(bob).await.expect("state") && f.store.restricted(eve).await.expect("state"));
    let desk_read = || f.records.read(&f.service, bob, "support", &["user.name"]);
    assert!(desk_read().await.is_err(), "restricted: the service reads nothing");

    // Refusals change nothing.
    let reason = "we checked the address you said was wrong: it is right";
    let refused = f.rights.lift_restriction(&dpo, eves.id, reason, None).await;
    assert!(
        matches!(&refused, Err(RightsError::WrongState { message, .. }) if message.contains("cannot be told")),
        "{refused:?}"
    );
    let refused = f.rights.lift_restriction(&dpo, restricted.id, reason, Some(91)).await;
    assert!(matches!(refused, Err(RightsError::Invalid { field: "days", .. })), "{refused:?}");
    let refused = f.rights.lift_restriction(&dpo, restricted.id, "  ", None).await;
    assert!(matches!(refused, Err(RightsError::Invalid { field: "reason", .. })), "{refused:?}");
    let bobs_access = f.request("access", "bob@example.org", vec![]).await;
    let refused = f.rights.lift_restriction(&dpo, bobs_access.id, reason, None).await;
    assert!(matches!(refused, Err(RightsError::WrongState { .. })), "{refused:?}");
    for id in [restricted.id, eves.id] {
        assert!(custos_engine::rights::Lift::of(&f.rights.get(id).await.expect("get")).is_none(), "nothing stored");
    }

    // Announced, fourteen days ahead; once only.
    let announced = f.rights.lift_restriction(&dpo, restricted.id, reason, None).await.expect("announce");
    let lift = custos_engine::rights::Lift::of(&announced).expect("recorded");
    assert_eq!(lift.effective_at.duration_since(lift.announced_at).as_hours(), 14 * 24);
    assert!(f.rights.lift_restriction(&dpo, restricted.id, reason, None).await.is_err(), "once");
    f.runner.run_pending().await.expect("run");
    let told: Vec<String> = f
        .smtp
        .delivered()
        .into_iter()
        .filter(|d| d.to == ["bob@example.org"] && d.data.contains("We will lift the restriction"))
        .map(|d| d.text())
        .collect();
    assert_eq!(told.len(), 1, "the person is told once");
    let day = lift.effective_at.strftime("%Y-%m-%d").to_string();
    assert!(told[0].contains(reason) && told[0].contains(&day), "the reason and the day: {}", told[0]);
    assert!(f.store.restricted(bob).await.expect("state"), "told, not yet lifted");
    let notified = custos_engine::rights::Lift::of(&f.rights.get(restricted.id).await.expect("get")).expect("lift");
    assert!(notified.notified_at.is_some() && notified.lifted_at.is_none());

    f.clock.advance(DAY * 13);
    f.runner.run_pending().await.expect("run");
    assert!(f.store.restricted(bob).await.expect("state"), "the day has not come");
    f.clock.advance(DAY + Duration::from_secs(60));
    f.runner.run_pending().await.expect("run");
    f.runner.run_pending().await.expect("run the notices it queued");
    assert!(!f.store.restricted(bob).await.expect("state"), "lifted on the day");
    desk_read().await.expect("the service reads again");
    assert!(f.store.restricted(eve).await.expect("state"), "only Bob's restriction ended");
    let done = custos_engine::rights::Lift::of(&f.rights.get(restricted.id).await.expect("get")).expect("lift");
    let (notified_at, lifted_at) = (done.notified_at.expect("told"), done.lifted_at.expect("lifted"));
    assert!(notified_at < lifted_at, "told before it was lifted");
    let notices = f.store.notices_for(done.id).await.expect("notices");
    assert_eq!(notices.iter().map(|n| n.addressee.as_str()).collect::<Vec<_>>(), vec!["support-desk"]);
    assert!(notices[0].body.contains("released from the restriction") && notices[0].sent_at.is_some());
    let audit = f.store.audit_entries(0, 1000).await.expect("audit");
    let actions: Vec<&str> =
        audit.iter().map(|e| e.entry.action.as_str()).filter(|a| a.starts_with("rights.lift")).collect();
    assert_eq!(actions, vec!["rights.lift_announce", "rights.lift_notify", "rights.lift"]);
    // Running the job again changes nothing and tells no one twice.
    f.clock.advance(DAY);
    f.runner.run_pending().await.expect("run");
    let again = f.smtp.delivered().into_iter().filter(|d| d.data.contains("We will lift the restriction")).count();
    assert_eq!(again, 1);
}

async fn a_sign_up_never_confirmed_goes_at_the_first_sweep_after_its_link_expires(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let pending = custos_store::PendingConfirmation {
        id: uuid::Uuid::new_v4(),
        sealed: vec![1; 64],
        created_at: t0(),
        expires_at: t0().checked_add(custos_engine::confirmations::LINK_LIFETIME).expect("time"),
    };
    f.store.put_confirmation(&pending).await.expect("put");
    f.clock.set(days(1));
    assert_eq!(f.gov.retention.run(false).await.expect("sweep").confirmations_expired, 0, "its link still works");
    assert!(f.store.confirmation(pending.id, days(1)).await.expect("read").is_some());
    f.clock.set(days(3));
    assert_eq!(f.gov.retention.run(true).await.expect("dry run").confirmations_expired, 0, "a dry run deletes nothing");
    assert_eq!(f.gov.retention.run(false).await.expect("sweep").confirmations_expired, 1);
    assert_eq!(
        f.store.take_confirmation(pending.id, t0()).await.expect("take"),
        None,
        "gone, even for an earlier clock"
    );
}
