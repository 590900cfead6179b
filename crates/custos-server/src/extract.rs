//! Request extractors whose failures are [`ApiError`]s that name the field at fault. Both
//! refuse text holding U+0000 ([`crate::nul`]) before the handler sees it.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body, like `axum::Json`, but whose errors say which field was wrong and where:
/// `{"code": "invalid_field", "field": "identity.email", "message": "identity.email: invalid
/// type: integer `5`, expected a string (line 1, column 27)"}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            )
            .with_field("Content-Type"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(e.status(), "body_too_large", "the body is larger than this endpoint accepts (2 MiB)")
                    .with_field("body")
            } else {
                ApiError::bad_request("unreadable_body", format!("the request body could not be read: {e}"))
                    .with_field("body")
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as a `T`, with errors that carry the JSON path and position. A string
/// holding U+0000 anywhere in the body is refused first (`422 invalid_value`, its path named).
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::nul::check_json(bytes)?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = value.map_err(|err| {
        let path = err.path().to_string();
        (path, err.into_inner())
    });
    let value = value.and_then(|v| de.end().map(|()| v).map_err(|e| (".".to_owned(), e)));
    value.map_err(|(path, inner)| {
        let position = format!("line {}, column {}", inner.line(), inner.column());
        // serde's message ends with its own position; keep only the description.
        let text = inner.to_string();
        let text = text.split(" at line ").next().unwrap_or(&text).to_owned();
        match inner.classify() {
            serde_json::error::Category::Data if path != "." => {
                ApiError::invalid("invalid_field", format!("{path}: {text} ({position})")).with_field(path)
            }
            serde_json::error::Category::Data => {
                ApiError::invalid("invalid_body", format!("{text} ({position})")).with_field("body")
            }
            _ => ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {text} ({position})"))
                .with_field("body"),
        }
    })
}

/// A form post, like `axum::Form` (whose behaviour and refusals it keeps), but a field whose
/// name or value holds U+0000 is refused with `422 invalid_value` naming the field.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        // GET and HEAD read the query string (checked by `nul::refuse_in_url`); other
        // encodings are refused by axum's extractor.
        let reads_body = !matches!(*req.method(), Method::GET | Method::HEAD);
        let req = if is_form && reads_body {
            // The same request again after its body is read, for axum's extractor.
            let mut again = Request::new(Body::empty());
            *again.method_mut() = req.method().clone();
            *again.uri_mut() = req.uri().clone();
            *again.version_mut() = req.version();
            *again.headers_mut() = req.headers().clone();
            *again.extensions_mut() = req.extensions().clone();
            let bytes = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
            crate::nul::check_pairs(form_urlencoded::parse(&bytes)).map_err(IntoResponse::into_response)?;
            *again.body_mut() = Body::from(bytes);
            again
        } else {
            req
        };
        let axum::Form(value) = axum::Form::<T>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        Ok(Self(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Request {
        identity: Identity,
        kind: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Identity {
        email: String,
    }

    #[test]
    fn names_the_field_and_position() {
        let err = parse::<Request>(br#"{"kind": "access", "identity": {"email": 5}}"#).expect_err("bad type");
        assert_eq!(err.body().code, "invalid_field");
        assert_eq!(err.body().field.as_deref(), Some("identity.email"));
        assert!(err.body().message.starts_with("identity.email: invalid type: integer `5`"), "{}", err.body().message);
        assert!(err.body().message.contains("line 1, column 42"), "{}", err.body().message);
    }

    #[test]
    fn names_missing_and_unknown_fields() {
        let err = parse::<Request>(br#"{"identity": {"email": "a@b.example"}}"#).expect_err("missing");
        assert_eq!(err.body().code, "invalid_body");
        assert!(err.body().message.contains("missing field `kind`"), "{}", err.body().message);
        let err = parse::<Request>(br#"{"kind": "x", "identity": {"email": "a@b.example", "phone": "1"}}"#)
            .expect_err("unknown");
        assert_eq!(err.body().field.as_deref(), Some("identity.phone"));
        assert!(err.body().message.contains("unknown field `phone`"), "{}", err.body().message);
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let err = parse::<Request>(b"{\"kind\": ").expect_err("truncated");
        assert_eq!((err.status().as_u16(), err.body().code.as_str()), (400, "malformed_json"));
        let err = parse::<Request>(br#"{"kind": "x", "identity": {"email": "e"}} trailing"#).expect_err("trailing");
        assert_eq!(err.body().code, "malformed_json");
    }
}
