//! Value generators: valid PII by the real rules (Luhn, mod-97, check letters, phone ranges)
//! and hard negatives that look like it.

use super::Rng;
use super::data::Locale;

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

impl Rng {
    pub(super) fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    pub(super) fn chars_from(&mut self, set: &[u8], n: usize) -> String {
        (0..n).map(|_| char::from(set[self.below(set.len() as u64) as usize])).collect()
    }

    pub(super) fn hex(&mut self, n: usize) -> String {
        self.chars_from(HEX, n)
    }

    pub(super) fn alnum(&mut self, n: usize) -> String {
        self.chars_from(ALNUM, n)
    }
}

fn group(s: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    for &n in sizes {
        if i >= s.len() {
            break;
        }
        let j = (i + n).min(s.len());
        out.push(&s[i..j]);
        i = j;
    }
    if i < s.len() {
        out.push(&s[i..]);
    }
    out.join(sep)
}

fn group_by(s: &str, n: usize, sep: &str) -> String {
    let sizes = vec![n; s.len().div_ceil(n)];
    group(s, &sizes, sep)
}

/// A phone number valid in the locale, written in one of its usual ways.
pub(super) fn phone(rng: &mut Rng, locale: &Locale) -> String {
    let r = rng.below(100);
    match locale.tag {
        "en-US" => {
            let area = rng.pick(&["201", "212", "213", "305", "312", "404", "415", "503", "512", "617", "702", "713"]);
            let exchange = format!("{}{}", 2 + rng.below(8), rng.digits(2));
            let exchange = if exchange == "555" { "556".to_owned() } else { exchange };
            let line = rng.digits(4);
            match r {
                0..=29 => format!("({area}) {exchange}-{line}"),
                30..=54 => format!("{area}-{exchange}-{line}"),
                55..=64 => format!("{area}.{exchange}.{line}"),
                65..=74 => format!("+1 {area} {exchange} {line}"),
                75..=84 => format!("1-{area}-{exchange}-{line}"),
                _ => format!("+1{area}{exchange}{line}"),
            }
        }
        "en-GB" => {
            if rng.chance(0.6) {
                let n = format!("7{}{}", rng.pick(&["4", "5", "7", "8", "9"]), rng.digits(8));
                match r {
                    0..=49 => format!("0{} {}", &n[..4], &n[4..]),
                    50..=79 => format!("+44 {} {}", &n[..4], &n[4..]),
                    _ => format!("+44{n}"),
                }
            } else {
                let n = format!("20{}{}", rng.pick(&["7", "8", "3"]), rng.digits(7));
                match r {
                    0..=49 => format!("0{} {} {}", &n[..2], &n[2..6], &n[6..]),
                    50..=79 => format!("+44 (0){} {} {}", &n[..2], &n[2..6], &n[6..]),
                    _ => format!("+44 {} {} {}", &n[..2], &n[2..6], &n[6..]),
                }
            }
        }
        "de-DE" => {
            if rng.chance(0.6) {
                let prefix = rng.pick(&["151", "152", "157", "160", "162", "170", "171", "172", "173", "176", "178"]);
                let len = if prefix.starts_with("15") { 8 } else { 7 + rng.below(2) as usize };
                let rest = rng.digits(len);
                let rest = format!("{}{}", 1 + rng.below(9), &rest[1..]);
                match r {
                    0..=39 => format!("0{prefix} {rest}"),
                    40..=54 => format!("0{prefix}-{rest}"),
                    55..=79 => format!("+49 {prefix} {rest}"),
                    _ => format!("+49{prefix}{rest}"),
                }
            } else {
                let area = rng.pick(&["30", "40", "89", "221", "69"]);
                let len = 6 + rng.below(2) as usize;
                let rest = format!("{}{}", 2 + rng.below(7), rng.digits(len));
                match r {
                    0..=39 => format!("0{area} {rest}"),
                    40..=59 => format!("0{area}/{rest}"),
                    60..=79 => format!("+49 {area} {rest}"),
                    _ => format!("+49 (0){area} {rest}"),
                }
            }
        }
        "fr-FR" => {
            let first = rng.pick(&["6", "7", "1", "2", "3", "4", "5", "9"]);
            // 069x belongs to the overseas departments, which are regions of their own.
            let n = format!("{first}{}{}", 1 + rng.below(8), rng.digits(7));
            let n = if first == "7" { format!("7{}{}", 3 + rng.below(7), &n[2..]) } else { n };
            match r {
                0..=39 => format!("0{}", group(&n, &[1, 2, 2, 2, 2], " ")),
                40..=54 => format!("0{}", group(&n, &[1, 2, 2, 2, 2], ".")),
                55..=64 => format!("0{n}"),
                65..=89 => format!("+33 {}", group(&n, &[1, 2, 2, 2, 2], " ")),
                _ => format!("+33{n}"),
            }
        }
        "es-ES" => {
            let n = if rng.chance(0.6) {
                format!("6{}", rng.digits(8))
            } else {
                format!("9{}{}", rng.pick(&["1", "3", "5", "6"]), rng.digits(7))
            };
            match r {
                0..=29 => group(&n, &[3, 2, 2, 2], " "),
                30..=49 => group(&n, &[3, 3, 3], " "),
                50..=74 => format!("+34 {}", group(&n, &[3, 3, 3], " ")),
                75..=89 => format!("+34{n}"),
                _ => n,
            }
        }
        "it-IT" => {
            if rng.chance(0.6) {
                let n =
                    format!("3{}{}", rng.pick(&["20", "28", "33", "35", "38", "40", "47", "48", "49"]), rng.digits(7));
                match r {
                    0..=39 => group(&n, &[3, 3, 4], " "),
                    40..=64 => format!("+39 {}", group(&n, &[3, 3, 4], " ")),
                    65..=79 => format!("+39{n}"),
                    _ => n,
                }
            } else {
                let n = format!("0{}{}", rng.pick(&["6", "2"]), rng.digits(8));
                match r {
                    0..=49 => group(&n, &[2, 4, 4], " "),
                    _ => format!("+39 {}", group(&n, &[2, 4, 4], " ")),
                }
            }
        }
        _ => {
            if rng.chance(0.6) {
                let n = format!("6{}{}", 1 + rng.below(5), rng.digits(7));
                match r {
                    0..=34 => format!("0{} {}", &n[..1], &n[1..]),
                    35..=54 => format!("0{}-{}", &n[..1], &n[1..]),
                    55..=79 => format!("+31 {} {}", &n[..1], &n[1..]),
                    _ => format!("+31{n}"),
                }
            } else {
                let n = format!("20{}{}", 1 + rng.below(8), rng.digits(6));
                match r {
                    0..=49 => format!("0{} {} {}", &n[..2], &n[2..5], &n[5..]),
                    _ => format!("+31 {} {} {}", &n[..2], &n[2..5], &n[5..]),
                }
            }
        }
    }
}

fn luhn_complete(body: &str) -> String {
    for d in 0..10 {
        let candidate = format!("{body}{d}");
        if crate::card::luhn(candidate.as_bytes()) {
            return candidate;
        }
    }
    format!("{body}0")
}

/// A card number that passes Luhn in a real issuer's range, formatted.
pub(super) fn card(rng: &mut Rng) -> String {
    let (prefix, len) = match rng.below(10) {
        0..=3 => ("4".to_owned(), 16),
        4..=6 => (format!("5{}", 1 + rng.below(5)), 16),
        7 => (format!("3{}", rng.pick(&["4", "7"])), 15),
        8 => ("6011".to_owned(), 16),
        _ => (format!("{}", 2221 + rng.below(500)), 16),
    };
    let body = format!("{prefix}{}", rng.digits(len - 1 - prefix.len()));
    let number = luhn_complete(&body);
    match (len, rng.below(3)) {
        (15, 0) => group(&number, &[4, 6, 5], " "),
        (15, _) => number,
        (_, 0) => group_by(&number, 4, " "),
        (_, 1) => group_by(&number, 4, "-"),
        _ => number,
    }
}

/// A sixteen-digit number that fails Luhn (a gift card, a tracking number).
pub(super) fn not_a_card(rng: &mut Rng) -> String {
    let mut s = format!("{}{}", 1 + rng.below(9), rng.digits(15));
    if crate::card::luhn(s.as_bytes()) {
        let last = s.pop().map_or(0, |c| c as u8 - b'0');
        s.push(char::from(b'0' + (last + 1) % 10));
    }
    if rng.chance(0.3) { group_by(&s, 4, " ") } else { s }
}

fn mod97(s: &str) -> u32 {
    let mut rem = 0u32;
    for c in s.bytes() {
        if c.is_ascii_digit() {
            rem = (rem * 10 + u32::from(c - b'0')) % 97;
        } else {
            rem = (rem * 100 + u32::from(c - b'A') + 10) % 97;
        }
    }
    rem
}

/// A valid IBAN of the locale's country (or a neighbour's), compact or in groups of four.
pub(super) fn iban(rng: &mut Rng, locale: &Locale) -> String {
    let country = match locale.country {
        "US" => rng.pick(&["DE", "GB", "FR"]),
        c => c,
    };
    let bban = match country {
        "DE" => rng.digits(18),
        "GB" => format!("{}{}", rng.chars_from(UPPER, 4), rng.digits(14)),
        "FR" => rng.digits(23),
        "ES" => rng.digits(20),
        "IT" => format!("{}{}", rng.chars_from(UPPER, 1), rng.digits(22)),
        "NL" => format!("{}{}", rng.pick(&["ABNA", "INGB", "RABO", "SNSB", "TRIO"]), rng.digits(10)),
        _ => rng.digits(12),
    };
    let check = 98 - mod97(&format!("{bban}{country}00"));
    let iban = format!("{country}{check:02}{bban}");
    if rng.chance(0.5) { group_by(&iban, 4, " ") } else { iban }
}

/// A valid national identifier of the locale, and the field name it usually goes under.
pub(super) fn national_id(rng: &mut Rng, locale: &Locale) -> (String, &'static str) {
    match locale.tag {
        "en-US" => {
            let area = loop {
                let a = 1 + rng.below(899);
                if a != 666 {
                    break a;
                }
            };
            let s = format!("{area:03}-{:02}-{:04}", 1 + rng.below(99), 1 + rng.below(9999));
            (s, "ssn")
        }
        "en-GB" => {
            let first = rng.chars_from(b"ABCEGHJKLMNOPRSTWXYZ", 1);
            let second = rng.chars_from(b"ABCEGHJKLMNPRSTWXYZ", 1);
            let prefix = format!("{first}{second}");
            let prefix = if ["BG", "GB", "KN", "NK", "NT", "TN", "ZZ"].contains(&prefix.as_str()) {
                "AB".into()
            } else {
                prefix
            };
            let d = rng.digits(6);
            let suffix = rng.chars_from(b"ABCD", 1);
            let s = match rng.below(3) {
                0 => format!("{prefix} {} {} {} {suffix}", &d[..2], &d[2..4], &d[4..]),
                1 => format!("{prefix} {d} {suffix}"),
                _ => format!("{prefix}{d}{suffix}"),
            };
            (s, "ni_number")
        }
        "de-DE" => {
            let s = steuer_id(rng);
            let s = if rng.chance(0.4) { group(&s, &[2, 3, 3, 3], " ") } else { s };
            (s, "steuer_id")
        }
        "fr-FR" => {
            let body = format!(
                "{}{:02}{:02}{:02}{:03}{:03}",
                1 + rng.below(2),
                rng.below(100),
                1 + rng.below(12),
                1 + rng.below(95),
                1 + rng.below(999),
                1 + rng.below(999)
            );
            let n: u64 = body.parse().unwrap_or(0);
            let s = format!("{body}{:02}", 97 - n % 97);
            let s = if rng.chance(0.5) { group(&s, &[1, 2, 2, 2, 3, 3, 2], " ") } else { s };
            (s, "numero_securite_sociale")
        }
        "es-ES" => {
            let letters = b"TRWAGMYFPDXBNJZSQVHLCKE";
            if rng.chance(0.75) {
                let n = 10_000_000 + rng.below(89_999_999);
                (format!("{n}{}", char::from(letters[(n % 23) as usize])), "dni")
            } else {
                let lead = rng.below(3);
                let n = rng.below(10_000_000);
                let full = lead * 10_000_000 + n;
                let s =
                    format!("{}{n:07}{}", ["X", "Y", "Z"][lead as usize], char::from(letters[(full % 23) as usize]));
                (s, "nie")
            }
        }
        "it-IT" => (codice_fiscale(rng), "codice_fiscale"),
        _ => {
            let s = loop {
                let d = format!("{}{}", 1 + rng.below(9), rng.digits(8));
                if crate::national_id::nl_bsn(d.as_bytes()) {
                    break d;
                }
            };
            (s, "bsn")
        }
    }
}

fn steuer_id(rng: &mut Rng) -> String {
    loop {
        // Ten digits, one of them twice, one missing, no leading zero.
        let mut digits: Vec<u8> = (0..10).collect();
        for i in (1..digits.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            digits.swap(i, j);
        }
        let dup = digits[0];
        digits[9] = dup;
        for i in (1..digits.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            digits.swap(i, j);
        }
        if digits[0] == 0 {
            continue;
        }
        let body: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        for c in 0..10u8 {
            let s = format!("{body}{c}");
            if crate::national_id::de_steuer_id(s.as_bytes()) {
                return s;
            }
        }
    }
}

fn codice_fiscale(rng: &mut Rng) -> String {
    loop {
        let mut s = rng.chars_from(b"BCDFGHLMNPRSTVZ", 6);
        s.push_str(&rng.digits(2));
        s.push_str(&rng.chars_from(b"ABCDEHLMPRST", 1));
        let day = 1 + rng.below(31) + if rng.chance(0.5) { 40 } else { 0 };
        s.push_str(&format!("{day:02}"));
        s.push_str(&rng.chars_from(b"ABCDEFGHILMZ", 1));
        s.push_str(&rng.digits(3));
        for c in b'A'..=b'Z' {
            let candidate = format!("{s}{}", char::from(c));
            if crate::national_id::it_codice_fiscale(candidate.as_bytes()) {
                return candidate;
            }
        }
    }
}

/// A valid Polish PESEL (some EU records carry one).
pub(super) fn pesel(rng: &mut Rng) -> String {
    loop {
        let s = format!("{:02}{:02}{:02}{}", rng.below(100), 1 + rng.below(12), 1 + rng.below(28), rng.digits(4));
        for c in 0..10 {
            let candidate = format!("{s}{c}");
            if crate::national_id::pl_pesel(candidate.as_bytes()) {
                return candidate;
            }
        }
    }
}

/// An IPv4 or IPv6 address.
pub(super) fn ip(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=5 => {
            // A public address: not 127/8 (loopback) nor 10/8.
            let first = loop {
                let f = 11 + rng.below(212);
                if f != 127 {
                    break f;
                }
            };
            format!("{first}.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
        }
        6 => format!("192.168.{}.{}", rng.below(256), 1 + rng.below(254)),
        7 => format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254)),
        8 => format!("2001:db8:{}:{}::{}", rng.hex(4), rng.hex(3), rng.hex(2)),
        _ => (0..8).map(|_| rng.hex(4)).collect::<Vec<_>>().join(":"),
    }
}

/// A secret: a vendor token, a JWT, a PEM key.
pub(super) fn secret(rng: &mut Rng) -> String {
    match rng.below(8) {
        0 => format!("AKIA{}", rng.chars_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
        1 => format!("ghp_{}", rng.alnum(36)),
        2 => format!("sk_live_{}", rng.alnum(24)),
        3 => format!("xoxb-{}-{}-{}", rng.digits(12), rng.digits(12), rng.alnum(24)),
        4 => jwt(rng),
        5 => format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n{}\n-----END PRIVATE KEY-----",
            rng.chars_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 64),
            rng.chars_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
        ),
        6 => format!("glpat-{}", rng.alnum(20)),
        _ => format!("AIza{}", rng.chars_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 35)),
    }
}

fn b64url(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..=chunk.len() {
            out.push(char::from(T[((n >> (18 - 6 * k)) & 63) as usize]));
        }
    }
    out
}

fn jwt(rng: &mut Rng) -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = format!(r#"{{"sub":"{}","iat":{}}}"#, rng.digits(8), 1_700_000_000 + rng.below(50_000_000));
    let payload = b64url(payload.as_bytes());
    let sig = rng.chars_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 43);
    format!("{header}.{payload}.{sig}")
}

/// A random high-entropy key or password for a field whose name says it is secret.
pub(super) fn raw_secret(rng: &mut Rng, password: bool) -> String {
    if password {
        let len = 8 + rng.below(8) as usize;
        let mut s = rng.alnum(len);
        s.push(char::from(b"!#$%&*?@"[rng.below(8) as usize]));
        s.push_str(&rng.digits(2));
        s
    } else if rng.chance(0.5) {
        let len = 32 + 8 * rng.below(2) as usize;
        rng.hex(len)
    } else {
        let len = 32 + rng.below(9) as usize;
        rng.alnum(len)
    }
}

/// A UUID (version 4 layout).
pub(super) fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        rng.hex(8),
        rng.hex(4),
        rng.hex(3),
        rng.pick(&["8", "9", "a", "b"]),
        rng.hex(3),
        rng.hex(12)
    )
}

/// An ISO 8601 timestamp in one of the usual spellings.
pub(super) fn timestamp(rng: &mut Rng) -> String {
    let (y, mo, d) = (2020 + rng.below(6), 1 + rng.below(12), 1 + rng.below(28));
    let (h, mi, s) = (rng.below(24), rng.below(60), rng.below(60));
    match rng.below(5) {
        0 => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
        1 => format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}+01:00", rng.below(1000)),
        2 => format!("{y}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
        3 => format!("{d:02}.{mo:02}.{y} {h:02}:{mi:02}"),
        _ => format!("{y}-{mo:02}-{d:02}"),
    }
}

/// A date alone.
pub(super) fn date(rng: &mut Rng) -> String {
    let (y, mo, d) = (1950 + rng.below(75), 1 + rng.below(12), 1 + rng.below(28));
    match rng.below(3) {
        0 => format!("{y}-{mo:02}-{d:02}"),
        1 => format!("{d:02}/{mo:02}/{y}"),
        _ => format!("{d:02}.{mo:02}.{y}"),
    }
}

/// An amount of money in one of the usual spellings.
pub(super) fn amount(rng: &mut Rng) -> String {
    let max = if rng.chance(0.2) { 2_000_000 } else { 2_000 };
    let whole = rng.below(max);
    let cents = rng.below(100);
    let thousands = |w: u64, sep: char| -> String {
        let s = w.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        out
    };
    match rng.below(6) {
        0 => format!("{whole}.{cents:02}"),
        1 => format!("${}.{cents:02}", thousands(whole, ',')),
        2 => format!("{},{cents:02} €", thousands(whole, '.')),
        3 => format!("€{whole},{cents:02}"),
        4 => format!("£{}.{cents:02}", thousands(whole, ',')),
        _ => format!("{} EUR", thousands(whole, ' ')),
    }
}

/// A dotted version string.
pub(super) fn version(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{}.{}.{}", rng.below(5), rng.below(30), rng.below(20)),
        1 => format!("v{}.{}.{}", 1 + rng.below(4), rng.below(20), rng.below(10)),
        2 => format!("{}.{}.{}.{}", rng.below(10), rng.below(10), rng.below(10), rng.below(10)),
        3 => format!("10.0.{}.{}", 17_000 + rng.below(6000), rng.below(2000)),
        4 => format!("{}.{}.{}-beta.{}", rng.below(4), rng.below(12), rng.below(9), 1 + rng.below(5)),
        _ => format!("{}.{}", 1 + rng.below(30), rng.below(10)),
    }
}

/// A ten-digit order number.
pub(super) fn order_number(rng: &mut Rng) -> String {
    format!("{}{}", 1 + rng.below(9), rng.digits(9))
}

/// A stock-keeping unit code.
pub(super) fn sku(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("SKU-{}", rng.digits(6)),
        1 => format!(
            "{}-{}-{}",
            rng.chars_from(UPPER, 3),
            rng.pick(&["BLK", "WHT", "RED", "BLU"]),
            rng.pick(&["S", "M", "L", "XL"])
        ),
        2 => format!("{}{}-{}", rng.chars_from(UPPER, 2), rng.digits(4), rng.chars_from(UPPER, 2)),
        _ => format!("{}-{}", rng.chars_from(UPPER, 3), rng.digits(5)),
    }
}

/// A hex digest: MD5, SHA-1 or SHA-256.
pub(super) fn hash(rng: &mut Rng) -> String {
    let len = rng.pick(&[32usize, 40, 64]);
    rng.hex(len)
}

/// An EAN-13 barcode with its check digit.
pub(super) fn ean(rng: &mut Rng) -> String {
    let body = format!("{}{}", rng.pick(&["400", "401", "300", "840", "500", "800", "871"]), rng.digits(9));
    let sum: u32 = body.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A database URL with its password, as found in configuration.
pub(super) fn database_url(rng: &mut Rng) -> String {
    let scheme = rng.pick(&["postgres", "mysql", "mongodb+srv", "redis"]);
    let user = rng.pick(&["app", "admin", "svc_billing", "readonly"]);
    // Passwords in URLs are percent-encoded; these need no encoding.
    let len = 12 + rng.below(9) as usize;
    let password = rng.alnum(len);
    format!("{scheme}://{user}:{password}@db-{}.internal:5432/{}", rng.below(10), rng.pick(&["app", "billing", "crm"]))
}

/// An amount-like, date-like or code-like reference that is not PII.
pub(super) fn reference(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("Invoice {}-{:06}", 2019 + rng.below(7), rng.below(1_000_000)),
        1 => format!(
            "{:.4}, {:.4}",
            35.0 + (rng.below(20_000) as f64) / 1000.0,
            (rng.below(20_000) as f64) / 1000.0 - 5.0
        ),
        2 => format!("{}% off", 5 + rng.below(60)),
        3 => format!("EAN {}", ean(rng)),
        4 => format!(
            "IBAN check failed for DE00 {} {} {} {} {}",
            rng.digits(4),
            rng.digits(4),
            rng.digits(4),
            rng.digits(4),
            rng.digits(2)
        ),
        _ => format!("build {} ({})", version(rng), rng.hex(7)),
    }
}
