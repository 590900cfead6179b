//! The console's pages and actions. Access is decided before a handler runs (see the
//! module above); handlers only do their work.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Extension, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use custos_engine::gate::StaffRole;
use custos_engine::rights::RightsError;
use custos_engine::staff::StaffError;
use serde::Deserialize;
use uuid::Uuid;

use super::chart::{Group, Line, Series, grouped_bars, lines};
use super::{AdminContext, Session};
use crate::extract::Form;
use crate::{ApiError, AppState};

/// The handler of a route of [`super::ROUTES`].
pub(super) fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("GET", "/admin") => get(dashboard),
        ("POST", "/admin/logout") => post(logout),
        ("GET", "/admin/account") => get(my_account),
        ("POST", "/admin/account/totp") => post(start_totp),
        ("POST", "/admin/account/totp/confirm") => post(confirm_totp),
        ("POST", "/admin/account/password") => post(change_password),
        ("GET", "/admin/rights") => get(rights_queue),
        ("POST", "/admin/rights/{id}/extend") => post(extend),
        ("POST", "/admin/rights/{id}/lift") => post(lift),
        ("POST", "/admin/rights/{id}/deny") => post(deny),
        ("GET", "/admin/inbox") => get(super::inbox::queue),
        ("GET", "/admin/inbox/{id}") => get(super::inbox::thread),
        ("POST", "/admin/inbox/{id}/triage") => post(super::inbox::triage),
        ("POST", "/admin/inbox/{id}/answer") => post(super::inbox::answer),
        ("POST", "/admin/inbox/{id}/close") => post(super::inbox::close),
        ("GET", "/admin/staff") => get(staff_page),
        ("POST", "/admin/staff") => post(add_staff),
        ("POST", "/admin/staff/{username}/disable") => post(disable_staff),
        ("POST", "/admin/staff/{username}/purposes") => post(assign_purposes),
        ("GET", "/admin/consents") => get(super::consents::consents),
        ("GET", "/admin/audit") => get(super::oversight::audit),
        ("POST", "/admin/audit/verify") => post(super::oversight::verify_audit),
        ("GET", "/admin/jobs") => get(super::oversight::jobs),
        ("POST", "/admin/jobs/{id}/retry") => post(super::oversight::retry_job),
        ("GET", "/admin/subjects") => get(super::oversight::subject),
        ("GET", "/admin/breaches") => get(super::registers::breaches),
        ("POST", "/admin/breaches") => post(super::registers::open_breach),
        ("GET", "/admin/breaches/{id}") => get(super::registers::breach),
        ("POST", "/admin/breaches/{id}/notify-authority") => post(super::registers::notify_authority),
        ("POST", "/admin/breaches/{id}/notify-people") => post(super::registers::notify_people),
        ("GET", "/admin/holds") => get(super::registers::holds),
        ("POST", "/admin/holds") => post(super::registers::place_hold),
        ("POST", "/admin/holds/{id}/release") => post(super::registers::release_hold),
        ("GET", "/admin/legal") => get(super::registers::legal),
        ("POST", "/admin/legal") => post(super::registers::register_legal),
        ("POST", "/admin/legal/{id}/decide") => post(super::registers::decide_legal),
        ("GET", "/admin/disclosures") => get(super::registers::disclosures),
        ("GET", "/admin/partners") => get(super::partners::list),
        ("POST", "/admin/partners") => post(super::partners::register),
        ("GET", "/admin/partners/{id}") => get(super::partners::detail),
        ("POST", "/admin/partners/{id}/keys") => post(super::partners::create_key),
        ("POST", "/admin/partners/{id}/keys/{key}/revoke") => post(super::partners::revoke_key),
        ("POST", "/admin/partners/{id}/terminate") => post(super::partners::terminate),
        // A route in the table without a handler is a bug: it answers 404 for everyone, and
        // the route-walk test names it.
        _ => get(super::unknown).post(super::unknown),
    }
}

/// The signed-in member of staff, as the layout shows them.
pub(super) struct Who {
    pub(super) username: String,
    pub(super) role: &'static str,
    pub(super) admin: bool,
    pub(super) personal: bool,
    pub(super) audit: bool,
    pub(super) partners: bool,
    pub(super) csrf: String,
}

/// What every console page shows around its content (`admin/base.html`): the operator's
/// name, who is signed in, and what the last action said.
pub(super) struct Frame {
    pub(super) controller: String,
    pub(super) who: Option<Who>,
    pub(super) error: Option<String>,
    pub(super) notice: Option<String>,
}

impl Frame {
    /// The frame of a signed-in page.
    pub(super) fn signed(state: &AppState, session: &Session, error: Option<String>, notice: Option<String>) -> Self {
        Self { controller: state.policy.controller.name.clone(), who: Some(Who::from(session)), error, notice }
    }

    /// The frame of the sign-in and setup pages.
    pub(super) fn anonymous(state: &AppState, error: Option<String>) -> Self {
        Self { controller: state.policy.controller.name.clone(), who: None, error, notice: None }
    }
}

impl From<&Session> for Who {
    fn from(s: &Session) -> Self {
        Self {
            username: s.who.username.clone(),
            role: s.who.role.as_str(),
            admin: s.who.role == StaffRole::Admin,
            personal: super::PERSONAL.contains(&s.who.role),
            audit: super::AUDIT.contains(&s.who.role),
            partners: super::PARTNERS.contains(&s.who.role),
            csrf: s.csrf.clone(),
        }
    }
}

pub(super) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => ApiError::internal(anyhow::anyhow!("cannot render a console page: {e}")).into_response(),
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// Sign-in and setup.

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    frame: Frame,
}

pub(super) async fn login_page(State(state): State<AppState>) -> Response {
    let page = LoginPage { frame: Frame::anonymous(&state, None) };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(super) struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<Credentials>,
) -> Result<Response, ApiError> {
    state.limiters.accounts.check(peer.ip(), "console sign-ins")?;
    let code = Some(form.code.trim()).filter(|c| !c.is_empty());
    match ctx.staff.login(&form.username, &form.password, code).await {
        Ok((_, token)) => Ok(with_cookie(see_other("/admin"), ctx.cookie(Some(&token)))),
        Err(StaffError::BadCredentials) => {
            let page = LoginPage { frame: Frame::anonymous(&state, Some("Wrong username, password or code.".into())) };
            Ok(render(StatusCode::UNAUTHORIZED, &page))
        }
        Err(e) => Err(staff_error(e)),
    }
}

#[derive(Template)]
#[template(path = "admin/setup.html")]
struct SetupPage {
    frame: Frame,
    token: String,
}

pub(super) async fn setup_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let token: String = token.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let page = SetupPage { frame: Frame::anonymous(&state, None), token };
    render(StatusCode::OK, &page)
}

pub(super) async fn setup(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(token): Path<String>,
    Form(form): Form<Credentials>,
) -> Result<Response, ApiError> {
    state.limiters.accounts.check(peer.ip(), "console sign-ins")?;
    match ctx.staff.complete_setup(&token, &form.username, &form.password).await {
        Ok(session) => Ok(with_cookie(see_other("/admin"), ctx.cookie(Some(&session)))),
        Err(StaffError::Invalid { message, field }) => {
            let token: String = token.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
            let page = SetupPage { frame: Frame::anonymous(&state, Some(format!("{field}: {message}"))), token };
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(staff_error(e)),
    }
}

#[derive(Template)]
#[template(path = "admin/me.html")]
struct MePage {
    frame: Frame,
    csrf: String,
    enabled: bool,
    setup: Option<(String, String)>,
}

async fn me_page(
    state: &AppState,
    ctx: &AdminContext,
    session: &Session,
    status: StatusCode,
    setup: Option<(String, String)>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let enabled = ctx.staff.has_totp(&session.who).await.map_err(staff_error)?;
    let page =
        MePage { frame: Frame::signed(state, session, error, notice), csrf: session.csrf.clone(), enabled, setup };
    Ok(render(status, &page))
}

async fn my_account(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    me_page(&state, &ctx, &session, StatusCode::OK, None, None, None).await
}

async fn start_totp(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    let issuer = format!("custos {}", state.policy.controller.name.replace(':', " "));
    let setup = ctx.staff.start_totp(&session.who, &issuer).await.map_err(staff_error)?;
    me_page(&state, &ctx, &session, StatusCode::OK, Some(setup), None, None).await
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn confirm_totp(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
    Form(form): Form<CodeForm>,
) -> Result<Response, ApiError> {
    match ctx.staff.confirm_totp(&session.who, &form.code).await {
        Ok(()) => {
            let notice = "From now on, signing in asks for a code from your app.".to_owned();
            me_page(&state, &ctx, &session, StatusCode::OK, None, None, Some(notice)).await
        }
        Err(StaffError::Invalid { field, message }) => {
            let error = format!("{field}: {message}");
            me_page(&state, &ctx, &session, StatusCode::UNPROCESSABLE_ENTITY, None, Some(error), None).await
        }
        Err(e) => Err(staff_error(e)),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
}

async fn change_password(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
    Form(form): Form<PasswordForm>,
) -> Result<Response, ApiError> {
    match ctx.staff.change_password(&session.who, &form.current, &form.new).await {
        // Every session ended, this one too: sign in again.
        Ok(()) => Ok(with_cookie(see_other("/admin/login"), ctx.cookie(None))),
        Err(StaffError::Invalid { field, message }) => {
            let error = format!("{field}: {message}");
            me_page(&state, &ctx, &session, StatusCode::UNPROCESSABLE_ENTITY, None, Some(error), None).await
        }
        Err(e) => Err(staff_error(e)),
    }
}

async fn assign_purposes(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
    Path(username): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // Checkboxes repeat their name, which a struct form cannot take.
    let purposes: Vec<String> =
        form_urlencoded::parse(&body).filter(|(k, _)| k == "purpose").map(|(_, v)| v.into_owned()).collect();
    let known: Vec<&str> = state.policy.purposes.iter().map(|p| p.id.as_str()).collect();
    match ctx.staff.assign_purposes(&session.who, &username, &purposes, &known).await {
        Ok(()) => {
            let notice = format!(
                "{username} works for: {}.",
                if purposes.is_empty() { "nothing".into() } else { purposes.join(", ") }
            );
            staff_listing(&state, &ctx, &session, StatusCode::OK, None, Some(notice)).await
        }
        Err(StaffError::Invalid { field, message }) => {
            let error = format!("{field}: {message}");
            staff_listing(&state, &ctx, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(error), None).await
        }
        Err(e) => Err(staff_error(e)),
    }
}

async fn disable_staff(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    match ctx.staff.disable(&session.who, &username).await {
        Ok(()) => {
            let notice = format!("{username} can no longer sign in.");
            staff_listing(&state, &ctx, &session, StatusCode::OK, None, Some(notice)).await
        }
        Err(StaffError::Invalid { message, .. }) => {
            staff_listing(&state, &ctx, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(message), None).await
        }
        Err(e) => Err(staff_error(e)),
    }
}

async fn logout(Extension(ctx): Extension<AdminContext>, Extension(session): Extension<Session>) -> Response {
    let _ = ctx.staff.logout(&session.token).await;
    with_cookie(see_other("/admin/login"), ctx.cookie(None))
}

fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

pub(super) async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../templates/admin/admin.css"),
    )
        .into_response()
}

// The dashboard.

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct Dashboard {
    frame: Frame,
    open: usize,
    due_soon: usize,
    overdue: usize,
    extended: u64,
    chart: String,
    consent_chart: String,
    consent_rates: Vec<(String, String)>,
    ingest_chart: String,
    events_total: u64,
}

/// The states a chart bar counts, and what it calls them.
const STATE_SERIES: &[(&str, &[&str], &str)] = &[
    ("awaiting the person", &["unverified"], "#9e9e9e"),
    ("in hand", &["verified", "in_progress"], "#0b4fa8"),
    ("fulfilled", &["fulfilled"], "#2e7d32"),
    ("refused, expired or revoked", &["denied", "expired", "revoked"], "#8b0000"),
];

async fn dashboard(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    let now = jiff::Timestamp::now();
    let open = state.rights.queue(10_000).await.map_err(crate::rights::error)?;
    let week = 7 * 24 * 3600;
    let overdue = open.iter().filter(|r| r.due_at <= now).count();
    let due_soon = open.iter().filter(|r| r.due_at > now && r.due_at.duration_since(now).as_secs() < week).count();
    let counts = state.store.rights_request_counts().await?;
    let extended = counts.iter().filter(|c| c.extended).map(|c| c.count).sum();
    let mut series: Vec<Series> =
        STATE_SERIES.iter().map(|(name, _, colour)| Series { name, colour }).collect::<Vec<_>>();
    series.push(Series { name: "extended", colour: "#e37400" });
    let groups: Vec<Group> = custos_engine::rights::KINDS
        .iter()
        .map(|kind| {
            let of_kind = counts.iter().filter(|c| c.kind == *kind);
            let mut values: Vec<u64> = STATE_SERIES
                .iter()
                .map(|(_, states, _)| {
                    of_kind.clone().filter(|c| states.contains(&c.state.as_str())).map(|c| c.count).sum()
                })
                .collect();
            values.push(of_kind.filter(|c| c.extended).map(|c| c.count).sum());
            Group { label: (*kind).to_owned(), values }
        })
        .collect();
    let activity = Activity::last_days(&state, now, 30).await?;
    let page = Dashboard {
        frame: Frame::signed(&state, &session, None, None),
        open: open.len(),
        due_soon,
        overdue,
        extended,
        chart: grouped_bars("Rights requests by kind and state", &series, &groups),
        consent_chart: activity.consent_chart(),
        consent_rates: activity.consent_rates(),
        ingest_chart: activity.ingest_chart(),
        events_total: activity.events.iter().sum(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Consent decisions and website events over the last days, for the dashboard.
struct Activity {
    labels: Vec<String>,
    /// Per consent purpose: (granted, withdrawn) per day.
    consents: Vec<(String, Vec<(u64, u64)>)>,
    events: Vec<u64>,
}

/// Colours for the consent purposes' lines, in turn.
const LINE_COLOURS: &[&str] = &["#0b4fa8", "#e37400", "#2e7d32", "#8b0000", "#6a1b9a", "#00838f"];

impl Activity {
    async fn last_days(state: &AppState, now: jiff::Timestamp, days: i64) -> Result<Self, ApiError> {
        const DAY_MS: i64 = 86_400_000;
        let today = now.as_millisecond().div_euclid(DAY_MS);
        let first = today - (days - 1);
        let from = jiff::Timestamp::from_millisecond(first * DAY_MS).unwrap_or(now);
        let to = jiff::Timestamp::from_millisecond((today + 1) * DAY_MS).unwrap_or(now);
        let labels = (first..=today)
            .map(|d| {
                jiff::Timestamp::from_millisecond(d * DAY_MS)
                    .map(|t| t.strftime("%m-%d").to_string())
                    .unwrap_or_default()
            })
            .collect();
        let index = |day: i64| usize::try_from(day - first).ok().filter(|i| *i < days as usize);
        let mut consents: Vec<(String, Vec<(u64, u64)>)> = state
            .policy
            .purposes
            .iter()
            .filter(|p| p.legal_basis == custos_policy::LegalBasis::Consent)
            .map(|p| (p.id.clone(), vec![(0, 0); days as usize]))
            .collect();
        for d in state.store.consents_per_day(from, to).await? {
            if let (Some(i), Some((_, per_day))) = (index(d.day), consents.iter_mut().find(|(p, _)| *p == d.purpose)) {
                per_day[i].0 += d.granted;
                per_day[i].1 += d.withdrawn;
            }
        }
        let mut events = vec![0; days as usize];
        for (day, n) in state.store.events_per_day(from, to).await? {
            if let Some(i) = index(day) {
                events[i] += n;
            }
        }
        Ok(Self { labels, consents, events })
    }

    /// The share of decisions that were grants, per purpose and day.
    fn consent_chart(&self) -> String {
        let lines_: Vec<Line> = self
            .consents
            .iter()
            .zip(LINE_COLOURS.iter().cycle())
            .map(|((purpose, per_day), colour)| Line {
                name: purpose.clone(),
                colour,
                values: per_day
                    .iter()
                    .map(|(g, w)| (g + w > 0).then(|| (100.0 * *g as f64 / (g + w) as f64).round()))
                    .collect(),
            })
            .collect();
        lines("Share of consent decisions that were grants, per purpose and day", &self.labels, 5, &lines_, 100.0, "%")
    }

    /// Each purpose's grant rate over the whole period.
    fn consent_rates(&self) -> Vec<(String, String)> {
        self.consents
            .iter()
            .map(|(purpose, per_day)| {
                let (g, w) = per_day.iter().fold((0, 0), |(a, b), (g, w)| (a + g, b + w));
                let rate = if g + w == 0 {
                    "no decisions".to_owned()
                } else {
                    format!("{}% of {} decisions granted", (100.0 * g as f64 / (g + w) as f64).round(), g + w)
                };
                (purpose.clone(), rate)
            })
            .collect()
    }

    fn ingest_chart(&self) -> String {
        let groups: Vec<Group> = self
            .labels
            .iter()
            .zip(&self.events)
            .map(|(label, n)| Group { label: label.clone(), values: vec![*n] })
            .collect();
        grouped_bars("Website events per day", &[Series { name: "events", colour: "#0b4fa8" }], &groups)
    }
}

// The rights-request queue.

struct QueueRow {
    id: Uuid,
    kind: String,
    state: String,
    received: String,
    due: String,
    overdue: bool,
    due_soon: bool,
    extension_reason: Option<String>,
    extendable: bool,
    deniable: bool,
}

/// A fulfilled restriction request: in force, being lifted, or ended.
struct RestrictionRow {
    id: Uuid,
    since: String,
    in_force: bool,
    /// What became of a lift decided, if one was.
    lift: Option<String>,
    liftable: bool,
}

#[derive(Template)]
#[template(path = "admin/rights.html")]
struct QueuePage {
    frame: Frame,
    rows: Vec<QueueRow>,
    restrictions: Vec<RestrictionRow>,
    default_notice_days: i64,
    max_notice_days: i64,
    decide: bool,
    csrf: String,
}

async fn queue_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let now = jiff::Timestamp::now();
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let rows = state
        .rights
        .queue(1_000)
        .await
        .map_err(crate::rights::error)?
        .into_iter()
        .map(|r| QueueRow {
            id: r.id,
            kind: r.kind.clone(),
            state: r.state.replace('_', " "),
            received: day(r.received_at),
            due: day(r.due_at),
            overdue: r.due_at <= now,
            due_soon: r.due_at.duration_since(now).as_secs() < 7 * 24 * 3600,
            extendable: r.extension_reason.is_none()
                && now < custos_engine::rights::due_date(r.received_at, 1)
                && !matches!(r.state.as_str(), "fulfilled" | "denied" | "expired" | "revoked"),
            deniable: matches!(r.state.as_str(), "unverified" | "verified"),
            extension_reason: r.extension_reason,
        })
        .collect();
    let mut restrictions = Vec::new();
    for r in state.rights.restrictions(200).await.map_err(crate::rights::error)? {
        let in_force = match r.subject_id {
            Some(subject) => state.store.restricted(subject).await?,
            None => false,
        };
        let lift = custos_engine::rights::Lift::of(&r);
        let said = lift.as_ref().map(|l| match (l.notified_at, l.lifted_at) {
            (_, Some(at)) => format!("lifted on {}", day(at)),
            (Some(at), None) => format!("person told on {}; lifts on {}", day(at), day(l.effective_at)),
            (None, None) => format!("decided; the person is being told; lifts on {}", day(l.effective_at)),
        });
        if !in_force && lift.is_none() {
            // Ended otherwise (the person was erased since): nothing to decide.
            continue;
        }
        restrictions.push(RestrictionRow {
            id: r.id,
            since: r.closed_at.map(day).unwrap_or_default(),
            in_force,
            liftable: in_force && lift.is_none(),
            lift: said,
        });
    }
    let page = QueuePage {
        frame: Frame::signed(state, session, error, notice),
        rows,
        restrictions,
        default_notice_days: custos_engine::rights::DEFAULT_NOTICE_DAYS,
        max_notice_days: custos_engine::rights::MAX_NOTICE_DAYS,
        decide: super::DECIDE.contains(&session.who.role),
        csrf: session.csrf.clone(),
    };
    Ok(render(status, &page))
}

async fn rights_queue(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    queue_page(&state, &session, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct ExtendForm {
    #[serde(default)]
    months: String,
    #[serde(default)]
    reason: String,
}

async fn extend(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<ExtendForm>,
) -> Result<Response, ApiError> {
    let months: i8 = form.months.trim().parse().unwrap_or(0);
    match state.rights.extend(&session.who.actor(), id, months, &form.reason).await {
        Ok(r) => {
            let notice =
                format!("{} is now due {}; the person is being told why.", r.id, r.due_at.strftime("%Y-%m-%d"));
            queue_page(&state, &session, StatusCode::OK, None, Some(notice)).await
        }
        Err(e) => decision_failed(&state, &session, e).await,
    }
}

#[derive(Deserialize)]
struct DenyForm {
    #[serde(default)]
    reason: String,
}

async fn deny(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<DenyForm>,
) -> Result<Response, ApiError> {
    match state.rights.deny(&session.who.actor(), id, &form.reason).await {
        Ok(r) => {
            let notice = format!("{} is refused; the person is being told why and where to complain.", r.id);
            queue_page(&state, &session, StatusCode::OK, None, Some(notice)).await
        }
        Err(e) => decision_failed(&state, &session, e).await,
    }
}

#[derive(Deserialize)]
struct LiftForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    days: String,
}

async fn lift(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<LiftForm>,
) -> Result<Response, ApiError> {
    let days = match form.days.trim() {
        "" => None,
        // A number out of range is refused by the engine with the field named.
        text => Some(text.parse::<i64>().unwrap_or(i64::MAX)),
    };
    match state.rights.lift_restriction(&session.who.actor(), id, &form.reason, days).await {
        Ok(r) => {
            let on = custos_engine::rights::Lift::of(&r)
                .map(|l| l.effective_at.strftime("%Y-%m-%d").to_string())
                .unwrap_or_default();
            let notice = format!("{}: the person is being told first; the restriction ends on {on}.", r.id);
            queue_page(&state, &session, StatusCode::OK, None, Some(notice)).await
        }
        Err(e) => decision_failed(&state, &session, e).await,
    }
}

/// The queue again with what went wrong, for the mistakes a person can mend.
async fn decision_failed(state: &AppState, session: &Session, e: RightsError) -> Result<Response, ApiError> {
    let status = match &e {
        RightsError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        RightsError::WrongState { .. } => StatusCode::CONFLICT,
        RightsError::NotFound(_) => StatusCode::NOT_FOUND,
        _ => return Err(crate::rights::error(e)),
    };
    queue_page(state, session, status, Some(e.to_string()), None).await
}

// Staff.

struct MemberRow {
    username: String,
    role: String,
    since: String,
    disabled: bool,
    me: bool,
    support: bool,
    purposes: Vec<(String, bool)>,
}

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    frame: Frame,
    members: Vec<MemberRow>,
    csrf: String,
}

async fn staff_listing(
    state: &AppState,
    ctx: &AdminContext,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let members = ctx
        .staff
        .list()
        .await
        .map_err(staff_error)?
        .into_iter()
        .map(|m| MemberRow {
            support: m.role == "support",
            role: m.role,
            since: m.created_at.strftime("%Y-%m-%d").to_string(),
            disabled: m.disabled_at.is_some(),
            me: m.username == session.who.username,
            purposes: state.policy.purposes.iter().map(|p| (p.id.clone(), m.purposes.contains(&p.id))).collect(),
            username: m.username,
        })
        .collect();
    let page = StaffPage { frame: Frame::signed(state, session, error, notice), members, csrf: session.csrf.clone() };
    Ok(render(status, &page))
}

async fn staff_page(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    staff_listing(&state, &ctx, &session, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct NewMember {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn add_staff(
    State(state): State<AppState>,
    Extension(ctx): Extension<AdminContext>,
    Extension(session): Extension<Session>,
    Form(form): Form<NewMember>,
) -> Result<Response, ApiError> {
    let Some(role) = custos_engine::staff::role(&form.role) else {
        let error = "role: choose admin, dpo, support or auditor".to_owned();
        return staff_listing(&state, &ctx, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(error), None).await;
    };
    match ctx.staff.add(&session.who, &form.username, role, &form.password).await {
        Ok(()) => {
            let notice = format!("{} can now sign in as {}.", form.username.trim(), role.as_str());
            staff_listing(&state, &ctx, &session, StatusCode::OK, None, Some(notice)).await
        }
        Err(e @ (StaffError::Invalid { .. } | StaffError::Taken)) => {
            staff_listing(&state, &ctx, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()), None).await
        }
        Err(e) => Err(staff_error(e)),
    }
}

fn staff_error(e: StaffError) -> ApiError {
    match e {
        StaffError::Invalid { field, message } => ApiError::invalid("invalid_value", message).with_field(field),
        StaffError::BadCredentials => ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()),
        StaffError::BadToken => ApiError::new(StatusCode::UNAUTHORIZED, "bad_token", e.to_string()),
        StaffError::Taken => ApiError::conflict("taken", e.to_string()).with_field("username"),
        StaffError::Store(e) => e.into(),
    }
}
