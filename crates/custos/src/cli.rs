//! The command line: `custos serve`, `custos migrate`, `custos config default`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use custos_store::DatabaseUrl;

/// custos: a self-hosted privacy engine that keeps your privacy policy's promises at run time.
#[derive(Debug, Parser)]
#[command(name = "custos", version, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    /// Configuration file [env: CUSTOS_CONFIG] [default: ./custos.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the HTTP server and the background workers until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate(StorageArgs),
    /// Work with the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check, render and export the privacy policy (policy.toml).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Make and rotate master keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Issue, list and revoke the tokens of the operator's services.
    #[command(subcommand)]
    Tokens(TokensCommand),
    /// Verify and export the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The rights-request queue: list, show, extend a deadline.
    #[command(subcommand)]
    Rights(RightsCommand),
    /// Retention: sweep what has expired (or count it with --dry-run), and past sweeps.
    #[command(subcommand)]
    Retention(crate::governance::RetentionCommand),
    /// Legal holds: list, add, release.
    #[command(subcommand)]
    Holds(crate::governance::HoldsCommand),
    /// The breach register: open, list, show, affected, draft, notify.
    #[command(subcommand)]
    Breach(crate::governance::BreachCommand),
    /// Requests from authorities to disclose data: list, add, decide, show.
    #[command(subcommand)]
    Legal(crate::governance::LegalCommand),
    /// Partners: register them, issue and revoke their API keys, end their contracts.
    #[command(subcommand)]
    Partners(crate::partners::PartnersCommand),
    /// Find personal data and secrets in records (no database or configuration needed).
    #[command(subcommand)]
    Pii(crate::pii::PiiCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum RightsCommand {
    /// Open requests, soonest due first, with overdue ones flagged.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// One request, without personal data.
    Show {
        /// The request's id.
        id: uuid::Uuid,
    },
    /// Extend a deadline by one or two months (once, within the first month); the person
    /// is mailed the reason.
    Extend {
        /// The request's id.
        id: uuid::Uuid,
        /// Months to add: 1 or 2.
        #[arg(long)]
        months: i8,
        /// Why, in words the person will read.
        #[arg(long)]
        reason: String,
    },
    /// Refuse a request not yet being carried out (manifestly unfounded or excessive, or
    /// the person's identity cannot be confirmed); the person is mailed the reason and
    /// where to complain.
    Deny {
        /// The request's id.
        id: uuid::Uuid,
        /// Why, in words the person will read.
        #[arg(long)]
        reason: String,
    },
    /// Verify a request on your authority, for a person whose identity you confirmed by
    /// other means; it is then carried out like any verified request.
    Approve {
        /// The request's id.
        id: uuid::Uuid,
        /// How the person's identity was confirmed (recorded in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Carry out a verified request now, in this process, instead of waiting for a worker.
    Run {
        /// The request's id.
        id: uuid::Uuid,
    },
    /// Fulfilled restriction requests, newest first, with whether each is still in force.
    Restrictions {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Lift the restriction a restriction request obtained, once its ground has ended: the
    /// person is mailed the decision and the reason first, and the restriction ends DAYS
    /// later (Art. 18(3)).
    Lift {
        /// The restriction request's id.
        id: uuid::Uuid,
        /// Why the restriction ends, in words the person will read.
        #[arg(long)]
        reason: String,
        /// Days between telling the person and lifting (0 to 90).
        #[arg(long, default_value_t = custos_engine::rights::DEFAULT_NOTICE_DAYS)]
        days: i64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Write a new master key to FILE (mode 0600); set CUSTOS_MASTER_KEY_FILE to use it.
    Generate {
        /// Where to write the key; an existing file is never overwritten.
        file: PathBuf,
    },
    /// Re-wrap every data key under a new master key, then retire the old one. Safe to run
    /// again after an interruption: it resumes where it stopped. Restart custos afterwards.
    Rotate {
        /// Keys re-wrapped per database round trip.
        #[arg(long, default_value_t = 1000)]
        batch: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// Issue a token; it is printed once and only its hash is kept.
    Create {
        /// What the token is for, such as "website backend".
        #[arg(long)]
        name: String,
        /// The purposes it may act for, comma-separated (ids from the policy).
        #[arg(long, value_delimiter = ',', required = true)]
        purposes: Vec<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by its id.
    Revoke {
        /// The token's id (the part after `cst_` and before the next `_`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check the whole chain; exits 1 and names the first broken entry if it was tampered with.
    Verify,
    /// Print entries as JSON lines.
    Export {
        /// Only entries at or after this time (RFC 3339, such as 2026-11-01T00:00:00Z).
        #[arg(long)]
        since: Option<jiff::Timestamp>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Validate a policy file; every error is listed with its line and column.
    Check {
        /// The policy file.
        file: PathBuf,
    },
    /// Print the privacy notice generated from the policy.
    Render {
        /// The policy file [default: the configured policy, or the embedded example]
        file: Option<PathBuf>,
        /// Output format: html, markdown or json.
        #[arg(long, default_value = "html", value_parser = ["html", "markdown", "json"])]
        format: String,
    },
    /// Print the record of processing activities (GDPR Art. 30).
    Ropa {
        /// The policy file [default: the configured policy, or the embedded example]
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = RopaFormat::Csv)]
        format: RopaFormat,
    },
}

/// Formats of the record of processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RopaFormat {
    /// One row per processing activity.
    Csv,
    /// The whole record as JSON.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print a commented example configuration with every setting at its default.
    Default,
}

/// Where the data lives. Flags override `CUSTOS_*` variables, which override the file.
#[derive(Debug, Args)]
pub(crate) struct StorageArgs {
    /// Directory for the embedded SQLite database and local files [env: CUSTOS_DATA_DIR] [default: ./data]
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Database URL, sqlite://PATH or postgres://USER@HOST/DB [env: CUSTOS_DATABASE_URL] [default: SQLite in the data directory]
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<DatabaseUrl>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, as IP:PORT [env: CUSTOS_BIND] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub(crate) bind: Option<SocketAddr>,

    /// The privacy policy to enforce [env: CUSTOS_POLICY] [default: the embedded example policy]
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,

    #[command(flatten)]
    pub(crate) storage: StorageArgs,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_help() {
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            assert!(sub.get_about().is_some(), "`{}` has no description", sub.get_name());
        }
    }
}
