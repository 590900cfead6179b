//! Accounts (seed 1, 2.2, 7): sign-up with name, company, address, email and phone; a
//! password kept only as an Argon2id hash; sessions; email verification and password reset
//! by emailed link; and closing the account, which erases the person (seed 7).
//!
//! Tokens (sessions, links) are 32 random bytes; only their SHA-256 is stored.
//!
//! Neither sign-up nor a password-reset request tells anyone whether an address has an
//! account: both answer the same for every address, and what differs (the mail to the
//! holder of an account, its reset link) is done by an [`AccountMailJob`], off the request
//! path. See [`Accounts::register`] and [`Accounts::request_reset`].

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use async_trait::async_trait;
use base64::Engine as _;
use custos_store::{Account, BlindIndex, IdentifierKind, Job, NewJob, Store, StoreError, SubjectId, SubjectKind};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::gate::{Actor, Rule};
use crate::jobs::{JobError, JobHandler};
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
/// The job kind that mails the holder of an account a password-reset link, after a reset
/// request or a sign-up with their address ([`AccountMailJob`]).
pub const MAIL_KIND: &str = "accounts.mail";

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

    /// Signs a user up. The answer is the same whether or not the address already has an
    /// account, so that sign-up does not tell anyone who has one:
    ///
    /// - a new address (or a person custos holds without an account, such as someone who
    ///   used the contact form) gets an account and a mail with a link that confirms the
    ///   address;
    /// - an address that has an account is left as it is: nothing about the account
    ///   changes, and an [`AccountMailJob`] mails its holder that someone tried to sign up
    ///   with their address, with a link to choose a new password if it was them.
    ///
    /// Both branches check every field first (a wrong phone number is refused for a known
    /// address as for a new one), look the address up the same way and hash the password
    /// with Argon2id, the step that takes most of a sign-up's time (tens of milliseconds).
    /// What differs afterwards is a few small writes: a new account stores its rows, a known
    /// address queues one job. That difference shows at most once per address (probing an
    /// unknown address signs it up, after which it is answered as a known one) and each
    /// address may be named only a few times an hour (the server's per-identifier limit).
    ///
    /// A person custos holds without an account whose processing is restricted (or who
    /// objected) cannot be signed up; that is answered like any sign-up too, and nothing is
    /// stored, so the answer does not reveal the restriction either.
    pub async fn register(&self, r: &Registration) -> Result<(), AccountError> {
        let name = r.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AccountError::Invalid {
                field: "name",
                message: "give a name of at most 200 characters".into(),
            });
        }
        check_password(&r.password)?;
        let index = self
            .records
            .vault()
            .blind_index(IdentifierKind::Email, &r.email)
            .map_err(|e| AccountError::Invalid { field: "email", message: e.to_string() })?;
        let phone = r.phone.as_deref().filter(|p| !p.trim().is_empty());
        if let Some(phone) = phone {
            self.records
                .vault()
                .blind_index(IdentifierKind::Phone, phone)
                .map_err(|e| AccountError::Invalid { field: "phone", message: e.to_string() })?;
        }
        let existing = self.store.find_subject(IdentifierKind::Email, &index).await?;
        let registered = match existing {
            Some(subject) => self.store.account(subject).await?.is_some(),
            None => false,
        };
        // Hashed in both branches, so that the time taken does not tell them apart.
        let password_hash = Argon2::default()
            .hash_password(r.password.as_bytes(), &SaltString::generate(&mut OsRng))
            .map_err(|e| AccountError::Invalid { field: "password", message: e.to_string() })?
            .to_string();
        if registered {
            return self.queue_account_mail(&index, AccountMail::SignUpAttempt).await;
        }
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
            Some(subject) => match self.records.write_all(&Actor::System, subject, &values).await {
                Ok(_) => subject,
                Err(AccessError::Denied {
                    rule: rule @ (Rule::Restricted | Rule::Erased | Rule::Objected | Rule::ObjectedDirectMarketing),
                    ..
                }) => {
                    tracing::info!(rule = rule.code(), "a sign-up for a person the gate refuses: nothing stored");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            },
            None => {
                let mut identifiers = vec![(IdentifierKind::Email, r.email.as_str())];
                if let Some(phone) = phone {
                    identifiers.push((IdentifierKind::Phone, phone));
                }
                match self.records.create_subject(&Actor::System, SubjectKind::User, &identifiers, &values).await {
                    Ok((subject, _)) => subject,
                    // Another sign-up for the address won the race: answered as a known address.
                    Err(AccessError::Store(StoreError::Conflict(_))) => {
                        return self.queue_account_mail(&index, AccountMail::SignUpAttempt).await;
                    }
                    Err(AccessError::Invalid { field, message }) => {
                        let field = if field == "identifiers[1].value" { "phone" } else { "email" };
                        return Err(AccountError::Invalid { field, message });
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let created = self
            .store
            .create_account(&Account { subject_id: subject, password_hash, verified_at: None, created_at: now })
            .await;
        match created {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return self.queue_account_mail(&index, AccountMail::SignUpAttempt).await,
            Err(e) => return Err(e.into()),
        }
        let token = new_token();
        self.store.put_token(subject, &hash(&token), "verify", now.saturating_add(LINK).unwrap_or(now)).await?;
        self.mail(subject, "Confirm your email address", &format!(
            "Hello {{{{name}}}},\n\nplease confirm your email address by opening this link within 24 hours:\n\n{}/v1/accounts/verify?token={token}\n",
            self.public_url
        ), None)
        .await?;
        Ok(())
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

    /// Has a password-reset link mailed to `email` if it has an account; says nothing either
    /// way.
    ///
    /// The request path does the same work for every valid address, known or not: it
    /// computes the address's blind index and queues one [`AccountMailJob`] holding only that
    /// index. Whether the address has an account, the reset token and the mail are worked
    /// out by the job, off the request path: looking the account up, storing a token and
    /// queueing a mail only for a known address would make its answer measurably slower.
    /// An address that is not valid is answered the same and queues nothing (that tells
    /// nothing about anyone).
    pub async fn request_reset(&self, email: &str) -> Result<(), AccountError> {
        let Ok(index) = self.records.vault().blind_index(IdentifierKind::Email, email) else { return Ok(()) };
        self.queue_account_mail(&index, AccountMail::PasswordReset).await
    }

    /// Queues an [`AccountMailJob`] for the address whose blind index is `index`.
    async fn queue_account_mail(&self, index: &BlindIndex, why: AccountMail) -> Result<(), AccountError> {
        let payload = AccountMailPayload { email_index: base64url(&index.0), why };
        let payload = serde_json::to_value(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .enqueue_job(&NewJob {
                kind: MAIL_KIND.into(),
                payload,
                idempotency_key: None,
                priority: 0,
                run_at: jiff::Timestamp::now(),
                max_attempts: 12,
            })
            .await?;
        Ok(())
    }

    /// The work of an [`AccountMailJob`]: if the address whose blind index is `index` has an
    /// account, stores a reset token and queues the mail that carries it (once per `job`).
    async fn send_account_mail(&self, index: &BlindIndex, why: AccountMail, job: i64) -> Result<(), AccountError> {
        let Some(subject) = self.store.find_subject(IdentifierKind::Email, index).await? else { return Ok(()) };
        if self.store.account(subject).await?.is_none() {
            return Ok(());
        }
        let token = new_token();
        let now = self.clock.now();
        self.store.put_token(subject, &hash(&token), "reset", now.saturating_add(LINK).unwrap_or(now)).await?;
        let link = format!("{}/reset-password?token={token}", self.public_url);
        let (subject_line, body) = match why {
            AccountMail::PasswordReset => (
                "Reset your password",
                format!(
                    "Hello {{{{name}}}},\n\nto choose a new password, open this link within 24 hours:\n\n{link}\n\n\
                     If you did not ask for this, ignore this message.\n"
                ),
            ),
            AccountMail::SignUpAttempt => (
                "Someone tried to sign up with your address",
                format!(
                    "Hello {{{{name}}}},\n\nsomeone, perhaps you, tried to create an account with this email \
                     address, which already has one. Nothing about your account has changed.\n\n\
                     If it was you, sign in with your password, or choose a new one by opening this link \
                     within 24 hours:\n\n{link}\n\n\
                     If it was not you, ignore this message; you need not do anything.\n"
                ),
            ),
        };
        // Keyed by the job: a job run again after a crash queues no second mail (its mail
        // carries the first run's token; the second run's token is never sent and expires).
        self.mail(subject, subject_line, &body, Some(format!("{MAIL_KIND}:{job}"))).await
    }

    /// Sets a new password from a reset link; ends every session.
    pub async fn reset(&self, token: &str, password: &str) -> Result<(), AccountError> {
        check_password(password)?;
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

    async fn mail(
        &self,
        subject: SubjectId,
        subject_line: &str,
        body: &str,
        key: Option<String>,
    ) -> Result<(), AccountError> {
        let request = MailRequest {
            subject_id: subject,
            purpose: PURPOSE.into(),
            subject_line: subject_line.into(),
            body: body.into(),
            unsubscribe: None,
            campaign: None,
        };
        mail::enqueue(&self.store, &request, key).await?;
        Ok(())
    }
}

fn mailer_from(mailer: &Mailer) -> lettre::message::Mailbox {
    mailer.from().clone()
}

/// Refuses a password shorter than 10 characters or longer than 1024 bytes.
fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < 10 || password.len() > 1024 {
        return Err(AccountError::Invalid { field: "password", message: "use at least 10 characters".into() });
    }
    Ok(())
}

/// Why the holder of an account is mailed a reset link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AccountMail {
    /// They (or someone) asked to reset the password.
    PasswordReset,
    /// Someone tried to sign up with their address.
    SignUpAttempt,
}

/// The input of an [`AccountMailJob`]: no address, only its blind index.
#[derive(Debug, Serialize, Deserialize)]
struct AccountMailPayload {
    /// The blind index of the address, base64url.
    email_index: String,
    /// What the mail says.
    why: AccountMail,
}

/// The job handler that mails the holder of an account a password-reset link, after a reset
/// request or a sign-up with their address; for an address without an account it does
/// nothing. Queued for every address alike, it keeps the difference between a known and an
/// unknown address off the request path.
pub struct AccountMailJob {
    accounts: Arc<Accounts>,
}

impl AccountMailJob {
    /// Mails through `accounts` (which queue the mail itself for [`mail::MailJob`]).
    pub fn new(accounts: Arc<Accounts>) -> Self {
        Self { accounts }
    }
}

#[async_trait]
impl JobHandler for AccountMailJob {
    fn kind(&self) -> &'static str {
        MAIL_KIND
    }

    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let payload: AccountMailPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Permanent(format!("malformed account mail job: {e}")))?;
        let index = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&payload.email_index)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| JobError::Permanent("malformed account mail job: bad email index".into()))?;
        self.accounts
            .send_account_mail(&BlindIndex(index), payload.why, job.id)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))
    }
}
