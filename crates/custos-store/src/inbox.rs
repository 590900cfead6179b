//! The privacy mailbox (seed 7, 8, 9) and requests about partners' data (seed 3.3).
//!
//! A thread is one conversation with one sender; its messages are kept whole, sealed under
//! the thread's own data key, and found by a MAC of their Message-ID. No address or text
//! is stored in clear.

use async_trait::async_trait;
use jiff::Timestamp;
use uuid::Uuid;

use crate::StoreError;

/// A conversation in the privacy mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxThread {
    /// Its id; also the owner id of the data key its messages and sender are sealed under.
    pub id: Uuid,
    /// The rights request it became, if it did.
    pub request_id: Option<Uuid>,
    /// `request` (a rights request runs), `triage` (staff must read it), `answered`
    /// (custos or staff answered it, nothing else runs) or `closed`.
    pub state: String,
    /// What it asks for (the classifier's or staff's reading), if known.
    pub intent: Option<String>,
    /// The language it is written in (ISO 639-1).
    pub language: String,
    /// How sure the classifier was, in thousandths.
    pub confidence: i32,
    /// The blind index of the sender's address.
    pub sender_index: Vec<u8>,
    /// The sender's address, sealed under the thread's key.
    pub sealed_sender: Vec<u8>,
    /// The partner the request was forwarded to, if it concerns a partner's data.
    pub partner_id: Option<Uuid>,
    /// When its first mail arrived: the deadline runs from here.
    pub received_at: Timestamp,
    /// When it must be answered.
    pub due_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One mail of a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxMessage {
    /// The thread.
    pub thread_id: Uuid,
    /// Its id.
    pub id: Uuid,
    /// A MAC of its Message-ID header.
    pub header_hash: Vec<u8>,
    /// `in` (from the person) or `out` (from custos).
    pub direction: String,
    /// How it came or went: `imap`, `smtp`, `custos` (an automatic answer) or `staff`.
    pub source: String,
    /// The whole mail, sealed under the thread's key.
    pub sealed: Vec<u8>,
    /// When it arrived or was sent.
    pub at: Timestamp,
}

/// A request about data a partner provided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRequest {
    /// Its id.
    pub id: Uuid,
    /// The partner.
    pub partner_id: Uuid,
    /// `forwarded` (a person asked custos; custos passed it on) or `received` (the
    /// partner asked custos through its API).
    pub direction: String,
    /// The right: `access`, `erasure`, or for forwarded ones whatever the person asked.
    pub kind: String,
    /// The mail thread it came from, for forwarded ones.
    pub thread_id: Option<Uuid>,
    /// A MAC of the partner's pseudonym, for received ones.
    pub pseudonym_index: Option<Vec<u8>>,
    /// `queued`, `done` or `failed`.
    pub state: String,
    /// What was done, as JSON without personal data.
    pub outcome: Option<serde_json::Value>,
    /// When it was made.
    pub received_at: Timestamp,
    /// When it was done (or given up).
    pub done_at: Option<Timestamp>,
}

/// The privacy mailbox and partner requests.
#[async_trait]
pub trait InboxStore {
    /// Stores a new thread.
    async fn create_inbox_thread(&self, thread: &InboxThread) -> Result<(), StoreError>;

    /// Replaces a thread's state, intent, request, partner, due date and update time.
    async fn update_inbox_thread(&self, thread: &InboxThread) -> Result<(), StoreError>;

    /// A thread by id.
    async fn inbox_thread(&self, id: Uuid) -> Result<Option<InboxThread>, StoreError>;

    /// The thread a rights request came from.
    async fn inbox_thread_of_request(&self, request: Uuid) -> Result<Option<InboxThread>, StoreError>;

    /// Adds a mail to its thread; [`StoreError::Conflict`] when a mail with the same
    /// header hash is stored already.
    async fn add_inbox_message(&self, message: &InboxMessage) -> Result<(), StoreError>;

    /// The thread holding the mail whose header hash is `hash`.
    async fn inbox_thread_by_header(&self, hash: &[u8]) -> Result<Option<Uuid>, StoreError>;

    /// A thread's mails, oldest first.
    async fn inbox_messages(&self, thread: Uuid) -> Result<Vec<InboxMessage>, StoreError>;

    /// Threads not closed, soonest due first.
    async fn open_inbox_threads(&self, limit: u32) -> Result<Vec<InboxThread>, StoreError>;

    /// Threads that never became a rights request, answered or closed, last changed before
    /// `before`: their purpose is served, and they are erased ([`Self::delete_inbox_thread`]).
    async fn finished_inbox_threads(&self, before: Timestamp, limit: u32) -> Result<Vec<InboxThread>, StoreError>;

    /// Deletes a thread and every mail of it.
    async fn delete_inbox_thread(&self, id: Uuid) -> Result<(), StoreError>;

    /// Stores a partner request, or replaces its state, outcome and end.
    async fn put_partner_request(&self, request: &PartnerRequest) -> Result<(), StoreError>;

    /// A partner request by id.
    async fn partner_request(&self, id: Uuid) -> Result<Option<PartnerRequest>, StoreError>;

    /// A partner's requests, newest first.
    async fn partner_requests(&self, partner: Uuid, limit: u32) -> Result<Vec<PartnerRequest>, StoreError>;

    /// Sets (or with `None` removes) where a partner takes forwarded rights requests.
    async fn set_partner_webhook(&self, partner: Uuid, url: Option<&str>, at: Timestamp) -> Result<(), StoreError>;

    /// Where a partner takes forwarded rights requests, if it said.
    async fn partner_webhook(&self, partner: Uuid) -> Result<Option<String>, StoreError>;
}

/// Implements [`InboxStore`] for `$store`, whose pool is `self.pool` of database `$db`.
macro_rules! inbox_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::InboxStore for $store {
            async fn create_inbox_thread(&self, t: &$crate::InboxThread) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO inbox_threads (thread_id, request_id, state, intent, language, confidence, \
                     sender_index, sealed_sender, partner_id, received_at, due_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(t.id)
                .bind(t.request_id)
                .bind(&t.state)
                .bind(&t.intent)
                .bind(&t.language)
                .bind(t.confidence)
                .bind(&t.sender_index)
                .bind(&t.sealed_sender)
                .bind(t.partner_id)
                .bind($crate::time::to_millis(t.received_at))
                .bind($crate::time::to_millis(t.due_at))
                .bind($crate::time::to_millis(t.updated_at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || format!("inbox thread {} exists", t.id)))?;
                Ok(())
            }

            async fn update_inbox_thread(&self, t: &$crate::InboxThread) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "UPDATE inbox_threads SET request_id = $2, state = $3, intent = $4, partner_id = $5, \
                     due_at = $6, updated_at = $7, confidence = $8 WHERE thread_id = $1",
                )
                .bind(t.id)
                .bind(t.request_id)
                .bind(&t.state)
                .bind(&t.intent)
                .bind(t.partner_id)
                .bind($crate::time::to_millis(t.due_at))
                .bind($crate::time::to_millis(t.updated_at))
                .bind(t.confidence)
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn inbox_thread(&self, id: uuid::Uuid) -> Result<Option<$crate::InboxThread>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM inbox_threads WHERE thread_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map($crate::rows::inbox_thread).transpose()
            }

            async fn inbox_thread_of_request(
                &self,
                request: uuid::Uuid,
            ) -> Result<Option<$crate::InboxThread>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM inbox_threads WHERE request_id = $1")
                    .bind(request)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map($crate::rows::inbox_thread).transpose()
            }

            async fn add_inbox_message(&self, m: &$crate::InboxMessage) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO inbox_messages (thread_id, message_id, header_hash, direction, source, sealed, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(m.thread_id)
                .bind(m.id)
                .bind(&m.header_hash)
                .bind(&m.direction)
                .bind(&m.source)
                .bind(&m.sealed)
                .bind($crate::time::to_millis(m.at))
                .execute(&mut *self.write_conn().await?)
                .await
                .map_err(|e| $crate::error::conflict_on_unique(e, || "this mail is stored already".to_owned()))?;
                Ok(())
            }

            async fn inbox_thread_by_header(&self, hash: &[u8]) -> Result<Option<uuid::Uuid>, $crate::StoreError> {
                let row = sqlx::query_scalar::<$db, uuid::Uuid>(
                    "SELECT thread_id FROM inbox_messages WHERE header_hash = $1",
                )
                .bind(hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row)
            }

            async fn inbox_messages(
                &self,
                thread: uuid::Uuid,
            ) -> Result<Vec<$crate::InboxMessage>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM inbox_messages WHERE thread_id = $1 ORDER BY at, message_id",
                )
                .bind(thread)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::inbox_message).collect()
            }

            async fn open_inbox_threads(&self, limit: u32) -> Result<Vec<$crate::InboxThread>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM inbox_threads WHERE state <> 'closed' ORDER BY due_at, thread_id LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::inbox_thread).collect()
            }

            async fn finished_inbox_threads(
                &self,
                before: jiff::Timestamp,
                limit: u32,
            ) -> Result<Vec<$crate::InboxThread>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM inbox_threads WHERE request_id IS NULL AND state IN ('answered', 'closed') \
                     AND updated_at < $1 ORDER BY updated_at, thread_id LIMIT $2",
                )
                .bind($crate::time::to_millis(before))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::inbox_thread).collect()
            }

            async fn delete_inbox_thread(&self, id: uuid::Uuid) -> Result<(), $crate::StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query::<$db>("DELETE FROM inbox_messages WHERE thread_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query::<$db>("DELETE FROM inbox_threads WHERE thread_id = $1").bind(id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn put_partner_request(&self, r: &$crate::PartnerRequest) -> Result<(), $crate::StoreError> {
                sqlx::query::<$db>(
                    "INSERT INTO partner_requests (request_id, partner_id, direction, kind, thread_id, \
                     pseudonym_index, state, outcome, received_at, done_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (request_id) DO UPDATE SET state = excluded.state, outcome = excluded.outcome, \
                     done_at = excluded.done_at",
                )
                .bind(r.id)
                .bind(r.partner_id)
                .bind(&r.direction)
                .bind(&r.kind)
                .bind(r.thread_id)
                .bind(&r.pseudonym_index)
                .bind(&r.state)
                .bind(r.outcome.as_ref().map(|o| o.to_string()))
                .bind($crate::time::to_millis(r.received_at))
                .bind(r.done_at.map($crate::time::to_millis))
                .execute(&mut *self.write_conn().await?)
                .await?;
                Ok(())
            }

            async fn partner_request(
                &self,
                id: uuid::Uuid,
            ) -> Result<Option<$crate::PartnerRequest>, $crate::StoreError> {
                let row = sqlx::query::<$db>("SELECT * FROM partner_requests WHERE request_id = $1")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map($crate::rows::partner_request).transpose()
            }

            async fn partner_requests(
                &self,
                partner: uuid::Uuid,
                limit: u32,
            ) -> Result<Vec<$crate::PartnerRequest>, $crate::StoreError> {
                let rows = sqlx::query::<$db>(
                    "SELECT * FROM partner_requests WHERE partner_id = $1 \
                     ORDER BY received_at DESC, request_id DESC LIMIT $2",
                )
                .bind(partner)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map($crate::rows::partner_request).collect()
            }

            async fn set_partner_webhook(
                &self,
                partner: uuid::Uuid,
                url: Option<&str>,
                at: jiff::Timestamp,
            ) -> Result<(), $crate::StoreError> {
                match url {
                    Some(url) => {
                        sqlx::query::<$db>(
                            "INSERT INTO partner_webhooks (partner_id, url, updated_at) VALUES ($1, $2, $3) \
                             ON CONFLICT (partner_id) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at",
                        )
                        .bind(partner)
                        .bind(url)
                        .bind($crate::time::to_millis(at))
                        .execute(&mut *self.write_conn().await?)
                        .await?;
                    }
                    None => {
                        sqlx::query::<$db>("DELETE FROM partner_webhooks WHERE partner_id = $1")
                            .bind(partner)
                            .execute(&mut *self.write_conn().await?)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn partner_webhook(&self, partner: uuid::Uuid) -> Result<Option<String>, $crate::StoreError> {
                Ok(sqlx::query_scalar::<$db, String>("SELECT url FROM partner_webhooks WHERE partner_id = $1")
                    .bind(partner)
                    .fetch_optional(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use inbox_store;
