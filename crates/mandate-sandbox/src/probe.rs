//! What the running kernel offers the sandbox.

use mandate_types::SandboxLayers;

use crate::{SandboxError, sys};

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

    /// The layers to run with: every one, or — only when the user said
    /// `best_effort` — those the kernel has. Without `best_effort`, anything missing
    /// refuses the start, naming what is missing.
    pub fn layers(&self, best_effort: bool) -> Result<SandboxLayers, SandboxError> {
        let missing = self.missing();
        if !missing.is_empty() && !best_effort {
            return Err(SandboxError::Unsupported(missing.join("; ")));
        }
        Ok(SandboxLayers {
            landlock_abi: self.landlock_abi,
            network: self.user_namespaces,
            seccomp: self.seccomp,
            best_effort,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: Support = Support {
        landlock_abi: Some(7),
        user_namespaces: true,
        seccomp: true,
    };

    #[test]
    fn a_missing_layer_refuses_the_start_unless_the_user_accepts_less() {
        assert!(FULL.layers(false).unwrap().complete());
        let no_landlock = Support {
            landlock_abi: None,
            ..FULL
        };
        let err = no_landlock.layers(false).unwrap_err().to_string();
        assert!(err.contains("Landlock"), "{err}");
        let accepted = no_landlock.layers(true).unwrap();
        assert_eq!(accepted.landlock_abi, None);
        assert!(accepted.best_effort && !accepted.complete());
        let no_userns = Support {
            user_namespaces: false,
            ..FULL
        };
        assert!(
            no_userns
                .layers(false)
                .unwrap_err()
                .to_string()
                .contains("namespaces")
        );
        assert!(!no_userns.layers(true).unwrap().network);
    }

    #[test]
    fn this_kernel_is_probed_without_failing() {
        let s = Support::probe();
        // Whatever it has, the answer is consistent with what is missing.
        assert_eq!(s.missing().is_empty(), s.layers(false).is_ok());
    }
}
