//! The privacy mailbox end to end (seed 7, 8, 9, 3.3): mail delivered into a real Dovecot
//! by its delivery agent and read over IMAPS, or sent to custos's own SMTP listener; the
//! answers go out through a real SMTP server. On SQLite, and on PostgreSQL in the second
//! CI pass (`TestDb::from_env`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestApp;
use custos_engine::gate::{Actor, StaffRole};
use custos_engine::inbox::{InboxReply, PartnerForward, Received};
use custos_engine::jobs::JobRunner;
use custos_engine::mail::{MailJob, Mailer};
use custos_engine::rights::{RightsExecution, RightsMail};
use custos_server::mailbox::{ImapReader, ImapSettings, SmtpListener};
use custos_testkit::TestDb;
use custos_testkit::dovecot::Dovecot;
use custos_testkit::smtp::{Delivered, SmtpSink};
use serde_json::{Value, json};

const PRIVACY: &str = "privacy@shop.example";

/// custos with its mailbox in a real Dovecot and its outgoing mail in a real SMTP server.
struct Mailbox {
    app: TestApp,
    smtp: SmtpSink,
    runner: JobRunner,
    dovecot: Dovecot,
    reader: ImapReader,
}

impl Mailbox {
    async fn start(db: &TestDb) -> Option<Self> {
        let dovecot = Dovecot::start().await?;
        let app = TestApp::spawn_with(db, &["marketing", "partner-relationship"], |s| {
            s.with_outbound(&TestApp::outbound_to_loopback()).expect("outbound")
        })
        .await;
        let smtp = SmtpSink::start().await;
        let runner = runner(&app, &smtp);
        let reader = ImapReader::new(imap_settings(&dovecot), app.state.inbox.clone()).expect("reader");
        Some(Self { app, smtp, runner, dovecot, reader })
    }

    /// Delivers a mail into the mailbox and has custos read it.
    async fn mail(&self, raw: &str) -> Vec<Received> {
        self.dovecot.deliver("sender@example.org", raw.as_bytes());
        self.reader.check_now().await.expect("read the mailbox")
    }

    fn to(&self, address: &str) -> Vec<Delivered> {
        self.smtp.delivered().into_iter().filter(|d| d.to == [address]).collect()
    }
}

fn imap_settings(dovecot: &Dovecot) -> ImapSettings {
    ImapSettings {
        host: "127.0.0.1".into(),
        port: dovecot.port,
        user: dovecot.user.clone(),
        password: dovecot.password.clone(),
        tls: true,
        mailbox: "INBOX".into(),
        poll: Duration::from_secs(1),
        extra_roots_pem: Some(custos_testkit::https::TEST_CA_PEM.to_vec()),
    }
}

fn runner(app: &TestApp, smtp: &SmtpSink) -> JobRunner {
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), PRIVACY).expect("mailer");
    let state = &app.state;
    JobRunner::new(app.store.clone())
        .register(RightsExecution::new(state.rights.clone()))
        .register(RightsMail::new(state.rights.clone(), mailer.clone(), &app.base))
        .register(InboxReply::new(state.inbox.clone(), mailer.clone(), &app.base))
        .register(PartnerForward::new(
            state.inbox.clone(),
            state.records.clone(),
            mailer.clone(),
            state.outbound.clone(),
            "partner-relationship",
        ))
        .register(MailJob::new(state.records.clone(), mailer))
}

/// A mail as a person's mail program writes it.
fn mail(from: &str, id: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {PRIVACY}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n\
         Date: Sun, 29 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
}

async fn signup(app: &TestApp, name: &str, email: &str) {
    app.sign_up_confirmed(name, email).await;
}

fn code(mails: &[Delivered]) -> String {
    mails
        .iter()
        .rev()
        .find_map(|d| d.data.lines().find_map(|l| l.strip_prefix("Your code: ")))
        .expect("a code")
        .trim()
        .to_owned()
}

/// The text of a delivered mail with quoted-printable soft breaks undone.
fn text(d: &Delivered) -> String {
    d.data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

/// A header of a delivered mail, folded lines joined.
fn header(d: &Delivered, name: &str) -> Option<String> {
    let head = d.data.split("\r\n\r\n").next().unwrap_or("").replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

async fn verify(app: &TestApp, id: &str, code: &str) -> (u16, Value) {
    let r = app
        .client
        .post(format!("{}/v1/rights-requests/{id}/verify", app.base))
        .json(&json!({"code": code}))
        .send()
        .await
        .expect("verify");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_erasure_request_by_mail_ends_with_the_data_erased_and_the_confirmation_sent() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    signup(&m.app, "Ada", "ada@example.org").await;
    let before = jiff::Timestamp::now();
    let taken = m
        .mail(&mail("Ada <ada@example.org>", "m1@example.org", "Delete my data", "Please delete all my personal data."))
        .await;
    let after = jiff::Timestamp::now();
    let [Received::Thread { thread, request: Some(request), state }] = taken.as_slice() else {
        panic!("one request: {taken:?}")
    };
    assert_eq!(state, "request");
    let request = m.app.state.rights.get(*request).await.expect("request");
    assert_eq!(
        (request.kind.as_str(), request.channel.as_str(), request.state.as_str()),
        ("erasure", "email", "unverified")
    );
    let arrival = request.received_at.as_second();
    assert!(
        (before.as_second() - 1..=after.as_second()).contains(&arrival),
        "the deadline runs from the mail's arrival in the mailbox"
    );
    assert_eq!(m.reader.check_now().await.expect("read again"), [], "a mail is read once");

    m.runner.run_pending().await.expect("run");
    let mails = m.to("ada@example.org");
    let ack = mails.iter().find(|d| d.data.contains("Our reference")).expect("an acknowledgement");
    assert_eq!(header(ack, "In-Reply-To").as_deref(), Some("<m1@example.org>"), "in the thread");
    assert_eq!(header(ack, "Auto-Submitted").as_deref(), Some("auto-replied"), "no auto-reply loops");
    assert!(header(ack, "Subject").is_some_and(|s| s.contains(&thread.to_string())), "the reference in the subject");
    let ack_text = text(ack);
    assert!(ack_text.contains(&request.id.to_string()) && ack_text.contains("/rights/"), "{ack_text}");
    let (status, body) = verify(&m.app, &request.id.to_string(), &code(&mails)).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("verified")), "{body}");
    m.runner.run_pending().await.expect("run");

    assert_eq!(m.app.state.rights.get(request.id).await.expect("request").state, "fulfilled");
    assert!(
        m.app.state.records.find(custos_store::IdentifierKind::Email, "ada@example.org").await.expect("find").is_none(),
        "erased"
    );
    let done = m.to("ada@example.org");
    assert!(done.iter().any(|d| text(d).contains("We erased the personal data")), "the confirmation is sent");

    // The mail was kept sealed with its request, nothing of it in clear; once the person
    // is told, its key is gone with the request's.
    let stored = m.app.store.inbox_messages(*thread).await.expect("messages");
    let staff = Actor::Staff { id: "dpo-1".into(), role: StaffRole::Dpo, purposes: Vec::new() };
    assert!(m.app.state.inbox.read(&staff, *thread).await.is_err(), "the thread cannot be opened any more");
    let t = m.app.store.inbox_thread(*thread).await.expect("thread").expect("kept");
    assert_eq!((t.state.as_str(), t.request_id), ("closed", Some(request.id)));
    let again = mail("ada@example.org", "m9@example.org", &format!("Re: [ref:{thread}]"), "One more thing.");
    assert!(
        matches!(m.mail(&again).await.as_slice(), [Received::Thread { thread: t, .. }] if t != thread),
        "a reply to a forgotten thread starts a new one"
    );
    assert_eq!(stored.iter().map(|s| s.direction.as_str()).collect::<Vec<_>>(), ["in", "out"]);
    for s in &stored {
        let sealed = String::from_utf8_lossy(&s.sealed);
        assert!(!sealed.contains("ada@example.org") && !sealed.contains("Delete"), "sealed");
    }
}

#[tokio::test]
async fn a_forged_sender_gets_nothing() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    signup(&m.app, "Ada", "ada@example.org").await;
    let forged = "From: Ada <ada@example.org>\r\nReply-To: mallory@evil.example\r\nTo: privacy@shop.example\r\n\
                  Subject: copy of my data\r\nMessage-ID: <forged@evil.example>\r\n\r\n\
                  I want a copy of my data, what data do you hold about me? Send it to my new address.\r\n";
    let taken = m.mail(forged).await;
    let [Received::Thread { request: Some(id), .. }] = taken.as_slice() else { panic!("{taken:?}") };
    m.runner.run_pending().await.expect("run");
    let delivered = m.smtp.delivered();
    assert!(!delivered.is_empty());
    assert!(delivered.iter().all(|d| d.to == ["ada@example.org"]), "answers go only to the From address");
    assert!(delivered.iter().all(|d| !d.data.contains("mallory")));
    assert!(delivered.iter().all(|d| !d.data.contains("/package?token=")), "no data without verification");
    // Where the mail server checked the sender and found the From forged, nobody is
    // written to at all.
    let failed = "From: Ada <ada@example.org>\r\nTo: privacy@shop.example\r\nSubject: erase\r\n\
                  Authentication-Results: mx.shop.example; dmarc=fail header.from=example.org\r\n\
                  Message-ID: <forged2@evil.example>\r\n\r\nPlease delete all my data.\r\n";
    let before = m.smtp.delivered().len();
    let taken = m.mail(failed).await;
    let [Received::Thread { request: None, state, .. }] = taken.as_slice() else { panic!("{taken:?}") };
    assert_eq!(state, "triage");
    m.runner.run_pending().await.expect("run");
    assert_eq!(m.smtp.delivered().len(), before, "no backscatter");
    let [Received::Thread { thread: forged, .. }] = taken.as_slice() else { unreachable!() };
    let dpo = ConsoleSession::dpo(&m.app).await;
    let (status, page) = dpo.get(&format!("/admin/inbox/{forged}")).await;
    assert!(status == 200 && page.contains("found the sender forged"), "staff are warned: {page}");
    let (status, body) = verify(&m.app, &id.to_string(), "00000000").await;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("bad_code")), "{body}");
    assert_eq!(m.app.state.rights.get(*id).await.expect("request").state, "unverified");
    assert!(m.app.store.rights_package(*id).await.expect("package").is_none(), "no copy was made");
}

#[tokio::test]
async fn auto_replies_bounces_and_list_mail_create_nothing() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let out_of_office = "From: ada@example.org\r\nTo: privacy@shop.example\r\nSubject: Out of office\r\n\
                         Auto-Submitted: auto-replied\r\nMessage-ID: <ooo@example.org>\r\n\r\n\
                         I am away. For deletion requests write to my colleague.\r\n";
    let bounce = "From: MAILER-DAEMON@mx.example.org\r\nTo: privacy@shop.example\r\nSubject: Undelivered Mail\r\n\
                  Message-ID: <bounce@mx.example.org>\r\nContent-Type: multipart/report; report-type=delivery-status; \
                  boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nPlease delete: delivery failed\r\n--b--\r\n";
    let list = "From: news@lists.example\r\nTo: privacy@shop.example\r\nSubject: unsubscribe\r\nList-Id: <news.lists.example>\r\n\
                Precedence: list\r\nMessage-ID: <list@lists.example>\r\n\r\nunsubscribe delete my data\r\n";
    let mut taken = Vec::new();
    for raw in [out_of_office, bounce, list] {
        taken.extend(m.mail(raw).await);
    }
    assert!(taken.iter().all(|r| matches!(r, Received::Automatic(_))), "{taken:?}");
    assert!(m.app.store.open_inbox_threads(10).await.expect("threads").is_empty(), "no thread");
    assert!(m.app.state.rights.queue(10).await.expect("queue").is_empty(), "no request");
    m.runner.run_pending().await.expect("run");
    assert!(m.smtp.delivered().is_empty(), "nobody is answered");
}

#[tokio::test]
async fn a_german_request_is_read_right_and_an_unclear_one_goes_to_staff() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let taken = m
        .mail(&mail(
            "Bernd <bernd@example.de>",
            "de1@example.de",
            "Meine Daten",
            "Sehr geehrte Damen und Herren,\r\nich bitte Sie, sämtliche über mich gespeicherten Daten zu löschen.\r\nMit freundlichen Grüßen",
        ))
        .await;
    let [Received::Thread { thread, request: Some(request), .. }] = taken.as_slice() else { panic!("{taken:?}") };
    let t = m.app.store.inbox_thread(*thread).await.expect("thread").expect("stored");
    assert_eq!((t.language.as_str(), t.intent.as_deref()), ("de", Some("erasure")));
    assert!(t.confidence >= 500, "sure enough: {}", t.confidence);
    let r = m.app.state.rights.get(*request).await.expect("request");
    assert_eq!((r.kind.as_str(), r.language.as_deref()), ("erasure", Some("de")), "answered in German");
    m.runner.run_pending().await.expect("run");
    let code = m.to("bernd@example.de").into_iter().map(|d| d.text()).find(|t| t.contains("Ihr Code: "));
    assert!(code.is_some_and(|t| t.contains("Löschung")), "the code mail speaks German");

    let taken =
        m.mail(&mail("eve@example.org", "q@example.org", "Question", "Where is my parcel? It has not come.")).await;
    let [Received::Thread { thread, request: None, state }] = taken.as_slice() else { panic!("{taken:?}") };
    assert_eq!(state, "triage", "never dropped");
    let staff = Actor::Staff { id: "dpo-1".into(), role: StaffRole::Dpo, purposes: Vec::new() };
    let t = m.app.state.inbox.triage(&staff, *thread, "access").await.expect("triage");
    let r = m.app.state.rights.get(t.request_id.expect("a request")).await.expect("request");
    assert_eq!((r.kind.as_str(), r.received_at), ("access", t.received_at), "the deadline runs from the mail");
    let bad = m.app.state.inbox.triage(&staff, *thread, "deletion").await.expect_err("unknown intent");
    assert!(bad.to_string().starts_with("intent:"), "{bad}");
}

#[tokio::test]
async fn a_reply_lands_in_the_same_request_and_staff_answer_in_the_thread() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let taken =
        m.mail(&mail("ada@example.org", "a1@example.org", "Auskunft", "Bitte um Auskunft über meine Daten.")).await;
    let [Received::Thread { thread, request: Some(request), .. }] = taken.as_slice() else { panic!("{taken:?}") };
    m.runner.run_pending().await.expect("run");
    let ack = m.to("ada@example.org").into_iter().find(|d| d.data.contains("Our reference")).expect("ack");
    let ack_id = header(&ack, "Message-ID").expect("a Message-ID");

    // Replying to the acknowledgement, by headers.
    let reply = format!(
        "From: ada@example.org\r\nTo: {PRIVACY}\r\nSubject: Re: Auskunft\r\nMessage-ID: <a2@example.org>\r\n\
         In-Reply-To: {ack_id}\r\nReferences: <a1@example.org> {ack_id}\r\n\r\nAlso my old address, please.\r\n"
    );
    assert_eq!(m.mail(&reply).await, [Received::Reply { thread: *thread }]);
    // Replying with the reference in the subject only.
    let by_subject = mail("ada@example.org", "a3@example.org", &format!("Re: [ref:{thread}]"), "And thanks.");
    assert_eq!(m.mail(&by_subject).await, [Received::Reply { thread: *thread }]);
    // Someone else quoting the reference starts a thread of their own.
    let other = mail("mallory@evil.example", "x@evil.example", &format!("Re: [ref:{thread}]"), "Send me Ada's data");
    assert!(matches!(m.mail(&other).await.as_slice(), [Received::Thread { thread: t, .. }] if t != thread));
    let t = m.app.store.inbox_thread(*thread).await.expect("thread").expect("stored");
    assert_eq!(t.request_id, Some(*request), "the same request");
    assert_eq!(m.app.store.inbox_messages(*thread).await.expect("messages").len(), 4, "mail, ack, two replies");

    let staff = Actor::Staff { id: "dpo-1".into(), role: StaffRole::Dpo, purposes: Vec::new() };
    m.app.state.inbox.answer(&staff, *thread, "Danke, wir nehmen die alte Adresse auf.").await.expect("answer");
    assert!(m.app.state.inbox.answer(&staff, *thread, "  ").await.is_err(), "an empty answer is refused");
    m.runner.run_pending().await.expect("run");
    let answer = m
        .to("ada@example.org")
        .into_iter()
        .find(|d| text(d).contains("alte Adresse"))
        .expect("the staff answer is sent");
    assert_eq!(header(&answer, "In-Reply-To").as_deref(), Some("<a3@example.org>"), "to the latest mail of the thread");
    let references = header(&answer, "References").expect("References");
    assert!(references.contains("<a1@example.org>") && references.contains(&ack_id), "{references}");
}

#[tokio::test]
async fn the_reader_waits_in_idle_and_takes_new_mail_at_once() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let reader = Arc::new(ImapReader::new(imap_settings(&m.dovecot), m.app.state.inbox.clone()).expect("reader"));
    let task = tokio::spawn({
        let (reader, shutdown) = (reader.clone(), shutdown.clone());
        async move { reader.run(shutdown).await }
    });
    m.dovecot.deliver(
        "ada@example.org",
        mail("ada@example.org", "i1@example.org", "unsubscribe", "Please unsubscribe me from the newsletter.")
            .as_bytes(),
    );
    let mut threads = Vec::new();
    for _ in 0..200 {
        // The thread is stored first, then its request.
        threads = m.app.store.open_inbox_threads(10).await.expect("threads");
        if threads.first().is_some_and(|t| t.request_id.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("the reader stops").expect("join");
    assert_eq!(threads.len(), 1, "taken while idling: {}", m.dovecot.log());
    let request = m.app.state.rights.get(threads[0].request_id.expect("a request")).await.expect("request");
    assert_eq!((request.kind.as_str(), request.purpose.as_deref()), ("objection", Some("marketing")));
}

#[tokio::test]
async fn the_smtp_listener_takes_requests_for_the_privacy_address_only() {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let smtp = SmtpSink::start().await;
    let runner = runner(&app, &smtp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = Arc::new(SmtpListener::new(app.state.inbox.clone(), &[PRIVACY.to_owned()], "custos.test"));
    tokio::spawn(server.serve(listener, shutdown.clone()));
    let client = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(port).build();
    let send = |to: &str, from: Option<&str>, raw: String| {
        let envelope =
            lettre::address::Envelope::new(from.map(|f| f.parse().expect("from")), vec![to.parse().expect("to")])
                .expect("envelope");
        let client = client.clone();
        async move { client.send_raw(&envelope, raw.as_bytes()).await }
    };

    signup(&app, "Ada", "ada@example.org").await;
    let sent = send(
        PRIVACY,
        Some("ada@example.org"),
        mail(
            "ada@example.org",
            "s1@example.org",
            "Data portability",
            "Please export my data in a machine-readable format.",
        ),
    )
    .await;
    assert!(sent.is_ok(), "{sent:?}");
    let threads = app.store.open_inbox_threads(10).await.expect("threads");
    assert_eq!(threads.len(), 1);
    let request = app.state.rights.get(threads[0].request_id.expect("request")).await.expect("request");
    assert_eq!((request.kind.as_str(), request.channel.as_str()), ("portability", "email"));
    runner.run_pending().await.expect("run");
    assert!(smtp.delivered().iter().any(|d| d.to == ["ada@example.org"] && d.data.contains("Our reference")));

    let relay = send(
        "someone@elsewhere.example",
        Some("ada@example.org"),
        mail("ada@example.org", "s2@example.org", "hi", "relay me"),
    )
    .await;
    assert!(relay.is_err_and(|e| e.is_permanent()), "not an open relay");
    let bounce = send(PRIVACY, None, mail("mailer-daemon@mx.example", "s3@example.org", "failure", "delete")).await;
    assert!(bounce.is_ok(), "taken, and dropped as automatic: {bounce:?}");
    let no_sender = send(PRIVACY, Some("x@example.org"), "Subject: nobody\r\n\r\ndelete my data\r\n".to_owned()).await;
    assert!(no_sender.is_err_and(|e| e.is_permanent()), "a mail without From is refused");
    assert_eq!(app.store.open_inbox_threads(10).await.expect("threads").len(), 1, "nothing else was made");
    shutdown.cancel();
}

#[tokio::test]
async fn a_request_about_a_partners_data_is_forwarded_and_the_person_told() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let partner = register_partner(&m.app, "Acme Leads").await;
    let taken = m
        .mail(&mail(
            "zoe@example.org",
            "p1@example.org",
            "Your partner Acme Leads",
            "I signed up at Acme Leads. Please delete my data.",
        ))
        .await;
    let [Received::Thread { thread, .. }] = taken.as_slice() else { panic!("{taken:?}") };
    let t = m.app.store.inbox_thread(*thread).await.expect("thread").expect("stored");
    assert_eq!(t.partner_id, Some(partner));
    m.runner.run_pending().await.expect("run");
    let forwarded = m.to("grace@acme.example");
    assert_eq!(forwarded.len(), 1, "the partner's contact gets it");
    assert!(text(&forwarded[0]).contains("zoe@example.org") && text(&forwarded[0]).contains("Please delete my data"));
    let told = m.to("zoe@example.org").into_iter().find(|d| d.data.contains("Our reference")).expect("ack");
    assert!(text(&told).contains("passed") && text(&told).contains("Acme Leads"), "the person is told");
    let requests = m.app.store.partner_requests(partner, 10).await.expect("requests");
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].direction.as_str(), requests[0].state.as_str()), ("forwarded", "done"));
    assert_eq!(requests[0].outcome.as_ref().map(|o| o["channel"].clone()), Some(json!("email")));

    // With a webhook, the next one goes there, over HTTPS.
    let sink = custos_testkit::https::HttpsSink::start().await;
    let hook = format!("https://127.0.0.1:{}/rights", sink.addr.port());
    let r = m
        .app
        .client
        .put(format!("{}/v1/partners/{partner}/rights-webhook", m.app.base))
        .bearer_auth(&m.app.token)
        .json(&json!({"url": hook}))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 200);
    m.mail(&mail(
        "yan@example.org",
        "p2@example.org",
        "Acme Leads",
        "Acme Leads has my data; I want a copy of my data.",
    ))
    .await;
    m.runner.run_pending().await.expect("run");
    let received = sink.received();
    assert_eq!(received.len(), 1, "the webhook is called");
    let body: Value = serde_json::from_slice(&received[0].body).expect("json");
    assert_eq!((body["email"].as_str(), body["kind"].as_str()), (Some("yan@example.org"), Some("access")));
}

#[tokio::test]
async fn a_partner_asks_for_access_and_erasure_under_a_pseudonym() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["partner-relationship"]).await;
    let partner = register_partner(&app, "Acme Leads").await;
    let r = app
        .client
        .post(format!("{}/v1/partners/{partner}/keys", app.base))
        .bearer_auth(&app.token)
        .json(&json!({}))
        .send()
        .await
        .expect("key");
    let key = r.json::<Value>().await.expect("json")["key"].as_str().expect("key").to_owned();
    let call = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut r = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(&key);
        if let Some(body) = body {
            r = r.json(&body);
        }
        async move {
            let r = r.send().await.expect("send");
            (r.status().as_u16(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let batch = json!([
        {"pseudonym": "p-1", "country": "DE", "amount": 10},
        {"pseudonym": "p-1", "country": "FR", "amount": 5},
        {"pseudonym": "p-2", "country": "DE", "amount": 7},
    ]);
    let (status, body) = call(reqwest::Method::POST, "/v1/partner/records", Some(batch)).await;
    assert!(status < 300, "{status} {body}");

    let (status, access) =
        call(reqwest::Method::POST, "/v1/partner/rights-requests", Some(json!({"kind": "access", "pseudonym": "p-1"})))
            .await;
    assert_eq!((status, access["state"].as_str()), (200, Some("done")), "{access}");
    assert_eq!(access["records"].as_array().map(Vec::len), Some(2));
    assert_eq!(access["outcome"]["records"], 2);
    let (status, erased) = call(
        reqwest::Method::POST,
        "/v1/partner/rights-requests",
        Some(json!({"kind": "erasure", "pseudonym": "p-1"})),
    )
    .await;
    assert_eq!((status, erased["outcome"]["deleted"].as_u64()), (200, Some(2)), "{erased}");
    let (_, left) = call(reqwest::Method::GET, "/v1/partner/records?pseudonym=p-1", None).await;
    assert_eq!(left["records"].as_array().map(Vec::len), Some(0), "erased");
    let (_, other) = call(reqwest::Method::GET, "/v1/partner/records?pseudonym=p-2", None).await;
    assert_eq!(other["records"].as_array().map(Vec::len), Some(1), "other pseudonyms stay");
    let id = erased["id"].as_str().expect("id");
    let (status, confirmed) = call(reqwest::Method::GET, &format!("/v1/partner/rights-requests/{id}"), None).await;
    assert_eq!((status, confirmed["state"].as_str(), confirmed["kind"].as_str()), (200, Some("done"), Some("erasure")));

    let (status, bad) = call(
        reqwest::Method::POST,
        "/v1/partner/rights-requests",
        Some(json!({"kind": "rectification", "pseudonym": "p-2"})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("kind")), "{bad}");
    let (status, bad) = call(
        reqwest::Method::POST,
        "/v1/partner/rights-requests",
        Some(json!({"kind": "erasure", "pseudonym": "has space"})),
    )
    .await;
    assert_eq!((status, bad["error"]["field"].as_str()), (422, Some("pseudonym")), "{bad}");
    assert_eq!(app.store.partner_requests(partner, 10).await.expect("requests").len(), 2, "refusals store nothing");
}

async fn register_partner(app: &TestApp, name: &str) -> uuid::Uuid {
    let r = app
        .client
        .post(format!("{}/v1/partners", app.base))
        .bearer_auth(&app.token)
        .json(&json!({"name": name, "country": "DE", "role": "advertiser",
                      "contact_email": "grace@acme.example", "contact_name": "Grace Hopper"}))
        .send()
        .await
        .expect("register");
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").parse().expect("uuid")
}

#[tokio::test]
async fn a_written_withdrawal_of_marketing_consent_by_mail_takes_effect_once_verified() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    signup(&m.app, "Ada", "ada@example.org").await;
    let subject = m.app.state.records.find(custos_store::IdentifierKind::Email, "ada@example.org").await.expect("find");
    let subject = subject.expect("held");
    assert!(m.app.store.live_consents(subject).await.expect("consents").contains(&"marketing".to_owned()));
    let taken = m
        .mail(&mail(
            "ada@example.org",
            "w1@example.org",
            "Marketing",
            "I withdraw my consent to your marketing emails.",
        ))
        .await;
    let [Received::Thread { request: Some(id), .. }] = taken.as_slice() else { panic!("{taken:?}") };
    let request = m.app.state.rights.get(*id).await.expect("request");
    assert_eq!((request.kind.as_str(), request.purpose.as_deref()), ("withdrawal", Some("marketing")));
    m.runner.run_pending().await.expect("run");
    let (status, _) = verify(&m.app, &id.to_string(), &code(&m.to("ada@example.org"))).await;
    assert_eq!(status, 200);
    m.runner.run_pending().await.expect("run");
    assert!(
        !m.app.store.live_consents(subject).await.expect("consents").contains(&"marketing".to_owned()),
        "withdrawn"
    );
    assert!(m.to("ada@example.org").iter().any(|d| text(d).contains("We recorded the withdrawal")));
}

#[tokio::test]
async fn the_legitimate_interest_assessment_is_answered_by_mail() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let taken = m
        .mail(&mail(
            "carla@example.it",
            "li@example.it",
            "Legittimo interesse",
            "Buongiorno, vorrei ricevere la valutazione del vostro legittimo interesse e il bilanciamento.",
        ))
        .await;
    let [Received::Thread { thread, request: None, state }] = taken.as_slice() else { panic!("{taken:?}") };
    assert_eq!(state, "answered", "no verification: the assessment holds no personal data");
    m.runner.run_pending().await.expect("run");
    let mails = m.to("carla@example.it");
    let policy = custos_policy::Policy::example();
    let li = policy.purposes.iter().find(|p| p.legitimate_interest.is_some()).expect("an LI purpose");
    let balancing = li.legitimate_interest.as_ref().expect("assessment").balancing.clone();
    let start: String = balancing.chars().take(30).collect();
    assert!(
        mails.iter().any(|d| text(d).replace("\r\n", " ").replace('\n', " ").contains(&start)),
        "the assessment is sent: {mails:?}"
    );
    assert_eq!(mails.len(), 2, "an acknowledgement and the assessments");

    // Its purpose served, the thread is erased a month on; an unanswered one stays.
    let unclear = m.mail(&mail("eve@example.org", "q2@example.org", "Parcel", "Where is my parcel?")).await;
    let [Received::Thread { thread: waiting, request: None, .. }] = unclear.as_slice() else { panic!("{unclear:?}") };
    let (store, records) = (&m.app.store, &m.app.state.records);
    let forget = |at: jiff::Timestamp| {
        custos_engine::inbox::forget_finished_threads(store, records.vault(), records.auditor(), at)
    };
    assert_eq!(forget(jiff::Timestamp::now()).await.expect("sweep"), 0, "kept while a follow-up may come");
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(31 * 24);
    assert_eq!(forget(later).await.expect("sweep"), 1);
    assert!(store.inbox_thread(*thread).await.expect("read").is_none(), "the thread is gone");
    assert!(store.inbox_messages(*thread).await.expect("read").is_empty(), "and its mails");
    assert!(records.vault().data_key(custos_store::SubjectId(*thread)).await.is_err(), "its key destroyed");
    assert!(store.inbox_thread(*waiting).await.expect("read").is_some(), "a thread in triage waits for staff");
    assert_eq!(forget(later).await.expect("sweep"), 0, "safe to repeat");
}

/// A console session: its cookie and CSRF token.
struct ConsoleSession {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl ConsoleSession {
    /// The first admin (from the setup link) adds a DPO, who signs in.
    async fn dpo(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let base = app.base.clone();
        let token = app.state.staff.setup_token().await.expect("setup").expect("a link");
        let cookie_of = |r: &reqwest::Response| -> String {
            let set = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("a cookie");
            set.split(';').next().expect("pair").to_owned()
        };
        let form = [("username", "root"), ("password", "correct horse battery")];
        let r = client.post(format!("{base}/admin/setup/{token}")).form(&form).send().await.expect("setup");
        let root = Self::with_cookie(client.clone(), &base, cookie_of(&r)).await;
        let add = [
            ("csrf", root.csrf.as_str()),
            ("username", "dpo"),
            ("role", "dpo"),
            ("password", "a long enough password"),
        ];
        assert_eq!(root.post("/admin/staff", &add).await.status(), 200);
        let login = [("username", "dpo"), ("password", "a long enough password")];
        let r = client.post(format!("{base}/admin/login")).form(&login).send().await.expect("login");
        assert_eq!(r.status(), 303);
        Self::with_cookie(client, &base, cookie_of(&r)).await
    }

    async fn with_cookie(client: reqwest::Client, base: &str, cookie: String) -> Self {
        let mut session = Self { client, base: base.to_owned(), cookie, csrf: String::new() };
        let html = session.get("/admin").await.1;
        session.csrf =
            html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("csrf").into();
        session
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r =
            self.client.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.expect("get");
        (r.status().as_u16(), r.text().await.expect("html"))
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self.client.post(format!("{}{path}", self.base)).header("cookie", &self.cookie).form(form);
        r.send().await.expect("post")
    }
}

#[tokio::test]
async fn staff_read_the_original_in_the_console_triage_it_and_answer_in_the_thread() {
    let db = TestDb::from_env().await;
    let Some(m) = Mailbox::start(&db).await else { return };
    let taken = m
        .mail(&mail("eve@example.org", "c1@example.org", "A question", "Hello, what is going on with my order 4711?"))
        .await;
    let [Received::Thread { thread, state, .. }] = taken.as_slice() else { panic!("{taken:?}") };
    assert_eq!(state, "triage");
    let dpo = ConsoleSession::dpo(&m.app).await;
    let (status, queue) = dpo.get("/admin/inbox").await;
    assert_eq!(status, 200);
    assert!(queue.contains(&thread.to_string()) && queue.contains("triage"), "{queue}");
    assert!(!queue.contains("eve@example.org"), "the queue shows no personal data");
    let (status, page) = dpo.get(&format!("/admin/inbox/{thread}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("eve@example.org") && page.contains("order 4711"), "the original is shown");

    let bad = dpo.post(&format!("/admin/inbox/{thread}/triage"), &[("csrf", &dpo.csrf), ("intent", "deletion")]).await;
    assert_eq!(bad.status(), 422);
    let made = dpo.post(&format!("/admin/inbox/{thread}/triage"), &[("csrf", &dpo.csrf), ("intent", "access")]).await;
    assert_eq!(made.status(), 200);
    let t = m.app.store.inbox_thread(*thread).await.expect("thread").expect("stored");
    let request = m.app.state.rights.get(t.request_id.expect("a request")).await.expect("request");
    assert_eq!((request.kind.as_str(), request.received_at), ("access", t.received_at));
    let answer = [("csrf", dpo.csrf.as_str()), ("text", "We look into order 4711 and your data.")];
    assert_eq!(dpo.post(&format!("/admin/inbox/{thread}/answer"), &answer).await.status(), 200);
    m.runner.run_pending().await.expect("run");
    let sent = m.to("eve@example.org").into_iter().find(|d| text(d).contains("We look into order 4711")).expect("sent");
    assert_eq!(header(&sent, "In-Reply-To").as_deref(), Some("<c1@example.org>"));
    let audit = m.app.store.audit_entries(0, 1000).await.expect("audit");
    assert!(
        audit.iter().any(|e| e.entry.action == "inbox.read" && e.entry.actor.contains("dpo")),
        "reading is audited"
    );
}
