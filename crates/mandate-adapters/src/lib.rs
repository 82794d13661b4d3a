//! Assistant hook adapters: each assistant's hook payload → Mandate actions, and
//! Mandate's decision → the assistant's own answer format.
//!
//! Parsing and rendering are pure functions per assistant (see the modules); the
//! [`runner`] does the I/O of a hook process (stdin, the broker's socket, a deadline)
//! and turns every failure into a denial the assistant honours.

#![forbid(unsafe_code)]

pub mod claude;
pub mod codex;
pub mod copilot;
pub mod cursor;
mod event;
pub mod gemini;
mod hook_config;
mod payload;
pub mod runner;
pub mod settings;

use std::fmt;

pub use event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool, deny_message};

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

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Cursor => "cursor",
            Self::Gemini => "gemini",
            Self::Codex => "codex",
            Self::Copilot => "copilot",
        }
    }

    /// Parses a command-line name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == s)
    }

    /// Guesses the assistant from the program `mandate run` starts.
    pub fn from_program(program: &str) -> Option<Self> {
        let base = program.rsplit('/').next().unwrap_or(program);
        match base {
            "claude" => Some(Self::Claude),
            "gemini" => Some(Self::Gemini),
            "codex" => Some(Self::Codex),
            "cursor" | "cursor-agent" => Some(Self::Cursor),
            "copilot" => Some(Self::Copilot),
            _ => None,
        }
    }

    /// The agent id recorded in mandates.
    pub fn agent_name(self) -> &'static str {
        match self {
            Self::Claude => "claude-code",
            Self::Cursor => "cursor",
            Self::Gemini => "gemini-cli",
            Self::Codex => "codex-cli",
            Self::Copilot => "copilot-cli",
        }
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
        assistant,
        detail: e.to_string(),
    })?;
    if !v.is_object() {
        return Err(AdapterError::Malformed {
            assistant,
            detail: "expected a JSON object".into(),
        });
    }
    match assistant {
        Assistant::Claude => claude::parse(&v),
        Assistant::Gemini => gemini::parse(&v),
        Assistant::Codex => codex::parse(&v),
        Assistant::Cursor => cursor::parse(&v),
        Assistant::Copilot => copilot::parse(&v),
    }
}

/// Renders the answer to a pre-tool event.
pub fn render(assistant: Assistant, event_name: &str, answer: &Answer) -> HookOutput {
    match assistant {
        Assistant::Claude => claude::render(event_name, answer),
        Assistant::Gemini => gemini::render(event_name, answer),
        Assistant::Codex => codex::render(event_name, answer),
        Assistant::Cursor => cursor::render(event_name, answer),
        Assistant::Copilot => copilot::render(event_name, answer),
    }
}

/// The answer to a pre-tool event when the payload itself could not be understood,
/// before the event name is known. Uses each assistant's most robust deny.
pub fn render_failure(assistant: Assistant, event_hint: &str, reason: &str) -> HookOutput {
    render(assistant, event_hint, &Answer::Deny(reason.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
