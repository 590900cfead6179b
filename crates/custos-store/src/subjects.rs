//! Data subjects and the identifiers that find them.
//!
//! A subject is a person custos holds data about, known only by a random id. Identifiers
//! (email, phone, cookie id…) are stored as blind indexes: an HMAC of the normalised value
//! under the index key, computed by the vault, never the value itself.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StoreError;

/// The random id of a data subject. It carries no personal meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubjectId(pub Uuid);

impl SubjectId {
    /// A new id: a UUIDv7, time-ordered, so that new people land at the end of every
    /// index keyed by subject instead of on a random page (each commit then writes a few
    /// pages, not one per row). Its first 48 bits are the creation time in milliseconds,
    /// which is no secret from anyone who holds the id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for SubjectId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Declares a string-backed enum with its stored names, `Display` and `FromStr`.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name stored in the database and used in the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = StoreError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::Corrupt(format!(
                        concat!("unknown ", stringify!($name), " `{}`"),
                        other
                    ))),
                }
            }
        }
    };
}
pub(crate) use stored_enum;

stored_enum! {
    /// The kinds of people the policy talks about.
    SubjectKind {
        /// Someone who visits the website.
        Visitor => "visitor",
        /// A visitor who receives a service or provides data through the website.
        User => "user",
        /// A person at a partner company that custos deals with.
        PartnerContact => "partner_contact",
        /// A user, visitor or customer of a partner, known to custos only by pseudonym.
        PartnerEndUser => "partner_end_user",
    }
}

stored_enum! {
    /// The kinds of identifier that can find a subject.
    IdentifierKind {
        /// An email address.
        Email => "email",
        /// A telephone number.
        Phone => "phone",
        /// The id in the visitor's first-party cookie.
        CookieId => "cookie_id",
        /// The operator's own account id.
        AccountId => "account_id",
        /// A partner's pseudonym for one of its end users.
        PartnerPseudonym => "partner_pseudonym",
    }
}

/// A blind index: HMAC-SHA256 of a normalised identifier under the index key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BlindIndex(pub [u8; 32]);

impl fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlindIndex(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

impl TryFrom<Vec<u8>> for BlindIndex {
    type Error = StoreError;

    fn try_from(bytes: Vec<u8>) -> Result<Self, Self::Error> {
        let len = bytes.len();
        bytes
            .try_into()
            .map(BlindIndex)
            .map_err(|_| StoreError::Corrupt(format!("blind index of {len} bytes, expected 32")))
    }
}

/// A subject to create.
#[derive(Debug, Clone)]
pub struct NewSubject {
    /// The id to give it.
    pub id: SubjectId,
    /// What kind of person this is.
    pub kind: SubjectKind,
    /// When custos first learned of the person.
    pub created_at: Timestamp,
}

/// A stored subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The subject's id.
    pub id: SubjectId,
    /// What kind of person this is.
    pub kind: SubjectKind,
    /// When custos first learned of the person.
    pub created_at: Timestamp,
}

/// Subjects and their identifiers.
#[async_trait]
pub trait SubjectStore {
    /// Creates a subject together with its first identifiers, all or nothing.
    ///
    /// Fails with [`StoreError::Conflict`] when the id or one of the identifiers is taken.
    async fn create_subject(
        &self,
        subject: &NewSubject,
        identifiers: &[(IdentifierKind, BlindIndex)],
    ) -> Result<(), StoreError>;

    /// Reads a subject, or `None` when there is no such subject.
    async fn subject(&self, id: SubjectId) -> Result<Option<Subject>, StoreError>;

    /// Links one more identifier to an existing subject.
    ///
    /// Adding an identifier the subject already has is not an error; one held by another
    /// subject is a [`StoreError::Conflict`]; an unknown subject is [`StoreError::NotFound`].
    async fn add_identifier(
        &self,
        id: SubjectId,
        kind: IdentifierKind,
        index: &BlindIndex,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Finds the subject that holds an identifier.
    async fn find_subject(&self, kind: IdentifierKind, index: &BlindIndex) -> Result<Option<SubjectId>, StoreError>;

    /// The identifiers linked to a subject.
    async fn identifiers(&self, id: SubjectId) -> Result<Vec<(IdentifierKind, BlindIndex)>, StoreError>;

    /// Deletes a subject with every identifier and record it has. Returns whether it existed.
    async fn delete_subject(&self, id: SubjectId) -> Result<bool, StoreError>;
}
