//! Shell command analysis: a bash command line → the effects it would have.
//!
//! The command is parsed with a real bash parser (`brush-parser`) into simple commands;
//! words are expanded statically (quotes, escapes, braces, known variables); each program
//! is looked up in a knowledge base ([`kb`]) that says what its arguments are. Inner code
//! is followed where it is visible: `bash -c`, `eval`, `$(...)`, `sudo`, `env`, `xargs`,
//! `find -exec`, here-documents fed to a shell. What cannot be analysed becomes an
//! [`ShellEffect::Unparseable`] effect, never silence.

#![forbid(unsafe_code)]

mod analyze;
pub mod code;
mod effect;
pub mod kb;
pub mod patch;
pub mod words;

pub use analyze::{MAX_ANALYSED, MAX_DEPTH, ShellAnalysis, ShellAnalyzer};
pub use effect::{Base, NetTarget, RunAs, ShellEffect, ShellPath, WrittenFirst};
