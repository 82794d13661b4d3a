//! The in-process decision: analysis + policy, synchronous and infallible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use mandate_analysis::{Analyzer, TaskView};
use mandate_policy::{CompiledPolicy, TaskPolicy, TaskPolicyError};
use mandate_types::{Action, Effect, Label, Labels, Mandate, PathZone, Reason, Verdict};

/// A task ready for decisions: its compiled scope, its policy view and its flow labels
/// (what it has seen so far). Built once per task and shared.
#[derive(Debug)]
pub struct TaskState {
    /// The compiled scope (with the mandate).
    pub view: TaskView,
    /// The policy view.
    pub policy: TaskPolicy,
    flow: AtomicU8,
    /// Whether the flow labels recorded in the audit log have been put back (a state
    /// rebuilt after a restart or an eviction starts without them).
    restored: std::sync::atomic::AtomicBool,
}

impl TaskState {
    pub fn mandate(&self) -> &Arc<Mandate> {
        &self.view.mandate
    }

    /// Labels of data this task has seen.
    pub fn flow(&self) -> Labels {
        Labels::from_bits(self.flow.load(Ordering::Relaxed))
    }

    /// Adds labels to the task's flow state.
    pub fn add_flow(&self, labels: Labels) {
        self.flow.fetch_or(labels.bits(), Ordering::Relaxed);
    }

    /// Claims the one restore of this state's flow labels: true the first time only.
    pub(crate) fn claim_restore(&self) -> bool {
        // Read first: every decision asks, and only the first may write.
        !self.restored.load(Ordering::Acquire) && !self.restored.swap(true, Ordering::AcqRel)
    }

    /// Gives the restore back after it failed, for the next action to try.
    pub(crate) fn unclaim_restore(&self) {
        self.restored.store(false, Ordering::Release);
    }
}

/// Why a task could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The profile is unknown (or its entities did not build).
    #[error(transparent)]
    Policy(#[from] TaskPolicyError),
    /// A scope glob did not compile.
    #[error("bad path glob in the task's scope: {0}")]
    Glob(String),
}

/// What the engine decided about one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    /// The effects found.
    pub effects: Vec<Effect>,
    /// Where the action's cwd lies.
    pub cwd_zone: PathZone,
}

/// Analysis and policy together.
#[derive(Debug, Clone)]
pub struct Engine {
    analyzer: Arc<Analyzer>,
    policy: Arc<CompiledPolicy>,
    secrets: Arc<mandate_analysis::SecretScanner>,
}

impl Engine {
    /// An engine over an analyser and a compiled policy.
    pub fn new(analyzer: Analyzer, policy: CompiledPolicy) -> Self {
        Self {
            analyzer: Arc::new(analyzer),
            policy: Arc::new(policy),
            secrets: Arc::new(mandate_analysis::SecretScanner::builtin()),
        }
    }

    /// Replaces the secret rules (organisation additions).
    pub fn with_secrets(mut self, secrets: mandate_analysis::SecretScanner) -> Self {
        self.secrets = Arc::new(secrets);
        self
    }

    /// The secret rules applied to tool outputs.
    pub fn secrets(&self) -> &mandate_analysis::SecretScanner {
        &self.secrets
    }

    /// The compiled policy.
    pub fn policy(&self) -> &CompiledPolicy {
        &self.policy
    }

    /// The analyser.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Prepares a task for decisions.
    pub fn task(&self, mandate: Arc<Mandate>) -> Result<TaskState, TaskError> {
        let policy = self.policy.task(&mandate)?;
        let view = TaskView::new(mandate).map_err(|e| TaskError::Glob(e.to_string()))?;
        Ok(TaskState {
            view,
            policy,
            flow: AtomicU8::new(0),
            restored: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Decides one action for a task. Never fails.
    pub fn decide(&self, task: &TaskState, action: &Action) -> Outcome {
        let analysis = self.analyzer.analyze(action, &task.view);
        let d = task
            .policy
            .decide(&analysis.effects, analysis.cwd_zone, task.flow());
        if d.verdict == Verdict::Allow {
            // An allowed read of secret data (granted by scope) marks the task.
            let seen = analysis
                .effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Read(f) => Some(f.labels),
                    _ => None,
                })
                .fold(Labels::NONE, Labels::union);
            if seen.contains(Label::Secret) || seen.contains(Label::Credential) {
                task.add_flow(Labels::of(Label::Secret));
            }
        }
        Outcome {
            verdict: d.verdict,
            reasons: d.reasons,
            effects: analysis.effects,
            cwd_zone: analysis.cwd_zone,
        }
    }
}
