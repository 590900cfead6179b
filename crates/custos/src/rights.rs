//! `custos rights …`: the rights-request queue from the terminal.

use anyhow::Context;
use custos_engine::gate::{Actor, StaffRole};

use crate::cli::RightsCommand;
use crate::config::Settings;
use crate::storage;

/// Runs a `custos rights` command.
pub(crate) async fn run(settings: &Settings, command: &RightsCommand) -> anyhow::Result<()> {
    let store = storage::open(settings).await?;
    let policy = crate::policy::load(settings.policy.as_deref())?;
    let (vault, _) = crate::keys::open_vault(settings).await?;
    // The same services `custos serve` runs, without the server.
    let rights = custos_server::AppState::new(store.clone(), vault, policy)
        .with_outbound(&settings.outbound.load()?)
        .context("the configuration's [outbound] section")?
        .rights
        .clone();
    let operator = || {
        let name = std::env::var("USER").unwrap_or_else(|_| "operator".into());
        Actor::Staff { id: format!("cli:{name}"), role: StaffRole::Dpo, purposes: vec![] }
    };
    let now = jiff::Timestamp::now();
    match command {
        RightsCommand::List { limit } => {
            println!("id\tkind\tstate\treceived\tdue\tflag");
            for r in rights.queue(*limit).await? {
                let flag = if r.due_at <= now {
                    "OVERDUE"
                } else if r.due_at.duration_since(now).as_secs() < 7 * 24 * 3600 {
                    "due within a week"
                } else {
                    ""
                };
                let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
                println!("{}\t{}\t{}\t{}\t{}\t{flag}", r.id, r.kind, r.state, day(r.received_at), day(r.due_at));
            }
        }
        RightsCommand::Show { id } => {
            let r = rights.get(*id).await?;
            let shown = serde_json::json!({
                "id": r.id, "kind": r.kind, "purpose": r.purpose, "channel": r.channel, "state": r.state,
                "held": r.subject_id.is_some(), "received_at": r.received_at, "due_at": r.due_at,
                "extension_reason": r.extension_reason, "verified_at": r.verified_at, "steps": r.steps,
                "outcome": r.outcome, "closed_at": r.closed_at,
            });
            println!("{}", serde_json::to_string_pretty(&shown)?);
        }
        RightsCommand::Extend { id, months, reason } => {
            let r = rights.extend(&operator(), *id, *months, reason).await.context("cannot extend")?;
            println!("{} is now due {}; the person will be told why", r.id, r.due_at.strftime("%Y-%m-%d"));
        }
        RightsCommand::Deny { id, reason } => {
            let r = rights.deny(&operator(), *id, reason).await.context("cannot deny")?;
            println!("{} is denied; the person will be told why and where to complain", r.id);
        }
        RightsCommand::Approve { id, reason } => {
            let r = rights.approve(&operator(), *id, reason).await.context("cannot approve")?;
            println!("{} is verified on your authority and queued to be carried out", r.id);
        }
        RightsCommand::Restrictions { limit } => {
            println!("id\tclosed\tin force\tlift");
            for r in rights.restrictions(*limit).await? {
                let closed = r.closed_at.map(|t| t.strftime("%Y-%m-%d").to_string()).unwrap_or_default();
                let in_force = match r.subject_id {
                    Some(subject) => store.restricted(subject).await?,
                    None => false,
                };
                let lift = match custos_engine::rights::Lift::of(&r) {
                    Some(l) if l.lifted_at.is_some() => "lifted".to_owned(),
                    Some(l) => format!("announced, effective {}", l.effective_at.strftime("%Y-%m-%d")),
                    None => String::new(),
                };
                println!("{}\t{closed}\t{}\t{lift}", r.id, if in_force { "yes" } else { "no" });
            }
        }
        RightsCommand::Lift { id, reason, days } => {
            let r = rights.lift_restriction(&operator(), *id, reason, Some(*days)).await.context("cannot lift")?;
            let effective =
                custos_engine::rights::Lift::of(&r).map(|l| l.effective_at.strftime("%Y-%m-%d").to_string());
            println!(
                "{}: the person will be told first; the restriction ends on {} (once they were told)",
                r.id,
                effective.unwrap_or_default()
            );
        }
        RightsCommand::Run { id } => {
            let r = rights.run_now(*id).await.context("cannot carry it out")?;
            println!("{} is {}; steps done: {}", r.id, r.state, r.steps.join(", "));
        }
    }
    store.close().await;
    Ok(())
}
