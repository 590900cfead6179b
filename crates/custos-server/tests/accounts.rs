//! Accounts over HTTP with mail to a real SMTP server on loopback: sign-up and its
//! verification link, sessions, password reset, the person's own data, and closing the
//! account, which erases them.

mod common;

use std::sync::Arc;

use common::TestApp;
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

    /// Sends the queued mail and returns the last message's text.
    async fn last_mail(&self) -> String {
        let runner = JobRunner::new(self.app.store.clone())
            .register(MailJob::new(self.app.state.records.clone(), self.mailer.clone()));
        runner.run_pending().await.expect("mail");
        self.smtp.delivered().last().expect("a mail").data.clone()
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
    assert_eq!(status, 201, "{body}");
    let (status, body) = site.post("/v1/accounts", &signup()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("account_exists")));
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
    let me: Value = site
        .browser
        .get(format!("{}/v1/accounts/me", site.app.base))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["data"]["user.contact.organization"], "Analytical Engines Ltd");
    assert_eq!(me["data"]["user.name"], "Ada Byron");
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
    let (_, created) = site.post("/v1/accounts", &signup()).await;
    site.last_mail().await;
    site.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "correct horse battery"})).await;
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
    let subject: uuid::Uuid = created["subject_id"].as_str().expect("id").parse().expect("uuid");
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
