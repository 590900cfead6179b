//! The services' JSON API over real HTTP: tokens, the gate's refusals with their rule,
//! errors that name the field, and no personal data in clear in any stored byte.

mod common;

use common::TestApp;
use custos_testkit::TestDb;
use serde_json::{Value, json};

const NAME: &str = "Zelda Quinn-Marlowe";
const EMAIL: &str = "Zelda.Quinn@Example.ORG";
const PHONE: &str = "+49 30 90182734";
const MESSAGE: &str = "parcel 7734 never arrived at Birkenweg";

struct Api(TestApp);

impl std::ops::Deref for Api {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

impl Api {
    async fn start(db: &TestDb) -> Self {
        Api(TestApp::spawn(db, &["support", "contact"]).await)
    }

    async fn create_zelda(&self) -> String {
        let (status, body) = self
            .post(
                "/v1/subjects",
                &json!({
                    "kind": "user",
                    "identifiers": [{"kind": "email", "value": EMAIL}, {"kind": "phone", "value": PHONE}],
                    "records": [
                        {"purpose": "support", "category": "user.name", "value": NAME},
                        {"purpose": "support", "category": "user.contact.email", "value": EMAIL},
                        {"purpose": "support", "category": "user.contact.phone_number", "value": PHONE},
                        {"purpose": "contact", "category": "user.content.private", "value": MESSAGE},
                    ],
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["subject_id"].as_str().expect("id").to_owned()
    }
}

#[tokio::test]
async fn services_store_and_read_through_the_gate() {
    let db = TestDb::from_env().await;
    let api = Api::start(&db).await;
    let id = api.create_zelda().await;

    let (status, found) =
        api.post("/v1/subjects/lookup", &json!({"kind": "email", "value": "zelda.quinn@example.org"})).await;
    assert_eq!((status, found["subject_id"].as_str()), (200, Some(id.as_str())));

    let (status, body) =
        api.get(&format!("/v1/subjects/{id}/records?purpose=support&categories=user.name,user.contact.email")).await;
    assert_eq!(status, 200, "{body}");
    let values: Vec<&str> =
        body["records"].as_array().expect("records").iter().filter_map(|r| r["value"].as_str()).collect();
    assert_eq!(values.len(), 2);
    assert!(values.contains(&NAME) && values.contains(&EMAIL));

    let (status, body) =
        api.get(&format!("/v1/subjects/{id}/records?purpose=support&categories=user.device.ip_address")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("category_not_in_purpose")), "{body}");
    let (status, body) = api.get(&format!("/v1/subjects/{id}/records?purpose=account&categories=user.name")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("actor_not_scoped")), "{body}");
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_field_and_store_nothing() {
    let db = TestDb::from_env().await;
    let api = Api::start(&db).await;
    let anonymous =
        reqwest::Client::new().post(format!("{}/v1/subjects", api.base)).json(&json!({})).send().await.expect("post");
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unauthenticated");

    let (status, body) = api
        .post("/v1/subjects", &json!({"kind": "user", "identifiers": [{"kind": "email", "value": "zelda at example"}]}))
        .await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("identifiers[0].value")), "{body}");
    assert!(!body.to_string().contains("zelda at example"), "errors never echo personal data: {body}");

    let (status, body) = api.post("/v1/subjects", &json!({"kind": "martian"})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("kind")), "{body}");

    let (status, body) = api
        .post("/v1/subjects", &json!({"kind": "user", "records": [{"purpose": "marketing", "category": "user.contact.email", "value": EMAIL}]}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = api.post("/v1/subjects/lookup", &json!({"kind": "email", "value": EMAIL})).await;
    assert_eq!(status, 404, "nothing was stored by the refused requests");
}

#[tokio::test]
async fn no_personal_data_in_clear_in_any_stored_byte() {
    let db = TestDb::from_env().await;
    let api = Api::start(&db).await;
    let id = api.create_zelda().await;
    api.get(&format!("/v1/subjects/{id}/records?purpose=support&categories=user.name")).await;

    let needles = [NAME, EMAIL, &EMAIL.to_lowercase(), PHONE, "+493090182734", MESSAGE, "Birkenweg"];
    let bytes = db.stored_bytes().await;
    assert!(bytes.len() > 10_000, "the scan read the stored data ({} bytes)", bytes.len());
    for needle in needles {
        assert!(!contains(&bytes, needle.as_bytes()), "`{needle}` is stored in clear");
    }
    // The scan would have found a value stored in clear: the subject id is.
    assert!(contains(&bytes, id.as_bytes()) || contains(&bytes, uuid::Uuid::parse_str(&id).expect("uuid").as_bytes()));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
