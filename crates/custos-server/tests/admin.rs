//! The admin console over real HTTP: the first admin from the one-time link, staff of each
//! role, and a walk over every console route for anonymous callers and every role; a DPO
//! extends a deadline and sees it on the dashboard.

mod common;

use common::TestApp;
use custos_engine::gate::StaffRole;
use custos_server::admin::ROUTES;
use custos_testkit::TestDb;
use serde_json::json;

/// A browser-like client for the console: no redirects followed, cookies by hand.
struct Console {
    client: reqwest::Client,
    base: String,
}

/// A signed-in member of staff: their cookie and the CSRF token of their forms.
#[derive(Clone)]
struct Signed {
    cookie: String,
    csrf: String,
}

impl Console {
    fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { client, base: app.base.clone() }
    }

    async fn get(&self, path: &str, who: Option<&Signed>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(who) = who {
            request = request.header("cookie", &who.cookie);
        }
        request.send().await.expect("get")
    }

    async fn post(&self, path: &str, who: Option<&Signed>, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self.client.post(format!("{}{path}", self.base)).form(form);
        if let Some(who) = who {
            request = request.header("cookie", &who.cookie);
        }
        request.send().await.expect("post")
    }

    /// The session cookie a response sets.
    fn cookie_of(response: &reqwest::Response) -> Option<String> {
        let set = response.headers().get("set-cookie")?.to_str().ok()?;
        let pair = set.split(';').next()?.trim().to_owned();
        (pair != "custos_admin=").then_some(pair)
    }

    /// Signs in and reads the CSRF token from the dashboard.
    async fn sign_in(&self, username: &str, password: &str) -> Signed {
        let r = self.post("/admin/login", None, &[("username", username), ("password", password)]).await;
        assert_eq!(r.status(), 303, "{username} signs in");
        let cookie = Self::cookie_of(&r).expect("a session cookie");
        self.signed(cookie).await
    }

    async fn signed(&self, cookie: String) -> Signed {
        let page = self.get("/admin", Some(&Signed { cookie: cookie.clone(), csrf: String::new() })).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a csrf field")
            .to_owned();
        Signed { cookie, csrf }
    }
}

fn role_name(role: StaffRole) -> &'static str {
    role.as_str()
}

/// A fresh app with an admin made from the setup link, one member of staff per role, and
/// one open rights request; returns the console, the signed-in staff and the request id.
async fn staffed(db: &TestDb) -> (TestApp, Console, Vec<(StaffRole, Signed)>, String) {
    let app = TestApp::spawn(db, &["marketing"]).await;
    let console = Console::new(&app);
    let token = app.state.staff.setup_token().await.expect("setup").expect("a link on a fresh installation");
    assert_eq!(console.get(&format!("/admin/setup/{token}"), None).await.status(), 200);
    let r = console
        .post(&format!("/admin/setup/{token}"), None, &[("username", "root"), ("password", "correct horse battery")])
        .await;
    assert_eq!(r.status(), 303);
    let root = console.signed(Console::cookie_of(&r).expect("cookie")).await;
    let again = console
        .post(&format!("/admin/setup/{token}"), None, &[("username", "eve"), ("password", "correct horse battery")])
        .await;
    assert_eq!(again.status(), 401, "the link works once");
    assert!(app.state.staff.setup_token().await.expect("setup").is_none(), "no new link once staff exist");

    let mut staff = vec![(StaffRole::Admin, root.clone())];
    for role in [StaffRole::Dpo, StaffRole::Support, StaffRole::Auditor] {
        let name = role_name(role);
        let r = console
            .post(
                "/admin/staff",
                Some(&root),
                &[("csrf", &root.csrf), ("username", name), ("role", name), ("password", "a long enough password")],
            )
            .await;
        assert_eq!(r.status(), 200, "{name} added");
        staff.push((role, console.sign_in(name, "a long enough password").await));
    }
    let (status, body) = app.post("/v1/rights-requests", &json!({"kind": "access", "email": "ada@example.org"})).await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    (app, console, staff, id)
}

fn form_for(path: &str) -> Vec<(&'static str, &'static str)> {
    match path {
        "/admin/partners" => {
            vec![("name", "Acme Ads"), ("country", "DE"), ("role", "advertiser"), ("contact_email", "ops@acme.example")]
        }
        "/admin/partners/{id}/keys" => vec![("scope", "records:read")],
        "/admin/breaches" => vec![
            ("nature", "A laptop was stolen"),
            ("categories", "user.contact.email"),
            ("systems", "crm"),
            ("measures", "keys rotated"),
            ("consequences", "phishing"),
            ("window_start", "2026-11-01T00:00"),
            ("window_end", "2026-11-02T00:00"),
        ],
        "/admin/holds" => vec![("scope", "all"), ("reason", "Tax audit: records kept for the authority")],
        "/admin/holds/{id}/release" => vec![("reason", "the audit is over")],
        "/admin/legal" => vec![("authority", "Police"), ("legal_basis", "StPO 95"), ("scope", "subject 0191")],
        "/admin/legal/{id}/decide" => vec![("decision", "refused"), ("reason", "no court order")],
        "/admin/account/password" => vec![("current", "not my password"), ("new", "whatever whatever")],
        "/admin/staff/{username}/purposes" => vec![("purpose", "support")],
        "/admin/partners/{id}/terminate" => vec![("confirm", "Walk Partner")],
        "/admin/rights/{id}/extend" => vec![("months", "1"), ("reason", "We need to collect records from a supplier.")],
        "/admin/rights/{id}/deny" => vec![("reason", "")],
        "/admin/rights/{id}/lift" => vec![("reason", "The accuracy check is done."), ("days", "0")],
        "/admin/inbox/{id}/triage" => vec![("intent", "deletion")],
        "/admin/inbox/{id}/answer" => vec![("text", "Which order do you mean?")],
        "/admin/staff" => vec![("username", "new.member"), ("role", "auditor"), ("password", "x")],
        _ => vec![],
    }
}

#[tokio::test]
async fn every_console_route_refuses_anonymous_and_underprivileged_staff() {
    let db = TestDb::from_env().await;
    let (app, console, staff, id) = staffed(&db).await;
    let actor = custos_engine::gate::Actor::System;
    let partner = app
        .state
        .partners
        .register(
            &actor,
            &custos_engine::partners::NewPartner {
                name: "Walk Partner".into(),
                country: "FR".into(),
                role: "publisher".into(),
                contact_email: "ops@walk.example".into(),
                contact_name: None,
            },
        )
        .await
        .expect("partner");
    let (key, _) = app.state.partners.create_key(&actor, partner.id, &[]).await.expect("key");
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
                opened_by: "walk".into(),
            },
        )
        .await
        .expect("breach");
    let hold = app
        .state
        .governance
        .holds
        .place(
            &actor,
            &custos_engine::governance::holds::NewHold {
                scope: "purpose".into(),
                target: Some("marketing".into()),
                reason: "A claim is pending".into(),
                placed_by: "walk".into(),
                until: None,
            },
        )
        .await
        .expect("hold");
    let legal = app
        .state
        .governance
        .legal
        .register(
            &actor,
            &custos_engine::governance::legal::NewLegalRequest {
                authority: "Court".into(),
                legal_basis: "ZPO 142".into(),
                scope: "records of one subject".into(),
                received_at: None,
                recorded_by: "walk".into(),
            },
        )
        .await
        .expect("legal request");
    let mail = b"From: ada@example.org\r\nSubject: hello\r\nMessage-ID: <walk@example.org>\r\n\r\nA question.\r\n";
    let thread = match app.state.inbox.receive(mail, "smtp", jiff::Timestamp::now()).await.expect("mail") {
        custos_engine::inbox::Received::Thread { thread, .. } => thread,
        other => panic!("{other:?}"),
    };
    // What ends something goes last: a terminated contract takes no new keys, and a
    // log-out ends the session it is sent with.
    let mut routes: Vec<_> = ROUTES.iter().collect();
    routes.sort_by_key(|r| (r.path == "/admin/logout", r.path.ends_with("/terminate") || r.path.ends_with("/disable")));
    let root_session = staff[0].1.clone();
    let r = console
        .post(
            "/admin/staff",
            Some(&root_session),
            &[
                ("csrf", &root_session.csrf),
                ("username", "walk.target"),
                ("role", "support"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    for route in routes {
        let concrete = match route.path {
            p if p.starts_with("/admin/partners/") => p.replace("{id}", &partner.id.to_string()),
            p if p.starts_with("/admin/jobs/") => p.replace("{id}", "1"),
            p if p.starts_with("/admin/breaches/") => p.replace("{id}", &breach.id.to_string()),
            p if p.starts_with("/admin/holds/") => p.replace("{id}", &hold.id.to_string()),
            p if p.starts_with("/admin/legal/") => p.replace("{id}", &legal.id.to_string()),
            p if p.starts_with("/admin/inbox/") => p.replace("{id}", &thread.to_string()),
            p => p.replace("{id}", &id),
        };
        let path = concrete.replace("{key}", &key.id).replace("{username}", "walk.target");
        let fields = form_for(route.path);
        let anonymous = match route.method {
            "GET" => console.get(&path, None).await,
            _ => console.post(&path, None, &fields).await,
        };
        let expected = if route.method == "GET" { 303 } else { 401 };
        assert_eq!(anonymous.status(), expected, "anonymous {} {path}", route.method);
        assert!(anonymous.headers().contains_key("content-security-policy"), "{path}");
        for (role, who) in &staff {
            let allowed = route.roles.contains(role);
            let response = match route.method {
                "GET" => console.get(&path, Some(who)).await,
                _ => {
                    // Without the session's CSRF token a form is refused, whoever sends it.
                    let forged = console.post(&path, Some(who), &fields).await;
                    assert_eq!(forged.status(), 403, "{} {path} as {} without csrf", route.method, role_name(*role));
                    let mut with = vec![("csrf", who.csrf.as_str())];
                    with.extend(fields.iter().copied());
                    console.post(&path, Some(who), &with).await
                }
            };
            let status = response.status().as_u16();
            let csp =
                response.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).map(str::to_owned);
            assert!(csp.is_some_and(|c| c.contains("default-src 'none'") && c.contains("frame-ancestors 'none'")));
            if allowed {
                assert!(
                    ![401, 403, 404].contains(&status),
                    "{} {path} as {}: {status}",
                    route.method,
                    role_name(*role)
                );
            } else {
                assert_eq!(status, 403, "{} {path} as {}", route.method, role_name(*role));
            }
        }
    }
    // Paths the table does not name are unknown to staff, and invisible to anyone else.
    assert_eq!(console.get("/admin/secret-page", None).await.status(), 303);
    let root = console.sign_in("root", "correct horse battery").await;
    assert_eq!(console.get("/admin/secret-page", Some(&root)).await.status(), 404);
    assert_eq!(console.get("/admin/rights", Some(&staff[1].1)).await.status(), 303, "signed out by the walk");
}

#[tokio::test]
async fn a_dpo_signs_in_extends_a_deadline_and_sees_it_on_the_dashboard() {
    let db = TestDb::from_env().await;
    let (app, console, staff, id) = staffed(&db).await;
    let wrong = console.post("/admin/login", None, &[("username", "dpo"), ("password", "not the password")]).await;
    assert_eq!(wrong.status(), 401);
    assert!(Console::cookie_of(&wrong).is_none(), "no session for a wrong password");
    let nobody = console.post("/admin/login", None, &[("username", "nobody"), ("password", "not the password")]).await;
    assert_eq!(nobody.status(), 401, "an unknown name is answered like a wrong password");

    let dpo = &staff.iter().find(|(r, _)| *r == StaffRole::Dpo).expect("dpo").1;
    let queue = console.get("/admin/rights", Some(dpo)).await.text().await.expect("html");
    assert!(queue.contains(&id) && !queue.contains("ada@example.org"), "the queue names the request, not the person");
    let extend = format!("/admin/rights/{id}/extend");
    let r = console
        .post(&extend, Some(dpo), &[("csrf", &dpo.csrf), ("months", "2"), ("reason", "Records are with a supplier.")])
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("html").contains("is now due"));
    let request = app.state.rights.get(id.parse().expect("uuid")).await.expect("request");
    assert_eq!(request.extension_reason.as_deref(), Some("Records are with a supplier."));
    let twice = console.post(&extend, Some(dpo), &[("csrf", &dpo.csrf), ("months", "1"), ("reason", "again")]).await;
    assert_eq!(twice.status(), 409, "a deadline is extended once");

    let dashboard = console.get("/admin", Some(dpo)).await.text().await.expect("html");
    assert!(dashboard.contains(r#"data-series="extended" data-group="access" data-value="1""#), "{dashboard}");
    assert!(dashboard.contains(r#"<dd id="extended-count">1</dd>"#), "{dashboard}");
    assert!(dashboard.contains(r#"<span id="events-total">0</span>"#), "{dashboard}");
    assert!(dashboard.contains(r#"id="rate-marketing">no decisions"#), "{dashboard}");
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    let dashboard = console.get("/admin", Some(dpo)).await.text().await.expect("html");
    assert!(dashboard.contains(r#"id="rate-marketing">100% of 1 decisions granted"#), "{dashboard}");
    assert!(
        dashboard.contains(r#"data-series="marketing""#) && dashboard.contains(r#"data-value="100""#),
        "{dashboard}"
    );

    // Signing out ends the session on the server, not only in the browser.
    let out = console.post("/admin/logout", Some(dpo), &[("csrf", &dpo.csrf)]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(console.get("/admin", Some(dpo)).await.status(), 303, "the old cookie no longer works");
}

#[tokio::test]
async fn a_person_is_shown_only_for_a_stated_purpose_and_the_look_is_audited() {
    let db = TestDb::from_env().await;
    let (app, console, staff, _) = staffed(&db).await;
    app.sign_up_confirmed("Ada Lovelace", "ada@example.org").await;
    let who = |role: StaffRole| &staff.iter().find(|(r, _)| *r == role).expect("role").1;

    let page = console.get("/admin/subjects?who=ada%40example.org", Some(who(StaffRole::Dpo))).await;
    assert_eq!(page.status(), 422, "no purpose, nothing shown");
    assert!(!page.text().await.expect("html").contains("Ada Lovelace"));
    let page = console.get("/admin/subjects?who=ada%40example.org&purpose=marketing", Some(who(StaffRole::Dpo))).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("Ada Lovelace"), "the DPO sees the data marketing holds");
    let refused =
        console.get("/admin/subjects?who=ada%40example.org&purpose=marketing", Some(who(StaffRole::Support))).await;
    assert_eq!(refused.status(), 403, "support reads only for purposes assigned to them");
    assert!(!refused.text().await.expect("html").contains("Ada Lovelace"));
    // Once an admin assigns support the marketing purpose, the gate lets them look for it.
    let root = who(StaffRole::Admin);
    let bad = console
        .post("/admin/staff/support/purposes", Some(root), &[("csrf", &root.csrf), ("purpose", "astrology")])
        .await;
    assert_eq!(bad.status(), 422, "only the policy's purposes");
    let assigned = console
        .post("/admin/staff/support/purposes", Some(root), &[("csrf", &root.csrf), ("purpose", "marketing")])
        .await;
    assert_eq!(assigned.status(), 200);
    let allowed =
        console.get("/admin/subjects?who=ada%40example.org&purpose=marketing", Some(who(StaffRole::Support))).await;
    assert_eq!(allowed.status(), 200);
    assert!(allowed.text().await.expect("html").contains("Ada Lovelace"));
    let other =
        console.get("/admin/subjects?who=ada%40example.org&purpose=account", Some(who(StaffRole::Support))).await;
    assert_eq!(other.status(), 403, "but for no other purpose");
    let unknown =
        console.get("/admin/subjects?who=zed%40example.org&purpose=marketing", Some(who(StaffRole::Dpo))).await;
    assert_eq!(unknown.status(), 404);

    let entries = custos_engine::audit::export(&app.store, 0, 10_000).await.expect("audit");
    let reads: Vec<_> = entries.iter().filter(|e| e.entry.action == "record.read").collect();
    assert!(reads.iter().any(|e| e.entry.actor == "staff:dpo:dpo" && e.entry.purpose.as_deref() == Some("marketing")));
    assert!(
        entries.iter().any(|e| e.entry.actor == "staff:support:support" && e.entry.detail["outcome"] == "denied"),
        "the refused look is audited too"
    );

    // The audit log shows it, and verifies.
    let auditor = who(StaffRole::Auditor);
    let log = console.get("/admin/audit", Some(auditor)).await.text().await.expect("html");
    assert!(log.contains("record.read") && !log.contains("ada@example.org"), "the log holds no personal data");
    let verified = console.post("/admin/audit/verify", Some(auditor), &[("csrf", &auditor.csrf)]).await;
    assert_eq!(verified.status(), 200);
    assert!(verified.text().await.expect("html").contains("The chain is intact"));
}

#[tokio::test]
async fn an_admin_retries_a_dead_job() {
    let db = TestDb::from_env().await;
    let (app, console, staff, _) = staffed(&db).await;
    let now = jiff::Timestamp::now();
    let id = app
        .store
        .enqueue_job(&custos_store::NewJob {
            kind: "mail.send".into(),
            payload: json!({}),
            idempotency_key: None,
            // Ahead of the rights request's mail, so that the claim below takes this job.
            priority: 100,
            run_at: now,
            max_attempts: 1,
        })
        .await
        .expect("enqueue")
        .id();
    app.store
        .claim_job("w", &["mail.send"], now, now.checked_add(jiff::SignedDuration::from_mins(1)).expect("t"))
        .await
        .expect("claim");
    assert!(
        app.store
            .fail_job(id, "w", "the mail server refused", &custos_store::JobFailure::Dead, now)
            .await
            .expect("dead")
    );
    let admin = &staff[0].1;
    let page = console.get("/admin/jobs", Some(admin)).await.text().await.expect("html");
    assert!(page.contains(&format!("job-{id}")) && page.contains("the mail server refused"), "{page}");
    let retried = console.post(&format!("/admin/jobs/{id}/retry"), Some(admin), &[("csrf", &admin.csrf)]).await;
    assert_eq!(retried.status(), 200);
    assert_eq!(app.store.job(id).await.expect("job").expect("exists").state, custos_store::JobState::Pending);
    let again = console.post(&format!("/admin/jobs/{id}/retry"), Some(admin), &[("csrf", &admin.csrf)]).await;
    assert_eq!(again.status(), 409, "only a dead job is retried");
}

#[tokio::test]
async fn staff_register_a_partner_give_it_a_key_once_and_end_its_contract() {
    let db = TestDb::from_env().await;
    let (app, console, staff, _) = staffed(&db).await;
    let (root, dpo) = (&staff[0].1, &staff[1].1);
    let refused = console
        .post(
            "/admin/partners",
            Some(root),
            &[
                ("csrf", &root.csrf),
                ("name", "Acme Ads"),
                ("country", "de"),
                ("role", "advertiser"),
                ("contact_email", "ops@acme.example"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 403, "an admin never writes personal data, a contact's address included");
    let admin = dpo;
    let r = console
        .post(
            "/admin/partners",
            Some(admin),
            &[
                ("csrf", &admin.csrf),
                ("name", "Acme Ads"),
                ("country", "de"),
                ("role", "advertiser"),
                ("contact_email", "ops@acme.example"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("html");
    assert!(page.contains("Acme Ads is registered."), "{page}");
    let partner = app.state.partners.list(&custos_engine::gate::Actor::System).await.expect("list")[0].clone();
    let base = format!("/admin/partners/{}", partner.id);
    let made = console
        .post(
            &format!("{base}/keys"),
            Some(admin),
            &[("csrf", &admin.csrf), ("scope", "records:write"), ("scope", "records:read")],
        )
        .await
        .text()
        .await
        .expect("html");
    let key =
        made.split("<code id=\"new-key\">").nth(1).and_then(|r| r.split('<').next()).expect("the key, once").to_owned();
    assert!(key.starts_with("cpk_"), "{key}");
    let again = console.get(&base, Some(admin)).await.text().await.expect("html");
    assert!(!again.contains(&key), "the key is shown once");
    let secret = key.strip_prefix("cpk_").and_then(|r| r.split_once('_')).map(|(_, secret)| secret).expect("secret");
    assert!(!again.contains(secret), "not even its secret part");

    let upload = |key: String| {
        let client = app.client.clone();
        let url = format!("{}/v1/partner/records", app.base);
        async move {
            client
                .post(url)
                .bearer_auth(key)
                .header("content-type", "application/x-ndjson")
                .body("{\"pseudonym\":\"5f0c6a1e9b7d4c2a\",\"country\":\"DE\",\"amount\":12.5}\n")
                .send()
                .await
                .expect("upload")
                .status()
                .as_u16()
        }
    };
    assert!((200..300).contains(&upload(key.clone()).await), "the key works");
    let key_id = key.strip_prefix("cpk_").and_then(|rest| rest.split('_').next()).expect("id").to_owned();
    let revoked = console.post(&format!("{base}/keys/{key_id}/revoke"), Some(admin), &[("csrf", &admin.csrf)]).await;
    assert_eq!(revoked.status(), 200, "revoked");
    assert_eq!(upload(key).await, 401, "a revoked key no longer works");
    let twice = console.post(&format!("{base}/keys/{key_id}/revoke"), Some(admin), &[("csrf", &admin.csrf)]).await;
    assert_eq!(twice.status(), 409, "revoked already");

    let wrong =
        console.post(&format!("{base}/terminate"), Some(admin), &[("csrf", &admin.csrf), ("confirm", "Acme")]).await;
    assert_eq!(wrong.status(), 422, "the name must be typed to confirm");
    let ended = console
        .post(&format!("{base}/terminate"), Some(admin), &[("csrf", &admin.csrf), ("confirm", "Acme Ads")])
        .await;
    assert_eq!(ended.status(), 200);
    let status =
        app.state.partners.list(&custos_engine::gate::Actor::System).await.expect("list")[0].contract_status.clone();
    assert!(status == "terminating" || status == "terminated", "{status}");
    let no_key =
        console.post(&format!("{base}/keys"), Some(admin), &[("csrf", &admin.csrf), ("scope", "records:read")]).await;
    assert_eq!(no_key.status(), 409, "a terminated contract gets no keys");
}

#[tokio::test]
async fn a_one_time_code_becomes_the_second_factor_and_works_once() {
    let db = TestDb::from_env().await;
    let (_app, console, staff, _) = staffed(&db).await;
    let auditor = &staff[3].1;
    let started = console.post("/admin/account/totp", Some(auditor), &[("csrf", &auditor.csrf)]).await;
    assert_eq!(started.status(), 200);
    let page = started.text().await.expect("html");
    let secret =
        page.split("<code id=\"totp-secret\">").nth(1).and_then(|r| r.split('<').next()).expect("secret").to_owned();
    assert!(page.contains("otpauth://totp/"), "an address for the app");
    let now = jiff::Timestamp::now().as_second() as u64;
    let code_at = |secs: u64| custos_engine::staff::totp_code(&secret, secs).expect("code");
    let wrong = if code_at(now) == "000000" { "111111" } else { "000000" };
    let refused =
        console.post("/admin/account/totp/confirm", Some(auditor), &[("csrf", &auditor.csrf), ("code", wrong)]).await;
    assert_eq!(refused.status(), 422, "a wrong code does not turn it on");
    let confirmed = console
        .post("/admin/account/totp/confirm", Some(auditor), &[("csrf", &auditor.csrf), ("code", &code_at(now))])
        .await;
    assert_eq!(confirmed.status(), 200);
    assert!(
        console.get("/admin/account", Some(auditor)).await.text().await.expect("html").contains("and a one-time code")
    );

    let sign_in = |code: Option<String>| {
        let console = &console;
        async move {
            let mut form = vec![("username", "auditor".to_owned()), ("password", "a long enough password".to_owned())];
            if let Some(code) = code {
                form.push(("code", code));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            console.post("/admin/login", None, &form).await.status().as_u16()
        }
    };
    assert_eq!(sign_in(None).await, 401, "the password alone no longer signs in");
    assert_eq!(sign_in(Some(code_at(now))).await, 401, "the code used to confirm does not work again");
    let next = code_at(now + 30);
    assert_eq!(sign_in(Some(next.clone())).await, 303, "the next code signs in");
    assert_eq!(sign_in(Some(next)).await, 401, "and only once");
}

#[tokio::test]
async fn a_disabled_member_is_signed_out_and_a_new_password_ends_old_sessions() {
    let db = TestDb::from_env().await;
    let (_app, console, staff, _) = staffed(&db).await;
    let (root, support) = (&staff[0].1, &staff[2].1);
    let yourself = console.post("/admin/staff/root/disable", Some(root), &[("csrf", &root.csrf)]).await;
    assert_eq!(yourself.status(), 422, "nobody disables themselves");
    let disabled = console.post("/admin/staff/support/disable", Some(root), &[("csrf", &root.csrf)]).await;
    assert_eq!(disabled.status(), 200);
    assert!(disabled.text().await.expect("html").contains("support can no longer sign in"));
    assert_eq!(console.get("/admin", Some(support)).await.status(), 303, "their session ended");
    let again =
        console.post("/admin/login", None, &[("username", "support"), ("password", "a long enough password")]).await;
    assert_eq!(again.status(), 401, "and they cannot sign in");

    let dpo = &staff[1].1;
    let wrong = console
        .post(
            "/admin/account/password",
            Some(dpo),
            &[("csrf", &dpo.csrf), ("current", "nope"), ("new", "another long passphrase")],
        )
        .await;
    assert_eq!(wrong.status(), 422, "the current password is checked");
    let changed = console
        .post(
            "/admin/account/password",
            Some(dpo),
            &[("csrf", &dpo.csrf), ("current", "a long enough password"), ("new", "another long passphrase")],
        )
        .await;
    assert_eq!(changed.status(), 303);
    assert_eq!(console.get("/admin", Some(dpo)).await.status(), 303, "the old session ended");
    let old = console.post("/admin/login", None, &[("username", "dpo"), ("password", "a long enough password")]).await;
    assert_eq!(old.status(), 401);
    console.sign_in("dpo", "another long passphrase").await;
}

#[tokio::test]
async fn a_breach_is_registered_its_clock_shown_and_the_authority_notification_recorded() {
    let db = TestDb::from_env().await;
    let (_app, console, staff, _) = staffed(&db).await;
    let (dpo, auditor) = (&staff[1].1, &staff[3].1);
    let bad = console
        .post(
            "/admin/breaches",
            Some(dpo),
            &[
                ("csrf", &dpo.csrf),
                ("nature", "x"),
                ("categories", "user.contact.email"),
                ("systems", "crm"),
                ("measures", "m"),
                ("consequences", "c"),
                ("window_start", "yesterday"),
                ("window_end", "2026-11-02T00:00"),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422, "a window that is not a time is named");
    assert!(bad.text().await.expect("html").contains("window_start"));
    let opened = console
        .post(
            "/admin/breaches",
            Some(dpo),
            &[
                ("csrf", &dpo.csrf),
                ("nature", "A laptop with an export was stolen"),
                ("categories", "user.contact.email"),
                ("systems", "crm"),
                ("measures", "remote wipe, keys rotated"),
                ("consequences", "phishing mails"),
                ("window_start", "2026-11-01T00:00"),
                ("window_end", "2026-11-02T00:00"),
            ],
        )
        .await;
    assert_eq!(opened.status(), 200);
    let page = opened.text().await.expect("html");
    assert!(page.contains("h left: tell the authority by"), "the 72-hour clock runs: {page}");
    let id = page.split("/admin/breaches/").nth(1).and_then(|r| r.split('/').next()).expect("id").to_owned();
    let register = console.get("/admin/breaches", Some(auditor)).await.text().await.expect("html");
    assert!(register.contains("A laptop with an export was stolen"), "the auditor sees the register");
    let detail = console.get(&format!("/admin/breaches/{id}"), Some(auditor)).await.text().await.expect("html");
    assert!(detail.contains("class=\"draft\""), "with the Art. 33(3) draft");
    assert!(!detail.contains("action=\"/admin/breaches/"), "but no actions for an auditor");
    let notified =
        console.post(&format!("/admin/breaches/{id}/notify-authority"), Some(dpo), &[("csrf", &dpo.csrf)]).await;
    assert_eq!(notified.status(), 200);
    assert!(notified.text().await.expect("html").contains("within 72 hours"));
    let again =
        console.post(&format!("/admin/breaches/{id}/notify-authority"), Some(dpo), &[("csrf", &dpo.csrf)]).await;
    assert_eq!(again.status(), 409, "notified once");
}

#[tokio::test]
async fn holds_and_legal_requests_are_kept_from_the_console() {
    let db = TestDb::from_env().await;
    let (app, console, staff, _) = staffed(&db).await;
    let dpo = &staff[1].1;
    let placed = console
        .post(
            "/admin/holds",
            Some(dpo),
            &[
                ("csrf", &dpo.csrf),
                ("scope", "purpose"),
                ("target", "marketing"),
                ("reason", "A claim by a customer is pending"),
            ],
        )
        .await;
    assert_eq!(placed.status(), 200);
    assert!(placed.text().await.expect("html").contains("in force"));
    let holds = app.state.governance.holds.list(false).await.expect("holds");
    assert_eq!(holds.len(), 1);
    let unknown_scope =
        console.post("/admin/holds", Some(dpo), &[("csrf", &dpo.csrf), ("scope", "galaxy"), ("reason", "r")]).await;
    assert_eq!(unknown_scope.status(), 422);
    let released = console
        .post(
            &format!("/admin/holds/{}/release", holds[0].id),
            Some(dpo),
            &[("csrf", &dpo.csrf), ("reason", "The claim was settled")],
        )
        .await;
    assert_eq!(released.status(), 200);
    assert!(released.text().await.expect("html").contains("The claim was settled"));

    let registered = console
        .post(
            "/admin/legal",
            Some(dpo),
            &[
                ("csrf", &dpo.csrf),
                ("authority", "Public prosecutor"),
                ("legal_basis", "StPO 95"),
                ("scope", "orders of one subject"),
            ],
        )
        .await;
    assert_eq!(registered.status(), 200);
    let request = app.state.governance.legal.list(10).await.expect("list")[0].clone();
    let decided = console
        .post(
            &format!("/admin/legal/{}/decide", request.id),
            Some(dpo),
            &[("csrf", &dpo.csrf), ("decision", "refused"), ("reason", "No court order was shown")],
        )
        .await;
    assert_eq!(decided.status(), 200);
    assert!(decided.text().await.expect("html").contains("refused by dpo: No court order was shown"));
    let entries = custos_engine::audit::export(&app.store, 0, 10_000).await.expect("audit");
    assert!(entries.iter().any(|e| e.entry.actor == "staff:dpo:dpo" && e.entry.action.contains("legal")), "audited");
    assert_eq!(console.get("/admin/disclosures", Some(&staff[3].1)).await.status(), 200);
}

#[tokio::test]
async fn a_dpo_lifts_a_restriction_and_the_person_is_told_first() {
    let db = TestDb::from_env().await;
    let (app, console, staff, _) = staffed(&db).await;
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    let (status, body) =
        app.post("/v1/rights-requests", &json!({"kind": "restriction", "email": "ada@example.org"})).await;
    assert_eq!(status, 202, "{body}");
    let id: uuid::Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    let dpo = &staff.iter().find(|(r, _)| *r == StaffRole::Dpo).expect("dpo").1;
    let actor = custos_engine::gate::Actor::Staff { id: "dpo".into(), role: StaffRole::Dpo, purposes: vec![] };
    app.state.rights.approve(&actor, id, "identity checked by phone").await.expect("approve");
    let done = app.state.rights.run_now(id).await.expect("run");
    assert_eq!(done.state, "fulfilled");
    let subject = done.subject_id.expect("held");
    assert!(app.store.restricted(subject).await.expect("state"));

    let page = console.get("/admin/rights", Some(dpo)).await.text().await.expect("html");
    assert!(page.contains(&format!(r#"id="restriction-{id}""#)), "{page}");
    assert!(page.contains(&format!(r#"action="/admin/rights/{id}/lift""#)), "a form to lift it: {page}");
    let lift = format!("/admin/rights/{id}/lift");
    let bad = console.post(&lift, Some(dpo), &[("csrf", &dpo.csrf), ("reason", "done"), ("days", "365")]).await;
    assert_eq!(bad.status(), 422, "days out of range");
    let r = console
        .post(
            &lift,
            Some(dpo),
            &[("csrf", &dpo.csrf), ("reason", "We checked your address: it is right."), ("days", "0")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("html").contains("is being told first"));
    assert!(app.store.restricted(subject).await.expect("state"), "not lifted before the person is told");
    let page = console.get("/admin/rights", Some(dpo)).await.text().await.expect("html");
    assert!(page.contains("the person is being told") && !page.contains(&format!(r#"action="{lift}""#)), "{page}");

    let smtp = custos_testkit::smtp::SmtpSink::start().await;
    let mailer = custos_engine::mail::Mailer::from_url(&format!("smtp://{}", smtp.addr), "privacy@shop.example")
        .expect("mailer");
    custos_engine::jobs::JobRunner::new(app.store.clone())
        .register(custos_engine::rights::LiftJob::new(app.state.rights.clone(), mailer, &app.base))
        .run_pending()
        .await
        .expect("run");
    let told = smtp.delivered().into_iter().find(|d| d.to == ["ada@example.org"]).expect("the person is told");
    assert!(told.text().contains("We checked your address: it is right."), "{}", told.text());
    assert!(!app.store.restricted(subject).await.expect("state"), "lifted once told");
    let page = console.get("/admin/rights", Some(dpo)).await.text().await.expect("html");
    assert!(page.contains("lifted on"), "{page}");
}

#[tokio::test]
async fn the_consents_page_counts_decisions_per_purpose_and_method_without_naming_anyone() {
    let db = TestDb::from_env().await;
    let (app, console, staff, _) = staffed(&db).await;
    app.sign_up_confirmed("Ada", "ada@example.org").await;
    for (visitor, granted, method) in
        [("visitor-0000000000000001", true, "banner"), ("visitor-0000000000000002", false, "gpc")]
    {
        let r = app
            .client
            .post(format!("{}/v1/banner/consent", app.base))
            .json(&json!({"visitor_id": visitor, "choices": {"analytics": granted}, "method": method}))
            .send()
            .await
            .expect("banner");
        assert_eq!(r.status(), 202);
    }
    let auditor = &staff.iter().find(|(r, _)| *r == StaffRole::Auditor).expect("auditor").1;
    let page = console.get("/admin/consents", Some(auditor)).await.text().await.expect("html");
    let row = |id: &str| {
        let start = page.find(&format!(r#"<tr id="purpose-{id}">"#)).unwrap_or_else(|| panic!("{id}: {page}"));
        page[start..].split("</tr>").next().expect("row").to_owned()
    };
    let marketing = row("marketing");
    assert!(marketing.contains(r#"<td class="live">1</td>"#) && marketing.contains(r#"<td class="granted">1</td>"#));
    let analytics = row("analytics");
    assert!(analytics.contains(r#"<td class="live">1</td>"#), "{analytics}");
    assert!(analytics.contains(r#"<td class="withdrawn">1</td>"#) && analytics.contains("50%"), "{analytics}");
    assert!(page.contains(r#"id="method-analytics-gpc""#) && page.contains(r#"id="method-marketing-email""#));
    assert!(page.contains(r#"data-series="granted" data-group="marketing" data-value="1""#), "{page}");
    assert!(!page.contains("ada@example.org") && !page.contains("visitor-0000"), "no one is named");
    let support = &staff.iter().find(|(r, _)| *r == StaffRole::Support).expect("support").1;
    assert_eq!(console.get("/admin/consents", Some(support)).await.status(), 403);
}
