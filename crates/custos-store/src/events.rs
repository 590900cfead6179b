//! Website analytics events (seed 2.2): page views, clicks and time on page, either tied to
//! a consenting visitor or counted cookielessly under a daily salt.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{StoreError, SubjectId};

/// Who an event belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventVisitor {
    /// A visitor who consented to analytics.
    Subject(SubjectId),
    /// A cookieless visitor: SHA-256 of the day's salt, site, address and user agent.
    Anonymous([u8; 32]),
}

/// One event to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Whose.
    pub visitor: EventVisitor,
    /// The event's id.
    pub event_id: Uuid,
    /// When it happened.
    pub at: Timestamp,
    /// `pageview`, `click` or `leave`.
    pub kind: String,
    /// The page's path, without query or fragment.
    pub path: String,
    /// The referring site (scheme and host only), if any.
    pub referrer: Option<String>,
    /// Whether the page was the visit's entry page.
    pub entry: bool,
    /// Time on page, for `leave` events.
    pub duration_ms: Option<i64>,
    /// The address, sealed with the visitor's key (consented visitors only).
    pub sealed_ip: Option<Vec<u8>>,
    /// Country code derived from the address, if known.
    pub country: Option<String>,
    /// Browser family.
    pub browser: Option<String>,
    /// Operating system family.
    pub os: Option<String>,
    /// Device category.
    pub device: Option<String>,
}

/// Aggregates over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventTotals {
    /// Distinct visitors (cookieless visitors count once per salt day).
    pub visitors: u64,
    /// Visits (entry page views).
    pub visits: u64,
    /// Page views.
    pub page_views: u64,
    /// Sum and count of time-on-page measurements.
    pub duration: (i64, u64),
    /// Page views per path, most first.
    pub pages: Vec<(String, u64)>,
    /// Visits per entry path, most first.
    pub entry_pages: Vec<(String, u64)>,
    /// Page views per country, most first.
    pub countries: Vec<(String, u64)>,
}

/// Analytics events.
#[async_trait]
pub trait EventStore {
    /// Stores events in one transaction: all or none.
    async fn insert_events(&self, events: &[StoredEvent]) -> Result<(), StoreError>;

    /// Stores `events` and appends `audit` to the audit chain in one transaction, so that
    /// events are never kept without the entries that trace them; returns the entries as
    /// appended (for the audit anchor).
    async fn insert_events_audited(
        &self,
        events: &[StoredEvent],
        audit: &[crate::NewAuditEntry],
    ) -> Result<Vec<crate::AuditEntry>, StoreError>;

    /// A consenting visitor's events, oldest first (event ids are UUIDv7, so their order is
    /// the key's: no sort, and no walk of the time index), at most `limit` (for their
    /// access copy).
    async fn subject_events(&self, subject: crate::SubjectId, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// The salt of `day` (`YYYY-MM-DD`): `candidate` stored if the day has none yet.
    async fn analytics_salt(&self, day: &str, candidate: &[u8; 32], now: Timestamp) -> Result<[u8; 32], StoreError>;

    /// Destroys salts made before `before`; returns how many.
    async fn purge_salts(&self, before: Timestamp) -> Result<u64, StoreError>;

    /// Totals for events in `[from, to)`, with at most `top` entries per list.
    async fn event_totals(&self, from: Timestamp, to: Timestamp, top: u32) -> Result<EventTotals, StoreError>;
}
