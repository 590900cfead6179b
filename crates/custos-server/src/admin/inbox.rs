//! The privacy mailbox in the console (seed 7, 8, 9): the queue of mail threads, soonest
//! due first, and each thread with its original mails, where staff triage an unclear
//! mail into a request, answer in the thread, or close it.
//!
//! The queue shows no personal data; opening a thread shows the sender and the mails, and
//! is audited (`inbox.read`).

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use custos_engine::inbox::{InboxError, Intent};
use serde::Deserialize;
use uuid::Uuid;

use super::Session;
use super::pages::{Frame, render};
use crate::extract::Form;
use crate::{ApiError, AppState};

/// A thread in the queue.
struct QueueRow {
    id: Uuid,
    received: String,
    due: String,
    state: String,
    intent: String,
    language: String,
    confidence: i32,
    request: String,
    forwarded: bool,
}

#[derive(Template)]
#[template(path = "admin/inbox.html")]
struct QueuePage {
    frame: Frame,
    rows: Vec<QueueRow>,
}

/// One mail of a thread, as shown.
struct MailView {
    direction: &'static str,
    source: String,
    at: String,
    subject: String,
    original: String,
}

#[derive(Template)]
#[template(path = "admin/thread.html")]
struct ThreadPage {
    frame: Frame,
    csrf: String,
    id: Uuid,
    sender: String,
    state: String,
    intent: String,
    language: String,
    confidence: i32,
    received: String,
    due: String,
    request: Option<Uuid>,
    mails: Vec<MailView>,
    intents: Vec<&'static str>,
    triage: bool,
    /// Whether a receiving server found the first mail's sender forged.
    forged: bool,
}

pub(super) async fn queue(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    let threads = state.inbox.queue(500).await.map_err(error)?;
    let rows = threads
        .into_iter()
        .map(|(t, request)| QueueRow {
            id: t.id,
            received: t.received_at.strftime("%Y-%m-%d %H:%M").to_string(),
            due: t.due_at.strftime("%Y-%m-%d").to_string(),
            state: t.state,
            intent: t.intent.unwrap_or_else(|| "unclear".into()),
            language: t.language,
            confidence: t.confidence / 10,
            request: request.map(|r| format!("{} ({})", r.kind, r.state)).unwrap_or_default(),
            forwarded: t.partner_id.is_some(),
        })
        .collect();
    Ok(render(StatusCode::OK, &QueuePage { frame: Frame::signed(&state, &session, None, None), rows }))
}

async fn thread_page(
    state: &AppState,
    session: &Session,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let (thread, sender, messages) = state.inbox.read(&session.who.actor(), id).await.map_err(self::error)?;
    let forged =
        messages.iter().find(|m| m.row.direction == "in").and_then(|m| m.mail.as_ref()).is_some_and(|m| m.forged);
    let mails = messages
        .into_iter()
        .map(|m| MailView {
            direction: if m.row.direction == "in" { "from the person" } else { "from us" },
            source: m.row.source.clone(),
            at: m.row.at.strftime("%Y-%m-%d %H:%M").to_string(),
            subject: m.mail.as_ref().map(|p| p.subject.clone()).unwrap_or_default(),
            original: m.raw,
        })
        .collect();
    let page = ThreadPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        id: thread.id,
        sender,
        triage: thread.state == "triage" && thread.request_id.is_none(),
        state: thread.state,
        intent: thread.intent.unwrap_or_else(|| "unclear".into()),
        language: thread.language,
        confidence: thread.confidence / 10,
        received: thread.received_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        due: thread.due_at.strftime("%Y-%m-%d").to_string(),
        request: thread.request_id,
        mails,
        intents: Intent::ALL.iter().map(|i| i.as_str()).collect(),
        forged,
    };
    Ok(render(status, &page))
}

pub(super) async fn thread(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    thread_page(&state, &session, id, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub(super) struct TriageForm {
    #[serde(default)]
    intent: String,
}

pub(super) async fn triage(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<TriageForm>,
) -> Result<Response, ApiError> {
    let done = state.inbox.triage(&session.who.actor(), id, &form.intent).await.map(|t| match t.request_id {
        Some(r) => format!("Request {r} is made; the person is sent the code to confirm their address."),
        None => "Answered.".to_owned(),
    });
    after(&state, &session, id, done).await
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    text: String,
}

pub(super) async fn answer(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, ApiError> {
    let done = state
        .inbox
        .answer(&session.who.actor(), id, &form.text)
        .await
        .map(|_| "The answer is on its way, in the person's thread.".to_owned());
    after(&state, &session, id, done).await
}

pub(super) async fn close(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let done = state.inbox.close(&session.who.actor(), id).await.map(|_| "The thread is closed.".to_owned());
    after(&state, &session, id, done).await
}

/// The thread again, with the notice of what was done or the mistake to mend.
async fn after(
    state: &AppState,
    session: &Session,
    id: Uuid,
    done: Result<String, InboxError>,
) -> Result<Response, ApiError> {
    match done {
        Ok(notice) => thread_page(state, session, id, StatusCode::OK, None, Some(notice)).await,
        Err(e @ InboxError::Invalid { .. }) => {
            thread_page(state, session, id, StatusCode::UNPROCESSABLE_ENTITY, Some(e.to_string()), None).await
        }
        Err(e) => Err(error(e)),
    }
}

/// An inbox error as an API error.
fn error(e: InboxError) -> ApiError {
    match e {
        InboxError::NotFound(id) => ApiError::not_found("unknown_thread", format!("no mail thread {id}")),
        InboxError::Invalid { field, message } => ApiError::invalid("invalid_value", message).with_field(field),
        InboxError::Rights(e) => crate::rights::error(e),
        InboxError::Store(e) => e.into(),
        other => ApiError::internal(other),
    }
}
