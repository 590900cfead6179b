//! From `policy.toml` as written to the typed [`crate::Policy`]: every rule a policy must satisfy, each with a
//! stable code and a position, all reported at once.
//!
//! | code | rule |
//! |---|---|
//! | `duplicate_id` | ids of subjects, categories, purposes, retention rules, recipients and cookies are unique |
//! | `unknown_value` | enumerated settings hold one of their values |
//! | `purpose.no_legal_basis` | every purpose has one Art. 6(1) legal basis |
//! | `purpose.legitimate_interest_without_assessment` | legitimate interests carry their balancing test |
//! | `purpose.assessment_without_legitimate_interest` | a balancing test belongs to legitimate interests only |
//! | `purpose.consent_not_opt_in` | consent purposes say `opt_in = true` |
//! | `purpose.no_categories` | a purpose uses at least one category |
//! | `purpose.cookies_without_consent` | non-necessary cookies rest on consent |
//! | `category.unknown_key` | category keys come from the fideslang taxonomy |
//! | `category.unused` | every declared category serves a purpose |
//! | `category.no_retention` | every category of every purpose has a retention rule |
//! | `retention.no_end` | a retention rule has a period, an ending event, or both |
//! | `retention.bad_period` | periods are durations in days, weeks, months or years |
//! | `recipient.no_transfer_safeguard` | a recipient outside the EEA has a Chapter V safeguard |
//! | `recipient.not_adequate` | adequacy is claimed only for countries that have it |
//! | `recipient.dpf_not_certified` | US adequacy needs Data Privacy Framework certification |
//! | `recipient.bad_country` | countries are ISO 3166-1 alpha-2 codes |
//! | `recipient.category_not_in_purpose` | a recipient receives only categories its purposes use |
//! | `cookie.uncovered_category` | some purpose covers each cookie's category |
//! | `cookie.purpose_does_not_cover` | a cookie's own purpose covers its category |
//! | `unknown_reference` | every referenced subject kind, category and purpose exists |
//! | `rights.deadline_too_long` | requests are answered within one month, extended by at most two |
//! | `bad_email`, `bad_date` | contact addresses and dates are well-formed |

use std::collections::{BTreeMap, HashMap};

use toml::Spanned;

use crate::countries;
use crate::diagnostic::{Diagnostics, PolicyError};
use crate::model::*;
use crate::raw::*;
use crate::taxonomy;

/// Parses and validates `text`; `origin` (usually the file name) prefixes positions.
pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
    let mut diagnostics = Diagnostics::new(text);
    let raw: RawPolicy = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            diagnostics.error(span, "syntax", e.message().trim().replace('\n', " "), None);
            return Err(diagnostics.finish(origin));
        }
    };
    let policy = Validator { d: &mut diagnostics }.policy(raw);
    if diagnostics.is_empty() { Ok(policy) } else { Err(diagnostics.finish(origin)) }
}

struct Validator<'d, 'a> {
    d: &'d mut Diagnostics<'a>,
}

/// Reads an enumerated value, reporting an unknown one.
macro_rules! choice {
    ($self:ident, $s:expr, $what:literal, { $($text:literal => $value:expr),+ $(,)? }) => {{
        let s: &S = $s;
        match s.get_ref().as_str() {
            $($text => Some($value),)+
            other => {
                $self.d.error(
                    s.span(),
                    "unknown_value",
                    format!(concat!("`{}` is not a ", $what), other),
                    Some(format!("use one of: {}", [$($text),+].join(", "))),
                );
                None
            }
        }
    }};
}

impl Validator<'_, '_> {
    fn err(
        &mut self,
        span: std::ops::Range<usize>,
        code: &'static str,
        message: String,
        help: impl Into<Option<String>>,
    ) {
        self.d.error(span, code, message, help.into());
    }

    /// Reports the second and later uses of each id.
    fn unique<'s>(&mut self, what: &str, ids: impl IntoIterator<Item = &'s S>) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for id in ids {
            match seen.get(id.get_ref().as_str()) {
                Some(&first) => {
                    let line = self.d.line_of(first);
                    self.err(
                        id.span(),
                        "duplicate_id",
                        format!("{what} `{}` is declared twice", id.get_ref()),
                        Some(format!("the first is on line {line}; give each {what} its own id")),
                    );
                }
                None => {
                    seen.insert(id.get_ref(), id.span().start);
                }
            }
        }
    }

    fn email(&mut self, s: &S) -> String {
        let value = s.get_ref().trim();
        let ok = value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@') && !value.contains(char::is_whitespace)
        });
        if !ok {
            self.err(s.span(), "bad_email", format!("`{value}` is not an email address"), None);
        }
        value.to_owned()
    }

    fn subject_kind(&mut self, s: &S) -> Option<SubjectKind> {
        choice!(self, s, "kind of person", {
            "visitor" => SubjectKind::Visitor,
            "user" => SubjectKind::User,
            "partner_contact" => SubjectKind::PartnerContact,
            "partner_end_user" => SubjectKind::PartnerEndUser,
        })
    }

    fn subject_kinds(&mut self, list: &[S]) -> Vec<SubjectKind> {
        list.iter().filter_map(|s| self.subject_kind(s)).collect()
    }

    fn cookie_category(&mut self, s: &S) -> Option<CookieCategory> {
        choice!(self, s, "cookie category", {
            "necessary" => CookieCategory::Necessary,
            "preferences" => CookieCategory::Preferences,
            "analytics" => CookieCategory::Analytics,
            "marketing" => CookieCategory::Marketing,
        })
    }

    fn period(&mut self, s: &S, what: &str) -> Option<Period> {
        match Period::parse(s.get_ref()) {
            Ok(p) => Some(p),
            Err(e) => {
                self.err(
                    s.span(),
                    "retention.bad_period",
                    format!("{what} `{}` is not a period: {e}", s.get_ref()),
                    Some("write it as ISO 8601 (P2Y, P6M, P30D) or in words (2 years, 30 days)".to_owned()),
                );
                None
            }
        }
    }

    /// Checks that each name in `refs` is one of `known`.
    fn references(&mut self, refs: &[S], known: &BTreeMap<String, ()>, what: &str, owner: &str) -> Vec<String> {
        let mut out = Vec::new();
        for r in refs {
            if known.contains_key(r.get_ref()) {
                out.push(r.get_ref().clone());
            } else {
                let names: Vec<&str> = known.keys().map(String::as_str).collect();
                let suggestion = names
                    .iter()
                    .map(|n| (taxonomy::edit_distance(r.get_ref(), n), *n))
                    .filter(|(d, n)| *d <= n.len() / 3 + 1)
                    .min()
                    .map(|(_, n)| format!("did you mean `{n}`? "))
                    .unwrap_or_default();
                self.err(
                    r.span(),
                    "unknown_reference",
                    format!("{owner} names {what} `{}`, which the policy does not declare", r.get_ref()),
                    Some(format!(
                        "{suggestion}declared: {}",
                        if names.is_empty() { "none".into() } else { names.join(", ") }
                    )),
                );
            }
        }
        out
    }

    fn policy(&mut self, raw: RawPolicy) -> Policy {
        let meta = PolicyMeta {
            label: raw.policy.label.clone(),
            effective: raw.policy.effective.get_ref().parse().unwrap_or_else(|e| {
                self.err(
                    raw.policy.effective.span(),
                    "bad_date",
                    format!("`{}` is not a date: {e}", raw.policy.effective.get_ref()),
                    Some("write it as YYYY-MM-DD".to_owned()),
                );
                jiff::civil::Date::default()
            }),
            language: raw.policy.language.clone(),
        };
        let controller = self.controller(&raw.controller);
        let rights = self.rights(&raw.rights);

        self.unique("subject kind", raw.subjects.iter().map(|s| &s.get_ref().kind));
        self.unique("category", raw.categories.iter().map(|c| &c.get_ref().key));
        self.unique("purpose", raw.purposes.iter().map(|p| &p.get_ref().id));
        self.unique("retention rule", raw.retention.iter().map(|r| &r.get_ref().id));
        self.unique("recipient", raw.recipients.iter().map(|r| &r.get_ref().id));
        self.unique("cookie", raw.cookies.iter().map(|c| &c.get_ref().name));

        let subjects = raw
            .subjects
            .iter()
            .filter_map(|s| {
                let s = s.get_ref();
                Some(SubjectDescription {
                    kind: self.subject_kind(&s.kind)?,
                    name: s.name.clone(),
                    description: s.description.clone(),
                })
            })
            .collect();
        let categories: Vec<DataCategory> = raw.categories.iter().map(|c| self.category(c.get_ref())).collect();
        let category_names: BTreeMap<String, ()> = categories.iter().map(|c| (c.key.clone(), ())).collect();
        let purposes: Vec<Purpose> = raw.purposes.iter().map(|p| self.purpose(p, &category_names)).collect();
        let purpose_names: BTreeMap<String, ()> = purposes.iter().map(|p| (p.id.clone(), ())).collect();
        let retention: Vec<RetentionRule> =
            raw.retention.iter().map(|r| self.retention(r, &category_names, &purpose_names)).collect();
        let recipients: Vec<Recipient> = raw
            .recipients
            .iter()
            .map(|r| self.recipient(r.get_ref(), &purposes, &category_names, &purpose_names))
            .collect();
        let cookies: Vec<Cookie> = raw.cookies.iter().map(|c| self.cookie(c.get_ref(), &purposes)).collect();

        self.categories_in_use(&raw.categories, &purposes, &retention);

        Policy {
            meta,
            controller,
            rights,
            subjects,
            categories,
            purposes,
            retention,
            recipients,
            cookies,
            security: raw.security.measures,
        }
    }

    fn controller(&mut self, raw: &RawController) -> Controller {
        let country = raw.supervisory_authority.country.clone();
        if !countries::well_formed(country.get_ref()) {
            self.err(
                country.span(),
                "bad_country",
                format!("`{}` is not a country code", country.get_ref()),
                Some("use an ISO 3166-1 alpha-2 code such as IE or DE".to_owned()),
            );
        }
        Controller {
            name: raw.name.clone(),
            address: raw.address.clone(),
            email: self.email(&raw.email),
            dpo: Contact { name: raw.dpo.name.clone(), email: self.email(&raw.dpo.email) },
            supervisory_authority: Authority {
                name: raw.supervisory_authority.name.clone(),
                country: country.into_inner(),
                website: raw.supervisory_authority.website.clone(),
            },
        }
    }

    fn rights(&mut self, raw: &RawRights) -> RightsContact {
        let deadline = self.period(&raw.deadline, "deadline");
        let extension = self.period(&raw.extension, "extension");
        if deadline.as_ref().is_some_and(|d| !d.at_most_months(1)) {
            self.err(
                raw.deadline.span(),
                "rights.deadline_too_long",
                format!("a deadline of {} is longer than the one month GDPR Art. 12(3) allows", raw.deadline.get_ref()),
                Some("set deadline = \"P1M\" or shorter".to_owned()),
            );
        }
        if extension.as_ref().is_some_and(|d| !d.at_most_months(2)) {
            self.err(
                raw.extension.span(),
                "rights.deadline_too_long",
                format!(
                    "an extension of {} is longer than the two months GDPR Art. 12(3) allows",
                    raw.extension.get_ref()
                ),
                Some("set extension = \"P2M\" or shorter".to_owned()),
            );
        }
        RightsContact {
            email: self.email(&raw.email),
            deadline: deadline.unwrap_or_else(|| Period("P1M".into())),
            extension: extension.unwrap_or_else(|| Period("P2M".into())),
        }
    }

    fn category(&mut self, raw: &RawCategory) -> DataCategory {
        let key = raw.key.get_ref();
        let known = taxonomy::is_known(key);
        if raw.custom {
            if known {
                self.err(
                    raw.key.span(),
                    "category.unknown_key",
                    format!("`{key}` is in the taxonomy; it is not custom"),
                    Some("remove custom = true".to_owned()),
                );
            } else if !taxonomy::parent(key).is_some_and(taxonomy::is_known) {
                self.err(
                    raw.key.span(),
                    "category.unknown_key",
                    format!("custom category `{key}` must extend a known fideslang category"),
                    Some("name it PARENT.NAME, with PARENT a known key such as user.content".to_owned()),
                );
            }
        } else if !known {
            let help = match taxonomy::closest(key) {
                Some(close) => format!("did you mean `{close}`? For a category of your own, add custom = true"),
                None => "use a fideslang key such as user.contact.email, or add custom = true under a known parent"
                    .to_owned(),
            };
            self.err(
                raw.key.span(),
                "category.unknown_key",
                format!("`{key}` is not a fideslang data category"),
                Some(help),
            );
        }
        let source = match choice!(self, &raw.source, "data source", {
            "subject" => 0,
            "observed" => 1,
            "third_party" => 2,
        }) {
            Some(1) => Source::Observed(raw.source_detail.clone().unwrap_or_default()),
            Some(2) => {
                if raw.source_detail.as_deref().is_none_or(str::is_empty) {
                    self.err(
                        raw.source.span(),
                        "category.unnamed_source",
                        format!("category `{key}` comes from a third party but does not say which"),
                        Some("add source_detail = \"…\" naming the source (GDPR Art. 14(2)(f))".to_owned()),
                    );
                }
                Source::ThirdParty(raw.source_detail.clone().unwrap_or_default())
            }
            _ => Source::Subject,
        };
        DataCategory {
            key: key.clone(),
            description: raw.description.clone(),
            subjects: self.subject_kinds(&raw.subjects),
            source,
            direct_identifier: raw.direct_identifier,
        }
    }

    fn purpose(&mut self, spanned: &Spanned<RawPurpose>, categories: &BTreeMap<String, ()>) -> Purpose {
        let raw = spanned.get_ref();
        let id = raw.id.get_ref().clone();
        let legal_basis = match &raw.legal_basis {
            None => {
                self.err(
                    raw.id.span(),
                    "purpose.no_legal_basis",
                    format!("purpose `{id}` has no legal basis; nothing may be processed without one"),
                    Some(format!(
                        "add legal_basis = one of {} (GDPR Art. 6(1))",
                        LegalBasis::ALL.map(LegalBasis::as_str).join(", ")
                    )),
                );
                None
            }
            Some(basis) => choice!(self, basis, "legal basis", {
                "consent" => LegalBasis::Consent,
                "contract" => LegalBasis::Contract,
                "legal_obligation" => LegalBasis::LegalObligation,
                "vital_interests" => LegalBasis::VitalInterests,
                "public_task" => LegalBasis::PublicTask,
                "legitimate_interests" => LegalBasis::LegitimateInterests,
            }),
        };
        let basis_span = raw.legal_basis.as_ref().map_or(raw.id.span(), Spanned::span);
        match (legal_basis, &raw.legitimate_interest) {
            (Some(LegalBasis::LegitimateInterests), None) => self.err(
                basis_span.clone(),
                "purpose.legitimate_interest_without_assessment",
                format!("purpose `{id}` rests on legitimate interests but records no balancing test"),
                Some("add legitimate_interest = { interest = \"…\", necessity = \"…\", balancing = \"…\" }".to_owned()),
            ),
            (Some(basis), Some(assessment)) if basis != LegalBasis::LegitimateInterests => self.err(
                assessment.span(),
                "purpose.assessment_without_legitimate_interest",
                format!("purpose `{id}` rests on {basis} but carries a legitimate-interest assessment"),
                Some("remove legitimate_interest, or set legal_basis = \"legitimate_interests\"".to_owned()),
            ),
            _ => {}
        }
        let opt_in = raw.opt_in.as_ref().is_some_and(|o| *o.get_ref());
        if legal_basis == Some(LegalBasis::Consent) && !opt_in {
            let span = raw.opt_in.as_ref().map_or(basis_span.clone(), Spanned::span);
            self.err(
                span,
                "purpose.consent_not_opt_in",
                format!("purpose `{id}` rests on consent, which must be asked before processing"),
                Some("set opt_in = true (GDPR Art. 4(11), 7)".to_owned()),
            );
        }
        if raw.categories.is_empty() {
            self.err(
                raw.id.span(),
                "purpose.no_categories",
                format!("purpose `{id}` uses no data category"),
                Some("list the categories it uses: categories = [\"user.contact.email\", …]".to_owned()),
            );
        }
        let role = match &raw.role {
            Some(role) => {
                choice!(self, role, "role", { "controller" => Role::Controller, "processor" => Role::Processor })
            }
            None => Some(Role::Controller),
        };
        let cookie_categories: Vec<CookieCategory> =
            raw.cookie_categories.iter().filter_map(|c| self.cookie_category(c)).collect();
        if let Some(basis) = legal_basis
            && basis != LegalBasis::Consent
            && let Some(c) = raw.cookie_categories.iter().find(|c| c.get_ref() != "necessary")
        {
            self.err(
                c.span(),
                "purpose.cookies_without_consent",
                format!("purpose `{id}` covers {} cookies but rests on {basis}", c.get_ref()),
                Some(
                    "cookies that are not strictly necessary need consent (ePrivacy Art. 5(3)): use a consent purpose"
                        .to_owned(),
                ),
            );
        }
        let profiling = raw.profiling.as_ref().map(|p| Profiling {
            automated_decisions: p.automated_decisions,
            logic: p.logic.clone(),
            consequences: p.consequences.clone(),
        });
        let assessment = raw.legitimate_interest.as_ref().map(|a| LegitimateInterestAssessment {
            interest: a.get_ref().interest.clone(),
            necessity: a.get_ref().necessity.clone(),
            balancing: a.get_ref().balancing.clone(),
        });
        Purpose {
            id: id.clone(),
            name: raw.name.clone(),
            description: raw.description.clone(),
            legal_basis: legal_basis.unwrap_or(LegalBasis::Consent),
            legitimate_interest: assessment,
            opt_in,
            direct_marketing: raw.direct_marketing,
            legal_claims: raw.legal_claims,
            profiling,
            role: role.unwrap_or(Role::Controller),
            categories: self.references(&raw.categories, categories, "category", &format!("purpose `{id}`")),
            subjects: self.subject_kinds(&raw.subjects),
            cookie_categories,
        }
    }

    fn retention(
        &mut self,
        spanned: &Spanned<RawRetention>,
        categories: &BTreeMap<String, ()>,
        purposes: &BTreeMap<String, ()>,
    ) -> RetentionRule {
        let raw = spanned.get_ref();
        let id = raw.id.get_ref().clone();
        let owner = format!("retention rule `{id}`");
        let period = raw.period.as_ref().and_then(|p| self.period(p, "period"));
        let until = raw.until.as_ref().and_then(|u| {
            choice!(self, u, "retention event", {
                "account_termination" => RetentionEvent::AccountTermination,
                "consent_withdrawal" => RetentionEvent::ConsentWithdrawal,
                "contract_end" => RetentionEvent::ContractEnd,
            })
        });
        if raw.period.is_none() && raw.until.is_none() {
            self.err(
                raw.id.span(),
                "retention.no_end",
                format!("{owner} never ends"),
                Some(
                    "give it period = \"P2Y\", until = \"account_termination\" (or another event), or both".to_owned(),
                ),
            );
        }
        if raw.categories.is_empty() && raw.purposes.is_empty() {
            self.err(
                raw.id.span(),
                "retention.covers_nothing",
                format!("{owner} names no category and no purpose"),
                Some("add categories = […], purposes = […], or both".to_owned()),
            );
        }
        RetentionRule {
            id: id.clone(),
            categories: self.references(&raw.categories, categories, "category", &owner),
            purposes: self.references(&raw.purposes, purposes, "purpose", &owner),
            period,
            until,
            legal_hold: raw.legal_hold,
            reason: raw.reason.clone(),
        }
    }

    fn recipient(
        &mut self,
        raw: &RawRecipient,
        purposes: &[Purpose],
        categories: &BTreeMap<String, ()>,
        purpose_names: &BTreeMap<String, ()>,
    ) -> Recipient {
        let id = raw.id.get_ref().clone();
        let owner = format!("recipient `{id}`");
        let role = choice!(self, &raw.role, "recipient role", {
            "processor" => RecipientRole::Processor,
            "controller" => RecipientRole::Controller,
            "partner" => RecipientRole::Partner,
            "vendor" => RecipientRole::Vendor,
            "authority" => RecipientRole::Authority,
        });
        let country = raw.country.get_ref().clone();
        let well_formed = countries::well_formed(&country);
        if !well_formed {
            self.err(
                raw.country.span(),
                "recipient.bad_country",
                format!("`{country}` is not a country code"),
                Some(
                    "use an ISO 3166-1 alpha-2 code such as DE or US, or INT for an international organisation"
                        .to_owned(),
                ),
            );
        }
        let transfer = match &raw.transfer {
            Some(t) => choice!(self, t, "transfer mechanism", {
                "eea" => TransferMechanism::Eea,
                "adequacy" => TransferMechanism::Adequacy,
                "scc" => TransferMechanism::Scc,
                "public_authority_instrument" => TransferMechanism::PublicAuthorityInstrument,
                "bcr" => TransferMechanism::Bcr,
            }),
            None => Some(TransferMechanism::Eea),
        };
        let outside = well_formed && !countries::in_eea(&country);
        let transfer_span = raw.transfer.as_ref().map_or(raw.country.span(), Spanned::span);
        match transfer {
            Some(TransferMechanism::Eea) if outside => self.err(
                transfer_span,
                "recipient.no_transfer_safeguard",
                format!("{owner} is in {country}, outside the EEA, with no transfer safeguard"),
                Some(
                    "set transfer = \"adequacy\" (Art. 45), \"scc\" (Art. 46(2)(c)), \"public_authority_instrument\" \
                     (Art. 46(2)(a)) or \"bcr\" (Art. 47)"
                        .to_owned(),
                ),
            ),
            Some(TransferMechanism::Adequacy) if outside && !countries::adequate(&country) => self.err(
                transfer_span,
                "recipient.not_adequate",
                format!("{owner} is in {country}, which has no adequacy decision"),
                Some("use standard contractual clauses (transfer = \"scc\") or another Art. 46 safeguard".to_owned()),
            ),
            Some(TransferMechanism::Adequacy) if countries::needs_certification(&country) && !raw.dpf_certified => self
                .err(
                    transfer_span,
                    "recipient.dpf_not_certified",
                    format!(
                        "adequacy for {country} covers only organisations certified under the Data Privacy Framework"
                    ),
                    Some("set dpf_certified = true if it is certified, or use transfer = \"scc\"".to_owned()),
                ),
            _ => {}
        }
        let recipient_purposes = self.references(&raw.purposes, purpose_names, "purpose", &owner);
        let recipient_categories = self.references(&raw.categories, categories, "category", &owner);
        for category in &raw.categories {
            let used = purposes
                .iter()
                .filter(|p| recipient_purposes.contains(&p.id))
                .any(|p| p.categories.contains(category.get_ref()));
            if categories.contains_key(category.get_ref()) && !used {
                self.err(
                    category.span(),
                    "recipient.category_not_in_purpose",
                    format!("{owner} would receive `{}`, which none of its purposes uses", category.get_ref()),
                    Some("remove the category, or give the recipient a purpose that uses it".to_owned()),
                );
            }
        }
        Recipient {
            id,
            name: raw.name.clone(),
            role: role.unwrap_or(RecipientRole::Vendor),
            country,
            purposes: recipient_purposes,
            categories: recipient_categories,
            transfer: transfer.unwrap_or(TransferMechanism::Eea),
            dpf_certified: raw.dpf_certified,
            contact: raw.contact.as_ref().map(|c| self.email(c)),
        }
    }

    fn cookie(&mut self, raw: &RawCookie, purposes: &[Purpose]) -> Cookie {
        let name = raw.name.get_ref().clone();
        let category = self.cookie_category(&raw.category);
        let party = choice!(self, &raw.party, "party", { "first" => Party::First, "third" => Party::Third });
        let lifetime = raw.lifetime.get_ref().trim().to_owned();
        let lifetime = if lifetime == "session" {
            lifetime
        } else {
            self.period(&raw.lifetime, "lifetime").map(|p| p.to_string()).unwrap_or(lifetime)
        };
        if let Some(category) = category {
            let covering: Vec<&Purpose> = purposes.iter().filter(|p| p.cookie_categories.contains(&category)).collect();
            if covering.is_empty() {
                self.err(
                    raw.category.span(),
                    "cookie.uncovered_category",
                    format!("cookie `{name}` is in category {category}, which no purpose covers"),
                    Some(format!("add \"{category}\" to the cookie_categories of the purpose it serves")),
                );
            } else if purposes.iter().any(|p| &p.id == raw.purpose.get_ref())
                && !covering.iter().any(|p| &p.id == raw.purpose.get_ref())
            {
                self.err(
                    raw.purpose.span(),
                    "cookie.purpose_does_not_cover",
                    format!(
                        "cookie `{name}` serves purpose `{}`, which does not cover {category} cookies",
                        raw.purpose.get_ref()
                    ),
                    Some(format!(
                        "purposes covering {category} cookies: {}",
                        covering.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", ")
                    )),
                );
            }
        }
        let purpose_names: BTreeMap<String, ()> = purposes.iter().map(|p| (p.id.clone(), ())).collect();
        let purpose = self
            .references(std::slice::from_ref(&raw.purpose), &purpose_names, "purpose", &format!("cookie `{name}`"))
            .pop()
            .unwrap_or_default();
        Cookie {
            name,
            category: category.unwrap_or(CookieCategory::Necessary),
            lifetime,
            party: party.unwrap_or(Party::First),
            provider: raw.provider.clone(),
            purpose,
            description: raw.description.clone(),
        }
    }

    /// Every declared category serves a purpose, and every use has a retention rule.
    fn categories_in_use(&mut self, raw: &[Spanned<RawCategory>], purposes: &[Purpose], retention: &[RetentionRule]) {
        for category in raw {
            let key = category.get_ref().key.get_ref();
            let users: Vec<&Purpose> = purposes.iter().filter(|p| p.categories.contains(key)).collect();
            if users.is_empty() {
                self.err(
                    category.get_ref().key.span(),
                    "category.unused",
                    format!("category `{key}` is declared but no purpose uses it"),
                    Some(
                        "data that serves no purpose must not be collected: add it to a purpose or remove it"
                            .to_owned(),
                    ),
                );
                continue;
            }
            let uncovered: Vec<&str> = users
                .iter()
                .filter(|p| !retention.iter().any(|r| r.covers(&p.id, key)))
                .map(|p| p.id.as_str())
                .collect();
            if !uncovered.is_empty() {
                self.err(
                    category.get_ref().key.span(),
                    "category.no_retention",
                    format!("category `{key}` has no retention rule for purpose {}", quoted(&uncovered)),
                    Some("add a [[retention]] rule whose categories or purposes cover it".to_owned()),
                );
            }
        }
    }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
