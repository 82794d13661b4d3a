//! `mandate hook <assistant> [EVENT]`: the hot path of every tool call. No async runtime,
//! no policy loading: read stdin, ask the broker, print, exit. The same code is the
//! whole of the smaller `mandate-hook` binary (`mandate_adapters::runner::hook_main`).

use std::path::Path;

use mandate_adapters::runner;

use crate::exit::{CliResult, Exit};

/// `[--data-dir DIR] hook ASSISTANT [EVENT]` exactly as the hook configuration writes it
/// is answered without building the whole CLI parser; anything else (help, other flags)
/// goes through it.
pub fn fast_path() -> Option<CliResult> {
    runner::hook_main(std::env::args_os().skip(1)).map(|code| Ok(Exit::Status(code)))
}

/// Answers one hook call on stdin/stdout with the assistant's own format (the parsed
/// command line's way in: `mandate --json hook claude`).
pub fn hook(dir: &Path, assistant: &str, event: Option<String>) -> CliResult {
    let mut args: Vec<std::ffi::OsString> = vec![
        "--data-dir".into(),
        dir.as_os_str().to_owned(),
        "hook".into(),
        assistant.into(),
    ];
    args.extend(event.map(Into::into));
    Ok(Exit::Status(
        runner::hook_main(args.into_iter()).unwrap_or(2),
    ))
}
