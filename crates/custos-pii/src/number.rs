//! Written numbers: runs of digits with the separators people put in phone numbers, card
//! numbers and identifiers (`+`, spaces, `-`, `.`, `/`, parentheses). Each run is found
//! once, then judged as an IPv4 address, a card number, a national identifier or a phone
//! number, in that order; dates, times, amounts, versions and numbers glued to letters
//! (SKUs, UUIDs, hashes) are not runs at all.

use crate::field::Hint;
use crate::finding::{Finding, PiiType};
use crate::phone::PhoneRules;
use crate::text::{byte_before, is_word_byte, preceded_by};
use crate::{card, national_id};

const SPACE: u8 = 1;
const DASH: u8 = 2;
const DOT: u8 = 4;
const SLASH: u8 = 8;
const PAREN: u8 = 16;

const MAX_DIGITS: usize = 24;
const MAX_GROUPS: usize = 16;

/// A run of digits and separators.
struct Run {
    start: usize,
    end: usize,
    digits: [u8; MAX_DIGITS],
    len: usize,
    groups: [u8; MAX_GROUPS],
    ngroups: usize,
    plus: bool,
    seps: u8,
}

impl Run {
    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    fn groups(&self) -> &[u8] {
        &self.groups[..self.ngroups]
    }

    fn text(&self) -> &str {
        // Only ASCII digits are stored.
        std::str::from_utf8(self.digits()).unwrap_or("")
    }
}

/// Words that say a payment card number follows, in the locales the corpus covers.
const CARD_CONTEXT: &[&str] = &[
    "card",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "maestro",
    "jcb",
    "cc ",
    "cc:",
    "cc#",
    "pan ",
    "pan:",
    "karte",
    "kreditkarte",
    "carte",
    "cb ",
    "tarjeta",
    "carta",
    "kaart",
    "karta",
];

const PHONE_CONTEXT: &[&str] = &[
    "tel",
    "phone",
    "call",
    "mobile",
    "cell",
    "fax",
    "whatsapp",
    "sms",
    "text me",
    "reach me",
    "telefon",
    "handy",
    "mobil",
    "anruf",
    "ruf ",
    "tél",
    "téléphone",
    "portable",
    "appel",
    "joindre",
    "teléfono",
    "telefono",
    "móvil",
    "movil",
    "llam",
    "cellulare",
    "chiama",
    "bel ",
    "bellen",
    "telefoon",
    "mobiel",
    "contact",
    "kontakt",
    // Polish "pod numerem" (at the number), "nr tel.": not "numer" alone, which is any number.
    "pod numer",
    "numer tel",
    "nr tel",
    "rückruf",
    // French "rappeler", "rappelé(e)": not "rappel" alone, which is also a reminder.
    "rappeler",
    "rappelé",
    "richiam",
    "terugbel",
    "teruggebeld",
    "gebeld",
];
const ORDER_CONTEXT: &[&str] = &[
    "order",
    "invoice",
    "ref",
    "reference",
    "tracking",
    "parcel",
    "shipment",
    "ticket",
    "case",
    "no.",
    "nr.",
    "#",
    "bestell",
    "rechnung",
    "sendung",
    "commande",
    "facture",
    "colis",
    "pedido",
    "factura",
    "envío",
    "envio",
    "ordine",
    "fattura",
    "spedizione",
    "bestelling",
    "factuur",
    "zending",
    "transaction",
    "txn",
    "account",
];
const SSN_CONTEXT: &[&str] = &["ssn", "social security", "soc. sec", "soc sec"];
const BSN_CONTEXT: &[&str] = &["bsn", "burgerservice", "sofi"];
const STEUER_CONTEXT: &[&str] = &["steuer", "idnr", "identifikationsnummer", "tax id", "tin"];
const PESEL_CONTEXT: &[&str] = &["pesel"];
const NHS_CONTEXT: &[&str] = &["nhs"];
const ID_CONTEXT: &[&str] = &[
    "national id",
    "id number",
    "identity",
    "passport",
    "rijksregister",
    "registre national",
    "insee",
    "sécu",
    "secu",
];

/// Finds the numbers of `value` and pushes what they are.
pub(crate) fn scan(value: &str, hint: Hint, phones: &PhoneRules, threshold: f32, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Jump to the next digit, `+` or `(`.
        match b[i..].iter().position(|&c| c.is_ascii_digit() || c == b'+' || c == b'(') {
            Some(offset) => i += offset,
            None => break,
        }
        let c = b[i];
        let next_digit = b.get(i + 1).is_some_and(u8::is_ascii_digit);
        let starts = c.is_ascii_digit() || ((c == b'+' || c == b'(') && (next_digit || b.get(i + 1) == Some(&b'(')));
        if !starts {
            i += 1;
            continue;
        }
        if after_iban_prefix(b, i) {
            // The groups of an IBAN-shaped string: skip them all.
            let mut j = i;
            while j < b.len() && b[j].is_ascii_alphanumeric() {
                let from = j;
                while j < b.len() && b[j].is_ascii_alphanumeric() && j - from < 5 {
                    j += 1;
                }
                if b.get(j) == Some(&b' ') && b.get(j + 1).is_some_and(u8::is_ascii_alphanumeric) {
                    j += 1;
                } else {
                    break;
                }
            }
            i = skip_token(b, j.max(i));
            continue;
        }
        if !left_ok(b, i) {
            i = skip_token(b, i);
            continue;
        }
        if c.is_ascii_digit()
            && let Some(end) = ipv4(value, i, hint, out)
        {
            i = end;
            continue;
        }
        let run = extract(b, i);
        let next = run.end.max(i + 1);
        if run.len > 0 && run.len <= MAX_DIGITS && right_ok(b, run.end) {
            if let Some((kind, confidence)) = judge(value, &run, hint, phones, threshold) {
                out.push(Finding::new(kind, run.start, run.end, confidence));
            }
            i = next;
        } else {
            i = skip_token(b, next);
        }
    }
}

/// Moves past the current token (letters, digits and joining punctuation), by one byte at
/// least.
fn skip_token(b: &[u8], start: usize) -> usize {
    let from = (start + 1).min(b.len());
    from + b[from..].iter().position(|&c| !TOKEN[c as usize]).unwrap_or(b.len() - from)
}

/// Bytes of a token that a run cannot start inside: word bytes and joining punctuation.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric() || c >= 0x80 || matches!(c, b'-' | b'.' | b'/' | b'_' | b',' | b':' | b'+');
        i += 1;
    }
    t
};

/// Whether the run at `i` follows the "DE89 " of an IBAN written in groups: the rest of an
/// IBAN (valid or not) is not a card or a phone.
fn after_iban_prefix(b: &[u8], i: usize) -> bool {
    i >= 5
        && b[i - 1] == b' '
        && b[i - 5..i - 3].iter().all(u8::is_ascii_uppercase)
        && b[i - 3..i - 1].iter().all(u8::is_ascii_digit)
        && (i == 5 || !is_word_byte(b[i - 6]))
}

/// A run may start here: not glued to a word (`SKU-123`, `v1.2`, `1,234`, `$12`).
fn left_ok(b: &[u8], i: usize) -> bool {
    match byte_before(b, i) {
        None => true,
        Some(p) if is_word_byte(p) => false,
        Some(b'$' | b'#' | b'%' | b'&' | b'\\') => false,
        // "14:22" is a time, but "Tel:0612…" a phone.
        Some(b':') => !byte_before(b, i - 1).is_some_and(|c| c.is_ascii_digit()),
        Some(b'-' | b'.' | b'/' | b'_' | b',' | b'+') => !byte_before(b, i - 1).is_some_and(is_word_byte),
        Some(_) => true,
    }
}

/// A run may end here: not glued to a word (`12345ABC`, `2024-03-15T`), not followed by
/// more number (`14:22`, `1,50`, `12.5%`). An extension (`x123`, `ext. 12`) may follow.
fn right_ok(b: &[u8], end: usize) -> bool {
    let Some(&n) = b.get(end) else { return true };
    let after = b.get(end + 1).copied();
    if n == b'x' && after.is_some_and(|a| a.is_ascii_digit()) {
        return true;
    }
    if is_word_byte(n) {
        return b[end..].starts_with(b"ext");
    }
    match n {
        b'-' | b'.' | b'/' | b',' | b':' | b'_' | b'%' => !after.is_some_and(is_word_byte),
        _ => true,
    }
}

fn sep_kind(c: u8) -> Option<u8> {
    match c {
        b' ' => Some(SPACE),
        b'-' => Some(DASH),
        b'.' => Some(DOT),
        b'/' => Some(SLASH),
        b'(' | b')' => Some(PAREN),
        _ => None,
    }
}

fn extract(b: &[u8], start: usize) -> Run {
    let mut run = Run {
        start,
        end: start,
        digits: [0; MAX_DIGITS],
        len: 0,
        groups: [0; MAX_GROUPS],
        ngroups: 0,
        plus: false,
        seps: 0,
    };
    let mut j = start;
    if b[j] == b'+' {
        run.plus = true;
        j += 1;
        if b.get(j) == Some(&b' ') {
            j += 1;
        }
    }
    loop {
        if j < b.len() && b[j].is_ascii_digit() {
            let group_start = j;
            while j < b.len() && b[j].is_ascii_digit() {
                if run.len < MAX_DIGITS {
                    run.digits[run.len] = b[j];
                }
                run.len += 1;
                j += 1;
            }
            if run.ngroups == MAX_GROUPS || run.len > MAX_DIGITS {
                run.len = MAX_DIGITS + 1;
                run.end = j;
                return run;
            }
            run.groups[run.ngroups] = (j - group_start) as u8;
            run.ngroups += 1;
            run.end = j;
            continue;
        }
        // "+44 (0)20": the trunk zero in parentheses is not part of the number.
        if run.plus && (b[j..].starts_with(b" (0)") || b[j..].starts_with(b"(0)")) {
            j += if b[j] == b' ' { 4 } else { 3 };
            if b.get(j) == Some(&b' ') {
                j += 1;
            }
            continue;
        }
        let k0 = j;
        let mut k = j;
        let mut kinds = 0u8;
        let mut marks = 0;
        while k < b.len() && k - k0 < 3 {
            let Some(kind) = sep_kind(b[k]) else { break };
            if kind != SPACE && kind != PAREN {
                marks += 1;
            }
            kinds |= kind;
            k += 1;
        }
        let opening = k0 == start && b.get(start) == Some(&b'(');
        if k == k0 || marks > 1 || k >= b.len() || !b[k].is_ascii_digit() {
            break;
        }
        // An opening parenthesis belongs at the start or after the country code: "(415) …",
        // "+1 (415) …"; "21.9 (6464583" is two things.
        if b[k0..k].contains(&b'(') && run.ngroups > 1 {
            break;
        }
        // A space between two long blocks separates two numbers ("0612345678 0698765432");
        // Amex's "3782 822463 10005" is one.
        if kinds & SPACE != 0 && run.ngroups > 0 && !opening {
            let prev = run.groups[run.ngroups - 1];
            let next = b[k..].iter().take_while(|c| c.is_ascii_digit()).count();
            if prev >= 7 || (prev >= 6 && next >= 6) {
                break;
            }
        }
        run.seps |= kinds;
        j = k;
    }
    run
}

/// Whether the groups are a date (2024-03-15, 15.03.2024, 03/15/24).
fn is_date(run: &Run) -> bool {
    if run.plus || run.ngroups != 3 || run.seps & !(DOT | SLASH | DASH) != 0 {
        return false;
    }
    let d = run.digits();
    let g = run.groups();
    // Only the shapes of a date are read as numbers: a group of a dozen digits would not fit.
    if !matches!((g[0], g[1], g[2]), (4, 1..=2, 1..=2) | (1..=2, 1..=2, 4 | 2)) {
        return false;
    }
    let n = |from: usize, len: u8| -> u32 {
        d[from..from + len as usize]
            .iter()
            .fold(0u32, |acc, &x| acc.saturating_mul(10).saturating_add(u32::from(x - b'0')))
    };
    let (a, bb, c) = (n(0, g[0]), n(g[0] as usize, g[1]), n((g[0] + g[1]) as usize, g[2]));
    let day_month = |x: u32, y: u32| (1..=31).contains(&x) && (1..=12).contains(&y);
    match (g[0], g[1], g[2]) {
        (4, 1..=2, 1..=2) => (1000..=2999).contains(&a) && (1..=12).contains(&bb) && (1..=31).contains(&c),
        (1..=2, 1..=2, 4 | 2) => day_month(a, bb) || day_month(bb, a),
        _ => false,
    }
}

/// A dotted quad: pushes an IP address finding and returns where it ends; `None` when
/// there is no dotted quad here.
fn ipv4(value: &str, start: usize, hint: Hint, out: &mut Vec<Finding>) -> Option<usize> {
    let b = value.as_bytes();
    let mut j = start;
    let mut octets = [0u32; 4];
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(j) != Some(&b'.') {
                return None;
            }
            j += 1;
        }
        let from = j;
        while j < b.len() && b[j].is_ascii_digit() && j - from < 4 {
            j += 1;
        }
        let len = j - from;
        if len == 0 || len > 3 || (len > 1 && b[from] == b'0') {
            return None;
        }
        *octet = b[from..j].iter().fold(0, |acc, &x| acc * 10 + u32::from(x - b'0'));
        if *octet > 255 {
            return None;
        }
    }
    // Not a fifth part (1.2.3.4.5), not glued to a word.
    match b.get(j) {
        Some(&n) if is_word_byte(n) => return None,
        Some(b'.' | b'-') if b.get(j + 1).is_some_and(|a| a.is_ascii_digit()) => return None,
        _ => {}
    }
    let version =
        hint == Hint::Version || preceded_by(value, start, 12, &["version", "ver ", "ver.", "release", "build"]);
    if !version {
        // Loopback, "any", broadcast and netmasks identify no one.
        let special = octets[0] == 127 || octets[0] == 0 || octets[0] == 255;
        let confidence = if hint == Hint::Ip {
            0.95
        } else if special {
            0.3
        } else if octets[0] < 10 && octets[1] < 10 {
            // "1.0.0.123", "4.2.11.0": the shape of versions; few client addresses.
            0.45
        } else {
            0.9
        };
        out.push(Finding::new(PiiType::IpAddress, start, j, confidence));
    }
    Some(j)
}

fn judge(value: &str, run: &Run, hint: Hint, phones: &PhoneRules, threshold: f32) -> Option<(PiiType, f32)> {
    let digits = run.digits();
    let n = digits.len();
    let groups = run.groups();
    if is_date(run) {
        return None;
    }
    if run.seps & DOT != 0 && !run.plus && groups.iter().any(|&g| g < 2) && run.seps & (SPACE | DASH) == 0 {
        // 1.2.3, 10.0.19041.1: versions.
        return None;
    }
    let ctx = |words: &[&str]| preceded_by(value, run.start, 28, words);
    let numeric_id = hint.is_numeric_id();

    // Payment cards. Under a card field or after a word for a card, a number that passes
    // Luhn is one even outside the issuers' ranges we know (their lists move), and the short
    // lengths (13-digit Visa, 12-digit Maestro), common among other numbers, count too.
    // (The context is read last: most numbers fail Luhn or have no issuer first.)
    let named_card = std::cell::LazyCell::new(|| hint == Hint::Card || (!numeric_id && ctx(CARD_CONTEXT)));
    if (12..=19).contains(&n)
        && !run.plus
        && (run.seps == 0 || run.seps == SPACE || run.seps == DASH)
        && card::grouping_fits(groups)
        && card::luhn(digits)
        && match card::issuer(digits) {
            Some(_) => n >= 14 || *named_card,
            None => n >= 15 && *named_card,
        }
    {
        let confidence = if *named_card || groups.len() > 1 {
            0.95
        } else if numeric_id {
            0.6
        } else {
            0.9
        };
        return Some((PiiType::PaymentCard, confidence));
    }

    // National identifiers made of digits.
    if !run.plus
        && let Some(confidence) = national(run, hint, &ctx)
    {
        return Some((PiiType::NationalId, confidence));
    }

    // Phones.
    if !(7..=15).contains(&n) || (n < 8 && hint != Hint::Phone) {
        return None;
    }
    // A number under a card, account or id field that failed its own check is not a phone.
    if matches!(hint, Hint::Card | Hint::Iban | Hint::NationalId) && !run.plus {
        return None;
    }
    // An order number, a time or a version is not a phone, unless written as one (`+…`).
    if numeric_id && !run.plus {
        return None;
    }
    let mut phone_ctx_memo = None;
    let mut phone_ctx = || *phone_ctx_memo.get_or_insert_with(|| hint == Hint::Phone || ctx(PHONE_CONTEXT));
    let text = run.text();
    if run.plus || (text.starts_with("00") && n >= 10) {
        let international = if run.plus { text } else { &text[2..] };
        if phones.valid_international(international) {
            return Some((PiiType::Phone, 0.95));
        }
        // Written as an international number, grouped like one or said to be a phone
        // ("+48 001-76-19-17", "call +39 6 89003243"), though no number of its plan: what
        // a reader takes for a phone number, and what made-up data is full of.
        if hint == Hint::Phone
            || nanp_shaped(run)
            || (groups.len() > 1 || phone_ctx()) && phones.plausible_international(international)
        {
            return Some((PiiType::Phone, 0.7));
        }
        return None;
    }
    // Dots separate all the groups of a phone or none: "06.12.34.56.78", not "21.9 (646".
    if run.seps & DOT != 0 && (groups.len() < 3 || run.seps & (SPACE | DASH | SLASH) != 0) {
        return None;
    }
    // "2024-000123", "1234 567890": a number without a trunk zero whose first block has four
    // digits or more is a reference, not a phone (phones start 1-3-…, 3-3-…, 3-2-…).
    if groups.len() > 1 && !text.starts_with('0') && groups[0] >= 4 && hint != Hint::Phone {
        return None;
    }
    if hint == Hint::Phone {
        return Some((PiiType::Phone, if phones.valid_national(text) { 0.95 } else { 0.7 }));
    }

    let confidence = if groups.len() > 1 || phone_ctx() {
        0.85
    } else if text.starts_with('0') && n >= 9 {
        0.7
    } else {
        0.35
    };
    // Validation is the costly part: not for a number that would not be reported anyway.
    if confidence < threshold {
        return None;
    }
    // "Order 0123456789", "Ref. 0612345678": a bare number named as a reference.
    if groups.len() == 1 && !phone_ctx() && ctx(ORDER_CONTEXT) {
        return None;
    }
    if !phones.valid_national(text) {
        // Written as a North American number, though its area code is not one in use
        // (yet), or grouped as a phone and said to be one ("llámenme al 992 722 845"): what
        // a reader takes for a phone number, and what test data is full of.
        return (nanp_shaped(run) || groups.len() >= 3 && phone_ctx() && !ctx(ORDER_CONTEXT))
            .then_some((PiiType::Phone, 0.7));
    }
    Some((PiiType::Phone, confidence))
}

/// Whether the run is written as a North American number: `(415) 555-0132`,
/// `415.555.0132`, `1-415-555-0132`, `+1 415 555 0132`, `001-415-555-0132` (an area code
/// and an exchange that start with 2-9, the groups 3-3-4 set apart by separators).
fn nanp_shaped(run: &Run) -> bool {
    let d = run.digits();
    let g = run.groups();
    let (prefix, tail) = match g {
        [a, 3, 3, 4] => (*a as usize, &d[*a as usize..]),
        [3, 3, 4] => (0, d),
        _ => return false,
    };
    let code = &d[..prefix];
    let country_ok = match code {
        [] => !run.plus,
        [b'1'] => true,
        [b'0', b'0', b'1'] => !run.plus,
        _ => false,
    };
    country_ok
        && run.seps != 0
        && tail.len() == 10
        && (b'2'..=b'9').contains(&tail[0])
        && (b'2'..=b'9').contains(&tail[3])
}

/// The confidence that the run is a national identifier, if it validates as one.
fn national(run: &Run, hint: Hint, ctx: &dyn Fn(&[&str]) -> bool) -> Option<f32> {
    let d = run.digits();
    let g = run.groups();
    let id_hint = hint == Hint::NationalId;
    let numeric_id = hint.is_numeric_id();
    let bare = g.len() == 1;
    if hint == Hint::Phone {
        return None;
    }
    match d.len() {
        9 => {
            if national_id::us_ssn(d) {
                if g == [3, 2, 4] && run.seps & !(SPACE | DASH) == 0 {
                    return Some(if numeric_id { 0.5 } else { 0.9 });
                }
                if id_hint || ctx(SSN_CONTEXT) {
                    return Some(0.85);
                }
            }
            if national_id::nl_bsn(d) && (id_hint || ctx(BSN_CONTEXT) || (g == [4, 2, 3] && run.seps == DOT)) {
                return Some(0.9);
            }
        }
        10 if national_id::uk_nhs(d) && (id_hint || ctx(NHS_CONTEXT)) && (bare || g == [3, 3, 4]) => {
            return Some(0.85);
        }
        11 => {
            let be = national_id::be_national_number(d);
            if be && g == [2, 2, 2, 3, 2] {
                return Some(0.9);
            }
            // Written bare, or in the Steuer-ID's own grouping; "07700 900461" is a phone.
            let shaped = bare || g == [2, 3, 3, 3];
            let steuer = shaped && national_id::de_steuer_id(d);
            let pesel = shaped && national_id::pl_pesel(d);
            if id_hint || (steuer && ctx(STEUER_CONTEXT)) || (pesel && ctx(PESEL_CONTEXT)) {
                if steuer || pesel || be {
                    return Some(0.9);
                }
            } else if (steuer || pesel) && !numeric_id {
                return Some(0.7);
            }
        }
        15 if national_id::fr_nir(d) => {
            return Some(if numeric_id { 0.5 } else { 0.9 });
        }
        _ => {}
    }
    if id_hint && (6..=15).contains(&d.len()) {
        return Some(0.75);
    }
    if (8..=15).contains(&d.len()) && bare && ctx(ID_CONTEXT) {
        return Some(0.6);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(value: &str, hint: Hint) -> Vec<(PiiType, &str)> {
        let rules = PhoneRules::new();
        let mut out = Vec::new();
        scan(value, hint, &rules, 0.0, &mut out);
        out.iter().filter(|f| f.confidence >= 0.5).map(|f| (f.kind, &value[f.start..f.end])).collect()
    }

    #[test]
    fn phones_in_many_shapes() {
        for (text, want) in [
            ("+49 30 901820", "+49 30 901820"),
            ("call me on 0612345678 tomorrow", "0612345678"),
            ("(415) 555-2671", "(415) 555-2671"),
            ("07700 900123", "07700 900123"),
            ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),
            ("06.12.34.56.78", "06.12.34.56.78"),
            ("612 34 56 78", "612 34 56 78"),
            ("0151 23456789", "0151 23456789"),
            ("Tel: 030/12345678", "030/12345678"),
            ("+33 6 12 34 56 78.", "+33 6 12 34 56 78"),
            // North American shapes, whatever the area code.
            ("call back on 490.699.6030 today", "490.699.6030"),
            ("(486)204-4366x8443", "(486)204-4366"),
            ("or 001-981-514-3339.", "001-981-514-3339"),
            ("+1-632-768-0021x379", "+1-632-768-0021"),
            // International numbers grouped as phones, or said to be ones, though no number
            // of their country's plan.
            ("+48 001-76-19-17", "+48 001-76-19-17"),
            ("+44 632-768-0021", "+44 632-768-0021"),
            ("richiamato al +39 6 89003243.", "+39 6 89003243"),
            ("Callback requested: +17040210274.", "+17040210274"),
            // Grouped as a phone and said to be one: "llámenme al 992 722 845".
            ("pide que le llamen al 992 722 845.", "992 722 845"),
        ] {
            assert_eq!(kinds(text, Hint::None), vec![(PiiType::Phone, want)], "{text}");
        }
    }

    #[test]
    fn not_phones() {
        for text in [
            "order 4829301756 shipped",
            "2024-03-15 14:22:01",
            "2024-03-15T14:22:01Z",
            "15.03.2024",
            "version 10.0.19041.1",
            "2.14.3",
            "total 1.234.567,89 EUR",
            "$1,234,567.89",
            "SKU-4829-3017-22",
            "550e8400-e29b-41d4-a716-446655440000",
            "4242424242424241",
            "1710512521123",
            "a3f5c2e9b1d04f6e8a7c3b2d1e0f9a8b",
            "qty 12 15 20",
            "1.2.3.4",
            "123.456.7890",
            // A plus and digits, ungrouped and unnamed: not written as a phone.
            "+44632768002",
            "+999 123 456 789",
            "order 992 722 845 shipped",
            "numer zamówienia 992 722 845",
            "rappel : commande 992 722 845",
            "contact us about invoice 992 722 845",
        ] {
            assert_eq!(kinds(text, Hint::None), vec![], "{text}");
        }
        assert_eq!(kinds("4829301756", Hint::OrderLike), vec![]);
    }

    #[test]
    fn cards_ids_and_addresses() {
        assert_eq!(kinds("4242 4242 4242 4242", Hint::None), vec![(PiiType::PaymentCard, "4242 4242 4242 4242")]);
        assert_eq!(kinds("3782-822463-10005", Hint::None), vec![(PiiType::PaymentCard, "3782-822463-10005")]);
        assert_eq!(kinds("SSN 123-45-6789", Hint::None), vec![(PiiType::NationalId, "123-45-6789")]);
        assert_eq!(kinds("123456782", Hint::NationalId), vec![(PiiType::NationalId, "123456782")]);
        assert_eq!(kinds("mijn BSN is 123456782", Hint::None), vec![(PiiType::NationalId, "123456782")]);
        assert_eq!(kinds("2 55 08 14 168 025 38", Hint::None), vec![(PiiType::NationalId, "2 55 08 14 168 025 38")]);
        assert_eq!(kinds("IdNr 86095742719", Hint::None), vec![(PiiType::NationalId, "86095742719")]);
        assert_eq!(kinds("from 192.168.1.24:8080", Hint::None), vec![(PiiType::IpAddress, "192.168.1.24")]);
        assert_eq!(kinds("10.0.0.0/8", Hint::None), vec![(PiiType::IpAddress, "10.0.0.0")]);
    }
}
