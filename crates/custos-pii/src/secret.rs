//! Secrets: PEM private keys, tokens with a vendor's prefix (AWS, GitHub, GitLab, Stripe,
//! Slack, Google, OpenAI, SendGrid, npm), JWTs, `Bearer` tokens, `key=value` pairs whose
//! key names a secret, and high-entropy values under a field whose name does.
//! A hex hash or a UUID alone is a pseudonym, not a secret, unless its field says otherwise.

use crate::field::Hint;
use crate::finding::{Finding, PiiType};
use crate::text::{byte_before, contains, entropy, find};

const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        // `=` is left out: it separates `session=eyJ…`, and padding may be dropped.
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'+');
        i += 1;
    }
    t
};

/// The bytes `after_keyword` stops at: `B`/`b` (Bearer, Basic), `:` and `=`.
const KEY_MARK: [bool; 256] = {
    let mut t = [false; 256];
    t[b'B' as usize] = true;
    t[b'b' as usize] = true;
    t[b':' as usize] = true;
    t[b'=' as usize] = true;
    t
};

fn token_byte(b: u8) -> bool {
    TOKEN[b as usize]
}

fn alnum(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_alphanumeric)
}

fn b64url(s: &[u8]) -> bool {
    s.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// Finds the secrets of `value`.
pub(crate) fn scan(value: &str, hint: Hint, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    // "-----BEGIN PRIVATE KEY-----", the shortest header, is 27 bytes: a key cut short
    // after its header has still been handed over.
    if b.len() >= 27 {
        pem(value, out);
    }
    let before = out.len();
    let mut i = 0;
    while i < b.len() {
        if !token_byte(b[i]) || byte_before(b, i).is_some_and(token_byte) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < b.len() && token_byte(b[end]) {
            end += 1;
        }
        if end - i >= 16 {
            let mut trimmed = end;
            while trimmed > i && matches!(b[trimmed - 1], b'.' | b'/' | b'-') {
                trimmed -= 1;
            }
            if trimmed - i >= 16
                && let Some(confidence) = prefixed(&b[i..trimmed])
            {
                out.push(Finding::new(PiiType::Secret, i, trimmed, confidence));
            }
        }
        i = end;
    }
    after_keyword(value, out);
    if out.len() == before && matches!(hint, Hint::Token | Hint::Password) {
        whole_value(value, hint, out);
    }
}

/// A token with a known vendor prefix, or a JWT.
fn prefixed(t: &[u8]) -> Option<f32> {
    if !matches!(t[0], b'A' | b'g' | b's' | b'r' | b'p' | b'w' | b'x' | b'n' | b'S' | b'e' | b'h' | b'/') {
        return None;
    }
    let rest = |p: &[u8]| &t[p.len()..];
    for p in [&b"AKIA"[..], b"ASIA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA", b"APKA"] {
        if t.len() == 20 && t.starts_with(p) && rest(p).iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Some(0.95);
        }
    }
    for p in [&b"ghp_"[..], b"gho_", b"ghu_", b"ghs_", b"ghr_"] {
        if t.starts_with(p) && rest(p).len() >= 30 && alnum(rest(p)) {
            return Some(0.97);
        }
    }
    if t.starts_with(b"github_pat_") && t.len() >= 40 && b64url(rest(b"github_pat_")) {
        return Some(0.97);
    }
    if t.starts_with(b"glpat-") && t.len() >= 26 && b64url(rest(b"glpat-")) {
        return Some(0.95);
    }
    for p in [&b"sk_live_"[..], b"sk_test_", b"rk_live_", b"rk_test_", b"pk_live_", b"pk_test_", b"whsec_", b"sq0atp-"]
    {
        if t.starts_with(p) && rest(p).len() >= 10 && b64url(rest(p)) {
            return Some(0.95);
        }
    }
    for p in [&b"xoxb-"[..], b"xoxp-", b"xoxa-", b"xoxr-", b"xoxs-", b"xoxe-"] {
        if t.starts_with(p) && rest(p).len() >= 10 && b64url(rest(p)) {
            return Some(0.95);
        }
    }
    if t.starts_with(b"AIza") && t.len() == 39 && b64url(t) {
        return Some(0.95);
    }
    if t.starts_with(b"npm_") && t.len() == 40 && alnum(rest(b"npm_")) {
        return Some(0.95);
    }
    if t.starts_with(b"sk-") && t.len() >= 32 && b64url(rest(b"sk-")) && entropy(t) > 3.5 {
        return Some(0.9);
    }
    if t.starts_with(b"SG.") && t.len() >= 60 {
        return Some(0.95);
    }
    if t.len() > 40 && contains(t, b"hooks.slack.com/services/") {
        return Some(0.95);
    }
    // JWT: base64url JSON header ("eyJ" is `{"`), payload, signature.
    if t.starts_with(b"eyJ") {
        let parts: Vec<&[u8]> = t.split(|&c| c == b'.').collect();
        if parts.len() == 3 && parts[0].len() >= 10 && parts[1].len() >= 10 && parts.iter().all(|p| b64url(p)) {
            return Some(0.95);
        }
    }
    None
}

/// `-----BEGIN … PRIVATE KEY-----` to its `-----END … -----` line (or the end of the value).
fn pem(value: &str, out: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(start) = find(value.as_bytes(), b"-----BEGIN ", from) {
        let header_end = value[start + 11..].find("-----").map_or(value.len(), |e| start + 11 + e + 5);
        let header = &value[start..header_end.min(value.len())];
        from = header_end.min(value.len());
        if !header.contains("PRIVATE KEY") {
            continue;
        }
        let end = match value[from..].find("-----END ") {
            Some(e) => {
                let tail = from + e + 9;
                value[tail..].find("-----").map_or(value.len(), |k| tail + k + 5)
            }
            None => value.len(),
        };
        out.push(Finding::new(PiiType::Secret, start, end, 0.99));
        from = end;
    }
}

/// `password: …`, `api_key=…`, `"token": "…"` inside text: the key before each `:` or `=`
/// is read like a field name; `Bearer …` too.
fn after_keyword(value: &str, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut from = 0;
    while let Some(offset) = b[from..].iter().position(|&c| KEY_MARK[c as usize]) {
        let p = from + offset;
        from = p + 1;
        let c = b[p];
        match c {
            b'B' | b'b' => {
                if (b[p + 1..].starts_with(b"earer ") || b[p + 1..].starts_with(b"asic "))
                    && !byte_before(b, p).is_some_and(|c| c.is_ascii_alphabetic())
                {
                    let token = if b[p + 1] == b'e' { p + 7 } else { p + 6 };
                    secret_after(value, token, Hint::Token, out);
                }
                continue;
            }
            b':' | b'=' => {}
            _ => continue,
        }
        // Credentials in a URL: scheme://user:password@host.
        if c == b':' && b[p + 1..].starts_with(b"//") {
            url_password(value, p + 3, out);
            continue;
        }
        let mut e = p;
        while e > 0 && matches!(b[e - 1], b' ' | b'"' | b'\'') {
            e -= 1;
        }
        // "14:22" is a time, not a key.
        if e == 0 || !b[e - 1].is_ascii_alphabetic() && b[e - 1] != b'_' {
            continue;
        }
        let mut s = e;
        while s > 0 && e - s < 24 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'_' | b'-' | b' ')) {
            s -= 1;
        }
        while s < e && !b[s].is_ascii_alphabetic() {
            s += 1;
        }
        if s == e {
            continue;
        }
        let hint = crate::field::Hint::cached(&value[s..e]);
        if matches!(hint, Hint::Token | Hint::Password) {
            secret_after(value, p + 1, hint, out);
        }
    }
}

/// `user:password@` right after a URL's `://`: the password is a secret.
fn url_password(value: &str, from: usize, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut j = from;
    while j < b.len() && !matches!(b[j], b'/' | b'@' | b':' | b' ' | b'"' | b'\'') {
        j += 1;
    }
    if b.get(j) != Some(&b':') {
        return;
    }
    let start = j + 1;
    let mut end = start;
    while end < b.len() && !matches!(b[end], b'/' | b'@' | b' ' | b'"' | b'\'') {
        end += 1;
    }
    if b.get(end) == Some(&b'@') && end > start && value.is_char_boundary(start) && value.is_char_boundary(end) {
        out.push(Finding::new(PiiType::Secret, start, end, 0.9));
    }
}

/// The token from `from` on (after spaces and quotes), if it looks like a secret.
fn secret_after(value: &str, from: usize, hint: Hint, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut start = from;
    while start < b.len() && matches!(b[start], b' ' | b'"' | b'\'') {
        start += 1;
    }
    let mut end = start;
    while end < b.len() && !b[end].is_ascii_whitespace() && !matches!(b[end], b'"' | b'\'' | b',' | b';') {
        end += 1;
    }
    while end > start && matches!(b[end - 1], b'.' | b')') {
        end -= 1;
    }
    if end <= start || !value.is_char_boundary(start) || !value.is_char_boundary(end) {
        return;
    }
    let candidate = &b[start..end];
    if out.iter().any(|f| f.start < end && start < f.end) || placeholder(candidate) {
        return;
    }
    let confidence = match hint {
        Hint::Password if candidate.len() >= 6 => 0.8,
        Hint::Token if candidate.len() >= 16 && entropy(candidate) >= 3.0 => 0.85,
        _ => return,
    };
    out.push(Finding::new(PiiType::Secret, start, end, confidence));
}

/// Whether a value under a password or token field is a stand-in, not a secret.
fn placeholder(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    let words: [&[u8]; 14] = [
        b"redacted",
        b"[redacted]",
        b"<redacted>",
        b"null",
        b"none",
        b"n/a",
        b"undefined",
        b"hidden",
        b"<hidden>",
        b"masked",
        b"secret",
        b"password",
        b"true",
        b"false",
    ];
    v.is_empty() || words.contains(&lower.as_slice()) || v.iter().all(|&c| c == v[0]) || v.starts_with(b"${")
}

fn whole_value(value: &str, hint: Hint, out: &mut Vec<Finding>) {
    let trimmed = value.trim();
    let start = value.len() - value.trim_start().len();
    let t = trimmed.as_bytes();
    if t.is_empty() || t.iter().any(u8::is_ascii_whitespace) && hint == Hint::Token || placeholder(t) {
        return;
    }
    let confidence = match hint {
        Hint::Password if t.len() >= 6 => 0.85,
        Hint::Password => 0.6,
        Hint::Token if t.len() >= 16 && (entropy(t) >= 3.0 || t.iter().all(u8::is_ascii_hexdigit)) => 0.9,
        Hint::Token if t.len() >= 10 && entropy(t) >= 2.8 => 0.6,
        _ => return,
    };
    out.push(Finding::new(PiiType::Secret, start, start + trimmed.len(), confidence));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(value: &str, hint: Hint) -> Vec<&str> {
        let mut out = Vec::new();
        scan(value, hint, &mut out);
        out.iter().filter(|f| f.confidence >= 0.5).map(|f| &value[f.start..f.end]).collect()
    }

    #[test]
    fn prefixed_tokens_and_keys() {
        assert_eq!(found("key AKIAIOSFODNN7EXAMPLE.", Hint::None), ["AKIAIOSFODNN7EXAMPLE"]);
        let gh = "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB";
        assert_eq!(found(gh, Hint::None), [gh]);
        assert_eq!(found("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Hint::None), ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"]);
        assert_eq!(found("xoxb-123456789012-abcdefghijkl", Hint::None), ["xoxb-123456789012-abcdefghijkl"]);
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(found(&format!("Authorization: Bearer {jwt}"), Hint::None), [jwt]);
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----";
        assert_eq!(found(pem, Hint::None), [pem]);
        assert_eq!(found("password: hunter22", Hint::None), ["hunter22"]);
        let hook = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx";
        assert_eq!(
            found(hook, Hint::None),
            ["//hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx"]
        );
        assert_eq!(found("postgres://app:S3cr3t-pw@db.internal:5432/app", Hint::None), ["S3cr3t-pw"]);
        assert_eq!(found("Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", Hint::None), ["dXNlcjpwYXNzd29yZDEyMw=="]);
        assert_eq!(found("9f8e7d6c5b4a39281706f5e4d3c2b1a0", Hint::Token), ["9f8e7d6c5b4a39281706f5e4d3c2b1a0"]);
        assert_eq!(found("S3cr3t!Passw0rd", Hint::Password), ["S3cr3t!Passw0rd"]);
        assert_eq!(
            found("pasted -----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7", Hint::None).len(),
            1,
            "a key cut short"
        );
    }

    #[test]
    fn hashes_and_ids_are_not() {
        assert!(found("9f8e7d6c5b4a39281706f5e4d3c2b1a0", Hint::None).is_empty());
        assert!(found("9f8e7d6c5b4a39281706f5e4d3c2b1a0", Hint::HashLike).is_empty());
        assert!(found("550e8400-e29b-41d4-a716-446655440000", Hint::None).is_empty());
        assert!(found("********", Hint::Password).is_empty());
        assert!(found("token_type: bearer", Hint::None).is_empty());
        assert!(found("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", Hint::None).is_empty());
    }
}
