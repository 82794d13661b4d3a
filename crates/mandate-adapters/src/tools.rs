//! What an assistant's tools do. Each adapter lists its assistant's tools (MCP tools
//! aside) in one table of [`ToolKind`]s; that table decides how a call is mapped to
//! actions, what [`crate::Adapter::tool_handling`] reports, what the end-to-end test
//! checks each pinned CLI's tool list against, and what `docs/assistant-tools.md` shows.

use mandate_types::ToolRole;

/// What one tool of an assistant does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    /// Runs a shell command (or types into one that runs).
    Shell,
    /// Reads a file.
    Read,
    /// Lists or searches a directory: a read of the directory.
    Search,
    /// Creates, edits or deletes files.
    Write,
    /// Fetches a URL.
    Fetch,
    /// Searches the web: a call of the tool `web/search`.
    WebSearch,
    /// Lists or reads an MCP server's resources: a call of that server.
    McpResource,
    /// One of the assistant's own tools, by what it does.
    Own(ToolRole),
}

impl ToolKind {
    /// The kind's name, as `docs/assistant-tools.md` shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shell => "shell",
            Self::Read => "read",
            Self::Search => "search",
            Self::Write => "write",
            Self::Fetch => "fetch",
            Self::WebSearch => "web search",
            Self::McpResource => "MCP resource",
            Self::Own(role) => role.as_str(),
        }
    }
}

/// How an adapter handles a tool name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolHandling {
    /// A tool of the adapter's table.
    Known(ToolKind),
    /// An MCP tool, by the assistant's spelling of MCP tool names.
    Mcp,
    /// A tool the adapter does not know: an `unparseable` call, which policy asks about.
    Unknown,
}

/// Shorthands for the adapters' tables.
pub(crate) mod kinds {
    use super::ToolKind;
    use mandate_types::ToolRole;

    pub(crate) const SHELL: ToolKind = ToolKind::Shell;
    pub(crate) const READ: ToolKind = ToolKind::Read;
    pub(crate) const SEARCH: ToolKind = ToolKind::Search;
    pub(crate) const WRITE: ToolKind = ToolKind::Write;
    pub(crate) const FETCH: ToolKind = ToolKind::Fetch;
    pub(crate) const WEB_SEARCH: ToolKind = ToolKind::WebSearch;
    pub(crate) const MCP_RESOURCE: ToolKind = ToolKind::McpResource;
    pub(crate) const SCHEDULE: ToolKind = ToolKind::Own(ToolRole::Schedule);
    pub(crate) const DELEGATE: ToolKind = ToolKind::Own(ToolRole::Delegate);
    pub(crate) const WORKTREE: ToolKind = ToolKind::Own(ToolRole::Worktree);
    pub(crate) const BOOKKEEPING: ToolKind = ToolKind::Own(ToolRole::Bookkeeping);
}

/// The kind of `tool` in an adapter's table.
pub(crate) fn lookup(table: &[(&str, ToolKind)], tool: &str) -> Option<ToolKind> {
    table.iter().find(|(n, _)| *n == tool).map(|(_, k)| *k)
}
