//! Mail through the job runner to a real SMTP server on loopback: delivered once, checked
//! by the gate at send time, kept through an outage, or written as .eml files.

use std::sync::Arc;
use std::time::Duration;

use custos_engine::clock::{ManualClock, SystemClock};
use custos_engine::gate::Actor;
use custos_engine::jobs::{JobRunner, RetryPolicy};
use custos_engine::mail::{self, MailJob, MailRequest, Mailer};
use custos_engine::records::{NewValue, Records};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{Store, SubjectId, SubjectKind};
use custos_testkit::smtp::SmtpSink;
use custos_testkit::{TestDb, consent, on_both_backends};
use custos_vault::MasterKey;

on_both_backends!(
    a_queued_mail_is_delivered_once_with_its_name,
    a_withdrawal_after_queueing_stops_the_mail,
    marketing_mail_carries_one_click_unsubscribe,
    an_smtp_outage_loses_and_duplicates_nothing,
    without_smtp_mail_is_written_as_eml_files,
);

async fn records(store: &Arc<dyn Store>, db: &TestDb) -> Arc<Records> {
    let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), db.keys().await).await.expect("vault"));
    Arc::new(Records::new(store.clone(), vault, Arc::new(Policy::example()), Arc::new(SystemClock)))
}

/// A user with a name and an email for `purpose`.
async fn person(records: &Records, purpose: &str) -> SubjectId {
    records
        .create_subject(
            &Actor::System,
            SubjectKind::User,
            &[],
            &[
                NewValue { purpose, category: "user.name", value: b"Ada Byron" },
                NewValue { purpose, category: "user.contact.email", value: b"ada@example.org" },
            ],
        )
        .await
        .expect("create")
        .0
}

fn request(subject: SubjectId, purpose: &str) -> MailRequest {
    MailRequest {
        subject_id: subject,
        purpose: purpose.into(),
        subject_line: "Your ticket".into(),
        body: "Hello {{name}}, we answered your question.".into(),
        unsubscribe: None,
        campaign: None,
    }
}

fn runner(store: &Arc<dyn Store>, records: &Arc<Records>, mailer: Mailer, clock: &ManualClock) -> JobRunner {
    JobRunner::new(store.clone())
        .register(MailJob::new(records.clone(), mailer))
        .with_clock(Arc::new(clock.clone()))
        .with_retry_policy(RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(600) })
}

fn clock() -> ManualClock {
    ManualClock::new(jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(1)).expect("time"))
}

async fn a_queued_mail_is_delivered_once_with_its_name(store: Arc<dyn Store>, db: &TestDb) {
    let records = records(&store, db).await;
    let subject = person(&records, "support").await;
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "Custos <privacy@shop.example>").expect("mailer");
    let first = mail::enqueue(&store, &request(subject, "support"), Some("ticket-1".into())).await.expect("enqueue");
    let again = mail::enqueue(&store, &request(subject, "support"), Some("ticket-1".into())).await.expect("enqueue");
    assert_eq!(first.id(), again.id(), "the same mail queued twice is one job");
    let report = runner(&store, &records, mailer, &clock()).run_pending().await.expect("run");
    assert_eq!(report.succeeded, 1);
    let delivered = smtp.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].to, vec!["ada@example.org".to_owned()]);
    assert!(delivered[0].data.contains("Hello Ada Byron, we answered"), "{}", delivered[0].data);
    assert!(delivered[0].data.contains(&format!("Message-ID: <job-{}@custos>", first.id())), "{}", delivered[0].data);
    let job = store.job(first.id()).await.expect("job").expect("exists");
    assert!(!job.payload.to_string().contains("ada@example.org"), "the job holds no personal data");
}

async fn a_withdrawal_after_queueing_stops_the_mail(store: Arc<dyn Store>, db: &TestDb) {
    let records = records(&store, db).await;
    let subject = records.create_subject(&Actor::System, SubjectKind::User, &[], &[]).await.expect("create").0;
    store.append_consent(&consent(subject, "marketing", true)).await.expect("consent");
    records
        .write_all(
            &Actor::System,
            subject,
            &[NewValue { purpose: "marketing", category: "user.contact.email", value: b"lin@example.org" }],
        )
        .await
        .expect("write");
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "shop@shop.example").expect("mailer");
    mail::enqueue(&store, &request(subject, "marketing"), None).await.expect("enqueue");
    store.append_consent(&consent(subject, "marketing", false)).await.expect("withdraw");
    let report = runner(&store, &records, mailer, &clock()).run_pending().await.expect("run");
    assert_eq!(
        (report.succeeded, report.retrying, report.dead),
        (1, 0, 0),
        "the job is done: not sending was its outcome"
    );
    assert!(smtp.delivered().is_empty(), "nothing was sent after the withdrawal");
}

async fn marketing_mail_carries_one_click_unsubscribe(store: Arc<dyn Store>, db: &TestDb) {
    let records = records(&store, db).await;
    let subject = person(&records, "support").await;
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "shop@shop.example").expect("mailer");
    let mut mail = request(subject, "support");
    mail.unsubscribe = Some("https://shop.example/unsubscribe/abc".into());
    mail::enqueue(&store, &mail, None).await.expect("enqueue");
    runner(&store, &records, mailer, &clock()).run_pending().await.expect("run");
    let data = &smtp.delivered()[0].data;
    assert!(data.contains("List-Unsubscribe: <https://shop.example/unsubscribe/abc>"), "{data}");
    assert!(data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{data}");
}

async fn an_smtp_outage_loses_and_duplicates_nothing(store: Arc<dyn Store>, db: &TestDb) {
    let records = records(&store, db).await;
    let subject = person(&records, "support").await;
    let smtp = SmtpSink::start().await;
    let addr = smtp.addr;
    smtp.stop();
    let mailer = Mailer::from_url(&format!("smtp://{addr}"), "shop@shop.example").expect("mailer");
    let clock = clock();
    let worker = runner(&store, &records, mailer, &clock);
    for n in 0..3 {
        mail::enqueue(&store, &request(subject, "support"), Some(format!("m{n}"))).await.expect("enqueue");
    }
    let down = worker.run_pending().await.expect("run");
    assert_eq!((down.succeeded, down.retrying), (0, 3), "every mail waits for a retry");
    let smtp = SmtpSink::start_on(addr).await;
    clock.advance(Duration::from_secs(60));
    let up = worker.run_pending().await.expect("run");
    assert_eq!(up.succeeded, 3);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(worker.run_pending().await.expect("run").succeeded, 0, "nothing is sent twice");
    assert_eq!(smtp.delivered().len(), 3);
}

async fn without_smtp_mail_is_written_as_eml_files(store: Arc<dyn Store>, db: &TestDb) {
    let records = records(&store, db).await;
    let subject = person(&records, "support").await;
    let dir = tempfile::tempdir().expect("dir");
    let mailer = Mailer::from_url(&format!("file://{}", dir.path().display()), "shop@shop.example").expect("mailer");
    mail::enqueue(&store, &request(subject, "support"), None).await.expect("enqueue");
    runner(&store, &records, mailer, &clock()).run_pending().await.expect("run");
    let files: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok).collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].file_name().to_string_lossy().ends_with(".eml"));
    let text = std::fs::read_to_string(files[0].path()).expect("read");
    assert!(
        text.contains("To: \"Ada Byron\" <ada@example.org>") || text.contains("To: Ada Byron <ada@example.org>"),
        "{text}"
    );
}
