//! Marketing campaigns through the job runner to a real SMTP server on loopback: exactly
//! the people who consent now, once each, with a signed one-click unsubscribe link; a
//! withdrawal between queueing and sending stops the mail; an SMTP outage loses and
//! duplicates nothing.

use std::sync::Arc;
use std::time::Duration;

use custos_engine::campaigns::{CampaignDraft, CampaignError, CampaignFanout, Campaigns, FANOUT_KIND};
use custos_engine::clock::{ManualClock, SystemClock};
use custos_engine::gate::Actor;
use custos_engine::jobs::{ExecutionOutcome, JobRunner, RetryPolicy};
use custos_engine::mail::{MailJob, MailRequest, Mailer};
use custos_engine::marketing;
use custos_engine::records::{NewValue, Records};
use custos_engine::vault::{Keyring, Vault};
use custos_policy::Policy;
use custos_store::{NewJob, Store, SubjectId, SubjectKind};
use custos_testkit::smtp::SmtpSink;
use custos_testkit::{TestDb, consent, on_both_backends};
use custos_vault::MasterKey;

on_both_backends!(
    a_campaign_reaches_exactly_the_people_who_consent_once_each,
    an_smtp_outage_during_a_campaign_loses_and_duplicates_nothing,
    only_holders_of_a_direct_marketing_purpose_run_campaigns,
);

const PUBLIC_URL: &str = "https://privacy.shop.example";

struct Fixture {
    store: Arc<dyn Store>,
    records: Arc<Records>,
    campaigns: Campaigns,
    clock: ManualClock,
}

impl Fixture {
    async fn new(store: Arc<dyn Store>, db: &TestDb) -> Self {
        let vault = Arc::new(Vault::open(Keyring::new(MasterKey::generate()), db.keys().await).await.expect("vault"));
        let policy = Arc::new(Policy::example());
        let records = Arc::new(Records::new(store.clone(), vault, policy.clone(), Arc::new(SystemClock)));
        let campaigns = Campaigns::new(store.clone(), policy, records.auditor().clone(), Arc::new(SystemClock));
        let clock =
            ManualClock::new(jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_secs(60)).expect("time"));
        Self { store, records, campaigns, clock }
    }

    fn runner(&self, mailer: Mailer) -> JobRunner {
        JobRunner::new(self.store.clone())
            .register(MailJob::new(self.records.clone(), mailer))
            .register(CampaignFanout::new(self.store.clone(), self.records.vault().clone(), PUBLIC_URL))
            .with_clock(Arc::new(self.clock.clone()))
            .with_retry_policy(RetryPolicy { base: Duration::from_secs(30), max: Duration::from_secs(600) })
    }

    /// A user who, when `consents`, agreed to marketing and left a name and address for it;
    /// otherwise left an address for support only.
    async fn person(&self, email: &str, consents: bool) -> SubjectId {
        let subject = self.records.create_subject(&Actor::System, SubjectKind::User, &[], &[]).await.expect("create").0;
        let purpose = if consents { "marketing" } else { "support" };
        if consents {
            self.store.append_consent(&consent(subject, "marketing", true)).await.expect("consent");
        }
        self.records
            .write_all(
                &Actor::System,
                subject,
                &[
                    NewValue { purpose, category: "user.name", value: b"Ada" },
                    NewValue { purpose, category: "user.contact.email", value: email.as_bytes() },
                ],
            )
            .await
            .expect("write");
        subject
    }

    async fn campaign(&self) -> uuid::Uuid {
        let draft = CampaignDraft {
            name: "Spring".into(),
            purpose: "marketing".into(),
            subject_line: "Spring offers".into(),
            body: "Hello {{name}}, spring is here.".into(),
        };
        self.campaigns.create(&marketer(), &draft).await.expect("create").id
    }
}

fn marketer() -> Actor {
    Actor::Service { token: "newsletter".into(), purposes: vec!["marketing".into()] }
}

fn recipients(smtp: &SmtpSink) -> Vec<String> {
    let mut to: Vec<String> = smtp.delivered().into_iter().flat_map(|d| d.to).collect();
    to.sort();
    to
}

async fn a_campaign_reaches_exactly_the_people_who_consent_once_each(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store.clone(), db).await;
    let ada = f.person("ada@example.org", true).await;
    let bob = f.person("bob@example.org", true).await;
    f.store.append_consent(&consent(bob, "marketing", false)).await.expect("bob withdraws");
    f.person("cy@example.org", false).await;
    let dee = f.person("dee@example.org", true).await;
    f.store.record_objection(dee, "marketing", jiff::Timestamp::now()).await.expect("dee objects");
    let eve = f.person("eve@example.org", true).await;
    let fay = f.person("fay@example.org", true).await;

    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "Shop <news@shop.example>").expect("mailer");
    let runner = f.runner(mailer);
    let id = f.campaign().await;
    let status = f.campaigns.send(&marketer(), id).await.expect("send");
    assert!(status.campaign.queued_at.is_some());
    let fanout = runner.try_execute_one().await.expect("run");
    assert!(matches!(fanout, ExecutionOutcome::Succeeded { .. }), "the fan-out ran first: {fanout:?}");
    // Eve withdraws after her mail was queued: it must not go out.
    f.store.append_consent(&consent(eve, "marketing", false)).await.expect("eve withdraws");
    let report = runner.run_pending().await.expect("run");
    assert_eq!((report.succeeded, report.retrying, report.dead), (3, 0, 0), "ada's, eve's and fay's mail jobs");
    assert_eq!(recipients(&smtp), vec!["ada@example.org", "fay@example.org"]);

    let mail = smtp.delivered().into_iter().find(|d| d.to == vec!["ada@example.org".to_owned()]).expect("ada's");
    let data = mail.data.replace("\r\n", "\n");
    assert!(data.contains("Subject: Spring offers"), "{data}");
    assert!(data.contains("Hello Ada, spring is here."), "{data}");
    assert!(data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{data}");
    let header = data.lines().find_map(|l| l.strip_prefix("List-Unsubscribe: <")).expect("List-Unsubscribe");
    let url = header.trim_end_matches('>');
    // The text is quoted-printable: join its soft line breaks.
    let text = data.replace("=\n", "").replace("=20", " ");
    assert!(text.contains(&format!("one click: {url}")), "the link is in the text too: {text}");
    let token = url.strip_prefix(&format!("{PUBLIC_URL}/unsubscribe/")).expect("a custos link");
    let (subject, purpose) = marketing::verify(f.records.vault(), token).expect("a valid signed token");
    assert_eq!((subject, purpose.as_str()), (ada, "marketing"), "the link is ada's own");

    // Starting again, a fan-out run twice after a crash, or a stray duplicate job: nobody
    // gets a second mail.
    f.campaigns.send(&marketer(), id).await.expect("send again");
    store
        .enqueue_job(&NewJob {
            kind: FANOUT_KIND.into(),
            payload: serde_json::json!({"campaign_id": id}),
            idempotency_key: None,
            priority: 0,
            run_at: jiff::Timestamp::now(),
            max_attempts: 3,
        })
        .await
        .expect("a second fan-out");
    let duplicate = serde_json::to_value(MailRequest {
        subject_id: ada,
        purpose: "marketing".into(),
        subject_line: "Spring offers".into(),
        body: "again".into(),
        unsubscribe: None,
        campaign: Some(id),
    })
    .expect("json");
    store
        .enqueue_job(&NewJob {
            kind: custos_engine::mail::KIND.into(),
            payload: duplicate,
            idempotency_key: None,
            priority: 0,
            run_at: jiff::Timestamp::now(),
            max_attempts: 3,
        })
        .await
        .expect("a stray duplicate");
    f.clock.advance(Duration::from_secs(5));
    runner.run_pending().await.expect("run");
    assert_eq!(smtp.delivered().len(), 2, "still one mail each");
    assert_eq!(f.campaigns.status(&marketer(), id).await.expect("status").delivered, 2);
    assert!(f.store.delivered(id, fay).await.expect("delivered"));
    assert!(!f.store.delivered(id, eve).await.expect("delivered"));
}

async fn an_smtp_outage_during_a_campaign_loses_and_duplicates_nothing(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    for n in 0..5 {
        f.person(&format!("p{n}@example.org"), true).await;
    }
    let smtp = SmtpSink::start().await;
    let addr = smtp.addr;
    smtp.stop();
    let runner = f.runner(Mailer::from_url(&format!("smtp://{addr}"), "news@shop.example").expect("mailer"));
    let id = f.campaign().await;
    f.campaigns.send(&marketer(), id).await.expect("send");
    let down = runner.run_pending().await.expect("run");
    assert_eq!((down.succeeded, down.retrying), (1, 5), "the fan-out is done, every mail waits");
    let smtp = SmtpSink::start_on(addr).await;
    f.clock.advance(Duration::from_secs(60));
    assert_eq!(runner.run_pending().await.expect("run").succeeded, 5);
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(runner.run_pending().await.expect("run").succeeded, 0, "nothing is sent twice");
    assert_eq!(recipients(&smtp).len(), 5);
    assert_eq!(f.campaigns.status(&marketer(), id).await.expect("status").delivered, 5);
}

async fn only_holders_of_a_direct_marketing_purpose_run_campaigns(store: Arc<dyn Store>, db: &TestDb) {
    let f = Fixture::new(store, db).await;
    let draft = |purpose: &str| CampaignDraft {
        name: "Spring".into(),
        purpose: purpose.into(),
        subject_line: "Spring offers".into(),
        body: "Hello".into(),
    };
    let e = f.campaigns.create(&marketer(), &draft("support")).await.expect_err("not direct marketing");
    assert!(matches!(e, CampaignError::Invalid { field: "purpose", .. }), "{e}");
    let e = f.campaigns.create(&marketer(), &draft("no-such")).await.expect_err("not in the policy");
    assert!(matches!(e, CampaignError::Invalid { field: "purpose", .. }), "{e}");
    let analyst = Actor::Service { token: "stats".into(), purposes: vec!["analytics".into()] };
    let e = f.campaigns.create(&analyst, &draft("marketing")).await.expect_err("not the token's purpose");
    assert!(matches!(e, CampaignError::Forbidden(_)), "{e}");
    let mut bad = draft("marketing");
    bad.subject_line = "Offers\r\nBcc: everyone@example.org".into();
    let e = f.campaigns.create(&marketer(), &bad).await.expect_err("header injection");
    assert!(matches!(e, CampaignError::Invalid { field: "subject_line", .. }), "{e}");
    let id = f.campaign().await;
    let e = f.campaigns.send(&analyst, id).await.expect_err("another purpose's campaign");
    assert!(matches!(e, CampaignError::NotFound(_)), "it is not even revealed: {e}");
    assert!(f.campaigns.list(&analyst, 10).await.expect("list").is_empty());
    assert_eq!(f.campaigns.list(&marketer(), 10).await.expect("list").len(), 1);
}
