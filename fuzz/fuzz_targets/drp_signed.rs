//! Data Rights Protocol signed requests: raw bodies, and messages signed with the agent's
//! real key (so that the fuzzer reaches the claims behind the signature).
#![no_main]

use base64::Engine;
use custos_engine::drp::open_signed;
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let verify = key.verifying_key();
    let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
    // As sent: anything at all.
    let _ = open_signed(&verify, "agent", "business", data, now);
    // Signed by the agent: the message is the fuzzer's.
    let mut signed = key.sign(data).to_bytes().to_vec();
    signed.extend_from_slice(data);
    let body = base64::engine::general_purpose::STANDARD.encode(&signed);
    if let Ok(claims) = open_signed(&verify, "agent", "business", body.as_bytes(), now) {
        assert_eq!(claims["agent-id"], "agent");
        assert_eq!(claims["business-id"], "business");
    }
});
