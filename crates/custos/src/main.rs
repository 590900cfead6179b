//! `custos`, the one binary: the server, migrations and the operator's tools.
//!
//! Each command loads the layered [`config::Settings`] and reports any failure as one line
//! on standard error (`error: …`, saying what is wrong and how to fix it) with exit code 1.
//! Command-line usage errors exit with 2.

#![forbid(unsafe_code)]

/// mimalloc instead of glibc's malloc: profiles of the HTTP paths spent 15% of their CPU
/// time in malloc and free (docs/PERFORMANCE.md, "Profiles").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod cli;
mod config;
mod governance;
mod keys;
mod partners;
mod pii;
mod policy;
mod rights;
mod serve;
mod storage;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand, KeysCommand};
use crate::config::{LogFormat, Settings};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Pii(command) = &cli.command {
        // Its exit status says what the scan found: 0 nothing, 1 PII, 2 a bad line.
        return pii::run(command);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, except for a policy's list of errors, one per line.
            eprintln!("error: {}", format!("{error:#}").trim_end());
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let storage_flags = match &cli.command {
        Command::Serve(args) => Some(&args.storage),
        Command::Migrate(args) => Some(args),
        Command::Config(_)
        | Command::Policy(_)
        | Command::Keys(_)
        | Command::Tokens(_)
        | Command::Audit(_)
        | Command::Rights(_)
        | Command::Retention(_)
        | Command::Holds(_)
        | Command::Breach(_)
        | Command::Legal(_)
        | Command::Partners(_)
        | Command::Pii(_) => None,
    };
    match &cli.command {
        Command::Config(ConfigCommand::Default) => {
            print!("{}", config::DEFAULT_TOML);
            Ok(())
        }
        Command::Policy(command) => {
            let (settings, _) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            policy::run(command, settings.policy.as_deref())
        }
        Command::Serve(args) => {
            let (mut settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), storage_flags)?;
            if let Some(bind) = args.bind {
                settings.bind = bind;
            }
            if let Some(file) = &args.policy {
                settings.policy = Some(file.clone());
            }
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(serve::run(settings))
        }
        Command::Keys(KeysCommand::Generate { file }) => keys::generate(file),
        Command::Keys(KeysCommand::Rotate { batch }) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(keys::rotate(&settings, *batch))
        }
        Command::Tokens(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(admin::tokens(&settings, command))
        }
        Command::Audit(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(admin::audit(&settings, command))
        }
        Command::Rights(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(rights::run(&settings, command))
        }
        Command::Retention(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(governance::retention(&settings, command))
        }
        Command::Holds(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(governance::holds(&settings, command))
        }
        Command::Breach(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(governance::breach(&settings, command))
        }
        Command::Legal(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(governance::legal(&settings, command))
        }
        Command::Partners(command) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), None)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(partners::run(&settings, command))
        }
        Command::Pii(_) => unreachable!("`custos pii` runs from main, for its exit status"),
        Command::Migrate(_) => {
            let (settings, unknown) = Settings::load(cli.config.as_deref(), std::env::vars(), storage_flags)?;
            init_logging(&settings, &unknown)?;
            runtime()?.block_on(migrate(settings))
        }
    }
}

/// `custos migrate`: applies what is pending and says what it did.
async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let store = storage::connect(&settings, false).await?;
    let applied = store.migrate().await?;
    if applied.is_empty() {
        println!("{} is up to date", storage::describe(&settings));
    }
    for migration in &applied {
        println!("applied migration {:04} {}", migration.version, migration.name);
    }
    store.close().await;
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

/// Logs to standard error, filtered by `log.filter`, as text or JSON.
fn init_logging(settings: &Settings, unknown_vars: &[String]) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&settings.log.filter)
        .map_err(|e| anyhow::anyhow!("log filter {:?} is invalid: {e}; see CUSTOS_LOG", settings.log.filter))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match settings.log.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    for name in unknown_vars {
        tracing::warn!(variable = %name, "ignoring an unknown CUSTOS_ environment variable");
    }
    Ok(())
}
