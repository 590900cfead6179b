//! Accounts over HTTP (seed 1, 7):
//!
//! - `POST /v1/accounts`: sign up `{name, company?, address?, email, phone?, password}`,
//!   always 202 with the same body, whether or not the address has an account
//! - `POST /v1/accounts/login`: `{email, password}` → an HttpOnly, SameSite=Lax session cookie
//! - `POST /v1/accounts/logout`
//! - `GET /v1/accounts/me`: the person's own account data
//! - `DELETE /v1/accounts/me`: closes the account and erases the person
//! - `GET /v1/accounts/verify?token=…`: the emailed verification link
//! - `POST /v1/accounts/password-reset`: `{email}`, always 202
//! - `POST /v1/accounts/password-reset/confirm`: `{token, password}`

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::accounts::{AccountError, Registration};
use custos_engine::records::AccessError;
use custos_store::SubjectId;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, ApiJson, AppState};

const COOKIE: &str = "custos_session";

/// Refuses an address over its limit.
fn limit(state: &AppState, peer: SocketAddr) -> Result<(), ApiError> {
    state.limiters.accounts.check(peer.ip(), "sign-ups, sign-ins and reset requests")
}

/// The accounts' part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, login, logout, me, close, verify, request_reset, reset),
    tags((name = "accounts", description = "People's accounts on the operator's website")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/accounts", post(register))
        .route("/v1/accounts/login", post(login))
        .route("/v1/accounts/logout", post(logout))
        .route("/v1/accounts/me", get(me).delete(close))
        .route("/v1/accounts/verify", get(verify))
        .route("/v1/accounts/password-reset", post(request_reset))
        .route("/v1/accounts/password-reset/confirm", post(reset))
}

pub(crate) fn account_error(e: AccountError) -> ApiError {
    match e {
        AccountError::Invalid { field, message } => {
            ApiError::invalid("invalid_field", format!("{field}: {message}")).with_field(field)
        }
        AccountError::BadCredentials => ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()),
        AccountError::BadToken => ApiError::new(StatusCode::UNAUTHORIZED, "bad_token", e.to_string()),
        AccountError::Access(AccessError::Denied { rule, reason }) => {
            ApiError::new(StatusCode::FORBIDDEN, rule.code(), reason)
        }
        AccountError::Access(AccessError::Store(e)) | AccountError::Store(e) => e.into(),
        AccountError::Access(other) => crate::error::access_failure(other),
    }
}

/// The value of cookie `name` in the request, if it is set and not empty.
pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')).map(str::to_owned))
        .filter(|v| !v.is_empty())
}

/// The session token in the request's cookie.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<SubjectId, ApiError> {
    let token = session_token(headers)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in first").with_field(COOKIE))?;
    state.accounts.session(&token).await.map_err(account_error)
}

pub(crate) fn cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}"))
        .unwrap_or_else(|_| HeaderValue::from_static("custos_session=; Max-Age=0; Path=/"))
}

/// A sign-up.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SignUp {
    name: String,
    company: Option<String>,
    address: Option<String>,
    email: String,
    phone: Option<String>,
    password: String,
}

/// The answer to every accepted sign-up. The same bytes for an address that already has an
/// account and for a new one, and no session cookie: the mail sent to the address says what
/// happens next (a link that confirms a new account; for an existing account, a note that
/// someone tried to sign up, with a reset link).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct SignUpAccepted {
    /// Always `check_email`.
    next: &'static str,
    /// What to tell the person.
    message: &'static str,
}

const SIGN_UP_ACCEPTED: SignUpAccepted = SignUpAccepted {
    next: "check_email",
    message: "check your email to continue: a message has been sent to the address given",
};

#[utoipa::path(post, operation_id = "register_account", path = "/v1/accounts", tag = "accounts", security(()),
    request_body = SignUp,
    responses((status = 202, description = "Accepted, whether or not the address already has an account (the answer \
                  tells no one who has one): a new address is mailed a verification link, the holder of an \
                  existing account a note that someone tried to sign up, with a password-reset link; nothing \
                  about an existing account changes", body = SignUpAccepted),
              (status = 422, description = "`invalid_field`: a field at fault (`name`, `email`, `phone`, `password`)", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network or for this address", body = crate::openapi::ErrorEnvelope)))]
async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<(StatusCode, Json<SignUpAccepted>), ApiError> {
    limit(&state, peer)?;
    state.limiters.identifiers.check(&body.email, "email")?;
    let registration = Registration {
        name: body.name,
        company: body.company,
        address: body.address,
        email: body.email,
        phone: body.phone,
        password: body.password,
    };
    state.accounts.register(&registration).await.map_err(account_error)?;
    Ok((StatusCode::ACCEPTED, Json(SIGN_UP_ACCEPTED)))
}

/// A sign-in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

#[utoipa::path(post, path = "/v1/accounts/login", tag = "accounts", security(()),
    request_body = Login,
    responses((status = 200, description = "`{subject_id}`, with a fresh `custos_session` cookie", body = Object),
              (status = 401, description = "`bad_credentials` (the same for an unknown address and a wrong password)", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network or for this address", body = crate::openapi::ErrorEnvelope)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    limit(&state, peer)?;
    state.limiters.identifiers.check(&body.email, "email")?;
    let (subject, token) = state.accounts.login(&body.email, &body.password).await.map_err(account_error)?;
    let secure = state.public_url.starts_with("https://");
    let mut response = Json(json!({"subject_id": subject})).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(&token, 14 * 24 * 3600, secure));
    Ok(response)
}

#[utoipa::path(post, path = "/v1/accounts/logout", tag = "accounts", security((), ("account_session" = [])),
    responses((status = 204, description = "Signed out; the cookie is cleared")))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        state.accounts.logout(&token).await.map_err(account_error)?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0, false));
    Ok(response)
}

#[utoipa::path(get, path = "/v1/accounts/me", tag = "accounts", security(("account_session" = [])),
    responses((status = 200, description = "`{subject_id, data}`: the person's own account data", body = Object),
              (status = 401, description = "`not_signed_in`, `bad_token`", body = crate::openapi::ErrorEnvelope)))]
async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let subject = signed_in(&state, &headers).await?;
    let data = state.accounts.my_data(subject).await.map_err(account_error)?;
    let fields: serde_json::Map<String, Value> =
        data.into_iter().map(|r| (r.category, Value::String(String::from_utf8_lossy(&r.value).into_owned()))).collect();
    Ok(Json(json!({"subject_id": subject, "data": fields})))
}

#[utoipa::path(delete, path = "/v1/accounts/me", tag = "accounts", security(("account_session" = [])),
    responses((status = 204, description = "The account is closed and the person erased"),
              (status = 401, description = "`not_signed_in`, `bad_token`", body = crate::openapi::ErrorEnvelope)))]
async fn close(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let subject = signed_in(&state, &headers).await?;
    state.accounts.close(subject).await.map_err(account_error)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0, false));
    Ok(response)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    /// The token from the mailed link.
    token: String,
}

#[utoipa::path(get, operation_id = "verify_account_email", path = "/v1/accounts/verify", tag = "accounts", security(()),
    params(TokenQuery),
    responses((status = 200, description = "`{verified: true}`", body = Object),
              (status = 401, description = "`bad_token`", body = crate::openapi::ErrorEnvelope)))]
async fn verify(
    State(state): State<AppState>,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|_| ApiError::bad_request("missing_parameter", "the link has no token").with_field("token"))?;
    state.accounts.verify(&q.token).await.map_err(account_error)?;
    Ok(Json(json!({"verified": true})))
}

/// A password-reset request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

#[utoipa::path(post, path = "/v1/accounts/password-reset", tag = "accounts", security(()),
    request_body = ResetRequest,
    responses((status = 202, description = "Always, whether or not the address has an account, after the same work \
                  for both: a job mails the holder of an account a reset link"),
              (status = 429, description = "`too_many_requests` from this network or for this address", body = crate::openapi::ErrorEnvelope)))]
async fn request_reset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    limit(&state, peer)?;
    state.limiters.identifiers.check(&body.email, "email")?;
    state.accounts.request_reset(&body.email).await.map_err(account_error)?;
    Ok(StatusCode::ACCEPTED)
}

/// A new password, with the token from the mailed link.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PasswordReset)]
struct Reset {
    token: String,
    password: String,
}

#[utoipa::path(post, path = "/v1/accounts/password-reset/confirm", tag = "accounts", security(()),
    request_body = Reset,
    responses((status = 204, description = "The password is changed; every session is closed"),
              (status = 401, description = "`bad_token`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests`", body = crate::openapi::ErrorEnvelope)))]
async fn reset(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Reset>,
) -> Result<StatusCode, ApiError> {
    limit(&state, peer)?;
    state.accounts.reset(&body.token, &body.password).await.map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}
