//! The privacy notice and its history (seed 10), generated from the policy in force.
//!
//! - `GET /privacy`: the notice as an accessible HTML page;
//! - `GET /privacy.md` and `GET /privacy.json`: the same as Markdown and as the policy model;
//! - `GET /privacy/versions`: every version ever in force;
//! - `GET /privacy/versions/{hash}`: one past version, as the policy model;
//! - `GET /privacy/diff?from=HASH&to=HASH`: what changed between two versions.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use custos_engine::policy::{self, PolicyHistoryError};
use custos_policy::render::{Format, render};
use custos_policy::{Policy, PolicyVersion};
use serde::{Deserialize, Serialize};

use crate::{ApiError, AppState};

/// The notice, rendered once when the server starts (the policy does not change while it runs).
#[derive(Debug)]
pub struct RenderedNotice {
    /// The version in force.
    pub version: PolicyVersion,
    html: String,
    markdown: String,
    json: String,
}

impl RenderedNotice {
    /// Renders `policy`'s notice, linking the privacy center at `privacy_center` if given.
    pub fn new(policy: &Policy, privacy_center: Option<&str>) -> Self {
        Self {
            version: policy.version(),
            html: render(policy, Format::Html, privacy_center),
            markdown: render(policy, Format::Markdown, privacy_center),
            json: render(policy, Format::Json, privacy_center),
        }
    }
}

/// The notice's JSON part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(json, versions, one_version, diff), tags((name = "notice", description = "The privacy notice and its history")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/privacy", get(html))
        .route("/privacy.md", get(markdown))
        .route("/privacy.json", get(json))
        .route("/privacy/versions", get(versions))
        .route("/privacy/versions/{hash}", get(one_version))
        .route("/privacy/diff", get(diff))
}

async fn html(State(state): State<AppState>) -> impl IntoResponse {
    Html(state.notice.html.clone())
}

async fn markdown(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], state.notice.markdown.clone())
}

#[utoipa::path(get, path = "/privacy.json", tag = "notice", security(()),
    responses((status = 200, description = "The policy in force, as its model", body = Object)))]
async fn json(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], state.notice.json.clone())
}

/// One entry of the version list.
#[derive(Debug, Serialize)]
struct VersionEntry {
    hash: String,
    label: String,
    effective: String,
    first_seen_at: String,
    current: bool,
}

#[utoipa::path(get, path = "/privacy/versions", tag = "notice", security(()),
    responses((status = 200, description = "`{current, versions}`: every version ever in force", body = Object)))]
async fn versions(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let current = &state.notice.version.hash;
    let list: Vec<VersionEntry> = policy::history(&state.store)
        .await?
        .into_iter()
        .map(|v| VersionEntry {
            current: &v.hash == current,
            hash: v.hash,
            label: v.label,
            effective: v.effective,
            first_seen_at: v.first_seen_at.to_string(),
        })
        .collect();
    Ok(Json(serde_json::json!({ "current": current, "versions": list })))
}

#[utoipa::path(get, path = "/privacy/versions/{hash}", tag = "notice", security(()),
    params(("hash" = String, Path, description = "A version's hash")),
    responses((status = 200, description = "That version of the policy", body = Object),
              (status = 404, description = "`unknown_policy_version`", body = crate::openapi::ErrorEnvelope)))]
async fn one_version(State(state): State<AppState>, Path(hash): Path<String>) -> Result<Json<Policy>, ApiError> {
    Ok(Json(policy::version(&state.store, version_hash(&hash)?).await.map_err(history_error)?))
}

/// `?from=HASH&to=HASH`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older version's hash.
    from: String,
    /// The newer version's hash.
    to: String,
}

#[utoipa::path(get, path = "/privacy/diff", tag = "notice", security(()),
    params(DiffQuery),
    responses((status = 200, description = "What changed between two versions", body = Object),
              (status = 404, description = "`unknown_policy_version`", body = crate::openapi::ErrorEnvelope)))]
async fn diff(
    State(state): State<AppState>,
    query: Result<Query<DiffQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<custos_policy::PolicyDiff>, ApiError> {
    let Query(q) = query.map_err(|_| {
        ApiError::bad_request("missing_parameter", "give both versions: /privacy/diff?from=HASH&to=HASH")
            .with_field("from")
    })?;
    Ok(Json(policy::diff(&state.store, version_hash(&q.from)?, version_hash(&q.to)?).await.map_err(history_error)?))
}

/// `hash` when it can be a version's hash (hex digits, a short prefix or the whole); anything
/// else (a NUL byte, which PostgreSQL refuses in text, bidi controls, a megabyte) is
/// answered as an unknown version without asking the store.
fn version_hash(hash: &str) -> Result<&str, ApiError> {
    if !hash.is_empty() && hash.len() <= 128 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(hash);
    }
    Err(ApiError::not_found(
        "unknown_policy_version",
        "a policy version is named by its hash (hex digits); see /privacy/versions",
    )
    .with_field("hash"))
}

fn history_error(err: PolicyHistoryError) -> ApiError {
    match err {
        PolicyHistoryError::UnknownVersion(hash) => ApiError::not_found(
            "unknown_policy_version",
            format!("no policy version `{hash}` was ever in force; see /privacy/versions"),
        ),
        PolicyHistoryError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}
