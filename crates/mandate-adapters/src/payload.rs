//! Helpers the adapters share to read a hook payload: JSON fields, the event's working
//! directory, and the actions a tool call amounts to.

use std::fmt;

use mandate_types::{AbsPath, Action, ActionKind, HttpMethod, McpToolRef, Url};

use crate::event::AdapterError;

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

pub(crate) fn write(tool: &str, cwd: &AbsPath, path: &str) -> Result<Action, AdapterError> {
    Ok(Action {
        kind: ActionKind::file_write(path).map_err(|e| bad(tool, e))?,
        cwd: cwd.clone(),
    })
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

/// A call to a tool that is not a file, shell or web action: an MCP tool, or one of the
/// assistant's own tools (server `assistant`) such as a to-do list or a sub-agent.
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
