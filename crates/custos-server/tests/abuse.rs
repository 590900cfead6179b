//! Abuse: security headers on every response, rate limits per network and per identifier
//! on the public endpoints, the same answers for known and unknown people, session ids
//! rotated at sign-in (accounts and the staff console), and no cross-site requests.

mod common;

use common::TestApp;
use custos_testkit::TestDb;
use serde_json::{Value, json};

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let client = plain_client();
    let id = "0190b3d2-1c2b-7c4e-9a1d-3f1e2d3c4b5a";
    let requests: Vec<(&str, String)> = vec![
        ("GET", "/healthz".into()),
        ("GET", "/openapi.json".into()),
        ("GET", "/privacy".into()),
        ("GET", "/privacy.md".into()),
        ("GET", "/privacy.json".into()),
        ("GET", "/custos.js".into()),
        ("GET", "/demo".into()),
        ("GET", "/rights".into()),
        ("GET", "/account".into()),
        ("GET", "/admin".into()),
        ("GET", "/admin/login".into()),
        ("GET", "/metrics".into()),
        ("GET", "/no/such/route".into()),
        ("GET", format!("/v1/rights-requests/{id}")),
        ("GET", "/v1/rights-requests/not-an-id".into()),
        ("DELETE", "/v1/events".into()),
        ("POST", "/v1/campaigns".into()),
    ];
    for (method, path) in &requests {
        let response =
            client.request(method.parse().expect("method"), format!("{}{path}", app.base)).send().await.expect("send");
        let headers = response.headers();
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(get("x-content-type-options"), "nosniff", "{method} {path}");
        assert!(!get("referrer-policy").is_empty(), "{method} {path}");
        let csp = get("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{method} {path}: {csp}");
        assert_eq!(get("x-frame-options"), "DENY", "{method} {path}");
        if get("content-type").starts_with("application/json") {
            assert!(csp.starts_with("default-src 'none'"), "JSON loads nothing: {method} {path}: {csp}");
        }
        if response.status().is_client_error() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(body["error"]["code"].is_string(), "{method} {path}: {body}");
        }
    }
}

#[tokio::test]
async fn public_endpoints_are_limited_per_network_and_per_identifier() {
    let db = TestDb::from_env().await;
    let limits = custos_server::RateLimits { rights_per_minute: 100, per_identifier_per_hour: 3, ..Default::default() };
    let app = TestApp::spawn_with_limits(&db, &["marketing"], limits).await;
    let mut statuses = Vec::new();
    for case in ["ada@example.org", " ADA@example.org", "Ada@Example.org", "ada@example.org"] {
        statuses.push(app.post("/v1/rights-requests", &json!({"kind": "access", "email": case})).await);
    }
    assert_eq!(statuses.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [202, 202, 202, 429], "{statuses:?}");
    let refused = &statuses[3].1["error"];
    assert_eq!((refused["code"].as_str(), refused["field"].as_str()), (Some("too_many_requests"), Some("email")));
    assert!(!refused.to_string().contains("ada@"), "the refusal does not repeat the address: {refused}");
    // Another address is not held back by the first one's count.
    let (status, _) = app.post("/v1/rights-requests", &json!({"kind": "access", "email": "bob@example.org"})).await;
    assert_eq!(status, 202);

    // Per network: every public endpoint that takes input has its limit.
    let limits = custos_server::RateLimits {
        forms_per_minute: 1,
        banner_per_minute: 1,
        accounts_per_minute: 1,
        events_per_minute: 1,
        rights_per_minute: 1,
        per_identifier_per_hour: 0,
    };
    let app = TestApp::spawn_with_limits(&TestDb::from_env().await, &["marketing"], limits).await;
    let visitor = "0123456789abcdef0123";
    let posts: Vec<(&str, Value)> = vec![
        ("/v1/forms/contact", json!({"name": "A", "email": "a@example.org", "message": "hi"})),
        ("/v1/forms/signup", json!({"name": "A", "email": "a@example.org"})),
        ("/v1/banner/consent", json!({"visitor_id": visitor, "choices": {}, "method": "banner"})),
        ("/v1/events", json!({"visitor_id": visitor, "events": []})),
        ("/v1/rights-requests", json!({"kind": "access", "email": "c@example.org"})),
        ("/v1/accounts", json!({"name": "A", "email": "d@example.org", "password": "short"})),
        ("/v1/accounts/login", json!({"email": "e@example.org", "password": "x"})),
        ("/v1/accounts/password-reset", json!({"email": "f@example.org"})),
        ("/v1/accounts/password-reset/confirm", json!({"token": "x", "password": "a long enough one"})),
    ];
    for (path, body) in posts {
        let mut last = 0;
        for _ in 0..3 {
            last = app.post(path, &body).await.0;
        }
        assert_eq!(last, 429, "{path} is limited per network");
    }
}

#[tokio::test]
async fn known_and_unknown_people_get_the_same_answers() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with_limits(&db, &["account"], custos_server::RateLimits::off()).await;
    // Ada has an account; nobody is known under the other address.
    let signup = json!({"name": "Ada", "email": "ada@example.org", "password": "correct horse battery"});
    assert_eq!(app.post("/v1/accounts", &signup).await.0, 202);

    let shape = |v: &Value| -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        keys.sort();
        keys
    };
    let (known_status, known) =
        app.post("/v1/rights-requests", &json!({"kind": "erasure", "email": "ada@example.org"})).await;
    let (unknown_status, unknown) =
        app.post("/v1/rights-requests", &json!({"kind": "erasure", "email": "nobody@example.org"})).await;
    assert_eq!((known_status, shape(&known), &known["state"]), (unknown_status, shape(&unknown), &unknown["state"]));

    let (a, body_a) = app.post("/v1/accounts", &signup).await;
    let (b, body_b) = app
        .post("/v1/accounts", &json!({"name": "Bob", "email": "bob@example.org", "password": "correct horse battery"}))
        .await;
    assert_eq!((a, &body_a), (b, &body_b), "a second sign-up for an address is answered like a first");
    assert_eq!(a, 202);

    let (a, body_a) = app.post("/v1/accounts/password-reset", &json!({"email": "ada@example.org"})).await;
    let (b, body_b) = app.post("/v1/accounts/password-reset", &json!({"email": "nobody@example.org"})).await;
    assert_eq!((a, &body_a), (b, &body_b));
    assert_eq!(a, 202);

    let (a, wrong_password) =
        app.post("/v1/accounts/login", &json!({"email": "ada@example.org", "password": "not the password"})).await;
    let (b, no_account) =
        app.post("/v1/accounts/login", &json!({"email": "nobody@example.org", "password": "not the password"})).await;
    assert_eq!((a, &wrong_password["error"]["code"]), (b, &no_account["error"]["code"]));
    assert_eq!(wrong_password["error"]["message"], no_account["error"]["message"]);
}

#[tokio::test]
async fn the_forms_answer_for_a_restricted_person_as_for_a_stranger_and_store_nothing() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with_limits(&db, &["contact"], custos_server::RateLimits::off()).await;
    // Ada wrote once, then had her processing restricted (Art. 18).
    let first = json!({"name": "Ada", "email": "ada@example.org", "message": "Where is my order?"});
    assert_eq!(app.post("/v1/forms/contact", &first).await.0, 201);
    let ada = app
        .state
        .records
        .find(custos_store::IdentifierKind::Email, "ada@example.org")
        .await
        .expect("find")
        .expect("stored");
    app.store
        .set_restriction(ada, Some("the person asked for restriction"), jiff::Timestamp::now())
        .await
        .expect("restrict");
    let records = app.store.records(ada).await.expect("records").len();
    let consents = app.store.consent_history(ada).await.expect("ledger").len();
    let audited = app.store.audit_entries(0, 100_000).await.expect("audit").len();

    let forms = [
        (
            "/v1/forms/contact",
            json!({"name": "A", "email": "ada@example.org", "message": "Hi", "consents": ["marketing"]}),
        ),
        ("/v1/forms/signup", json!({"name": "A", "email": "ada@example.org", "consents": ["marketing"]})),
    ];
    for (path, known) in &forms {
        let stranger = {
            let mut v = known.clone();
            v["email"] = json!(format!("stranger{}@example.org", path.len()));
            v
        };
        let (a, body_a) = app.post(path, known).await;
        let (b, body_b) = app.post(path, &stranger).await;
        assert_eq!((a, &body_a), (b, &body_b), "{path}: a restricted person's post is answered like a stranger's");
        assert_eq!(a, 201, "{body_a}");
        // A browser's classic post is redirected alike.
        let classic = |email: &'static str| {
            plain_client()
                .post(format!("{}{path}", app.base))
                .header("accept", "text/html")
                .header("referer", format!("{}/demo", app.base))
                .form(&[("name", "A"), ("email", email), ("message", "Hi"), ("consent", "marketing")])
                .send()
        };
        let (a, b) =
            (classic("ada@example.org").await.expect("post"), classic("other@example.org").await.expect("post"));
        assert_eq!((a.status(), a.headers().get("location")), (b.status(), b.headers().get("location")), "{path}");
    }
    // The sign-ups and the strangers' marketing boxes wait for confirmation by email; Ada's
    // two confirmations are answered like the others' and withheld too.
    assert_eq!(app.confirm_by_mail().await, 6);
    assert_eq!(app.store.records(ada).await.expect("records").len(), records, "nothing of the posts was stored");
    assert_eq!(app.store.consent_history(ada).await.expect("ledger").len(), consents, "no box ticked was recorded");
    let audit = app.store.audit_entries(0, 100_000).await.expect("audit");
    let refused = audit[audited..]
        .iter()
        .filter(|e| e.entry.subject_id == Some(ada) && e.entry.detail["rule"] == "processing_restricted")
        .count();
    assert_eq!(refused, 4, "each withheld post and confirmation is audited as the gate's refusal");
}

#[tokio::test]
async fn an_account_session_is_new_at_every_sign_in_and_a_planted_one_is_worthless() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with_limits(&db, &["account"], custos_server::RateLimits::off()).await;
    let signup = json!({"name": "Ada", "email": "ada@example.org", "password": "correct horse battery"});
    assert_eq!(app.post("/v1/accounts", &signup).await.0, 202);
    let client = plain_client();
    let login = |cookie: Option<String>| {
        let mut request = client
            .post(format!("{}/v1/accounts/login", app.base))
            .json(&json!({"email": "ada@example.org", "password": "correct horse battery"}));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let session_of = |response: &reqwest::Response| -> String {
        let set = response.headers()["set-cookie"].to_str().expect("ascii").to_owned();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        set.split(';').next().expect("pair").to_owned()
    };
    // An attacker plants a session id of their choosing before the person signs in.
    let planted = "custos_session=attacker-chosen-value".to_owned();
    let first = login(Some(planted.clone())).await.expect("login");
    assert_eq!(first.status(), 200);
    let first = session_of(&first);
    assert_ne!(first, planted, "custos ignores the planted id and issues its own");
    let second = login(Some(first.clone())).await.expect("login");
    let second = session_of(&second);
    assert_ne!(second, first, "every sign-in makes a new session id");
    let me = |cookie: String| client.get(format!("{}/v1/accounts/me", app.base)).header("cookie", cookie).send();
    assert_eq!(me(planted).await.expect("me").status(), 401, "the planted id opens nothing");
    assert_eq!(me(second.clone()).await.expect("me").status(), 200);
    // Signing out ends the session on the server, not only in the browser.
    let out = client.post(format!("{}/v1/accounts/logout", app.base)).header("cookie", &second).send().await;
    assert_eq!(out.expect("logout").status(), 204);
    assert_eq!(me(second).await.expect("me").status(), 401);
}

#[tokio::test]
async fn a_staff_session_is_new_at_sign_in_and_a_planted_one_is_worthless() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let client = plain_client();
    let token = app.state.staff.setup_token().await.expect("setup").expect("a fresh installation");
    let made = client
        .post(format!("{}/admin/setup/{token}", app.base))
        .form(&[("username", "root"), ("password", "correct horse battery")])
        .send()
        .await
        .expect("setup");
    assert_eq!(made.status(), 303);
    let cookie_of = |r: &reqwest::Response| {
        r.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("pair").to_owned()
    };
    let setup_session = cookie_of(&made);
    let planted = "custos_admin=attacker-chosen-value".to_owned();
    let signed_in = client
        .post(format!("{}/admin/login", app.base))
        .header("cookie", &planted)
        .form(&[("username", "root"), ("password", "correct horse battery")])
        .send()
        .await
        .expect("login");
    assert_eq!(signed_in.status(), 303);
    let session = cookie_of(&signed_in);
    assert_ne!(session, planted);
    assert_ne!(session, setup_session, "signing in again makes a new session id");
    let dashboard = |cookie: &str| client.get(format!("{}/admin", app.base)).header("cookie", cookie).send();
    assert_eq!(dashboard(&session).await.expect("dashboard").status(), 200);
    assert_ne!(dashboard(&planted).await.expect("dashboard").status(), 200, "the planted id opens nothing");
}

#[tokio::test]
async fn cross_site_requests_cannot_act_for_a_signed_in_person() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn_with_limits(&db, &["account"], custos_server::RateLimits::off()).await;
    let signup = json!({"name": "Ada", "email": "ada@example.org", "password": "correct horse battery"});
    assert_eq!(app.post("/v1/accounts", &signup).await.0, 202);
    let client = plain_client();
    let login = client
        .post(format!("{}/v1/accounts/login", app.base))
        .json(&json!({"email": "ada@example.org", "password": "correct horse battery"}))
        .send()
        .await
        .expect("login");
    let cookie = login.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("pair").to_owned();
    // A form on another site can send only form encodings (no preflight): the JSON API
    // refuses them, whatever cookie comes along.
    for path in ["/v1/accounts/logout", "/v1/accounts/password-reset", "/v1/consents", "/v1/rights-requests"] {
        let forged = client
            .post(format!("{}{path}", app.base))
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=ada%40example.org&kind=erasure")
            .send()
            .await
            .expect("forged");
        if path == "/v1/accounts/logout" {
            // Logging out takes no body; SameSite=Lax keeps the cookie off cross-site posts.
            continue;
        }
        assert!(forged.status().is_client_error(), "{path}: {}", forged.status());
    }
    // The privacy center's forms carry a token tied to the session (see also
    // account_pages.rs), and signing in there also makes a new session id.
    let planted = "custos_session=attacker-chosen-value";
    let signed_in = client
        .post(format!("{}/account/login", app.base))
        .header("cookie", planted)
        .form(&[("email", "ada@example.org"), ("password", "correct horse battery")])
        .send()
        .await
        .expect("login");
    assert_eq!(signed_in.status(), 303);
    let page_cookie =
        signed_in.headers()["set-cookie"].to_str().expect("ascii").split(';').next().expect("pair").to_owned();
    assert_ne!(page_cookie, planted);
    assert_ne!(page_cookie, cookie, "a new id at every sign-in");
    let forged = client
        .post(format!("{}/account/close", app.base))
        .header("cookie", &page_cookie)
        .header("origin", "https://evil.example")
        .form(&[("confirm", "yes")])
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 403, "a form without the session's token is refused");
    let me = client.get(format!("{}/v1/accounts/me", app.base)).header("cookie", &page_cookie).send().await;
    assert_eq!(me.expect("me").status(), 200, "the account is still open");
}

#[tokio::test]
async fn a_refused_request_with_a_body_ends_its_connection_openly() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    // Refused before the body is read (no token): the answer says the connection ends, so
    // a client's next request goes on a new one instead of a connection closed under it.
    let body = format!("{{\"x\": \"{}\"}}", "a".repeat(300_000));
    let refused = app
        .client
        .put(format!("{}/v1/partners/{}/transfers", app.base, uuid::Uuid::now_v7()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("put");
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers().get("connection").and_then(|v| v.to_str().ok()), Some("close"));
    let next = app.client.get(format!("{}/healthz", app.base)).send().await.expect("the next request");
    assert_eq!(next.status(), 200);
    assert!(next.headers().get("connection").is_none(), "an answer to a request without a body keeps it open");
}
