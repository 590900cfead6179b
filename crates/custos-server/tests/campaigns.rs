//! Campaigns over HTTP, end to end: people sign up through the form (ticking marketing or
//! not), a service makes and sends a campaign, the job runner mails it to a real SMTP
//! server on loopback, the one-click unsubscribe POST from the mail's header works, and the
//! next campaign leaves that person out.

mod common;

use common::TestApp;
use custos_engine::campaigns::CampaignFanout;
use custos_engine::jobs::JobRunner;
use custos_engine::mail::{MailJob, Mailer};
use custos_testkit::TestDb;
use custos_testkit::smtp::SmtpSink;
use serde_json::{Value, json};

/// Signs up for the newsletter and confirms by the mailed link, or (without `marketing`)
/// only writes through the contact form.
async fn sign_up(app: &TestApp, name: &str, email: &str, marketing: bool) {
    if marketing {
        return app.sign_up_confirmed(name, email).await;
    }
    let body = json!({"name": name, "email": email, "message": "Do you ship to Malta?"});
    let r = app.client.post(format!("{}/v1/forms/contact", app.base)).json(&body).send().await.expect("post");
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "{body}");
}

async fn campaign(app: &TestApp, subject_line: &str) -> String {
    let draft =
        json!({"name": subject_line, "purpose": "marketing", "subject_line": subject_line, "body": "Hello {{name}}!"});
    let (status, body) = app.post("/v1/campaigns", &draft).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["state"], "draft");
    let id = body["id"].as_str().expect("id").to_owned();
    let (status, body) = app.post(&format!("/v1/campaigns/{id}/send"), &json!({})).await;
    assert_eq!((status, body["state"].as_str()), (202, Some("sending")), "{body}");
    id
}

#[tokio::test]
async fn a_campaign_reaches_the_consenting_and_one_click_takes_them_off_the_next() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    sign_up(&app, "Ada", "ada@example.org", true).await;
    sign_up(&app, "Bob", "bob@example.org", true).await;
    sign_up(&app, "Cy", "cy@example.org", false).await;
    let cy = app.state.records.find(custos_store::IdentifierKind::Email, "cy@example.org").await.expect("find");
    assert!(cy.is_some(), "cy is stored, without marketing consent");

    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "Shop <news@shop.example>").expect("mailer");
    let runner = JobRunner::new(app.store.clone())
        .register(MailJob::new(app.state.records.clone(), mailer))
        .register(CampaignFanout::new(app.store.clone(), app.state.records.vault().clone(), &app.base));

    let first = campaign(&app, "Spring offers").await;
    runner.run_pending().await.expect("run");
    let mut to: Vec<String> = smtp.delivered().into_iter().flat_map(|d| d.to).collect();
    to.sort();
    assert_eq!(to, vec!["ada@example.org", "bob@example.org"], "exactly the people who ticked marketing");
    let (status, body) = app.get(&format!("/v1/campaigns/{first}")).await;
    assert_eq!((status, body["delivered"].as_u64()), (200, Some(2)), "{body}");

    // Ada's mail client uses the one-click header (RFC 8058).
    let ada = smtp.delivered().into_iter().find(|d| d.to == ["ada@example.org"]).expect("ada's mail");
    let data = ada.data.replace("\r\n", "\n");
    assert!(data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{data}");
    let url = data
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .map(|l| l.trim_end_matches('>').to_owned())
        .expect("List-Unsubscribe");
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one click");
    assert!(r.status().is_success(), "{}", r.status());

    let second = campaign(&app, "Summer offers").await;
    runner.run_pending().await.expect("run");
    let summer: Vec<Vec<String>> =
        smtp.delivered().into_iter().filter(|d| d.data.contains("Summer offers")).map(|d| d.to).collect();
    assert_eq!(summer, vec![vec!["bob@example.org".to_owned()]], "ada unsubscribed");
    let (_, body) = app.get(&format!("/v1/campaigns/{second}")).await;
    assert_eq!(body["delivered"], 1);
}

#[tokio::test]
async fn campaigns_need_the_purpose_and_name_what_is_wrong() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["analytics"]).await;
    let draft = json!({"name": "x", "purpose": "marketing", "subject_line": "Offers", "body": "Hi"});
    let (status, body) = app.post("/v1/campaigns", &draft).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, body) =
        app.post("/v1/campaigns", &json!({"name": "x", "purpose": "support", "subject_line": "s", "body": "b"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("purpose")), "{body}");
    let (status, body) = app.post("/v1/campaigns", &json!({"name": "x", "purpose": "marketing", "subject": "s"})).await;
    assert_eq!(status, 422, "an unknown field is named: {body}");
    let (status, body) = app.get(&format!("/v1/campaigns/{}", uuid::Uuid::now_v7())).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("unknown_campaign")), "{body}");
    let (status, _) = app.post(&format!("/v1/campaigns/{}/send", uuid::Uuid::now_v7()), &json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_confirmed_sign_up_lifts_an_unsubscribe_but_an_unconfirmed_one_or_an_api_import_does_not() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    sign_up(&app, "Ada", "ada@example.org", true).await;
    sign_up(&app, "Bob", "bob@example.org", true).await;
    let find = async |email: &str| {
        app.state.records.find(custos_store::IdentifierKind::Email, email).await.expect("find").expect("stored")
    };
    let (ada, bob) = (find("ada@example.org").await, find("bob@example.org").await);
    for person in [ada, bob] {
        let token = custos_engine::marketing::token(app.state.records.vault(), person, "marketing");
        let r = app.client.post(format!("{}/unsubscribe/{token}", app.base)).send().await.expect("unsubscribe");
        assert!(r.status().is_success());
    }
    // Someone signs Bob up again through the form, but the link goes to Bob's mailbox and
    // is never used: his unsubscribe stands.
    let again = json!({"name": "Bob", "email": "bob@example.org", "consents": ["marketing"]});
    let r = app.client.post(format!("{}/v1/forms/signup", app.base)).json(&again).send().await.expect("post");
    assert_eq!(r.status(), 201);
    app.store
        .claim_job(
            "drain",
            &[custos_engine::confirmations::MAIL_KIND],
            jiff::Timestamp::now(),
            jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60),
        )
        .await
        .expect("claim")
        .expect("Bob's confirmation mail, left unread");
    // Ada signs up again herself and confirms; Bob is "re-imported" by a backend through the API.
    sign_up(&app, "Ada", "ada@example.org", true).await;
    let (status, body) = app
        .post("/v1/consents", &json!({"subject_id": bob, "purpose": "marketing", "granted": true, "method": "api"}))
        .await;
    assert_eq!(status, 201, "{body}");

    let smtp = SmtpSink::start().await;
    let mailer = Mailer::from_url(&format!("smtp://{}", smtp.addr), "news@shop.example").expect("mailer");
    let runner = JobRunner::new(app.store.clone())
        .register(MailJob::new(app.state.records.clone(), mailer))
        .register(CampaignFanout::new(app.store.clone(), app.state.records.vault().clone(), &app.base));
    campaign(&app, "Autumn offers").await;
    runner.run_pending().await.expect("run");
    let to: Vec<Vec<String>> = smtp.delivered().into_iter().map(|d| d.to).collect();
    assert_eq!(to, vec![vec!["ada@example.org".to_owned()]], "Ada asked again; Bob's unsubscribe stands");
    let bob_consent = app.store.consent_history(bob).await.expect("ledger");
    assert_eq!(
        bob_consent.iter().filter(|c| c.entry.method == "email").count(),
        1,
        "only his first, confirmed sign-up"
    );
}
