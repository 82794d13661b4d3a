//! Seeing what the kernel refuses, so it lands in the task's timeline. A seccomp filter
//! hands the supervisor every path-opening, path-changing and `connect` syscall before
//! the kernel runs it; the supervisor reads its arguments, works out whether Landlock
//! or the network namespace will refuse it, records a refusal with the broker, and
//! lets the syscall go on. Enforcement stays with the kernel: this only watches, so a
//! race with the workload's memory changes what is recorded, never what is allowed.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use mandate_types::audit::{SandboxLayer, SandboxRefusal};

use crate::sys::{self, Notification};
use crate::{Plan, Reporter};

/// Longest path read from a process.
const MAX_PATH: usize = 4096;
/// Distinct refusals recorded per session; past it, the rest are counted only.
const MAX_RECORDED: usize = 1000;

/// The syscalls watched.
pub fn watched() -> Vec<libc::c_long> {
    let mut v = vec![
        libc::SYS_openat,
        libc::SYS_openat2,
        libc::SYS_mkdirat,
        libc::SYS_unlinkat,
        libc::SYS_renameat2,
        libc::SYS_linkat,
        libc::SYS_symlinkat,
        libc::SYS_truncate,
        libc::SYS_connect,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        libc::SYS_open,
        libc::SYS_creat,
        libc::SYS_mkdir,
        libc::SYS_rmdir,
        libc::SYS_unlink,
        libc::SYS_rename,
        libc::SYS_renameat,
        libc::SYS_link,
        libc::SYS_symlink,
    ]);
    v
}

/// What one syscall tries.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    Open { path: PathBuf, write: bool },
    Change(PathBuf),
    Connect(SocketAddr),
    ConnectUnix(PathBuf),
}

/// The supervisor's side: judges each notification against the plan.
pub struct Observer {
    plan: Plan,
    reporter: Arc<dyn Reporter>,
    seen: HashSet<(String, String)>,
}

impl Observer {
    pub fn new(plan: Plan, reporter: Arc<dyn Reporter>) -> Self {
        Self {
            plan,
            reporter,
            seen: HashSet::new(),
        }
    }

    /// Serves the listener until it fails (every watched process is gone).
    pub fn run(mut self, listener: OwnedFd) {
        let fd = listener.as_fd();
        sys::sync_wake_up(fd);
        loop {
            match sys::notification(fd) {
                Ok(Some(n)) => {
                    // Read what it tries while it waits, record a refusal before the
                    // kernel answers it, then let it go on.
                    if let Some(r) = attempt(&n).and_then(|a| self.refusal(&n, a))
                        && sys::still_pending(fd, n.id)
                    {
                        self.reporter.refusal(r);
                    }
                    sys::continue_syscall(fd, n.id);
                }
                Ok(None) => continue,
                Err(_) => return,
            }
        }
    }

    fn refusal(&mut self, n: &Notification, a: Attempt) -> Option<SandboxRefusal> {
        let (layer, operation, target, detail) = match a {
            Attempt::Open { path, write } => {
                // Most opens a refusal could come from are reads of paths that do not
                // exist (a loader probing its search path): one stat settles those.
                if !write && !path.starts_with("/proc") && std::fs::symlink_metadata(&path).is_err()
                {
                    return None;
                }
                let path = resolve(n.pid, &path)?;
                if self.plan.allows(&path, write) || (!write && !path.exists()) {
                    return None;
                }
                let op = if write { "write" } else { "read" };
                let why = self.why(&path, write);
                (SandboxLayer::Landlock, op, path.display().to_string(), why)
            }
            Attempt::Change(path) => {
                let path = resolve(n.pid, &path)?;
                if self.plan.allows(&path, true) {
                    return None;
                }
                let why = self.why(&path, true);
                (
                    SandboxLayer::Landlock,
                    "write",
                    path.display().to_string(),
                    why,
                )
            }
            Attempt::Connect(addr) => {
                let detail = self.unreachable(addr)?;
                (SandboxLayer::Network, "connect", addr.to_string(), detail)
            }
            Attempt::ConnectUnix(path) => {
                let path = resolve(n.pid, &path)?;
                if !self.plan.hidden_sockets.contains(&path) {
                    return None;
                }
                let detail = format!(
                    "{} is a daemon's or agent's socket (it acts with more than the task's rights); the sandbox hides it",
                    path.display()
                );
                (
                    SandboxLayer::Network,
                    "connect",
                    format!("unix:{}", path.display()),
                    detail,
                )
            }
        };
        if self.seen.len() >= MAX_RECORDED
            || !self.seen.insert((operation.to_owned(), target.clone()))
        {
            return None;
        }
        Some(SandboxRefusal {
            task: self.plan.task.clone(),
            layer,
            operation: operation.to_owned(),
            target,
            detail,
            program: std::fs::read_link(format!("/proc/{}/exe", n.pid))
                .ok()
                .map(|p| p.display().to_string()),
            sandbox: Some(self.plan.layers),
        })
    }

    fn why(&self, path: &Path, write: bool) -> String {
        let p = path.display();
        if self.plan.is_denied(path) {
            format!("{p} is sensitive or Mandate's own; the sandbox keeps it out of reach")
        } else if self.plan.read_only.iter().any(|r| path.starts_with(r)) {
            format!("{p} is an assistant's hook configuration, read-only in the sandbox")
        } else if write {
            format!(
                "{p} is outside what the task may change (the repository, its temp dir, caches)"
            )
        } else {
            format!(
                "{p} is outside what the task may read (the repository, system and toolchain directories)"
            )
        }
    }

    /// Why a connection to `addr` goes nowhere, or `None` when it may reach something
    /// (the proxy bridge, the resolver, a server inside the sandbox).
    fn unreachable(&self, addr: SocketAddr) -> Option<String> {
        let net = self.plan.network.as_ref()?;
        if !addr.ip().is_loopback() && !is_v4_mapped_loopback(addr.ip()) {
            return Some(format!(
                "the sandbox's network has no route to {addr}; its one way out is the egress proxy (HTTP(S)_PROXY)"
            ));
        }
        if addr.port() == net.proxy_port || addr.port() == 53 || listening(addr.port()) {
            return None;
        }
        Some(format!(
            "nothing listens on {addr} inside the sandbox; the machine's own services are not reachable from it"
        ))
    }
}

fn is_v4_mapped_loopback(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
}

/// Whether a TCP socket listens on `port` in this network namespace.
fn listening(port: u16) -> bool {
    let hex = format!(":{port:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        std::fs::read_to_string(f).is_ok_and(|t| {
            t.lines().skip(1).any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.get(1)
                    .is_some_and(|local| format!("{local} ").ends_with(&hex))
                    && cols.get(3) == Some(&"0A")
            })
        })
    })
}

/// What notification `n` tries, read from the process.
fn attempt(n: &Notification) -> Option<Attempt> {
    let a = n.args;
    let nr = libc::c_long::from(n.nr);
    let at = |dirfd: u64, ptr: u64| at_path(n.pid, dirfd, ptr);
    let write_flags = |flags: u64| {
        let f = flags as libc::c_int;
        f & (libc::O_WRONLY | libc::O_RDWR) != 0 || f & (libc::O_CREAT | libc::O_TRUNC) != 0
    };
    let cwd = u64::from(libc::AT_FDCWD as u32);
    #[cfg(target_arch = "x86_64")]
    {
        match nr {
            libc::SYS_open => {
                return Some(Attempt::Open {
                    path: at(cwd, a[0])?,
                    write: write_flags(a[1]),
                });
            }
            libc::SYS_creat => return Some(Attempt::Change(at(cwd, a[0])?)),
            libc::SYS_mkdir | libc::SYS_rmdir | libc::SYS_unlink => {
                return Some(Attempt::Change(at(cwd, a[0])?));
            }
            libc::SYS_rename | libc::SYS_link | libc::SYS_symlink => {
                return Some(Attempt::Change(at(cwd, a[1])?));
            }
            libc::SYS_renameat => return Some(Attempt::Change(at(a[2], a[3])?)),
            _ => {}
        }
    }
    match nr {
        libc::SYS_openat => Some(Attempt::Open {
            path: at(a[0], a[1])?,
            write: write_flags(a[2]),
        }),
        libc::SYS_openat2 => {
            let mut how = [0u8; 8];
            sys::read_memory(n.pid, a[2], &mut how).ok()?;
            Some(Attempt::Open {
                path: at(a[0], a[1])?,
                write: write_flags(u64::from_ne_bytes(how)),
            })
        }
        libc::SYS_mkdirat | libc::SYS_unlinkat => Some(Attempt::Change(at(a[0], a[1])?)),
        libc::SYS_renameat2 | libc::SYS_linkat => Some(Attempt::Change(at(a[2], a[3])?)),
        libc::SYS_symlinkat => Some(Attempt::Change(at(a[1], a[2])?)),
        libc::SYS_truncate => Some(Attempt::Change(at(cwd, a[0])?)),
        libc::SYS_connect => socket_address(n.pid, a[1], a[2]),
        _ => None,
    }
}

/// The path argument at `ptr`, made absolute against `dirfd` of process `pid`.
fn at_path(pid: u32, dirfd: u64, ptr: u64) -> Option<PathBuf> {
    let raw = read_string(pid, ptr)?;
    let p = PathBuf::from(<std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(raw));
    if p.is_absolute() {
        return Some(p);
    }
    let dirfd = dirfd as i32;
    let base = if dirfd == libc::AT_FDCWD {
        std::fs::read_link(format!("/proc/{pid}/cwd")).ok()?
    } else {
        std::fs::read_link(format!("/proc/{pid}/fd/{dirfd}")).ok()?
    };
    Some(base.join(p))
}

fn read_string(pid: u32, ptr: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut chunk = [0u8; 256];
    let mut addr = ptr;
    while out.len() < MAX_PATH {
        // Up to the page end first, so a string near unmapped memory still reads.
        let to_page_end = 4096 - (addr % 4096) as usize;
        let want = chunk.len().min(to_page_end);
        let n = sys::read_memory(pid, addr, &mut chunk[..want]).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = chunk[..n].iter().position(|b| *b == 0) {
            out.extend_from_slice(&chunk[..end]);
            return Some(out);
        }
        out.extend_from_slice(&chunk[..n]);
        addr += n as u64;
    }
    None
}

/// The destination of a `connect`: an IPv4 or IPv6 address, or a Unix socket's path
/// (abstract sockets are left to Landlock's scope).
fn socket_address(pid: u32, ptr: u64, len: u64) -> Option<Attempt> {
    // sockaddr_un is the largest: a family and 108 bytes of path.
    let mut buf = [0u8; 110];
    let len = usize::try_from(len).ok()?.min(buf.len());
    let n = sys::read_memory(pid, ptr, &mut buf[..len]).ok()?;
    let family = u16::from_ne_bytes([*buf.first()?, *buf.get(1)?]);
    let port = u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]);
    match i32::from(family) {
        libc::AF_INET if n >= 8 => Some(Attempt::Connect(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(buf[4], buf[5], buf[6], buf[7])),
            port,
        ))),
        libc::AF_INET6 if n >= 24 => {
            let octets: [u8; 16] = buf[8..24].try_into().ok()?;
            Some(Attempt::Connect(SocketAddr::new(
                IpAddr::V6(Ipv6Addr::from(octets)),
                port,
            )))
        }
        libc::AF_UNIX if n > 2 && buf[2] != 0 => {
            let path = &buf[2..n];
            let end = path.iter().position(|b| *b == 0).unwrap_or(path.len());
            Some(Attempt::ConnectUnix(PathBuf::from(
                <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(
                    path[..end].to_vec(),
                ),
            )))
        }
        _ => None,
    }
}

/// `path` as the process sees it, resolved as far as it exists (symbolic links
/// followed, `/proc/self` being the process's own), then lexically. `None` for a
/// descriptor re-opened through `/proc/PID/fd/N` that names no file (a pipe, a
/// socket): Landlock has no say over those.
fn resolve(pid: u32, path: &Path) -> Option<PathBuf> {
    // Names of the process's own descriptors, which would otherwise resolve to ours.
    let own = Path::new("/proc").join(pid.to_string());
    let path = lexical(path);
    let path = if let Ok(rest) = path.strip_prefix("/proc/self") {
        own.join(rest)
    } else if let Ok(rest) = path.strip_prefix("/proc/thread-self") {
        own.join(rest)
    } else if let Ok(rest) = path.strip_prefix("/dev/fd") {
        own.join("fd").join(rest)
    } else if let Some(n) = ["/dev/stdin", "/dev/stdout", "/dev/stderr"]
        .iter()
        .position(|p| path == Path::new(p))
    {
        own.join("fd").join(n.to_string())
    } else {
        path
    };
    let mut parts = path.components().skip(1);
    if let (Some(Component::Normal(proc_)), Some(_), Some(Component::Normal(fd)), Some(_)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
        && proc_ == "proc"
        && fd == "fd"
    {
        let target = std::fs::read_link(&path).ok()?;
        return target.is_absolute().then_some(target);
    }
    Some(resolve_existing(path))
}

fn resolve_existing(path: PathBuf) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(&path) {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|p| p.join(name))
            .unwrap_or(path.clone()),
        _ => path,
    }
}

fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_absolute_and_plain() {
        assert_eq!(lexical(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
        assert_eq!(lexical(Path::new("/../x")), PathBuf::from("/x"));
    }
}
