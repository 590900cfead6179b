//! Rights requests end to end through the job runner and a real SMTP server on loopback:
//! the code goes by mail, verification ties the request to the person, execution is
//! resumable and runs each step once, unknown people look like known ones, codes expire and
//! cannot be replayed, deadlines extend once within the first month.

use std::sync::Arc;
use std::time::Duration;

use custos_engine::clock::{ManualClock, SystemClock};
use custos_engine::consent::Consents;
use custos_engine::gate::{Actor, StaffRole};
use custos_engine::jobs::JobRunner;
use custos_engine::mail::Mailer;
use custos_engine::records::{NewValue, Records};
use custos_engine::rights::{
    Correction, NewRightsRequest, Rights, RightsError, RightsExecution, RightsMail, due_date, schedule_sweep,
};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{IdentifierKind, Store, SubjectKind};
use custos_testkit::smtp::SmtpSink;
use custos_testkit::{TestDb, consent, on_both_backends};
use custos_vault::MasterKey;

on_both_backends!(
    an_erasure_request_erases_the_person_and_then_forgets_the_address,
    an_unknown_address_is_answered_like_a_known_one,
    codes_expire_cannot_be_guessed_nor_used_twice,
    a_crash_between_steps_resumes_and_runs_each_step_once,
    a_withdrawal_request_withdraws_every_live_consent,
    a_deadline_extends_once_within_the_first_month,
    an_access_request_gives_the_nine_facts_and_a_copy_through_an_expiring_link,
    a_rectification_replaces_the_old_values_and_deletes_them,
    a_portability_request_gives_what_the_person_provided_with_its_schema,
    unverified_requests_expire_and_the_dpo_is_reminded_of_what_is_due,
);

struct Fixture {
    store: Arc<dyn Store>,
    records: Arc<Records>,
    rights: Arc<Rights>,
    clock: ManualClock,
    smtp: SmtpSink,
    runner: JobRunner,
}

impl Fixture {
    async fn new(store: Arc<dyn Store>, db: &TestDb) -> Self {
        let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), db.keys().await).await.expect("vault"));
        let policy = Arc::new(Policy::example());
        let records = Arc::new(Records::new(store.clone(), vault.clone(), policy.clone(), Arc::new(SystemClock)));
        let consents = Arc::new(Consents::new(
            store.clone(),
            vault,
            policy.clone(),
            records.auditor().clone(),
            Arc::new(SystemClock),
        ));
        let clock = ManualClock::new(jiff::Timestamp::now());
        let rights = Arc::new(Rights::new(records.clone(), consents, policy, Arc::new(clock.clone())));
        let smtp = SmtpSink::start().await;
        let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
        let runner = JobRunner::new(store.clone())
            .register(RightsExecution::new(rights.clone()))
            .register(RightsMail::new(rights.clone(), mailer, "https://privacy.shop.example"))
            .with_clock(Arc::new(clock.clone()));
        Self { store, records, rights, clock, smtp, runner }
    }

    /// A user known by `email`, with a name, who consented to marketing.
    async fn person(&self, email: &str) -> custos_store::SubjectId {
        let (id, _) = self
            .records
            .create_subject(&Actor::System, SubjectKind::User, &[(IdentifierKind::Email, email)], &[])
            .await
            .expect("create");
        self.store.append_consent(&consent(id, "marketing", true)).await.expect("consent");
        let values = [
            NewValue { purpose: "marketing", category: "user.name", value: b"Ada Byron" },
            NewValue { purpose: "marketing", category: "user.contact.email", value: email.as_bytes() },
        ];
        self.records.write_all(&Actor::System, id, &values).await.expect("write");
        id
    }

    async fn submit(&self, kind: &str, email: &str) -> uuid::Uuid {
        let new = NewRightsRequest {
            transmit_to: None,
            language: None,
            kind: kind.into(),
            email: email.into(),
            purpose: None,
            corrections: vec![],
            agent: None,
        };
        let request = self.rights.submit(&new, "form").await.expect("submit");
        assert_eq!(request.state, "unverified");
        request.id
    }

    /// Runs due jobs and returns the code in the latest mail to `email`.
    async fn code(&self, email: &str) -> String {
        self.runner.run_pending().await.expect("run");
        let mail = self.smtp.delivered().into_iter().rev().find(|d| d.to == [email]).expect("a mail to the address");
        let line = mail.data.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("a code").trim().to_owned();
        assert_eq!(line.len(), 8, "{line}");
        line
    }

    fn mails_to(&self, email: &str) -> Vec<String> {
        self.smtp.delivered().into_iter().filter(|d| d.to == [email]).map(|d| d.data).collect()
    }
}

async fn an_erasure_request_erases_the_person_and_then_forgets_the_address(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let ada = f.person("ada@example.org").await;
    let id = f.submit("erasure", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    let verified = f.rights.verify(id, &code).await.expect("verify");
    assert_eq!((verified.state.as_str(), verified.subject_id), ("verified", Some(ada)));
    f.runner.run_pending().await.expect("run");

    assert_eq!(f.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find"), None, "erased");
    assert!(f.store.subject(ada).await.expect("read").is_none());
    let done = f.rights.get(id).await.expect("get");
    assert_eq!(done.state, "fulfilled");
    assert_eq!(done.steps, vec!["erase", "recipients", "notify"]);
    assert_eq!(done.outcome.as_ref().expect("outcome")["erase"]["rows_deleted"], true);
    assert!(done.email_index.is_empty(), "the address's blind index is gone");
    let mails = f.mails_to("ada@example.org");
    assert_eq!(mails.len(), 2, "the code, then the outcome");
    assert!(mails[1].contains("We erased the personal data"), "{}", mails[1]);
    assert!(
        f.records.vault().data_key(custos_store::SubjectId(id)).await.is_err(),
        "the request's key is destroyed: the sealed address cannot be opened"
    );
    let bytes = db.stored_bytes().await;
    assert!(!bytes.windows(15).any(|w| w == b"ada@example.org"), "no address in clear in any stored byte");
}

async fn an_unknown_address_is_answered_like_a_known_one(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    f.person("ada@example.org").await;
    let known = f
        .rights
        .submit(
            &NewRightsRequest {
                transmit_to: None,
                language: None,
                kind: "access".into(),
                email: "ada@example.org".into(),
                purpose: None,
                corrections: vec![],
                agent: None,
            },
            "form",
        )
        .await
        .expect("known");
    let unknown = f
        .rights
        .submit(
            &NewRightsRequest {
                transmit_to: None,
                language: None,
                kind: "access".into(),
                email: "nobody@example.org".into(),
                purpose: None,
                corrections: vec![],
                agent: None,
            },
            "form",
        )
        .await
        .expect("unknown");
    let shape = |r: &custos_store::RightsRequest| {
        (r.kind.clone(), r.state.clone(), r.due_at.as_second() - r.received_at.as_second(), r.subject_id)
    };
    assert_eq!(shape(&known), shape(&unknown), "nothing tells the two apart before verification");

    let id = f.submit("erasure", "nobody@example.org").await;
    let code = f.code("nobody@example.org").await;
    let verified = f.rights.verify(id, &code).await.expect("verify");
    assert_eq!(verified.subject_id, None);
    f.runner.run_pending().await.expect("run");
    let done = f.rights.get(id).await.expect("get");
    assert_eq!(done.state, "fulfilled");
    assert_eq!(done.outcome.as_ref().expect("outcome")["erase"]["held"], false);
    let last = f.mails_to("nobody@example.org").pop().expect("an answer");
    assert!(last.contains("we hold no personal data"), "{last}");
    assert!(f.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find").is_some(), "ada untouched");
}

async fn codes_expire_cannot_be_guessed_nor_used_twice(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    f.person("ada@example.org").await;
    // Guessing: five wrong codes end the request's chances.
    let id = f.submit("restriction", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    let wrong = if code == "00000000" { "00000001" } else { "00000000" };
    for _ in 0..4 {
        assert!(matches!(f.rights.verify(id, wrong).await, Err(RightsError::BadCode)));
    }
    assert!(matches!(f.rights.verify(id, wrong).await, Err(RightsError::TooManyAttempts)));
    assert!(matches!(f.rights.verify(id, &code).await, Err(RightsError::TooManyAttempts)), "even the right one now");
    // Expiry.
    let id = f.submit("restriction", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.clock.advance(Duration::from_secs(31 * 60));
    assert!(matches!(f.rights.verify(id, &code).await, Err(RightsError::CodeExpired)));
    // Replay.
    let id = f.submit("restriction", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.rights.verify(id, &code).await.expect("first use");
    assert!(matches!(f.rights.verify(id, &code).await, Err(RightsError::WrongState { .. })), "single use");
    f.runner.run_pending().await.expect("run");
    assert_eq!(f.rights.get(id).await.expect("get").state, "fulfilled");
}

async fn a_crash_between_steps_resumes_and_runs_each_step_once(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store.clone(), db).await;
    let ada = f.person("ada@example.org").await;
    let id = f.submit("objection", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.rights.verify(id, &code).await.expect("verify");
    // A worker took the request, did the first step, recorded it, and died.
    let mut request = f.rights.get(id).await.expect("get");
    request.state = "in_progress".into();
    assert!(store.update_rights_request(&request, "verified").await.expect("cas"));
    store.record_objection(ada, "marketing", jiff::Timestamp::now()).await.expect("the step's effect");
    request.steps = vec!["object".into()];
    request.outcome = Some(serde_json::json!({"object": {"purposes": ["marketing"]}}));
    assert!(store.update_rights_request(&request, "in_progress").await.expect("cas"));
    // Its job comes round again after the lease.
    f.clock.advance(Duration::from_secs(3600));
    f.runner.run_pending().await.expect("run");
    let done = f.rights.get(id).await.expect("get");
    assert_eq!(
        (done.state.as_str(), done.steps.clone()),
        ("fulfilled", vec!["object".to_owned(), "notify".to_owned()])
    );
    assert_eq!(
        done.outcome.as_ref().expect("outcome")["object"]["purposes"],
        serde_json::json!(["marketing"]),
        "the first step was not run again"
    );
    f.clock.advance(Duration::from_secs(3600));
    f.runner.run_pending().await.expect("run");
    assert_eq!(f.mails_to("ada@example.org").len(), 2, "one code, one outcome: nothing twice");
}

async fn a_withdrawal_request_withdraws_every_live_consent(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store.clone(), db).await;
    let ada = f.person("ada@example.org").await;
    let id = f.submit("withdrawal", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.rights.verify(id, &code).await.expect("verify");
    f.runner.run_pending().await.expect("run");
    assert!(store.live_consents(ada).await.expect("live").is_empty());
    let history = store.consent_history(ada).await.expect("history");
    let last = &history.last().expect("an entry").entry;
    assert_eq!((last.purpose.as_str(), last.granted, last.method.as_str()), ("marketing", false, "email"));
    assert_eq!(f.rights.get(id).await.expect("get").state, "fulfilled");
}

async fn a_deadline_extends_once_within_the_first_month(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    f.person("ada@example.org").await;
    let id = f.submit("access", "ada@example.org").await;
    let received = f.rights.get(id).await.expect("get").received_at;
    assert_eq!(f.rights.get(id).await.expect("get").due_at, due_date(received, 1));
    let dpo = Actor::Staff { id: "dpo-1".into(), role: StaffRole::Dpo, purposes: vec![] };
    let e = f.rights.extend(&dpo, id, 3, "many requests").await.expect_err("three months");
    assert!(matches!(e, RightsError::Invalid { field: "months", .. }), "{e}");
    let extended = f.rights.extend(&dpo, id, 2, "We received many requests this month.").await.expect("extend");
    assert_eq!(extended.due_at, due_date(received, 3));
    assert!(matches!(f.rights.extend(&dpo, id, 1, "again").await, Err(RightsError::WrongState { .. })));
    f.runner.run_pending().await.expect("run");
    let told = f.mails_to("ada@example.org").into_iter().find(|m| m.contains("more time")).expect("the person is told");
    assert!(told.contains("We received many requests this month."), "{told}");
    assert_eq!(f.rights.queue(10).await.expect("queue")[0].id, id, "an open access request waits in the queue");

    let late = f.submit("access", "ada@example.org").await;
    f.clock.advance(Duration::from_secs(32 * 24 * 3600));
    assert!(matches!(f.rights.extend(&dpo, late, 1, "too late").await, Err(RightsError::WrongState { .. })));
}

async fn an_access_request_gives_the_nine_facts_and_a_copy_through_an_expiring_link(
    store: Arc<dyn Store>,
    db: &TestDb,
) {
    let f = Fixture::new(store, db).await;
    let ada = f.person("ada@example.org").await;
    let id = f.submit("access", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.rights.verify(id, &code).await.expect("verify");
    f.runner.run_pending().await.expect("run");
    let done = f.rights.get(id).await.expect("get");
    assert_eq!(
        (done.state.as_str(), done.steps.clone()),
        ("fulfilled", vec!["collect".to_owned(), "notify".to_owned()])
    );
    let mail = f.mails_to("ada@example.org").pop().expect("the answer");
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let token = text
        .split("package?token=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .unwrap_or_else(|| panic!("a link in {text}"));
    assert_eq!(token, f.rights.package_token(id));

    let zip = f.rights.download(id, token).await.expect("download");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).expect(name), &mut text).expect("utf-8");
        text
    };
    let report: serde_json::Value = serde_json::from_str(&read("report.json")).expect("json");
    for fact in [
        "1_purposes",
        "2_categories",
        "3_recipients",
        "4_retention",
        "5_rights",
        "6_complaint",
        "7_sources",
        "8_profiling",
        "9_transfers",
    ] {
        assert!(report.get(fact).is_some(), "{fact} in {report}");
    }
    assert_eq!(report["1_purposes"][0]["id"], "marketing", "only the purposes the data is held for");
    assert!(report["2_categories"].as_array().expect("list").iter().any(|c| c["key"] == "user.contact.email"));
    assert!(report["6_complaint"]["authority"].as_str().is_some_and(|a| !a.is_empty()));
    let data: serde_json::Value = serde_json::from_str(&read("data.json")).expect("json");
    assert!(data["records"].as_array().expect("records").iter().any(|r| r["value"] == "Ada Byron"), "{data}");
    assert_eq!(data["consents"][0]["purpose"], "marketing");
    assert!(read("data.csv").contains("Ada Byron"));

    assert!(matches!(f.rights.download(id, "forged").await, Err(RightsError::BadLink)));
    f.clock.advance(Duration::from_secs(8 * 24 * 3600));
    assert!(matches!(f.rights.download(id, token).await, Err(RightsError::LinkExpired)));
    f.records.erase(&Actor::System, ada).await.expect("erase");
    f.clock.advance(Duration::from_secs(1));
    assert!(
        matches!(f.rights.download(id, token).await, Err(RightsError::BadLink)),
        "erasing the person erases the copy"
    );
}

async fn a_rectification_replaces_the_old_values_and_deletes_them(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store.clone(), db).await;
    let ada = f.person("ada@example.org").await;
    let bad = NewRightsRequest {
        transmit_to: None,
        language: None,
        kind: "rectification".into(),
        email: "ada@example.org".into(),
        purpose: None,
        corrections: vec![Correction { category: "user.shoe_size".into(), value: "38".into() }],
        agent: None,
    };
    let e = f.rights.submit(&bad, "form").await.expect_err("no such category");
    assert!(matches!(e, RightsError::Invalid { field: "corrections", .. }), "{e}");
    let new = NewRightsRequest {
        transmit_to: None,
        language: None,
        kind: "rectification".into(),
        email: "ada@example.org".into(),
        purpose: None,
        corrections: vec![
            Correction { category: "user.name".into(), value: "Ada King".into() },
            Correction { category: "user.contact.phone_number".into(), value: "+44 20 7946 0000".into() },
        ],
        agent: None,
    };
    let id = f.rights.submit(&new, "form").await.expect("submit").id;
    let code = f.code("ada@example.org").await;
    f.rights.verify(id, &code).await.expect("verify");
    f.runner.run_pending().await.expect("run");
    let done = f.rights.get(id).await.expect("get");
    assert_eq!(done.state, "fulfilled");
    let outcome = done.outcome.expect("outcome");
    assert_eq!(outcome["rectify"][0]["replaced"], 1);
    assert_eq!(outcome["rectify"][1]["held"], false, "a category not held is said so, not invented");
    let names = f.records.read(&Actor::System, ada, "marketing", &["user.name"]).await.expect("read");
    let names: Vec<String> = names.iter().map(|v| String::from_utf8_lossy(&v.value).into_owned()).collect();
    assert_eq!(names, vec!["Ada King"], "the old value is gone, the new one in its place");
    let bytes = db.stored_bytes().await;
    assert!(!bytes.windows(8).any(|w| w == b"Ada King"), "the correction is sealed wherever it is stored");
}

async fn a_portability_request_gives_what_the_person_provided_with_its_schema(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    f.person("ada@example.org").await;
    let id = f.submit("portability", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.rights.verify(id, &code).await.expect("verify");
    f.runner.run_pending().await.expect("run");
    let done = f.rights.get(id).await.expect("get");
    assert_eq!(done.state, "fulfilled");
    assert_eq!(done.outcome.as_ref().expect("outcome")["export"]["records"], 2);
    let zip = f.rights.download(id, &f.rights.package_token(id)).await.expect("download");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).expect(name), &mut text).expect("utf-8");
        text
    };
    let json: serde_json::Value = serde_json::from_str(&read("portable.json")).expect("json");
    assert_eq!(json["format"], "custos-portable/1");
    assert!(json["records"].as_array().expect("records").iter().all(|r| r["legal_basis"] == "consent"));
    assert!(read("portable.csv").starts_with("category,purpose,legal_basis,collected_at,value"));
    assert!(read("SCHEMA.md").contains("custos-portable/1"));
}

async fn unverified_requests_expire_and_the_dpo_is_reminded_of_what_is_due(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store.clone(), db).await;
    f.person("ada@example.org").await;
    let mailer = Mailer::from_url(&format!("smtp://{}", f.smtp.addr), "privacy@shop.example").expect("mailer");
    let forgotten = f.submit("erasure", "ada@example.org").await;
    let waiting = f.submit("access", "ada@example.org").await;
    let code = f.code("ada@example.org").await;
    f.rights.verify(waiting, &code).await.expect("verify");
    // Its execution has not run: the request waits, as one would on a stuck worker.
    f.clock.advance(Duration::from_secs(8 * 24 * 3600));
    let report = f.rights.sweep(&mailer).await.expect("sweep");
    assert_eq!((report.expired, report.reminded), (1, 0));
    let expired = f.rights.get(forgotten).await.expect("get");
    assert_eq!((expired.state.as_str(), expired.email_index.is_empty()), ("expired", true));
    f.clock.advance(Duration::from_secs(17 * 24 * 3600));
    let report = f.rights.sweep(&mailer).await.expect("sweep");
    assert_eq!(report.reminded, 1);
    let dpo = Policy::example().controller.dpo.email;
    let reminder =
        f.smtp.delivered().into_iter().rev().find(|d| d.to == [dpo.as_str()]).expect("a reminder to the DPO");
    assert!(reminder.data.contains(&waiting.to_string()), "{}", reminder.data);
    assert!(!reminder.data.contains("ada@example.org"), "no personal data in the reminder");
    let first = schedule_sweep(&store, jiff::Timestamp::now()).await.expect("schedule");
    let again = schedule_sweep(&store, jiff::Timestamp::now()).await.expect("schedule");
    assert_eq!(first.id(), again.id(), "one sweep a day however many processes start");
}
