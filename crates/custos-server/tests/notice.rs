//! The privacy notice served over HTTP, read as a browser would: every purpose, recipient
//! and cookie of the policy is on the page, and every version ever in force is listed.

mod common;

use common::vault;

use std::sync::Arc;

use custos_policy::Policy;
use custos_server::AppState;
use custos_store::Store;
use custos_testkit::TestDb;
use scraper::{Html, Selector};
use serde_json::Value;

/// Serves `policy` on a fresh database (after publishing it, as `custos serve` does) and
/// returns the base URL, the store and the database.
async fn serve(policy: Policy, db: &TestDb) -> (String, Arc<dyn Store>, Arc<custos_engine::vault::Vault>) {
    let store = db.store().await;
    custos_engine::policy::publish(&store, &policy, jiff::Timestamp::now()).await.expect("publish");
    let vault = vault(db).await;
    let app = custos_server::app(AppState::new(store.clone(), vault.clone(), policy));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(custos_server::serve(listener, app, std::future::pending()));
    (base, store, vault)
}

fn select(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("selector");
    html.select(&selector).map(|e| e.text().collect::<String>()).collect()
}

fn attrs(html: &Html, css: &str, attr: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("selector");
    html.select(&selector).filter_map(|e| e.value().attr(attr).map(str::to_owned)).collect()
}

#[tokio::test]
async fn the_served_notice_shows_every_purpose_recipient_and_cookie() {
    let db = TestDb::from_env().await;
    let policy = Policy::example();
    let (base, _store, _vault) = serve(policy.clone(), &db).await;
    let response = reqwest::get(format!("{base}/privacy")).await.expect("get");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/html"));
    let html = Html::parse_document(&response.text().await.expect("body"));

    assert_eq!(attrs(&html, "html", "lang"), vec!["en"]);
    assert_eq!(select(&html, "main").len(), 1, "one main landmark");
    assert_eq!(select(&html, "h1").len(), 1, "one top heading");
    let purposes = attrs(&html, "section[data-purpose]", "data-purpose");
    assert_eq!(purposes, policy.purposes.iter().map(|p| p.id.clone()).collect::<Vec<_>>());
    let headings = select(&html, "section[data-purpose] h3");
    for p in &policy.purposes {
        assert!(headings.contains(&p.name), "purpose {} has its heading", p.id);
    }
    let recipients = select(&html, "tr[data-recipient] th");
    for r in &policy.recipients {
        assert!(recipients.contains(&r.name), "recipient {}", r.id);
    }
    let cookies = select(&html, "tr[data-cookie] th");
    for c in &policy.cookies {
        assert!(cookies.contains(&c.name), "cookie {}", c.name);
    }
    let page = select(&html, "body").concat();
    for p in &policy.purposes {
        if let Some(assessment) = &p.legitimate_interest {
            let section = select(&html, &format!("section[data-purpose=\"{}\"] details", p.id)).concat();
            assert!(section.contains(&assessment.balancing), "the balancing test of {} is published", p.id);
        }
    }
    assert!(page.contains(policy.version().short()), "the version is shown");
    assert!(page.contains(&policy.meta.effective.to_string()), "the effective date is shown");
    for right in [
        "Access",
        "Rectification",
        "Erasure",
        "Restriction",
        "Portability",
        "Objection",
        "Withdrawing consent",
        "Complaint",
    ] {
        assert!(select(&html, "#rights dt").contains(&right.to_owned()), "right {right}");
    }
    assert!(page.contains(&policy.rights.email), "how to use the rights");
    for table in select(&html, "table caption") {
        assert!(!table.is_empty(), "every table has a caption");
    }
}

#[tokio::test]
async fn versions_are_listed_and_diffed() {
    let db = TestDb::from_env().await;
    let old = Policy::example();
    let (_, store, vault) = serve(old.clone(), &db).await;
    let text = custos_policy::EXAMPLE_TOML.replacen(
        "Helping you when you ask for assistance",
        "Helping you, by chat or email, when you ask for assistance",
        1,
    );
    let new = Policy::from_toml(&text, "new.toml").expect("valid");
    custos_engine::policy::publish(&store, &new, jiff::Timestamp::now()).await.expect("publish");
    let app = custos_server::app(AppState::new(store.clone(), vault, new.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(custos_server::serve(listener, app, std::future::pending()));

    let list: Value = reqwest::get(format!("{base}/privacy/versions")).await.expect("get").json().await.expect("json");
    let (old_hash, new_hash) = (old.version().hash, new.version().hash);
    assert_eq!(list["current"], new_hash.as_str());
    let hashes: Vec<&str> =
        list["versions"].as_array().expect("array").iter().filter_map(|v| v["hash"].as_str()).collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&old_hash.as_str()) && hashes.contains(&new_hash.as_str()));

    let past: Policy =
        reqwest::get(format!("{base}/privacy/versions/{old_hash}")).await.expect("get").json().await.expect("json");
    assert_eq!(past, old);
    let diff: Value = reqwest::get(format!("{base}/privacy/diff?from={old_hash}&to={new_hash}"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(diff["purposes"]["changed"], serde_json::json!(["support"]));
    assert_eq!(diff["recipients"]["changed"], serde_json::json!([]));

    let missing = reqwest::get(format!("{base}/privacy/versions/deadbeef")).await.expect("get");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unknown_policy_version");
    let bad = reqwest::get(format!("{base}/privacy/diff?from={old_hash}")).await.expect("get");
    assert_eq!(bad.status(), 400);

    let md = reqwest::get(format!("{base}/privacy.md")).await.expect("get").text().await.expect("text");
    assert!(md.starts_with("# Privacy notice"));
    let json: Policy = reqwest::get(format!("{base}/privacy.json")).await.expect("get").json().await.expect("json");
    assert_eq!(json, new);
}
