//! Accounts (seed 1, 2.2, 7): sign-up with name, company, address, email and phone; a
//! password kept only as an Argon2id hash; sessions; email verification and password reset
//! by emailed link; and closing the account, which erases the person (seed 7).
//!
//! Tokens (sessions, links) are 32 random bytes; only their SHA-256 is stored.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use custos_store::{Account, IdentifierKind, Store, StoreError, SubjectId, SubjectKind};
use jiff::SignedDuration;
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::gate::Actor;
use crate::mail::{self, MailRequest, Mailer};
use crate::records::{AccessError, NewValue, OpenedRecord, Records};
use crate::tokens::{base64url, random_bytes};

/// The purpose an account's data serves.
const PURPOSE: &str = "account";
/// The categories an account holds.
pub const CATEGORIES: &[&str] = &[
    "user.name",
    "user.contact.organization",
    "user.contact.address",
    "user.contact.email",
    "user.contact.phone_number",
];
/// How long a session lasts.
const SESSION: SignedDuration = SignedDuration::from_hours(24 * 14);
/// How long an emailed link works.
const LINK: SignedDuration = SignedDuration::from_hours(24);

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A field is missing or wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong (never the value).
        message: String,
    },
    /// The email already has an account.
    #[error("an account exists for this email; sign in or reset the password")]
    Exists,
    /// Wrong email or password (one answer for both, on purpose).
    #[error("wrong email or password")]
    BadCredentials,
    /// The link or session is unknown or expired.
    #[error("the link or session is not valid or has expired")]
    BadToken,
    /// Storing or the gate failed.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the sign-up form sends.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// Name.
    pub name: String,
    /// Company name.
    pub company: Option<String>,
    /// Postal address.
    pub address: Option<String>,
    /// Email, which signs in.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
    /// Password, at least 10 characters.
    pub password: String,
}

/// Accounts.
pub struct Accounts {
    records: Arc<Records>,
    store: Arc<dyn Store>,
    mailer: Option<Mailer>,
    public_url: String,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").field("public_url", &self.public_url).finish_non_exhaustive()
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn new_token() -> String {
    base64url(&random_bytes::<32>())
}

impl Accounts {
    /// Accounts on `records`; links point at `public_url`; `mailer` sends the message that
    /// confirms a closed account (other mail goes through the job queue).
    pub fn new(
        records: Arc<Records>,
        store: Arc<dyn Store>,
        mailer: Option<Mailer>,
        public_url: String,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { records, store, mailer, public_url: public_url.trim_end_matches('/').to_owned(), clock }
    }

    /// Signs a user up and mails a verification link.
    pub async fn register(&self, r: &Registration) -> Result<SubjectId, AccountError> {
        let name = r.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AccountError::Invalid {
                field: "name",
                message: "give a name of at most 200 characters".into(),
            });
        }
        if r.password.chars().count() < 10 || r.password.len() > 1024 {
            return Err(AccountError::Invalid { field: "password", message: "use at least 10 characters".into() });
        }
        let existing = self.records.find(IdentifierKind::Email, &r.email).await.map_err(|e| match e {
            AccessError::Invalid { message, .. } => AccountError::Invalid { field: "email", message },
            other => other.into(),
        })?;
        if let Some(subject) = existing
            && self.store.account(subject).await?.is_some()
        {
            return Err(AccountError::Exists);
        }
        let password_hash = Argon2::default()
            .hash_password(r.password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| AccountError::Invalid { field: "password", message: e.to_string() })?
            .to_string();
        let mut values = vec![
            NewValue { purpose: PURPOSE, category: "user.name", value: name.as_bytes() },
            NewValue { purpose: PURPOSE, category: "user.contact.email", value: r.email.trim().as_bytes() },
        ];
        for (category, value) in [
            ("user.contact.organization", &r.company),
            ("user.contact.address", &r.address),
            ("user.contact.phone_number", &r.phone),
        ] {
            if let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                values.push(NewValue { purpose: PURPOSE, category, value: value.as_bytes() });
            }
        }
        let now = self.clock.now();
        let subject = match existing {
            Some(subject) => {
                self.records.write_all(&Actor::System, subject, &values).await?;
                subject
            }
            None => {
                let mut identifiers = vec![(IdentifierKind::Email, r.email.as_str())];
                if let Some(phone) = r.phone.as_deref().filter(|p| !p.trim().is_empty()) {
                    identifiers.push((IdentifierKind::Phone, phone));
                }
                match self.records.create_subject(&Actor::System, SubjectKind::User, &identifiers, &values).await {
                    Ok((subject, _)) => subject,
                    Err(AccessError::Invalid { field, message }) => {
                        let field = if field == "identifiers[1].value" { "phone" } else { "email" };
                        return Err(AccountError::Invalid { field, message });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        self.store
            .create_account(&Account { subject_id: subject, password_hash, verified_at: None, created_at: now })
            .await?;
        let token = new_token();
        self.store.put_token(subject, &hash(&token), "verify", now.saturating_add(LINK).unwrap_or(now)).await?;
        self.mail(subject, "Confirm your email address", &format!(
            "Hello {{{{name}}}},\n\nplease confirm your email address by opening this link within 24 hours:\n\n{}/v1/accounts/verify?token={token}\n",
            self.public_url
        ))
        .await?;
        Ok(subject)
    }

    /// Checks a password and opens a session; returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> Result<(SubjectId, String), AccountError> {
        let subject = self.records.find(IdentifierKind::Email, email).await.ok().flatten();
        let account = match subject {
            Some(subject) => self.store.account(subject).await?,
            None => None,
        };
        let Some(account) = account else {
            // Spend the same time as a real check, so that timing does not tell who has an account.
            let _ = Argon2::default().hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng));
            return Err(AccountError::BadCredentials);
        };
        let stored = PasswordHash::new(&account.password_hash).map_err(|_| AccountError::BadCredentials)?;
        Argon2::default().verify_password(password.as_bytes(), &stored).map_err(|_| AccountError::BadCredentials)?;
        let token = new_token();
        let now = self.clock.now();
        self.store
            .put_token(account.subject_id, &hash(&token), "session", now.saturating_add(SESSION).unwrap_or(now))
            .await?;
        Ok((account.subject_id, token))
    }

    /// The user a session belongs to.
    pub async fn session(&self, token: &str) -> Result<SubjectId, AccountError> {
        self.store.token_subject(&hash(token), "session", self.clock.now()).await?.ok_or(AccountError::BadToken)
    }

    /// Ends a session.
    pub async fn logout(&self, token: &str) -> Result<(), AccountError> {
        self.store.delete_token(&hash(token)).await?;
        Ok(())
    }

    /// Confirms the email address from an emailed link.
    pub async fn verify(&self, token: &str) -> Result<SubjectId, AccountError> {
        let subject =
            self.store.token_subject(&hash(token), "verify", self.clock.now()).await?.ok_or(AccountError::BadToken)?;
        self.store.mark_verified(subject, self.clock.now()).await?;
        self.store.delete_token(&hash(token)).await?;
        Ok(subject)
    }

    /// Mails a password-reset link if the email has an account; says nothing either way.
    pub async fn request_reset(&self, email: &str) -> Result<(), AccountError> {
        let Some(subject) = self.records.find(IdentifierKind::Email, email).await.ok().flatten() else { return Ok(()) };
        if self.store.account(subject).await?.is_none() {
            return Ok(());
        }
        let token = new_token();
        let now = self.clock.now();
        self.store.put_token(subject, &hash(&token), "reset", now.saturating_add(LINK).unwrap_or(now)).await?;
        self.mail(subject, "Reset your password", &format!(
            "Hello {{{{name}}}},\n\nto choose a new password, open this link within 24 hours:\n\n{}/reset-password?token={token}\n\nIf you did not ask for this, ignore this message.\n",
            self.public_url
        ))
        .await
    }

    /// Sets a new password from a reset link; ends every session.
    pub async fn reset(&self, token: &str, password: &str) -> Result<(), AccountError> {
        if password.chars().count() < 10 || password.len() > 1024 {
            return Err(AccountError::Invalid { field: "password", message: "use at least 10 characters".into() });
        }
        let subject =
            self.store.token_subject(&hash(token), "reset", self.clock.now()).await?.ok_or(AccountError::BadToken)?;
        let new_hash = Argon2::default()
            .hash_password(password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| AccountError::Invalid { field: "password", message: e.to_string() })?
            .to_string();
        self.store.set_password(subject, &new_hash).await?;
        self.store.delete_token(&hash(token)).await?;
        Ok(())
    }

    /// The account's own data, as the person sees it (their right of access).
    pub async fn my_data(&self, subject: SubjectId) -> Result<Vec<OpenedRecord>, AccountError> {
        Ok(self.records.read(&Actor::Subject(subject), subject, PURPOSE, CATEGORIES).await?)
    }

    /// Closes the account: confirms by mail (sent now: after the erasure there is no address
    /// left to send to), then erases the person.
    pub async fn close(&self, subject: SubjectId) -> Result<(), AccountError> {
        let email = match &self.mailer {
            Some(_) => self
                .records
                .read(&Actor::Subject(subject), subject, PURPOSE, &["user.contact.email"])
                .await?
                .pop()
                .map(|v| String::from_utf8_lossy(&v.value).into_owned()),
            None => None,
        };
        // A legal hold keeps what it covers (restricted); everything else goes.
        let holds = crate::governance::holds::Holds::new(
            self.records.store().clone(),
            self.records.policy().clone(),
            self.records.auditor().clone(),
            self.records.clock().clone(),
        );
        let erasure =
            crate::governance::holds::erase_respecting_holds(&holds, &self.records, &Actor::Subject(subject), subject)
                .await
                .map_err(|e| match e {
                    crate::governance::GovernanceError::Store(e) => AccountError::Store(e),
                    crate::governance::GovernanceError::Access(e) => AccountError::Access(e),
                    other => AccountError::Store(StoreError::Unavailable(other.to_string())),
                })?;
        let body = if erasure.holds.is_empty() {
            "Your account is closed and your personal data has been erased.\n".to_owned()
        } else {
            let ground: Vec<&str> = erasure.holds.iter().map(|h| h.reason.as_str()).collect();
            format!(
                "Your account is closed and your personal data has been erased, except data we must keep because of: \
                 {}. We keep it only stored (restricted) and erase it once that reason ends.\n",
                ground.join("; ")
            )
        };
        if let (Some(mailer), Some(email)) = (&self.mailer, email)
            && let Ok(to) = email.parse()
            && let Ok(message) =
                lettre::Message::builder().from(mailer_from(mailer)).to(to).subject("Your account is closed").body(body)
            && let Err(error) = mailer.send(message).await
        {
            tracing::warn!(%error, "the confirmation of a closed account could not be sent; the erasure is done");
        }
        Ok(())
    }

    async fn mail(&self, subject: SubjectId, subject_line: &str, body: &str) -> Result<(), AccountError> {
        let request = MailRequest {
            subject_id: subject,
            purpose: PURPOSE.into(),
            subject_line: subject_line.into(),
            body: body.into(),
            unsubscribe: None,
            campaign: None,
        };
        mail::enqueue(&self.store, &request, None).await?;
        Ok(())
    }
}

fn mailer_from(mailer: &Mailer) -> lettre::message::Mailbox {
    mailer.from().clone()
}
