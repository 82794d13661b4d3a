//! The one interface every assistant's hook adapter implements: its names, its payload
//! and answer formats, how `mandate run` wires it for one session, and where and what
//! `mandate install` writes for it.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::event::{AdapterError, Answer, Event, HookOutput};
use crate::tools::{ToolHandling, ToolKind, lookup};

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

/// Where `mandate install` writes, per assistant and scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's own configuration (`~/...`).
    User,
    /// The project's configuration (in the current repository).
    Project,
}

impl Scope {
    /// The directory this scope's settings files live under: `home` or `project`.
    pub fn dir<'a>(self, home: &'a Path, project: &'a Path) -> &'a Path {
        match self {
            Self::User => home,
            Self::Project => project,
        }
    }
}

/// One assistant's hooks. Each assistant implements this once, as a unit struct in its
/// own module; [`crate::Assistant::adapter`] maps the assistant to it.
pub trait Adapter: Sync {
    /// The assistant's name on the command line (`mandate hook NAME`, `mandate install
    /// NAME`) and in messages.
    fn name(&self) -> &'static str;

    /// The agent id recorded in mandates.
    fn agent_name(&self) -> &'static str;

    /// Base names of the programs `mandate run` recognises as this assistant.
    fn programs(&self) -> &'static [&'static str];

    /// Parses one hook payload, already known to be a JSON object.
    fn parse(&self, payload: &Value) -> Result<Event, AdapterError>;

    /// The assistant's tools, MCP tools aside, with what each does: every tool the
    /// pinned version offers its model, and those its documentation names.
    fn tools(&self) -> &'static [(&'static str, ToolKind)];

    /// Whether `tool` is an MCP tool in the assistant's spelling of their names.
    fn is_mcp_tool(&self, tool: &str) -> bool;

    /// How a call of `tool` is handled: by the table of [`Adapter::tools`], as an MCP
    /// tool, or as a tool nobody knows (asked about).
    fn tool_handling(&self, tool: &str) -> ToolHandling {
        match lookup(self.tools(), tool) {
            Some(kind) => ToolHandling::Known(kind),
            None if self.is_mcp_tool(tool) => ToolHandling::Mcp,
            None => ToolHandling::Unknown,
        }
    }

    /// Whether `mandate hook NAME EVENT` passes EVENT into a payload that does not name
    /// its event (as its `"event"` field), for a dialect whose payloads do not say which
    /// event they are (Copilot's camelCase one).
    fn takes_event_hint(&self) -> bool {
        false
    }

    /// Whether the assistant puts an `ask` to its user itself. Where it cannot, the hook
    /// waits (up to the broker's `approval_wait`) for an answer given with `mandate
    /// approve`, and denies, saying how to approve, when none comes.
    fn asks_its_user(&self) -> bool {
        true
    }

    /// Renders Mandate's answer to a pre-tool event in the assistant's format. An empty
    /// `event_name` means the payload could not be read, so the event is unknown.
    fn render(&self, event_name: &str, answer: &Answer) -> HookOutput;

    /// The wiring for one `mandate run` session. `session_dir` is a private scratch
    /// directory that lives as long as the session.
    fn run_wiring(&self, exe: &Path, session_dir: &Path) -> RunWiring;

    /// The settings file the assistant reads hooks from, for `mandate install`.
    fn settings_path(&self, scope: Scope, home: &Path, project: &Path) -> PathBuf;

    /// The hook entries `mandate install` adds, as `(event, entry)` pairs in the
    /// assistant's settings schema. `mandate uninstall` removes exactly these entries.
    fn install_entries(&self, exe: &Path) -> Vec<(String, Value)>;

    /// Top-level keys the assistant's settings file carries besides the hooks (Cursor's
    /// and Copilot's `"version": 1`). `mandate install` adds those missing, keeping any
    /// value already there.
    fn settings_defaults(&self) -> Map<String, Value> {
        Map::new()
    }

    /// Whether a settings document left after `mandate uninstall` holds nothing of the
    /// user's (at most the keys of [`Adapter::settings_defaults`]), so the file can go.
    fn is_leftover(&self, doc: &Map<String, Value>) -> bool {
        let defaults = self.settings_defaults();
        doc.keys().all(|k| defaults.contains_key(k))
    }
}
