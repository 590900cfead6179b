//! The website's forms over HTTP (seed 1, 2.2): `POST /v1/forms/contact` and
//! `POST /v1/forms/signup`, as JSON, as classic form posts
//! (`application/x-www-form-urlencoded`) or, with attachments, as `multipart/form-data`.
//!
//! Fields: `name`, `email`, `phone` (contact), `message` (contact), `attachments` (contact,
//! files), `consent` (repeated: the consent purposes ticked; `consents` in JSON), and the
//! honeypot `website`, which people never see and bots fill in: such a post is answered as
//! a success and stored nowhere. Each address may post a few forms a minute. Classic form
//! posts are answered with a redirect back to the page, JSON with JSON.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Json, Router};
use custos_engine::collect::{Attachment, ContactForm, FormError, SignupForm};
use custos_engine::records::AccessError;
use serde::Deserialize;
use serde_json::json;

use crate::{ApiError, AppState};

/// The largest attachment accepted (10 MiB).
pub(crate) const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;

/// The forms' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(contact, signup), tags((name = "forms", description = "The website's contact and sign-up forms")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/forms/contact", post(contact))
        .route("/v1/forms/signup", post(signup))
        // Bodies past this are refused while they are read, never buffered whole.
        .layer(DefaultBodyLimit::max(MAX_ATTACHMENT + 1024 * 1024))
}

/// The fields of either form, however they were sent.
/// A form's fields (as JSON, URL-encoded or multipart with `attachments` files).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FormFields)]
struct Fields {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    phone: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    consents: Vec<String>,
    #[serde(default)]
    website: String,
    #[serde(skip)]
    #[schema(ignore)]
    attachments: Vec<Attachment>,
}

/// Whether the sender is a browser posting a classic form (answered with a redirect).
fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

async fn read_fields(request: Request, state: &AppState) -> Result<Fields, ApiError> {
    let mime =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if mime.starts_with("application/json") {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(too_large)?;
        return crate::extract::parse(&bytes);
    }
    if mime.starts_with("application/x-www-form-urlencoded") {
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(too_large)?;
        let mut fields = Fields::default();
        for (key, value) in url::form_urlencoded::parse(&bytes) {
            set(&mut fields, &key, value.into_owned())?;
        }
        return Ok(fields);
    }
    if mime.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state).await.map_err(|e| {
            ApiError::bad_request("malformed_form", format!("the form could not be read: {e}")).with_field("body")
        })?;
        let mut fields = Fields::default();
        while let Some(field) = multipart.next_field().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("attachments may be at most {MAX_ATTACHMENT} bytes"),
                )
            } else {
                ApiError::bad_request("malformed_form", format!("the form could not be read: {e}")).with_field("body")
            }
        })? {
            let key = field.name().unwrap_or("").to_owned();
            if key == "attachments" {
                let filename = field.file_name().unwrap_or("attachment").to_owned();
                crate::nul::check_pairs([("attachments", filename.as_str())])?;
                let bytes = field.bytes().await.map_err(|_| {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("attachments may be at most {MAX_ATTACHMENT} bytes"),
                    )
                })?;
                if !bytes.is_empty() {
                    fields.attachments.push(Attachment { filename, bytes: bytes.to_vec() });
                }
            } else {
                let value = field
                    .text()
                    .await
                    .map_err(|e| ApiError::bad_request("malformed_form", e.to_string()).with_field(key.clone()))?;
                set(&mut fields, &key, value)?;
            }
        }
        return Ok(fields);
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the form as JSON, application/x-www-form-urlencoded or multipart/form-data",
    ))
}

fn too_large(e: axum::extract::rejection::BytesRejection) -> ApiError {
    ApiError::new(e.status(), "body_too_large", e.body_text())
}

/// Sets field `key` of a URL-encoded or multipart form; text holding U+0000 is refused.
fn set(fields: &mut Fields, key: &str, value: String) -> Result<(), ApiError> {
    crate::nul::check_pairs([(key, value.as_str())])?;
    match key {
        "name" => fields.name = value,
        "email" => fields.email = value,
        "phone" => fields.phone = Some(value),
        "message" => fields.message = value,
        "consent" | "consents" | "consents[]" => fields.consents.push(value),
        "website" => fields.website = value,
        other => {
            return Err(ApiError::invalid("unknown_field", format!("the form has no field `{other}`"))
                .with_field(other.to_owned()));
        }
    }
    Ok(())
}

/// The answer: JSON, or for a classic form post a redirect back to the page. It depends on
/// the post alone, never on whom the address belongs to: `confirm_by_email` says that a
/// link was mailed to confirm a direct-marketing consent the post asked for.
fn answer(headers: &HeaderMap, which: &str, confirm_by_email: bool) -> Response {
    if wants_html(headers) {
        let back = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("/demo");
        let back = back.split('?').next().unwrap_or("/demo");
        return Redirect::to(&format!("{back}?sent={which}")).into_response();
    }
    (StatusCode::CREATED, Json(json!({"received": true, "confirm_by_email": confirm_by_email}))).into_response()
}

/// Whether a post ticking `consents` asks for a direct-marketing consent (confirmed by email).
fn asks_direct_marketing(state: &AppState, consents: &[String]) -> bool {
    consents.iter().any(|id| state.policy.purpose(id).is_some_and(|p| p.direct_marketing))
}

pub(crate) fn form_error(e: FormError) -> ApiError {
    match e {
        FormError::Invalid { field, message } => {
            ApiError::invalid("invalid_field", format!("{field}: {message}")).with_field(field)
        }
        FormError::TooLarge { field, max } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "attachment_too_large",
            format!("{field}: larger than {max} bytes"),
        )
        .with_field(field),
        FormError::Access(AccessError::Denied { rule, reason }) => {
            ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason)
        }
        FormError::Access(AccessError::Invalid { field, message }) => {
            ApiError::invalid("invalid_field", message).with_field(field)
        }
        FormError::Access(AccessError::Store(e)) => e.into(),
        FormError::Access(other) => crate::error::access_failure(other),
        FormError::Consent(custos_engine::consent::ConsentError::Store(e)) => e.into(),
        FormError::Consent(e) => ApiError::internal(e),
    }
}

/// The common start of a form post: the rate limit, the fields, the honeypot. `None` when a
/// bot filled the honeypot (answered as a success, stored nowhere).
async fn accept(state: &AppState, peer: SocketAddr, request: Request) -> Result<Option<Fields>, ApiError> {
    state.limiters.forms.check(peer.ip(), "forms")?;
    let fields = read_fields(request, state).await?;
    Ok(fields.website.is_empty().then_some(fields))
}

#[utoipa::path(post, path = "/v1/forms/contact", tag = "forms", security(()),
    request_body(content((Fields = "application/json"), (Fields = "application/x-www-form-urlencoded"), (Fields = "multipart/form-data"))),
    responses((status = 201, description = "Received: `{received: true, confirm_by_email}`, the latter true when a marketing box was ticked (confirmed by a mailed link)", body = Object),
              (status = 303, description = "Redirect to the thank-you page, for `Accept: text/html`"),
              (status = 413, description = "`body_too_large`", body = crate::openapi::ErrorEnvelope),
              (status = 415, description = "`unsupported_media_type`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network", body = crate::openapi::ErrorEnvelope)))]
async fn contact(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let Some(fields) = accept(&state, peer, request).await? else {
        return Ok(answer(&headers, "contact", false));
    };
    let confirm_by_email = asks_direct_marketing(&state, &fields.consents);
    let form = ContactForm {
        name: fields.name,
        email: fields.email,
        phone: fields.phone,
        message: fields.message,
        attachments: fields.attachments,
        consents: fields.consents,
    };
    state.collect.contact(&form, Some(peer.ip())).await.map_err(form_error)?;
    Ok(answer(&headers, "contact", confirm_by_email))
}

#[utoipa::path(post, path = "/v1/forms/signup", tag = "forms", security(()),
    request_body(content((Fields = "application/json"), (Fields = "application/x-www-form-urlencoded"), (Fields = "multipart/form-data"))),
    responses((status = 201, description = "Received: `{received: true, confirm_by_email: true}`; nothing counts until the person uses the link mailed to the address", body = Object),
              (status = 303, description = "Redirect to the thank-you page, for `Accept: text/html`"),
              (status = 415, description = "`unsupported_media_type`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network", body = crate::openapi::ErrorEnvelope)))]
async fn signup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let Some(fields) = accept(&state, peer, request).await? else {
        return Ok(answer(&headers, "signup", true));
    };
    // Each sign-up mails the address: a few an hour per address, so that nobody's inbox can
    // be flooded with confirmation requests.
    state.limiters.identifiers.check(&fields.email, "email")?;
    let form = SignupForm { name: fields.name, email: fields.email, consents: fields.consents };
    state.collect.signup(&form, Some(peer.ip())).await.map_err(form_error)?;
    Ok(answer(&headers, "signup", true))
}
