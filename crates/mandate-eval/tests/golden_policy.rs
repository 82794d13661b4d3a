//! The golden policy corpus (`tests/policy/`) passes under the shipped profiles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use mandate_broker::config::build_engine;
use mandate_eval::golden::{Scratch, load_corpus, run_corpus};

#[test]
fn golden_corpus_passes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/policy");
    let cases = load_corpus(&dir).expect("corpus loads");
    assert!(
        cases.len() >= 60,
        "the corpus has at least 60 cases, found {}",
        cases.len()
    );
    let (scratch, env) = Scratch::new().expect("scratch");
    let engine = build_engine(None, env).expect("builtin policy compiles");
    let results = run_corpus(&cases, &engine, &scratch);
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| format!("{} / {}: {}", r.file, r.name, r.detail))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
