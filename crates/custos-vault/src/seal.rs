//! Sealing values under a [`DataKey`]: `version ‖ 24-byte nonce ‖ ciphertext ‖ 16-byte tag`.
//!
//! XChaCha20-Poly1305 with a fresh random nonce per value; the associated data is the version
//! byte followed by [`Aad::encode`], so the value opens only in the table, row and subject it
//! was sealed for.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{Key, Tag, XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::aad::Aad;
use crate::data_key::DataKey;
use crate::error::VaultError;
use crate::random::random_bytes;

/// The format version this build writes and reads.
const VERSION: u8 = 1;
/// XChaCha20's nonce length.
const NONCE_LEN: usize = 24;
/// Poly1305's tag length.
const TAG_LEN: usize = 16;
/// Version byte and nonce.
const HEADER_LEN: usize = 1 + NONCE_LEN;

impl DataKey {
    /// Seals `plaintext` for the place `aad` names: `version ‖ nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, plaintext: &[u8], aad: &Aad<'_>) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = random_bytes();
        let mut sealed = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), &associated_data(aad), &mut sealed[HEADER_LEN..])
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        sealed.extend_from_slice(&tag);
        sealed
    }

    /// Opens a value sealed by [`DataKey::seal`] under this key for the same `aad`.
    ///
    /// Fails with [`VaultError::OpenFailed`] when the key, the place or any byte differs.
    pub fn open(&self, sealed: &[u8], aad: &Aad<'_>) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let Some(&version) = sealed.first() else {
            return Err(VaultError::MalformedSealed("it is empty"));
        };
        if version != VERSION {
            return Err(VaultError::UnsupportedVersion { what: "sealed value", version });
        }
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(VaultError::MalformedSealed("it is shorter than a version byte, a nonce and a tag"));
        }
        let (nonce, rest) = sealed[1..].split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.cipher()
            .decrypt_in_place_detached(
                XNonce::from_slice(nonce),
                &associated_data(aad),
                &mut plaintext,
                Tag::from_slice(tag),
            )
            .map_err(|_| VaultError::OpenFailed)?;
        Ok(plaintext)
    }

    /// The AEAD keyed with this data key.
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(self.bytes()))
    }
}

/// The AEAD's associated data: the version byte, then the encoded [`Aad`].
fn associated_data(aad: &Aad<'_>) -> Vec<u8> {
    let mut out = vec![VERSION];
    out.extend_from_slice(&aad.encode());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: Aad<'static> = Aad { table: "records", row_id: b"row-1", subject_id: b"subject-1" };

    #[test]
    fn seals_in_the_documented_layout_and_opens() {
        let key = DataKey::generate();
        let sealed = key.seal(b"ada@example.org", &AAD);
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), 1 + 24 + 15 + 16);
        assert!(!sealed.windows(15).any(|w| w == b"ada@example.org"));
        assert_eq!(key.open(&sealed, &AAD).expect("opens").as_slice(), b"ada@example.org");
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let key = DataKey::generate();
        assert_ne!(key.seal(b"same", &AAD), key.seal(b"same", &AAD));
    }

    #[test]
    fn empty_values_seal_too() {
        let key = DataKey::generate();
        let sealed = key.seal(b"", &AAD);
        assert_eq!(sealed.len(), HEADER_LEN + TAG_LEN);
        assert!(key.open(&sealed, &AAD).expect("opens").is_empty());
    }

    #[test]
    fn another_place_or_key_fails_to_open() {
        let key = DataKey::generate();
        let sealed = key.seal(b"value", &AAD);
        for other in
            [Aad { table: "other", ..AAD }, Aad { row_id: b"row-2", ..AAD }, Aad { subject_id: b"subject-2", ..AAD }]
        {
            assert_eq!(key.open(&sealed, &other), Err(VaultError::OpenFailed), "{other:?}");
        }
        assert_eq!(DataKey::generate().open(&sealed, &AAD), Err(VaultError::OpenFailed));
    }

    #[test]
    fn malformed_and_future_values_are_named() {
        let key = DataKey::generate();
        assert_eq!(key.open(&[], &AAD), Err(VaultError::MalformedSealed("it is empty")));
        assert!(matches!(key.open(&[VERSION; 40], &AAD), Err(VaultError::MalformedSealed(_))));
        let mut sealed = key.seal(b"value", &AAD);
        sealed[0] = 2;
        assert_eq!(key.open(&sealed, &AAD), Err(VaultError::UnsupportedVersion { what: "sealed value", version: 2 }));
    }
}
