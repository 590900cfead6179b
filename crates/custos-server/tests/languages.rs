//! The privacy center speaks the visitor's language: picked with `?lang=` (and remembered),
//! else from the browser's `Accept-Language`, else the operator's default; the operator may
//! replace any string.

mod common;

use std::collections::BTreeMap;

use common::TestApp;
use custos_testkit::TestDb;

async fn html(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> (String, Vec<String>) {
    let mut request = app.client.get(format!("{}{path}", app.base));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("get");
    assert_eq!(response.status(), 200, "{path}");
    let cookies =
        response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect();
    (response.text().await.expect("html"), cookies)
}

#[tokio::test]
async fn pages_follow_the_pick_then_the_browser_then_the_default() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;

    let (page, _) = html(&app, "/rights", &[("accept-language", "de-AT, en;q=0.5")]).await;
    assert!(page.contains(r#"<html lang="de">"#) && page.contains("Antrag senden"), "{page}");
    let (page, cookies) = html(&app, "/rights?lang=fr", &[("accept-language", "de")]).await;
    assert!(page.contains(r#"<html lang="fr">"#) && page.contains("Envoyer la demande"), "{page}");
    let remembered = cookies.iter().find(|c| c.starts_with("custos_lang=fr;")).expect("the pick is remembered");
    assert!(remembered.contains("Path=/"), "{remembered}");
    let (page, _) = html(&app, "/privacy/cookies", &[("cookie", "custos_lang=fr"), ("accept-language", "de")]).await;
    assert!(page.contains("Tout refuser") && page.contains("Préférences de cookies"), "{page}");
    let (page, _) = html(&app, "/account", &[("accept-language", "pt-BR, it;q=0.8")]).await;
    assert!(page.contains(r#"<html lang="it">"#) && page.contains("Accedi"), "{page}");
    let (page, _) = html(&app, "/account", &[]).await;
    assert!(page.contains(r#"<html lang="en">"#) && page.contains("Sign in"), "English without a preference");
    // Every language is offered from every page, the current one marked.
    for name in ["Deutsch", "Español", "Nederlands", "English", "Italiano"] {
        assert!(page.contains(name), "{name} offered");
    }
    assert!(page.contains(r#"href="/account?lang=nl""#), "{page}");

    // A request's page names its kind and state in the visitor's language.
    let (status, body) =
        app.post("/v1/rights-requests", &serde_json::json!({"kind": "erasure", "email": "ada@example.org"})).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("id");
    let (page, _) = html(&app, &format!("/rights/{id}"), &[("accept-language", "es")]).await;
    assert!(page.contains("supresión") && page.contains("a la espera de su código"), "{page}");
    assert!(page.contains(r#"data-state="unverified""#));
}

#[tokio::test]
async fn the_operator_sets_the_default_language_and_replaces_strings() {
    let db = TestDb::from_env().await;
    let mut strings = BTreeMap::new();
    strings.insert("de".to_owned(), BTreeMap::from([("rights.send".to_owned(), "Jetzt absenden".to_owned())]));
    let app = TestApp::spawn_with(&db, &["marketing"], |state| {
        state
            .with_branding(&custos_server::BrandingSettings {
                default_language: Some("de".into()),
                strings: strings.clone(),
                ..Default::default()
            })
            .expect("branding")
    })
    .await;
    let (page, _) = html(&app, "/rights", &[("accept-language", "pt")]).await;
    assert!(page.contains(r#"<html lang="de">"#) && page.contains("Jetzt absenden"), "{page}");
    assert!(!page.contains("Antrag senden"), "the operator's wording replaces the built-in one");

    let mut unknown = strings.clone();
    unknown.insert("pt".to_owned(), BTreeMap::new());
    let error = custos_server::i18n::Catalog::with_settings(None, &unknown).expect_err("no Portuguese");
    assert!(error.to_string().contains("`pt`"), "{error}");
}
