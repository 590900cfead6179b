//! Rights requests over HTTP, end to end: a person signs up through the form, asks for
//! erasure, reads the code from a real SMTP server, verifies, and is erased; an unknown
//! address is answered the same way; bad input names its field.

mod common;

use common::TestApp;
use custos_engine::jobs::JobRunner;
use custos_engine::mail::Mailer;
use custos_engine::rights::{RightsExecution, RightsMail};
use custos_testkit::TestDb;
use custos_testkit::smtp::SmtpSink;
use serde_json::{Value, json};

async fn public_post(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let r = app.client.post(format!("{}{path}", app.base)).json(body).send().await.expect("post");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn public_get(app: &TestApp, path: &str) -> (u16, Value) {
    let r = app.client.get(format!("{}{path}", app.base)).send().await.expect("get");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn code(smtp: &SmtpSink, email: &str) -> String {
    let mail = smtp.delivered().into_iter().rev().find(|d| d.to == [email]).expect("a mail");
    mail.data.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("a code").trim().to_owned()
}

#[tokio::test]
async fn a_person_asks_for_erasure_verifies_by_mail_and_is_erased() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
    let runner = JobRunner::new(app.store.clone())
        .register(RightsExecution::new(app.state.rights.clone()))
        .register(RightsMail::new(app.state.rights.clone(), mailer, &app.base));

    let (status, known) =
        public_post(&app, "/v1/rights-requests", &json!({"kind": "erasure", "email": "ada@example.org"})).await;
    assert_eq!(status, 202, "{known}");
    let (status, unknown) =
        public_post(&app, "/v1/rights-requests", &json!({"kind": "erasure", "email": "zed@example.org"})).await;
    assert_eq!(status, 202, "{unknown}");
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(keys(&known), keys(&unknown), "the answers look alike");
    assert_eq!((known["state"].as_str(), unknown["state"].as_str()), (Some("unverified"), Some("unverified")));
    runner.run_pending().await.expect("run");

    let id = known["id"].as_str().expect("id");
    let (status, body) =
        public_post(&app, &format!("/v1/rights-requests/{id}/verify"), &json!({"code": "12345678x"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (422, Some("bad_code"), Some("code")),
        "{body}"
    );
    let code = code(&smtp, "ada@example.org");
    let (status, body) = public_post(&app, &format!("/v1/rights-requests/{id}/verify"), &json!({"code": code})).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("verified")), "{body}");
    let (status, body) = public_post(&app, &format!("/v1/rights-requests/{id}/verify"), &json!({"code": code})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("wrong_state")), "a code works once: {body}");
    runner.run_pending().await.expect("run");

    let (status, body) = public_get(&app, &format!("/v1/rights-requests/{id}")).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("fulfilled")), "{body}");
    assert!(
        app.state.records.find(custos_store::IdentifierKind::Email, "ada@example.org").await.expect("find").is_none(),
        "erased"
    );
    let text = body.to_string();
    assert!(!text.contains("ada@example.org"), "the status shows no personal data: {text}");
}

#[tokio::test]
async fn bad_requests_name_the_field_and_store_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let cases = [
        (json!({"kind": "deletion", "email": "a@example.org"}), "kind"),
        (json!({"kind": "erasure", "email": "not an address"}), "email"),
        (json!({"kind": "objection", "email": "a@example.org", "purpose": "account"}), "purpose"),
        (json!({"kind": "erasure", "email": "a@example.org", "purpose": "marketing"}), "purpose"),
    ];
    for (body, field) in cases {
        let (status, answer) = public_post(&app, "/v1/rights-requests", &body).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (422, Some(field)), "{body} -> {answer}");
    }
    let (status, _) = public_post(&app, "/v1/rights-requests", &json!({"kind": "erasure"})).await;
    assert_eq!(status, 422, "a missing field");
    assert!(app.state.rights.queue(10).await.expect("queue").is_empty(), "nothing was stored");
    let (status, body) = public_get(&app, &format!("/v1/rights-requests/{}", uuid::Uuid::now_v7())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_request")));
    for _ in 0..10 {
        public_post(&app, "/v1/rights-requests", &json!({"kind": "erasure", "email": "b@example.org"})).await;
    }
    let (status, body) =
        public_post(&app, "/v1/rights-requests", &json!({"kind": "erasure", "email": "b@example.org"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_requests")), "{body}");
}

#[tokio::test]
async fn an_access_request_ends_in_a_zip_downloaded_from_the_mailed_link() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
    let runner = JobRunner::new(app.store.clone())
        .register(RightsExecution::new(app.state.rights.clone()))
        .register(RightsMail::new(app.state.rights.clone(), mailer, &app.base));
    let (_, body) =
        public_post(&app, "/v1/rights-requests", &json!({"kind": "access", "email": "ada@example.org"})).await;
    let id = body["id"].as_str().expect("id").to_owned();
    runner.run_pending().await.expect("run");
    let code = code(&smtp, "ada@example.org");
    let (status, _) = public_post(&app, &format!("/v1/rights-requests/{id}/verify"), &json!({"code": code})).await;
    assert_eq!(status, 200);
    runner.run_pending().await.expect("run");

    let mail = smtp.delivered().into_iter().rev().find(|d| d.to == ["ada@example.org"]).expect("the answer").data;
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let link = text
        .lines()
        .find(|l| l.contains("/package?token="))
        .map(str::trim)
        .unwrap_or_else(|| panic!("a link in {text}"))
        .to_owned();
    assert!(link.starts_with(&app.base), "{link}");
    let r = app.client.get(&link).send().await.expect("download");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let zip = r.bytes().await.expect("bytes");
    assert!(zip.starts_with(b"PK"), "a zip");
    let (status, body) = public_get(&app, &format!("/v1/rights-requests/{id}/package?token=forged")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_link")), "{body}");
}

#[tokio::test]
async fn the_pages_take_a_request_and_its_code_without_javascript() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
    let runner = JobRunner::new(app.store.clone())
        .register(RightsExecution::new(app.state.rights.clone()))
        .register(RightsMail::new(app.state.rights.clone(), mailer, &app.base));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let form = client.get(format!("{}/rights", app.base)).send().await.expect("get");
    assert_eq!(form.status(), 200);
    let html = form.text().await.expect("html");
    assert!(html.contains("<form method=\"post\" action=\"/rights\">") && html.contains("for=\"email\""), "{html}");

    let posted = client
        .post(format!("{}/rights", app.base))
        .form(&[("kind", "erasure"), ("email", "ada@example.org")])
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), 303);
    let location = posted.headers()["location"].to_str().expect("location").to_owned();
    assert!(location.starts_with("/rights/"), "{location}");
    let page = client.get(format!("{}{location}", app.base)).send().await.expect("get").text().await.expect("html");
    assert!(page.contains(r#"data-state="unverified""#) && page.contains("name=\"code\""), "{page}");

    runner.run_pending().await.expect("run");
    let mail = smtp.delivered().pop().expect("the code").data.replace("=\r\n", "").replace("=\n", "");
    assert!(mail.contains(&format!("{}{location}", app.base)), "the mail links to the page: {mail}");
    let code = mail.lines().find_map(|l| l.strip_prefix("Your code: ")).expect("code").trim().to_owned();
    let wrong =
        client.post(format!("{}{location}/verify", app.base)).form(&[("code", "00000000")]).send().await.expect("post");
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.expect("html").contains("role=\"alert\""));
    let right = client
        .post(format!("{}{location}/verify", app.base))
        .form(&[("code", code.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(right.status(), 303);
    let page = client.get(format!("{}{location}", app.base)).send().await.expect("get").text().await.expect("html");
    assert!(page.contains(r#"data-state="verified""#) && !page.contains("name=\"code\""), "{page}");
    let bad = client
        .post(format!("{}/rights", app.base))
        .form(&[("kind", "erasure"), ("email", "nope")])
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 422, "a bad address is said on the page");
}

/// The download link in the latest mail to `email`.
fn package_link(smtp: &SmtpSink, email: &str) -> (String, String) {
    let mail = smtp.delivered().into_iter().rev().find(|d| d.to == [email]).expect("the answer").data;
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let link = text.lines().find(|l| l.contains("/package?token=")).map(str::trim).expect("a link").to_owned();
    (link, text)
}

#[tokio::test]
async fn a_portability_request_is_sent_to_the_controller_the_person_names() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with(&db, &["marketing"], |state| {
        state.with_outbound(&TestApp::outbound_to_loopback()).expect("outbound settings")
    })
    .await;
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    // The other controller is down at first (503), then takes the data.
    let controller = custos_testkit::https::HttpsSink::start_with(&[503]).await;
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example").expect("mailer");
    let runner = JobRunner::new(app.store.clone())
        .with_retry_policy(custos_engine::jobs::RetryPolicy {
            base: std::time::Duration::ZERO,
            max: std::time::Duration::ZERO,
        })
        .register(RightsExecution::new(app.state.rights.clone()))
        .register(RightsMail::new(app.state.rights.clone(), mailer, &app.base));

    for (body, why) in [
        (json!({"kind": "access", "email": "ada@example.org", "transmit_to": controller.url("/import")}), "kind"),
        (
            json!({"kind": "portability", "email": "ada@example.org", "transmit_to": "http://controller.example/"}),
            "http",
        ),
        (
            json!({"kind": "portability", "email": "ada@example.org", "transmit_to": "https://u:p@controller.example/"}),
            "password",
        ),
    ] {
        let (status, answer) = public_post(&app, "/v1/rights-requests", &body).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("transmit_to")), "{why}: {answer}");
    }

    let (status, body) = public_post(
        &app,
        "/v1/rights-requests",
        &json!({"kind": "portability", "email": "ada@example.org", "transmit_to": controller.url("/import?ref=7")}),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    runner.run_pending().await.expect("run");
    let code = code(&smtp, "ada@example.org");
    let (status, _) = public_post(&app, &format!("/v1/rights-requests/{id}/verify"), &json!({"code": code})).await;
    assert_eq!(status, 200);
    assert!(controller.received().is_empty(), "nothing is sent before the request runs");
    runner.run_pending().await.expect("run");

    let (status, body) = public_get(&app, &format!("/v1/rights-requests/{id}")).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("fulfilled")), "{body}");
    let received = controller.received();
    assert_eq!(received.len(), 2, "tried again after the 503, then sent once");
    let sent = &received[1];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/import?ref=7"));
    assert_eq!(sent.header("content-type"), Some("application/zip"));
    assert_eq!(sent.header("x-custos-request-id"), Some(id.as_str()));
    let (link, mail) = package_link(&smtp, "ada@example.org");
    assert!(mail.contains("As you asked, we sent it to 127.0.0.1."), "{mail}");
    let download = app.client.get(&link).send().await.expect("download").bytes().await.expect("bytes");
    assert_eq!(sent.body, download.to_vec(), "the controller got the very package the person can download");
    let request = app.state.rights.get(id.parse().expect("uuid")).await.expect("request");
    let outcome = request.outcome.expect("outcome");
    assert_eq!(
        (outcome["transmit"]["sent"].as_bool(), outcome["transmit"]["host"].as_str()),
        (Some(true), Some("127.0.0.1"))
    );
    assert!(!outcome.to_string().contains("ref=7"), "the outcome names the host only: {outcome}");

    // A controller that refuses: the person still gets the link, and is told.
    let refusing = custos_testkit::https::HttpsSink::start_with(&[403]).await;
    let (_, body) = public_post(
        &app,
        "/v1/rights-requests",
        &json!({"kind": "portability", "email": "ada@example.org", "transmit_to": refusing.url("/in")}),
    )
    .await;
    let id = body["id"].as_str().expect("id").to_owned();
    runner.run_pending().await.expect("run");
    let code = self::code(&smtp, "ada@example.org");
    public_post(&app, &format!("/v1/rights-requests/{id}/verify"), &json!({"code": code})).await;
    runner.run_pending().await.expect("run");
    let (_, body) = public_get(&app, &format!("/v1/rights-requests/{id}")).await;
    assert_eq!(body["state"].as_str(), Some("fulfilled"), "{body}");
    assert_eq!(refusing.received().len(), 1, "a refusal is not retried");
    let (_, mail) = package_link(&smtp, "ada@example.org");
    assert!(mail.contains("We could not send it to 127.0.0.1"), "{mail}");
}

#[tokio::test]
async fn by_default_no_request_can_point_custos_at_a_private_network() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    for to in ["https://127.0.0.1:9/import", "https://169.254.169.254/latest", "https://[::1]/x", "https://localhost/x"]
    {
        let (status, answer) = public_post(
            &app,
            "/v1/rights-requests",
            &json!({"kind": "portability", "email": "ada@example.org", "transmit_to": to}),
        )
        .await;
        assert_eq!((status, answer["error"]["field"].as_str()), (422, Some("transmit_to")), "{to}: {answer}");
        assert!(
            answer["error"]["message"].as_str().is_some_and(|m| m.contains("not a public internet address")),
            "{answer}"
        );
    }
    assert!(app.state.rights.queue(10).await.expect("queue").is_empty(), "nothing was stored");
}
