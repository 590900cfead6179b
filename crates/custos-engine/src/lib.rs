//! The custos engine: the modules that keep each promise of the privacy policy, written
//! on top of the [`custos_store::Store`] trait. No HTTP and no SQL live here.
//!
//! - [`clock`]: where the engine gets the time, so tests can move it.
//! - [`jobs`]: the durable background-work runner (mail, webhooks, sweeps…).
//! - [`policy`]: the policy in force and every version before it.

#![forbid(unsafe_code)]

pub mod clock;
pub mod jobs;
pub mod policy;

pub use clock::{Clock, ManualClock, SystemClock};
