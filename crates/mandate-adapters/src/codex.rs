//! Codex CLI hooks (Claude-compatible `PreToolUse`, `PostToolUse`, `SessionStart`,
//! `Stop`, `SessionEnd`).
//!
//! Wire format: `../shared/integrations/README.md` §5. Codex's output schemas reject
//! unknown fields, and an `ask` decision *fails* the hook (the tool then runs), so ask is
//! rendered as a deny that says approval is needed. For one session, hooks are passed as
//! `-c hooks.<Event>=...` overrides with `--dangerously-bypass-hook-trust` (the hooks
//! come from the command line, not from a file anyone could edit).

use std::path::{Path, PathBuf};

use mandate_types::{AbsPath, Action, ToolRole};
use serde_json::{Value, json};

use crate::adapter::{Adapter, RunWiring, Scope};
use crate::event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool};
use crate::hook_config::{HOOK_TIMEOUT_SECS, entries_of, hook_command, shell_quote};
use crate::payload::{
    any_of, bad, cwd_of, dir_under, field, mapped, mcp_server_and_tool, output_text, own, required,
    shell, tool_call, unknown, write_content,
};
use crate::tools::kinds::*;
use crate::tools::{ToolHandling, ToolKind};

/// Codex CLI's hooks, as an [`Adapter`].
#[derive(Debug, Clone, Copy)]
pub struct Codex;

const NAME: &str = "codex";

/// The files an `apply_patch` envelope touches: (path, deleted).
pub fn patch_files(patch: &str) -> Vec<(String, bool)> {
    patch
        .lines()
        .filter_map(|l| {
            let l = l.trim_end();
            if let Some(p) = l
                .strip_prefix("*** Add File: ")
                .or_else(|| l.strip_prefix("*** Update File: "))
            {
                Some((p.trim().to_owned(), false))
            } else if let Some(p) = l.strip_prefix("*** Move to: ") {
                Some((p.trim().to_owned(), false))
            } else {
                l.strip_prefix("*** Delete File: ")
                    .map(|p| (p.trim().to_owned(), true))
            }
        })
        .collect()
}

/// Codex CLI's tools: those 0.169.0 offers the model (the sub-agent tools inside its
/// `multi_agent_v1` namespace by their own names), then the names its hooks use for
/// them (`Bash`, `apply_patch`, `Edit`, `Write`, `Agent`) and older ones.
const TOOLS: &[(&str, ToolKind)] = &[
    ("exec_command", SHELL),
    ("write_stdin", SHELL),
    ("request_user_input", BOOKKEEPING),
    ("view_image", READ),
    ("close_agent", BOOKKEEPING),
    ("resume_agent", DELEGATE),
    ("send_input", DELEGATE),
    ("spawn_agent", DELEGATE),
    ("wait_agent", BOOKKEEPING),
    ("get_goal", BOOKKEEPING),
    ("create_goal", BOOKKEEPING),
    ("update_goal", BOOKKEEPING),
    ("web_search", WEB_SEARCH),
    ("Bash", SHELL),
    ("apply_patch", WRITE),
    ("Edit", WRITE),
    ("Write", WRITE),
    ("Agent", DELEGATE),
    ("shell", SHELL),
    ("local_shell", SHELL),
    ("update_plan", BOOKKEEPING),
    ("Read", READ),
];

/// The command line of a shell tool's input: a string (`command`, `cmd`) or an argv.
fn command_line(tool: &str, input: &Value) -> Result<String, AdapterError> {
    match (
        any_of(input, &["command", "cmd"]),
        input.get("command").and_then(|c| c.as_array()),
    ) {
        (Some(c), _) => Ok(c.to_owned()),
        (None, Some(argv)) => Ok(argv
            .iter()
            .filter_map(|a| a.as_str())
            .map(shell_quote)
            .collect::<Vec<_>>()
            .join(" ")),
        _ => Err(bad(tool, "missing command")),
    }
}

/// What a call of `tool` with `input` amounts to.
fn actions_for_tool(tool: &str, input: &Value, cwd: &AbsPath) -> Result<Vec<Action>, AdapterError> {
    Ok(match (Codex.tool_handling(tool), tool) {
        // Typing into a running command session is running what is typed; an empty
        // write only polls its output.
        (ToolHandling::Known(_), "write_stdin") => match field(input, "chars") {
            Some(chars) if !chars.trim().is_empty() => vec![shell(tool, cwd, chars)?],
            _ => vec![own(NAME, tool, ToolRole::Bookkeeping, input, cwd)?],
        },
        (ToolHandling::Known(ToolKind::Shell), _) => {
            let cwd = match field(input, "workdir") {
                Some(d) => dir_under(tool, cwd, d)?,
                None => cwd.clone(),
            };
            vec![shell(tool, &cwd, &command_line(tool, input)?)?]
        }
        (ToolHandling::Known(_), "apply_patch" | "Edit" | "Write") => {
            let patch = required(tool, input, "command")?;
            let files = patch_files(patch);
            if files.is_empty() {
                return Err(bad(tool, "the patch names no files"));
            }
            // What the patch adds, judged with each file it touches.
            let added: String = patch
                .lines()
                .filter_map(|l| l.strip_prefix('+').filter(|_| !l.starts_with("+++")))
                .collect::<Vec<_>>()
                .join("\n");
            let added = (!added.is_empty()).then_some(added.as_str());
            files
                .iter()
                .map(|(p, _deleted)| write_content(tool, cwd, p, added))
                .collect::<Result<_, _>>()?
        }
        (ToolHandling::Known(kind), _) => mapped(NAME, tool, kind, input, cwd)?,
        (ToolHandling::Mcp | ToolHandling::Unknown, t) => match mcp_server_and_tool(t) {
            Some((server, name)) => vec![tool_call(tool, cwd, server, name, input)?],
            None => unknown(NAME, tool, input, cwd)?,
        },
    })
}

fn pre_tool(v: &Value) -> Result<PreTool, AdapterError> {
    let tool = field(v, "tool_name").ok_or_else(|| AdapterError::Malformed {
        assistant: NAME,
        detail: "PreToolUse without tool_name".into(),
    })?;
    let input = v.get("tool_input").cloned().unwrap_or(json!({}));
    let cwd = cwd_of(NAME, v, &["cwd"])?;
    Ok(PreTool {
        tool: tool.to_owned(),
        tool_use_id: field(v, "tool_use_id").map(str::to_owned),
        actions: actions_for_tool(tool, &input, &cwd)?,
        event_name: "PreToolUse".into(),
    })
}

fn hooks(exe: &Path) -> Value {
    let handler = json!([{"type": "command", "command": hook_command(exe, NAME), "timeout": HOOK_TIMEOUT_SECS}]);
    json!({
        "PreToolUse": [{"matcher": "*", "hooks": handler}],
        "PostToolUse": [{"matcher": "*", "hooks": handler}],
        "SessionStart": [{"hooks": handler}],
        "Stop": [{"hooks": handler}],
    })
}

fn toml_value(v: &Value) -> String {
    match v {
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, x)| format!("{k} = {}", toml_value(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::String(s) => Value::String(s.clone()).to_string(),
        other => other.to_string(),
    }
}

impl Adapter for Codex {
    fn name(&self) -> &'static str {
        NAME
    }

    fn agent_name(&self) -> &'static str {
        "codex-cli"
    }

    fn programs(&self) -> &'static [&'static str] {
        &["codex"]
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
            "PostToolUse" => {
                let tool = field(v, "tool_name").unwrap_or("?").to_owned();
                Event::PostTool(PostTool {
                    untrusted: tool.starts_with("mcp__"),
                    output: output_text(v.get("tool_response")),
                    tool,
                    tool_use_id: field(v, "tool_use_id").map(str::to_owned),
                    succeeded: None,
                    exit_code: None,
                    input: v.get("tool_input").cloned(),
                    actions: Vec::new(),
                })
            }
            "SessionStart" => Event::Session {
                kind: "session.start".into(),
                detail: json!({"assistant": "codex", "session_id": v.get("session_id"), "source": v.get("source")}),
            },
            "SessionEnd" => Event::Session {
                kind: "session.end".into(),
                detail: json!({"assistant": "codex", "session_id": v.get("session_id")}),
            },
            "Stop" => Event::Session {
                kind: "session.stop".into(),
                detail: json!({"assistant": "codex", "session_id": v.get("session_id")}),
            },
            other => Event::Ignored(other.to_owned()),
        })
    }

    /// Codex fails a hook that answers "ask": the hook waits for `mandate approve`.
    fn asks_its_user(&self) -> bool {
        false
    }

    /// Only fields Codex's schema accepts.
    fn render(&self, _event_name: &str, answer: &Answer) -> HookOutput {
        let (decision, reason) = match answer {
            Answer::Allow(r) => ("allow", r.clone()),
            Answer::Deny(r) => ("deny", r.clone()),
            // Codex fails a hook that answers "ask" and then runs the tool: refuse instead.
            Answer::Ask(r) => ("deny", format!("needs approval: {r}")),
        };
        let stdout = json!({"hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }})
        .to_string();
        if decision == "deny" {
            HookOutput {
                stdout,
                stderr: reason,
                exit_code: 2,
            }
        } else {
            HookOutput {
                stdout,
                ..Default::default()
            }
        }
    }

    /// `-c hooks.<Event>=[...]` overrides and the trust bypass for them.
    fn run_wiring(&self, exe: &Path, _session_dir: &Path) -> RunWiring {
        let mut args = Vec::new();
        if let Some(m) = hooks(exe).as_object() {
            for (event, list) in m {
                args.push("-c".to_owned());
                args.push(format!("hooks.{event}={}", toml_value(list)));
            }
        }
        args.push("--dangerously-bypass-hook-trust".into());
        RunWiring {
            args,
            ..Default::default()
        }
    }

    fn settings_path(&self, scope: Scope, home: &Path, project: &Path) -> PathBuf {
        scope.dir(home, project).join(".codex/hooks.json")
    }

    fn install_entries(&self, exe: &Path) -> Vec<(String, Value)> {
        entries_of(&hooks(exe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_types::ActionKind;

    fn actions(tool: &str, input: Value) -> Vec<Action> {
        match Codex
            .parse(&json!({"hook_event_name":"PreToolUse","cwd":"/w","tool_name":tool,"tool_input":input}))
            .unwrap()
        {
            Event::PreTool(p) => p.actions,
            other => panic!("{other:?}"),
        }
    }

    fn role(tool: &str, input: Value) -> (ToolRole, Option<String>) {
        match actions(tool, input).remove(0).kind {
            ActionKind::AssistantTool { role, prompt, .. } => (role, prompt.and_then(|p| p.text)),
            other => panic!("{other:?}"),
        }
    }

    /// The hook payload Codex 0.169.0 sent for a `spawn_agent` call (captured).
    #[test]
    fn a_sub_agent_start_is_a_delegation_with_its_prompt() {
        let v: Value = serde_json::from_str(r#"{"session_id":"01a21db5","turn_id":"01a21db5-fc7d","transcript_path":"/t",
            "cwd":"/w","hook_event_name":"PreToolUse","model":"gpt-5","permission_mode":"bypassPermissions",
            "tool_name":"spawn_agent","tool_input":{"message":"look at src"},"tool_use_id":"call_0"}"#).unwrap();
        match parse(&v).unwrap() {
            Event::PreTool(p) => match &p.actions[0].kind {
                ActionKind::AssistantTool { role, prompt, .. } => {
                    assert_eq!(*role, ToolRole::Delegate);
                    assert_eq!(
                        prompt.as_ref().and_then(|p| p.text.as_deref()),
                        Some("look at src")
                    );
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        assert_eq!(
            role("send_input", json!({"target":"a1","message":"and tests"})),
            (ToolRole::Delegate, Some("and tests".into()))
        );
        for t in [
            "get_goal",
            "update_goal",
            "wait_agent",
            "close_agent",
            "request_user_input",
        ] {
            assert_eq!(role(t, json!({})).0, ToolRole::Bookkeeping, "{t}");
        }
        assert_eq!(role("teleport", json!({})).0, ToolRole::Unknown);
    }

    #[test]
    fn shells_run_where_they_say_and_typing_into_one_is_a_command() {
        let a = actions("exec_command", json!({"cmd":"make","workdir":"sub"}));
        assert_eq!(a[0].cwd.as_str(), "/w/sub");
        assert_eq!(
            actions("write_stdin", json!({"session_id":1,"chars":"rm -rf ~\n"}))[0].kind,
            ActionKind::Shell {
                command: "rm -rf ~\n".into()
            }
        );
        assert_eq!(
            role("write_stdin", json!({"session_id":1,"chars":""})).0,
            ToolRole::Bookkeeping
        );
        assert_eq!(
            actions("view_image", json!({"path":"/w/a.png"}))[0].kind,
            ActionKind::FileRead {
                path: "/w/a.png".into()
            }
        );
    }

    fn parse(v: &Value) -> Result<Event, AdapterError> {
        Codex.parse(v)
    }

    fn render(event_name: &str, answer: &Answer) -> HookOutput {
        Codex.render(event_name, answer)
    }

    fn run_wiring(exe: &Path, session_dir: &Path) -> RunWiring {
        Codex.run_wiring(exe, session_dir)
    }

    #[test]
    fn captured_pre_tool_use_maps() {
        let v: Value = serde_json::from_str(r#"{"session_id":"01a213ac","turn_id":"01a213ac-d3ba","transcript_path":"/t",
            "cwd":"/w","hook_event_name":"PreToolUse","model":"gpt-5","permission_mode":"bypassPermissions",
            "tool_name":"Bash","tool_input":{"command":"echo hi-from-fake > c.txt"},"tool_use_id":"call_505a5da62223"}"#).unwrap();
        match parse(&v).unwrap() {
            Event::PreTool(p) => assert_eq!(
                p.actions[0].kind,
                ActionKind::Shell {
                    command: "echo hi-from-fake > c.txt".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn apply_patch_names_every_file() {
        let patch = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** Update File: src/b.rs\n@@\n-a\n+b\n*** Delete File: old.txt\n*** End Patch\n";
        assert_eq!(
            patch_files(patch),
            vec![
                ("a.txt".into(), false),
                ("src/b.rs".into(), false),
                ("old.txt".into(), true)
            ]
        );
        let v = json!({"hook_event_name":"PreToolUse","cwd":"/w","tool_name":"apply_patch","tool_input":{"command":patch}});
        match parse(&v).unwrap() {
            Event::PreTool(p) => assert_eq!(p.actions.len(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn ask_becomes_a_deny_and_output_has_only_schema_fields() {
        let o = render("PreToolUse", &Answer::Ask("x".into()));
        assert_eq!(o.exit_code, 2);
        let v: Value = serde_json::from_str(&o.stdout).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
        assert_eq!(v.as_object().unwrap().len(), 1);
    }

    #[test]
    fn run_wiring_is_toml_overrides() {
        let w = run_wiring(Path::new("/x/mandate"), Path::new("/tmp"));
        let joined = w.args.join(" ");
        let pre = w
            .args
            .iter()
            .find(|a| a.starts_with("hooks.PreToolUse="))
            .expect("PreToolUse override");
        for piece in [
            r#"command = "/x/mandate hook codex""#,
            "timeout = 30",
            r#"type = "command""#,
            r#"matcher = "*""#,
        ] {
            assert!(pre.contains(piece), "{pre}");
        }
        assert!(joined.ends_with("--dangerously-bypass-hook-trust"));
    }
}
