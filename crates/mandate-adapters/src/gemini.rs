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
use crate::payload::{cwd_of, fetch, field, output_text, read, required, shell, tool_call, write};

/// Gemini CLI's hooks, as an [`Adapter`].
#[derive(Debug, Clone, Copy)]
pub struct Gemini;

const NAME: &str = "gemini";

/// Gemini CLI's own tools that touch nothing outside the session.
pub const INTERNAL_TOOLS: &[&str] = &[
    "write_todos",
    "ask_user",
    "activate_skill",
    "enter_plan_mode",
    "exit_plan_mode",
    "invoke_agent",
    "save_memory",
    "read_mcp_resource",
    "list_mcp_resources",
];

fn urls_in(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || "<>\"'()[]".contains(c))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| w.trim_end_matches(['.', ',', ';']))
        .collect()
}

/// What a call of `tool` with `input` amounts to: every tool Gemini CLI has maps here.
/// `mcp_context` is the payload's own account of an MCP tool's server and name.
fn actions_for_tool(
    tool: &str,
    input: &Value,
    cwd: &AbsPath,
    mcp_context: Option<&Value>,
) -> Result<Vec<Action>, AdapterError> {
    Ok(match tool {
        "run_shell_command" => vec![shell(tool, cwd, required(tool, input, "command")?)?],
        "read_file" => vec![read(tool, cwd, required(tool, input, "file_path")?)?],
        "write_file" | "replace" | "edit" => {
            vec![write(tool, cwd, required(tool, input, "file_path")?)?]
        }
        "read_many_files" => {
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
        "glob" | "grep_search" | "search_file_content" | "list_directory" => {
            let dir = field(input, "path")
                .or_else(|| field(input, "dir_path"))
                .unwrap_or(".");
            vec![read(tool, cwd, dir)?]
        }
        "web_fetch" => {
            let prompt = field(input, "prompt")
                .or_else(|| field(input, "url"))
                .unwrap_or("");
            let urls = urls_in(prompt);
            if urls.is_empty() {
                vec![tool_call(tool, cwd, "web", "fetch", input)?]
            } else {
                urls.into_iter()
                    .map(|u| fetch(tool, cwd, u))
                    .collect::<Result<_, _>>()?
            }
        }
        "google_web_search" => vec![tool_call(tool, cwd, "web", "search", input)?],
        t if INTERNAL_TOOLS.contains(&t) => vec![tool_call(tool, cwd, "assistant", t, input)?],
        t if t.starts_with("mcp_") => {
            let (server, name) = match (
                mcp_context.and_then(|c| field(c, "server_name")),
                mcp_context.and_then(|c| field(c, "tool_name")),
            ) {
                (Some(s), Some(n)) => (s.to_owned(), n.to_owned()),
                _ => {
                    let rest = &t["mcp_".len()..];
                    let (s, n) = rest
                        .split_once('_')
                        .ok_or_else(|| AdapterError::UnknownTool(t.to_owned()))?;
                    (s.to_owned(), n.to_owned())
                }
            };
            vec![tool_call(tool, cwd, &server, &name, input)?]
        }
        other => return Err(AdapterError::UnknownTool(other.to_owned())),
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
    use mandate_types::ActionKind;

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
        let pre =
            |tool: &str, input: Value| {
                match parse(
            &json!({"hook_event_name":"BeforeTool","cwd":"/w","tool_name":tool,"tool_input":input}),
        )
        .unwrap()
        {
            Event::PreTool(p) => p.actions,
            other => panic!("{other:?}"),
        }
            };
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
                path: "/w/a".into()
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
            parse(
                &json!({"hook_event_name":"BeforeTool","cwd":"/w","tool_name":"teleport","tool_input":{}})
            ),
            Err(AdapterError::UnknownTool("teleport".into()))
        );
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
