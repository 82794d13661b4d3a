//! What the running kernel offers the sandbox.

use crate::sys;

/// The kernel features the sandbox can use here, as this user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Support {
    /// The newest Landlock ABI the kernel offers (`None`: no Landlock).
    pub landlock_abi: Option<u8>,
    /// Whether this user can create user (hence network and mount) namespaces.
    pub user_namespaces: bool,
    /// Whether seccomp filters can be loaded.
    pub seccomp: bool,
}

impl Support {
    /// Asks the kernel. The namespace check forks a child that tries `unshare`, so a
    /// kernel or container policy that forbids it is seen, not guessed.
    pub fn probe() -> Self {
        Self {
            landlock_abi: sys::landlock_abi(),
            user_namespaces: sys::can_unshare_user_and_net(),
            seccomp: sys::seccomp_available(),
        }
    }

    /// What is missing for a complete sandbox, for a human.
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.landlock_abi.is_none() {
            out.push("Landlock (Linux 5.13+, with landlock in the lsm= boot list)".to_owned());
        }
        if !self.user_namespaces {
            out.push(
                "user and network namespaces for this user (kernel.unprivileged_userns_clone, user.max_user_namespaces, or an AppArmor restriction)"
                    .to_owned(),
            );
        }
        if !self.seccomp {
            out.push("seccomp filters (CONFIG_SECCOMP_FILTER)".to_owned());
        }
        out
    }
}
