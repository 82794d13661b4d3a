//! `mandate git-credential get|store|erase`: git's credential helper under `mandate run`.
//!
//! For a host whose secret the task holds, `get` answers with the task's placeholder as
//! the password (the egress proxy swaps it for the value on the way out); for any other
//! host it answers `quit=1`, so git neither asks another helper nor prompts. `store` and
//! `erase` do nothing: a placeholder is not worth keeping.

use std::io::{BufRead, Read, Write};

use mandate_client::Client;
use mandate_types::api::{CredentialAnswer, CredentialQuery};

use crate::exit::{CliError, CliResult, Exit};

/// The longest description git sends that we read.
const MAX_INPUT: u64 = 64 * 1024;

/// Answers one request of git's credential protocol.
pub fn git_credential(operation: &str) -> CliResult {
    match operation {
        "get" => get(),
        "store" | "erase" => {
            // Drain what git writes so it does not see a broken pipe.
            let _ = std::io::copy(&mut std::io::stdin().take(MAX_INPUT), &mut std::io::sink());
            Ok(Exit::Success)
        }
        other => Err(CliError::Refused(format!(
            "unknown credential operation {other:?} (git sends get, store or erase)"
        ))),
    }
}

fn get() -> CliResult {
    let mut protocol = None;
    let mut host = None;
    let mut path = None;
    for line in std::io::stdin().lock().take(MAX_INPUT).lines() {
        let line = line.map_err(CliError::io("reading git's request"))?;
        if line.is_empty() {
            break;
        }
        match line.split_once('=') {
            Some(("protocol", v)) => protocol = Some(v.to_owned()),
            Some(("host", v)) => host = Some(v.to_owned()),
            Some(("path", v)) => path = Some(v.to_owned()),
            _ => {}
        }
    }
    let (Some(protocol), Some(host)) = (protocol, host) else {
        return refuse("git sent no protocol and host");
    };
    let (Some(token), Some(socket)) = (
        std::env::var("MANDATE_TOKEN").ok(),
        std::env::var_os("MANDATE_SOCKET"),
    ) else {
        return refuse("MANDATE_TOKEN and MANDATE_SOCKET are not set: run git under `mandate run`");
    };
    let query = CredentialQuery {
        protocol,
        host,
        path,
    };
    let answer: Result<CredentialAnswer, _> =
        Client::new(socket)
            .with_bearer(&token)
            .json("POST", "/v1/credential", Some(&query));
    match answer {
        Ok(a) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "username={}\npassword={}", a.username, a.password)
                .map_err(CliError::io("answering git"))?;
            Ok(Exit::Success)
        }
        Err(e) => refuse(&e.to_string()),
    }
}

/// Tells git to stop looking for a credential, and the user why.
fn refuse(why: &str) -> CliResult {
    eprintln!("mandate: no credential: {why}");
    println!("quit=1");
    Ok(Exit::Success)
}
