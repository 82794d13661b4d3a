//! Approvals for `ask`: an action that was asked about waits for a human's answer,
//! bound to the task and to the action exactly as it was asked (the hash of its kind,
//! arguments and working directory). An approval is single use unless given for the
//! task; it expires; an answer for other arguments never matches; a used, answered or
//! expired approval cannot be answered again.

use std::collections::HashMap;
use std::sync::Mutex;

use mandate_types::api::ApprovalView;
use mandate_types::audit::{ApprovalAnswered, AuditEvent};
use mandate_types::{Action, DecisionId, Reason, TaskId, Verdict};
use sha2::Digest;

use super::{Broker, BrokerError};
use crate::engine::Outcome;
use crate::{now_secs, rfc3339};

/// Most approvals kept; past it the oldest answered or expired ones go first.
const MAX_APPROVALS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Approved { for_task: bool },
    Denied,
    Used,
}

#[derive(Debug, Clone)]
struct Approval {
    id: String,
    task: TaskId,
    hash: [u8; 32],
    decision_id: DecisionId,
    kind: &'static str,
    target: String,
    reasons: Vec<Reason>,
    created: i64,
    /// When it was asked, in milliseconds (for the hook's wait).
    asked_ms: i64,
    expires: i64,
    state: State,
    answered_by: Option<String>,
}

impl Approval {
    fn view(&self, now: i64, wait: std::time::Duration) -> ApprovalView {
        let state = match self.state {
            _ if self.expires < now && self.state != State::Used => "expired",
            State::Pending => "pending",
            State::Approved { for_task: false } => "approved",
            State::Approved { for_task: true } => "approved-for-task",
            State::Denied => "denied",
            State::Used => "used",
        };
        ApprovalView {
            id: self.id.clone(),
            task: self.task.clone(),
            kind: self.kind.to_owned(),
            target: self.target.clone(),
            reasons: self.reasons.clone(),
            created_at: rfc3339(self.created),
            expires_at: rfc3339(self.expires.min(i64::from(i32::MAX))),
            state: state.to_owned(),
            answered_by: self.answered_by.clone(),
            wait_ms: u64::try_from(
                self.asked_ms + i64::try_from(wait.as_millis()).unwrap_or(0) - crate::now_ms(),
            )
            .unwrap_or(0),
        }
    }
}

/// The broker's approvals, in memory: a pending one lives for `approval_ttl`, so a
/// restart loses only questions nobody answered in time.
#[derive(Debug, Default)]
pub(super) struct Approvals {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Approval>,
    /// The latest approval of each action (by its hash, which includes the task): the
    /// one an ask of that action consults, found without a scan.
    current: HashMap<[u8; 32], String>,
}

/// The hash an approval is bound to: the task and the action as decided.
fn action_hash(task: &TaskId, action: &Action) -> [u8; 32] {
    let mut h = sha2::Sha256::new();
    h.update(task.as_str().as_bytes());
    h.update([0]);
    // serde_json writes struct fields in declaration order and object keys sorted, so
    // the same action hashes the same.
    h.update(serde_json::to_vec(action).unwrap_or_default());
    h.finalize().into()
}

impl Approvals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What a human said about this exact action, if anything still stands: an approval
    /// (used up here unless given for the task) or a denial.
    fn answer_for(&self, hash: &[u8; 32], now: i64) -> Option<(Verdict, Reason)> {
        let mut inner = self.lock();
        let Inner { by_id, current } = &mut *inner;
        let a = by_id.get_mut(current.get(hash)?).filter(|a| {
            a.expires >= now && matches!(a.state, State::Approved { .. } | State::Denied)
        })?;
        let by = a.answered_by.clone().unwrap_or_default();
        match a.state {
            State::Approved { for_task } => {
                if !for_task {
                    a.state = State::Used;
                }
                let scope = if for_task { " for the task" } else { " once" };
                Some((
                    Verdict::Allow,
                    Reason::new(
                        "approval.granted",
                        format!("{by} approved this action{scope} ({})", a.id),
                    ),
                ))
            }
            _ => Some((
                Verdict::Deny,
                Reason::new(
                    "approval.denied",
                    format!("{by} denied this action ({})", a.id),
                ),
            )),
        }
    }

    /// The pending approval for this action: the one already waiting, or a new one.
    fn pending(&self, new: Approval, now: i64) -> String {
        let mut inner = self.lock();
        if let Some(a) = inner
            .current
            .get(&new.hash)
            .and_then(|id| inner.by_id.get(id))
            .filter(|a| a.state == State::Pending && a.expires >= now)
        {
            return a.id.clone();
        }
        if inner.by_id.len() >= MAX_APPROVALS {
            let mut old: Vec<(i64, String)> = inner
                .by_id
                .values()
                .filter(|a| a.state != State::Pending || a.expires < now)
                .map(|a| (a.created, a.id.clone()))
                .collect();
            old.sort();
            for (_, id) in old.into_iter().take(MAX_APPROVALS / 10) {
                inner.by_id.remove(&id);
            }
            let Inner { by_id, current } = &mut *inner;
            current.retain(|_, id| by_id.contains_key(id));
        }
        let id = new.id.clone();
        inner.current.insert(new.hash, id.clone());
        inner.by_id.insert(id.clone(), new);
        id
    }
}

impl Broker {
    /// An `ask` for a task: what a human already said about this exact action decides
    /// it; otherwise it stays an ask, and [`Broker::open_approval`] makes it pending.
    pub(super) fn apply_approval(&self, task: &TaskId, action: &Action, mut o: Outcome) -> Outcome {
        if o.verdict != Verdict::Ask {
            return o;
        }
        if let Some((verdict, reason)) = self
            .approvals
            .answer_for(&action_hash(task, action), now_secs())
        {
            o.verdict = verdict;
            o.reasons = vec![reason];
        }
        o
    }

    /// The assistant's own prompt answered an `ask`: the call ran (`approved`) or the
    /// assistant refused it. Each action's pending approval is closed with that answer,
    /// as reported by the assistant's hook (`by` names the assistant), and recorded.
    /// Nothing else changes: an approval used up here allows no later call.
    pub(super) async fn answered_in_assistant(
        &self,
        task: &TaskId,
        actions: &[Action],
        approved: bool,
        by: &str,
    ) {
        let now = now_secs();
        let mut records = Vec::new();
        {
            let mut inner = self.approvals.lock();
            let Inner { by_id, current } = &mut *inner;
            for action in actions {
                let Some(a) = current
                    .get(&action_hash(task, action))
                    .and_then(|id| by_id.get_mut(id))
                    .filter(|a| a.state == State::Pending && a.expires >= now)
                else {
                    continue;
                };
                a.state = if approved { State::Used } else { State::Denied };
                a.answered_by = Some(by.to_owned());
                records.push(ApprovalAnswered {
                    task: a.task.clone(),
                    approval: a.id.clone(),
                    decision_id: a.decision_id.clone(),
                    action: format!("{} {}", a.kind, a.target),
                    approved,
                    for_task: false,
                    by: by.to_owned(),
                    sandbox: None,
                });
            }
        }
        for r in records {
            if let Err(e) = self.record(AuditEvent::Approval(r)).await {
                tracing::warn!(error = %e, "an answer given in the assistant was not recorded");
            }
        }
    }

    /// Makes the asked action a pending approval; returns its id.
    pub(super) fn open_approval(
        &self,
        task: &TaskId,
        action: &Action,
        decision_id: &DecisionId,
        reasons: &[Reason],
    ) -> String {
        let now = now_secs();
        let id = super::new_id("apr_");
        self.approvals.pending(
            Approval {
                id,
                task: task.clone(),
                hash: action_hash(task, action),
                decision_id: decision_id.clone(),
                kind: action.kind.name(),
                target: action.kind.target(),
                reasons: reasons.to_vec(),
                created: now,
                asked_ms: crate::now_ms(),
                expires: now + self.settings.approval_ttl,
                state: State::Pending,
                answered_by: None,
            },
            now,
        )
    }

    /// Approvals, newest first.
    pub fn approvals(&self) -> Vec<ApprovalView> {
        let now = now_secs();
        let wait = self.settings.approval_wait;
        let mut v: Vec<ApprovalView> = self
            .approvals
            .lock()
            .by_id
            .values()
            .map(|a| a.view(now, wait))
            .collect();
        v.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        v
    }

    /// One approval.
    pub fn approval(&self, id: &str) -> Result<ApprovalView, BrokerError> {
        self.approvals
            .lock()
            .by_id
            .get(id)
            .map(|a| a.view(now_secs(), self.settings.approval_wait))
            .ok_or_else(|| BrokerError::NotFound(format!("no approval {id}")))
    }

    /// A human's answer to a pending approval, recorded in the task's timeline. Only a
    /// pending, unexpired approval can be answered: a used, answered or expired one is
    /// refused (no replay).
    pub async fn answer_approval(
        &self,
        id: &str,
        approve: bool,
        for_task: bool,
        by: &str,
    ) -> Result<ApprovalView, BrokerError> {
        let now = now_secs();
        let (view, record) = {
            let mut inner = self.approvals.lock();
            let a = inner
                .by_id
                .get_mut(id)
                .ok_or_else(|| BrokerError::NotFound(format!("no approval {id}")))?;
            if a.expires < now {
                return Err(BrokerError::Forbidden(format!(
                    "approval {id} expired at {}; the action must be asked again",
                    rfc3339(a.expires)
                )));
            }
            if a.state != State::Pending {
                return Err(BrokerError::Forbidden(format!(
                    "approval {id} was already answered or used ({})",
                    a.view(now, std::time::Duration::ZERO).state
                )));
            }
            a.state = if approve {
                State::Approved { for_task }
            } else {
                State::Denied
            };
            a.answered_by = Some(by.to_owned());
            // An answer stays good for the approval's lifetime from now; one for the
            // task, as long as the task.
            a.expires = if approve && for_task {
                i64::MAX
            } else {
                now + self.settings.approval_ttl
            };
            let record = ApprovalAnswered {
                task: a.task.clone(),
                approval: a.id.clone(),
                decision_id: a.decision_id.clone(),
                action: format!("{} {}", a.kind, a.target),
                approved: approve,
                for_task,
                by: by.to_owned(),
                sandbox: None,
            };
            (a.view(now, self.settings.approval_wait), record)
        };
        let sandbox = self
            .store
            .get_task(&record.task)
            .await
            .ok()
            .flatten()
            .and_then(|t| t.mandate.sandbox);
        let recorded = self
            .record(AuditEvent::Approval(ApprovalAnswered { sandbox, ..record }))
            .await;
        if let Err(e) = recorded {
            // An answer that is not in the audit log does not stand.
            if let Some(a) = self.approvals.lock().by_id.get_mut(id) {
                a.state = State::Pending;
                a.answered_by = None;
            }
            return Err(e);
        }
        Ok(view)
    }
}
