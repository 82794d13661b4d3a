//! Hook configuration for each assistant: what `mandate run` injects for one session,
//! and what `mandate install` writes (and `mandate uninstall` removes) for people who do
//! not use the wrapper.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::Assistant;

/// Seconds an assistant waits for the hook before giving up. Generous, because most
/// assistants treat a timed-out hook as "go on": the hook's own deadline (2 s by default)
/// is what bounds a decision, and it always answers with a denial.
pub const HOOK_TIMEOUT_SECS: u64 = 30;

/// The shell command line that runs the hook for an assistant.
pub fn hook_command(exe: &Path, assistant: Assistant) -> String {
    format!(
        "{} hook {}",
        shell_quote(&exe.to_string_lossy()),
        assistant.name()
    )
}

/// Single-quotes a word for `sh -c`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Claude Code's hooks (for `--settings` or a settings file).
pub fn claude_hooks(exe: &Path) -> Value {
    let handler = json!([{"type": "command", "command": hook_command(exe, Assistant::Claude), "timeout": HOOK_TIMEOUT_SECS}]);
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

/// The `(event, entry)` pairs of an event → entries map.
pub fn entries_of(hooks: &Value) -> Vec<(String, Value)> {
    hooks
        .as_object()
        .map(|m| {
            m.iter()
                .flat_map(|(k, v)| {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .map(move |e| (k.clone(), e.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
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

/// Adds entries to a settings document (creating the `hooks` map as needed); entries
/// already present are not duplicated. Returns whether anything changed. A document, hooks
/// map or event list of the wrong JSON type is replaced only where it is ours to create;
/// callers refuse documents that are not objects before calling this.
pub fn add_entries(doc: &mut Value, key: &str, entries: &[(String, Value)]) -> bool {
    let Some(root) = doc.as_object_mut() else {
        return false;
    };
    let hooks = root.entry(key).or_insert_with(|| json!({}));
    if !hooks.is_object() {
        *hooks = json!({});
    }
    let Some(hooks) = hooks.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    for (event, entry) in entries {
        let list = hooks.entry(event.clone()).or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        if let Some(arr) = list.as_array_mut()
            && !arr.contains(entry)
        {
            arr.push(entry.clone());
            changed = true;
        }
    }
    changed
}

/// Removes exactly the given entries; drops event lists and the hooks map when they
/// become empty. Returns how many entries were removed.
pub fn remove_entries(doc: &mut Value, key: &str, entries: &[(String, Value)]) -> usize {
    let mut removed = 0;
    let Some(hooks) = doc.get_mut(key).and_then(|h| h.as_object_mut()) else {
        return 0;
    };
    for (event, entry) in entries {
        if let Some(arr) = hooks.get_mut(event).and_then(|l| l.as_array_mut()) {
            let before = arr.len();
            arr.retain(|e| e != entry);
            removed += before - arr.len();
            if arr.is_empty() {
                hooks.remove(event);
            }
        }
    }
    if hooks.is_empty()
        && let Some(o) = doc.as_object_mut()
    {
        o.remove(key);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(shell_quote("/usr/bin/mandate"), "/usr/bin/mandate");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }

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
