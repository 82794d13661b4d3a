//! The shell analyser on arbitrary input: it must never panic, never hang, and must be
//! deterministic — the same text gives the same effects, so a decision cannot depend on
//! anything but the command.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mandate_shell::{ShellAnalyzer, ShellEffect};

fuzz_target!(|data: &[u8]| {
    static ANALYZER: OnceLock<ShellAnalyzer> = OnceLock::new();
    static QUIET: std::sync::Once = std::sync::Once::new();
    // The analyser contains panics of its parser dependency (they make the command
    // unparseable); libFuzzer's hook would abort on them first. Our own walker failing is
    // still a finding: see the assertion below.
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Ok(text) = std::str::from_utf8(data) else { return };
    let a = ANALYZER.get_or_init(ShellAnalyzer::default);
    let first = a.analyze(text);
    let second = a.analyze(text);
    assert_eq!(first, second, "analysis is deterministic");
    // The walker's own failure (a panic caught by `analyze`) has exactly this reason; the
    // input's text may appear in other reasons, so compare whole reasons.
    assert!(
        !first.effects.iter().any(|e| matches!(
            e,
            ShellEffect::Unparseable { reason } if reason == "the analyser failed on this command"
        )),
        "the walker itself failed on {text:?}"
    );
});
