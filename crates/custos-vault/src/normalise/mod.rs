//! Normalising identifiers before they are blind-indexed, so that one person's identifier
//! always gives the same index: one file per shape ([`normalise_email`],
//! [`normalise_phone`], [`normalise_opaque_id`]) and [`NormaliseError`].
//!
//! Errors say what is wrong with an input, never what the input was: they may end up in
//! logs, and the input is personal data.

mod email;
mod opaque_id;
mod phone;

use phonenumber::country;

use crate::identifier::IdentifierKind;

pub use self::email::normalise_email;
pub use self::opaque_id::{MAX_OPAQUE_ID_BYTES, normalise_opaque_id};
pub use self::phone::normalise_phone;
pub(crate) use self::phone::parse_region;

/// Why an identifier could not be normalised. Never contains the identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormaliseError {
    /// Nothing but whitespace.
    #[error("the {} is empty", .kind.noun())]
    Empty {
        /// The kind of identifier.
        kind: IdentifierKind,
    },
    /// Longer than the kind allows.
    #[error("the {} is {len} bytes long; at most {max} are allowed", .kind.noun())]
    TooLong {
        /// The kind of identifier.
        kind: IdentifierKind,
        /// Its length in bytes, after trimming.
        len: usize,
        /// The most bytes allowed.
        max: usize,
    },
    /// Not an email address.
    #[error("not a valid email address: {reason}")]
    InvalidEmail {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Not a phone number, or not a valid one.
    #[error("not a valid phone number: {reason}")]
    InvalidPhone {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A default phone region that is not a known region code.
    #[error("the default phone region is not a known two-letter region code (ISO 3166-1 alpha-2, such as \"DE\")")]
    UnknownRegion,
}

/// Normalises `value` as an identifier of `kind`.
///
/// `default_region` (a two-letter region code such as `"DE"`) is used only for phone
/// numbers written without an international prefix.
pub fn normalise(kind: IdentifierKind, value: &str, default_region: Option<&str>) -> Result<String, NormaliseError> {
    let region = default_region.map(parse_region).transpose()?;
    normalise_in(kind, value, region)
}

/// [`normalise`] with an already parsed default region.
pub(crate) fn normalise_in(
    kind: IdentifierKind,
    value: &str,
    default_region: Option<country::Id>,
) -> Result<String, NormaliseError> {
    match kind {
        IdentifierKind::Email => normalise_email(value),
        IdentifierKind::Phone => phone::normalise_phone_in(value, default_region),
        IdentifierKind::CookieId | IdentifierKind::AccountId | IdentifierKind::PartnerPseudonym => {
            normalise_opaque_id(kind, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispatches_by_kind() {
        assert_eq!(normalise(IdentifierKind::Email, " A@B.example ", None), Ok("a@b.example".to_owned()));
        assert_eq!(normalise(IdentifierKind::Phone, "030 123456", Some("DE")), Ok("+4930123456".to_owned()));
        assert_eq!(normalise(IdentifierKind::CookieId, " AbC ", None), Ok("AbC".to_owned()));
        assert_eq!(normalise(IdentifierKind::AccountId, "Acct-1", None), Ok("Acct-1".to_owned()));
        assert_eq!(normalise(IdentifierKind::PartnerPseudonym, "p_9", None), Ok("p_9".to_owned()));
    }

    #[test]
    fn an_unknown_region_fails_for_every_kind() {
        assert_eq!(normalise(IdentifierKind::Email, "a@b.example", Some("XX")), Err(NormaliseError::UnknownRegion));
    }

    #[test]
    fn messages_name_the_kind() {
        assert_eq!(NormaliseError::Empty { kind: IdentifierKind::CookieId }.to_string(), "the cookie id is empty");
        assert_eq!(
            NormaliseError::TooLong { kind: IdentifierKind::AccountId, len: 300, max: 256 }.to_string(),
            "the account id is 300 bytes long; at most 256 are allowed"
        );
    }
}
