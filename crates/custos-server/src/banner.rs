//! The website's side of consent (seed 2.2, 5): `custos.js` (banner and tracker), the
//! public endpoint its choices are sent to, and `/demo`, an example page that uses them.
//!
//! - `GET /custos.js`: the script, with the banner's categories, wording and versions
//!   built in from the policy (one consent purpose per non-necessary cookie category).
//! - `POST /v1/banner/consent`: `{visitor_id, choices: {category: bool}, method, text_version}`,
//!   public (the browser holds no token), recorded in the consent ledger for the visitor.
//! - `GET /demo`: a page that includes custos.js, to see the whole flow on the default;
//!   `?lang=de` marks the page German, and the banner follows.
//!
//! The wording comes in six built-in languages and the operator's `[banner]` settings
//! (see [`BannerSettings`]); each language's wording has its own version, which the
//! consent record keeps.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
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

use crate::banner_text::{BannerError, BannerSettings, CategoryText};
use crate::{ApiError, AppState};

const SCRIPT: &str = include_str!("../assets/custos.js");

const DEMO: &str = include_str!("../assets/demo.html");

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
    /// The version of the default language's wording, recorded when a choice names none.
    text_version: String,
}

impl Banner {
    /// The banner for `policy` with the built-in wording.
    pub fn new(policy: &Policy) -> Self {
        match Self::with_settings(policy, &BannerSettings::default()) {
            Ok(banner) => banner,
            // The built-in wording is checked by this module's tests.
            Err(e) => unreachable!("the built-in banner wording is valid: {e}"),
        }
    }

    /// The banner for `policy` in the wording of `settings`; an error names the setting
    /// that cannot be used.
    pub fn with_settings(policy: &Policy, settings: &BannerSettings) -> Result<Self, BannerError> {
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
                        terms: short_hex(&terms),
                    })
                })
                .collect();
        let (strings, default_language) = settings.strings()?;
        for (tag, texts) in &settings.categories {
            if let Some(unknown) = texts.keys().find(|k| !categories.iter().any(|c| c.id.as_str() == k.as_str())) {
                let offered: Vec<&str> = categories.iter().map(|c| c.id.as_str()).collect();
                return Err(BannerError {
                    key: format!("categories.{tag}.{unknown}"),
                    message: format!("the banner offers no category `{unknown}`; it offers {}", offered.join(", ")),
                });
            }
        }
        // Each language's wording as shown, and its version: a hash of exactly that text.
        let mut languages = serde_json::Map::new();
        let mut text_version = String::new();
        for (tag, strings) in strings {
            let names: BTreeMap<&str, CategoryText> = categories
                .iter()
                .map(|c| {
                    let text = settings.categories.get(&tag).and_then(|t| t.get(c.id.as_str())).cloned();
                    let text = text
                        .unwrap_or_else(|| CategoryText { name: c.name.clone(), description: c.description.clone() });
                    (c.id.as_str(), text)
                })
                .collect();
            let wording = json!({"language": tag, "strings": strings, "categories": names});
            let version = format!("{}-{tag}", short_hex(&Sha256::digest(wording.to_string().as_bytes())));
            if tag == default_language {
                text_version.clone_from(&version);
            }
            languages.insert(tag, json!({"strings": strings, "categories": names, "text_version": version}));
        }
        let config = json!({
            "languages": languages,
            "default_language": default_language,
            "categories": categories.iter().map(|c| json!({"id": c.id, "purpose": c.purpose, "terms": c.terms})).collect::<Vec<_>>(),
            "policy_version": policy.version().hash,
        });
        // `</` cannot appear in JSON strings that end a script element early.
        let config = config.to_string().replace("</", "<\\/");
        Ok(Self { script: SCRIPT.replace("__CUSTOS_CONFIG__", &config), categories, text_version })
    }
}

/// The first six bytes of a digest, in hex.
fn short_hex(digest: &[u8]) -> String {
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// The banner's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(record), tags((name = "banner", description = "Choices made in the consent banner")))]
pub(crate) struct Api;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/custos.js", get(script))
        .route("/v1/banner/consent", post(record))
        .route("/demo", get(demo))
        .route("/demo/pricing", get(demo))
}

#[derive(Debug, Deserialize)]
struct DemoQuery {
    lang: Option<String>,
}

/// The example page; `?lang=de` marks it as a German page, so the banner speaks German.
async fn demo(Query(query): Query<DemoQuery>) -> impl IntoResponse {
    let lang = query.lang.filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    // The demo stands for the operator's own website: its inline script and custos.js run.
    let csp = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
               img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";
    let html =
        Html(DEMO.replacen("<html lang=\"en\">", &format!("<html lang=\"{}\">", lang.as_deref().unwrap_or("en")), 1));
    ([(header::CONTENT_SECURITY_POLICY, csp)], html)
}

async fn script(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")],
        state.banner.script.clone(),
    )
}

/// A visitor's choices, per banner category.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = BannerChoices)]
pub(crate) struct Choices {
    /// The visitor's first-party cookie id: 16 to 64 letters, digits, `-` or `_`.
    visitor_id: String,
    choices: std::collections::BTreeMap<String, bool>,
    method: String,
    #[serde(default)]
    text_version: String,
}

/// The banner's choices in `body`, with every check that needs no policy.
pub(crate) fn parse_choices(body: &[u8]) -> Result<Choices, ApiError> {
    if body.len() > 4096 {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "send at most 4096 bytes")
            .with_field("body"));
    }
    let choices: Choices = crate::extract::parse(body)?;
    let id_ok = (16..=64).contains(&choices.visitor_id.len())
        && choices.visitor_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(ApiError::invalid("invalid_value", "visitor_id must be 16 to 64 letters, digits, - or _")
            .with_field("visitor_id"));
    }
    let version_ok = choices.text_version.len() <= 40
        && choices.text_version.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !version_ok {
        return Err(ApiError::invalid(
            "invalid_value",
            "text_version must be the version custos.js was given: at most 40 lower-case letters, digits or -",
        )
        .with_field("text_version"));
    }
    if choices.method != "banner" && choices.method != "gpc" {
        return Err(ApiError::invalid("invalid_value", "method must be banner or gpc").with_field("method"));
    }
    Ok(choices)
}

#[utoipa::path(post, operation_id = "record_banner_consent", path = "/v1/banner/consent", tag = "banner", security(()),
    request_body(content((Choices = "application/json"), (Choices = "text/plain"))),
    responses((status = 202, description = "`{recorded, subject_id}`", body = Object),
              (status = 413, description = "`body_too_large`", body = crate::openapi::ErrorEnvelope),
              (status = 415, description = "`unsupported_media_type`", body = crate::openapi::ErrorEnvelope),
              (status = 429, description = "`too_many_requests` from this network", body = crate::openapi::ErrorEnvelope)))]
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
    let choices = parse_choices(&body)?;
    let (recorded, subject) = record_choices(
        &state,
        &choices.visitor_id,
        &choices.choices,
        &choices.method,
        &choices.text_version,
        peer.ip(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"recorded": recorded, "subject_id": subject}))))
}

/// Records a visitor's `choices` (category → granted) in the consent ledger, each for the
/// category's purpose, with the wording version shown (the default language's when
/// empty). Returns how many were recorded and the visitor's subject id. A category the
/// banner does not offer is refused, naming it, before anything is recorded.
pub(crate) async fn record_choices(
    state: &AppState,
    visitor_id: &str,
    choices: &BTreeMap<String, bool>,
    method: &str,
    text_version: &str,
    ip: std::net::IpAddr,
) -> Result<(usize, Option<custos_store::SubjectId>), ApiError> {
    let banner: &Arc<Banner> = &state.banner;
    if let Some(category) = choices.keys().find(|k| !banner.categories.iter().any(|c| c.id.as_str() == k.as_str())) {
        return Err(ApiError::invalid("invalid_value", format!("the banner offers no category `{category}`"))
            .with_field(format!("choices.{category}")));
    }
    let mut recorded = 0;
    let mut subject = None;
    for (category, granted) in choices {
        let Some(entry) = banner.categories.iter().find(|c| c.id.as_str() == category) else { continue };
        let record = ConsentRecord {
            target: ConsentTarget::Visitor { cookie_id: visitor_id.to_owned() },
            purpose: entry.purpose.clone(),
            granted: *granted,
            method: method.to_owned(),
            text_version: if text_version.is_empty() { banner.text_version.clone() } else { text_version.to_owned() },
            source_ip: Some(ip),
        };
        let (id, _) = state.consents.record(&Actor::Visitor, &record).await.map_err(|e| match e {
            ConsentError::Invalid { field, message } => ApiError::invalid("invalid_value", message).with_field(field),
            ConsentError::Store(e) => e.into(),
            other => ApiError::internal(other),
        })?;
        subject = Some(id);
        recorded += 1;
    }
    Ok((recorded, subject))
}

/// What the privacy center's cookie page shows of one category.
#[derive(Debug, Clone)]
pub(crate) struct OfferedCategory {
    /// `preferences`, `analytics` or `marketing`.
    pub id: &'static str,
    /// The purpose's name and description.
    pub name: String,
    pub description: String,
    /// A hash of the purpose's terms, as custos.js keeps it in the choice cookie.
    pub terms: String,
}

impl Banner {
    /// The categories the banner offers, in its order.
    pub(crate) fn offered(&self) -> Vec<OfferedCategory> {
        self.categories
            .iter()
            .map(|c| OfferedCategory {
                id: c.id.as_str(),
                name: c.name.clone(),
                description: c.description.clone(),
                terms: c.terms.clone(),
            })
            .collect()
    }

    /// The version of the default language's wording.
    pub(crate) fn text_version(&self) -> &str {
        &self.text_version
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    #[test]
    fn the_script_stays_under_ten_kilobytes_gzipped_with_every_language() {
        let banner = Banner::new(&Policy::example());
        let mut gzip = Command::new("gzip")
            .arg("-9c")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("gzip is on every Debian machine");
        gzip.stdin.take().expect("stdin").write_all(banner.script.as_bytes()).expect("write");
        let out = gzip.wait_with_output().expect("gzip");
        assert!(out.stdout.len() <= 10 * 1024, "{} bytes gzipped", out.stdout.len());
        for wording in ["Alle ablehnen", "Tout refuser", "Rechazar todo", "Rifiuta tutto", "Alles weigeren"] {
            assert!(banner.script.contains(wording), "{wording}");
        }
    }

    #[test]
    fn a_category_the_banner_does_not_offer_is_named() {
        let settings: BannerSettings = serde_json::from_value(json!({
            "categories": {"de": {"marketing": {"name": "Werbung", "description": "Newsletter."}}}
        }))
        .expect("settings");
        // The example policy asks consent for analytics cookies only.
        let e = Banner::with_settings(&Policy::example(), &settings).expect_err("no marketing cookies");
        assert_eq!(e.key, "categories.de.marketing", "{e}");
    }
}
