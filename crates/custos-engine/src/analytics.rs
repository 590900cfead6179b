//! Website analytics (seed 2.2): page views, clicks and time on page, recorded only as the
//! visitor's choices allow.
//!
//! - With analytics consent (the consent purpose that covers analytics cookies), events
//!   belong to the visitor's subject and the address is kept sealed with their key.
//! - Without it, or with Global Privacy Control, the visit is counted cookielessly: the
//!   visitor is a SHA-256 of a random daily salt, the site, the address and the user agent.
//!   Neither the address nor an id is stored, and the salt is destroyed after 48 hours, so
//!   no one can be followed from one day to the next.
//! - With a MaxMind-format database, each event keeps the visitor's country (not the address).
//!
//! Paths lose their query and fragment, referrers keep only their origin: both may carry
//! personal data. Writes are durable on return and grouped: concurrent requests share one
//! transaction.
//!
//! A consenting visitor's events are traced per visit, not per beacon: the audit entry
//! `events.write` is committed in the same transaction as the first events it traces, and
//! covers that visitor's events for [`VISIT_TRACE`] after it. So no event is ever stored
//! without an entry naming its visitor and purpose at or before its time, and the chain
//! does not grow by one entry per page view. A process that has not seen the visitor within
//! the window (a restart, another process, a forgotten visitor) writes a new entry: the
//! trace may repeat, it never lapses.
//!
//! A consenting visitor's data key is read once a minute at most ([`SEALING_KEY_TTL`]),
//! not at every page view, and kept only to seal: their consent state is still read at every
//! request, so a withdrawal or an erasure counts at once.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use custos_policy::{CookieCategory, LegalBasis, Policy};
use custos_store::{EventVisitor, IdentifierKind, NewAuditEntry, Store, StoreError, StoredEvent, SubjectId};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::{Anchor, Auditor};
use crate::clock::Clock;
use crate::gate::{Access, Actor, Decision, Gate, Request};
use crate::group_commit::{Committer, GroupCommit};
use crate::vault::Vault;

/// The most events one request may carry.
pub const MAX_EVENTS: usize = 100;
/// The longest path or referrer kept.
const MAX_URL: usize = 2048;
/// How long a daily salt lives.
const SALT_LIFETIME: SignedDuration = SignedDuration::from_hours(48);
/// How long after its time one `events.write` audit entry traces its visitor's further
/// events: a visit, as web analytics counts one.
pub const VISIT_TRACE: SignedDuration = SignedDuration::from_mins(30);
/// How long a process seals a consenting visitor's events with the data key it read for
/// them, before it reads the key again (see the module documentation).
pub const SEALING_KEY_TTL: SignedDuration = SignedDuration::from_secs(60);

/// What happened on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A page was shown.
    PageView,
    /// A link was clicked.
    Click,
    /// The page was hidden or closed; carries the time spent on it.
    Leave,
}

impl EventKind {
    fn as_str(self) -> &'static str {
        match self {
            EventKind::PageView => "pageview",
            EventKind::Click => "click",
            EventKind::Leave => "leave",
        }
    }
}

/// One event as the tracker sends it.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    /// What happened.
    pub kind: EventKind,
    /// The page's URL or path.
    pub url: String,
    /// The referring URL, if any.
    pub referrer: Option<String>,
    /// Whether this page opened the visit.
    pub entry: bool,
    /// Time on page in milliseconds, for [`EventKind::Leave`].
    pub duration_ms: Option<u64>,
}

/// Who sent the events, and how.
#[derive(Debug, Clone, Copy)]
pub struct Visit<'a> {
    /// The id in the visitor's first-party cookie, if the tracker has one.
    pub cookie_id: Option<&'a str>,
    /// The connecting address.
    pub ip: IpAddr,
    /// The user agent.
    pub user_agent: &'a str,
    /// Whether the browser sends Global Privacy Control.
    pub gpc: bool,
    /// The site (host) the events come from.
    pub site: &'a str,
}

/// Writes the events of many requests in one transaction (see the `group_commit` module),
/// with the audit entry of each consented request in the same transaction, then hands the
/// audit chain's new head to the [`crate::audit::Auditor`]'s anchor.
struct EventCommitter {
    store: Arc<dyn Store>,
    anchor: Anchor,
}

/// One request's events, and the audit entry that traces them when they are a person's.
type Traced = (Vec<StoredEvent>, Option<NewAuditEntry>);

impl EventCommitter {
    async fn write(&self, requests: &[Traced]) -> Result<(), StoreError> {
        let events: Vec<StoredEvent> = requests.iter().flat_map(|(events, _)| events.iter().cloned()).collect();
        let audit: Vec<NewAuditEntry> = requests.iter().filter_map(|(_, entry)| entry.clone()).collect();
        let appended = self.store.insert_events_audited(&events, &audit).await?;
        self.anchor.advance(&appended);
        Ok(())
    }
}

#[async_trait::async_trait]
impl Committer for EventCommitter {
    type Item = Traced;
    type Output = ();

    async fn commit(&self, requests: &[Traced]) -> Result<Vec<()>, StoreError> {
        self.write(requests).await?;
        Ok(vec![(); requests.len()])
    }

    async fn commit_one(&self, request: &Traced) -> Result<(), StoreError> {
        self.write(std::slice::from_ref(request)).await
    }
}

/// Visitors whose cookie's subject a process keeps in memory, at most (about 5 MB).
const MAX_REMEMBERED_VISITORS: usize = 50_000;

/// Requests whose events share one transaction, at most (each holds up to [`MAX_EVENTS`]).
const MAX_BATCH: usize = 200;

/// How the events were recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "mode", content = "subject_id")]
pub enum Mode {
    /// Tied to a consenting visitor.
    Consented(SubjectId),
    /// Counted without cookies, addresses or ids.
    Cookieless,
    /// Not recorded (a crawler).
    Ignored,
}

/// Why events were refused.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// An event was invalid; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The input at fault, such as `events[2].kind`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Analytics over a period.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Distinct visitors.
    pub visitors: u64,
    /// Visits.
    pub visits: u64,
    /// Visits per visitor.
    pub visit_frequency: f64,
    /// Page views.
    pub page_views: u64,
    /// Mean time on page, in seconds.
    pub mean_duration_s: Option<f64>,
    /// Most viewed pages.
    pub top_pages: Vec<(String, u64)>,
    /// Most common entry pages.
    pub top_entry_pages: Vec<(String, u64)>,
    /// Page views per country.
    pub countries: Vec<(String, u64)>,
}

/// Records and sums up website analytics.
pub struct Analytics {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    gate: Gate,
    purpose: Option<String>,
    categories: Vec<String>,
    clock: Arc<dyn Clock>,
    salt: Mutex<Option<(String, [u8; 32])>>,
    /// Cookie ids' blind indexes and the visitors they name, read before (see
    /// [`Analytics::visitor`]).
    visitors: Mutex<std::collections::HashMap<[u8; 32], SubjectId>>,
    /// Consenting visitors whose events a committed audit entry traces, with that entry's
    /// time (see [`VISIT_TRACE`]).
    traced: Mutex<std::collections::HashMap<SubjectId, Timestamp>>,
    /// Consenting visitors' data keys, with when each was read: used to seal their events,
    /// never to open anything (see [`Analytics::sealing_key`]).
    sealing_keys: Mutex<std::collections::HashMap<SubjectId, (Arc<custos_vault::DataKey>, Timestamp)>>,
    geo: std::sync::OnceLock<maxminddb::Reader<Vec<u8>>>,
    writer: GroupCommit<EventCommitter>,
}

impl std::fmt::Debug for Analytics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytics").field("purpose", &self.purpose).finish_non_exhaustive()
    }
}

impl Analytics {
    /// Analytics under `policy`: the consent purpose covering analytics cookies decides
    /// whether a visitor is tracked. The audit entries tracing a person's events extend the
    /// chain that `auditor` anchors. Starts a writer task (call within a Tokio runtime).
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        policy: &Policy,
        auditor: &Auditor,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let purpose = policy
            .purposes
            .iter()
            .find(|p| p.legal_basis == LegalBasis::Consent && p.cookie_categories.contains(&CookieCategory::Analytics));
        let categories = purpose.map(|p| p.categories.clone()).unwrap_or_default();
        let committer = EventCommitter { store: store.clone(), anchor: auditor.anchor().clone() };
        let writer = GroupCommit::spawn(committer, MAX_BATCH, "analytics");
        Self {
            store,
            vault,
            gate: Gate::new(policy),
            purpose: purpose.map(|p| p.id.clone()),
            categories,
            clock,
            salt: Mutex::new(None),
            visitors: Mutex::new(std::collections::HashMap::new()),
            traced: Mutex::new(std::collections::HashMap::new()),
            sealing_keys: Mutex::new(std::collections::HashMap::new()),
            geo: std::sync::OnceLock::new(),
            writer,
        }
    }

    /// Derives countries from addresses with a MaxMind-format database (GeoLite2 or
    /// GeoIP2 Country or City). Only the country code is kept, never the address.
    /// Returns false when a database was already set.
    pub fn set_geo(&self, reader: maxminddb::Reader<Vec<u8>>) -> bool {
        self.geo.set(reader).is_ok()
    }

    /// The country of `ip`, if a database is set and knows it.
    fn country(&self, ip: IpAddr) -> Option<String> {
        let reader = self.geo.get()?;
        let found: maxminddb::geoip2::Country<'_> = reader.lookup(ip).ok()?;
        found.country?.iso_code.map(str::to_owned)
    }

    /// Records `events` of one visit; returns once they are durable.
    pub async fn ingest(&self, visit: &Visit<'_>, events: &[IncomingEvent]) -> Result<(Mode, usize), AnalyticsError> {
        if events.is_empty() || events.len() > MAX_EVENTS {
            return Err(AnalyticsError::Invalid {
                field: "events".into(),
                message: format!("send between 1 and {MAX_EVENTS} events"),
            });
        }
        for (i, e) in events.iter().enumerate() {
            if e.url.len() > MAX_URL || e.referrer.as_ref().is_some_and(|r| r.len() > MAX_URL) {
                return Err(AnalyticsError::Invalid {
                    field: format!("events[{i}].url"),
                    message: format!("longer than {MAX_URL} bytes"),
                });
            }
            if e.duration_ms.is_some_and(|d| d > 86_400_000) {
                return Err(AnalyticsError::Invalid {
                    field: format!("events[{i}].duration_ms"),
                    message: "longer than a day".into(),
                });
            }
        }
        let agent = woothee::parser::Parser::new().parse(visit.user_agent);
        if agent.as_ref().is_some_and(|a| a.category == "crawler") {
            return Ok((Mode::Ignored, 0));
        }
        let (browser, os, device) = match &agent {
            Some(a) => (Some(a.name.to_owned()), Some(a.os.to_owned()), Some(a.category.to_owned())),
            None => (None, None, None),
        };
        let now = self.clock.now();
        let country = self.country(visit.ip);
        let mode = self.mode(visit).await?;
        let visitor = match mode {
            Mode::Consented(subject) => EventVisitor::Subject(subject),
            _ => EventVisitor::Anonymous(self.visitor_hash(visit, now).await?),
        };
        let key = match mode {
            Mode::Consented(subject) => Some(self.sealing_key(subject, now).await?),
            _ => None,
        };
        let stored: Vec<StoredEvent> = events
            .iter()
            .map(|e| {
                let event_id = Uuid::now_v7();
                let sealed_ip = match (&key, mode) {
                    (Some(key), Mode::Consented(subject)) => {
                        Some(Vault::seal(key, "events", event_id, subject, visit.ip.to_string().as_bytes()))
                    }
                    _ => None,
                };
                StoredEvent {
                    visitor: visitor.clone(),
                    event_id,
                    at: now,
                    kind: e.kind.as_str().to_owned(),
                    path: clean_path(&e.url),
                    referrer: e.referrer.as_deref().and_then(|r| origin(r, visit.site)),
                    entry: e.entry && e.kind == EventKind::PageView,
                    duration_ms: e.duration_ms.map(|d| d as i64),
                    sealed_ip,
                    country: country.clone(),
                    browser: browser.clone(),
                    os: os.clone(),
                    device: device.clone(),
                }
            })
            .collect();
        // A person's events are committed with the audit entry that traces them, unless
        // one committed earlier in the visit traces them already.
        let audit = match mode {
            Mode::Consented(subject) if !self.is_traced(subject, now) => Some(NewAuditEntry {
                at: now,
                actor: Actor::System.audit_name(),
                action: "events.write".into(),
                subject_id: Some(subject),
                purpose: self.purpose.clone(),
                detail: serde_json::json!({
                    "outcome": "allowed",
                    "events": events.len(),
                    "traces_for_s": VISIT_TRACE.as_secs(),
                }),
            }),
            _ => None,
        };
        let traces = audit.as_ref().and_then(|a| a.subject_id);
        self.writer.submit((stored, audit)).await?;
        if let Some(subject) = traces {
            self.remember_trace(subject, now);
        }
        Ok((mode, events.len()))
    }

    /// Analytics for `[from, to)`.
    pub async fn summary(&self, from: Timestamp, to: Timestamp) -> Result<Summary, StoreError> {
        let t = self.store.event_totals(from, to, 10).await?;
        Ok(Summary {
            visitors: t.visitors,
            visits: t.visits,
            visit_frequency: if t.visitors == 0 { 0.0 } else { t.visits as f64 / t.visitors as f64 },
            page_views: t.page_views,
            mean_duration_s: (t.duration.1 > 0).then(|| t.duration.0 as f64 / t.duration.1 as f64 / 1000.0),
            top_pages: t.pages,
            top_entry_pages: t.entry_pages,
            countries: t.countries,
        })
    }

    /// Consented when the visitor's cookie names a subject with live analytics consent whom
    /// the gate lets us record; cookieless otherwise.
    async fn mode(&self, visit: &Visit<'_>) -> Result<Mode, AnalyticsError> {
        let (Some(cookie_id), Some(purpose), false) = (visit.cookie_id, &self.purpose, visit.gpc) else {
            return Ok(Mode::Cookieless);
        };
        let Ok(index) = self.vault.blind_index(IdentifierKind::CookieId, cookie_id) else {
            return Ok(Mode::Cookieless);
        };
        let Some((subject, state)) = self.visitor(&index).await? else {
            return Ok(Mode::Cookieless);
        };
        let categories: Vec<&str> = self.categories.iter().map(String::as_str).collect();
        let request =
            Request { actor: &Actor::System, subject, purpose, categories: &categories, access: Access::Write };
        Ok(match self.gate.decide(&state, &request) {
            Decision::Allow => Mode::Consented(subject),
            Decision::Deny { .. } => Mode::Cookieless,
        })
    }

    /// The visitor a cookie's blind index names, with their consent state; `None` when no
    /// one holds that cookie. Which subject a cookie names is kept in this process once
    /// read (it does not change while the subject exists); their state is read every time,
    /// so that a withdrawal counts at once. A remembered subject that no longer exists (an
    /// erasure, here or in another process) is forgotten and the cookie looked up again: it
    /// may name a new visitor since.
    async fn visitor(
        &self,
        index: &custos_store::BlindIndex,
    ) -> Result<Option<(SubjectId, crate::gate::SubjectState)>, StoreError> {
        let remembered = self.visitors.lock().ok().and_then(|v| v.get(&index.0).copied());
        if let Some(subject) = remembered {
            if let Some(state) = crate::records::choices(&self.store, subject).await? {
                return Ok(Some((subject, state)));
            }
            if let Ok(mut visitors) = self.visitors.lock() {
                visitors.remove(&index.0);
            }
        }
        let Some(subject) = self.store.find_subject(IdentifierKind::CookieId, index).await? else {
            return Ok(None);
        };
        let Some(state) = crate::records::choices(&self.store, subject).await? else {
            return Ok(None);
        };
        if let Ok(mut visitors) = self.visitors.lock() {
            // Bounded however many visitors come (only cookies someone holds get here).
            if visitors.len() >= MAX_REMEMBERED_VISITORS {
                visitors.clear();
            }
            visitors.insert(index.0, subject);
        }
        Ok(Some((subject, state)))
    }

    /// The data key that seals `subject`'s events: the one read for them within
    /// [`SEALING_KEY_TTL`] before `now`, else read (or made) now and kept.
    ///
    /// Keeping it saves a read of the key store at every page view. It is safe because the
    /// key only seals here, never opens, and because the visitor's consent state is still
    /// read at every request. An erasure destroys the key and then deletes the person with
    /// their events, so once it is done the visitor is counted cookielessly; an event sealed
    /// in between, under a key destroyed elsewhere, is one nobody can open, and the
    /// deletion removes it with the rest (or its insert fails, the person being gone).
    /// A destroyed key lingers in this process's memory at most [`SEALING_KEY_TTL`].
    async fn sealing_key(
        &self,
        subject: SubjectId,
        now: Timestamp,
    ) -> Result<Arc<custos_vault::DataKey>, AnalyticsError> {
        let kept = self.sealing_keys.lock().ok().and_then(|keys| {
            keys.get(&subject).filter(|(_, read)| within(*read, SEALING_KEY_TTL, now)).map(|(key, _)| key.clone())
        });
        if let Some(key) = kept {
            return Ok(key);
        }
        let key = Arc::new(self.vault.data_key_or_create(subject, now).await.map_err(|e| match e {
            crate::vault::VaultAccessError::Store(e) => AnalyticsError::Store(e),
            other => AnalyticsError::Store(StoreError::Unavailable(other.to_string())),
        })?);
        if let Ok(mut keys) = self.sealing_keys.lock() {
            // Bounded as the visitors are: forgetting them costs each one more read.
            if keys.len() >= MAX_REMEMBERED_VISITORS {
                keys.clear();
            }
            keys.insert(subject, (key.clone(), now));
        }
        Ok(key)
    }

    /// Whether an audit entry committed within [`VISIT_TRACE`] before `now` traces
    /// `subject`'s events.
    fn is_traced(&self, subject: SubjectId, now: Timestamp) -> bool {
        let Ok(traced) = self.traced.lock() else { return false };
        traced.get(&subject).is_some_and(|at| within(*at, VISIT_TRACE, now))
    }

    /// Notes that an entry at `at` traces `subject`'s events; called only once it is
    /// committed, so that a failed transaction leaves the next request to write its own.
    fn remember_trace(&self, subject: SubjectId, at: Timestamp) {
        let Ok(mut traced) = self.traced.lock() else { return };
        // Bounded however many visitors come, as `visitors` is: forgetting them costs each
        // one more entry.
        if traced.len() >= MAX_REMEMBERED_VISITORS {
            traced.clear();
        }
        let latest = traced.entry(subject).or_insert(at);
        *latest = (*latest).max(at);
    }

    /// The cookieless visitor: SHA-256(daily salt, site, address, user agent).
    async fn visitor_hash(&self, visit: &Visit<'_>, now: Timestamp) -> Result<[u8; 32], StoreError> {
        let day = now.to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
        let cached = self.salt.lock().ok().and_then(|s| s.as_ref().filter(|(d, _)| *d == day).map(|(_, salt)| *salt));
        let salt = match cached {
            Some(salt) => salt,
            None => {
                let mut candidate = [0u8; 32];
                rand::Rng::fill(&mut rand::rng(), &mut candidate[..]);
                let salt = self.store.analytics_salt(&day, &candidate, now).await?;
                // A new day: destroy the salts older than their lifetime.
                self.store.purge_salts(now.saturating_sub(SALT_LIFETIME).unwrap_or(now)).await?;
                if let Ok(mut slot) = self.salt.lock() {
                    *slot = Some((day, salt));
                }
                salt
            }
        };
        let mut h = Sha256::new();
        for part in [&salt[..], visit.site.as_bytes(), visit.ip.to_string().as_bytes(), visit.user_agent.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        Ok(h.finalize().into())
    }
}

/// Whether `now` lies in the `span` that begins at `since`.
fn within(since: Timestamp, span: SignedDuration, now: Timestamp) -> bool {
    since <= now && now < since.saturating_add(span).unwrap_or(since)
}

/// The path of a URL or path, without query or fragment.
pub fn clean_path(url: &str) -> String {
    let without_origin = match url.find("://") {
        Some(i) => url[i + 3..].find('/').map_or("/", |j| &url[i + 3 + j..]),
        None => url,
    };
    let path = without_origin.split(['?', '#']).next().unwrap_or("/");
    if path.is_empty() { "/".into() } else { path.to_owned() }
}

/// The origin (scheme and host) of a referrer from another site.
pub fn origin(referrer: &str, site: &str) -> Option<String> {
    let (scheme, rest) = referrer.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if host.is_empty() || host.eq_ignore_ascii_case(site) || !matches!(scheme, "http" | "https") {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_referrers_lose_what_may_identify() {
        assert_eq!(clean_path("https://shop.example/pricing?email=a@b.example#x"), "/pricing");
        assert_eq!(clean_path("/a/b?token=1"), "/a/b");
        assert_eq!(clean_path("https://shop.example"), "/");
        assert_eq!(
            origin("https://user:pw@Search.Example/q?name=ada", "shop.example").as_deref(),
            Some("https://search.example")
        );
        assert_eq!(origin("https://shop.example/other", "shop.example"), None, "internal navigation is no referrer");
        assert_eq!(origin("javascript:alert(1)", "shop.example"), None);
    }
}
