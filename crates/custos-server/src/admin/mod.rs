//! The admin console for the operator's staff, under `/admin`: server-rendered pages that
//! work without JavaScript.
//!
//! Who may do what is one table, [`ROUTES`]: every page and action of the console is
//! mounted from it with the roles it allows, behind two layers that every route passes:
//!
//! 1. a signed-in session (a cookie `custos_admin`, HttpOnly, SameSite=Strict, Path=/admin,
//!    Secure when custos is reached over HTTPS) — without one, pages redirect to the login
//!    and anything else answers 401;
//! 2. the route's roles — anyone else gets 403 — and, for every POST, a CSRF token bound
//!    to the session (a MAC of the session token under the vault's key).
//!
//! Only the login, the first-admin setup link and the stylesheet are outside them. Every
//! console response carries a strict Content-Security-Policy (no scripts at all, styles
//! from custos only, no framing) and is not cached.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, on};
use custos_engine::gate::StaffRole;
use custos_engine::staff::{SignedIn, Staff};
use custos_engine::vault::Vault;

use crate::AppState;

mod chart;
mod consents;
mod inbox;
mod oversight;
mod pages;
mod partners;
mod registers;

/// The console's session cookie.
pub(crate) const COOKIE: &str = "custos_admin";
/// The form field that carries the CSRF token.
pub(crate) const CSRF_FIELD: &str = "csrf";
/// The largest form the console reads.
const MAX_FORM: usize = 64 * 1024;

const ALL: &[StaffRole] = &[StaffRole::Admin, StaffRole::Dpo, StaffRole::Support, StaffRole::Auditor];
const QUEUE: &[StaffRole] = &[StaffRole::Admin, StaffRole::Dpo, StaffRole::Support, StaffRole::Auditor];
const DECIDE: &[StaffRole] = &[StaffRole::Admin, StaffRole::Dpo];
const ADMIN: &[StaffRole] = &[StaffRole::Admin];
/// Who reads the audit log and the registers (no personal data in them).
const AUDIT: &[StaffRole] = &[StaffRole::Admin, StaffRole::Dpo, StaffRole::Auditor];
/// Who sees the partner register.
const PARTNERS: &[StaffRole] = &[StaffRole::Admin, StaffRole::Dpo, StaffRole::Support];
/// Who issues and revokes partners' keys and ends their contracts.
const MANAGE: &[StaffRole] = &[StaffRole::Admin, StaffRole::Dpo];
/// Who registers a partner: its contact person's address is personal data, which the
/// gate lets the DPO write but not an admin.
const REGISTER: &[StaffRole] = &[StaffRole::Dpo];
/// Who may look at a person's data, for a purpose the gate then checks.
const PERSONAL: &[StaffRole] = &[StaffRole::Dpo, StaffRole::Support];

/// One page or action of the console and the roles allowed to use it.
#[derive(Debug, Clone, Copy)]
pub struct AdminRoute {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, with `{id}` for a rights request's id.
    pub path: &'static str,
    /// Who may use it.
    pub roles: &'static [StaffRole],
}

/// Every signed-in page and action of the console.
pub const ROUTES: &[AdminRoute] = &[
    AdminRoute { method: "GET", path: "/admin", roles: ALL },
    AdminRoute { method: "POST", path: "/admin/logout", roles: ALL },
    AdminRoute { method: "GET", path: "/admin/account", roles: ALL },
    AdminRoute { method: "POST", path: "/admin/account/totp", roles: ALL },
    AdminRoute { method: "POST", path: "/admin/account/totp/confirm", roles: ALL },
    AdminRoute { method: "POST", path: "/admin/account/password", roles: ALL },
    AdminRoute { method: "GET", path: "/admin/rights", roles: QUEUE },
    AdminRoute { method: "POST", path: "/admin/rights/{id}/extend", roles: DECIDE },
    AdminRoute { method: "POST", path: "/admin/rights/{id}/deny", roles: DECIDE },
    AdminRoute { method: "POST", path: "/admin/rights/{id}/lift", roles: DECIDE },
    AdminRoute { method: "GET", path: "/admin/inbox", roles: QUEUE },
    AdminRoute { method: "GET", path: "/admin/inbox/{id}", roles: PERSONAL },
    AdminRoute { method: "POST", path: "/admin/inbox/{id}/triage", roles: PERSONAL },
    AdminRoute { method: "POST", path: "/admin/inbox/{id}/answer", roles: PERSONAL },
    AdminRoute { method: "POST", path: "/admin/inbox/{id}/close", roles: PERSONAL },
    AdminRoute { method: "GET", path: "/admin/staff", roles: ADMIN },
    AdminRoute { method: "POST", path: "/admin/staff", roles: ADMIN },
    AdminRoute { method: "POST", path: "/admin/staff/{username}/disable", roles: ADMIN },
    AdminRoute { method: "POST", path: "/admin/staff/{username}/purposes", roles: ADMIN },
    AdminRoute { method: "GET", path: "/admin/consents", roles: AUDIT },
    AdminRoute { method: "GET", path: "/admin/audit", roles: AUDIT },
    AdminRoute { method: "POST", path: "/admin/audit/verify", roles: AUDIT },
    AdminRoute { method: "GET", path: "/admin/jobs", roles: ADMIN },
    AdminRoute { method: "POST", path: "/admin/jobs/{id}/retry", roles: ADMIN },
    AdminRoute { method: "GET", path: "/admin/subjects", roles: PERSONAL },
    AdminRoute { method: "GET", path: "/admin/breaches", roles: AUDIT },
    AdminRoute { method: "POST", path: "/admin/breaches", roles: DECIDE },
    AdminRoute { method: "GET", path: "/admin/breaches/{id}", roles: AUDIT },
    AdminRoute { method: "POST", path: "/admin/breaches/{id}/notify-authority", roles: DECIDE },
    AdminRoute { method: "POST", path: "/admin/breaches/{id}/notify-people", roles: DECIDE },
    AdminRoute { method: "GET", path: "/admin/holds", roles: AUDIT },
    AdminRoute { method: "POST", path: "/admin/holds", roles: DECIDE },
    AdminRoute { method: "POST", path: "/admin/holds/{id}/release", roles: DECIDE },
    AdminRoute { method: "GET", path: "/admin/legal", roles: AUDIT },
    AdminRoute { method: "POST", path: "/admin/legal", roles: DECIDE },
    AdminRoute { method: "POST", path: "/admin/legal/{id}/decide", roles: DECIDE },
    AdminRoute { method: "GET", path: "/admin/disclosures", roles: AUDIT },
    AdminRoute { method: "GET", path: "/admin/partners", roles: PARTNERS },
    AdminRoute { method: "POST", path: "/admin/partners", roles: REGISTER },
    AdminRoute { method: "GET", path: "/admin/partners/{id}", roles: PARTNERS },
    AdminRoute { method: "POST", path: "/admin/partners/{id}/keys", roles: MANAGE },
    AdminRoute { method: "POST", path: "/admin/partners/{id}/keys/{key}/revoke", roles: MANAGE },
    AdminRoute { method: "POST", path: "/admin/partners/{id}/terminate", roles: MANAGE },
];

/// What the console's layers need, put in every request's extensions by [`crate::finish`].
#[derive(Clone)]
pub(crate) struct AdminContext {
    pub(crate) staff: Arc<Staff>,
    vault: Arc<Vault>,
    /// Whether cookies get `Secure` (custos is reached over HTTPS).
    pub(crate) secure: bool,
}

impl AdminContext {
    pub(crate) fn new(state: &AppState) -> Self {
        Self {
            staff: state.staff.clone(),
            vault: state.records.vault().clone(),
            secure: state.public_url.starts_with("https://"),
        }
    }

    /// The CSRF token of a session.
    pub(crate) fn csrf(&self, session: &str) -> String {
        custos_engine::tokens::base64url(&self.vault.mac("custos/admin-csrf/v1", session.as_bytes()))
    }

    /// The session cookie with `value`, or one that clears it.
    pub(crate) fn cookie(&self, value: Option<&str>) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let (value, age) = match value {
            Some(v) => (v, custos_engine::staff::SESSION.as_secs()),
            None => ("", 0),
        };
        HeaderValue::from_str(&format!(
            "{COOKIE}={value}; Max-Age={age}; Path=/admin; HttpOnly; SameSite=Strict{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("custos_admin=; Max-Age=0; Path=/admin"))
    }
}

/// The signed-in member of staff and their session token, put in the request's extensions
/// by the session layer.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) who: SignedIn,
    pub(crate) token: String,
    pub(crate) csrf: String,
}

/// The session token in the request's cookies.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    crate::accounts::cookie_value(headers, COOKIE)
}

/// The console's routes.
pub(crate) fn routes() -> Router<AppState> {
    let mut signed_in = Router::new();
    for route in ROUTES {
        let roles = route.roles;
        let handler = pages::handler(route.method, route.path)
            .route_layer(axum::middleware::from_fn(move |req: Request, next: Next| allow(roles, req, next)));
        signed_in = signed_in.route(route.path, handler);
    }
    // Unknown console paths are answered after the session check too: nothing under
    // /admin tells an anonymous caller what exists.
    let signed_in = signed_in
        .route("/admin/{*rest}", on(axum::routing::MethodFilter::GET.or(axum::routing::MethodFilter::POST), unknown))
        .route_layer(axum::middleware::from_fn(require_session));
    let open = Router::new()
        .route("/admin/login", get(pages::login_page).post(pages::login))
        .route("/admin/setup/{token}", get(pages::setup_page).post(pages::setup))
        .route("/admin/static/admin.css", get(pages::stylesheet));
    signed_in.merge(open).layer(axum::middleware::from_fn(console_headers))
}

async fn unknown() -> Response {
    crate::ApiError::not_found("not_found", "no such console page").into_response()
}

/// Lets the request through with its [`Session`] when its cookie names an open session.
async fn require_session(mut req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<AdminContext>().cloned() else {
        return crate::ApiError::internal(anyhow::anyhow!("the admin context is missing")).into_response();
    };
    let who = match session_token(req.headers()) {
        Some(token) => ctx.staff.session(&token).await.ok().map(|who| (who, token)),
        None => None,
    };
    let Some((who, token)) = who else {
        return if req.method() == Method::GET {
            let mut response = Redirect::to("/admin/login").into_response();
            response.headers_mut().insert(header::SET_COOKIE, ctx.cookie(None));
            response
        } else {
            crate::ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in to the console first")
                .into_response()
        };
    };
    let csrf = ctx.csrf(&token);
    req.extensions_mut().insert(Session { who, token, csrf });
    next.run(req).await
}

/// Lets the request through when the session's role is in `roles` and, for a POST, the
/// form carries the session's CSRF token.
async fn allow(roles: &'static [StaffRole], req: Request, next: Next) -> Response {
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return crate::ApiError::new(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in to the console first")
            .into_response();
    };
    if !roles.contains(&session.who.role) {
        return crate::ApiError::new(
            StatusCode::FORBIDDEN,
            "role_forbids",
            format!("the {} role may not use this page", session.who.role.as_str()),
        )
        .into_response();
    }
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM).await else {
        return crate::ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the form is too large")
            .into_response();
    };
    let sent = form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    if !sent.is_some_and(|t| custos_engine::tokens::constant_time_eq(t.as_bytes(), session.csrf.as_bytes())) {
        return crate::ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "the form's security token is missing or wrong; reload the page and try again",
        )
        .with_field(CSRF_FIELD)
        .into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The console's security headers, on every console response.
async fn console_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
