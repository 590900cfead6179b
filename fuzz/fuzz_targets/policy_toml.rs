//! The policy file: any text is either a policy or a `PolicyError` naming where it is wrong.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(policy) = custos_policy::Policy::from_toml(text, "fuzz.toml") {
            // A policy that loads has a version and its own notice data.
            let _ = policy.version();
        }
    }
});
