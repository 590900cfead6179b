//! The middleware every request passes through, outermost first:
//! 1. a request id (`x-request-id`: the caller's, or a new UUID), echoed in the response;
//! 2. a tracing span with method, matched route and request id, closed with status and
//!    latency (the raw path and query are never logged: they may hold personal data);
//! 3. error bodies re-rendered with the request id;
//! 4. request count and latency per matched route;
//! 5. refusals from axum itself given the one error shape, and the security headers on
//!    every response (see `hardening`);
//! 6. a path or query string holding an encoded NUL refused (see `nul`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, Response};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::Metrics;
use crate::error::{Envelope, ErrorBody};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of a request: its matched route template, or `unmatched`.
fn route_of<B>(request: &axum::http::Request<B>) -> String {
    request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

fn request_id_of<B>(request: &axum::http::Request<B>) -> Option<String> {
    request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Wraps `router` in the middleware above.
pub(crate) fn layer(router: Router, metrics: Arc<Metrics>) -> Router {
    router
        .layer(middleware::from_fn(crate::nul::refuse_in_url))
        .layer(middleware::from_fn(crate::hardening::stable_errors))
        .layer(middleware::from_fn_with_state(metrics, record_metrics))
        .layer(middleware::from_fn(error_bodies_with_request_id))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<_>| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        route = %route_of(request),
                        request_id = request_id_of(request).unwrap_or_default(),
                    )
                })
                .on_request(())
                .on_response(|response: &Response<_>, latency: Duration, _span: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_secs_f64() * 1e3,
                        "answered"
                    );
                })
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(middleware::from_fn(crate::hardening::security_headers))
        .layer(middleware::from_fn(crate::hardening::close_after_refused_body))
}

async fn record_metrics(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> impl IntoResponse {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = route_of(&request);
    let response = next.run(request).await;
    metrics.observe_request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

async fn error_bodies_with_request_id(request: Request, next: Next) -> axum::response::Response {
    let request_id = request_id_of(&request);
    let response = next.run(request).await;
    let Some(body) = response.extensions().get::<ErrorBody>().cloned() else {
        return response;
    };
    let body = ErrorBody { request_id, ..body };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let fresh = axum::Json(Envelope { error: &body }).into_response();
    let (_, fresh_body) = fresh.into_parts();
    Response::from_parts(parts, fresh_body)
}
