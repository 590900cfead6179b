//! Liveness and readiness probes.
//!
//! `GET /healthz` answers as long as the process serves HTTP; `GET /readyz` also checks
//! that the database answers, so that a load balancer sends no traffic to an instance
//! that cannot store anything.

use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The probes' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

#[utoipa::path(get, path = "/healthz", tag = "health", security(()),
    responses((status = 200, description = "The process serves HTTP", body = Object, example = json!({"status": "ok"}))))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/readyz", tag = "health", security(()),
    responses((status = 200, description = "The database answers", body = Object),
              (status = 503, description = "`database_unavailable`", body = crate::openapi::ErrorEnvelope)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let backend = state.store.backend().name();
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(json!({"status": "ready", "database": backend}))),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            Err(ApiError::unavailable("database_unavailable", format!("the {backend} database does not answer")))
        }
        Err(_) => Err(ApiError::unavailable(
            "database_unavailable",
            format!("the {backend} database did not answer within {READY_TIMEOUT:?}"),
        )),
    }
}
