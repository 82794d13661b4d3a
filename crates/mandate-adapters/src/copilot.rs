//! GitHub Copilot CLI / coding agent hooks (`preToolUse`, `postToolUse`, `sessionStart`,
//! `sessionEnd`, `agentStop`), in both payload dialects: camelCase (`toolName`,
//! `toolArgs`) and the VS Code-compatible PascalCase one (`hook_event_name`,
//! `tool_input`).
//!
//! Wire format: `../shared/integrations/README.md` §6 (from GitHub's documentation; not
//! runnable here). Copilot logs and skips failing hooks, so only an explicit
//! `permissionDecision: "deny"` blocks: every failure is rendered as one. For one session
//! `mandate run` writes `.github/hooks/mandate-session.json` in the repository and removes
//! it when the session ends.

use std::path::{Path, PathBuf};

use mandate_types::{AbsPath, Action};
use serde_json::{Map, Value, json};

use crate::adapter::{Adapter, RunWiring, Scope};
use crate::event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool};
use crate::hook_config::{HOOK_TIMEOUT_SECS, HOOKS_KEY, entries_of, hook_command};
use crate::payload::{cwd_of, field, mapped, output_text, tool_call, unknown};
use crate::tools::kinds::*;
use crate::tools::{ToolHandling, ToolKind};

/// Copilot's hooks, as an [`Adapter`].
#[derive(Debug, Clone, Copy)]
pub struct Copilot;

const NAME: &str = "copilot";

/// Copilot's tools, as its hooks reference names them, then older names.
const TOOLS: &[(&str, ToolKind)] = &[
    ("bash", SHELL),
    ("powershell", SHELL),
    ("view", READ),
    ("create", WRITE),
    ("edit", WRITE),
    ("glob", SEARCH),
    ("grep", SEARCH),
    ("web_fetch", FETCH),
    ("task", DELEGATE),
    ("ask_user", BOOKKEEPING),
    ("shell", SHELL),
    ("read", READ),
    ("write", WRITE),
    ("report_intent", BOOKKEEPING),
    ("update_todo", BOOKKEEPING),
];

/// The server and tool of an MCP tool, `server/tool` or `server__tool`.
fn mcp_tool(tool: &str) -> Option<(&str, &str)> {
    tool.split_once('/').or_else(|| tool.split_once("__"))
}

/// What a call of `tool` with `input` amounts to.
fn actions_for_tool(tool: &str, input: &Value, cwd: &AbsPath) -> Result<Vec<Action>, AdapterError> {
    match (Copilot.tool_handling(tool), mcp_tool(tool)) {
        (ToolHandling::Known(kind), _) => mapped(NAME, tool, kind, input, cwd),
        (ToolHandling::Mcp, Some((server, name))) => {
            Ok(vec![tool_call(tool, cwd, server, name, input)?])
        }
        (ToolHandling::Mcp | ToolHandling::Unknown, _) => unknown(NAME, tool, input, cwd),
    }
}

fn event_name(v: &Value) -> String {
    if let Some(e) = field(v, "hook_event_name") {
        let mut c = e.chars();
        return c
            .next()
            .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
            .unwrap_or_default();
    }
    if let Some(e) = field(v, "event") {
        return e.to_owned();
    }
    if v.get("toolName").is_some() {
        return if v.get("toolResult").is_some() {
            "postToolUse"
        } else {
            "preToolUse"
        }
        .into();
    }
    if v.get("source").is_some() || v.get("initialPrompt").is_some() {
        return "sessionStart".into();
    }
    if v.get("reason").is_some() {
        return "sessionEnd".into();
    }
    String::new()
}

fn args_of(v: &Value) -> Value {
    match v.get("toolArgs").or_else(|| v.get("tool_input")) {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| json!({"command": s})),
        Some(other) => other.clone(),
        None => json!({}),
    }
}

fn pre(v: &Value) -> Result<PreTool, AdapterError> {
    let tool = field(v, "toolName")
        .or_else(|| field(v, "tool_name"))
        .ok_or_else(|| AdapterError::Malformed {
            assistant: NAME,
            detail: "preToolUse without toolName".into(),
        })?;
    let input = args_of(v);
    let cwd = cwd_of(NAME, v, &["cwd"])?;
    let actions = actions_for_tool(tool, &input, &cwd)?;
    Ok(PreTool {
        tool: tool.to_owned(),
        tool_use_id: None,
        actions,
        event_name: "preToolUse".into(),
    })
}

fn hooks(exe: &Path) -> Value {
    let h = |e: &str| json!([{"type": "command", "bash": format!("{} {e}", hook_command(exe, NAME)), "timeoutSec": HOOK_TIMEOUT_SECS}]);
    json!({
        "preToolUse": h("preToolUse"), "postToolUse": h("postToolUse"), "sessionStart": h("sessionStart"),
        "sessionEnd": h("sessionEnd"), "agentStop": h("agentStop"),
    })
}

impl Adapter for Copilot {
    fn name(&self) -> &'static str {
        NAME
    }

    fn agent_name(&self) -> &'static str {
        "copilot-cli"
    }

    fn programs(&self) -> &'static [&'static str] {
        &["copilot"]
    }

    fn tools(&self) -> &'static [(&'static str, ToolKind)] {
        TOOLS
    }

    /// `server/tool` or `server__tool`.
    fn is_mcp_tool(&self, tool: &str) -> bool {
        mcp_tool(tool).is_some()
    }

    /// The camelCase dialect names no event: the hooks pass it on the command line.
    fn takes_event_hint(&self) -> bool {
        true
    }

    /// Either dialect.
    fn parse(&self, v: &Value) -> Result<Event, AdapterError> {
        let event = event_name(v);
        Ok(match event.as_str() {
            "preToolUse" => Event::PreTool(pre(v)?),
            "postToolUse" | "postToolUseFailure" => {
                let tool = field(v, "toolName")
                    .or_else(|| field(v, "tool_name"))
                    .unwrap_or("?")
                    .to_owned();
                let result = v.get("toolResult").or_else(|| v.get("tool_response"));
                let output = result
                    .and_then(|r| r.get("textResultForLlm"))
                    .map(|t| output_text(Some(t)))
                    .unwrap_or_else(|| output_text(result));
                Event::PostTool(PostTool {
                    untrusted: tool == "web_fetch",
                    tool,
                    tool_use_id: None,
                    output,
                    succeeded: result
                        .and_then(|r| field(r, "resultType"))
                        .map(|t| t == "success"),
                    exit_code: None,
                    input: v.get("toolArgs").cloned(),
                    actions: Vec::new(),
                })
            }
            "sessionStart" => Event::Session {
                kind: "session.start".into(),
                detail: json!({"assistant": "copilot", "session_id": v.get("sessionId").or(v.get("session_id")), "source": v.get("source")}),
            },
            "sessionEnd" => Event::Session {
                kind: "session.end".into(),
                detail: json!({"assistant": "copilot", "session_id": v.get("sessionId").or(v.get("session_id")), "reason": v.get("reason")}),
            },
            "agentStop" => Event::Session {
                kind: "session.stop".into(),
                detail: json!({"assistant": "copilot"}),
            },
            "" => {
                return Err(AdapterError::Malformed {
                    assistant: NAME,
                    detail: "cannot tell which event this is".into(),
                });
            }
            other => Event::Ignored(other.to_owned()),
        })
    }

    fn render(&self, _event_name: &str, answer: &Answer) -> HookOutput {
        let (d, r) = match answer {
            Answer::Allow(r) => ("allow", r),
            Answer::Deny(r) => ("deny", r),
            Answer::Ask(r) => ("ask", r),
        };
        HookOutput {
            stdout: json!({"permissionDecision": d, "permissionDecisionReason": r}).to_string(),
            stderr: if d == "deny" {
                r.clone()
            } else {
                String::new()
            },
            // Copilot ignores exit codes on preToolUse; the JSON is what blocks.
            exit_code: 0,
        }
    }

    /// A hooks file in the repository's `.github/hooks/`, removed after.
    fn run_wiring(&self, exe: &Path, _session_dir: &Path) -> RunWiring {
        let dir = std::env::current_dir()
            .unwrap_or_default()
            .join(".github/hooks");
        RunWiring {
            files: vec![(
                dir.join("mandate-session.json"),
                json!({"version": 1, HOOKS_KEY: hooks(exe)}).to_string(),
            )],
            ..Default::default()
        }
    }

    fn settings_path(&self, scope: Scope, home: &Path, project: &Path) -> PathBuf {
        match scope {
            Scope::Project => project.join(".github/hooks/mandate.json"),
            Scope::User => home.join(".copilot/hooks/mandate.json"),
        }
    }

    fn install_entries(&self, exe: &Path) -> Vec<(String, Value)> {
        entries_of(&hooks(exe))
    }

    /// Copilot's hooks files carry `"version": 1`.
    fn settings_defaults(&self) -> Map<String, Value> {
        Map::from_iter([("version".to_owned(), json!(1))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_types::{ActionKind, ToolRole};

    fn parse(v: &Value) -> Result<Event, AdapterError> {
        Copilot.parse(v)
    }

    fn render(event_name: &str, answer: &Answer) -> HookOutput {
        Copilot.render(event_name, answer)
    }

    #[test]
    fn both_dialects_parse() {
        let camel: Value = serde_json::from_str(
            r#"{"sessionId":"s","timestamp":1704614600000,"cwd":"/path","toolName":"bash",
            "toolArgs":"{\"command\":\"rm -rf dist\",\"description\":\"Clean build directory\"}"}"#,
        )
        .unwrap();
        match parse(&camel).unwrap() {
            Event::PreTool(p) => assert_eq!(
                p.actions[0].kind,
                ActionKind::Shell {
                    command: "rm -rf dist".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        let pascal = json!({"hook_event_name":"PreToolUse","session_id":"s","timestamp":"2026-01-01T00:00:00Z","cwd":"/p",
            "tool_name":"view","tool_input":{"path":"/p/.env"}});
        match parse(&pascal).unwrap() {
            Event::PreTool(p) => assert_eq!(
                p.actions[0].kind,
                ActionKind::FileRead {
                    path: "/p/.env".into()
                }
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&json!({"x": 1})),
            Err(AdapterError::Malformed { .. })
        ));
    }

    fn pre(tool: &str, input: Value) -> ActionKind {
        let v =
            json!({"hook_event_name":"PreToolUse","cwd":"/p","tool_name":tool,"tool_input":input});
        match parse(&v).unwrap() {
            Event::PreTool(p) => p.actions[0].kind.clone(),
            other => panic!("{other:?}"),
        }
    }

    /// Copilot cannot run here: its tool names are pinned from GitHub's hooks reference
    /// (`../shared/integrations/README.md` §6).
    #[test]
    fn every_documented_tool_is_mapped() {
        for t in [
            "bash",
            "powershell",
            "view",
            "create",
            "edit",
            "glob",
            "grep",
            "web_fetch",
            "task",
            "ask_user",
        ] {
            assert_ne!(Copilot.tool_handling(t), ToolHandling::Unknown, "{t}");
        }
        match pre("task", json!({"description":"d","prompt":"fix the test"})) {
            ActionKind::AssistantTool { role, prompt, .. } => {
                assert_eq!(role, ToolRole::Delegate);
                assert_eq!(prompt.and_then(|p| p.text).as_deref(), Some("fix the test"));
            }
            other => panic!("{other:?}"),
        }
        match pre("github/create_issue", json!({})) {
            ActionKind::McpCall { tool, .. } => assert_eq!(tool.to_string(), "github/create_issue"),
            other => panic!("{other:?}"),
        }
        match pre("teleport", json!({})) {
            ActionKind::AssistantTool { role, .. } => assert_eq!(role, ToolRole::Unknown),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deny_is_the_documented_json() {
        let o = render("preToolUse", &Answer::Deny("no".into()));
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v["permissionDecision"], "deny");
        assert_eq!(v["permissionDecisionReason"], "no");
    }
}
