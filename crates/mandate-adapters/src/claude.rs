//! Claude Code hooks (`PreToolUse`, `PostToolUse`, `UserPromptSubmit`, `SessionStart`,
//! `Stop`, `SessionEnd`).
//!
//! Wire format: `../shared/integrations/README.md` §1. A deny is answered twice over: the
//! JSON `permissionDecision: "deny"` on stdout and exit status 2 with the reason on
//! stderr, so a schema change on either channel still blocks. Exit 1 is never used:
//! Claude Code treats it as "go on". For one session, hooks are passed with
//! `--settings '{"hooks": ...}'`.

use std::path::{Path, PathBuf};

use mandate_types::{AbsPath, Action};
use serde_json::{Value, json};

use crate::adapter::{Adapter, RunWiring, Scope};
use crate::event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool};
use crate::hook_config::{HOOK_TIMEOUT_SECS, HOOKS_KEY, entries_of, hook_command};
use crate::payload::{
    cwd_of, fetch, field, mapped, mcp_server_and_tool, output_text, tool_call, unknown,
};
use crate::tools::kinds::*;
use crate::tools::{ToolHandling, ToolKind};

/// Claude Code's hooks, as an [`Adapter`].
#[derive(Debug, Clone, Copy)]
pub struct Claude;

const NAME: &str = "claude";

/// Claude Code's tools: those 2.1.197 offers the model (in `-p` mode), then older and
/// documented ones (`Task` is `Agent`'s old name, still used in hooks).
const TOOLS: &[(&str, ToolKind)] = &[
    ("Agent", DELEGATE),
    ("Bash", SHELL),
    ("CronCreate", SCHEDULE),
    ("CronDelete", BOOKKEEPING),
    ("CronList", BOOKKEEPING),
    ("Edit", WRITE),
    ("EnterWorktree", WORKTREE),
    ("ExitWorktree", WORKTREE),
    ("NotebookEdit", WRITE),
    ("Read", READ),
    ("ReportFindings", BOOKKEEPING),
    ("ScheduleWakeup", SCHEDULE),
    ("SendMessage", DELEGATE),
    ("Skill", DELEGATE),
    ("TaskCreate", BOOKKEEPING),
    ("TaskGet", BOOKKEEPING),
    ("TaskList", BOOKKEEPING),
    ("TaskOutput", BOOKKEEPING),
    ("TaskStop", BOOKKEEPING),
    ("TaskUpdate", BOOKKEEPING),
    ("WebFetch", FETCH),
    ("WebSearch", WEB_SEARCH),
    ("Workflow", DELEGATE),
    ("Write", WRITE),
    ("Task", DELEGATE),
    ("TodoWrite", BOOKKEEPING),
    ("AskUserQuestion", BOOKKEEPING),
    ("EnterPlanMode", BOOKKEEPING),
    ("ExitPlanMode", BOOKKEEPING),
    ("ToolSearch", BOOKKEEPING),
    ("RemoteTrigger", SCHEDULE),
    ("Monitor", SHELL),
    ("PowerShell", SHELL),
    ("Glob", SEARCH),
    ("Grep", SEARCH),
    ("LS", SEARCH),
    ("MultiEdit", WRITE),
    ("NotebookRead", READ),
    ("ListMcpResourcesTool", MCP_RESOURCE),
    ("ReadMcpResourceTool", MCP_RESOURCE),
];

/// What a call of `tool` with `input` amounts to.
fn actions_for_tool(tool: &str, input: &Value, cwd: &AbsPath) -> Result<Vec<Action>, AdapterError> {
    match (Claude.tool_handling(tool), mcp_server_and_tool(tool)) {
        // A monitor runs a command or listens on a WebSocket.
        (ToolHandling::Known(_), _) if tool == "Monitor" && field(input, "command").is_none() => {
            let url = input.get("ws").and_then(|w| field(w, "url")).unwrap_or("");
            Ok(vec![fetch(tool, cwd, url)?])
        }
        (ToolHandling::Known(kind), _) => mapped(NAME, tool, kind, input, cwd),
        (ToolHandling::Mcp, Some((server, name))) => {
            Ok(vec![tool_call(tool, cwd, server, name, input)?])
        }
        (ToolHandling::Mcp | ToolHandling::Unknown, _) => unknown(NAME, tool, input, cwd),
    }
}

fn pre_tool(v: &Value) -> Result<PreTool, AdapterError> {
    let tool = field(v, "tool_name").ok_or_else(|| AdapterError::Malformed {
        assistant: NAME,
        detail: "PreToolUse without tool_name".into(),
    })?;
    let input = v
        .get("tool_input")
        .cloned()
        .unwrap_or(Value::Object(Default::default()));
    let cwd = cwd_of(NAME, v, &["cwd"])?;
    Ok(PreTool {
        tool: tool.to_owned(),
        tool_use_id: field(v, "tool_use_id").map(str::to_owned),
        actions: actions_for_tool(tool, &input, &cwd)?,
        event_name: "PreToolUse".into(),
    })
}

/// Claude Code's hooks (for `--settings` or a settings file).
fn hooks(exe: &Path) -> Value {
    let handler = json!([{"type": "command", "command": hook_command(exe, NAME), "timeout": HOOK_TIMEOUT_SECS}]);
    let tools = json!([{"matcher": "*", "hooks": handler}]);
    let plain = json!([{"hooks": handler}]);
    json!({
        "PreToolUse": tools,
        "PostToolUse": tools,
        "PostToolUseFailure": tools,
        "SessionStart": plain,
        "UserPromptSubmit": plain,
        "PermissionDenied": tools,
        "Stop": plain,
        "SessionEnd": plain,
    })
}

impl Adapter for Claude {
    fn name(&self) -> &'static str {
        NAME
    }

    fn agent_name(&self) -> &'static str {
        "claude-code"
    }

    fn programs(&self) -> &'static [&'static str] {
        &["claude"]
    }

    fn tools(&self) -> &'static [(&'static str, ToolKind)] {
        TOOLS
    }

    fn is_mcp_tool(&self, tool: &str) -> bool {
        mcp_server_and_tool(tool).is_some()
    }

    fn parse(&self, v: &Value) -> Result<Event, AdapterError> {
        let event = field(v, "hook_event_name").ok_or_else(|| AdapterError::Malformed {
            assistant: NAME,
            detail: "no hook_event_name".into(),
        })?;
        Ok(match event {
            "PreToolUse" => Event::PreTool(pre_tool(v)?),
            "PostToolUse" | "PostToolUseFailure" => {
                let tool = field(v, "tool_name").unwrap_or("?").to_owned();
                let failed = event == "PostToolUseFailure";
                let output = if failed {
                    field(v, "error").unwrap_or("").to_owned()
                } else {
                    output_text(v.get("tool_response"))
                };
                let exit_code = field(v, "error")
                    .and_then(|e| e.strip_prefix("Exit code "))
                    .and_then(|e| e.split_whitespace().next())
                    .and_then(|n| n.parse().ok());
                Event::PostTool(PostTool {
                    untrusted: tool == "WebFetch"
                        || tool == "WebSearch"
                        || tool == "ReadMcpResourceTool"
                        || tool.starts_with("mcp__"),
                    tool,
                    tool_use_id: field(v, "tool_use_id").map(str::to_owned),
                    output,
                    succeeded: Some(!failed),
                    exit_code,
                    input: v.get("tool_input").cloned(),
                    // As decided at PreToolUse; a call that cannot be rebuilt answers nothing.
                    actions: pre_tool(v).map(|p| p.actions).unwrap_or_default(),
                })
            }
            "UserPromptSubmit" => Event::Prompt(field(v, "prompt").unwrap_or("").to_owned()),
            "PermissionDenied" => Event::Refused(pre_tool(v)?),
            "SessionStart" => Event::Session {
                kind: "session.start".into(),
                detail: json!({"assistant": "claude", "session_id": v.get("session_id"), "source": v.get("source")}),
            },
            "SessionEnd" => Event::Session {
                kind: "session.end".into(),
                detail: json!({"assistant": "claude", "session_id": v.get("session_id"), "reason": v.get("reason")}),
            },
            "Stop" => Event::Session {
                kind: "session.stop".into(),
                detail: json!({"assistant": "claude", "session_id": v.get("session_id")}),
            },
            other => Event::Ignored(other.to_owned()),
        })
    }

    fn render(&self, event_name: &str, answer: &Answer) -> HookOutput {
        let event = if event_name.is_empty() {
            "PreToolUse"
        } else {
            event_name
        };
        let (decision, reason, exit_code) = match answer {
            Answer::Allow(r) => ("allow", r, 0),
            Answer::Ask(r) => ("ask", r, 0),
            Answer::Deny(r) => ("deny", r, 2),
        };
        let stdout = json!({"hookSpecificOutput": {
            "hookEventName": event,
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }})
        .to_string();
        HookOutput {
            stdout,
            stderr: if exit_code == 2 {
                reason.clone()
            } else {
                String::new()
            },
            exit_code,
        }
    }

    fn run_wiring(&self, exe: &Path, _session_dir: &Path) -> RunWiring {
        RunWiring {
            args: vec![
                "--settings".into(),
                json!({HOOKS_KEY: hooks(exe)}).to_string(),
            ],
            ..Default::default()
        }
    }

    fn settings_path(&self, scope: Scope, home: &Path, project: &Path) -> PathBuf {
        scope.dir(home, project).join(".claude/settings.json")
    }

    fn install_entries(&self, exe: &Path) -> Vec<(String, Value)> {
        entries_of(&hooks(exe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_types::{ActionKind, ToolRole};

    fn parse(v: &Value) -> Result<Event, AdapterError> {
        Claude.parse(v)
    }

    fn render(event_name: &str, answer: &Answer) -> HookOutput {
        Claude.render(event_name, answer)
    }

    fn pre(v: Value) -> PreTool {
        match parse(&v).unwrap() {
            Event::PreTool(p) => p,
            other => panic!("{other:?}"),
        }
    }

    fn base(tool: &str, input: Value) -> Value {
        json!({"session_id":"s","transcript_path":"/t","cwd":"/work","permission_mode":"default",
               "hook_event_name":"PreToolUse","tool_name":tool,"tool_input":input,"tool_use_id":"toolu_1"})
    }

    #[test]
    fn captured_bash_payload_maps_to_a_shell_action() {
        let p = pre(serde_json::from_str(r#"{"session_id":"10b4f9bb","transcript_path":"/x","cwd":"/work",
            "prompt_id":"4195556e","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash",
            "tool_input":{"command":"echo hello-from-fake-model > probe.txt","description":"probe"},
            "tool_use_id":"toolu_253a7eb6115342299774"}"#).unwrap());
        assert_eq!(p.tool_use_id.as_deref(), Some("toolu_253a7eb6115342299774"));
        assert_eq!(
            p.actions[0].kind,
            ActionKind::Shell {
                command: "echo hello-from-fake-model > probe.txt".into()
            }
        );
        assert_eq!(p.actions[0].cwd.as_str(), "/work");
    }

    #[test]
    fn a_write_carries_the_text_it_puts_into_the_file() {
        let k = |t: &str, i: Value| pre(base(t, i)).actions[0].kind.clone();
        let content = |kind: ActionKind| match kind {
            ActionKind::FileWrite { content, .. } => content,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            content(k(
                "Write",
                json!({"file_path":"/w/a.rs","content":"fn main() {}"})
            )),
            Some("fn main() {}".into())
        );
        assert_eq!(
            content(k(
                "Edit",
                json!({"file_path":"/w/a.rs","old_string":"x","new_string":"KEY = 1"})
            )),
            Some("KEY = 1".into())
        );
        assert_eq!(
            content(k(
                "MultiEdit",
                json!({"file_path":"/w/a.rs","edits":[{"old_string":"a","new_string":"b"},{"old_string":"c","new_string":"d"}]})
            )),
            Some("b\nd".into())
        );
        assert_eq!(
            content(k(
                "NotebookEdit",
                json!({"notebook_path":"/w/n.ipynb","new_source":"print(1)"})
            )),
            Some("print(1)".into())
        );
    }

    #[test]
    fn every_file_and_web_tool_maps() {
        let k = |t: &str, i: Value| pre(base(t, i)).actions[0].kind.clone();
        assert_eq!(
            k("Read", json!({"file_path":"/work/.env"})),
            ActionKind::FileRead {
                path: "/work/.env".into()
            }
        );
        for t in ["Write", "Edit", "MultiEdit"] {
            assert_eq!(
                k(t, json!({"file_path":"/work/a.rs"})),
                ActionKind::FileWrite {
                    path: "/work/a.rs".into(),
                    content: None,
                }
            );
        }
        assert_eq!(
            k("NotebookEdit", json!({"notebook_path":"/work/n.ipynb"})),
            ActionKind::FileWrite {
                path: "/work/n.ipynb".into(),
                content: None,
            }
        );
        assert!(matches!(
            k(
                "WebFetch",
                json!({"url":"https://x.example/a","prompt":"p"})
            ),
            ActionKind::Http { .. }
        ));
        match k("mcp__github__create_issue", json!({"title":"t"})) {
            ActionKind::McpCall { tool, .. } => assert_eq!(tool.to_string(), "github/create_issue"),
            other => panic!("{other:?}"),
        }
        match k("WebSearch", json!({"query":"q"})) {
            ActionKind::McpCall { tool, .. } => assert_eq!(tool.to_string(), "web/search"),
            other => panic!("{other:?}"),
        }
        match k(
            "ReadMcpResourceTool",
            json!({"server":"docs","uri":"docs://a"}),
        ) {
            ActionKind::McpCall { tool, .. } => assert_eq!(tool.to_string(), "docs/read_resource"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            k(
                "Monitor",
                json!({"command":"tail -f log","description":"d"})
            ),
            ActionKind::Shell {
                command: "tail -f log".into()
            }
        );
        assert!(matches!(
            k(
                "Monitor",
                json!({"ws":{"url":"wss://x.example/feed"},"description":"d"})
            ),
            ActionKind::Http { .. }
        ));
    }

    /// The role, prompt text, prompt length and path of an own tool's action.
    fn own(tool: &str, input: Value) -> (ToolRole, Option<String>, Option<u64>, Option<String>) {
        match pre(base(tool, input)).actions[0].kind.clone() {
            ActionKind::AssistantTool {
                assistant,
                tool: t,
                role,
                prompt,
                path,
                ..
            } => {
                assert_eq!((assistant.as_str(), t.as_str()), ("claude", tool));
                (
                    role,
                    prompt.as_ref().and_then(|p| p.text.clone()),
                    prompt.map(|p| p.len),
                    path,
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn scheduling_delegating_and_bookkeeping_tools_say_what_they_are() {
        let cron = own(
            "CronCreate",
            json!({"cron":"0 9 * * *","prompt":"run the smoke test","durable":true}),
        );
        assert_eq!(cron.0, ToolRole::Schedule);
        assert_eq!(cron.1.as_deref(), Some("run the smoke test"));
        let agent = pre(base(
            "Agent",
            json!({"description":"d","prompt":"look at src","subagent_type":"Explore"}),
        ));
        match &agent.actions[0].kind {
            ActionKind::AssistantTool {
                role,
                prompt,
                input,
                ..
            } => {
                assert_eq!(*role, ToolRole::Delegate);
                assert_eq!(
                    prompt.as_ref().and_then(|p| p.text.as_deref()),
                    Some("look at src")
                );
                assert_eq!(input, &json!({"description":"d","subagent_type":"Explore"}));
            }
            other => panic!("{other:?}"),
        }
        let long = "y".repeat(mandate_types::MAX_PROMPT_TEXT + 1);
        let msg = own("SendMessage", json!({"to":"researcher","message":long}));
        assert_eq!(
            (msg.0, msg.1, msg.2),
            (ToolRole::Delegate, None, Some(long.len() as u64))
        );
        for t in ["Workflow", "Skill", "Task"] {
            assert_eq!(own(t, json!({})).0, ToolRole::Delegate, "{t}");
        }
        for t in ["ScheduleWakeup", "RemoteTrigger"] {
            assert_eq!(own(t, json!({})).0, ToolRole::Schedule, "{t}");
        }
        for t in [
            "TaskCreate",
            "TodoWrite",
            "AskUserQuestion",
            "CronList",
            "ExitPlanMode",
        ] {
            assert_eq!(own(t, json!({})).0, ToolRole::Bookkeeping, "{t}");
        }
        let wt = own("EnterWorktree", json!({"path":"/work/.claude/worktrees/a"}));
        assert_eq!(
            (wt.0, wt.3.as_deref()),
            (ToolRole::Worktree, Some("/work/.claude/worktrees/a"))
        );
        assert_eq!(own("EnterWorktree", json!({"name":"a"})).3, None);
        assert_eq!(
            own("ExitWorktree", json!({"action":"remove"})).0,
            ToolRole::Worktree
        );
    }

    #[test]
    fn an_unknown_tool_is_an_action_policy_asks_about() {
        assert_eq!(own("Teleport", json!({"to":"mars"})).0, ToolRole::Unknown);
        assert_eq!(own("mcp__nodelimiter", json!({})).0, ToolRole::Unknown);
        assert_eq!(Claude.tool_handling("Teleport"), ToolHandling::Unknown);
        assert_eq!(Claude.tool_handling("mcp__gh__x"), ToolHandling::Mcp);
    }

    #[test]
    fn missing_fields_are_errors() {
        assert!(matches!(
            parse(&base("Bash", json!({}))),
            Err(AdapterError::BadToolInput { .. })
        ));
        assert!(matches!(
            parse(&base("Bash", json!({"command":"a\u{0}b"}))),
            Err(AdapterError::BadToolInput { .. })
        ));
        let mut no_cwd = base("Bash", json!({"command":"ls"}));
        no_cwd["cwd"] = json!("relative/dir");
        assert!(matches!(
            parse(&no_cwd),
            Err(AdapterError::Malformed { .. })
        ));
    }

    #[test]
    fn post_tool_and_session_events() {
        let post: Value = serde_json::from_str(r#"{"session_id":"s","cwd":"/w","hook_event_name":"PostToolUse","tool_name":"Bash",
            "tool_input":{"command":"cat x"},"tool_response":{"stdout":"AKIAIOSFODNN7EXAMPLE","stderr":"","interrupted":false},
            "tool_use_id":"toolu_9","duration_ms":7}"#).unwrap();
        match parse(&post).unwrap() {
            Event::PostTool(p) => {
                assert_eq!(p.output, "AKIAIOSFODNN7EXAMPLE\n");
                assert!(!p.untrusted);
            }
            other => panic!("{other:?}"),
        }
        let mcp = json!({"hook_event_name":"PostToolUse","tool_name":"mcp__probe__echo","cwd":"/w",
            "tool_response":[{"type":"text","text":"echo: hi"}]});
        match parse(&mcp).unwrap() {
            Event::PostTool(p) => assert!(p.untrusted && p.output == "echo: hi"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&json!({"hook_event_name":"SessionStart","cwd":"/w"})).unwrap(),
            Event::Session { .. }
        ));
        assert!(matches!(
            parse(&json!({"hook_event_name":"Notification"})).unwrap(),
            Event::Ignored(_)
        ));
    }

    #[test]
    fn deny_blocks_on_both_channels() {
        let o = render("PreToolUse", &Answer::Deny("no".into()));
        assert_eq!(o.exit_code, 2);
        assert_eq!(o.stderr, "no");
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
        assert_eq!(v["hookSpecificOutput"]["hookEventName"], "PreToolUse");
        let a = render("PreToolUse", &Answer::Allow("ok".into()));
        assert_eq!(a.exit_code, 0);
        let q = render("PreToolUse", &Answer::Ask("?".into()));
        assert!(q.stdout.contains("\"ask\""));
    }

    #[test]
    fn claude_settings_hook_every_tool() {
        let h = hooks(Path::new("/x/mandate"));
        assert_eq!(h["PreToolUse"][0]["matcher"], "*");
        assert_eq!(
            h["PreToolUse"][0]["hooks"][0]["command"],
            "/x/mandate hook claude"
        );
    }
}
