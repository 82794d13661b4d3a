//! AuthZEN evaluation and batch bodies, as the broker's HTTP API reads them: arbitrary
//! bytes never panic, and whatever parses into an action is a valid one (every field
//! within its limits), so nothing unchecked reaches the analyser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mandate_types::api::{BatchRequest, EvaluationRequest};

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = serde_json::from_slice::<EvaluationRequest>(data)
        && let Ok(action) = r.to_action()
    {
        assert!(action.kind.validate().is_ok(), "{action:?}");
    }
    let _ = serde_json::from_slice::<BatchRequest>(data);
});
