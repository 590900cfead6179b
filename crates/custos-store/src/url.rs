//! The database URL: which backend, where, and how to show it without its password.

use std::fmt;
use std::str::FromStr;

use crate::StoreError;

/// The storage backends custos can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite in a file: the embedded default.
    Sqlite,
    /// PostgreSQL: the production backend.
    Postgres,
}

impl Backend {
    /// The backend's short name, as used in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed database URL. Its `Display` and `Debug` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    backend: Backend,
    raw: String,
}

impl DatabaseUrl {
    /// The SQLite database file `path`, created when missing.
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self { backend: Backend::Sqlite, raw: format!("sqlite://{}", path.display()) }
    }

    /// Which backend the URL names.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included: pass it to a driver, never to a log.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The URL with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        match ::url::Url::parse(&self.raw) {
            Ok(mut url) if url.password().is_some() => {
                // Cannot fail: the URL has a password, so it has a host.
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => self.raw.clone(),
        }
    }

    /// For SQLite, the path of the database file.
    pub fn sqlite_path(&self) -> Option<&str> {
        match self.backend {
            Backend::Sqlite => Some(
                self.raw.strip_prefix("sqlite://").or_else(|| self.raw.strip_prefix("sqlite:")).unwrap_or(&self.raw),
            ),
            Backend::Postgres => None,
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let scheme = s.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
        let backend = match scheme {
            "sqlite" => Backend::Sqlite,
            "postgres" | "postgresql" => Backend::Postgres,
            "" => {
                return Err(StoreError::InvalidUrl(format!(
                    "`{}` has no scheme; use sqlite://PATH or postgres://USER@HOST/DB",
                    redact_free_text(s)
                )));
            }
            other => {
                return Err(StoreError::InvalidUrl(format!(
                    "unsupported scheme `{other}`; use sqlite://PATH or postgres://USER@HOST/DB"
                )));
            }
        };
        match backend {
            Backend::Sqlite => {
                let path = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")).unwrap_or("");
                let path = path.split('?').next().unwrap_or("");
                if path.is_empty() {
                    return Err(StoreError::InvalidUrl("sqlite URL names no file; use sqlite://PATH".into()));
                }
            }
            Backend::Postgres => {
                let url = ::url::Url::parse(s).map_err(|e| {
                    StoreError::InvalidUrl(format!("`{}` is not a valid URL: {e}", redact_free_text(s)))
                })?;
                if url.host_str().is_none_or(str::is_empty) && !url.query_pairs().any(|(k, _)| k == "host") {
                    return Err(StoreError::InvalidUrl(format!(
                        "`{}` names no host; use postgres://USER@HOST:PORT/DB",
                        redact_free_text(s)
                    )));
                }
            }
        }
        Ok(Self { backend, raw: s.to_owned() })
    }
}

impl<'de> serde::Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl").field(&self.redacted()).finish()
    }
}

/// Hides what could be a password in a string that did not parse as a URL.
fn redact_free_text(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            let userinfo = &s[start + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &s[..start + 3], &s[at..]),
                None => s.to_owned(),
            }
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_backend_from_the_scheme() {
        let sqlite: DatabaseUrl = "sqlite://data/custos.db".parse().expect("sqlite");
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(sqlite.sqlite_path(), Some("data/custos.db"));
        let pg: DatabaseUrl = "postgres://custos@127.0.0.1:5432/custos".parse().expect("pg");
        assert_eq!(pg.backend(), Backend::Postgres);
        let pg2: DatabaseUrl = "postgresql://custos@db/custos".parse().expect("pg2");
        assert_eq!(pg2.backend(), Backend::Postgres);
    }

    #[test]
    fn refuses_other_schemes_and_garbage() {
        let err = "mysql://root@localhost/db".parse::<DatabaseUrl>().expect_err("mysql");
        assert!(err.to_string().contains("unsupported scheme `mysql`"), "{err}");
        let err = "not a url".parse::<DatabaseUrl>().expect_err("garbage");
        assert!(err.to_string().contains("has no scheme"), "{err}");
        let err = "sqlite://".parse::<DatabaseUrl>().expect_err("empty sqlite");
        assert!(err.to_string().contains("names no file"), "{err}");
        let err = "postgres://".parse::<DatabaseUrl>().expect_err("no host");
        assert!(err.to_string().contains("names no host"), "{err}");
    }

    #[test]
    fn never_shows_the_password() {
        let url: DatabaseUrl = "postgres://custos:s3cret@db:5432/custos".parse().expect("pg");
        assert!(!url.to_string().contains("s3cret"));
        assert!(!format!("{url:?}").contains("s3cret"));
        assert!(url.to_string().contains("custos:***@db"));
        assert_eq!(url.expose(), "postgres://custos:s3cret@db:5432/custos");
        let err = "postgres://custos:s3cret@/x y".parse::<DatabaseUrl>();
        if let Err(err) = err {
            assert!(!err.to_string().contains("s3cret"), "{err}");
        }
    }
}
