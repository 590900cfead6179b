//! Telephone numbers, validated under libphonenumber's rules.
//!
//! The rules are the metadata that the `phonenumber` crate carries (libphonenumber's
//! `PhoneNumberMetadata.xml`): per region, a country code, a national prefix, and one
//! pattern per number type (fixed line, mobile, toll free, …). A national significant number
//! is valid when it matches the region's general pattern and at least one type's pattern,
//! which is what `phonenumber::is_valid` checks. The crate's own `parse` costs about 5 µs a
//! call (each pattern is looked up in a shared cache under a mutex), too slow for a scan at
//! tens of megabytes a second, so each region's patterns are compiled here once, on first
//! use, and matched directly. A test checks that both agree.

use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::metadata::{DATABASE, Descriptor};
use regex::Regex;

/// One pattern with the lengths it allows.
struct Pattern {
    regex: Regex,
    lengths: Vec<u16>,
}

impl Pattern {
    fn of(descriptor: &Descriptor) -> Option<Pattern> {
        // The metadata's patterns are laid out over several lines; whitespace is not part
        // of them.
        let pattern: String = descriptor.national_number().as_str().split_whitespace().collect();
        let source = format!("^(?:{pattern})$");
        let regex = Regex::new(&source).ok()?;
        Some(Pattern { regex, lengths: descriptor.possible_length().to_vec() })
    }

    /// One pattern matching what any of `descriptors` matches, with the union of their
    /// lengths. The metadata's type patterns spell out their own lengths, so checking the
    /// union first only saves work; one alternation is several times cheaper to run than
    /// each pattern in turn.
    fn any_of(descriptors: &[&Descriptor]) -> Option<Pattern> {
        if descriptors.is_empty() {
            return None;
        }
        let source = descriptors
            .iter()
            .map(|d| format!("(?:{})", d.national_number().as_str().split_whitespace().collect::<String>()))
            .collect::<Vec<_>>()
            .join("|");
        let regex = Regex::new(&format!("^(?:{source})$")).ok()?;
        let mut lengths: Vec<u16> = descriptors.iter().flat_map(|d| d.possible_length().iter().copied()).collect();
        lengths.sort_unstable();
        lengths.dedup();
        if descriptors.iter().any(|d| d.possible_length().is_empty()) {
            lengths.clear();
        }
        Some(Pattern { regex, lengths })
    }

    fn is_match(&self, nsn: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(nsn.len() as u16))) && self.regex.is_match(nsn)
    }
}

/// A region's compiled patterns: the general one, and every number type's in one
/// alternation (a number is valid when it matches both).
struct Compiled {
    general: Option<Pattern>,
    types: Option<Pattern>,
}

/// A region of the metadata.
struct Region {
    id: String,
    national_prefix: Option<String>,
    compiled: OnceLock<Compiled>,
}

impl Region {
    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            let Some(meta) = DATABASE.by_id(self.id.as_str()) else {
                return Compiled { general: None, types: None };
            };
            let d = meta.descriptors();
            let general = Pattern::of(d.general());
            let types: Vec<&Descriptor> = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .collect();
            Compiled { general, types: Pattern::any_of(&types) }
        })
    }

    /// Whether some number of this region has `len` digits (its types' possible lengths).
    fn possible_length(&self, len: usize) -> bool {
        self.compiled().types.as_ref().is_some_and(|t| t.lengths.is_empty() || t.lengths.contains(&(len as u16)))
    }

    /// Whether `nsn` (a national significant number) is a valid number of this region.
    fn is_valid(&self, nsn: &str) -> bool {
        let c = self.compiled();
        c.general.as_ref().is_some_and(|g| g.is_match(nsn)) && c.types.as_ref().is_some_and(|t| t.is_match(nsn))
    }
}

/// The regions tried for a number written without a country code, in this order.
const NATIONAL_REGIONS: &[&str] = &["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "AT", "CH", "PL", "PT", "IE"];

/// libphonenumber's rules for every region, compiled lazily.
pub(crate) struct PhoneRules {
    regions: Vec<Region>,
    by_code: HashMap<u16, Vec<usize>>,
    national: Vec<usize>,
}

impl PhoneRules {
    pub(crate) fn new() -> PhoneRules {
        let mut regions = Vec::new();
        let mut by_code: HashMap<u16, Vec<usize>> = HashMap::new();
        let mut metas: Vec<_> = DATABASE.iter().collect();
        // The main region of a shared code first (US for +1, GB for +44).
        metas.sort_by_key(|m| (m.country_code(), !m.is_main_country_for_code(), m.id().to_owned()));
        for meta in metas {
            let index = regions.len();
            regions.push(Region {
                id: meta.id().to_owned(),
                national_prefix: meta.national_prefix().map(str::to_owned),
                compiled: OnceLock::new(),
            });
            by_code.entry(meta.country_code()).or_default().push(index);
        }
        let national = NATIONAL_REGIONS.iter().filter_map(|id| regions.iter().position(|r| r.id == *id)).collect();
        PhoneRules { regions, by_code, national }
    }

    /// The regions of the country code that `digits` (after a `+` or `00`) start with, and
    /// the national number after it, if it has more than `min_national` digits. Codes are
    /// prefix-free, so the first length that names a code is the one.
    fn split_country_code<'a>(&self, digits: &'a str, min_national: usize) -> Option<(&[usize], &'a str)> {
        for cc_len in 1..=3 {
            if digits.len() <= cc_len + min_national {
                return None;
            }
            let code = digits[..cc_len].parse::<u16>().ok()?;
            if let Some(indices) = self.by_code.get(&code) {
                return Some((indices, &digits[cc_len..]));
            }
        }
        None
    }

    /// Whether `digits` (after a `+` or `00`) are a country code and a valid number.
    pub(crate) fn valid_international(&self, digits: &str) -> bool {
        let Some((indices, nsn)) = self.split_country_code(digits, 3) else { return false };
        // "+44 (0) 20 …" and "+49 030 …" carry a national prefix that does not belong.
        let stripped = nsn.strip_prefix('0');
        indices.iter().any(|&i| {
            let region = &self.regions[i];
            region.is_valid(nsn) || stripped.is_some_and(|s| region.is_valid(s))
        })
    }

    /// Whether `digits` (after a `+` or `00`) start with a country code in use and leave a
    /// national number of a length some number of that code has (any type's, or one digit
    /// more, for a national prefix written by mistake): the shape of a phone number, whether
    /// or not the number itself is in service.
    pub(crate) fn plausible_international(&self, digits: &str) -> bool {
        let Some((indices, nsn)) = self.split_country_code(digits, 5) else { return false };
        let len = nsn.len();
        indices.iter().any(|&i| self.regions[i].possible_length(len) || self.regions[i].possible_length(len - 1))
    }

    /// The first region of the national list (or `preferred`, tried first) in which
    /// `digits`, written without a country code, are a valid number.
    pub(crate) fn valid_national(&self, digits: &str) -> bool {
        let first = digits.as_bytes().first().copied().unwrap_or(b'0');
        for &i in &self.national {
            let region = &self.regions[i];
            let nsn = match region.national_prefix.as_deref() {
                // Regions with a trunk prefix "0": numbers are written with it.
                Some("0") => match digits.strip_prefix('0') {
                    Some(rest) if !rest.starts_with('0') => rest,
                    _ => continue,
                },
                // NANP: "1" may precede the ten digits.
                Some("1") => {
                    if digits.len() == 11 && first == b'1' {
                        &digits[1..]
                    } else if digits.len() == 10 {
                        digits
                    } else {
                        continue;
                    }
                }
                _ => digits,
            };
            if region.is_valid(nsn) {
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_phonenumber_crate() {
        let rules = PhoneRules::new();
        let international = [
            "4930901820",
            "4915123456789",
            "33612345678",
            "447700900123",
            "442079460958",
            "14155552671",
            "12015550123",
            "34612345678",
            "393471234567",
            "31612345678",
            "48512345678",
            "4930123",
            "1234567890123",
            "33012345678",
        ];
        for digits in international {
            let theirs =
                phonenumber::parse(None, format!("+{digits}")).map(|n| phonenumber::is_valid(&n)).unwrap_or(false);
            assert_eq!(rules.valid_international(digits), theirs, "+{digits}");
        }
        let national = [
            ("0612345678", phonenumber::country::Id::FR),
            ("07911123456", phonenumber::country::Id::GB),
            ("015123456789", phonenumber::country::Id::DE),
            ("4155552671", phonenumber::country::Id::US),
            ("612345678", phonenumber::country::Id::ES),
            ("3471234567", phonenumber::country::Id::IT),
            ("0201234567", phonenumber::country::Id::NL),
        ];
        for (digits, region) in national {
            let theirs = phonenumber::parse(Some(region), digits).map(|n| phonenumber::is_valid(&n)).unwrap_or(false);
            assert!(theirs, "{digits} in {region:?}");
            assert!(rules.valid_national(digits), "{digits}");
        }
        assert!(!rules.valid_national("0000000000"));
        assert!(!rules.valid_national("1234"));
    }
}
