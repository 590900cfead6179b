//! Schema migrations, embedded in the binary and applied at start or by `custos migrate`.
//!
//! Each backend has its own SQL files under `migrations/<backend>/`. sqlx's own migrator
//! needs its proc-macro crate to embed files; this small runner embeds them with
//! `include_str!` instead, keeps a checksum of each applied file, refuses to start on a
//! database whose applied migrations were edited or come from a newer custos, and runs
//! inside one transaction under a lock, so several processes starting at once apply each
//! migration once.

use sha2::{Digest, Sha256};

use crate::StoreError;

/// One embedded migration.
#[derive(Debug)]
pub(crate) struct Migration {
    /// Applied in increasing order.
    pub(crate) version: i64,
    /// A short name for messages.
    pub(crate) name: &'static str,
    /// The SQL to run.
    pub(crate) sql: &'static str,
}

impl Migration {
    pub(crate) fn checksum(&self) -> Vec<u8> {
        Sha256::digest(self.sql.as_bytes()).to_vec()
    }
}

/// The main store's migrations for the backend whose SQL lives in `migrations/$dir/`, in
/// order. Adding a migration: a file per backend, and one line here.
macro_rules! main_migrations {
    ($dir:literal) => {
        &[
            $crate::migrate::Migration {
                version: 1,
                name: "foundation",
                sql: include_str!(concat!("../../migrations/", $dir, "/0001_foundation.sql")),
            },
            $crate::migrate::Migration {
                version: 2,
                name: "policy_versions",
                sql: include_str!(concat!("../../migrations/", $dir, "/0002_policy_versions.sql")),
            },
            $crate::migrate::Migration {
                version: 3,
                name: "subject_state",
                sql: include_str!(concat!("../../migrations/", $dir, "/0003_subject_state.sql")),
            },
            $crate::migrate::Migration {
                version: 4,
                name: "service_tokens",
                sql: include_str!(concat!("../../migrations/", $dir, "/0004_service_tokens.sql")),
            },
            $crate::migrate::Migration {
                version: 5,
                name: "consent_details",
                sql: include_str!(concat!("../../migrations/", $dir, "/0005_consent_details.sql")),
            },
            $crate::migrate::Migration {
                version: 6,
                name: "events",
                sql: include_str!(concat!("../../migrations/", $dir, "/0006_events.sql")),
            },
            $crate::migrate::Migration {
                version: 7,
                name: "accounts",
                sql: include_str!(concat!("../../migrations/", $dir, "/0007_accounts.sql")),
            },
            $crate::migrate::Migration {
                version: 8,
                name: "consent_resets",
                sql: include_str!(concat!("../../migrations/", $dir, "/0008_consent_resets.sql")),
            },
            $crate::migrate::Migration {
                version: 9,
                name: "campaigns",
                sql: include_str!(concat!("../../migrations/", $dir, "/0009_campaigns.sql")),
            },
            $crate::migrate::Migration {
                version: 10,
                name: "rights_requests",
                sql: include_str!(concat!("../../migrations/", $dir, "/0010_rights_requests.sql")),
            },
            $crate::migrate::Migration {
                version: 11,
                name: "partners",
                sql: include_str!(concat!("../../migrations/", $dir, "/0011_partners.sql")),
            },
            $crate::migrate::Migration {
                version: 12,
                name: "governance",
                sql: include_str!(concat!("../../migrations/", $dir, "/0012_governance.sql")),
            },
            $crate::migrate::Migration {
                version: 13,
                name: "rights_callbacks",
                sql: include_str!(concat!("../../migrations/", $dir, "/0013_rights_callbacks.sql")),
            },
            $crate::migrate::Migration {
                version: 14,
                name: "staff",
                sql: include_str!(concat!("../../migrations/", $dir, "/0014_staff.sql")),
            },
            $crate::migrate::Migration {
                version: 15,
                name: "staff_totp",
                sql: include_str!(concat!("../../migrations/", $dir, "/0015_staff_totp.sql")),
            },
            $crate::migrate::Migration {
                version: 16,
                name: "staff_purposes",
                sql: include_str!(concat!("../../migrations/", $dir, "/0016_staff_purposes.sql")),
            },
            $crate::migrate::Migration {
                version: 17,
                name: "inbox",
                sql: include_str!(concat!("../../migrations/", $dir, "/0017_inbox.sql")),
            },
            $crate::migrate::Migration {
                version: 18,
                name: "rights_language",
                sql: include_str!(concat!("../../migrations/", $dir, "/0018_rights_language.sql")),
            },
            $crate::migrate::Migration {
                version: 19,
                name: "consents_one_index",
                sql: include_str!(concat!("../../migrations/", $dir, "/0019_consents_one_index.sql")),
            },
            $crate::migrate::Migration {
                version: 20,
                name: "confirmations",
                sql: include_str!(concat!("../../migrations/", $dir, "/0020_confirmations.sql")),
            },
            $crate::migrate::Migration {
                version: 21,
                name: "audit_no_subject_index",
                sql: include_str!(concat!("../../migrations/", $dir, "/0021_audit_no_subject_index.sql")),
            },
        ]
    };
}
pub(crate) use main_migrations;

/// The key store's migrations for the backend whose SQL lives in `migrations/$dir/keys/`.
macro_rules! key_migrations {
    ($dir:literal) => {
        &[$crate::migrate::Migration {
            version: 1,
            name: "keys",
            sql: include_str!(concat!("../../migrations/", $dir, "/keys/0001_keys.sql")),
        }]
    };
}
pub(crate) use key_migrations;

/// A migration that [`crate::Store::migrate`] applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Its version number.
    pub version: i64,
    /// Its name.
    pub name: &'static str,
}

/// Checks the migrations already applied (`version`, `checksum`) against the embedded
/// ones and returns those still to apply, in order.
pub(crate) fn pending<'m>(
    migrations: &'m [Migration],
    applied: &[(i64, Vec<u8>)],
) -> Result<Vec<&'m Migration>, StoreError> {
    for (version, checksum) in applied {
        let Some(known) = migrations.iter().find(|m| m.version == *version) else {
            return Err(StoreError::Migration {
                version: *version,
                name: "unknown".into(),
                reason: "the database was migrated by a newer custos; run that version or restore a matching backup"
                    .into(),
            });
        };
        if known.checksum() != *checksum {
            return Err(StoreError::Migration {
                version: *version,
                name: known.name.into(),
                reason: "its SQL changed after it was applied; restore the original migration file".into(),
            });
        }
    }
    Ok(migrations.iter().filter(|m| applied.iter().all(|(v, _)| *v != m.version)).collect())
}

/// Applies what is missing of `$migrations` on `$conn` (of database `$db`), which the
/// caller has put inside a transaction that holds the migration lock.
macro_rules! apply_migrations {
    ($db:ty, $tx:ident, $table:expr, $migrations:expr, $create_table_sql:expr) => {{
        sqlx::Executor::execute(&mut *$tx, $create_table_sql.as_str()).await?;
        let applied = sqlx::query_as::<$db, (i64, Vec<u8>)>(&format!(
            "SELECT version, checksum FROM {} ORDER BY version",
            $table
        ))
        .fetch_all(&mut *$tx)
        .await?;
        let mut done = Vec::new();
        for m in $crate::migrate::pending($migrations, &applied)? {
            let fail = |e: sqlx::Error| $crate::StoreError::Migration {
                version: m.version,
                name: m.name.into(),
                reason: $crate::error::one_line(&e),
            };
            sqlx::Executor::execute(&mut *$tx, m.sql).await.map_err(fail)?;
            sqlx::query::<$db>(&format!(
                "INSERT INTO {} (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                $table
            ))
            .bind(m.version)
            .bind(m.name)
            .bind(m.checksum())
            .bind(jiff::Timestamp::now().as_millisecond())
            .execute(&mut *$tx)
            .await
            .map_err(fail)?;
            done.push($crate::migrate::AppliedMigration { version: m.version, name: m.name });
        }
        done
    }};
}
pub(crate) use apply_migrations;

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &[Migration] = &[
        Migration { version: 1, name: "one", sql: "CREATE TABLE a (x INTEGER)" },
        Migration { version: 2, name: "two", sql: "CREATE TABLE b (x INTEGER)" },
    ];

    #[test]
    fn only_missing_migrations_are_pending() {
        assert_eq!(pending(LIST, &[]).expect("fresh").len(), 2);
        let applied = vec![(1, LIST[0].checksum())];
        let left: Vec<i64> = pending(LIST, &applied).expect("one applied").iter().map(|m| m.version).collect();
        assert_eq!(left, vec![2]);
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let err = pending(LIST, &[(1, vec![0; 32])]).expect_err("checksum differs");
        assert!(err.to_string().contains("its SQL changed after it was applied"), "{err}");
    }

    #[test]
    fn a_database_from_a_newer_custos_is_refused() {
        let err = pending(LIST, &[(1, LIST[0].checksum()), (9, vec![1; 32])]).expect_err("unknown version");
        assert!(err.to_string().contains("migrated by a newer custos"), "{err}");
    }
}
