//! The privacy center's account pages over real HTTP, as a browser without JavaScript
//! uses them: sign in, see one's data and consents, withdraw and give consent, close the
//! account; forms without the session's token are refused.

mod common;

use common::TestApp;
use custos_store::IdentifierKind;
use custos_testkit::TestDb;
use serde_json::json;

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a csrf field").to_owned()
}

#[tokio::test]
async fn a_user_signs_in_withdraws_and_gives_consent_and_closes_the_account() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with(&db, &["marketing"], |state| {
        state
            .with_branding(&custos_server::BrandingSettings {
                name: Some("Example Shop".into()),
                logo_url: Some("/static/logo.svg".into()),
                accent_colour: Some("#0B4FA8".into()),
                ..Default::default()
            })
            .expect("branding")
    })
    .await;
    let http = client();
    let r = http
        .post(format!("{}/v1/accounts", app.base))
        .json(&json!({"name": "Ada Lovelace", "email": "ada@example.org", "password": "correct horse battery staple"}))
        .send()
        .await
        .expect("sign up");
    assert_eq!(r.status(), 202);

    let page = http.get(format!("{}/account", app.base)).send().await.expect("page").text().await.expect("html");
    assert!(page.contains("action=\"/account/login\"") && page.contains("Example Shop") && page.contains("#0b4fa8"));
    assert!(page.contains("src=\"/static/logo.svg\""));
    let wrong = http
        .post(format!("{}/account/login", app.base))
        .form(&[("email", "ada@example.org"), ("password", "wrong")])
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
    let r = http
        .post(format!("{}/account/login", app.base))
        .form(&[("email", "ada@example.org"), ("password", "correct horse battery staple")])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let get = || {
        let (http, cookie, url) = (http.clone(), cookie.clone(), format!("{}/account", app.base));
        async move { http.get(url).header("cookie", cookie).send().await.expect("page").text().await.expect("html") }
    };
    let post = |path: &str, form: Vec<(&'static str, String)>| {
        let (http, cookie, url) = (http.clone(), cookie.clone(), format!("{}{path}", app.base));
        async move { http.post(url).header("cookie", cookie).form(&form).send().await.expect("post") }
    };
    let page = get().await;
    assert!(page.contains("Ada Lovelace"), "the user sees their data");
    assert!(page.contains("id=\"consent-marketing\""), "and each consent");
    let csrf = csrf_of(&page);

    let forged = post("/account/consents", vec![("purpose", "marketing".into()), ("granted", "true".into())]).await;
    assert_eq!(forged.status(), 403, "no token, no change");
    let given = post(
        "/account/consents",
        vec![("csrf", csrf.clone()), ("purpose", "marketing".into()), ("granted", "true".into())],
    )
    .await;
    assert_eq!(
        (given.status().as_u16(), given.headers()["location"].to_str().expect("to")),
        (303, "/account?done=given")
    );
    let subject = app.state.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find").expect("held");
    assert_eq!(app.store.live_consents(subject).await.expect("live"), ["marketing"]);
    let withdrawn = post(
        "/account/consents",
        vec![("csrf", csrf.clone()), ("purpose", "marketing".into()), ("granted", "false".into())],
    )
    .await;
    assert_eq!(withdrawn.status(), 303);
    assert!(app.store.live_consents(subject).await.expect("live").is_empty(), "withdrawn at once");
    let history = app.store.consent_history(subject).await.expect("history");
    assert!(history.iter().all(|e| e.entry.method == "form"), "recorded as given on the form");
    assert!(get().await.contains("withdrawn on"), "the page says so");

    let unconfirmed = post("/account/close", vec![("csrf", csrf.clone())]).await;
    assert_eq!(unconfirmed.status(), 422, "closing needs the box ticked");
    let closed = post("/account/close", vec![("csrf", csrf), ("confirm", "yes".into())]).await;
    assert_eq!(closed.status(), 200);
    assert!(closed.text().await.expect("html").contains("Your account is closed"));
    assert!(app.state.records.find(IdentifierKind::Email, "ada@example.org").await.expect("find").is_none(), "erased");
    assert!(get().await.contains("action=\"/account/login\""), "signed out");
}
