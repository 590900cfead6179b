//! The operator's staff who use the admin console: accounts with one of the gate's roles
//! ([`StaffRole`]), passwords kept only as Argon2id hashes, sessions of 32 random bytes of
//! which only the SHA-256 is stored, and a one-time link that creates the first admin on
//! a fresh installation (`custos serve` prints it).
//!
//! A wrong username and a wrong password get the same answer after the same work, so the
//! console does not tell who has an account. Every sign-in, failed or not, and every
//! account made is audited, without the password.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use custos_store::{NewAuditEntry, StaffMember, Store, StoreError};
use jiff::SignedDuration;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::audit::Auditor;
use crate::clock::Clock;
use crate::gate::{Actor, StaffRole};
use crate::tokens::{base64url, random_bytes};

/// How long a console session lasts.
pub const SESSION: SignedDuration = SignedDuration::from_hours(8);
/// How long the first-admin link works.
pub const SETUP_LINK: SignedDuration = SignedDuration::from_hours(24);
/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// Why a staff operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// A field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong (never the value).
        message: String,
    },
    /// Wrong username or password (one answer for both).
    #[error("wrong username or password")]
    BadCredentials,
    /// The session or setup link is unknown, used or expired.
    #[error("the session or link is not valid or has expired; sign in again")]
    BadToken,
    /// The username is taken.
    #[error("this username is taken")]
    Taken,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A signed-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// Their id.
    pub id: Uuid,
    /// Their username.
    pub username: String,
    /// Their role.
    pub role: StaffRole,
}

impl SignedIn {
    /// The gate's actor for them.
    pub fn actor(&self) -> Actor {
        Actor::Staff { id: self.username.clone(), role: self.role, purposes: Vec::new() }
    }
}

/// Parses a role name.
pub fn role(name: &str) -> Option<StaffRole> {
    [StaffRole::Admin, StaffRole::Dpo, StaffRole::Support, StaffRole::Auditor].into_iter().find(|r| r.as_str() == name)
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Staff accounts and console sessions.
pub struct Staff {
    store: Arc<dyn Store>,
    auditor: Auditor,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff").finish_non_exhaustive()
    }
}

impl Staff {
    /// Staff on `store`, audited through `auditor`.
    pub fn new(store: Arc<dyn Store>, auditor: Auditor, clock: Arc<dyn Clock>) -> Self {
        Self { store, auditor, clock }
    }

    /// On an installation without staff, a fresh one-time link token for the first admin
    /// (it replaces any earlier one); `None` once someone exists.
    pub async fn setup_token(&self) -> Result<Option<String>, StaffError> {
        if self.store.count_staff().await? > 0 {
            return Ok(None);
        }
        let token = base64url(&random_bytes::<32>());
        let now = self.clock.now();
        self.store.put_staff_setup(&hash(&token), now.saturating_add(SETUP_LINK).unwrap_or(now)).await?;
        Ok(Some(token))
    }

    /// Creates the first admin from the setup link; returns a session for them.
    pub async fn complete_setup(&self, token: &str, username: &str, password: &str) -> Result<String, StaffError> {
        let member = self.new_member(username, StaffRole::Admin, password)?;
        if !self.store.complete_staff_setup(&hash(token.trim()), self.clock.now(), &member).await? {
            return Err(StaffError::BadToken);
        }
        self.audit(&Actor::System, "staff.setup", serde_json::json!({"username": member.username, "role": "admin"}))
            .await?;
        self.open_session(&member).await
    }

    /// Adds a member of staff (an admin's act).
    pub async fn add(&self, by: &SignedIn, username: &str, role: StaffRole, password: &str) -> Result<(), StaffError> {
        let member = self.new_member(username, role, password)?;
        match self.store.create_staff(&member).await {
            Err(StoreError::Conflict(_)) => return Err(StaffError::Taken),
            other => other?,
        }
        self.audit(&by.actor(), "staff.add", serde_json::json!({"username": member.username, "role": role.as_str()}))
            .await
    }

    /// Checks a password and opens a session; returns its token.
    pub async fn login(&self, username: &str, password: &str) -> Result<(SignedIn, String), StaffError> {
        let member = self.store.staff_by_username(username.trim()).await?.filter(|m| m.disabled_at.is_none());
        let Some(member) = member else {
            // The same work as a real check, so that timing does not tell who exists.
            let _ = Argon2::default().hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng));
            self.audit(&Actor::Visitor, "staff.login_failed", serde_json::json!({})).await?;
            return Err(StaffError::BadCredentials);
        };
        let stored = PasswordHash::new(&member.password_hash).map_err(|_| StaffError::BadCredentials)?;
        if Argon2::default().verify_password(password.as_bytes(), &stored).is_err() {
            self.audit(&Actor::Visitor, "staff.login_failed", serde_json::json!({"username": member.username})).await?;
            return Err(StaffError::BadCredentials);
        }
        let token = self.open_session(&member).await?;
        let signed_in = signed_in(&member)?;
        self.audit(&signed_in.actor(), "staff.login", serde_json::json!({})).await?;
        Ok((signed_in, token))
    }

    /// Who a session token belongs to.
    pub async fn session(&self, token: &str) -> Result<SignedIn, StaffError> {
        let member = self.store.staff_session(&hash(token), self.clock.now()).await?.ok_or(StaffError::BadToken)?;
        signed_in(&member)
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), StaffError> {
        self.store.delete_staff_session(&hash(token)).await?;
        Ok(())
    }

    /// Every member of staff: username, role, whether disabled.
    pub async fn list(&self) -> Result<Vec<StaffMember>, StaffError> {
        Ok(self.store.staff_members().await?)
    }

    fn new_member(&self, username: &str, role: StaffRole, password: &str) -> Result<StaffMember, StaffError> {
        let username = username.trim();
        if username.is_empty()
            || username.len() > 64
            || !username.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(StaffError::Invalid {
                field: "username",
                message: "use 1 to 64 letters, digits, dots, dashes, underscores or @".into(),
            });
        }
        if password.chars().count() < MIN_PASSWORD || password.len() > 1024 {
            return Err(StaffError::Invalid {
                field: "password",
                message: format!("use at least {MIN_PASSWORD} characters"),
            });
        }
        let password_hash = Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| StoreError::Corrupt(format!("cannot hash the password: {e}")))?
            .to_string();
        Ok(StaffMember {
            id: Uuid::now_v7(),
            username: username.to_owned(),
            role: role.as_str().to_owned(),
            password_hash,
            created_at: self.clock.now(),
            disabled_at: None,
        })
    }

    async fn open_session(&self, member: &StaffMember) -> Result<String, StaffError> {
        let token = base64url(&random_bytes::<32>());
        let now = self.clock.now();
        self.store.put_staff_session(&hash(&token), member.id, now.saturating_add(SESSION).unwrap_or(now)).await?;
        Ok(token)
    }

    async fn audit(&self, actor: &Actor, action: &str, detail: serde_json::Value) -> Result<(), StaffError> {
        self.auditor
            .append(NewAuditEntry {
                at: self.clock.now(),
                actor: actor.audit_name(),
                action: action.into(),
                subject_id: None,
                purpose: None,
                detail,
            })
            .await?;
        Ok(())
    }
}

fn signed_in(member: &StaffMember) -> Result<SignedIn, StaffError> {
    let role = role(&member.role).ok_or_else(|| StoreError::Corrupt(format!("staff role `{}`", member.role)))?;
    Ok(SignedIn { id: member.id, username: member.username.clone(), role })
}
