//! The custos engine: the modules that keep each promise of the privacy policy, written
//! on top of the [`custos_store::Store`] trait. No HTTP and no SQL live here.
//!
//! - [`clock`]: where the engine gets the time, so tests can move it.
//! - [`jobs`]: the durable background-work runner (mail, webhooks, sweeps…).

#![forbid(unsafe_code)]

pub mod clock;
pub mod jobs;

pub use clock::{Clock, ManualClock, SystemClock};
