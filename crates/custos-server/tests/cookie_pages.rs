//! The privacy center's cookie preferences over real HTTP, as a browser without
//! JavaScript uses them: the categories the banner offers, a choice saved in the ledger and
//! in the cookie custos.js reads, refusal as easy as consent, forged posts refused.

mod common;

use common::TestApp;
use custos_store::IdentifierKind;
use custos_testkit::TestDb;

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a csrf field").to_owned()
}

/// The `name=value` pairs the response sets, and their full `Set-Cookie` lines.
fn set_cookies(r: &reqwest::Response) -> Vec<(String, String, String)> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|line| {
            let pair = line.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned(), line.to_owned())
        })
        .collect()
}

fn decoded(value: &str) -> serde_json::Value {
    let text: String =
        form_urlencoded::parse(format!("v={value}").as_bytes()).next().map(|(_, v)| v.into_owned()).expect("value");
    serde_json::from_str(&text).expect("the cookie holds JSON")
}

#[tokio::test]
async fn a_visitor_chooses_cookies_without_javascript_and_refuses_as_easily() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let http = client();
    let url = format!("{}/privacy/cookies", app.base);

    let r = http.get(&url).send().await.expect("page");
    assert_eq!(r.status(), 200);
    let cookies = set_cookies(&r);
    let (_, token, line) = cookies.iter().find(|(n, _, _)| n == "custos_prefs_csrf").expect("a form token cookie");
    assert!(line.contains("SameSite=Strict") && line.contains("HttpOnly"), "{line}");
    let page = r.text().await.expect("html");
    assert!(page.contains(r#"name="category_analytics""#), "the policy's consent category: {page}");
    assert!(page.contains(r#"id="unchosen""#), "no choice yet");
    assert_eq!(&csrf_of(&page), token);
    let csrf_cookie = format!("custos_prefs_csrf={token}");

    // A post from another site has no token cookie; a stale form has the wrong one.
    let forged = http.post(&url).form(&[("csrf", token.as_str()), ("all", "accept")]).send().await.expect("post");
    assert_eq!(forged.status(), 403);
    assert!(set_cookies(&forged).iter().all(|(n, _, _)| n != "custos_consent"), "nothing saved");
    let stale = http
        .post(&url)
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", "0123456789abcdef0123456789abcdef"), ("all", "accept")])
        .send()
        .await
        .expect("post");
    assert_eq!(stale.status(), 403);
    let unknown = http
        .post(&url)
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", token.as_str()), ("category_tracking", "on")])
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status(), 422);
    let body: serde_json::Value = unknown.json().await.expect("json");
    assert_eq!(body["error"]["field"], "category_tracking", "{body}");

    // Consent: the ticked box, in the ledger and in custos.js's cookie.
    let saved = http
        .post(&url)
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", token.as_str()), ("category_analytics", "on")])
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status(), 200);
    let cookies = set_cookies(&saved);
    let (_, choice, _) = cookies.iter().find(|(n, _, _)| n == "custos_consent").expect("the choice cookie");
    let (_, visitor, line) = cookies.iter().find(|(n, _, _)| n == "custos_vid").expect("the visitor id");
    assert!(line.contains("Max-Age=33696000"), "kept thirteen months with analytics consent: {line}");
    let choice_json = decoded(choice);
    assert_eq!(choice_json["c"]["analytics"], true);
    assert_eq!(&choice_json["id"], visitor.as_str());
    assert_eq!(choice_json["p"], app.state.policy.version().hash.as_str());
    assert!(choice_json["t"]["analytics"].is_string() && choice_json["v"].is_string(), "{choice_json}");
    let subject = app.state.records.find(IdentifierKind::CookieId, visitor).await.expect("find").expect("the visitor");
    let history = app.store.consent_history(subject).await.expect("history");
    let last = &history.last().expect("recorded").entry;
    assert_eq!((last.purpose.as_str(), last.granted, last.method.as_str()), ("analytics", true, "form"));
    assert_eq!(last.policy_version, app.state.policy.version().hash);

    // The page shows the choice back.
    let both = format!("{csrf_cookie}; custos_consent={choice}; custos_vid={visitor}");
    let page = http.get(&url).header("cookie", &both).send().await.expect("page").text().await.expect("html");
    assert!(page.contains(r#"name="category_analytics" value="on" checked"#), "{page}");

    // Refusing is one button: withdrawn in the ledger, the visitor id cookie dropped.
    let refused = http
        .post(&url)
        .header("cookie", &both)
        .header("sec-gpc", "1")
        .form(&[("csrf", token.as_str()), ("all", "reject")])
        .send()
        .await
        .expect("post");
    assert_eq!(refused.status(), 200);
    let cookies = set_cookies(&refused);
    let (_, choice, _) = cookies.iter().find(|(n, _, _)| n == "custos_consent").expect("the choice cookie");
    assert_eq!(decoded(choice)["c"]["analytics"], false);
    assert_eq!(decoded(choice)["id"], visitor.as_str(), "the same visitor");
    let (_, _, line) = cookies.iter().find(|(n, _, _)| n == "custos_vid").expect("the visitor id");
    assert!(line.contains("Max-Age=0"), "dropped without analytics consent: {line}");
    let page = refused.text().await.expect("html");
    assert!(page.contains(r#"id="gpc""#), "Global Privacy Control is acknowledged");
    let history = app.store.consent_history(subject).await.expect("history");
    let last = &history.last().expect("recorded").entry;
    assert_eq!((last.purpose.as_str(), last.granted), ("analytics", false));
    assert_eq!(history.len(), 2, "one record per choice");
}
