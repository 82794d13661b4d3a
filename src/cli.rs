//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Mandate: a runtime authorization broker for AI coding assistants.
#[derive(Debug, Parser)]
#[command(name = "mandate", version, about, long_about = None)]
pub struct Cli {
    /// Data directory (key, database, socket). Default: $MANDATE_HOME, else
    /// $XDG_DATA_HOME/mandate, else ~/.local/share/mandate.
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the broker (Unix socket <data-dir>/mandate.sock and HTTP).
    Serve {
        /// HTTP listen address (port 0 picks a free port and prints it).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Organisation policy directory layered on the shipped profiles.
        #[arg(long, value_name = "DIR")]
        policy_dir: Option<PathBuf>,
        /// Egress proxy listen address (default 127.0.0.1:7879; `off` for none).
        #[arg(long, value_name = "ADDR")]
        proxy_listen: Option<String>,
    },
    /// Store, list and remove secrets that tasks use through placeholders.
    Secret {
        /// Secret command.
        #[command(subcommand)]
        cmd: SecretCmd,
    },
    /// git's credential helper under `mandate run` (speaks git's credential protocol on
    /// stdin/stdout; `mandate run` configures it for the child only).
    GitCredential {
        /// get, store or erase.
        operation: String,
    },
    /// Start, end and inspect tasks.
    Task {
        /// Task command.
        #[command(subcommand)]
        cmd: TaskCmd,
    },
    /// Ask the broker about one action (exit 0 allow, 2 deny, 3 ask).
    Check(CheckArgs),
    /// Actions asked about, waiting for a human's answer (and recent answers).
    Approvals,
    /// Approve an action that was asked about: once, or for the rest of its task.
    Approve {
        /// The approval's id (`apr_…`, from `mandate approvals` or the ask's message).
        id: String,
        /// Approve the same action, with the same arguments, for the rest of the task.
        #[arg(long)]
        for_task: bool,
    },
    /// Deny an action that was asked about.
    Deny {
        /// The approval's id.
        id: String,
    },
    /// Verify, read and export the audit log.
    Audit {
        /// Audit command.
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Answer an assistant's hook (reads its JSON on stdin; used by the hook configuration).
    Hook {
        /// claude, cursor, gemini, codex or copilot.
        assistant: String,
        /// The event name, for assistants whose payload does not carry it.
        event: Option<String>,
    },
    /// Run an assistant under a new task: inject hooks, pass the token, end the task on exit.
    Run(RunArgs),
    /// The kernel sandbox's supervisor and its last step before the workload (started
    /// by `mandate run --sandbox`; not for direct use).
    #[command(hide = true)]
    SandboxExec(SandboxExecArgs),
    /// Write persistent hook configuration for an assistant.
    Install {
        /// claude, cursor, gemini, codex or copilot.
        assistant: String,
        /// user (your home directory) or project (the current directory).
        #[arg(long, value_enum, default_value_t = InstallScope::User)]
        scope: InstallScope,
    },
    /// Remove exactly the hook configuration `mandate install` wrote.
    Uninstall {
        /// claude, cursor, gemini, codex or copilot.
        assistant: String,
        /// user or project.
        #[arg(long, value_enum, default_value_t = InstallScope::User)]
        scope: InstallScope,
    },
    /// Run corpora of agent actions through the decision pipeline and count what is
    /// stopped and what is let through.
    Eval(EvalArgs),
    /// Validate policies and run the golden corpus.
    Policy {
        /// Policy command.
        #[command(subcommand)]
        cmd: PolicyCmd,
    },
}

/// `mandate eval` arguments.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// JSONL corpus files (the format of ../shared/corpus/README.md).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Evaluate under this profile (default develop).
    #[arg(long)]
    pub profile: Option<String>,
    /// List the ids of attacks allowed and of benign actions not allowed.
    #[arg(long)]
    pub misses: bool,
    /// Fail (exit 1) if a figure drops below the thresholds in this TOML file.
    #[arg(long, value_name = "FILE")]
    pub thresholds: Option<PathBuf>,
}

/// `mandate secret ...`
#[derive(Debug, Subcommand)]
pub enum SecretCmd {
    /// Store a secret; its value is read from stdin, never from the command line.
    Set(Box<SecretSetArgs>),
    /// List stored secrets: names, hosts and where they go, never values.
    List,
    /// Remove a secret.
    Rm {
        /// The secret's name.
        name: String,
    },
}

/// `mandate secret set` arguments.
#[derive(Debug, Args)]
pub struct SecretSetArgs {
    /// The name tasks know it by (an environment variable name, e.g. GITHUB_TOKEN).
    pub name: String,
    /// A host (or host:port) the secret may be sent to (repeatable, at least one).
    #[arg(long = "host", value_name = "HOST[:PORT]", required = true)]
    pub hosts: Vec<String>,
    /// The request header it goes in (default Authorization).
    #[arg(long, value_name = "NAME")]
    pub header: Option<String>,
    /// How the header is written, {} standing for the secret (e.g. 'Bearer {}').
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// The query parameter it goes in, instead of a header.
    #[arg(long, value_name = "PARAM")]
    pub query: Option<String>,
    /// The user name git's credential helper answers with (default x-access-token).
    #[arg(long, value_name = "USER")]
    pub git_user: Option<String>,
    /// The value is a GitHub App's private key (PEM): each task gets an installation
    /// token minted from it (one hour, revoked when the task ends), never the key.
    #[arg(long, value_name = "APP_ID", requires = "installation")]
    pub github_app: Option<u64>,
    /// The app's installation id (with --github-app).
    #[arg(long, value_name = "ID", requires = "github_app")]
    pub installation: Option<u64>,
    /// The GitHub API (with --github-app; default https://api.github.com).
    #[arg(
        long,
        value_name = "URL",
        requires = "github_app",
        default_value = "https://api.github.com"
    )]
    pub github_api: String,
    /// A repository the minted token is limited to (repeatable; with --github-app).
    #[arg(long, value_name = "NAME", requires = "github_app")]
    pub repository: Vec<String>,
    /// A permission of the minted token, NAME=read|write|admin (repeatable; with --github-app).
    #[arg(long, value_name = "NAME=LEVEL", requires = "github_app")]
    pub permission: Vec<String>,
}

/// `mandate task ...`
#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Start a task and print its token.
    Start(Box<StartArgs>),
    /// End a task and revoke its token.
    End {
        /// The task id.
        id: String,
        /// Why the task ended, for its timeline (default: "ended by the delegator").
        #[arg(long)]
        reason: Option<String>,
    },
    /// List recent tasks.
    List {
        /// How many tasks to list, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show a task and the timeline of its decisions.
    Show {
        /// The task id.
        id: String,
    },
}

/// `mandate task start` arguments.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Policy profile: read-only, develop, build, release (or an organisation profile).
    #[arg(long, default_value = "develop")]
    pub profile: String,
    /// The repository the task works in.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// What the task is for.
    #[arg(long)]
    pub purpose: String,
    /// How long the task lives (e.g. 30m, 2h).
    #[arg(long)]
    pub ttl: Option<String>,
    /// The agent acting (e.g. claude-code@laptop).
    #[arg(long)]
    pub agent: Option<String>,
    /// A host the task may reach (repeatable; *.example.com for subdomains).
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// A path glob the task may read even if sensitive (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub allow_read: Vec<String>,
    /// A path glob outside the repository the task may write (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub allow_write: Vec<String>,
    /// A branch pattern the task may push to (repeatable; default mandate/*).
    #[arg(long, value_name = "PATTERN")]
    pub branch: Vec<String>,
    /// An MCP tool the task may call, server/tool (repeatable; * allowed).
    #[arg(long, value_name = "SERVER/TOOL")]
    pub allow_tool: Vec<String>,
    /// A stored secret the task may use through its placeholder (repeatable).
    #[arg(long, value_name = "NAME")]
    pub secret: Vec<String>,
}

/// `mandate check` arguments.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["shell", "read", "write", "fetch", "mcp"])))]
pub struct CheckArgs {
    /// The task token (default $MANDATE_TOKEN).
    #[arg(long)]
    pub token: Option<String>,
    /// The directory the action runs in (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// A shell command line.
    #[arg(long, value_name = "CMD")]
    pub shell: Option<String>,
    /// A file to read.
    #[arg(long, value_name = "PATH")]
    pub read: Option<String>,
    /// A file to write.
    #[arg(long, value_name = "PATH")]
    pub write: Option<String>,
    /// A URL to fetch.
    #[arg(long, value_name = "URL")]
    pub fetch: Option<String>,
    /// The HTTP method for --fetch.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// An MCP tool call, server/tool.
    #[arg(long, value_name = "SERVER/TOOL")]
    pub mcp: Option<String>,
    /// The MCP call's arguments (JSON).
    #[arg(long, value_name = "JSON")]
    pub args: Option<String>,
}

/// `mandate run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Policy profile.
    #[arg(long, default_value = "develop")]
    pub profile: String,
    /// What the session is for (default: "<assistant> session").
    #[arg(long)]
    pub purpose: Option<String>,
    /// The repository (default: the current directory).
    #[arg(long)]
    pub repo: Option<PathBuf>,
    /// How long the task may live (e.g. 2h).
    #[arg(long)]
    pub ttl: Option<String>,
    /// A host the task may reach (repeatable).
    #[arg(long, value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// An MCP tool the task may call, server/tool (repeatable).
    #[arg(long, value_name = "SERVER/TOOL")]
    pub allow_tool: Vec<String>,
    /// A branch pattern the task may push to (repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub branch: Vec<String>,
    /// A stored secret the session may use: its environment gets a placeholder that
    /// the egress proxy swaps for the value, towards the secret's hosts only (repeatable).
    #[arg(long, value_name = "NAME")]
    pub secret: Vec<String>,
    /// Run it in the kernel sandbox (Linux): Landlock, a network namespace whose only
    /// way out is the egress proxy, seccomp. Refuses to start when the kernel lacks a
    /// layer, unless `--sandbox=best-effort`.
    #[arg(long, value_enum, value_name = "MODE", num_args = 0..=1, default_missing_value = "enforce")]
    pub sandbox: Option<SandboxMode>,
    /// The assistant and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// How `mandate run --sandbox` treats a missing kernel feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SandboxMode {
    /// Refuse to start without every layer.
    Enforce,
    /// Start with the layers the kernel has, and say so in every record of the task.
    BestEffort,
}

/// `mandate sandbox-exec`: stage one (supervisor) or, with `--enforce`, stage two.
#[derive(Debug, Args)]
pub struct SandboxExecArgs {
    /// The plan `mandate run --sandbox` wrote.
    #[arg(long, value_name = "FILE")]
    pub plan: PathBuf,
    /// Stage two: restrict this process and exec the command.
    #[arg(long)]
    pub enforce: bool,
    /// Stage two: the descriptor on which the supervisor waits for the listener of the
    /// notification filter.
    #[arg(long, value_name = "FD")]
    pub notify_fd: Option<i32>,
    /// The workload.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// Where `mandate install` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InstallScope {
    /// The user's configuration in the home directory.
    User,
    /// The project's configuration in the current directory.
    Project,
}

/// `mandate audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain and signed checkpoints; exits non-zero naming the first bad record.
    Verify,
    /// Print the last records.
    Tail {
        /// How many records to print, ending with the newest.
        #[arg(short, default_value_t = 20)]
        n: u32,
    },
    /// Write the log as JSON lines.
    Export {
        /// ocsf (OCSF 1.8 events) or jsonl (raw records).
        #[arg(long, value_enum, default_value_t = ExportFormat::Ocsf)]
        format: ExportFormat,
        /// Start at this sequence number.
        #[arg(long, default_value_t = 1)]
        since: i64,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// OCSF 1.8 JSONL.
    Ocsf,
    /// Mandate's own records, JSONL.
    Jsonl,
}

/// `mandate policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Validate the shipped profiles plus an organisation policy directory.
    Validate {
        /// The organisation policy directory (default: the configured one).
        dir: Option<PathBuf>,
    },
    /// Run a golden corpus of request → expected decision files.
    Test {
        /// The corpus directory (default tests/policy).
        dir: Option<PathBuf>,
    },
}
