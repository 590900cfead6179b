//! Staff accounts of the admin console, their sessions, and the one-time link that
//! creates the first admin. Passwords and tokens are kept only as hashes.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::StoreError;

/// A member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// Their id.
    pub id: Uuid,
    /// The name they sign in with.
    pub username: String,
    /// `admin`, `dpo`, `support` or `auditor`.
    pub role: String,
    /// Argon2id, PHC string.
    pub password_hash: String,
    /// When the account was made.
    pub created_at: Timestamp,
    /// When it was disabled, if it was: it can no longer sign in.
    pub disabled_at: Option<Timestamp>,
    /// The one-time-password secret in use, sealed; `None` when sign-in takes a password
    /// alone.
    pub totp_sealed: Option<Vec<u8>>,
    /// A secret being set up, sealed, until its first code is entered.
    pub totp_pending: Option<Vec<u8>>,
    /// The last time step a code was accepted for.
    pub totp_last_step: Option<i64>,
    /// For a support agent: the purposes they work for.
    pub purposes: Vec<String>,
}

/// Staff accounts and sessions.
#[async_trait]
pub trait StaffStore {
    /// Adds a member of staff; `Conflict` when the username is taken.
    async fn create_staff(&self, member: &StaffMember) -> Result<(), StoreError>;

    /// A member of staff by username.
    async fn staff_by_username(&self, username: &str) -> Result<Option<StaffMember>, StoreError>;

    /// Every member of staff, by username.
    async fn staff_members(&self) -> Result<Vec<StaffMember>, StoreError>;

    /// How many members of staff exist.
    async fn count_staff(&self) -> Result<u64, StoreError>;

    /// Opens a session until `expires_at`.
    async fn put_staff_session(
        &self,
        token_hash: &[u8; 32],
        staff: Uuid,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The member of staff whose session `token_hash` is, if it is open at `now` and they
    /// are not disabled.
    async fn staff_session(&self, token_hash: &[u8; 32], now: Timestamp) -> Result<Option<StaffMember>, StoreError>;

    /// Ends a session.
    async fn delete_staff_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError>;

    /// Keeps the one-time setup link (replacing any earlier one).
    async fn put_staff_setup(&self, token_hash: &[u8; 32], expires_at: Timestamp) -> Result<(), StoreError>;

    /// Disables a member of staff at `at`: they can no longer sign in, and their sessions
    /// stop working; false when there is no such active member.
    async fn disable_staff(&self, username: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Replaces a member's password hash and ends every session of theirs.
    async fn set_staff_password(&self, staff: Uuid, password_hash: &str) -> Result<(), StoreError>;

    /// Sets the purposes a member works for; false when there is no such member.
    async fn set_staff_purposes(&self, username: &str, purposes: &[String]) -> Result<bool, StoreError>;

    /// Keeps a secret being set up (or forgets it, with `None`).
    async fn set_staff_totp_pending(&self, staff: Uuid, sealed: Option<&[u8]>) -> Result<(), StoreError>;

    /// Puts the secret being set up in use; false when none is being set up.
    async fn enable_staff_totp(&self, staff: Uuid, step: i64) -> Result<bool, StoreError>;

    /// Records that a code of time step `step` was used; false when that step or a later
    /// one was used already (a replayed code).
    async fn use_staff_totp_step(&self, staff: Uuid, step: i64) -> Result<bool, StoreError>;

    /// Uses up the setup link and adds `first` in the same transaction, if the link is
    /// valid at `now` and no member of staff exists yet; false otherwise.
    async fn complete_staff_setup(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
        first: &StaffMember,
    ) -> Result<bool, StoreError>;
}

/// Implements [`StaffStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! staff_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::StaffStore for $store {
            async fn create_staff(&self, m: &$crate::StaffMember) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO staff (staff_id, username, role, password_hash, created_at, disabled_at, purposes) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(m.id)
                .bind(&m.username)
                .bind(&m.role)
                .bind(&m.password_hash)
                .bind($crate::time::to_millis(m.created_at))
                .bind(m.disabled_at.map($crate::time::to_millis))
                .bind(serde_json::to_string(&m.purposes).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?)
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("username `{}` is taken", m.username)))?;
                Ok(())
            }

            async fn staff_by_username(
                &self,
                username: &str,
            ) -> Result<Option<$crate::StaffMember>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM staff WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map($crate::rows::staff_member).transpose()
            }

            async fn staff_members(&self) -> Result<Vec<$crate::StaffMember>, $crate::StoreError> {
                let rows = sqlx::query::<$db>("SELECT * FROM staff ORDER BY username").fetch_all(&self.pool).await?;
                rows.iter().map($crate::rows::staff_member).collect()
            }

            async fn count_staff(&self) -> Result<u64, $crate::StoreError> {
                let n: i64 = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM staff").fetch_one(&self.pool).await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn put_staff_session(
                &self,
                token_hash: &[u8; 32],
                staff: uuid::Uuid,
                expires_at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>("INSERT INTO staff_sessions (token_hash, staff_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(&token_hash[..])
                    .bind(staff)
                    .bind($crate::time::to_millis(expires_at))
                    .execute(&mut *self.write_conn().await?)
                    .await
                    .map_err(|e| $crate::error::not_found_on_foreign_key(e, || format!("staff {staff}")))?;
                Ok(())
            }

            async fn staff_session(
                &self,
                token_hash: &[u8; 32],
                now: jiff::Timestamp,
            ) -> Result<Option<$crate::StaffMember>, $crate::StoreError> {
                let row = sqlx::query::<$db>(
                    "SELECT s.* FROM staff_sessions t JOIN staff s ON s.staff_id = t.staff_id \
                     WHERE t.token_hash = $1 AND t.expires_at > $2 AND s.disabled_at IS NULL",
                )
                .bind(&token_hash[..])
                .bind($crate::time::to_millis(now))
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map($crate::rows::staff_member).transpose()
            }

            async fn delete_staff_session(&self, token_hash: &[u8; 32]) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>("DELETE FROM staff_sessions WHERE token_hash = $1")
                    .bind(&token_hash[..])
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(())
            }

            async fn disable_staff(&self, username: &str, at: jiff::Timestamp) -> Result<bool, $crate::StoreError> {
                let done =
                    sqlx::query::<$db>("UPDATE staff SET disabled_at = $2 WHERE username = $1 AND disabled_at IS NULL")
                        .bind(username)
                        .bind($crate::time::to_millis(at))
                        .execute(&mut *self.write_conn().await?)
                        .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_staff_password(
                &self,
                staff: uuid::Uuid,
                password_hash: &str,
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>("UPDATE staff SET password_hash = $2 WHERE staff_id = $1")
                    .bind(staff)
                    .bind(password_hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query::<$db>("DELETE FROM staff_sessions WHERE staff_id = $1")
                    .bind(staff)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_staff_purposes(
                &self,
                username: &str,
                purposes: &[String],
            ) -> Result<bool, $crate::StoreError> {
                let list = serde_json::to_string(purposes).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?;
                let done = sqlx::query::<$db>("UPDATE staff SET purposes = $2 WHERE username = $1")
                    .bind(username)
                    .bind(list)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_staff_totp_pending(
                &self,
                staff: uuid::Uuid,
                sealed: Option<&[u8]>,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>("UPDATE staff SET totp_pending = $2 WHERE staff_id = $1")
                    .bind(staff)
                    .bind(sealed)
                    .execute(&mut *self.write_conn().await?)
                    .await?;
                Ok(())
            }

            async fn enable_staff_totp(&self, staff: uuid::Uuid, step: i64) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE staff SET totp_sealed = totp_pending, totp_pending = NULL, totp_last_step = $2 \
                     WHERE staff_id = $1 AND totp_pending IS NOT NULL",
                )
                .bind(staff)
                .bind(step)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn use_staff_totp_step(&self, staff: uuid::Uuid, step: i64) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query::<$db>(
                    "UPDATE staff SET totp_last_step = $2 \
                     WHERE staff_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(staff)
                .bind(step)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_staff_setup(
                &self,
                token_hash: &[u8; 32],
                expires_at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query::<$db>("DELETE FROM staff_setup").execute(&mut *tx).await?;
                sqlx::query::<$db>("INSERT INTO staff_setup (token_hash, expires_at) VALUES ($1, $2)")
                    .bind(&token_hash[..])
                    .bind($crate::time::to_millis(expires_at))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn complete_staff_setup(
                &self,
                token_hash: &[u8; 32],
                now: jiff::Timestamp,
                first: &$crate::StaffMember,
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let used = sqlx::query::<$db>("DELETE FROM staff_setup WHERE token_hash = $1 AND expires_at > $2")
                    .bind(&token_hash[..])
                    .bind($crate::time::to_millis(now))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let existing: i64 =
                    sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM staff").fetch_one(&mut *tx).await?;
                if used != 1 || existing != 0 {
                    return Ok(false);
                }
                sqlx::query::<$db>(
                    "INSERT INTO staff (staff_id, username, role, password_hash, created_at, disabled_at) \
                     VALUES ($1, $2, $3, $4, $5, NULL)",
                )
                .bind(first.id)
                .bind(&first.username)
                .bind(&first.role)
                .bind(&first.password_hash)
                .bind($crate::time::to_millis(first.created_at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}
pub(crate) use staff_store;
