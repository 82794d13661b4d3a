//! `mandate check`: ask the broker about one action (exit 0 allow, 2 deny, 3 ask).

use std::path::Path;

use mandate_types::api::{EvaluationRequest, EvaluationResponse};
use mandate_types::{Action, ActionKind, HttpMethod, McpToolRef, Url, Verdict};

use super::client;
use crate::cli::CheckArgs;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;
use crate::paths::abs_path;

/// Decides one action and prints the decision.
pub fn check(dir: &Path, c: CheckArgs, json: bool) -> CliResult {
    let token = c
        .token
        .clone()
        .or_else(|| std::env::var("MANDATE_TOKEN").ok())
        .ok_or_else(|| {
            CliError::Failed(
                "no task token: pass --token or set MANDATE_TOKEN (from mandate task start)".into(),
            )
        })?;
    let cwd = abs_path("cwd", c.cwd.as_deref().unwrap_or(Path::new(".")))?;
    let action = Action {
        kind: action_kind(c)?,
        cwd,
    };
    let req = EvaluationRequest::for_action(Some(&token), &action);
    let resp: EvaluationResponse = client(dir).json("POST", "/access/v1/evaluation", Some(&req))?;
    let d = resp.context;
    if json {
        print_json(&d)?;
    } else {
        out!("{}  ({})", d.decision, d.decision_id);
        if let Some(id) = &d.approval {
            out!("  waiting for a human: mandate approve {id} [--for-task] | mandate deny {id}");
        }
        for r in &d.reasons {
            out!("  {}: {}", r.policy, r.message);
        }
        if !d.effects.is_empty() {
            let effects: Vec<String> = d.effects.iter().map(|e| e.to_string()).collect();
            out!("  effects: {}", effects.join(", "));
        }
    }
    Ok(match d.decision {
        Verdict::Allow => Exit::Success,
        Verdict::Deny => Exit::Refused,
        Verdict::Ask => Exit::Ask,
    })
}

/// The one action the flags describe.
fn action_kind(c: CheckArgs) -> CliResult<ActionKind> {
    Ok(if let Some(cmd) = c.shell {
        ActionKind::shell(&cmd)?
    } else if let Some(p) = c.read {
        ActionKind::file_read(&p)?
    } else if let Some(p) = c.write {
        ActionKind::file_write(&p)?
    } else if let Some(u) = c.fetch {
        ActionKind::Http {
            method: HttpMethod::parse(&c.method)?,
            url: Url::parse(&u)?,
        }
    } else if let Some(t) = c.mcp {
        let args = match c.args {
            Some(a) => serde_json::from_str(&a)
                .map_err(|e| CliError::Failed(format!("--args is not JSON: {e}")))?,
            None => serde_json::Value::Object(Default::default()),
        };
        ActionKind::McpCall {
            tool: McpToolRef::parse(&t)?,
            args,
            annotation: None,
        }
    } else {
        return Err(CliError::Failed(
            "give one action: --shell, --read, --write, --fetch or --mcp".into(),
        ));
    })
}
