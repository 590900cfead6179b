//! Signed unsubscribe links: a GET changes nothing, the one-click POST withdraws and
//! suppresses, and forged or swapped links are refused.

mod common;

use common::TestApp;
use custos_engine::gate::{Actor, Rule};
use custos_engine::records::{AccessError, NewValue};
use custos_store::SubjectKind;
use custos_testkit::TestDb;

#[tokio::test]
async fn one_click_unsubscribes_and_links_cannot_be_forged() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let records = &app.state.records;
    let mut people = Vec::new();
    for email in ["a@example.org", "b@example.org"] {
        let (id, _) = records.create_subject(&Actor::System, SubjectKind::User, &[], &[]).await.expect("create");
        app.store.append_consent(&custos_testkit::consent(id, "marketing", true)).await.expect("consent");
        records
            .write_all(
                &Actor::System,
                id,
                &[NewValue { purpose: "marketing", category: "user.contact.email", value: email.as_bytes() }],
            )
            .await
            .expect("write");
        people.push(id);
    }
    let token = custos_engine::marketing::token(records.vault(), people[0], "marketing");
    let url = |t: &str| format!("{}/unsubscribe/{t}", app.base);

    let page = app.client.get(url(&token)).send().await.expect("get");
    assert_eq!(page.status(), 200);
    assert!(
        records.read(&Actor::System, people[0], "marketing", &["user.contact.email"]).await.is_ok(),
        "a GET changes nothing"
    );

    let forged = format!("{}.marketing.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", people[1]);
    assert_eq!(app.client.post(url(&forged)).send().await.expect("post").status(), 404);
    let swapped = token.replacen(&people[0].to_string(), &people[1].to_string(), 1);
    assert_eq!(app.client.post(url(&swapped)).send().await.expect("post").status(), 404, "a link is for one person");

    let one_click = app
        .client
        .post(url(&token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(one_click.status(), 200);
    match records.read(&Actor::System, people[0], "marketing", &["user.contact.email"]).await {
        Err(AccessError::Denied { rule, .. }) => {
            assert!(matches!(rule, Rule::NoLiveConsent | Rule::ObjectedDirectMarketing))
        }
        other => panic!("marketing must stop: {other:?}"),
    }
    assert!(
        records.read(&Actor::System, people[1], "marketing", &["user.contact.email"]).await.is_ok(),
        "others are untouched"
    );
    let history = app.store.consent_history(people[0]).await.expect("ledger");
    assert_eq!(history[1].entry.method, "unsubscribe");
}
