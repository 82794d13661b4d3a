//! Hook configuration for each assistant: what `mandate run` injects for one session,
//! and what `mandate install` writes (and `mandate uninstall` removes) for people who do
//! not use the wrapper.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::Assistant;
pub use crate::hook_config::{
    HOOK_TIMEOUT_SECS, add_entries, entries_of, hook_command, remove_entries,
};

/// Claude Code's hooks (for `--settings` or a settings file).
pub fn claude_hooks(exe: &Path) -> Value {
    let handler = json!([{"type": "command", "command": hook_command(exe, Assistant::Claude.name()), "timeout": HOOK_TIMEOUT_SECS}]);
    let tools = json!([{"matcher": "*", "hooks": handler}]);
    let plain = json!([{"hooks": handler}]);
    json!({
        "PreToolUse": tools,
        "PostToolUse": tools,
        "PostToolUseFailure": tools,
        "SessionStart": plain,
        "Stop": plain,
        "SessionEnd": plain,
    })
}

/// How `mandate run` wires an assistant for one session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunWiring {
    /// Arguments inserted right after the program name.
    pub args: Vec<String>,
    /// Environment variables to set.
    pub env: Vec<(String, String)>,
    /// Files to create for the session (removed when it ends), with their contents.
    pub files: Vec<(PathBuf, String)>,
    /// What the user should know (printed to stderr).
    pub notes: Vec<String>,
}

/// The wiring for one `mandate run` session. `session_dir` is a private scratch directory
/// that lives as long as the session.
pub fn run_wiring(assistant: Assistant, exe: &Path, session_dir: &Path) -> RunWiring {
    match assistant {
        Assistant::Claude => RunWiring {
            args: vec![
                "--settings".into(),
                json!({"hooks": claude_hooks(exe)}).to_string(),
            ],
            ..Default::default()
        },
        Assistant::Gemini => crate::gemini::run_wiring(exe, session_dir),
        Assistant::Codex => crate::codex::run_wiring(exe, session_dir),
        Assistant::Cursor => crate::cursor::run_wiring(exe, session_dir),
        Assistant::Copilot => crate::copilot::run_wiring(exe, session_dir),
    }
}

/// Where `mandate install` writes, per assistant and scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's own configuration (`~/...`).
    User,
    /// The project's configuration (in the current repository).
    Project,
}

/// The settings file an assistant reads hooks from.
pub fn settings_path(assistant: Assistant, scope: Scope, home: &Path, project: &Path) -> PathBuf {
    let base = match scope {
        Scope::User => home,
        Scope::Project => project,
    };
    match assistant {
        Assistant::Claude => base.join(".claude/settings.json"),
        Assistant::Gemini => base.join(".gemini/settings.json"),
        Assistant::Codex => base.join(".codex/hooks.json"),
        Assistant::Cursor => base.join(".cursor/hooks.json"),
        Assistant::Copilot => match scope {
            Scope::Project => project.join(".github/hooks/mandate.json"),
            Scope::User => home.join(".copilot/hooks/mandate.json"),
        },
    }
}

/// The hook entries `mandate install` adds for an assistant, as `(event, entry)` pairs in
/// the assistant's settings schema. `mandate uninstall` removes exactly these entries.
pub fn install_entries(assistant: Assistant, exe: &Path) -> Vec<(String, Value)> {
    match assistant {
        Assistant::Claude => entries_of(&claude_hooks(exe)),
        Assistant::Gemini => crate::gemini::install_entries(exe),
        Assistant::Codex => crate::codex::install_entries(exe),
        Assistant::Cursor => crate::cursor::install_entries(exe),
        Assistant::Copilot => crate::copilot::install_entries(exe),
    }
}

/// The top-level key that holds the event map in the assistant's settings file.
pub fn hooks_key(assistant: Assistant) -> &'static str {
    match assistant {
        Assistant::Claude
        | Assistant::Gemini
        | Assistant::Codex
        | Assistant::Cursor
        | Assistant::Copilot => "hooks",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_then_uninstall_leaves_the_users_own_hooks() {
        let exe = Path::new("/opt/mandate");
        for a in crate::Assistant::ALL {
            let mut doc = json!({"theme": "dark", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}]}});
            let original = doc.clone();
            let entries = install_entries(a, exe);
            assert!(!entries.is_empty(), "{a}");
            assert!(add_entries(&mut doc, hooks_key(a), &entries));
            assert!(!add_entries(&mut doc, hooks_key(a), &entries), "idempotent");
            assert_eq!(
                remove_entries(&mut doc, hooks_key(a), &entries),
                entries.len()
            );
            assert_eq!(
                doc, original,
                "{a}: uninstall removes exactly what install wrote"
            );
        }
    }

    #[test]
    fn claude_settings_hook_every_tool() {
        let h = claude_hooks(Path::new("/x/mandate"));
        assert_eq!(h["PreToolUse"][0]["matcher"], "*");
        assert_eq!(
            h["PreToolUse"][0]["hooks"][0]["command"],
            "/x/mandate hook claude"
        );
    }
}
