//! Cursor hooks (`beforeShellExecution`, `beforeReadFile`, `beforeMCPExecution`,
//! `preToolUse`, and the after/session events).
//!
//! Wire format: `../shared/integrations/README.md` §3 (from Cursor's documentation; Cursor
//! cannot run here, so these adapters are tested against the documented payloads).
//! Cursor has no per-run hook mechanism: `mandate run -- cursor-agent` passes the task
//! token in the environment and hooks come from `mandate install cursor`. Both spellings
//! of the message fields are emitted (`user_message` and the older `userMessage`).

use std::path::{Path, PathBuf};

use mandate_types::{AbsPath, Action};
use serde_json::{Map, Value, json};

use crate::adapter::{Adapter, RunWiring, Scope};
use crate::event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool};
use crate::hook_config::{HOOK_TIMEOUT_SECS, entries_of, hook_command};
use crate::payload::{
    bad, cwd_of, field, mapped, output_text, read, required, shell, tool_call, unknown,
};
use crate::tools::kinds::*;
use crate::tools::{ToolHandling, ToolKind};

/// Cursor's hooks, as an [`Adapter`].
#[derive(Debug, Clone, Copy)]
pub struct Cursor;

const NAME: &str = "cursor";

/// The tool types Cursor's `preToolUse` names (its documented matcher values; `MCP` is
/// its one name for every MCP tool).
const TOOLS: &[(&str, ToolKind)] = &[
    ("Shell", SHELL),
    ("Read", READ),
    ("Write", WRITE),
    ("Grep", SEARCH),
    ("Delete", WRITE),
    ("Task", DELEGATE),
];

/// What a `preToolUse` call of `tool` with `input` amounts to (the `before…` events name
/// no tool; `pre` maps them).
fn actions_for_tool(tool: &str, input: &Value, cwd: &AbsPath) -> Result<Vec<Action>, AdapterError> {
    match Cursor.tool_handling(tool) {
        ToolHandling::Known(kind) => mapped(NAME, tool, kind, input, cwd),
        ToolHandling::Mcp => Ok(vec![tool_call(
            tool,
            cwd,
            "cursor-mcp",
            field(input, "tool_name").unwrap_or("unknown"),
            input,
        )?]),
        ToolHandling::Unknown => unknown(NAME, tool, input, cwd),
    }
}

fn cwd(v: &Value) -> Result<AbsPath, AdapterError> {
    if field(v, "cwd").is_none()
        && let Some(root) = v
            .get("workspace_roots")
            .and_then(|r| r.get(0))
            .and_then(|r| r.as_str())
    {
        return AbsPath::parse("cwd", root).map_err(|e| AdapterError::Malformed {
            assistant: NAME,
            detail: e.to_string(),
        });
    }
    cwd_of(NAME, v, &["cwd"])
}

fn pre(event: &str, v: &Value) -> Result<PreTool, AdapterError> {
    let cwd = cwd(v)?;
    let (tool, actions) = match event {
        "beforeShellExecution" => (
            "Shell".to_owned(),
            vec![shell("Shell", &cwd, required("Shell", v, "command")?)?],
        ),
        "beforeReadFile" => (
            "Read".to_owned(),
            vec![read("Read", &cwd, required("Read", v, "file_path")?)?],
        ),
        "beforeMCPExecution" => {
            let name = required("MCP", v, "tool_name")?;
            // tool_input arrives as a JSON string.
            let args = match v.get("tool_input") {
                Some(Value::String(s)) => {
                    serde_json::from_str(s).unwrap_or(Value::String(s.clone()))
                }
                Some(other) => other.clone(),
                None => Value::Null,
            };
            let server = field(v, "server_name").unwrap_or("cursor-mcp");
            (
                format!("mcp:{name}"),
                vec![tool_call(name, &cwd, server, name, &args)?],
            )
        }
        _ => {
            let tool = required("preToolUse", v, "tool_name")?;
            let input = v.get("tool_input").cloned().unwrap_or(json!({}));
            let cwd = match field(&input, "working_directory") {
                Some(d) => AbsPath::parse("cwd", d).map_err(|e| bad(tool, e))?,
                None => cwd,
            };
            let actions = actions_for_tool(tool, &input, &cwd)?;
            (tool.to_owned(), actions)
        }
    };
    Ok(PreTool {
        tool,
        tool_use_id: field(v, "tool_use_id").map(str::to_owned),
        actions,
        event_name: event.to_owned(),
    })
}

fn hooks(exe: &Path) -> Value {
    let h = json!([{"command": hook_command(exe, NAME), "timeout": HOOK_TIMEOUT_SECS}]);
    json!({
        "beforeShellExecution": h, "beforeReadFile": h, "beforeMCPExecution": h, "preToolUse": h,
        "afterShellExecution": h, "afterMCPExecution": h, "sessionStart": h, "sessionEnd": h,
    })
}

impl Adapter for Cursor {
    fn name(&self) -> &'static str {
        NAME
    }

    fn agent_name(&self) -> &'static str {
        "cursor"
    }

    fn programs(&self) -> &'static [&'static str] {
        &["cursor", "cursor-agent"]
    }

    fn tools(&self) -> &'static [(&'static str, ToolKind)] {
        TOOLS
    }

    /// `preToolUse` names every MCP tool `MCP`.
    fn is_mcp_tool(&self, tool: &str) -> bool {
        tool == "MCP"
    }

    fn parse(&self, v: &Value) -> Result<Event, AdapterError> {
        let event = field(v, "hook_event_name").ok_or_else(|| AdapterError::Malformed {
            assistant: NAME,
            detail: "no hook_event_name".into(),
        })?;
        Ok(match event {
            "beforeShellExecution" | "beforeReadFile" | "beforeMCPExecution" | "preToolUse" => {
                Event::PreTool(pre(event, v)?)
            }
            "afterShellExecution" | "afterMCPExecution" | "postToolUse" | "postToolUseFailure" => {
                let tool = field(v, "tool_name")
                    .unwrap_or(if event == "afterShellExecution" {
                        "Shell"
                    } else {
                        "?"
                    })
                    .to_owned();
                let output = ["output", "result_json", "tool_output", "error_message"]
                    .iter()
                    .find_map(|k| v.get(*k))
                    .map(|o| output_text(Some(o)))
                    .unwrap_or_default();
                Event::PostTool(PostTool {
                    untrusted: event == "afterMCPExecution" || tool == "MCP",
                    tool,
                    tool_use_id: field(v, "tool_use_id").map(str::to_owned),
                    output,
                    succeeded: Some(event != "postToolUseFailure"),
                    exit_code: None,
                    input: v.get("tool_input").cloned(),
                    actions: Vec::new(),
                })
            }
            "sessionStart" => Event::Session {
                kind: "session.start".into(),
                detail: json!({"assistant": "cursor", "session_id": v.get("session_id"), "conversation_id": v.get("conversation_id")}),
            },
            "sessionEnd" => Event::Session {
                kind: "session.end".into(),
                detail: json!({"assistant": "cursor", "session_id": v.get("session_id"), "reason": v.get("reason")}),
            },
            "stop" => Event::Session {
                kind: "session.stop".into(),
                detail: json!({"assistant": "cursor", "status": v.get("status")}),
            },
            other => Event::Ignored(other.to_owned()),
        })
    }

    /// In the event's own shape: `permission` for the `before…` events, `decision` for
    /// `preToolUse`.
    fn render(&self, event_name: &str, answer: &Answer) -> HookOutput {
        let (decision, reason) = match answer {
            Answer::Allow(r) => ("allow", r.as_str()),
            Answer::Deny(r) => ("deny", r.as_str()),
            Answer::Ask(r) => ("ask", r.as_str()),
        };
        let stdout = if event_name == "preToolUse" {
            // preToolUse has no "ask": refuse and say approval is needed.
            let (d, r) = if decision == "ask" {
                ("deny", format!("needs approval: {reason}"))
            } else {
                (decision, reason.to_owned())
            };
            json!({"decision": d, "reason": r}).to_string()
        } else {
            json!({"permission": decision, "user_message": reason, "agent_message": reason,
               "userMessage": reason, "agentMessage": reason})
            .to_string()
        };
        let deny = decision == "deny" || (decision == "ask" && event_name == "preToolUse");
        HookOutput {
            stdout,
            stderr: if deny {
                reason.to_owned()
            } else {
                String::new()
            },
            exit_code: if deny { 2 } else { 0 },
        }
    }

    /// Cursor has no per-run hook mechanism: only a note.
    fn run_wiring(&self, _exe: &Path, _session_dir: &Path) -> RunWiring {
        RunWiring {
            notes: vec![
                "Cursor reads hooks only from hooks.json files; run `mandate install cursor` once so the task token passed by `mandate run` is used."
                    .into(),
            ],
            ..Default::default()
        }
    }

    fn settings_path(&self, scope: Scope, home: &Path, project: &Path) -> PathBuf {
        scope.dir(home, project).join(".cursor/hooks.json")
    }

    fn install_entries(&self, exe: &Path) -> Vec<(String, Value)> {
        entries_of(&hooks(exe))
    }

    /// Cursor's hooks files carry `"version": 1`.
    fn settings_defaults(&self) -> Map<String, Value> {
        Map::from_iter([("version".to_owned(), json!(1))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_types::{ActionKind, ToolRole};

    fn parse(v: &Value) -> Result<Event, AdapterError> {
        Cursor.parse(v)
    }

    fn render(event_name: &str, answer: &Answer) -> HookOutput {
        Cursor.render(event_name, answer)
    }

    #[test]
    fn documented_payloads_map() {
        let shell: Value = serde_json::from_str(r#"{"conversation_id":"c1","generation_id":"g1","hook_event_name":"beforeShellExecution",
            "workspace_roots":["/repo"],"command":"git push --force origin main","cwd":"/repo","timeout":30}"#).unwrap();
        match parse(&shell).unwrap() {
            Event::PreTool(p) => assert_eq!(
                p.actions[0].kind,
                ActionKind::Shell {
                    command: "git push --force origin main".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        let read = json!({"hook_event_name":"beforeReadFile","workspace_roots":["/repo"],"file_path":"/repo/.env","content":"X=1"});
        match parse(&read).unwrap() {
            Event::PreTool(p) => assert_eq!(
                p.actions[0].kind,
                ActionKind::FileRead {
                    path: "/repo/.env".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        let mcp = json!({"hook_event_name":"beforeMCPExecution","workspace_roots":["/repo"],"tool_name":"create_issue","tool_input":"{\"title\":\"t\"}","command":"gh-mcp"});
        match parse(&mcp).unwrap() {
            Event::PreTool(p) => match &p.actions[0].kind {
                ActionKind::McpCall { args, .. } => assert_eq!(args["title"], "t"),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        let tool = json!({"hook_event_name":"preToolUse","tool_name":"Shell","tool_input":{"command":"npm install","working_directory":"/project"},"tool_use_id":"abc123","cwd":"/project"});
        assert!(matches!(parse(&tool).unwrap(), Event::PreTool(_)));
    }

    fn pre_tool(tool: &str, input: Value) -> ActionKind {
        let v =
            json!({"hook_event_name":"preToolUse","tool_name":tool,"tool_input":input,"cwd":"/p"});
        match parse(&v).unwrap() {
            Event::PreTool(p) => p.actions[0].kind.clone(),
            other => panic!("{other:?}"),
        }
    }

    /// Cursor cannot run here: its tool types are pinned from its documentation
    /// (`../shared/integrations/README.md` §3, the `preToolUse` matcher values).
    #[test]
    fn every_documented_tool_type_is_mapped() {
        for t in ["Shell", "Read", "Write", "Grep", "Delete", "MCP", "Task"] {
            assert_ne!(Cursor.tool_handling(t), ToolHandling::Unknown, "{t}");
        }
        match pre_tool("Task", json!({"subagent_type":"explore","prompt":"map it"})) {
            ActionKind::AssistantTool { role, prompt, .. } => {
                assert_eq!(role, ToolRole::Delegate);
                assert_eq!(prompt.and_then(|p| p.text).as_deref(), Some("map it"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            pre_tool("Delete", json!({"file_path":"/p/a"})),
            ActionKind::FileWrite {
                path: "/p/a".into(),
                content: None,
            }
        );
        match pre_tool("Teleport", json!({})) {
            ActionKind::AssistantTool { role, .. } => assert_eq!(role, ToolRole::Unknown),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_use_the_events_own_shape() {
        let o = render("beforeShellExecution", &Answer::Deny("no".into()));
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(
            (
                v["permission"].as_str(),
                v["agent_message"].as_str(),
                o.exit_code
            ),
            (Some("deny"), Some("no"), 2)
        );
        let o = render("preToolUse", &Answer::Ask("?".into()));
        assert_eq!(
            serde_json::from_str::<Value>(&o.stdout).unwrap()["decision"],
            "deny"
        );
        let o = render("beforeReadFile", &Answer::Allow("ok".into()));
        assert_eq!(o.exit_code, 0);
    }
}
