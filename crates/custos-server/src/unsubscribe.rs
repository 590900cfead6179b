//! One-click unsubscribe (seed 3.4, 9; RFC 8058): `GET /unsubscribe/{token}` shows a page
//! with a button (a GET changes nothing: mail scanners open links), `POST
//! /unsubscribe/{token}` unsubscribes, from that button or from a mail client's one-click
//! `List-Unsubscribe=One-Click` POST.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use custos_engine::marketing::{self, UnsubscribeError};

use crate::i18n::LangQuery;
use crate::link_page::{self, Keys};
use crate::{ApiError, AppState};

const KEYS: Keys = Keys {
    title: "unsubscribe.title",
    question: "unsubscribe.question",
    button: "unsubscribe.button",
    done_title: "unsubscribe.done_title",
    done: "unsubscribe.done",
};

fn render(state: &AppState, headers: &HeaderMap, lang: Option<&str>, token: &str, done: bool) -> Response {
    // The token was checked before and holds only URL-safe characters.
    link_page::render(state, headers, lang, KEYS, format!("/unsubscribe/{token}"), done)
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(page).post(unsubscribe))
}

fn bad_link() -> ApiError {
    ApiError::not_found("unknown_link", "this unsubscribe link is not valid; use the link from your latest message")
}

async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(lang): Query<LangQuery>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    marketing::verify(state.records.vault(), &token).map_err(|_| bad_link())?;
    Ok(render(&state, &headers, lang.lang.as_deref(), &token, false))
}

async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let vault = state.records.vault();
    match marketing::unsubscribe(vault, &state.consents, &state.store, state.records.auditor(), &token).await {
        Ok(_) => Ok(render(&state, &headers, None, &token, true)),
        Err(UnsubscribeError::BadLink) => Err(bad_link()),
        Err(UnsubscribeError::Store(e)) => Err(e.into()),
        Err(other) => Err(ApiError::internal(other)),
    }
}
