//! Task tokens as a hook or a client presents them: arbitrary text never panics the
//! verifier, and none verifies (the key is fresh: no input can carry its signature).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mandate_token::{BrokerKey, Verifier};

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| Verifier::new("mandate", "mandate", &[BrokerKey::generate().public()]))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(verifier().verify(token, 1_800_000_000).is_err());
    }
});
