//! Validated domain types shared by every Mandate crate.
//!
//! Everything that crosses a trust boundary (a hook payload, an HTTP body, a CLI flag) is
//! parsed into one of these types first; once a value exists it is known to be well formed.
//! This crate does no I/O.

#![forbid(unsafe_code)]

mod action;
pub mod api;
pub mod audit;
mod decision;
mod effect;
mod ids;
pub mod ip;
mod label;
mod mandate;
mod sandbox;
mod text;

pub use action::{
    Action, ActionKind, HttpMethod, MAX_PROMPT_TEXT, McpToolRef, Prompt, ToolAnnotation, ToolRole,
    Url, split_host_port,
};
pub use decision::{Decision, Reason, Verdict};
pub use effect::{Effect, FileFacts, HostFacts, PathZone, ProgramClass, PushFacts, SpecialPath};
pub use ids::{AgentId, DecisionId, PrincipalId, ProfileName, TaskId};
pub use label::{Label, Labels};
pub use mandate::{
    BranchPattern, HostPattern, Mandate, McpToolPattern, PathGlob, Scope, normalize_git_url,
    wildcard_match,
};
pub use sandbox::SandboxLayers;
pub use text::{AbsPath, Host, Purpose};

/// Why a value was refused at a trust boundary. The message names the field and what is
/// wrong with it, so a human (or an assistant) can fix the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidInput {
    /// A field was empty where a value is required.
    #[error("{field}: must not be empty")]
    Empty {
        /// The field name.
        field: &'static str,
    },
    /// A field was longer than its limit.
    #[error("{field}: too long ({len} bytes, limit {max})")]
    TooLong {
        /// The field name.
        field: &'static str,
        /// The length seen.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A field contained a NUL byte (never valid in paths, commands or names).
    #[error("{field}: contains a NUL byte")]
    Nul {
        /// The field name.
        field: &'static str,
    },
    /// A field did not have the expected shape.
    #[error("{field}: {problem}")]
    Malformed {
        /// The field name.
        field: &'static str,
        /// What is wrong, in words.
        problem: String,
    },
}

impl InvalidInput {
    /// Shorthand for [`InvalidInput::Malformed`].
    pub fn malformed(field: &'static str, problem: impl Into<String>) -> Self {
        Self::Malformed {
            field,
            problem: problem.into(),
        }
    }
}

/// Seconds since the Unix epoch, the time unit of tokens and records.
pub type UnixSeconds = i64;
