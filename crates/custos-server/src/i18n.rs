//! The privacy center's wording in the visitor's language: the pages people see (rights,
//! account, cookie preferences, unsubscribe), not the staff console.
//!
//! Each built-in language is a TOML file under `crates/custos-server/i18n/`, with the
//! same keys as `en.toml` (a test checks). A page speaks the first of: the `?lang=` the
//! visitor picked (remembered in the `custos_lang` cookie), that cookie, the browser's
//! `Accept-Language` in order of preference, and the operator's `default_language`. The
//! operator can replace any string in any language through `[privacy_center.strings.TAG]`
//! (checked at start: an unknown key or language is named). A missing string falls back to
//! English, so a page never shows a key.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;

use crate::branding::BrandingError;

/// The built-in languages: tag and wording.
const BUILTIN: &[(&str, &str)] = &[
    ("en", include_str!("../i18n/en.toml")),
    ("de", include_str!("../i18n/de.toml")),
    ("fr", include_str!("../i18n/fr.toml")),
    ("es", include_str!("../i18n/es.toml")),
    ("it", include_str!("../i18n/it.toml")),
    ("nl", include_str!("../i18n/nl.toml")),
];

/// The cookie that remembers the language picked on a page.
pub(crate) const COOKIE: &str = "custos_lang";

/// A page's `?lang=` parameter: the language the visitor picked, if any.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LangQuery {
    #[serde(default)]
    pub(crate) lang: Option<String>,
}

/// `response` with the cookie that remembers the visitor's pick, when [`Catalog::pick`]
/// gave one.
pub(crate) fn remember(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// One language's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    tag: String,
    name: String,
    strings: HashMap<String, String>,
}

/// Every language the privacy center speaks, and the one it speaks by default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    languages: BTreeMap<String, Arc<Language>>,
    default: String,
}

/// The wording of one page: its language, with English beneath for anything missing.
#[derive(Debug, Clone)]
pub(crate) struct Strings {
    language: Arc<Language>,
    english: Arc<Language>,
    /// Every language offered, `(tag, name)`, for the language links.
    offered: Arc<Vec<(String, String)>>,
}

impl Strings {
    /// The text of `key`.
    pub(crate) fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.language.strings.get(key).or_else(|| self.english.strings.get(key)).map_or(key, String::as_str)
    }

    /// The language's tag, for `<html lang>`.
    pub(crate) fn lang(&self) -> &str {
        &self.language.tag
    }

    /// Every language offered, `(tag, name)`.
    pub(crate) fn offered(&self) -> &[(String, String)] {
        &self.offered
    }

    /// A request's kind in words (`kind.erasure`), or the kind itself if it has none.
    pub(crate) fn kind(&self, kind: &str) -> String {
        self.t(&format!("kind.{kind}")).to_owned()
    }

    /// A request's state in words.
    pub(crate) fn state(&self, state: &str) -> String {
        self.t(&format!("state.{state}")).to_owned()
    }
}

fn parse(tag: &str, text: &str) -> Result<Language, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("{tag}: {e}"))?;
    let mut strings = HashMap::new();
    let mut name = tag.to_owned();
    for (key, value) in table {
        match value {
            toml::Value::String(s) if key == "name" => name = s,
            toml::Value::Table(section) => {
                for (k, v) in section {
                    let toml::Value::String(s) = v else { return Err(format!("{tag}: {key}.{k} is not text")) };
                    strings.insert(format!("{key}.{k}"), s);
                }
            }
            _ => return Err(format!("{tag}: `{key}` must be a section of strings")),
        }
    }
    Ok(Language { tag: tag.to_owned(), name, strings })
}

impl Catalog {
    /// The built-in languages, English by default.
    pub fn builtin() -> Self {
        match Self::with_settings(None, &BTreeMap::new()) {
            Ok(catalog) => catalog,
            // The built-in files are checked by this module's tests.
            Err(e) => unreachable!("the built-in wording parses: {e}"),
        }
    }

    /// The built-in languages with the operator's `overrides` (language → key → text) and
    /// `default` language; an error names the setting that cannot be used.
    pub fn with_settings(
        default: Option<&str>,
        overrides: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Self, BrandingError> {
        let mut languages = BTreeMap::new();
        for (tag, text) in BUILTIN {
            let language = parse(tag, text).map_err(|message| BrandingError { field: "strings", message })?;
            languages.insert((*tag).to_owned(), language);
        }
        let english_keys: Vec<String> = languages["en"].strings.keys().cloned().collect();
        for (tag, strings) in overrides {
            let Some(language) = languages.get_mut(tag) else {
                return Err(BrandingError {
                    field: "strings",
                    message: format!(
                        "no built-in language `{tag}`; the privacy center speaks {}",
                        BUILTIN.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
                    ),
                });
            };
            for (key, text) in strings {
                if !english_keys.contains(key) {
                    return Err(BrandingError {
                        field: "strings",
                        message: format!(
                            "strings.{tag}: no string is called `{key}` (see crates/custos-server/i18n/en.toml)"
                        ),
                    });
                }
                language.strings.insert(key.clone(), text.clone());
            }
        }
        let default = default.map(str::trim).unwrap_or("en").to_ascii_lowercase();
        if !languages.contains_key(&default) {
            return Err(BrandingError {
                field: "default_language",
                message: format!(
                    "`{default}` is not one of {}",
                    languages.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        Ok(Self { languages: languages.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(), default })
    }

    fn strings(&self, tag: &str) -> Strings {
        let language = self.languages.get(tag).or_else(|| self.languages.get(&self.default));
        let english = self.languages.get("en");
        match (language, english) {
            (Some(language), Some(english)) => Strings {
                language: language.clone(),
                english: english.clone(),
                offered: Arc::new(self.languages.values().map(|l| (l.tag.clone(), l.name.clone())).collect()),
            },
            // English is built in and the default is checked at start.
            _ => unreachable!("the catalog holds English and its default"),
        }
    }

    /// The wording for a request: `picked` (a `?lang=` parameter), else the language
    /// cookie, else `Accept-Language`, else the default. Also returns the cookie to set
    /// when the visitor picked a language.
    pub(crate) fn pick(&self, picked: Option<&str>, headers: &HeaderMap) -> (Strings, Option<HeaderValue>) {
        let known = |tag: &str| {
            let tag = tag.trim().to_ascii_lowercase();
            let primary = tag.split(['-', '_']).next().unwrap_or("").to_owned();
            self.languages.contains_key(&primary).then_some(primary)
        };
        if let Some(tag) = picked.and_then(known) {
            let cookie = HeaderValue::from_str(&format!("{COOKIE}={tag}; Max-Age=31536000; Path=/; SameSite=Lax")).ok();
            return (self.strings(&tag), cookie);
        }
        if let Some(tag) = crate::accounts::cookie_value(headers, COOKIE).as_deref().and_then(known) {
            return (self.strings(&tag), None);
        }
        let accepted = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut ranked: Vec<(f32, usize, &str)> = accepted
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim();
                let q =
                    bits.find_map(|b| b.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                (q > 0.0).then_some((q, i, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let tag = ranked.iter().find_map(|(_, _, tag)| known(tag)).unwrap_or_else(|| self.default.clone());
        (self.strings(&tag), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        let english = parse("en", BUILTIN[0].1).expect("en");
        for (tag, text) in BUILTIN {
            let language = parse(tag, text).unwrap_or_else(|e| panic!("{e}"));
            let mut missing: Vec<&String> =
                english.strings.keys().filter(|k| !language.strings.contains_key(*k)).collect();
            let mut extra: Vec<&String> =
                language.strings.keys().filter(|k| !english.strings.contains_key(*k)).collect();
            missing.sort();
            extra.sort();
            assert!(missing.is_empty() && extra.is_empty(), "{tag}: missing {missing:?}, unknown {extra:?}");
            assert!(language.strings.values().all(|s| !s.trim().is_empty()), "{tag}: an empty string");
        }
    }

    #[test]
    fn the_language_follows_the_pick_the_cookie_then_the_browser() {
        let catalog = Catalog::builtin();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("pt-BR, fr-CH;q=0.9, de;q=0.95, en;q=0.1"));
        assert_eq!(catalog.pick(None, &headers).0.lang(), "de", "the best-ranked language custos speaks");
        let (strings, cookie) = catalog.pick(Some("IT"), &headers);
        assert_eq!(strings.lang(), "it");
        assert!(cookie.is_some_and(|c| c.to_str().unwrap_or("").starts_with("custos_lang=it;")));
        headers.insert(header::COOKIE, HeaderValue::from_static("custos_lang=nl"));
        assert_eq!(catalog.pick(Some("xx"), &headers).0.lang(), "nl", "an unknown pick is ignored");
        assert_eq!(catalog.pick(None, &HeaderMap::new()).0.t("rights.send"), "Send the request");
    }

    #[test]
    fn overrides_and_the_default_are_checked() {
        let mut overrides = BTreeMap::new();
        overrides.insert("de".to_owned(), BTreeMap::from([("rights.send".to_owned(), "Abschicken".to_owned())]));
        let catalog = Catalog::with_settings(Some("de"), &overrides).expect("valid");
        assert_eq!(catalog.pick(None, &HeaderMap::new()).0.t("rights.send"), "Abschicken");
        overrides.insert("de".to_owned(), BTreeMap::from([("rights.sendd".to_owned(), "x".to_owned())]));
        let e = Catalog::with_settings(None, &overrides).expect_err("unknown key");
        assert!(e.message.contains("rights.sendd"), "{e}");
        let e = Catalog::with_settings(Some("pt"), &BTreeMap::new()).expect_err("unknown language");
        assert_eq!(e.field, "default_language");
    }
}
