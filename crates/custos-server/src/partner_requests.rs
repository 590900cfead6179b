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

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/partner/rights-requests", post(make))
        .route("/v1/partner/rights-requests/{id}", get(show))
        .route("/v1/partners/{id}/rights-webhook", put(webhook))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPartnerRequest {
    kind: String,
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

async fn show(
    State(state): State<AppState>,
    PartnerAuth(caller): PartnerAuth,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, Refusal> {
    Ok(Json(request_json(&state.partners.rights_request_status(&caller, id).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Webhook {
    url: Option<String>,
}

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
