//! Cookie preferences in the privacy center (seed 2.2, 5), a page that works without
//! JavaScript:
//!
//! - `GET /privacy/cookies`: the categories the banner offers, each with what it is for,
//!   ticked as the visitor last chose, and "strictly necessary" always on;
//! - `POST /privacy/cookies`: saves a choice (the ticked boxes, or accept all, or reject
//!   all) exactly as custos.js does: in the ledger for the visitor (method `form`, with the
//!   wording version and the policy version), and in the same first-party cookies, so the
//!   banner on the site and this page agree. Withdrawing is as easy as giving: one button.
//!
//! The cookies are the site's own: the page serves its purpose when the operator makes it
//! reachable under the site's host (a reverse-proxy path, as for custos.js), or runs custos
//! on that host. A browser that sends Global Privacy Control (`Sec-GPC: 1`) is told that it
//! counts as a refusal of every category it has not chosen itself.
//!
//! The form is protected against cross-site posting by a double-submit token: a random
//! value in a `SameSite=Strict`, `HttpOnly` cookie that must match the form's hidden field.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use crate::accounts::cookie_value;
use crate::branding::Branding;
use crate::extract::Form;
use crate::i18n::{LangQuery, Strings, remember};
use crate::{ApiError, AppState};

/// The cookie custos.js keeps the choice in.
const CHOICE_COOKIE: &str = "custos_consent";
/// The first-party visitor id, kept only with analytics consent.
const VISITOR_COOKIE: &str = "custos_vid";
/// The double-submit token of this page's form.
const CSRF_COOKIE: &str = "custos_prefs_csrf";
/// How long a choice is kept: a year, as custos.js keeps it.
const CHOICE_MAX_AGE: i64 = 365 * 24 * 3600;
/// How long the visitor id lives: thirteen months, as custos.js keeps it.
const VISITOR_MAX_AGE: i64 = 13 * 30 * 24 * 3600;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/privacy/cookies", get(show).post(save))
}

/// The choice cookie as custos.js writes it: `{v, p, c, t, id}`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Stored {
    /// The wording version shown.
    #[serde(default)]
    v: String,
    /// The policy version.
    #[serde(default)]
    p: String,
    /// Category → granted.
    #[serde(default)]
    c: BTreeMap<String, bool>,
    /// Category → the terms hash it was chosen under.
    #[serde(default)]
    t: BTreeMap<String, String>,
    /// The visitor id.
    #[serde(default)]
    id: String,
}

fn stored(headers: &HeaderMap) -> Option<Stored> {
    let raw = cookie_value(headers, CHOICE_COOKIE)?;
    // custos.js writes it with encodeURIComponent.
    let decoded: String = form_urlencoded::parse(format!("v={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    serde_json::from_str(&decoded).ok()
}

struct Row {
    id: &'static str,
    name: String,
    description: String,
    granted: bool,
    /// The purpose's terms changed since the choice: it is asked again.
    changed: bool,
}

#[derive(Template)]
#[template(path = "cookies.html")]
struct Page {
    brand: Branding,
    t: Strings,
    here: &'static str,
    rows: Vec<Row>,
    chosen: bool,
    gpc: bool,
    csrf: String,
    error: Option<String>,
    notice: Option<String>,
}

fn render(status: StatusCode, page: &Page, csrf_cookie: Option<HeaderValue>) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            if let Some(cookie) = csrf_cookie {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => ApiError::internal(anyhow::anyhow!("cannot render the cookie page: {e}")).into_response(),
    }
}

/// A `Set-Cookie` value; `attributes` adds to `Max-Age` and `Path` (and `Secure` on https).
fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool, attributes: &str) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Max-Age={max_age}; Path=/{attributes}{secure}")).ok()
}

/// What the site's own script may read: custos.js reads and writes these cookies too.
const SHARED: &str = "; SameSite=Lax";

fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The page for a request: `lang` is a `?lang=` pick; also returns the language cookie to
/// set when there is one.
fn page_for(state: &AppState, headers: &HeaderMap, lang: Option<&str>, csrf: String) -> (Page, Option<HeaderValue>) {
    let (t, lang_cookie) = state.branding.catalog.pick(lang, headers);
    let current = stored(headers);
    let rows = state
        .banner
        .offered()
        .into_iter()
        .map(|c| {
            let chosen_under = current.as_ref().and_then(|s| s.t.get(c.id));
            let changed = chosen_under.is_some_and(|t| *t != c.terms);
            let granted = !changed && current.as_ref().and_then(|s| s.c.get(c.id)).copied().unwrap_or(false);
            Row { id: c.id, name: c.name, description: c.description, granted, changed }
        })
        .collect();
    let page = Page {
        brand: (*state.branding).clone(),
        t,
        here: "/privacy/cookies",
        rows,
        chosen: current.is_some(),
        gpc: headers.get("sec-gpc").is_some_and(|v| v.as_bytes().trim_ascii() == b"1"),
        csrf,
        error: None,
        notice: None,
    };
    (page, lang_cookie)
}

async fn show(State(state): State<AppState>, headers: HeaderMap, Query(lang): Query<LangQuery>) -> Response {
    let csrf = random_hex();
    let secure = state.public_url.starts_with("https://");
    let (page, lang_cookie) = page_for(&state, &headers, lang.lang.as_deref(), csrf.clone());
    let token_cookie = set_cookie(CSRF_COOKIE, &csrf, 3600, secure, "; SameSite=Strict; HttpOnly");
    remember(render(StatusCode::OK, &page, token_cookie), lang_cookie)
}

async fn save(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    state.limiters.banner.check(peer.ip(), "consent choices")?;
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let token = field("csrf").unwrap_or("");
    let expected = cookie_value(&headers, CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !custos_engine::tokens::constant_time_eq(token.as_bytes(), expected.as_bytes()) {
        let (mut page, _) = page_for(&state, &headers, None, expected);
        page.error = Some(page.t.t("cookies.expired").to_owned());
        return Ok(render(StatusCode::FORBIDDEN, &page, None));
    }
    let offered = state.banner.offered();
    let mut choices = BTreeMap::new();
    for c in &offered {
        let granted = match field("all") {
            Some("accept") => true,
            Some("reject") => false,
            Some(other) => {
                return Err(ApiError::invalid(
                    "invalid_value",
                    format!("`all` must be accept or reject, not `{other}`"),
                )
                .with_field("all"));
            }
            None => field(&format!("category_{}", c.id)).is_some(),
        };
        choices.insert(c.id.to_owned(), granted);
    }
    if let Some((name, _)) =
        fields.iter().find(|(k, _)| k.strip_prefix("category_").is_some_and(|id| !offered.iter().any(|c| c.id == id)))
    {
        return Err(
            ApiError::invalid("invalid_value", format!("no cookie category is called `{name}`")).with_field(name)
        );
    }
    let previous = stored(&headers);
    let visitor = cookie_value(&headers, VISITOR_COOKIE)
        .or_else(|| previous.as_ref().map(|s| s.id.clone()))
        .filter(|id| {
            (16..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(random_hex);
    let text_version = state.banner.text_version().to_owned();
    crate::banner::record_choices(&state, &visitor, &choices, "form", &text_version, peer.ip()).await?;

    let saved = Stored {
        v: text_version,
        p: state.policy.version().hash.clone(),
        t: offered.iter().map(|c| (c.id.to_owned(), c.terms.clone())).collect(),
        c: choices.clone(),
        id: visitor.clone(),
    };
    let json = serde_json::to_string(&saved).map_err(ApiError::internal)?;
    let encoded: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
    let secure = state.public_url.starts_with("https://");
    // The page as it now stands: the new choice, in the visitor's language.
    let mut shown = HeaderMap::new();
    for name in [header::ACCEPT_LANGUAGE, header::COOKIE] {
        if let Some(value) = headers.get(&name) {
            shown.insert(name, value.clone());
        }
    }
    let (mut page, _) = page_for(&state, &shown, None, expected);
    for row in &mut page.rows {
        row.granted = choices.get(row.id).copied().unwrap_or(false);
        row.changed = false;
    }
    page.chosen = true;
    page.gpc = headers.get("sec-gpc").is_some_and(|v| v.as_bytes().trim_ascii() == b"1");
    page.notice = Some(page.t.t("cookies.saved").to_owned());
    let mut response = render(StatusCode::OK, &page, None);
    let analytics = choices.get("analytics").copied().unwrap_or(false);
    let cookies = [
        set_cookie(CHOICE_COOKIE, &encoded, CHOICE_MAX_AGE, secure, SHARED),
        if analytics {
            set_cookie(VISITOR_COOKIE, &visitor, VISITOR_MAX_AGE, secure, SHARED)
        } else {
            set_cookie(VISITOR_COOKIE, "", 0, secure, SHARED)
        },
    ];
    for cookie in cookies.into_iter().flatten() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
