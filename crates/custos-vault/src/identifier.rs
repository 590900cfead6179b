//! [`IdentifierKind`]: the kinds of identifier that can find a subject.

use std::fmt;

/// The kinds of identifier that can find a subject through a blind index.
///
/// The same five kinds, with the same names, as `custos_store::IdentifierKind`; the engine
/// maps one to the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdentifierKind {
    /// An email address.
    Email,
    /// A telephone number.
    Phone,
    /// The id in the visitor's first-party cookie.
    CookieId,
    /// The operator's own account id.
    AccountId,
    /// A partner's pseudonym for one of its end users.
    PartnerPseudonym,
}

impl IdentifierKind {
    /// Every kind.
    pub const ALL: [IdentifierKind; 5] =
        [Self::Email, Self::Phone, Self::CookieId, Self::AccountId, Self::PartnerPseudonym];

    /// The stored name, the same as the store's: `email`, `phone`, `cookie_id`, `account_id`,
    /// `partner_pseudonym`. It is part of every blind index, so it never changes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::CookieId => "cookie_id",
            Self::AccountId => "account_id",
            Self::PartnerPseudonym => "partner_pseudonym",
        }
    }

    /// What error messages call it: "email address", "phone number", "cookie id", …
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Email => "email address",
            Self::Phone => "phone number",
            Self::CookieId => "cookie id",
            Self::AccountId => "account id",
            Self::PartnerPseudonym => "partner pseudonym",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_store() {
        let names: Vec<_> = IdentifierKind::ALL.iter().map(|k| k.to_string()).collect();
        assert_eq!(names, ["email", "phone", "cookie_id", "account_id", "partner_pseudonym"]);
    }
}
