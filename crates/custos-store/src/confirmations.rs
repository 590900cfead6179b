//! Consents waiting for the person's confirmation by email (double opt-in). Each row holds
//! what a form sent, sealed by the engine; this layer never sees it in clear. A row is used
//! at most once ([`ConfirmationStore::take_confirmation`] deletes it) and none outlives its
//! expiry for long: writing a new one purges the expired.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::StoreError;

/// A consent waiting for confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConfirmation {
    /// Its id (random: the link names it).
    pub id: Uuid,
    /// What the form sent, sealed.
    pub sealed: Vec<u8>,
    /// When the form was posted.
    pub created_at: Timestamp,
    /// When the link stops working.
    pub expires_at: Timestamp,
}

/// Consents waiting for confirmation.
#[async_trait]
pub trait ConfirmationStore {
    /// Keeps a pending confirmation, and deletes those expired at its `created_at`.
    async fn put_confirmation(&self, pending: &PendingConfirmation) -> Result<(), StoreError>;

    /// The pending confirmation `id`, if it is still valid at `now`.
    async fn confirmation(&self, id: Uuid, now: Timestamp) -> Result<Option<PendingConfirmation>, StoreError>;

    /// Deletes the pending confirmation `id` and returns it, if it was valid at `now`: of
    /// two uses of one link, only one gets it.
    async fn take_confirmation(&self, id: Uuid, now: Timestamp) -> Result<Option<PendingConfirmation>, StoreError>;

    /// Deletes every pending confirmation expired at `now`; returns how many.
    async fn purge_confirmations(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// Reads a `confirmations` row.
pub(crate) fn from_row(
    (id, sealed, created, expires): (Uuid, Vec<u8>, i64, i64),
) -> Result<PendingConfirmation, StoreError> {
    Ok(PendingConfirmation {
        id,
        sealed,
        created_at: crate::time::from_millis(created)?,
        expires_at: crate::time::from_millis(expires)?,
    })
}

/// Implements [`ConfirmationStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! confirmation_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::ConfirmationStore for $store {
            async fn put_confirmation(
                &self,
                pending: &$crate::PendingConfirmation,
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>("DELETE FROM confirmations WHERE expires_at <= $1")
                    .bind($crate::time::to_millis(pending.created_at))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>(
                    "INSERT INTO confirmations (confirmation_id, sealed, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(pending.id)
                .bind(&pending.sealed)
                .bind($crate::time::to_millis(pending.created_at))
                .bind($crate::time::to_millis(pending.expires_at))
                .execute(&mut *tx)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("confirmation {} exists", pending.id)))?;
                tx.commit().await?;
                Ok(())
            }

            async fn confirmation(
                &self,
                id: uuid::Uuid,
                now: jiff::Timestamp,
            ) -> Result<Option<$crate::PendingConfirmation>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (uuid::Uuid, Vec<u8>, i64, i64)>(
                    "SELECT confirmation_id, sealed, created_at, expires_at FROM confirmations \
                     WHERE confirmation_id = $1 AND expires_at > $2",
                )
                .bind(id)
                .bind($crate::time::to_millis(now))
                .fetch_optional(&self.pool)
                .await?;
                row.map($crate::confirmations::from_row).transpose()
            }

            async fn take_confirmation(
                &self,
                id: uuid::Uuid,
                now: jiff::Timestamp,
            ) -> Result<Option<$crate::PendingConfirmation>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (uuid::Uuid, Vec<u8>, i64, i64)>(
                    "DELETE FROM confirmations WHERE confirmation_id = $1 AND expires_at > $2 \
                     RETURNING confirmation_id, sealed, created_at, expires_at",
                )
                .bind(id)
                .bind($crate::time::to_millis(now))
                .fetch_optional(&mut *self.write_conn().await?)
                .await?;
                row.map($crate::confirmations::from_row).transpose()
            }

            async fn purge_confirmations(&self, now: jiff::Timestamp) -> Result<u64, $crate::StoreError> {
                let done = sqlx::query::<$db>("DELETE FROM confirmations WHERE expires_at <= $1")
                    .bind($crate::time::to_millis(now))
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use confirmation_store;
