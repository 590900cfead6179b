//! What a scan reports: the kind of PII, where it is, and how sure the detector is.

use std::fmt;

/// A kind of personal data, or a secret, that the detector finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiType {
    /// An email address.
    Email,
    /// A telephone number valid under libphonenumber's rules.
    Phone,
    /// A payment card number (Luhn check and an issuer's range).
    PaymentCard,
    /// An international bank account number (mod-97 check and the country's length).
    Iban,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A national identifier: US SSN, UK NINO, German Steuer-ID, French NIR, Spanish
    /// DNI/NIE, Italian codice fiscale, Dutch BSN, Polish PESEL, Belgian national number.
    NationalId,
    /// A postal address, or its street part.
    PostalAddress,
    /// A person's name.
    PersonName,
    /// A credential: API key, access token, private key, password.
    Secret,
}

impl PiiType {
    /// Every kind, in declaration order.
    pub const ALL: [PiiType; 9] = [
        PiiType::Email,
        PiiType::Phone,
        PiiType::PaymentCard,
        PiiType::Iban,
        PiiType::IpAddress,
        PiiType::NationalId,
        PiiType::PostalAddress,
        PiiType::PersonName,
        PiiType::Secret,
    ];

    /// The stable machine-readable name: `email`, `phone`, `payment_card`, `iban`,
    /// `ip_address`, `national_id`, `postal_address`, `person_name` or `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiType::Email => "email",
            PiiType::Phone => "phone",
            PiiType::PaymentCard => "payment_card",
            PiiType::Iban => "iban",
            PiiType::IpAddress => "ip_address",
            PiiType::NationalId => "national_id",
            PiiType::PostalAddress => "postal_address",
            PiiType::PersonName => "person_name",
            PiiType::Secret => "secret",
        }
    }

    /// The kind named by [`PiiType::as_str`], if any.
    pub fn from_name(name: &str) -> Option<PiiType> {
        PiiType::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for PiiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of PII found in a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// What was found.
    pub kind: PiiType,
    /// Byte offset of the first byte of the match in the value (on a char boundary).
    pub start: usize,
    /// Byte offset just past the match (on a char boundary).
    pub end: usize,
    /// How sure the detector is, from 0 to 1.
    pub confidence: f32,
}

impl Finding {
    pub(crate) fn new(kind: PiiType, start: usize, end: usize, confidence: f32) -> Self {
        Self { kind, start, end, confidence }
    }

    /// Whether the two findings share at least one byte.
    pub fn overlaps(&self, other: &Finding) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A finding in one field of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldFinding {
    /// The path of the field: `user.contact.email`, `items[2].note`; `$` for a record that is
    /// not an object.
    pub field: String,
    /// What was found in the field's value (offsets into that value's text).
    pub finding: Finding,
}
