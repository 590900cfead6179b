//! The console's oversight pages: the audit log and its verification, background jobs
//! that died, and a person's data looked at for a stated purpose.

use askama::Template;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use custos_engine::records::AccessError;
use custos_store::{IdentifierKind, JobState, SubjectId};
use serde::Deserialize;

use super::Session;
use super::pages::{Frame, render};
use crate::{ApiError, AppState};

/// Audit entries a page shows.
const PAGE: u32 = 100;

struct EntryRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    subject: String,
    purpose: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    frame: Frame,
    csrf: String,
    entries: Vec<EntryRow>,
    first: i64,
    last: i64,
    next: Option<i64>,
    verification: Option<String>,
    intact: bool,
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    after: Option<i64>,
}

async fn audit_page(
    state: &AppState,
    session: &Session,
    after: i64,
    verification: Option<(String, bool)>,
) -> Result<Response, ApiError> {
    let entries = custos_engine::audit::export(&state.store, after.max(0), PAGE).await?;
    let rows: Vec<EntryRow> = entries
        .iter()
        .map(|e| EntryRow {
            seq: e.seq,
            at: e.entry.at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
            actor: e.entry.actor.clone(),
            action: e.entry.action.clone(),
            subject: e.entry.subject_id.map(|s| s.to_string()).unwrap_or_default(),
            purpose: e.entry.purpose.clone().unwrap_or_default(),
            detail: e.entry.detail.to_string(),
        })
        .collect();
    let (first, last) = (rows.first().map_or(0, |r| r.seq), rows.last().map_or(0, |r| r.seq));
    let page = AuditPage {
        frame: Frame::signed(state, session, None, None),
        csrf: session.csrf.clone(),
        next: (rows.len() as u32 == PAGE).then_some(last),
        entries: rows,
        first,
        last,
        intact: verification.as_ref().is_some_and(|(_, ok)| *ok),
        verification: verification.map(|(text, _)| text),
    };
    Ok(render(StatusCode::OK, &page))
}

pub(super) async fn audit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    audit_page(&state, &session, query.after.unwrap_or(0), None).await
}

pub(super) async fn verify_audit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    let keys = state.records.vault().keys().clone();
    let checked = custos_engine::audit::verify(&state.store, &keys, 1_000).await?;
    let result = match &checked.first_break {
        None => (
            format!("The chain is intact: {} entries checked, none altered, removed or reordered.", checked.entries),
            true,
        ),
        Some(broken) => (format!("The chain is broken: {broken}."), false),
    };
    audit_page(&state, &session, 0, Some(result)).await
}

// Jobs.

struct DeadRow {
    id: i64,
    kind: String,
    attempts: u32,
    error: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
struct JobsPage {
    frame: Frame,
    csrf: String,
    counts: Vec<(&'static str, u64)>,
    dead: Vec<DeadRow>,
}

async fn jobs_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let counts = state.store.count_jobs().await?;
    let dead = state
        .store
        .jobs_in_state(JobState::Dead, 200)
        .await?
        .into_iter()
        .map(|j| DeadRow {
            id: j.id,
            kind: j.kind,
            attempts: j.attempts,
            error: j.last_error.unwrap_or_default(),
            updated: j.updated_at.strftime("%Y-%m-%d %H:%M").to_string(),
        })
        .collect();
    let page = JobsPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        counts: JobState::ALL.iter().map(|s| (s.as_str(), counts.get(*s))).collect(),
        dead,
    };
    Ok(render(status, &page))
}

pub(super) async fn jobs(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    jobs_page(&state, &session, StatusCode::OK, None, None).await
}

pub(super) async fn retry_job(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if state.store.retry_dead_job(id, jiff::Timestamp::now()).await? {
        state
            .records
            .auditor()
            .append(custos_store::NewAuditEntry {
                at: jiff::Timestamp::now(),
                actor: session.who.actor().audit_name(),
                action: "job.retry".into(),
                subject_id: None,
                purpose: None,
                detail: serde_json::json!({"job": id}),
            })
            .await?;
        jobs_page(&state, &session, StatusCode::OK, Some(format!("Job #{id} will run again.")), None).await
    } else {
        jobs_page(&state, &session, StatusCode::CONFLICT, None, Some(format!("Job #{id} is not dead."))).await
    }
}

// A person's data.

struct DataRow {
    category: String,
    value: String,
    collected: String,
    version: String,
}

#[derive(Template)]
#[template(path = "admin/subjects.html")]
struct SubjectPage {
    frame: Frame,
    purposes: Vec<(String, String)>,
    who_asked: String,
    purpose_asked: String,
    subject: Option<SubjectId>,
    rows: Vec<DataRow>,
}

#[derive(Deserialize)]
pub(super) struct Look {
    #[serde(default)]
    who: String,
    #[serde(default)]
    purpose: String,
}

pub(super) async fn subject(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Query(look): Query<Look>,
) -> Result<Response, ApiError> {
    let purposes = state.policy.purposes.iter().map(|p| (p.id.clone(), format!("{} ({})", p.name, p.id))).collect();
    let mut page = SubjectPage {
        frame: Frame::signed(&state, &session, None, None),
        purposes,
        who_asked: look.who.trim().to_owned(),
        purpose_asked: look.purpose.trim().to_owned(),
        subject: None,
        rows: Vec::new(),
    };
    if page.who_asked.is_empty() && page.purpose_asked.is_empty() {
        return Ok(render(StatusCode::OK, &page));
    }
    let Some(purpose) = state.policy.purpose(&page.purpose_asked) else {
        page.frame.error = Some("purpose: choose why you look before anything is shown".into());
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &page));
    };
    let found = match page.who_asked.parse::<uuid::Uuid>() {
        Ok(id) => state.store.subject(SubjectId(id)).await?.map(|s| s.id),
        Err(_) => state.records.find(IdentifierKind::Email, &page.who_asked).await.unwrap_or(None),
    };
    let Some(subject) = found else {
        page.frame.error = Some("No person is held under this id or address.".into());
        return Ok(render(StatusCode::NOT_FOUND, &page));
    };
    let categories: Vec<&str> = purpose.categories.iter().map(String::as_str).collect();
    match state.records.read(&session.who.actor(), subject, &purpose.id, &categories).await {
        Ok(records) => {
            page.subject = Some(subject);
            page.rows = records
                .into_iter()
                .map(|r| DataRow {
                    category: r.category,
                    value: match std::str::from_utf8(&r.value) {
                        Ok(text) if !text.contains('\0') => text.to_owned(),
                        _ => format!("({} bytes of binary data)", r.value.len()),
                    },
                    collected: r.collected_at.strftime("%Y-%m-%d").to_string(),
                    version: r.policy_version.chars().take(12).collect(),
                })
                .collect();
            Ok(render(StatusCode::OK, &page))
        }
        Err(AccessError::Denied { rule, reason }) => {
            page.frame.error = Some(format!("The gate refuses ({rule}): {reason}"));
            Ok(render(StatusCode::FORBIDDEN, &page))
        }
        Err(other) => Err(crate::subjects::access_error(other)),
    }
}
