//! One module per subcommand.

pub mod approvals;
pub mod audit;
pub mod check;
pub mod eval;
pub mod git_credential;
pub mod hook;
pub mod install;
pub mod policy;
pub mod run;
pub mod sandbox_exec;
pub mod secret;
pub mod serve;
pub mod task;

use std::path::Path;

use mandate_broker::config::{self, Overrides, Settings};
use mandate_client::Client;

use crate::cli::{Cli, Command};
use crate::exit::{CliError, CliResult, Exit};
use crate::paths::data_dir;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> CliResult {
    let dir = data_dir(cli.data_dir.as_deref());
    let json = cli.json;
    match cli.command {
        Command::Serve {
            listen,
            policy_dir,
            proxy_listen,
        } => serve::serve(&dir, listen, policy_dir, proxy_listen),
        Command::Secret { cmd } => secret::secret(&dir, cmd, json),
        Command::GitCredential { operation } => git_credential::git_credential(&operation),
        Command::Task { cmd } => task::task(&dir, cmd, json),
        Command::Check(c) => check::check(&dir, c, json),
        Command::Approvals => approvals::list(&dir, json),
        Command::Approve { id, for_task } => approvals::answer(&dir, &id, true, for_task, json),
        Command::Deny { id } => approvals::answer(&dir, &id, false, false, json),
        Command::Audit { cmd } => audit::audit(&dir, cmd, json),
        Command::Policy { cmd } => policy::policy(&dir, cmd, json),
        Command::Hook { assistant, event } => hook::hook(&dir, &assistant, event),
        Command::Eval(args) => eval::eval(&dir, args, json),
        Command::Run(args) => run::run(&dir, args),
        Command::SandboxExec(args) => sandbox_exec::sandbox_exec(args),
        Command::Install { assistant, scope } => install::install(&dir, &assistant, scope),
        Command::Uninstall { assistant, scope } => install::uninstall(&dir, &assistant, scope),
    }
}

/// Prints a failure on stderr and turns the result into the exit status.
pub fn finish(result: CliResult) -> Exit {
    match result {
        Ok(exit) => exit,
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("mandate: {line}");
            }
            e.exit()
        }
    }
}

/// The data directory's settings (`config.toml` plus flags); a bad file is refused (exit 2).
pub fn settings(dir: &Path, o: &Overrides) -> CliResult<Settings> {
    config::load_settings(dir, o).map_err(|e| CliError::Refused(e.to_string()))
}

/// The organisation policy directory `config.toml` names, if it loads.
pub fn configured_policy_dir(dir: &Path) -> Option<std::path::PathBuf> {
    config::load_settings(dir, &Overrides::default())
        .ok()
        .and_then(|s| s.policy_dir)
}

/// A client of the broker on the data directory's socket.
pub fn client(dir: &Path) -> Client {
    Client::new(dir.join("mandate.sock"))
}

/// Parses every value of a repeated flag.
pub fn parse_all<T>(
    items: &[String],
    f: impl Fn(&str) -> Result<T, mandate_types::InvalidInput>,
) -> CliResult<Vec<T>> {
    Ok(items.iter().map(|s| f(s)).collect::<Result<_, _>>()?)
}
