//! Rights requests over HTTP (seed 7, 8), public: the person needs no account.
//!
//! - `POST /v1/rights-requests`: `{kind, email, purpose?}`; a code is mailed to the address.
//!   The answer is the same whether or not custos holds anything under it.
//! - `POST /v1/rights-requests/{id}/verify`: `{code}`; a verified request is carried out
//!   (erasure, restriction, objection, withdrawal) or waits for staff (access,
//!   rectification, portability).
//! - `GET /v1/rights-requests/{id}`: its state and deadline, without personal data.
//! - `GET /v1/rights-requests/{id}/package?token=…`: the zip of a fulfilled access
//!   request, through the link mailed to the person (it works for seven days).
//!
//! Each network may make `[limits] rights_per_minute` requests and verifications a minute.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::rights::{NewRightsRequest, RightsError};
use custos_store::RightsRequest;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{ApiError, ApiJson, AppState};

/// The rights requests' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(submit, status, verify, package), tags((name = "rights", description = "Rights requests, without an account")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/rights-requests", post(submit))
        .route("/v1/rights-requests/{id}", get(status))
        .route("/v1/rights-requests/{id}/verify", post(verify))
        .route("/v1/rights-requests/{id}/package", get(package))
}

pub(crate) fn error(e: RightsError) -> ApiError {
    match e {
        RightsError::Invalid { field, message } => ApiError::invalid("invalid_value", message).with_field(field),
        RightsError::NotFound(_) => ApiError::not_found("unknown_request", e.to_string()),
        RightsError::BadCode => ApiError::invalid("bad_code", e.to_string()).with_field("code"),
        RightsError::CodeExpired => ApiError::new(StatusCode::GONE, "code_expired", e.to_string()).with_field("code"),
        RightsError::TooManyAttempts => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", e.to_string())
        }
        RightsError::BadLink => ApiError::not_found("unknown_link", e.to_string()),
        RightsError::LinkExpired => ApiError::new(StatusCode::GONE, "link_expired", e.to_string()),
        RightsError::WrongState { .. } => ApiError::new(StatusCode::CONFLICT, "wrong_state", e.to_string()),
        RightsError::Store(e) => e.into(),
        RightsError::Vault(e) => e.into(),
        RightsError::Outbound(_) => ApiError::new(StatusCode::BAD_GATEWAY, "outbound_failed", e.to_string()),
    }
}

/// What anyone holding the request's id may see: no personal data.
pub(crate) fn status_json(r: &RightsRequest) -> Value {
    json!({
        "id": r.id,
        "kind": r.kind,
        "purpose": r.purpose,
        "state": r.state,
        "received_at": r.received_at,
        "due_at": r.due_at,
        "extended": r.extension_reason.is_some(),
        "extension_reason": r.extension_reason,
        "closed_at": r.closed_at,
    })
}

#[utoipa::path(post, path = "/v1/rights-requests", tag = "rights", security(()),
    request_body = NewRightsRequest,
    responses((status = 202, description = "Received; a code is mailed. The same answer whether or not custos holds anything under the address", body = Object),
              (status = 422, description = "`invalid_value`, `invalid_field`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network or for this address", body = crate::openapi::ErrorEnvelope)))]
async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(new): ApiJson<NewRightsRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.limiters.rights.check(peer.ip(), "rights requests and verifications")?;
    state.limiters.identifiers.check(&new.email, "email")?;
    let request = state.rights.submit(&new, "api").await.map_err(error)?;
    Ok((StatusCode::ACCEPTED, Json(status_json(&request))))
}

/// The code mailed to the person.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VerificationCode)]
struct Code {
    code: String,
}

#[utoipa::path(post, operation_id = "verify_rights_request", path = "/v1/rights-requests/{id}/verify", tag = "rights", security(()),
    params(("id" = Uuid, Path, description = "The request")),
    request_body = Code,
    responses((status = 200, description = "Verified: the request's state", body = Object),
              (status = 404, description = "`unknown_request`", body = crate::openapi::ErrorEnvelope),
              (status = 410, description = "`code_expired`", body = crate::openapi::ErrorEnvelope),
              (status = 422, description = "`bad_code`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_attempts`, `too_many_requests`", body = crate::openapi::ErrorEnvelope)))]
async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<Code>,
) -> Result<Json<Value>, ApiError> {
    state.limiters.rights.check(peer.ip(), "rights requests and verifications")?;
    let request = state.rights.verify(id, &body.code).await.map_err(error)?;
    Ok(Json(status_json(&request)))
}

#[utoipa::path(get, operation_id = "rights_request_status", path = "/v1/rights-requests/{id}", tag = "rights", security(()),
    params(("id" = Uuid, Path, description = "The request")),
    responses((status = 200, description = "Its state and deadline, without personal data", body = Object),
              (status = 404, description = "`unknown_request`", body = crate::openapi::ErrorEnvelope)))]
async fn status(State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Json<Value>, ApiError> {
    Ok(Json(status_json(&state.rights.get(id).await.map_err(error)?)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PackageQuery {
    /// The token from the mailed link.
    #[serde(default)]
    token: String,
}

#[utoipa::path(get, path = "/v1/rights-requests/{id}/package", tag = "rights", security(()),
    params(("id" = Uuid, Path, description = "The request"), PackageQuery),
    responses((status = 200, description = "The zip of a fulfilled access request", content_type = "application/zip", body = crate::openapi::FileBytes),
              (status = 404, description = "`unknown_link`, `unknown_request`", body = crate::openapi::ErrorEnvelope),
              (status = 410, description = "`link_expired`", body = crate::openapi::ErrorEnvelope)))]
async fn package(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<Uuid>,
    Query(query): Query<PackageQuery>,
) -> Result<Response, ApiError> {
    state.limiters.rights.check(peer.ip(), "rights requests and verifications")?;
    let zip = state.rights.download(id, &query.token).await.map_err(error)?;
    let disposition = format!("attachment; filename=\"personal-data-{id}.zip\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        zip,
    )
        .into_response())
}
