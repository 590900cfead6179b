//! The validated policy. Every value here passed [`crate::validate`]: ids are unique,
//! references resolve, every category has a retention rule, every transfer a safeguard.
//!
//! The model serialises to the canonical JSON from which versions are hashed; read it
//! back with `serde_json` to rebuild a stored version.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A whole privacy policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Label, effective date and language of this version.
    pub meta: PolicyMeta,
    /// Who is responsible for the processing.
    pub controller: Controller,
    /// How people exercise their rights, and how fast they are answered.
    pub rights: RightsContact,
    /// The kinds of people the policy concerns, with how the notice describes them.
    pub subjects: Vec<SubjectDescription>,
    /// The data categories processed.
    pub categories: Vec<DataCategory>,
    /// Why data is processed.
    pub purposes: Vec<Purpose>,
    /// How long data is kept.
    pub retention: Vec<RetentionRule>,
    /// Who receives data.
    pub recipients: Vec<Recipient>,
    /// The cookies and similar technologies the website sets.
    pub cookies: Vec<Cookie>,
    /// The security measures, for the notice and the record of processing.
    pub security: Vec<String>,
}

/// Label, effective date and language of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// A human label, such as `2026-11`.
    pub label: String,
    /// The date the version takes effect (on publication, unless later).
    pub effective: jiff::civil::Date,
    /// The notice's language, as a BCP 47 tag.
    pub language: String,
}

/// The controller (Art. 4(7)) and its contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    /// Legal name.
    pub name: String,
    /// Postal address.
    pub address: String,
    /// Contact email.
    pub email: String,
    /// The data protection officer's contact.
    pub dpo: Contact,
    /// The lead supervisory authority, where complaints can be made.
    pub supervisory_authority: Authority,
}

/// A person or office to contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Name or role.
    pub name: String,
    /// Email address.
    pub email: String,
}

/// A supervisory authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    /// Its name.
    pub name: String,
    /// Its country (ISO 3166-1 alpha-2).
    pub country: String,
    /// Where to complain.
    pub website: String,
}

/// Where rights requests go and how fast they are answered (Art. 12(3)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RightsContact {
    /// The address requests are sent to.
    pub email: String,
    /// The time to answer, at most one month.
    pub deadline: Period,
    /// The longest extension for complex or numerous requests, at most two months.
    pub extension: Period,
}

/// The kinds of people a policy can concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// Someone visiting the website.
    Visitor,
    /// A visitor who receives a service or provides data.
    User,
    /// A person at a partner company.
    PartnerContact,
    /// A user, visitor or customer of a partner.
    PartnerEndUser,
}

impl SubjectKind {
    /// Every kind.
    pub const ALL: [SubjectKind; 4] =
        [SubjectKind::Visitor, SubjectKind::User, SubjectKind::PartnerContact, SubjectKind::PartnerEndUser];

    /// The name used in `policy.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Visitor => "visitor",
            SubjectKind::User => "user",
            SubjectKind::PartnerContact => "partner_contact",
            SubjectKind::PartnerEndUser => "partner_end_user",
        }
    }
}

impl fmt::Display for SubjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the notice describes one kind of person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectDescription {
    /// The kind.
    pub kind: SubjectKind,
    /// A plural noun for the notice, such as "Visitors".
    pub name: String,
    /// Who counts as this kind.
    pub description: String,
}

/// One data category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataCategory {
    /// The fideslang key, such as `user.contact.email`.
    pub key: String,
    /// What the data is, for the notice.
    pub description: String,
    /// The kinds of people it concerns.
    pub subjects: Vec<SubjectKind>,
    /// Where it comes from.
    pub source: Source,
    /// Whether it identifies a person on its own (name, email, phone…).
    pub direct_identifier: bool,
}

/// Where a category's data comes from (Art. 14(2)(f)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "detail")]
pub enum Source {
    /// The person provides it.
    Subject,
    /// It is observed or derived while the person uses the website or services.
    Observed(String),
    /// Another party provides it.
    ThirdParty(String),
}

/// The six legal bases of Art. 6(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// (a) consent.
    Consent,
    /// (b) performance of a contract.
    Contract,
    /// (c) a legal obligation.
    LegalObligation,
    /// (d) vital interests.
    VitalInterests,
    /// (e) a task in the public interest.
    PublicTask,
    /// (f) legitimate interests.
    LegitimateInterests,
}

impl LegalBasis {
    /// Every basis, in the order of Art. 6(1).
    pub const ALL: [LegalBasis; 6] = [
        LegalBasis::Consent,
        LegalBasis::Contract,
        LegalBasis::LegalObligation,
        LegalBasis::VitalInterests,
        LegalBasis::PublicTask,
        LegalBasis::LegitimateInterests,
    ];

    /// The name used in `policy.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::VitalInterests => "vital_interests",
            LegalBasis::PublicTask => "public_task",
            LegalBasis::LegitimateInterests => "legitimate_interests",
        }
    }

    /// The basis in words, with its article, for the notice.
    pub fn describe(self) -> &'static str {
        match self {
            LegalBasis::Consent => "your consent (GDPR Art. 6(1)(a))",
            LegalBasis::Contract => "a contract with you, or steps you asked for before one (Art. 6(1)(b))",
            LegalBasis::LegalObligation => "a legal obligation we are under (Art. 6(1)(c))",
            LegalBasis::VitalInterests => "the protection of someone's vital interests (Art. 6(1)(d))",
            LegalBasis::PublicTask => "a task in the public interest (Art. 6(1)(e))",
            LegalBasis::LegitimateInterests => "legitimate interests, balanced against yours (Art. 6(1)(f))",
        }
    }
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The balancing test behind a legitimate-interests purpose (Art. 6(1)(f), 13(1)(d)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegitimateInterestAssessment {
    /// The interest pursued, and whose it is.
    pub interest: String,
    /// Why the processing is necessary for it.
    pub necessity: String,
    /// Why it does not override the person's interests, rights and freedoms.
    pub balancing: String,
}

/// Profiling or automated decisions in a purpose (Art. 13(2)(f), 22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profiling {
    /// Whether decisions with legal or similarly significant effect are automated.
    pub automated_decisions: bool,
    /// The logic involved, in plain words.
    pub logic: String,
    /// The significance and envisaged consequences for the person.
    pub consequences: String,
}

/// Whether custos is the controller of a purpose's processing or processes for someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The operator decides why and how (visitor and user data).
    Controller,
    /// The operator processes on a partner's behalf (partner-provided data, seed 3.3).
    Processor,
}

/// One purpose of processing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purpose {
    /// Stable id, such as `analytics`.
    pub id: String,
    /// A short name for the notice.
    pub name: String,
    /// What is done and why.
    pub description: String,
    /// The one legal basis.
    pub legal_basis: LegalBasis,
    /// The balancing test, present exactly for legitimate interests.
    pub legitimate_interest: Option<LegitimateInterestAssessment>,
    /// For consent purposes: consent is asked before processing (always true when set).
    pub opt_in: bool,
    /// Whether the purpose is direct marketing (objection always stops it, Art. 21(3)).
    pub direct_marketing: bool,
    /// Whether the purpose is establishing, exercising or defending legal claims, which
    /// may go on while processing is restricted (Art. 18(2)) and survives erasure requests
    /// under a legal hold (Art. 17(3)(e)).
    #[serde(default)]
    pub legal_claims: bool,
    /// Profiling or automated decisions, if any.
    pub profiling: Option<Profiling>,
    /// Controller or processor.
    pub role: Role,
    /// The categories the purpose may use.
    pub categories: Vec<String>,
    /// The kinds of people it concerns.
    pub subjects: Vec<SubjectKind>,
    /// The cookie categories the purpose covers.
    pub cookie_categories: Vec<CookieCategory>,
}

/// A retention period, held as ISO 8601 (`P2Y`, `P30D`); see [`Period::span`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Period(pub(crate) String);

impl Period {
    /// Parses `text` as an ISO 8601 duration (`P2Y`) or a friendly one (`2 years`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let span: jiff::Span = text.trim().parse().map_err(|e: jiff::Error| e.to_string())?;
        if span.is_negative() || span.is_zero() {
            return Err("a period must be longer than zero".into());
        }
        if span.get_hours() != 0 || span.get_minutes() != 0 || span.get_seconds() != 0 || span.get_milliseconds() != 0 {
            return Err("give a period in days, weeks, months or years".into());
        }
        Ok(Period(span.to_string()))
    }

    /// The period as a calendar span.
    pub fn span(&self) -> jiff::Span {
        // Only valid spans are ever stored (see `parse`).
        self.0.parse().unwrap_or_default()
    }

    /// The period in words, for the notice ("2 years", "30 days").
    pub fn describe(&self) -> String {
        let span = self.span();
        let parts = [
            (span.get_years() as i64, "year"),
            (span.get_months() as i64, "month"),
            (span.get_weeks() as i64, "week"),
            (span.get_days() as i64, "day"),
        ];
        let words: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n != 0)
            .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        words.join(" ")
    }

    /// Whether this period is at most `months` months, counted from `from`.
    pub(crate) fn at_most_months(&self, months: i64) -> bool {
        let from = jiff::civil::date(2026, 1, 31);
        let limit = from.checked_add(jiff::Span::new().months(months)).ok();
        let end = from.checked_add(self.span()).ok();
        matches!((end, limit), (Some(end), Some(limit)) if end <= limit)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event that ends retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionEvent {
    /// The person's account is terminated or expires.
    AccountTermination,
    /// The consent the processing rests on is withdrawn.
    ConsentWithdrawal,
    /// The contract with the partner ends.
    ContractEnd,
}

impl RetentionEvent {
    /// The event in words, for the notice.
    pub fn describe(self) -> &'static str {
        match self {
            RetentionEvent::AccountTermination => "until the account is closed",
            RetentionEvent::ConsentWithdrawal => "until consent is withdrawn",
            RetentionEvent::ContractEnd => "until the contract with the partner ends",
        }
    }
}

/// How long some data is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRule {
    /// Stable id.
    pub id: String,
    /// The categories it covers (empty: every category of its purposes).
    pub categories: Vec<String>,
    /// The purposes it covers (empty: every purpose using its categories).
    pub purposes: Vec<String>,
    /// A fixed period from collection, if any.
    pub period: Option<Period>,
    /// An event that ends retention, if any. With both, whichever comes first.
    pub until: Option<RetentionEvent>,
    /// Whether a legal hold may keep the data past the end (Art. 17(3)(b), (e)).
    pub legal_hold: bool,
    /// Why this long, for the notice (the criteria of Art. 13(2)(a)).
    pub reason: String,
}

impl RetentionRule {
    /// Whether the rule covers `category` used for `purpose`.
    pub fn covers(&self, purpose: &str, category: &str) -> bool {
        (self.categories.is_empty() || self.categories.iter().any(|c| c == category))
            && (self.purposes.is_empty() || self.purposes.iter().any(|p| p == purpose))
    }

    /// The rule in words, for the notice.
    pub fn describe(&self) -> String {
        match (&self.period, self.until) {
            (Some(period), Some(event)) => format!("{}, and at most {}", event.describe(), period.describe()),
            (Some(period), None) => format!("{} from collection", period.describe()),
            (None, Some(event)) => event.describe().to_owned(),
            (None, None) => String::new(),
        }
    }
}

/// What a recipient is to the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// Processes on the operator's behalf (Art. 28).
    Processor,
    /// Decides its own purposes for the data it receives.
    Controller,
    /// A business partner.
    Partner,
    /// A vendor or contractor.
    Vendor,
    /// A public authority (seed 11).
    Authority,
}

/// The safeguard under which data reaches a recipient (GDPR Chapter V).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMechanism {
    /// No transfer: the recipient is in the EEA.
    Eea,
    /// An adequacy decision (Art. 45(3)).
    Adequacy,
    /// Standard contractual clauses (Art. 46(2)(c)).
    Scc,
    /// A legally binding instrument between public authorities (Art. 46(2)(a)).
    PublicAuthorityInstrument,
    /// Binding corporate rules (Art. 46(2)(b), 47).
    Bcr,
}

impl TransferMechanism {
    /// The safeguard in words, for the notice.
    pub fn describe(self) -> &'static str {
        match self {
            TransferMechanism::Eea => "within the EEA; no transfer safeguard needed",
            TransferMechanism::Adequacy => "adequacy decision of the European Commission (GDPR Art. 45(3))",
            TransferMechanism::Scc => "standard data protection clauses adopted by the Commission (Art. 46(2)(c))",
            TransferMechanism::PublicAuthorityInstrument => {
                "legally binding instrument between public authorities (Art. 46(2)(a))"
            }
            TransferMechanism::Bcr => "binding corporate rules (Art. 46(2)(b) and 47)",
        }
    }
}

/// Someone data is disclosed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    /// Stable id.
    pub id: String,
    /// Name for the notice.
    pub name: String,
    /// What it is to the operator.
    pub role: RecipientRole,
    /// Where it processes the data (ISO 3166-1 alpha-2, or `INT`).
    pub country: String,
    /// The purposes for which it may receive data.
    pub purposes: Vec<String>,
    /// The categories it may receive.
    pub categories: Vec<String>,
    /// The transfer safeguard.
    pub transfer: TransferMechanism,
    /// For the United States: certified under the Data Privacy Framework.
    pub dpf_certified: bool,
    /// Where notices to the recipient go (Art. 19 notices of rectification, erasure and
    /// restriction); without one, custos records each notice for staff to pass on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// The cookie categories a banner offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieCategory {
    /// Needed for the site to work; no consent needed.
    Necessary,
    /// Remember choices such as language.
    Preferences,
    /// Measure how the site is used.
    Analytics,
    /// Advertising and marketing.
    Marketing,
}

impl CookieCategory {
    /// Every category.
    pub const ALL: [CookieCategory; 4] =
        [CookieCategory::Necessary, CookieCategory::Preferences, CookieCategory::Analytics, CookieCategory::Marketing];

    /// The name used in `policy.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            CookieCategory::Necessary => "necessary",
            CookieCategory::Preferences => "preferences",
            CookieCategory::Analytics => "analytics",
            CookieCategory::Marketing => "marketing",
        }
    }
}

impl fmt::Display for CookieCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a cookie is the site's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// Set by the website's own domain.
    First,
    /// Set by another domain.
    Third,
}

/// One cookie or similar technology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cookie {
    /// The cookie's name.
    pub name: String,
    /// Its banner category.
    pub category: CookieCategory,
    /// How long it lasts: `session`, or a period.
    pub lifetime: String,
    /// First or third party.
    pub party: Party,
    /// The domain that sets it, for third-party cookies.
    pub provider: Option<String>,
    /// The purpose it serves.
    pub purpose: String,
    /// What it holds and does, for the notice.
    pub description: String,
}
