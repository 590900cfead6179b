//! Accounts: password hashes, sessions and one-time tokens. Only hashes of tokens are kept.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::{StoreError, SubjectId};

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user.
    pub subject_id: SubjectId,
    /// The Argon2id hash of the password (PHC string).
    pub password_hash: String,
    /// When the email was verified.
    pub verified_at: Option<Timestamp>,
    /// When the account was made.
    pub created_at: Timestamp,
}

/// Accounts and their tokens.
#[async_trait]
pub trait AccountStore {
    /// Creates an account for an existing subject.
    async fn create_account(&self, account: &Account) -> Result<(), StoreError>;

    /// The subject's account.
    async fn account(&self, subject: SubjectId) -> Result<Option<Account>, StoreError>;

    /// Replaces the password hash; ends every session.
    async fn set_password(&self, subject: SubjectId, password_hash: &str) -> Result<(), StoreError>;

    /// Marks the email verified.
    async fn mark_verified(&self, subject: SubjectId, at: Timestamp) -> Result<(), StoreError>;

    /// Stores a token hash of `kind` (`session`, `verify`, `reset`).
    async fn put_token(
        &self,
        subject: SubjectId,
        hash: &[u8; 32],
        kind: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The subject a live token of `kind` belongs to.
    async fn token_subject(&self, hash: &[u8; 32], kind: &str, now: Timestamp)
    -> Result<Option<SubjectId>, StoreError>;

    /// Every account holder, in subject order.
    async fn account_holders(&self) -> Result<Vec<SubjectId>, StoreError>;

    /// Deletes a token; returns whether it existed.
    async fn delete_token(&self, hash: &[u8; 32]) -> Result<bool, StoreError>;
}
