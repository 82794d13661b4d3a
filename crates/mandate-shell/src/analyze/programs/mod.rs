//! Program knowledge that cannot be data: one module per kind of program, each a
//! [`ProgramModel`], registered against the knowledge-base argument role it serves in
//! [`model_for`].
//!
//! To model a new kind of program: add an [`ArgsRole`] for it (`kb.rs`), a module here
//! implementing [`ProgramModel`], and its line in [`model_for`]. `shells` and
//! `interpreters` are not models of their own: they serve the positional roles of the
//! generic model ([`ByRoles`]), after its option handling.

pub(crate) mod archives;
pub(crate) mod build_files;
pub(crate) mod containers;
pub(crate) mod dd;
pub(crate) mod find;
pub(crate) mod git;
pub(crate) mod interpreters;
pub(crate) mod sed;
pub(crate) mod shells;
pub(crate) mod ssh;
pub(crate) mod tools;
pub(crate) mod wrappers;

use crate::kb::ArgsRole;

use super::context::ProgramModel;
use super::roles::ByRoles;

/// The model that analyses programs whose knowledge-base `args` role is `role`.
pub(crate) fn model_for(role: ArgsRole) -> &'static dyn ProgramModel {
    match role {
        ArgsRole::Command | ArgsRole::Env | ArgsRole::Xargs => &wrappers::Wrapper,
        ArgsRole::Git => &git::Git,
        ArgsRole::Ssh => &ssh::Ssh,
        ArgsRole::Find => &find::Find,
        ArgsRole::Dd => &dd::Dd,
        ArgsRole::Tar => &archives::Tar,
        ArgsRole::Cpio => &archives::Cpio,
        ArgsRole::Patch => &tools::Patch,
        ArgsRole::Cmake => &tools::Cmake,
        ArgsRole::Container => &containers::Container,
        ArgsRole::None
        | ArgsRole::Read
        | ArgsRole::Write
        | ArgsRole::Delete
        | ArgsRole::ReadWrite
        | ArgsRole::Copy
        | ArgsRole::Move
        | ArgsRole::Target
        | ArgsRole::Archive
        | ArgsRole::Link
        | ArgsRole::PatternRead
        | ArgsRole::Url
        | ArgsRole::Host
        | ArgsRole::Packages
        | ArgsRole::ReadOrUrl
        | ArgsRole::Shell
        | ArgsRole::Interpreter
        | ArgsRole::RemoteCopy
        | ArgsRole::Netcat => &ByRoles,
    }
}
