//! Marketing campaigns (seed 9): their words and purpose, which hold no personal data, and
//! who was sent each one, so that a person gets one mail per campaign however often the
//! sending is retried or restarted.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{StoreError, SubjectId};

/// A campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// Its id.
    pub id: Uuid,
    /// A name for staff, such as "Spring offers 2027".
    pub name: String,
    /// The direct-marketing purpose it is sent under; its audience is who consented to it.
    pub purpose: String,
    /// The mail's subject line.
    pub subject_line: String,
    /// The mail's text; `{{name}}` becomes the recipient's name.
    pub body: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// When sending was started; `None` while it is a draft.
    pub queued_at: Option<Timestamp>,
}

/// Campaigns, their audiences and their deliveries.
#[async_trait]
pub trait CampaignStore {
    /// Stores a new campaign.
    async fn create_campaign(&self, campaign: &Campaign) -> Result<(), StoreError>;

    /// A campaign by id.
    async fn campaign(&self, id: Uuid) -> Result<Option<Campaign>, StoreError>;

    /// The latest campaigns, newest first.
    async fn campaigns(&self, limit: u32) -> Result<Vec<Campaign>, StoreError>;

    /// Marks a draft as being sent; false when it was already (sending starts once).
    async fn mark_campaign_queued(&self, id: Uuid, at: Timestamp) -> Result<bool, StoreError>;

    /// Up to `limit` people, in id order after `after`, whose latest consent to `purpose` is
    /// a grant still counting (made after any reset of the purpose), who have not objected
    /// to it and whose processing is not restricted.
    async fn audience(&self, purpose: &str, after: Option<SubjectId>, limit: u32)
    -> Result<Vec<SubjectId>, StoreError>;

    /// Records that `subject` was sent `campaign`; false when that was already recorded.
    async fn record_delivery(&self, campaign: Uuid, subject: SubjectId, at: Timestamp) -> Result<bool, StoreError>;

    /// Whether `subject` was sent `campaign`.
    async fn delivered(&self, campaign: Uuid, subject: SubjectId) -> Result<bool, StoreError>;

    /// How many people were sent `campaign`.
    async fn delivery_count(&self, campaign: Uuid) -> Result<u64, StoreError>;
}

/// Implements [`CampaignStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! campaign_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::CampaignStore for $store {
            async fn create_campaign(&self, c: &$crate::Campaign) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO campaigns (campaign_id, name, purpose, subject_line, body, created_at, queued_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(c.id)
                .bind(&c.name)
                .bind(&c.purpose)
                .bind(&c.subject_line)
                .bind(&c.body)
                .bind($crate::time::to_millis(c.created_at))
                .bind(c.queued_at.map($crate::time::to_millis))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("campaign {} exists", c.id)))?;
                Ok(())
            }

            async fn campaign(&self, id: uuid::Uuid) -> Result<Option<$crate::Campaign>, $crate::StoreError> {
                let row = sqlx::query::<$db>(
                    "SELECT campaign_id, name, purpose, subject_line, body, created_at, queued_at \
                     FROM campaigns WHERE campaign_id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map($crate::rows::campaign).transpose()
            }

            async fn campaigns(&self, limit: u32) -> Result<Vec<$crate::Campaign>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT campaign_id, name, purpose, subject_line, body, created_at, queued_at \
                     FROM campaigns ORDER BY created_at DESC, campaign_id DESC LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::campaign).collect()
            }

            async fn mark_campaign_queued(&self, id: uuid::Uuid, at: jiff::Timestamp) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE campaigns SET queued_at = $2 WHERE campaign_id = $1 AND queued_at IS NULL",
                )
                .bind(id)
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn audience(
                &self,
                purpose: &str,
                after: Option<$crate::SubjectId>,
                limit: u32,
            ) -> Result<Vec<$crate::SubjectId>, $crate::StoreError> {
                let after = after.map_or(uuid::Uuid::nil(), |s| s.0);
                let rows = sqlx::query_as::<$db, (uuid::Uuid,)>(
                    "SELECT c.subject_id FROM consents c \
                     WHERE c.purpose = $1 AND c.subject_id > $2 AND c.granted = $3 \
                       AND c.seq = (SELECT MAX(l.seq) FROM consents l WHERE l.purpose = c.purpose AND l.subject_id = c.subject_id) \
                       AND c.at >= COALESCE((SELECT r.since FROM consent_resets r WHERE r.purpose = c.purpose), 0) \
                       AND NOT EXISTS (SELECT 1 FROM objections o WHERE o.subject_id = c.subject_id AND o.purpose = c.purpose) \
                       AND NOT EXISTS (SELECT 1 FROM restrictions x WHERE x.subject_id = c.subject_id) \
                     ORDER BY c.subject_id LIMIT $4",
                )
                .bind(purpose)
                .bind(after)
                .bind(true)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(|(id,)| $crate::SubjectId(id)).collect())
            }

            async fn record_delivery(
                &self,
                campaign: uuid::Uuid,
                subject: $crate::SubjectId,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "INSERT INTO campaign_deliveries (campaign_id, subject_id, sent_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (campaign_id, subject_id) DO NOTHING",
                )
                .bind(campaign)
                .bind(subject.0)
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::not_found_on_foreign_key(e, || format!("campaign {campaign} or subject {subject}")))?;
                Ok(done.rows_affected() == 1)
            }

            async fn delivered(&self, campaign: uuid::Uuid, subject: $crate::SubjectId) -> Result<bool, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (i64,)>(
                    "SELECT COUNT(*) FROM campaign_deliveries WHERE campaign_id = $1 AND subject_id = $2",
                )
                .bind(campaign)
                .bind(subject.0)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.0 > 0)
            }

            async fn delivery_count(&self, campaign: uuid::Uuid) -> Result<u64, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM campaign_deliveries WHERE campaign_id = $1")
                    .bind(campaign)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(u64::try_from(row.0).unwrap_or(0))
            }
        }
    };
}
pub(crate) use campaign_store;
