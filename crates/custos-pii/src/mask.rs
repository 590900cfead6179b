//! Masking a finding for error reports and logs that must not echo PII: enough of the
//! shape stays to recognise the value (`j***@e***.com`, `**** **** **** 4242`), never
//! enough to recover it.

use crate::finding::{Finding, PiiType};

/// The matched span of `value` with its personal part masked. Offsets outside `value` (or
/// off char boundaries) are clamped, so this never panics.
pub fn mask(value: &str, finding: &Finding) -> String {
    let start = crate::text::floor_boundary(value, finding.start.min(value.len()));
    let end = crate::text::ceil_boundary(value, finding.end.min(value.len()).max(start));
    let span = &value[start..end];
    match finding.kind {
        PiiType::Email => mask_email(span),
        PiiType::PaymentCard | PiiType::Iban => keep_last(span, 4),
        PiiType::Phone => keep_last(span, 2),
        PiiType::Secret => {
            let prefix: String = span.chars().take_while(|c| *c != '_' && *c != '-').take(4).collect();
            if prefix.len() < span.len() && span.len() >= 16 && prefix.chars().all(|c| c.is_ascii_alphabetic()) {
                format!("{prefix}{}", "*".repeat(8))
            } else {
                "*".repeat(8)
            }
        }
        _ => keep_first_letters(span),
    }
}

/// `jane.doe@example.com` → `j***@e***.com`.
fn mask_email(span: &str) -> String {
    let Some((local, domain)) = span.split_once('@') else { return keep_first_letters(span) };
    let tld = domain.rsplit_once('.').map_or("", |(_, t)| t);
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    format!("{}***@{}***.{tld}", first(local), first(domain))
}

/// Every digit and letter but the last `keep` replaced with `*`; separators kept.
fn keep_last(span: &str, keep: usize) -> String {
    let total = span.chars().filter(char::is_ascii_alphanumeric).count();
    let mut seen = 0;
    span.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                if seen + keep > total { c } else { '*' }
            } else {
                c
            }
        })
        .collect()
}

/// The first letter of each word kept, the rest masked: `Maria Garcia` → `M**** G*****`.
fn keep_first_letters(span: &str) -> String {
    let mut out = String::with_capacity(span.len());
    let mut in_word = false;
    for c in span.chars() {
        if c.is_alphanumeric() {
            out.push(if in_word { '*' } else { c });
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(kind: PiiType, value: &str) -> Finding {
        Finding { kind, start: 0, end: value.len(), confidence: 1.0 }
    }

    #[test]
    fn masks_keep_shape_not_content() {
        assert_eq!(mask("jane.doe@example.com", &f(PiiType::Email, "jane.doe@example.com")), "j***@e***.com");
        let card = "4242 4242 4242 4242";
        assert_eq!(mask(card, &f(PiiType::PaymentCard, card)), "**** **** **** 4242");
        assert_eq!(mask("Maria Garcia", &f(PiiType::PersonName, "Maria Garcia")), "M**** G*****");
        assert_eq!(mask("+49 30 901820", &f(PiiType::Phone, "+49 30 901820")), "+** ** ****20");
        let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
        assert_eq!(mask(token, &f(PiiType::Secret, token)), "ghp********");
        let odd = Finding { kind: PiiType::Email, start: 3, end: 99, confidence: 1.0 };
        assert_eq!(mask("héllo", &odd), "l**");
    }
}
