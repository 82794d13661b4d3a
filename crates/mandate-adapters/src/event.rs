//! What crosses a hook's boundary, whatever the assistant: the event parsed from its
//! payload, Mandate's answer, what the hook process prints, and why a payload was refused.

use mandate_types::Action;

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
        /// Which assistant's format, by its command-line name.
        assistant: &'static str,
        /// What is wrong.
        detail: String,
    },
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
    /// The tool's input (a command, a path), for the broker to judge where the output
    /// came from.
    pub input: Option<serde_json::Value>,
    /// The actions the call was decided as (rebuilt from its input as at PreToolUse):
    /// that it ran answers an `ask` the assistant put to its user.
    pub actions: Vec<mandate_types::Action>,
}

/// One hook event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Decide before a tool runs.
    PreTool(PreTool),
    /// Report after a tool ran.
    PostTool(PostTool),
    /// A prompt the user typed: the user's own words, trusted.
    Prompt(String),
    /// The assistant refused a call after its own check (Claude Code's auto mode):
    /// the answer to an `ask` for these actions is no.
    Refused(PreTool),
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

/// A decision summary the model reads: what was refused and what to do.
pub fn deny_message(summary: &str) -> String {
    format!(
        "Mandate refused this action: {summary}. Do not retry it another way; tell the user what you were trying to do."
    )
}
