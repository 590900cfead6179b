//! Personal data in and out (seed 1, 2.3, 4): subjects, their identifiers and their
//! records, each read and write passing the [`Gate`] and leaving an audit entry.
//!
//! [`Records::read`] is the one way to read personal data: it loads the person's state
//! (erased? restricted? consents, objections), asks the gate, writes the decision to the
//! audit log (allowed or refused), and only then opens the sealed values. Writes go the
//! same way: a purpose or category the policy does not declare, or a consent purpose
//! without a live consent, is refused before anything is stored.

use std::collections::HashSet;
use std::sync::Arc;

use custos_policy::Policy;
use custos_store::{IdentifierKind, NewAuditEntry, NewRecord, NewSubject, Store, StoreError, SubjectId, SubjectKind};
use jiff::Timestamp;
use serde_json::json;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit;
use crate::clock::Clock;
use crate::gate::{Access, Actor, Decision, Gate, Objection, Request, Rule, SubjectState};
use crate::vault::{Vault, VaultAccessError};

/// The table name bound into sealed record values.
const RECORDS_TABLE: &str = "records";

/// Why a request about personal data failed.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The gate refused.
    #[error("refused by rule {rule}: {reason}")]
    Denied {
        /// The rule.
        rule: Rule,
        /// Why.
        reason: String,
    },
    /// Input was invalid; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        /// The input at fault.
        field: String,
        /// What is wrong (never the value itself).
        message: String,
    },
    /// The subject does not exist.
    #[error("no subject {0}")]
    NoSubject(SubjectId),
    /// Keys or sealed values failed.
    #[error(transparent)]
    Vault(#[from] VaultAccessError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A record opened for a reader.
#[derive(Debug)]
pub struct OpenedRecord {
    /// The record's id.
    pub record_id: Uuid,
    /// Its data category.
    pub category: String,
    /// The purpose it was collected for.
    pub purpose: String,
    /// The policy version it was collected under.
    pub policy_version: String,
    /// When it was collected.
    pub collected_at: Timestamp,
    /// The value, wiped from memory when dropped.
    pub value: Zeroizing<Vec<u8>>,
}

/// A value to store.
#[derive(Debug, Clone)]
pub struct NewValue<'a> {
    /// The purpose it is collected for.
    pub purpose: &'a str,
    /// Its data category.
    pub category: &'a str,
    /// The value.
    pub value: &'a [u8],
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Whether a data key was destroyed.
    pub key_destroyed: bool,
    /// Whether the subject's rows were deleted.
    pub rows_deleted: bool,
}

/// What a living subject chose, as the gate reads it: live consents, objections,
/// restriction; `None` when there is no such subject.
pub(crate) async fn choices(store: &Arc<dyn Store>, subject: SubjectId) -> Result<Option<SubjectState>, StoreError> {
    Ok(store.choices(subject).await?.map(|c| SubjectState {
        erased: false,
        consents: c.consents.into_iter().collect(),
        objections: c
            .objections
            .into_iter()
            .map(|(purpose, grounds)| (purpose, Objection { compelling_grounds: grounds }))
            .collect(),
        restricted: c.restricted,
    }))
}

/// Subjects and records, through the gate, the vault and the audit log.
pub struct Records {
    store: Arc<dyn Store>,
    auditor: audit::Auditor,
    vault: Arc<Vault>,
    gate: Gate,
    clock: Arc<dyn Clock>,
    /// The policy, for the retention of each value written.
    policy: Arc<Policy>,
    /// The policy's version hash, computed once: hashing the policy costs microseconds.
    policy_version: String,
}

impl std::fmt::Debug for Records {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records").finish_non_exhaustive()
    }
}

impl Records {
    /// The service on `store` and `vault`, enforcing `policy`. Starts an audit appender
    /// task, so it must be called within a Tokio runtime.
    pub fn new(store: Arc<dyn Store>, vault: Arc<Vault>, policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        let gate = Gate::new(&policy);
        let auditor = audit::Auditor::spawn(store.clone(), vault.keys().clone());
        let policy_version = policy.version().hash;
        Self { store, auditor, vault, gate, clock, policy, policy_version }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// The audit appender, to share with other modules.
    pub fn auditor(&self) -> &audit::Auditor {
        &self.auditor
    }

    /// The policy enforced.
    pub fn policy(&self) -> &Arc<Policy> {
        &self.policy
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The gate in use.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// Creates a subject with its identifiers and first values, all or nothing.
    pub async fn create_subject(
        &self,
        actor: &Actor,
        kind: SubjectKind,
        identifiers: &[(IdentifierKind, &str)],
        values: &[NewValue<'_>],
    ) -> Result<(SubjectId, Vec<Uuid>), AccessError> {
        let now = self.clock.now();
        let subject = SubjectId::new();
        // A new person has made no choice yet: consent purposes are refused here.
        for value in values {
            self.check(actor, subject, &SubjectState::default(), value.purpose, &[value.category], Access::Write)
                .await?;
        }
        let mut indexes = Vec::with_capacity(identifiers.len());
        for (i, (kind, value)) in identifiers.iter().enumerate() {
            let index = self.vault.blind_index(*kind, value).map_err(|e| AccessError::Invalid {
                field: format!("identifiers[{i}].value"),
                message: e.to_string(),
            })?;
            indexes.push((*kind, index));
        }
        self.store.create_subject(&NewSubject { id: subject, kind, created_at: now }, &indexes).await?;
        let stored = async {
            let key = self.vault.create_data_key(subject, now).await?;
            let mut ids = Vec::with_capacity(values.len());
            for value in values {
                ids.push(self.put(&key, subject, value, now).await?);
            }
            Ok::<_, AccessError>(ids)
        }
        .await;
        let ids = match stored {
            Ok(ids) => ids,
            Err(e) => {
                // Nothing partial stays behind.
                let _ = self.vault.shred(subject, now).await;
                let _ = self.store.delete_subject(subject).await;
                return Err(e);
            }
        };
        self.audit(
            actor,
            "subject.create",
            Some(subject),
            None,
            json!({"outcome": "allowed", "records": ids.len(), "identifiers": indexes.len(),
                   "categories": values.iter().map(|v| v.category).collect::<Vec<_>>()}),
        )
        .await?;
        Ok((subject, ids))
    }

    /// Stores one more value for an existing subject.
    pub async fn write(&self, actor: &Actor, subject: SubjectId, value: &NewValue<'_>) -> Result<Uuid, AccessError> {
        let ids = self.write_all(actor, subject, std::slice::from_ref(value)).await?;
        ids.into_iter().next().ok_or_else(|| AccessError::Store(StoreError::Corrupt("no record stored".into())))
    }

    /// Stores several values for an existing subject: all pass the gate before any is stored.
    pub async fn write_all(
        &self,
        actor: &Actor,
        subject: SubjectId,
        values: &[NewValue<'_>],
    ) -> Result<Vec<Uuid>, AccessError> {
        let state = self.state(subject).await?;
        self.check_writes(actor, subject, &state, values).await?;
        let now = self.clock.now();
        let key = self.vault.data_key_or_create(subject, now).await?;
        let mut ids = Vec::with_capacity(values.len());
        for value in values {
            ids.push(self.put(&key, subject, value, now).await?);
            self.audit(
                actor,
                "record.write",
                Some(subject),
                Some(value.purpose),
                json!({"outcome": "allowed", "category": value.category}),
            )
            .await?;
        }
        Ok(ids)
    }

    /// Asks the gate whether `values` may be written for the subject in `state`, without
    /// writing them; a refusal is audited. A caller that is about to change the state (the
    /// sign-up form records the consent its values need) asks with the state as it will be.
    pub async fn check_writes(
        &self,
        actor: &Actor,
        subject: SubjectId,
        state: &SubjectState,
        values: &[NewValue<'_>],
    ) -> Result<(), AccessError> {
        for value in values {
            self.check(actor, subject, state, value.purpose, &[value.category], Access::Write).await?;
        }
        Ok(())
    }

    /// Reads the subject's values in `categories` for `purpose`, if the gate allows.
    pub async fn read(
        &self,
        actor: &Actor,
        subject: SubjectId,
        purpose: &str,
        categories: &[&str],
    ) -> Result<Vec<OpenedRecord>, AccessError> {
        // One look at the key store serves both the erased check and the opening.
        let lookup = self.vault.keys().data_key(subject).await?;
        let state = self.state_with(subject, &lookup).await?;
        self.check(actor, subject, &state, purpose, categories, Access::Read).await?;
        let wanted: HashSet<&str> = categories.iter().copied().collect();
        let key = match self.vault.open_lookup(subject, lookup) {
            Ok(key) => Some(key),
            Err(VaultAccessError::NoKey(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let mut opened = Vec::new();
        if let Some(key) = key {
            for record in self.store.records(subject).await? {
                if !wanted.contains(record.category.as_str()) {
                    continue;
                }
                let value = Vault::open_value(&key, RECORDS_TABLE, record.record_id, subject, &record.sealed)
                    .map_err(VaultAccessError::from)?;
                opened.push(OpenedRecord {
                    record_id: record.record_id,
                    category: record.category,
                    purpose: record.purpose,
                    policy_version: record.policy_version,
                    collected_at: record.created_at,
                    value,
                });
            }
        }
        self.audit(
            actor,
            "record.read",
            Some(subject),
            Some(purpose),
            json!({"outcome": "allowed", "categories": categories, "records": opened.len()}),
        )
        .await?;
        Ok(opened)
    }

    /// The subject holding an identifier, if any.
    pub async fn find(&self, kind: IdentifierKind, value: &str) -> Result<Option<SubjectId>, AccessError> {
        let index = self
            .vault
            .blind_index(kind, value)
            .map_err(|e| AccessError::Invalid { field: "value".into(), message: e.to_string() })?;
        Ok(self.store.find_subject(kind, &index).await?)
    }

    /// Erases a subject: destroys their data key first (so no copy of their data can be
    /// opened again), then deletes their rows, and records the erasure.
    pub async fn erase(&self, actor: &Actor, subject: SubjectId) -> Result<Erasure, AccessError> {
        let now = self.clock.now();
        let key_destroyed = self.vault.shred(subject, now).await?;
        let rows_deleted = self.store.delete_subject(subject).await?;
        self.audit(
            actor,
            "subject.erase",
            Some(subject),
            None,
            json!({"outcome": "done", "key_destroyed": key_destroyed, "rows_deleted": rows_deleted}),
        )
        .await?;
        Ok(Erasure { key_destroyed, rows_deleted })
    }

    /// What the gate needs to know about the subject.
    pub async fn state(&self, subject: SubjectId) -> Result<SubjectState, AccessError> {
        let lookup = self.vault.keys().data_key(subject).await?;
        self.state_with(subject, &lookup).await
    }

    /// [`Records::state`], given what the key store holds for the subject.
    async fn state_with(
        &self,
        subject: SubjectId,
        lookup: &custos_store::DataKeyLookup,
    ) -> Result<SubjectState, AccessError> {
        if let custos_store::DataKeyLookup::Erased(_) = lookup {
            return Ok(SubjectState { erased: true, ..SubjectState::default() });
        }
        choices(&self.store, subject).await?.ok_or(AccessError::NoSubject(subject))
    }

    /// Asks the gate; a refusal is audited and returned as [`AccessError::Denied`].
    async fn check(
        &self,
        actor: &Actor,
        subject: SubjectId,
        state: &SubjectState,
        purpose: &str,
        categories: &[&str],
        access: Access,
    ) -> Result<(), AccessError> {
        let request = Request { actor, subject, purpose, categories, access };
        match self.gate.decide(state, &request) {
            Decision::Allow => Ok(()),
            Decision::Deny { rule, reason } => {
                let action = if access == Access::Read { "record.read" } else { "record.write" };
                self.audit(
                    actor,
                    action,
                    Some(subject),
                    Some(purpose),
                    json!({"outcome": "denied", "rule": rule.code(), "categories": categories}),
                )
                .await?;
                Err(AccessError::Denied { rule, reason })
            }
        }
    }

    async fn put(
        &self,
        key: &custos_vault::DataKey,
        subject: SubjectId,
        value: &NewValue<'_>,
        now: Timestamp,
    ) -> Result<Uuid, AccessError> {
        let record_id = Uuid::now_v7();
        let sealed = Vault::seal(key, RECORDS_TABLE, record_id, subject, value.value);
        self.store
            .put_record(&NewRecord {
                subject_id: subject,
                record_id,
                category: value.category.to_owned(),
                purpose: value.purpose.to_owned(),
                policy_version: self.policy_version.clone(),
                sealed,
                created_at: now,
                // The expiry index the retention sweep walks.
                expires_at: crate::governance::retention::expiry(&self.policy, value.purpose, value.category, now),
            })
            .await?;
        Ok(record_id)
    }

    async fn audit(
        &self,
        actor: &Actor,
        action: &str,
        subject: Option<SubjectId>,
        purpose: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let entry = NewAuditEntry {
            at: self.clock.now(),
            actor: actor.audit_name(),
            action: action.to_owned(),
            subject_id: subject,
            purpose: purpose.map(str::to_owned),
            detail,
        };
        self.auditor.append(entry).await.map(|_| ())
    }
}
