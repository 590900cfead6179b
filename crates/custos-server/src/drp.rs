//! The Data Rights Protocol v0.9 endpoints for authorized agents (see
//! `custos_engine::drp`), enabled by the `[drp]` settings:
//!
//! - `POST /v1/agent/{agent-id}`: pair-wise key setup (a signed message), answers a token;
//! - `GET /v1/agent/{agent-id}`: checks the token (`{}`);
//! - `POST /v1/data-rights-request`: a signed request, answered with its status;
//! - `GET /v1/data-rights-request/{id}`: its status;
//! - `DELETE /v1/data-rights-request/{id}`: revokes it (signed body).
//!
//! A failed signature or token check is a bare `403`, as the protocol asks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::drp::{AgentEntry, Drp, DrpError};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{ApiError, AppState};

/// The `[drp]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DrpSettings {
    /// This business's id in the DRP directory; the protocol is off without it.
    pub business_id: Option<String>,
    /// The authorized agents accepted, from the DRP directory.
    pub agents: Vec<AgentEntry>,
}

/// The Data Rights Protocol's part of the OpenAPI document. Bodies are signed messages
/// (libsodium `crypto_sign`, base64), described by the protocol, not by JSON schemas.
#[derive(utoipa::OpenApi)]
#[openapi(paths(pair, check, exercise, status, revoke), tags((name = "drp", description = "The Data Rights Protocol v0.9, for authorized agents")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/agent/{agent_id}", post(pair).get(check))
        .route("/v1/data-rights-request", post(exercise))
        .route("/v1/data-rights-request/{id}", get(status).delete(revoke))
}

fn drp(state: &AppState) -> Result<&Drp, ApiError> {
    state.drp.as_deref().ok_or_else(|| {
        ApiError::not_found("drp_disabled", "the Data Rights Protocol is not enabled here; set [drp] business_id")
    })
}

fn answer(result: Result<serde_json::Value, DrpError>) -> Response {
    match result {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(DrpError::Forbidden) => StatusCode::FORBIDDEN.into_response(),
        Err(DrpError::NotFound) => {
            ApiError::not_found("unknown_request", "no such request for this agent").into_response()
        }
        Err(DrpError::Invalid(message)) => ApiError::invalid("invalid_value", message).into_response(),
        Err(DrpError::Rights(e)) => crate::rights::error(e).into_response(),
        Err(DrpError::Store(e)) => ApiError::from(e).into_response(),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

async fn agent(drp: &Drp, headers: &HeaderMap) -> Result<String, Response> {
    let Some(token) = bearer(headers) else { return Err(StatusCode::FORBIDDEN.into_response()) };
    drp.agent(token).await.map_err(|e| answer(Err(e)))
}

#[utoipa::path(post, path = "/v1/agent/{agent_id}", tag = "drp", security(()),
    params(("agent_id" = String, Path, description = "The agent's id in the DRP directory")),
    request_body(content = String, content_type = "application/octet-stream", description = "The signed pairing message"),
    responses((status = 200, description = "`{agent-id, token}`", body = Object),
              (status = 403, description = "The signature or the agent is not accepted (a bare 403, as the protocol asks)"),
              (status = 404, description = "`drp_disabled`", body = crate::openapi::ErrorEnvelope)))]
async fn pair(State(state): State<AppState>, Path(agent_id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    Ok(answer(drp(&state)?.pair(&agent_id, &body).await))
}

#[utoipa::path(get, path = "/v1/agent/{agent_id}", tag = "drp", security(("drp_agent" = [])),
    params(("agent_id" = String, Path, description = "The agent's id")),
    responses((status = 200, description = "`{}`: the token is good", body = Object),
              (status = 403, description = "A bare 403: the token is not good"),
              (status = 404, description = "`drp_disabled`", body = crate::openapi::ErrorEnvelope)))]
async fn check(
    State(state): State<AppState>,
    Path(agent_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let drp = drp(&state)?;
    Ok(match agent(drp, &headers).await {
        Ok(agent) if agent == agent_id => (StatusCode::OK, Json(json!({}))).into_response(),
        Ok(_) => StatusCode::FORBIDDEN.into_response(),
        Err(response) => response,
    })
}

#[utoipa::path(post, path = "/v1/data-rights-request", tag = "drp", security(("drp_agent" = [])),
    request_body(content = String, content_type = "application/octet-stream", description = "The signed data rights request"),
    responses((status = 200, description = "The request's status", body = Object),
              (status = 403, description = "A bare 403: the token or the signature is not good"),
              (status = 404, description = "`drp_disabled`", body = crate::openapi::ErrorEnvelope)))]
async fn exercise(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let drp = drp(&state)?;
    Ok(match agent(drp, &headers).await {
        Ok(agent) => answer(drp.exercise(&agent, &body).await),
        Err(response) => response,
    })
}

#[utoipa::path(get, operation_id = "drp_request_status", path = "/v1/data-rights-request/{id}", tag = "drp", security(("drp_agent" = [])),
    params(("id" = Uuid, Path, description = "The request")),
    responses((status = 200, description = "The request's status", body = Object),
              (status = 403, description = "A bare 403: the token is not good"),
              (status = 404, description = "`drp_disabled`, `unknown_request`", body = crate::openapi::ErrorEnvelope)))]
async fn status(State(state): State<AppState>, Path(id): Path<Uuid>, headers: HeaderMap) -> Result<Response, ApiError> {
    let drp = drp(&state)?;
    Ok(match agent(drp, &headers).await {
        Ok(agent) => answer(drp.status(&agent, id).await),
        Err(response) => response,
    })
}

#[utoipa::path(delete, path = "/v1/data-rights-request/{id}", tag = "drp", security(("drp_agent" = [])),
    params(("id" = Uuid, Path, description = "The request")),
    request_body(content = String, content_type = "application/octet-stream", description = "The signed revocation"),
    responses((status = 200, description = "The request's status, revoked", body = Object),
              (status = 403, description = "A bare 403: the token or the signature is not good"),
              (status = 404, description = "`drp_disabled`, `unknown_request`", body = crate::openapi::ErrorEnvelope)))]
async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let drp = drp(&state)?;
    Ok(match agent(drp, &headers).await {
        Ok(agent) => answer(drp.revoke(&agent, id, &body).await),
        Err(response) => response,
    })
}
