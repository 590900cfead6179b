//! Partner API keys: `cpk_<id>_<secret>`, shown once, kept as the SHA-256 of the secret
//! (32 random bytes: a slow password hash adds nothing to a key that cannot be guessed),
//! compared in constant time, scoped, revocable and rotatable.

use custos_store::PartnerKey;
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::tokens::{base64url, random_bytes};

/// The prefix that makes a partner key recognisable (to people and secret scanners).
pub const PREFIX: &str = "cpk_";

/// What a key may do.
pub const SCOPES: &[&str] = &[SCOPE_WRITE, SCOPE_READ, SCOPE_DELETE];
/// Upload records.
pub const SCOPE_WRITE: &str = "records:write";
/// Read the partner's own records back.
pub const SCOPE_READ: &str = "records:read";
/// Delete the partner's own records.
pub const SCOPE_DELETE: &str = "records:delete";

/// A partner calling with a valid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerCaller {
    /// The partner.
    pub partner_id: Uuid,
    /// The key used (its id, never the secret).
    pub key_id: String,
    /// What the key may do.
    pub scopes: Vec<String>,
}

impl PartnerCaller {
    /// How the caller is named in the audit log.
    pub fn audit_name(&self) -> String {
        format!("partner:{}:{}", self.partner_id, self.key_id)
    }
}

/// A new key for `partner` with `scopes`, and its full text (shown once, never stored).
pub(crate) fn issue(partner: Uuid, scopes: &[String], now: Timestamp) -> (PartnerKey, String) {
    let id: String = random_bytes::<6>().iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64url(&random_bytes::<32>());
    let key = PartnerKey {
        id: id.clone(),
        partner_id: partner,
        key_hash: Sha256::digest(secret.as_bytes()).into(),
        scopes: scopes.to_vec(),
        created_at: now,
        revoked_at: None,
    };
    (key, format!("{PREFIX}{id}_{secret}"))
}

/// The id and secret of a presented key, if it has the shape of one.
pub(crate) fn parse(presented: &str) -> Option<(&str, &str)> {
    let (id, secret) = presented.strip_prefix(PREFIX)?.split_once('_')?;
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && !secret.is_empty()).then_some((id, secret))
}

/// Whether `secret` is the stored key's secret and the key is live; constant time in the secret.
pub(crate) fn matches(key: &PartnerKey, secret: &str) -> bool {
    let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    let same = crate::tokens::constant_time_eq(&presented, &key.key_hash);
    same && key.revoked_at.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_recognisable_and_checks_only_its_own_secret() {
        let (key, text) = issue(Uuid::now_v7(), &["records:write".into()], Timestamp::now());
        assert!(text.starts_with("cpk_"));
        let (id, secret) = parse(&text).expect("parses");
        assert_eq!(id, key.id);
        assert!(matches(&key, secret));
        assert!(!matches(&key, "x"));
        assert!(parse("cst_0123456789ab_secret").is_none(), "a service token is not a partner key");
        let revoked = PartnerKey { revoked_at: Some(Timestamp::now()), ..key };
        assert!(!matches(&revoked, secret));
    }
}
