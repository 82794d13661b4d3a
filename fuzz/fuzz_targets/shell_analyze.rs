//! The shell analyser on arbitrary input: it must never panic, never hang, and must be
//! deterministic — the same text gives the same effects, so a decision cannot depend on
//! anything but the command.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mandate_shell::ShellAnalyzer;

fuzz_target!(|data: &[u8]| {
    static ANALYZER: OnceLock<ShellAnalyzer> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else { return };
    let a = ANALYZER.get_or_init(ShellAnalyzer::default);
    let first = a.analyze(text);
    let second = a.analyze(text);
    assert_eq!(first, second, "analysis is deterministic");
});
