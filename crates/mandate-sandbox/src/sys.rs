//! Every syscall the sandbox makes, each with why it is sound. Nothing here allocates
//! between `fork` and `_exit`.
#![allow(
    unsafe_code,
    reason = "the one module of syscalls; each call has a SAFETY note"
)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::SandboxError;

fn check(ret: libc::c_int, what: &str) -> Result<(), SandboxError> {
    if ret == -1 {
        Err(SandboxError::Sys {
            what: what.to_owned(),
            source: io::Error::last_os_error(),
        })
    } else {
        Ok(())
    }
}

fn c_path(p: &Path) -> Result<CString, SandboxError> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| SandboxError::Plan(format!("{} holds a NUL byte", p.display())))
}

/// The newest Landlock ABI the kernel offers, or `None`.
pub fn landlock_abi() -> Option<u8> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag the syscall
    // reads and writes no memory; it returns the ABI number or -1.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u8::try_from(v).ok().filter(|v| *v > 0)
}

/// Whether a child of this process can make a user and a network namespace.
pub fn can_unshare_user_and_net() -> bool {
    // SAFETY: the child only calls `unshare` and `_exit`, both async-signal-safe, so
    // forking a process that may have other threads is sound.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: see above; the child never returns into Rust code.
        unsafe {
            let ok = libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) == 0;
            libc::_exit(if ok { 0 } else { 1 });
        }
    }
    if pid < 0 {
        return false;
    }
    let mut status = 0;
    // SAFETY: `pid` is our child; `status` is a valid out-pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    waited == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
}

/// Whether seccomp filters can be loaded.
pub fn seccomp_available() -> bool {
    // SAFETY: PR_GET_SECCOMP takes no pointer arguments.
    let r = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
    r >= 0 && Path::new("/proc/self/status").exists() && {
        std::fs::read_to_string("/proc/self/status").is_ok_and(|s| s.contains("Seccomp_filters"))
            || r == 0
    }
}

/// The effective user and group ids.
pub fn ids() -> (u32, u32) {
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

/// Moves this (single-threaded) process into new namespaces.
pub fn unshare(flags: libc::c_int) -> Result<(), SandboxError> {
    // SAFETY: unshare takes only flags; the caller is single-threaded, as
    // CLONE_NEWUSER requires.
    check(unsafe { libc::unshare(flags) }, "unshare")
}

/// Stops mounts made here from reaching the parent namespace.
pub fn make_mounts_private() -> Result<(), SandboxError> {
    let root = c"/";
    // SAFETY: all pointers are valid NUL-terminated strings or null, as mount(2) allows
    // for a propagation change.
    check(
        unsafe {
            libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        },
        "making / private",
    )
}

/// Bind-mounts `src` over `dst`.
pub fn bind(src: &Path, dst: &Path) -> Result<(), SandboxError> {
    let (s, d) = (c_path(src)?, c_path(dst)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    check(
        unsafe {
            libc::mount(
                s.as_ptr(),
                d.as_ptr(),
                std::ptr::null(),
                libc::MS_BIND,
                std::ptr::null(),
            )
        },
        &format!("bind-mounting {} on {}", src.display(), dst.display()),
    )
}

/// Makes `path` a read-only bind mount of itself. The flags the mount already has
/// (`nosuid`, `nodev`, `noexec`, ...) are kept: a user namespace may not clear them.
pub fn bind_read_only(path: &Path) -> Result<(), SandboxError> {
    bind(path, path)?;
    let p = c_path(path)?;
    // SAFETY: statvfs writes into a zeroed struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `p` is a valid path string and `st` a valid out-pointer.
    check(
        unsafe { libc::statvfs(p.as_ptr(), &mut st) },
        &format!("statvfs {}", path.display()),
    )?;
    let mut flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
    for (st_flag, ms_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if st.f_flag & st_flag != 0 {
            flags |= ms_flag;
        }
    }
    // SAFETY: as in `bind`.
    check(
        unsafe {
            libc::mount(
                std::ptr::null(),
                p.as_ptr(),
                std::ptr::null(),
                flags,
                std::ptr::null(),
            )
        },
        &format!("remounting {} read-only", path.display()),
    )
}

/// Brings the loopback interface of the current network namespace up.
pub fn loopback_up() -> Result<(), SandboxError> {
    // SAFETY: socket takes no pointers.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    check(fd, "socket for the loopback interface")?;
    // SAFETY: an all-zero ifreq is valid; we fill the name and flags.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `fd` is our socket and `req` a valid ifreq for SIOCGIFFLAGS/SIOCSIFFLAGS.
    let result = unsafe {
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) == -1 {
            -1
        } else {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            libc::ioctl(fd, libc::SIOCSIFFLAGS, &req)
        }
    };
    let err = io::Error::last_os_error();
    // SAFETY: `fd` is ours and closed once.
    unsafe { libc::close(fd) };
    if result == -1 {
        return Err(SandboxError::Sys {
            what: "bringing the loopback interface up".into(),
            source: err,
        });
    }
    Ok(())
}

/// Empties the capability bounding and ambient sets, so what this process execs holds
/// no capability, even as user 0 of its namespace.
pub fn drop_capabilities() -> Result<(), SandboxError> {
    // A user other than 0 of its namespace came here through exec, which left it no
    // capability (and `no_new_privs` keeps file capabilities from adding any); it also
    // lacks the one needed to shrink the bounding set, and does not need to.
    if ids().0 != 0 && effective_capabilities() == Some(0) {
        return Ok(());
    }
    for cap in 0..64 {
        // SAFETY: as above; EINVAL past the last capability ends the loop.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
        if r == -1 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINVAL) {
                break;
            }
            return Err(SandboxError::Sys {
                what: format!("dropping capability {cap} from the bounding set"),
                source: e,
            });
        }
    }
    // SAFETY: as above.
    check(
        unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            )
        },
        "clearing ambient capabilities",
    )
}

/// The effective capability set, from `/proc/self/status`.
fn effective_capabilities() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(hex.trim(), 16).ok()
}

/// Has the kernel kill this process when its parent (the supervisor) dies.
pub fn die_with_parent() -> Result<(), SandboxError> {
    // SAFETY: prctl with integer arguments only.
    check(
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) },
        "PR_SET_PDEATHSIG",
    )?;
    // SAFETY: getppid cannot fail.
    if unsafe { libc::getppid() } == 1 {
        return Err(SandboxError::Plan(
            "the sandbox's supervisor is gone".into(),
        ));
    }
    Ok(())
}

/// The `seccomp_data.arch` value of this build's architecture.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

/// Loads a filter that hands `syscalls` to a supervisor (user notification) and lets
/// every other through; returns the listener. Requires `no_new_privs`.
pub fn install_notify_filter(syscalls: &[libc::c_long]) -> Result<OwnedFd, SandboxError> {
    let n = syscalls.len();
    let jump = |v: usize| u8::try_from(v).unwrap_or(u8::MAX);
    let stmt = |code: u16, k: u32| libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    };
    const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
    let mut prog = vec![
        stmt(LD_W_ABS, 4),
        libc::sock_filter {
            code: JEQ_K,
            jt: 0,
            jf: jump(n + 1),
            k: AUDIT_ARCH,
        },
        stmt(LD_W_ABS, 0),
    ];
    for (i, nr) in syscalls.iter().enumerate() {
        prog.push(libc::sock_filter {
            code: JEQ_K,
            jt: jump(n - i),
            jf: 0,
            k: u32::try_from(*nr).unwrap_or(u32::MAX),
        });
    }
    prog.push(stmt(RET_K, libc::SECCOMP_RET_ALLOW));
    prog.push(stmt(RET_K, libc::SECCOMP_RET_USER_NOTIF));
    if n + 1 > usize::from(u8::MAX) {
        return Err(SandboxError::Seccomp("too many syscalls to watch".into()));
    }
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).unwrap_or(u16::MAX),
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `prog`, alive for the call; the kernel copies it.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
            &fprog as *const libc::sock_fprog,
        )
    };
    if fd < 0 {
        return Err(SandboxError::Sys {
            what: "loading the seccomp notification filter".into(),
            source: io::Error::last_os_error(),
        });
    }
    let fd =
        i32::try_from(fd).map_err(|_| SandboxError::Seccomp("listener fd out of range".into()))?;
    // SAFETY: the kernel just returned this new descriptor to us; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Runs `f` with a message of one byte and room for one descriptor (SCM_RIGHTS), its
/// buffers alive for the call.
fn with_fd_message<R>(f: impl FnOnce(&mut libc::msghdr) -> R) -> R {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    // SAFETY: CMSG_SPACE is a pure computation.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::c_int>() as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: an all-zero msghdr is valid; we point it at the live buffers above.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    f(&mut msg)
}

/// Sends `fd` over the Unix socket `sock` (SCM_RIGHTS).
pub fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    with_fd_message(|msg| {
        // SAFETY: `msg` has a control buffer of CMSG_SPACE(int) bytes, so the first
        // header exists and its data holds one int.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(msg);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<libc::c_int>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>(), fd.as_raw_fd());
        }
        // SAFETY: `msg` and every buffer it points at are alive for the call.
        let r = unsafe { libc::sendmsg(sock.as_raw_fd(), msg, libc::MSG_NOSIGNAL) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })
}

/// Receives one descriptor sent with [`send_fd`].
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    with_fd_message(|msg| {
        // SAFETY: `msg` points at live buffers; MSG_CMSG_CLOEXEC keeps the fd from
        // leaking into what this process starts.
        let r = unsafe { libc::recvmsg(sock.as_raw_fd(), msg, libc::MSG_CMSG_CLOEXEC) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel filled `msg`; CMSG_FIRSTHDR checks the length before use,
        // and a descriptor received with SCM_RIGHTS is ours alone.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(msg);
            if c.is_null() || (*c).cmsg_type != libc::SCM_RIGHTS {
                return Err(io::Error::other("no descriptor was sent"));
            }
            let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>());
            Ok(OwnedFd::from_raw_fd(fd))
        }
    })
}

/// One syscall a sandboxed process waits on us for.
#[derive(Debug, Clone, Copy)]
pub struct Notification {
    pub id: u64,
    pub pid: u32,
    pub nr: i32,
    pub args: [u64; 6],
}

/// Waits for the next notification. `Ok(None)` when the notified process went away
/// before we read it.
pub fn notification(listener: BorrowedFd<'_>) -> io::Result<Option<Notification>> {
    // SAFETY: the kernel requires a zeroed struct and fills it.
    let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
    // SAFETY: `listener` is a seccomp listener and `req` the struct this ioctl fills.
    let r = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut req,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EINTR) | Some(libc::ENOENT) => Ok(None),
            _ => Err(e),
        };
    }
    Ok(Some(Notification {
        id: req.id,
        pid: req.pid,
        nr: req.data.nr,
        args: req.data.args,
    }))
}

/// Asks the kernel to hand the CPU straight to the supervisor when a sandboxed thread
/// waits on it, and straight back (Linux 6.6+; elsewhere the request fails and the
/// ordinary wake-up stays). Without it each notification pays two scheduler wake-ups.
pub fn sync_wake_up(listener: BorrowedFd<'_>) -> bool {
    const SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: libc::c_ulong = 1;
    // SAFETY: the ioctl takes its flags by value; no memory is passed.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SET_FLAGS,
            SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP,
        ) == 0
    }
}

/// Lets the notified syscall go on to the kernel (and Landlock) as if never stopped.
pub fn continue_syscall(listener: BorrowedFd<'_>, id: u64) {
    let resp = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: 0,
        flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
    };
    // SAFETY: `resp` is a valid response struct for this listener. A failure means the
    // process is gone; there is nothing to continue.
    unsafe { libc::ioctl(listener.as_raw_fd(), libc::SECCOMP_IOCTL_NOTIF_SEND, &resp) };
}

/// Whether notification `id` is still pending (its process has not gone or moved on).
pub fn still_pending(listener: BorrowedFd<'_>, id: u64) -> bool {
    // SAFETY: the ioctl reads one u64 we own.
    unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &id,
        ) == 0
    }
}

/// Reads `buf.len()` bytes (or fewer, where a page is not mapped) at `addr` in `pid`.
pub fn read_memory(pid: u32, addr: u64, buf: &mut [u8]) -> io::Result<usize> {
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let remote = libc::iovec {
        iov_base: addr as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::other("pid out of range"))?;
    // SAFETY: `local` covers `buf`, which we own; the remote side is only read by the
    // kernel, which checks it.
    let n = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Lets `fd` pass to the next program this process starts.
pub fn inheritable(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we hold, with integer arguments.
    let r = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, 0) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes ownership of descriptor `n`, which the supervisor passed down by number.
pub fn inherited_fd(n: i32) -> Option<OwnedFd> {
    // SAFETY: F_GETFD only asks whether `n` is open.
    if n < 3 || unsafe { libc::fcntl(n, libc::F_GETFD) } < 0 {
        return None;
    }
    // SAFETY: `n` is open, was handed to this process for it alone (by the supervisor,
    // on its command line), and nothing else in this process refers to it.
    Some(unsafe { OwnedFd::from_raw_fd(n) })
}
