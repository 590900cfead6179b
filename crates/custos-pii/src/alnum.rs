//! Identifiers mixing letters and digits: IBANs (compact or in groups of four), Spanish
//! DNI/NIE, UK National Insurance numbers and Italian codici fiscali.

use crate::field::Hint;
use crate::finding::{Finding, PiiType};
use crate::text::{byte_before, is_word_byte};
use crate::{iban, national_id};

/// Finds the mixed identifiers of `value`.
pub(crate) fn scan(value: &str, hint: Hint, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() || byte_before(b, i).is_some_and(is_word_byte) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < b.len() && b[end].is_ascii_alphanumeric() {
            end += 1;
        }
        if end < b.len() && b[end] >= 0x80 {
            i = end;
            continue;
        }
        let next = token_at(b, i, end, hint);
        if let Some(finding) = next {
            i = finding.end;
            out.push(finding);
        } else {
            i = end;
        }
    }
}

/// Whether the token ends cleanly (not glued to more of a word or number).
fn clean_end(b: &[u8], end: usize) -> bool {
    match b.get(end) {
        None => true,
        Some(&c) if is_word_byte(c) => false,
        Some(b'-' | b'.' | b'/' | b'_') => !b.get(end + 1).is_some_and(|&c| is_word_byte(c)),
        Some(_) => true,
    }
}

fn token_at(b: &[u8], start: usize, end: usize, hint: Hint) -> Option<Finding> {
    let token = &b[start..end];
    let upper = |t: &[u8]| -> [u8; 16] {
        let mut out = [0u8; 16];
        for (o, c) in out.iter_mut().zip(t) {
            *o = c.to_ascii_uppercase();
        }
        out
    };

    // IBAN: two letters, two digits, then the rest, perhaps in groups of four.
    if token.len() >= 4 && token[..2].iter().all(u8::is_ascii_uppercase) && token[2..4].iter().all(u8::is_ascii_digit) {
        if token.len() >= 15 && iban::is_valid(token) && clean_end(b, end) {
            return Some(Finding::new(PiiType::Iban, start, end, 0.95));
        }
        if token.len() == 4 {
            let mut compact = token.to_vec();
            let mut j = end;
            while compact.len() < 34 && b.get(j) == Some(&b' ') {
                let g = j + 1;
                let mut k = g;
                while k < b.len() && b[k].is_ascii_alphanumeric() && k - g < 5 {
                    k += 1;
                }
                if k == g || k - g > 4 {
                    break;
                }
                compact.extend_from_slice(&b[g..k]);
                j = k;
                if iban::is_valid(&compact) && clean_end(b, k) {
                    return Some(Finding::new(PiiType::Iban, start, k, 0.95));
                }
            }
        }
    }

    // DNI "12345678Z", "12345678-Z"; NIE "X1234567L".
    if token.len() == 9 && national_id::es_dni_nie(&upper(token)[..9]) && clean_end(b, end) {
        return Some(Finding::new(
            PiiType::NationalId,
            start,
            end,
            if token[8].is_ascii_uppercase() { 0.9 } else { 0.75 },
        ));
    }
    if token.len() == 8
        && token.iter().all(u8::is_ascii_digit)
        && matches!(b.get(end), Some(b'-' | b' '))
        && let Some(&letter) = b.get(end + 1)
        && letter.is_ascii_uppercase()
        && clean_end(b, end + 2)
    {
        let mut s = token.to_vec();
        s.push(letter);
        if national_id::es_dni_nie(&s) {
            return Some(Finding::new(PiiType::NationalId, start, end + 2, 0.9));
        }
    }

    // NINO "AB123456C" or "AB 12 34 56 C".
    if token.len() == 9 && national_id::uk_nino(token) && clean_end(b, end) {
        return Some(Finding::new(PiiType::NationalId, start, end, 0.85));
    }
    // "AB 123456 C".
    if token.len() == 2 && token.iter().all(u8::is_ascii_uppercase) && b.len() >= start + 11 {
        let window = &b[start..start + 11];
        if window[2] == b' ' && window[9] == b' ' {
            let s: Vec<u8> = [&window[..2], &window[3..9], &window[10..11]].concat();
            if national_id::uk_nino(&s) && clean_end(b, start + 11) {
                return Some(Finding::new(PiiType::NationalId, start, start + 11, 0.9));
            }
        }
    }
    if token.len() == 2 && token.iter().all(u8::is_ascii_uppercase) && b.len() >= start + 13 {
        let window = &b[start..start + 13];
        if window[2] == b' ' && window[5] == b' ' && window[8] == b' ' && window[11] == b' ' {
            let s: Vec<u8> = [&window[..2], &window[3..5], &window[6..8], &window[9..11], &window[12..13]].concat();
            if national_id::uk_nino(&s) && clean_end(b, start + 13) {
                return Some(Finding::new(PiiType::NationalId, start, start + 13, 0.9));
            }
        }
    }

    // Codice fiscale.
    if token.len() == 16 && national_id::it_codice_fiscale(&upper(token)[..16]) && clean_end(b, end) {
        let confidence =
            if token.iter().all(|c| !c.is_ascii_lowercase()) || hint == Hint::NationalId { 0.95 } else { 0.7 };
        return Some(Finding::new(PiiType::NationalId, start, end, confidence));
    }

    // Under a national id field (passport, identity card): any identifier-shaped token.
    if hint == Hint::NationalId
        && (6..=20).contains(&token.len())
        && token.iter().any(u8::is_ascii_digit)
        && token.iter().any(u8::is_ascii_alphabetic)
        && clean_end(b, end)
    {
        return Some(Finding::new(PiiType::NationalId, start, end, 0.75));
    }

    // French NIR of Corsica (department 2A or 2B), written without spaces.
    if token.len() == 15 && matches!(&token[5..7], b"2A" | b"2B") && national_id::fr_nir(token) && clean_end(b, end) {
        return Some(Finding::new(PiiType::NationalId, start, end, 0.9));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(value: &str) -> Vec<(PiiType, &str)> {
        let mut out = Vec::new();
        scan(value, Hint::None, &mut out);
        out.iter().map(|f| (f.kind, &value[f.start..f.end])).collect()
    }

    #[test]
    fn mixed_identifiers() {
        assert_eq!(found("IBAN DE89 3704 0044 0532 0130 00."), [(PiiType::Iban, "DE89 3704 0044 0532 0130 00")]);
        assert_eq!(found("NL91ABNA0417164300"), [(PiiType::Iban, "NL91ABNA0417164300")]);
        assert_eq!(found("DNI 12345678Z"), [(PiiType::NationalId, "12345678Z")]);
        assert_eq!(found("NIE X1234567L"), [(PiiType::NationalId, "X1234567L")]);
        assert_eq!(found("12345678-Z"), [(PiiType::NationalId, "12345678-Z")]);
        assert_eq!(found("NI: AB 12 34 56 C"), [(PiiType::NationalId, "AB 12 34 56 C")]);
        assert_eq!(found("NINO AB 123456 C."), [(PiiType::NationalId, "AB 123456 C")]);
        assert_eq!(found("CF RSSMRA85T10A562S"), [(PiiType::NationalId, "RSSMRA85T10A562S")]);
    }

    #[test]
    fn hashes_and_skus_are_not() {
        assert!(found("DE89370400440532013001").is_empty());
        assert!(found("SKU AB123456E").is_empty());
        assert!(found("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08").is_empty());
    }
}
