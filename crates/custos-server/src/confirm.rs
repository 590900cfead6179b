//! Confirming a subscription by the link mailed to the address (double opt-in; seed 2.2,
//! 9): `GET /confirm/{token}` shows a page with a button and changes nothing (mail scanners
//! open links); `POST /confirm/{token}`, from that button, records the consent. A link
//! works once and for 48 hours.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use custos_engine::confirmations::ConfirmError;

use crate::i18n::LangQuery;
use crate::link_page::{self, Keys};
use crate::{ApiError, AppState};

const KEYS: Keys = Keys {
    title: "confirm.title",
    question: "confirm.question",
    button: "confirm.button",
    done_title: "confirm.done_title",
    done: "confirm.done",
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/confirm/{token}", get(page).post(confirm))
}

fn bad_link() -> ApiError {
    ApiError::not_found(
        "unknown_link",
        "this confirmation link is not valid: it may have been used already or have expired; sign up again",
    )
}

fn render(state: &AppState, headers: &HeaderMap, lang: Option<&str>, token: &str, done: bool) -> Response {
    // The token was checked before: an id and a MAC, URL-safe characters only.
    link_page::render(state, headers, lang, KEYS, format!("/confirm/{token}"), done)
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(lang): Query<LangQuery>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    if !state.collect.awaiting(&token).await? {
        return Err(bad_link());
    }
    Ok(render(&state, &headers, lang.lang.as_deref(), &token, false))
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    match state.collect.confirm(&token).await {
        // Withheld (the person's state forbids it) is answered the same: the page must not
        // tell how a person stands.
        Ok(_) => Ok(render(&state, &headers, None, &token, true)),
        Err(ConfirmError::BadLink) => Err(bad_link()),
        Err(ConfirmError::Store(e)) => Err(e.into()),
        Err(ConfirmError::Form(e)) => Err(crate::forms::form_error(e)),
    }
}
