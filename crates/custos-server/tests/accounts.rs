//! Accounts over HTTP with mail to a real SMTP server on loopback: sign-up and its
//! verification link, sessions, password reset, the person's own data, and closing the
//! account, which erases them; and that neither sign-up nor a reset request tells anyone
//! whether an address has an account.

mod common;

use std::sync::Arc;

use common::TestApp;
use custos_engine::accounts::AccountMailJob;
use custos_engine::jobs::JobRunner;
use custos_engine::mail::{MailJob, Mailer};
use custos_store::IdentifierKind;
use custos_testkit::TestDb;
use custos_testkit::smtp::SmtpSink;
use serde_json::{Value, json};

struct Site {
    app: TestApp,
    smtp: SmtpSink,
    mailer: Mailer,
    browser: reqwest::Client,
}

impl Site {
    async fn start(db: &TestDb) -> Self {
        let mut app = TestApp::spawn(db, &["account"]).await;
        let smtp = SmtpSink::start().await;
        let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
        // A second server with mail, on the same store and vault.
        let state = app.state.clone().with_mail(Some(mailer.clone()), "https://shop.example");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        app.base = format!("http://{}", listener.local_addr().expect("addr"));
        app.state = state.clone();
        tokio::spawn(custos_server::serve(listener, custos_server::app(state), std::future::pending()));
        let browser = reqwest::Client::builder().cookie_store(true).build().expect("client");
        Self { app, smtp, mailer, browser }
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self.browser.post(format!("{}{path}", self.app.base)).json(body).send().await.expect("post");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// The signed-in person's own account, as `GET /v1/accounts/me` answers it.
    async fn me(&self) -> Value {
        let r = self.browser.get(format!("{}/v1/accounts/me", self.app.base)).send().await.expect("me");
        r.json().await.expect("json")
    }

    /// Runs the queued jobs (account mail, then the mail it queues).
    async fn run_jobs(&self) {
        let runner = JobRunner::new(self.app.store.clone())
            .register(MailJob::new(self.app.state.records.clone(), self.mailer.clone()))
            .register(AccountMailJob::new(self.app.state.accounts.clone()));
        let report = runner.run_pending().await.expect("jobs");
        assert_eq!((report.retrying, report.dead), (0, 0), "{report:?}");
    }

    /// Sends the queued mail and returns the last message's text.
    async fn last_mail(&self) -> String {
        self.run_jobs().await;
        self.smtp.delivered().last().expect("a mail").data.clone()
    }

    /// POSTs JSON from a client without cookies, under a fixed request id; returns the
    /// answer as bytes: the status, every header but `date`, and the body.
    async fn raw_post(&self, path: &str, body: &Value) -> (u16, Vec<(String, Vec<u8>)>, Vec<u8>) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.app.base))
            .header("x-request-id", "same-for-both")
            .json(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        let mut headers: Vec<(String, Vec<u8>)> = r
            .headers()
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
            .collect();
        headers.sort();
        (status, headers, r.bytes().await.expect("body").to_vec())
    }

    /// The kinds of the jobs waiting to run.
    async fn pending_jobs(&self) -> Vec<String> {
        let jobs = self.app.store.jobs_in_state(custos_store::JobState::Pending, 100).await.expect("jobs");
        let mut kinds: Vec<String> = jobs.into_iter().map(|j| j.kind).collect();
        kinds.sort();
        kinds
    }
}

/// The token in the mail's link (the body may be quoted-printable).
fn token(mail: &str) -> String {
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = text.find("token=").expect("a link with a token") + 6;
    text[start..].split_whitespace().next().expect("token").to_owned()
}

fn signup() -> Value {
    json!({"name": "Ada Byron", "company": "Analytical Engines Ltd", "address": "12 St James's Square, London",
           "email": "ada@example.org", "phone": "+44 20 7946 0958", "password": "correct horse battery"})
}

#[tokio::test]
async fn sign_up_verify_sign_in_and_see_ones_own_data() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    let (status, body) = site.post("/v1/accounts", &signup()).await;
    assert_eq!((status, &body["next"]), (202, &json!("check_email")), "{body}");
    let (status, body) =
        site.post("/v1/accounts", &json!({"name": "X", "email": "x@example.org", "password": "short"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("password")));

    let mail = site.last_mail().await;
    assert!(
        mail.contains("To: \"Ada Byron\" <ada@example.org>") || mail.contains("To: Ada Byron <ada@example.org>"),
        "{mail}"
    );
    let link = token(&mail);
    let r =
        site.browser.get(format!("{}/v1/accounts/verify?token={link}", site.app.base)).send().await.expect("verify");
    assert_eq!(r.status(), 200);
    let again =
        site.browser.get(format!("{}/v1/accounts/verify?token={link}", site.app.base)).send().await.expect("verify");
    assert_eq!(again.status(), 401, "a link works once");

    let (status, _) =
        site.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "wrong password"})).await;
    assert_eq!(status, 401);
    let r = site
        .browser
        .post(format!("{}/v1/accounts/login", site.app.base))
        .json(&json!({"email": "ADA@example.org", "password": "correct horse battery"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"), "{cookie}");
    let me: Value = site.me().await;
    assert_eq!(me["data"]["user.contact.organization"], "Analytical Engines Ltd");
    assert_eq!(me["data"]["user.name"], "Ada Byron");
}

#[tokio::test]
async fn sign_up_answers_a_known_address_byte_for_byte_like_a_new_one_and_mails_its_holder() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    // Ada is new; her sign-up creates the account.
    let new = site.raw_post("/v1/accounts", &signup()).await;
    site.run_jobs().await;
    assert_eq!(site.smtp.delivered().len(), 1, "the verification mail");

    // Someone signs up again with Ada's address, with another name and password.
    let mallory = json!({"name": "Mallory", "email": "ADA@example.org", "phone": "+44 20 7946 0000",
                         "password": "an attacker's password"});
    let known = site.raw_post("/v1/accounts", &mallory).await;
    // And a third person, unknown until now.
    let unknown = site
        .raw_post(
            "/v1/accounts",
            &json!({"name": "Charles Babbage", "email": "charles@example.org", "password": "difference engine"}),
        )
        .await;
    assert_eq!(known, new, "a known address is answered exactly like a new one");
    assert_eq!(unknown, new);
    let (status, headers, body) = &known;
    assert_eq!(*status, 202);
    assert!(headers.iter().all(|(name, _)| name != "set-cookie"), "no session for anyone: {headers:?}");
    let body: Value = serde_json::from_slice(body).expect("json");
    assert_eq!(body["next"], "check_email");
    assert!(body.get("subject_id").is_none(), "no id that would differ: {body}");

    // A field at fault is refused for a known address as for a new one.
    let bad_phone = |email: &str| json!({"name": "Ada Byron", "email": email, "phone": "not a phone", "password": "correct horse battery"});
    let (known_status, _, known_body) = site.raw_post("/v1/accounts", &bad_phone("ada@example.org")).await;
    let (new_status, _, new_body) = site.raw_post("/v1/accounts", &bad_phone("grace@example.org")).await;
    assert_eq!((known_status, &known_body), (new_status, &new_body));
    assert_eq!(known_status, 422);

    site.run_jobs().await;
    let mails = site.smtp.delivered();
    let to_ada: Vec<_> = mails.iter().filter(|m| m.to == ["ada@example.org"]).collect();
    assert_eq!(to_ada.len(), 2, "the verification, then the note about the second sign-up");
    let note = &to_ada[1].data;
    assert!(note.contains("Someone tried to sign up with your address"), "{note}");
    assert!(!note.contains("Mallory"), "the note is addressed with what the account holds: {note}");
    assert!(
        mails.iter().any(|m| m.to == ["charles@example.org"] && m.data.contains("Confirm your email address")),
        "the new address gets its verification link"
    );
    assert!(mails.iter().all(|m| m.to != ["grace@example.org"]), "a refused sign-up mails no one");

    // Nothing about Ada's account changed: her password, her data.
    let (status, _) = site
        .post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "an attacker's password"}))
        .await;
    assert_eq!(status, 401);
    let (status, _) = site
        .post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "correct horse battery"}))
        .await;
    assert_eq!(status, 200);
    let me: Value = site.me().await;
    assert_eq!(me["data"]["user.name"], "Ada Byron");
    assert_eq!(me["data"]["user.contact.phone_number"], "+44 20 7946 0958");

    // The note's link resets the password, should the holder want to.
    let (status, _) = site
        .post(
            "/v1/accounts/password-reset/confirm",
            &json!({"token": token(note), "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn a_reset_request_does_the_same_work_for_a_known_and_an_unknown_address() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    site.post("/v1/accounts", &signup()).await;
    site.run_jobs().await;
    let sent = site.smtp.delivered().len();

    let known = site.raw_post("/v1/accounts/password-reset", &json!({"email": "ada@example.org"})).await;
    let known_work = site.pending_jobs().await;
    site.run_jobs().await;
    let unknown = site.raw_post("/v1/accounts/password-reset", &json!({"email": "nobody@example.org"})).await;
    let unknown_work = site.pending_jobs().await;
    assert_eq!(known, unknown, "the same answer, byte for byte");
    assert_eq!(known.0, 202);
    // On the request path both queue one job and nothing else (no token, no mail yet): the
    // job finds out whether the address has an account.
    assert_eq!(known_work, vec!["accounts.mail".to_owned()]);
    assert_eq!(unknown_work, known_work);
    site.run_jobs().await;
    let mails = site.smtp.delivered();
    assert_eq!(mails.len(), sent + 1, "only the known address is mailed");
    assert_eq!(mails[sent].to, vec!["ada@example.org".to_owned()]);
    assert!(mails[sent].data.contains("Reset your password"), "{}", mails[sent].data);
    assert!(site.pending_jobs().await.is_empty());
}

#[tokio::test]
async fn a_password_reset_ends_old_sessions() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    site.post("/v1/accounts", &signup()).await;
    site.last_mail().await;
    assert_eq!(
        site.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "correct horse battery"}))
            .await
            .0,
        200
    );
    assert_eq!(
        site.post("/v1/accounts/password-reset", &json!({"email": "nobody@example.org"})).await.0,
        202,
        "no hint who has an account"
    );
    assert_eq!(site.post("/v1/accounts/password-reset", &json!({"email": "ada@example.org"})).await.0, 202);
    let link = token(&site.last_mail().await);
    let (status, _) = site
        .post("/v1/accounts/password-reset/confirm", &json!({"token": link, "password": "a brand new passphrase"}))
        .await;
    assert_eq!(status, 204);
    let me = site.browser.get(format!("{}/v1/accounts/me", site.app.base)).send().await.expect("me");
    assert_eq!(me.status(), 401, "the old session ended");
    assert_eq!(
        site.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "correct horse battery"}))
            .await
            .0,
        401
    );
    assert_eq!(
        site.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "a brand new passphrase"}))
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn closing_an_account_erases_the_person_and_confirms_by_mail() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    site.post("/v1/accounts", &signup()).await;
    site.last_mail().await;
    let (_, signed_in) = site
        .post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "correct horse battery"}))
        .await;
    let r = site.browser.delete(format!("{}/v1/accounts/me", site.app.base)).send().await.expect("delete");
    assert_eq!(r.status(), 204);
    let confirmation = site.smtp.delivered().last().expect("mail").clone();
    assert!(confirmation.data.contains("Your account is closed"), "{}", confirmation.data);
    assert_eq!(confirmation.to, vec!["ada@example.org".to_owned()]);
    assert_eq!(site.browser.get(format!("{}/v1/accounts/me", site.app.base)).send().await.expect("me").status(), 401);
    assert_eq!(
        site.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "correct horse battery"}))
            .await
            .0,
        401
    );
    assert_eq!(site.app.state.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find"), None);
    let subject: uuid::Uuid = signed_in["subject_id"].as_str().expect("id").parse().expect("uuid");
    let store: &Arc<dyn custos_store::Store> = &site.app.store;
    assert_eq!(store.subject(custos_store::SubjectId(subject)).await.expect("read"), None, "every row is gone");
}

#[tokio::test]
async fn password_guessing_is_rate_limited() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    site.post("/v1/accounts", &signup()).await;
    let mut statuses = Vec::new();
    for n in 0..25 {
        let (status, _) = site
            .post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": format!("guess number {n}")}))
            .await;
        statuses.push(status);
    }
    // One address is named at most `per_identifier_per_hour` (10) times an hour, the sign-up
    // included, before the network's own limit (20 a minute) is reached.
    assert!(statuses.iter().take(9).all(|s| *s == 401), "{statuses:?}");
    assert!(statuses.iter().skip(9).all(|s| *s == 429), "{statuses:?}");
}
