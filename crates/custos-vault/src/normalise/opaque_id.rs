//! [`normalise_opaque_id`]: cookie ids, account ids and partner pseudonyms.

use crate::identifier::IdentifierKind;
use crate::normalise::NormaliseError;

/// The longest cookie id, account id or partner pseudonym, in bytes after trimming.
pub const MAX_OPAQUE_ID_BYTES: usize = 256;

/// Normalises an opaque identifier (cookie id, account id, partner pseudonym): trims
/// surrounding whitespace and keeps the case, since such ids are often case-sensitive.
///
/// Refused: an empty id, and one longer than [`MAX_OPAQUE_ID_BYTES`] bytes. `kind` only
/// names the identifier in errors.
pub fn normalise_opaque_id(kind: IdentifierKind, value: &str) -> Result<String, NormaliseError> {
    let id = value.trim();
    if id.is_empty() {
        return Err(NormaliseError::Empty { kind });
    }
    if id.len() > MAX_OPAQUE_ID_BYTES {
        return Err(NormaliseError::TooLong { kind, len: id.len(), max: MAX_OPAQUE_ID_BYTES });
    }
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: IdentifierKind = IdentifierKind::CookieId;

    #[test]
    fn trims_and_keeps_case() {
        assert_eq!(normalise_opaque_id(KIND, "  Zx9-AbC_1 \n"), Ok("Zx9-AbC_1".to_owned()));
        assert_eq!(normalise_opaque_id(KIND, "a b"), Ok("a b".to_owned()));
    }

    #[test]
    fn refuses_empty_ids() {
        assert_eq!(normalise_opaque_id(KIND, ""), Err(NormaliseError::Empty { kind: KIND }));
        assert_eq!(
            normalise_opaque_id(IdentifierKind::PartnerPseudonym, "\t "),
            Err(NormaliseError::Empty { kind: IdentifierKind::PartnerPseudonym })
        );
    }

    #[test]
    fn allows_256_bytes_and_no_more() {
        assert!(normalise_opaque_id(KIND, &"a".repeat(256)).is_ok());
        assert!(normalise_opaque_id(KIND, &format!("  {}  ", "a".repeat(256))).is_ok());
        let err = normalise_opaque_id(IdentifierKind::AccountId, &"é".repeat(129)).expect_err("too long");
        assert_eq!(err, NormaliseError::TooLong { kind: IdentifierKind::AccountId, len: 258, max: 256 });
        assert!(!err.to_string().contains('é'));
    }
}
