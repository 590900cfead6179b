//! Service tokens: how the operator's services authenticate, each scoped to purposes.
//! Only the SHA-256 of a token's secret is stored.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::StoreError;

/// A stored service token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceToken {
    /// The public part of the token, which names it.
    pub id: String,
    /// What it is for, such as `website backend`.
    pub name: String,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    /// The purposes it may act for.
    pub purposes: Vec<String>,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// Service tokens.
#[async_trait]
pub trait TokenStore {
    /// Stores a new token.
    async fn create_token(&self, token: &ServiceToken) -> Result<(), StoreError>;

    /// The token with `id`.
    async fn token(&self, id: &str) -> Result<Option<ServiceToken>, StoreError>;

    /// Every token, newest first.
    async fn tokens(&self) -> Result<Vec<ServiceToken>, StoreError>;

    /// Revokes a token; returns whether it was live.
    async fn revoke_token(&self, id: &str, at: Timestamp) -> Result<bool, StoreError>;
}

/// Reads a `service_tokens` row.
pub(crate) fn from_row(
    (id, name, hash, purposes, created, revoked): (String, String, Vec<u8>, String, i64, Option<i64>),
) -> Result<ServiceToken, StoreError> {
    let len = hash.len();
    Ok(ServiceToken {
        id,
        name,
        secret_hash: hash.try_into().map_err(|_| StoreError::Corrupt(format!("token hash of {len} bytes")))?,
        purposes: serde_json::from_str(&purposes).map_err(|e| StoreError::Corrupt(format!("token purposes: {e}")))?,
        created_at: crate::time::from_millis(created)?,
        revoked_at: revoked.map(crate::time::from_millis).transpose()?,
    })
}
