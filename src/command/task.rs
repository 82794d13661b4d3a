//! `mandate task start|end|list|show`: task management over the broker's socket.

use std::path::Path;

use mandate_types::api::{StartTaskRequest, StartedTask, TaskDetail, TaskSummary};
use mandate_types::audit::AuditEvent;
use mandate_types::{
    AgentId, BranchPattern, HostPattern, McpToolPattern, PathGlob, ProfileName, Purpose, TaskId,
    Verdict,
};

use super::{client, parse_all};
use crate::cli::{StartArgs, TaskCmd};
use crate::exit::{CliResult, Exit};
use crate::output::print_json;
use crate::paths::abs_path;

/// Runs one task subcommand.
pub fn task(dir: &Path, cmd: TaskCmd, json: bool) -> CliResult {
    match cmd {
        TaskCmd::Start(s) => start(dir, *s, json),
        TaskCmd::End { id, reason } => end(dir, &id, reason, json),
        TaskCmd::List { limit } => list(dir, limit, json),
        TaskCmd::Show { id } => show(dir, &id, json),
    }
}

fn start(dir: &Path, s: StartArgs, json: bool) -> CliResult {
    let req = StartTaskRequest {
        profile: ProfileName::parse(&s.profile)?,
        repo: abs_path("repo", &s.repo)?,
        purpose: Purpose::parse(&s.purpose)?,
        ttl: s.ttl,
        agent: s.agent.as_deref().map(AgentId::parse).transpose()?,
        allow_hosts: parse_all(&s.allow_host, HostPattern::parse)?,
        allow_read: parse_all(&s.allow_read, PathGlob::parse)?,
        allow_write: parse_all(&s.allow_write, PathGlob::parse)?,
        branches: parse_all(&s.branch, BranchPattern::parse)?,
        mcp_tools: parse_all(&s.allow_tool, McpToolPattern::parse)?,
        parent: None,
        secrets: s.secret,
        sandbox: None,
    };
    let t: StartedTask = client(dir).json("POST", "/v1/tasks", Some(&req))?;
    if json {
        print_json(&t)?;
    } else {
        out!(
            "task {} started (profile {}, expires {})",
            t.task_id,
            t.mandate.profile,
            t.expires_at
        );
        out!("export MANDATE_TOKEN={}", t.token);
        for (name, placeholder) in &t.placeholders {
            out!("export {name}={placeholder}");
        }
    }
    Ok(Exit::Success)
}

fn end(dir: &Path, id: &str, reason: Option<String>, json: bool) -> CliResult {
    let id = TaskId::parse(id)?;
    let body =
        serde_json::json!({ "reason": reason.unwrap_or_else(|| "ended by the delegator".into()) });
    let v: serde_json::Value =
        client(dir).json("POST", &format!("/v1/tasks/{id}/end"), Some(&body))?;
    if json {
        print_json(&v)?;
    } else if v["ended"] == true {
        out!("task {id} ended; its token is revoked");
    } else {
        out!("task {id} had already ended");
    }
    Ok(Exit::Success)
}

fn list(dir: &Path, limit: u32, json: bool) -> CliResult {
    let v: Vec<TaskSummary> =
        client(dir).json::<(), _>("GET", &format!("/v1/tasks?limit={limit}"), None)?;
    if json {
        print_json(&v)?;
        return Ok(Exit::Success);
    }
    out!(
        "{:<38} {:<8} {:<10} {:<20} PURPOSE",
        "TASK",
        "STATE",
        "PROFILE",
        "EXPIRES"
    );
    for t in v {
        out!(
            "{:<38} {:<8} {:<10} {:<20} {}",
            t.task_id,
            t.state,
            t.profile,
            t.expires_at,
            t.purpose
        );
    }
    Ok(Exit::Success)
}

fn show(dir: &Path, id: &str, json: bool) -> CliResult {
    let id = TaskId::parse(id)?;
    let d: TaskDetail = client(dir).json::<(), _>("GET", &format!("/v1/tasks/{id}"), None)?;
    if json {
        print_json(&d)?;
        return Ok(Exit::Success);
    }
    let t = &d.task;
    out!("task     {} ({})", t.task_id, t.state);
    out!("purpose  {}", t.purpose);
    out!(
        "profile  {}   agent {}   delegator {}",
        t.profile,
        t.agent,
        t.delegator
    );
    if let Some(r) = &t.repo {
        out!("repo     {r}");
    }
    out!("issued   {}   expires {}", t.issued_at, t.expires_at);
    if let Some(e) = &t.ended_at {
        out!(
            "ended    {e} ({})",
            t.end_reason.clone().unwrap_or_default()
        );
    }
    if let Some(layers) = d.mandate.sandbox {
        out!("sandbox  {layers}");
    }
    out!();
    for e in &d.timeline {
        match e.event() {
            Ok(AuditEvent::Decision(r)) => {
                let why = match (r.decision, r.reasons.first()) {
                    (Verdict::Allow, _) | (_, None) => String::new(),
                    (_, Some(reason)) => format!("\n{:>30}↳ {}", "", reason.message),
                };
                out!(
                    "{}  {:<5} {:<10} {}{}",
                    e.time,
                    r.decision,
                    r.action.kind.name(),
                    r.action.kind.target(),
                    why
                );
            }
            Ok(AuditEvent::SandboxRefusal(x)) => out!(
                "{}  {:<5} {:<10} {}\n{:>30}↳ {:?}: {}",
                e.time,
                "kernel",
                x.operation,
                x.target,
                "",
                x.layer,
                x.detail
            ),
            Ok(AuditEvent::Deviation(x)) => out!(
                "{}  task.deviation {} → {}\n{:>30}↳ {}",
                e.time,
                x.signal,
                x.destination,
                "",
                x.detail
            ),
            Ok(AuditEvent::Revoked(x)) => out!(
                "{}  task.revoked\n{:>30}↳ {}\n{:>30}  signals: {}",
                e.time,
                "",
                x.reason,
                "",
                x.signals.join("; ")
            ),
            Ok(AuditEvent::Approval(a)) => out!(
                "{}  approval   {} {} by {} ({})",
                e.time,
                if a.approved { "approved" } else { "denied" },
                a.action,
                a.by,
                a.approval
            ),
            Ok(other) => out!("{}  {}", e.time, other.kind()),
            Err(err) => out!("{}  {} (unreadable: {err})", e.time, e.kind),
        }
    }
    Ok(Exit::Success)
}
