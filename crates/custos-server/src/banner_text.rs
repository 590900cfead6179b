//! The banner's wording in each language: built-in translations of its fixed strings, and
//! the operator's `[banner]` settings, which change any of them, add languages and
//! translate the names and descriptions of the consent categories (taken from the policy,
//! in the policy's language, where no translation is given).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The banner's fixed strings in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Strings {
    pub(crate) title: String,
    pub(crate) body: String,
    pub(crate) policy: String,
    pub(crate) accept: String,
    pub(crate) reject: String,
    pub(crate) save: String,
}

/// `[title, body, policy link, accept all, reject all, save]` per language.
const BUILT_IN: &[(&str, [&str; 6])] = &[
    (
        "en",
        [
            "Your choices about cookies",
            "We use cookies that the site needs to work. With your consent we also use the ones below; you can refuse them and the site still works. You can change your mind at any time.",
            "Read our privacy notice",
            "Accept all",
            "Reject all",
            "Save my choices",
        ],
    ),
    (
        "de",
        [
            "Ihre Entscheidung zu Cookies",
            "Wir verwenden Cookies, die für den Betrieb der Website nötig sind. Mit Ihrer Einwilligung verwenden wir auch die unten genannten; Sie können sie ablehnen, und die Website funktioniert weiterhin. Sie können Ihre Entscheidung jederzeit ändern.",
            "Unsere Datenschutzhinweise lesen",
            "Alle akzeptieren",
            "Alle ablehnen",
            "Auswahl speichern",
        ],
    ),
    (
        "fr",
        [
            "Vos choix concernant les cookies",
            "Nous utilisons les cookies nécessaires au fonctionnement du site. Avec votre consentement, nous utilisons aussi ceux ci-dessous ; vous pouvez les refuser et le site fonctionne toujours. Vous pouvez changer d’avis à tout moment.",
            "Lire notre politique de confidentialité",
            "Tout accepter",
            "Tout refuser",
            "Enregistrer mes choix",
        ],
    ),
    (
        "es",
        [
            "Sus opciones sobre cookies",
            "Usamos las cookies que el sitio necesita para funcionar. Con su consentimiento usamos también las de abajo; puede rechazarlas y el sitio seguirá funcionando. Puede cambiar de opinión en cualquier momento.",
            "Leer nuestro aviso de privacidad",
            "Aceptar todo",
            "Rechazar todo",
            "Guardar mis opciones",
        ],
    ),
    (
        "it",
        [
            "Le tue scelte sui cookie",
            "Usiamo i cookie necessari al funzionamento del sito. Con il tuo consenso usiamo anche quelli qui sotto; puoi rifiutarli e il sito funziona comunque. Puoi cambiare idea in qualsiasi momento.",
            "Leggi la nostra informativa sulla privacy",
            "Accetta tutto",
            "Rifiuta tutto",
            "Salva le mie scelte",
        ],
    ),
    (
        "nl",
        [
            "Uw keuzes over cookies",
            "We gebruiken cookies die de site nodig heeft om te werken. Met uw toestemming gebruiken we ook de cookies hieronder; u kunt ze weigeren en de site blijft werken. U kunt uw keuze altijd wijzigen.",
            "Lees onze privacyverklaring",
            "Alles accepteren",
            "Alles weigeren",
            "Mijn keuzes opslaan",
        ],
    ),
];

/// The `[banner]` section of the configuration.
///
/// ```toml
/// [banner]
/// default_language = "de"
/// [banner.strings.de]
/// title = "Cookies auf unserer Seite"
/// [banner.categories.de.analytics]
/// name = "Statistik"
/// description = "Welche Seiten besucht werden, ohne Werbung."
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BannerSettings {
    /// The language shown when none of the visitor's languages is available; `en` if unset.
    pub default_language: Option<String>,
    /// Replacements of the fixed strings, per language. A language that is not built in
    /// (en, de, fr, es, it, nl) must give all six.
    pub strings: BTreeMap<String, StringOverrides>,
    /// Names and descriptions of the cookie categories (`preferences`, `analytics`,
    /// `marketing`), per language.
    pub categories: BTreeMap<String, BTreeMap<String, CategoryText>>,
}

/// Some or all of the fixed strings of one language.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StringOverrides {
    /// The banner's heading.
    pub title: Option<String>,
    /// The paragraph under it.
    pub body: Option<String>,
    /// The text of the link to the privacy notice.
    pub policy: Option<String>,
    /// The button that accepts every category.
    pub accept: Option<String>,
    /// The button that refuses every category.
    pub reject: Option<String>,
    /// The button that saves the boxes as ticked.
    pub save: Option<String>,
}

/// A category's name and description in one language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryText {
    /// The category's name.
    pub name: String,
    /// What it is used for.
    pub description: String,
}

/// A `[banner]` setting that cannot be used; `key` is its dotted path in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("banner.{key}: {message}")]
pub struct BannerError {
    /// Where, such as `strings.pt.title`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn error(key: impl Into<String>, message: impl Into<String>) -> BannerError {
    BannerError { key: key.into(), message: message.into() }
}

/// A language tag custos accepts as a key: a primary subtag, 2 or 3 lowercase letters.
fn language_tag(tag: &str) -> bool {
    (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_lowercase())
}

impl BannerSettings {
    /// The fixed strings per language, built-in ones changed by the settings, and the
    /// default language; or the first setting that cannot be used.
    pub(crate) fn strings(&self) -> Result<(BTreeMap<String, Strings>, String), BannerError> {
        let mut languages: BTreeMap<String, Strings> = BUILT_IN
            .iter()
            .map(|(tag, [title, body, policy, accept, reject, save])| {
                let strings = Strings {
                    title: (*title).into(),
                    body: (*body).into(),
                    policy: (*policy).into(),
                    accept: (*accept).into(),
                    reject: (*reject).into(),
                    save: (*save).into(),
                };
                ((*tag).to_owned(), strings)
            })
            .collect();
        for (tag, overrides) in &self.strings {
            if !language_tag(tag) {
                return Err(error(
                    format!("strings.{tag}"),
                    "a language is named by its 2- or 3-letter code in lower case, such as `pt`",
                ));
            }
            let fields = [
                ("title", &overrides.title),
                ("body", &overrides.body),
                ("policy", &overrides.policy),
                ("accept", &overrides.accept),
                ("reject", &overrides.reject),
                ("save", &overrides.save),
            ];
            for (field, value) in fields {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return Err(error(format!("strings.{tag}.{field}"), "must not be empty"));
                }
            }
            let strings = match languages.get(tag) {
                Some(base) => base.clone(),
                None => {
                    let missing: Vec<&str> = fields.iter().filter(|(_, v)| v.is_none()).map(|(f, _)| *f).collect();
                    if let Some(first) = missing.first() {
                        return Err(error(
                            format!("strings.{tag}.{first}"),
                            format!(
                                "`{tag}` is not built in, so all of title, body, policy, accept, reject and save are needed; missing: {}",
                                missing.join(", ")
                            ),
                        ));
                    }
                    languages["en"].clone()
                }
            };
            let pick = |value: &Option<String>, base: &str| value.clone().unwrap_or_else(|| base.to_owned());
            let merged = Strings {
                title: pick(&overrides.title, &strings.title),
                body: pick(&overrides.body, &strings.body),
                policy: pick(&overrides.policy, &strings.policy),
                accept: pick(&overrides.accept, &strings.accept),
                reject: pick(&overrides.reject, &strings.reject),
                save: pick(&overrides.save, &strings.save),
            };
            languages.insert(tag.clone(), merged);
        }
        let default = self.default_language.clone().unwrap_or_else(|| "en".to_owned());
        if !languages.contains_key(&default) {
            return Err(error(
                "default_language",
                format!(
                    "`{default}` has no strings; use one of {} or add [banner.strings.{default}]",
                    languages.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        for (tag, categories) in &self.categories {
            if !languages.contains_key(tag) {
                return Err(error(
                    format!("categories.{tag}"),
                    format!("`{tag}` has no strings; add [banner.strings.{tag}] or use a built-in language"),
                ));
            }
            for (category, text) in categories {
                if text.name.trim().is_empty() || text.description.trim().is_empty() {
                    return Err(error(
                        format!("categories.{tag}.{category}"),
                        "name and description must not be empty",
                    ));
                }
            }
        }
        Ok((languages, default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_like: serde_json::Value) -> BannerSettings {
        serde_json::from_value(toml_like).expect("settings")
    }

    #[test]
    fn six_languages_are_built_in_and_english_is_the_default() {
        let (languages, default) = BannerSettings::default().strings().expect("strings");
        assert_eq!(languages.keys().map(String::as_str).collect::<Vec<_>>(), ["de", "en", "es", "fr", "it", "nl"]);
        assert_eq!(default, "en");
        assert_eq!(languages["de"].reject, "Alle ablehnen");
        for strings in languages.values() {
            for s in [&strings.title, &strings.body, &strings.policy, &strings.accept, &strings.reject, &strings.save] {
                assert!(!s.trim().is_empty());
            }
        }
    }

    #[test]
    fn the_operator_changes_a_string_and_adds_a_language() {
        let (languages, default) = settings(serde_json::json!({
            "default_language": "pt",
            "strings": {
                "de": {"title": "Cookies bei uns"},
                "pt": {"title": "As suas escolhas", "body": "Usamos cookies.", "policy": "Aviso de privacidade",
                       "accept": "Aceitar tudo", "reject": "Recusar tudo", "save": "Guardar"}
            }
        }))
        .strings()
        .expect("strings");
        assert_eq!(default, "pt");
        assert_eq!(languages["de"].title, "Cookies bei uns");
        assert_eq!(languages["de"].reject, "Alle ablehnen", "the other strings stay");
        assert_eq!(languages["pt"].save, "Guardar");
    }

    #[test]
    fn unusable_settings_name_their_key() {
        let cases = [
            (serde_json::json!({"strings": {"pt": {"title": "Olá"}}}), "strings.pt.body"),
            (serde_json::json!({"strings": {"PT-br": {"title": "Olá"}}}), "strings.PT-br"),
            (serde_json::json!({"strings": {"de": {"save": " "}}}), "strings.de.save"),
            (serde_json::json!({"default_language": "pt"}), "default_language"),
            (
                serde_json::json!({"categories": {"pt": {"analytics": {"name": "a", "description": "b"}}}}),
                "categories.pt",
            ),
        ];
        for (value, key) in cases {
            let e = settings(value).strings().expect_err(key);
            assert_eq!(e.key, key, "{e}");
        }
    }
}
