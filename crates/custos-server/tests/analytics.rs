//! Website analytics over HTTP: cookieless without consent (no address, no id stored),
//! tied to the visitor with consent (address sealed), GPC honoured, crawlers ignored, and a
//! summary of it all.

mod common;

use common::TestApp;
use custos_testkit::TestDb;
use serde_json::{Value, json};

const AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

struct Site(TestApp);

impl std::ops::Deref for Site {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

impl Site {
    async fn start(db: &TestDb) -> Self {
        Site(TestApp::spawn(db, &["analytics"]).await)
    }

    async fn events(&self, body: &Value, gpc: bool, agent: &str) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/v1/events", self.base))
            .header("content-type", "text/plain;charset=UTF-8")
            .header("user-agent", agent)
            .header("origin", "https://shop.example")
            .body(body.to_string());
        if gpc {
            request = request.header("sec-gpc", "1");
        }
        let r = request.send().await.expect("post");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn consent(&self, cookie: &str, granted: bool) {
        let r = self
            .client
            .post(format!("{}/v1/consents", self.base))
            .bearer_auth(&self.token)
            .json(&json!({"cookie_id": cookie, "purpose": "analytics", "granted": granted, "method": "banner"}))
            .send()
            .await
            .expect("consent");
        assert_eq!(r.status(), 201);
    }
}

fn visit(visitor: Option<&str>) -> Value {
    json!({
        "visitor_id": visitor,
        "events": [
            {"kind": "pageview", "url": "https://shop.example/pricing?email=ada@example.org", "referrer": "https://search.example/q?name=ada", "entry": true},
            {"kind": "click", "url": "https://shop.example/pricing"},
            {"kind": "leave", "url": "https://shop.example/pricing", "duration_ms": 42000},
        ]
    })
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn without_consent_visits_are_counted_without_address_or_id() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    let (status, body) = site.events(&visit(Some("cookie-4f2a9d")), false, AGENT).await;
    assert_eq!((status, body["recorded"]["mode"].as_str()), (202, Some("cookieless")), "{body}");
    let (status, body) = site.events(&visit(None), false, AGENT).await;
    assert_eq!((status, body["stored"].as_u64()), (202, Some(3)));
    let bytes = db.stored_bytes().await;
    for needle in ["127.0.0.1", "cookie-4f2a9d", AGENT, "ada@example.org", "name=ada"] {
        assert!(!contains(&bytes, needle), "`{needle}` was stored");
    }
    assert!(contains(&bytes, "/pricing"), "the scan sees the stored events");
}

#[tokio::test]
async fn with_consent_events_belong_to_the_visitor_and_gpc_overrides() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    site.consent("cookie-77", true).await;
    let (status, body) = site.events(&visit(Some("cookie-77")), false, AGENT).await;
    assert_eq!((status, body["recorded"]["mode"].as_str()), (202, Some("consented")), "{body}");
    assert!(body["recorded"]["subject_id"].is_string());
    let (_, body) = site.events(&visit(Some("cookie-77")), true, AGENT).await;
    assert_eq!(body["recorded"]["mode"], "cookieless", "Global Privacy Control wins");
    site.consent("cookie-77", false).await;
    let (_, body) = site.events(&visit(Some("cookie-77")), false, AGENT).await;
    assert_eq!(body["recorded"]["mode"], "cookieless", "a withdrawal takes effect at once");
    let bytes = db.stored_bytes().await;
    assert!(!contains(&bytes, "127.0.0.1"), "the address is sealed");
}

#[tokio::test]
async fn crawlers_are_ignored_and_bad_batches_name_the_field() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    let (status, body) = site
        .events(&visit(None), false, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
        .await;
    assert_eq!((status, body["recorded"]["mode"].as_str(), body["stored"].as_u64()), (202, Some("ignored"), Some(0)));
    let (status, body) = site.events(&json!({"events": [{"kind": "hover", "url": "/"}]}), false, AGENT).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("events[0].kind")), "{body}");
    let many: Vec<Value> = (0..101).map(|_| json!({"kind": "pageview", "url": "/"})).collect();
    let (status, body) = site.events(&json!({"events": many}), false, AGENT).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("events")), "{body}");
    let r = site
        .client
        .post(format!("{}/v1/events", site.base))
        .header("content-type", "image/png")
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 415);
}

#[tokio::test]
async fn the_summary_adds_up_both_kinds_of_visit() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    let geo = custos_testkit::mmdb::country_db(&[("127.0.0.0".parse().expect("ip"), 8, "DE")]);
    assert!(site.state.analytics.set_geo(maxminddb::Reader::from_source(geo).expect("database")));
    site.consent("cookie-1", true).await;
    site.events(&visit(Some("cookie-1")), false, AGENT).await;
    site.events(&visit(None), false, AGENT).await;
    site.events(&json!({"events": [{"kind": "pageview", "url": "/about", "entry": true}]}), false, "curl/8.0").await;
    let from = jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_hours(1)).expect("time");
    let to = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(1)).expect("time");
    let r = site
        .client
        .get(format!("{}/v1/analytics/summary?from={from}&to={to}", site.base))
        .bearer_auth(&site.token)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    let summary: Value = r.json().await.expect("json");
    assert_eq!(summary["visitors"], 3, "{summary}");
    assert_eq!(summary["visits"], 3);
    assert_eq!(summary["page_views"], 3);
    assert_eq!(summary["mean_duration_s"], 42.0);
    assert_eq!(summary["top_pages"][0], json!(["/pricing", 2]));
    assert_eq!(summary["countries"], json!([["DE", 3]]), "countries from the address, which is not kept");
    let anonymous =
        site.client.get(format!("{}/v1/analytics/summary?from={from}&to={to}", site.base)).send().await.expect("get");
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_network_over_its_event_limit_is_refused_and_nothing_of_it_stored() {
    let db = TestDb::from_env().await;
    let limits = custos_server::RateLimits { events_per_minute: 4, ..Default::default() };
    let site = Site(TestApp::spawn_with_limits(&db, &["analytics"], limits).await);
    let one = json!({"events": [{"kind": "pageview", "url": "/", "entry": true}]});
    for n in 0..4 {
        let (status, body) = site.events(&one, false, AGENT).await;
        assert_eq!(status, 202, "request {n}: {body}");
    }
    let (status, body) = site.events(&one, false, AGENT).await;
    assert_eq!((status, body["error"]["code"].as_str()), (429, Some("too_many_requests")), "{body}");
    let from = jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_hours(1)).expect("time");
    let to = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(1)).expect("time");
    let (status, summary) = site.get(&format!("/v1/analytics/summary?from={from}&to={to}")).await;
    assert_eq!((status, summary["page_views"].as_u64()), (200, Some(4)), "{summary}");
}

#[tokio::test]
async fn a_cookie_that_consents_again_after_an_erasure_belongs_to_the_new_visitor() {
    let db = TestDb::from_env().await;
    let site = Site::start(&db).await;
    site.consent("cookie-erased-1", true).await;
    let (_, body) = site.events(&visit(Some("cookie-erased-1")), false, AGENT).await;
    let first = body["recorded"]["subject_id"].as_str().expect("consented").to_owned();
    // The visitor is erased (here straight in the store, as another process would).
    let id = custos_store::SubjectId(first.parse().expect("uuid"));
    assert!(site.store.delete_subject(id).await.expect("erase"));
    let (status, body) = site.events(&visit(Some("cookie-erased-1")), false, AGENT).await;
    assert_eq!((status, body["recorded"]["mode"].as_str()), (202, Some("cookieless")), "{body}");
    // The same cookie says yes again: a new visitor, and the events are theirs.
    site.consent("cookie-erased-1", true).await;
    let (_, body) = site.events(&visit(Some("cookie-erased-1")), false, AGENT).await;
    assert_eq!(body["recorded"]["mode"], "consented", "{body}");
    let second = body["recorded"]["subject_id"].as_str().expect("a subject");
    assert_ne!(second, first, "the new visitor, not the erased one");
}
