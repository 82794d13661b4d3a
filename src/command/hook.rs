//! `mandate hook <assistant> [EVENT]`: the hot path of every tool call. No async runtime,
//! no policy loading: read stdin, ask the broker, print, exit.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use mandate_adapters::{Assistant, runner};

use crate::exit::{CliError, CliResult, Exit};
use crate::paths::data_dir;

/// `[--data-dir DIR] hook ASSISTANT [EVENT]` exactly as the hook configuration writes it
/// is answered without building the whole CLI parser; anything else (help, other flags)
/// goes through it.
pub fn fast_path() -> Option<CliResult> {
    let mut args = std::env::args_os().skip(1);
    let mut dir = None;
    let mut first = args.next()?;
    if first == "--data-dir" {
        dir = Some(PathBuf::from(args.next()?));
        first = args.next()?;
    }
    if first != "hook" {
        return None;
    }
    let rest: Vec<String> = args.map(|a| a.into_string().ok()).collect::<Option<_>>()?;
    let (assistant, event) = match rest.as_slice() {
        [a] if !a.starts_with('-') => (a.clone(), None),
        [a, e] if !a.starts_with('-') && !e.starts_with('-') => (a.clone(), Some(e.clone())),
        _ => return None,
    };
    Some(hook(&data_dir(dir.as_deref()), &assistant, event))
}

/// Answers one hook call on stdin/stdout with the assistant's own format.
pub fn hook(dir: &Path, assistant: &str, event: Option<String>) -> CliResult {
    let Some(a) = Assistant::parse(assistant) else {
        // Refused (2), not failed (1): the assistants that read exit codes treat 1 as "go on".
        return Err(CliError::Refused(format!(
            "unknown assistant {assistant:?}; use claude, cursor, gemini, codex or copilot"
        )));
    };
    let env = runner::HookEnv::from_env(dir.join("mandate.sock"));
    let out = runner::run_with_hint(a, env, event, std::io::stdin());
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.stdout.as_bytes());
    let _ = so.flush();
    if !out.stderr.is_empty() {
        eprintln!("{}", out.stderr);
    }
    // A status that does not fit a byte cannot come from our adapters; block if it did.
    Ok(u8::try_from(out.exit_code).map_or(Exit::Refused, Exit::Status))
}
