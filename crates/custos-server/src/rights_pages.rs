//! Rights requests for people, as web pages that work without JavaScript (seed 7, 8):
//!
//! - `GET /rights`: a form to make a request (kind and email address);
//! - `POST /rights`: makes it, then shows its page;
//! - `GET /rights/{id}`: its state and deadline, and while unverified a field for the code
//!   the mail brought (the mail links here);
//! - `POST /rights/{id}/verify`: checks the code.
//!
//! The JSON API beside it is `crate::rights`.

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use custos_engine::rights::{NewRightsRequest, RightsError};
use custos_store::RightsRequest;
use serde::Deserialize;
use uuid::Uuid;

use crate::branding::Branding;
use crate::extract::Form;
use crate::i18n::{LangQuery, Strings, remember};
use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/rights", get(start).post(submit))
        .route("/rights/{id}", get(show))
        .route("/rights/{id}/verify", post(verify))
}

/// A request as the page shows it: no personal data.
struct Shown {
    id: Uuid,
    kind: String,
    state: String,
    /// The state as the API names it (`verified`), for scripts and tests.
    state_code: String,
    received: String,
    due: String,
    extension_reason: Option<String>,
    unverified: bool,
}

#[derive(Template)]
#[template(path = "rights.html")]
struct Page {
    title: String,
    brand: Branding,
    t: Strings,
    here: String,
    error: Option<String>,
    request: Option<Shown>,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    lang: &LangQuery,
    status: StatusCode,
    request: Option<&RightsRequest>,
    error: Option<String>,
) -> Response {
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let (t, lang_cookie) = state.branding.catalog.pick(lang.lang.as_deref(), headers);
    let page = Page {
        title: t.t(if request.is_some() { "rights.request_title" } else { "rights.title" }).to_owned(),
        brand: (*state.branding).clone(),
        here: request.map_or_else(|| "/rights".to_owned(), |r| format!("/rights/{}", r.id)),
        error,
        request: request.map(|r| Shown {
            id: r.id,
            kind: t.kind(&r.kind),
            state: t.state(&r.state),
            state_code: r.state.clone(),
            received: day(r.received_at),
            due: day(r.due_at),
            extension_reason: r.extension_reason.clone(),
            unverified: r.state == "unverified",
        }),
        t,
    };
    match page.render() {
        Ok(html) => remember((status, Html(html)).into_response(), lang_cookie),
        Err(e) => ApiError::internal(anyhow::anyhow!("cannot render the rights page: {e}")).into_response(),
    }
}

async fn start(State(state): State<AppState>, headers: HeaderMap, Query(lang): Query<LangQuery>) -> Response {
    page(&state, &headers, &lang, StatusCode::OK, None, None)
}

#[derive(Debug, Deserialize)]
struct RequestForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    transmit_to: String,
}

async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<RequestForm>,
) -> Result<Response, ApiError> {
    state.limiters.rights.check(peer.ip(), "rights requests and verifications")?;
    let transmit_to = Some(form.transmit_to.trim().to_owned()).filter(|t| !t.is_empty());
    // Mails about the request speak the language the page spoke.
    let language = Some(state.branding.catalog.pick(None, &headers).0.lang().to_owned());
    let new = NewRightsRequest {
        kind: form.kind,
        email: form.email,
        purpose: None,
        corrections: Vec::new(),
        transmit_to,
        language,
        agent: None,
    };
    match state.rights.submit(&new, "form").await {
        Ok(request) => Ok(Redirect::to(&format!("/rights/{}", request.id)).into_response()),
        Err(RightsError::Invalid { message, .. }) => {
            Ok(page(&state, &headers, &LangQuery::default(), StatusCode::UNPROCESSABLE_ENTITY, None, Some(message)))
        }
        Err(e) => Err(crate::rights::error(e)),
    }
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(lang): Query<LangQuery>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let request = state.rights.get(id).await.map_err(crate::rights::error)?;
    Ok(page(&state, &headers, &lang, StatusCode::OK, Some(&request), None))
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<CodeForm>,
) -> Result<Response, ApiError> {
    state.limiters.rights.check(peer.ip(), "rights requests and verifications")?;
    match state.rights.verify(id, &form.code).await {
        Ok(_) => Ok(Redirect::to(&format!("/rights/{id}")).into_response()),
        Err(
            e @ (RightsError::BadCode
            | RightsError::CodeExpired
            | RightsError::TooManyAttempts
            | RightsError::WrongState { .. }),
        ) => {
            let request = state.rights.get(id).await.map_err(crate::rights::error)?;
            let lang = LangQuery::default();
            Ok(page(&state, &headers, &lang, StatusCode::UNPROCESSABLE_ENTITY, Some(&request), Some(e.to_string())))
        }
        Err(e) => Err(crate::rights::error(e)),
    }
}
