//! The golden policy corpus runner (`mandate policy test`).
//!
//! A corpus is a directory of JSON files, each an array of cases. A case builds a
//! scratch repository, starts a task under a profile, runs one action through the real
//! analysis and policy, and compares the decision:
//!
//! ```json
//! {"name": "reading .env is denied", "profile": "develop",
//!  "files": {".env": "TOKEN=x"}, "symlinks": {"link": "$ROOT/secret"},
//!  "git": {"branch": "mandate/fix", "remotes": {"origin": "https://github.com/a/b.git"}},
//!  "task": {"allow_hosts": ["api.example.com"]},
//!  "action": {"shell": "cat .env", "cwd": "$REPO"},
//!  "expect": "deny", "reasons": ["develop.read.sensitive"]}
//! ```
//!
//! One of an assistant's own tools is `"action": {"assistant_tool": "claude/CronCreate",
//! "role": "schedule", "args": {…}}` (roles: schedule, delegate, worktree, bookkeeping,
//! unknown; a worktree may name its `"path"`).
//!
//! Placeholders in strings: `$REPO` (the case's repository), `$ROOT` (its parent,
//! outside the repository), `$HOME` (a scratch home), `$TMP` (a scratch temp dir).
//! `expect` may be a list (`["ask", "deny"]`) when either is acceptable.
//!
//! Further setup, for cases whose decision depends on what is on disk:
//!
//! ```json
//! {"home_files": {".ssh/id_ed25519": "KEY", ".bashrc": "# rc"},
//!  "hardlinks": {"notes.txt": ".env"},
//!  "copies": {"bin/c": "/usr/bin/curl"},
//!  "modes": {"bin/c": "755", "s.sh": "755"}}
//! ```
//!
//! `home_files` are written under the scratch `$HOME` (paths relative to it; the scratch
//! home is shared by every case of a run). `hardlinks` maps a new path to an existing file
//! (created with `std::fs::hard_link`); `copies` maps a new path to a file to copy (a real
//! system binary, say). Their keys are in the repository unless they start with `$`, and
//! relative targets are in the repository too. `modes` sets octal permission bits (a
//! string, as JSON has no octal numbers) on a path, after everything else is created.
//! The order of creation is files, home files, copies, hard links, symlinks, git, modes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mandate_analysis::Environment;
use mandate_types::{
    AbsPath, Action, ActionKind, AgentId, BranchPattern, HostPattern, HttpMethod, Mandate,
    McpToolPattern, McpToolRef, PathGlob, PrincipalId, ProfileName, Purpose, Scope, TaskId,
    ToolRole, Url, Verdict,
};
use serde::Deserialize;

use mandate_broker::Engine;
use mandate_broker::provenance::Trust;

use crate::EvalError;

/// Who made a case's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilesBy {
    /// They were in the repository before the task started.
    #[default]
    Repository,
    /// The task wrote them.
    Task,
}

/// One golden case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What it checks.
    pub name: String,
    pub profile: String,
    /// Files to create in the repository (path → content).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Symlinks to create (link path in the repository → target).
    #[serde(default)]
    pub symlinks: BTreeMap<String, String>,
    /// Files to create under the scratch `$HOME` (path relative to it → content).
    #[serde(default)]
    pub home_files: BTreeMap<String, String>,
    /// Hard links to create (new path → existing file).
    #[serde(default)]
    pub hardlinks: BTreeMap<String, String>,
    /// Files to copy (new path → source, such as `/usr/bin/curl`).
    #[serde(default)]
    pub copies: BTreeMap<String, String>,
    /// Permission bits to set (path → octal string such as `"755"`).
    #[serde(default)]
    pub modes: BTreeMap<String, String>,
    /// Who made the case's files: `repository` (default: they were there before the task
    /// started, as a checkout is) or `task` (the task wrote them, so what runs from them is
    /// judged by content).
    #[serde(default)]
    pub files_by: FilesBy,
    /// Git metadata to write.
    #[serde(default)]
    pub git: Option<GitSetup>,
    /// Extra scope.
    #[serde(default)]
    pub task: TaskSetup,
    pub action: CaseAction,
    /// The expected verdict (or several acceptable ones).
    pub expect: Expect,
    /// Policy ids that must be among the reasons.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Labels the task has already seen (`secret`, ...).
    #[serde(default)]
    pub flow: Vec<String>,
    /// Content the task has already seen, for value provenance.
    #[serde(default)]
    pub seen: Vec<SeenContent>,
}

/// Content a case's task has seen before its action: `{"untrusted": "text"}`,
/// `{"trusted": "text"}`, `{"prompt": "the user's words"}`, `{"secret": "value"}`, or
/// a tool's structured output (JSON or YAML records) from a source the operator trusts
/// or not: `{"trusted_records": "..."}`, `{"untrusted_records": "..."}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum SeenContent {
    Trusted(String),
    Prompt(String),
    Untrusted(String),
    Secret(String),
    TrustedRecords(String),
    UntrustedRecords(String),
}

/// Git files for a case.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GitSetup {
    /// The current branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// Remotes by name.
    #[serde(default)]
    pub remotes: BTreeMap<String, String>,
}

/// Scope additions for a case.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TaskSetup {
    /// Hosts.
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    /// Readable globs.
    #[serde(default)]
    pub allow_read: Vec<String>,
    /// Writable globs.
    #[serde(default)]
    pub allow_write: Vec<String>,
    /// Branch patterns.
    #[serde(default)]
    pub branches: Vec<String>,
    #[serde(default)]
    pub mcp_tools: Vec<String>,
}

/// The action of a case: exactly one of the kinds.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CaseAction {
    /// A shell command.
    #[serde(default)]
    pub shell: Option<String>,
    /// A file read.
    #[serde(default)]
    pub read: Option<String>,
    /// A file write.
    #[serde(default)]
    pub write: Option<String>,
    /// What the file write puts into the file.
    #[serde(default)]
    pub content: Option<String>,
    /// An HTTP request URL.
    #[serde(default)]
    pub fetch: Option<String>,
    /// Its method (default GET).
    #[serde(default)]
    pub method: Option<String>,
    /// An MCP tool, `server/tool`.
    #[serde(default)]
    pub mcp: Option<String>,
    /// MCP arguments.
    #[serde(default)]
    pub args: Option<serde_json::Value>,
    /// The MCP tool's annotation (`read`, `read_external`, `write`, `egress`).
    #[serde(default)]
    pub annotation: Option<String>,
    /// One of an assistant's own tools, `assistant/tool` (its input is `args`).
    #[serde(default)]
    pub assistant_tool: Option<String>,
    /// The assistant tool's role (`schedule`, `delegate`, `worktree`, `bookkeeping`,
    /// `unknown`).
    #[serde(default)]
    pub role: Option<String>,
    /// The directory a worktree tool names.
    #[serde(default)]
    pub path: Option<String>,
    /// The working directory (default `$REPO`).
    #[serde(default)]
    pub cwd: Option<String>,
}

/// One verdict or a list of acceptable ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Expect {
    /// Exactly this.
    One(Verdict),
    /// Any of these.
    Any(Vec<Verdict>),
}

impl Expect {
    fn accepts(&self, v: Verdict) -> bool {
        match self {
            Expect::One(x) => *x == v,
            Expect::Any(xs) => xs.contains(&v),
        }
    }
}

/// The result of one case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The file it came from.
    pub file: String,
    /// The case name.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// What went wrong, if anything.
    pub detail: String,
    /// The decision, when the case got as far as one.
    pub verdict: Option<Verdict>,
    /// The policy ids among the decision's reasons.
    pub reasons: Vec<String>,
    /// The effects the analysis found, with the scratch paths written back as `$REPO`,
    /// `$ROOT`, `$HOME` and `$TMP`.
    pub effects: Vec<String>,
}

/// What one case's action was decided as.
#[derive(Debug, Clone, Default)]
struct Seen {
    verdict: Option<Verdict>,
    reasons: Vec<String>,
    effects: Vec<String>,
}

/// Scratch directories for a corpus run.
#[derive(Debug)]
pub struct Scratch {
    root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Scratch {
    /// Creates the scratch tree; returns it with the environment to build the engine with.
    pub fn new() -> std::io::Result<(Self, Environment)> {
        let dir = tempfile::tempdir()?;
        let root = mandate_analysis::resolve(dir.path());
        std::fs::create_dir_all(root.join("home"))?;
        std::fs::create_dir_all(root.join("tmp"))?;
        let env = Environment {
            home: root.join("home"),
            temp_dirs: vec![root.join("tmp")],
            mandate_dirs: vec![root.join("home/.local/share/mandate")],
        };
        Ok((Self { root, _dir: dir }, env))
    }
}

fn bad_mode(mode: &str, e: &std::num::ParseIntError) -> String {
    format!("bad case field modes: {mode:?} is not an octal mode: {e}")
}

fn subst(s: &str, case_root: &Path, scratch: &Path) -> String {
    s.replace("$REPO", &case_root.join("repo").to_string_lossy())
        .replace("$ROOT", &case_root.to_string_lossy())
        .replace("$HOME", &scratch.join("home").to_string_lossy())
        .replace("$TMP", &scratch.join("tmp").to_string_lossy())
}

/// The inverse of [`subst`], for showing effects without the scratch directory's name.
fn unsubst(s: &str, case_root: &Path, scratch: &Path) -> String {
    s.replace(&*case_root.join("repo").to_string_lossy(), "$REPO")
        .replace(&*case_root.to_string_lossy(), "$ROOT")
        .replace(&*scratch.join("home").to_string_lossy(), "$HOME")
        .replace(&*scratch.join("tmp").to_string_lossy(), "$TMP")
}

/// Loads every case of a corpus directory, with its file name.
pub fn load_corpus(dir: &Path) -> Result<Vec<(String, Case)>, EvalError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| EvalError::read(dir, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| EvalError::read(&f, e))?;
        let cases: Vec<Case> =
            serde_json::from_str(&text).map_err(|e| EvalError::parse(&f, Some(e.line()), e))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.extend(cases.into_iter().map(|c| (name.clone(), c)));
    }
    Ok(out)
}

/// Runs a corpus with an engine built over the scratch environment.
pub fn run_corpus(cases: &[(String, Case)], engine: &Engine, scratch: &Scratch) -> Vec<CaseResult> {
    cases
        .iter()
        .enumerate()
        .map(|(i, (file, case))| {
            let mut seen = Seen::default();
            let r = run_case(i, case, engine, scratch, &mut seen);
            CaseResult {
                file: file.clone(),
                name: case.name.clone(),
                passed: r.is_ok(),
                detail: r.err().unwrap_or_default(),
                verdict: seen.verdict,
                reasons: seen.reasons,
                effects: seen.effects,
            }
        })
        .collect()
}

/// A case path: in the repository unless it starts with a placeholder.
fn place(path: &str, repo: &Path, s: &dyn Fn(&str) -> String) -> PathBuf {
    if path.starts_with('$') {
        PathBuf::from(s(path))
    } else {
        repo.join(path)
    }
}

fn make_parent(p: &Path) -> std::io::Result<()> {
    match p.parent() {
        Some(parent) => std::fs::create_dir_all(parent),
        None => Ok(()),
    }
}

fn bad(what: &str, e: impl std::fmt::Display) -> String {
    format!("bad case field {what}: {e}")
}

/// Creates the case's repository, home files, copies, links, git metadata and modes.
fn set_up(case: &Case, repo: &Path, case_root: &Path, scratch: &Scratch) -> Result<(), String> {
    let io = |e: std::io::Error| format!("setup: {e}");
    std::fs::create_dir_all(repo).map_err(io)?;
    let s = |x: &str| subst(x, case_root, &scratch.root);
    for (path, content) in &case.files {
        let p = place(path, repo, &s);
        make_parent(&p).map_err(io)?;
        std::fs::write(&p, content).map_err(io)?;
    }
    let home = scratch.root.join("home");
    for (path, content) in &case.home_files {
        let p = home.join(path);
        make_parent(&p).map_err(io)?;
        std::fs::write(&p, content).map_err(io)?;
    }
    for (path, source) in &case.copies {
        let p = place(path, repo, &s);
        let from = place(source, repo, &s);
        make_parent(&p).map_err(io)?;
        std::fs::copy(&from, &p)
            .map_err(|e| format!("setup: copying {} to {path}: {e}", from.display()))?;
    }
    for (path, target) in &case.hardlinks {
        let p = place(path, repo, &s);
        let to = place(target, repo, &s);
        make_parent(&p).map_err(io)?;
        std::fs::hard_link(&to, &p)
            .map_err(|e| format!("setup: hard link {path} → {}: {e}", to.display()))?;
    }
    for (link, target) in &case.symlinks {
        let l = repo.join(link);
        if let Some(parent) = l.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::os::unix::fs::symlink(s(target), &l).map_err(io)?;
    }
    if let Some(g) = &case.git {
        let gd = repo.join(".git");
        std::fs::create_dir_all(&gd).map_err(io)?;
        let branch = g.branch.clone().unwrap_or_else(|| "main".into());
        std::fs::write(gd.join("HEAD"), format!("ref: refs/heads/{branch}\n")).map_err(io)?;
        let mut config = String::from("[core]\n\tbare = false\n");
        for (name, url) in &g.remotes {
            config.push_str(&format!("[remote \"{name}\"]\n\turl = {url}\n"));
        }
        std::fs::write(gd.join("config"), config).map_err(io)?;
    }
    for (path, mode) in &case.modes {
        use std::os::unix::fs::PermissionsExt as _;
        let bits = u32::from_str_radix(mode, 8).map_err(|e| bad_mode(mode, &e))?;
        std::fs::set_permissions(place(path, repo, &s), std::fs::Permissions::from_mode(bits))
            .map_err(io)?;
    }
    Ok(())
}

/// The task the case describes, over its repository.
fn case_mandate(
    i: usize,
    case: &Case,
    repo: &Path,
    s: &dyn Fn(&str) -> String,
) -> Result<Mandate, String> {
    let mut hosts: Vec<HostPattern> = case
        .task
        .allow_hosts
        .iter()
        .map(|h| HostPattern::parse(h).map_err(|e| bad("allow_hosts", e.to_string())))
        .collect::<Result<_, _>>()?;
    for h in mandate_analysis::git::remote_hosts(repo) {
        hosts.extend(HostPattern::parse(&h).ok());
    }
    let globs = |v: &[String]| -> Result<Vec<PathGlob>, String> {
        v.iter()
            .map(|g| PathGlob::parse(&s(g)).map_err(|e| bad("glob", e.to_string())))
            .collect()
    };
    let mut branches: Vec<BranchPattern> = case
        .task
        .branches
        .iter()
        .map(|b| BranchPattern::parse(b).map_err(|e| bad("branches", e.to_string())))
        .collect::<Result<_, _>>()?;
    if branches.is_empty() {
        branches
            .push(BranchPattern::parse("mandate/*").map_err(|e| bad("branches", e.to_string()))?);
    }
    Ok(Mandate {
        task: TaskId::parse(&format!("task_case{i}")).map_err(|e| bad("task", e.to_string()))?,
        delegator: PrincipalId::parse("user:golden")
            .map_err(|e| bad("delegator", e.to_string()))?,
        agent: AgentId::parse("golden-agent").map_err(|e| bad("agent", e.to_string()))?,
        purpose: Purpose::parse(&case.name).map_err(|e| bad("name", e.to_string()))?,
        profile: ProfileName::parse(&case.profile).map_err(|e| bad("profile", e.to_string()))?,
        scope: Scope {
            repos: vec![AbsPath::from_path("repo", repo).map_err(|e| bad("repo", e.to_string()))?],
            read: globs(&case.task.allow_read)?,
            write: globs(&case.task.allow_write)?,
            hosts,
            secrets: Vec::new(),
            mcp_tools: case
                .task
                .mcp_tools
                .iter()
                .map(|t| McpToolPattern::parse(t).map_err(|e| bad("mcp_tools", e.to_string())))
                .collect::<Result<_, _>>()?,
            branches,
            remotes: mandate_analysis::git::task_remotes(repo, Path::new(&s("$HOME"))),
        },
        // Files older than the mandate were there before the task (see
        // mandate-analysis's `runs`): a case whose files the task wrote starts its task at
        // the epoch, the others far in the future.
        issued_at: match case.files_by {
            FilesBy::Task => 0,
            FilesBy::Repository => i64::from(u32::MAX),
        },
        expires_at: i64::MAX,
        parent: None,
        sandbox: None,
    })
}

/// The case's assistant tool, `assistant/tool`, of role `a.role`.
fn assistant_tool(
    a: &CaseAction,
    name: &str,
    s: &dyn Fn(&str) -> String,
) -> Result<ActionKind, String> {
    let (assistant, tool) = name
        .split_once('/')
        .ok_or_else(|| bad("assistant_tool", "must look like assistant/tool"))?;
    let role = a.role.as_deref().and_then(ToolRole::parse).ok_or_else(|| {
        bad(
            "role",
            "schedule, delegate, worktree, bookkeeping or unknown",
        )
    })?;
    let kind = ActionKind::AssistantTool {
        assistant: assistant.to_owned(),
        tool: tool.to_owned(),
        role,
        prompt: None,
        path: a.path.as_deref().map(s),
        input: a.args.clone().unwrap_or(serde_json::Value::Null),
    };
    kind.validate().map_err(|e| bad("action", e))?;
    Ok(kind)
}

/// The case's action.
fn case_action(a: &CaseAction, s: &dyn Fn(&str) -> String) -> Result<ActionKind, String> {
    if let Some(name) = &a.assistant_tool {
        return match (&a.shell, &a.read, &a.write, &a.fetch, &a.mcp) {
            (None, None, None, None, None) => assistant_tool(a, name, s),
            _ => Err(bad(
                "action",
                "give exactly one of shell, read, write, fetch, mcp, assistant_tool",
            )),
        };
    }
    match (&a.shell, &a.read, &a.write, &a.fetch, &a.mcp) {
        (Some(c), None, None, None, None) => ActionKind::shell(&s(c)),
        (None, Some(p), None, None, None) => ActionKind::file_read(&s(p)),
        (None, None, Some(p), None, None) => {
            ActionKind::file_write_content(&s(p), a.content.as_deref())
        }
        (None, None, None, Some(u), None) => {
            HttpMethod::parse(a.method.as_deref().unwrap_or("GET")).and_then(|m| {
                Ok(ActionKind::Http {
                    method: m,
                    url: Url::parse(&s(u))?,
                })
            })
        }
        (None, None, None, None, Some(t)) => McpToolRef::parse(t).map(|tool| ActionKind::McpCall {
            tool,
            args: a.args.clone().unwrap_or(serde_json::Value::Null),
            annotation: a
                .annotation
                .as_deref()
                .and_then(mandate_types::ToolAnnotation::parse),
        }),
        _ => {
            return Err(bad(
                "action",
                "give exactly one of shell, read, write, fetch, mcp, assistant_tool",
            ));
        }
    }
    .map_err(|e| bad("action", e))
}

fn run_case(
    i: usize,
    case: &Case,
    engine: &Engine,
    scratch: &Scratch,
    seen: &mut Seen,
) -> Result<(), String> {
    let case_root = scratch.root.join(format!("cases/{i}"));
    let repo = case_root.join("repo");
    let s = |x: &str| subst(x, &case_root, &scratch.root);
    set_up(case, &repo, &case_root, scratch)?;
    let mandate = case_mandate(i, case, &repo, &s)?;
    let state = engine.task(Arc::new(mandate)).map_err(|e| e.to_string())?;
    for l in &case.flow {
        let label = mandate_types::Label::parse(l).ok_or_else(|| bad("flow", l.clone()))?;
        state.add_flow(mandate_types::Labels::of(label));
    }
    let key = engine.value_key();
    for c in &case.seen {
        match c {
            SeenContent::Trusted(t) => {
                state.learn(key, Trust::Trusted, &s(t), "case");
            }
            SeenContent::Prompt(t) => {
                state.learn_words(key, &s(t));
            }
            SeenContent::Untrusted(t) => {
                state.learn(key, Trust::Untrusted, &s(t), "case");
                state.add_flow(mandate_types::Labels::of(mandate_types::Label::Untrusted));
            }
            SeenContent::TrustedRecords(t) => {
                state.learn_shaped(key, Trust::Trusted, &s(t), "case", true);
            }
            SeenContent::UntrustedRecords(t) => {
                state.learn_shaped(key, Trust::Untrusted, &s(t), "case", true);
                state.add_flow(mandate_types::Labels::of(mandate_types::Label::Untrusted));
            }
            SeenContent::Secret(v) => {
                state.learn_secrets(key, [v.as_str()]);
                state.add_flow(mandate_types::Labels::of(mandate_types::Label::Secret));
            }
        }
    }
    let a = &case.action;
    let kind = case_action(a, &s)?;
    let cwd = s(a.cwd.as_deref().unwrap_or("$REPO"));
    let cwd = AbsPath::parse("cwd", &cwd).map_err(|e| bad("cwd", e.to_string()))?;
    let out = engine.decide(&state, &Action { kind, cwd });
    let got_ids: Vec<&str> = out.reasons.iter().map(|r| r.policy.as_str()).collect();
    let effects: Vec<String> = out.effects.iter().map(|e| e.to_string()).collect();
    seen.verdict = Some(out.verdict);
    seen.reasons = got_ids.iter().map(|&r| r.to_owned()).collect();
    seen.effects = effects
        .iter()
        .map(|e| unsubst(e, &case_root, &scratch.root))
        .collect();
    if !case.expect.accepts(out.verdict) {
        return Err(format!(
            "expected {:?}, got {} (reasons: {}; effects: {})",
            case.expect,
            out.verdict,
            got_ids.join(", "),
            effects.join(", ")
        ));
    }
    for want in &case.reasons {
        if !got_ids.contains(&want.as_str()) {
            return Err(format!(
                "expected reason {want} among [{}] (effects: {})",
                got_ids.join(", "),
                effects.join(", ")
            ));
        }
    }
    Ok(())
}
