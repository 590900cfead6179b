//! `custos retention|holds|breach|legal …`: the governance registers from the terminal.

use anyhow::Context;
use clap::Subcommand;
use custos_engine::gate::{Actor, StaffRole};
use custos_engine::governance::Governance;
use custos_engine::governance::breach::NewBreach;
use custos_engine::governance::holds::NewHold;
use custos_engine::governance::legal::{Decision, NewLegalRequest};
use jiff::Timestamp;
use uuid::Uuid;

use crate::config::Settings;
use crate::storage;

#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCommand {
    /// Delete every record whose retention has ended (resuming a sweep cut short), except
    /// what a legal hold keeps; print what was deleted per category.
    Run {
        /// Count only: delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Records per batch (each batch is one short transaction).
        #[arg(long, default_value_t = 500)]
        batch: u32,
    },
    /// The latest sweeps.
    History {
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum HoldsCommand {
    /// Holds in force (or every one with --all).
    List {
        /// Released and ended holds too.
        #[arg(long)]
        all: bool,
    },
    /// Place a legal hold: nothing in its scope is deleted while it lasts.
    Add {
        /// subject, category, purpose or all.
        #[arg(long)]
        scope: String,
        /// The subject id, category key or purpose id (not for --scope all).
        #[arg(long)]
        target: Option<String>,
        /// The legal obligation or claim; a person whose erasure it stops is told it.
        #[arg(long)]
        reason: String,
        /// Who places it [default: cli:$USER].
        #[arg(long)]
        by: Option<String>,
        /// When it ends by itself (RFC 3339, such as 2027-12-31T00:00:00Z).
        #[arg(long)]
        until: Option<Timestamp>,
    },
    /// Release a hold.
    Release {
        /// The hold's id.
        id: Uuid,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who releases it [default: cli:$USER].
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum BreachCommand {
    /// Register a breach (and queue notices to the partners it affects).
    Open {
        /// What happened.
        #[arg(long)]
        nature: String,
        /// The data categories concerned, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        categories: Vec<String>,
        /// The systems concerned, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        systems: Vec<String>,
        /// The measures taken or proposed.
        #[arg(long)]
        measures: String,
        /// The likely consequences for the people.
        #[arg(long)]
        consequences: String,
        /// The keys that open sealed values were exposed too.
        #[arg(long)]
        keys_exposed: bool,
        /// When the exposure began (RFC 3339).
        #[arg(long)]
        window_start: Timestamp,
        /// When it ended (RFC 3339).
        #[arg(long)]
        window_end: Timestamp,
        /// When it was detected (RFC 3339) [default: now].
        #[arg(long)]
        detected_at: Option<Timestamp>,
        /// Who reports it [default: cli:$USER].
        #[arg(long)]
        by: Option<String>,
    },
    /// The register, newest first, with each one's 72-hour clock.
    List,
    /// One breach.
    Show {
        /// The breach's id.
        id: Uuid,
    },
    /// The people (by subject id) and partners it affects, and who must be told.
    Affected {
        /// The breach's id.
        id: Uuid,
    },
    /// The notification to the supervisory authority (GDPR Art. 33(3)).
    Draft {
        /// The breach's id.
        id: Uuid,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Record that the authority was notified (--authority) and/or queue the Art. 34
    /// notices to the people who must be told (--people).
    Notify {
        /// The breach's id.
        id: Uuid,
        /// The authority was notified now.
        #[arg(long)]
        authority: bool,
        /// Why after 72 hours (required once they are over).
        #[arg(long)]
        delay_reason: Option<String>,
        /// Queue the mails to the people who must be told.
        #[arg(long)]
        people: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum LegalCommand {
    /// The register of requests from authorities, newest first.
    List,
    /// Register a request.
    Add {
        /// The authority that asks.
        #[arg(long)]
        authority: String,
        /// The law it relies on.
        #[arg(long)]
        legal_basis: String,
        /// What it asks for (name people by subject id, never by identifier).
        #[arg(long)]
        scope: String,
        /// When it came in (RFC 3339) [default: now].
        #[arg(long)]
        received_at: Option<Timestamp>,
        /// Who registers it [default: cli:$USER].
        #[arg(long)]
        by: Option<String>,
    },
    /// Record the decision on a pending request.
    Decide {
        /// The request's id.
        id: Uuid,
        /// granted, partly_granted or refused.
        #[arg(long)]
        decision: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who decided [default: cli:$USER].
        #[arg(long)]
        by: Option<String>,
    },
    /// One request, with what was disclosed for it.
    Show {
        /// The request's id.
        id: Uuid,
    },
}

/// The command the governance commands run as.
fn operator() -> (String, Actor) {
    let name = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()));
    let actor = Actor::Staff { id: name.clone(), role: StaffRole::Dpo, purposes: vec![] };
    (name, actor)
}

async fn open(
    settings: &Settings,
) -> anyhow::Result<(std::sync::Arc<dyn custos_store::Store>, std::sync::Arc<Governance>)> {
    let store = storage::open(settings).await?;
    let policy = crate::policy::load(settings.policy.as_deref())?;
    let (vault, _) = crate::keys::open_vault(settings).await?;
    // The same services `custos serve` runs, without the server.
    let governance = custos_server::AppState::new(store.clone(), vault, policy).governance.clone();
    Ok((store, governance))
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs a `custos retention` command.
pub(crate) async fn retention(settings: &Settings, command: &RetentionCommand) -> anyhow::Result<()> {
    let (store, gov) = open(settings).await?;
    match command {
        RetentionCommand::Run { dry_run, batch } => {
            let report = gov.retention.with_batch(*batch).run(*dry_run).await.context("the sweep failed")?;
            let verb = if *dry_run { "would delete" } else { "deleted" };
            println!("category\t{verb}\tkept by a legal hold");
            let mut categories: Vec<&String> = report.deleted.keys().chain(report.held.keys()).collect();
            categories.sort();
            categories.dedup();
            for c in categories {
                let n = |m: &std::collections::BTreeMap<String, u64>| m.get(c).copied().unwrap_or(0);
                println!("{c}\t{}\t{}", n(&report.deleted), n(&report.held));
            }
            println!(
                "{} record(s) {verb} whose retention ended by {}{}",
                report.total_deleted(),
                report.cutoff,
                if report.resumed { " (a sweep cut short was resumed)" } else { "" }
            );
            if report.erasures_finished > 0 {
                println!("{} erasure(s) that a legal hold had cut short are now finished", report.erasures_finished);
            }
        }
        RetentionCommand::History { limit } => {
            println!("id\tstarted\tstate\tdeleted\theld");
            for s in gov.retention.history(*limit).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.id,
                    s.started_at,
                    s.state,
                    s.deleted.values().sum::<u64>(),
                    s.held.values().sum::<u64>()
                );
            }
        }
    }
    store.close().await;
    Ok(())
}

/// Runs a `custos holds` command.
pub(crate) async fn holds(settings: &Settings, command: &HoldsCommand) -> anyhow::Result<()> {
    let (store, gov) = open(settings).await?;
    let (me, actor) = operator();
    match command {
        HoldsCommand::List { all } => {
            println!("id\tscope\ttarget\tplaced\tuntil\treleased\treason");
            for h in gov.holds.list(*all).await? {
                let t = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    h.id,
                    h.scope,
                    h.target.as_deref().unwrap_or("-"),
                    h.placed_at,
                    t(h.until),
                    t(h.released_at),
                    h.reason
                );
            }
        }
        HoldsCommand::Add { scope, target, reason, by, until } => {
            let new = NewHold {
                scope: scope.clone(),
                target: target.clone(),
                reason: reason.clone(),
                placed_by: by.clone().unwrap_or(me),
                until: *until,
            };
            let hold = gov.holds.place(&actor, &new).await.context("cannot place the hold")?;
            println!("placed legal hold {}", hold.id);
        }
        HoldsCommand::Release { id, reason, by } => {
            let hold = gov
                .holds
                .release(&actor, *id, by.as_deref().unwrap_or(&me), reason)
                .await
                .context("cannot release the hold")?;
            println!("released legal hold {}", hold.id);
        }
    }
    store.close().await;
    Ok(())
}

/// Runs a `custos breach` command.
pub(crate) async fn breach(settings: &Settings, command: &BreachCommand) -> anyhow::Result<()> {
    let (store, gov) = open(settings).await?;
    let (me, actor) = operator();
    let b = &gov.breaches;
    match command {
        BreachCommand::Open {
            nature,
            categories,
            systems,
            measures,
            consequences,
            keys_exposed,
            window_start,
            window_end,
            detected_at,
            by,
        } => {
            let new = NewBreach {
                detected_at: *detected_at,
                nature: nature.clone(),
                categories: categories.clone(),
                systems: systems.clone(),
                measures: measures.clone(),
                consequences: consequences.clone(),
                keys_exposed: *keys_exposed,
                window_start: *window_start,
                window_end: *window_end,
                opened_by: by.clone().unwrap_or(me),
            };
            let breach = b.open(&actor, &new).await.context("cannot register the breach")?;
            let clock = b.deadline(&breach);
            println!("registered breach {}; notify the supervisory authority by {}", breach.id, clock.due_at);
        }
        BreachCommand::List => {
            println!("id\tdetected\tdue\tnotified\tflag\tnature");
            for breach in b.list(200).await? {
                let clock = b.deadline(&breach);
                let notified = breach.notified_at.map_or_else(|| "-".to_owned(), |t| t.to_string());
                let flag = if clock.overdue { "OVERDUE" } else { "" };
                println!(
                    "{}\t{}\t{}\t{notified}\t{flag}\t{}",
                    breach.id, breach.detected_at, clock.due_at, breach.nature
                );
            }
        }
        BreachCommand::Show { id } => {
            let breach = b.get(*id).await?;
            let clock = b.deadline(&breach);
            print_json(&serde_json::json!({
                "id": breach.id, "detected_at": breach.detected_at, "nature": breach.nature,
                "categories": breach.categories, "systems": breach.systems, "measures": breach.measures,
                "consequences": breach.consequences, "keys_exposed": breach.keys_exposed,
                "window_start": breach.window_start, "window_end": breach.window_end, "opened_by": breach.opened_by,
                "notified_at": breach.notified_at, "delay_reason": breach.delay_reason,
                "due_at": clock.due_at, "overdue": clock.overdue,
            }))?;
        }
        BreachCommand::Affected { id } => print_json(&b.affected(*id).await?)?,
        BreachCommand::Draft { id, format } => {
            let draft = b.draft(*id).await?;
            match format.as_str() {
                "json" => print_json(&draft)?,
                "text" => print!("{}", custos_engine::governance::breach::draft_text(&draft)),
                other => anyhow::bail!("--format {other}: use text or json"),
            }
        }
        BreachCommand::Notify { id, authority, delay_reason, people } => {
            if !authority && !people {
                anyhow::bail!("say what to record: --authority (the authority was notified) and/or --people");
            }
            if *authority {
                let breach = b
                    .notify_authority(&actor, *id, delay_reason.as_deref())
                    .await
                    .context("cannot record the notification")?;
                println!(
                    "recorded: the supervisory authority was notified of {} at {}",
                    breach.id,
                    breach.notified_at.unwrap_or(breach.created_at)
                );
            }
            if *people {
                let queued = b.notify_people(&actor, *id).await.context("cannot queue the notices")?;
                println!("queued {queued} notice(s) to the people who must be told (Art. 34)");
            }
        }
    }
    store.close().await;
    Ok(())
}

/// Runs a `custos legal` command.
pub(crate) async fn legal(settings: &Settings, command: &LegalCommand) -> anyhow::Result<()> {
    let (store, gov) = open(settings).await?;
    let (me, actor) = operator();
    match command {
        LegalCommand::List => {
            println!("id\treceived\tdecision\tauthority");
            for r in gov.legal.list(200).await? {
                println!("{}\t{}\t{}\t{}", r.id, r.received_at, r.decision, r.authority);
            }
        }
        LegalCommand::Add { authority, legal_basis, scope, received_at, by } => {
            let new = NewLegalRequest {
                authority: authority.clone(),
                legal_basis: legal_basis.clone(),
                scope: scope.clone(),
                received_at: *received_at,
                recorded_by: by.clone().unwrap_or(me),
            };
            let r = gov.legal.register(&actor, &new).await.context("cannot register the request")?;
            println!("registered legal request {}", r.id);
        }
        LegalCommand::Decide { id, decision, reason, by } => {
            let d =
                Decision { decision: decision.clone(), decided_by: by.clone().unwrap_or(me), reason: reason.clone() };
            let r = gov.legal.decide(&actor, *id, &d).await.context("cannot record the decision")?;
            println!("legal request {} is {}", r.id, r.decision);
        }
        LegalCommand::Show { id } => {
            let r = gov.legal.get(*id).await?;
            let disclosed = gov.legal.disclosures(*id).await?;
            print_json(&serde_json::json!({
                "id": r.id, "authority": r.authority, "legal_basis": r.legal_basis, "scope": r.scope,
                "received_at": r.received_at, "decision": r.decision, "decided_by": r.decided_by,
                "decided_at": r.decided_at, "reason": r.reason, "recorded_by": r.recorded_by,
                "disclosures": disclosed.iter().map(|d| serde_json::json!({
                    "id": d.id, "recipient": d.recipient, "categories": d.categories, "at": d.at,
                    "subjects": d.subjects.iter().map(|(s, _)| s).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            }))?;
        }
    }
    store.close().await;
    Ok(())
}
