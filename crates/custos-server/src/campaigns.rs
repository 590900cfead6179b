//! Marketing campaigns over HTTP (seed 9), for a service whose token holds the campaign's
//! direct-marketing purpose:
//!
//! - `POST /v1/campaigns`: `{name, purpose, subject_line, body}` makes a draft;
//! - `GET /v1/campaigns`: the latest campaigns the token may see;
//! - `GET /v1/campaigns/{id}`: one, with how many people it was delivered to;
//! - `POST /v1/campaigns/{id}/send`: starts sending (again: changes nothing).
//!
//! The audience is computed when the sending runs and checked again per mail at send
//! time; see `custos_engine::campaigns`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::campaigns::{CampaignDraft, CampaignError, CampaignStatus};
use custos_store::Campaign;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Service;
use crate::{ApiError, ApiJson, AppState};

/// The campaigns' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, status, send), tags((name = "campaigns", description = "Marketing campaigns, sent only to people who consented")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/campaigns", post(create).get(list))
        .route("/v1/campaigns/{id}", get(status))
        .route("/v1/campaigns/{id}/send", post(send))
}

fn error(e: CampaignError) -> ApiError {
    match e {
        CampaignError::Invalid { field, message } => ApiError::invalid("invalid_value", message).with_field(field),
        CampaignError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string()),
        CampaignError::NotFound(_) => ApiError::not_found("unknown_campaign", e.to_string()),
        CampaignError::Store(e) => e.into(),
    }
}

fn campaign_json(c: &Campaign) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "purpose": c.purpose,
        "subject_line": c.subject_line,
        "body": c.body,
        "created_at": c.created_at,
        "queued_at": c.queued_at,
        "state": if c.queued_at.is_some() { "sending" } else { "draft" },
    })
}

fn status_json(s: &CampaignStatus) -> Value {
    let mut body = campaign_json(&s.campaign);
    body["delivered"] = json!(s.delivered);
    body
}

#[utoipa::path(post, operation_id = "create_campaign", path = "/v1/campaigns", tag = "campaigns", security(("service_token" = [])),
    request_body = CampaignDraft,
    responses((status = 201, description = "The draft", body = Object)))]
async fn create(
    State(state): State<AppState>,
    Service(actor): Service,
    ApiJson(draft): ApiJson<CampaignDraft>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let campaign = state.campaigns.create(&actor, &draft).await.map_err(error)?;
    Ok((StatusCode::CREATED, Json(campaign_json(&campaign))))
}

#[utoipa::path(get, operation_id = "list_campaigns", path = "/v1/campaigns", tag = "campaigns", security(("service_token" = [])),
    responses((status = 200, description = "`{campaigns}`, the latest 100", body = Object)))]
async fn list(State(state): State<AppState>, Service(actor): Service) -> Result<Json<Value>, ApiError> {
    let campaigns = state.campaigns.list(&actor, 100).await.map_err(error)?;
    Ok(Json(json!({"campaigns": campaigns.iter().map(campaign_json).collect::<Vec<_>>()})))
}

#[utoipa::path(get, operation_id = "campaign_status", path = "/v1/campaigns/{id}", tag = "campaigns", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The campaign")),
    responses((status = 200, description = "The campaign and how far its sending got", body = Object)))]
async fn status(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(status_json(&state.campaigns.status(&actor, id).await.map_err(error)?)))
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/send", tag = "campaigns", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The campaign")),
    responses((status = 202, description = "Sending: to consenting recipients only", body = Object)))]
async fn send(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let status = state.campaigns.send(&actor, id).await.map_err(error)?;
    Ok((StatusCode::ACCEPTED, Json(status_json(&status))))
}
