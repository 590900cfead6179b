//! The privacy policy as code.
//!
//! `policy.toml` declares what the operator collects, why, on which legal basis, who
//! receives it, where it goes and for how long. This crate reads it into a typed
//! [`Policy`], refuses a policy that breaks a rule (see [`validate`]) with every error and
//! its `file:line:column` at once, identifies each version by the hash of its canonical
//! form ([`version`]), lists what changed between two versions ([`diff`]), and renders the
//! notice people read ([`render`]) and the Art. 30 record of processing ([`ropa`]).
//!
//! The crate does no I/O: callers pass text in and get text out.

#![forbid(unsafe_code)]

pub mod countries;
mod diagnostic;
pub mod diff;
mod model;
mod raw;
pub mod render;
pub mod ropa;
pub mod taxonomy;
pub mod validate;
pub mod version;

pub use crate::diagnostic::{Diagnostic, PolicyError};
pub use crate::diff::PolicyDiff;
pub use crate::model::*;
pub use crate::version::PolicyVersion;

/// The example policy for the seed privacy policy: the embedded default.
pub const EXAMPLE_TOML: &str = include_str!("../policies/example.toml");

impl Policy {
    /// Parses and validates policy text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PolicyError> {
        validate::parse(text, origin)
    }

    /// The embedded example policy.
    pub fn example() -> Self {
        // The example is checked by this crate's tests; failing here is a build defect.
        Self::from_toml(EXAMPLE_TOML, "example.toml")
            .unwrap_or_else(|e| panic!("the embedded example policy is invalid: {e}"))
    }

    /// The purpose with `id`.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    /// The category with `key`.
    pub fn category(&self, key: &str) -> Option<&DataCategory> {
        self.categories.iter().find(|c| c.key == key)
    }

    /// The recipient with `id`.
    pub fn recipient(&self, id: &str) -> Option<&Recipient> {
        self.recipients.iter().find(|r| r.id == id)
    }

    /// The retention rules that apply to `category` used for `purpose`.
    pub fn retention_for(&self, purpose: &str, category: &str) -> impl Iterator<Item = &RetentionRule> {
        self.retention.iter().filter(move |r| r.covers(purpose, category))
    }

    /// The recipients that may receive `category` for `purpose`.
    pub fn recipients_for(&self, purpose: &str, category: &str) -> impl Iterator<Item = &Recipient> {
        self.recipients
            .iter()
            .filter(move |r| r.purposes.iter().any(|p| p == purpose) && r.categories.iter().any(|c| c == category))
    }

    /// The version of this policy: its content hash, label and effective date.
    pub fn version(&self) -> PolicyVersion {
        PolicyVersion::of(self)
    }
}
