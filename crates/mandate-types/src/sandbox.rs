//! Which layers of the kernel sandbox hold a task (`mandate run --sandbox`): declared
//! when the task starts, signed into its mandate, and repeated on every decision record
//! of the task, so a reader of the audit knows what the kernel enforced around it.

use serde::{Deserialize, Serialize};

/// The sandbox layers that are active around a task's processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxLayers {
    /// The Landlock ABI the filesystem rules were made with; `None` when the kernel has
    /// no Landlock and the user accepted that (`--sandbox=best-effort`).
    pub landlock_abi: Option<u8>,
    /// Whether the processes run in a network namespace of their own whose only way out
    /// is the egress proxy (and whose DNS is Mandate's resolver).
    pub network: bool,
    /// Whether the seccomp filter (the syscalls a coding workload does not need) holds.
    pub seccomp: bool,
    /// Whether the user allowed missing layers (`--sandbox=best-effort`) rather than
    /// refusing to start.
    pub best_effort: bool,
}

impl SandboxLayers {
    /// Whether every layer is active.
    pub fn complete(&self) -> bool {
        self.landlock_abi.is_some() && self.network && self.seccomp
    }
}

impl std::fmt::Display for SandboxLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let landlock = match self.landlock_abi {
            Some(abi) => format!("landlock(abi {abi})"),
            None => "no landlock".into(),
        };
        let network = if self.network {
            "network namespace"
        } else {
            "host network"
        };
        let seccomp = if self.seccomp {
            "seccomp"
        } else {
            "no seccomp"
        };
        write!(f, "{landlock}, {network}, {seccomp}")?;
        if self.best_effort {
            f.write_str(" (best effort)")?;
        }
        Ok(())
    }
}
