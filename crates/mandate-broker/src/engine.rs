//! The in-process decision: analysis + policy, synchronous and infallible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use mandate_analysis::values::ValueKey;
use mandate_analysis::{Analyzer, TaskView};
use mandate_policy::{CompiledPolicy, TaskPolicy, TaskPolicyError};
use mandate_types::{Action, Effect, Label, Labels, Mandate, PathZone, Reason, Verdict};

use crate::provenance::{self, Learned, Provenance, Trust};

/// A task ready for decisions: its compiled scope, its policy view and its flow labels
/// (what it has seen so far). Built once per task and shared.
#[derive(Debug)]
pub struct TaskState {
    /// The compiled scope (with the mandate).
    pub view: TaskView,
    /// The policy view.
    pub policy: TaskPolicy,
    flow: AtomicU8,
    /// Which values the task has seen, from where, and the secrets it has read.
    provenance: std::sync::Mutex<Provenance>,
    /// How fast the task acts, for bursts far above its own rate.
    rate: std::sync::Mutex<Rate>,
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

    /// Takes the values of content the task has seen; returns what was new (to record).
    pub fn learn(&self, key: &ValueKey, trust: Trust, text: &str, origin: &str) -> Learned {
        self.learn_shaped(key, trust, text, origin, false)
    }

    /// Like [`Self::learn`], for a tool's structured output when `records` (see
    /// [`provenance::hashed`]).
    pub fn learn_shaped(
        &self,
        key: &ValueKey,
        trust: Trust,
        text: &str,
        origin: &str,
        records: bool,
    ) -> Learned {
        // The text is read before the lock: decisions of this task wait on it.
        let found = provenance::hashed(key, trust, text, records);
        match self.provenance.lock() {
            Ok(mut p) => p.absorb(&found, origin),
            Err(_) => Learned::default(),
        }
    }

    /// Fingerprints secret strings the task has seen; returns the new prints.
    pub fn learn_secrets<'a>(
        &self,
        key: &ValueKey,
        secrets: impl IntoIterator<Item = &'a str>,
    ) -> Vec<mandate_analysis::values::Print> {
        match self.provenance.lock() {
            Ok(mut p) => p.learn_secrets(key, secrets),
            Err(_) => Vec::new(),
        }
    }

    /// Counts one action at `now_ms`; returns the burst it is part of, the first time a
    /// bucket becomes one.
    pub fn tick(&self, now_ms: i64) -> Option<Burst> {
        self.rate.lock().ok()?.tick(now_ms)
    }

    /// Takes the user's own words (a prompt): see [`Provenance::learn_words`].
    pub fn learn_words(&self, key: &ValueKey, text: &str) -> Learned {
        let found = provenance::user_words(key, text);
        match self.provenance.lock() {
            Ok(mut p) => p.absorb(&found, "prompt"),
            Err(_) => Learned::default(),
        }
    }

    /// Notes that untrusted content reached the task only in part.
    pub fn mark_unseen(&self) {
        if let Ok(mut p) = self.provenance.lock() {
            p.mark_unseen();
        }
    }

    /// Puts back provenance recorded by an earlier state of this task.
    pub fn restore_provenance(&self, learned: &Learned, origin: &str) {
        if let Ok(mut p) = self.provenance.lock() {
            p.restore(learned, origin);
        }
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

/// The length of a rate bucket.
const BUCKET_MS: i64 = 10_000;
/// A bucket is a burst only past this many actions (10 a second)...
const BURST_MIN: u64 = 100;
/// ... and this many times the task's own average bucket, once it has a minute of history.
const BURST_FACTOR: u64 = 10;

/// A task's action rate: its lifetime count and the current 10 s bucket.
#[derive(Debug, Default)]
struct Rate {
    first_ms: Option<i64>,
    /// Actions before the current bucket.
    before: u64,
    bucket_start: i64,
    bucket: u64,
    flagged: bool,
}

/// A bucket far above the task's own rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Burst {
    /// Actions in the last 10 s.
    pub actions: u64,
    /// The task's average per 10 s before them (0 when it has under a minute of history).
    pub usual: u64,
}

impl Rate {
    fn tick(&mut self, now: i64) -> Option<Burst> {
        let first = *self.first_ms.get_or_insert(now);
        if now - self.bucket_start >= BUCKET_MS {
            self.before += self.bucket;
            self.bucket = 0;
            self.bucket_start = now;
            self.flagged = false;
        }
        self.bucket += 1;
        let history = self.bucket_start - first;
        let usual = if history >= 60_000 {
            self.before * u64::try_from(BUCKET_MS).unwrap_or(1)
                / u64::try_from(history).unwrap_or(1).max(1)
        } else {
            0
        };
        // Without a minute of history, only a rate no coding task reaches counts.
        let limit = if usual == 0 {
            BURST_MIN * 3
        } else {
            (usual * BURST_FACTOR).max(BURST_MIN)
        };
        if self.flagged || self.bucket <= limit {
            return None;
        }
        self.flagged = true;
        Some(Burst {
            actions: self.bucket,
            usual,
        })
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
    value_key: ValueKey,
}

impl Engine {
    /// An engine over an analyser and a compiled policy.
    pub fn new(analyzer: Analyzer, policy: CompiledPolicy) -> Self {
        Self {
            analyzer: Arc::new(analyzer),
            policy: Arc::new(policy),
            secrets: Arc::new(mandate_analysis::SecretScanner::builtin()),
            value_key: ValueKey::new(rand::random()),
        }
    }

    /// Sets the key value provenance is hashed with (the broker derives it from its
    /// signing key, so hashes in the audit log stay comparable across restarts).
    pub fn with_value_key(mut self, key: ValueKey) -> Self {
        self.value_key = key;
        self
    }

    /// The key value provenance is hashed with.
    pub fn value_key(&self) -> &ValueKey {
        &self.value_key
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
        // The task's purpose and scope are the user's words.
        let mut trusted = mandate.purpose.as_str().to_owned();
        for h in &mandate.scope.hosts {
            trusted.push_str(&format!("\nhttps://{}/", h.as_str()));
        }
        let mut provenance = Provenance::default();
        provenance.learn(&self.value_key, Trust::Trusted, &trusted, "mandate");
        provenance.learn_words(&self.value_key, mandate.purpose.as_str());
        let view = TaskView::new(mandate).map_err(|e| TaskError::Glob(e.to_string()))?;
        Ok(TaskState {
            view,
            policy,
            flow: AtomicU8::new(0),
            provenance: std::sync::Mutex::new(provenance),
            rate: std::sync::Mutex::new(Rate::default()),
            restored: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Decides one action for a task. Never fails.
    pub fn decide(&self, task: &TaskState, action: &Action) -> Outcome {
        let analysis = self.analyzer.analyze(action, &task.view);
        let (facts, injected_from) = match task.provenance.lock() {
            Ok(p) if p.needs_facts(action) => p.facts(&self.value_key, action),
            // Nothing untrusted and no secret seen: no value can be injected or carried.
            Ok(_) => (provenance::quiet_facts(action), Vec::new()),
            Err(_) => (mandate_policy::FlowFacts::NONE, Vec::new()),
        };
        let mut d = task
            .policy
            .decide(&analysis.effects, analysis.cwd_zone, task.flow(), &facts);
        if d.verdict != Verdict::Allow && !facts.injected.is_empty() {
            d.reasons.push(Reason::new(
                "flow.injected",
                format!(
                    "found only in content outsiders can write ({}): {}",
                    injected_from.join(", "),
                    facts.injected.join(", ")
                ),
            ));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_far_above_the_tasks_own_rate_and_flagged_once_per_bucket() {
        let mut r = Rate::default();
        // Two minutes at one action a second: no burst.
        for s in 0..120 {
            assert_eq!(r.tick(s * 1000), None);
        }
        // Then 150 actions within a second: past ten times the usual 9 per bucket, and over
        // the floor of 100.
        let bursts: Vec<Burst> = (0..150).filter_map(|i| r.tick(121_000 + i)).collect();
        assert_eq!(bursts.len(), 1, "{bursts:?}");
        assert_eq!(bursts[0].actions, 101);
        assert_eq!(bursts[0].usual, 9, "120 actions over 121 s");
        // A new task that starts fast is judged by the absolute floor only.
        let mut fresh = Rate::default();
        assert!((0..300).all(|i| fresh.tick(i).is_none()));
        assert!(fresh.tick(300).is_some());
    }
}
