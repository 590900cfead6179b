//! National identifiers that can be validated: each function takes the normalised
//! identifier (digits and upper-case letters only) and applies that scheme's published
//! structure and check digit.

fn digit(b: u8) -> u32 {
    u32::from(b - b'0')
}

fn number(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'))
}

fn all_digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

/// US Social Security number, nine digits: area not 000, 666 or 9xx; group not 00; serial
/// not 0000.
pub(crate) fn us_ssn(d: &[u8]) -> bool {
    if d.len() != 9 || !all_digits(d) {
        return false;
    }
    let area = number(&d[..3]);
    let group = number(&d[3..5]);
    let serial = number(&d[5..]);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// Dutch burgerservicenummer, nine digits, the "elfproef": 9·d1 + 8·d2 + … + 2·d8 − d9 is a
/// multiple of 11.
pub(crate) fn nl_bsn(d: &[u8]) -> bool {
    if d.len() != 9 || !all_digits(d) || d.iter().all(|&b| b == b'0') {
        return false;
    }
    let mut sum: i64 = 0;
    for (i, &b) in d[..8].iter().enumerate() {
        sum += (9 - i as i64) * i64::from(digit(b));
    }
    sum -= i64::from(digit(d[8]));
    sum % 11 == 0
}

/// German Steuer-Identifikationsnummer, eleven digits: no leading zero; in the first ten,
/// one digit appears twice or three times (never three in a row) and the others at most
/// once; the last is the ISO 7064 MOD 11,10 check digit.
pub(crate) fn de_steuer_id(d: &[u8]) -> bool {
    if d.len() != 11 || !all_digits(d) || d[0] == b'0' {
        return false;
    }
    let mut counts = [0u8; 10];
    for &b in &d[..10] {
        counts[(b - b'0') as usize] += 1;
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    if repeated.len() != 1 || repeated[0] > 3 {
        return false;
    }
    if repeated[0] == 3 && d[..10].windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return false;
    }
    let mut product = 10u32;
    for &b in &d[..10] {
        let mut sum = (digit(b) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    check == digit(d[10])
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Polish PESEL, eleven digits: a birth date (the month carries the century) and a
/// weighted check digit.
pub(crate) fn pl_pesel(d: &[u8]) -> bool {
    if d.len() != 11 || !all_digits(d) {
        return false;
    }
    let weights = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = d[..10].iter().zip(weights).map(|(&b, w)| digit(b) * w).sum();
    if (10 - sum % 10) % 10 != digit(d[10]) {
        return false;
    }
    let yy = number(&d[..2]) as u32;
    let mm = number(&d[2..4]) as u32;
    let dd = number(&d[4..6]) as u32;
    // The month carries the century; only people born 1900–2029 are plausible.
    let (century, month) = match mm {
        1..=12 => (1900, mm),
        21..=32 if yy < 30 => (2000, mm - 20),
        _ => return false,
    };
    dd >= 1 && dd <= days_in_month(century + yy, month)
}

/// French NIR (numéro de sécurité sociale), fifteen digits: sex, year, month, department,
/// commune, order, then the key 97 − (first thirteen mod 97). Corsica's `2A`/`2B`
/// departments count as 19 and 18 for the key.
pub(crate) fn fr_nir(d: &[u8]) -> bool {
    if d.len() != 15 {
        return false;
    }
    let mut body = [0u8; 13];
    body.copy_from_slice(&d[..13]);
    let mut offset = 0u64;
    match (body[5], body[6]) {
        (b'2', b'A') => {
            body[6] = b'0';
            offset = 1_000_000;
        }
        (b'2', b'B') => {
            body[6] = b'0';
            offset = 2_000_000;
        }
        _ => {}
    }
    if !all_digits(&body) || !all_digits(&d[13..]) {
        return false;
    }
    if !matches!(body[0], b'1' | b'2' | b'3' | b'4' | b'7' | b'8') {
        return false;
    }
    let month = number(&body[3..5]);
    if !((1..=12).contains(&month) || month == 20 || (30..=42).contains(&month) || (50..=99).contains(&month)) {
        return false;
    }
    let n = number(&body) - offset;
    let key = number(&d[13..]);
    key == 97 - n % 97
}

/// Belgian national number (rijksregisternummer), eleven digits: a birth date, a serial
/// and 97 − (first nine mod 97), with a leading 2 for people born from 2000.
pub(crate) fn be_national_number(d: &[u8]) -> bool {
    if d.len() != 11 || !all_digits(d) {
        return false;
    }
    let month = number(&d[2..4]) % 20;
    let day = number(&d[4..6]);
    if month > 12 || day > 31 {
        return false;
    }
    let body = number(&d[..9]);
    let key = number(&d[9..]);
    key == 97 - body % 97 || key == 97 - (2_000_000_000 + body) % 97
}

/// UK NHS number, ten digits with a mod-11 check digit.
pub(crate) fn uk_nhs(d: &[u8]) -> bool {
    if d.len() != 10 || !all_digits(d) {
        return false;
    }
    let sum: u32 = d[..9].iter().enumerate().map(|(i, &b)| digit(b) * (10 - i as u32)).sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == digit(d[9])
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI (eight digits and a check letter) or NIE (X, Y or Z, seven digits and a
/// check letter).
pub(crate) fn es_dni_nie(s: &[u8]) -> bool {
    if s.len() != 9 {
        return false;
    }
    let lead = match s[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        b'0'..=b'9' => u64::from(s[0] - b'0'),
        _ => return false,
    };
    if !all_digits(&s[1..8]) {
        return false;
    }
    let n = lead * 10_000_000 + number(&s[1..8]);
    DNI_LETTERS[(n % 23) as usize] == s[8]
}

/// UK National Insurance number: two prefix letters (not D, F, I, Q, U, V; second not O;
/// not BG, GB, KN, NK, NT, TN, ZZ), six digits, a suffix A to D.
pub(crate) fn uk_nino(s: &[u8]) -> bool {
    if s.len() != 9 || !all_digits(&s[2..8]) {
        return false;
    }
    let (a, b, suffix) = (s[0], s[1], s[8]);
    let bad_first = b"DFIQUV";
    let bad_second = b"DFIQUVO";
    if !a.is_ascii_uppercase() || !b.is_ascii_uppercase() || bad_first.contains(&a) || bad_second.contains(&b) {
        return false;
    }
    if [b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"].iter().any(|p| p[0] == a && p[1] == b) {
        return false;
    }
    matches!(suffix, b'A'..=b'D')
}

const CF_ODD: [u32; 26] =
    [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23];
const CF_DIGIT_SLOTS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
const CF_OMOCODIA: &[u8] = b"LMNPQRSTUV";

/// Italian codice fiscale, sixteen characters: six letters, year, month letter, day (plus
/// 40 for women), a letter and three digits of the place of birth (digits may be replaced by
/// letters, "omocodia"), and a check letter.
pub(crate) fn it_codice_fiscale(s: &[u8]) -> bool {
    if s.len() != 16 || !s.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return false;
    }
    if !s[..6].iter().all(u8::is_ascii_uppercase) || !s[11].is_ascii_uppercase() || !s[15].is_ascii_uppercase() {
        return false;
    }
    if !b"ABCDEHLMPRST".contains(&s[8]) {
        return false;
    }
    for i in CF_DIGIT_SLOTS {
        if !(s[i].is_ascii_digit() || CF_OMOCODIA.contains(&s[i])) {
            return false;
        }
    }
    let slot_digit = |b: u8| -> u32 {
        if b.is_ascii_digit() { digit(b) } else { CF_OMOCODIA.iter().position(|&c| c == b).map_or(0, |p| p as u32) }
    };
    let day = slot_digit(s[9]) * 10 + slot_digit(s[10]);
    if !((1..=31).contains(&day) || (41..=71).contains(&day)) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in s[..15].iter().enumerate() {
        let index = if b.is_ascii_digit() { digit(b) as usize } else { (b - b'A') as usize };
        sum += if i % 2 == 0 { CF_ODD[index] } else { index as u32 };
    }
    s[15] == b'A' + (sum % 26) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid() {
        assert!(us_ssn(b"123456789"));
        assert!(!us_ssn(b"666123456") && !us_ssn(b"900123456") && !us_ssn(b"123006789"));
        assert!(nl_bsn(b"111222333"));
        assert!(nl_bsn(b"123456782"));
        assert!(!nl_bsn(b"123456789"));
        assert!(de_steuer_id(b"86095742719"));
        assert!(de_steuer_id(b"65929970489"));
        assert!(!de_steuer_id(b"86095742718"));
        assert!(!de_steuer_id(b"12345678901"), "no repeated digit");
        assert!(pl_pesel(b"44051401359"));
        assert!(pl_pesel(b"02070803628"));
        assert!(!pl_pesel(b"44051401358"));
        assert!(fr_nir(b"255081416802538"));
        assert!(!fr_nir(b"255081416802539"));
        assert!(be_national_number(b"85073003328"));
        assert!(!be_national_number(b"85073003329"));
        assert!(uk_nhs(b"9434765919"));
        assert!(!uk_nhs(b"9434765918"));
        assert!(es_dni_nie(b"12345678Z"));
        assert!(!es_dni_nie(b"12345678A"));
        assert!(es_dni_nie(b"X1234567L"));
        assert!(uk_nino(b"AB123456C"));
        assert!(!uk_nino(b"BG123456C") && !uk_nino(b"AB123456E") && !uk_nino(b"DA123456A"));
        assert!(it_codice_fiscale(b"RSSMRA85T10A562S"));
        assert!(!it_codice_fiscale(b"RSSMRA85T10A562T"));
    }
}
