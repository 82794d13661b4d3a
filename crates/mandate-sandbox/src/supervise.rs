//! Running a workload under a [`Plan`], in two stages.
//!
//! Stage one, [`supervise`], is the workload's parent for its whole life: it moves
//! into new user, mount and network namespaces (while still single-threaded, as the
//! kernel requires), mounts the hook configuration read-only and its own
//! `resolv.conf`, brings loopback up, starts the proxy bridge and the resolver, then
//! starts stage two and waits. It is not itself restricted: it must reach the
//! broker's socket and the proxy bridge, and Landlock keeps the workload from
//! touching it (no ptrace, no signals across the domain).
//!
//! Stage two, [`enforce`], runs in a fresh single-threaded process: it asks to die
//! with the supervisor, empties its capability sets, restricts itself with Landlock,
//! loads the seccomp filters and execs the workload. Nothing the workload can set
//! (environment, files, flags) reaches either stage: the plan is read from Mandate's
//! data dir, which the workload cannot read.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::Arc;

use mandate_types::audit::SandboxRefusal;

use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;

use crate::observe::{self, Observer};
use crate::{Plan, SandboxError, dns, net, sys};

/// Where the supervisor reports: the broker, reached with the task's token.
pub trait Reporter: Send + Sync + 'static {
    /// The addresses of `name` if the task may reach it, else why not (the broker has
    /// recorded the refusal).
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String>;
    /// Records what the kernel refused (best effort: the refusal itself stands).
    fn refusal(&self, refusal: SandboxRefusal);
}

/// Stage one: sets up the namespaces and runs `stage_two(fd)` (this program again,
/// with arguments that make it call [`enforce`] with `fd` as its channel back) as the
/// workload's parent. Returns the workload's exit status.
pub fn supervise(
    plan: &Plan,
    stage_two: impl FnOnce(i32) -> Command,
    reporter: Arc<dyn Reporter>,
) -> Result<ExitStatus, SandboxError> {
    let (uid, gid) = sys::ids();
    // User namespaces come with the network layer; without them (best effort) there
    // are no namespaces, and no read-only mounts either.
    let namespaces = plan.layers.network;
    if namespaces {
        let mut flags = libc::CLONE_NEWUSER | libc::CLONE_NEWNS;
        if plan.layers.network {
            flags |= libc::CLONE_NEWNET;
        }
        sys::unshare(flags)?;
        write_id_maps(uid, gid)?;
        sys::make_mounts_private()?;
        for p in &plan.read_only {
            sys::bind_read_only(p)?;
        }
        for p in &plan.hidden_sockets {
            sys::bind(Path::new("/dev/null"), p)?;
        }
    }
    if let (true, Some(netplan)) = (plan.layers.network, &plan.network) {
        sys::loopback_up()?;
        sys::bind(&netplan.resolv_conf, Path::new("/etc/resolv.conf"))?;
        let proxy = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, netplan.proxy_port)))
            .map_err(SandboxError::sys(
                "listening for the proxy inside the namespace",
            ))?;
        let outside = netplan.proxy_socket.clone();
        std::thread::spawn(move || net::serve_into_unix(proxy, outside));
        let resolver = UdpSocket::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 53)))
            .map_err(SandboxError::sys("listening for DNS inside the namespace"))?;
        let r = reporter.clone();
        std::thread::spawn(move || serve_dns(&resolver, r.as_ref()));
    }
    // Stage two sends back the listener of its notification filter on this pair.
    let (ours, theirs) =
        UnixStream::pair().map_err(SandboxError::sys("making the notification channel"))?;
    sys::inheritable(theirs.as_fd()).map_err(SandboxError::sys("passing the channel down"))?;
    let mut child = stage_two(theirs.as_raw_fd())
        .spawn()
        .map_err(SandboxError::sys("starting the sandboxed process"))?;
    drop(theirs);
    // An error means stage two failed before it could send the listener; its error
    // is on stderr and the child is about to exit.
    if let Ok(listener) = sys::recv_fd(ours.as_fd()) {
        let observer = Observer::new(plan.clone(), reporter);
        std::thread::spawn(move || observer.run(listener));
    }
    child
        .wait()
        .map_err(SandboxError::sys("waiting for the sandboxed process"))
}

/// Stage two: restricts this process and execs `command`. Returns only on failure.
/// `notify` is the channel (a descriptor number from the supervisor) on which the
/// listener of the notification filter goes back to it.
pub fn enforce(plan: &Plan, notify: Option<i32>, command: &[OsString]) -> SandboxError {
    let Some((program, args)) = command.split_first() else {
        return SandboxError::Plan("no command to run".into());
    };
    let restricted = (|| {
        sys::die_with_parent()?;
        if plan.layers.network {
            sys::drop_capabilities()?;
        }
        if let Some(abi) = plan.layers.landlock_abi {
            crate::landlock::restrict_self(plan, abi)?;
        }
        if plan.layers.seccomp {
            crate::seccomp::apply()?;
        }
        if let Some(channel) = notify.and_then(sys::inherited_fd) {
            let listener = sys::install_notify_filter(&observe::watched())?;
            sys::send_fd(channel.as_fd(), listener.as_fd())
                .map_err(SandboxError::sys("handing the notification listener over"))?;
        }
        Ok::<(), SandboxError>(())
    })();
    if let Err(e) = restricted {
        return e;
    }
    let e = Command::new(program).args(args).exec();
    SandboxError::Sys {
        what: format!("running {}", program.to_string_lossy()),
        source: e,
    }
}

/// Maps the user's own ids into the new user namespace, and nothing else.
fn write_id_maps(uid: u32, gid: u32) -> Result<(), SandboxError> {
    let write = |file: &str, content: String| {
        std::fs::write(format!("/proc/self/{file}"), content)
            .map_err(SandboxError::sys(format!("writing /proc/self/{file}")))
    };
    write("setgroups", "deny".into())?;
    write("uid_map", format!("{uid} {uid} 1\n"))?;
    write("gid_map", format!("{gid} {gid} 1\n"))
}

/// Answers DNS queries on `socket` until it fails.
fn serve_dns(socket: &UdpSocket, reporter: &dyn Reporter) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf) else {
            return;
        };
        let reply = match dns::parse(&buf[..n]) {
            Ok(q) => {
                let addresses = reporter.lookup(&q.name).ok();
                dns::answer(&q, addresses.as_deref())
            }
            Err(m) => match dns::answer_malformed(&m) {
                Some(r) => r,
                None => continue,
            },
        };
        let _ = socket.send_to(&reply, peer);
    }
}
