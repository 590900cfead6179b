//! The partner API (seed 3) over HTTP.
//!
//! For staff, with a service token for the partner-relationship purpose (like the other
//! management routes):
//! - `POST /v1/partners`: `{name, country, role, contact_email, contact_name?}` registers one;
//! - `GET /v1/partners`, `GET /v1/partners/{id}`: the register (keys without secrets);
//! - `POST /v1/partners/{id}/keys`: `{scopes?}` issues a key, shown once;
//! - `DELETE /v1/partners/{id}/keys/{key}`, `POST /v1/partners/{id}/keys/{key}/rotate`;
//! - `PUT /v1/partners/{id}/transfers`: `{allow_transfers_outside_eea, consent_reference, consent_date}`;
//! - `POST /v1/partners/{id}/subprocessors`: `{name, country, activity, consent_reference, consent_date}`;
//! - `POST /v1/partners/{id}/terminate`: ends the contract; the data is deleted by a job.
//!
//! For partners, with their key (`Authorization: Bearer cpk_…`):
//! - `POST /v1/partner/records[?mode=quarantine]`: a batch as `application/json` (an
//!   array), `application/x-ndjson` or `text/csv`, with an optional `Idempotency-Key`;
//! - `GET /v1/partner/records?pseudonym=P[&after=ID&limit=N]`: the partner's own records;
//! - `DELETE /v1/partner/records?pseudonym=P` or `?all=true`.
//!
//! A batch holding PII is answered 422 `pii_detected` with `rejected`: one entry per
//! finding (record, line, field, type, masked span). The body is read frame by frame and
//! refused with 413 as soon as it passes the configured size.

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use custos_engine::partners::batch::BatchFormat;
use custos_engine::partners::charset;
use custos_engine::partners::{
    NewSubProcessor, PartnerCaller, PartnerError, TransferConsent, UploadRequest, uploads::MAX_READ,
};
use custos_store::{Partner, PartnerKey, SubProcessor};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Service;
use crate::{ApiError, ApiJson, AppState};

/// The partner API's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, list, show, create_key, revoke_key, rotate_key, transfers, add_subprocessor, terminate, upload, read, remove),
    tags((name = "partners", description = "Partners: the register (staff) and the data they hand in (partners' keys)")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/partners", post(register).get(list))
        .route("/v1/partners/{id}", get(show))
        .route("/v1/partners/{id}/keys", post(create_key))
        .route("/v1/partners/{id}/keys/{key}", delete(revoke_key))
        .route("/v1/partners/{id}/keys/{key}/rotate", post(rotate_key))
        .route("/v1/partners/{id}/transfers", put(transfers))
        .route("/v1/partners/{id}/subprocessors", post(add_subprocessor))
        .route("/v1/partners/{id}/terminate", post(terminate))
        .route("/v1/partner/records", post(upload).get(read).delete(remove))
}

/// A request from a partner, authenticated by its key.
pub(crate) struct PartnerAuth(pub(crate) PartnerCaller);

impl FromRequestParts<AppState> for PartnerAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        state.partners.authenticate(bearer).await.map(PartnerAuth).map_err(|e| error(e).0)
    }
}

/// A partner error as an API error, or (for PII findings) a full response.
pub(crate) struct Refusal(ApiError, Option<Response>);

fn error(e: PartnerError) -> Refusal {
    let api = match e {
        PartnerError::Invalid { code, field, message } => ApiError::invalid(code, message).with_field(field),
        PartnerError::Batch(b) => {
            let field = b.field.clone();
            // A value holding NUL is refused like any text holding it (422); the rest of a
            // batch's faults are its format's (400).
            let mut api = if b.code == "invalid_value" {
                ApiError::invalid(b.code, b.message)
            } else {
                ApiError::bad_request(b.code, b.message)
            };
            if let Some(f) = field {
                api = api.with_field(f);
            }
            api
        }
        PartnerError::PiiDetected { rejected, findings } => {
            let message = format!(
                "{rejected} record(s) hold personal data; partners may hand in only pseudonymised data, so nothing was \
                 stored. Remove the fields listed in `rejected`, or send with ?mode=quarantine to store the clean records"
            );
            let body = json!({
                "error": {"code": "pii_detected", "message": message},
                "records_rejected": rejected,
                "rejected": findings,
            });
            let response = (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            return Refusal(ApiError::invalid("pii_detected", "personal data found"), Some(response));
        }
        e @ PartnerError::IdempotencyKeyReused(_) => {
            ApiError::invalid("idempotency_key_reused", e.to_string()).with_field("Idempotency-Key")
        }
        e @ PartnerError::Unauthenticated => {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", e.to_string()).with_field("Authorization")
        }
        PartnerError::Forbidden { code, message } => ApiError::new(StatusCode::FORBIDDEN, code, message),
        PartnerError::Refused { rule, message } => ApiError::invalid(rule, message),
        e @ PartnerError::NotFound(_) => ApiError::not_found("not_found", e.to_string()),
        e @ PartnerError::BudgetSpent { .. } => {
            ApiError::new(StatusCode::FORBIDDEN, "privacy_budget_spent", e.to_string())
        }
        PartnerError::Access(custos_engine::records::AccessError::Denied { rule, reason }) => {
            ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason)
        }
        PartnerError::Access(custos_engine::records::AccessError::Invalid { field, message }) => {
            ApiError::invalid("invalid_value", message).with_field(field)
        }
        PartnerError::Access(e) => crate::error::access_failure(e),
        PartnerError::Vault(e) => e.into(),
        PartnerError::Store(e) => e.into(),
    };
    Refusal(api, None)
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self.1 {
            Some(response) => response,
            None => self.0.into_response(),
        }
    }
}

impl From<PartnerError> for Refusal {
    fn from(e: PartnerError) -> Self {
        error(e)
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal(e, None)
    }
}

pub(crate) fn partner_json(p: &Partner) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "country": p.country,
        "role": p.role,
        "contract_status": p.contract_status,
        "contact_subject": p.contact_subject,
        "allow_transfers_outside_eea": p.transfers_outside_eea,
        "transfer_consent_reference": p.transfer_consent_ref,
        "transfer_consent_date": p.transfer_consent_date,
        "created_at": p.created_at,
        "terminated_at": p.terminated_at,
        "termination_report": p.termination_report,
        "custos_role": "processor",
    })
}

fn key_json(k: &PartnerKey) -> Value {
    json!({"id": k.id, "scopes": k.scopes, "created_at": k.created_at, "revoked_at": k.revoked_at})
}

fn sub_json(s: &SubProcessor) -> Value {
    json!({
        "id": s.id, "name": s.name, "country": s.country, "activity": s.activity,
        "consent_reference": s.consent_ref, "consent_date": s.consent_date, "created_at": s.created_at,
    })
}

#[utoipa::path(post, operation_id = "register_partner", path = "/v1/partners", tag = "partners", security(("service_token" = [])),
    request_body = custos_engine::partners::NewPartner,
    responses((status = 201, description = "The partner", body = Object)))]
async fn register(
    State(state): State<AppState>,
    Service(actor): Service,
    ApiJson(new): ApiJson<custos_engine::partners::NewPartner>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let partner = state.partners.register(&actor, &new).await?;
    Ok((StatusCode::CREATED, Json(partner_json(&partner))))
}

#[utoipa::path(get, operation_id = "list_partners", path = "/v1/partners", tag = "partners", security(("service_token" = [])),
    responses((status = 200, description = "`{partners}`", body = Object)))]
async fn list(State(state): State<AppState>, Service(actor): Service) -> Result<Json<Value>, Refusal> {
    let partners = state.partners.list(&actor).await?;
    Ok(Json(json!({"partners": partners.iter().map(partner_json).collect::<Vec<_>>()})))
}

#[utoipa::path(get, operation_id = "show_partner", path = "/v1/partners/{id}", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner")),
    responses((status = 200, description = "The partner with its keys (without secrets) and sub-processors", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn show(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
) -> Result<Json<Value>, Refusal> {
    let (partner, keys, subs) = state.partners.get(&actor, id).await?;
    let mut body = partner_json(&partner);
    body["keys"] = keys.iter().map(key_json).collect();
    body["subprocessors"] = subs.iter().map(sub_json).collect();
    Ok(Json(body))
}

/// The scopes of a new key (every scope when empty).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPartnerKey)]
struct NewKey {
    #[serde(default)]
    scopes: Vec<String>,
}

fn issued(key: &PartnerKey, text: String) -> Json<Value> {
    let mut body = key_json(key);
    body["key"] = json!(text);
    body["note"] = json!("the key is shown once; store it as a secret");
    Json(body)
}

#[utoipa::path(post, path = "/v1/partners/{id}/keys", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner")),
    request_body = NewKey,
    responses((status = 201, description = "The key, shown once", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn create_key(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
    ApiJson(new): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let (key, text) = state.partners.create_key(&actor, id, &new.scopes).await?;
    Ok((StatusCode::CREATED, issued(&key, text)))
}

#[utoipa::path(delete, path = "/v1/partners/{id}/keys/{key}", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner"), ("key" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn revoke_key(
    State(state): State<AppState>,
    Service(actor): Service,
    Path((id, key)): Path<(Uuid, String)>,
) -> Result<StatusCode, Refusal> {
    state.partners.revoke_key(&actor, id, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/partners/{id}/keys/{key}/rotate", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner"), ("key" = String, Path, description = "The key's id")),
    responses((status = 201, description = "The new key, shown once", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn rotate_key(
    State(state): State<AppState>,
    Service(actor): Service,
    Path((id, key)): Path<(Uuid, String)>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let (key, text) = state.partners.rotate_key(&actor, id, &key).await?;
    Ok((StatusCode::CREATED, issued(&key, text)))
}

#[utoipa::path(put, path = "/v1/partners/{id}/transfers", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner")),
    request_body = TransferConsent,
    responses((status = 200, description = "The partner", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn transfers(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
    ApiJson(answer): ApiJson<TransferConsent>,
) -> Result<Json<Value>, Refusal> {
    Ok(Json(partner_json(&state.partners.set_transfer_consent(&actor, id, &answer).await?)))
}

#[utoipa::path(post, path = "/v1/partners/{id}/subprocessors", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner")),
    request_body = NewSubProcessor,
    responses((status = 201, description = "The sub-processor", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn add_subprocessor(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
    ApiJson(new): ApiJson<NewSubProcessor>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let sub = state.partners.add_subprocessor(&actor, id, &new).await?;
    Ok((StatusCode::CREATED, Json(sub_json(&sub))))
}

#[utoipa::path(post, path = "/v1/partners/{id}/terminate", tag = "partners", security(("service_token" = [])),
    params(("id" = Uuid, Path, description = "The partner")),
    responses((status = 202, description = "The partner, terminated; its data is deleted by a job", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope)))]
async fn terminate(
    State(state): State<AppState>,
    Service(actor): Service,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Value>), Refusal> {
    let partner = state.partners.terminate(&actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(partner_json(&partner))))
}

/// The upload's `Idempotency-Key` header, for the OpenAPI document (the handler reads the
/// header itself): its exact form, so that clients and API fuzzers send keys an HTTP
/// server can carry.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // Only its description is used.
struct IdempotencyHeader {
    /// Replays the first answer for the same key and body: 1 to 255 printable ASCII
    /// characters without spaces.
    #[param(rename = "Idempotency-Key", pattern = r"^[!-~]{1,255}$", min_length = 1, max_length = 255)]
    idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct UploadParams {
    /// `reject` (the default: a batch with PII is refused whole) or `quarantine`.
    #[serde(default)]
    mode: Option<String>,
}

#[utoipa::path(post, path = "/v1/partner/records", tag = "partners", security(("partner_key" = [])),
    params(UploadParams, IdempotencyHeader),
    responses((status = 201, description = "What was stored (or a replay of it, with `idempotent-replayed: true`)", body = Object), (status = 413, description = "`batch_too_large`", body = crate::openapi::ErrorEnvelope), (status = 400, description = "`invalid_encoding`: the body is not in the character set its `Content-Type` names", body = crate::openapi::ErrorEnvelope), (status = 415, description = "`unsupported_batch_format`, `unsupported_charset`", body = crate::openapi::ErrorEnvelope), (status = 422, description = "`pii_detected`: `rejected` lists each finding; nothing was stored", body = Object)))]
async fn upload(
    State(state): State<AppState>,
    PartnerAuth(caller): PartnerAuth,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let quarantine = match params.mode.as_deref() {
        None | Some("reject") => false,
        Some("quarantine") => true,
        Some(_) => {
            return Err(ApiError::bad_request("invalid_mode", "mode is `reject` (the default) or `quarantine`")
                .with_field("mode")
                .into());
        }
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(format) = BatchFormat::from_content_type(content_type) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_batch_format",
            "send the batch as application/json (an array of objects), application/x-ndjson or text/csv",
        )
        .with_field("Content-Type")
        .into());
    };
    // A batch in another character set than UTF-8 says which (`text/csv; charset=windows-1252`).
    let charset = match charset::of_content_type(content_type) {
        None => None,
        Some(label) => Some(charset::named(label).map_err(|_| {
            let shown: String = label.chars().take(40).collect();
            ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_charset",
                format!(
                    "unknown character set {shown:?}: send UTF-8, or name a set of the WHATWG Encoding Standard (windows-1252, iso-8859-15, ...)"
                ),
            )
            .with_field("Content-Type")
        })?),
    };
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::bad_request("invalid_idempotency_key", "the idempotency key is printable ASCII")
                        .with_field("Idempotency-Key")
                })?
                .to_owned(),
        ),
    };
    let mut body = read_limited(body, state.partners.settings().max_body_bytes).await?;
    if let Some(charset) = charset {
        body = charset::to_utf8(body, charset).map_err(|e| {
            ApiError::bad_request("invalid_encoding", format!("the batch is not in the character set it names: {e}"))
                .with_field("body")
        })?;
    }
    let answer = state.partners.upload(&caller, UploadRequest { format, body, quarantine, idempotency_key }).await?;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::CREATED);
    let mut response = (status, Json(answer.body)).into_response();
    if answer.replayed {
        response.headers_mut().insert("idempotent-replayed", header::HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The body, read frame by frame; refused as soon as it passes `max` bytes.
async fn read_limited(body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::bad_request("unreadable_body", format!("the request body could not be read: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > max {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "batch_too_large",
                    format!("a batch is at most {max} bytes; split it"),
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ReadParams {
    #[serde(default)]
    pseudonym: Option<String>,
    #[serde(default)]
    after: Option<Uuid>,
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(get, operation_id = "read_partner_records", path = "/v1/partner/records", tag = "partners", security(("partner_key" = [])),
    params(ReadParams),
    responses((status = 200, description = "`{records, next_after}`: the partner's own records", body = Object)))]
async fn read(
    State(state): State<AppState>,
    PartnerAuth(caller): PartnerAuth,
    Query(params): Query<ReadParams>,
) -> Result<Json<Value>, Refusal> {
    let limit = params.limit.unwrap_or(MAX_READ);
    let records = state.partners.read(&caller, params.pseudonym.as_deref(), params.after, limit).await?;
    let next =
        records.last().and_then(|r| r.get("id").cloned()).filter(|_| records.len() as u32 >= limit.clamp(1, MAX_READ));
    Ok(Json(json!({"records": records, "next_after": next})))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DeleteParams {
    #[serde(default)]
    pseudonym: Option<String>,
    #[serde(default)]
    all: Option<bool>,
}

#[utoipa::path(delete, path = "/v1/partner/records", tag = "partners", security(("partner_key" = [])),
    params(DeleteParams),
    responses((status = 200, description = "`{deleted}`", body = Object)))]
async fn remove(
    State(state): State<AppState>,
    PartnerAuth(caller): PartnerAuth,
    Query(params): Query<DeleteParams>,
) -> Result<Json<Value>, Refusal> {
    let pseudonym = match (&params.pseudonym, params.all) {
        (Some(p), None | Some(false)) => Some(p.as_str()),
        (None, Some(true)) => None,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_value",
                "name what to delete: ?pseudonym=P for one person's records, or ?all=true for every record",
            )
            .with_field("pseudonym")
            .into());
        }
    };
    let deleted = state.partners.delete(&caller, pseudonym).await?;
    Ok(Json(json!({"deleted": deleted})))
}
