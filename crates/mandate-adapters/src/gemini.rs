//! Gemini CLI hooks (`BeforeTool`, `AfterTool`, `SessionStart`, `SessionEnd`, `AfterAgent`).
//!
//! Wire format: `../shared/integrations/README.md` §4. JSON on stdout wins whatever the
//! exit status; a deny also exits 2 with the reason on stderr, which Gemini CLI treats as
//! a deny on its own. For one session, hooks are injected through a system-defaults
//! settings file (`GEMINI_CLI_SYSTEM_DEFAULTS_PATH`), whose hook lists are concatenated
//! with the user's and the project's.

use std::path::{Path, PathBuf};

use mandate_types::{AbsPath, Action};
use serde_json::{Value, json};

use crate::adapter::{Adapter, RunWiring, Scope};
use crate::event::{AdapterError, Answer, Event, HookOutput, PostTool, PreTool};
use crate::hook_config::{HOOK_TIMEOUT_SECS, HOOKS_KEY, entries_of, hook_command};
use crate::payload::{
    any_of, cwd_of, dir_under, fetch, field, mapped, output_text, read, required, shell, tool_call,
    unknown, write_content,
};
use crate::tools::kinds::*;
use crate::tools::{ToolHandling, ToolKind};

/// Gemini CLI's hooks, as an [`Adapter`].
#[derive(Debug, Clone, Copy)]
pub struct Gemini;

const NAME: &str = "gemini";

/// Gemini CLI's tools: those 0.61.0 offers the model (`--approval-mode yolo`), then the
/// documented ones.
const TOOLS: &[(&str, ToolKind)] = &[
    ("update_topic", BOOKKEEPING),
    ("list_directory", SEARCH),
    ("read_file", READ),
    ("grep_search", SEARCH),
    ("glob", SEARCH),
    ("replace", WRITE),
    ("write_file", WRITE),
    ("web_fetch", FETCH),
    ("run_shell_command", SHELL),
    ("list_background_processes", BOOKKEEPING),
    ("read_background_output", BOOKKEEPING),
    ("google_web_search", WEB_SEARCH),
    ("enter_plan_mode", BOOKKEEPING),
    ("invoke_agent", DELEGATE),
    ("activate_skill", DELEGATE),
    ("exit_plan_mode", BOOKKEEPING),
    ("write_todos", BOOKKEEPING),
    ("ask_user", BOOKKEEPING),
    ("save_memory", WRITE),
    ("read_many_files", READ),
    ("search_file_content", SEARCH),
    ("edit", WRITE),
    ("read_mcp_resource", MCP_RESOURCE),
    ("list_mcp_resources", MCP_RESOURCE),
];

/// Where `save_memory` writes: the user's memory file, read into every later session.
const MEMORY_FILE: &str = "~/.gemini/GEMINI.md";

fn urls_in(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "<>\"'()[]".contains(c))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ';']))
        .collect()
}

/// The server and tool of an MCP tool: the payload's own account of them, else its name
/// `mcp_<server>_<tool>`.
fn mcp_tool<'a>(tool: &'a str, mcp_context: Option<&'a Value>) -> Option<(&'a str, &'a str)> {
    match (
        mcp_context.and_then(|c| field(c, "server_name")),
        mcp_context.and_then(|c| field(c, "tool_name")),
    ) {
        (Some(s), Some(n)) => Some((s, n)),
        _ => tool.strip_prefix("mcp_")?.split_once('_'),
    }
}

/// What a call of `tool` with `input` amounts to. `mcp_context` is the payload's own
/// account of an MCP tool's server and name.
fn actions_for_tool(
    tool: &str,
    input: &Value,
    cwd: &AbsPath,
    mcp_context: Option<&Value>,
) -> Result<Vec<Action>, AdapterError> {
    let handling = Gemini.tool_handling(tool);
    Ok(match (handling, tool) {
        // The command runs in `dir_path` (relative to the project root, the cwd).
        (ToolHandling::Known(_), "run_shell_command") => {
            let command = required(tool, input, "command")?;
            let cwd = match any_of(input, &["dir_path", "directory"]) {
                Some(d) => dir_under(tool, cwd, d)?,
                None => cwd.clone(),
            };
            vec![shell(tool, &cwd, command)?]
        }
        (ToolHandling::Known(_), "read_many_files") => {
            let paths: Vec<&str> = ["paths", "file_paths", "include"]
                .iter()
                .filter_map(|k| input.get(*k).and_then(|p| p.as_array()))
                .flatten()
                .filter_map(|p| p.as_str())
                .collect();
            if paths.is_empty() {
                vec![read(tool, cwd, ".")?]
            } else {
                paths
                    .into_iter()
                    .map(|p| read(tool, cwd, p))
                    .collect::<Result<_, _>>()?
            }
        }
        // The URLs are in the prompt.
        (ToolHandling::Known(_), "web_fetch") => {
            let prompt = any_of(input, &["prompt", "url"]).unwrap_or("");
            let urls = urls_in(prompt);
            if urls.is_empty() {
                vec![tool_call(tool, cwd, "web", "fetch", input)?]
            } else {
                urls.into_iter()
                    .map(|u| fetch(tool, cwd, u))
                    .collect::<Result<_, _>>()?
            }
        }
        (ToolHandling::Known(_), "save_memory") => vec![write_content(
            tool,
            cwd,
            MEMORY_FILE,
            input.get("fact").and_then(Value::as_str),
        )?],
        (ToolHandling::Known(kind), _) => mapped(NAME, tool, kind, input, cwd)?,
        (ToolHandling::Mcp | ToolHandling::Unknown, _) => match mcp_tool(tool, mcp_context) {
            Some((server, name)) if handling == ToolHandling::Mcp => {
                vec![tool_call(tool, cwd, server, name, input)?]
            }
            _ => unknown(NAME, tool, input, cwd)?,
        },
    })
}

fn pre_tool(v: &Value) -> Result<PreTool, AdapterError> {
    let tool = field(v, "tool_name").ok_or_else(|| AdapterError::Malformed {
        assistant: NAME,
        detail: "BeforeTool without tool_name".into(),
    })?;
    let input = v.get("tool_input").cloned().unwrap_or(json!({}));
    let cwd = cwd_of(NAME, v, &["cwd"])?;
    Ok(PreTool {
        tool: tool.to_owned(),
        tool_use_id: None,
        actions: actions_for_tool(tool, &input, &cwd, v.get("mcp_context"))?,
        event_name: "BeforeTool".into(),
    })
}

fn hooks(exe: &Path) -> Value {
    let handler = json!([{"name": "mandate", "type": "command", "command": hook_command(exe, NAME),
                          "timeout": HOOK_TIMEOUT_SECS * 1000}]);
    json!({
        "BeforeTool": [{"matcher": "*", "sequential": true, "hooks": handler}],
        "AfterTool": [{"matcher": "*", "hooks": handler}],
        "SessionStart": [{"hooks": handler}],
        "SessionEnd": [{"hooks": handler}],
        "AfterAgent": [{"hooks": handler}],
    })
}

impl Adapter for Gemini {
    fn name(&self) -> &'static str {
        NAME
    }

    fn agent_name(&self) -> &'static str {
        "gemini-cli"
    }

    fn programs(&self) -> &'static [&'static str] {
        &["gemini"]
    }

    fn tools(&self) -> &'static [(&'static str, ToolKind)] {
        TOOLS
    }

    /// `mcp_<server>_<tool>`.
    fn is_mcp_tool(&self, tool: &str) -> bool {
        tool.strip_prefix("mcp_")
            .is_some_and(|rest| rest.split_once('_').is_some())
    }

    fn parse(&self, v: &Value) -> Result<Event, AdapterError> {
        let event = field(v, "hook_event_name").ok_or_else(|| AdapterError::Malformed {
            assistant: NAME,
            detail: "no hook_event_name".into(),
        })?;
        Ok(match event {
            "BeforeTool" => Event::PreTool(pre_tool(v)?),
            "AfterTool" => {
                let tool = field(v, "tool_name").unwrap_or("?").to_owned();
                Event::PostTool(PostTool {
                    untrusted: tool == "web_fetch"
                        || tool == "google_web_search"
                        || tool.starts_with("mcp_"),
                    output: output_text(v.get("tool_response")),
                    tool,
                    tool_use_id: None,
                    succeeded: None,
                    exit_code: None,
                    input: v.get("tool_input").cloned(),
                    actions: Vec::new(),
                })
            }
            "SessionStart" => Event::Session {
                kind: "session.start".into(),
                detail: json!({"assistant": "gemini", "session_id": v.get("session_id"), "source": v.get("source")}),
            },
            "SessionEnd" => Event::Session {
                kind: "session.end".into(),
                detail: json!({"assistant": "gemini", "session_id": v.get("session_id"), "reason": v.get("reason")}),
            },
            "AfterAgent" => Event::Session {
                kind: "session.stop".into(),
                detail: json!({"assistant": "gemini", "session_id": v.get("session_id")}),
            },
            other => Event::Ignored(other.to_owned()),
        })
    }

    fn render(&self, _event_name: &str, answer: &Answer) -> HookOutput {
        match answer {
            Answer::Allow(r) => HookOutput {
                stdout: json!({"decision": "allow", "reason": r}).to_string(),
                ..Default::default()
            },
            Answer::Ask(r) => HookOutput {
                stdout: json!({"decision": "ask", "reason": r, "systemMessage": r}).to_string(),
                ..Default::default()
            },
            Answer::Deny(r) => HookOutput {
                stdout: json!({"decision": "deny", "reason": r}).to_string(),
                stderr: r.clone(),
                exit_code: 2,
            },
        }
    }

    /// A system-defaults settings file holding Mandate's hooks.
    fn run_wiring(&self, exe: &Path, session_dir: &Path) -> RunWiring {
        let file = session_dir.join("gemini-system-defaults.json");
        let mut w = RunWiring::default();
        if std::env::var_os("GEMINI_CLI_SYSTEM_DEFAULTS_PATH").is_some() {
            w.notes.push(
                "GEMINI_CLI_SYSTEM_DEFAULTS_PATH is already set; Mandate's hooks were not injected. Use `mandate install gemini`."
                    .into(),
            );
            return w;
        }
        w.files
            .push((file.clone(), json!({HOOKS_KEY: hooks(exe)}).to_string()));
        w.env.push((
            "GEMINI_CLI_SYSTEM_DEFAULTS_PATH".into(),
            file.to_string_lossy().into_owned(),
        ));
        w
    }

    fn settings_path(&self, scope: Scope, home: &Path, project: &Path) -> PathBuf {
        scope.dir(home, project).join(".gemini/settings.json")
    }

    fn install_entries(&self, exe: &Path) -> Vec<(String, Value)> {
        entries_of(&hooks(exe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_types::{ActionKind, ToolRole};

    fn pre(tool: &str, input: Value) -> Vec<Action> {
        match Gemini
            .parse(&json!({"hook_event_name":"BeforeTool","cwd":"/w","tool_name":tool,"tool_input":input}))
            .unwrap()
        {
            Event::PreTool(p) => p.actions,
            other => panic!("{other:?}"),
        }
    }

    fn parse(v: &Value) -> Result<Event, AdapterError> {
        Gemini.parse(v)
    }

    fn render(event_name: &str, answer: &Answer) -> HookOutput {
        Gemini.render(event_name, answer)
    }

    #[test]
    fn captured_before_tool_maps_to_shell() {
        let v: Value = serde_json::from_str(r#"{"session_id":"7801864c","transcript_path":"/t","cwd":"/w",
            "hook_event_name":"BeforeTool","timestamp":"2026-11-25T17:05:43.815Z",
            "tool_name":"run_shell_command","tool_input":{"command":"echo hi-from-fake > g.txt","description":"probe"}}"#).unwrap();
        match parse(&v).unwrap() {
            Event::PreTool(p) => assert_eq!(
                p.actions[0].kind,
                ActionKind::Shell {
                    command: "echo hi-from-fake > g.txt".into()
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn files_web_and_mcp_tools_map() {
        assert_eq!(
            pre("read_file", json!({"file_path":"/w/.env"}))[0].kind,
            ActionKind::FileRead {
                path: "/w/.env".into()
            }
        );
        assert_eq!(
            pre(
                "replace",
                json!({"file_path":"/w/a","old_string":"x","new_string":"y"})
            )[0]
            .kind,
            ActionKind::FileWrite {
                path: "/w/a".into(),
                content: Some("y".into()),
            }
        );
        assert!(matches!(
            pre(
                "web_fetch",
                json!({"prompt":"summarise https://docs.example.org/a."})
            )[0]
            .kind,
            ActionKind::Http { .. }
        ));
        match &pre("mcp_github_create_issue", json!({}))[0].kind {
            ActionKind::McpCall { tool, .. } => assert_eq!(tool.to_string(), "github/create_issue"),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            pre("list_directory", json!({"dir_path":"/w/src"}))[0].kind,
            ActionKind::FileRead {
                path: "/w/src".into()
            }
        );
        let sh = &pre(
            "run_shell_command",
            json!({"command":"rm -rf *","dir_path":"/etc"}),
        )[0];
        assert_eq!(sh.cwd.as_str(), "/etc", "the command runs in dir_path");
        assert_eq!(
            pre("save_memory", json!({"fact":"always push to main"}))[0].kind,
            ActionKind::FileWrite {
                path: MEMORY_FILE.into(),
                content: Some("always push to main".into()),
            }
        );
    }

    #[test]
    fn own_and_unknown_tools_say_what_they_are() {
        let role = |tool: &str, input: Value| match pre(tool, input).remove(0).kind {
            ActionKind::AssistantTool { role, prompt, .. } => (role, prompt.and_then(|p| p.text)),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            role(
                "invoke_agent",
                json!({"agent_name":"codebase_investigator","prompt":"map the repo"})
            ),
            (ToolRole::Delegate, Some("map the repo".into()))
        );
        assert_eq!(
            role("activate_skill", json!({"name":"x"})).0,
            ToolRole::Delegate
        );
        for t in [
            "write_todos",
            "update_topic",
            "enter_plan_mode",
            "read_background_output",
        ] {
            assert_eq!(role(t, json!({})).0, ToolRole::Bookkeeping, "{t}");
        }
        assert_eq!(role("teleport", json!({})).0, ToolRole::Unknown);
        assert_eq!(role("mcp_nodelimiter", json!({})).0, ToolRole::Unknown);
        assert_eq!(Gemini.tool_handling("mcp_gh_create"), ToolHandling::Mcp);
    }

    #[test]
    fn deny_is_json_and_exit_2() {
        let o = render("BeforeTool", &Answer::Deny("no".into()));
        assert_eq!(o.exit_code, 2);
        assert_eq!(
            serde_json::from_str::<Value>(&o.stdout).unwrap()["decision"],
            "deny"
        );
    }
}
