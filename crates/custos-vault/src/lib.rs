//! custos's cryptography, as a pure library: no file or network I/O, no async, no database.
//!
//! # Layout
//!
//! - [`KeyId`] (`key_id.rs`): the name of a master key, such as `mk-2026-11-29-1a2b3c4d`.
//! - [`MasterKey`] (`master_key.rs`): 32 random bytes under an id; the key that wraps data
//!   keys. Its one-line key-file form is in `key_file.rs`.
//! - [`DataKey`] (`data_key.rs`): 32 random bytes, one per data subject, that seal that
//!   subject's personal values.
//! - [`WrappedKey`] (`wrap.rs`): a data key encrypted under a master key for one subject
//!   ([`MasterKey::wrap`], [`MasterKey::unwrap`]).
//! - [`Aad`] (`aad.rs`) and sealing (`seal.rs`): [`DataKey::seal`] and [`DataKey::open`]
//!   bind a value to its table, row and subject.
//! - [`IndexKey`] (`index_key.rs`) and [`BlindIndexer`] (`blind_index.rs`): HMAC-SHA256
//!   blind indexes of normalised identifiers ([`IdentifierKind`], `identifier.rs`), so that
//!   the store can find a subject without holding the identifier in clear.
//! - `normalise/`: one function per identifier shape ([`normalise_email`],
//!   [`normalise_phone`], [`normalise_opaque_id`]) and [`NormaliseError`].
//! - [`VaultError`] (`error.rs`): every failure of keys, wrapping and sealing.
//!
//! # Algorithms
//!
//! Wrapping and sealing use XChaCha20-Poly1305 (a 24-byte random nonce per message, so
//! random nonces never collide in practice). Blind indexes use HMAC-SHA256; the index key can
//! be derived from the master key with HKDF-SHA256. Randomness comes from `rand::rng()`,
//! a cryptographically secure generator seeded from the operating system.
//!
//! # Byte formats
//!
//! All lengths are big-endian. The version byte is `1` in every format this build writes.
//!
//! **Key file** (one line of text):
//! `custos-master-key:v1:<key id>:<standard base64, padded, of the 32 key bytes>`.
//!
//! **Wrapped data key** ([`WrappedKey::to_bytes`]):
//!
//! | bytes | what |
//! |---|---|
//! | 1 | version (`1`) |
//! | 1 | length `n` of the master key id (1 to 64) |
//! | `n` | the master key id, ASCII |
//! | 24 | random nonce |
//! | 48 | the 32-byte data key encrypted, then the 16-byte Poly1305 tag |
//!
//! Its associated data is the header (version, `n`, id) followed by the subject id as
//! `u64 length ‖ bytes`, so a wrapped key only unwraps for the subject it was made for.
//!
//! **Sealed value** ([`DataKey::seal`]):
//!
//! | bytes | what |
//! |---|---|
//! | 1 | version (`1`) |
//! | 24 | random nonce |
//! | len + 16 | the value encrypted, then the 16-byte Poly1305 tag |
//!
//! Its associated data is the version byte followed by [`Aad::encode`]:
//! `u64 length ‖ table name ‖ u64 length ‖ row id ‖ u64 length ‖ subject id`.
//!
//! **Blind index** ([`BlindIndexer::index`]): `HMAC-SHA256(index key, k ‖ kind name ‖
//! normalised value)`, where `k` is the length of the kind name in one byte and the kind
//! name is [`IdentifierKind::as_str`].
//!
//! # Crypto-shredding
//!
//! Erasing a person destroys their [`DataKey`] first and their rows second:
//!
//! 1. delete the subject's wrapped data key (from the database and any key cache);
//! 2. delete the subject's rows.
//!
//! Once step 1 is done, every sealed value of that person, including copies in backups
//! taken before the erasure, is ciphertext that no key opens. A crash between the two steps
//! leaves rows that can no longer be read, never readable rows without a key record. Code
//! that finds a subject's data key missing returns [`VaultError::Erased`] rather than a
//! generic "not found", so that callers can tell "erased" from "broken".
//!
//! # Secrets in memory
//!
//! Every key type zeroes its bytes when dropped, opened values come back in
//! [`zeroize::Zeroizing`], and `Debug` of a key prints its id at most, never its bytes. Bytes
//! handed to a `from_bytes` constructor are copied: the caller's copy is the caller's to
//! zero. Rust may also leave copies behind when a value is moved; zeroizing is a best
//! effort that shortens the life of secrets, not a guarantee.

#![forbid(unsafe_code)]

mod aad;
mod blind_index;
mod data_key;
mod error;
mod identifier;
mod index_key;
mod key_file;
mod key_id;
mod master_key;
mod normalise;
mod random;
mod seal;
mod wrap;

pub use crate::aad::Aad;
pub use crate::blind_index::BlindIndexer;
pub use crate::data_key::DataKey;
pub use crate::error::VaultError;
pub use crate::identifier::IdentifierKind;
pub use crate::index_key::IndexKey;
pub use crate::key_id::KeyId;
pub use crate::master_key::MasterKey;
pub use crate::normalise::{
    MAX_OPAQUE_ID_BYTES, NormaliseError, normalise, normalise_email, normalise_opaque_id, normalise_phone,
};
pub use crate::wrap::WrappedKey;

/// The length in bytes of every key: master, data and index keys.
pub const KEY_LEN: usize = 32;
