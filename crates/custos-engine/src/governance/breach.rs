//! Personal-data breaches (seed 3.3, 4; GDPR Art. 33, 34).
//!
//! Every breach is registered ([`Breaches::open`]): when it was detected, its nature, the
//! data categories and systems concerned, the measures, the likely consequences, whether
//! the keys that open sealed values were exposed, and the window of exposure. From the
//! window custos computes who is affected ([`Breaches::affected`]):
//!
//! - from the data inventory: everyone holding records in the breached categories
//!   collected by the end of the window (at rest in the systems then), and, when browsing
//!   history is concerned, everyone with website events by then;
//! - from the audit log: everyone whose data in those categories was read, written or
//!   disclosed during the window (which also finds data deleted since);
//! - and the partners concerned, through the [`AffectedPartners`] seam: [`PartnerData`]
//!   names every partner custos holds records for when the breach touches a category it
//!   processes for partners ([`NoPartners`] names none, for a custos without partners).
//!   Affected partners are sent a notice through the job runner as soon as the breach is
//!   opened.
//!
//! The Art. 33(3) notification is drafted from that ([`Breaches::draft`]); the 72 hours run
//! from detection ([`deadline`]); a notification after them needs the reasons for the delay.
//! Art. 34: a person needs to be told unless everything exposed of theirs was sealed and
//! the keys were not exposed: custos seals every record value, but website events keep
//! their pages in clear, and data read or disclosed during the window left in clear.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use custos_policy::LegalBasis;
use custos_store::{Breach, GovernanceNotice, StoreError, SubjectId};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Context, GovernanceError, invalid, text};
use crate::gate::Actor;
use crate::mail::MailRequest;

/// The supervisory authority must be notified within this time of detection (Art. 33(1)).
pub const NOTIFY_WITHIN: SignedDuration = SignedDuration::from_hours(72);

/// The data category of website events.
const EVENTS_CATEGORY: &str = "user.behavior.browsing_history";

/// A breach as reported by staff.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBreach {
    /// When it was detected (now when absent).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub detected_at: Option<Timestamp>,
    /// What happened.
    pub nature: String,
    /// The data categories concerned (keys from the policy).
    pub categories: Vec<String>,
    /// The systems concerned.
    pub systems: Vec<String>,
    /// The measures taken or proposed.
    pub measures: String,
    /// The likely consequences for the people.
    pub consequences: String,
    /// Whether the keys that open sealed values were exposed too.
    pub keys_exposed: bool,
    /// When the exposure began.
    #[schema(value_type = String, format = DateTime)]
    pub window_start: Timestamp,
    /// When it ended.
    #[schema(value_type = String, format = DateTime)]
    pub window_end: Timestamp,
    /// Who reports it.
    pub opened_by: String,
}

/// One affected person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedSubject {
    /// The person.
    pub subject_id: SubjectId,
    /// Their records in the breached categories at rest in the window (sealed).
    pub records: i64,
    /// Their website events at rest in the window (pages in clear).
    pub events: i64,
    /// Audit entries showing their data in those categories handled in the window.
    pub accesses: i64,
    /// Whether they must be told (Art. 34).
    pub notice_needed: bool,
    /// Why or why not, in words.
    pub reason: String,
}

/// A partner a breach affects, as the partners module reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedPartner {
    /// The partner's id.
    pub id: String,
    /// An address its notice is mailed to, if it has one in clear.
    pub contact: Option<String>,
    /// Its contact person as a subject (sealed address), mailed through the gate.
    pub contact_subject: Option<SubjectId>,
    /// How many of its records (or end users) the breach concerns.
    pub records: u64,
}

/// The partners a breach concerns, from the partners module: when the breach touches a
/// category of a purpose custos processes for partners (role `processor`), every partner
/// custos holds records for. Partner records carry no collection time that the window
/// could be checked against, so every partner holding data counts.
pub struct PartnerData {
    partners: Arc<crate::partners::Partners>,
    categories: Vec<String>,
}

impl PartnerData {
    /// Partners as `partners` holds them, under `policy`.
    pub fn new(partners: Arc<crate::partners::Partners>, policy: &custos_policy::Policy) -> Self {
        let categories = policy
            .purposes
            .iter()
            .filter(|p| p.role == custos_policy::Role::Processor)
            .flat_map(|p| p.categories.iter().cloned())
            .collect();
        Self { partners, categories }
    }
}

#[async_trait]
impl AffectedPartners for PartnerData {
    async fn affected_partners(
        &self,
        breach: &Breach,
        _: &[AffectedSubject],
    ) -> Result<Vec<AffectedPartner>, StoreError> {
        if !breach.categories.iter().any(|c| self.categories.contains(c)) {
            return Ok(Vec::new());
        }
        let holding = self.partners.partners_holding_data().await.map_err(|e| match e {
            crate::partners::PartnerError::Store(e) => e,
            other => StoreError::Unavailable(other.to_string()),
        })?;
        Ok(holding
            .into_iter()
            .filter(|h| h.records > 0)
            .map(|h| AffectedPartner {
                id: h.partner_id.to_string(),
                contact: None,
                contact_subject: h.contact_subject,
                records: h.records,
            })
            .collect())
    }
}

/// Finds the partners a breach affects. The seam for the partners module: custos has no
/// partner data yet, so [`NoPartners`] answers none.
#[async_trait]
pub trait AffectedPartners: Send + Sync {
    /// The partners whose data is among `subjects`' for `breach`.
    async fn affected_partners(
        &self,
        breach: &Breach,
        subjects: &[AffectedSubject],
    ) -> Result<Vec<AffectedPartner>, StoreError>;
}

/// No partners module: no partner is ever affected.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPartners;

#[async_trait]
impl AffectedPartners for NoPartners {
    async fn affected_partners(&self, _: &Breach, _: &[AffectedSubject]) -> Result<Vec<AffectedPartner>, StoreError> {
        Ok(Vec::new())
    }
}

/// Who a breach affects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// The people, by subject id.
    pub subjects: Vec<AffectedSubject>,
    /// The partners.
    pub partners: Vec<AffectedPartner>,
    /// Records concerned (records and events at rest, plus accesses).
    pub records: i64,
}

/// The 72-hour clock of a breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// When the authority must have been notified.
    pub due_at: Timestamp,
    /// Whether it was not notified in time (or is not yet, and the time is up).
    pub overdue: bool,
    /// Whole hours left (negative once overdue); `None` once notified.
    pub hours_left: Option<i64>,
}

/// The 72-hour clock of `breach` at `now`.
pub fn deadline(breach: &Breach, now: Timestamp) -> Deadline {
    let due_at = breach.detected_at.checked_add(NOTIFY_WITHIN).unwrap_or(breach.detected_at);
    match breach.notified_at {
        Some(at) => Deadline { due_at, overdue: at > due_at, hours_left: None },
        None => Deadline {
            due_at,
            overdue: now > due_at,
            hours_left: Some(due_at.duration_since(now).as_secs().div_euclid(3600)),
        },
    }
}

/// The breach register.
pub struct Breaches {
    cx: Context,
    partners: Arc<dyn AffectedPartners>,
}

impl std::fmt::Debug for Breaches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaches").finish_non_exhaustive()
    }
}

impl Breaches {
    pub(crate) fn from_context(cx: Context, partners: Arc<dyn AffectedPartners>) -> Self {
        Self { cx, partners }
    }

    /// Registers a breach and queues notices to the partners it affects; every field is
    /// checked first, and nothing is stored if one is wrong.
    pub async fn open(&self, actor: &Actor, new: &NewBreach) -> Result<Breach, GovernanceError> {
        let now = self.cx.clock.now();
        let nature = text("nature", &new.nature, 4000)?;
        if new.categories.is_empty() {
            return Err(invalid("categories", "name at least one data category"));
        }
        for (i, c) in new.categories.iter().enumerate() {
            if self.cx.policy.category(c).is_none() {
                return Err(invalid(format!("categories[{i}]"), format!("the policy has no category `{c}`")));
            }
        }
        if new.systems.is_empty() {
            return Err(invalid("systems", "name at least one system"));
        }
        let systems = new
            .systems
            .iter()
            .enumerate()
            .map(|(i, s)| text(&format!("systems[{i}]"), s, 200))
            .collect::<Result<Vec<_>, _>>()?;
        let measures = text("measures", &new.measures, 4000)?;
        let consequences = text("consequences", &new.consequences, 4000)?;
        let opened_by = text("opened_by", &new.opened_by, 200)?;
        let detected_at = new.detected_at.unwrap_or(now);
        if detected_at > now {
            return Err(invalid("detected_at", "a breach cannot be detected in the future"));
        }
        if new.window_start > new.window_end {
            return Err(invalid("window_start", "the window must start before it ends"));
        }
        if new.window_start > detected_at {
            return Err(invalid("window_start", "the window must start before the breach was detected"));
        }
        let mut categories = new.categories.clone();
        categories.sort();
        categories.dedup();
        let breach = Breach {
            id: Uuid::now_v7(),
            detected_at,
            nature,
            categories,
            systems,
            measures,
            consequences,
            keys_exposed: new.keys_exposed,
            window_start: new.window_start,
            window_end: new.window_end,
            opened_by,
            created_at: now,
            notified_at: None,
            delay_reason: None,
        };
        self.cx.store.put_breach(&breach).await?;
        self.cx
            .audit(
                actor,
                "breach.open",
                None,
                None,
                json!({"breach_id": breach.id, "categories": breach.categories, "keys_exposed": breach.keys_exposed,
                       "detected_at": breach.detected_at}),
            )
            .await?;
        let affected = self.affected_by(&breach).await?;
        for partner in &affected.partners {
            let body = format!(
                "We detected on {} a personal data breach that concerns data we process for you.\n\n\
                 Nature: {}\nData categories: {}\nExposure window: {} to {}\nYour records concerned: {}\n\
                 Measures: {}\nLikely consequences: {}\n\nOur reference: {}\n",
                breach.detected_at.strftime("%Y-%m-%d %H:%M UTC"),
                breach.nature,
                breach.categories.join(", "),
                breach.window_start,
                breach.window_end,
                partner.records,
                breach.measures,
                breach.consequences,
                breach.id,
            );
            let mut notice = GovernanceNotice {
                id: Uuid::now_v7(),
                kind: "breach_partner".into(),
                addressee: partner.id.clone(),
                contact: partner.contact.clone(),
                subject_id: None,
                reference: breach.id,
                body: body.clone(),
                created_at: now,
                sent_at: None,
                channel: None,
            };
            // A contact person known as a subject is mailed through the gate, for a purpose
            // that may write to partner contacts; the notice records it as handed to mail.
            let purpose = self.cx.policy.purposes.iter().find(|p| {
                p.subjects.contains(&custos_policy::SubjectKind::PartnerContact)
                    && p.categories.iter().any(|c| c == "user.contact.email")
                    && matches!(p.legal_basis, LegalBasis::LegalObligation | LegalBasis::Contract)
            });
            if let (Some(contact), Some(purpose)) = (partner.contact_subject, purpose) {
                notice.sent_at = Some(now);
                notice.channel = Some("mail".into());
                if self.cx.store.put_notice(&notice).await? {
                    let mail = MailRequest {
                        subject_id: contact,
                        purpose: purpose.id.clone(),
                        subject_line: "A personal data breach concerning your data".into(),
                        body,
                        unsubscribe: None,
                        campaign: None,
                    };
                    crate::mail::enqueue(
                        &self.cx.store,
                        &mail,
                        Some(format!("breach:{}:partner:{}", breach.id, partner.id)),
                    )
                    .await?;
                }
            } else {
                super::notices::queue(&self.cx.store, &notice, now).await?;
            }
        }
        Ok(breach)
    }

    /// A breach by id.
    pub async fn get(&self, id: Uuid) -> Result<Breach, GovernanceError> {
        self.cx.store.breach(id).await?.ok_or_else(|| GovernanceError::NotFound(format!("breach {id}")))
    }

    /// The latest breaches, newest first.
    pub async fn list(&self, limit: u32) -> Result<Vec<Breach>, StoreError> {
        self.cx.store.breaches(limit).await
    }

    /// The 72-hour clock of a breach now.
    pub fn deadline(&self, breach: &Breach) -> Deadline {
        deadline(breach, self.cx.clock.now())
    }

    /// Who breach `id` affects.
    pub async fn affected(&self, id: Uuid) -> Result<Affected, GovernanceError> {
        let breach = self.get(id).await?;
        Ok(self.affected_by(&breach).await?)
    }

    async fn affected_by(&self, breach: &Breach) -> Result<Affected, StoreError> {
        #[derive(Default)]
        struct Tally {
            records: i64,
            events: i64,
            accesses: i64,
        }
        let mut people: BTreeMap<SubjectId, Tally> = BTreeMap::new();
        for (subject, n) in self.cx.store.inventory_subjects(&breach.categories, breach.window_end).await? {
            people.entry(subject).or_default().records += n;
        }
        if breach.categories.iter().any(|c| c == EVENTS_CATEGORY) {
            for (subject, n) in self.cx.store.event_subjects(breach.window_end).await? {
                people.entry(subject).or_default().events += n;
            }
        }
        let mut after = 0;
        loop {
            let entries = self.cx.store.audit_window(breach.window_start, breach.window_end, after, 1000).await?;
            let Some(last) = entries.last() else { break };
            after = last.seq;
            for e in &entries {
                let Some(subject) = e.entry.subject_id else { continue };
                let detail = &e.entry.detail;
                if detail["outcome"] != "allowed" {
                    continue;
                }
                let mut touched: Vec<&str> = detail["categories"]
                    .as_array()
                    .map_or_else(Vec::new, |list| list.iter().filter_map(Value::as_str).collect());
                touched.extend(detail["category"].as_str());
                if touched.iter().any(|c| breach.categories.iter().any(|b| b == c)) {
                    people.entry(subject).or_default().accesses += 1;
                }
            }
        }
        let subjects: Vec<AffectedSubject> = people
            .into_iter()
            .map(|(subject_id, t)| {
                let (notice_needed, reason) = if breach.keys_exposed {
                    (true, "the keys that open sealed values were exposed")
                } else if t.accesses > 0 {
                    (true, "their data was handled in clear during the window")
                } else if t.events > 0 {
                    (true, "their website events (pages visited) are stored in clear")
                } else {
                    (false, "only sealed values were exposed and the keys were not: the data is unintelligible")
                };
                AffectedSubject {
                    subject_id,
                    records: t.records,
                    events: t.events,
                    accesses: t.accesses,
                    notice_needed,
                    reason: reason.to_owned(),
                }
            })
            .collect();
        let records = subjects.iter().map(|s| s.records + s.events + s.accesses).sum();
        let partners = self.partners.affected_partners(breach, &subjects).await?;
        Ok(Affected { subjects, partners, records })
    }

    /// The notification to the supervisory authority with the contents of Art. 33(3), as
    /// JSON (see [`draft_text`] for the same as text).
    pub async fn draft(&self, id: Uuid) -> Result<Value, GovernanceError> {
        let breach = self.get(id).await?;
        let affected = self.affected_by(&breach).await?;
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for s in &affected.subjects {
            let kind = match self.cx.store.subject(s.subject_id).await? {
                Some(subject) => subject.kind.as_str().to_owned(),
                None => "erased since".to_owned(),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let policy = &self.cx.policy;
        let clock = self.deadline(&breach);
        let notify = affected.subjects.iter().filter(|s| s.notice_needed).count();
        Ok(json!({
            "breach_id": breach.id,
            "to": {"authority": policy.controller.supervisory_authority.name,
                   "country": policy.controller.supervisory_authority.country},
            "controller": {"name": policy.controller.name, "address": policy.controller.address,
                           "email": policy.controller.email},
            "detected_at": breach.detected_at,
            "due_at": clock.due_at,
            "overdue": clock.overdue,
            "notified_at": breach.notified_at,
            "delay_reason": breach.delay_reason,
            "a_nature": {
                "description": breach.nature,
                "systems": breach.systems,
                "window": {"start": breach.window_start, "end": breach.window_end},
                "data_categories": breach.categories,
                "subject_categories": kinds,
                "approximate_subjects": affected.subjects.len(),
                "approximate_records": affected.records,
                "keys_exposed": breach.keys_exposed,
            },
            "b_dpo": {"name": policy.controller.dpo.name, "email": policy.controller.dpo.email},
            "c_likely_consequences": breach.consequences,
            "d_measures": breach.measures,
            "people_to_notify": notify,
            "partners_affected": affected.partners.len(),
        }))
    }

    /// Records that the supervisory authority was notified now. After the 72 hours the
    /// reasons for the delay are required (Art. 33(1)).
    pub async fn notify_authority(
        &self,
        actor: &Actor,
        id: Uuid,
        delay_reason: Option<&str>,
    ) -> Result<Breach, GovernanceError> {
        let breach = self.get(id).await?;
        if breach.notified_at.is_some() {
            return Err(GovernanceError::WrongState(format!("breach {id}: the authority was already notified")));
        }
        let now = self.cx.clock.now();
        let late = deadline(&breach, now).overdue;
        let reason = match delay_reason {
            Some(r) => Some(text("delay_reason", r, 4000)?),
            None if late => {
                return Err(invalid(
                    "delay_reason",
                    "the 72 hours are over: give the reasons for the delay (Art. 33(1))",
                ));
            }
            None => None,
        };
        if !self.cx.store.set_breach_notified(id, now, reason.as_deref()).await? {
            return Err(GovernanceError::WrongState(format!("breach {id}: the authority was already notified")));
        }
        self.cx.audit(actor, "breach.notify_authority", None, None, json!({"breach_id": id, "late": late})).await?;
        self.get(id).await
    }

    /// Queues the Art. 34 notice to every affected person who needs one, by mail through
    /// the job runner (read through the gate at send time, for the policy's legal-obligation
    /// purpose). Returns how many were queued; queuing again sends no one twice.
    pub async fn notify_people(&self, actor: &Actor, id: Uuid) -> Result<usize, GovernanceError> {
        let breach = self.get(id).await?;
        let affected = self.affected_by(&breach).await?;
        let purpose = self
            .cx
            .policy
            .purposes
            .iter()
            .find(|p| {
                p.legal_basis == LegalBasis::LegalObligation && p.categories.iter().any(|c| c == "user.contact.email")
            })
            .ok_or_else(|| {
                invalid("policy", "no purpose on a legal obligation may use user.contact.email, to write to people")
            })?;
        let dpo = &self.cx.policy.controller.dpo;
        let body = format!(
            "Hello {{{{name}}}},\n\nWe are writing to tell you about a personal data breach that concerns your data.\n\n\
             What happened: {}\nWhen: between {} and {}\nData concerned: {}\n\
             Likely consequences: {}\nWhat we did and propose: {}\n\n\
             You can reach our data protection officer, {}, at {}.\n",
            breach.nature,
            breach.window_start.strftime("%Y-%m-%d"),
            breach.window_end.strftime("%Y-%m-%d"),
            breach.categories.join(", "),
            breach.consequences,
            breach.measures,
            dpo.name,
            dpo.email,
        );
        let mut queued = 0;
        for s in affected.subjects.iter().filter(|s| s.notice_needed) {
            let mail = MailRequest {
                subject_id: s.subject_id,
                purpose: purpose.id.clone(),
                subject_line: "A personal data breach concerning your data".into(),
                body: body.clone(),
                unsubscribe: None,
                campaign: None,
            };
            let key = format!("breach:{}:{}", breach.id, s.subject_id);
            if let custos_store::Enqueued::New(_) = crate::mail::enqueue(&self.cx.store, &mail, Some(key)).await? {
                queued += 1;
                self.cx
                    .audit(actor, "breach.notify_person", Some(s.subject_id), None, json!({"breach_id": breach.id}))
                    .await?;
            }
        }
        Ok(queued)
    }
}

/// The Art. 33(3) draft as text.
pub fn draft_text(draft: &Value) -> String {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let n = &draft["a_nature"];
    format!(
        "Notification of a personal data breach (GDPR Art. 33)\n\
         To: {} ({})\nFrom: {}, {} <{}>\nBreach reference: {}\n\
         Detected: {}   Due: {}   Overdue: {}   Notified: {}\nReasons for delay: {}\n\n\
         (a) Nature of the breach\n{}\nSystems: {}\nWindow: {} to {}\nData categories: {}\n\
         Categories of people: {}\nApproximate number of people: {}\nApproximate number of records: {}\n\
         Keys exposed: {}\n\n(b) Data protection officer\n{} <{}>\n\n(c) Likely consequences\n{}\n\n\
         (d) Measures taken or proposed\n{}\n\nPeople to be told (Art. 34): {}\n",
        s(&draft["to"]["authority"]),
        s(&draft["to"]["country"]),
        s(&draft["controller"]["name"]),
        s(&draft["controller"]["address"]),
        s(&draft["controller"]["email"]),
        s(&draft["breach_id"]),
        s(&draft["detected_at"]),
        s(&draft["due_at"]),
        s(&draft["overdue"]),
        s(&draft["notified_at"]),
        s(&draft["delay_reason"]),
        s(&n["description"]),
        n["systems"].as_array().map_or(String::new(), |l| l.iter().map(s).collect::<Vec<_>>().join(", ")),
        s(&n["window"]["start"]),
        s(&n["window"]["end"]),
        n["data_categories"].as_array().map_or(String::new(), |l| l.iter().map(s).collect::<Vec<_>>().join(", ")),
        n["subject_categories"].as_object().map_or(String::new(), |m| m
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")),
        s(&n["approximate_subjects"]),
        s(&n["approximate_records"]),
        s(&n["keys_exposed"]),
        s(&draft["b_dpo"]["name"]),
        s(&draft["b_dpo"]["email"]),
        s(&draft["c_likely_consequences"]),
        s(&draft["d_measures"]),
        s(&draft["people_to_notify"]),
    )
}
