//! Forms on the website (seed 1, 2.2): the contact form and the sign-up for information.
//! Each form says which purposes it collects for; the values are stored through the gate,
//! sealed; the consent boxes ticked go into the consent ledger.
//!
//! - Contact (purpose `contact`): name, email, optional phone, message, attachments. The
//!   attachments' types are checked by their content, not their name.
//! - Sign-up (the direct-marketing consent purpose): name and email, with the consent box
//!   that the sign-up needs.
//!
//! A consent to direct marketing asked for by a form (the sign-up, or a box of the contact
//! form) counts only once the person confirms it by the link mailed to the address; until
//! then it is kept sealed apart from everyone ([`crate::confirmations`]).
//!
//! A known email adds to that person's data; a new one creates a user. Everything is
//! validated before anything is stored.
//!
//! A post that the person's own state forbids (a restriction, an objection, an erasure under
//! way) is withheld: nothing of it is stored, the gate's refusal is audited, and the result
//! is [`Received::Withheld`], which the web answers exactly like a stored post. A form that
//! anyone can fill in with anyone's address must not tell them how that person stands.

use std::net::IpAddr;
use std::sync::Arc;

use custos_policy::{LegalBasis, Policy};
use custos_store::{IdentifierKind, SubjectId, SubjectKind};

use crate::confirmations::{self, ConfirmError, PendingConsent};
use crate::consent::{ConsentError, ConsentRecord, ConsentTarget, Consents};
use crate::gate::{Actor, Rule};
use crate::records::{AccessError, NewValue, Records};

/// The longest name kept.
const MAX_NAME: usize = 200;
/// The longest message kept.
const MAX_MESSAGE: usize = 20_000;

/// An attached file.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The name the sender gave it.
    pub filename: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What the contact form sends.
#[derive(Debug, Clone, Default)]
pub struct ContactForm {
    /// The sender's name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Their phone, if given.
    pub phone: Option<String>,
    /// The message.
    pub message: String,
    /// Files attached.
    pub attachments: Vec<Attachment>,
    /// Consent purposes whose boxes were ticked.
    pub consents: Vec<String>,
}

/// What the sign-up form sends.
#[derive(Debug, Clone, Default)]
pub struct SignupForm {
    /// The person's name.
    pub name: String,
    /// Their email.
    pub email: String,
    /// Consent purposes whose boxes were ticked.
    pub consents: Vec<String>,
}

/// Why a form was refused.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// A field is missing or wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong (never the value itself).
        message: String,
    },
    /// An attachment is too large.
    #[error("{field}: larger than {max} bytes")]
    TooLarge {
        /// The field at fault.
        field: String,
        /// The limit.
        max: usize,
    },
    /// Storing failed or the gate refused.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// Recording a consent failed.
    #[error(transparent)]
    Consent(#[from] ConsentError),
}

/// What became of a form post that passed validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Stored for this person.
    Stored(SubjectId),
    /// Kept sealed, apart from everyone, until the person confirms by the link mailed to
    /// the address (see [`crate::confirmations`]).
    AwaitingConfirmation,
    /// Stored nowhere: the person's own state forbids it (see [`Rule::concerns_the_person`]).
    /// The refusal is in the audit log; the sender is answered as for a stored post.
    Withheld {
        /// The person, when the address is known.
        subject: Option<SubjectId>,
        /// The gate's rule.
        rule: Rule,
    },
}

/// Turns a refusal about the person into [`Received::Withheld`]; other errors stay errors.
fn withhold(e: FormError, subject: Option<SubjectId>) -> Result<Received, FormError> {
    match e {
        FormError::Access(AccessError::Denied { rule, .. }) if rule.concerns_the_person() => {
            tracing::info!(rule = rule.code(), "a form post was withheld: the person's own state forbids storing it");
            Ok(Received::Withheld { subject, rule })
        }
        other => Err(other),
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> FormError {
    FormError::Invalid { field: field.into(), message: message.into() }
}

/// The forms.
pub struct Collect {
    records: Arc<Records>,
    consents: Arc<Consents>,
    policy: Arc<Policy>,
    max_attachment: usize,
}

impl std::fmt::Debug for Collect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collect").field("max_attachment", &self.max_attachment).finish_non_exhaustive()
    }
}

impl Collect {
    /// The forms, storing through `records` and `consents`; attachments up to `max_attachment` bytes.
    pub fn new(records: Arc<Records>, consents: Arc<Consents>, policy: Arc<Policy>, max_attachment: usize) -> Self {
        Self { records, consents, policy, max_attachment }
    }

    /// The contact form.
    pub async fn contact(&self, form: &ContactForm, source_ip: Option<IpAddr>) -> Result<Received, FormError> {
        let name = text_field("name", &form.name, MAX_NAME)?;
        let message = text_field("message", &form.message, MAX_MESSAGE)?;
        self.check_consents(&form.consents)?;
        let mut files = Vec::with_capacity(form.attachments.len());
        for (i, attachment) in form.attachments.iter().enumerate() {
            let field = format!("attachments[{i}]");
            if attachment.bytes.len() > self.max_attachment {
                return Err(FormError::TooLarge { field, max: self.max_attachment });
            }
            let kind = sniff(&attachment.bytes)
                .ok_or_else(|| invalid(&field, "only PDF, PNG, JPEG, GIF and plain text files are accepted"))?;
            files.push(frame_attachment(&attachment.filename, kind, &attachment.bytes));
        }
        let mut values = vec![
            NewValue { purpose: "contact", category: "user.name", value: name.as_bytes() },
            NewValue { purpose: "contact", category: "user.contact.email", value: form.email.trim().as_bytes() },
            NewValue { purpose: "contact", category: "user.content.private", value: message.as_bytes() },
        ];
        let phone = form.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
        if let Some(phone) = phone {
            values.push(NewValue {
                purpose: "contact",
                category: "user.contact.phone_number",
                value: phone.as_bytes(),
            });
        }
        for file in &files {
            values.push(NewValue { purpose: "contact", category: "user.content.private", value: file });
        }
        let mut identifiers = vec![(IdentifierKind::Email, form.email.as_str())];
        if let Some(phone) = phone {
            identifiers.push((IdentifierKind::Phone, phone));
        }
        let subject = match self.store(&identifiers, &values).await? {
            Received::Stored(subject) => subject,
            withheld => return Ok(withheld),
        };
        // A box for direct marketing waits for the person's confirmation by email; the
        // others are recorded with the message.
        let (direct, now): (Vec<String>, Vec<String>) =
            form.consents.iter().cloned().partition(|id| self.policy.purpose(id).is_some_and(|p| p.direct_marketing));
        self.record_consents(subject, &now, "form", source_ip).await?;
        if !direct.is_empty() {
            self.ask_confirmation(&name, &form.email, direct, source_ip).await?;
        }
        Ok(Received::Stored(subject))
    }

    /// The sign-up for information: needs the direct-marketing consent box. Nothing is
    /// stored with anyone and no consent counts until the person confirms by the link mailed
    /// to the address ([`crate::confirmations`]); the answer is
    /// [`Received::AwaitingConfirmation`] for every address alike.
    pub async fn signup(&self, form: &SignupForm, source_ip: Option<IpAddr>) -> Result<Received, FormError> {
        let name = text_field("name", &form.name, MAX_NAME)?;
        self.check_consents(&form.consents)?;
        let marketing = self
            .policy
            .purposes
            .iter()
            .find(|p| p.direct_marketing && p.legal_basis == LegalBasis::Consent)
            .ok_or_else(|| invalid("consents", "the policy has no direct-marketing purpose to sign up for"))?;
        if !form.consents.iter().any(|c| c == &marketing.id) {
            return Err(invalid("consents", format!("tick the box for `{}` to sign up", marketing.id)));
        }
        self.check_email(&form.email)?;
        self.ask_confirmation(&name, &form.email, form.consents.clone(), source_ip).await?;
        Ok(Received::AwaitingConfirmation)
    }

    /// Whether `token` names a confirmation still waiting (its link valid, unused, unexpired).
    pub async fn awaiting(&self, token: &str) -> Result<bool, custos_store::StoreError> {
        let Some(id) = confirmations::verify(self.records.vault(), token) else { return Ok(false) };
        Ok(self.records.store().confirmation(id, self.records.clock().now()).await?.is_some())
    }

    /// Confirms a consent asked for by a form, from the link mailed to the person: records
    /// it (method `email`) and stores the name and address for its purposes. A link works
    /// once; if storing fails, it keeps working.
    pub async fn confirm(&self, token: &str) -> Result<Received, ConfirmError> {
        let vault = self.records.vault();
        let id = confirmations::verify(vault, token).ok_or(ConfirmError::BadLink)?;
        let store = self.records.store();
        let row = store.take_confirmation(id, self.records.clock().now()).await?.ok_or(ConfirmError::BadLink)?;
        let pending = confirmations::open(vault, &row)?;
        match self.subscribe(&pending).await {
            Ok(received) => Ok(received),
            Err(e) => {
                if let Err(put) = store.put_confirmation(&row).await {
                    tracing::warn!(error = %put, "a failed confirmation could not be put back: its link no longer works");
                }
                Err(e.into())
            }
        }
    }

    /// What a confirmed sign-up does: the consents recorded, the name and address stored
    /// for the direct-marketing purposes among them.
    async fn subscribe(&self, pending: &PendingConsent) -> Result<Received, FormError> {
        let name = pending.name.as_bytes();
        let email = pending.email.trim().as_bytes();
        let mut values = Vec::new();
        for purpose in pending.purposes.iter().filter_map(|id| self.policy.purpose(id)).filter(|p| p.direct_marketing) {
            for (category, value) in [("user.name", name), ("user.contact.email", email)] {
                if purpose.categories.iter().any(|c| c == category) {
                    values.push(NewValue { purpose: &purpose.id, category, value });
                }
            }
        }
        let identifiers = [(IdentifierKind::Email, pending.email.as_str())];
        let existing = self.records.find(IdentifierKind::Email, &pending.email).await?;
        let subject = match existing {
            Some(id) => {
                // The values need the consents recorded below, and the person's own grant lifts
                // their earlier unsubscribe; anything else in their state that forbids the
                // values (a restriction) withholds the whole confirmation before any of it is
                // stored.
                let mut state = self.records.state(id).await?;
                for purpose in &pending.purposes {
                    state.consents.insert(purpose.clone());
                    state.objections.remove(purpose);
                }
                if let Err(e) = self.records.check_writes(&Actor::System, id, &state, &values).await {
                    return withhold(e.into(), Some(id));
                }
                id
            }
            None => self.records.create_subject(&Actor::System, SubjectKind::User, &identifiers, &[]).await?.0,
        };
        // Consent first: the values below need it.
        self.record_consents(subject, &pending.purposes, "email", pending.source_ip).await?;
        self.records.write_all(&Actor::System, subject, &values).await?;
        Ok(Received::Stored(subject))
    }

    /// Keeps what the form sent for `purposes` sealed and mails the address a link to
    /// confirm it.
    async fn ask_confirmation(
        &self,
        name: &str,
        email: &str,
        purposes: Vec<String>,
        source_ip: Option<IpAddr>,
    ) -> Result<(), FormError> {
        let pending = PendingConsent {
            name: name.to_owned(),
            email: email.trim().to_owned(),
            purposes,
            source_ip: source_ip.and_then(|ip| crate::consent::truncate_ip(ip).parse().ok()),
        };
        let store = self.records.store();
        confirmations::ask(store, self.records.vault(), self.records.clock().as_ref(), &pending)
            .await
            .map_err(|e| FormError::Access(AccessError::Store(e)))?;
        Ok(())
    }

    /// Refuses an address that is not valid (the error never holds it).
    fn check_email(&self, email: &str) -> Result<(), FormError> {
        self.records
            .vault()
            .blind_index(IdentifierKind::Email, email)
            .map(|_| ())
            .map_err(|e| invalid("email", e.to_string()))
    }

    /// Stores `values` for the person with `identifiers[0]`, creating them when new.
    async fn store(
        &self,
        identifiers: &[(IdentifierKind, &str)],
        values: &[NewValue<'_>],
    ) -> Result<Received, FormError> {
        let (kind, email) = identifiers[0];
        let existing = self.records.find(kind, email).await.map_err(|e| match e {
            AccessError::Invalid { message, .. } => invalid("email", message),
            other => FormError::Access(other),
        })?;
        match existing {
            Some(subject) => match self.records.write_all(&Actor::System, subject, values).await {
                Ok(_) => Ok(Received::Stored(subject)),
                Err(e) => withhold(e.into(), Some(subject)),
            },
            None => {
                let created = self.records.create_subject(&Actor::System, SubjectKind::User, identifiers, values).await;
                match created {
                    Ok((subject, _)) => Ok(Received::Stored(subject)),
                    Err(AccessError::Invalid { field, message }) => {
                        let field =
                            if field == "identifiers[1].value" { "phone".to_owned() } else { "email".to_owned() };
                        Err(invalid(field, message))
                    }
                    Err(e) => withhold(e.into(), None),
                }
            }
        }
    }

    fn check_consents(&self, ticked: &[String]) -> Result<(), FormError> {
        for (i, purpose) in ticked.iter().enumerate() {
            let ok = self.policy.purpose(purpose).is_some_and(|p| p.legal_basis == LegalBasis::Consent);
            if !ok {
                return Err(invalid(
                    format!("consents[{i}]"),
                    format!("`{purpose}` is not a consent purpose of the policy"),
                ));
            }
        }
        Ok(())
    }

    async fn record_consents(
        &self,
        subject: SubjectId,
        ticked: &[String],
        method: &str,
        source_ip: Option<IpAddr>,
    ) -> Result<(), FormError> {
        for purpose in ticked {
            let record = ConsentRecord {
                target: ConsentTarget::Subject(subject),
                purpose: purpose.clone(),
                granted: true,
                method: method.into(),
                text_version: String::new(),
                source_ip,
            };
            self.consents.record(&Actor::System, &record).await?;
        }
        Ok(())
    }
}

/// A required text field, trimmed, at most `max` characters.
fn text_field(field: &str, value: &str, max: usize) -> Result<String, FormError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("longer than {max} characters")));
    }
    Ok(value.to_owned())
}

/// The type of a file, read from its first bytes; `None` for anything not accepted.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        Some("text/plain")
    } else {
        None
    }
}

/// An attachment as stored (inside the sealed value): a 2-byte length, a JSON header with
/// the file's name and type, then the bytes.
fn frame_attachment(filename: &str, kind: &str, bytes: &[u8]) -> Vec<u8> {
    let header = serde_json::json!({"filename": filename, "type": kind}).to_string();
    let len = u16::try_from(header.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(2 + header.len() + bytes.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&header.as_bytes()[..usize::from(len)]);
    out.extend_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_read_from_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"hello, plain text"), Some("text/plain"));
        assert_eq!(sniff(b"MZ\x90\x00\x03"), None, "an executable named .pdf is refused");
        assert_eq!(sniff(b""), None);
    }
}
