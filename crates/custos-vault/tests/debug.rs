//! `Debug` of every key type prints no key bytes, in any encoding.

use custos_vault::{BlindIndexer, DataKey, IndexKey, KeyId, MasterKey};

/// Distinctive key bytes: 0xc0, 0xc1, … 0xdf.
fn key_bytes() -> [u8; 32] {
    std::array::from_fn(|i| 0xc0 + i as u8)
}

/// The ways a careless `Debug` could show `bytes`.
fn renderings(bytes: &[u8; 32]) -> Vec<String> {
    let lower: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let upper = lower.to_uppercase();
    let array = format!("{bytes:?}");
    let hex_array = format!("{bytes:x?}");
    // Any three consecutive bytes in decimal, as a derived Debug would print them.
    let decimal = format!("{}, {}, {}", bytes[0], bytes[1], bytes[2]);
    let base64 = MasterKey::from_bytes(KeyId::new("x").expect("valid id"), *bytes).to_key_file()
        ["custos-master-key:v1:x:".len()..]
        .to_owned();
    vec![lower[..6].to_owned(), upper[..6].to_owned(), array, hex_array, decimal, base64[..8].to_owned()]
}

fn assert_hides(debug: &str, bytes: &[u8; 32]) {
    for rendering in renderings(bytes) {
        assert!(!debug.contains(&rendering), "{debug:?} contains {rendering:?}");
    }
}

#[test]
fn master_key_debug_shows_the_id_only() {
    let key = MasterKey::from_bytes(KeyId::new("mk-2026-11-29-1a2b").expect("valid id"), key_bytes());
    let debug = format!("{key:?}");
    assert_eq!(debug, r#"MasterKey { id: "mk-2026-11-29-1a2b", .. }"#);
    assert_hides(&debug, &key_bytes());
    assert_hides(&format!("{key:#?}"), &key_bytes());
}

#[test]
fn data_key_debug_shows_nothing() {
    let key = DataKey::from_bytes(key_bytes());
    assert_eq!(format!("{key:?}"), "DataKey(..)");
    assert_hides(&format!("{key:#?}"), &key_bytes());
}

#[test]
fn index_key_and_indexer_debug_show_nothing_secret() {
    let key = IndexKey::from_bytes(key_bytes());
    assert_eq!(format!("{key:?}"), "IndexKey(..)");
    let indexer = BlindIndexer::new(key);
    assert_eq!(format!("{indexer:?}"), "BlindIndexer { default_region: None, .. }");
    assert_hides(&format!("{indexer:#?}"), &key_bytes());
}

#[test]
fn derived_and_wrapped_keys_debug_show_nothing_secret() {
    let master = MasterKey::from_bytes(KeyId::new("mk-a").expect("valid id"), key_bytes());
    let data = DataKey::from_bytes(key_bytes());
    let wrapped = master.wrap(&data, b"subject");
    let debug = format!("{wrapped:?} {:?}", IndexKey::derive_from(&master));
    assert_eq!(debug, r#"WrappedKey { master_key_id: "mk-a", .. } IndexKey(..)"#);
    assert_hides(&debug, &key_bytes());
}

#[test]
fn the_renderings_would_catch_a_derived_debug() {
    // Guards the guard: what a derived Debug prints is caught.
    let leaked = format!("{:?}", key_bytes());
    assert!(renderings(&key_bytes()).iter().any(|r| leaked.contains(r.as_str())));
}
