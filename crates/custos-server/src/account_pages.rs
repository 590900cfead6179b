//! The privacy center's account pages, for a signed-in user, without JavaScript:
//!
//! - `GET /account`: sign in; once signed in, the data in the account, each consent with a
//!   button to withdraw or give it, and closing the account;
//! - `POST /account/login`, `POST /account/logout`;
//! - `POST /account/consents`: `purpose`, `granted` (recorded in the ledger, method `form`);
//! - `POST /account/close`: closes the account and erases the person (seed 7).
//!
//! Forms carry a CSRF token bound to the session (the session cookie is also SameSite=Lax).

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use custos_engine::accounts::AccountError;
use custos_engine::consent::{ConsentRecord, ConsentTarget, Consents};
use custos_engine::gate::Actor;
use custos_policy::LegalBasis;
use custos_store::SubjectId;
use serde::Deserialize;

use crate::accounts::{account_error, cookie, session_token};
use crate::branding::Branding;
use crate::extract::Form;
use crate::i18n::{Strings, remember};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(overview))
        .route("/account/login", post(login))
        .route("/account/logout", post(logout))
        .route("/account/consents", post(consent))
        .route("/account/close", post(close))
}

struct ConsentRow {
    purpose: String,
    name: String,
    description: String,
    state: String,
    granted: bool,
}

struct Me {
    csrf: String,
    data: Vec<(String, String, String)>,
    consents: Vec<ConsentRow>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct Page {
    brand: Branding,
    t: Strings,
    here: &'static str,
    error: Option<String>,
    notice: Option<String>,
    signed_in: Option<Me>,
}

fn csrf(state: &AppState, session: &str) -> String {
    custos_engine::tokens::base64url(&state.records.vault().mac("custos/account-csrf/v1", session.as_bytes()))
}

/// Renders the page in the visitor's language (`lang`: a `?lang=` pick). `error` and
/// `notice` are keys of the wording (`account.closed`), or text shown as it is.
fn render(
    state: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
    status: StatusCode,
    signed_in: Option<Me>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (t, lang_cookie) = state.branding.catalog.pick(lang, headers);
    let error = error.map(|e| t.t(&e).to_owned());
    let notice = notice.map(|n| t.t(&n).to_owned());
    let page = Page { brand: (*state.branding).clone(), t, here: "/account", error, notice, signed_in };
    match page.render() {
        Ok(html) => remember((status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(), lang_cookie),
        Err(e) => ApiError::internal(anyhow::anyhow!("cannot render the account page: {e}")).into_response(),
    }
}

/// The signed-in user and their session token, if the cookie names an open session.
async fn session(state: &AppState, headers: &HeaderMap) -> Option<(SubjectId, String)> {
    let token = session_token(headers)?;
    state.accounts.session(&token).await.ok().map(|s| (s, token))
}

async fn me(state: &AppState, headers: &HeaderMap, subject: SubjectId, token: &str) -> Result<Me, ApiError> {
    let (t, _) = state.branding.catalog.pick(None, headers);
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let data = state
        .accounts
        .my_data(subject)
        .await
        .map_err(account_error)?
        .into_iter()
        .map(|r| {
            let name = state.policy.category(&r.category).map_or(r.category.clone(), |c| c.description.clone());
            (name, String::from_utf8_lossy(&r.value).into_owned(), day(r.collected_at))
        })
        .collect();
    let history = state.consents.history(subject).await.map_err(crate::consents::consent_error)?;
    let current = Consents::current(&history);
    let consents = state
        .policy
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .map(|p| {
            let now = current.iter().find(|c| c.purpose == p.id);
            ConsentRow {
                purpose: p.id.clone(),
                name: p.name.clone(),
                description: p.description.clone(),
                granted: now.is_some_and(|c| c.granted),
                state: match now {
                    Some(c) if c.granted => format!("{} {}", t.t("account.given_on"), &c.at[..10.min(c.at.len())]),
                    Some(c) => format!("{} {}", t.t("account.withdrawn_on"), &c.at[..10.min(c.at.len())]),
                    None => t.t("account.not_given").to_owned(),
                },
            }
        })
        .collect();
    Ok(Me { csrf: csrf(state, token), data, consents })
}

#[derive(Deserialize)]
struct Done {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Result<Response, ApiError> {
    let lang = done.lang.as_deref();
    let Some((subject, token)) = session(&state, &headers).await else {
        return Ok(render(&state, &headers, lang, StatusCode::OK, None, None, None));
    };
    let notice = match done.done.as_deref() {
        Some("withdrawn") => Some("account.withdrawn".to_owned()),
        Some("given") => Some("account.thanks".to_owned()),
        _ => None,
    };
    let me = me(&state, &headers, subject, &token).await?;
    Ok(render(&state, &headers, lang, StatusCode::OK, Some(me), None, notice))
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Result<Response, ApiError> {
    state.limiters.accounts.check(peer.ip(), "sign-ups, sign-ins and reset requests")?;
    match state.accounts.login(&form.email, &form.password).await {
        Ok((_, token)) => {
            let mut response = Redirect::to("/account").into_response();
            let secure = state.public_url.starts_with("https://");
            response.headers_mut().insert(header::SET_COOKIE, cookie(&token, 14 * 24 * 3600, secure));
            Ok(response)
        }
        Err(AccountError::BadCredentials) => Ok(render(
            &state,
            &headers,
            None,
            StatusCode::UNAUTHORIZED,
            None,
            Some("account.wrong_password".into()),
            None,
        )),
        Err(e) => Err(account_error(e)),
    }
}

#[derive(Deserialize)]
struct Csrf {
    #[serde(default)]
    csrf: String,
}

/// The signed-in user of a form, once its CSRF token is checked.
async fn form_user(state: &AppState, headers: &HeaderMap, sent: &str) -> Result<(SubjectId, String), Response> {
    let Some((subject, token)) = session(state, headers).await else {
        return Err(render(
            state,
            headers,
            None,
            StatusCode::UNAUTHORIZED,
            None,
            Some("account.sign_in_again".into()),
            None,
        ));
    };
    let expected = csrf(state, &token);
    if !custos_engine::tokens::constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        let error = ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form's security token is missing or wrong; reload the page",
        )
        .with_field("csrf");
        return Err(error.into_response());
    }
    Ok((subject, token))
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<Csrf>) -> Response {
    let (_, token) = match form_user(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(refused) => return refused,
    };
    let _ = state.accounts.logout(&token).await;
    let mut response = Redirect::to("/account").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0, false));
    response
}

#[derive(Deserialize)]
struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    granted: String,
}

async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, ApiError> {
    let (subject, token) = match form_user(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(refused) => return Ok(refused),
    };
    let granted = match form.granted.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(ApiError::invalid("invalid_value", "granted: true or false").with_field("granted")),
    };
    let record = ConsentRecord {
        target: ConsentTarget::Subject(subject),
        purpose: form.purpose.clone(),
        granted,
        method: "form".into(),
        text_version: "privacy-center/account".into(),
        source_ip: Some(peer.ip()),
    };
    match state.consents.record(&Actor::Subject(subject), &record).await {
        Ok(_) => {
            Ok(Redirect::to(if granted { "/account?done=given" } else { "/account?done=withdrawn" }).into_response())
        }
        Err(custos_engine::consent::ConsentError::Invalid { message, .. }) => {
            let me = me(&state, &headers, subject, &token).await?;
            Ok(render(&state, &headers, None, StatusCode::UNPROCESSABLE_ENTITY, Some(me), Some(message), None))
        }
        Err(e) => Err(crate::consents::consent_error(e)),
    }
}

#[derive(Deserialize)]
struct CloseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CloseForm>,
) -> Result<Response, ApiError> {
    let (subject, token) = match form_user(&state, &headers, &form.csrf).await {
        Ok(user) => user,
        Err(refused) => return Ok(refused),
    };
    if form.confirm != "yes" {
        let me = me(&state, &headers, subject, &token).await?;
        let error = "account.close_tick".to_owned();
        return Ok(render(&state, &headers, None, StatusCode::UNPROCESSABLE_ENTITY, Some(me), Some(error), None));
    }
    state.accounts.close(subject).await.map_err(account_error)?;
    let notice = "account.closed".to_owned();
    let mut response = render(&state, &headers, None, StatusCode::OK, None, None, Some(notice));
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0, false));
    Ok(response)
}
