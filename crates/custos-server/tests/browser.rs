//! custos.js in a real browser: headless Chromium driven over WebDriver loads /demo,
//! rejects, then accepts analytics; the consent ledger and the stored events follow. With
//! Global Privacy Control on, non-essential categories are refused without a click.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them the tests say they are
//! skipped, unless `CUSTOS_REQUIRE_BROWSER=1` (set by .ci/run), which makes them fail.

use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::TestApp;
use custos_engine::consent::Consents;
use custos_server::AppState;
use custos_store::{IdentifierKind, Store};
use custos_testkit::TestDb;
use custos_testkit::browser::{Browser, browser_available};
use serde_json::{Value, json};

/// One browser at a time: four Chromiums beside the server and the database on two cores
/// made a CI run stall.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// custos on a loopback port; returns its address, the store and the app state.
async fn custos(db: &TestDb) -> (String, Arc<dyn Store>, AppState) {
    let app = TestApp::spawn(db, &["analytics"]).await;
    (app.base, app.store, app.state)
}

/// Polls `check` until it is true or ten seconds pass.
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_rejects_then_accepts_analytics() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let (base, store, state) = custos(&db).await;
    let browser = Browser::start(false).await;
    browser.goto(&format!("{base}/demo")).await;
    if browser.find("#custos-banner", Duration::from_secs(10)).await.is_none() {
        let probe = browser.command("element", json!({"using": "css selector", "value": "#custos-banner"})).await;
        let html = browser.script("return document.documentElement.outerHTML").await;
        panic!("the banner is not shown: {probe} {html}");
    }
    browser.click("#custos-reject").await;
    assert!(browser.find("#custos-banner", Duration::from_millis(300)).await.is_none(), "the banner closes");
    assert_eq!(browser.script("return custos.consent()").await, json!({"analytics": false}));
    assert_eq!(browser.cookie("custos_vid").await, None, "no visitor id without analytics consent");

    browser.click("#reopen").await;
    browser.click("#custos-accept").await;
    assert_eq!(browser.script("return custos.consent()").await, json!({"analytics": true}));
    let vid = browser.cookie("custos_vid").await.expect("a visitor id with consent");

    let mut subject = None;
    eventually("the visitor's choices are in the ledger", async || {
        subject = state.records.find(IdentifierKind::CookieId, &vid).await.expect("find");
        match subject {
            Some(id) => store.consent_history(id).await.expect("history").len() >= 2,
            None => false,
        }
    })
    .await;
    // Only now: a page view that raced ahead of the consent beacon would rightly be
    // counted cookielessly.
    browser.click("#pricing-link").await;
    let history = store.consent_history(subject.expect("subject")).await.expect("history");
    let steps: Vec<(bool, &str)> = history.iter().map(|e| (e.entry.granted, e.entry.method.as_str())).collect();
    assert_eq!(steps, vec![(false, "banner"), (true, "banner")]);
    assert!(Consents::current(&history)[0].granted);
    eventually("the consented page view is stored", async || {
        let day = jiff::SignedDuration::from_hours(24);
        let now = jiff::Timestamp::now();
        let totals = store
            .event_totals(now.checked_sub(day).expect("t"), now.checked_add(day).expect("t"), 10)
            .await
            .expect("totals");
        // The first view was counted cookielessly, the next one as the consenting visitor.
        totals.visitors >= 2 && totals.pages.iter().any(|(p, _)| p == "/demo/pricing")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn global_privacy_control_refuses_without_a_click() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let (base, store, state) = custos(&db).await;
    let browser = Browser::start(true).await;
    browser.goto(&format!("{base}/demo")).await;
    assert_eq!(browser.script("return navigator.globalPrivacyControl").await, json!(true));
    assert!(browser.find("#custos-banner", Duration::from_millis(1500)).await.is_none(), "no banner to click");
    assert_eq!(browser.script("return custos.consent()").await, json!({"analytics": false}));
    let stored = browser.cookie("custos_consent").await.expect("the choice is remembered");
    let decoded: Value = serde_json::from_str(&percent_decoded(&stored)).expect("json cookie");
    let vid = decoded["id"].as_str().expect("id").to_owned();
    eventually("the GPC refusal is in the ledger", async || {
        match state.records.find(IdentifierKind::CookieId, &vid).await.expect("find") {
            Some(id) => {
                let history = store.consent_history(id).await.expect("history");
                history.len() == 1 && !history[0].entry.granted && history[0].entry.method == "gpc"
            }
            None => false,
        }
    })
    .await;
}

/// Undoes `encodeURIComponent`.
fn percent_decoded(value: &str) -> String {
    url::form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_contact_form_posts_and_comes_back() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let (base, _store, state) = custos(&db).await;
    let browser = Browser::start(false).await;
    browser.goto(&format!("{base}/demo")).await;
    browser.click("#custos-reject").await;
    browser.type_into("#c-name", "Grace Hopper").await;
    browser.type_into("#c-email", "grace@example.org").await;
    browser.type_into("#c-message", "The compiler works.").await;
    browser.click("#contact-form button[type=submit]").await;
    eventually("the page comes back with a thank-you", async || {
        browser.script("return document.getElementById('sent') && document.getElementById('sent').textContent").await
            == json!("Thank you, your message was sent.")
    })
    .await;
    assert!(
        state.records.find(IdentifierKind::Email, "grace@example.org").await.expect("find").is_some(),
        "the message is stored"
    );
}

/// custos under `policy` on a loopback port, on `db`.
async fn custos_with(
    store: &Arc<dyn Store>,
    policy: custos_policy::Policy,
    vault: Arc<custos_engine::vault::Vault>,
) -> String {
    let state = AppState::new(store.clone(), vault, policy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(custos_server::serve(listener, custos_server::app(state), std::future::pending()));
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_change_asks_again_only_when_a_banner_purpose_changed() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let vault = common::vault(&db).await;
    let store = db.store().await;
    let example = custos_policy::EXAMPLE_TOML;
    let edit = |from: &str, to: &str| {
        custos_policy::Policy::from_toml(&example.replacen(from, to, 1), "edited.toml").expect("valid")
    };
    let v1 = custos_with(&store, custos_policy::Policy::example(), vault.clone()).await;
    // Cookies belong to the host, not the port: these servers share the browser's choice.
    let support_changed = custos_with(
        &store,
        edit("Helping you when you ask", "Helping you, by chat or mail, when you ask"),
        vault.clone(),
    )
    .await;
    let analytics_changed = custos_with(
        &store,
        edit("so that we can improve the website.", "so that we can improve the website and our offers."),
        vault,
    )
    .await;

    let browser = Browser::start(false).await;
    browser.goto(&format!("{v1}/demo")).await;
    browser.click("#custos-accept").await;
    browser.goto(&format!("{support_changed}/demo")).await;
    assert!(
        browser.find("#custos-banner", Duration::from_millis(1500)).await.is_none(),
        "a change elsewhere asks nothing"
    );
    assert_eq!(browser.script("return custos.consent()").await, json!({"analytics": true}));
    browser.goto(&format!("{analytics_changed}/demo")).await;
    assert!(
        browser.find("#custos-banner", Duration::from_secs(10)).await.is_some(),
        "the changed purpose is asked again"
    );
    assert_eq!(
        browser.script("return custos.consent()").await,
        json!({"analytics": false}),
        "the old consent no longer counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_banner_speaks_the_pages_language_and_records_which_wording_was_shown() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let store = db.store().await;
    let settings: custos_server::BannerSettings = serde_json::from_value(json!({
        "categories": {"de": {"analytics": {"name": "Statistik", "description": "Welche Seiten besucht werden."}}}
    }))
    .expect("settings");
    let state = AppState::new(store.clone(), common::vault(&db).await, custos_policy::Policy::example())
        .with_banner(&settings)
        .expect("usable settings");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(custos_server::serve(listener, custos_server::app(state.clone()), std::future::pending()));

    let browser = Browser::start(false).await;
    browser.goto(&format!("{base}/demo?lang=de")).await;
    let title = browser.find("#custos-title", Duration::from_secs(10)).await;
    assert!(title.is_some(), "the banner is shown");
    let banner = browser.script("return document.getElementById('custos-banner').innerText").await;
    let banner = banner.as_str().expect("text");
    for wording in ["Ihre Entscheidung zu Cookies", "Statistik: Welche Seiten besucht werden.", "Alle ablehnen"] {
        assert!(banner.contains(wording), "`{wording}` in {banner:?}");
    }
    assert_eq!(browser.script("return custos.language").await, json!("de"));
    browser.click("#custos-reject").await;
    let stored = browser.cookie("custos_consent").await.expect("the choice is remembered");
    let decoded: Value = serde_json::from_str(&percent_decoded(&stored)).expect("json cookie");
    let vid = decoded["id"].as_str().expect("id").to_owned();
    eventually("the refusal names the German wording", async || {
        match state.records.find(IdentifierKind::CookieId, &vid).await.expect("find") {
            Some(id) => {
                let history = store.consent_history(id).await.expect("history");
                history.len() == 1 && history[0].entry.text_version.ends_with("-de")
            }
            None => false,
        }
    })
    .await;
}

/// The text of the `n`th latest mail to `to`, quoted-printable soft breaks undone.
fn mail_to(smtp: &custos_testkit::smtp::SmtpSink, to: &str) -> String {
    let mail = smtp.delivered().into_iter().rev().find(|d| d.to == [to]).expect("a mail").data;
    mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_asks_for_access_verifies_with_the_mailed_code_and_downloads_the_zip() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    let smtp = custos_testkit::smtp::SmtpSink::start().await;
    let mailer = custos_engine::mail::Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example")
        .expect("mailer");
    let runner = custos_engine::jobs::JobRunner::new(app.store.clone())
        .register(custos_engine::rights::RightsExecution::new(app.state.rights.clone()))
        .register(custos_engine::rights::RightsMail::new(app.state.rights.clone(), mailer, &app.base));

    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/rights", app.base)).await;
    browser.assert_page_fine("the rights form").await;
    browser.goto(&format!("{}/rights", app.base)).await;
    browser.click("#kind option[value=access]").await;
    browser.type_into("#email", "ada@example.org").await;
    browser.click("form[action='/rights'] button[type=submit]").await;
    eventually("the request page shows", async || {
        browser.script("return location.pathname").await.as_str().is_some_and(|p| p.starts_with("/rights/"))
    })
    .await;
    let request_page = browser.script("return location.href").await.as_str().expect("url").to_owned();
    browser.assert_page_fine("the request page").await;
    runner.run_pending().await.expect("run");
    let code = mail_to(&smtp, "ada@example.org")
        .lines()
        .find_map(|l| l.strip_prefix("Your code: ").map(|c| c.trim().to_owned()))
        .expect("a code");
    browser.goto(&request_page).await;
    browser.type_into("#code", &code).await;
    browser.click("form[action$='/verify'] button[type=submit]").await;
    eventually("the page says it is verified", async || {
        let state = browser.script("const s = document.getElementById('state'); return s && s.dataset.state").await;
        matches!(state.as_str(), Some("verified" | "in_progress" | "fulfilled"))
    })
    .await;
    browser.assert_page_fine("the verified request").await;
    runner.run_pending().await.expect("run");

    let link = mail_to(&smtp, "ada@example.org")
        .lines()
        .find(|l| l.contains("/package?token="))
        .map(|l| l.trim().to_owned())
        .expect("a download link");
    browser.goto(&format!("{}/rights", app.base)).await;
    let fetched = browser
        .command("execute/async", json!({"script": "const done = arguments[arguments.length - 1]; \
            fetch(arguments[0]).then(async (r) => { const b = new Uint8Array(await r.arrayBuffer()); \
            done({status: r.status, type: r.headers.get('content-type'), head: Array.from(b.slice(0, 2)), size: b.length}); })",
            "args": [link]}))
        .await;
    assert_eq!(fetched["status"], 200, "{fetched}");
    assert_eq!(fetched["type"], "application/zip");
    assert_eq!(fetched["head"], json!([80, 75]), "a zip starts with PK");
    assert!(fetched["size"].as_u64().is_some_and(|n| n > 200), "{fetched}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_signs_in_extends_a_deadline_and_sees_it_on_the_dashboard() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let (status, body) = app.post("/v1/rights-requests", &json!({"kind": "erasure", "email": "bob@example.org"})).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    let token = app.state.staff.setup_token().await.expect("setup").expect("a first-admin link");

    let browser = Browser::start(false).await;
    browser.goto(&format!("{}/admin", app.base)).await;
    eventually("an anonymous visit lands on the login", async || {
        browser.script("return location.pathname").await == json!("/admin/login")
    })
    .await;
    browser.assert_page_fine("the login page").await;
    browser.goto(&format!("{}/admin/setup/{token}", app.base)).await;
    browser.assert_page_fine("the setup page").await;
    browser.goto(&format!("{}/admin/setup/{token}", app.base)).await;
    browser.type_into("#username", "dpo.anna").await;
    browser.type_into("#password", "a passphrase long enough").await;
    browser.click("main form button[type=submit]").await;
    eventually("the dashboard shows", async || {
        browser.find("#extended-count", Duration::from_millis(100)).await.is_some()
    })
    .await;
    browser.assert_page_fine("the dashboard").await;
    browser.goto(&format!("{}/admin", app.base)).await;
    assert_eq!(browser.script("return document.getElementById('extended-count').textContent").await, json!("0"));

    browser.goto(&format!("{}/admin/rights", app.base)).await;
    browser.assert_page_fine("the rights queue").await;
    browser.goto(&format!("{}/admin/rights", app.base)).await;
    browser.click(&format!("#months-{id} option[value='2']")).await;
    browser.type_into(&format!("#reason-{id}"), "We are gathering records from a supplier.").await;
    browser.click(&format!("form[action='/admin/rights/{id}/extend'] button[type=submit]")).await;
    eventually("the queue confirms", async || {
        browser.script("return document.body.innerText").await.as_str().is_some_and(|t| t.contains("is now due"))
    })
    .await;
    browser.goto(&format!("{}/admin", app.base)).await;
    let bar = browser
        .script("const b = document.querySelector('rect[data-series=\"extended\"][data-group=\"erasure\"]'); return b && b.getAttribute('data-value')")
        .await;
    assert_eq!(bar, json!("1"), "the chart shows the extended request");
    assert_eq!(browser.script("return document.getElementById('extended-count').textContent").await, json!("1"));
    browser.assert_page_fine("the dashboard after the extension").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_page_and_privacy_center_page_loads_clean_and_accessible() {
    if !browser_available() {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let (status, body) = app.post("/v1/rights-requests", &json!({"kind": "access", "email": "bob@example.org"})).await;
    assert_eq!(status, 202, "{body}");
    let request = body["id"].as_str().expect("id").to_owned();
    let staff = &app.state.staff;
    let token = staff.setup_token().await.expect("setup").expect("a first-admin link");
    let admin_session = staff.complete_setup(&token, "root", "a passphrase long enough").await.expect("setup");
    let admin = staff.session(&admin_session).await.expect("session");
    staff
        .add(&admin, "dpo.anna", custos_engine::gate::StaffRole::Dpo, "another long passphrase")
        .await
        .expect("add the dpo");
    let (_, dpo_session) = staff.login("dpo.anna", "another long passphrase", None).await.expect("dpo login");
    let actor = custos_engine::gate::Actor::System;
    let partner = app
        .state
        .partners
        .register(
            &actor,
            &custos_engine::partners::NewPartner {
                name: "Page Partner".into(),
                country: "FR".into(),
                role: "publisher".into(),
                contact_email: "ops@page.example".into(),
                contact_name: None,
            },
        )
        .await
        .expect("partner");
    let now = jiff::Timestamp::now();
    let breach = app
        .state
        .governance
        .breaches
        .open(
            &actor,
            &custos_engine::governance::breach::NewBreach {
                detected_at: None,
                nature: "Backup copied to a public bucket".into(),
                categories: vec!["user.contact.email".into()],
                systems: vec!["backups".into()],
                measures: "bucket closed".into(),
                consequences: "spam".into(),
                keys_exposed: false,
                window_start: now.checked_sub(jiff::SignedDuration::from_hours(2)).expect("t"),
                window_end: now,
                opened_by: "pages".into(),
            },
        )
        .await
        .expect("breach");

    let mail =
        b"From: ada@example.org\r\nSubject: Auskunft\r\nMessage-ID: <page@example.org>\r\n\r\nBitte um Auskunft.\r\n";
    let thread = match app.state.inbox.receive(mail, "smtp", now).await.expect("a mail") {
        custos_engine::inbox::Received::Thread { thread, .. } => thread,
        other => panic!("{other:?}"),
    };

    let browser = Browser::start(false).await;
    let axe = Browser::axe_source();
    let mut inaccessible = Vec::new();
    // Every public page of the privacy center, in English and in German.
    for path in ["/privacy", "/privacy/cookies", "/rights", &format!("/rights/{request}"), "/account", "/demo"] {
        for lang in ["en", "de"] {
            browser.goto(&format!("{}{path}?lang={lang}", app.base)).await;
            if let Some(axe) = &axe {
                inaccessible
                    .extend(browser.accessibility_violations(axe).await.into_iter().map(|v| format!("{path}: {v}")));
            }
            browser.assert_page_fine(path).await;
        }
    }
    // Every page of the console, as the role that may see it.
    browser.goto(&format!("{}/admin/login", app.base)).await;
    let mut seen = Vec::new();
    for (role, session) in
        [(custos_engine::gate::StaffRole::Admin, &admin_session), (custos_engine::gate::StaffRole::Dpo, &dpo_session)]
    {
        browser
            .command("cookie", json!({"cookie": {"name": "custos_admin", "value": session, "path": "/admin"}}))
            .await;
        for route in custos_server::admin::ROUTES.iter().filter(|r| r.method == "GET" && r.roles.contains(&role)) {
            if seen.contains(&route.path) {
                continue;
            }
            let path = route
                .path
                .replace("/partners/{id}", &format!("/partners/{}", partner.id))
                .replace("/breaches/{id}", &format!("/breaches/{}", breach.id))
                .replace("/inbox/{id}", &format!("/inbox/{thread}"));
            assert!(!path.contains('{'), "a console page with an id this test does not fill: {path}");
            browser.goto(&format!("{}{path}", app.base)).await;
            let landed = browser.script("return location.pathname").await;
            assert_eq!(landed, json!(path), "{path} as {role:?} stays on the page (no sign-in redirect)");
            if let Some(axe) = &axe {
                inaccessible
                    .extend(browser.accessibility_violations(axe).await.into_iter().map(|v| format!("{path}: {v}")));
            }
            browser.assert_page_fine(&path).await;
            seen.push(route.path);
        }
    }
    let every: Vec<&str> = custos_server::admin::ROUTES.iter().filter(|r| r.method == "GET").map(|r| r.path).collect();
    let missed: Vec<&&str> = every.iter().filter(|p| !seen.contains(p)).collect();
    assert!(missed.is_empty(), "console pages no role here could open: {missed:?}");
    assert!(inaccessible.is_empty(), "WCAG 2.1 A/AA violations (axe-core):\n{}", inaccessible.join("\n"));
}
