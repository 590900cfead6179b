//! The console's registers: breaches with their 72-hour clock, legal holds, requests from
//! authorities and the disclosure log. Staff text only; people appear by subject id.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use custos_engine::governance::GovernanceError;
use custos_engine::governance::breach::{NewBreach, deadline};
use custos_engine::governance::holds::NewHold;
use custos_engine::governance::legal::{Decision, NewLegalRequest};
use serde::Deserialize;
use uuid::Uuid;

use super::Session;
use super::pages::{Frame, render};
use crate::extract::Form;
use crate::{ApiError, AppState};

fn stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// The status of a refusal a person can act on; `None` for faults.
fn refusal(e: &GovernanceError) -> Option<StatusCode> {
    match e {
        GovernanceError::Invalid { .. } => Some(StatusCode::UNPROCESSABLE_ENTITY),
        GovernanceError::NotFound(_) => Some(StatusCode::NOT_FOUND),
        GovernanceError::WrongState(_) => Some(StatusCode::CONFLICT),
        _ => None,
    }
}

/// What a page says after an action: its status, its error and its notice; a fault that
/// no person can mend is an error response instead.
type Said = (StatusCode, Option<String>, Option<String>);

fn said<T>(result: Result<T, GovernanceError>, notice: impl FnOnce(T) -> String) -> Result<Said, ApiError> {
    match result {
        Ok(done) => Ok((StatusCode::OK, None, Some(notice(done)))),
        Err(e) => match refusal(&e) {
            Some(status) => Ok((status, Some(e.to_string()), None)),
            None => Err(fault(e)),
        },
    }
}

fn fault(e: GovernanceError) -> ApiError {
    match e {
        GovernanceError::Store(e) => e.into(),
        other => ApiError::internal(anyhow::anyhow!("governance: {other}")),
    }
}

/// The clock of a breach, in words.
fn clock(breach: &custos_store::Breach) -> (String, bool) {
    let d = deadline(breach, jiff::Timestamp::now());
    let text = match (breach.notified_at, d.hours_left) {
        (Some(at), _) if d.overdue => format!("authority notified {} — after the 72 hours", stamp(at)),
        (Some(at), _) => format!("authority notified {}, within 72 hours", stamp(at)),
        (None, Some(h)) if h < 0 => {
            format!("OVERDUE: the authority was due to be told by {} ({} h ago)", stamp(d.due_at), -h)
        }
        (None, Some(h)) => format!("{h} h left: tell the authority by {}", stamp(d.due_at)),
        (None, None) => format!("tell the authority by {}", stamp(d.due_at)),
    };
    (text, d.overdue)
}

// Breaches.

struct BreachRow {
    id: Uuid,
    detected: String,
    nature: String,
    clock: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "admin/breaches.html")]
struct BreachesPage {
    frame: Frame,
    csrf: String,
    rows: Vec<BreachRow>,
    decide: bool,
}

async fn breaches_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let rows = state
        .governance
        .breaches
        .list(500)
        .await?
        .iter()
        .map(|b| {
            let (clock, overdue) = clock(b);
            BreachRow {
                id: b.id,
                detected: stamp(b.detected_at),
                nature: b.nature.chars().take(120).collect(),
                clock,
                overdue,
            }
        })
        .collect();
    let page = BreachesPage {
        frame: Frame::signed(state, session, error, None),
        csrf: session.csrf.clone(),
        rows,
        decide: super::DECIDE.contains(&session.who.role),
    };
    Ok(render(status, &page))
}

pub(super) async fn breaches(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    breaches_page(&state, &session, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(super) struct BreachForm {
    #[serde(default)]
    nature: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    systems: String,
    #[serde(default)]
    measures: String,
    #[serde(default)]
    consequences: String,
    #[serde(default)]
    keys_exposed: Option<String>,
    #[serde(default)]
    window_start: String,
    #[serde(default)]
    window_end: String,
}

/// A `datetime-local` value, read as UTC.
fn utc(field: &'static str, value: &str) -> Result<jiff::Timestamp, String> {
    let civil: jiff::civil::DateTime =
        value.trim().parse().map_err(|_| format!("{field}: give a date and time such as 2026-11-29T08:30"))?;
    civil.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|e| format!("{field}: {e}"))
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

pub(super) async fn open_breach(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(form): Form<BreachForm>,
) -> Result<Response, ApiError> {
    let window = utc("window_start", &form.window_start).and_then(|s| Ok((s, utc("window_end", &form.window_end)?)));
    let (window_start, window_end) = match window {
        Ok(w) => w,
        Err(message) => return breaches_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await,
    };
    let new = NewBreach {
        detected_at: None,
        nature: form.nature,
        categories: list(&form.categories),
        systems: list(&form.systems),
        measures: form.measures,
        consequences: form.consequences,
        keys_exposed: form.keys_exposed.is_some(),
        window_start,
        window_end,
        opened_by: session.who.username.clone(),
    };
    match state.governance.breaches.open(&session.who.actor(), &new).await {
        Ok(b) => {
            breach_page(
                &state,
                &session,
                b.id,
                StatusCode::OK,
                None,
                Some("The breach is registered; the 72-hour clock runs from now.".into()),
            )
            .await
        }
        Err(e) => match refusal(&e) {
            Some(status) => breaches_page(&state, &session, status, Some(e.to_string())).await,
            None => Err(fault(e)),
        },
    }
}

#[derive(Template)]
#[template(path = "admin/breach.html")]
struct BreachPage {
    frame: Frame,
    csrf: String,
    id: Uuid,
    detected: String,
    clock: String,
    overdue: bool,
    notified: bool,
    nature: String,
    window: String,
    keys_exposed: bool,
    people: usize,
    to_tell: usize,
    partners: usize,
    records: i64,
    draft: String,
    decide: bool,
}

async fn breach_page(
    state: &AppState,
    session: &Session,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let breaches = &state.governance.breaches;
    let b = match breaches.get(id).await {
        Ok(b) => b,
        Err(e @ GovernanceError::NotFound(_)) => {
            return breaches_page(state, session, StatusCode::NOT_FOUND, Some(e.to_string())).await;
        }
        Err(e) => return Err(fault(e)),
    };
    let affected = breaches.affected(id).await.map_err(fault)?;
    let draft = breaches.draft(id).await.map_err(fault)?;
    let (clock, overdue) = clock(&b);
    let page = BreachPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        id,
        detected: stamp(b.detected_at),
        clock,
        overdue,
        notified: b.notified_at.is_some(),
        nature: b.nature.clone(),
        window: format!("{} to {} (UTC)", stamp(b.window_start), stamp(b.window_end)),
        keys_exposed: b.keys_exposed,
        people: affected.subjects.len(),
        to_tell: affected.subjects.iter().filter(|s| s.notice_needed).count(),
        partners: affected.partners.len(),
        records: affected.records,
        draft: custos_engine::governance::breach::draft_text(&draft),
        decide: super::DECIDE.contains(&session.who.role),
    };
    Ok(render(status, &page))
}

pub(super) async fn breach(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    breach_page(&state, &session, id, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub(super) struct DelayForm {
    #[serde(default)]
    delay_reason: String,
}

pub(super) async fn notify_authority(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<DelayForm>,
) -> Result<Response, ApiError> {
    let reason = Some(form.delay_reason.trim()).filter(|r| !r.is_empty());
    let result = state.governance.breaches.notify_authority(&session.who.actor(), id, reason).await;
    let (status, error, notice) = said(result, |_| "The notification is recorded.".into())?;
    breach_page(&state, &session, id, status, error, notice).await
}

pub(super) async fn notify_people(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let result = state.governance.breaches.notify_people(&session.who.actor(), id).await;
    let (status, error, notice) = said(result, |n| format!("{n} notice(s) queued; nobody is mailed twice."))?;
    breach_page(&state, &session, id, status, error, notice).await
}

// Legal holds.

struct HoldRow {
    id: Uuid,
    scope: String,
    reason: String,
    placed: String,
    until: String,
    state: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin/holds.html")]
struct HoldsPage {
    frame: Frame,
    csrf: String,
    rows: Vec<HoldRow>,
    decide: bool,
}

async fn holds_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let now = jiff::Timestamp::now();
    let rows = state
        .governance
        .holds
        .list(true)
        .await?
        .into_iter()
        .map(|h| HoldRow {
            id: h.id,
            active: h.active(now),
            scope: match &h.target {
                Some(t) => format!("{} {t}", h.scope),
                None => h.scope.clone(),
            },
            placed: format!("{} by {}", stamp(h.placed_at), h.placed_by),
            until: h.until.map(stamp).unwrap_or_else(|| "until released".into()),
            state: match (&h.released_at, h.active(now)) {
                (Some(at), _) => format!("released {} ({})", stamp(*at), h.release_reason.clone().unwrap_or_default()),
                (None, true) => "in force".into(),
                (None, false) => "ended".into(),
            },
            reason: h.reason,
        })
        .collect();
    let page = HoldsPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        rows,
        decide: super::DECIDE.contains(&session.who.role),
    };
    Ok(render(status, &page))
}

pub(super) async fn holds(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    holds_page(&state, &session, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub(super) struct HoldForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    until: String,
}

pub(super) async fn place_hold(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(form): Form<HoldForm>,
) -> Result<Response, ApiError> {
    let until = match form.until.trim() {
        "" => None,
        day => match day.parse::<jiff::civil::Date>().ok().and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok()) {
            Some(z) => Some(z.timestamp()),
            None => {
                let error = "until: give a date such as 2027-12-31".to_owned();
                return holds_page(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, Some(error), None).await;
            }
        },
    };
    let new = NewHold {
        scope: form.scope,
        target: Some(form.target.trim().to_owned()).filter(|t| !t.is_empty()),
        reason: form.reason,
        placed_by: session.who.username.clone(),
        until,
    };
    let result = state.governance.holds.place(&session.who.actor(), &new).await;
    let (status, error, notice) = said(result, |_| "The hold is in force.".into())?;
    holds_page(&state, &session, status, error, notice).await
}

#[derive(Deserialize)]
pub(super) struct ReleaseForm {
    #[serde(default)]
    reason: String,
}

pub(super) async fn release_hold(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<ReleaseForm>,
) -> Result<Response, ApiError> {
    let result = state.governance.holds.release(&session.who.actor(), id, &session.who.username, &form.reason).await;
    let (status, error, notice) = said(result, |_| "The hold is released.".into())?;
    holds_page(&state, &session, status, error, notice).await
}

// Legal requests.

struct LegalRow {
    id: Uuid,
    received: String,
    authority: String,
    basis: String,
    scope: String,
    decision: String,
    pending: bool,
    disclosures: usize,
}

#[derive(Template)]
#[template(path = "admin/legal.html")]
struct LegalPage {
    frame: Frame,
    csrf: String,
    rows: Vec<LegalRow>,
    decide: bool,
}

async fn legal_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let legal = &state.governance.legal;
    let mut rows = Vec::new();
    for r in legal.list(500).await? {
        let disclosures = legal.disclosures(r.id).await?.len();
        rows.push(LegalRow {
            id: r.id,
            received: stamp(r.received_at),
            pending: r.decision == "pending",
            decision: match (&r.decided_by, &r.reason) {
                (Some(by), Some(why)) => format!("{} by {by}: {why}", r.decision.replace('_', " ")),
                _ => r.decision.replace('_', " "),
            },
            authority: r.authority,
            basis: r.legal_basis,
            scope: r.scope,
            disclosures,
        });
    }
    let page = LegalPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        rows,
        decide: super::DECIDE.contains(&session.who.role),
    };
    Ok(render(status, &page))
}

pub(super) async fn legal(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    legal_page(&state, &session, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub(super) struct LegalForm {
    #[serde(default)]
    authority: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    scope: String,
}

pub(super) async fn register_legal(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Form(form): Form<LegalForm>,
) -> Result<Response, ApiError> {
    let new = NewLegalRequest {
        authority: form.authority,
        legal_basis: form.legal_basis,
        scope: form.scope,
        received_at: None,
        recorded_by: session.who.username.clone(),
    };
    let result = state.governance.legal.register(&session.who.actor(), &new).await;
    let (status, error, notice) = said(result, |_| "The request is registered.".into())?;
    legal_page(&state, &session, status, error, notice).await
}

#[derive(Deserialize)]
pub(super) struct DecideForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn decide_legal(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<DecideForm>,
) -> Result<Response, ApiError> {
    let decision = Decision { decision: form.decision, decided_by: session.who.username.clone(), reason: form.reason };
    let result = state.governance.legal.decide(&session.who.actor(), id, &decision).await;
    let (status, error, notice) = said(result, |_| "The decision is recorded.".into())?;
    legal_page(&state, &session, status, error, notice).await
}

// Disclosures.

struct DisclosureRow {
    at: String,
    recipient: String,
    country: String,
    safeguard: String,
    purpose: String,
    categories: String,
    people: usize,
    actor: String,
}

#[derive(Template)]
#[template(path = "admin/disclosures.html")]
struct DisclosuresPage {
    frame: Frame,
    rows: Vec<DisclosureRow>,
}

pub(super) async fn disclosures(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    let rows = state
        .governance
        .disclose
        .list(None, 500)
        .await?
        .into_iter()
        .map(|d| DisclosureRow {
            at: stamp(d.at),
            people: d.subjects.len(),
            categories: d.categories.join(", "),
            recipient: d.recipient,
            country: d.country,
            safeguard: d.safeguard,
            purpose: d.purpose,
            actor: d.actor,
        })
        .collect();
    let page = DisclosuresPage { frame: Frame::signed(&state, &session, None, None), rows };
    Ok(render(StatusCode::OK, &page))
}
