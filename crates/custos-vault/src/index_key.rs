//! [`IndexKey`]: the key of the blind indexes, separate from the master key.

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::KEY_LEN;
use crate::master_key::MasterKey;
use crate::random::random_bytes;

/// The HKDF info string under which [`IndexKey::derive_from`] derives the index key.
const DERIVE_INFO: &[u8] = b"custos/blind-index-key/v1";

/// The blind-index key: 32 secret bytes for HMAC-SHA256.
///
/// Every blind index depends on it, so it must outlive master key rotations: derive it once
/// from the first master key and keep deriving it from that one, or generate and store it on
/// its own. A new index key makes every stored blind index unfindable until recomputed.
/// Its bytes are zeroed on drop; `Debug` never prints them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct IndexKey {
    /// The secret bytes.
    bytes: [u8; KEY_LEN],
}

impl IndexKey {
    /// An index key with the given bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// A new random index key.
    pub fn generate() -> Self {
        Self { bytes: random_bytes() }
    }

    /// `HKDF-SHA256(salt: none, ikm: master key bytes, info: "custos/blind-index-key/v1")`.
    ///
    /// Deterministic: the same master key bytes always give the same index key, and the
    /// index key reveals nothing about the master key.
    pub fn derive_from(master: &MasterKey) -> Self {
        let mut bytes = [0u8; KEY_LEN];
        Hkdf::<Sha256>::new(None, master.bytes())
            .expand(DERIVE_INFO, &mut bytes)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self { bytes }
    }

    /// The secret bytes, for the HMAC.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IndexKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_id::KeyId;

    #[test]
    fn derivation_is_deterministic_and_differs_from_the_master_key() {
        let id = KeyId::new("mk-a").expect("valid id");
        let master = MasterKey::from_bytes(id.clone(), [1; KEY_LEN]);
        let a = IndexKey::derive_from(&master);
        let b = IndexKey::derive_from(&MasterKey::from_bytes(KeyId::new("mk-b").expect("valid id"), [1; KEY_LEN]));
        assert_eq!(a.bytes(), b.bytes(), "the id does not enter the derivation");
        assert_ne!(a.bytes(), master.bytes());
        assert_ne!(a.bytes(), IndexKey::derive_from(&MasterKey::from_bytes(id, [2; KEY_LEN])).bytes());
    }

    #[test]
    fn derivation_matches_a_fixed_vector() {
        // Pinned so that a change of algorithm or info string, which would orphan every
        // stored blind index, cannot pass unnoticed.
        let master = MasterKey::from_bytes(KeyId::new("mk").expect("valid id"), [0; KEY_LEN]);
        let hex: String = IndexKey::derive_from(&master).bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, DERIVED_FROM_ZEROS);
    }

    /// `IndexKey::derive_from` of an all-zero master key, computed independently (Python hmac).
    const DERIVED_FROM_ZEROS: &str = "10fb54e935bda3c9d0d1a7a29b97a25b66a92dea1c2fed4e02be881320c4735e";

    #[test]
    fn debug_hides_the_bytes() {
        assert_eq!(format!("{:?}", IndexKey::generate()), "IndexKey(..)");
    }
}
