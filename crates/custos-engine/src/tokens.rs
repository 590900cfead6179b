//! Service tokens: issued by staff (`custos tokens create`), each scoped to purposes of the
//! policy, presented by the operator's services as `Authorization: Bearer <token>`.
//!
//! A token reads `cst_<id>_<secret>`: the id names it (and is safe to log), the secret is
//! 32 random bytes in URL-safe base64. Only the SHA-256 of the secret is stored, and it is
//! compared in constant time.

use std::sync::Arc;

use custos_policy::Policy;
use custos_store::{ServiceToken, Store, StoreError};
use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::gate::Actor;

/// The prefix that makes a custos service token recognisable (for secret scanners too).
pub const PREFIX: &str = "cst_";

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The header is missing or not a bearer token.
    #[error("send a service token as `Authorization: Bearer cst_…`")]
    Missing,
    /// The token is malformed, unknown, wrong or revoked (one answer for all, on purpose).
    #[error("the service token is not valid")]
    Invalid,
    /// A purpose given at issue is not in the policy.
    #[error("purpose `{0}` is not declared in the policy")]
    UnknownPurpose(String),
    /// No purpose was given at issue.
    #[error("a token needs at least one purpose")]
    NoPurpose,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues a token for `purposes`; returns the stored token and the full secret token text,
/// which is shown once and never stored.
pub async fn issue(
    store: &Arc<dyn Store>,
    policy: &Policy,
    name: &str,
    purposes: &[String],
    now: Timestamp,
) -> Result<(ServiceToken, String), TokenError> {
    if purposes.is_empty() {
        return Err(TokenError::NoPurpose);
    }
    if let Some(unknown) = purposes.iter().find(|p| policy.purpose(p).is_none()) {
        return Err(TokenError::UnknownPurpose(unknown.clone()));
    }
    let id: String = random_bytes::<6>().iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64url(&random_bytes::<32>());
    let token = ServiceToken {
        id: id.clone(),
        name: name.to_owned(),
        secret_hash: Sha256::digest(secret.as_bytes()).into(),
        purposes: purposes.to_vec(),
        created_at: now,
        revoked_at: None,
    };
    store.create_token(&token).await?;
    Ok((token, format!("{PREFIX}{id}_{secret}")))
}

/// The actor a bearer token stands for.
pub async fn authenticate(store: &Arc<dyn Store>, bearer: &str) -> Result<Actor, TokenError> {
    let (id, secret) = parse(bearer)?;
    let token = store.token(id).await?.ok_or(TokenError::Invalid)?;
    check(&token, secret)
}

/// The id and secret of a bearer token.
fn parse(bearer: &str) -> Result<(&str, &str), TokenError> {
    let rest = bearer.strip_prefix(PREFIX).ok_or(TokenError::Invalid)?;
    let (id, secret) = rest.split_once('_').ok_or(TokenError::Invalid)?;
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TokenError::Invalid);
    }
    Ok((id, secret))
}

/// Checks the presented secret against the stored token, in constant time.
fn check(token: &ServiceToken, secret: &str) -> Result<Actor, TokenError> {
    let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    if !constant_time_eq(&presented, &token.secret_hash) || token.revoked_at.is_some() {
        return Err(TokenError::Invalid);
    }
    Ok(Actor::Service { token: token.id.clone(), purposes: token.purposes.clone() })
}

/// Tokens read from the store in the last moments, so that a busy service does not cost
/// a database read per request. The secret is still checked at every request; a token
/// revoked meanwhile stops working in this process within [`TokenCache::TTL`].
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, (std::time::Instant, ServiceToken)>>,
}

impl TokenCache {
    /// How long a token read from the store is trusted.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(2);
    /// Tokens kept at most (a flood of made-up ids cannot grow the cache past this).
    const MAX: usize = 1024;

    /// The actor a bearer token stands for, as [`authenticate`].
    pub async fn authenticate(&self, store: &Arc<dyn Store>, bearer: &str) -> Result<Actor, TokenError> {
        let (id, secret) = parse(bearer)?;
        let now = std::time::Instant::now();
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            entries.get(id).filter(|(at, _)| now.duration_since(*at) < Self::TTL).map(|(_, t)| t.clone())
        };
        let token = match cached {
            Some(token) => token,
            None => {
                // Unknown ids are not cached: they cost the caller a read, as they should.
                let token = store.token(id).await?.ok_or(TokenError::Invalid)?;
                let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if entries.len() >= Self::MAX {
                    entries.retain(|_, (at, _)| now.duration_since(*at) < Self::TTL);
                    if entries.len() >= Self::MAX {
                        entries.clear();
                    }
                }
                entries.insert(id.to_owned(), (now, token.clone()));
                token
            }
        };
        check(&token, secret)
    }
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only: for
/// comparing secrets, codes and MACs with what was presented.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    bytes
}

/// URL-safe base64 without padding.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_every_byte_and_the_length() {
        assert!(constant_time_eq(b"cst_abc", b"cst_abc"));
        assert!(!constant_time_eq(b"cst_abc", b"cst_abd"), "the last byte counts");
        assert!(!constant_time_eq(b"xst_abc", b"cst_abc"), "the first byte counts");
        assert!(!constant_time_eq(b"cst_ab", b"cst_abc"), "a prefix is not equal");
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn base64url_matches_the_standard_alphabet() {
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(b"fo"), "Zm8");
    }
}
