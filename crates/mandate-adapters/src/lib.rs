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
pub mod gemini;
pub mod runner;
pub mod settings;

use std::fmt;

use mandate_types::{AbsPath, Action, ActionKind, HttpMethod, McpToolRef, Url};

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

/// Why a hook payload could not be understood (each becomes a denial).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Empty input.
    #[error("the hook received no input on stdin")]
    Empty,
    /// Bigger than the limit.
    #[error("the hook input is larger than {0} bytes")]
    TooLarge(usize),
    /// Not UTF-8.
    #[error("the hook input is not valid UTF-8")]
    NotUtf8,
    /// Not JSON of the expected shape.
    #[error("the hook input is not valid {assistant} hook JSON: {detail}")]
    Malformed {
        /// Which assistant's format.
        assistant: Assistant,
        /// What is wrong.
        detail: String,
    },
    /// A tool Mandate does not know how to judge.
    #[error("unknown tool {0:?}: Mandate does not know what it does, so it is refused")]
    UnknownTool(String),
    /// A field of the tool's input was missing or invalid.
    #[error("tool {tool}: {detail}")]
    BadToolInput {
        tool: String,
        /// What is wrong.
        detail: String,
    },
}

/// A tool call about to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PreTool {
    /// The assistant's tool name.
    pub tool: String,
    /// The assistant's id for the call.
    pub tool_use_id: Option<String>,
    /// The actions the call amounts to (several for a multi-file patch).
    pub actions: Vec<Action>,
    /// The event name to answer with (`PreToolUse`, `BeforeTool`, ...).
    pub event_name: String,
}

/// A tool call that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct PostTool {
    /// The assistant's tool name.
    pub tool: String,
    /// The assistant's id for the call.
    pub tool_use_id: Option<String>,
    /// Its output as text.
    pub output: String,
    /// Whether it succeeded, when known.
    pub succeeded: Option<bool>,
    /// A command's exit status, when known.
    pub exit_code: Option<i64>,
    /// The output came from outside the trust boundary.
    pub untrusted: bool,
}

/// One hook event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Decide before a tool runs.
    PreTool(PreTool),
    /// Report after a tool ran.
    PostTool(PostTool),
    /// A session event for the timeline (`session.start`, `session.end`, `session.stop`).
    Session {
        /// The event kind.
        kind: String,
        /// Details to record.
        detail: serde_json::Value,
    },
    /// An event Mandate does not act on.
    Ignored(String),
}

/// What Mandate answers to a pre-tool event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Let it run.
    Allow(String),
    /// Refuse; the text is what the model reads.
    Deny(String),
    /// A human must approve.
    Ask(String),
}

/// What the hook process prints and how it exits.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HookOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status.
    pub exit_code: i32,
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

// ---------------------------------------------------------------- shared helpers

pub(crate) fn field<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str())
}

pub(crate) fn required<'a>(
    tool: &str,
    v: &'a serde_json::Value,
    key: &str,
) -> Result<&'a str, AdapterError> {
    field(v, key).ok_or_else(|| AdapterError::BadToolInput {
        tool: tool.to_owned(),
        detail: format!("missing string field {key:?}"),
    })
}

pub(crate) fn bad(tool: &str, e: impl fmt::Display) -> AdapterError {
    AdapterError::BadToolInput {
        tool: tool.to_owned(),
        detail: e.to_string(),
    }
}

/// The working directory of the event.
pub(crate) fn cwd_of(
    assistant: Assistant,
    v: &serde_json::Value,
    keys: &[&str],
) -> Result<AbsPath, AdapterError> {
    let cwd = keys
        .iter()
        .find_map(|k| field(v, k))
        .map(str::to_owned)
        .or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|d| d.to_str().map(str::to_owned))
        })
        .ok_or_else(|| AdapterError::Malformed {
            assistant,
            detail: "no cwd in the payload".into(),
        })?;
    AbsPath::parse("cwd", &cwd).map_err(|e| AdapterError::Malformed {
        assistant,
        detail: e.to_string(),
    })
}

pub(crate) fn shell(tool: &str, cwd: &AbsPath, command: &str) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::shell(command).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
}

pub(crate) fn read(tool: &str, cwd: &AbsPath, path: &str) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::file_read(path).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
}

pub(crate) fn write(tool: &str, cwd: &AbsPath, path: &str) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::file_write(path).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
}

pub(crate) fn fetch(tool: &str, cwd: &AbsPath, url: &str) -> Result<Action, AdapterError> {
    // Assistants often omit the scheme; their fetch tools default to https.
    let url = if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    };
    Ok(Action {
        kind: ActionKind::Http {
            method: HttpMethod::Get,
            url: Url::parse(&url).map_err(|e| bad(tool, e))?,
        },
        cwd: cwd.clone(),
    })
}

/// A call to a tool that is not a file, shell or web action: an MCP tool, or one of the
/// assistant's own tools (server `assistant`) such as a to-do list or a sub-agent.
pub(crate) fn tool_call(
    tool: &str,
    cwd: &AbsPath,
    server: &str,
    name: &str,
    args: &serde_json::Value,
) -> Result<Action, AdapterError> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let r = McpToolRef::parse(&format!("{}/{}", clean(server), clean(name)))
        .map_err(|e| bad(tool, e))?;
    Ok(Action {
        kind: ActionKind::McpCall {
            tool: r,
            args: args.clone(),
            annotation: None,
        },
        cwd: cwd.clone(),
    })
}

/// Text of a tool's output, whatever its shape.
pub(crate) fn output_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.get("text")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(obj) => {
            let mut parts = Vec::new();
            for k in [
                "stdout",
                "stderr",
                "output",
                "content",
                "result",
                "llmContent",
                "returnDisplay",
            ] {
                if let Some(s) = obj.get(k).and_then(|x| x.as_str()) {
                    parts.push(s.to_owned());
                }
            }
            if let Some(file) = obj
                .get("file")
                .and_then(|f| f.get("content"))
                .and_then(|c| c.as_str())
            {
                parts.push(file.to_owned());
            }
            if parts.is_empty() {
                obj.to_string()
            } else {
                parts.join("\n")
            }
        }
    }
}

/// A decision summary the model reads: what was refused and what to do.
pub fn deny_message(summary: &str) -> String {
    format!(
        "Mandate refused this action: {summary}. Do not retry it another way; tell the user what you were trying to do."
    )
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
