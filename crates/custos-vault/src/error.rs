//! [`VaultError`]: why a key could not be read, a data key unwrapped or a value opened.
//!
//! No message ever contains key bytes or personal values; master key ids are not secret and
//! are named where they help.

use crate::key_id::KeyId;

/// A failure of keys, wrapping or sealing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// A master key id that is empty, too long or has characters outside `A-Z a-z 0-9 . _ -`.
    #[error("invalid master key id: {reason} (an id is 1 to 64 characters from A-Z a-z 0-9 . _ -)")]
    InvalidKeyId {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A master key file that does not have the expected shape.
    #[error("malformed master key file: {0}")]
    MalformedKeyFile(String),
    /// The data key was wrapped under another master key than the one used to unwrap it.
    #[error(
        "this data key was wrapped under master key {needed}, but master key {loaded} was used: load master key {needed} to unwrap it"
    )]
    WrongMasterKey {
        /// The id of the master key the data key was wrapped under.
        needed: KeyId,
        /// The id of the master key that was used.
        loaded: KeyId,
    },
    /// The wrapped key did not authenticate.
    #[error(
        "the wrapped data key could not be unwrapped: the master key's bytes are not the ones it was wrapped with, it belongs to another subject, or it was altered"
    )]
    UnwrapFailed,
    /// Bytes that are not a wrapped key.
    #[error("malformed wrapped key: {0}")]
    MalformedWrappedKey(&'static str),
    /// The sealed value did not authenticate.
    #[error(
        "the sealed value could not be opened: it was sealed under another data key, moved to another table, row or subject, or altered"
    )]
    OpenFailed,
    /// Bytes that are not a sealed value.
    #[error("malformed sealed value: {0}")]
    MalformedSealed(&'static str),
    /// A wrapped key or sealed value in a format version this build does not read.
    #[error("the {what} has format version {version}; this build reads version 1")]
    UnsupportedVersion {
        /// What was being read ("wrapped key" or "sealed value").
        what: &'static str,
        /// The version byte found.
        version: u8,
    },
    /// The subject's data key is gone: they were erased by crypto-shredding.
    ///
    /// The vault never returns this itself. Callers return it when a subject's wrapped data
    /// key is missing, so that an erased person reads as erased, not as a fault (see the
    /// crate docs, "Crypto-shredding": the data key is destroyed first, the rows after).
    #[error("the subject's data key was destroyed: their data is erased")]
    Erased,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_master_key_names_the_needed_id() {
        let err = VaultError::WrongMasterKey {
            needed: KeyId::new("mk-old").expect("valid id"),
            loaded: KeyId::new("mk-new").expect("valid id"),
        };
        let message = err.to_string();
        assert!(message.contains("load master key mk-old"), "{message}");
        assert!(message.contains("master key mk-new was used"), "{message}");
    }

    #[test]
    fn erased_says_the_data_is_erased() {
        assert_eq!(VaultError::Erased.to_string(), "the subject's data key was destroyed: their data is erased");
    }
}
