//! Email addresses, found around each `@`: a local part, a domain of dotted labels and an
//! alphabetic top-level domain.

use crate::finding::{Finding, PiiType};

fn local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'' | b'!' | b'#' | b'~')
}

fn domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'-' || b == b'.'
}

/// Finds the email addresses of `value`.
pub(crate) fn scan(value: &str, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut from = 0;
    while let Some(offset) = b[from..].iter().position(|&c| c == b'@') {
        let at = from + offset;
        from = at + 1;
        let mut start = at;
        while start > 0 && local_byte(b[start - 1]) && at - start < 64 {
            start -= 1;
        }
        // A local part does not start or end with a dot.
        while start < at && matches!(b[start], b'.' | b'\'' | b'-') {
            start += 1;
        }
        if start == at || b[at - 1] == b'.' {
            continue;
        }
        // "scheme://user:password@host" holds credentials, not an address.
        if start >= 3 && b[start - 1] == b':' && b[..start].windows(3).any(|w| w == b"://") {
            continue;
        }
        let mut end = at + 1;
        while end < b.len() && domain_byte(b[end]) && end - at < 255 {
            end += 1;
        }
        // Trailing dots and dashes belong to the sentence.
        while end > at + 1 && matches!(b[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &b[at + 1..end];
        let Some(last_dot) = domain.iter().rposition(|&c| c == b'.') else { continue };
        let tld = &domain[last_dot + 1..];
        let labels_ok = domain.split(|&c| c == b'.').all(|l| !l.is_empty() && l[0] != b'-');
        let tld_ok = tld.len() >= 2 && (tld.iter().all(u8::is_ascii_alphabetic) || tld.starts_with(b"xn--"));
        if !labels_ok || !tld_ok {
            continue;
        }
        // Keep offsets on char boundaries (non-ASCII bytes are taken whole above).
        if !value.is_char_boundary(start) || !value.is_char_boundary(end) {
            continue;
        }
        out.push(Finding::new(PiiType::Email, start, end, 0.95));
        from = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(value: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scan(value, &mut out);
        out.iter().map(|f| &value[f.start..f.end]).collect()
    }

    #[test]
    fn finds_addresses_in_text() {
        assert_eq!(emails("jane.doe+news@example.co.uk"), ["jane.doe+news@example.co.uk"]);
        assert_eq!(emails("Write to <müller@web.de>."), ["müller@web.de"]);
        assert_eq!(emails("mailto:a@b.io, c.d@e-f.com"), ["a@b.io", "c.d@e-f.com"]);
    }

    #[test]
    fn ignores_what_is_not_an_address() {
        assert!(emails("@handle").is_empty());
        assert!(emails("user@localhost").is_empty());
        assert!(emails("price @ 12.50").is_empty());
        assert!(emails("a@b.c1").is_empty());
    }
}
