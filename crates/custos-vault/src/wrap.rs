//! Envelope encryption: a [`DataKey`] wrapped under a [`MasterKey`] for one subject.
//!
//! Format of [`WrappedKey::to_bytes`]: `version ‖ n ‖ master key id (n bytes) ‖ 24-byte nonce
//! ‖ 32-byte encrypted data key ‖ 16-byte tag`. XChaCha20-Poly1305; the associated data is
//! the header (`version ‖ n ‖ id`) followed by the subject id as `u64 length ‖ bytes`.

use std::fmt;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::KEY_LEN;
use crate::aad::push_prefixed;
use crate::data_key::DataKey;
use crate::error::VaultError;
use crate::key_id::KeyId;
use crate::master_key::MasterKey;
use crate::random::random_bytes;

/// The format version this build writes and reads.
const VERSION: u8 = 1;
/// XChaCha20's nonce length.
const NONCE_LEN: usize = 24;
/// The encrypted data key and its Poly1305 tag.
const CIPHERTEXT_LEN: usize = KEY_LEN + 16;

/// A data key encrypted under a master key, for one subject.
///
/// It names the master key it was wrapped under, so that after a rotation the right key can
/// be found. Not secret: it is what the store keeps.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The id of the master key it was wrapped under.
    master_key_id: KeyId,
    /// The random nonce.
    nonce: [u8; NONCE_LEN],
    /// The encrypted data key followed by the tag.
    ciphertext: [u8; CIPHERTEXT_LEN],
}

impl WrappedKey {
    /// The id of the master key this data key was wrapped under.
    pub fn master_key_id(&self) -> &KeyId {
        &self.master_key_id
    }

    /// The stored form: `version ‖ n ‖ id ‖ nonce ‖ ciphertext ‖ tag`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header(&self.master_key_id);
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// Reads the stored form written by [`WrappedKey::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VaultError> {
        let (&version, rest) = bytes.split_first().ok_or(VaultError::MalformedWrappedKey("it is empty"))?;
        if version != VERSION {
            return Err(VaultError::UnsupportedVersion { what: "wrapped key", version });
        }
        let (&id_len, rest) = rest.split_first().ok_or(VaultError::MalformedWrappedKey("it ends before the key id"))?;
        let id_len = usize::from(id_len);
        if rest.len() != id_len + NONCE_LEN + CIPHERTEXT_LEN {
            return Err(VaultError::MalformedWrappedKey("its length does not match its key id length"));
        }
        let (id, rest) = rest.split_at(id_len);
        let id = std::str::from_utf8(id)
            .ok()
            .and_then(|id| KeyId::new(id).ok())
            .ok_or(VaultError::MalformedWrappedKey("its master key id is not a valid id"))?;
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        Ok(Self {
            master_key_id: id,
            nonce: nonce.try_into().map_err(|_| VaultError::MalformedWrappedKey("bad nonce length"))?,
            ciphertext: ciphertext.try_into().map_err(|_| VaultError::MalformedWrappedKey("bad ciphertext length"))?,
        })
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey").field("master_key_id", &self.master_key_id).finish_non_exhaustive()
    }
}

impl MasterKey {
    /// Wraps `data_key` for the subject `subject_id` under this master key.
    pub fn wrap(&self, data_key: &DataKey, subject_id: &[u8]) -> WrappedKey {
        let nonce: [u8; NONCE_LEN] = random_bytes();
        let mut ciphertext = [0u8; CIPHERTEXT_LEN];
        let (body, tag_out) = ciphertext.split_at_mut(KEY_LEN);
        body.copy_from_slice(data_key.bytes());
        let tag = self
            .cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &associated_data(self.id(), subject_id), body)
            .expect("XChaCha20-Poly1305 encrypts a 32-byte key");
        tag_out.copy_from_slice(&tag);
        WrappedKey { master_key_id: self.id().clone(), nonce, ciphertext }
    }

    /// Unwraps a data key wrapped by [`MasterKey::wrap`] for the same subject.
    ///
    /// A key wrapped under another master key id fails with [`VaultError::WrongMasterKey`],
    /// which names the id needed; wrong key bytes, another subject or any altered byte fail
    /// with [`VaultError::UnwrapFailed`].
    pub fn unwrap(&self, wrapped: &WrappedKey, subject_id: &[u8]) -> Result<DataKey, VaultError> {
        if wrapped.master_key_id != *self.id() {
            return Err(VaultError::WrongMasterKey {
                needed: wrapped.master_key_id.clone(),
                loaded: self.id().clone(),
            });
        }
        let (body, tag) = wrapped.ciphertext.split_at(KEY_LEN);
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(body);
        self.cipher()
            .decrypt_in_place_detached(
                XNonce::from_slice(&wrapped.nonce),
                &associated_data(self.id(), subject_id),
                bytes.as_mut_slice(),
                Tag::from_slice(tag),
            )
            .map_err(|_| VaultError::UnwrapFailed)?;
        Ok(DataKey::from_bytes(*bytes))
    }

    /// The AEAD keyed with this master key.
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.bytes()))
    }
}

/// `version ‖ n ‖ id`.
fn header(id: &KeyId) -> Vec<u8> {
    let id = id.as_str().as_bytes();
    let mut out = Vec::with_capacity(2 + id.len() + NONCE_LEN + CIPHERTEXT_LEN);
    out.push(VERSION);
    out.push(u8::try_from(id.len()).expect("key ids are at most 64 bytes"));
    out.extend_from_slice(id);
    out
}

/// The AEAD's associated data: the header, then the subject id behind its length.
fn associated_data(id: &KeyId, subject_id: &[u8]) -> Vec<u8> {
    let mut out = header(id);
    push_prefixed(&mut out, subject_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(id: &str) -> MasterKey {
        MasterKey::generate_with_id(KeyId::new(id).expect("valid id"))
    }

    #[test]
    fn wraps_and_unwraps_for_the_same_subject() {
        let master = master("mk-a");
        let data = DataKey::generate();
        let wrapped = master.wrap(&data, b"subject-1");
        assert_eq!(wrapped.master_key_id().as_str(), "mk-a");
        let unwrapped = master.unwrap(&wrapped, b"subject-1").expect("unwraps");
        assert_eq!(unwrapped.bytes(), data.bytes());
    }

    #[test]
    fn stored_form_round_trips_in_the_documented_layout() {
        let master = master("mk-a");
        let wrapped = master.wrap(&DataKey::generate(), b"s");
        let bytes = wrapped.to_bytes();
        assert_eq!(bytes.len(), 1 + 1 + 4 + 24 + 32 + 16);
        assert_eq!(&bytes[..6], b"\x01\x04mk-a");
        assert_eq!(WrappedKey::from_bytes(&bytes).expect("reads"), wrapped);
    }

    #[test]
    fn another_subject_or_key_with_the_same_id_fails() {
        let master = master("mk-a");
        let wrapped = master.wrap(&DataKey::generate(), b"subject-1");
        assert_eq!(master.unwrap(&wrapped, b"subject-2").map(|_| ()), Err(VaultError::UnwrapFailed));
        let impostor = master_with_same_id(&master);
        assert_eq!(impostor.unwrap(&wrapped, b"subject-1").map(|_| ()), Err(VaultError::UnwrapFailed));
    }

    fn master_with_same_id(master: &MasterKey) -> MasterKey {
        MasterKey::generate_with_id(master.id().clone())
    }

    #[test]
    fn another_master_key_id_names_the_one_needed() {
        let wrapped = master("mk-old").wrap(&DataKey::generate(), b"s");
        let err = master("mk-new").unwrap(&wrapped, b"s").map(|_| ()).expect_err("wrong key");
        assert_eq!(
            err,
            VaultError::WrongMasterKey {
                needed: KeyId::new("mk-old").expect("valid id"),
                loaded: KeyId::new("mk-new").expect("valid id"),
            }
        );
        assert!(err.to_string().contains("load master key mk-old"));
    }

    #[test]
    fn malformed_bytes_are_named() {
        let bytes = master("mk-a").wrap(&DataKey::generate(), b"s").to_bytes();
        assert_eq!(WrappedKey::from_bytes(&[]), Err(VaultError::MalformedWrappedKey("it is empty")));
        assert!(matches!(WrappedKey::from_bytes(&[1]), Err(VaultError::MalformedWrappedKey(_))));
        assert!(matches!(WrappedKey::from_bytes(&bytes[..bytes.len() - 1]), Err(VaultError::MalformedWrappedKey(_))));
        let mut bad_id = bytes.clone();
        bad_id[2] = b':';
        assert!(matches!(WrappedKey::from_bytes(&bad_id), Err(VaultError::MalformedWrappedKey(_))));
        let mut future = bytes;
        future[0] = 9;
        assert_eq!(
            WrappedKey::from_bytes(&future),
            Err(VaultError::UnsupportedVersion { what: "wrapped key", version: 9 })
        );
    }

    #[test]
    fn debug_shows_the_master_key_id_only() {
        let wrapped = master("mk-a").wrap(&DataKey::generate(), b"s");
        assert_eq!(format!("{wrapped:?}"), r#"WrappedKey { master_key_id: "mk-a", .. }"#);
    }
}

/// The "subject" an index key is wrapped for, so that it can never be unwrapped as a
/// person's data key or the other way round.
const INDEX_KEY_SUBJECT: &[u8] = b"custos:system:blind-index";

impl MasterKey {
    /// Wraps the blind-index key under this master key, for storage beside the data keys.
    pub fn wrap_index_key(&self, key: &crate::IndexKey) -> WrappedKey {
        self.wrap(&DataKey::from_bytes(*key.bytes()), INDEX_KEY_SUBJECT)
    }

    /// Unwraps a blind-index key wrapped by [`MasterKey::wrap_index_key`].
    pub fn unwrap_index_key(&self, wrapped: &WrappedKey) -> Result<crate::IndexKey, VaultError> {
        let key = self.unwrap(wrapped, INDEX_KEY_SUBJECT)?;
        Ok(crate::IndexKey::from_bytes(*key.bytes()))
    }
}

#[cfg(test)]
mod index_key_tests {
    use super::*;
    use crate::{BlindIndexer, IdentifierKind, IndexKey};

    #[test]
    fn an_index_key_round_trips_and_is_not_a_data_key() {
        let master = MasterKey::generate();
        let index = IndexKey::generate();
        let wrapped = master.wrap_index_key(&index);
        let back = master.unwrap_index_key(&wrapped).expect("unwrap");
        let (a, b) = (BlindIndexer::new(index), BlindIndexer::new(back));
        assert_eq!(
            a.index(IdentifierKind::Email, "a@b.example").ok(),
            b.index(IdentifierKind::Email, "a@b.example").ok()
        );
        assert!(master.unwrap(&wrapped, b"some-subject").is_err(), "not usable as a subject's data key");
    }
}
