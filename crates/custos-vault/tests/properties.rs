//! Property tests of the vault: sealing, wrapping, blind indexes and normalisation, over
//! arbitrary bytes, places and identifiers.

use custos_vault::{
    Aad, BlindIndexer, DataKey, IdentifierKind, IndexKey, KeyId, MasterKey, VaultError, WrappedKey, normalise_email,
    normalise_opaque_id, normalise_phone,
};
use proptest::prelude::*;

/// Any bytes up to `max` long.
fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max)
}

/// A table name, row id and subject id.
fn place() -> impl Strategy<Value = (String, Vec<u8>, Vec<u8>)> {
    (any::<String>(), bytes(40), bytes(40))
}

/// A valid master key id.
fn key_id() -> impl Strategy<Value = KeyId> {
    let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').chain(['.', '_', '-']).collect();
    prop::collection::vec(prop::sample::select(alphabet), 1..=64)
        .prop_map(|chars| KeyId::new(chars.into_iter().collect::<String>()).expect("alphabet is valid"))
}

/// A string that trims to 1 to 256 bytes: a valid cookie id, account id or pseudonym.
fn opaque_id() -> impl Strategy<Value = String> {
    any::<String>().prop_filter("trims to 1..=256 bytes", |s| !s.trim().is_empty() && s.trim().len() <= 256)
}

/// Flips bit `bit % 8` of byte `at % len`.
fn flip(bytes: &mut [u8], at: usize, bit: u8) {
    let at = at % bytes.len();
    bytes[at] ^= 1 << (bit % 8);
}

proptest! {
    #[test]
    fn seal_then_open_gives_back_any_value(value in bytes(512), (table, row, subject) in place()) {
        let key = DataKey::generate();
        let aad = Aad::new(&table, &row, &subject);
        let sealed = key.seal(&value, &aad);
        prop_assert_eq!(sealed.len(), 1 + 24 + value.len() + 16);
        let opened = key.open(&sealed, &aad).expect("opens");
        prop_assert_eq!(opened.as_slice(), value.as_slice());
    }

    #[test]
    fn any_flipped_bit_in_a_sealed_value_fails_to_open(value in bytes(128), at in any::<usize>(), bit in any::<u8>()) {
        let key = DataKey::generate();
        let aad = Aad::new("records", b"row", b"subject");
        let mut sealed = key.seal(&value, &aad);
        flip(&mut sealed, at, bit);
        prop_assert!(key.open(&sealed, &aad).is_err());
    }

    #[test]
    fn changing_any_part_of_the_place_fails_to_open(
        value in bytes(64),
        (table, row, subject) in place(),
        (other_table, other_row, other_subject) in place(),
        part in 0..3usize,
    ) {
        let key = DataKey::generate();
        let sealed = key.seal(&value, &Aad::new(&table, &row, &subject));
        let moved = match part {
            0 => { prop_assume!(other_table != table); Aad::new(&other_table, &row, &subject) }
            1 => { prop_assume!(other_row != row); Aad::new(&table, &other_row, &subject) }
            _ => { prop_assume!(other_subject != subject); Aad::new(&table, &row, &other_subject) }
        };
        prop_assert_eq!(key.open(&sealed, &moved), Err(VaultError::OpenFailed));
    }

    #[test]
    fn another_data_key_fails_to_open(value in bytes(64), (table, row, subject) in place()) {
        let aad = Aad::new(&table, &row, &subject);
        let sealed = DataKey::generate().seal(&value, &aad);
        prop_assert_eq!(DataKey::generate().open(&sealed, &aad), Err(VaultError::OpenFailed));
    }

    #[test]
    fn wrap_then_unwrap_gives_back_the_data_key(id in key_id(), subject in bytes(64), value in bytes(64)) {
        let master = MasterKey::generate_with_id(id);
        let data = DataKey::generate();
        let stored = master.wrap(&data, &subject).to_bytes();
        let unwrapped = master.unwrap(&WrappedKey::from_bytes(&stored).expect("reads"), &subject).expect("unwraps");
        // Equal keys: what one seals, the other opens.
        let aad = Aad::new("t", b"r", &subject);
        let opened = unwrapped.open(&data.seal(&value, &aad), &aad).expect("opens");
        prop_assert_eq!(opened.as_slice(), value.as_slice());
    }

    #[test]
    fn any_flipped_bit_in_a_wrapped_key_fails_to_unwrap(
        id in key_id(), subject in bytes(32), at in any::<usize>(), bit in any::<u8>(),
    ) {
        let master = MasterKey::generate_with_id(id);
        let mut stored = master.wrap(&DataKey::generate(), &subject).to_bytes();
        flip(&mut stored, at, bit);
        let result = WrappedKey::from_bytes(&stored).and_then(|wrapped| master.unwrap(&wrapped, &subject));
        prop_assert!(result.is_err());
    }

    #[test]
    fn a_wrapped_key_fails_for_another_subject(subject in bytes(32), other in bytes(32)) {
        prop_assume!(subject != other);
        let master = MasterKey::generate();
        let wrapped = master.wrap(&DataKey::generate(), &subject);
        prop_assert_eq!(master.unwrap(&wrapped, &other).map(|_| ()), Err(VaultError::UnwrapFailed));
    }

    #[test]
    fn key_files_round_trip(id in key_id(), key in any::<[u8; 32]>(), value in bytes(32)) {
        let master = MasterKey::from_bytes(id, key);
        let read = MasterKey::from_key_file(&master.to_key_file()).expect("reads its own output");
        prop_assert_eq!(read.id(), master.id());
        let data = DataKey::generate();
        prop_assert!(read.unwrap(&master.wrap(&data, &value), &value).is_ok());
    }

    #[test]
    fn key_file_errors_never_repeat_the_text(text in any::<String>()) {
        if let Err(err) = MasterKey::from_key_file(&text) {
            let trimmed = text.trim();
            if trimmed.len() >= 12 {
                prop_assert!(!err.to_string().contains(trimmed));
            }
        }
    }

    #[test]
    fn blind_indexes_are_deterministic_and_kind_separated(key in any::<[u8; 32]>(), value in opaque_id()) {
        let indexer = BlindIndexer::new(IndexKey::from_bytes(key));
        let again = BlindIndexer::new(IndexKey::from_bytes(key));
        let opaque = [IdentifierKind::CookieId, IdentifierKind::AccountId, IdentifierKind::PartnerPseudonym];
        let indexes: Vec<[u8; 32]> = opaque.iter().map(|&kind| indexer.index(kind, &value).expect("valid")).collect();
        for (&kind, index) in opaque.iter().zip(&indexes) {
            prop_assert_eq!(&again.index(kind, &value).expect("valid"), index);
        }
        prop_assert_ne!(indexes[0], indexes[1]);
        prop_assert_ne!(indexes[0], indexes[2]);
        prop_assert_ne!(indexes[1], indexes[2]);
    }

    #[test]
    fn an_email_and_an_id_with_the_same_text_index_apart(key in any::<[u8; 32]>(), local in 1..1_000_000u32) {
        let indexer = BlindIndexer::new(IndexKey::from_bytes(key));
        let text = format!("u{local}@example.org");
        prop_assert_ne!(
            indexer.index(IdentifierKind::Email, &text).expect("valid"),
            indexer.index(IdentifierKind::AccountId, &text).expect("valid")
        );
    }

    #[test]
    fn normalisation_is_idempotent(value in any::<String>()) {
        if let Ok(email) = normalise_email(&value) {
            prop_assert_eq!(normalise_email(&email), Ok(email.clone()));
        }
        if let Ok(id) = normalise_opaque_id(IdentifierKind::CookieId, &value) {
            prop_assert_eq!(normalise_opaque_id(IdentifierKind::CookieId, &id), Ok(id.clone()));
        }
        if let Ok(phone) = normalise_phone(&value, Some("DE")) {
            prop_assert_eq!(normalise_phone(&phone, None), Ok(phone.clone()));
        }
    }

    #[test]
    fn every_spelling_of_a_valid_phone_number_normalises_alike(digits in 100_000..100_000_000u32) {
        if let Ok(phone) = normalise_phone(&format!("030 {digits}"), Some("DE")) {
            prop_assert_eq!(&phone, &format!("+4930{digits}"));
            prop_assert_eq!(normalise_phone(&phone, None), Ok(phone.clone()));
            prop_assert_eq!(normalise_phone(&format!("+49 (0)30 {digits}"), Some("GB")), Ok(phone.clone()));
            let indexer = BlindIndexer::new(IndexKey::from_bytes([1; 32])).with_default_region("DE").expect("known region");
            prop_assert_eq!(
                indexer.index(IdentifierKind::Phone, &phone).expect("valid"),
                indexer.index(IdentifierKind::Phone, &format!("0049 30 {digits}")).expect("valid")
            );
        }
    }

    #[test]
    fn normalisation_errors_never_contain_the_value(prefix in any::<String>(), suffix in any::<String>()) {
        let value = format!("{prefix}Xyzzy{suffix}");
        let messages = [
            normalise_email(&value).err(),
            normalise_opaque_id(IdentifierKind::AccountId, &value.repeat(300 / value.len() + 1)).err(),
            normalise_phone(&value, Some("DE")).err(),
        ];
        for message in messages.into_iter().flatten().map(|err| err.to_string()) {
            prop_assert!(!message.to_lowercase().contains("xyzzy"), "{}", message);
        }
    }

    #[test]
    fn phone_errors_hold_no_digits(value in any::<String>(), digits in 0..u64::MAX) {
        for input in [value.clone(), format!("+{digits}"), format!("0{digits}"), format!("{value}{digits}")] {
            if let Err(err) = normalise_phone(&input, Some("DE")) {
                let message = err.to_string();
                prop_assert!(!message.chars().any(|c| c.is_ascii_digit()), "{}", message);
            }
        }
    }
}
