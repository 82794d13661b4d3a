//! The plan's filesystem rules as a Landlock ruleset.
//!
//! Rights by ABI (each ABI keeps the earlier ones):
//! - 1 (Linux 5.13): execute, read/write files, read directories, remove, make
//!   files/dirs/sockets/fifos/devices/symlinks — and no `mount` for the sandboxed;
//! - 2 (5.19): `refer` — link or rename across directories (without it, never);
//! - 3 (6.2): `truncate`;
//! - 4 (6.7): TCP bind/connect by port (not used: the network namespace holds the
//!   network, and per-port rules would break a test server inside the sandbox);
//! - 5 (6.10): `ioctl` on device files;
//! - 6 (6.12): scopes — no signals to, and no abstract Unix sockets of, processes
//!   outside the sandbox;
//! - 7 (6.15): audit logging of denials (not needed here: the supervisor records them);
//! - 9: connecting to pathname Unix sockets (used when the kernel has it).

use std::path::Path;

use landlock::{
    ABI, Access, AccessFs, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope,
};

use crate::{Plan, SandboxError};

/// The `landlock` crate's ABI value for the kernel's ABI number (the newest the crate
/// knows when the kernel is newer still).
pub fn abi(number: u8) -> ABI {
    match number {
        0 => ABI::Unsupported,
        1 => ABI::V1,
        2 => ABI::V2,
        3 => ABI::V3,
        4 => ABI::V4,
        5 => ABI::V5,
        6 => ABI::V6,
        7 => ABI::V7,
        8 => ABI::V8,
        9 => ABI::V9,
        _ => ABI::V10,
    }
}

/// Restricts this process (and what it will exec) to the plan's filesystem rules, with
/// every right the kernel's ABI `number` knows handled. Fails rather than restricting
/// less than asked.
pub fn restrict_self(plan: &Plan, number: u8) -> Result<(), SandboxError> {
    let abi = abi(number);
    let err = |e: landlock::RulesetError| SandboxError::Landlock(e.to_string());
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let mut device: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::WriteFile;
    if number >= 3 {
        device |= AccessFs::Truncate;
    }
    if number >= 5 {
        device |= AccessFs::IoctlDev;
    }
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(err)?;
    if number >= 6 {
        ruleset = ruleset.scope(Scope::from_all(abi)).map_err(err)?;
    }
    let mut created = ruleset.create().map_err(err)?;
    let list: BitFlags<AccessFs> = AccessFs::ReadDir.into();
    for (paths, access) in [
        (&plan.read, read),
        (&plan.list, list),
        (&plan.write, all),
        (&plan.devices, device),
    ] {
        for p in paths {
            created = add(created, p, access)?;
        }
    }
    let status = created.restrict_self().map_err(err)?;
    if status.ruleset != RulesetStatus::FullyEnforced {
        return Err(SandboxError::Landlock(format!(
            "the ruleset is {:?}, not fully enforced",
            status.ruleset
        )));
    }
    Ok(())
}

fn add(
    created: landlock::RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
) -> Result<landlock::RulesetCreated, SandboxError> {
    let Ok(fd) = PathFd::new(path) else {
        // Gone since the plan was made: nothing to grant.
        return Ok(created);
    };
    // A file gets only the rights that mean something for a file.
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(ABI::V10)
    };
    created
        .add_rule(PathBeneath::new(fd, access))
        .map_err(|e| SandboxError::Landlock(format!("{}: {e}", path.display())))
}
