//! Disclosures over HTTP (seed 2.4, 6, 11):
//!
//! - `POST /v1/disclosures`: `{recipient, subjects, purpose, categories}`, by a service
//!   token holding the purpose. custos checks the recipient, its purposes and categories,
//!   the transfer safeguard and the gate for each person; a refusal names the rule
//!   (`recipient_unknown`, `recipient_purpose_not_declared`,
//!   `recipient_category_not_declared`, `transfer_without_safeguard`,
//!   `transfer_not_adequate`, `transfer_dpf_not_certified`, or the gate's rule with the
//!   person at fault as `subjects[i]`) and stores nothing. Allowed, it answers the data and
//!   logs the disclosure.
//! - `GET /v1/disclosures?subject=ID` (or `?legal_request=ID`, or neither for the latest):
//!   the log, for staff (see [`crate::registers::Staff`]).
//! - `GET /v1/legitimate-interests` and `GET /v1/legitimate-interests/{purpose}`: the
//!   balancing assessment of every legitimate-interest purpose, public.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::gate::Rule;
use custos_engine::governance::GovernanceError;
use custos_engine::governance::disclose::{Disclosed, DisclosureRequest};
use custos_engine::records::AccessError;
use custos_store::{Disclosure, SubjectId};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Service;
use crate::registers::Staff;
use crate::{ApiError, ApiJson, AppState};

/// The disclosures' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(disclose, list, interests, interest),
    tags((name = "disclosures", description = "Disclosures to recipients, and legitimate-interest assessments")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/disclosures", post(disclose).get(list))
        .route("/v1/legitimate-interests", get(interests))
        .route("/v1/legitimate-interests/{purpose}", get(interest))
}

/// Maps a governance error to the API's answer.
pub(crate) fn error(e: GovernanceError) -> ApiError {
    match e {
        GovernanceError::Invalid { field, message } => {
            ApiError::invalid("invalid_value", format!("{field}: {message}")).with_field(field)
        }
        GovernanceError::Refused { rule, reason } => ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason),
        GovernanceError::Denied { rule: Rule::Erased, field, reason } => {
            ApiError::new(StatusCode::GONE, Rule::Erased.code(), reason).with_field(field)
        }
        GovernanceError::Denied { rule, field, reason } => {
            ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason).with_field(field)
        }
        GovernanceError::NotFound(what) => ApiError::not_found("not_found", format!("{what} does not exist")),
        GovernanceError::WrongState(message) => ApiError::conflict("wrong_state", message),
        GovernanceError::Access(AccessError::Denied { rule, reason }) => {
            ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason)
        }
        GovernanceError::Access(AccessError::NoSubject(id)) => {
            ApiError::not_found("no_such_subject", format!("no subject {id}"))
        }
        GovernanceError::Access(other) => crate::error::access_failure(other),
        GovernanceError::Store(e) => e.into(),
    }
}

/// A logged disclosure as JSON (subject ids only).
pub(crate) fn disclosure_json(d: &Disclosure) -> Value {
    json!({
        "id": d.id,
        "recipient": d.recipient,
        "country": d.country,
        "safeguard": d.safeguard,
        "purpose": d.purpose,
        "categories": d.categories,
        "actor": d.actor,
        "legal_request": d.legal_request,
        "at": d.at,
        "subjects": d.subjects.iter().map(|(s, n)| json!({"subject_id": s, "records": n})).collect::<Vec<_>>(),
    })
}

/// An allowed disclosure: the log entry and the data.
pub(crate) fn disclosed_json(done: &Disclosed) -> Value {
    let mut body = disclosure_json(&done.disclosure);
    body["data"] = done
        .data
        .iter()
        .map(|d| {
            json!({
                "subject_id": d.subject_id,
                "records": d.records.iter().map(|r| json!({
                    "category": r.category,
                    "purpose": r.purpose,
                    "collected_at": r.collected_at,
                    "value": String::from_utf8_lossy(&r.value),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    body
}

#[utoipa::path(post, path = "/v1/disclosures", tag = "disclosures", security(("service_token" = [])),
    request_body = DisclosureRequest,
    responses((status = 201, description = "What was disclosed, under the policy's recipients and purposes", body = Object), (status = 403, description = "Refused: `error.code` names the rule", body = crate::openapi::ErrorEnvelope)))]
async fn disclose(
    State(state): State<AppState>,
    Service(actor): Service,
    ApiJson(body): ApiJson<DisclosureRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let done = state.governance.disclose.disclose(&actor, &body, None).await.map_err(error)?;
    Ok((StatusCode::CREATED, Json(disclosed_json(&done))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    subject: Option<Uuid>,
    legal_request: Option<Uuid>,
    limit: Option<u32>,
}

#[utoipa::path(get, operation_id = "list_disclosures", path = "/v1/disclosures", tag = "disclosures", security(("service_token" = [])),
    params(ListQuery),
    responses((status = 200, description = "`{disclosures}`", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn list(
    State(state): State<AppState>,
    Staff(_actor): Staff,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()).with_field("query"))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let found = match (q.subject, q.legal_request) {
        (Some(subject), None) => state.governance.disclose.of_subject(SubjectId(subject)).await?,
        (None, legal_request) => state.governance.disclose.list(legal_request, limit).await?,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("bad_query", "ask by subject or by legal_request, not both")
                .with_field("legal_request"));
        }
    };
    Ok(Json(json!({"disclosures": found.iter().map(disclosure_json).collect::<Vec<_>>()})))
}

#[utoipa::path(get, path = "/v1/legitimate-interests", tag = "disclosures", security(()),
    responses((status = 200, description = "`{assessments}`: the policy's legitimate-interest assessments", body = Object)))]
async fn interests(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"assessments": custos_engine::governance::interests::assessments(&state.policy)}))
}

#[utoipa::path(get, path = "/v1/legitimate-interests/{purpose}", tag = "disclosures", security(()),
    params(("purpose" = String, Path, description = "A purpose of the policy")),
    responses((status = 200, description = "One assessment", body = Object), (status = 404, description = "`unknown_purpose`, `not_legitimate_interests`", body = crate::openapi::ErrorEnvelope)))]
async fn interest(State(state): State<AppState>, Path(purpose): Path<String>) -> Result<Json<Value>, ApiError> {
    custos_engine::governance::interests::assessment(&state.policy, &purpose).map(Json).map_err(|e| match e {
        GovernanceError::NotFound(_) => {
            ApiError::not_found("unknown_purpose", format!("the policy has no purpose `{purpose}`"))
                .with_field("purpose")
        }
        GovernanceError::Invalid { message, .. } => {
            ApiError::not_found("not_legitimate_interests", message).with_field("purpose")
        }
        other => error(other),
    })
}
