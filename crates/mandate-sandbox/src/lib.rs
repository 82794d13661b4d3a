//! The kernel sandbox under a task's mandate (`mandate run --sandbox`, Linux).
//!
//! The hooks see what an assistant says it will do; this crate makes the kernel hold the
//! same mandate for everything the assistant and its children actually do:
//!
//! - **Filesystem** ([`landlock`](mod@crate::landlock)): read and write in the repository
//!   and the task's temp dir, read and execute in system and toolchain directories,
//!   nothing in sensitive places, Mandate's data dir or the policy; hook configuration
//!   inside writable trees is mounted read-only.
//! - **Network** ([`net`]): a network namespace of its own with loopback only; its one way
//!   out is a bridge to the egress proxy, and its DNS is answered by [`dns`], which asks
//!   the broker.
//! - **Syscalls** ([`seccomp`]): what a coding workload has no use for is refused.
//!
//! [`Plan`] says what to enforce; [`supervise`] runs the workload under it (stage one:
//! namespaces, mounts, network, then stage two: [`enforce`] in a fresh process, which
//! restricts itself and execs the workload). Every syscall is in [`sys`].

pub mod dns;
mod error;
pub mod landlock;
pub mod net;
mod observe;
mod plan;
pub mod probe;
pub mod seccomp;
mod supervise;
mod sys;

pub use error::SandboxError;
pub use plan::{HomeEntry, NetworkPlan, Plan, PlanInputs};
pub use probe::Support;
pub use supervise::{Reporter, enforce, supervise};
