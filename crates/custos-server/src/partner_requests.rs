//! Rights requests about partners' data, over HTTP (seed 3.3).
//!
//! For partners, with their key:
//! - `POST /v1/partner/rights-requests`: `{kind: "access" | "erasure", pseudonym}`; carried
//!   out at once and confirmed: `{id, kind, state: "done", outcome, records?}` (the records
//!   for access). Access needs the `records:read` scope, erasure `records:delete`.
//! - `GET /v1/partner/rights-requests/{id}`: one of its requests, made by it or forwarded
//!   to it by custos.
//!
//! For staff (service token for the partner-relationship purpose):
//! - `PUT /v1/partners/{id}/rights-webhook`: `{url}` (https) where custos forwards requests
//!   people send it about the partner's data; `{url: null}` sends them to the partner's
//!   contact by mail again.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use custos_store::PartnerRequest;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Service;
use crate::partners::{PartnerAuth, Refusal};
use crate::{ApiError, ApiJson, AppState};

/// This module's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(make, show, webhook),
    tags((name = "partner rights requests", description = "Rights requests about data partners provided (seed 3.3)")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/partner/rights-requests", post(make))
        .route("/v1/partner/rights-requests/{id}", get(show))
        .route("/v1/partners/{id}/rights-webhook", put(webhook))
}

/// A partner's request about the data under one of its pseudonyms.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPartnerRequest {
    /// `access` or `erasure`.
    kind: String,
    /// The partner's pseudonym of the person.
    pseudonym: String,
}

fn request_json(r: &PartnerRequest) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind,
        "direction": r.direction,
        "state": r.state,
        "outcome": r.outcome,
        "received_at": r.received_at,
        "done_at": r.done_at,
    })
}

#[utoipa::path(post, path = "/v1/partner/rights-requests", tag = "partner rights requests",
    security(("partner_key" = [])),
    request_body = NewPartnerRequest,
    responses((status = 200, description = "`{id, kind, direction, state, outcome, received_at, done_at, records?}`", body = Object),
              (status = 404, description = "`not_found`: no data under the pseudonym", body = crate::openapi::ErrorEnvelope)))]
async fn make(
    State(state): State<AppState>,
    PartnerAuth(caller): PartnerAuth,
    ApiJson(new): ApiJson<NewPartnerRequest>,
) -> Result<Json<Value>, Refusal> {
    let (request, records) = state.partners.rights_request(&caller, &new.kind, &new.pseudonym).await?;
    let mut body = request_json(&request);
    if let Some(records) = records {
        body["records"] = Value::Array(records);
    }
    Ok(Json(body))
}

#[utoipa::path(get, operation_id = "show_partner_rights_request", path = "/v1/partner/rights-requests/{id}", tag = "partner rights requests",
    security(("partner_key" = [])),
    params(("id" = Uuid, Path, description = "The request")),
    responses((status = 200, description = "`{id, kind, direction, state, outcome, received_at, done_at}`", body = Object),
              (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn show(
    State(state): State<AppState>,
    PartnerAuth(caller): PartnerAuth,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, Refusal> {
    Ok(Json(request_json(&state.partners.rights_request_status(&caller, id).await?)))
}

/// Where requests about a partner's data are forwarded.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Webhook {
    /// An https URL, or null to mail the partner's contact again.
    url: Option<String>,
}

#[utoipa::path(put, path = "/v1/partners/{id}/rights-webhook", tag = "partner rights requests",
    security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner")),
    request_body = Webhook,
    responses((status = 200, description = "`{partner_id, url}`", body = Object),
              (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn webhook(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<Webhook>,
) -> Result<Json<Value>, Refusal> {
    let outbound = state.outbound.clone();
    let check = |url: &str| match &outbound {
        Some(o) => o.check(url).map(|_| ()).map_err(|e| e.to_string()),
        None => Err("this custos makes no outbound calls ([outbound] is not set up)".to_owned()),
    };
    if body.url.as_deref().is_some_and(|u| u.trim().is_empty()) {
        return Err(ApiError::invalid("invalid_value", "give an https URL, or null").with_field("url").into());
    }
    state.partners.set_rights_webhook(&actor, id, body.url.as_deref(), check).await?;
    Ok(Json(json!({"partner_id": id, "url": body.url})))
}
