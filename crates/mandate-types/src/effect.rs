//! Effects: the normalised consequences of an action, with the facts policy decides on.
//!
//! Analysis turns one action into effects (a shell pipeline can read a file, write another
//! and reach a host). Each effect carries the facts a policy needs, computed once by
//! analysis (which may touch the filesystem): the policy layer itself does no I/O.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Labels;

/// Where a path lies relative to the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathZone {
    /// Inside one of the task's repositories.
    Repo,
    /// A temporary directory (`/tmp`, `/var/tmp`, `$TMPDIR`).
    Temp,
    /// Under the user's home, outside the repositories.
    Home,
    /// A system location (`/usr`, `/etc`, `/opt`, `/proc`, ...).
    System,
    /// Anywhere else.
    Other,
    /// The path could not be worked out (it depends on a variable or a failed `cd`).
    Unknown,
}

impl PathZone {
    /// The zone's name as used in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Repo => "repo",
            Self::Temp => "temp",
            Self::Home => "home",
            Self::System => "system",
            Self::Other => "other",
            Self::Unknown => "unknown",
        }
    }
}

/// Paths with a role of their own, whatever their zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialPath {
    /// Nothing special.
    None,
    /// CI configuration (`.github/workflows/**`, `.gitlab-ci.yml`, ...).
    CiConfig,
    /// Git hooks (`.git/hooks/**`, `.husky/**`).
    GitHook,
    /// Git's own state under `.git/` (config, refs, objects).
    GitInternal,
    /// An assistant's own configuration (`.claude/settings*.json`, `.mcp.json`, ...),
    /// which can disable hooks or add tools.
    AgentConfig,
    /// Files that run at login or on a schedule (`~/.bashrc`, crontabs, systemd units).
    Persistence,
    /// Mandate's own data and policy directories.
    MandateData,
    /// The machine's own configuration and state (`/etc`, `/root`, `/proc`, `/sys`,
    /// `/var/log`, `/var/lib`, ...): nothing a coding task reads.
    SystemState,
}

impl SpecialPath {
    /// The name as used in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::CiConfig => "ci_config",
            Self::GitHook => "git_hook",
            Self::GitInternal => "git_internal",
            Self::AgentConfig => "agent_config",
            Self::Persistence => "persistence",
            Self::MandateData => "mandate_data",
            Self::SystemState => "system_state",
        }
    }
}

/// Facts about one file an effect touches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileFacts {
    /// The resolved absolute path (`~`, `..`, relative parts and symlinks resolved), or
    /// the text as written when it could not be resolved.
    pub path: String,
    /// Where it lies.
    pub zone: PathZone,
    /// Its sensitivity labels.
    pub labels: Labels,
    /// Its special role, if any.
    pub special: SpecialPath,
    /// Whether the task's scope names it explicitly (read or write globs).
    pub in_scope: bool,
}

/// Facts about a network destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostFacts {
    /// The host name or IP.
    pub host: String,
    /// The port (0 when unknown).
    pub port: u16,
    /// Named by the task's scope.
    pub in_scope: bool,
    /// A well-known package registry (downloads for builds).
    pub registry: bool,
    /// The local machine.
    pub loopback: bool,
}

/// Facts about a `git push`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PushFacts {
    /// The URL or path pushed to (the remote's name or the text as written when it
    /// could not be resolved).
    pub remote: String,
    /// The destination branch, when it could be determined.
    pub branch: Option<String>,
    /// Whether the branch matches the task's branch patterns.
    pub branch_in_scope: bool,
    /// A force push (`--force`, `-f`, `+refspec`, `--mirror`, `--delete`).
    pub force: bool,
    /// The push sends a tag (`refs/tags/...`, `--tags`).
    pub tag: bool,
    /// The push goes to one of the task's remotes (the repository's remotes when the
    /// task started; see [`Scope::allows_remote`](crate::Scope::allows_remote)).
    #[serde(default)]
    pub remote_in_scope: bool,
}

/// What kind of program an `exec` runs, from the program knowledge base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramClass {
    /// Reads and inspects (cat, ls, grep, git status).
    Inspect,
    /// Edits files (sed, cp, mv, touch, mkdir, rm).
    Edit,
    /// Builds and tests (cargo, make, npm, pytest).
    Build,
    /// Version control (git).
    Vcs,
    /// Network clients (curl, ssh).
    Network,
    /// Shells and interpreters (bash, python).
    Interpreter,
    /// Package managers installing software.
    Package,
    /// System administration (systemctl, mount, iptables).
    System,
    /// Privilege changes (sudo, su, doas).
    Privilege,
    /// Not in the knowledge base.
    Unknown,
}

impl ProgramClass {
    /// The name as used in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inspect => "inspect",
            Self::Edit => "edit",
            Self::Build => "build",
            Self::Vcs => "vcs",
            Self::Network => "network",
            Self::Interpreter => "interpreter",
            Self::Package => "package",
            Self::System => "system",
            Self::Privilege => "privilege",
            Self::Unknown => "unknown",
        }
    }
}

/// One normalised consequence of an action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// A program runs.
    Exec {
        /// The program name (basename of argv\[0\]), or `?` if computed at run time.
        program: String,
        class: ProgramClass,
    },
    /// A file is read.
    Read(FileFacts),
    /// A file is created or modified.
    Write(FileFacts),
    /// A file is deleted.
    Delete(FileFacts),
    /// A connection is opened (download, query).
    Connect(HostFacts),
    /// Data is sent to a host; `labels` are those of the data sent.
    Send {
        /// The destination.
        to: HostFacts,
        /// Labels of the data that leaves.
        labels: Labels,
    },
    /// Commits are pushed.
    Push(PushFacts),
    /// Code is downloaded from a host and run (`pip install git+URL`, `npm i URL`,
    /// `go run example.com/x@latest`, `docker run IMAGE`).
    RunRemote(HostFacts),
    /// An MCP tool is called.
    CallTool {
        server: String,
        tool: String,
        /// Whether the task's scope names the tool.
        in_scope: bool,
        /// What the tool does, if declared.
        annotation: Option<crate::ToolAnnotation>,
    },
    /// Privileges change (sudo, su, doas, setuid).
    Privilege {
        /// The program that changes them.
        program: String,
    },
    /// Code decoded or assembled at run time is executed (base64 into a shell, hex
    /// escapes in a command name, IFS tricks).
    Obfuscated {
        /// How, in words.
        reason: String,
    },
    /// The action could not be analysed; it is never allowed silently.
    Unparseable {
        /// Why, in words.
        reason: String,
    },
    /// One of the assistant's own tools schedules work to run later (a cron job, a
    /// wake-up, a remote trigger): work that would outlive the task's mandate.
    Schedule {
        /// The assistant's command-line name.
        assistant: String,
        /// The tool.
        tool: String,
    },
    /// One of the assistant's own tools hands work to another agent (a sub-agent, a
    /// workflow, a skill, a message to an agent or a session).
    Delegate {
        /// The assistant's command-line name.
        assistant: String,
        /// The tool.
        tool: String,
    },
    /// One of the assistant's own bookkeeping tools (a to-do list, plan mode, a question
    /// to the user): nothing outside the assistant changes.
    Bookkeeping {
        /// The assistant's command-line name.
        assistant: String,
        /// The tool.
        tool: String,
    },
}

impl Effect {
    /// The effect's kind name (`exec`, `read`, ...), also the Cedar action id.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Exec { .. } => "exec",
            Self::Read(_) => "read",
            Self::Write(_) => "write",
            Self::Delete(_) => "delete",
            Self::Connect(_) => "connect",
            Self::Send { .. } => "send",
            Self::Push(_) => "push",
            Self::RunRemote(_) => "run_remote",
            Self::CallTool { .. } => "call_tool",
            Self::Privilege { .. } => "privilege",
            Self::Obfuscated { .. } => "obfuscated_exec",
            Self::Unparseable { .. } => "unparseable",
            Self::Schedule { .. } => "schedule",
            Self::Delegate { .. } => "delegate",
            Self::Bookkeeping { .. } => "bookkeeping",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = |f: &mut fmt::Formatter<'_>, name: &str, x: &FileFacts| {
            write!(f, "{name}({})", x.path)?;
            if !x.labels.is_empty() {
                write!(f, "[{}]", x.labels)?;
            }
            Ok(())
        };
        match self {
            Self::Exec { program, .. } => write!(f, "exec({program})"),
            Self::Read(x) => file(f, "read", x),
            Self::Write(x) => file(f, "write", x),
            Self::Delete(x) => file(f, "delete", x),
            Self::Connect(h) => write!(f, "connect({}:{})", h.host, h.port),
            Self::Send { to, labels } => write!(f, "send({}:{}, [{labels}])", to.host, to.port),
            Self::Push(p) => write!(
                f,
                "push({} {})",
                p.remote,
                p.branch.as_deref().unwrap_or("?")
            ),
            Self::CallTool { server, tool, .. } => write!(f, "call_tool({server}/{tool})"),
            Self::RunRemote(h) => write!(f, "run_remote({}:{})", h.host, h.port),
            Self::Privilege { program } => write!(f, "privilege({program})"),
            Self::Obfuscated { reason } => write!(f, "obfuscated_exec({reason})"),
            Self::Unparseable { reason } => write!(f, "unparseable({reason})"),
            Self::Schedule { assistant, tool }
            | Self::Delegate { assistant, tool }
            | Self::Bookkeeping { assistant, tool } => {
                write!(f, "{}({assistant}/{tool})", self.kind())
            }
        }
    }
}
