//! `custos policy check|render|ropa`, and loading the policy custos runs with.

use std::path::Path;

use custos_policy::Policy;
use custos_policy::render::{Format, render};

use crate::cli::{PolicyCommand, RopaFormat};

/// The policy at `path`, or the embedded example policy when `path` is `None`.
pub(crate) fn load(path: Option<&Path>) -> anyhow::Result<Policy> {
    let Some(path) = path else {
        return Ok(Policy::example());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow::anyhow!("cannot read the policy file {}: {e}; check --policy or CUSTOS_POLICY", path.display())
    })?;
    Ok(Policy::from_toml(&text, &path.display().to_string())?)
}

/// Runs a `custos policy` command; `configured` is the policy file from the settings.
pub(crate) fn run(command: &PolicyCommand, configured: Option<&Path>) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Check { file } => {
            let policy = load(Some(file))?;
            let version = policy.version();
            println!(
                "{}: valid; version {} ({}), {} purposes, {} categories, {} recipients, {} cookies, {} retention rules",
                file.display(),
                version.short(),
                version.label,
                policy.purposes.len(),
                policy.categories.len(),
                policy.recipients.len(),
                policy.cookies.len(),
                policy.retention.len(),
            );
        }
        PolicyCommand::Render { file, format } => {
            let policy = load(file.as_deref().or(configured))?;
            let format: Format = format.parse().map_err(anyhow::Error::msg)?;
            print!("{}", render(&policy, format, None));
        }
        PolicyCommand::Ropa { file, format } => {
            let policy = load(file.as_deref().or(configured))?;
            match format {
                RopaFormat::Csv => print!("{}", custos_policy::ropa::to_csv(&policy)),
                RopaFormat::Json => println!("{}", custos_policy::ropa::to_json(&policy)),
            }
        }
    }
    Ok(())
}
