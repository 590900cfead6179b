//! One-click unsubscribe (seed 3.4, 9; RFC 8058): `GET /unsubscribe/{token}` shows a page
//! with a button (a GET changes nothing: mail scanners open links), `POST
//! /unsubscribe/{token}` unsubscribes, from that button or from a mail client's one-click
//! `List-Unsubscribe=One-Click` POST.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use custos_engine::marketing::{self, UnsubscribeError};

use crate::{ApiError, AppState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/unsubscribe/{token}", get(page).post(unsubscribe))
}

fn bad_link() -> ApiError {
    ApiError::not_found("unknown_link", "this unsubscribe link is not valid; use the link from your latest message")
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    marketing::verify(state.records.vault(), &token).map_err(|_| bad_link())?;
    // The token was checked above and holds only URL-safe characters.
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Unsubscribe</title></head><body><main><h1>Unsubscribe</h1><p>Stop receiving these messages?</p>\
         <form method=\"post\" action=\"/unsubscribe/{token}\"><button type=\"submit\">Unsubscribe</button></form></main></body></html>"
    );
    Ok(Html(html).into_response())
}

async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, ApiError> {
    let vault = state.records.vault();
    match marketing::unsubscribe(vault, &state.consents, &state.store, state.records.auditor(), &token).await {
        Ok(_) => Ok((
            StatusCode::OK,
            Html("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head><body><main><h1>You are unsubscribed</h1><p>You will receive no more of these messages.</p></main></body></html>"),
        )
            .into_response()),
        Err(UnsubscribeError::BadLink) => Err(bad_link()),
        Err(UnsubscribeError::Store(e)) => Err(e.into()),
        Err(other) => Err(ApiError::internal(other)),
    }
}
