//! Path resolution (`~`, `..`, relative to cwd, symlinks) and classification.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use mandate_types::{Mandate, PathZone, SpecialPath};

/// Most symlinks followed while resolving one path (as the kernel's `ELOOP` limit).
const MAX_LINKS: usize = 40;

/// Resolves an absolute path the way the kernel would: `.` and `..` are applied after
/// following each symlink. Components that do not exist are joined lexically.
pub fn resolve(abs: &Path) -> PathBuf {
    resolve_under(Path::new("/"), abs)
}

/// Resolves `rel` under `base`, which must already be resolved (no symlinks, no `..`):
/// only the components of `rel` are looked up. An absolute `rel` ignores `base`.
pub fn resolve_under(base: &Path, rel: &Path) -> PathBuf {
    let mut queue: VecDeque<OsString> = VecDeque::new();
    push_components(&mut queue, rel, false);
    let mut out = if rel.is_absolute() {
        PathBuf::from("/")
    } else {
        base.to_path_buf()
    };
    let mut links = 0;
    let mut exists = true;
    while let Some(c) = queue.pop_front() {
        if c == "." {
            continue;
        }
        if c == ".." {
            out.pop();
            continue;
        }
        out.push(&c);
        if !exists {
            continue;
        }
        match std::fs::symlink_metadata(&out) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                let Ok(target) = std::fs::read_link(&out) else {
                    continue;
                };
                if links > MAX_LINKS {
                    // A loop: leave the rest lexical, as the kernel would fail.
                    exists = false;
                    continue;
                }
                out.pop();
                if target.is_absolute() {
                    out = PathBuf::from("/");
                }
                push_components(&mut queue, &target, true);
            }
            Ok(_) => {}
            Err(_) => exists = false,
        }
    }
    out
}

fn push_components(queue: &mut VecDeque<OsString>, p: &Path, front: bool) {
    let comps: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::CurDir => Some(".".into()),
            Component::RootDir | Component::Prefix(_) => None,
        })
        .collect();
    if front {
        for c in comps.into_iter().rev() {
            queue.push_front(c);
        }
    } else {
        queue.extend(comps);
    }
}

/// Where the machine keeps things, for classifying paths.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The user's home directory (resolved).
    pub home: PathBuf,
    /// Temporary directories (resolved).
    pub temp_dirs: Vec<PathBuf>,
    /// Mandate's own data and policy directories (resolved).
    pub mandate_dirs: Vec<PathBuf>,
}

impl Environment {
    /// Whether `p` is a program in one of the system's program directories, where the
    /// task cannot put one.
    pub fn is_system_bin(&self, p: &Path) -> bool {
        const DIRS: &[&str] = &[
            "/usr/bin",
            "/bin",
            "/usr/sbin",
            "/sbin",
            "/usr/local/bin",
            "/usr/local/sbin",
            "/snap/bin",
            "/opt/homebrew/bin",
        ];
        p.parent()
            .and_then(|d| d.to_str())
            .is_some_and(|d| DIRS.contains(&d))
    }

    /// Reads `HOME` and `TMPDIR` from the process environment.
    pub fn from_process() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/root"));
        let mut temp_dirs = vec![
            resolve(Path::new("/tmp")),
            resolve(Path::new("/var/tmp")),
            PathBuf::from("/dev/shm"),
        ];
        if let Some(t) = std::env::var_os("TMPDIR") {
            temp_dirs.push(resolve(Path::new(&t)));
        }
        temp_dirs.dedup();
        Self {
            home: resolve(&home),
            temp_dirs,
            mandate_dirs: Vec::new(),
        }
    }

    /// Expands `~` and `~user` at the start of a path.
    pub fn expand_tilde(&self, p: &str) -> Option<PathBuf> {
        let rest = p.strip_prefix('~')?;
        let (user, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        let base = if user.is_empty() {
            self.home.clone()
        } else {
            crate::machine::home_of(user)?
        };
        Some(if tail.is_empty() {
            base
        } else {
            base.join(tail)
        })
    }
}

const SYSTEM_ROOTS: &[&str] = &[
    "/usr", "/etc", "/opt", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/proc", "/sys", "/dev",
    "/var", "/boot", "/srv", "/snap", "/nix", "/run", "/root",
];

/// Whether `p` is `dir` or inside it (string form; both are resolved absolute paths).
fn under(p: &str, dir: &str) -> bool {
    if dir == "/" {
        return p.starts_with('/');
    }
    if dir.is_empty() {
        return false;
    }
    let dir = dir.strip_suffix('/').unwrap_or(dir);
    p == dir || (p.len() > dir.len() && p.starts_with(dir) && p.as_bytes()[dir.len()] == b'/')
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap_or("")
}

/// `p` relative to `dir`, if inside it.
fn rel_to<'a>(p: &'a str, dir: &str) -> Option<&'a str> {
    let dir = dir.strip_suffix('/').unwrap_or(dir);
    if p == dir {
        return Some("");
    }
    p.strip_prefix(dir)?.strip_prefix('/')
}

/// The zone of a resolved path.
pub fn zone(env: &Environment, mandate: &Mandate, p: &Path) -> PathZone {
    let p = text(p);
    if mandate.scope.repos.iter().any(|r| under(p, r.as_str())) {
        return PathZone::Repo;
    }
    if env.temp_dirs.iter().any(|t| under(p, text(t))) {
        // A repository that itself lives in a temp directory: its siblings are outside
        // the task, not scratch space.
        let beside_repo = mandate
            .scope
            .repos
            .iter()
            .filter_map(|r| r.as_path().parent())
            .any(|parent| {
                env.temp_dirs.iter().any(|t| under(text(parent), text(t))) && under(p, text(parent))
            });
        if !beside_repo {
            return PathZone::Temp;
        }
    }
    let home = text(&env.home);
    if home != "/" && !home.is_empty() && under(p, home) {
        return PathZone::Home;
    }
    if SYSTEM_ROOTS.iter().any(|r| under(p, r)) {
        return PathZone::System;
    }
    PathZone::Other
}

const CI_FILES: &[&str] = &[
    ".gitlab-ci.yml",
    ".travis.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
    "bitbucket-pipelines.yml",
    ".drone.yml",
    "appveyor.yml",
    ".cirrus.yml",
    "cloudbuild.yaml",
    "buildspec.yml",
];
const CI_DIRS: &[&str] = &[
    ".github/workflows",
    ".github/actions",
    ".circleci",
    ".buildkite",
    ".gitlab",
    ".woodpecker",
];
const AGENT_FILES: &[&str] = &[
    ".claude/settings.json",
    ".claude/settings.local.json",
    ".mcp.json",
    ".cursor/hooks.json",
    ".cursor/mcp.json",
    ".gemini/settings.json",
    ".vscode/settings.json",
    ".vscode/tasks.json",
    ".vscode/launch.json",
    "CLAUDE.md",
    "AGENTS.md",
    "GEMINI.md",
    ".cursorrules",
];
const AGENT_DIRS: &[&str] = &[
    ".claude/hooks",
    ".codex",
    ".github/hooks",
    ".cursor/rules",
    ".claude/agents",
    ".claude/commands",
];
const PERSISTENCE_HOME: &[&str] = &[
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".config/fish/config.fish",
    ".ssh/authorized_keys",
    ".ssh/rc",
    ".xprofile",
    ".xinitrc",
    ".pam_environment",
];
const PERSISTENCE_HOME_DIRS: &[&str] = &[
    ".config/autostart",
    ".config/systemd",
    ".local/share/systemd",
    ".config/fish/conf.d",
];
const PERSISTENCE_SYSTEM: &[&str] = &[
    "/etc/cron.d",
    "/etc/cron.daily",
    "/etc/cron.hourly",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/etc/crontab",
    "/var/spool/cron",
    "/etc/systemd",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/etc/init.d",
    "/etc/rc.local",
    "/etc/profile",
    "/etc/profile.d",
    "/etc/bash.bashrc",
    "/etc/environment",
    "/etc/ld.so.preload",
    "/etc/sudoers",
    "/etc/sudoers.d",
];

/// Places under the system roots where code and documentation live: reading them is
/// ordinary development (library sources, headers, man pages). Everything else under a
/// system root is the machine's own configuration and state.
const CODE_ROOTS: &[&str] = &[
    "/usr/lib",
    "/usr/lib32",
    "/usr/lib64",
    "/usr/libexec",
    "/usr/local",
    "/usr/include",
    "/usr/src",
    "/usr/share/doc",
    "/usr/share/man",
    "/usr/share/info",
    "/usr/share/zoneinfo",
    "/usr/share/java",
    "/usr/share/perl",
    "/usr/share/perl5",
    "/usr/share/python3",
    "/usr/share/pyshared",
    "/usr/share/javascript",
    "/usr/share/cmake",
    "/usr/share/pkgconfig",
    "/usr/share/aclocal",
    "/usr/share/gir-1.0",
    "/usr/share/ruby",
    "/usr/share/go",
    "/usr/share/dotnet",
    "/usr/share/fonts",
    "/usr/share/locale",
    "/usr/share/misc",
    "/usr/share/mime",
    "/usr/share/terminfo",
    "/opt",
    "/nix",
    "/snap",
    "/usr/bin",
    "/usr/sbin",
    "/bin",
    "/sbin",
];

/// Whether a path outside the task's repositories is the machine's configuration or state.
fn system_state(env: &Environment, s: &str) -> bool {
    if matches!(
        s,
        "/dev/null"
            | "/dev/zero"
            | "/dev/urandom"
            | "/dev/random"
            | "/dev/stdin"
            | "/dev/stdout"
            | "/dev/stderr"
    ) {
        return false;
    }
    if env.temp_dirs.iter().any(|t| under(s, text(t))) {
        return false;
    }
    let home = text(&env.home);
    if under(s, "/home") && !under(s, home) {
        return true; // other users' homes
    }
    // Directories that contain code roots (`/usr`, `/usr/share`) are listings of the system.
    let inside_code = CODE_ROOTS
        .iter()
        .any(|c| under(s, c) && s != "/bin" && s != "/sbin" && s != "/usr/bin" && s != "/usr/sbin");
    SYSTEM_ROOTS.iter().any(|r| under(s, r)) && !inside_code
}

/// The special role of a resolved path.
pub fn special(env: &Environment, mandate: &Mandate, p: &Path) -> SpecialPath {
    let s = text(p);
    if env.mandate_dirs.iter().any(|d| under(s, text(d))) {
        return SpecialPath::MandateData;
    }
    if s.contains("/.git/hooks/") || s.ends_with("/.git/hooks") || s.contains("/.husky/") {
        return SpecialPath::GitHook;
    }
    let in_list = |rel: &str, files: &[&str], dirs: &[&str]| {
        files.contains(&rel) || dirs.iter().any(|d| under(rel, d))
    };
    for repo in &mandate.scope.repos {
        if let Some(rel) = rel_to(s, repo.as_str()) {
            if in_list(rel, CI_FILES, CI_DIRS) {
                return SpecialPath::CiConfig;
            }
            if in_list(rel, AGENT_FILES, AGENT_DIRS) {
                return SpecialPath::AgentConfig;
            }
        }
    }
    if s.contains("/.git/") || s.ends_with("/.git") {
        return SpecialPath::GitInternal;
    }
    if let Some(rel) = rel_to(s, text(&env.home)) {
        if in_list(rel, PERSISTENCE_HOME, PERSISTENCE_HOME_DIRS) {
            return SpecialPath::Persistence;
        }
        if [".claude", ".codex", ".gemini", ".cursor"]
            .iter()
            .any(|d| under(rel, d))
        {
            return SpecialPath::AgentConfig;
        }
    }
    if PERSISTENCE_SYSTEM.iter().any(|d| under(s, d)) {
        return SpecialPath::Persistence;
    }
    let in_repo = mandate.scope.repos.iter().any(|r| under(s, r.as_str()));
    if !in_repo && system_state(env, s) {
        return SpecialPath::SystemState;
    }
    SpecialPath::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_dots_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = resolve(dir.path());
        std::fs::create_dir_all(root.join("repo/src")).unwrap();
        std::fs::create_dir_all(root.join("secrets")).unwrap();
        std::os::unix::fs::symlink(root.join("secrets"), root.join("repo/link")).unwrap();
        std::os::unix::fs::symlink("../secrets/.env", root.join("repo/rel")).unwrap();
        assert_eq!(resolve(&root.join("repo/src/../x")), root.join("repo/x"));
        assert_eq!(
            resolve(&root.join("repo/link/.env")),
            root.join("secrets/.env")
        );
        // `..` after a symlink is applied to the link's target, as the kernel does.
        assert_eq!(resolve(&root.join("repo/link/../repo")), root.join("repo"));
        assert_eq!(resolve(&root.join("repo/rel")), root.join("secrets/.env"));
        assert_eq!(resolve(&root.join("repo/missing/../../x")), root.join("x"));
        assert!(
            under("/a/b", "/a") && under("/a", "/a") && !under("/ab", "/a") && under("/x", "/")
        );
        assert_eq!(rel_to("/a/b/c", "/a"), Some("b/c"));
        assert_eq!(rel_to("/ab", "/a"), None);
        std::os::unix::fs::symlink(root.join("loop"), root.join("loop")).unwrap();
        let _ = resolve(&root.join("loop/x"));
    }
}
