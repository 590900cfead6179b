//! The master key's key-file form: `custos-master-key:v1:<id>:<base64 of 32 bytes>`.
//!
//! One line of text; surrounding whitespace (such as the final newline) is ignored when
//! reading. The base64 is the standard alphabet with padding (44 characters). Errors say
//! which part is wrong without repeating the file's content, which holds the secret.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::KEY_LEN;
use crate::error::VaultError;
use crate::key_id::KeyId;
use crate::master_key::MasterKey;

/// What every key file starts with.
const PREFIX: &str = "custos-master-key";
/// The one format version this build reads and writes.
const VERSION: &str = "v1";

impl MasterKey {
    /// The key as one line of text for a key file, without a line ending.
    ///
    /// The text holds the secret: it comes back in [`Zeroizing`] so it is zeroed once used.
    pub fn to_key_file(&self) -> Zeroizing<String> {
        let id = self.id().as_str();
        let mut line = Zeroizing::new(String::with_capacity(PREFIX.len() + VERSION.len() + id.len() + 3 + 44));
        line.push_str(PREFIX);
        line.push(':');
        line.push_str(VERSION);
        line.push(':');
        line.push_str(id);
        line.push(':');
        STANDARD.encode_string(self.bytes(), &mut line);
        line
    }

    /// Reads a key file's content (see [`MasterKey::to_key_file`]).
    pub fn from_key_file(text: &str) -> Result<Self, VaultError> {
        let malformed = |reason: &str| VaultError::MalformedKeyFile(reason.to_owned());
        let line = text.trim();
        if line.is_empty() {
            return Err(malformed("the file is empty"));
        }
        if line.contains(['\n', '\r']) {
            return Err(malformed("the file must hold exactly one line"));
        }
        let mut fields = line.split(':');
        if fields.next() != Some(PREFIX) {
            return Err(malformed("it does not start with `custos-master-key:`"));
        }
        let version = fields.next().unwrap_or_default();
        if version != VERSION {
            let shown = if version.len() <= 8 && version.bytes().all(|b| b.is_ascii_alphanumeric()) {
                format!("`{version}`")
            } else {
                "an unreadable one".to_owned()
            };
            return Err(VaultError::MalformedKeyFile(format!(
                "its format version is {shown}; this build reads `{VERSION}` (expected `{PREFIX}:{VERSION}:<id>:<base64 key>`)"
            )));
        }
        let (Some(id), Some(encoded), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(malformed("expected four fields separated by ':': `custos-master-key:v1:<id>:<base64 key>`"));
        };
        let id = KeyId::new(id).map_err(|err| match err {
            VaultError::InvalidKeyId { reason } => VaultError::MalformedKeyFile(format!(
                "its key id is invalid: {reason} (an id is 1 to 64 characters from A-Z a-z 0-9 . _ -)"
            )),
            other => other,
        })?;
        let decoded = Zeroizing::new(
            STANDARD.decode(encoded).map_err(|_| malformed("the key is not valid padded standard base64"))?,
        );
        let bytes: &[u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            VaultError::MalformedKeyFile(format!("the key is {} bytes once decoded, expected {KEY_LEN}", decoded.len()))
        })?;
        Ok(Self::from_bytes(id, *bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(KeyId::new("mk-2026-11-29-1a2b").expect("valid id"), std::array::from_fn(|i| i as u8))
    }

    fn reason(text: &str) -> String {
        match MasterKey::from_key_file(text) {
            Err(VaultError::MalformedKeyFile(reason)) => reason,
            other => panic!("expected a malformed key file, got {other:?}"),
        }
    }

    #[test]
    fn writes_the_documented_line() {
        assert_eq!(
            key().to_key_file().as_str(),
            "custos-master-key:v1:mk-2026-11-29-1a2b:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
        );
    }

    #[test]
    fn round_trips_with_surrounding_whitespace() {
        let original = key();
        let text = format!("{}\n", original.to_key_file().as_str());
        let read = MasterKey::from_key_file(&text).expect("reads its own output");
        assert_eq!(read.id(), original.id());
        assert_eq!(read.bytes(), original.bytes());
        let generated = MasterKey::generate();
        let read = MasterKey::from_key_file(&generated.to_key_file()).expect("reads a generated key");
        assert_eq!(read.bytes(), generated.bytes());
    }

    #[test]
    fn explains_each_malformation() {
        let good = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        assert_eq!(reason("  \n"), "the file is empty");
        assert!(reason(&format!("custos-master-key:v1:mk:{good}\nsecond line")).contains("one line"));
        assert!(reason(&format!("other-key:v1:mk:{good}")).contains("does not start with"));
        assert!(reason(&format!("custos-master-key:v2:mk:{good}")).contains("version is `v2`"));
        assert!(reason(&format!("custos-master-key:{good}")).contains("an unreadable one"));
        assert!(reason("custos-master-key:v1:mk").contains("four fields"));
        assert!(reason(&format!("custos-master-key:v1:mk:{good}:extra")).contains("four fields"));
        assert!(reason(&format!("custos-master-key:v1::{good}")).contains("key id is invalid: it"));
        assert!(reason(&format!("custos-master-key:v1:m k:{good}")).contains("key id is invalid: it"));
        assert!(reason("custos-master-key:v1:mk:not base64!").contains("not valid"));
        assert!(reason("custos-master-key:v1:mk:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").contains("not valid"));
        assert_eq!(reason("custos-master-key:v1:mk:AAECAw=="), "the key is 4 bytes once decoded, expected 32");
    }

    #[test]
    fn errors_never_repeat_the_key() {
        let secret = "c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LWlzLTQwLWJ5dGVzLWxvbmch";
        for text in [
            format!("custos-master-key:v1:mk:{secret}"),
            format!("custos-master-key:{secret}"),
            format!("custos-master-key:v1:{secret}:{secret}"),
            secret.to_owned(),
        ] {
            let message = MasterKey::from_key_file(&text).expect_err("malformed").to_string();
            assert!(!message.contains(secret), "{message}");
            assert!(!message.contains(&secret[..12]), "{message}");
        }
    }
}
