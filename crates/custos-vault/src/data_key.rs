//! [`DataKey`]: one subject's own key, which seals their personal values.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::KEY_LEN;
use crate::random::random_bytes;

/// A data subject's data key: 32 secret bytes.
///
/// It seals and opens that subject's values ([`DataKey::seal`], [`DataKey::open`]) and is
/// stored only wrapped under a master key ([`crate::MasterKey::wrap`]). Destroying it erases
/// the subject (see the crate docs, "Crypto-shredding"). Its bytes are zeroed on drop;
/// `Debug` never prints them.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DataKey {
    /// The secret bytes.
    bytes: [u8; KEY_LEN],
}

impl DataKey {
    /// A new random data key.
    pub fn generate() -> Self {
        Self { bytes: random_bytes() }
    }

    /// A data key with the given bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// The secret bytes, for sealing and wrapping.
    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ() {
        assert_ne!(DataKey::generate().bytes(), DataKey::generate().bytes());
    }

    #[test]
    fn debug_hides_the_bytes() {
        assert_eq!(format!("{:?}", DataKey::from_bytes([7; KEY_LEN])), "DataKey(..)");
    }

    #[test]
    fn zeroize_clears_the_bytes() {
        let mut key = DataKey::from_bytes([7; KEY_LEN]);
        key.zeroize();
        assert_eq!(key.bytes(), &[0; KEY_LEN]);
    }
}
