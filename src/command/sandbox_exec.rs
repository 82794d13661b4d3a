//! `mandate sandbox-exec`: the two stages of the kernel sandbox that `mandate run
//! --sandbox` starts (see `mandate_sandbox`). Stage one supervises; stage two (with
//! `--enforce`) restricts itself and becomes the workload.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use mandate_client::Client;
use mandate_sandbox::{Plan, Reporter};
use mandate_types::api::{LookupAnswer, LookupQuery};
use mandate_types::audit::SandboxRefusal;

use crate::cli::SandboxExecArgs;
use crate::exit::{CliError, CliResult, Exit};

/// How long the resolver waits for the broker.
const BROKER_TIMEOUT: Duration = Duration::from_secs(5);

pub fn sandbox_exec(args: SandboxExecArgs) -> CliResult {
    let text = std::fs::read_to_string(&args.plan)
        .map_err(CliError::io(args.plan.display().to_string()))?;
    let plan: Plan = serde_json::from_str(&text)
        .map_err(|e| CliError::Failed(format!("sandbox plan {}: {e}", args.plan.display())))?;
    if args.enforce {
        let e = mandate_sandbox::enforce(&plan, args.notify_fd, &args.command);
        return Err(CliError::Failed(format!("sandbox: {e}")));
    }
    let reporter = BrokerReporter::from_env()?;
    let exe = std::env::current_exe().map_err(CliError::io("finding the mandate binary"))?;
    let stage_two = |notify_fd: i32| {
        let mut c = std::process::Command::new(&exe);
        c.arg("sandbox-exec")
            .arg("--enforce")
            .arg("--plan")
            .arg(&args.plan)
            .arg(format!("--notify-fd={notify_fd}"))
            .arg("--")
            .args(&args.command);
        c
    };
    let status = mandate_sandbox::supervise(&plan, stage_two, Arc::new(reporter))
        .map_err(|e| CliError::Failed(format!("sandbox: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(Exit::Status(match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(255),
        _ => 1,
    }))
}

/// The broker, on the task's socket, with the task's token (both from the environment
/// `mandate run` gave the supervisor).
struct BrokerReporter {
    client: Client,
}

impl BrokerReporter {
    fn from_env() -> CliResult<Self> {
        let var = |name: &str| {
            std::env::var(name).map_err(|_| CliError::Failed(format!("sandbox: {name} is not set")))
        };
        let client = Client::new(var("MANDATE_SOCKET")?)
            .with_bearer(&var("MANDATE_TOKEN")?)
            .with_timeout(BROKER_TIMEOUT);
        Ok(Self { client })
    }
}

impl Reporter for BrokerReporter {
    fn lookup(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let q = LookupQuery {
            name: name.to_owned(),
        };
        match self
            .client
            .json::<_, LookupAnswer>("POST", "/v1/sandbox/lookup", Some(&q))
        {
            Ok(LookupAnswer {
                refused: Some(r), ..
            }) => Err(r.message),
            Ok(a) => Ok(a.addresses),
            Err(e) => Err(format!("the broker could not be asked: {e}")),
        }
    }

    fn refusal(&self, refusal: SandboxRefusal) {
        let _ = self.client.json::<_, serde_json::Value>(
            "POST",
            "/v1/sandbox/refusals",
            Some(&refusal),
        );
    }
}
