//! Every syscall the sandbox makes, each with why it is sound. Nothing here allocates
//! between `fork` and `_exit`.
#![allow(unsafe_code, reason = "the one module of syscalls; each call has a SAFETY note")]

use std::ffi::CString;
use std::io;
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
    // SAFETY: prctl with integer arguments only.
    let last = unsafe { libc::prctl(libc::PR_CAPBSET_READ, 0, 0, 0, 0) };
    check(last, "reading the capability bounding set")?;
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
