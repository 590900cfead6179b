//! What custos writes to a person about their rights request, in the language they made
//! it in: the code, an extension, a refusal, the outcome, a restriction's lifting.
//!
//! Each language is a TOML file under `crates/custos-engine/i18n/` with the keys and the
//! `{placeholders}` of `rights.en.toml` (a test checks); a request in a language custos has
//! no wording for is written to in English.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The languages custos writes to people in.
pub const LANGUAGES: &[&str] = &["en", "de", "fr", "es", "it", "nl"];

const FILES: &[(&str, &str)] = &[
    ("en", include_str!("../../i18n/rights.en.toml")),
    ("de", include_str!("../../i18n/rights.de.toml")),
    ("fr", include_str!("../../i18n/rights.fr.toml")),
    ("es", include_str!("../../i18n/rights.es.toml")),
    ("it", include_str!("../../i18n/rights.it.toml")),
    ("nl", include_str!("../../i18n/rights.nl.toml")),
];

/// One language's texts, `section.key` → text.
#[derive(Debug)]
pub struct Wording {
    strings: HashMap<String, String>,
}

fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    let table = text.parse::<toml::Table>().map_err(|e| e.to_string())?;
    let mut strings = HashMap::new();
    for (section, value) in table {
        let toml::Value::Table(entries) = value else { return Err(format!("`{section}` is not a section")) };
        for (key, value) in entries {
            let toml::Value::String(text) = value else { return Err(format!("{section}.{key} is not text")) };
            strings.insert(format!("{section}.{key}"), text);
        }
    }
    Ok(strings)
}

static WORDING: LazyLock<HashMap<&'static str, Wording>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(tag, text)| {
            // The files are built in and checked by this module's tests.
            let strings = parse(text).unwrap_or_else(|e| unreachable!("rights.{tag}.toml: {e}"));
            (*tag, Wording { strings })
        })
        .collect()
});

/// The wording for `language`, English when it is absent or unknown.
pub fn for_language(language: Option<&str>) -> &'static Wording {
    let wording = &*WORDING;
    language
        .and_then(|l| wording.get(l))
        .or_else(|| wording.get("en"))
        .unwrap_or_else(|| unreachable!("English is built in"))
}

impl Wording {
    /// The text of `key` with each `{name}` of `args` filled in (English when this
    /// language lacks the key).
    pub fn text(&self, key: &str, args: &[(&str, &str)]) -> String {
        let template =
            self.strings.get(key).or_else(|| for_language(Some("en")).strings.get(key)).map_or(key, String::as_str);
        // One pass, so that a value holding `{…}` (a reason staff wrote) is never filled in.
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let filled = after.find('}').and_then(|close| {
                let name = &after[..close];
                args.iter().find(|(n, _)| *n == name).map(|(_, value)| (*value, close))
            });
            match filled {
                Some((value, close)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// A request's kind in words.
    pub fn kind(&self, kind: &str) -> String {
        self.text(&format!("kind.{kind}"), &[])
    }
}

/// The primary subtag of a language tag (`de` of `de-AT`), lower case, or `None` when `tag`
/// is not a language tag.
pub fn primary_tag(tag: &str) -> Option<String> {
    let mut parts = tag.split(['-', '_']);
    let primary = parts.next()?;
    let primary_ok = (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok = parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    (primary_ok && rest_ok && tag.len() <= 35).then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<String> {
        let mut found: Vec<String> =
            text.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(name, _)| name.to_owned())).collect();
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_language_has_the_english_keys_and_placeholders() {
        let english = parse(FILES[0].1).expect("en");
        for (tag, text) in FILES {
            let strings = parse(text).unwrap_or_else(|e| panic!("{tag}: {e}"));
            let mut keys: Vec<&String> = strings.keys().collect();
            let mut wanted: Vec<&String> = english.keys().collect();
            keys.sort();
            wanted.sort();
            assert_eq!(keys, wanted, "{tag}: the keys of rights.en.toml");
            for (key, text) in &strings {
                assert_eq!(placeholders(text), placeholders(&english[key]), "{tag}: {key}'s placeholders");
            }
        }
        assert_eq!(LANGUAGES, FILES.iter().map(|(t, _)| *t).collect::<Vec<_>>().as_slice());
    }

    #[test]
    fn placeholders_are_filled_once_and_values_are_not_read_as_placeholders() {
        let de = for_language(Some("de"));
        let text = de.text(
            "extended.body",
            &[("kind", "Löschung"), ("due", "2027-01-31"), ("reason", "{status}"), ("status", "S")],
        );
        assert!(text.contains("2027-01-31") && text.contains("{status}") && text.ends_with("S\n"), "{text}");
        assert_eq!(for_language(Some("xx")).kind("erasure"), "erasure", "English for a language without wording");
        assert_eq!(primary_tag("de-AT"), Some("de".into()));
        assert_eq!(primary_tag("FR"), Some("fr".into()));
        assert_eq!(primary_tag("d"), None);
        assert_eq!(primary_tag("de AT"), None);
    }
}
