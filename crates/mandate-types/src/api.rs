//! The wire types of the broker's API, shared by the server and its clients.
//!
//! Decisions use the OpenID AuthZEN 1.0 evaluation shape: `subject` (the task, with its
//! token), `action` (what kind of action), `resource` (the command, file, URL or tool)
//! and `context` (the working directory). The response's boolean `decision` is true
//! only for `allow`; Mandate's three-way verdict, reasons and effects are in its
//! `context`.

use serde::{Deserialize, Serialize};

use crate::{
    AbsPath, Action, ActionKind, AgentId, BranchPattern, Decision, HostPattern, HttpMethod,
    InvalidInput, Mandate, McpToolPattern, McpToolRef, PathGlob, ProfileName, Prompt, Purpose,
    TaskId, ToolRole, Url, Verdict,
};

/// `POST /v1/tasks`: start a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartTaskRequest {
    /// The policy profile.
    pub profile: ProfileName,
    /// The repository (absolute path; the broker resolves it).
    pub repo: AbsPath,
    pub purpose: Purpose,
    /// Lifetime, e.g. `2h` (default from the broker's config).
    #[serde(default)]
    pub ttl: Option<String>,
    /// The agent (default `cli`).
    #[serde(default)]
    pub agent: Option<AgentId>,
    /// Extra hosts in scope.
    #[serde(default)]
    pub allow_hosts: Vec<HostPattern>,
    /// Extra readable paths.
    #[serde(default)]
    pub allow_read: Vec<PathGlob>,
    /// Extra writable paths.
    #[serde(default)]
    pub allow_write: Vec<PathGlob>,
    /// Branches the task may push to (default `mandate/*`).
    #[serde(default)]
    pub branches: Vec<BranchPattern>,
    /// MCP tools in scope.
    #[serde(default)]
    pub mcp_tools: Vec<McpToolPattern>,
    /// The parent task, for a sub-agent.
    #[serde(default)]
    pub parent: Option<TaskId>,
    /// Stored secrets the task may use (through placeholders, at the egress proxy);
    /// a sub-agent's task may name only secrets its parent holds.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// The kernel sandbox the task's processes will run in (`mandate run --sandbox`);
    /// a sub-agent's task inherits its parent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// The answer to a task start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedTask {
    pub task_id: TaskId,
    /// The task token (a signed JWT).
    pub token: String,
    /// Expiry, RFC 3339.
    pub expires_at: String,
    /// The mandate the token carries.
    pub mandate: Mandate,
    /// The placeholder of each secret the task holds, by the secret's name: what its
    /// environment gets instead of the value.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub placeholders: std::collections::BTreeMap<String, String>,
}

/// Where the broker's egress proxy listens and the CA it signs intercepted hosts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyInfo {
    /// `host:port`.
    pub listen: String,
    /// The CA certificate (PEM) clients must trust.
    pub ca_cert: String,
}

/// What git's credential helper asks (`git credential` attributes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// `https` or `http`.
    pub protocol: String,
    /// `host` or `host:port`.
    pub host: String,
    /// The repository path, when git sends it.
    #[serde(default)]
    pub path: Option<String>,
}

/// A credential for git: the user name and the task's placeholder as the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialAnswer {
    pub username: String,
    pub password: String,
}

/// A name looked up inside a task's sandbox (`POST /v1/sandbox/lookup`, Unix socket only,
/// with the task's token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupQuery {
    /// The name as the query carried it (not yet validated).
    pub name: String,
}

/// The resolver's answer: the addresses of an allowed name, or why it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupAnswer {
    #[serde(default)]
    pub addresses: Vec<std::net::IpAddr>,
    /// Why the name is not answered (recorded in the task's timeline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<crate::Reason>,
}

/// A pending (or answered) approval of an action that was asked about
/// (`GET /v1/approvals`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub id: String,
    pub task: crate::TaskId,
    /// The action's kind (`shell`, `file_write`, ...).
    pub kind: String,
    /// What it acts on: the command, path, URL or tool.
    pub target: String,
    /// Why it was asked about.
    pub reasons: Vec<crate::Reason>,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: String,
    /// `pending`, `approved`, `approved-for-task`, `denied`, `used`, `expired`.
    pub state: String,
    /// Who answered, when answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
    /// How much longer a hook whose assistant cannot ask should wait for an answer
    /// (the broker's `approval_wait` from when it was asked), in milliseconds.
    #[serde(default)]
    pub wait_ms: u64,
}

/// `POST /v1/approvals/{id}`: a human's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalAnswer {
    /// `true` to approve, `false` to deny.
    pub approve: bool,
    /// Approve the same action (same arguments) for the rest of the task, not once.
    #[serde(default)]
    pub for_task: bool,
}

/// A task in listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub task_id: TaskId,
    /// `active`, `ended` or `expired`.
    pub state: String,
    pub profile: ProfileName,
    pub purpose: Purpose,
    pub agent: AgentId,
    /// Who delegated.
    pub delegator: crate::PrincipalId,
    /// The primary repository.
    pub repo: Option<AbsPath>,
    /// Issued, RFC 3339.
    pub issued_at: String,
    /// Expires, RFC 3339.
    pub expires_at: String,
    /// Ended, RFC 3339, if it has.
    pub ended_at: Option<String>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

/// One event in a task's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The audit sequence number.
    pub seq: i64,
    /// When, RFC 3339.
    pub time: String,
    /// `decision`, `task.start`, `task.end`, ...
    pub kind: String,
    /// The audit record's content.
    pub record: serde_json::Value,
}

impl TimelineEntry {
    /// The record's content, typed.
    pub fn event(&self) -> Result<crate::audit::AuditEvent, crate::audit::UnreadableRecord> {
        crate::audit::AuditEvent::parse(&self.kind, &self.record.to_string())
    }
}

/// `GET /v1/tasks/{id}`: a task with its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskDetail {
    /// The summary.
    pub task: TaskSummary,
    /// The full mandate.
    pub mandate: Mandate,
    /// Decisions and events, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// An API error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for a human.
    pub error: String,
}

/// AuthZEN subject: the task, carrying its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Subject {
    /// Always `task`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The task id (informational; the token decides).
    #[serde(default)]
    pub id: String,
    /// `token`: the task token, when not sent as a bearer header.
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// AuthZEN action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AzAction {
    /// `shell`, `file_read`, `file_write`, `http`, `mcp_call` or `assistant_tool`.
    pub name: String,
    /// For `http`: `method`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// AuthZEN resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Resource {
    /// `command`, `file`, `url`, `mcp_tool` or `assistant_tool`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The command line, path, URL, `server/tool` or `assistant/tool`.
    pub id: String,
    /// For `mcp_tool`: `args`, `annotation`; for `assistant_tool`: `role`, `input`,
    /// `prompt`, `path`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// `POST /access/v1/evaluation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EvaluationRequest {
    /// The task.
    #[serde(default)]
    pub subject: Subject,
    /// The action kind.
    #[serde(default)]
    pub action: AzAction,
    /// What it acts on.
    #[serde(default)]
    pub resource: Resource,
    /// `cwd`.
    #[serde(default)]
    pub context: serde_json::Map<String, serde_json::Value>,
}

/// `POST /access/v1/evaluations`: defaults plus items that override them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BatchRequest {
    /// Default subject.
    #[serde(default)]
    pub subject: Option<Subject>,
    /// Default action.
    #[serde(default)]
    pub action: Option<AzAction>,
    /// Default resource.
    #[serde(default)]
    pub resource: Option<Resource>,
    /// Default context.
    #[serde(default)]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
    /// The evaluations; each field given overrides the default.
    #[serde(default)]
    pub evaluations: Vec<BatchItem>,
}

/// One item of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct BatchItem {
    /// Subject override.
    #[serde(default)]
    pub subject: Option<Subject>,
    /// Action override.
    #[serde(default)]
    pub action: Option<AzAction>,
    /// Resource override.
    #[serde(default)]
    pub resource: Option<Resource>,
    /// Context override.
    #[serde(default)]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

impl BatchRequest {
    /// The full requests, defaults applied.
    pub fn expand(&self) -> Vec<EvaluationRequest> {
        self.evaluations
            .iter()
            .map(|i| EvaluationRequest {
                subject: i
                    .subject
                    .clone()
                    .or_else(|| self.subject.clone())
                    .unwrap_or_default(),
                action: i
                    .action
                    .clone()
                    .or_else(|| self.action.clone())
                    .unwrap_or_default(),
                resource: i
                    .resource
                    .clone()
                    .or_else(|| self.resource.clone())
                    .unwrap_or_default(),
                context: i
                    .context
                    .clone()
                    .or_else(|| self.context.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// The AuthZEN answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvaluationResponse {
    /// True only for `allow`.
    pub decision: bool,
    /// Mandate's decision in full.
    pub context: Decision,
}

impl From<Decision> for EvaluationResponse {
    fn from(d: Decision) -> Self {
        Self {
            decision: d.decision == Verdict::Allow,
            context: d,
        }
    }
}

/// `POST /access/v1/evaluations` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// One answer per evaluation, in order.
    pub evaluations: Vec<EvaluationResponse>,
}

impl EvaluationRequest {
    /// Builds a request for an action.
    pub fn for_action(token: Option<&str>, action: &Action) -> Self {
        let mut subject = Subject {
            kind: "task".into(),
            ..Default::default()
        };
        if let Some(t) = token {
            subject.properties.insert("token".into(), t.into());
        }
        let mut aprops = serde_json::Map::new();
        let mut rprops = serde_json::Map::new();
        let (kind, id) = match &action.kind {
            ActionKind::Shell { command } => ("command", command.clone()),
            ActionKind::FileRead { path } => ("file", path.clone()),
            ActionKind::FileWrite { path, content } => {
                if let Some(c) = content {
                    rprops.insert("content".into(), c.clone().into());
                }
                ("file", path.clone())
            }
            ActionKind::Http { method, url } => {
                aprops.insert("method".into(), method.to_string().into());
                ("url", url.to_string())
            }
            ActionKind::McpCall {
                tool,
                args,
                annotation,
            } => {
                rprops.insert("args".into(), args.clone());
                if let Some(a) = annotation {
                    rprops.insert("annotation".into(), a.as_str().into());
                }
                ("mcp_tool", tool.to_string())
            }
            ActionKind::AssistantTool {
                role,
                prompt,
                path,
                input,
                ..
            } => {
                rprops.insert("role".into(), role.as_str().into());
                rprops.insert("input".into(), input.clone());
                if let Some(p) = prompt {
                    rprops.insert("prompt".into(), serde_json::to_value(p).unwrap_or_default());
                }
                if let Some(p) = path {
                    rprops.insert("path".into(), p.as_str().into());
                }
                ("assistant_tool", action.kind.target())
            }
        };
        let mut context = serde_json::Map::new();
        context.insert("cwd".into(), action.cwd.as_str().into());
        Self {
            subject,
            action: AzAction {
                name: action.kind.name().into(),
                properties: aprops,
            },
            resource: Resource {
                kind: kind.into(),
                id,
                properties: rprops,
            },
            context,
        }
    }

    /// The token in the subject's properties, if any.
    pub fn token(&self) -> Option<&str> {
        self.subject
            .properties
            .get("token")
            .and_then(|t| t.as_str())
    }

    /// Parses the request into an [`Action`], validating every field.
    pub fn to_action(&self) -> Result<Action, InvalidInput> {
        let cwd = self
            .context
            .get("cwd")
            .and_then(|c| c.as_str())
            .ok_or_else(|| {
                InvalidInput::malformed("context.cwd", "required: the absolute working directory")
            })?;
        let cwd = AbsPath::parse("context.cwd", cwd)?;
        let id = self.resource.id.as_str();
        let kind = match self.action.name.as_str() {
            "shell" => ActionKind::shell(id)?,
            "file_read" => ActionKind::file_read(id)?,
            "file_write" => {
                let content = match self.resource.properties.get("content") {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(c)) => Some(c.as_str()),
                    Some(_) => {
                        return Err(InvalidInput::malformed(
                            "resource.properties.content",
                            "must be a string: the text the write puts into the file",
                        ));
                    }
                };
                ActionKind::file_write_content(id, content)?
            }
            "http" => {
                let method = self
                    .action
                    .properties
                    .get("method")
                    .and_then(|m| m.as_str())
                    .unwrap_or("GET");
                ActionKind::Http {
                    method: HttpMethod::parse(method)?,
                    url: Url::parse(id)?,
                }
            }
            "mcp_call" => ActionKind::McpCall {
                tool: McpToolRef::parse(id)?,
                args: self
                    .resource
                    .properties
                    .get("args")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null),
                annotation: match self.resource.properties.get("annotation") {
                    None => None,
                    Some(a) => Some(
                        a.as_str()
                            .and_then(crate::ToolAnnotation::parse)
                            .ok_or_else(|| {
                                InvalidInput::malformed(
                                    "resource.properties.annotation",
                                    "use read, read_external, write or egress",
                                )
                            })?,
                    ),
                },
            },
            "assistant_tool" => self.assistant_tool()?,
            other => {
                return Err(InvalidInput::malformed(
                    "action.name",
                    format!(
                        "unknown action {other:?}; use shell, file_read, file_write, http, mcp_call or assistant_tool"
                    ),
                ));
            }
        };
        kind.validate()?;
        Ok(Action { kind, cwd })
    }

    /// The `assistant_tool` action of the resource `assistant/tool` and its properties.
    fn assistant_tool(&self) -> Result<ActionKind, InvalidInput> {
        let props = &self.resource.properties;
        let (assistant, tool) = self.resource.id.split_once('/').ok_or_else(|| {
            InvalidInput::malformed("resource.id", "must look like assistant/tool")
        })?;
        let role = props
            .get("role")
            .and_then(|r| r.as_str())
            .and_then(ToolRole::parse)
            .ok_or_else(|| {
                InvalidInput::malformed(
                    "resource.properties.role",
                    "use schedule, delegate, worktree, bookkeeping or unknown",
                )
            })?;
        let prompt = match props.get("prompt") {
            None => None,
            Some(p) => Some(Prompt::deserialize(p).map_err(|e| {
                InvalidInput::malformed("resource.properties.prompt", e.to_string())
            })?),
        };
        let path = match props.get("path") {
            None => None,
            Some(p) => Some(
                p.as_str()
                    .ok_or_else(|| {
                        InvalidInput::malformed("resource.properties.path", "must be a string")
                    })?
                    .to_owned(),
            ),
        };
        Ok(ActionKind::AssistantTool {
            assistant: assistant.to_owned(),
            tool: tool.to_owned(),
            role,
            prompt,
            path,
            input: props
                .get("input")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_round_trips_every_action_kind() {
        let cwd = AbsPath::parse("cwd", "/repo").unwrap();
        let actions = [
            ActionKind::shell("cargo test").unwrap(),
            ActionKind::file_read(".env").unwrap(),
            ActionKind::file_write("src/x.rs").unwrap(),
            ActionKind::Http {
                method: HttpMethod::Post,
                url: Url::parse("https://example.com/x").unwrap(),
            },
            ActionKind::McpCall {
                tool: McpToolRef::parse("github/create_issue").unwrap(),
                args: serde_json::json!({"title": "t"}),
                annotation: Some(crate::ToolAnnotation::Egress),
            },
            ActionKind::AssistantTool {
                assistant: "claude".into(),
                tool: "Agent".into(),
                role: ToolRole::Delegate,
                prompt: Some(Prompt::new("look at src", &"0".repeat(64)).unwrap()),
                path: None,
                input: serde_json::json!({"description": "d"}),
            },
            ActionKind::AssistantTool {
                assistant: "claude".into(),
                tool: "EnterWorktree".into(),
                role: ToolRole::Worktree,
                prompt: None,
                path: Some("/repo/../wt".into()),
                input: serde_json::json!({}),
            },
        ];
        for kind in actions {
            let a = Action {
                kind,
                cwd: cwd.clone(),
            };
            let req = EvaluationRequest::for_action(Some("tok"), &a);
            let json = serde_json::to_string(&req).unwrap();
            let back: EvaluationRequest = serde_json::from_str(&json).unwrap();
            assert_eq!(back.to_action().unwrap(), a);
            assert_eq!(back.token(), Some("tok"));
        }
    }

    #[test]
    fn bad_evaluations_say_what_is_wrong() {
        let mut r = EvaluationRequest::default();
        assert!(
            r.to_action()
                .unwrap_err()
                .to_string()
                .contains("context.cwd")
        );
        r.context.insert("cwd".into(), "/x".into());
        r.action.name = "teleport".into();
        assert!(r.to_action().unwrap_err().to_string().contains("teleport"));
        r.action.name = "file_read".into();
        r.resource.id = "a\0b".into();
        assert!(r.to_action().unwrap_err().to_string().contains("NUL"));
        r.action.name = "assistant_tool".into();
        r.resource.id = "claude/CronCreate".into();
        assert!(r.to_action().unwrap_err().to_string().contains("role"));
        r.resource
            .properties
            .insert("role".into(), "schedule".into());
        r.resource.properties.insert(
            "prompt".into(),
            serde_json::json!({"len": 1, "sha256": "x"}),
        );
        assert!(r.to_action().unwrap_err().to_string().contains("sha256"));
    }

    #[test]
    fn batch_items_override_defaults() {
        let b: BatchRequest = serde_json::from_str(
            r#"{"subject":{"type":"task","properties":{"token":"t"}},"context":{"cwd":"/r"},
                "evaluations":[{"action":{"name":"shell"},"resource":{"type":"command","id":"ls"}},
                               {"action":{"name":"file_read"},"resource":{"type":"file","id":"a"},"context":{"cwd":"/s"}}]}"#,
        )
        .unwrap();
        let e = b.expand();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].token(), Some("t"));
        assert_eq!(e[1].to_action().unwrap().cwd.as_str(), "/s");
    }
}

/// `POST /v1/report`: what happened after a tool ran (PostToolUse and equivalents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolReport {
    /// The assistant's tool name (`Bash`, `Read`, `mcp__github__create_issue`, ...).
    pub tool: String,
    /// The assistant's id for the call, to join with the pre-tool decision.
    #[serde(default)]
    pub tool_use_id: Option<String>,
    /// Whether the tool succeeded, when known.
    #[serde(default)]
    pub succeeded: Option<bool>,
    /// The exit status of a command, when known.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// The tool's output (scanned for secrets; only its length and digest are recorded).
    #[serde(default)]
    pub output: String,
    /// The output came from outside the trust boundary (web page, MCP server, issue text).
    #[serde(default)]
    pub untrusted: bool,
    /// What the text is: a tool's output (the default) or the user's own prompt.
    #[serde(default)]
    pub origin: ReportOrigin,
    /// The tool's input as the assistant gave it (a command, a path, a URL), so the
    /// broker can judge where the output came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    /// The actions the call was decided as, when the assistant asks its user itself: a
    /// call that ran after an `ask` was approved in the assistant's own prompt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<crate::Action>,
}

/// What a [`ToolReport`]'s text is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportOrigin {
    /// What a tool produced.
    #[default]
    Tool,
    /// A prompt the user typed (`UserPromptSubmit`): trusted, the user's intent.
    Prompt,
    /// The assistant refused the call after its own check (no output): an `ask` for
    /// its actions was answered no.
    Refused,
}

/// The answer to a [`ToolReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportAnswer {
    /// Labels found in this output.
    pub labels: crate::Labels,
    /// The secret rules that matched.
    pub matched: Vec<String>,
    /// The task's flow labels after this report.
    pub flow: crate::Labels,
}

/// `POST /v1/events`: a session event for the task's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskEvent {
    /// `session.start`, `session.end`, `session.stop`, ...
    pub kind: String,
    /// Details from the assistant (session id, reason, ...).
    #[serde(default)]
    pub detail: serde_json::Value,
}
