//! `mandate-hook`: the assistants' hook, alone — `mandate hook` without the rest of the
//! CLI, so each tool call pays only for starting this small binary.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    let code = mandate_adapters::runner::hook_main(std::env::args_os().skip(1));
    std::process::ExitCode::from(code.unwrap_or_else(|| {
        eprintln!(
            "usage: mandate-hook [--data-dir DIR] hook <claude|gemini|codex|cursor|copilot> [EVENT]"
        );
        2
    }))
}
