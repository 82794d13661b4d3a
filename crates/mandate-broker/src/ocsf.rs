//! OCSF 1.8 export of audit records.
//!
//! | record                         | OCSF class                    | activity |
//! |--------------------------------|-------------------------------|----------|
//! | decision on a shell command    | 1007 Process Activity          | 1 Launch |
//! | decision on a file read        | 1001 File System Activity      | 2 Read |
//! | decision on a file write       | 1001 File System Activity      | 3 Update |
//! | decision on an HTTP request    | 4001 Network Activity          | 1 Open (allowed) / 5 Refuse (denied) |
//! | decision on an MCP tool call   | 6003 API Activity              | 99 Other |
//! | task start / task end          | 6003 API Activity              | 1 Create / 4 Delete |
//!
//! The decision is in `actor.authorizations[]` (`decision`, `policy`); Mandate's own
//! detail (effects, reasons, the delegation chain, the record's hash) is under
//! `unmapped.mandate`. `type_uid = class_uid × 100 + activity_id` always.

use mandate_store::AuditRecord;
use serde_json::{Value, json};

/// The OCSF schema version events claim.
pub const OCSF_VERSION: &str = "1.8.0";

fn category(class: u32) -> u32 {
    class / 1000
}

/// Maps one audit record to an OCSF event.
pub fn to_ocsf(r: &AuditRecord) -> Value {
    let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let decision = s("decision");
    let allowed = decision == "allow";
    let action = body.get("action").cloned().unwrap_or(Value::Null);
    let action_kind = action.get("kind").and_then(Value::as_str).unwrap_or("");
    let cwd = action.get("cwd").and_then(Value::as_str).unwrap_or("");
    let (class, activity, activity_name): (u32, u32, &str) = match (r.kind.as_str(), action_kind) {
        ("decision", "shell") => (1007, 1, "Launch"),
        ("decision", "file_read") => (1001, 2, "Read"),
        ("decision", "file_write") => (1001, 3, "Update"),
        ("decision", "http") if allowed => (4001, 1, "Open"),
        ("decision", "http") => (4001, 5, "Refuse"),
        ("task.start", _) => (6003, 1, "Create"),
        ("task.end", _) => (6003, 4, "Delete"),
        _ => (6003, 99, "Other"),
    };
    let severity = match decision.as_str() {
        "deny" => (3, "Medium"),
        "ask" => (2, "Low"),
        _ => (1, "Informational"),
    };
    let (status_id, status) = if r.kind != "decision" || allowed {
        (1, "Success")
    } else {
        (2, "Failure")
    };
    let policy_names: Vec<String> = body
        .get("reasons")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.get("policy").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let message = body
        .get("reasons")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|x| x.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{} {}", r.kind, s("task")));
    let delegator = body.get("delegator").cloned().unwrap_or(Value::Null);
    let agent = body.get("agent").cloned().unwrap_or(Value::Null);
    let mut actor = json!({
        "user": {"uid": delegator, "name": delegator, "type_id": 1, "type": "User"},
        "app_name": agent,
        "session": {"uid": body.get("task").cloned().unwrap_or(Value::Null)},
    });
    if r.kind == "decision" {
        actor["authorizations"] = json!([{
            "decision": decision,
            "policy": {
                "name": policy_names.join(","),
                "uid": s("policy_hash"),
                "desc": message,
            }
        }]);
    }
    let device = json!({"hostname": s("device"), "type_id": 0, "type": "Unknown"});
    let mut ev = json!({
        "category_uid": category(class),
        "class_uid": class,
        "activity_id": activity,
        "activity_name": activity_name,
        "type_uid": class * 100 + activity,
        "severity_id": severity.0,
        "severity": severity.1,
        "status_id": status_id,
        "status": status,
        "time": r.time_ms,
        "message": message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "Mandate", "vendor_name": "Mandate", "version": env!("CARGO_PKG_VERSION")},
            "uid": body.get("decision_id").cloned().unwrap_or(json!(format!("seq-{}", r.seq))),
            "correlation_uid": body.get("task").cloned().unwrap_or(Value::Null),
            "log_name": "mandate-audit",
            "sequence": r.seq,
        },
        "actor": actor,
        "device": device,
        "disposition_id": if r.kind != "decision" { 0 } else if allowed { 1 } else { 2 },
        "disposition": if r.kind != "decision" { "Unknown" } else if allowed { "Allowed" } else { "Blocked" },
        "unmapped": {"mandate": {
            "kind": r.kind, "decision": decision, "effects": body.get("effects"), "reasons": body.get("reasons"),
            "purpose": body.get("purpose"), "profile": body.get("profile"), "parent": body.get("parent"),
            "delegation_chain": [delegator, agent],
            "record_hash": r.hash, "prev_hash": r.prev_hash,
        }},
    });
    let target = match action_kind {
        "shell" => action.get("command"),
        "file_read" | "file_write" => action.get("path"),
        "http" => action.get("url"),
        _ => None,
    }
    .and_then(Value::as_str)
    .unwrap_or("")
    .to_owned();
    match class {
        1007 => {
            ev["process"] = json!({"cmd_line": target, "name": target.split_whitespace().next().unwrap_or(""), "working_directory": cwd});
        }
        1001 => {
            let name = target.rsplit('/').next().unwrap_or(&target).to_owned();
            ev["file"] =
                json!({"path": target, "name": name, "type_id": 1, "type": "Regular File"});
        }
        4001 => {
            let host = body
                .get("effects")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter().find_map(|e| {
                        e.get("host")
                            .or_else(|| e.get("to").and_then(|t| t.get("host")))
                    })
                })
                .cloned()
                .unwrap_or(Value::Null);
            ev["dst_endpoint"] = json!({"hostname": host});
            ev["url"] = json!({"url_string": target});
        }
        _ => {
            let operation = match r.kind.as_str() {
                "decision" => {
                    let tool = action.get("tool");
                    format!(
                        "{}/{}",
                        tool.and_then(|t| t.get("server"))
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                        tool.and_then(|t| t.get("tool"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                    )
                }
                other => other.to_owned(),
            };
            ev["api"] = json!({"operation": operation, "service": {"name": "mandate"}});
            ev["src_endpoint"] = json!({"hostname": s("device")});
        }
    }
    ev
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

    #[test]
    fn classes_and_required_fields() {
        let cases = [
            (
                rec(
                    "decision",
                    json!({"decision":"deny","action":{"kind":"shell","command":"cat .env","cwd":"/r"},"reasons":[{"policy":"develop.read.sensitive","message":"m"}]}),
                ),
                1007,
                1,
            ),
            (
                rec(
                    "decision",
                    json!({"decision":"allow","action":{"kind":"file_read","path":"src/a.rs","cwd":"/r"}}),
                ),
                1001,
                2,
            ),
            (
                rec(
                    "decision",
                    json!({"decision":"deny","action":{"kind":"file_write","path":"../x","cwd":"/r"}}),
                ),
                1001,
                3,
            ),
            (
                rec(
                    "decision",
                    json!({"decision":"deny","action":{"kind":"http","method":"GET","url":"https://e.x/","cwd":"/r"}}),
                ),
                4001,
                5,
            ),
            (
                rec(
                    "decision",
                    json!({"decision":"ask","action":{"kind":"mcp_call","tool":{"server":"gh","tool":"t"},"cwd":"/r"}}),
                ),
                6003,
                99,
            ),
            (rec("task.start", json!({"task":"task_1"})), 6003, 1),
            (rec("task.end", json!({"task":"task_1"})), 6003, 4),
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
            }
        }
    }
}
