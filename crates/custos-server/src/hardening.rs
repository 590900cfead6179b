//! Three layers every response passes through:
//!
//! - [`stable_errors`]: a refusal that did not come from a handler (axum's own answers to a
//!   path segment or a query string that does not parse, a body it cannot read, a method
//!   the route does not serve) is given the one error shape, `{"error": {"code", "message",
//!   "field"}}`, instead of axum's plain text, so that every 4xx names what was wrong and
//!   where with a stable code.
//! - [`security_headers`]: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
//!   `X-Frame-Options: DENY` and a `Content-Security-Policy` on every response that does not
//!   set its own (the admin console and the demo page set theirs): nothing may frame custos,
//!   JSON answers may load nothing, HTML pages only their own styles and images.
//! - [`close_after_refused_body`]: a refusal of a request that carried a body says
//!   `Connection: close`. A request refused before its body was read (a bad path, a
//!   missing token) leaves the rest of the body on the connection, and the server closes
//!   it after the answer; said in the answer, the client opens a new connection for its
//!   next request instead of finding this one closed under it.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::ApiError;
use crate::error::ErrorBody;

/// The policy of answers that are not HTML: they load and run nothing.
const CSP_API: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// The policy of HTML pages (the notice, the privacy center): their own inline styles, the
/// operator's logo over HTTPS, forms posted back to custos, requests to custos itself (a
/// browser extension or a test fetching a download link from the page); no scripts.
const CSP_PAGES: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; \
                         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The most of axum's plain-text refusal this reads to put in the message.
const MAX_TEXT: usize = 4096;

pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let csp = if is_html { CSP_PAGES } else { CSP_API };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("no-referrer"));
    headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    response
}

pub(crate) async fn close_after_refused_body(req: Request, next: Next) -> Response {
    let http1 = matches!(req.version(), axum::http::Version::HTTP_10 | axum::http::Version::HTTP_11);
    let headers = req.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    let mut response = next.run(req).await;
    let status = response.status();
    if http1 && has_body && (status.is_client_error() || status.is_server_error()) {
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

pub(crate) async fn stable_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || response.extensions().get::<ErrorBody>().is_some() {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let plain = content_type.starts_with("text/plain");
    // A bodiless 405 or 404 from the router; the DRP's bare 403 is what its protocol asks.
    let bare_router_answer = content_type.is_empty()
        && matches!(status, StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_FOUND | StatusCode::PAYLOAD_TOO_LARGE);
    if !plain && !bare_router_answer {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, MAX_TEXT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let mut error = refusal(status, text.trim());
    if let Some(allow) = parts.headers.get(header::ALLOW).and_then(|v| v.to_str().ok()) {
        error = ApiError::new(status, "method_not_allowed", format!("this resource answers only {allow}"))
            .with_field("method");
    }
    let mut fresh = error.into_response();
    // Keep what the router said besides the body (Allow, for one).
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    *fresh.status_mut() = parts.status;
    fresh
}

/// axum's refusal `text` at `status` as an [`ApiError`] naming the part of the request at fault.
fn refusal(status: StatusCode, text: &str) -> ApiError {
    let text =
        if text.is_empty() { status.canonical_reason().unwrap_or("refused").to_owned() } else { text.to_owned() };
    let lower = text.to_ascii_lowercase();
    let (code, field) = if lower.contains("query string") {
        ("invalid_query", "query")
    } else if lower.contains("invalid url") || lower.contains("path param") || lower.contains("cannot parse") {
        ("invalid_path", "path")
    } else {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "body"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "Content-Type"),
            StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method"),
            StatusCode::NOT_FOUND => ("no_such_route", "path"),
            StatusCode::UNPROCESSABLE_ENTITY => ("invalid_body", "body"),
            s if s.is_server_error() => ("internal", "request"),
            _ => ("bad_request", "request"),
        }
    };
    if status.is_server_error() {
        return ApiError::new(
            status,
            code,
            "custos could not complete the request; quote the request id to the operator",
        );
    }
    ApiError::new(status, code, text).with_field(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axum_refusals_name_the_part_at_fault() {
        let path = refusal(StatusCode::BAD_REQUEST, "Invalid URL: Cannot parse `x` to a `u128`");
        assert_eq!((path.body().code.as_str(), path.body().field.as_deref()), ("invalid_path", Some("path")));
        let query = refusal(StatusCode::BAD_REQUEST, "Failed to deserialize query string: missing field `a`");
        assert_eq!((query.body().code.as_str(), query.body().field.as_deref()), ("invalid_query", Some("query")));
        let large = refusal(StatusCode::PAYLOAD_TOO_LARGE, "");
        assert_eq!(large.body().code, "body_too_large");
        let internal = refusal(StatusCode::INTERNAL_SERVER_ERROR, "panic at 10.0.0.5");
        assert!(!internal.body().message.contains("10.0.0.5"));
    }
}
