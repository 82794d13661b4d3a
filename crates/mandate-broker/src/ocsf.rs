//! OCSF 1.8 export of audit records.
//!
//! | record                         | OCSF class                    | activity |
//! |--------------------------------|-------------------------------|----------|
//! | decision on a shell command    | 1007 Process Activity          | 1 Launch |
//! | decision on a file read        | 1001 File System Activity      | 2 Read |
//! | decision on a file write       | 1001 File System Activity      | 3 Update |
//! | decision on an HTTP request    | 4001 Network Activity          | 1 Open (allowed) / 5 Refuse (denied) |
//! | decision on an MCP tool call   | 6003 API Activity              | 99 Other |
//! | decision on an assistant's tool| 6003 API Activity              | 99 Other |
//! | task start / task end          | 6003 API Activity              | 1 Create / 4 Delete |
//!
//! The decision is in `actor.authorizations[]` (`decision`, `policy`); Mandate's own
//! detail (effects, reasons, the delegation chain, the record's hash) is under
//! `unmapped.mandate`. `type_uid = class_uid × 100 + activity_id` always.

use mandate_store::AuditRecord;
use mandate_types::audit::{AuditEvent, DecisionMade};
use mandate_types::{ActionKind, Effect, Verdict};
use serde_json::{Value, json};

/// The OCSF schema version events claim.
pub const OCSF_VERSION: &str = "1.8.0";

/// An OCSF class and activity.
#[derive(Clone, Copy)]
struct Class {
    uid: u32,
    activity: u32,
    activity_name: &'static str,
}

impl Class {
    const fn new(uid: u32, activity: u32, activity_name: &'static str) -> Self {
        Self {
            uid,
            activity,
            activity_name,
        }
    }
}

const API_OTHER: Class = Class::new(6003, 99, "Other");

fn decision_class(d: &DecisionMade) -> Class {
    match &d.action.kind {
        ActionKind::Shell { .. } => Class::new(1007, 1, "Launch"),
        ActionKind::FileRead { .. } => Class::new(1001, 2, "Read"),
        ActionKind::FileWrite { .. } => Class::new(1001, 3, "Update"),
        ActionKind::Http { .. } if d.decision == Verdict::Allow => Class::new(4001, 1, "Open"),
        ActionKind::Http { .. } => Class::new(4001, 5, "Refuse"),
        ActionKind::McpCall { .. } | ActionKind::AssistantTool { .. } => API_OTHER,
    }
}

/// Who acted, as OCSF `actor`: the delegator as user, the agent as app, the task as session.
fn actor(delegator: Option<&str>, agent: Option<&str>, task: Option<&str>) -> Value {
    json!({
        "user": {"uid": delegator, "name": delegator, "type_id": 1, "type": "User"},
        "app_name": agent,
        "session": {"uid": task},
    })
}

fn metadata(r: &AuditRecord, uid: Value, task: Option<&str>) -> Value {
    json!({
        "version": OCSF_VERSION,
        "product": {"name": "Mandate", "vendor_name": "Mandate", "version": env!("CARGO_PKG_VERSION")},
        "uid": uid,
        "correlation_uid": task,
        "log_name": "mandate-audit",
        "sequence": r.seq,
    })
}

/// The event fields every class shares.
fn base(r: &AuditRecord, class: Class, message: &str, device: &str) -> Value {
    json!({
        "category_uid": class.uid / 1000,
        "class_uid": class.uid,
        "activity_id": class.activity,
        "activity_name": class.activity_name,
        "type_uid": class.uid * 100 + class.activity,
        "time": r.time_ms,
        "message": message,
        "device": {"hostname": device, "type_id": 0, "type": "Unknown"},
    })
}

/// Maps one audit record to an OCSF event.
pub fn to_ocsf(r: &AuditRecord) -> Value {
    let event = match r.event() {
        Ok(e) => e,
        Err(e) => return unreadable_event(r, &e.to_string()),
    };
    let about = match &event {
        AuditEvent::Decision(d) => return decision_event(r, d),
        AuditEvent::TaskStarted(t) => About {
            class: Class::new(6003, 1, "Create"),
            delegator: Some(t.delegator.as_str()),
            agent: Some(t.agent.as_str()),
            device: &t.device,
            detail: json!({"purpose": t.purpose, "profile": t.profile}),
        },
        AuditEvent::TaskEnded(t) => About {
            class: Class::new(6003, 4, "Delete"),
            delegator: None,
            agent: None,
            device: "",
            detail: json!({"reason": t.reason}),
        },
        AuditEvent::ToolResult(t) => About {
            class: API_OTHER,
            delegator: None,
            agent: Some(t.agent.as_str()),
            device: &t.device,
            detail: json!({"labels": t.labels, "secret_rules": t.secret_rules}),
        },
        AuditEvent::Deviation(d) => About {
            // Detection Finding: a behaviour worth a security team's look.
            class: Class::new(2004, 1, "Create"),
            delegator: None,
            agent: None,
            device: "",
            detail: json!({"signal": d.signal, "detail": d.detail, "destination": d.destination, "decision_id": d.decision_id}),
        },
        AuditEvent::Credential(c) => About {
            class: API_OTHER,
            delegator: None,
            agent: None,
            device: "",
            detail: json!({"target": c.target, "secret": c.secret, "granted": c.granted, "reason": c.reason}),
        },
        AuditEvent::SandboxRefusal(x) => About {
            // Detection Finding: the kernel stopped something the task's process tried.
            class: Class::new(2004, 1, "Create"),
            delegator: None,
            agent: None,
            device: "",
            detail: json!({"layer": x.layer, "operation": x.operation, "target": x.target, "detail": x.detail, "program": x.program}),
        },
        AuditEvent::Revoked(x) => About {
            // Detection Finding: the task's behaviour crossed its profile's threshold.
            class: Class::new(2004, 1, "Create"),
            delegator: None,
            agent: None,
            device: "",
            detail: json!({"reason": x.reason, "signals": x.signals, "children": x.children, "set": x.set}),
        },
        AuditEvent::Approval(a) => About {
            // A human's answer to an authorization question.
            class: API_OTHER,
            delegator: Some(a.by.as_str()),
            agent: None,
            device: "",
            detail: json!({"approval": a.approval, "decision_id": a.decision_id, "action": a.action, "approved": a.approved, "for_task": a.for_task}),
        },
        AuditEvent::Session(_, s) => About {
            class: API_OTHER,
            delegator: None,
            agent: Some(s.agent.as_str()),
            device: "",
            detail: json!({}),
        },
    };
    lifecycle_event(r, event.task().map(|t| t.as_str()), about)
}

/// What a non-decision record says, for [`lifecycle_event`].
struct About<'a> {
    class: Class,
    delegator: Option<&'a str>,
    agent: Option<&'a str>,
    device: &'a str,
    detail: Value,
}

fn decision_event(r: &AuditRecord, d: &DecisionMade) -> Value {
    let class = decision_class(d);
    let allowed = d.decision == Verdict::Allow;
    let task = d.task.as_ref().map(|t| t.as_str());
    let delegator = d.delegator.as_ref().map(|p| p.as_str());
    let agent = d.agent.as_ref().map(|a| a.as_str());
    let message = d
        .reasons
        .first()
        .map(|x| x.message.clone())
        .unwrap_or_else(|| format!("decision {}", task.unwrap_or("")));
    let (severity_id, severity) = match d.decision {
        Verdict::Deny => (3, "Medium"),
        Verdict::Ask => (2, "Low"),
        Verdict::Allow => (1, "Informational"),
    };
    let policies: Vec<&str> = d.reasons.iter().map(|x| x.policy.as_str()).collect();
    let mut actor = actor(delegator, agent, task);
    actor["authorizations"] = json!([{
        "decision": d.decision,
        "policy": {"name": policies.join(","), "uid": d.policy_hash, "desc": message},
    }]);
    let mut ev = base(r, class, &message, &d.device);
    let extra = json!({
        "severity_id": severity_id,
        "severity": severity,
        "status_id": if allowed { 1 } else { 2 },
        "status": if allowed { "Success" } else { "Failure" },
        "metadata": metadata(r, json!(d.decision_id), task),
        "actor": actor,
        "disposition_id": if allowed { 1 } else { 2 },
        "disposition": if allowed { "Allowed" } else { "Blocked" },
        "unmapped": {"mandate": {
            "kind": r.kind, "decision": d.decision, "effects": d.effects, "reasons": d.reasons,
            "purpose": d.purpose, "profile": d.profile, "parent": d.parent,
            "delegation_chain": [delegator, agent],
            "via": d.via, "sandbox": d.sandbox,
            "record_hash": r.hash, "prev_hash": r.prev_hash,
        }},
    });
    merge(&mut ev, extra);
    let cwd = d.action.cwd.as_str();
    match &d.action.kind {
        ActionKind::Shell { command } => {
            ev["process"] = json!({
                "cmd_line": command,
                "name": command.split_whitespace().next().unwrap_or(""),
                "working_directory": cwd,
            });
        }
        ActionKind::FileRead { path } | ActionKind::FileWrite { path, .. } => {
            let name = path.rsplit('/').next().unwrap_or(path);
            ev["file"] = json!({"path": path, "name": name, "type_id": 1, "type": "Regular File"});
        }
        ActionKind::Http { url, .. } => {
            let host = d.effects.iter().find_map(|e| match e {
                Effect::Connect(h) => Some(h.host.as_str()),
                Effect::Send { to, .. } => Some(to.host.as_str()),
                _ => None,
            });
            ev["dst_endpoint"] = json!({"hostname": host});
            ev["url"] = json!({"url_string": url.as_str()});
        }
        ActionKind::McpCall { tool, .. } => {
            ev["api"] = json!({
                "operation": format!("{}/{}", tool.server, tool.tool),
                "service": {"name": "mandate"},
            });
            ev["src_endpoint"] = json!({"hostname": d.device});
        }
        ActionKind::AssistantTool {
            assistant,
            tool,
            role,
            ..
        } => {
            ev["api"] = json!({
                "operation": tool,
                "service": {"name": assistant},
                "request": {"data": {"role": role.as_str()}},
            });
            ev["src_endpoint"] = json!({"hostname": d.device});
        }
    }
    ev
}

/// Task starts and ends, tool results and session events: API Activity on Mandate itself.
fn lifecycle_event(r: &AuditRecord, task: Option<&str>, about: About<'_>) -> Value {
    let message = format!("{} {}", r.kind, task.unwrap_or(""));
    let mut ev = base(r, about.class, &message, about.device);
    let mut unmapped = json!({"kind": r.kind, "record_hash": r.hash, "prev_hash": r.prev_hash});
    merge(&mut unmapped, about.detail);
    merge(
        &mut ev,
        json!({
            "severity_id": 1,
            "severity": "Informational",
            "status_id": 1,
            "status": "Success",
            "metadata": metadata(r, json!(format!("seq-{}", r.seq)), task),
            "actor": actor(about.delegator, about.agent, task),
            "disposition_id": 0,
            "disposition": "Unknown",
            "api": {"operation": r.kind, "service": {"name": "mandate"}},
            "src_endpoint": {"hostname": about.device},
            "unmapped": {"mandate": unmapped},
        }),
    );
    ev
}

/// A record that does not read back (edited by hand, or written by a newer Mandate):
/// exported anyway, so nothing disappears from the SIEM, with the reason.
fn unreadable_event(r: &AuditRecord, error: &str) -> Value {
    let task = r.task_id.as_deref();
    let mut ev = base(r, API_OTHER, error, "");
    merge(
        &mut ev,
        json!({
            "severity_id": 3,
            "severity": "Medium",
            "status_id": 99,
            "status": "Other",
            "metadata": metadata(r, json!(format!("seq-{}", r.seq)), task),
            "actor": actor(None, None, task),
            "disposition_id": 0,
            "disposition": "Unknown",
            "api": {"operation": r.kind, "service": {"name": "mandate"}},
            "src_endpoint": {"hostname": ""},
            "unmapped": {"mandate": {"kind": r.kind, "body": r.body, "record_hash": r.hash, "prev_hash": r.prev_hash}},
        }),
    );
    ev
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: &str, body: Value) -> AuditRecord {
        AuditRecord {
            seq: 7,
            kind: kind.into(),
            task_id: Some("task_1".into()),
            time_ms: 1_700_000_000_000,
            body: body.to_string(),
            prev_hash: "0".repeat(64),
            hash: "1".repeat(64),
        }
    }

    /// A decision record as the broker writes it.
    fn decision(verdict: &str, action: Value, reasons: Value) -> AuditRecord {
        rec(
            "decision",
            json!({
                "decision_id": "dec_1", "task": "task_1", "delegator": "user:alice",
                "agent": "claude-code@h", "purpose": "fix it", "profile": "develop", "parent": null,
                "action": action, "effects": [], "decision": verdict, "reasons": reasons,
                "policy_hash": "ab", "device": "h",
            }),
        )
    }

    #[test]
    fn classes_and_required_fields() {
        let started = json!({
            "task": "task_1", "delegator": "user:alice", "agent": "claude-code@h",
            "purpose": "fix it", "profile": "develop", "scope": {"repos": ["/r"]},
            "expires_at": 1, "policy_hash": "ab", "device": "h",
        });
        let cases = [
            (
                decision(
                    "deny",
                    json!({"kind":"shell","command":"cat .env","cwd":"/r"}),
                    json!([{"policy":"develop.read.sensitive","message":"m"}]),
                ),
                1007,
                1,
            ),
            (
                decision(
                    "allow",
                    json!({"kind":"file_read","path":"src/a.rs","cwd":"/r"}),
                    json!([]),
                ),
                1001,
                2,
            ),
            (
                decision(
                    "deny",
                    json!({"kind":"file_write","path":"../x","cwd":"/r"}),
                    json!([]),
                ),
                1001,
                3,
            ),
            (
                decision(
                    "deny",
                    json!({"kind":"http","method":"GET","url":"https://e.x/","cwd":"/r"}),
                    json!([]),
                ),
                4001,
                5,
            ),
            (
                decision(
                    "ask",
                    json!({"kind":"mcp_call","tool":{"server":"gh","tool":"t"},"cwd":"/r"}),
                    json!([]),
                ),
                6003,
                99,
            ),
            (
                decision(
                    "deny",
                    json!({"kind":"assistant_tool","assistant":"claude","tool":"CronCreate",
                           "role":"schedule","input":{"cron":"0 9 * * *"},"cwd":"/r"}),
                    json!([{"policy":"develop.schedule","message":"m"}]),
                ),
                6003,
                99,
            ),
            (rec("task.start", started), 6003, 1),
            (
                rec(
                    "task.end",
                    json!({"task":"task_1","reason":"done","jti":"j"}),
                ),
                6003,
                4,
            ),
            (rec("task.end", json!({"unexpected": true})), 6003, 99),
        ];
        for (r, class, activity) in cases {
            let e = to_ocsf(&r);
            assert_eq!(e["class_uid"], class);
            assert_eq!(e["activity_id"], activity);
            assert_eq!(e["type_uid"], class * 100 + activity);
            assert_eq!(e["category_uid"], class / 1000);
            for f in ["severity_id", "time", "metadata", "actor"] {
                assert!(!e[f].is_null(), "{class}: {f} missing");
            }
            assert_eq!(e["metadata"]["version"], OCSF_VERSION);
            assert!(!e["metadata"]["product"]["name"].is_null());
            match class {
                1007 => assert!(e["process"]["cmd_line"].is_string() && !e["device"].is_null()),
                1001 => assert!(e["file"]["path"].is_string() && !e["device"].is_null()),
                6003 => assert!(e["api"]["operation"].is_string() && !e["src_endpoint"].is_null()),
                _ => {}
            }
            if r.kind == "decision" {
                assert!(e["actor"]["authorizations"][0]["decision"].is_string());
                assert_eq!(e["actor"]["user"]["uid"], "user:alice");
                assert_eq!(e["metadata"]["uid"], "dec_1");
            }
        }
    }
}
