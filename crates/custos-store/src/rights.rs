//! Rights requests (seed 7, 8): one row per request, holding no personal data in clear.
//! The address the person gave is kept as a blind index (to find them) and sealed under
//! the request's own data key (to write to them); the code they verify with only as a hash.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::{StoreError, SubjectId};

/// A rights request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsRequest {
    /// Its id; also names the data key its sealed address is under.
    pub id: Uuid,
    /// `access`, `rectification`, `erasure`, `restriction`, `portability`, `objection` or
    /// `withdrawal`.
    pub kind: String,
    /// For an objection or a withdrawal: the purpose; `None`: every purpose it can apply to.
    pub purpose: Option<String>,
    /// How it came in: `form`, `api`, `email`, `agent`.
    pub channel: String,
    /// `unverified`, `verified`, `in_progress`, `fulfilled`, `denied`, `expired` or
    /// `revoked` (by the agent that made it).
    pub state: String,
    /// The blind index of the address the person gave; empty once the request is closed
    /// and the person told.
    pub email_index: Vec<u8>,
    /// The address, sealed under the request's data key.
    pub sealed_email: Vec<u8>,
    /// What the person asked in detail (the corrections of a rectification), as JSON
    /// sealed under the request's data key.
    pub sealed_details: Option<Vec<u8>>,
    /// The person, once verified and found (`None` when custos holds nothing about them).
    pub subject_id: Option<SubjectId>,
    /// When it was received: the deadline runs from here.
    pub received_at: Timestamp,
    /// When it is due: one month after receipt, or later once extended.
    pub due_at: Timestamp,
    /// Why the deadline was extended, if it was.
    pub extension_reason: Option<String>,
    /// SHA-256 of the verification code and the request id, while a code is outstanding.
    pub code_hash: Option<Vec<u8>>,
    /// When the outstanding code stops working.
    pub code_expires_at: Option<Timestamp>,
    /// Wrong codes tried.
    pub code_attempts: i32,
    /// When the person proved control of the address.
    pub verified_at: Option<Timestamp>,
    /// The steps of its execution done so far (JSON list of step names).
    pub steps: Vec<String>,
    /// What was done, as JSON without personal data.
    pub outcome: Option<serde_json::Value>,
    /// When it was fulfilled, denied, expired or revoked.
    pub closed_at: Option<Timestamp>,
    /// The authorized agent that made it (Data Rights Protocol), if any.
    pub agent_id: Option<String>,
    /// The agent's own reference for it.
    pub agent_request_id: Option<String>,
    /// Where the agent asked to be told of status changes (https).
    pub status_callback: Option<String>,
    /// The language the request was made in (`de`); mails about it speak it.
    pub language: Option<String>,
}

/// How many requests of one kind are in one state, extended or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsCount {
    /// The kind of right.
    pub kind: String,
    /// The state.
    pub state: String,
    /// Whether their deadline was extended.
    pub extended: bool,
    /// How many.
    pub count: u64,
}

/// Rights requests.
#[async_trait]
pub trait RightsStore {
    /// Stores a new request.
    async fn create_rights_request(&self, request: &RightsRequest) -> Result<(), StoreError>;

    /// A request by id.
    async fn rights_request(&self, id: Uuid) -> Result<Option<RightsRequest>, StoreError>;

    /// Replaces a request if it is still in `expected_state` (compare and set); false when
    /// another worker changed it first.
    async fn update_rights_request(&self, request: &RightsRequest, expected_state: &str) -> Result<bool, StoreError>;

    /// [`RightsStore::update_rights_request`] and, in the same transaction, queues `jobs`
    /// (a job whose idempotency key is queued already is left as it is): a request never
    /// changes state without the work that state calls for, even if the process dies
    /// between. False, with nothing queued, when another worker changed the request first.
    async fn update_rights_request_queueing(
        &self,
        request: &RightsRequest,
        expected_state: &str,
        jobs: &[crate::NewJob],
    ) -> Result<bool, StoreError>;

    /// Open requests (not fulfilled, denied or expired), soonest due first.
    async fn open_rights_requests(&self, limit: u32) -> Result<Vec<RightsRequest>, StoreError>;

    /// Requests of `kind` in `state`, most recently closed (or received) first: for
    /// instance the fulfilled restrictions, whose lifting staff decide.
    async fn rights_requests_in_state(
        &self,
        kind: &str,
        state: &str,
        limit: u32,
    ) -> Result<Vec<RightsRequest>, StoreError>;

    /// Every request counted by kind, state and whether it was extended.
    async fn rights_request_counts(&self) -> Result<Vec<RightsCount>, StoreError>;

    /// Keeps the access package of a request (sealed under the person's key) until
    /// `expires_at`; a second one for the same request replaces the first.
    async fn put_rights_package(
        &self,
        request: Uuid,
        subject: SubjectId,
        sealed: &[u8],
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The access package of a request: its person, the sealed package and its expiry.
    async fn rights_package(&self, request: Uuid) -> Result<Option<(SubjectId, Vec<u8>, Timestamp)>, StoreError>;

    /// Keeps the hash of the bearer token given to a paired agent (replacing an older one).
    async fn put_agent_token(&self, agent_id: &str, token_hash: &[u8; 32], at: Timestamp) -> Result<(), StoreError>;

    /// The agent a bearer token's hash belongs to.
    async fn agent_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<String>, StoreError>;
}

/// Implements [`RightsStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! rights_store {
    ($store:ty, $db:ty) => {
        /// The compare-and-set update of a request (see `RightsStore::update_rights_request`).
        fn rights_update<'q>(
            r: &'q $crate::RightsRequest,
            expected_state: &'q str,
        ) -> Result<sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>, $crate::StoreError> {
            Ok(sqlx::query::<$db>(
                "UPDATE rights_requests SET state = $2, subject_id = $3, due_at = $4, extension_reason = $5, \
                 code_hash = $6, code_expires_at = $7, code_attempts = $8, verified_at = $9, steps = $10, \
                 outcome = $11, closed_at = $12, email_index = $14 \
                 WHERE request_id = $1 AND state = $13",
            )
            .bind(r.id)
            .bind(&r.state)
            .bind(r.subject_id.map(|s| s.0))
            .bind($crate::time::to_millis(r.due_at))
            .bind(&r.extension_reason)
            .bind(&r.code_hash)
            .bind(r.code_expires_at.map($crate::time::to_millis))
            .bind(r.code_attempts)
            .bind(r.verified_at.map($crate::time::to_millis))
            .bind(serde_json::to_string(&r.steps).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?)
            .bind(r.outcome.as_ref().map(|o| o.to_string()))
            .bind(r.closed_at.map($crate::time::to_millis))
            .bind(expected_state)
            .bind(&r.email_index))
        }

        #[async_trait::async_trait]
        impl $crate::RightsStore for $store {
            async fn create_rights_request(&self, r: &$crate::RightsRequest) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO rights_requests (request_id, kind, purpose, channel, state, email_index, sealed_email, \
                     subject_id, received_at, due_at, extension_reason, code_hash, code_expires_at, code_attempts, \
                     verified_at, steps, outcome, closed_at, sealed_details, agent_id, agent_request_id, status_callback, language) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
                )
                .bind(r.id)
                .bind(&r.kind)
                .bind(&r.purpose)
                .bind(&r.channel)
                .bind(&r.state)
                .bind(&r.email_index)
                .bind(&r.sealed_email)
                .bind(r.subject_id.map(|s| s.0))
                .bind($crate::time::to_millis(r.received_at))
                .bind($crate::time::to_millis(r.due_at))
                .bind(&r.extension_reason)
                .bind(&r.code_hash)
                .bind(r.code_expires_at.map($crate::time::to_millis))
                .bind(r.code_attempts)
                .bind(r.verified_at.map($crate::time::to_millis))
                .bind(serde_json::to_string(&r.steps).map_err(|e| $crate::StoreError::Corrupt(e.to_string()))?)
                .bind(r.outcome.as_ref().map(|o| o.to_string()))
                .bind(r.closed_at.map($crate::time::to_millis))
                .bind(&r.sealed_details)
                .bind(&r.agent_id)
                .bind(&r.agent_request_id)
                .bind(&r.status_callback)
                .bind(&r.language)
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("rights request {} exists", r.id)))?;
                Ok(())
            }

            async fn rights_request(&self, id: uuid::Uuid) -> Result<Option<$crate::RightsRequest>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM rights_requests WHERE request_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map($crate::rows::rights_request).transpose()
            }

            async fn update_rights_request(
                &self,
                r: &$crate::RightsRequest,
                expected_state: &str,
            ) -> Result<bool, $crate::StoreError> {
                let done = rights_update(r, expected_state)?.execute(&mut *self.write_conn().await?).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn update_rights_request_queueing(
                &self,
                r: &$crate::RightsRequest,
                expected_state: &str,
                jobs: &[$crate::NewJob],
            ) -> Result<bool, $crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = rights_update(r, expected_state)?.execute(&mut *tx).await?;
                if done.rows_affected() != 1 {
                    // Another worker changed it first: nothing is queued (the transaction is
                    // rolled back when dropped).
                    return Ok(false);
                }
                for job in jobs {
                    Self::insert_job(&mut *tx, job).await?;
                }
                tx.commit().await?;
                Ok(true)
            }

            async fn open_rights_requests(&self, limit: u32) -> Result<Vec<$crate::RightsRequest>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM rights_requests WHERE state NOT IN ('fulfilled', 'denied', 'expired', 'revoked') \
                     ORDER BY due_at, request_id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::rights_request).collect()
            }

            async fn rights_requests_in_state(
                &self,
                kind: &str,
                state: &str,
                limit: u32,
            ) -> Result<Vec<$crate::RightsRequest>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM rights_requests WHERE kind = $1 AND state = $2 \
                     ORDER BY COALESCE(closed_at, received_at) DESC, request_id LIMIT $3",
                )
                .bind(kind)
                .bind(state)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::rights_request).collect()
            }

            async fn rights_request_counts(&self) -> Result<Vec<$crate::RightsCount>, $crate::StoreError> {
                let rows = sqlx::query_as::<$db, (String, String, bool, i64)>(
                    "SELECT kind, state, extension_reason IS NOT NULL, COUNT(*) FROM rights_requests \
                     GROUP BY kind, state, extension_reason IS NOT NULL ORDER BY kind, state",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(kind, state, extended, count)| $crate::RightsCount {
                        kind,
                        state,
                        extended,
                        count: u64::try_from(count).unwrap_or(0),
                    })
                    .collect())
            }

            async fn put_rights_package(
                &self,
                request: uuid::Uuid,
                subject: $crate::SubjectId,
                sealed: &[u8],
                expires_at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO rights_packages (request_id, subject_id, sealed, expires_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (request_id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at",
                )
                .bind(request)
                .bind(subject.0)
                .bind(sealed)
                .bind($crate::time::to_millis(expires_at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::not_found_on_foreign_key(e, || format!("subject {subject}")))?;
                Ok(())
            }

            async fn rights_package(
                &self,
                request: uuid::Uuid,
            ) -> Result<Option<($crate::SubjectId, Vec<u8>, jiff::Timestamp)>, $crate::StoreError> {
                let row = sqlx::query_as::<$db, (uuid::Uuid, Vec<u8>, i64)>(
                    "SELECT subject_id, sealed, expires_at FROM rights_packages WHERE request_id = $1",
                )
                .bind(request)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(subject, sealed, expires)| Ok(($crate::SubjectId(subject), sealed, $crate::time::from_millis(expires)?)))
                    .transpose()
            }

            async fn put_agent_token(
                &self,
                agent_id: &str,
                token_hash: &[u8; 32],
                at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO drp_agent_tokens (agent_id, token_hash, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (agent_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
                )
                .bind(agent_id)
                .bind(&token_hash[..])
                .bind($crate::time::to_millis(at))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn agent_by_token(&self, token_hash: &[u8; 32]) -> Result<Option<String>, $crate::StoreError> {
                Ok(sqlx::query_scalar::<$db, String>("SELECT agent_id FROM drp_agent_tokens WHERE token_hash = $1")
                    .bind(&token_hash[..])
                    .fetch_optional(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use rights_store;
