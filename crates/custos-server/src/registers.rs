//! The governance registers over HTTP, for staff tools (seed 4, 7, 11):
//!
//! - `GET /v1/holds[?all=true]`, `POST /v1/holds` `{scope, target?, reason, placed_by, until?}`,
//!   `POST /v1/holds/{id}/release` `{released_by, reason}`;
//! - `GET /v1/breaches`, `POST /v1/breaches` `{detected_at?, nature, categories, systems,
//!   measures, consequences, keys_exposed, window_start, window_end, opened_by}`,
//!   `GET /v1/breaches/{id}` (with its 72-hour clock), `GET /v1/breaches/{id}/affected`,
//!   `GET /v1/breaches/{id}/draft[?format=text]` (the Art. 33(3) notification),
//!   `POST /v1/breaches/{id}/notify-authority` `{delay_reason?}`,
//!   `POST /v1/breaches/{id}/notify-people`;
//! - `GET /v1/legal-requests`, `POST /v1/legal-requests` `{authority, legal_basis, scope,
//!   received_at?, recorded_by}`, `GET /v1/legal-requests/{id}` (with what was disclosed),
//!   `POST /v1/legal-requests/{id}/decision` `{decision, decided_by, reason}`,
//!   `POST /v1/legal-requests/{id}/disclosures` `{recipient, subjects, purpose, categories}`;
//! - `GET /v1/retention/sweeps`: the latest retention sweeps and what each deleted.
//!
//! These JSON routes are for staff tools, not the admin console's signed-in pages (the
//! console does not show the registers yet): they take a service token that holds a
//! purpose resting on a legal obligation or serving legal claims ([`Staff`]), such as the
//! one a DPO's tool is issued. Every change is audited under the token's name; the register
//! text names who acted.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::gate::Actor;
use custos_engine::governance::breach::{Breaches, NewBreach};
use custos_engine::governance::disclose::DisclosureRequest;
use custos_engine::governance::holds::NewHold;
use custos_engine::governance::legal::{Decision, NewLegalRequest};
use custos_policy::LegalBasis;
use custos_store::{Breach, LegalHold, LegalRequest, RetentionSweep};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Service;
use crate::disclosures::{disclosed_json, disclosure_json, error};
use crate::{ApiError, ApiJson, AppState};

/// The governance registers' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(holds, place_hold, release_hold, breaches, open_breach, breach, affected, draft, notify_authority, notify_people, legal_requests, register_legal, legal_request, decide_legal, disclose_legal, sweeps),
    tags((name = "registers", description = "Legal holds, breaches, legal requests and retention sweeps, for staff tools")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/holds", get(holds).post(place_hold))
        .route("/v1/holds/{id}/release", post(release_hold))
        .route("/v1/breaches", get(breaches).post(open_breach))
        .route("/v1/breaches/{id}", get(breach))
        .route("/v1/breaches/{id}/affected", get(affected))
        .route("/v1/breaches/{id}/draft", get(draft))
        .route("/v1/breaches/{id}/notify-authority", post(notify_authority))
        .route("/v1/breaches/{id}/notify-people", post(notify_people))
        .route("/v1/legal-requests", get(legal_requests).post(register_legal))
        .route("/v1/legal-requests/{id}", get(legal_request))
        .route("/v1/legal-requests/{id}/decision", post(decide_legal))
        .route("/v1/legal-requests/{id}/disclosures", post(disclose_legal))
        .route("/v1/retention/sweeps", get(sweeps))
}

/// A staff tool: a service token holding a purpose that rests on a legal obligation or
/// serves legal claims.
#[derive(Debug, Clone)]
pub(crate) struct Staff(pub(crate) Actor);

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Service(actor) = Service::from_request_parts(parts, state).await?;
        let allowed = match &actor {
            Actor::Service { purposes, .. } => purposes.iter().any(|p| {
                state.policy.purpose(p).is_some_and(|p| p.legal_basis == LegalBasis::LegalObligation || p.legal_claims)
            }),
            _ => false,
        };
        if !allowed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "not_a_staff_token",
                "the governance registers need a token holding a legal-obligation or legal-claims purpose",
            )
            .with_field("Authorization"));
        }
        Ok(Staff(actor))
    }
}

fn hold_json(h: &LegalHold) -> Value {
    json!({
        "id": h.id, "scope": h.scope, "target": h.target, "reason": h.reason, "placed_by": h.placed_by,
        "placed_at": h.placed_at, "until": h.until, "released_at": h.released_at, "released_by": h.released_by,
        "release_reason": h.release_reason,
    })
}

fn breach_json(b: &Breach, breaches: &Breaches) -> Value {
    let clock = breaches.deadline(b);
    json!({
        "id": b.id, "detected_at": b.detected_at, "nature": b.nature, "categories": b.categories,
        "systems": b.systems, "measures": b.measures, "consequences": b.consequences,
        "keys_exposed": b.keys_exposed, "window_start": b.window_start, "window_end": b.window_end,
        "opened_by": b.opened_by, "notified_at": b.notified_at, "delay_reason": b.delay_reason,
        "due_at": clock.due_at, "overdue": clock.overdue, "hours_left": clock.hours_left,
    })
}

fn legal_json(r: &LegalRequest) -> Value {
    json!({
        "id": r.id, "authority": r.authority, "legal_basis": r.legal_basis, "scope": r.scope,
        "received_at": r.received_at, "decision": r.decision, "decided_by": r.decided_by,
        "decided_at": r.decided_at, "reason": r.reason, "recorded_by": r.recorded_by,
    })
}

fn sweep_json(s: &RetentionSweep) -> Value {
    json!({
        "id": s.id, "started_at": s.started_at, "cutoff": s.cutoff, "state": s.state,
        "deleted": s.deleted, "held": s.held, "finished_at": s.finished_at,
    })
}

fn id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::bad_request("bad_id", format!("`{raw}` is not an id")).with_field("id"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AllQuery {
    /// Released holds too.
    #[serde(default)]
    all: bool,
}

#[utoipa::path(get, path = "/v1/holds", tag = "registers", security(("service_token" = [])),
    params(AllQuery),
    responses((status = 200, description = "`{holds}`: in force, or all with `?all=true`", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn holds(
    State(state): State<AppState>,
    Staff(_): Staff,
    query: Result<Query<AllQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()).with_field("all"))?;
    let list = state.governance.holds.list(q.all).await?;
    Ok(Json(json!({"holds": list.iter().map(hold_json).collect::<Vec<_>>()})))
}

#[utoipa::path(post, path = "/v1/holds", tag = "registers", security(("service_token" = [])),
    request_body = NewHold,
    responses((status = 201, description = "The hold", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn place_hold(
    State(state): State<AppState>,
    Staff(actor): Staff,
    ApiJson(body): ApiJson<NewHold>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let hold = state.governance.holds.place(&actor, &body).await.map_err(error)?;
    Ok((StatusCode::CREATED, Json(hold_json(&hold))))
}

/// Who releases a hold, and why.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HoldRelease)]
struct Release {
    released_by: String,
    reason: String,
}

#[utoipa::path(post, path = "/v1/holds/{id}/release", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The hold (a UUID)")),
    request_body = Release,
    responses((status = 200, description = "The hold, released", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn release_hold(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Release>,
) -> Result<Json<Value>, ApiError> {
    let hold =
        state.governance.holds.release(&actor, id(&raw)?, &body.released_by, &body.reason).await.map_err(error)?;
    Ok(Json(hold_json(&hold)))
}

#[utoipa::path(get, path = "/v1/breaches", tag = "registers", security(("service_token" = [])),
    responses((status = 200, description = "`{breaches}`", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn breaches(State(state): State<AppState>, Staff(_): Staff) -> Result<Json<Value>, ApiError> {
    let b = &state.governance.breaches;
    let list = b.list(200).await?;
    Ok(Json(json!({"breaches": list.iter().map(|x| breach_json(x, b)).collect::<Vec<_>>()})))
}

#[utoipa::path(post, path = "/v1/breaches", tag = "registers", security(("service_token" = [])),
    request_body = NewBreach,
    responses((status = 201, description = "The breach, with its 72-hour clock", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn open_breach(
    State(state): State<AppState>,
    Staff(actor): Staff,
    ApiJson(body): ApiJson<NewBreach>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = &state.governance.breaches;
    let breach = b.open(&actor, &body).await.map_err(error)?;
    Ok((StatusCode::CREATED, Json(breach_json(&breach, b))))
}

#[utoipa::path(get, path = "/v1/breaches/{id}", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The breach (a UUID)")),
    responses((status = 200, description = "The breach, with its 72-hour clock", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn breach(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let b = &state.governance.breaches;
    let breach = b.get(id(&raw)?).await.map_err(error)?;
    Ok(Json(breach_json(&breach, b)))
}

#[utoipa::path(get, path = "/v1/breaches/{id}/affected", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The breach (a UUID)")),
    responses((status = 200, description = "The people affected", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn affected(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let affected = state.governance.breaches.affected(id(&raw)?).await.map_err(error)?;
    Ok(Json(serde_json::to_value(&affected).map_err(ApiError::internal)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DraftQuery {
    /// `json` (the default) or `text`.
    format: Option<String>,
}

#[utoipa::path(get, path = "/v1/breaches/{id}/draft", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The breach (a UUID)"), DraftQuery),
    responses((status = 200, description = "The Art. 33(3) notification, as JSON (or text with `?format=text`)", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn draft(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(raw): Path<String>,
    query: Result<Query<DraftQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("bad_query", e.body_text()).with_field("format"))?;
    let draft = state.governance.breaches.draft(id(&raw)?).await.map_err(error)?;
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(draft).into_response()),
        Some("text") => Ok(custos_engine::governance::breach::draft_text(&draft).into_response()),
        Some(other) => {
            Err(ApiError::bad_request("bad_query", format!("format `{other}`: use json or text")).with_field("format"))
        }
    }
}

/// Why the notification comes after 72 hours, when it does.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NotifyAuthority {
    #[serde(default)]
    delay_reason: Option<String>,
}

#[utoipa::path(post, path = "/v1/breaches/{id}/notify-authority", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The breach (a UUID)")),
    request_body = NotifyAuthority,
    responses((status = 200, description = "The breach, notified", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn notify_authority(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<NotifyAuthority>,
) -> Result<Json<Value>, ApiError> {
    let b = &state.governance.breaches;
    let breach = b.notify_authority(&actor, id(&raw)?, body.delay_reason.as_deref()).await.map_err(error)?;
    Ok(Json(breach_json(&breach, b)))
}

#[utoipa::path(post, path = "/v1/breaches/{id}/notify-people", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The breach (a UUID)")),
    responses((status = 200, description = "How many people are told", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn notify_people(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let queued = state.governance.breaches.notify_people(&actor, id(&raw)?).await.map_err(error)?;
    Ok(Json(json!({"queued": queued})))
}

#[utoipa::path(get, path = "/v1/legal-requests", tag = "registers", security(("service_token" = [])),
    responses((status = 200, description = "`{legal_requests}`", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn legal_requests(State(state): State<AppState>, Staff(_): Staff) -> Result<Json<Value>, ApiError> {
    let list = state.governance.legal.list(200).await?;
    Ok(Json(json!({"legal_requests": list.iter().map(legal_json).collect::<Vec<_>>()})))
}

#[utoipa::path(post, path = "/v1/legal-requests", tag = "registers", security(("service_token" = [])),
    request_body = NewLegalRequest,
    responses((status = 201, description = "The request", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn register_legal(
    State(state): State<AppState>,
    Staff(actor): Staff,
    ApiJson(body): ApiJson<NewLegalRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = state.governance.legal.register(&actor, &body).await.map_err(error)?;
    Ok((StatusCode::CREATED, Json(legal_json(&request))))
}

#[utoipa::path(get, path = "/v1/legal-requests/{id}", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The request (a UUID)")),
    responses((status = 200, description = "The request with what was disclosed", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn legal_request(
    State(state): State<AppState>,
    Staff(_): Staff,
    Path(raw): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = id(&raw)?;
    let request = state.governance.legal.get(id).await.map_err(error)?;
    let disclosed = state.governance.legal.disclosures(id).await?;
    let mut body = legal_json(&request);
    body["disclosures"] = disclosed.iter().map(disclosure_json).collect();
    Ok(Json(body))
}

#[utoipa::path(post, path = "/v1/legal-requests/{id}/decision", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The request (a UUID)")),
    request_body = Decision,
    responses((status = 200, description = "The request, decided", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn decide_legal(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<Json<Value>, ApiError> {
    let request = state.governance.legal.decide(&actor, id(&raw)?, &body).await.map_err(error)?;
    Ok(Json(legal_json(&request)))
}

#[utoipa::path(post, path = "/v1/legal-requests/{id}/disclosures", tag = "registers", security(("service_token" = [])),
    params(("id" = String, Path, description = "The request (a UUID)")),
    request_body = DisclosureRequest,
    responses((status = 201, description = "What was disclosed", body = Object), (status = 404, description = "`not_found`", body = crate::openapi::ErrorEnvelope), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn disclose_legal(
    State(state): State<AppState>,
    Staff(actor): Staff,
    Path(raw): Path<String>,
    ApiJson(body): ApiJson<DisclosureRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let done = state.governance.legal.disclose(&actor, id(&raw)?, &body).await.map_err(error)?;
    Ok((StatusCode::CREATED, Json(disclosed_json(&done))))
}

#[utoipa::path(get, path = "/v1/retention/sweeps", tag = "registers", security(("service_token" = [])),
    responses((status = 200, description = "The latest retention sweeps and what each deleted", body = Object), (status = 403, description = "`not_a_staff_token`", body = crate::openapi::ErrorEnvelope)))]
async fn sweeps(State(state): State<AppState>, Staff(_): Staff) -> Result<Json<Value>, ApiError> {
    let list = state.governance.retention.history(50).await?;
    Ok(Json(json!({"sweeps": list.iter().map(sweep_json).collect::<Vec<_>>()})))
}
