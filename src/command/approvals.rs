//! `mandate approvals`, `mandate approve ID [--for-task]`, `mandate deny ID`: a human's
//! answers to the actions Mandate asked about, over the broker's socket. The answer is
//! bound to the exact action asked (its task and arguments), single use unless given
//! for the task, and expires.

use std::path::Path;

use mandate_types::api::{ApprovalAnswer, ApprovalView};

use super::client;
use crate::exit::{CliResult, Exit};
use crate::output::print_json;

pub fn list(dir: &Path, json: bool) -> CliResult {
    let all: Vec<ApprovalView> = client(dir).json::<(), _>("GET", "/v1/approvals", None)?;
    if json {
        print_json(&all)?;
        return Ok(Exit::Success);
    }
    if all.is_empty() {
        out!("no approvals");
    }
    for a in &all {
        out!(
            "{}  {:<17} {}  {} {}",
            a.id,
            a.state,
            a.task,
            a.kind,
            a.target
        );
        if let Some(r) = a.reasons.first() {
            out!("{:>36}↳ {}", "", r.message);
        }
        if a.state == "pending" {
            out!(
                "{:>36}  until {}: mandate approve {} [--for-task] | mandate deny {}",
                "",
                a.expires_at,
                a.id,
                a.id
            );
        }
    }
    Ok(Exit::Success)
}

pub fn answer(dir: &Path, id: &str, approve: bool, for_task: bool, json: bool) -> CliResult {
    let body = ApprovalAnswer { approve, for_task };
    let v: ApprovalView = client(dir).json("POST", &format!("/v1/approvals/{id}"), Some(&body))?;
    if json {
        print_json(&v)?;
    } else {
        out!(
            "{} {}: {} {} (task {})",
            v.id,
            v.state,
            v.kind,
            v.target,
            v.task
        );
    }
    Ok(Exit::Success)
}
