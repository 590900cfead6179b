//! `custos partners …`: the partner register from the terminal (seed 3).

use anyhow::Context;
use clap::Subcommand;
use custos_engine::gate::{Actor, StaffRole};
use custos_engine::partners::NewPartner;
use uuid::Uuid;

use crate::config::Settings;
use crate::storage;

#[derive(Debug, Subcommand)]
pub(crate) enum PartnersCommand {
    /// Register a partner; its contact's address is kept sealed.
    Add {
        /// The partner's business name.
        #[arg(long)]
        name: String,
        /// Where it is established (ISO 3166-1 alpha-2, such as DE).
        #[arg(long)]
        country: String,
        /// advertiser, publisher, agency, platform or affiliate.
        #[arg(long)]
        role: String,
        /// The contact person's email address (the termination report goes there).
        #[arg(long)]
        contact_email: String,
        /// The contact person's name.
        #[arg(long)]
        contact_name: Option<String>,
    },
    /// List partners.
    List,
    /// Issue, revoke and rotate a partner's API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// End a partner's contract: its keys are revoked at once and all its data deleted by
    /// the job runner of `custos serve`, which then reports to the partner.
    Terminate {
        /// The partner's id.
        partner: Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Issue a key; it is printed once and only its hash is kept.
    Create {
        /// The partner's id.
        partner: Uuid,
        /// What it may do, comma-separated: records:write, records:read, records:delete [default: all]
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
    },
    /// Revoke a key.
    Revoke {
        /// The partner's id.
        partner: Uuid,
        /// The key's id (the part after `cpk_` and before the next `_`).
        key: String,
    },
    /// Issue a new key with the same scopes and revoke the old one.
    Rotate {
        /// The partner's id.
        partner: Uuid,
        /// The id of the key to replace.
        key: String,
    },
}

/// Runs a `custos partners` command.
pub(crate) async fn run(settings: &Settings, command: &PartnersCommand) -> anyhow::Result<()> {
    let store = storage::open(settings).await?;
    let policy = crate::policy::load(settings.policy.as_deref())?;
    let (vault, _) = crate::keys::open_vault(settings).await?;
    let partners = custos_server::AppState::new(store.clone(), vault, policy)
        .with_partners(settings.partners.clone())
        .partners
        .clone();
    let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let actor = Actor::Staff { id: format!("cli:{operator}"), role: StaffRole::Dpo, purposes: vec![] };
    match command {
        PartnersCommand::Add { name, country, role, contact_email, contact_name } => {
            let new = NewPartner {
                name: name.clone(),
                country: country.clone(),
                role: role.clone(),
                contact_email: contact_email.clone(),
                contact_name: contact_name.clone(),
            };
            let p = partners.register(&actor, &new).await.context("cannot register the partner")?;
            println!("{}", p.id);
        }
        PartnersCommand::List => {
            println!("id\tname\tcountry\trole\tcontract\trecords");
            for p in partners.list(&actor).await? {
                let records = store.count_partner_records(p.id).await?;
                println!("{}\t{}\t{}\t{}\t{}\t{records}", p.id, p.name, p.country, p.role, p.contract_status);
            }
        }
        PartnersCommand::Key(KeyCommand::Create { partner, scopes }) => {
            let (key, text) = partners.create_key(&actor, *partner, scopes).await.context("cannot issue a key")?;
            eprintln!(
                "key {} ({}); it is shown once, give it to the partner as a secret:",
                key.id,
                key.scopes.join(", ")
            );
            println!("{text}");
        }
        PartnersCommand::Key(KeyCommand::Revoke { partner, key }) => {
            partners.revoke_key(&actor, *partner, key).await.context("cannot revoke")?;
            println!("revoked {key}");
        }
        PartnersCommand::Key(KeyCommand::Rotate { partner, key }) => {
            let (new, text) = partners.rotate_key(&actor, *partner, key).await.context("cannot rotate")?;
            eprintln!("key {} replaces {key}, which is revoked; it is shown once:", new.id);
            println!("{text}");
        }
        PartnersCommand::Terminate { partner } => {
            let p = partners.terminate(&actor, *partner).await.context("cannot terminate")?;
            println!(
                "{} is {}: its keys are revoked and its {} records will be deleted by the job runner",
                p.id,
                p.contract_status,
                p.records_at_termination.unwrap_or(0)
            );
        }
    }
    store.close().await;
    Ok(())
}
