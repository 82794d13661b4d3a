//! Analysis: one action under one task's mandate → effects with the facts policy needs.
//!
//! This is the only layer below the broker that touches the filesystem: it resolves paths
//! (`~`, `..`, relative to the cwd, symlinks), expands globs, reads a repository's git
//! config for remotes and labels sensitive paths. Everything it returns is plain data.

#![forbid(unsafe_code)]

mod content;
pub mod git;
pub mod machine;
pub mod paths;
mod runs;
pub mod secrets;
pub mod sensitive;
pub mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use mandate_cache::BoundedCache;
use mandate_shell::{NetTarget, ShellAnalyzer, ShellEffect, ShellPath};
use mandate_types::{
    Action, ActionKind, Effect, FileFacts, Host, HostFacts, HostPattern, Label, Labels, Mandate,
    PathZone, SpecialPath, ToolRole, Url,
};

pub use content::HOME_SECRETS;
pub use paths::{Environment, resolve, resolve_under};
pub use secrets::{SecretRuleError, SecretScanner};
pub use sensitive::{RuleError, SensitivePaths};

/// Most files one glob is expanded to.
const MAX_GLOB_MATCHES: usize = 256;
/// Longest command whose analysis is memoised.
const MAX_MEMO_COMMAND: usize = 4096;
/// Most memoised command analyses.
const MAX_MEMO_ENTRIES: usize = 4096;
/// Most resolved working directories remembered per task.
const MAX_CWDS: usize = 64;

/// Hosts of well-known package registries: downloads from them are ordinary build work.
pub const REGISTRY_HOSTS: &[&str] = &[
    "crates.io",
    "index.crates.io",
    "static.crates.io",
    "static.rust-lang.org",
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "pypi.org",
    "files.pythonhosted.org",
    "proxy.golang.org",
    "sum.golang.org",
    "rubygems.org",
    "index.rubygems.org",
    "repo.maven.apache.org",
    "repo1.maven.org",
    "plugins.gradle.org",
    "services.gradle.org",
    "api.nuget.org",
    "repo.packagist.org",
    "packagist.org",
    "deb.debian.org",
    "security.debian.org",
    "archive.ubuntu.com",
    "security.ubuntu.com",
    "dl-cdn.alpinelinux.org",
    "hackage.haskell.org",
    "registry.bower.io",
    "pkg.go.dev",
    "conda.anaconda.org",
    "repo.anaconda.com",
];

/// One task's mandate with its scope compiled for fast matching. Build it once per task.
#[derive(Debug)]
pub struct TaskView {
    pub mandate: Arc<Mandate>,
    read: GlobSet,
    write: GlobSet,
    /// Working directories as given → resolved, with their zone.
    cwds: BoundedCache<String, (PathBuf, PathZone)>,
}

impl TaskView {
    /// Compiles a mandate's scope. Relative globs are relative to the primary repository.
    pub fn new(mandate: Arc<Mandate>) -> Result<Self, globset::Error> {
        let base = mandate
            .repo()
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default();
        let compile = |globs: &[mandate_types::PathGlob]| -> Result<GlobSet, globset::Error> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                let text = if g.as_str().starts_with('/') {
                    g.as_str().to_owned()
                } else {
                    format!("{base}/{}", g.as_str())
                };
                b.add(GlobBuilder::new(&text).literal_separator(true).build()?);
            }
            b.build()
        };
        Ok(Self {
            read: compile(&mandate.scope.read)?,
            write: compile(&mandate.scope.write)?,
            mandate,
            cwds: BoundedCache::per_task("analysis.cwds", MAX_CWDS),
        })
    }

    /// Forgets remembered working directories (benchmarks measure without them).
    pub fn clear_caches(&self) {
        self.cwds.clear();
    }
}

/// The effects of one action, with the zone of the directory it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// The effects, without duplicates, in the order found.
    pub effects: Vec<Effect>,
    /// Where the action's cwd lies.
    pub cwd_zone: PathZone,
}

/// Turns actions into effects.
#[derive(Debug, Clone)]
pub struct Analyzer {
    shell: ShellAnalyzer,
    sensitive: SensitivePaths,
    env: Environment,
    registries: Vec<HostPattern>,
    /// Command line → shell effects. Shell analysis depends only on the text and the
    /// knowledge base, so repeated commands (`cargo test`) are parsed once.
    memo: BoundedCache<String, Arc<Vec<ShellEffect>>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
    Delete,
}

impl Analyzer {
    /// An analyser with the given parts.
    pub fn new(shell: ShellAnalyzer, sensitive: SensitivePaths, env: Environment) -> Self {
        let registries = REGISTRY_HOSTS
            .iter()
            .filter_map(|h| HostPattern::parse(h).ok())
            .collect();
        Self {
            shell,
            sensitive,
            env,
            registries,
            memo: BoundedCache::new("analysis.shell", MAX_MEMO_ENTRIES),
        }
    }

    /// Forgets memoised shell analyses (benchmarks measure without them).
    pub fn clear_caches(&self) {
        self.memo.clear();
    }

    /// Whether deciding `command` again is bounded work: its parse is memoised and none
    /// of its effects makes the analysis read or walk more (a file it runs, a tree it
    /// archives, a glob, a git remote to resolve). Such a decision can run inline, without
    /// a thread hand-off or a deadline.
    pub fn settled_shell(&self, command: &str) -> bool {
        let Some(effects) = self.memo.get(command) else {
            return false;
        };
        effects.iter().all(|e| match e {
            ShellEffect::Read(p) | ShellEffect::Write(p) | ShellEffect::Delete(p) => !p.glob,
            ShellEffect::Connect { target, .. } => !matches!(target, NetTarget::GitRemote { .. }),
            ShellEffect::Exec { .. }
            | ShellEffect::RunRemote { .. }
            | ShellEffect::Privilege { .. }
            | ShellEffect::Obfuscated { .. }
            | ShellEffect::Unparseable { .. } => true,
            _ => false,
        })
    }

    fn shell_effects(&self, command: &str) -> Arc<Vec<ShellEffect>> {
        if command.len() > MAX_MEMO_COMMAND {
            return Arc::new(self.shell.analyze(command).effects);
        }
        if let Some(hit) = self.memo.get(command) {
            return hit;
        }
        let effects = Arc::new(self.shell.analyze(command).effects);
        self.memo.insert(command.to_owned(), effects.clone());
        effects
    }

    /// The resolved cwd and its zone, remembered per task.
    fn cwd(&self, cwd: &mandate_types::AbsPath, task: &TaskView) -> (PathBuf, PathZone) {
        if let Some(hit) = task.cwds.get(cwd.as_str()) {
            return hit;
        }
        let resolved = resolve(cwd.as_path());
        let zone = paths::zone(&self.env, &task.mandate, &resolved);
        task.cwds
            .insert(cwd.as_str().to_owned(), (resolved.clone(), zone));
        (resolved, zone)
    }

    /// The built-in knowledge base and rules, with the process environment.
    pub fn builtin() -> Self {
        Self::new(
            ShellAnalyzer::default(),
            SensitivePaths::builtin(),
            Environment::from_process(),
        )
    }

    /// The environment paths are classified against.
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// The shell analyser.
    pub fn shell(&self) -> &ShellAnalyzer {
        &self.shell
    }

    /// The labels of a path as written (no resolution).
    pub fn path_labels(&self, path: &str) -> Labels {
        self.sensitive.labels(path)
    }

    /// Analyses one action under a task.
    pub fn analyze(&self, action: &Action, task: &TaskView) -> Analysis {
        let (cwd, cwd_zone) = self.cwd(&action.cwd, task);
        let mut out = Vec::new();
        match &action.kind {
            ActionKind::Shell { command } => {
                let effects = self.shell_effects(command);
                for e in effects.iter() {
                    self.shell_effect(e, &cwd, task, 0, &mut out);
                }
                if effects.is_empty() {
                    out.push(Effect::Exec {
                        program: "bash".into(),
                        class: mandate_types::ProgramClass::Interpreter,
                    });
                }
            }
            ActionKind::FileRead { path } => {
                let sp = plain(path);
                for f in self.files(&sp, &cwd, task, Access::Read) {
                    out.push(Effect::Read(f));
                }
            }
            ActionKind::FileWrite { path, .. } => {
                let sp = plain(path);
                for f in self.files(&sp, &cwd, task, Access::Write) {
                    out.push(Effect::Write(f));
                }
            }
            ActionKind::Http { method, url } => {
                if url.scheme() == "file" {
                    let p = url.as_str().trim_start_matches("file://");
                    for f in self.files(&plain(p), &cwd, task, Access::Read) {
                        out.push(Effect::Read(f));
                    }
                } else {
                    let facts = self.url_facts(url, task);
                    out.push(if method.sends_body() {
                        Effect::Send {
                            to: facts,
                            labels: Labels::NONE,
                        }
                    } else {
                        Effect::Connect(facts)
                    });
                }
            }
            ActionKind::McpCall {
                tool, annotation, ..
            } => out.push(Effect::CallTool {
                server: tool.server.clone(),
                tool: tool.tool.clone(),
                in_scope: task.mandate.scope.allows_tool(&tool.server, &tool.tool),
                annotation: *annotation,
            }),
            ActionKind::AssistantTool {
                assistant,
                tool,
                role,
                path,
                ..
            } => {
                out.extend(self.assistant_tool(assistant, tool, *role, path.as_deref(), &cwd, task))
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|e| seen.insert(e.clone()));
        Analysis {
            effects: out,
            cwd_zone,
        }
    }

    /// The effects of one of an assistant's own tools. A worktree is a write of its
    /// directory when the tool's input names it, else of the repository's
    /// `.git/worktrees` (where `git worktree add` records it); a tool the adapter does
    /// not know is unparseable.
    fn assistant_tool(
        &self,
        assistant: &str,
        tool: &str,
        role: ToolRole,
        path: Option<&str>,
        cwd: &Path,
        task: &TaskView,
    ) -> Vec<Effect> {
        let (assistant, tool) = (assistant.to_owned(), tool.to_owned());
        match (role, path) {
            (ToolRole::Schedule, _) => vec![Effect::Schedule { assistant, tool }],
            (ToolRole::Delegate, _) => vec![Effect::Delegate { assistant, tool }],
            (ToolRole::Bookkeeping, _) => vec![Effect::Bookkeeping { assistant, tool }],
            (ToolRole::Worktree, Some(p)) => self
                .files(&plain(p), cwd, task, Access::Write)
                .into_iter()
                .map(Effect::Write)
                .collect(),
            (ToolRole::Worktree, None) => {
                let git = git::git_dir(cwd).unwrap_or_else(|| cwd.join(".git"));
                let dir = resolve(&git.join("worktrees"));
                vec![Effect::Write(self.facts(dir, task, Access::Write))]
            }
            (ToolRole::Unknown, _) => vec![Effect::Unparseable {
                reason: format!(
                    "{assistant} tool {tool:?} is not one Mandate knows, so what it does cannot be judged"
                ),
            }],
        }
    }

    fn shell_effect(
        &self,
        e: &ShellEffect,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        match e {
            ShellEffect::Exec { program, class } => out.push(Effect::Exec {
                program: program.clone(),
                class: *class,
            }),
            ShellEffect::Read(p) => out.extend(
                self.files(p, cwd, task, Access::Read)
                    .into_iter()
                    .map(Effect::Read),
            ),
            ShellEffect::ReadTree(p) => {
                for mut f in self.files(p, cwd, task, Access::Read) {
                    let under =
                        content::tree_labels(Path::new(&f.path), &self.env.home, &self.sensitive);
                    f.labels = f.labels.union(under);
                    out.push(Effect::Read(f));
                }
            }
            ShellEffect::Write(p) => out.extend(
                self.files(p, cwd, task, Access::Write)
                    .into_iter()
                    .map(Effect::Write),
            ),
            ShellEffect::Delete(p) => out.extend(
                self.files(p, cwd, task, Access::Delete)
                    .into_iter()
                    .map(Effect::Delete),
            ),
            ShellEffect::Connect {
                target,
                sends,
                data_from,
            } => {
                if let NetTarget::GitRemote { name, dir, config } = target {
                    let labels = sends.then(|| self.data_labels(data_from, cwd, task));
                    return self.git_connect(name, dir.as_ref(), config, labels, cwd, task, out);
                }
                let to = self.target_facts(target, cwd, task);
                if *sends {
                    let labels = self.data_labels(data_from, cwd, task);
                    out.push(Effect::Send { to, labels });
                } else {
                    out.push(Effect::Connect(to));
                }
            }
            ShellEffect::RunsFile {
                path,
                run_as,
                argv,
                written,
            } => self.runs_file(path, run_as, argv, written, cwd, task, depth, out),
            ShellEffect::RunRemote { target } => {
                out.push(Effect::RunRemote(self.target_facts(target, cwd, task)));
            }
            ShellEffect::Push {
                remote,
                refspecs,
                force,
                all,
                dir,
            } => {
                let cmd = git::PushCmd {
                    remote: remote.as_ref(),
                    refspecs,
                    force: *force,
                    all: *all,
                    dir: dir.as_ref(),
                };
                self.git_push(&cmd, cwd, task, out);
            }
            ShellEffect::Privilege { program } => out.push(Effect::Privilege {
                program: program.clone(),
            }),
            ShellEffect::Unparseable { reason } => out.push(Effect::Unparseable {
                reason: reason.clone(),
            }),
            ShellEffect::Obfuscated { reason } => out.push(Effect::Obfuscated {
                reason: reason.clone(),
            }),
        }
    }

    /// The labels of the files whose content is sent.
    fn data_labels(&self, data_from: &[ShellPath], cwd: &Path, task: &TaskView) -> Labels {
        let mut labels = Labels::NONE;
        for p in data_from {
            for f in self.files(p, cwd, task, Access::Read) {
                labels = labels.union(f.labels);
            }
        }
        labels
    }

    /// The absolute, resolved form of a shell path, if it can be known.
    fn one_path(&self, p: &ShellPath, cwd: &Path) -> Option<PathBuf> {
        if p.dynamic || p.unknown_dir {
            return None;
        }
        let base = match &p.dir {
            None => cwd.to_path_buf(),
            Some(d) => self.absolute(d, cwd)?,
        };
        Some(resolve(&self.absolute(&p.path, &base)?))
    }

    fn absolute(&self, text: &str, base: &Path) -> Option<PathBuf> {
        if text.starts_with('~') {
            return self.env.expand_tilde(text);
        }
        let p = Path::new(text);
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            base.join(p)
        })
    }

    fn files(&self, p: &ShellPath, cwd: &Path, task: &TaskView, access: Access) -> Vec<FileFacts> {
        let Some(abs) = self.one_path(p, cwd) else {
            // Unknown location: label on the text so `$D/.env` is still a secret.
            let text = match &p.dir {
                Some(d) if !p.path.starts_with('/') => format!("{d}/{}", p.path),
                _ => p.path.clone(),
            };
            return vec![FileFacts {
                labels: self.sensitive.labels(&text),
                path: text,
                zone: PathZone::Unknown,
                special: SpecialPath::None,
                in_scope: false,
            }];
        };
        let mut found = Vec::new();
        if p.glob {
            found = expand_glob(&abs);
        }
        if found.is_empty() {
            found.push(abs);
        }
        found
            .into_iter()
            .map(|path| self.facts(path, task, access))
            .collect()
    }

    fn facts(&self, path: PathBuf, task: &TaskView, access: Access) -> FileFacts {
        let text = path.to_string_lossy().into_owned();
        let mut labels = self.sensitive.labels(&text);
        if access == Access::Read && labels.is_empty() {
            // Another name for a credential is the credential.
            let repos: Vec<PathBuf> = task
                .mandate
                .scope
                .repos
                .iter()
                .map(|r| r.as_path().to_path_buf())
                .collect();
            labels = content::hard_link_labels(&path, &self.env.home, &repos, &self.sensitive);
        }
        let zone = paths::zone(&self.env, &task.mandate, &path);
        let special = paths::special(&self.env, &task.mandate, &path);
        if special == SpecialPath::MandateData && access == Access::Read {
            // The broker's key and policies are as sensitive as any secret.
            labels.insert(Label::Secret);
        }
        let scope = match access {
            Access::Read => &task.read,
            Access::Write | Access::Delete => &task.write,
        };
        let in_scope = !scope.is_empty() && scope.is_match(&path);
        FileFacts {
            path: text,
            zone,
            labels,
            special,
            in_scope,
        }
    }

    fn host_facts(&self, host: Option<Host>, port: u16, task: &TaskView) -> HostFacts {
        match host {
            Some(h) => HostFacts {
                in_scope: task.mandate.scope.allows_host(&h),
                registry: self.registries.iter().any(|r| r.matches(&h)),
                loopback: h.is_loopback(),
                host: h.as_str().to_owned(),
                port,
            },
            None => HostFacts {
                host: "?".into(),
                port,
                in_scope: false,
                registry: false,
                loopback: false,
            },
        }
    }

    fn url_facts(&self, url: &Url, task: &TaskView) -> HostFacts {
        self.host_facts(url.host().cloned(), url.port(), task)
    }

    fn target_facts(&self, t: &NetTarget, cwd: &Path, task: &TaskView) -> HostFacts {
        match t {
            NetTarget::Url { url } => match Url::parse(url) {
                Ok(u) => self.url_facts(&u, task),
                Err(_) => {
                    let (h, p) = git::url_host(url).unwrap_or_default();
                    self.host_facts(Host::parse(&h).ok(), p.unwrap_or(0), task)
                }
            },
            NetTarget::Host { host, port } => {
                self.host_facts(Host::parse(host).ok(), port.unwrap_or(0), task)
            }
            NetTarget::GitRemote { name, dir, config } => {
                self.git_target_facts(name, dir.as_ref(), config, cwd, task)
            }
            NetTarget::Dynamic { .. } => self.host_facts(None, 0, task),
        }
    }
}

fn plain(path: &str) -> ShellPath {
    ShellPath {
        dir: None,
        path: path.to_owned(),
        dynamic: false,
        glob: false,
        unknown_dir: false,
    }
}

/// Expands a glob in the last component of `abs` (bash rules: `*` does not match a
/// leading dot). Globs in earlier components are left unexpanded.
fn expand_glob(abs: &Path) -> Vec<PathBuf> {
    let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let parent_text = parent.to_string_lossy();
    if parent_text.contains(['*', '?', '[']) {
        return Vec::new();
    }
    let Ok(glob) = GlobBuilder::new(&name).literal_separator(true).build() else {
        return Vec::new();
    };
    let m = glob.compile_matcher();
    let Ok(rd) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        let n = entry.file_name();
        let n = n.to_string_lossy();
        if n.starts_with('.') && !name.starts_with('.') {
            continue;
        }
        if m.is_match(n.as_ref()) {
            out.push(resolve(&parent.join(n.as_ref())));
            if out.len() >= MAX_GLOB_MATCHES {
                break;
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::Analyzer;

    #[test]
    fn only_a_memoised_command_that_reads_no_further_is_settled() {
        let a = Analyzer::builtin();
        assert!(!a.settled_shell("cargo test"), "not analysed yet");
        for settled in [
            "cargo test",
            "git status",
            "cat src/main.rs",
            "curl https://x.example",
        ] {
            a.shell_effects(settled);
            assert!(a.settled_shell(settled), "{settled}");
        }
        // A file it runs, a tree it archives, a glob, a git remote: more to read each time.
        for unsettled in [
            "./build.sh",
            "tar czf /tmp/a.tgz src",
            "cat src/*.rs",
            "git push origin main",
        ] {
            a.shell_effects(unsettled);
            assert!(!a.settled_shell(unsettled), "{unsettled}");
        }
    }
}
