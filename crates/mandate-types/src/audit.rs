//! What the audit log records: one typed body per record kind.
//!
//! The store keeps a record's kind (`decision`, `task.start`, ...) beside its body, so the
//! bodies carry no tag of their own. Writers build an [`AuditEvent`]; readers (the OCSF
//! export, `task show`, the dashboard) get one back from [`AuditEvent::parse`] and read
//! fields, never strings looked up by name. The JSON shape of every body is the one
//! written since the first release, so existing databases read back unchanged.
//!
//! Adding a record kind: a variant here, its kind string in [`AuditEvent::kind`] and
//! [`AuditEvent::parse`], and its OCSF class in `mandate-broker`'s `ocsf` module.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    Action, AgentId, DecisionId, Effect, InvalidInput, Labels, PrincipalId, ProfileName, Purpose,
    Reason, Scope, TaskId, UnixSeconds, Verdict,
};

/// A task was started (`task.start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStarted {
    pub task: TaskId,
    pub delegator: PrincipalId,
    pub agent: AgentId,
    pub purpose: Purpose,
    pub profile: ProfileName,
    pub scope: Scope,
    pub expires_at: UnixSeconds,
    /// The hash of the policy set in force when the task started.
    pub policy_hash: String,
    /// The host name of the machine the broker runs on.
    pub device: String,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// A task ended and its token was revoked (`task.end`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskEnded {
    pub task: TaskId,
    pub reason: String,
    /// The id of the token that died with the task.
    pub jti: String,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// A decision on one action (`decision`). The mandate fields are absent when the token
/// could not be verified: the decision is then a denial nobody can be attributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionMade {
    pub decision_id: DecisionId,
    pub task: Option<TaskId>,
    pub delegator: Option<PrincipalId>,
    pub agent: Option<AgentId>,
    pub purpose: Option<Purpose>,
    pub profile: Option<ProfileName>,
    /// The parent task of a sub-agent's task.
    pub parent: Option<TaskId>,
    pub action: Action,
    pub effects: Vec<Effect>,
    pub decision: Verdict,
    pub reasons: Vec<Reason>,
    pub policy_hash: String,
    pub device: String,
    /// Where the action was seen when not at a hook or the API: the egress proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<EnforcementPoint>,
    /// The kernel sandbox layers active around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// An enforcement point other than the assistant's hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementPoint {
    /// The egress proxy: a request the task's processes made on the network.
    Proxy,
    /// The sandbox's DNS resolver: a name looked up inside the sandbox.
    Resolver,
    /// The kernel sandbox: an operation Landlock, the network namespace or seccomp
    /// refused, as the sandbox's supervisor saw it.
    Sandbox,
}

/// The kernel sandbox refused something a task's process tried (`sandbox.refusal`): a
/// file outside what Landlock grants, a connection past the network namespace, a name
/// the sandbox's resolver would not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxRefusal {
    pub task: TaskId,
    /// Which layer refused.
    pub layer: SandboxLayer,
    /// What was tried: `read`, `write`, `execute`, `connect`, `lookup`.
    pub operation: String,
    /// On what: a path, `host:port`, a name.
    pub target: String,
    /// Why, for a human.
    pub detail: String,
    /// The program that tried, when the supervisor could tell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// A human answered an approval (`approval`): an action that was asked about is
/// approved (once, or for the task) or denied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAnswered {
    pub task: TaskId,
    pub approval: String,
    /// The decision that asked.
    pub decision_id: DecisionId,
    /// The action's kind and target, for the reader.
    pub action: String,
    pub approved: bool,
    pub for_task: bool,
    /// Who answered (the socket peer's user).
    pub by: String,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// The deviation monitor revoked a task (`task.revoked`): what it saw, and the CAEP
/// `session-revoked` Security Event Token it issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRevoked {
    pub task: TaskId,
    /// Why, for a human (also the SET's `reason_admin`).
    pub reason: String,
    /// The signals in the window that tripped it, newest last.
    pub signals: Vec<String>,
    /// Sub-agents' tasks revoked with it.
    #[serde(default)]
    pub children: Vec<TaskId>,
    /// The signed SET (RFC 8417), verifiable against the broker's JWKS.
    pub set: String,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// A layer of the kernel sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxLayer {
    /// Landlock's filesystem rules.
    Landlock,
    /// The network namespace (no way out but the proxy).
    Network,
    /// The sandbox's DNS resolver.
    Resolver,
    /// The seccomp filter.
    Seccomp,
}

/// The task did something that departs from its mandate in a way no single action
/// explains (`task.deviation`): a credential's placeholder sent to a host it is not
/// bound to, a placeholder of another task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDeviation {
    pub task: TaskId,
    /// What happened, as a short identifier (`secret.placeholder-elsewhere`).
    pub signal: String,
    /// A sentence for the timeline.
    pub detail: String,
    /// The destination involved (`host:port`).
    pub destination: String,
    /// The decision that refused it.
    pub decision_id: Option<DecisionId>,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// The git credential helper was asked for a credential (`credential`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRequest {
    pub task: TaskId,
    /// `protocol://host[:port]` git asked about.
    pub target: String,
    /// The secret whose placeholder was handed out, if one was.
    pub secret: Option<String>,
    pub granted: bool,
    pub reason: String,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// What a tool produced, after it ran (`tool.result`): the output's size and digest,
/// never the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResult {
    pub task: TaskId,
    pub agent: AgentId,
    /// The assistant's name for the tool (`Bash`, `mcp__github__get_issue`, ...).
    pub tool: String,
    pub tool_use_id: Option<String>,
    pub succeeded: Option<bool>,
    pub exit_code: Option<i64>,
    pub output_bytes: usize,
    /// Hex SHA-256 of the output.
    pub output_sha256: String,
    /// Labels found in this output.
    pub labels: Labels,
    /// The secret rules that matched it.
    pub secret_rules: Vec<String>,
    /// The task's flow labels after this output.
    pub flow: Labels,
    pub device: String,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
    /// Whether the output came from outside the trust boundary.
    #[serde(default)]
    pub untrusted: bool,
    /// What the output added to the task's value provenance (keyed hashes only), so a
    /// rebuilt task state gets it back.
    #[serde(default, skip_serializing_if = "ProvenanceDelta::is_empty")]
    pub provenance: ProvenanceDelta,
}

/// What one piece of content added to its task's value provenance: keyed 64-bit hashes
/// of the distinctive values it held, by trust, and fingerprints of the secrets in it.
/// Neither the values nor the secrets can be read back from it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceDelta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted: Vec<u64>,
    /// Untrusted values mentioned in prose (an outsider's words).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untrusted: Vec<u64>,
    /// Untrusted values standing as whole fields of structured data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub untrusted_data: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretPrint>,
}

impl ProvenanceDelta {
    pub fn is_empty(&self) -> bool {
        self.trusted.is_empty()
            && self.untrusted.is_empty()
            && self.untrusted_data.is_empty()
            && self.secrets.is_empty()
    }
}

/// One fingerprint of one encoding of a secret: the keyed hash of its first bytes, its
/// length and the keyed hash of all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecretPrint {
    pub window: u64,
    pub len: u32,
    pub full: u64,
}

/// A session event an assistant's hook reported (`session.start`, `session.stop`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEvent {
    pub task: TaskId,
    pub agent: AgentId,
    /// What the assistant said about it (its session id, a reason, ...).
    #[serde(default)]
    pub detail: Value,
    /// The kernel sandbox layers around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

/// The kind of a session event: lower-case words joined by `.`, at most 64 bytes
/// (`session.start`). Kinds the broker writes itself (`decision`, `task.*`,
/// `tool.result`) are refused, so a hook cannot forge them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EventKind(String);

impl EventKind {
    /// Validates an event kind.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let shape_ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_');
        if !shape_ok {
            return Err(InvalidInput::malformed(
                "event kind",
                "lower-case words joined by '.', at most 64 bytes",
            ));
        }
        if RESERVED_KINDS.contains(&s) || s.starts_with("task.") {
            return Err(InvalidInput::malformed(
                "event kind",
                format!("{s:?} is written by the broker itself"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The kind as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

const RESERVED_KINDS: &[&str] = &["decision", "tool.result", "credential"];

/// One audit record's content. Exhaustive on purpose: a new kind does not compile until
/// every reader (OCSF export, `task show`) maps it.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent {
    /// `task.start`
    TaskStarted(TaskStarted),
    /// `task.end`
    TaskEnded(TaskEnded),
    /// `decision`
    Decision(Box<DecisionMade>),
    /// `tool.result`
    ToolResult(ToolResult),
    /// `task.deviation`
    Deviation(TaskDeviation),
    /// `credential`
    Credential(CredentialRequest),
    /// `sandbox.refusal`
    SandboxRefusal(SandboxRefusal),
    /// `approval`
    Approval(ApprovalAnswered),
    /// `task.revoked`
    Revoked(TaskRevoked),
    /// A session event reported by a hook, under its own kind.
    Session(EventKind, SessionEvent),
}

/// Why a stored record did not read back as an [`AuditEvent`].
#[derive(Debug, thiserror::Error)]
#[error("audit record of kind {kind:?} does not read back: {source}")]
pub struct UnreadableRecord {
    /// The record's kind.
    pub kind: String,
    /// What serde said.
    #[source]
    pub source: serde_json::Error,
}

impl AuditEvent {
    /// The record kind the store keeps beside the body.
    pub fn kind(&self) -> &str {
        match self {
            Self::TaskStarted(_) => "task.start",
            Self::TaskEnded(_) => "task.end",
            Self::Decision(_) => "decision",
            Self::ToolResult(_) => "tool.result",
            Self::Deviation(_) => "task.deviation",
            Self::Credential(_) => "credential",
            Self::SandboxRefusal(_) => "sandbox.refusal",
            Self::Approval(_) => "approval",
            Self::Revoked(_) => "task.revoked",
            Self::Session(kind, _) => kind.as_str(),
        }
    }

    /// The task the record belongs to, if it could be attributed.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            Self::TaskStarted(b) => Some(&b.task),
            Self::TaskEnded(b) => Some(&b.task),
            Self::Decision(b) => b.task.as_ref(),
            Self::ToolResult(b) => Some(&b.task),
            Self::Deviation(b) => Some(&b.task),
            Self::Credential(b) => Some(&b.task),
            Self::SandboxRefusal(b) => Some(&b.task),
            Self::Approval(b) => Some(&b.task),
            Self::Revoked(b) => Some(&b.task),
            Self::Session(_, b) => Some(&b.task),
        }
    }

    /// The body as JSON, as the store keeps it.
    pub fn body(&self) -> Value {
        let body = match self {
            Self::TaskStarted(b) => serde_json::to_value(b),
            Self::TaskEnded(b) => serde_json::to_value(b),
            Self::Decision(b) => serde_json::to_value(b),
            Self::ToolResult(b) => serde_json::to_value(b),
            Self::Deviation(b) => serde_json::to_value(b),
            Self::Credential(b) => serde_json::to_value(b),
            Self::SandboxRefusal(b) => serde_json::to_value(b),
            Self::Approval(b) => serde_json::to_value(b),
            Self::Revoked(b) => serde_json::to_value(b),
            Self::Session(_, b) => serde_json::to_value(b),
        };
        // Every body is plain data (strings, numbers, vectors, derived maps): serde_json
        // fails only on non-string map keys and failing Serialize impls, and none exist here.
        body.unwrap_or(Value::Null)
    }

    /// Reads a stored body back under its kind.
    pub fn parse(kind: &str, body: &str) -> Result<Self, UnreadableRecord> {
        let err = |source| UnreadableRecord {
            kind: kind.to_owned(),
            source,
        };
        Ok(match kind {
            "task.start" => Self::TaskStarted(serde_json::from_str(body).map_err(err)?),
            "task.end" => Self::TaskEnded(serde_json::from_str(body).map_err(err)?),
            "decision" => Self::Decision(serde_json::from_str(body).map_err(err)?),
            "tool.result" => Self::ToolResult(serde_json::from_str(body).map_err(err)?),
            "task.deviation" => Self::Deviation(serde_json::from_str(body).map_err(err)?),
            "credential" => Self::Credential(serde_json::from_str(body).map_err(err)?),
            "sandbox.refusal" => Self::SandboxRefusal(serde_json::from_str(body).map_err(err)?),
            "approval" => Self::Approval(serde_json::from_str(body).map_err(err)?),
            "task.revoked" => Self::Revoked(serde_json::from_str(body).map_err(err)?),
            other => {
                let kind = EventKind::parse(other).map_err(|e| {
                    err(<serde_json::Error as serde::de::Error>::custom(
                        e.to_string(),
                    ))
                })?;
                Self::Session(kind, serde_json::from_str(body).map_err(err)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_written_before_the_types_existed_read_back() {
        // Bodies exactly as `json!` built them in broker.rs before this module.
        let decision = r#"{"action":{"command":"cat .env","cwd":"/r","kind":"shell"},"agent":"claude-code@h","decision":"deny","decision_id":"dec_1","delegator":"user:alice","device":"h","effects":[{"effect":"exec","program":"cat","class":"inspect"}],"parent":null,"policy_hash":"ab","profile":"develop","purpose":"p","reasons":[{"message":"m","policy":"develop.read.sensitive"}],"task":"task_1"}"#;
        let e = AuditEvent::parse("decision", decision).unwrap();
        let AuditEvent::Decision(d) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(d.decision, Verdict::Deny);
        assert_eq!(d.reasons[0].policy, "develop.read.sensitive");
        assert_eq!(e.task().map(TaskId::as_str), Some("task_1"));
        // An unattributed denial (bad token) has nulls.
        let anon = r#"{"action":{"command":"ls","cwd":"/r","kind":"shell"},"agent":null,"decision":"deny","decision_id":"dec_2","delegator":null,"device":"h","effects":[],"parent":null,"policy_hash":"ab","profile":null,"purpose":null,"reasons":[],"task":null}"#;
        assert!(
            AuditEvent::parse("decision", anon)
                .unwrap()
                .task()
                .is_none()
        );
        let end = r#"{"jti":"jti_1","reason":"done","task":"task_1"}"#;
        assert_eq!(
            AuditEvent::parse("task.end", end).unwrap().kind(),
            "task.end"
        );
        let session = r#"{"agent":"claude-code@h","detail":{"session_id":"s"},"task":"task_1"}"#;
        let s = AuditEvent::parse("session.start", session).unwrap();
        assert_eq!(s.kind(), "session.start");
        assert_eq!(s.body()["detail"]["session_id"], "s");
    }

    #[test]
    fn a_body_round_trips_through_its_kind() {
        let e = AuditEvent::TaskEnded(TaskEnded {
            task: TaskId::parse("task_9").unwrap(),
            reason: "r".into(),
            jti: "j".into(),
            sandbox: None,
        });
        let back = AuditEvent::parse(e.kind(), &e.body().to_string()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn hooks_cannot_forge_broker_kinds() {
        for k in [
            "decision",
            "task.start",
            "task.end",
            "task.revoked",
            "tool.result",
            "",
            "A.b",
            "x y",
        ] {
            assert!(EventKind::parse(k).is_err(), "{k:?}");
        }
        assert!(EventKind::parse("session.stop").is_ok());
        assert!(AuditEvent::parse("decision", "{}").is_err());
    }
}
