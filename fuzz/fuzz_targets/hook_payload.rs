//! Hook payload parsing for every assistant: arbitrary bytes never panic, and whatever
//! parses into a pre-tool event carries at least one action (a tool call Mandate cannot
//! turn into actions must be an error, so it is denied).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mandate_adapters::{Assistant, Event, parse};

fuzz_target!(|data: &[u8]| {
    for a in Assistant::ALL {
        if let Ok(Event::PreTool(p)) = parse(a, data) {
            assert!(!p.actions.is_empty(), "{a}: a pre-tool event without actions");
        }
    }
});
