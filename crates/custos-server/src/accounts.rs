//! Accounts over HTTP (seed 1, 7):
//!
//! - `POST /v1/accounts`: sign up `{name, company?, address?, email, phone?, password}`
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
        AccountError::Exists => ApiError::conflict("account_exists", e.to_string()).with_field("email"),
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignUp {
    name: String,
    company: Option<String>,
    address: Option<String>,
    email: String,
    phone: Option<String>,
    password: String,
}

async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SignUp>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let registration = Registration {
        name: body.name,
        company: body.company,
        address: body.address,
        email: body.email,
        phone: body.phone,
        password: body.password,
    };
    let subject = state.accounts.register(&registration).await.map_err(account_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"subject_id": subject, "verification": "a link was sent to the email address"})),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    limit(&state, peer)?;
    let (subject, token) = state.accounts.login(&body.email, &body.password).await.map_err(account_error)?;
    let secure = state.public_url.starts_with("https://");
    let mut response = Json(json!({"subject_id": subject})).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(&token, 14 * 24 * 3600, secure));
    Ok(response)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = session_token(&headers) {
        state.accounts.logout(&token).await.map_err(account_error)?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0, false));
    Ok(response)
}

async fn me(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let subject = signed_in(&state, &headers).await?;
    let data = state.accounts.my_data(subject).await.map_err(account_error)?;
    let fields: serde_json::Map<String, Value> =
        data.into_iter().map(|r| (r.category, Value::String(String::from_utf8_lossy(&r.value).into_owned()))).collect();
    Ok(Json(json!({"subject_id": subject, "data": fields})))
}

async fn close(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let subject = signed_in(&state, &headers).await?;
    state.accounts.close(subject).await.map_err(account_error)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0, false));
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct TokenQuery {
    token: String,
}

async fn verify(
    State(state): State<AppState>,
    query: Result<Query<TokenQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) =
        query.map_err(|_| ApiError::bad_request("missing_parameter", "the link has no token").with_field("token"))?;
    state.accounts.verify(&q.token).await.map_err(account_error)?;
    Ok(Json(json!({"verified": true})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

async fn request_reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetRequest>,
) -> Result<StatusCode, ApiError> {
    state.accounts.request_reset(&body.email).await.map_err(account_error)?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reset {
    token: String,
    password: String,
}

async fn reset(State(state): State<AppState>, ApiJson(body): ApiJson<Reset>) -> Result<StatusCode, ApiError> {
    state.accounts.reset(&body.token, &body.password).await.map_err(account_error)?;
    Ok(StatusCode::NO_CONTENT)
}
