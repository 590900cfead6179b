//! The operator's staff who use the admin console: accounts with one of the gate's roles
//! ([`StaffRole`]), passwords kept only as Argon2id hashes, sessions of 32 random bytes of
//! which only the SHA-256 is stored, and a one-time link that creates the first admin on
//! a fresh installation (`custos serve` prints it).
//!
//! A member may add a second factor: a time-based one-time password (RFC 6238, SHA-1, six
//! digits, 30-second steps, one step of clock drift either way), whose secret is sealed
//! under the member's own data key; a code works once.
//!
//! A wrong username, password or code get the same answer after the same work, so the
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
use crate::vault::Vault;

/// The table name bound into a sealed one-time-password secret.
const TOTP_TABLE: &str = "staff_totp";
/// Seconds per one-time-password step.
const TOTP_STEP: u64 = 30;

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
    /// Wrong username, password or one-time code (one answer for all).
    #[error("wrong username, password or code")]
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
    /// The purposes they work for (support agents).
    pub purposes: Vec<String>,
}

impl SignedIn {
    /// The gate's actor for them.
    pub fn actor(&self) -> Actor {
        Actor::Staff { id: self.username.clone(), role: self.role, purposes: self.purposes.clone() }
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
    vault: Arc<Vault>,
    auditor: Auditor,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff").finish_non_exhaustive()
    }
}

impl Staff {
    /// Staff on `store`, secrets sealed by `vault`, audited through `auditor`.
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>, auditor: Auditor, clock: Arc<dyn Clock>) -> Self {
        Self { store, vault, auditor, clock }
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

    /// Sets the purposes a support agent works for (an admin's act); each must be one of
    /// `known`.
    pub async fn assign_purposes(
        &self,
        by: &SignedIn,
        username: &str,
        purposes: &[String],
        known: &[&str],
    ) -> Result<(), StaffError> {
        if let Some(unknown) = purposes.iter().find(|p| !known.contains(&p.as_str())) {
            return Err(StaffError::Invalid {
                field: "purposes",
                message: format!("the policy has no purpose `{unknown}`"),
            });
        }
        if !self.store.set_staff_purposes(username.trim(), purposes).await? {
            return Err(StaffError::Invalid { field: "username", message: "no member of staff has this name".into() });
        }
        self.audit(
            &by.actor(),
            "staff.purposes",
            serde_json::json!({"username": username.trim(), "purposes": purposes}),
        )
        .await
    }

    /// Disables a member of staff (an admin's act): they can no longer sign in and their
    /// sessions end. Nobody disables themselves, so an installation keeps an admin.
    pub async fn disable(&self, by: &SignedIn, username: &str) -> Result<(), StaffError> {
        if username.trim() == by.username {
            return Err(StaffError::Invalid { field: "username", message: "you cannot disable yourself".into() });
        }
        if !self.store.disable_staff(username.trim(), self.clock.now()).await? {
            return Err(StaffError::Invalid {
                field: "username",
                message: "no active member of staff has this name".into(),
            });
        }
        self.audit(&by.actor(), "staff.disable", serde_json::json!({"username": username.trim()})).await
    }

    /// Changes `who`'s password after checking the current one; every session of theirs
    /// ends, this one included.
    pub async fn change_password(&self, who: &SignedIn, current: &str, new: &str) -> Result<(), StaffError> {
        let member = self.store.staff_by_username(&who.username).await?.ok_or(StaffError::BadToken)?;
        let stored = PasswordHash::new(&member.password_hash).map_err(|_| StaffError::BadCredentials)?;
        if Argon2::default().verify_password(current.as_bytes(), &stored).is_err() {
            return Err(StaffError::Invalid { field: "current", message: "this is not your current password".into() });
        }
        let replacement = self.new_member(&member.username, who.role, new)?;
        self.store.set_staff_password(member.id, &replacement.password_hash).await?;
        self.audit(&who.actor(), "staff.password_changed", serde_json::json!({})).await
    }

    /// Checks a password (and the one-time code, for a member who set one up) and opens a
    /// session; returns its token.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
    ) -> Result<(SignedIn, String), StaffError> {
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
        if let Some(sealed) = &member.totp_sealed {
            let secret = self.open_secret(member.id, sealed).await?;
            let step = code.and_then(|c| matching_step(&secret, c, self.now_secs()));
            let fresh = match step {
                Some(step) => self.store.use_staff_totp_step(member.id, step).await?,
                None => false,
            };
            if !fresh {
                self.audit(
                    &Actor::Visitor,
                    "staff.login_failed",
                    serde_json::json!({"username": member.username, "factor": "totp"}),
                )
                .await?;
                return Err(StaffError::BadCredentials);
            }
        }
        let token = self.open_session(&member).await?;
        let signed_in = signed_in(&member)?;
        self.audit(&signed_in.actor(), "staff.login", serde_json::json!({})).await?;
        Ok((signed_in, token))
    }

    /// Starts setting up a one-time-password app for `who`: a fresh secret, kept until its
    /// first code confirms it. Returns the secret in base32 and an `otpauth://` address for
    /// the app, naming `issuer`.
    pub async fn start_totp(&self, who: &SignedIn, issuer: &str) -> Result<(String, String), StaffError> {
        let secret = random_bytes::<20>().to_vec();
        let owner = custos_store::SubjectId(who.id);
        let key = self
            .vault
            .data_key_or_create(owner, self.clock.now())
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let sealed = Vault::seal(&key, TOTP_TABLE, who.id, owner, &secret);
        self.store.set_staff_totp_pending(who.id, Some(&sealed)).await?;
        let totp = totp(&secret)?;
        let base32 = totp.get_secret_base32();
        let label: String =
            url::form_urlencoded::byte_serialize(format!("{issuer}:{}", who.username).as_bytes()).collect();
        let issuer_q: String = url::form_urlencoded::byte_serialize(issuer.as_bytes()).collect();
        let uri = format!("otpauth://totp/{label}?secret={base32}&issuer={issuer_q}&algorithm=SHA1&digits=6&period=30");
        Ok((base32, uri))
    }

    /// Confirms the secret being set up with a code from the app; from then on sign-in
    /// asks for a code.
    pub async fn confirm_totp(&self, who: &SignedIn, code: &str) -> Result<(), StaffError> {
        let member = self.store.staff_by_username(&who.username).await?.ok_or(StaffError::BadToken)?;
        let Some(pending) = &member.totp_pending else {
            return Err(StaffError::Invalid { field: "code", message: "start the set-up first".into() });
        };
        let secret = self.open_secret(member.id, pending).await?;
        let Some(step) = matching_step(&secret, code, self.now_secs()) else {
            return Err(StaffError::Invalid {
                field: "code",
                message: "this is not the app's current code; check the phone's clock and try the next one".into(),
            });
        };
        if !self.store.enable_staff_totp(member.id, step).await? {
            return Err(StaffError::Invalid { field: "code", message: "start the set-up again".into() });
        }
        self.audit(&who.actor(), "staff.totp_enabled", serde_json::json!({})).await
    }

    /// Whether `who` signs in with a one-time code.
    pub async fn has_totp(&self, who: &SignedIn) -> Result<bool, StaffError> {
        Ok(self.store.staff_by_username(&who.username).await?.is_some_and(|m| m.totp_sealed.is_some()))
    }

    async fn open_secret(&self, staff: Uuid, sealed: &[u8]) -> Result<Vec<u8>, StaffError> {
        let owner = custos_store::SubjectId(staff);
        let key = self.vault.data_key(owner).await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let secret = Vault::open_value(&key, TOTP_TABLE, staff, owner, sealed)
            .map_err(|_| StoreError::Corrupt(format!("the one-time-password secret of staff {staff} does not open")))?;
        Ok(secret.to_vec())
    }

    fn now_secs(&self) -> u64 {
        u64::try_from(self.clock.now().as_second()).unwrap_or(0)
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
            totp_sealed: None,
            totp_pending: None,
            totp_last_step: None,
            purposes: Vec::new(),
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
    Ok(SignedIn { id: member.id, username: member.username.clone(), role, purposes: member.purposes.clone() })
}

fn totp(secret: &[u8]) -> Result<totp_rs::TOTP, StaffError> {
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, TOTP_STEP, secret.to_vec())
        .map_err(|e| StaffError::Store(StoreError::Corrupt(format!("one-time-password secret: {e}"))))
}

/// The time step (of the current one and its neighbours) whose code `code` is, if any.
fn matching_step(secret: &[u8], code: &str, now_secs: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret).ok()?;
    let now = now_secs / TOTP_STEP;
    let mut found = None;
    // Every candidate is computed and compared, so timing does not tell which matched.
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = totp.generate(step * TOTP_STEP);
        let same = crate::tokens::constant_time_eq(expected.as_bytes(), code.as_bytes());
        if same && found.is_none() {
            found = i64::try_from(step).ok();
        }
    }
    found
}

/// The code an app shows for `secret` at `at_secs` (for tests and tools).
pub fn totp_code(secret_base32: &str, at_secs: u64) -> Option<String> {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned()).to_bytes().ok()?;
    Some(totp(&secret).ok()?.generate(at_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", last six digits.
        let secret = b"12345678901234567890";
        for (time, code) in
            [(59u64, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (20_000_000_000, "353130")]
        {
            assert_eq!(totp(secret).expect("totp").generate(time), code);
            assert_eq!(matching_step(secret, code, time), i64::try_from(time / 30).ok());
        }
        assert_eq!(matching_step(secret, "287082", 59 + 30), Some(1), "one step of drift is accepted");
        assert_eq!(matching_step(secret, "287082", 59 + 90), None, "more is not");
        assert_eq!(matching_step(secret, "28708", 59), None);
    }
}
