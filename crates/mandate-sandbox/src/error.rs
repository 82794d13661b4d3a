//! What can go wrong setting up the sandbox.

/// Why the sandbox could not be set up. Each is fatal: a workload never starts with
/// less than it was promised.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The kernel lacks something the sandbox needs.
    #[error("the kernel cannot provide {0}")]
    Unsupported(String),
    /// A syscall failed.
    #[error("{what}: {source}")]
    Sys {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Landlock refused the ruleset.
    #[error("landlock: {0}")]
    Landlock(String),
    /// The seccomp filter could not be built or loaded.
    #[error("seccomp: {0}")]
    Seccomp(String),
    /// The plan is inconsistent with what it protects.
    #[error("{0}")]
    Plan(String),
}

impl SandboxError {
    pub(crate) fn sys(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Sys { what, source }
    }
}
