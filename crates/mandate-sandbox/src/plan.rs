//! What the sandbox enforces, worked out before anything is restricted: which trees
//! are readable, which writable, which files are mounted read-only, and where the
//! network's one way out leads. A plan is plain data, written by `mandate run` and
//! read by the supervisor, so what a task ran under can be shown and tested.

use std::path::{Path, PathBuf};

use mandate_types::{SandboxLayers, TaskId};
use serde::{Deserialize, Serialize};

use crate::SandboxError;

/// System directories the workload may read and execute from.
const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc",
    "/opt",
    "/srv",
    "/var/lib/ca-certificates",
    "/var/cache",
    "/proc",
    "/sys",
    "/snap",
    "/nix",
];

/// Trees that are read whole, never looked into for sensitive entries: their contents
/// change under us (`/proc`, `/sys`), and what is sensitive in `/proc` (other
/// processes' environment and memory) Landlock's ptrace scoping already keeps out.
const NOT_SCANNED: &[&str] = &["/proc", "/sys", "/nix", "/snap"];

/// Device files a workload opens for reading and writing.
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/ptmx",
    "/dev/pts",
    "/dev/shm",
];

/// Caches under the home directory that package managers and build tools write.
const HOME_CACHES: &[&str] = &[
    ".cache",
    ".npm",
    ".cargo/registry",
    ".cargo/git",
    ".m2/repository",
    ".gradle/caches",
    "go/pkg/mod",
    ".yarn/berry/cache",
    ".local/share/pnpm",
];

/// Lock files package managers keep beside what the sandbox leaves read-only (cargo's
/// beside its `bin`): made when missing, where their directory exists, and writable.
const HOME_LOCK_FILES: &[&str] = &[
    ".cargo/.package-cache",
    ".cargo/.package-cache-mutate",
    ".cargo/.global-cache",
];

/// Unix sockets of daemons and agents that act with more than the task's rights: a
/// container engine (root on the machine), the system and session buses, the SSH and
/// GPG agents (signing with the user's keys). Landlock before ABI 9 cannot refuse a
/// `connect` to a socket by path, so these are hidden: `/dev/null` is mounted over each
/// that exists. `$XDG_RUNTIME_DIR/` entries are relative to it; `SSH_AUTH_SOCK` and
/// `DOCKER_HOST` (a `unix://` one) are added from the environment.
const DAEMON_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/crio/crio.sock",
    "/run/dbus/system_bus_socket",
    "/var/run/dbus/system_bus_socket",
    "/run/systemd/private",
    "/run/snapd.socket",
];
const RUNTIME_SOCKETS: &[&str] = &[
    "bus",
    "docker.sock",
    "podman/podman.sock",
    "gnupg/S.gpg-agent",
    "gnupg/S.gpg-agent.ssh",
    "gnupg/S.gpg-agent.extra",
    "keyring/ssh",
    "ssh-agent.socket",
    "systemd/private",
];

/// How deep a readable tree is looked into for sensitive entries to leave out.
const SCAN_DEPTH: usize = 3;
/// Most entries looked at per tree.
const SCAN_ENTRIES: usize = 20_000;

/// Everything a plan is made from.
pub struct PlanInputs<'a> {
    /// The task the sandbox holds.
    pub task: TaskId,
    /// The task's repository (read and write).
    pub repo: PathBuf,
    /// The task's own temp dir (read and write; `TMPDIR` points there).
    pub temp: PathBuf,
    pub home: PathBuf,
    /// Never readable: Mandate's data dir, the policy dir.
    pub protected: Vec<PathBuf>,
    /// Credential places under the home directory (the policy's list).
    pub home_credentials: Vec<HomeEntry>,
    /// The assistants' hook configuration (mounted read-only where it is in a writable
    /// tree; Landlock keeps the rest read-only).
    pub hook_configs: Vec<PathBuf>,
    /// Directories of the assistant's own state it must write (`~/.claude`, ...).
    pub assistant_state: Vec<PathBuf>,
    /// Programs the workload runs that live outside the system trees (the mandate
    /// binary its hooks call).
    pub executables: Vec<PathBuf>,
    /// Toolchain installations outside the system trees (from `PATH`, `RUSTUP_HOME`,
    /// ...): readable and executable, carved like the system trees.
    pub toolchains: Vec<PathBuf>,
    /// Whether a path is sensitive (the policy's sensitive-path rules).
    pub is_sensitive: &'a dyn Fn(&Path) -> bool,
    /// The layers to enforce.
    pub layers: SandboxLayers,
    pub network: Option<NetworkPlan>,
}

/// A path under the home directory, relative to it.
pub type HomeEntry = String;

/// The network side of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPlan {
    /// The Unix socket outside the namespace that leads to the egress proxy.
    pub proxy_socket: PathBuf,
    /// The loopback port inside the namespace the proxy is reached at.
    pub proxy_port: u16,
    /// The file mounted over `/etc/resolv.conf` (names the resolver on loopback).
    pub resolv_conf: PathBuf,
}

/// What the sandbox enforces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub task: TaskId,
    pub layers: SandboxLayers,
    /// Readable and executable trees (files or directories).
    pub read: Vec<PathBuf>,
    /// Directories whose entries may be listed but not read: the ones something was
    /// carved out of (`~`, `/etc`), so `ls ~` still works.
    #[serde(default)]
    pub list: Vec<PathBuf>,
    /// Readable, writable and executable trees.
    pub write: Vec<PathBuf>,
    /// Device files: read, write and ioctl.
    pub devices: Vec<PathBuf>,
    /// Files inside writable trees mounted read-only (hook configuration).
    pub read_only: Vec<PathBuf>,
    /// Daemon and agent sockets hidden under `/dev/null` (see [`DAEMON_SOCKETS`]).
    #[serde(default)]
    pub hidden_sockets: Vec<PathBuf>,
    /// What was left out of the readable trees on purpose (for the record and for
    /// telling a refusal apart from a path nobody granted).
    pub denied: Vec<PathBuf>,
    pub network: Option<NetworkPlan>,
}

impl Plan {
    /// Works out the plan. Refuses when something that must stay out of reach sits
    /// inside a tree the workload may write (Landlock can only grant, never carve a
    /// hole into a granted tree).
    pub fn build(inputs: &PlanInputs<'_>) -> Result<Self, SandboxError> {
        let home = &inputs.home;
        // The XDG cache is made when missing (tools expect to create it); the others
        // are granted where they exist.
        let _ = std::fs::create_dir_all(home.join(".cache"));
        let mut write: Vec<PathBuf> = vec![inputs.repo.clone(), inputs.temp.clone()];
        write.extend(HOME_CACHES.iter().map(|c| home.join(c)));
        write.extend(inputs.assistant_state.iter().cloned());
        for f in HOME_LOCK_FILES {
            let f = home.join(f);
            if f.parent().is_some_and(Path::is_dir) && !f.exists() {
                let _ = std::fs::File::create(&f);
            }
            write.push(f);
        }
        write.retain(|p| p.exists());
        for p in &inputs.protected {
            if let Some(w) = write.iter().find(|w| p.starts_with(w)) {
                return Err(SandboxError::Plan(format!(
                    "{} lies inside {}, which the sandbox must leave writable; move Mandate's data (MANDATE_HOME) out of it",
                    p.display(),
                    w.display()
                )));
            }
        }
        let mut denied: Vec<PathBuf> = inputs.protected.clone();
        denied.extend(inputs.home_credentials.iter().map(|e| home.join(e)));
        let mut read = Vec::new();
        let mut list = Vec::new();
        let mut roots: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
        roots.push(home.clone());
        roots.extend(inputs.toolchains.iter().cloned());
        roots.sort();
        roots.dedup();
        // A root inside another is the other's business.
        let all = roots.clone();
        roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
        for root in roots {
            if !root.exists() || write.iter().any(|w| root.starts_with(w)) {
                continue;
            }
            let scan = !NOT_SCANNED.iter().any(|n| root.starts_with(n));
            if scan {
                let mut budget = SCAN_ENTRIES;
                find_sensitive(
                    &root,
                    SCAN_DEPTH,
                    inputs.is_sensitive,
                    &mut denied,
                    &mut budget,
                );
            }
            carve(&root, &denied, &write, &mut read, &mut list);
        }
        read.extend(inputs.executables.iter().filter(|p| p.exists()).cloned());
        let read_only = inputs
            .hook_configs
            .iter()
            .filter(|c| c.is_file() && write.iter().any(|w| c.starts_with(w)))
            .cloned()
            .collect();
        let hidden_sockets = daemon_sockets();
        denied.retain(|d| d.exists());
        denied.sort();
        denied.dedup();
        Ok(Self {
            task: inputs.task.clone(),
            layers: inputs.layers,
            read,
            list,
            write,
            devices: DEVICES
                .iter()
                .map(PathBuf::from)
                .filter(|p| p.exists())
                .collect(),
            read_only,
            hidden_sockets,
            denied,
            network: inputs.network.clone(),
        })
    }

    /// Whether the plan lets the workload open `path` (absolute, resolved) for
    /// `write` or for reading; mirrors the Landlock rules for the record of a refusal.
    pub fn allows(&self, path: &Path, write: bool) -> bool {
        let under = |set: &[PathBuf]| set.iter().any(|p| path.starts_with(p));
        if write {
            (under(&self.write) || under(&self.devices)) && !under(&self.read_only)
        } else {
            under(&self.read)
                || under(&self.write)
                || under(&self.devices)
                || (self.list.iter().any(|l| l == path) && path.is_dir())
        }
    }

    /// Whether `path` was left out on purpose (sensitive, or Mandate's own).
    pub fn is_denied(&self, path: &Path) -> bool {
        self.denied.iter().any(|d| path.starts_with(d))
    }
}

/// The daemon and agent sockets that exist here.
fn daemon_sockets() -> Vec<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let mut out: Vec<PathBuf> = DAEMON_SOCKETS.iter().map(PathBuf::from).collect();
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        out.extend(RUNTIME_SOCKETS.iter().map(|s| run.join(s)));
    }
    out.extend(std::env::var_os("SSH_AUTH_SOCK").map(PathBuf::from));
    if let Some(h) = std::env::var("DOCKER_HOST").ok()
        && let Some(p) = h.strip_prefix("unix://")
    {
        out.push(PathBuf::from(p));
    }
    out.retain(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket()));
    out.sort();
    out.dedup();
    out
}

/// Adds to `denied` the sensitive entries under `dir`, `depth` levels down at most.
fn find_sensitive(
    dir: &Path,
    depth: usize,
    is_sensitive: &dyn Fn(&Path) -> bool,
    denied: &mut Vec<PathBuf>,
    budget: &mut usize,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let p = e.path();
        if is_sensitive(&p) {
            denied.push(p);
            continue;
        }
        // Symbolic links are not followed: Landlock judges the resolved path.
        if depth > 1 && e.file_type().is_ok_and(|t| t.is_dir()) {
            find_sensitive(&p, depth - 1, is_sensitive, denied, budget);
        }
    }
}

/// Grants `dir` whole when nothing denied lies inside it, else each of its entries
/// but the denied ones, recursively. Entries inside a writable tree are left to it.
fn carve(
    dir: &Path,
    denied: &[PathBuf],
    write: &[PathBuf],
    read: &mut Vec<PathBuf>,
    list: &mut Vec<PathBuf>,
) {
    if denied.iter().any(|d| dir.starts_with(d)) {
        return;
    }
    let holds_denied = denied.iter().any(|d| d.starts_with(dir) && d != dir);
    let holds_writable = write.iter().any(|w| w.starts_with(dir) && w != dir);
    if !holds_denied && !holds_writable {
        read.push(dir.to_path_buf());
        return;
    }
    if !holds_denied {
        // Only a writable tree inside: granting `dir` for reading is harmless.
        read.push(dir.to_path_buf());
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    list.push(dir.to_path_buf());
    for e in entries.flatten() {
        carve(&e.path(), denied, write, read, list);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers() -> SandboxLayers {
        SandboxLayers {
            landlock_abi: Some(7),
            network: true,
            seccomp: true,
            best_effort: false,
        }
    }

    #[test]
    fn credentials_and_protected_dirs_are_left_out_of_a_readable_home() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path().join("home");
        for d in [
            ".ssh",
            ".config/gh",
            ".config/nvim",
            ".local/share/mandate",
            "src/repo",
            ".claude",
        ] {
            std::fs::create_dir_all(home.join(d)).unwrap();
        }
        std::fs::write(home.join(".ssh/id_ed25519"), "k").unwrap();
        std::fs::write(home.join(".claude/settings.json"), "{}").unwrap();
        std::fs::write(home.join("notes.pem"), "k").unwrap();
        let sensitive = |p: &Path| p.extension().is_some_and(|e| e == "pem");
        let plan = Plan::build(&PlanInputs {
            task: TaskId::parse("task_01").unwrap(),
            repo: home.join("src/repo"),
            temp: t.path().join("tmp"),
            home: home.clone(),
            protected: vec![home.join(".local/share/mandate")],
            home_credentials: vec![".ssh".into(), ".config/gh".into()],
            hook_configs: vec![home.join(".claude/settings.json")],
            assistant_state: vec![home.join(".claude")],
            executables: vec![],
            toolchains: vec![],
            is_sensitive: &sensitive,
            layers: layers(),
            network: None,
        })
        .unwrap();
        assert!(!plan.allows(&home.join(".ssh/id_ed25519"), false));
        assert!(!plan.allows(&home.join(".config/gh/hosts.yml"), false));
        assert!(!plan.allows(&home.join(".local/share/mandate/audit.db"), false));
        assert!(!plan.allows(&home.join("notes.pem"), false));
        assert!(plan.allows(&home.join(".config/nvim/init.lua"), false));
        assert!(!plan.allows(&home.join(".config/nvim/init.lua"), true));
        assert!(plan.allows(&home.join("src/repo/main.rs"), true));
        assert!(plan.allows(&home.join(".cache/pip/x"), true));
        assert!(plan.allows(&home.join(".claude/todos.json"), true));
        assert!(!plan.allows(&home.join(".claude/settings.json"), true));
        assert!(plan.is_denied(&home.join(".ssh/id_ed25519")));
        assert!(
            plan.allows(&home, false),
            "the home directory can be listed"
        );
    }

    #[test]
    fn a_protected_dir_inside_the_repository_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let repo = t.path().join("repo");
        std::fs::create_dir_all(repo.join(".mandate")).unwrap();
        let err = Plan::build(&PlanInputs {
            task: TaskId::parse("task_01").unwrap(),
            repo: repo.clone(),
            temp: t.path().to_path_buf(),
            home: t.path().join("nohome"),
            protected: vec![repo.join(".mandate")],
            home_credentials: vec![],
            hook_configs: vec![],
            assistant_state: vec![],
            executables: vec![],
            toolchains: vec![],
            is_sensitive: &|_| false,
            layers: layers(),
            network: None,
        })
        .unwrap_err();
        assert!(err.to_string().contains("MANDATE_HOME"), "{err}");
    }
}
