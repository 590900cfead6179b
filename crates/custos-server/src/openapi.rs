//! `GET /openapi.json`: the OpenAPI 3.1 description of every JSON endpoint, generated from
//! the handlers themselves (utoipa's `#[utoipa::path]` on each handler, `ToSchema` on the
//! request types the handlers deserialize).
//!
//! Each module that serves JSON declares its own `Api` document next to its routes; [`spec`]
//! merges them. Every operation also gets the error answers every handler can give: `4XX`
//! and `5XX` with the one error shape ([`ErrorEnvelope`]), so that a client (or
//! schemathesis) can check any failure against it. The test `tests/openapi.rs` reads the
//! route table (every `.route("…")` in this crate) and fails when a JSON route is missing
//! here, so a new endpoint cannot be forgotten.

use std::sync::OnceLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::error::ErrorBody;
use crate::{AppState, accounts, aggregates, analytics, banner, campaigns, consents, disclosures, drp, forms};
use crate::{health, notice, partner_requests, partners, registers, rights, subjects};

/// Every failure: `{"error": {"code", "message", "field"?, "request_id"?}}`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Only its schema is used: handlers build the body through ApiError.
pub(crate) struct ErrorEnvelope {
    error: ErrorBody,
}

/// A file's bytes, as a response body (`type: string, format: binary`), which client
/// generators turn into a byte stream rather than a list of numbers.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // Only its schema is used.
pub(crate) struct FileBytes(Vec<u8>);

/// The security schemes: service tokens, partner keys, the account session cookie and the
/// DRP agents' pair-wise tokens.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        let bearer = |format: &str, what: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format(format)
                    .description(Some(what.to_owned()))
                    .build(),
            )
        };
        components.add_security_scheme(
            "service_token",
            bearer(
                "cst_<id>_<secret>",
                "A service token (`custos tokens issue`), granted some of the policy's purposes.",
            ),
        );
        components.add_security_scheme(
            "partner_key",
            bearer("cpk_<id>_<secret>", "A partner key (`POST /v1/partners/{id}/keys`), shown once."),
        );
        components.add_security_scheme(
            "drp_agent",
            bearer("token", "The pair-wise token an authorized agent got from `POST /v1/agent/{agent_id}`."),
        );
        components.add_security_scheme(
            "account_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "custos_session",
                "The session cookie `POST /v1/accounts/login` sets.",
            ))),
        );
    }
}

/// Adds the error answers every operation can give, in the one error shape.
struct Errors;

impl Modify for Errors {
    fn modify(&self, doc: &mut Doc) {
        let error = |what: &str| {
            ResponseBuilder::new()
                .description(what)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorEnvelope"))).build(),
                )
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses.entry("4XX".to_owned()).or_insert_with(|| {
                    error(
                        "The request was refused: `error.code` says why (stable), `error.field` names the input \
                         at fault, `error.message` says how to fix it.",
                    )
                    .into()
                });
                responses.entry("5XX".to_owned()).or_insert_with(|| {
                    error("custos or a dependency failed (`internal`, `database_unavailable`); quote the request id.")
                        .into()
                });
            }
        }
    }
}

/// The base document: title, version, security schemes, error shapes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "custos",
        description = "The JSON API of custos, a self-hosted privacy engine. Every failure is answered as \
                       `{\"error\": {\"code\", \"message\", \"field\"?, \"request_id\"}}` with a stable `code`."
    ),
    components(schemas(ErrorEnvelope, ErrorBody)),
    modifiers(&Security)
)]
struct Base;

/// The whole document, built once.
pub(crate) fn spec() -> &'static Doc {
    static SPEC: OnceLock<Doc> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc = Base::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        for part in [
            health::Api::openapi(),
            notice::Api::openapi(),
            subjects::Api::openapi(),
            consents::Api::openapi(),
            analytics::Api::openapi(),
            banner::Api::openapi(),
            forms::Api::openapi(),
            accounts::Api::openapi(),
            campaigns::Api::openapi(),
            rights::Api::openapi(),
            drp::Api::openapi(),
            disclosures::Api::openapi(),
            registers::Api::openapi(),
            partners::Api::openapi(),
            partner_requests::Api::openapi(),
            aggregates::Api::openapi(),
        ] {
            doc.merge(part);
        }
        Errors.modify(&mut doc);
        doc
    })
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/openapi.json", get(openapi_json))
}

async fn openapi_json() -> impl IntoResponse {
    static BODY: OnceLock<String> = OnceLock::new();
    let body = BODY.get_or_init(|| spec().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
    ([(header::CONTENT_TYPE, "application/json")], body.as_str())
}

/// A string schema allowing exactly `names`.
fn names(names: impl IntoIterator<Item = &'static str>) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
        .build()
}

/// `custos_store::SubjectKind`, by its API names.
pub(crate) fn subject_kind() -> utoipa::openapi::Object {
    names(custos_store::SubjectKind::ALL.iter().map(|k| k.as_str()))
}

/// `custos_store::IdentifierKind`, by its API names.
pub(crate) fn identifier_kind() -> utoipa::openapi::Object {
    names(custos_store::IdentifierKind::ALL.iter().map(|k| k.as_str()))
}
