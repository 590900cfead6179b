//! Where recipients are, and which transfers need a safeguard (GDPR Chapter V).

/// The EEA: the 27 EU member states, Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2).
pub const EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// Countries with an adequacy decision under Art. 45 as of 2026. Two are partial:
/// Canada covers commercial organisations, the United States only organisations certified
/// under the EU-US Data Privacy Framework (see [`needs_certification`]).
pub const ADEQUATE: &[&str] =
    &["AD", "AR", "BR", "CA", "FO", "GG", "IM", "IL", "JP", "JE", "NZ", "KR", "CH", "GB", "UY", "US"];

/// Whether `country` is in the EEA.
pub fn in_eea(country: &str) -> bool {
    EEA.contains(&country)
}

/// Whether `country` has an adequacy decision (possibly partial).
pub fn adequate(country: &str) -> bool {
    ADEQUATE.contains(&country)
}

/// Whether adequacy for `country` holds only for certified organisations (the United
/// States and its Data Privacy Framework).
pub fn needs_certification(country: &str) -> bool {
    country == "US"
}

/// Whether `code` looks like an ISO 3166-1 alpha-2 code, or `INT` for an international
/// organisation.
pub fn well_formed(code: &str) -> bool {
    code == "INT" || (code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()))
}
