//! The notice people read, generated from the policy: an accessible HTML page, Markdown,
//! and JSON (the model itself).
//!
//! The templates (`templates/notice.html`, `templates/notice.md`) receive a [`Notice`]: the
//! policy arranged for reading, with every sentence written here rather than in the
//! templates, so both formats say the same.

use askama::Template;
use serde::Serialize;

use crate::{LegalBasis, Party, Policy, RecipientRole, Source, SubjectKind};

/// Output formats of the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A standalone, accessible HTML page.
    Html,
    /// Markdown, for a static site or a repository.
    Markdown,
    /// The policy model as JSON.
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "html" => Ok(Format::Html),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format `{other}`; use html, markdown or json")),
        }
    }
}

/// Renders `policy` in `format`. `privacy_center` is the address of the page where people
/// exercise their rights online, if there is one.
pub fn render(policy: &Policy, format: Format, privacy_center: Option<&str>) -> String {
    match format {
        Format::Html => {
            let notice = Notice::build(policy, privacy_center, str::to_owned);
            NoticeHtml { n: &notice }.render().unwrap_or_else(|e| format!("<p>rendering failed: {e}</p>"))
        }
        Format::Markdown => {
            let notice = Notice::build(policy, privacy_center, markdown_escape);
            NoticeMarkdown { n: &notice }.render().unwrap_or_else(|e| format!("rendering failed: {e}"))
        }
        Format::Json => serde_json::to_string_pretty(policy).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticeHtml<'a> {
    n: &'a Notice,
}

#[derive(Template)]
#[template(path = "notice.md")]
struct NoticeMarkdown<'a> {
    n: &'a Notice,
}

/// The policy arranged for reading.
#[derive(Debug, Serialize)]
pub struct Notice {
    /// The controller's name.
    pub controller: String,
    /// The controller's postal address.
    pub address: String,
    /// The controller's contact email.
    pub email: String,
    /// The DPO's name and email.
    pub dpo: (String, String),
    /// The supervisory authority's name, country and website.
    pub authority: (String, String, String),
    /// Where rights requests go.
    pub rights_email: String,
    /// The privacy center's address, if any.
    pub privacy_center: Option<String>,
    /// The answer deadline in words.
    pub deadline: String,
    /// The longest extension in words.
    pub extension: String,
    /// Version label.
    pub label: String,
    /// Version hash, short form.
    pub version: String,
    /// Effective date.
    pub effective: String,
    /// Language tag.
    pub language: String,
    /// Who the policy concerns.
    pub subjects: Vec<(String, String)>,
    /// Purposes.
    pub purposes: Vec<PurposeView>,
    /// Data categories.
    pub categories: Vec<CategoryView>,
    /// Recipients.
    pub recipients: Vec<RecipientView>,
    /// Cookies.
    pub cookies: Vec<CookieView>,
    /// Rights and how to use them.
    pub rights: Vec<(String, String, String)>,
    /// Security measures.
    pub security: Vec<String>,
}

/// A purpose, for reading.
#[derive(Debug, Serialize)]
pub struct PurposeView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What is done.
    pub description: String,
    /// The legal basis in words.
    pub basis: String,
    /// Whether it rests on consent.
    pub consent: bool,
    /// The balancing test (interest, necessity, balancing), for legitimate interests.
    pub assessment: Option<(String, String, String)>,
    /// Profiling, in words.
    pub profiling: Option<String>,
    /// Whether it is direct marketing.
    pub direct_marketing: bool,
    /// Whether the operator processes for a partner.
    pub processor: bool,
    /// The categories used, as descriptions.
    pub categories: Vec<String>,
    /// How long data is kept, one line per rule.
    pub retention: Vec<String>,
}

/// A data category, for reading.
#[derive(Debug, Serialize)]
pub struct CategoryView {
    /// Its fideslang key.
    pub key: String,
    /// What it is.
    pub description: String,
    /// Where it comes from.
    pub source: String,
    /// Who it concerns.
    pub subjects: String,
}

/// A recipient, for reading.
#[derive(Debug, Serialize)]
pub struct RecipientView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role in words.
    pub role: String,
    /// Its country.
    pub country: String,
    /// The transfer safeguard in words.
    pub safeguard: String,
    /// The purposes it receives data for, by name.
    pub purposes: String,
    /// The categories it receives, by key.
    pub categories: String,
}

/// A cookie, for reading.
#[derive(Debug, Serialize)]
pub struct CookieView {
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: String,
    /// How long it lasts.
    pub lifetime: String,
    /// First or third party.
    pub party: String,
    /// What it does.
    pub description: String,
}

impl Notice {
    /// Arranges `policy` for reading, passing every free text through `text` (escaping
    /// for Markdown; HTML is escaped by its template).
    pub fn build(policy: &Policy, privacy_center: Option<&str>, text: fn(&str) -> String) -> Self {
        let version = policy.version();
        let category_text = |key: &str| {
            policy.category(key).map_or_else(|| text(key), |c| format!("{} ({})", text(&c.description), key))
        };
        let purpose_name = |id: &str| policy.purpose(id).map_or_else(|| text(id), |p| text(&p.name));
        let purposes = policy
            .purposes
            .iter()
            .map(|p| {
                let mut retention: Vec<String> = p
                    .categories
                    .iter()
                    .flat_map(|c| policy.retention_for(&p.id, c))
                    .map(|r| format!("{}. {}", capitalise(&r.describe()), text(&r.reason)))
                    .collect();
                retention.dedup();
                PurposeView {
                    id: p.id.clone(),
                    name: text(&p.name),
                    description: text(&p.description),
                    basis: p.legal_basis.describe().to_owned(),
                    consent: p.legal_basis == LegalBasis::Consent,
                    assessment: p
                        .legitimate_interest
                        .as_ref()
                        .map(|a| (text(&a.interest), text(&a.necessity), text(&a.balancing))),
                    profiling: p.profiling.as_ref().map(|pr| {
                        format!(
                            "{} {} {}",
                            text(&pr.logic),
                            text(&pr.consequences),
                            if pr.automated_decisions {
                                "Decisions with legal or similarly significant effect are made automatically; you may ask for a person to review them."
                            } else {
                                "No decision with legal or similarly significant effect is made automatically."
                            }
                        )
                    }),
                    direct_marketing: p.direct_marketing,
                    processor: p.role == crate::Role::Processor,
                    categories: p.categories.iter().map(|c| category_text(c)).collect(),
                    retention,
                }
            })
            .collect();
        let subject_names = |kinds: &[SubjectKind]| {
            kinds
                .iter()
                .map(|k| policy.subjects.iter().find(|s| s.kind == *k).map_or_else(|| k.to_string(), |s| text(&s.name)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let categories = policy
            .categories
            .iter()
            .map(|c| CategoryView {
                key: c.key.clone(),
                description: text(&c.description),
                source: match &c.source {
                    Source::Subject => "you".to_owned(),
                    Source::Observed(how) => format!("observed: {}", text(how)),
                    Source::ThirdParty(who) => format!("from {}", text(who)),
                },
                subjects: subject_names(&c.subjects),
            })
            .collect();
        let recipients = policy
            .recipients
            .iter()
            .map(|r| RecipientView {
                id: r.id.clone(),
                name: text(&r.name),
                role: match r.role {
                    RecipientRole::Processor => "processes data on our behalf",
                    RecipientRole::Controller => "independent controller",
                    RecipientRole::Partner => "business partner",
                    RecipientRole::Vendor => "vendor or contractor",
                    RecipientRole::Authority => "public authority",
                }
                .to_owned(),
                country: if r.country == "INT" { "international".to_owned() } else { r.country.clone() },
                safeguard: r.transfer.describe().to_owned(),
                purposes: r.purposes.iter().map(|p| purpose_name(p)).collect::<Vec<_>>().join(", "),
                categories: r.categories.join(", "),
            })
            .collect();
        let cookies = policy
            .cookies
            .iter()
            .map(|c| CookieView {
                name: text(&c.name),
                category: c.category.to_string(),
                lifetime: if c.lifetime == "session" {
                    "until the browser closes".to_owned()
                } else {
                    crate::Period::parse(&c.lifetime).map(|p| p.describe()).unwrap_or_else(|_| c.lifetime.clone())
                },
                party: match c.party {
                    Party::First => "first party".to_owned(),
                    Party::Third => {
                        format!("third party ({})", text(c.provider.as_deref().unwrap_or("another domain")))
                    }
                },
                description: text(&c.description),
            })
            .collect();
        let c = &policy.controller;
        Notice {
            controller: text(&c.name),
            address: text(&c.address),
            email: c.email.clone(),
            dpo: (text(&c.dpo.name), c.dpo.email.clone()),
            authority: (
                text(&c.supervisory_authority.name),
                c.supervisory_authority.country.clone(),
                c.supervisory_authority.website.clone(),
            ),
            rights_email: policy.rights.email.clone(),
            privacy_center: privacy_center.map(str::to_owned),
            deadline: policy.rights.deadline.describe(),
            extension: policy.rights.extension.describe(),
            label: text(&policy.meta.label),
            version: version.short().to_owned(),
            effective: policy.meta.effective.to_string(),
            language: policy.meta.language.clone(),
            subjects: policy.subjects.iter().map(|s| (text(&s.name), text(&s.description))).collect(),
            purposes,
            categories,
            recipients,
            cookies,
            rights: rights(),
            security: policy.security.iter().map(|s| text(s)).collect(),
        }
    }
}

/// Each right: anchor, name, what it gives.
fn rights() -> Vec<(String, String, String)> {
    [
        ("access", "Access", "Ask whether we process data about you and get a copy, free of charge and electronically by default, with the purposes, categories, recipients (especially outside the EEA), how long it is kept, your other rights, your right to complain, where data we did not get from you came from, whether profiling takes place, and the safeguards for transfers outside the EEA (GDPR Art. 15). A copy never reveals other people's data."),
        ("rectification", "Rectification", "Have inaccurate data corrected and incomplete data completed (Art. 16)."),
        ("erasure", "Erasure", "Have your data deleted when it is no longer needed, when you withdraw the consent it rests on, when you object, when it was processed unlawfully or when the law requires it, unless we must keep it to meet a legal obligation or for legal claims (Art. 17)."),
        ("restriction", "Restriction", "Have your data kept but not otherwise used while its accuracy is checked, when processing is unlawful and you prefer restriction to erasure, when you need it for legal claims, while an objection is considered, or for direct marketing (Art. 18)."),
        ("portability", "Portability", "Receive the data you gave us, processed on your consent or a contract, in a structured, commonly used, machine-readable format, or have it sent directly to another controller (Art. 20)."),
        ("objection", "Objection", "Object at any time to processing based on legitimate interests, profiling included: we stop unless we show compelling grounds. Objection to direct marketing always stops it (Art. 21)."),
        ("withdrawal", "Withdrawing consent", "Withdraw any consent at any time, as easily as you gave it; processing before the withdrawal stays lawful (Art. 7(3))."),
        ("assessment", "Legitimate-interest assessments", "Ask for the balancing test behind any processing based on legitimate interests."),
        ("complaint", "Complaint", "Complain to a supervisory authority, in particular where you live or work or where an infringement took place (Art. 77)."),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Escapes Markdown's special characters in free text.
pub fn markdown_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#') {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}
