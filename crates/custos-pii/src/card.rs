//! Payment card numbers: the Luhn check and the issuers' number ranges and lengths.

/// Whether `digits` (ASCII digits only) pass the Luhn (mod 10) check.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The card network whose range holds `digits`, if its length is one that network issues.
pub(crate) fn issuer(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    let prefix = |n: usize| -> u32 { digits.iter().take(n).fold(0, |acc, d| acc * 10 + u32::from(d - b'0')) };
    let p2 = prefix(2);
    let p3 = prefix(3);
    let p4 = prefix(4);
    let p6 = prefix(6);
    let network = if digits[0] == b'4' {
        ("visa", matches!(len, 13 | 16 | 19))
    } else if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        ("mastercard", len == 16)
    } else if p2 == 34 || p2 == 37 {
        ("amex", len == 15)
    } else if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6) {
        ("discover", (16..=19).contains(&len))
    } else if (3528..=3589).contains(&p4) {
        ("jcb", (16..=19).contains(&len))
    } else if p4 == 2131 || p4 == 1800 {
        // JCB's older 15-digit ranges.
        ("jcb", len == 15)
    } else if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 || p3 == 309 {
        ("diners", (14..=19).contains(&len))
    } else if p2 == 62 || p2 == 81 {
        ("unionpay", (16..=19).contains(&len))
    } else if (2200..=2204).contains(&p4) {
        ("mir", (16..=19).contains(&len))
    } else if p2 == 50 || (56..=69).contains(&p2) || p4 == 604 {
        // 0604: the UK's Maestro range.
        ("maestro", (12..=19).contains(&len))
    } else {
        return None;
    };
    network.1.then_some(network.0)
}

/// Whether the digit groups of a written card number look like a card's: one block, blocks
/// of four (the last may be shorter), or the 4-6-5 and 4-6-4 layouts of Amex and Diners.
pub(crate) fn grouping_fits(groups: &[u8]) -> bool {
    match groups {
        [_] => true,
        [4, 6, 5] | [4, 6, 4] => true,
        _ => {
            let (last, rest) = groups.split_last().unwrap_or((&0, &[]));
            rest.iter().all(|&g| g == 4) && (1..=4).contains(last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn(b"4242424242424242"));
        assert!(!luhn(b"4242424242424241"));
        assert_eq!(issuer(b"4242424242424242"), Some("visa"));
        assert_eq!(issuer(b"5555555555554444"), Some("mastercard"));
        assert_eq!(issuer(b"2223003122003222"), Some("mastercard"));
        assert_eq!(issuer(b"378282246310005"), Some("amex"));
        assert_eq!(issuer(b"6011111111111117"), Some("discover"));
        assert_eq!(issuer(b"3530111333300000"), Some("jcb"));
        assert_eq!(issuer(b"213101661318609"), Some("jcb"));
        assert_eq!(issuer(b"060457986820"), Some("maestro"));
        assert_eq!(issuer(b"676297837152"), Some("maestro"));
        assert_eq!(issuer(b"1234567812345670"), None);
        assert_eq!(issuer(b"37828224631000"), None, "amex is 15 digits");
        assert!(grouping_fits(&[4, 4, 4, 4]));
        assert!(grouping_fits(&[4, 6, 5]));
        assert!(!grouping_fits(&[3, 3, 4, 6]));
    }
}
