//! The website's side of consent (seed 2.2, 5): `custos.js` (banner and tracker), the
//! public endpoint its choices are sent to, and `/demo`, an example page that uses them.
//!
//! - `GET /custos.js`: the script, with the banner's categories, wording and versions
//!   built in from the policy (one consent purpose per non-necessary cookie category).
//! - `POST /v1/banner/consent`: `{visitor_id, choices: {category: bool}, method, text_version}`,
//!   public (the browser holds no token), recorded in the consent ledger for the visitor.
//! - `GET /demo`: a page that includes custos.js, to see the whole flow on the default.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use custos_engine::consent::{ConsentError, ConsentRecord, ConsentTarget};
use custos_engine::gate::Actor;
use custos_policy::{CookieCategory, LegalBasis, Policy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppState};

const SCRIPT: &str = include_str!("../assets/custos.js");

const DEMO: &str = include_str!("../assets/demo.html");

/// The banner's wording.
#[derive(Debug, Clone, Serialize)]
struct Strings {
    title: &'static str,
    body: &'static str,
    policy: &'static str,
    accept: &'static str,
    reject: &'static str,
    save: &'static str,
}

const ENGLISH: Strings = Strings {
    title: "Your choices about cookies",
    body: "We use cookies that the site needs to work. With your consent we also use the ones below; you can refuse them and the site still works. You can change your mind at any time.",
    policy: "Read our privacy notice",
    accept: "Accept all",
    reject: "Reject all",
    save: "Save my choices",
};

/// One category the banner offers.
#[derive(Debug, Clone, Serialize)]
struct Category {
    id: CookieCategory,
    name: String,
    description: String,
    purpose: String,
    /// A hash of the purpose's terms: when it changes, the banner asks again for this category.
    terms: String,
}

/// The script, rendered once from the policy.
#[derive(Debug)]
pub struct Banner {
    script: String,
    categories: Vec<Category>,
    text_version: String,
}

impl Banner {
    /// The banner for `policy`.
    pub fn new(policy: &Policy) -> Self {
        let categories: Vec<Category> =
            [CookieCategory::Preferences, CookieCategory::Analytics, CookieCategory::Marketing]
                .into_iter()
                .filter_map(|category| {
                    let purpose = policy
                        .purposes
                        .iter()
                        .find(|p| p.legal_basis == LegalBasis::Consent && p.cookie_categories.contains(&category))?;
                    let terms = Sha256::digest(serde_json::to_string(purpose).unwrap_or_default().as_bytes());
                    Some(Category {
                        id: category,
                        name: purpose.name.clone(),
                        description: purpose.description.clone(),
                        purpose: purpose.id.clone(),
                        terms: terms.iter().take(6).map(|b| format!("{b:02x}")).collect(),
                    })
                })
                .collect();
        let wording = json!({"strings": ENGLISH, "categories": categories});
        let digest = Sha256::digest(wording.to_string().as_bytes());
        let text_version: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let config = json!({
            "strings": ENGLISH,
            "categories": categories,
            "text_version": text_version,
            "policy_version": policy.version().hash,
        });
        // `</` cannot appear in JSON strings that end a script element early.
        let config = config.to_string().replace("</", "<\\/");
        Self { script: SCRIPT.replace("__CUSTOS_CONFIG__", &config), categories, text_version }
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/custos.js", get(script))
        .route("/v1/banner/consent", post(record))
        .route("/demo", get(|| async { Html(DEMO) }))
        .route("/demo/pricing", get(|| async { Html(DEMO) }))
}

async fn script(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")],
        state.banner.script.clone(),
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Choices {
    visitor_id: String,
    choices: std::collections::BTreeMap<String, bool>,
    method: String,
    #[serde(default)]
    text_version: String,
}

async fn record(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.limiters.banner.check(peer.ip(), "consent choices")?;
    let mime = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime != "text/plain" && mime != "application/json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the choices as JSON",
        ));
    }
    if body.len() > 4096 {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "send at most 4096 bytes"));
    }
    let choices: Choices = crate::extract::parse(&body)?;
    let id_ok = (16..=64).contains(&choices.visitor_id.len())
        && choices.visitor_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(ApiError::invalid("invalid_value", "visitor_id must be 16 to 64 letters, digits, - or _")
            .with_field("visitor_id"));
    }
    if choices.method != "banner" && choices.method != "gpc" {
        return Err(ApiError::invalid("invalid_value", "method must be banner or gpc").with_field("method"));
    }
    let banner: &Arc<Banner> = &state.banner;
    let mut recorded = 0;
    let mut subject = None;
    for (category, granted) in &choices.choices {
        let Some(entry) = banner.categories.iter().find(|c| c.id.as_str() == category) else {
            return Err(ApiError::invalid("invalid_value", format!("the banner offers no category `{category}`"))
                .with_field(format!("choices.{category}")));
        };
        let record = ConsentRecord {
            target: ConsentTarget::Visitor { cookie_id: choices.visitor_id.clone() },
            purpose: entry.purpose.clone(),
            granted: *granted,
            method: choices.method.clone(),
            text_version: if choices.text_version.is_empty() {
                banner.text_version.clone()
            } else {
                choices.text_version.clone()
            },
            source_ip: Some(peer.ip()),
        };
        let (id, _) = state.consents.record(&Actor::Visitor, &record).await.map_err(|e| match e {
            ConsentError::Invalid { field, message } => ApiError::invalid("invalid_value", message).with_field(field),
            ConsentError::Store(e) => e.into(),
            other => ApiError::internal(other),
        })?;
        subject = Some(id);
        recorded += 1;
    }
    Ok((StatusCode::ACCEPTED, Json(json!({"recorded": recorded, "subject_id": subject}))))
}
