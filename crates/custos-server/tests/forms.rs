//! The website's forms: JSON, classic posts and multipart with attachments; consent boxes
//! into the ledger; the honeypot, the rate limit and the size limit; nothing partial.

mod common;

use common::TestApp;
use custos_engine::confirmations::ConfirmationMail;
use custos_engine::gate::{Actor, StaffRole};
use custos_engine::jobs::JobRunner;
use custos_engine::mail::Mailer;
use custos_store::IdentifierKind;
use custos_testkit::TestDb;
use custos_testkit::smtp::SmtpSink;
use serde_json::{Value, json};

fn dpo() -> Actor {
    Actor::Staff { id: "dpo".into(), role: StaffRole::Dpo, purposes: vec![] }
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> (u16, Value) {
    let r = app.client.post(format!("{}{path}", app.base)).json(body).send().await.expect("post");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_contact_message_is_stored_sealed_under_its_purpose() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let form = json!({"name": "Ada Byron", "email": "Ada@Example.org", "phone": "+44 20 7946 0958", "message": "Where is my order 1815?"});
    let (status, body) = post_json(&app, "/v1/forms/contact", &form).await;
    assert_eq!(status, 201, "{body}");
    let subject =
        app.state.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find").expect("stored");
    let read = app
        .state
        .records
        .read(&dpo(), subject, "contact", &["user.content.private", "user.contact.phone_number"])
        .await
        .expect("read");
    let values: Vec<String> = read.iter().map(|r| String::from_utf8_lossy(&r.value).into_owned()).collect();
    assert!(
        values.contains(&"Where is my order 1815?".to_owned()) && values.contains(&"+44 20 7946 0958".to_owned()),
        "{values:?}"
    );
    assert!(
        app.state.records.find(IdentifierKind::Phone, "+442079460958").await.expect("find").is_some(),
        "found by phone too"
    );
    // A second message from the same address adds to the same person.
    post_json(&app, "/v1/forms/contact", &json!({"name": "Ada", "email": "ada@example.org", "message": "Found it."}))
        .await;
    let again = app.state.records.read(&dpo(), subject, "contact", &["user.content.private"]).await.expect("read");
    assert_eq!(again.len(), 2);
}

#[tokio::test]
async fn classic_posts_redirect_and_multipart_carries_checked_attachments() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let r = no_redirect
        .post(format!("{}/v1/forms/contact", app.base))
        .header("accept", "text/html")
        .header("referer", format!("{}/demo?x=1", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Grace+Hopper&email=grace%40example.org&message=Hello+there")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], format!("{}/demo?sent=contact", app.base));

    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR fake image body".to_vec();
    let form = reqwest::multipart::Form::new()
        .text("name", "Grace")
        .text("email", "grace@example.org")
        .text("message", "screenshot attached")
        .part("attachments", reqwest::multipart::Part::bytes(png.clone()).file_name("screen.png"));
    let r = app.client.post(format!("{}/v1/forms/contact", app.base)).multipart(form).send().await.expect("post");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let subject =
        app.state.records.find(IdentifierKind::Email, "grace@example.org").await.expect("find").expect("stored");
    let stored = app.state.records.read(&dpo(), subject, "contact", &["user.content.private"]).await.expect("read");
    assert!(
        stored.iter().any(|r| r.value.ends_with(&png) && r.value.windows(10).any(|w| w == b"screen.png")),
        "the file, with its name"
    );

    let exe = reqwest::multipart::Form::new()
        .text("name", "Mallory")
        .text("email", "mallory@example.org")
        .text("message", "open the invoice")
        .part(
            "attachments",
            reqwest::multipart::Part::bytes(b"MZ\x90\x00\x03\x00\x00\x00".to_vec()).file_name("invoice.pdf"),
        );
    let r = app.client.post(format!("{}/v1/forms/contact", app.base)).multipart(exe).send().await.expect("post");
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["field"], "attachments[0]");
    assert_eq!(
        app.state.records.find(IdentifierKind::Email, "mallory@example.org").await.expect("find"),
        None,
        "nothing stored"
    );

    let huge = reqwest::multipart::Form::new()
        .text("name", "Big")
        .text("email", "big@example.org")
        .text("message", "large")
        .part("attachments", reqwest::multipart::Part::bytes(vec![b'a'; 12 * 1024 * 1024]).file_name("big.txt"));
    let r = app.client.post(format!("{}/v1/forms/contact", app.base)).multipart(huge).send().await;
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(e.is_request() || e.is_body(), "the server stopped reading: {e}"),
    }
    assert_eq!(app.state.records.find(IdentifierKind::Email, "big@example.org").await.expect("find"), None);
}

#[tokio::test]
async fn bad_forms_name_the_field_and_store_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let (status, body) =
        post_json(&app, "/v1/forms/contact", &json!({"email": "x@example.org", "message": "hi"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("name")), "{body}");
    let (status, body) =
        post_json(&app, "/v1/forms/contact", &json!({"name": "X", "email": "x at example", "message": "hi"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("email")), "{body}");
    assert!(!body.to_string().contains("x at example"));
    let (status, body) = post_json(
        &app,
        "/v1/forms/contact",
        &json!({"name": "X", "email": "x@example.org", "message": "hi", "consents": ["support"]}),
    )
    .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("consents[0]")), "{body}");
    assert_eq!(app.state.records.find(IdentifierKind::Email, "x@example.org").await.expect("find"), None);
    let (status, _) = post_json(
        &app,
        "/v1/forms/contact",
        &json!({"name": "Bot", "email": "bot@example.org", "message": "buy", "website": "http://spam.example"}),
    )
    .await;
    assert_eq!(status, 201, "the honeypot answers like a success");
    assert_eq!(
        app.state.records.find(IdentifierKind::Email, "bot@example.org").await.expect("find"),
        None,
        "and stores nothing"
    );
}

/// Runs the queued confirmation mails through a real SMTP server on loopback; returns the
/// mails delivered.
async fn mail_confirmations(app: &TestApp) -> Vec<custos_testkit::smtp::Delivered> {
    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "Shop <news@shop.example>").expect("mailer");
    let records = &app.state.records;
    let runner = JobRunner::new(app.store.clone()).register(ConfirmationMail::new(
        app.store.clone(),
        records.vault().clone(),
        records.policy().clone(),
        records.clock().clone(),
        mailer,
        &app.base,
    ));
    runner.run_pending().await.expect("run");
    smtp.delivered()
}

#[tokio::test]
async fn a_sign_up_counts_only_once_the_person_confirms_by_the_mailed_link() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let (status, body) = post_json(&app, "/v1/forms/signup", &json!({"name": "Lin", "email": "lin@example.org"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("consents")), "{body}");
    let (status, body) = post_json(
        &app,
        "/v1/forms/signup",
        &json!({"name": "Lin Dahlqvist", "email": "lin@example.org", "consents": ["marketing"]}),
    )
    .await;
    assert_eq!((status, &body), (201, &json!({"received": true, "confirm_by_email": true})));

    // Until the person confirms, nobody is stored, no consent counts, nothing is in clear.
    let records = &app.state.records;
    assert_eq!(records.find(IdentifierKind::Email, "lin@example.org").await.expect("find"), None);
    let raw = db.stored_bytes().await;
    for needle in [&b"lin@example.org"[..], b"Lin Dahlqvist"] {
        assert!(!raw.windows(needle.len()).any(|w| w == needle), "{} in clear", String::from_utf8_lossy(needle));
    }

    // One mail, to the address given, with the link.
    let delivered = mail_confirmations(&app).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].to, ["lin@example.org"]);
    let link = common::confirmation_link(delivered[0].data.as_bytes());
    assert!(link.starts_with(&format!("{}/confirm/", app.base)), "{link}");

    // Opening the link (as a mail scanner does) changes nothing; it shows a button.
    let page = app.client.get(&link).send().await.expect("get");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert_eq!(records.find(IdentifierKind::Email, "lin@example.org").await.expect("find"), None);

    // A link with a forged MAC, or naming another confirmation, is refused.
    let (id, mac) = link.rsplit_once('/').expect("token").1.split_once('.').expect("id.mac");
    let other = uuid::Uuid::new_v4().simple().to_string();
    for forged in [format!("{id}.{}", mac.replace(&mac[..2], "AA")), format!("{other}.{mac}")] {
        let r = app.client.post(format!("{}/confirm/{forged}", app.base)).send().await.expect("post");
        assert_eq!(r.status(), 404, "{forged}");
    }

    // The button records the consent as given by email, and stores the person.
    let r = app.client.post(&link).send().await.expect("confirm");
    assert_eq!(r.status(), 200);
    let subject = records.find(IdentifierKind::Email, "lin@example.org").await.expect("find").expect("stored");
    let history = app.store.consent_history(subject).await.expect("ledger");
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].entry.purpose.as_str(), history[0].entry.granted, history[0].entry.method.as_str()),
        ("marketing", true, "email")
    );
    assert_eq!(history[0].entry.source_ip.as_deref(), Some("127.0.0.0"), "where the form was posted from");
    let read = records.read(&dpo(), subject, "marketing", &["user.contact.email", "user.name"]).await.expect("read");
    let mut values: Vec<&[u8]> = read.iter().map(|r| &r.value[..]).collect();
    values.sort();
    assert_eq!(values, [&b"Lin Dahlqvist"[..], b"lin@example.org"]);

    // A link works once.
    let again = app.client.post(&link).send().await.expect("again");
    assert_eq!(again.status(), 404);
    let body: Value = again.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unknown_link");
    assert_eq!(app.store.consent_history(subject).await.expect("ledger").len(), 1);
}

#[tokio::test]
async fn a_marketing_box_on_the_contact_form_waits_for_confirmation_too() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let form =
        json!({"name": "Kim", "email": "kim@example.org", "message": "Hello", "consents": ["marketing", "analytics"]});
    let (status, body) = post_json(&app, "/v1/forms/contact", &form).await;
    assert_eq!((status, &body["confirm_by_email"]), (201, &json!(true)), "{body}");
    let records = &app.state.records;
    let subject = records.find(IdentifierKind::Email, "kim@example.org").await.expect("find").expect("the message");
    let granted = |history: &[custos_store::StoredConsent]| {
        history.iter().map(|c| (c.entry.purpose.clone(), c.entry.method.clone())).collect::<Vec<_>>()
    };
    let history = app.store.consent_history(subject).await.expect("ledger");
    assert_eq!(granted(&history), [("analytics".to_owned(), "form".to_owned())], "marketing waits");
    assert_eq!(app.confirm_by_mail().await, 1);
    let history = app.store.consent_history(subject).await.expect("ledger");
    assert_eq!(
        granted(&history),
        [("analytics".to_owned(), "form".to_owned()), ("marketing".to_owned(), "email".to_owned())]
    );
}

#[tokio::test]
async fn a_confirmation_for_a_restricted_person_is_answered_alike_and_stores_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let (status, _) =
        post_json(&app, "/v1/forms/contact", &json!({"name": "Ro", "email": "ro@example.org", "message": "hi"})).await;
    assert_eq!(status, 201);
    let records = &app.state.records;
    let subject = records.find(IdentifierKind::Email, "ro@example.org").await.expect("find").expect("stored");
    app.store.set_restriction(subject, Some("asked for"), jiff::Timestamp::now()).await.expect("restrict");
    let (status, _) = post_json(
        &app,
        "/v1/forms/signup",
        &json!({"name": "Ro", "email": "ro@example.org", "consents": ["marketing"]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(app.confirm_by_mail().await, 1, "the person sees their confirmation done, like anyone");
    assert!(app.store.consent_history(subject).await.expect("ledger").is_empty(), "no consent recorded");
    let read = records.read(&dpo(), subject, "marketing", &["user.contact.email"]).await;
    assert!(read.map(|v| v.is_empty()).unwrap_or(true), "nothing stored for marketing");
}

#[tokio::test]
async fn each_address_may_post_a_few_forms_a_minute() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["contact"]).await;
    let mut statuses = Vec::new();
    for n in 0..11 {
        let (status, _) = post_json(
            &app,
            "/v1/forms/contact",
            &json!({"name": "N", "email": format!("n{n}@example.org"), "message": "hi"}),
        )
        .await;
        statuses.push(status);
    }
    assert!(statuses[..10].iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(statuses[10], 429);
}
