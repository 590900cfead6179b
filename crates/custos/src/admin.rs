//! `custos tokens …` and `custos audit …`: the operator's tools on a running database.

use std::io::Write;

use anyhow::bail;
use custos_engine::audit;
use custos_engine::tokens;

use crate::cli::{AuditCommand, TokensCommand};
use crate::config::Settings;
use crate::storage;

/// Runs a `custos tokens` command.
pub(crate) async fn tokens(settings: &Settings, command: &TokensCommand) -> anyhow::Result<()> {
    let store = storage::open(settings).await?;
    match command {
        TokensCommand::Create { name, purposes } => {
            let policy = crate::policy::load(settings.policy.as_deref())?;
            let (token, secret) = tokens::issue(&store, &policy, name, purposes, jiff::Timestamp::now()).await?;
            eprintln!(
                "token {} for {} ({}); it is shown once, store it as a secret:",
                token.id,
                token.name,
                token.purposes.join(", ")
            );
            println!("{secret}");
        }
        TokensCommand::List => {
            for t in store.tokens().await? {
                let state = t.revoked_at.map_or("live".to_owned(), |at| format!("revoked {at}"));
                println!("{}\t{}\t{}\t{}\t{state}", t.id, t.name, t.purposes.join(","), t.created_at);
            }
        }
        TokensCommand::Revoke { id } => {
            if !store.revoke_token(id, jiff::Timestamp::now()).await? {
                bail!("no live token `{id}`; see `custos tokens list`");
            }
            println!("revoked {id}");
        }
    }
    store.close().await;
    Ok(())
}

/// Runs a `custos audit` command.
pub(crate) async fn audit(settings: &Settings, command: &AuditCommand) -> anyhow::Result<()> {
    let store = storage::open(settings).await?;
    match command {
        AuditCommand::Verify => {
            let (_, keys) = crate::keys::open_vault(settings).await?;
            let report = audit::verify(&store, &keys, 5_000).await?;
            match report.first_break {
                None => println!("the audit log is intact: {} entries verified", report.entries),
                Some(broken) => bail!("the audit log was tampered with: {broken}"),
            }
        }
        AuditCommand::Export { since } => {
            let mut out = std::io::stdout().lock();
            let mut after = 0;
            loop {
                let page = audit::export(&store, after, 5_000).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in page.iter().filter(|e| since.is_none_or(|t| e.entry.at >= t)) {
                    let hex = |h: &[u8; 32]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
                    let line = serde_json::json!({
                        "seq": e.seq,
                        "at": e.entry.at.to_string(),
                        "actor": e.entry.actor,
                        "action": e.entry.action,
                        "subject_id": e.entry.subject_id,
                        "purpose": e.entry.purpose,
                        "detail": e.entry.detail,
                        "prev_hash": hex(&e.prev_hash),
                        "hash": hex(&e.hash),
                    });
                    writeln!(out, "{line}")?;
                }
            }
        }
    }
    store.close().await;
    Ok(())
}
