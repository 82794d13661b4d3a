//! Value provenance on arbitrary tool output (an MCP server's records, a web page): the
//! extraction must never panic, never overflow the stack and never hang, and must be
//! deterministic; a secret fingerprinted from the text is found in it again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mandate_analysis::values::{self, SecretPrints, ValueKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let first = values::distinctive_in_records(text);
    assert_eq!(first, values::distinctive_in_records(text), "deterministic");
    let _ = values::distinctive(text);
    let key = ValueKey::new([3; 16]);
    for s in values::secret_strings(text, true) {
        let mut prints = SecretPrints::default();
        prints.insert(&SecretPrints::prints_of(&key, &s));
        if s.len() >= values::MIN_SECRET {
            assert!(prints.found_in(&key, text), "a secret is found where it was read");
        }
    }
});
