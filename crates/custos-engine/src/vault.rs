//! Personal values at rest (seed 1, 4, 7): envelope encryption, blind indexes and
//! crypto-shredding, on top of the pure `custos-vault` crate and the key store.
//!
//! - Each subject has a data key, wrapped under the current master key and kept in the key
//!   store ([`custos_store::KeyStore`]), a database apart from the main one.
//! - Values are sealed with the subject's key and bound to their table, row and subject.
//! - Identifiers are stored as blind indexes under an index key, itself wrapped under the
//!   master key and kept in the key store.
//! - [`Vault::shred`] destroys a subject's data key: from then on no copy of their sealed
//!   values, backups included, can be opened, and reading says "erased".
//! - [`Vault::rotate`] re-wraps every key under a new master key without touching sealed
//!   values, and can be interrupted and run again.

use std::sync::Arc;

use custos_store::{
    BlindIndex, DataKeyLookup, IdentifierKind, KeyStore, StoreError, StoredDataKey, StoredSystemKey, SubjectId,
};
use custos_vault::{Aad, BlindIndexer, DataKey, IndexKey, MasterKey, NormaliseError, VaultError, WrappedKey};
use jiff::Timestamp;
use uuid::Uuid;
use zeroize::Zeroizing;

/// The name of the blind-index key in the key store.
const INDEX_KEY_NAME: &str = "blind-index";
/// The context under which the key for values of people not yet known is derived.
const PENDING_KEY_CONTEXT: &str = "custos/pending-key/v1";
/// The table name bound into values sealed by [`Vault::seal_pending`].
const PENDING_TABLE: &str = "confirmations";

/// The master keys this process holds: the current one wraps new keys; the others can
/// still unwrap keys during a rotation.
pub struct Keyring {
    current: MasterKey,
    others: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id().as_str())
            .field("others", &self.others.len())
            .finish()
    }
}

impl Keyring {
    /// A keyring with one master key.
    pub fn new(current: MasterKey) -> Self {
        Self { current, others: Vec::new() }
    }

    /// Adds a key that may still wrap some stored keys (a rotation in progress).
    pub fn with_other(mut self, key: MasterKey) -> Self {
        if key.id() != self.current.id() {
            self.others.push(key);
        }
        self
    }

    /// The master key new keys are wrapped under.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    fn by_id(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current).chain(&self.others).find(|k| k.id().as_str() == id)
    }
}

/// Why a subject's data could not be opened or sealed.
#[derive(Debug, thiserror::Error)]
pub enum VaultAccessError {
    /// The subject was erased: their data key was destroyed.
    #[error("subject {subject} is erased: their data key was destroyed at {at}, so their data can no longer be opened")]
    Erased {
        /// The subject.
        subject: SubjectId,
        /// When the key was destroyed.
        at: Timestamp,
    },
    /// The subject has no data key (custos holds no sealed data about them).
    #[error("subject {0} has no data key")]
    NoKey(SubjectId),
    /// A stored key is wrapped under a master key this process does not hold.
    #[error("a stored key is wrapped under master key `{0}`, which is not loaded; load it with CUSTOS_MASTER_KEY_FILE")]
    MasterKeyNotLoaded(String),
    /// A key or value failed authentication, or is malformed.
    #[error("cryptographic check failed: {0}")]
    Crypto(#[from] VaultError),
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Data keys re-wrapped by this run.
    pub data_keys: u64,
    /// System keys re-wrapped by this run.
    pub system_keys: u64,
    /// Keys still wrapped under another master key (0 when the rotation is complete).
    pub remaining: u64,
}

/// Seals, opens and indexes personal values.
pub struct Vault {
    keyring: Keyring,
    keys: Arc<dyn KeyStore>,
    indexer: BlindIndexer,
    /// Seals what people sent before custos knows them (consents waiting for confirmation).
    pending_key: DataKey,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("keyring", &self.keyring).finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault: loads the blind-index key from the key store, creating it on first use.
    pub async fn open(keyring: Keyring, keys: Arc<dyn KeyStore>) -> Result<Self, VaultAccessError> {
        let fresh = IndexKey::generate();
        let candidate = StoredSystemKey {
            name: INDEX_KEY_NAME.into(),
            master_key_id: keyring.current.id().as_str().to_owned(),
            wrapped: keyring.current.wrap_index_key(&fresh).to_bytes(),
            created_at: Timestamp::now(),
        };
        // Several processes may start together: the first stored key wins for all.
        let stored = keys.put_system_key(&candidate).await?;
        let master = keyring
            .by_id(&stored.master_key_id)
            .ok_or_else(|| VaultAccessError::MasterKeyNotLoaded(stored.master_key_id.clone()))?;
        let index_key = master.unwrap_index_key(&WrappedKey::from_bytes(&stored.wrapped)?)?;
        let indexer = BlindIndexer::new(index_key);
        // Derived from the index key (HMAC-SHA-256 as a PRF, under a context of its own), so
        // that it needs no storage of its own and survives master-key rotations unchanged.
        let pending_key = DataKey::from_bytes(indexer.mac(PENDING_KEY_CONTEXT, b"key"));
        Ok(Self { keyring, keys, indexer, pending_key })
    }

    /// The key store.
    pub fn keys(&self) -> &Arc<dyn KeyStore> {
        &self.keys
    }

    /// The blind index of an identifier, after normalising it (email lowercased, phone in
    /// E.164…). Errors never contain the value.
    pub fn blind_index(&self, kind: IdentifierKind, value: &str) -> Result<BlindIndex, NormaliseError> {
        self.indexer.index(vault_kind(kind), value).map(BlindIndex)
    }

    /// A MAC of `message` in `context` under the index key, separate from every blind index
    /// (for signed links such as unsubscribe links).
    pub fn mac(&self, context: &str, message: &[u8]) -> [u8; 32] {
        self.indexer.mac(context, message)
    }

    /// Makes, wraps and stores a new subject's data key.
    pub async fn create_data_key(&self, subject: SubjectId, at: Timestamp) -> Result<DataKey, VaultAccessError> {
        let key = DataKey::generate();
        let wrapped = self.keyring.current.wrap(&key, subject.0.as_bytes());
        self.keys
            .put_data_key(&StoredDataKey {
                subject_id: subject,
                master_key_id: self.keyring.current.id().as_str().to_owned(),
                wrapped: wrapped.to_bytes(),
                created_at: at,
            })
            .await?;
        Ok(key)
    }

    /// A subject's data key; [`VaultAccessError::Erased`] once it was shredded.
    pub async fn data_key(&self, subject: SubjectId) -> Result<DataKey, VaultAccessError> {
        self.open_lookup(subject, self.keys.data_key(subject).await?)
    }

    /// The data key out of what the key store answered for `subject` (see
    /// [`Vault::data_key`]), for a caller that looked it up already.
    pub fn open_lookup(&self, subject: SubjectId, lookup: DataKeyLookup) -> Result<DataKey, VaultAccessError> {
        match lookup {
            DataKeyLookup::Found(stored) => self.unwrap_stored(&stored),
            DataKeyLookup::Erased(at) => Err(VaultAccessError::Erased { subject, at }),
            DataKeyLookup::Missing => Err(VaultAccessError::NoKey(subject)),
        }
    }

    /// The subject's data key, made on first use.
    pub async fn data_key_or_create(&self, subject: SubjectId, at: Timestamp) -> Result<DataKey, VaultAccessError> {
        match self.data_key(subject).await {
            Err(VaultAccessError::NoKey(_)) => match self.create_data_key(subject, at).await {
                // Another request made it first: use that one.
                Err(VaultAccessError::Store(StoreError::Conflict(_))) => self.data_key(subject).await,
                other => other,
            },
            other => other,
        }
    }

    /// Destroys a subject's data key: every sealed value of theirs, wherever a copy of it
    /// lies, can no longer be opened. Returns whether a key was destroyed.
    pub async fn shred(&self, subject: SubjectId, at: Timestamp) -> Result<bool, StoreError> {
        self.keys.destroy_data_key(subject, at).await
    }

    /// Seals `plaintext` for `subject`, bound to `table` and `row`.
    pub fn seal(key: &DataKey, table: &str, row: Uuid, subject: SubjectId, plaintext: &[u8]) -> Vec<u8> {
        key.seal(plaintext, &Aad::new(table, row.as_bytes(), subject.0.as_bytes()))
    }

    /// Opens a value sealed by [`Vault::seal`] with the same table, row and subject.
    pub fn open_value(
        key: &DataKey,
        table: &str,
        row: Uuid,
        subject: SubjectId,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        key.open(sealed, &Aad::new(table, row.as_bytes(), subject.0.as_bytes()))
    }

    /// Seals what a person sent before custos knows them (a consent waiting for their
    /// confirmation), bound to `row`. It has no subject yet, so no data key: it is sealed
    /// under a key derived from the index key, and kept only until it is used or expires.
    pub fn seal_pending(&self, row: Uuid, plaintext: &[u8]) -> Vec<u8> {
        self.pending_key.seal(plaintext, &Aad::new(PENDING_TABLE, row.as_bytes(), b""))
    }

    /// Opens a value sealed by [`Vault::seal_pending`] for the same `row`.
    pub fn open_pending(&self, row: Uuid, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.pending_key.open(sealed, &Aad::new(PENDING_TABLE, row.as_bytes(), b""))
    }

    /// Re-wraps every data key and system key under `new`, `batch` keys at a time, calling
    /// `progress` with the running count. Keys already under `new` are skipped, so an
    /// interrupted rotation resumes where it stopped. `new` must be in the keyring.
    pub async fn rotate(
        &self,
        new: &MasterKey,
        batch: u32,
        mut progress: impl FnMut(u64),
    ) -> Result<RotationReport, VaultAccessError> {
        let mut report = RotationReport::default();
        let new_id = new.id().as_str().to_owned();
        for (old_id, _) in self.keys.count_data_keys_by_master().await? {
            if old_id == new_id {
                continue;
            }
            let old =
                self.keyring.by_id(&old_id).ok_or_else(|| VaultAccessError::MasterKeyNotLoaded(old_id.clone()))?;
            let mut after = None;
            loop {
                let page = self.keys.data_keys_under(&old_id, after, batch.max(1)).await?;
                let Some(last) = page.last() else { break };
                after = Some(last.subject_id);
                let mut rewrapped = Vec::with_capacity(page.len());
                for stored in &page {
                    let key = old.unwrap(&WrappedKey::from_bytes(&stored.wrapped)?, stored.subject_id.0.as_bytes())?;
                    rewrapped.push(StoredDataKey {
                        master_key_id: new_id.clone(),
                        wrapped: new.wrap(&key, stored.subject_id.0.as_bytes()).to_bytes(),
                        ..stored.clone()
                    });
                }
                // One transaction per batch; a key re-wrapped meanwhile by another run is skipped.
                report.data_keys += self.keys.rewrap_data_keys(&rewrapped, &old_id).await?;
                progress(report.data_keys);
            }
        }
        for stored in self.keys.system_keys().await? {
            if stored.master_key_id == new_id {
                continue;
            }
            let old = self
                .keyring
                .by_id(&stored.master_key_id)
                .ok_or_else(|| VaultAccessError::MasterKeyNotLoaded(stored.master_key_id.clone()))?;
            let index_key = old.unwrap_index_key(&WrappedKey::from_bytes(&stored.wrapped)?)?;
            let rewrapped = StoredSystemKey {
                master_key_id: new_id.clone(),
                wrapped: new.wrap_index_key(&index_key).to_bytes(),
                ..stored.clone()
            };
            if self.keys.rewrap_system_key(&rewrapped, &stored.master_key_id).await? {
                report.system_keys += 1;
            }
        }
        report.remaining = self
            .keys
            .count_data_keys_by_master()
            .await?
            .into_iter()
            .filter(|(id, _)| *id != new_id)
            .map(|(_, n)| n)
            .sum::<u64>()
            + self.keys.system_keys().await?.iter().filter(|k| k.master_key_id != new_id).count() as u64;
        Ok(report)
    }

    fn unwrap_stored(&self, stored: &StoredDataKey) -> Result<DataKey, VaultAccessError> {
        let master = self
            .keyring
            .by_id(&stored.master_key_id)
            .ok_or_else(|| VaultAccessError::MasterKeyNotLoaded(stored.master_key_id.clone()))?;
        Ok(master.unwrap(&WrappedKey::from_bytes(&stored.wrapped)?, stored.subject_id.0.as_bytes())?)
    }
}

/// The vault's name for an identifier kind (the two enums list the same kinds).
fn vault_kind(kind: IdentifierKind) -> custos_vault::IdentifierKind {
    match kind {
        IdentifierKind::Email => custos_vault::IdentifierKind::Email,
        IdentifierKind::Phone => custos_vault::IdentifierKind::Phone,
        IdentifierKind::CookieId => custos_vault::IdentifierKind::CookieId,
        IdentifierKind::AccountId => custos_vault::IdentifierKind::AccountId,
        IdentifierKind::PartnerPseudonym => custos_vault::IdentifierKind::PartnerPseudonym,
    }
}
