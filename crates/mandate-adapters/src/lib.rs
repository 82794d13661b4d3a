//! Assistant hook adapters: each assistant's hook payload → Mandate actions, and
//! Mandate's decision → the assistant's own answer format.
//!
//! Each assistant implements [`Adapter`] once, in its own module; [`Assistant::adapter`]
//! is the one place an assistant is mapped to its adapter. Parsing and rendering are pure;
//! the [`runner`] does the I/O of a hook process (stdin, the broker's socket, a deadline)
//! and turns every failure into a denial the assistant honours; [`install`] merges hook
//! entries into (and out of) an assistant's settings file.
//!
//! Each adapter lists its assistant's tools in one table ([`tools`]): a tool it does not
//! list (nor name as an MCP tool) is an `unparseable` action that policy asks about.
//!
//! Within the crate, imports point one way: this file → the adapters → `adapter`,
//! `event`, `payload`, `tools` and `hook_config`, which never import an adapter or this
//! file.

#![forbid(unsafe_code)]

mod adapter;
pub mod claude;
pub mod codex;
pub mod copilot;
pub mod cursor;
mod event;
pub mod gemini;
mod hook_config;
pub mod install;
mod payload;
pub mod runner;
pub mod tools;

use std::fmt;

pub use adapter::{Adapter, RunWiring, Scope};
pub use event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool, deny_message};
pub use tools::{ToolHandling, ToolKind};

/// The assistants Mandate has adapters for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Assistant {
    /// Anthropic Claude Code.
    Claude,
    /// Cursor (agent hooks).
    Cursor,
    /// Google Gemini CLI.
    Gemini,
    /// OpenAI Codex CLI.
    Codex,
    /// GitHub Copilot CLI / coding agent.
    Copilot,
}

impl Assistant {
    /// Every assistant.
    pub const ALL: [Assistant; 5] = [
        Assistant::Claude,
        Assistant::Cursor,
        Assistant::Gemini,
        Assistant::Codex,
        Assistant::Copilot,
    ];

    /// The adapter that speaks this assistant's hooks: the one place an assistant is
    /// mapped to its code.
    pub fn adapter(self) -> &'static dyn Adapter {
        match self {
            Self::Claude => &claude::Claude,
            Self::Cursor => &cursor::Cursor,
            Self::Gemini => &gemini::Gemini,
            Self::Codex => &codex::Codex,
            Self::Copilot => &copilot::Copilot,
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        self.adapter().name()
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Guesses the assistant from the program `mandate run` starts.
    pub fn from_program(program: &str) -> Option<Self> {
        let base = program.rsplit('/').next().unwrap_or(program);
        Self::ALL
            .into_iter()
            .find(|a| a.adapter().programs().contains(&base))
    }

    /// The agent id recorded in mandates.
    pub fn agent_name(self) -> &'static str {
        self.adapter().agent_name()
    }

    /// How this assistant's adapter handles a call of `tool`.
    pub fn tool_handling(self, tool: &str) -> ToolHandling {
        self.adapter().tool_handling(tool)
    }
}

impl fmt::Display for Assistant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a hook payload.
pub fn parse(assistant: Assistant, input: &[u8]) -> Result<Event, AdapterError> {
    let text = std::str::from_utf8(input).map_err(|_| AdapterError::NotUtf8)?;
    if text.trim().is_empty() {
        return Err(AdapterError::Empty);
    }
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| AdapterError::Malformed {
        assistant: assistant.name(),
        detail: e.to_string(),
    })?;
    if !v.is_object() {
        return Err(AdapterError::Malformed {
            assistant: assistant.name(),
            detail: "expected a JSON object".into(),
        });
    }
    assistant.adapter().parse(&v)
}

/// Renders the answer to a pre-tool event.
pub fn render(assistant: Assistant, event_name: &str, answer: &Answer) -> HookOutput {
    assistant.adapter().render(event_name, answer)
}

/// The answer to a pre-tool event when the payload itself could not be understood,
/// before the event name is known. Uses each assistant's most robust deny.
pub fn render_failure(assistant: Assistant, event_hint: &str, reason: &str) -> HookOutput {
    render(assistant, event_hint, &Answer::Deny(reason.to_owned()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::hook_config::{add_entries, remove_entries};

    #[test]
    fn malformed_input_is_an_error_for_every_assistant() {
        for a in Assistant::ALL {
            assert_eq!(parse(a, b""), Err(AdapterError::Empty));
            assert_eq!(parse(a, b"  \n"), Err(AdapterError::Empty));
            assert_eq!(parse(a, &[0xff, 0xfe]), Err(AdapterError::NotUtf8));
            assert!(matches!(
                parse(a, b"{\"tool_name\": "),
                Err(AdapterError::Malformed { .. })
            ));
            assert!(matches!(
                parse(a, b"[1,2]"),
                Err(AdapterError::Malformed { .. })
            ));
        }
    }

    #[test]
    fn assistant_names_round_trip() {
        for a in Assistant::ALL {
            assert_eq!(Assistant::parse(a.name()), Some(a));
        }
        assert_eq!(
            Assistant::from_program("/usr/bin/claude"),
            Some(Assistant::Claude)
        );
        assert_eq!(Assistant::from_program("vim"), None);
    }

    #[test]
    fn no_table_names_a_tool_twice_or_as_unknown() {
        for a in Assistant::ALL {
            let t = a.adapter().tools();
            for (i, (name, kind)) in t.iter().enumerate() {
                assert!(
                    !t[..i].iter().any(|(n, _)| n == name),
                    "{a}: {name} listed twice"
                );
                assert_ne!(
                    *kind,
                    ToolKind::Own(mandate_types::ToolRole::Unknown),
                    "{a}: {name}"
                );
                assert_eq!(a.tool_handling(name), ToolHandling::Known(*kind));
            }
            assert_eq!(a.tool_handling("Teleport"), ToolHandling::Unknown, "{a}");
        }
    }

    /// `docs/assistant-tools.md` shows each adapter's table, row for row.
    #[test]
    fn the_doc_table_is_the_adapters_table() {
        let doc = include_str!("../../../docs/assistant-tools.md");
        for a in Assistant::ALL {
            let marker = format!("(`{}`)", a.name());
            let section = doc
                .split("\n## ")
                .find(|s| s.lines().next().is_some_and(|h| h.contains(&marker)))
                .unwrap_or_else(|| panic!("no section for {a} in docs/assistant-tools.md"));
            let rows: Vec<&str> = section.lines().filter(|l| l.starts_with("| `")).collect();
            let tools = a.adapter().tools();
            for (i, (name, kind)) in tools.iter().enumerate() {
                let row = format!("| `{name}` | {} |", kind.as_str());
                assert!(
                    rows.get(i).is_some_and(|r| r.starts_with(&row)),
                    "{a}: row {i} of docs/assistant-tools.md should start with {row}"
                );
            }
            assert_eq!(rows.len(), tools.len(), "{a}: {rows:#?}");
        }
    }

    #[test]
    fn install_then_uninstall_leaves_the_users_own_hooks() {
        let exe = Path::new("/opt/mandate");
        for a in crate::Assistant::ALL {
            let mut doc = json!({"theme": "dark", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}]}});
            let original = doc.clone();
            let entries = a.adapter().install_entries(exe);
            assert!(!entries.is_empty(), "{a}");
            assert!(add_entries(&mut doc, &entries));
            assert!(!add_entries(&mut doc, &entries), "idempotent");
            assert_eq!(remove_entries(&mut doc, &entries), entries.len());
            assert_eq!(
                doc, original,
                "{a}: uninstall removes exactly what install wrote"
            );
        }
    }

    #[test]
    fn a_new_settings_file_has_the_assistants_defaults_and_goes_on_uninstall() {
        let exe = Path::new("/opt/mandate");
        for a in Assistant::ALL {
            let path = Path::new("/p/settings.json");
            let done = install::add(a.adapter(), path, None, exe).unwrap();
            let doc: serde_json::Value = serde_json::from_str(&done.text).unwrap();
            let versioned = matches!(a, Assistant::Cursor | Assistant::Copilot);
            assert_eq!(doc.get("version").is_some(), versioned, "{a}");
            let undone =
                install::remove(a.adapter(), path, Some(&done.text), &done.entries).unwrap();
            assert_eq!(undone.file, install::Leftover::Delete, "{a}");
        }
    }
}
