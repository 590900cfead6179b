//! IPv6 addresses, found around colons and checked by the standard library's parser.
//! (IPv4 addresses are found with the other numbers, in `number.rs`.)

use std::net::Ipv6Addr;

use crate::field::Hint;
use crate::finding::{Finding, PiiType};
use crate::text::{byte_before, is_word_byte};

fn v6_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

/// Finds the IPv6 addresses of `value`.
pub(crate) fn scan(value: &str, hint: Hint, out: &mut Vec<Finding>) {
    let b = value.as_bytes();
    let mut from = 0;
    while let Some(offset) = b[from..].iter().position(|&c| c == b':') {
        let colon = from + offset;
        let mut start = colon;
        while start > 0 && v6_byte(b[start - 1]) {
            start -= 1;
        }
        let mut end = colon;
        while end < b.len() && v6_byte(b[end]) {
            end += 1;
        }
        from = end.max(colon + 1);
        while end > start && b[end - 1] == b'.' {
            end -= 1;
        }
        // "T14:22:01" and "abc::def" glued to a word are not addresses.
        if byte_before(b, start).is_some_and(|c| is_word_byte(c) || c == b'.')
            || b.get(end).is_some_and(|&c| is_word_byte(c) && c != b'%')
        {
            continue;
        }
        let candidate = &value[start..end];
        let colons = candidate.bytes().filter(|&c| c == b':').count();
        if colons < 2 || candidate.len() < 6 {
            continue;
        }
        if candidate.parse::<Ipv6Addr>().is_ok() {
            let confidence = if hint == Hint::Version || hint == Hint::HashLike { 0.4 } else { 0.9 };
            out.push(Finding::new(PiiType::IpAddress, start, end, confidence));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(value: &str) -> Vec<&str> {
        let mut out = Vec::new();
        scan(value, Hint::None, &mut out);
        out.iter().map(|f| &value[f.start..f.end]).collect()
    }

    #[test]
    fn addresses_and_not() {
        assert_eq!(found("from 2001:db8:85a3::8a2e:370:7334."), ["2001:db8:85a3::8a2e:370:7334"]);
        assert_eq!(found("fe80::1ff:fe23:4567:890a"), ["fe80::1ff:fe23:4567:890a"]);
        assert_eq!(found("2001:0db8:0000:0000:0000:ff00:0042:8329"), ["2001:0db8:0000:0000:0000:ff00:0042:8329"]);
        assert!(found("at 14:22:01").is_empty());
        assert!(found("2024-03-15T14:22:01Z").is_empty());
        assert!(found("mac 00:1a:2b:3c:4d:5e").is_empty());
        assert!(found("std::vec::Vec").is_empty());
    }
}
