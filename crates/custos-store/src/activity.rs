//! Counts per UTC day for the admin console's charts: consent decisions per purpose and
//! website events. Counts only; no row is read back.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

/// Milliseconds in a day.
pub(crate) const DAY_MS: i64 = 86_400_000;

/// Consent decisions for one purpose on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDay {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// The purpose.
    pub purpose: String,
    /// Grants recorded that day.
    pub granted: u64,
    /// Withdrawals and refusals recorded that day.
    pub withdrawn: u64,
}

/// Consent decisions for one purpose by one method, granted or not, in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentMethodCount {
    /// The purpose.
    pub purpose: String,
    /// How the decision was made (`banner`, `form`, `gpc`, ...).
    pub method: String,
    /// Whether it was a grant.
    pub granted: bool,
    /// How many.
    pub count: u64,
}

/// Daily activity counts.
#[async_trait]
pub trait ActivityStore {
    /// Consent decisions in `[from, to)` per purpose, method and outcome.
    async fn consent_methods(&self, from: Timestamp, to: Timestamp) -> Result<Vec<ConsentMethodCount>, StoreError>;

    /// Per purpose, how many people's consent counts now: their latest decision is a grant,
    /// made after the purpose last asked everyone again (a policy change), if it did.
    async fn live_consent_counts(&self) -> Result<Vec<(String, u64)>, StoreError>;

    /// Consent decisions in `[from, to)` per day and purpose, by day then purpose.
    async fn consents_per_day(&self, from: Timestamp, to: Timestamp) -> Result<Vec<ConsentDay>, StoreError>;

    /// Website events (consented and cookieless) in `[from, to)` per day, by day.
    async fn events_per_day(&self, from: Timestamp, to: Timestamp) -> Result<Vec<(i64, u64)>, StoreError>;
}

/// Implements [`ActivityStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! activity_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::ActivityStore for $store {
            async fn consents_per_day(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
            ) -> Result<Vec<$crate::ConsentDay>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (i64, String, bool, i64)>(
                    "SELECT at / $3 AS day, purpose, granted, COUNT(*) FROM consents \
                     WHERE at >= $1 AND at < $2 GROUP BY at / $3, purpose, granted ORDER BY day, purpose",
                )
                .bind($crate::time::to_millis(from))
                .bind($crate::time::to_millis(to))
                .bind($crate::activity::DAY_MS)
                .fetch_all(&self.pool)
                .await?;
                let mut days: Vec<$crate::ConsentDay> = Vec::new();
                for (day, purpose, granted, count) in rows {
                    let count = u64::try_from(count).unwrap_or(0);
                    let slot = match days.last_mut() {
                        Some(last) if last.day == day && last.purpose == purpose => last,
                        _ => {
                            days.push($crate::ConsentDay { day, purpose, granted: 0, withdrawn: 0 });
                            days.last_mut().expect("just pushed")
                        }
                    };
                    if granted {
                        slot.granted += count;
                    } else {
                        slot.withdrawn += count;
                    }
                }
                Ok(days)
            }

            async fn consent_methods(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
            ) -> Result<Vec<$crate::ConsentMethodCount>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, String, bool, i64)>(
                    "SELECT purpose, method, granted, COUNT(*) FROM consents WHERE at >= $1 AND at < $2 \
                     GROUP BY purpose, method, granted ORDER BY purpose, method, granted",
                )
                .bind($crate::time::to_millis(from))
                .bind($crate::time::to_millis(to))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(purpose, method, granted, count)| $crate::ConsentMethodCount {
                        purpose,
                        method,
                        granted,
                        count: u64::try_from(count).unwrap_or(0),
                    })
                    .collect())
            }

            async fn live_consent_counts(&self) -> Result<Vec<(String, u64)>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, i64)>(
                    "SELECT c.purpose, COUNT(*) FROM consents c \
                     WHERE c.granted = $1 \
                       AND c.seq = (SELECT MAX(l.seq) FROM consents l \
                                    WHERE l.subject_id = c.subject_id AND l.purpose = c.purpose) \
                       AND c.at >= COALESCE((SELECT r.since FROM consent_resets r WHERE r.purpose = c.purpose), 0) \
                     GROUP BY c.purpose ORDER BY c.purpose",
                )
                .bind(true)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(p, n)| (p, u64::try_from(n).unwrap_or(0))).collect())
            }

            async fn events_per_day(
                &self,
                from: jiff::Timestamp,
                to: jiff::Timestamp,
            ) -> Result<Vec<(i64, u64)>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (i64, i64)>(
                    "SELECT day, CAST(SUM(n) AS BIGINT) FROM ( \
                       SELECT at / $3 AS day, COUNT(*) AS n FROM events WHERE at >= $1 AND at < $2 GROUP BY at / $3 \
                       UNION ALL \
                       SELECT at / $3 AS day, COUNT(*) AS n FROM anonymous_events WHERE at >= $1 AND at < $2 GROUP BY at / $3 \
                     ) AS both_kinds GROUP BY day ORDER BY day",
                )
                .bind($crate::time::to_millis(from))
                .bind($crate::time::to_millis(to))
                .bind($crate::activity::DAY_MS)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(day, n)| (day, u64::try_from(n).unwrap_or(0))).collect())
            }
        }
    };
}
pub(crate) use activity_store;
