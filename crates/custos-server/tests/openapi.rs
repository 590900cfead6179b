//! `GET /openapi.json` describes every JSON route of the router: the route table is read
//! from the crate's source (every `.route("…", …)`), so a new JSON endpoint that is not in
//! the document fails here.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::TestApp;
use custos_testkit::TestDb;
use serde_json::Value;

/// Routes that answer HTML, Markdown, JavaScript or Prometheus text, not JSON: pages for
/// browsers and scrapers, described by their own docs. A route added here must not answer
/// JSON (checked below for those without parameters).
const NOT_JSON: &[&str] = &[
    "/privacy",
    "/privacy.md",
    "/privacy/cookies",
    "/metrics",
    "/custos.js",
    "/demo",
    "/demo/pricing",
    "/rights",
    "/rights/{id}",
    "/rights/{id}/verify",
    "/unsubscribe/{token}",
    "/confirm/{token}",
    "/account",
    "/account/login",
    "/account/logout",
    "/account/consents",
    "/account/close",
    "/openapi.json",
];

/// `(method, path)` for every `.route(...)` in `dir`'s Rust files.
fn route_table(dir: &Path, out: &mut BTreeSet<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            route_table(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("read source");
        for chunk in source.split(".route(").skip(1) {
            let Some(rest) = chunk.trim_start().strip_prefix('"') else { continue };
            let Some((route, rest)) = rest.split_once('"') else { continue };
            // The method router runs to the end of the call: up to the next `.route(` or line end.
            let handlers = rest.lines().next().unwrap_or("");
            for method in ["get", "post", "put", "delete", "patch"] {
                let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                    i == 0 || !handlers.as_bytes()[i - 1].is_ascii_alphanumeric() && handlers.as_bytes()[i - 1] != b'_'
                });
                if called {
                    out.insert((method.to_owned(), route.to_owned()));
                }
            }
        }
    }
}

/// The document the running app serves.
async fn document(app: &TestApp) -> Value {
    app.client.get(format!("{}/openapi.json", app.base)).send().await.expect("get").json().await.expect("json")
}

#[tokio::test]
async fn every_json_route_is_in_the_openapi_document() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let response = app.client.get(format!("{}/openapi.json", app.base)).send().await.expect("get");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().expect("type").starts_with("application/json"));
    let doc: Value = response.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", doc["openapi"]);

    let mut routes = BTreeSet::new();
    route_table(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut routes);
    assert!(routes.len() > 60, "the route table was not read: {routes:?}");
    let mut missing = Vec::new();
    for (method, path) in &routes {
        if path.starts_with("/admin") || NOT_JSON.contains(&path.as_str()) {
            continue;
        }
        if doc["paths"][path][method].is_null() {
            missing.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    assert!(missing.is_empty(), "JSON routes missing from /openapi.json: {missing:#?}");

    // Nothing is described that the router does not serve.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            assert!(routes.contains(&(method.clone(), path.clone())), "{method} {path} is described but not routed");
        }
    }

    // The routes said not to answer JSON do not.
    for path in NOT_JSON.iter().filter(|p| !p.contains('{') && **p != "/openapi.json") {
        let response = app.client.get(format!("{}{path}", app.base)).send().await.expect("get");
        let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        if response.status().is_success() {
            assert!(!kind.starts_with("application/json"), "{path} answers JSON ({kind}): describe it");
        }
    }
}

#[tokio::test]
async fn the_document_has_security_schemes_error_shapes_and_request_schemas() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let doc = document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    for scheme in ["service_token", "partner_key", "drp_agent", "account_session"] {
        assert!(!schemes[scheme].is_null(), "security scheme {scheme}");
    }
    let error = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["code", "message"]), "{error}");
    // Every operation says what its failures look like.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let four = &op["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(four, "#/components/schemas/ErrorEnvelope", "{method} {path}");
            assert!(!op["security"].is_null(), "{method} {path} says who may call it");
        }
    }
    // Request bodies are the types the handlers read, with their fields and rules.
    let rights = &doc["components"]["schemas"]["NewRightsRequest"];
    assert!(
        rights["properties"]["kind"]["enum"].as_array().is_some_and(|k| k.iter().any(|k| k == "erasure")),
        "{rights}"
    );
    assert!(rights["properties"].get("agent").is_none(), "fields custos sets itself are not in the schema");
    let subject = &doc["components"]["schemas"]["CreateSubject"];
    assert!(
        subject["properties"]["kind"]["enum"].as_array().is_some_and(|k| k.iter().any(|k| k == "user")),
        "{subject}"
    );
    let op = &doc["paths"]["/v1/partner/records"]["post"];
    assert_eq!(op["security"][0]["partner_key"], serde_json::json!([]));
}

/// What client generators (openapi-generator, oapi-codegen, openapi-python-client) and
/// validators (openapi-spec-validator) require beyond the schema: each operation's id is
/// unique (it names the client's method), and each `{parameter}` of a path is declared as a
/// path parameter of every operation on it; and what API fuzzers need: each header
/// parameter's pattern.
#[tokio::test]
async fn operation_ids_are_unique_and_path_parameters_are_declared() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let doc = document(&app).await;
    let mut seen = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let wanted: BTreeSet<&str> =
            path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect();
        for (method, op) in item.as_object().expect("item") {
            let at = format!("{} {path}", method.to_uppercase());
            match op["operationId"].as_str() {
                None => problems.push(format!("{at}: no operationId")),
                Some(id) => {
                    if let Some(other) = seen.insert(id.to_owned(), at.clone()) {
                        problems.push(format!("operationId {id:?} names both {other} and {at}"));
                    }
                }
            }
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(item["parameters"].as_array().into_iter().flatten())
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            if declared != wanted {
                problems.push(format!("{at}: path parameters {declared:?}, the path has {wanted:?}"));
            }
            // A header described as any string invites values no HTTP server carries (control
            // bytes): every header parameter says its form.
            for header in op["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "header") {
                if header["schema"]["pattern"].as_str().is_none() {
                    problems.push(format!("{at}: header {} has no pattern", header["name"]));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The access package is described as bytes, not as an array of numbers.
#[tokio::test]
async fn the_access_package_is_described_as_binary() {
    let db = TestDb::from_env().await;
    let app = TestApp::spawn(&db, &["marketing"]).await;
    let doc = document(&app).await;
    let mut schema = &doc["paths"]["/v1/rights-requests/{id}/package"]["get"]["responses"]["200"]["content"]["application/zip"]
        ["schema"];
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        schema = &doc["components"]["schemas"][name];
    }
    assert_eq!((&schema["type"], &schema["format"]), (&Value::from("string"), &Value::from("binary")), "{schema}");
}
