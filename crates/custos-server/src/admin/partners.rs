//! The console's partner pages: the register, keys (shown once, revoked), sub-processors
//! and the end of a contract.

use askama::Template;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use custos_engine::partners::{NewPartner, PartnerError};
use uuid::Uuid;

use super::Session;
use super::pages::{Frame, render};
use crate::{ApiError, AppState};

struct PartnerRow {
    id: Uuid,
    name: String,
    country: String,
    role: String,
    status: String,
    transfers: bool,
    since: String,
}

#[derive(Template)]
#[template(path = "admin/partners.html")]
struct PartnersPage {
    frame: Frame,
    csrf: String,
    partners: Vec<PartnerRow>,
    register: bool,
    roles: &'static [&'static str],
}

fn day(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// The page status and message for a refusal a person can act on; `None` for faults.
fn refusal(e: &PartnerError) -> Option<StatusCode> {
    match e {
        PartnerError::Invalid { .. } => Some(StatusCode::UNPROCESSABLE_ENTITY),
        PartnerError::NotFound(_) => Some(StatusCode::NOT_FOUND),
        // Staff roles are checked before any handler: what is left is the partner's state
        // (a terminated contract gets no keys) or a processor-duty rule.
        PartnerError::Forbidden { .. } | PartnerError::Refused { .. } => Some(StatusCode::CONFLICT),
        PartnerError::Access(custos_engine::records::AccessError::Denied { .. }) => Some(StatusCode::FORBIDDEN),
        _ => None,
    }
}

fn fault(e: PartnerError) -> ApiError {
    match e {
        PartnerError::Store(e) => e.into(),
        other => ApiError::internal(anyhow::anyhow!("partners: {other}")),
    }
}

async fn list_page(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, ApiError> {
    let partners = state
        .partners
        .list(&session.who.actor())
        .await
        .map_err(fault)?
        .into_iter()
        .map(|p| PartnerRow {
            id: p.id,
            name: p.name,
            country: p.country,
            role: p.role,
            status: p.contract_status,
            transfers: p.transfers_outside_eea,
            since: day(p.created_at),
        })
        .collect();
    let page = PartnersPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        partners,
        register: super::REGISTER.contains(&session.who.role),
        roles: custos_engine::partners::ROLES,
    };
    Ok(render(status, &page))
}

pub(super) async fn list(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    list_page(&state, &session, StatusCode::OK, None, None).await
}

#[derive(serde::Deserialize)]
pub(super) struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    contact_name: String,
}

pub(super) async fn register(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    crate::extract::Form(form): crate::extract::Form<RegisterForm>,
) -> Result<Response, ApiError> {
    let new = NewPartner {
        name: form.name,
        country: form.country,
        role: form.role,
        contact_email: form.contact_email,
        contact_name: Some(form.contact_name).filter(|n| !n.trim().is_empty()),
    };
    match state.partners.register(&session.who.actor(), &new).await {
        Ok(p) => {
            detail_page(&state, &session, p.id, StatusCode::OK, None, Some(format!("{} is registered.", p.name)), None)
                .await
        }
        Err(e) => match refusal(&e) {
            Some(status) => list_page(&state, &session, status, Some(e.to_string()), None).await,
            None => Err(fault(e)),
        },
    }
}

struct KeyRow {
    id: String,
    scopes: String,
    created: String,
    revoked: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "admin/partner.html")]
struct PartnerPage {
    frame: Frame,
    csrf: String,
    id: Uuid,
    name: String,
    country: String,
    role: String,
    status: String,
    transfers: String,
    report: Option<String>,
    keys: Vec<KeyRow>,
    subprocessors: Vec<String>,
    new_key: Option<String>,
    manage: bool,
    active: bool,
    scopes: &'static [&'static str],
}

async fn detail_page(
    state: &AppState,
    session: &Session,
    id: Uuid,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    new_key: Option<String>,
) -> Result<Response, ApiError> {
    let (partner, keys, subs) = match state.partners.get(&session.who.actor(), id).await {
        Ok(found) => found,
        Err(e @ PartnerError::NotFound(_)) => {
            return list_page(state, session, StatusCode::NOT_FOUND, Some(e.to_string()), None).await;
        }
        Err(e) => return Err(fault(e)),
    };
    let page = PartnerPage {
        frame: Frame::signed(state, session, error, notice),
        csrf: session.csrf.clone(),
        id,
        active: partner.contract_status == "active",
        name: partner.name,
        country: partner.country,
        role: partner.role,
        status: partner.contract_status,
        transfers: match (partner.transfers_outside_eea, partner.transfer_consent_ref) {
            (true, Some(reference)) => format!("consented in writing ({reference})"),
            (true, None) => "consented in writing".into(),
            (false, _) => "not consented: refused".into(),
        },
        report: partner.termination_report.map(|r| r.to_string()),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                live: k.revoked_at.is_none(),
                id: k.id,
                scopes: k.scopes.join(", "),
                created: day(k.created_at),
                revoked: k.revoked_at.map(day).unwrap_or_default(),
            })
            .collect(),
        subprocessors: subs.into_iter().map(|s| format!("{} ({})", s.name, s.country)).collect(),
        new_key,
        manage: super::MANAGE.contains(&session.who.role),
        scopes: custos_engine::partners::keys::SCOPES,
    };
    Ok(render(status, &page))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    detail_page(&state, &session, id, StatusCode::OK, None, None, None).await
}

pub(super) async fn create_key(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // Checkboxes repeat their name, which a struct form cannot take.
    let scopes: Vec<String> =
        form_urlencoded::parse(&body).filter(|(k, _)| k == "scope").map(|(_, v)| v.into_owned()).collect();
    if scopes.is_empty() {
        let error = "scopes: choose at least one".to_owned();
        return detail_page(&state, &session, id, StatusCode::UNPROCESSABLE_ENTITY, Some(error), None, None).await;
    }
    match state.partners.create_key(&session.who.actor(), id, &scopes).await {
        Ok((key, text)) => {
            let notice = format!("Key {} is made.", key.id);
            detail_page(&state, &session, id, StatusCode::OK, None, Some(notice), Some(text)).await
        }
        Err(e) => match refusal(&e) {
            Some(status) => detail_page(&state, &session, id, status, Some(e.to_string()), None, None).await,
            None => Err(fault(e)),
        },
    }
}

pub(super) async fn revoke_key(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path((id, key)): Path<(Uuid, String)>,
) -> Result<Response, ApiError> {
    match state.partners.revoke_key(&session.who.actor(), id, &key).await {
        Ok(()) => {
            detail_page(&state, &session, id, StatusCode::OK, None, Some(format!("Key {key} is revoked.")), None).await
        }
        Err(PartnerError::NotFound(what)) => {
            // A key revoked already is a state, not a missing page.
            let known = match state.partners.get(&session.who.actor(), id).await {
                Ok((_, keys, _)) => keys.iter().any(|k| k.id == key),
                Err(_) => false,
            };
            let (status, error) = if known {
                (StatusCode::CONFLICT, format!("Key {key} is revoked already."))
            } else {
                (StatusCode::NOT_FOUND, format!("{what} does not exist"))
            };
            detail_page(&state, &session, id, status, Some(error), None, None).await
        }
        Err(e) => match refusal(&e) {
            Some(status) => detail_page(&state, &session, id, status, Some(e.to_string()), None, None).await,
            None => Err(fault(e)),
        },
    }
}

#[derive(serde::Deserialize)]
pub(super) struct TerminateForm {
    #[serde(default)]
    confirm: String,
}

pub(super) async fn terminate(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(id): Path<Uuid>,
    crate::extract::Form(form): crate::extract::Form<TerminateForm>,
) -> Result<Response, ApiError> {
    let name = match state.partners.get(&session.who.actor(), id).await {
        Ok((p, _, _)) => p.name,
        Err(e) => {
            return match refusal(&e) {
                Some(status) => list_page(&state, &session, status, Some(e.to_string()), None).await,
                None => Err(fault(e)),
            };
        }
    };
    if form.confirm.trim() != name {
        let error = "confirm: type the partner's name exactly to end its contract".to_owned();
        return detail_page(&state, &session, id, StatusCode::UNPROCESSABLE_ENTITY, Some(error), None, None).await;
    }
    match state.partners.terminate(&session.who.actor(), id).await {
        Ok(p) => {
            let notice =
                format!("{}'s contract is ended: its keys no longer work and its data is being deleted.", p.name);
            detail_page(&state, &session, id, StatusCode::OK, None, Some(notice), None).await
        }
        Err(e) => match refusal(&e) {
            Some(status) => detail_page(&state, &session, id, status, Some(e.to_string()), None, None).await,
            None => Err(fault(e)),
        },
    }
}
