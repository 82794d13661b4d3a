//! `mandate secret set|list|rm`: the secret store of the data directory. Values are read
//! from stdin only, so they never appear in a process listing or shell history.

use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use mandate_secrets::{Binding, Destination, Location, Mint, SecretName, SecretStore, SecretValue};

use crate::cli::{SecretCmd, SecretSetArgs};
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;

/// Runs a `secret` subcommand.
pub fn secret(dir: &Path, cmd: SecretCmd, json: bool) -> CliResult {
    let refused = |e: mandate_secrets::SecretError| CliError::Refused(e.to_string());
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(CliError::io(dir.display().to_string()))?;
    let store = SecretStore::open(dir).map_err(refused)?;
    match cmd {
        SecretCmd::Set(args) => set(&store, *args),
        SecretCmd::List => list(&store, json),
        SecretCmd::Rm { name } => {
            let name = SecretName::parse(&name).map_err(refused)?;
            if store.remove(&name).map_err(refused)? {
                out!("secret {name} removed");
                Ok(Exit::Success)
            } else {
                Err(CliError::Refused(format!("no secret named {name}")))
            }
        }
    }
}

fn set(store: &SecretStore, args: SecretSetArgs) -> CliResult {
    let refused = |e: mandate_secrets::SecretError| CliError::Refused(e.to_string());
    let name = SecretName::parse(&args.name).map_err(refused)?;
    let hosts = args
        .hosts
        .iter()
        .map(|h| Destination::parse(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(refused)?;
    let binding = Binding::new(
        hosts,
        args.header.as_deref(),
        args.query.as_deref(),
        args.format.as_deref(),
        args.git_user.as_deref(),
    )
    .map_err(refused)?;
    let binding = match (args.github_app, args.installation) {
        (Some(app), Some(installation)) => binding.minted(
            Mint::github_app(
                app,
                installation,
                &args.github_api,
                args.repository.clone(),
                &args.permission,
            )
            .map_err(refused)?,
        ),
        _ => binding,
    };
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        eprintln!("mandate: type the value of {name}, then Enter and Ctrl-D");
    }
    let mut value = String::new();
    std::io::stdin()
        .take(mandate_secrets::MAX_VALUE as u64 + 2)
        .read_to_string(&mut value)
        .map_err(CliError::io("reading the secret from stdin"))?;
    let value = if binding.mint.is_some() {
        SecretValue::from_key_input(value)
    } else {
        SecretValue::from_input(value)
    }
    .map_err(refused)?;
    store.set(&name, binding, &value).map_err(refused)?;
    out!("secret {name} stored; tasks started with --secret {name} get a placeholder for it");
    Ok(Exit::Success)
}

fn list(store: &SecretStore, json: bool) -> CliResult {
    let all = store.list().map_err(|e| CliError::Refused(e.to_string()))?;
    if json {
        let rows: Vec<_> = all
            .iter()
            .map(|(n, b)| serde_json::json!({"name": n, "binding": b}))
            .collect();
        print_json(&rows)?;
        return Ok(Exit::Success);
    }
    if all.is_empty() {
        out!("no secrets stored (add one with `mandate secret set NAME --host HOST < value-file`)");
    }
    for (name, b) in all {
        let hosts: Vec<String> = b.hosts.iter().map(ToString::to_string).collect();
        let place = match &b.location {
            Location::Header(h) => match &b.format {
                Some(f) => format!("header {h}: {f}"),
                None => format!("header {h}"),
            },
            Location::Query(q) => format!("query parameter {q}"),
        };
        let minted = match &b.mint {
            Some(Mint::GithubApp {
                app_id,
                installation_id,
                ..
            }) => {
                format!(" (GitHub App {app_id}, installation {installation_id}: minted per task)")
            }
            None => String::new(),
        };
        out!("{name:<24} {:<40} {place}{minted}", hosts.join(","));
    }
    Ok(Exit::Success)
}
