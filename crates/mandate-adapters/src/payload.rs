//! Helpers the adapters share to read a hook payload: JSON fields, the event's working
//! directory, and the actions a tool call amounts to.

use std::fmt;

use mandate_types::{
    AbsPath, Action, ActionKind, HttpMethod, MAX_PROMPT_TEXT, McpToolRef, Prompt, ToolRole, Url,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::event::AdapterError;
use crate::tools::ToolKind;

/// Fields that name the file a tool reads or writes, in the order looked for.
const FILE_FIELDS: &[&str] = &["file_path", "notebook_path", "path", "absolute_path"];
/// Fields that name the directory a tool lists or searches.
const DIR_FIELDS: &[&str] = &["path", "dir_path", "directory"];
/// Fields that hold what a delegating or scheduling tool hands on, in the order looked
/// for: a prompt, a message, a workflow's script, a routine's body, a skill's arguments.
const PROMPT_FIELDS: &[&str] = &["prompt", "message", "script", "body", "args", "items"];

pub(crate) fn field<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(|x| x.as_str())
}

pub(crate) fn required<'a>(
    tool: &str,
    v: &'a serde_json::Value,
    key: &str,
) -> Result<&'a str, AdapterError> {
    field(v, key).ok_or_else(|| AdapterError::BadToolInput {
        tool: tool.to_owned(),
        detail: format!("missing string field {key:?}"),
    })
}

/// The first of `keys` that is a string field of `v`.
pub(crate) fn any_of<'a>(v: &'a serde_json::Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| field(v, k))
}

/// [`any_of`], required.
fn first<'a>(tool: &str, v: &'a serde_json::Value, keys: &[&str]) -> Result<&'a str, AdapterError> {
    any_of(v, keys).ok_or_else(|| AdapterError::BadToolInput {
        tool: tool.to_owned(),
        detail: format!(
            "missing string field {:?}",
            keys.first().copied().unwrap_or("")
        ),
    })
}

pub(crate) fn bad(tool: &str, e: impl fmt::Display) -> AdapterError {
    AdapterError::BadToolInput {
        tool: tool.to_owned(),
        detail: e.to_string(),
    }
}

/// The working directory of the event.
pub(crate) fn cwd_of(
    assistant: &'static str,
    v: &serde_json::Value,
    keys: &[&str],
) -> Result<AbsPath, AdapterError> {
    let cwd = keys
        .iter()
        .find_map(|k| field(v, k))
        .map(str::to_owned)
        .or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|d| d.to_str().map(str::to_owned))
        })
        .ok_or_else(|| AdapterError::Malformed {
            assistant,
            detail: "no cwd in the payload".into(),
        })?;
    AbsPath::parse("cwd", &cwd).map_err(|e| AdapterError::Malformed {
        assistant,
        detail: e.to_string(),
    })
}

/// The directory a tool's input names (`dir_path`, `workdir`), relative to `cwd`.
pub(crate) fn dir_under(tool: &str, cwd: &AbsPath, dir: &str) -> Result<AbsPath, AdapterError> {
    let dir = if dir.starts_with('/') {
        dir.to_owned()
    } else {
        format!("{}/{dir}", cwd.as_str().trim_end_matches('/'))
    };
    AbsPath::parse("cwd", &dir).map_err(|e| bad(tool, e))
}

pub(crate) fn shell(tool: &str, cwd: &AbsPath, command: &str) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::shell(command).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
}

pub(crate) fn read(tool: &str, cwd: &AbsPath, path: &str) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::file_read(path).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
}

/// A write of `content` (when the tool's input says what it writes) to `path`.
pub(crate) fn write_content(
    tool: &str,
    cwd: &AbsPath,
    path: &str,
    content: Option<&str>,
) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::file_write_content(path, content).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
}

/// Fields that hold the text a write or edit tool puts into a file: Write's `content`,
/// Edit's `new_string`, NotebookEdit's `new_source`, an editor's `file_text` / `new_str`,
/// and the same inside a list of edits (MultiEdit's `edits`).
const WRITTEN_FIELDS: &[&str] = &[
    "content",
    "new_string",
    "new_source",
    "file_text",
    "new_str",
];

/// The text a write tool's `input` puts into the file, every piece on its own line;
/// `None` when the input names none.
pub(crate) fn written_text(input: &Value) -> Option<String> {
    let edits = ["edits", "changes"].iter().flat_map(|list| {
        input
            .get(*list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    });
    let parts: Vec<&str> = std::iter::once(input)
        .chain(edits)
        .flat_map(|v| WRITTEN_FIELDS.iter().filter_map(|f| v.get(*f)?.as_str()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

pub(crate) fn fetch(tool: &str, cwd: &AbsPath, url: &str) -> Result<Action, AdapterError> {
    // Assistants often omit the scheme; their fetch tools default to https.
    let url = if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    };
    Ok(Action {
        kind: ActionKind::Http {
            method: HttpMethod::Get,
            url: Url::parse(&url).map_err(|e| bad(tool, e))?,
        },
        cwd: cwd.clone(),
    })
}

/// A call of an MCP tool `server/name` (or of the web search, `web/search`).
pub(crate) fn tool_call(
    tool: &str,
    cwd: &AbsPath,
    server: &str,
    name: &str,
    args: &serde_json::Value,
) -> Result<Action, AdapterError> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let r = McpToolRef::parse(&format!("{}/{}", clean(server), clean(name)))
        .map_err(|e| bad(tool, e))?;
    Ok(Action {
        kind: ActionKind::McpCall {
            tool: r,
            args: args.clone(),
            annotation: None,
        },
        cwd: cwd.clone(),
    })
}

/// The actions of a call of `tool`, a tool of kind `kind` in the table of `assistant`,
/// its input read by the field names the assistants use.
pub(crate) fn mapped(
    assistant: &str,
    tool: &str,
    kind: ToolKind,
    input: &Value,
    cwd: &AbsPath,
) -> Result<Vec<Action>, AdapterError> {
    Ok(vec![match kind {
        ToolKind::Shell => shell(tool, cwd, first(tool, input, &["command", "cmd"])?)?,
        ToolKind::Read => read(tool, cwd, first(tool, input, FILE_FIELDS)?)?,
        ToolKind::Write => write_content(
            tool,
            cwd,
            first(tool, input, FILE_FIELDS)?,
            written_text(input).as_deref(),
        )?,
        ToolKind::Search => read(tool, cwd, any_of(input, DIR_FIELDS).unwrap_or("."))?,
        ToolKind::Fetch => fetch(tool, cwd, first(tool, input, &["url"])?)?,
        ToolKind::WebSearch => tool_call(tool, cwd, "web", "search", input)?,
        ToolKind::McpResource => {
            let server = any_of(input, &["server", "server_name", "serverName"]).unwrap_or("mcp");
            let op = if input.get("uri").is_some() {
                "read_resource"
            } else {
                "list_resources"
            };
            tool_call(tool, cwd, server, op, input)?
        }
        ToolKind::Own(role) => own(assistant, tool, role, input, cwd)?,
    }])
}

/// A call of a tool `assistant`'s adapter does not know: policy asks about it.
pub(crate) fn unknown(
    assistant: &str,
    tool: &str,
    input: &Value,
    cwd: &AbsPath,
) -> Result<Vec<Action>, AdapterError> {
    Ok(vec![own(assistant, tool, ToolRole::Unknown, input, cwd)?])
}

/// A call of one of the assistant's own tools. What a scheduling or delegating tool
/// hands on is taken out of its input as the [`Prompt`]; a worktree tool's `path` is
/// the directory it acts on; strings longer than a prompt's text are kept by digest.
pub(crate) fn own(
    assistant: &str,
    tool: &str,
    role: ToolRole,
    input: &Value,
    cwd: &AbsPath,
) -> Result<Action, AdapterError> {
    let mut rest = input.clone();
    let mut prompt = None;
    if matches!(role, ToolRole::Schedule | ToolRole::Delegate)
        && let Some(obj) = rest.as_object_mut()
        && let Some(v) = PROMPT_FIELDS.iter().find_map(|k| obj.remove(*k))
    {
        let text = match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        prompt = Some(Prompt::new(&text, &sha256_hex(&text)).map_err(|e| bad(tool, e))?);
    }
    let path = match role {
        ToolRole::Worktree => field(input, "path").map(str::to_owned),
        _ => None,
    };
    let kind = ActionKind::AssistantTool {
        assistant: assistant.to_owned(),
        tool: tool.to_owned(),
        role,
        prompt,
        path,
        input: digest_long_strings(rest),
    };
    kind.validate().map_err(|e| bad(tool, e))?;
    Ok(Action {
        kind,
        cwd: cwd.clone(),
    })
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `v` with every string longer than a prompt's text replaced by its length and digest.
fn digest_long_strings(v: Value) -> Value {
    match v {
        Value::String(s) if s.len() > MAX_PROMPT_TEXT => {
            Value::String(format!("<{} bytes, sha256 {}>", s.len(), sha256_hex(&s)))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(digest_long_strings).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, digest_long_strings(x)))
                .collect(),
        ),
        other => other,
    }
}

/// Text of a tool's output, whatever its shape.
pub(crate) fn output_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.get("text")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Some(obj) => {
            let mut parts = Vec::new();
            for k in [
                "stdout",
                "stderr",
                "output",
                "content",
                "result",
                "llmContent",
                "returnDisplay",
            ] {
                if let Some(s) = obj.get(k).and_then(|x| x.as_str()) {
                    parts.push(s.to_owned());
                }
            }
            if let Some(file) = obj
                .get("file")
                .and_then(|f| f.get("content"))
                .and_then(|c| c.as_str())
            {
                parts.push(file.to_owned());
            }
            if parts.is_empty() {
                obj.to_string()
            } else {
                parts.join("\n")
            }
        }
    }
}

/// The server and tool of an MCP tool named `mcp__<server>__<tool>` (the spelling of
/// Claude Code and Codex).
pub(crate) fn mcp_server_and_tool(tool: &str) -> Option<(&str, &str)> {
    tool.strip_prefix("mcp__")?.split_once("__")
}
