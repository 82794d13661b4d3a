//! The syscalls a coding workload has no use for, refused with `EPERM`.
//!
//! Builds, tests, package managers, editors, interpreters and assistants need none of
//! these; each is a way to widen or leave the sandbox, or to reach the kernel's
//! riskiest surfaces:
//!
//! | syscalls | why refused |
//! |---|---|
//! | `mount`, `umount2`, `pivot_root`, `move_mount`, `open_tree`, `fsopen`, `fsconfig`, `fsmount`, `fspick`, `mount_setattr`, `chroot` | re-arranging the filesystem under Landlock's rules or the read-only hook configuration |
//! | `unshare`, `setns`, `clone` with namespace flags; `clone3` (as `ENOSYS`, so libc falls back to `clone`, whose flags can be checked) | new user namespaces regain capabilities; other namespaces escape the network one |
//! | `bpf`, `perf_event_open`, `userfaultfd`, `io_uring_*` | kernel attack surface; io_uring also runs I/O that seccomp never sees |
//! | `keyctl`, `add_key`, `request_key` | kernel keyrings are shared with the user's session outside |
//! | `kexec_load`, `kexec_file_load`, `init_module`, `finit_module`, `delete_module`, `reboot`, `swapon`, `swapoff`, `acct`, `quotactl*`, `syslog`, `iopl`, `ioperm` | the machine's own administration |
//! | `open_by_handle_at`, `name_to_handle_at` | opening files by handle bypasses path-based rules |
//! | `fanotify_init` | watching other processes' file access |
//! | `settimeofday`, `clock_settime`, `clock_adjtime`, `adjtimex` | moving the clock moves token expiry |
//! | `sethostname`, `setdomainname`, `vhangup`, `uselib` | administration and obsolete calls |
//! | `personality` other than the default, a query or 32-bit Linux | turning off address-space randomisation and similar tricks |
//! | `ioctl(TIOCSTI)`, `ioctl(TIOCLINUX)` | typing into the user's terminal outside the sandbox |
//!
//! `ptrace` stays: Landlock (ABI 6 scopes, and its ptrace rule since ABI 1) lets a
//! sandboxed process trace only processes inside the sandbox, so debuggers work.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::SandboxError;

/// Refused outright.
const DENIED: &[(&str, libc::c_long)] = &[
    ("mount", libc::SYS_mount),
    ("umount2", libc::SYS_umount2),
    ("pivot_root", libc::SYS_pivot_root),
    ("move_mount", libc::SYS_move_mount),
    ("open_tree", libc::SYS_open_tree),
    ("fsopen", libc::SYS_fsopen),
    ("fsconfig", libc::SYS_fsconfig),
    ("fsmount", libc::SYS_fsmount),
    ("fspick", libc::SYS_fspick),
    ("mount_setattr", libc::SYS_mount_setattr),
    ("chroot", libc::SYS_chroot),
    ("unshare", libc::SYS_unshare),
    ("setns", libc::SYS_setns),
    ("bpf", libc::SYS_bpf),
    ("perf_event_open", libc::SYS_perf_event_open),
    ("userfaultfd", libc::SYS_userfaultfd),
    ("io_uring_setup", libc::SYS_io_uring_setup),
    ("io_uring_enter", libc::SYS_io_uring_enter),
    ("io_uring_register", libc::SYS_io_uring_register),
    ("keyctl", libc::SYS_keyctl),
    ("add_key", libc::SYS_add_key),
    ("request_key", libc::SYS_request_key),
    ("kexec_load", libc::SYS_kexec_load),
    ("kexec_file_load", libc::SYS_kexec_file_load),
    ("init_module", libc::SYS_init_module),
    ("finit_module", libc::SYS_finit_module),
    ("delete_module", libc::SYS_delete_module),
    ("reboot", libc::SYS_reboot),
    ("swapon", libc::SYS_swapon),
    ("swapoff", libc::SYS_swapoff),
    ("acct", libc::SYS_acct),
    ("quotactl", libc::SYS_quotactl),
    ("quotactl_fd", libc::SYS_quotactl_fd),
    ("syslog", libc::SYS_syslog),
    ("open_by_handle_at", libc::SYS_open_by_handle_at),
    ("name_to_handle_at", libc::SYS_name_to_handle_at),
    ("fanotify_init", libc::SYS_fanotify_init),
    ("settimeofday", libc::SYS_settimeofday),
    ("clock_settime", libc::SYS_clock_settime),
    ("clock_adjtime", libc::SYS_clock_adjtime),
    ("adjtimex", libc::SYS_adjtimex),
    ("sethostname", libc::SYS_sethostname),
    ("setdomainname", libc::SYS_setdomainname),
    ("vhangup", libc::SYS_vhangup),
    #[cfg(target_arch = "x86_64")]
    ("iopl", libc::SYS_iopl),
    #[cfg(target_arch = "x86_64")]
    ("ioperm", libc::SYS_ioperm),
    #[cfg(target_arch = "x86_64")]
    ("uselib", libc::SYS_uselib),
];

/// Namespace flags refused in `clone`.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWNS,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

/// `personality` values allowed: the default, a query, 32-bit Linux.
const PERSONALITIES: &[u64] = &[0, 0xffff_ffff, 0x0008];

#[cfg(target_arch = "x86_64")]
const ARCH: TargetArch = TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const ARCH: TargetArch = TargetArch::aarch64;

/// The two filters, loaded in this order: the refusals (`EPERM`), and `clone3`
/// answered `ENOSYS`.
pub fn filters() -> Result<[BpfProgram; 2], SandboxError> {
    let err = |e: seccompiler::BackendError| SandboxError::Seccomp(e.to_string());
    let cond = |arg: u8, len, op, value| SeccompCondition::new(arg, len, op, value).map_err(err);
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        DENIED.iter().map(|(_, nr)| (*nr, Vec::new())).collect();
    let mut clone_rules = Vec::new();
    for flag in NAMESPACE_FLAGS {
        let f = u64::from(flag.unsigned_abs());
        clone_rules.push(
            SeccompRule::new(vec![cond(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(f),
                f,
            )?])
            .map_err(err)?,
        );
    }
    rules.insert(libc::SYS_clone, clone_rules);
    let personality = PERSONALITIES
        .iter()
        .map(|v| cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *v))
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(
        libc::SYS_personality,
        vec![SeccompRule::new(personality).map_err(err)?],
    );
    let tty = [libc::TIOCSTI, libc::TIOCLINUX]
        .iter()
        .map(|req| {
            SeccompRule::new(vec![cond(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                u64::from(*req as u32),
            )?])
            .map_err(err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(libc::SYS_ioctl, tty);
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        ARCH,
    )
    .map_err(err)?;
    let clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        ARCH,
    )
    .map_err(err)?;
    Ok([
        deny.try_into().map_err(err)?,
        clone3.try_into().map_err(err)?,
    ])
}

/// Loads the filters into this thread (and what it execs). Sets `no_new_privs`.
pub fn apply() -> Result<(), SandboxError> {
    for f in filters()? {
        seccompiler::apply_filter(&f).map_err(|e| SandboxError::Seccomp(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_filters_compile() {
        let [deny, clone3] = super::filters().unwrap();
        assert!(deny.len() > 50);
        assert!(!clone3.is_empty());
    }
}
