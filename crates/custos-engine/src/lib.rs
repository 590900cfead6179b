//! The custos engine: the modules that keep each promise of the privacy policy, written
//! on top of the [`custos_store::Store`] trait. No HTTP and no SQL live here.
//!
//! - [`access`]: the report and copy an access request produces.
//! - [`accounts`]: sign-up, sessions, verification, password reset, closing.
//! - [`analytics`]: website analytics, consented or cookieless.
//! - [`audit`]: the hash-chained audit trail, its anchor and its verification.
//! - [`campaigns`]: marketing campaigns to the people who consented, once each.
//! - [`clock`]: where the engine gets the time, so tests can move it.
//! - [`collect`]: the website's forms.
//! - [`consent`]: the consent ledger.
//! - [`drp`]: the Data Rights Protocol for authorized agents.
//! - [`gate`]: the decision every read and write of personal data passes.
//! - [`governance`]: retention and legal holds, disclosures and transfers, breaches, legal
//!   requests, legitimate-interest assessments.
//! - [`inbox`]: the privacy mailbox: requests by mail, classified, verified, answered in
//!   the thread; requests about partners' data forwarded to them.
//! - [`jobs`]: the durable background-work runner (mail, webhooks, sweeps…).
//! - [`records`]: personal data in and out, through the gate, the vault and the audit log.
//! - [`rights`]: rights requests: intake, verification by code, deadlines, execution.
//! - [`mail`]: outgoing mail through the job runner, checked by the gate at send time.
//! - [`marketing`]: signed unsubscribe links and suppression.
//! - [`outbound`]: HTTPS calls to other parties (agent callbacks, portability transfers).
//! - [`partners`]: partner keys, pseudonymised uploads behind the PII gate, processor
//!   duties, deletion at contract end, aggregates across partners.
//! - [`policy`]: the policy in force and every version before it.
//! - [`staff`]: the operator's staff: console accounts, roles and sessions.
//! - [`tokens`]: service tokens scoped to purposes.
//! - [`vault`]: sealed values, blind indexes, crypto-shredding and key rotation.

#![forbid(unsafe_code)]

pub mod access;
pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod campaigns;
pub mod clock;
pub mod collect;
pub mod confirmations;
pub mod consent;
pub mod drp;
pub mod gate;
pub mod governance;
mod group_commit;
pub mod inbox;
pub mod jobs;
pub mod mail;
pub mod marketing;
pub mod nul;
pub mod outbound;
pub mod partners;
pub mod policy;
pub mod records;
pub mod rights;
pub mod staff;
pub mod tokens;
pub mod vault;

pub use clock::{Clock, ManualClock, SystemClock};
