//! The one error type of the HTTP API.
//!
//! Every failure is answered as `{"error": {"code", "message", "field"?, "request_id"}}`
//! with a fitting status. `code` is stable and machine-readable; `message` says what was
//! wrong and how to fix it; `field` names the input at fault. Use the constructors
//! (`bad_request`, `not_found`, `conflict`, `unavailable`) for failures the caller can act
//! on, and [`ApiError::internal`] for everything else: its cause chain is logged and the
//! caller sees only an opaque message and the request id to quote.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use custos_store::StoreError;
use serde::Serialize;

/// An API failure, turned into a JSON response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    cause: Option<anyhow::Error>,
}

/// The JSON body of an error response (inside `{"error": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable, machine-readable error code.
    pub code: String,
    /// What was wrong and how to fix it.
    pub message: String,
    /// The input at fault, as a path such as `identity.email`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// The request id, to quote when asking for help.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody { code: code.to_owned(), message: message.into(), field: None, request_id: None },
            cause: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: the request is well-formed but a value is not acceptable.
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 404: no such thing.
    pub fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409: the request conflicts with what is stored.
    pub fn conflict(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 503: a dependency is down; try again later.
    pub fn unavailable(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    /// 500: a failure the caller cannot act on. The cause is logged, never sent.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "custos could not complete the request; quote the request id to the operator",
        );
        error.cause = Some(cause.into());
        error
    }

    /// Names the input at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.body.field = Some(field.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body as it will be sent (without the request id, added on the way out).
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found("not_found", format!("{what} does not exist")),
            StoreError::Conflict(what) => ApiError::conflict("conflict", what),
            err if err.is_storage_full() => {
                tracing::error!(error = %err, "the database's disk is full");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage_full",
                    "the database's disk is full, so nothing was stored; try again once the operator has freed space",
                )
            }
            err if err.is_unavailable() => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::unavailable("database_unavailable", "the database is not reachable; try again shortly")
            }
            err => ApiError::internal(err),
        }
    }
}

impl From<custos_engine::vault::VaultAccessError> for ApiError {
    /// A key store that is down or full is answered like the store (503, 507); any other
    /// vault failure is internal.
    fn from(err: custos_engine::vault::VaultAccessError) -> Self {
        match err {
            custos_engine::vault::VaultAccessError::Store(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

/// A records failure that the caller cannot act on: the store's or key store's outages
/// keep their status (503, 507), anything else is internal. Handlers map the failures the
/// caller can act on (denied, invalid, no subject) first.
pub(crate) fn access_failure(err: custos_engine::records::AccessError) -> ApiError {
    match err {
        custos_engine::records::AccessError::Store(e) => e.into(),
        custos_engine::records::AccessError::Vault(e) => e.into(),
        other => ApiError::internal(other),
    }
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        if let Some(cause) = &self.cause {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        // Where a refusal names no input, its status says which part of the request is at fault.
        if self.body.field.is_none() {
            let part = match self.status {
                StatusCode::NOT_FOUND | StatusCode::GONE => Some("path"),
                StatusCode::UNAUTHORIZED => Some("Authorization"),
                StatusCode::PAYLOAD_TOO_LARGE => Some("body"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => Some("Content-Type"),
                StatusCode::METHOD_NOT_ALLOWED => Some("method"),
                _ => None,
            };
            self.body.field = part.map(str::to_owned);
        }
        let mut response = (self.status, axum::Json(Envelope { error: &self.body })).into_response();
        // The telemetry layer re-renders the body with the request id.
        response.extensions_mut().insert(self.body);
        response
    }
}

/// `{"error": …}`.
#[derive(Serialize)]
pub(crate) struct Envelope<'a> {
    pub(crate) error: &'a ErrorBody,
}

/// The answer for a path no route serves.
pub(crate) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found("no_such_route", format!("no resource at {}", uri.path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses() {
        let cases = [
            (StoreError::NotFound("subject x".into()), StatusCode::NOT_FOUND, "not_found"),
            (StoreError::Conflict("email identifier is already held".into()), StatusCode::CONFLICT, "conflict"),
            (
                StoreError::Connect { target: "db".into(), reason: "refused".into() },
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
            ),
            (StoreError::Corrupt("bad row".into()), StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            (StoreError::Database(sqlx::Error::PoolTimedOut), StatusCode::SERVICE_UNAVAILABLE, "database_unavailable"),
            (
                StoreError::Database(sqlx::Error::Protocol("connection closed mid-answer".into())),
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
            ),
        ];
        for (err, status, code) in cases {
            let api = ApiError::from(err);
            assert_eq!((api.status(), api.body().code.as_str()), (status, code));
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let api = ApiError::internal(anyhow::anyhow!("connection to 10.0.0.5 reset"));
        assert!(!api.body().message.contains("10.0.0.5"));
    }
}
