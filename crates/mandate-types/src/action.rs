//! Actions: what an enforcement point asks about.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{MAX_PATH, check_nonempty, check_text};
use crate::{AbsPath, Host, InvalidInput};

/// Longest shell command we analyse (1 MiB). Longer input is refused at the boundary.
pub const MAX_COMMAND: usize = 1 << 20;
/// Largest text a file write may carry to be judged (a bigger one is refused, not
/// judged in part: a secret could sit past any cut).
pub const MAX_WRITE_CONTENT: usize = 4 << 20;

/// Longest prompt recorded as text; a longer one is recorded by its digest and length.
pub const MAX_PROMPT_TEXT: usize = 4096;

/// Longest assistant tool name accepted.
const MAX_TOOL_NAME: usize = 256;

/// One action an assistant wants to take, with the directory it acts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// What is to be done.
    #[serde(flatten)]
    pub kind: ActionKind,
    /// The working directory the action runs in (relative paths are relative to it).
    pub cwd: AbsPath,
}

impl Action {
    /// The action as the audit log keeps it: a file write's content is left out (it can
    /// be a whole file, and may hold the very secret a write was refused for).
    pub fn for_record(&self) -> Action {
        match &self.kind {
            ActionKind::FileWrite {
                path,
                content: Some(_),
            } => Action {
                kind: ActionKind::FileWrite {
                    path: path.clone(),
                    content: None,
                },
                cwd: self.cwd.clone(),
            },
            _ => self.clone(),
        }
    }
}

/// The kinds of action Mandate decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActionKind {
    /// A shell command line, run by `bash -c`.
    Shell {
        /// The command line.
        command: String,
    },
    /// Reading a file (an assistant's Read tool).
    FileRead {
        /// The path as the assistant wrote it.
        path: String,
    },
    /// Writing or editing a file.
    FileWrite {
        /// The path as the assistant wrote it.
        path: String,
        /// The text the write puts into the file, where the tool's input says it (a
        /// Write tool's content, an Edit's replacement): searched for secret values the
        /// task has read. Never recorded in the audit log (see [`Action::for_record`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
    },
    /// An HTTP request (WebFetch and friends).
    Http {
        /// The request method.
        method: HttpMethod,
        /// The target URL.
        url: Url,
    },
    /// An MCP tool call.
    McpCall {
        /// Which tool on which server.
        tool: McpToolRef,
        /// The call's arguments.
        #[serde(default)]
        args: serde_json::Value,
        /// What the operator says the tool does, if known (MCP tool annotations).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        annotation: Option<ToolAnnotation>,
    },
    /// A call of one of the assistant's own tools (scheduling, delegation, worktrees,
    /// bookkeeping), or of a tool its adapter does not know.
    AssistantTool {
        /// The assistant's command-line name (`claude`, `gemini`, ...).
        assistant: String,
        /// The tool's name as the assistant spells it.
        tool: String,
        /// What the tool does.
        role: ToolRole,
        /// The prompt or message the tool hands on (delegations, scheduled work).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prompt: Option<Prompt>,
        /// The directory the tool acts on, when its input names one (a worktree).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// The rest of the tool's input, for the record (long strings by digest).
        #[serde(default)]
        input: serde_json::Value,
    },
}

/// What one of an assistant's own tools does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolRole {
    /// Schedules work that outlives the call: a cron job, a wake-up, a remote trigger.
    Schedule,
    /// Hands work to another agent: a sub-agent, a workflow, a skill, a message.
    Delegate,
    /// Creates, enters or removes a git worktree.
    Worktree,
    /// Changes nothing outside the assistant: to-do lists, plan mode, questions to the
    /// user, its own task list.
    Bookkeeping,
    /// A tool the adapter does not know.
    Unknown,
}

impl ToolRole {
    /// Every role.
    pub const ALL: [ToolRole; 5] = [
        Self::Schedule,
        Self::Delegate,
        Self::Worktree,
        Self::Bookkeeping,
        Self::Unknown,
    ];

    /// The role's name (`schedule`, `delegate`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Delegate => "delegate",
            Self::Worktree => "worktree",
            Self::Bookkeeping => "bookkeeping",
            Self::Unknown => "unknown",
        }
    }

    /// Parses a role's name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Text a tool hands on (a sub-agent's prompt, a message, a scheduled prompt), as
/// recorded: always its length and SHA-256, the text itself when it is short.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Prompt {
    /// Length in bytes.
    pub len: u64,
    /// SHA-256 of the text, lower-case hex.
    pub sha256: String,
    /// The text, when at most [`MAX_PROMPT_TEXT`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Prompt {
    /// The record of `text` whose SHA-256 (lower-case hex) is `sha256`.
    pub fn new(text: &str, sha256: &str) -> Result<Self, InvalidInput> {
        let p = Self {
            len: text.len() as u64,
            sha256: sha256.to_owned(),
            text: (text.len() <= MAX_PROMPT_TEXT).then(|| text.to_owned()),
        };
        p.validate()?;
        Ok(p)
    }

    /// Checks the digest's shape, the text's limits and that the length is the text's.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.sha256.len() != 64 || !self.sha256.chars().all(hex) {
            return Err(InvalidInput::malformed(
                "prompt.sha256",
                "must be 64 lower-case hex digits",
            ));
        }
        if let Some(t) = &self.text {
            check_text("prompt.text", t, MAX_PROMPT_TEXT)?;
            if t.len() as u64 != self.len {
                return Err(InvalidInput::malformed(
                    "prompt.len",
                    "is not the length of the text",
                ));
            }
        }
        Ok(())
    }
}

/// What an MCP tool does, as its operator (or its MCP annotations) declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolAnnotation {
    /// Reads the operator's own data.
    Read,
    /// Reads content that outsiders can write (mail, web pages, issues): untrusted.
    ReadExternal,
    /// Changes data.
    Write,
    /// Sends data out (mail, messages, payments, uploads).
    Egress,
}

impl ToolAnnotation {
    /// Parses `read`, `read_external`, `write` or `egress`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "read" => Self::Read,
            "read_external" => Self::ReadExternal,
            "write" => Self::Write,
            "egress" => Self::Egress,
            _ => return None,
        })
    }

    /// The name as used in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadExternal => "read_external",
            Self::Write => "write",
            Self::Egress => "egress",
        }
    }
}

impl ActionKind {
    /// Validates a shell command line.
    pub fn shell(command: &str) -> Result<Self, InvalidInput> {
        check_text("command", command, MAX_COMMAND)?;
        Ok(Self::Shell {
            command: command.to_owned(),
        })
    }

    /// Validates a path for reading.
    pub fn file_read(path: &str) -> Result<Self, InvalidInput> {
        check_nonempty("path", path, MAX_PATH)?;
        Ok(Self::FileRead {
            path: path.to_owned(),
        })
    }

    /// Validates a path for writing.
    pub fn file_write(path: &str) -> Result<Self, InvalidInput> {
        Self::file_write_content(path, None)
    }

    /// Validates a path for writing and the text written there.
    pub fn file_write_content(path: &str, content: Option<&str>) -> Result<Self, InvalidInput> {
        check_nonempty("path", path, MAX_PATH)?;
        if let Some(c) = content {
            check_text("content", c, MAX_WRITE_CONTENT)?;
        }
        Ok(Self::FileWrite {
            path: path.to_owned(),
            content: content.map(str::to_owned),
        })
    }

    /// Re-checks the limits of a value built by deserialisation.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match self {
            Self::Shell { command } => check_text("command", command, MAX_COMMAND),
            Self::FileRead { path } => check_nonempty("path", path, MAX_PATH),
            Self::FileWrite { path, content } => {
                check_nonempty("path", path, MAX_PATH)?;
                match content {
                    Some(c) => check_text("content", c, MAX_WRITE_CONTENT),
                    None => Ok(()),
                }
            }
            Self::Http { .. } => Ok(()),
            Self::McpCall { .. } => Ok(()),
            Self::AssistantTool {
                assistant,
                tool,
                prompt,
                path,
                ..
            } => {
                check_nonempty("assistant", assistant, 64)?;
                if assistant.contains('/') {
                    return Err(InvalidInput::malformed("assistant", "contains '/'"));
                }
                check_nonempty("tool", tool, MAX_TOOL_NAME)?;
                if let Some(p) = prompt {
                    p.validate()?;
                }
                match path {
                    Some(p) => check_nonempty("path", p, MAX_PATH),
                    None => Ok(()),
                }
            }
        }
    }

    /// A short name for the kind (`shell`, `file_read`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Shell { .. } => "shell",
            Self::FileRead { .. } => "file_read",
            Self::FileWrite { .. } => "file_write",
            Self::Http { .. } => "http",
            Self::McpCall { .. } => "mcp_call",
            Self::AssistantTool { .. } => "assistant_tool",
        }
    }

    /// The action's subject in one line (the command, the path, the URL, the tool).
    pub fn target(&self) -> String {
        match self {
            Self::Shell { command } => command.clone(),
            Self::FileRead { path } | Self::FileWrite { path, .. } => path.clone(),
            Self::Http { method, url } => format!("{method} {url}"),
            Self::McpCall { tool, .. } => tool.to_string(),
            Self::AssistantTool {
                assistant, tool, ..
            } => format!("{assistant}/{tool}"),
        }
    }
}

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Head,
    Options,
    Post,
    Put,
    Patch,
    Delete,
    /// A tunnel through the egress proxy: what it carries is not seen.
    Connect,
}

impl HttpMethod {
    /// Parses a method name (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "OPTIONS" => Self::Options,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "CONNECT" => Self::Connect,
            other => {
                return Err(InvalidInput::malformed(
                    "method",
                    format!("unknown HTTP method {other:?}"),
                ));
            }
        })
    }

    /// Whether the method carries a body to the server.
    pub fn sends_body(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch)
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
        };
        f.write_str(s)
    }
}

/// An absolute URL whose scheme, host and port are known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Url {
    #[serde(skip)]
    scheme: String,
    #[serde(skip)]
    host: Option<Host>,
    #[serde(skip)]
    port: u16,
    text: String,
}

impl Url {
    /// Parses `scheme://[user@]host[:port][/rest]`. Schemes: http, https, ws, wss, ftp,
    /// ssh, git, file. A `file:` URL has no host.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        const FIELD: &str = "url";
        check_nonempty(FIELD, s, 8192)?;
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| InvalidInput::malformed(FIELD, format!("{s:?} has no scheme://")))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            "ftp" => 21,
            "ssh" => 22,
            "git" => 9418,
            "file" => 0,
            other => {
                return Err(InvalidInput::malformed(
                    FIELD,
                    format!("unsupported scheme {other:?}"),
                ));
            }
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if scheme == "file" {
            return Ok(Self {
                scheme,
                host: None,
                port: 0,
                text: s.to_owned(),
            });
        }
        let (host, port) =
            split_host_port(hostport).map_err(|p| InvalidInput::malformed(FIELD, p))?;
        let host = Host::parse(host)?;
        let port = port.unwrap_or(default_port);
        Ok(Self {
            scheme,
            host: Some(host),
            port,
            text: s.to_owned(),
        })
    }

    /// The scheme, lower-case.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host (absent for `file:` URLs).
    pub fn host(&self) -> Option<&Host> {
        self.host.as_ref()
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Splits `host[:port]` or `[v6]:port`.
pub fn split_host_port(s: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or("unbalanced '[' in host")?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| format!("bad port {p:?}"))?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected {after:?} after host")),
        };
        return Ok((h, port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => {
            let port = if p.is_empty() {
                None
            } else {
                Some(p.parse::<u16>().map_err(|_| format!("bad port {p:?}"))?)
            };
            Ok((h, port))
        }
        _ => Ok((s, None)),
    }
}

impl<'de> Deserialize<'de> for Url {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An MCP tool, `server/tool`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct McpToolRef {
    /// The MCP server's configured name.
    pub server: String,
    /// The tool name.
    pub tool: String,
}

impl McpToolRef {
    /// Parses `server/tool`.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        check_nonempty("mcp tool", s, 256)?;
        let (server, tool) = s
            .split_once('/')
            .ok_or_else(|| InvalidInput::malformed("mcp tool", "must look like server/tool"))?;
        let ok = |x: &str| {
            !x.is_empty()
                && x.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if !ok(server) || !ok(tool) {
            return Err(InvalidInput::malformed(
                "mcp tool",
                "server and tool use letters, digits, '-', '_' and '.'",
            ));
        }
        Ok(Self {
            server: server.to_owned(),
            tool: tool.to_owned(),
        })
    }
}

impl fmt::Display for McpToolRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.server, self.tool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parsing() {
        let u = Url::parse("https://user@Paste.Example:8443/x?y").unwrap();
        assert_eq!(u.host().unwrap().as_str(), "paste.example");
        assert_eq!(u.port(), 8443);
        assert_eq!(Url::parse("http://[::1]/").unwrap().port(), 80);
        assert_eq!(
            Url::parse("http://[::1]/")
                .unwrap()
                .host()
                .unwrap()
                .as_str(),
            "::1"
        );
        assert!(Url::parse("paste.example").is_err());
        assert!(Url::parse("gopher://x").is_err());
        assert!(Url::parse("http://x:99999/").is_err());
        assert!(Url::parse("http:///nohost").is_err());
    }

    #[test]
    fn action_json_round_trip() {
        let a: Action =
            serde_json::from_str(r#"{"kind":"shell","command":"cargo test","cwd":"/repo"}"#)
                .unwrap();
        assert_eq!(
            a.kind,
            ActionKind::Shell {
                command: "cargo test".into()
            }
        );
        assert!(
            serde_json::from_str::<Action>(r#"{"kind":"shell","command":"x","cwd":"rel"}"#)
                .is_err()
        );
        let h: Action = serde_json::from_str(
            r#"{"kind":"http","method":"GET","url":"https://example.com/","cwd":"/"}"#,
        )
        .unwrap();
        assert!(matches!(h.kind, ActionKind::Http { .. }));
    }

    #[test]
    fn assistant_tool_round_trips_and_is_validated() {
        let digest = "a".repeat(64);
        let a: Action = serde_json::from_str(&format!(
            r#"{{"kind":"assistant_tool","assistant":"claude","tool":"Agent","role":"delegate",
                "prompt":{{"len":2,"sha256":"{digest}","text":"hi"}},"input":{{"description":"d"}},"cwd":"/r"}}"#
        ))
        .unwrap();
        assert_eq!(a.kind.name(), "assistant_tool");
        assert_eq!(a.kind.target(), "claude/Agent");
        a.kind.validate().unwrap();
        let back: Action = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);

        let long = "x".repeat(MAX_PROMPT_TEXT + 1);
        let p = Prompt::new(&long, &digest).unwrap();
        assert_eq!((p.len, p.text), (long.len() as u64, None));
        assert!(Prompt::new("hi", "not-hex").is_err());
        let lying = Prompt {
            len: 9,
            sha256: digest,
            text: Some("hi".into()),
        };
        assert!(lying.validate().is_err());
        for r in ToolRole::ALL {
            assert_eq!(ToolRole::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn mcp_tool_ref() {
        assert_eq!(
            McpToolRef::parse("github/create_issue").unwrap().tool,
            "create_issue"
        );
        assert!(McpToolRef::parse("github").is_err());
        assert!(McpToolRef::parse("git hub/x").is_err());
    }
}
