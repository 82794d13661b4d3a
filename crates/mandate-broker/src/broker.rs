//! The broker: verify → analyse → decide → record, plus tasks and revocation.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use mandate_cache::BoundedCache;
use mandate_store::{AuditEntry, Store, StoreError, TaskRecord};
use mandate_token::{BrokerKey, Claims, TokenError, Verified, Verifier};
use mandate_types::api::{
    ReportAnswer, ReportOrigin, StartTaskRequest, StartedTask, TaskDetail, TaskEvent, TaskSummary,
    TimelineEntry, ToolReport,
};
use mandate_types::audit::{
    AuditEvent, DecisionMade, EventKind, SessionEvent, TaskEnded, TaskStarted, ToolResult,
};
use mandate_types::{
    AbsPath, Action, ActionKind, AgentId, BranchPattern, Decision, DecisionId, HostPattern,
    InvalidInput, Mandate, PrincipalId, Reason, Scope, TaskId, Verdict,
};
use serde_json::json;

use crate::audit::{AuditWriter, read_anchor};
use crate::config::{Settings, parse_ttl};
use crate::engine::{Engine, Outcome, TaskState};
use crate::provenance;
use crate::{now_ms, now_secs, rfc3339};

mod approvals;
mod deviation;
mod egress;
mod sandbox;
pub use egress::{BoundSecret, EgressAnswer, EgressRequest, TaskGrant};

/// Most task states kept in memory (rebuilt from the token when evicted).
const MAX_TASK_CACHE: usize = 10_000;
/// Records between signed audit checkpoints.
const CHECKPOINT_EVERY: i64 = 256;

/// A broker failure, mapped by the server to an HTTP status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The request is invalid (400).
    #[error("{0}")]
    Invalid(String),
    /// Not found (404).
    #[error("{0}")]
    NotFound(String),
    /// The task may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit log is unavailable (503); nothing is decided without it.
    #[error("audit log unavailable: {0}")]
    Audit(String),
}

/// The running broker.
#[derive(Debug)]
pub struct Broker {
    engine: Arc<Engine>,
    store: Arc<dyn Store>,
    key: Arc<BrokerKey>,
    verifier: Verifier,
    settings: Settings,
    tasks: BoundedCache<TaskId, Arc<TaskState>>,
    revoked: RwLock<HashSet<String>>,
    audit: AuditWriter,
    audit_task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    hostname: String,
    secrets: Arc<mandate_secrets::SecretStore>,
    /// Tells the egress proxy which tasks ended, so their open tunnels are cut.
    task_ends: tokio::sync::broadcast::Sender<TaskId>,
    /// Actions asked about, waiting for (or holding) a human's answer.
    approvals: approvals::Approvals,
    /// Each task's deviation score, and the SETs issued when one is revoked.
    monitor: deviation::Monitor,
}

/// A fresh id: `prefix` followed by a time-ordered UUID in hex.
fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

/// A fresh id of a validated kind.
#[expect(
    clippy::expect_used,
    reason = "a lower-case prefix and 32 hex digits is a valid id of every kind (ids.rs)"
)]
fn generated<T>(parse: fn(&str) -> Result<T, InvalidInput>, prefix: &str) -> T {
    parse(&new_id(prefix)).expect("generated ids are valid")
}

/// Values of validated types written in the code.
#[expect(
    clippy::expect_used,
    reason = "literals checked by the unit tests below"
)]
fn literal<T>(parse: fn(&str) -> Result<T, InvalidInput>, text: &str) -> T {
    parse(text).expect("literal values are valid")
}

/// The branches a task may push to when its request names none.
const DEFAULT_BRANCH: &str = "mandate/*";
/// The agent recorded when a task request names none.
const DEFAULT_AGENT: &str = "cli";

impl Broker {
    /// Opens the broker over a store: loads the key, revocations and starts the audit
    /// writer. Must run inside a tokio runtime.
    pub async fn open(
        settings: Settings,
        engine: Engine,
        store: Arc<dyn Store>,
        key: BrokerKey,
    ) -> Result<Arc<Self>, BrokerError> {
        let key = Arc::new(key);
        let secrets = mandate_secrets::SecretStore::open(&settings.data_dir)
            .map_err(|e| BrokerError::Invalid(e.to_string()))?;
        let verifier = Verifier::new(&settings.issuer, &settings.audience, &[key.public()]);
        let since = now_secs() - settings.max_ttl - 60;
        let revoked: HashSet<String> = store
            .revocations_since(since)
            .await?
            .into_iter()
            .map(|r| r.jti)
            .collect();
        let (audit, handle) = AuditWriter::spawn(
            store.clone(),
            key.clone(),
            settings.anchor_path(),
            CHECKPOINT_EVERY,
            Duration::from_secs(10),
        );
        // Value provenance is hashed with a key only this broker can derive (an Ed25519
        // signature is deterministic), so hashes in the audit log match after a restart
        // and reveal nothing to a reader of the log.
        let value_key = {
            use sha2::Digest;
            let d = sha2::Sha256::digest(key.sign_bytes(b"mandate value provenance key v1"));
            let mut k = [0u8; 16];
            k.copy_from_slice(&d[..16]);
            mandate_analysis::values::ValueKey::new(k)
        };
        Ok(Arc::new(Self {
            engine: Arc::new(engine.with_value_key(value_key)),
            store,
            key,
            verifier,
            settings,
            tasks: BoundedCache::new("broker.tasks", MAX_TASK_CACHE),
            revoked: RwLock::new(revoked),
            audit,
            audit_task: std::sync::Mutex::new(Some(handle)),
            hostname: mandate_analysis::machine::hostname(),
            secrets: Arc::new(secrets),
            task_ends: tokio::sync::broadcast::channel(1024).0,
            approvals: approvals::Approvals::default(),
            monitor: deviation::Monitor::default(),
        }))
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The JWKS document with the broker's public key.
    pub fn jwks(&self) -> serde_json::Value {
        mandate_token::jwks(&[self.key.public()])
    }

    /// Starts a task for `delegator`: validates the request, stores the task, signs its
    /// token and records `task.start`.
    pub async fn start_task(
        &self,
        req: StartTaskRequest,
        delegator: PrincipalId,
    ) -> Result<StartedTask, BrokerError> {
        if self.engine.policy().profile(req.profile.as_str()).is_none() {
            return Err(BrokerError::Invalid(format!(
                "unknown profile {:?}; available: {}",
                req.profile.as_str(),
                self.engine.policy().profile_names().join(", ")
            )));
        }
        let repo = std::fs::canonicalize(req.repo.as_path())
            .map_err(|e| BrokerError::Invalid(format!("repository {}: {e}", req.repo)))?;
        if !repo.is_dir() {
            return Err(BrokerError::Invalid(format!(
                "repository {} is not a directory",
                repo.display()
            )));
        }
        let repo =
            AbsPath::from_path("repo", &repo).map_err(|e| BrokerError::Invalid(e.to_string()))?;
        let ttl = match &req.ttl {
            Some(t) => parse_ttl(t).map_err(BrokerError::Invalid)?,
            None => self.settings.default_ttl,
        };
        if ttl <= 0 || ttl > self.settings.max_ttl {
            return Err(BrokerError::Invalid(format!(
                "ttl must be between 1s and {}s",
                self.settings.max_ttl
            )));
        }
        let mut hosts = req.allow_hosts.clone();
        // The repository's own remotes are part of its scope (fetch, push): their hosts,
        // and the repositories themselves, as git resolves them now.
        let home = &self.engine.analyzer().environment().home;
        let remotes = mandate_analysis::git::task_remotes(repo.as_path(), home);
        let remote_hosts = remotes
            .iter()
            .filter_map(|u| mandate_analysis::git::url_host(u).map(|(h, _)| h));
        for h in mandate_analysis::git::remote_hosts(repo.as_path())
            .into_iter()
            .chain(remote_hosts)
        {
            if let Ok(p) = HostPattern::parse(&h)
                && !hosts.contains(&p)
            {
                hosts.push(p);
            }
        }
        let secrets = self.task_secrets(&req, &mut hosts).await?;
        let branches = if req.branches.is_empty() {
            vec![literal(BranchPattern::parse, DEFAULT_BRANCH)]
        } else {
            req.branches.clone()
        };
        let sandbox = self.task_sandbox(&req).await?;
        let now = now_secs();
        let task = generated(TaskId::parse, "task_");
        let mandate = Mandate {
            task: task.clone(),
            delegator,
            agent: req
                .agent
                .clone()
                .unwrap_or_else(|| literal(AgentId::parse, DEFAULT_AGENT)),
            purpose: req.purpose.clone(),
            profile: req.profile.clone(),
            scope: Scope {
                repos: vec![repo],
                read: req.allow_read.clone(),
                write: req.allow_write.clone(),
                hosts,
                secrets: secrets.iter().map(|s| s.to_string()).collect(),
                mcp_tools: req.mcp_tools.clone(),
                branches,
                remotes,
            },
            issued_at: now,
            expires_at: now + ttl,
            parent: req.parent.clone(),
            sandbox,
        };
        // Validate the scope compiles before anything is stored.
        let state = self
            .engine
            .task(Arc::new(mandate.clone()))
            .map_err(|e| BrokerError::Invalid(e.to_string()))?;
        let jti = new_id("jti_");
        let token = self.key.sign(&Claims::for_mandate(
            &mandate,
            &self.settings.issuer,
            &self.settings.audience,
            jti.clone(),
            None,
        ));
        self.store
            .insert_task(&TaskRecord {
                mandate: mandate.clone(),
                jti,
                ended_at: None,
                end_reason: None,
            })
            .await?;
        self.record(AuditEvent::TaskStarted(TaskStarted {
            task: task.clone(),
            delegator: mandate.delegator.clone(),
            agent: mandate.agent.clone(),
            purpose: mandate.purpose.clone(),
            profile: mandate.profile.clone(),
            scope: mandate.scope.clone(),
            expires_at: mandate.expires_at,
            policy_hash: self.engine.policy().hash().to_owned(),
            device: self.hostname.clone(),
            sandbox: mandate.sandbox,
        }))
        .await?;
        self.tasks.insert(task.clone(), Arc::new(state));
        if let Some(parent) = &mandate.parent {
            self.monitor.add_child(parent, &task);
            if let Ok(Some(p)) = self.store.get_task(parent).await {
                self.signal(
                    parent,
                    p.mandate.profile.as_str(),
                    deviation::Signal::SubAgent,
                    &format!("sub-agent task {task}"),
                )
                .await;
            }
        }
        metrics::counter!("mandate_tasks_started_total").increment(1);
        let placeholders = secrets
            .iter()
            .map(|s| {
                let ph = self.secrets.placeholders().placeholder(task.as_str(), s);
                (s.to_string(), ph)
            })
            .collect();
        Ok(StartedTask {
            task_id: task,
            token,
            expires_at: rfc3339(mandate.expires_at),
            mandate,
            placeholders,
        })
    }

    /// The sandbox a new task runs in: what it declares, else (a sub-agent's task, whose
    /// processes are the parent's children) its parent's. A sub-agent cannot declare
    /// more than its parent has.
    async fn task_sandbox(
        &self,
        req: &StartTaskRequest,
    ) -> Result<Option<mandate_types::SandboxLayers>, BrokerError> {
        let Some(parent) = &req.parent else {
            return Ok(req.sandbox);
        };
        let rec = self
            .store
            .get_task(parent)
            .await?
            .ok_or_else(|| BrokerError::Invalid(format!("no parent task {parent}")))?;
        match (req.sandbox, rec.mandate.sandbox) {
            (None, inherited) => Ok(inherited),
            (Some(declared), Some(inherited)) if declared == inherited => Ok(Some(declared)),
            (Some(declared), inherited) => Err(BrokerError::Invalid(format!(
                "a sub-agent's task runs in its parent's sandbox ({}), not {declared}",
                inherited.map_or_else(|| "none".to_owned(), |l| l.to_string())
            ))),
        }
    }

    /// Ends a task: revokes its token everywhere and records `task.end`. Returns false
    /// if the task had already ended.
    pub async fn end_task(&self, id: &TaskId, reason: &str) -> Result<bool, BrokerError> {
        let record = self
            .store
            .get_task(id)
            .await?
            .ok_or_else(|| BrokerError::NotFound(format!("no task {id}")))?;
        let ended = self.store.end_task(id, now_secs(), reason).await?;
        if let Ok(mut r) = self.revoked.write() {
            r.insert(record.jti.clone());
        }
        self.tasks.remove(id);
        self.monitor.forget(id);
        // Nobody listening (no proxy) is not an error.
        let _ = self.task_ends.send(id.clone());
        if ended {
            self.record(AuditEvent::TaskEnded(TaskEnded {
                task: id.clone(),
                reason: reason.to_owned(),
                jti: record.jti,
                sandbox: record.mandate.sandbox,
            }))
            .await?;
            metrics::counter!("mandate_tasks_ended_total").increment(1);
        }
        Ok(ended)
    }

    /// Revokes the task a token belongs to (RFC 7009: unknown tokens are not an error).
    pub async fn revoke_token(&self, token: &str) -> Result<(), BrokerError> {
        // A revocation request must not need a currently valid token, but must carry a
        // genuine one: verify the signature ignoring expiry by checking claims only after.
        match self.verifier.verify(token, now_secs()) {
            Ok(v) => {
                self.end_task(&v.claims().sub, "revoked (RFC 7009)").await?;
            }
            Err(TokenError::Expired) => {}
            Err(_) => {}
        }
        Ok(())
    }

    /// Introspects a token (RFC 7662): `{"active": false}` for anything not usable.
    pub fn introspect(&self, token: &str) -> serde_json::Value {
        match self.verify(token) {
            Ok(v) => {
                let c = v.claims();
                json!({
                    "active": true, "sub": c.sub, "client_id": c.client_id, "exp": c.exp, "iat": c.iat,
                    "iss": c.iss, "aud": c.aud, "jti": c.jti, "token_type": "access_token",
                    "act": c.act, "authorization_details": c.authorization_details,
                })
            }
            Err(_) => json!({"active": false}),
        }
    }

    fn verify(&self, token: &str) -> Result<Verified, Reason> {
        let v = self.verify_signature(token)?;
        self.check_revoked(&v)?;
        Ok(v)
    }

    fn verify_signature(&self, token: &str) -> Result<Verified, Reason> {
        self.verifier
            .verify(token.trim(), now_secs())
            .map_err(|e| Reason::new(token_reason_id(&e), e.to_string()))
    }

    fn check_revoked(&self, v: &Verified) -> Result<(), Reason> {
        let revoked = self
            .revoked
            .read()
            .map(|r| r.contains(&v.claims().jti))
            .unwrap_or(true);
        if revoked {
            if let Some(why) = self.monitor.revoked_why(&v.claims().sub) {
                return Err(Reason::new("task.revoked", why));
            }
            return Err(Reason::new(
                "token.revoked",
                "the task has ended and its token was revoked; start a new task",
            ));
        }
        Ok(())
    }

    fn task_state(&self, v: &Verified) -> Result<Arc<TaskState>, Reason> {
        let id = &v.claims().sub;
        if let Some(s) = self.tasks.get(id) {
            return Ok(s);
        }
        let state = self
            .engine
            .task(v.mandate().clone())
            .map_err(|e| Reason::new("task.invalid", e.to_string()))?;
        let state = Arc::new(state);
        self.tasks.insert(id.clone(), state.clone());
        Ok(state)
    }

    /// Puts back a rebuilt task state's flow labels from the audit log, once: the labels
    /// of its tool results, and `secret` when an allowed action read secret data. The
    /// log is the durable record of what the task has seen, so a restart or an eviction
    /// from the state cache loses no label.
    async fn restore_flow(&self, state: &TaskState) {
        if !state.claim_restore() {
            return;
        }
        let task = &state.mandate().task;
        let Ok(records) = self.store.audit_for_task(task, 100_000).await else {
            // Unreadable now: try again on the next action.
            state.unclaim_restore();
            return;
        };
        let mut labels = mandate_types::Labels::NONE;
        for r in &records {
            match r.event() {
                Ok(AuditEvent::ToolResult(t)) => {
                    labels = labels.union(t.flow).union(t.labels);
                    state.restore_provenance(&t.provenance, &format!("tool.result {}", t.tool));
                }
                Ok(AuditEvent::Decision(d)) if d.decision == Verdict::Allow => {
                    let secret = d.effects.iter().any(|e| {
                        matches!(e, mandate_types::Effect::Read(f)
                            if f.labels.contains(mandate_types::Label::Secret)
                                || f.labels.contains(mandate_types::Label::Credential))
                    });
                    if secret {
                        labels.insert(mandate_types::Label::Secret);
                    }
                }
                _ => {}
            }
        }
        state.add_flow(labels);
    }

    /// Decides one action for the bearer of `token`, records the decision durably and
    /// returns it. Every failure is a `deny` with a reason; if the audit log cannot record
    /// the decision, the answer is a `deny` too.
    pub async fn check(&self, token: &str, action: Action) -> Decision {
        let started = Instant::now();
        // A genuine but revoked token is still attributed to its task in the audit log.
        let (outcome, mandate) = match self.verify_signature(token) {
            Ok(v) => {
                let outcome = match self.check_revoked(&v).and_then(|()| self.task_state(&v)) {
                    Ok(state) => {
                        self.restore_flow(&state).await;
                        if let Some(b) = state.tick(crate::now_ms()) {
                            let m = v.mandate();
                            let what =
                                format!("{} actions in 10 s (usually {})", b.actions, b.usual);
                            self.signal(
                                &m.task,
                                m.profile.as_str(),
                                deviation::Signal::Burst,
                                &what,
                            )
                            .await;
                        }
                        self.decide_bounded(state, &action).await
                    }
                    Err(r) => Err(r),
                };
                (outcome, Some(v.mandate().clone()))
            }
            Err(reason) => (Err(reason), None),
        };
        // A token revoked by the deviation monitor says why, after a restart too.
        let outcome = match (&mandate, outcome) {
            (Some(m), Err(r)) if r.policy == "token.revoked" => {
                match self.revocation_reason(&m.task).await {
                    Some(why) => Err(Reason::new("task.revoked", why)),
                    None => Err(r),
                }
            }
            (_, other) => other,
        };
        // What a human already said about this exact action decides an ask.
        let outcome = match (&mandate, outcome) {
            (Some(m), Ok(o)) => Ok(self.apply_approval(&m.task, &action, o)),
            (_, other) => other,
        };
        let asked = matches!(&outcome, Ok(o) if o.verdict == Verdict::Ask);
        let asked_action = asked.then(|| action.clone());
        let mut decision = self.finish(outcome, mandate.as_deref(), action, None).await;
        if let (Verdict::Ask, Some(m), Some(a)) = (decision.decision, &mandate, asked_action) {
            let id = self.open_approval(&m.task, &a, &decision.decision_id, &decision.reasons);
            decision.approval = Some(id);
        }
        metrics::histogram!("mandate_decision_seconds").record(started.elapsed().as_secs_f64());
        decision
    }

    /// Turns an outcome into the decision, records it durably (a decision that cannot be
    /// recorded is a denial) and counts it.
    async fn finish(
        &self,
        outcome: Result<Outcome, Reason>,
        mandate: Option<&Mandate>,
        action: Action,
        via: Option<mandate_types::audit::EnforcementPoint>,
    ) -> Decision {
        let (verdict, reasons, effects) = match outcome {
            Ok(o) => (o.verdict, o.reasons, o.effects),
            Err(r) => (Verdict::Deny, vec![r], Vec::new()),
        };
        let mut decision = Decision {
            decision: verdict,
            reasons,
            decision_id: generated(DecisionId::parse, "dec_"),
            effects,
            approval: None,
        };
        let record = DecisionMade {
            decision_id: decision.decision_id.clone(),
            task: mandate.map(|m| m.task.clone()),
            delegator: mandate.map(|m| m.delegator.clone()),
            agent: mandate.map(|m| m.agent.clone()),
            purpose: mandate.map(|m| m.purpose.clone()),
            profile: mandate.map(|m| m.profile.clone()),
            parent: mandate.and_then(|m| m.parent.clone()),
            action: action.for_record(),
            effects: decision.effects.clone(),
            decision: decision.decision,
            reasons: decision.reasons.clone(),
            policy_hash: self.engine.policy().hash().to_owned(),
            device: self.hostname.clone(),
            via,
            sandbox: mandate.and_then(|m| m.sandbox),
        };
        // A refusal of a live task's action counts toward its deviation score. The score
        // (and a revocation it trips) runs alongside the decision's durable record, so a
        // revocation does not wait for that record's commit.
        let refusal = mandate.filter(|_| {
            decision.decision == Verdict::Deny
                && !decision.reasons.iter().any(|r| {
                    r.policy.starts_with("token.")
                        || r.policy.starts_with("task.")
                        || r.policy.starts_with("audit.")
                })
        });
        let scored = async {
            if let Some(m) = refusal {
                let signal = deviation::Signal::of_refusal(&decision.reasons);
                self.signal(&m.task, m.profile.as_str(), signal, &decision.summary())
                    .await;
            }
        };
        let (recorded, ()) =
            tokio::join!(self.record(AuditEvent::Decision(Box::new(record))), scored);
        if let Err(e) = recorded {
            decision.decision = Verdict::Deny;
            decision.reasons = vec![Reason::new(
                "audit.unavailable",
                format!("the decision could not be recorded, so the action is refused: {e}"),
            )];
        }
        metrics::counter!("mandate_decisions_total", "decision" => decision.decision.as_str())
            .increment(1);
        decision
    }

    /// Runs a shell or MCP decision off the async workers, within `decision_timeout`: an analysis
    /// that runs away (a parser blow-up nobody has found yet) is a denial for that action
    /// and never stalls the broker's other requests.
    async fn decide_bounded(
        &self,
        state: Arc<TaskState>,
        action: &Action,
    ) -> Result<Outcome, Reason> {
        // File and HTTP actions are a path or URL to resolve, and a command already
        // analysed whose effects need no further reading: bounded work, decided inline
        // (a thread hand-off costs more than the decision).
        let bounded = match &action.kind {
            ActionKind::FileRead { .. }
            | ActionKind::FileWrite { .. }
            | ActionKind::Http { .. } => true,
            ActionKind::Shell { command } => self.engine.analyzer().settled_shell(command),
            _ => false,
        };
        if bounded {
            return Ok(self.engine.decide(&state, action));
        }
        let engine = self.engine.clone();
        let job_action = action.clone();
        let job = tokio::task::spawn_blocking(move || engine.decide(&state, &job_action));
        match tokio::time::timeout(self.settings.decision_timeout, job).await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(e)) => Err(Reason::new(
                "analysis.failed",
                format!("the decision failed ({e}), so the action is refused"),
            )),
            Err(_) => {
                metrics::counter!("mandate_decision_timeouts_total").increment(1);
                tracing::warn!(
                    timeout_ms = self.settings.decision_timeout.as_millis() as u64,
                    "decision timed out; the action is denied"
                );
                Err(Reason::new(
                    "analysis.timeout",
                    format!(
                        "analysing this action took longer than {} ms, so it is refused; \
                         split it into simpler commands",
                        self.settings.decision_timeout.as_millis()
                    ),
                ))
            }
        }
    }

    async fn record(&self, event: AuditEvent) -> Result<i64, BrokerError> {
        self.audit
            .append(AuditEntry::of(&event, now_ms()))
            .await
            .map_err(|e| BrokerError::Audit(e.to_string()))
    }

    /// Records what a tool produced: scans the output for secrets, adds the labels to the
    /// task's flow state (so later sends are judged with them) and records a
    /// `tool.result` (length and digest of the output, never the output itself).
    pub async fn report(&self, token: &str, r: ToolReport) -> Result<ReportAnswer, BrokerError> {
        let v = self
            .verify(token)
            .map_err(|e| BrokerError::Invalid(e.to_string()))?;
        let state = self
            .task_state(&v)
            .map_err(|e| BrokerError::Invalid(e.to_string()))?;
        self.restore_flow(&state).await;
        if !r.actions.is_empty() {
            let approved = r.origin != ReportOrigin::Refused;
            let by = format!(
                "{} (the assistant's own prompt, reported by its hook)",
                v.mandate().agent.as_str()
            );
            self.answered_in_assistant(&v.claims().sub, &r.actions, approved, &by)
                .await;
        }
        let found = self.engine.secrets().find(&r.output);
        let matched: Vec<String> = found.iter().map(|(id, _)| (*id).to_owned()).collect();
        let mut labels = mandate_types::Labels::NONE;
        if !matched.is_empty() {
            labels.insert(mandate_types::Label::Secret);
        }
        // A refusal carries no output; a prompt is the user's own words.
        let source = provenance::source_of(&self.engine, &state, &r);
        let untrusted = r.origin == ReportOrigin::Tool && (r.untrusted || source.outsider);
        if untrusted {
            labels.insert(mandate_types::Label::Untrusted);
        }
        state.add_flow(labels);
        // What the content holds joins the task's provenance; its secrets are
        // fingerprinted, so a later action carrying one is found however encoded.
        let key = self.engine.value_key();
        let origin = format!("tool.result {}", r.tool);
        let trust = if untrusted {
            provenance::Trust::Untrusted
        } else {
            provenance::Trust::Trusted
        };
        // An MCP tool's output is records the tool laid out; anything else (a page, a
        // file, a command's output) is laid out by whoever wrote it.
        let records = r.tool.starts_with("mcp__");
        let mut learned = if r.origin == ReportOrigin::Prompt {
            state.learn_words(key, &r.output)
        } else {
            state.learn_shaped(key, trust, &r.output, &origin, records)
        };
        let secrets = mandate_analysis::values::secret_strings(&r.output, source.secret_file);
        learned.secrets = state.learn_secrets(
            key,
            found
                .iter()
                .map(|(_, m)| *m)
                .chain(secrets.iter().map(String::as_str)),
        );
        let digest = {
            use sha2::Digest;
            let d = sha2::Sha256::digest(r.output.as_bytes());
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        self.record(AuditEvent::ToolResult(ToolResult {
            task: v.claims().sub.clone(),
            agent: v.mandate().agent.clone(),
            tool: r.tool,
            tool_use_id: r.tool_use_id,
            succeeded: r.succeeded,
            exit_code: r.exit_code,
            output_bytes: r.output.len(),
            output_sha256: digest,
            labels,
            secret_rules: matched.clone(),
            flow: state.flow(),
            device: self.hostname.clone(),
            sandbox: v.mandate().sandbox,
            untrusted,
            provenance: learned,
        }))
        .await?;
        Ok(ReportAnswer {
            labels,
            matched,
            flow: state.flow(),
        })
    }

    /// Records a session event (start, stop, end) in the task's timeline.
    pub async fn event(&self, token: &str, e: TaskEvent) -> Result<(), BrokerError> {
        let v = self
            .verify(token)
            .map_err(|e| BrokerError::Invalid(e.to_string()))?;
        let kind = EventKind::parse(&e.kind).map_err(|e| BrokerError::Invalid(e.to_string()))?;
        self.record(AuditEvent::Session(
            kind,
            SessionEvent {
                task: v.claims().sub.clone(),
                agent: v.mandate().agent.clone(),
                detail: e.detail,
                sandbox: v.mandate().sandbox,
            },
        ))
        .await?;
        Ok(())
    }

    /// Task summaries, newest first.
    pub async fn list_tasks(&self, limit: i64) -> Result<Vec<TaskSummary>, BrokerError> {
        let now = now_secs();
        Ok(self
            .store
            .list_tasks(limit)
            .await?
            .iter()
            .map(|t| summary(t, now))
            .collect())
    }

    /// A task with its timeline.
    pub async fn task_detail(&self, id: &TaskId, limit: i64) -> Result<TaskDetail, BrokerError> {
        let record = self
            .store
            .get_task(id)
            .await?
            .ok_or_else(|| BrokerError::NotFound(format!("no task {id}")))?;
        let records = self.store.audit_for_task(id, limit).await?;
        let timeline = records
            .into_iter()
            .map(|r| TimelineEntry {
                seq: r.seq,
                time: rfc3339_ms(r.time_ms),
                kind: r.kind,
                record: serde_json::from_str(&r.body).unwrap_or(serde_json::Value::String(r.body)),
            })
            .collect();
        Ok(TaskDetail {
            task: summary(&record, now_secs()),
            mandate: record.mandate,
            timeline,
        })
    }

    /// Signs a final checkpoint and stops the audit writer.
    pub async fn shutdown(&self) {
        let _ = self.audit.checkpoint().await;
        let handle = self.audit_task.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            h.abort();
        }
    }
}

fn token_reason_id(e: &TokenError) -> &'static str {
    match e {
        TokenError::Expired => "token.expired",
        TokenError::NotYetValid => "token.not_yet_valid",
        TokenError::Signature | TokenError::UnknownKey(_) => "token.signature",
        TokenError::Algorithm(_) => "token.algorithm",
        TokenError::Type(_) => "token.type",
        TokenError::Audience(_) | TokenError::Issuer(_) => "token.audience",
        _ => "token.malformed",
    }
}

fn summary(t: &TaskRecord, now: i64) -> TaskSummary {
    let m = &t.mandate;
    let state = if t.ended_at.is_some() {
        "ended"
    } else if now >= m.expires_at {
        "expired"
    } else {
        "active"
    };
    TaskSummary {
        task_id: m.task.clone(),
        state: state.into(),
        profile: m.profile.clone(),
        purpose: m.purpose.clone(),
        agent: m.agent.clone(),
        delegator: m.delegator.clone(),
        repo: m.repo().cloned(),
        issued_at: rfc3339(m.issued_at),
        expires_at: rfc3339(m.expires_at),
        ended_at: t.ended_at.map(rfc3339),
        end_reason: t.end_reason.clone(),
    }
}

fn rfc3339_ms(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// Verifies the audit log of a data directory with the broker's key and anchor.
pub async fn verify_audit(
    store: &dyn Store,
    key_public: &[mandate_token::PublicKey],
    anchor_path: &Path,
) -> Result<Result<mandate_store::ChainReport, mandate_store::ChainBroken>, BrokerError> {
    let anchor = read_anchor(anchor_path).map_err(BrokerError::Invalid)?;
    Ok(crate::audit::verify(store, key_public, anchor).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_literals_and_generated_ids_are_valid() {
        let _ = literal(BranchPattern::parse, DEFAULT_BRANCH);
        let _ = literal(AgentId::parse, DEFAULT_AGENT);
        let _ = generated(TaskId::parse, "task_");
        let _ = generated(DecisionId::parse, "dec_");
    }
}
