//! [`KeyId`]: the name of a master key, recorded in every key it wraps.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::VaultError;
use crate::random::random_bytes;

/// The longest master key id, in bytes (it is stored behind a one-byte length).
const MAX_LEN: usize = 64;

/// The id of a master key: 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
///
/// Ids are not secret. A generated id reads `mk-YYYY-MM-DD-xxxxxxxx` (the UTC date and 32
/// random bits in hex), so that a rotation's ids sort by date.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Checks and wraps a given id.
    pub fn new(id: impl Into<String>) -> Result<Self, VaultError> {
        let id = id.into();
        if id.is_empty() {
            return Err(VaultError::InvalidKeyId { reason: "it is empty" });
        }
        if id.len() > MAX_LEN {
            return Err(VaultError::InvalidKeyId { reason: "it is longer than 64 characters" });
        }
        if !id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
            return Err(VaultError::InvalidKeyId { reason: "it has a character outside A-Z a-z 0-9 . _ -" });
        }
        Ok(Self(id))
    }

    /// A fresh id for a key made today: `mk-YYYY-MM-DD-` and 8 random hex digits.
    pub fn generate() -> Self {
        let days = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400;
        let (year, month, day) = civil_from_days(days);
        let [a, b, c, d] = random_bytes::<4>();
        Self(format!("mk-{year:04}-{month:02}-{day:02}-{a:02x}{b:02x}{c:02x}{d:02x}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::str::FromStr for KeyId {
    type Err = VaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        let id = KeyId::new("mk-2026-11-29_1a2b.v2").expect("valid id");
        assert_eq!(id.as_str(), "mk-2026-11-29_1a2b.v2");
        assert_eq!(id.to_string(), "mk-2026-11-29_1a2b.v2");
        assert_eq!(format!("{id:?}"), "\"mk-2026-11-29_1a2b.v2\"");
    }

    #[test]
    fn refuses_empty_long_and_odd_ids() {
        assert!(matches!(KeyId::new(""), Err(VaultError::InvalidKeyId { reason: "it is empty" })));
        assert!(KeyId::new("a".repeat(64)).is_ok());
        assert!(matches!(KeyId::new("a".repeat(65)), Err(VaultError::InvalidKeyId { .. })));
        for bad in ["mk:1", "mk 1", "mk/1", "mké", "mk\n"] {
            assert!(matches!(KeyId::new(bad), Err(VaultError::InvalidKeyId { .. })), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_dated_valid_and_distinct() {
        let a = KeyId::generate();
        let b = KeyId::generate();
        assert_ne!(a, b);
        assert!(KeyId::new(a.as_str()).is_ok());
        let s = a.as_str();
        assert_eq!(s.len(), "mk-2026-11-29-1a2b3c4d".len(), "{s}");
        assert!(s.starts_with("mk-20"), "{s}");
        assert!(s[14..].bytes().all(|b| b.is_ascii_hexdigit()), "{s}");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(59), (1970, 3, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_786), (2026, 11, 29));
        assert_eq!(civil_from_days(20_818), (2026, 12, 31));
    }
}
