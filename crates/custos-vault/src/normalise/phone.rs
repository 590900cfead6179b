//! [`normalise_phone`]: any way of writing a phone number, to E.164 (`+4930123456`).
//!
//! Parsing and validation use the `phonenumber` crate (a port of Google's libphonenumber,
//! with its metadata built in), so validity follows each region's numbering plan.

use std::str::FromStr;

use phonenumber::country;
use phonenumber::{Mode, ParseError};

use crate::identifier::IdentifierKind;
use crate::normalise::NormaliseError;

/// Normalises a phone number to E.164: `+`, the country code and the national number, no
/// spaces (an extension, if any, is dropped).
///
/// A number written without an international prefix is read as a national number of
/// `default_region` (a two-letter region code such as `"DE"`); with no default region it
/// must start with `+` or an international call prefix. Refused: an empty input, one that
/// does not parse as a phone number and one that is not a valid number in its region. The
/// error says what is wrong, never the number.
pub fn normalise_phone(value: &str, default_region: Option<&str>) -> Result<String, NormaliseError> {
    let region = default_region.map(parse_region).transpose()?;
    normalise_phone_in(value, region)
}

/// Reads a two-letter region code, in either case.
pub(crate) fn parse_region(region: &str) -> Result<country::Id, NormaliseError> {
    country::Id::from_str(&region.trim().to_ascii_uppercase()).map_err(|_| NormaliseError::UnknownRegion)
}

/// [`normalise_phone`] with an already parsed default region.
pub(crate) fn normalise_phone_in(value: &str, default_region: Option<country::Id>) -> Result<String, NormaliseError> {
    let invalid = |reason| NormaliseError::InvalidPhone { reason };
    let value = value.trim();
    if value.is_empty() {
        return Err(NormaliseError::Empty { kind: IdentifierKind::Phone });
    }
    let number = phonenumber::parse(default_region, value).map_err(|err| {
        invalid(match err {
            ParseError::NoNumber => "it does not look like a phone number",
            ParseError::InvalidCountryCode if default_region.is_none() && !value.starts_with('+') => {
                "it does not start with '+' and a country code, and no default region was given for national numbers"
            }
            ParseError::InvalidCountryCode => "its country code is not known",
            ParseError::TooShortAfterIdd => "it is too short after the international call prefix",
            ParseError::TooShortNsn => "it is too short",
            ParseError::TooLong => "it is too long",
            ParseError::MalformedInteger(_) => "its digits do not form a national number",
        })
    })?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid("it is not a valid number in its region's numbering plan"));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(value: &str, region: Option<&str>) -> &'static str {
        match normalise_phone(value, region) {
            Err(NormaliseError::InvalidPhone { reason }) => reason,
            other => panic!("expected an invalid phone number, got {other:?}"),
        }
    }

    #[test]
    fn international_numbers_need_no_region() {
        assert_eq!(normalise_phone("+49 30 123456", None), Ok("+4930123456".to_owned()));
        assert_eq!(normalise_phone(" +1 (201) 555-0123 ", None), Ok("+12015550123".to_owned()));
        assert_eq!(normalise_phone("+44 7400 123456", Some("DE")), Ok("+447400123456".to_owned()));
    }

    #[test]
    fn national_numbers_use_the_default_region() {
        assert_eq!(normalise_phone("030 123456", Some("DE")), Ok("+4930123456".to_owned()));
        assert_eq!(normalise_phone("030/123456", Some("de")), Ok("+4930123456".to_owned()));
        assert_eq!(normalise_phone("07400 123456", Some("GB")), Ok("+447400123456".to_owned()));
        assert_eq!(normalise_phone("00 49 30 123456", Some("DE")), Ok("+4930123456".to_owned()));
    }

    #[test]
    fn every_spelling_of_one_number_gives_one_result() {
        let spellings = ["+49 30 123456", "+49 (0)30 123456", "030 123456", "0049 30 123456", "+49-30-123456"];
        for spelling in spellings {
            assert_eq!(normalise_phone(spelling, Some("DE")), Ok("+4930123456".to_owned()), "{spelling}");
        }
    }

    #[test]
    fn refuses_empty_unparsable_and_invalid_numbers() {
        assert_eq!(normalise_phone("  ", Some("DE")), Err(NormaliseError::Empty { kind: IdentifierKind::Phone }));
        assert_eq!(reason("hello", Some("DE")), "it does not look like a phone number");
        assert_eq!(
            reason("030 123456", None),
            "it does not start with '+' and a country code, and no default region was given for national numbers"
        );
        assert_eq!(reason("+999 123456", None), "its country code is not known");
        assert_eq!(reason("+49 1", None), "it is too short");
        assert_eq!(reason("+49 12345678901234567890", None), "it is too long");
        assert_eq!(reason("+1 000 000 0000", None), "its digits do not form a national number");
        assert_eq!(reason("+1 201 055 0123", None), "it is not a valid number in its region's numbering plan");
        assert_eq!(reason("+49 30 1", None), "it is not a valid number in its region's numbering plan");
    }

    #[test]
    fn refuses_unknown_regions() {
        assert_eq!(normalise_phone("030 123456", Some("XX")), Err(NormaliseError::UnknownRegion));
        assert_eq!(normalise_phone("030 123456", Some("Germany")), Err(NormaliseError::UnknownRegion));
    }

    #[test]
    fn errors_never_contain_the_number() {
        for (value, region) in [
            ("0301234567890123456789", Some("DE")),
            ("030 98765", None),
            ("+1 201 055 0123", None),
            ("98765", Some("DE")),
        ] {
            let message = normalise_phone(value, region).expect_err("invalid").to_string();
            assert!(!message.chars().any(|c| c.is_ascii_digit()), "{message}");
        }
    }
}
