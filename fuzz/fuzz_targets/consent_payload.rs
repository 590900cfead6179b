//! Consent payloads: the banner's choices and the API's consent records, read and checked
//! as the handlers do before the ledger is touched.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for banner in [true, false] {
        if let Err(e) = custos_server::check_consent_payload(banner, data) {
            let status = e.status().as_u16();
            assert!((400..500).contains(&status), "a payload is refused with a 4xx, not {status}");
            assert!(!e.body().code.is_empty() && e.body().field.is_some(), "{:?}", e.body());
        }
    }
});
