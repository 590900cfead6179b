//! The gate (seed 2.3, 4, 8.4, 8.6): every read and every write of personal data passes
//! through [`Gate::decide`], which allows only what the policy and the person's choices
//! allow, and names the rule that refused otherwise.
//!
//! The rules, in the order they are checked:
//!
//! | rule | refuses |
//! |---|---|
//! | [`Rule::Erased`] | anything about an erased subject |
//! | [`Rule::UnknownPurpose`] | a purpose the policy does not declare |
//! | [`Rule::CategoryNotInPurpose`] | a category the purpose may not use |
//! | [`Rule::ActorNotScoped`] | a service token or staff member not granted the purpose |
//! | [`Rule::RoleForbids`] | staff roles that never see personal data (admin, auditor) |
//! | [`Rule::Restricted`] | a restricted subject, except for legal claims and their own access |
//! | [`Rule::NoLiveConsent`] | a consent purpose without a live consent |
//! | [`Rule::ObjectedDirectMarketing`] | direct marketing after an objection, always |
//! | [`Rule::Objected`] | legitimate interests after an objection, unless compelling grounds were recorded |
//!
//! The person's own access (an [`Actor::Subject`] reading their own data) passes every
//! rule but the first two: the right of access holds whatever else they chose.
//!
//! Deciding is pure and allocation-free on the allow path; the engine loads the person's
//! [`SubjectState`] from the store and audits every decision.

use std::collections::{HashMap, HashSet};
use std::fmt;

use custos_policy::{LegalBasis, Policy};
use custos_store::SubjectId;

/// Who asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// One of the operator's services, through a token scoped to purposes.
    Service {
        /// The token's id (never the secret).
        token: String,
        /// The purposes the token may act for.
        purposes: Vec<String>,
    },
    /// A staff member.
    Staff {
        /// The staff member's id.
        id: String,
        /// Their role.
        role: StaffRole,
        /// The purposes a support agent works for (ignored for other roles).
        purposes: Vec<String>,
    },
    /// The person themselves (the right of access and of rectification).
    Subject(SubjectId),
    /// custos itself: retention sweeps, erasure, rights fulfilment.
    System,
    /// A browser, anonymously: the banner recording a visitor's choices. It never reads
    /// or writes personal data through the gate.
    Visitor,
}

impl Actor {
    /// How the actor is named in the audit log.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Service { token, .. } => format!("service:{token}"),
            Actor::Staff { id, role, .. } => format!("staff:{}:{id}", role.as_str()),
            Actor::Subject(id) => format!("subject:{id}"),
            Actor::System => "system".to_owned(),
            Actor::Visitor => "visitor".to_owned(),
        }
    }
}

/// Staff roles, with least privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// Configures custos; never reads personal data.
    Admin,
    /// The data protection officer: reads and corrects for any purpose, to answer requests.
    Dpo,
    /// Support agents: read and write only for the purposes they are assigned.
    Support,
    /// Auditors: read the audit log and registers; never personal data.
    Auditor,
}

impl StaffRole {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Dpo => "dpo",
            StaffRole::Support => "support",
            StaffRole::Auditor => "auditor",
        }
    }
}

/// Reading or writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading stored values.
    Read,
    /// Storing new values.
    Write,
}

impl Access {
    /// The access's name in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// An objection the person made to a purpose (Art. 21).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Objection {
    /// Compelling legitimate grounds recorded by the controller, which let processing on
    /// legitimate interests continue (never direct marketing).
    pub compelling_grounds: Option<String>,
}

/// What the gate needs to know about the person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectState {
    /// Whether their data key was destroyed.
    pub erased: bool,
    /// Purposes with a live consent.
    pub consents: HashSet<String>,
    /// Objections by purpose.
    pub objections: HashMap<String, Objection>,
    /// Whether processing is restricted (Art. 18).
    pub restricted: bool,
}

/// The rule that refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The subject is erased.
    Erased,
    /// The policy does not declare the purpose.
    UnknownPurpose,
    /// The purpose may not use a requested category.
    CategoryNotInPurpose,
    /// The actor is not granted the purpose.
    ActorNotScoped,
    /// The actor's role never touches personal data.
    RoleForbids,
    /// Processing is restricted.
    Restricted,
    /// The purpose rests on consent and there is no live consent.
    NoLiveConsent,
    /// The person objected to direct marketing.
    ObjectedDirectMarketing,
    /// The person objected to processing on legitimate interests.
    Objected,
}

impl Rule {
    /// The stable code of the rule, used in API errors and the audit log.
    pub fn code(self) -> &'static str {
        match self {
            Rule::Erased => "subject_erased",
            Rule::UnknownPurpose => "unknown_purpose",
            Rule::CategoryNotInPurpose => "category_not_in_purpose",
            Rule::ActorNotScoped => "actor_not_scoped",
            Rule::RoleForbids => "role_forbids",
            Rule::Restricted => "processing_restricted",
            Rule::NoLiveConsent => "no_live_consent",
            Rule::ObjectedDirectMarketing => "objected_direct_marketing",
            Rule::Objected => "objected",
        }
    }

    /// Whether the refusal follows from the person's own state (erased, restricted, objected,
    /// no consent) rather than from the policy or the actor. Answering such a refusal
    /// differently from a success would tell a stranger something about that person.
    pub fn concerns_the_person(self) -> bool {
        matches!(
            self,
            Rule::Erased | Rule::Restricted | Rule::NoLiveConsent | Rule::ObjectedDirectMarketing | Rule::Objected
        )
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The gate's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused by `rule`; `reason` says why in words (no personal data).
    Deny {
        /// The rule that refused.
        rule: Rule,
        /// Why, in words.
        reason: String,
    },
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    fn deny(rule: Rule, reason: String) -> Self {
        Decision::Deny { rule, reason }
    }
}

/// A request to the gate.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who asks.
    pub actor: &'a Actor,
    /// About whom.
    pub subject: SubjectId,
    /// For which purpose.
    pub purpose: &'a str,
    /// Which data categories.
    pub categories: &'a [&'a str],
    /// Reading or writing.
    pub access: Access,
}

/// What the gate keeps of a purpose.
#[derive(Debug)]
struct PurposeRules {
    basis: LegalBasis,
    direct_marketing: bool,
    legal_claims: bool,
    categories: HashSet<String>,
}

/// The policy compiled for fast decisions.
#[derive(Debug)]
pub struct Gate {
    purposes: HashMap<String, PurposeRules>,
}

impl Gate {
    /// Compiles `policy`.
    pub fn new(policy: &Policy) -> Self {
        let purposes = policy
            .purposes
            .iter()
            .map(|p| {
                let rules = PurposeRules {
                    basis: p.legal_basis,
                    direct_marketing: p.direct_marketing,
                    legal_claims: p.legal_claims,
                    categories: p.categories.iter().cloned().collect(),
                };
                (p.id.clone(), rules)
            })
            .collect();
        Self { purposes }
    }

    /// Decides `request` for a person in `state`.
    pub fn decide(&self, state: &SubjectState, request: &Request<'_>) -> Decision {
        if state.erased {
            return Decision::deny(Rule::Erased, "the subject is erased; nothing about them can be processed".into());
        }
        let Some(purpose) = self.purposes.get(request.purpose) else {
            return Decision::deny(
                Rule::UnknownPurpose,
                format!("the policy declares no purpose `{}`", request.purpose),
            );
        };
        if let Some(category) = request.categories.iter().find(|c| !purpose.categories.contains(**c)) {
            return Decision::deny(
                Rule::CategoryNotInPurpose,
                format!("purpose `{}` may not use category `{category}`", request.purpose),
            );
        }
        let own_access = matches!(request.actor, Actor::Subject(id) if *id == request.subject);
        match request.actor {
            Actor::Service { purposes, .. } if !purposes.iter().any(|p| p == request.purpose) => {
                return Decision::deny(
                    Rule::ActorNotScoped,
                    format!("the service token is not granted purpose `{}`", request.purpose),
                );
            }
            Actor::Staff { role: r @ (StaffRole::Admin | StaffRole::Auditor), .. } => {
                return Decision::deny(
                    Rule::RoleForbids,
                    format!("the {} role never reads or writes personal data", r.as_str()),
                );
            }
            Actor::Staff { role: StaffRole::Support, purposes, .. }
                if !purposes.iter().any(|p| p == request.purpose) =>
            {
                return Decision::deny(
                    Rule::ActorNotScoped,
                    format!("this support agent is not assigned purpose `{}`", request.purpose),
                );
            }
            Actor::Subject(id) if *id != request.subject => {
                return Decision::deny(Rule::ActorNotScoped, "a person may only reach their own data".into());
            }
            Actor::Visitor => {
                return Decision::deny(Rule::ActorNotScoped, "an anonymous browser reaches no personal data".into());
            }
            _ => {}
        }
        if own_access {
            return Decision::Allow;
        }
        if state.restricted && !purpose.legal_claims {
            return Decision::deny(
                Rule::Restricted,
                "processing is restricted: the data is only stored, except for legal claims and the person's own access".into(),
            );
        }
        let objection = state.objections.get(request.purpose);
        match purpose.basis {
            LegalBasis::Consent if !state.consents.contains(request.purpose) => {
                return Decision::deny(
                    Rule::NoLiveConsent,
                    format!("purpose `{}` needs a consent that is not given", request.purpose),
                );
            }
            LegalBasis::LegitimateInterests if objection.is_some_and(|o| o.compelling_grounds.is_none()) => {
                return Decision::deny(
                    Rule::Objected,
                    format!(
                        "the person objected to purpose `{}` and no compelling grounds are recorded",
                        request.purpose
                    ),
                );
            }
            _ => {}
        }
        if purpose.direct_marketing && objection.is_some() {
            return Decision::deny(
                Rule::ObjectedDirectMarketing,
                format!("the person objected to direct marketing (`{}`); this always stops it", request.purpose),
            );
        }
        Decision::Allow
    }
}
