//! [`MasterKey`]: the key that wraps every data key, named by a [`KeyId`].

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::KEY_LEN;
use crate::key_id::KeyId;
use crate::random::random_bytes;

/// A master key: 32 secret bytes under a [`KeyId`].
///
/// It wraps data keys ([`MasterKey::wrap`]), is read from and written to a key file
/// ([`MasterKey::from_key_file`], [`MasterKey::to_key_file`]) and may seed the index key
/// ([`crate::IndexKey::derive_from`]). Its bytes are zeroed on drop; `Debug` prints the id
/// only.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    /// The key's name, recorded in every key it wraps.
    #[zeroize(skip)]
    id: KeyId,
    /// The secret bytes.
    bytes: [u8; KEY_LEN],
}

impl MasterKey {
    /// A master key with the given id and bytes.
    pub fn from_bytes(id: KeyId, bytes: [u8; KEY_LEN]) -> Self {
        Self { id, bytes }
    }

    /// A new random master key with a fresh dated id (see [`KeyId::generate`]).
    pub fn generate() -> Self {
        Self::generate_with_id(KeyId::generate())
    }

    /// A new random master key with the given id.
    pub fn generate_with_id(id: KeyId) -> Self {
        Self { id, bytes: random_bytes() }
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The secret bytes, for wrapping, the key file and deriving the index key.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_keep_their_id() {
        let id = KeyId::new("mk-test").expect("valid id");
        let a = MasterKey::generate_with_id(id.clone());
        let b = MasterKey::generate_with_id(id.clone());
        assert_eq!(a.id(), &id);
        assert_ne!(a.bytes(), b.bytes());
        assert!(MasterKey::generate().id().as_str().starts_with("mk-"));
    }

    #[test]
    fn debug_shows_the_id_only() {
        let key = MasterKey::from_bytes(KeyId::new("mk-test").expect("valid id"), [0xab; KEY_LEN]);
        assert_eq!(format!("{key:?}"), r#"MasterKey { id: "mk-test", .. }"#);
    }

    #[test]
    fn zeroize_clears_the_bytes() {
        let mut key = MasterKey::from_bytes(KeyId::new("mk-test").expect("valid id"), [0xab; KEY_LEN]);
        key.zeroize();
        assert_eq!(key.bytes(), &[0; KEY_LEN]);
        assert_eq!(key.id().as_str(), "mk-test");
    }
}
