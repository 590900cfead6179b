//! [`normalise_email`]: trimmed, the whole address lowercased, minimally checked.

use crate::identifier::IdentifierKind;
use crate::normalise::NormaliseError;

/// Normalises an email address: trims surrounding whitespace and lowercases the whole
/// address (Unicode lowercase).
///
/// Lowercasing the local part is a deliberate choice: RFC 5321 lets a mail server treat
/// `Ada@` and `ada@` as two mailboxes, but almost none do, and people type their address in
/// varying case; one person must find one subject. Gmail-style dots and `+tags` are kept.
///
/// Refused: an empty address; whitespace or control characters inside; anything without
/// exactly one `@`; an empty local part; a domain without a dot or with an empty label (a
/// leading, trailing or doubled dot). Nothing else is checked: whether the address exists
/// is for a confirmation mail to tell.
pub fn normalise_email(value: &str) -> Result<String, NormaliseError> {
    let invalid = |reason| Err(NormaliseError::InvalidEmail { reason });
    let address = value.trim();
    if address.is_empty() {
        return Err(NormaliseError::Empty { kind: IdentifierKind::Email });
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return invalid("it contains whitespace or control characters");
    }
    let mut parts = address.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return invalid(if address.contains('@') { "it has more than one '@'" } else { "it has no '@'" });
    };
    if local.is_empty() {
        return invalid("it has nothing before the '@'");
    }
    if domain.is_empty() {
        return invalid("it has nothing after the '@'");
    }
    if !domain.contains('.') {
        return invalid("its domain has no dot");
    }
    if domain.split('.').any(str::is_empty) {
        return invalid("its domain has an empty label (a leading, trailing or doubled dot)");
    }
    Ok(address.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(value: &str) -> &'static str {
        match normalise_email(value) {
            Err(NormaliseError::InvalidEmail { reason }) => reason,
            other => panic!("expected an invalid email, got {other:?}"),
        }
    }

    #[test]
    fn trims_and_lowercases_the_whole_address() {
        assert_eq!(
            normalise_email("  Ada.Lovelace+News@Example.ORG\n"),
            Ok("ada.lovelace+news@example.org".to_owned())
        );
        assert_eq!(normalise_email("ÄRGER@Beispiel.de"), Ok("ärger@beispiel.de".to_owned()));
        assert_eq!(normalise_email("a@b.c"), Ok("a@b.c".to_owned()));
    }

    #[test]
    fn refuses_empty_addresses() {
        assert_eq!(normalise_email(" \t "), Err(NormaliseError::Empty { kind: IdentifierKind::Email }));
    }

    #[test]
    fn refuses_each_malformation_with_its_reason() {
        assert_eq!(reason("ada.example.org"), "it has no '@'");
        assert_eq!(reason("ada@home@example.org"), "it has more than one '@'");
        assert_eq!(reason("@example.org"), "it has nothing before the '@'");
        assert_eq!(reason("ada@"), "it has nothing after the '@'");
        assert_eq!(reason("ada@localhost"), "its domain has no dot");
        assert_eq!(reason("ada@.example.org"), "its domain has an empty label (a leading, trailing or doubled dot)");
        assert_eq!(reason("ada@example.org."), "its domain has an empty label (a leading, trailing or doubled dot)");
        assert_eq!(reason("ada@example..org"), "its domain has an empty label (a leading, trailing or doubled dot)");
        assert_eq!(reason("ada lovelace@example.org"), "it contains whitespace or control characters");
        assert_eq!(reason("ada@exa\u{0}mple.org"), "it contains whitespace or control characters");
    }

    #[test]
    fn errors_never_contain_the_address() {
        for value in ["secret.person", "secret@person@x.org", "@secret.org", "secret@", "secret@nodot", "secret @x.org"]
        {
            let message = normalise_email(value).expect_err("invalid").to_string();
            assert!(!message.contains("secret"), "{message}");
        }
    }
}
