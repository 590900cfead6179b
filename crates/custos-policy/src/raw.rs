//! `policy.toml` as written: strings with their positions, before validation.
//!
//! Enumerated values are read as strings here and checked in [`crate::validate`], so that
//! every mistake in a file is reported at once with its position, not only the first.

use serde::Deserialize;
use toml::Spanned;

/// A string with its byte range in the file.
pub(crate) type S = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    pub(crate) policy: RawMeta,
    pub(crate) controller: RawController,
    pub(crate) rights: RawRights,
    #[serde(default, rename = "subject")]
    pub(crate) subjects: Vec<Spanned<RawSubject>>,
    #[serde(default, rename = "category")]
    pub(crate) categories: Vec<Spanned<RawCategory>>,
    #[serde(default, rename = "purpose")]
    pub(crate) purposes: Vec<Spanned<RawPurpose>>,
    #[serde(default)]
    pub(crate) retention: Vec<Spanned<RawRetention>>,
    #[serde(default, rename = "recipient")]
    pub(crate) recipients: Vec<Spanned<RawRecipient>>,
    #[serde(default, rename = "cookie")]
    pub(crate) cookies: Vec<Spanned<RawCookie>>,
    #[serde(default)]
    pub(crate) security: RawSecurity,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeta {
    pub(crate) label: String,
    pub(crate) effective: S,
    #[serde(default = "english")]
    pub(crate) language: String,
}

fn english() -> String {
    "en".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawController {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) email: S,
    pub(crate) dpo: RawContact,
    pub(crate) supervisory_authority: RawAuthority,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawContact {
    pub(crate) name: String,
    pub(crate) email: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuthority {
    pub(crate) name: String,
    pub(crate) country: S,
    pub(crate) website: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRights {
    pub(crate) email: S,
    pub(crate) deadline: S,
    pub(crate) extension: S,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSubject {
    pub(crate) kind: S,
    pub(crate) name: String,
    pub(crate) description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCategory {
    pub(crate) key: S,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) subjects: Vec<S>,
    /// `subject`, `observed` or `third_party`.
    pub(crate) source: S,
    /// Who or what the data comes from, for `observed` and `third_party`.
    pub(crate) source_detail: Option<String>,
    #[serde(default)]
    pub(crate) direct_identifier: bool,
    /// Allows a key outside the taxonomy under a known parent.
    #[serde(default)]
    pub(crate) custom: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPurpose {
    pub(crate) id: S,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) legal_basis: Option<S>,
    pub(crate) legitimate_interest: Option<Spanned<RawAssessment>>,
    pub(crate) opt_in: Option<Spanned<bool>>,
    #[serde(default)]
    pub(crate) direct_marketing: bool,
    #[serde(default)]
    pub(crate) legal_claims: bool,
    pub(crate) profiling: Option<RawProfiling>,
    pub(crate) role: Option<S>,
    #[serde(default)]
    pub(crate) categories: Vec<S>,
    #[serde(default)]
    pub(crate) subjects: Vec<S>,
    #[serde(default)]
    pub(crate) cookie_categories: Vec<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAssessment {
    pub(crate) interest: String,
    pub(crate) necessity: String,
    pub(crate) balancing: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProfiling {
    #[serde(default)]
    pub(crate) automated_decisions: bool,
    pub(crate) logic: String,
    pub(crate) consequences: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetention {
    pub(crate) id: S,
    #[serde(default)]
    pub(crate) categories: Vec<S>,
    #[serde(default)]
    pub(crate) purposes: Vec<S>,
    pub(crate) period: Option<S>,
    pub(crate) until: Option<S>,
    #[serde(default)]
    pub(crate) legal_hold: bool,
    pub(crate) reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRecipient {
    pub(crate) id: S,
    pub(crate) name: String,
    pub(crate) role: S,
    pub(crate) country: S,
    #[serde(default)]
    pub(crate) purposes: Vec<S>,
    #[serde(default)]
    pub(crate) categories: Vec<S>,
    pub(crate) transfer: Option<S>,
    #[serde(default)]
    pub(crate) dpf_certified: bool,
    pub(crate) contact: Option<S>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCookie {
    pub(crate) name: S,
    pub(crate) category: S,
    pub(crate) lifetime: S,
    pub(crate) party: S,
    pub(crate) provider: Option<String>,
    pub(crate) purpose: S,
    pub(crate) description: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecurity {
    #[serde(default)]
    pub(crate) measures: Vec<String>,
}
