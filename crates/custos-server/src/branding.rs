//! How the public pages (the privacy center) look and speak: the operator's name, logo
//! and accent colour, the default language and any wording the operator replaces, from
//! the `[privacy_center]` settings.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::i18n::Catalog;

/// The `[privacy_center]` section of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrandingSettings {
    /// The name shown on the pages; the policy's controller by default.
    pub name: Option<String>,
    /// The logo: an `https://` address or a path on the operator's site.
    pub logo_url: Option<String>,
    /// The accent colour of buttons and links, `#rgb` or `#rrggbb`.
    pub accent_colour: Option<String>,
    /// The language of a visitor whose browser asks for none custos speaks (`en`, `de`,
    /// `fr`, `es`, `it`, `nl`); English by default.
    pub default_language: Option<String>,
    /// Wording replaced per language: `[privacy_center.strings.de]` with keys such as
    /// `"rights.title" = "…"` (the keys of `crates/custos-server/i18n/en.toml`).
    pub strings: BTreeMap<String, BTreeMap<String, String>>,
}

/// A setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("privacy_center.{field}: {message}")]
pub struct BrandingError {
    /// The setting.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// What the pages show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    /// The operator's name.
    pub name: String,
    /// Its logo, if any.
    pub logo_url: Option<String>,
    /// The accent colour.
    pub accent: String,
    /// The wording, in every language.
    pub catalog: Arc<Catalog>,
}

impl Branding {
    /// The defaults for `controller`.
    pub fn plain(controller: &str) -> Self {
        Self {
            name: controller.to_owned(),
            logo_url: None,
            accent: "#1a1a1a".into(),
            catalog: Arc::new(Catalog::builtin()),
        }
    }

    /// `settings` checked, over the defaults for `controller`.
    pub fn from_settings(controller: &str, settings: &BrandingSettings) -> Result<Self, BrandingError> {
        let mut branding = Self::plain(controller);
        if let Some(name) = settings.name.as_deref().map(str::trim) {
            if name.is_empty() || name.len() > 120 {
                return Err(BrandingError { field: "name", message: "give 1 to 120 characters".into() });
            }
            branding.name = name.to_owned();
        }
        if let Some(logo) = settings.logo_url.as_deref().map(str::trim) {
            let path = logo.starts_with('/') && !logo.starts_with("//");
            let https = logo.starts_with("https://") && url::Url::parse(logo).is_ok();
            if !(path || https) || logo.contains(['"', '<', '>', ' ']) {
                return Err(BrandingError {
                    field: "logo_url",
                    message: "give an https:// address or a path starting with /".into(),
                });
            }
            branding.logo_url = Some(logo.to_owned());
        }
        if let Some(colour) = settings.accent_colour.as_deref().map(str::trim) {
            let hex = colour.strip_prefix('#').unwrap_or("");
            if !matches!(hex.len(), 3 | 6) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(BrandingError {
                    field: "accent_colour",
                    message: "give #rgb or #rrggbb, such as #0b4fa8".into(),
                });
            }
            branding.accent = colour.to_ascii_lowercase();
        }
        if settings.default_language.is_some() || !settings.strings.is_empty() {
            branding.catalog =
                Arc::new(Catalog::with_settings(settings.default_language.as_deref(), &settings.strings)?);
        }
        Ok(branding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let ok = BrandingSettings {
            name: Some(" Shop ".into()),
            logo_url: Some("https://cdn.shop.example/logo.svg".into()),
            accent_colour: Some("#0B4FA8".into()),
            ..Default::default()
        };
        let b = Branding::from_settings("Controller Ltd", &ok).expect("valid");
        assert_eq!((b.name.as_str(), b.accent.as_str()), ("Shop", "#0b4fa8"));
        assert_eq!(Branding::from_settings("C", &BrandingSettings::default()).expect("plain"), Branding::plain("C"));
        let bad = |s: BrandingSettings| Branding::from_settings("C", &s).expect_err("invalid").field;
        assert_eq!(bad(BrandingSettings { accent_colour: Some("red".into()), ..Default::default() }), "accent_colour");
        assert_eq!(
            bad(BrandingSettings { logo_url: Some("http://x.example/l.png".into()), ..Default::default() }),
            "logo_url"
        );
        assert_eq!(
            bad(BrandingSettings { logo_url: Some("//evil.example/l.png".into()), ..Default::default() }),
            "logo_url"
        );
        assert_eq!(bad(BrandingSettings { name: Some(" ".into()), ..Default::default() }), "name");
    }
}
