//! The consent ledger over HTTP (seed 2.2, 7, 8.7, 9):
//!
//! - `POST /v1/consents`: `{subject_id | cookie_id, purpose, granted, method, text_version}`
//! - `GET /v1/subjects/{id}/consents`: the current state per purpose and the full history
//! - `GET /v1/subjects/{id}/consents/receipt`: a Kantara Consent Receipt
//!
//! A service sees and records consent only for the purposes its token is granted.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::consent::{ConsentError, ConsentRecord, ConsentTarget, Consents};
use custos_engine::gate::Actor;
use custos_store::SubjectId;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Service;
use crate::{ApiError, ApiJson, AppState};

/// The consent ledger's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(record, ledger, receipt), tags((name = "consents", description = "The consent ledger")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/consents", post(record))
        .route("/v1/subjects/{id}/consents", get(ledger))
        .route("/v1/subjects/{id}/consents/receipt", get(receipt))
}

/// A consent given or withdrawn, for a subject or a visitor's cookie id (exactly one).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RecordBody {
    subject_id: Option<Uuid>,
    cookie_id: Option<String>,
    purpose: String,
    granted: bool,
    method: String,
    #[serde(default)]
    text_version: String,
}

#[utoipa::path(post, operation_id = "record_consent", path = "/v1/consents", tag = "consents", security(("service_token" = [])),
    request_body = RecordBody,
    responses((status = 201, description = "`{subject_id, seq}`", body = Object),
              (status = 403, description = "`actor_not_scoped`", body = crate::openapi::ErrorEnvelope),
              (status = 404, description = "`no_such_subject`", body = crate::openapi::ErrorEnvelope)))]
async fn record(
    State(state): State<AppState>,
    Service(actor): Service,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<RecordBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let target = target(body.subject_id, body.cookie_id)?;
    let record = ConsentRecord {
        target,
        purpose: body.purpose,
        granted: body.granted,
        method: body.method,
        text_version: body.text_version,
        source_ip: Some(peer.ip()),
    };
    let (subject, seq) = state.consents.record(&actor, &record).await.map_err(consent_error)?;
    Ok((StatusCode::CREATED, Json(json!({"subject_id": subject, "seq": seq}))))
}

/// Whose consent it is: exactly one of a subject and a visitor's cookie id.
fn target(subject_id: Option<Uuid>, cookie_id: Option<String>) -> Result<ConsentTarget, ApiError> {
    match (subject_id, cookie_id) {
        (Some(id), None) => Ok(ConsentTarget::Subject(SubjectId(id))),
        (None, Some(cookie_id)) => Ok(ConsentTarget::Visitor { cookie_id }),
        _ => {
            Err(ApiError::invalid("invalid_value", "give exactly one of subject_id and cookie_id")
                .with_field("subject_id"))
        }
    }
}

/// A `POST /v1/consents` body, read and checked as the handler does before the ledger.
pub(crate) fn parse_record(body: &[u8]) -> Result<ConsentTarget, ApiError> {
    let body: RecordBody = crate::extract::parse(body)?;
    target(body.subject_id, body.cookie_id)
}

#[utoipa::path(get, path = "/v1/subjects/{id}/consents", tag = "consents", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The subject")),
    responses((status = 200, description = "`{current, history}`, for the token's purposes", body = Object),
              (status = 404, description = "`no_such_subject`", body = crate::openapi::ErrorEnvelope)))]
async fn ledger(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let visible = visible_history(&state, &actor, id).await?;
    let entries: Vec<Value> = visible
        .iter()
        .map(|e| {
            json!({
                "seq": e.seq,
                "purpose": e.entry.purpose,
                "granted": e.entry.granted,
                "method": e.entry.method,
                "policy_version": e.entry.policy_version,
                "text_version": e.entry.text_version,
                "source_ip": e.entry.source_ip,
                "at": e.entry.at.to_string(),
            })
        })
        .collect();
    Ok(Json(json!({"current": Consents::current(&visible), "history": entries})))
}

#[utoipa::path(get, path = "/v1/subjects/{id}/consents/receipt", tag = "consents", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The subject")),
    responses((status = 200, description = "A Kantara Consent Receipt", body = Object),
              (status = 404, description = "`no_such_subject`", body = crate::openapi::ErrorEnvelope)))]
async fn receipt(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let visible = visible_history(&state, &actor, id).await?;
    Ok(Json(state.consents.receipt(SubjectId(id), &visible)))
}

/// The subject's ledger, limited to the purposes `actor` may see.
async fn visible_history(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> Result<Vec<custos_store::StoredConsent>, ApiError> {
    let history = state.consents.history(SubjectId(id)).await.map_err(consent_error)?;
    Ok(history.into_iter().filter(|e| may_see(actor, &e.entry.purpose)).collect())
}

fn may_see(actor: &Actor, purpose: &str) -> bool {
    match actor {
        Actor::Service { purposes, .. } => purposes.iter().any(|p| p == purpose),
        _ => true,
    }
}

pub(crate) fn consent_error(err: ConsentError) -> ApiError {
    match err {
        ConsentError::Invalid { field, message } => {
            ApiError::invalid("invalid_value", format!("{field}: {message}")).with_field(field)
        }
        ConsentError::NotScoped(purpose) => ApiError::new(
            StatusCode::FORBIDDEN,
            "actor_not_scoped",
            format!("the service token is not granted purpose `{purpose}`"),
        ),
        ConsentError::NoSubject(id) => ApiError::not_found("no_such_subject", format!("no subject {id}")),
        ConsentError::Store(e) => e.into(),
    }
}
