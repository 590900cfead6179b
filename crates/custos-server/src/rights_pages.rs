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
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use custos_engine::rights::{NewRightsRequest, RightsError};
use custos_store::RightsRequest;
use serde::Deserialize;
use uuid::Uuid;

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
    received: String,
    due: String,
    extension_reason: Option<String>,
    unverified: bool,
}

#[derive(Template)]
#[template(path = "rights.html")]
struct Page {
    title: String,
    controller: String,
    error: Option<String>,
    request: Option<Shown>,
}

fn page(state: &AppState, status: StatusCode, request: Option<&RightsRequest>, error: Option<String>) -> Response {
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let page = Page {
        title: if request.is_some() { "Your request".into() } else { "Your rights over your data".into() },
        controller: state.branding.name.clone(),
        error,
        request: request.map(|r| Shown {
            id: r.id,
            kind: r.kind.clone(),
            state: r.state.replace('_', " "),
            received: day(r.received_at),
            due: day(r.due_at),
            extension_reason: r.extension_reason.clone(),
            unverified: r.state == "unverified",
        }),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::internal(anyhow::anyhow!("cannot render the rights page: {e}")).into_response(),
    }
}

async fn start(State(state): State<AppState>) -> Response {
    page(&state, StatusCode::OK, None, None)
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
    Form(form): Form<RequestForm>,
) -> Result<Response, ApiError> {
    state.limiters.rights.check(peer.ip(), "rights requests and verifications")?;
    let transmit_to = Some(form.transmit_to.trim().to_owned()).filter(|t| !t.is_empty());
    let new = NewRightsRequest {
        kind: form.kind,
        email: form.email,
        purpose: None,
        corrections: Vec::new(),
        transmit_to,
        agent: None,
    };
    match state.rights.submit(&new, "form").await {
        Ok(request) => Ok(Redirect::to(&format!("/rights/{}", request.id)).into_response()),
        Err(RightsError::Invalid { message, .. }) => {
            Ok(page(&state, StatusCode::UNPROCESSABLE_ENTITY, None, Some(message)))
        }
        Err(e) => Err(crate::rights::error(e)),
    }
}

async fn show(State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Response, ApiError> {
    let request = state.rights.get(id).await.map_err(crate::rights::error)?;
    Ok(page(&state, StatusCode::OK, Some(&request), None))
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
            Ok(page(&state, StatusCode::UNPROCESSABLE_ENTITY, Some(&request), Some(e.to_string())))
        }
        Err(e) => Err(crate::rights::error(e)),
    }
}
