//! Website analytics over HTTP (seed 2.2):
//!
//! - `POST /v1/events`: `{visitor_id?, events: [{kind, url, referrer?, entry?, duration_ms?}]}`
//!   from the tracker in the page (JSON, also as `text/plain`, which `navigator.sendBeacon`
//!   sends). A 2xx means the events are committed. `Sec-GPC: 1` counts the visit cookielessly.
//!   Each network may send `[limits] events_per_minute` requests a minute.
//! - `GET /v1/analytics/summary?from=…&to=…`: visitors, visits, frequency, page views,
//!   mean time on page, top pages, top entry pages, countries (a token with the analytics
//!   purpose).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::analytics::{AnalyticsError, EventKind, IncomingEvent, Visit};
use custos_engine::gate::Actor;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Service;
use crate::{ApiError, AppState};

/// The largest body `POST /v1/events` reads.
const MAX_BODY: usize = 256 * 1024;

/// Analytics' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(ingest, summary), tags((name = "analytics", description = "Website analytics without personal data")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/v1/events", post(ingest)).route("/v1/analytics/summary", get(summary))
}

/// A tracker's batch of events (sent as `application/json` or, by `sendBeacon`, `text/plain`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = EventBatch)]
struct Batch {
    visitor_id: Option<String>,
    events: Vec<Event>,
}

/// One page view, click or leave.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct Event {
    kind: Kind,
    url: String,
    referrer: Option<String>,
    #[serde(default)]
    entry: bool,
    duration_ms: Option<u64>,
}

/// What happened.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = EventKind)]
enum Kind {
    Pageview,
    Click,
    Leave,
}

#[utoipa::path(post, path = "/v1/events", tag = "analytics", security(()),
    request_body(content((Batch = "application/json"), (Batch = "text/plain"))),
    responses((status = 202, description = "Counted (or dropped, without consent)", body = Object),
              (status = 415, description = "`unsupported_media_type`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network", body = crate::openapi::ErrorEnvelope)))]
async fn ingest(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.limiters.events.check(peer.ip(), "event requests")?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !(mime.eq_ignore_ascii_case("application/json") || mime.eq_ignore_ascii_case("text/plain")) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the events as JSON",
        ));
    }
    if body.len() > MAX_BODY {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("send at most {MAX_BODY} bytes"),
        ));
    }
    let batch: Batch = crate::extract::parse(&body)?;
    let events: Vec<IncomingEvent> = batch
        .events
        .into_iter()
        .map(|e| IncomingEvent {
            kind: match e.kind {
                Kind::Pageview => EventKind::PageView,
                Kind::Click => EventKind::Click,
                Kind::Leave => EventKind::Leave,
            },
            url: e.url,
            referrer: e.referrer,
            entry: e.entry,
            duration_ms: e.duration_ms,
        })
        .collect();
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let site = site(header_text("origin"), header_text("host"));
    let visit = Visit {
        cookie_id: batch.visitor_id.as_deref(),
        ip: peer.ip(),
        user_agent: header_text("user-agent"),
        gpc: header_text("sec-gpc").trim() == "1",
        site: &site,
    };
    let (mode, stored) = state.analytics.ingest(&visit, &events).await.map_err(|e| match e {
        AnalyticsError::Invalid { field, message } => {
            ApiError::invalid("invalid_value", format!("{field}: {message}")).with_field(field)
        }
        AnalyticsError::Store(e) => e.into(),
    })?;
    Ok((StatusCode::ACCEPTED, Json(json!({"stored": stored, "recorded": mode}))))
}

/// The site the events come from: the Origin's host, else the Host header.
fn site(origin: &str, host: &str) -> String {
    let from_origin = origin.split_once("://").map(|(_, rest)| rest);
    from_origin.unwrap_or(host).split(':').next().unwrap_or("").to_ascii_lowercase()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Period {
    /// Start, RFC 3339.
    #[param(value_type = String, format = DateTime)]
    from: jiff::Timestamp,
    /// End, RFC 3339.
    #[param(value_type = String, format = DateTime)]
    to: jiff::Timestamp,
}

#[utoipa::path(get, path = "/v1/analytics/summary", tag = "analytics", security(("service_token" = [])),
    params(Period),
    responses((status = 200, description = "Visits, pages, referrers and countries in the period", body = Object),
              (status = 403, description = "`actor_not_scoped`", body = crate::openapi::ErrorEnvelope)))]
async fn summary(
    State(state): State<AppState>,
    Service(actor): Service,
    period: Result<Query<Period>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let analytics_purpose =
        state.policy.purposes.iter().find(|p| p.cookie_categories.contains(&custos_policy::CookieCategory::Analytics));
    let allowed = match (&actor, analytics_purpose) {
        (Actor::Service { purposes, .. }, Some(p)) => purposes.contains(&p.id),
        _ => false,
    };
    if !allowed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "actor_not_scoped",
            "the token is not granted the analytics purpose",
        ));
    }
    let Query(period) = period.map_err(|e| {
        ApiError::bad_request("invalid_period", format!("give from and to as RFC 3339 times: {}", e.body_text()))
            .with_field("from")
    })?;
    let summary = state.analytics.summary(period.from, period.to).await?;
    Ok(Json(serde_json::to_value(summary).unwrap_or_default()))
}
