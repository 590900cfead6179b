//! The page behind a link mailed to a person that does one thing (unsubscribe, confirm a
//! subscription): `GET` shows the question and a button and changes nothing, since mail
//! scanners open links; the button's `POST` does it and shows that it is done.

use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::branding::Branding;
use crate::i18n::{Strings, remember};
use crate::{ApiError, AppState};

/// The catalogue keys of one such page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Keys {
    pub(crate) title: &'static str,
    pub(crate) question: &'static str,
    pub(crate) button: &'static str,
    pub(crate) done_title: &'static str,
    pub(crate) done: &'static str,
}

#[derive(Template)]
#[template(path = "link_action.html")]
struct Page {
    brand: Branding,
    t: Strings,
    keys: Keys,
    /// The link's own path (the language links and the form point at it).
    here: String,
    done: bool,
}

/// The page at `here` (a path of URL-safe characters only), asking or done.
pub(crate) fn render(
    state: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
    keys: Keys,
    here: String,
    done: bool,
) -> Response {
    let (t, lang_cookie) = state.branding.catalog.pick(lang, headers);
    let page = Page { brand: (*state.branding).clone(), t, keys, here, done };
    match page.render() {
        Ok(html) => remember((StatusCode::OK, Html(html)).into_response(), lang_cookie),
        Err(e) => ApiError::internal(anyhow::anyhow!("cannot render the page: {e}")).into_response(),
    }
}
