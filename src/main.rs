//! `mandate`: the command line. Parses arguments and hands each subcommand to its module
//! under `command/`; the logic lives in the library crates.

#![forbid(unsafe_code)]

#[macro_use]
mod output;
mod cli;
mod command;
mod exit;
mod paths;
mod signals;

use std::process::ExitCode;

fn main() -> ExitCode {
    let exit = match command::hook::fast_path() {
        Some(hook) => command::finish(hook),
        None => command::finish(command::run(<cli::Cli as clap::Parser>::parse())),
    };
    exit.into()
}
