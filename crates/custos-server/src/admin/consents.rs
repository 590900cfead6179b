//! The console's consents page: per purpose that rests on consent, how many people's
//! consent counts now, and the decisions of the last thirty days by how they were made
//! (banner, form, Global Privacy Control, email link, ...). Counts only: no person, no
//! visitor id, no address is read.

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use custos_policy::LegalBasis;

use super::Session;
use super::chart::{Group, Series, grouped_bars};
use super::pages::{Frame, render};
use crate::{ApiError, AppState};

/// The window the decision counts cover.
const WINDOW_DAYS: i64 = 30;

struct PurposeRow {
    id: String,
    name: String,
    live: u64,
    granted: u64,
    withdrawn: u64,
    /// `(method, grants, refusals or withdrawals)`.
    methods: Vec<(String, u64, u64)>,
}

#[derive(Template)]
#[template(path = "admin/consents.html")]
struct ConsentsPage {
    frame: Frame,
    rows: Vec<PurposeRow>,
    chart: String,
    window_days: i64,
}

pub(super) async fn consents(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
) -> Result<Response, ApiError> {
    let to = jiff::Timestamp::now();
    let from = to - jiff::SignedDuration::from_hours(24 * WINDOW_DAYS);
    let live = state.store.live_consent_counts().await?;
    let methods = state.store.consent_methods(from, to).await?;
    let rows: Vec<PurposeRow> = state
        .policy
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .map(|p| {
            let mine: Vec<_> = methods.iter().filter(|m| m.purpose == p.id).collect();
            let mut by_method: Vec<(String, u64, u64)> = Vec::new();
            for m in &mine {
                let slot = match by_method.iter_mut().find(|(name, _, _)| *name == m.method) {
                    Some(slot) => slot,
                    None => {
                        by_method.push((m.method.clone(), 0, 0));
                        by_method.last_mut().expect("just pushed")
                    }
                };
                if m.granted {
                    slot.1 += m.count;
                } else {
                    slot.2 += m.count;
                }
            }
            PurposeRow {
                id: p.id.clone(),
                name: p.name.clone(),
                live: live.iter().find(|(id, _)| *id == p.id).map_or(0, |(_, n)| *n),
                granted: by_method.iter().map(|m| m.1).sum(),
                withdrawn: by_method.iter().map(|m| m.2).sum(),
                methods: by_method,
            }
        })
        .collect();
    let groups: Vec<Group> =
        rows.iter().map(|r| Group { label: r.id.clone(), values: vec![r.granted, r.withdrawn] }).collect();
    let chart = grouped_bars(
        &format!("Consent decisions in the last {WINDOW_DAYS} days"),
        &[Series { name: "granted", colour: "#2e7d32" }, Series { name: "withdrawn", colour: "#b00020" }],
        &groups,
    );
    let page =
        ConsentsPage { frame: Frame::signed(&state, &session, None, None), rows, chart, window_days: WINDOW_DAYS };
    Ok(render(StatusCode::OK, &page))
}
