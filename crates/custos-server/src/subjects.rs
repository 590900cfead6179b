//! The JSON API for the operator's services (seed 1, 2.3): store a person's data under a
//! purpose, find them by an identifier, and read their data for a purpose. Every call
//! passes the gate and is audited; a refusal names the rule.
//!
//! - `POST /v1/subjects`: `{kind, identifiers: [{kind, value}], records: [{purpose, category, value}]}`
//! - `POST /v1/subjects/lookup`: `{kind, value}` (a POST, so that identifiers never sit in URLs or logs)
//! - `POST /v1/subjects/{id}/records`: `{purpose, category, value}`
//! - `GET /v1/subjects/{id}/records?purpose=P&categories=a,b`

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use custos_engine::gate::Rule;
use custos_engine::records::{AccessError, NewValue};
use custos_engine::vault::VaultAccessError;
use custos_store::{IdentifierKind, SubjectId, SubjectKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Service;
use crate::{ApiError, ApiJson, AppState};

/// The subjects' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, lookup, write, read), tags((name = "subjects", description = "People's data under the policy's purposes, through the gate")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/subjects", post(create))
        .route("/v1/subjects/lookup", post(lookup))
        .route("/v1/subjects/{id}/records", post(write).get(read))
}

/// A new subject with its identifiers and first records.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateSubject {
    /// `visitor`, `user`, `partner_contact` or `partner_end_user`.
    #[schema(schema_with = crate::openapi::subject_kind)]
    kind: SubjectKind,
    #[serde(default)]
    identifiers: Vec<Identifier>,
    #[serde(default)]
    records: Vec<Value>,
}

/// An identifier custos finds a person by (kept as a blind index, never in clear).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Identifier {
    /// `email`, `phone`, `cookie_id`, `account_id` or `partner_pseudonym`.
    #[schema(schema_with = crate::openapi::identifier_kind)]
    kind: IdentifierKind,
    value: String,
}

/// One value of a data category, collected for a purpose.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordValue)]
struct Value {
    purpose: String,
    category: String,
    value: String,
}

/// The new subject and its records.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Created {
    #[schema(value_type = Uuid)]
    subject_id: SubjectId,
    record_ids: Vec<Uuid>,
}

#[utoipa::path(post, operation_id = "create_subject", path = "/v1/subjects", tag = "subjects", security(("service_token" = [])),
    request_body = CreateSubject,
    responses((status = 201, description = "Stored", body = Created),
              (status = 403, description = "Refused by the gate: `error.code` names the rule", body = crate::openapi::ErrorEnvelope),
              (status = 409, description = "`conflict`: an identifier is already held", body = crate::openapi::ErrorEnvelope)))]
async fn create(
    State(state): State<AppState>,
    Service(actor): Service,
    ApiJson(body): ApiJson<CreateSubject>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let identifiers: Vec<(IdentifierKind, &str)> =
        body.identifiers.iter().map(|i| (i.kind, i.value.as_str())).collect();
    let values: Vec<NewValue<'_>> = body
        .records
        .iter()
        .map(|v| NewValue { purpose: &v.purpose, category: &v.category, value: v.value.as_bytes() })
        .collect();
    let (subject_id, record_ids) =
        state.records.create_subject(&actor, body.kind, &identifiers, &values).await.map_err(access_error)?;
    Ok((StatusCode::CREATED, Json(Created { subject_id, record_ids })))
}

#[utoipa::path(post, path = "/v1/subjects/lookup", tag = "subjects", security(("service_token" = [])),
    request_body = Identifier,
    responses((status = 200, description = "`{subject_id}`", body = Object),
              (status = 404, description = "`no_such_subject`", body = crate::openapi::ErrorEnvelope)))]
async fn lookup(
    State(state): State<AppState>,
    Service(_actor): Service,
    ApiJson(body): ApiJson<Identifier>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match state.records.find(body.kind, &body.value).await.map_err(access_error)? {
        Some(id) => Ok(Json(serde_json::json!({ "subject_id": id }))),
        None => Err(ApiError::not_found("no_such_subject", "no subject holds this identifier")),
    }
}

#[utoipa::path(post, path = "/v1/subjects/{id}/records", tag = "subjects", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The subject")),
    request_body = Value,
    responses((status = 201, description = "`{record_id}`", body = Object),
              (status = 403, description = "Refused by the gate", body = crate::openapi::ErrorEnvelope),
              (status = 404, description = "`no_such_subject`", body = crate::openapi::ErrorEnvelope),
              (status = 410, description = "`erased`", body = crate::openapi::ErrorEnvelope)))]
async fn write(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let value = NewValue { purpose: &body.purpose, category: &body.category, value: body.value.as_bytes() };
    let record_id = state.records.write(&actor, SubjectId(id), &value).await.map_err(access_error)?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "record_id": record_id }))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReadQuery {
    /// The purpose the data is read for.
    purpose: String,
    /// Comma-separated data categories.
    categories: String,
}

#[derive(Debug, Serialize)]
struct RecordOut {
    record_id: Uuid,
    category: String,
    purpose: String,
    policy_version: String,
    collected_at: String,
    value: String,
}

#[utoipa::path(get, operation_id = "read_subject_records", path = "/v1/subjects/{id}/records", tag = "subjects", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The subject"), ReadQuery),
    responses((status = 200, description = "`{records: [{record_id, category, purpose, policy_version, collected_at, value}]}`", body = Object),
              (status = 403, description = "Refused by the gate", body = crate::openapi::ErrorEnvelope),
              (status = 404, description = "`no_such_subject`", body = crate::openapi::ErrorEnvelope),
              (status = 410, description = "`erased`", body = crate::openapi::ErrorEnvelope)))]
async fn read(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
    query: Result<Query<ReadQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request("missing_parameter", "name the purpose and categories: ?purpose=P&categories=a,b")
            .with_field("purpose")
    })?;
    let categories: Vec<&str> = q.categories.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
    if categories.is_empty() {
        return Err(ApiError::bad_request("missing_parameter", "name at least one category").with_field("categories"));
    }
    let opened = state.records.read(&actor, SubjectId(id), &q.purpose, &categories).await.map_err(access_error)?;
    let records: Vec<RecordOut> = opened
        .into_iter()
        .map(|r| RecordOut {
            record_id: r.record_id,
            category: r.category,
            purpose: r.purpose,
            policy_version: r.policy_version,
            collected_at: r.collected_at.to_string(),
            value: String::from_utf8_lossy(&r.value).into_owned(),
        })
        .collect();
    Ok(Json(serde_json::json!({ "records": records })))
}

/// Maps an engine error to the API's answer.
pub(crate) fn access_error(err: AccessError) -> ApiError {
    match err {
        AccessError::Denied { rule: Rule::Erased, reason } => {
            ApiError::new(StatusCode::GONE, Rule::Erased.code(), reason)
        }
        AccessError::Denied { rule, reason } => ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason),
        AccessError::Invalid { field, message } => {
            ApiError::invalid("invalid_value", format!("{field}: {message}")).with_field(field)
        }
        AccessError::NoSubject(id) => ApiError::not_found("no_such_subject", format!("no subject {id}")),
        AccessError::Vault(VaultAccessError::Erased { subject, .. }) => {
            ApiError::new(StatusCode::GONE, "subject_erased", format!("subject {subject} is erased"))
        }
        AccessError::Vault(other) => other.into(),
        AccessError::Store(e) => e.into(),
    }
}
