//! The deviation monitor: each task's score over a sliding window, from the signals
//! every enforcement point reports — refused actions, secrets flowing toward a sink,
//! placeholders sent where they do not belong, what the kernel sandbox refused, bursts
//! of sub-agents. Past its profile's threshold the task is revoked on the spot, with
//! its sub-agents' tasks, and a CAEP `session-revoked` Security Event Token (RFC 8417,
//! signed with the broker's key) goes to the audit log and to subscribers of
//! `GET /v1/events`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use mandate_types::audit::{AuditEvent, TaskRevoked};
use mandate_types::{Reason, TaskId};
use serde_json::json;

use super::{Broker, new_id};
use crate::{now_ms, now_secs};

/// The CAEP event type of a revoked session (here: a task).
const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// SETs kept for `GET /v1/events`.
const FEED_LEN: usize = 1024;

/// A signal's weight: a refused action counts 10; the profiles' thresholds are 200
/// (develop: twenty different refusals, or a few refusals and two secrets toward a
/// sink), 100 (build), 60 (release).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    /// An action refused by the policy.
    Refused,
    /// Secret data toward a sink (a send, an upload, a publish).
    SecretToSink,
    /// A credential's placeholder sent where its secret is not bound, or another task's.
    Placeholder,
    /// Something the kernel sandbox refused.
    Kernel,
    /// A sub-agent's task started.
    SubAgent,
    /// Actions far above the task's own rate.
    Burst,
}

impl Signal {
    fn weight(self) -> u32 {
        match self {
            Self::Refused => 10,
            Self::SecretToSink | Self::Placeholder => 50,
            Self::Kernel => 10,
            Self::SubAgent => 5,
            Self::Burst => 20,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Refused => "refused action",
            Self::SecretToSink => "secret toward a sink",
            Self::Placeholder => "credential sent elsewhere",
            Self::Kernel => "refused by the kernel",
            Self::SubAgent => "sub-agent started",
            Self::Burst => "burst of actions",
        }
    }

    /// The signal a refusal with these reasons is.
    pub(super) fn of_refusal(reasons: &[Reason]) -> Self {
        let secret_flow = reasons.iter().any(|r| {
            let p = r.policy.as_str();
            p.contains("secret")
                && (p.contains("send") || p.contains("upload") || p.contains("publish"))
        });
        if secret_flow {
            Self::SecretToSink
        } else {
            Self::Refused
        }
    }
}

#[derive(Debug, Default)]
struct Window {
    /// (time in ms, signal, what), oldest first.
    seen: VecDeque<(i64, Signal, String)>,
    revoked: bool,
}

/// Scores per task, and the SETs issued.
#[derive(Debug, Default)]
pub(super) struct Monitor {
    windows: Mutex<HashMap<TaskId, Window>>,
    feed: Mutex<VecDeque<(u64, String)>>,
    next_event: Mutex<u64>,
    posted: tokio::sync::Notify,
    /// Why each auto-revoked task was revoked, for the denials that follow.
    why: Mutex<HashMap<TaskId, String>>,
    /// Sub-agents' tasks by parent.
    children: Mutex<HashMap<TaskId, Vec<TaskId>>>,
    /// Revoked tasks whose audit log was searched for why (after a restart), found or not.
    looked_up: Mutex<std::collections::HashSet<TaskId>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Monitor {
    /// Adds a signal; returns what tripped the threshold, the first time it is crossed.
    fn add(
        &self,
        task: &TaskId,
        signal: Signal,
        what: &str,
        threshold: u32,
        window: Duration,
    ) -> Option<Vec<String>> {
        let now = now_ms();
        let mut windows = lock(&self.windows);
        let w = windows.entry(task.clone()).or_default();
        if w.revoked {
            return None;
        }
        let since = now - i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        while w.seen.front().is_some_and(|(t, _, _)| *t < since) {
            w.seen.pop_front();
        }
        let what: String = what.chars().take(200).collect();
        // The same refusal again (an agent retrying) adds nothing.
        if w.seen.iter().any(|(_, s, x)| *s == signal && *x == what) {
            return None;
        }
        w.seen.push_back((now, signal, what));
        let score: u32 = w.seen.iter().map(|(_, s, _)| s.weight()).sum();
        if score < threshold {
            return None;
        }
        w.revoked = true;
        Some(
            w.seen
                .iter()
                .map(|(_, s, what)| format!("{}: {what}", s.name()))
                .collect(),
        )
    }

    /// Why `task` was revoked by the monitor, if it was.
    pub(super) fn revoked_why(&self, task: &TaskId) -> Option<String> {
        lock(&self.why).get(task).cloned()
    }

    pub(super) fn add_child(&self, parent: &TaskId, child: &TaskId) {
        lock(&self.children)
            .entry(parent.clone())
            .or_default()
            .push(child.clone());
    }

    pub(super) fn forget(&self, task: &TaskId) {
        lock(&self.windows).remove(task);
    }

    fn publish(&self, set: String) {
        let mut next = lock(&self.next_event);
        *next += 1;
        let mut feed = lock(&self.feed);
        if feed.len() >= FEED_LEN {
            feed.pop_front();
        }
        feed.push_back((*next, set));
        drop(feed);
        drop(next);
        self.posted.notify_waiters();
    }

    fn since(&self, after: u64) -> Vec<(u64, String)> {
        lock(&self.feed)
            .iter()
            .filter(|(n, _)| *n > after)
            .cloned()
            .collect()
    }
}

impl Broker {
    /// Reports a signal about `task`; past its profile's threshold the task is revoked
    /// before this returns.
    pub(super) async fn signal(&self, task: &TaskId, profile: &str, signal: Signal, what: &str) {
        let threshold = self.settings.deviation_threshold(profile);
        let Some(seen) = self.monitor.add(
            task,
            signal,
            what,
            threshold,
            self.settings.deviation_window,
        ) else {
            return;
        };
        metrics::counter!("mandate_tasks_revoked_total").increment(1);
        let reason = format!(
            "its deviation score passed {threshold} (profile {profile}): {}",
            seen.last().cloned().unwrap_or_default()
        );
        if let Err(e) = self.revoke(task, &reason, seen).await {
            tracing::error!("could not revoke task {task}: {e}");
        }
    }

    /// Revokes `task` and its sub-agents' tasks: a signed SET, a `task.revoked` record,
    /// then the tasks end (their tokens revoked everywhere).
    async fn revoke(
        &self,
        task: &TaskId,
        reason: &str,
        signals: Vec<String>,
    ) -> Result<(), super::BrokerError> {
        let set = self.key.sign_set(&json!({
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "iat": now_secs(),
            "jti": new_id("set_"),
            "sub_id": {"format": "opaque", "id": task.as_str()},
            "events": {SESSION_REVOKED: {
                "subject": {"format": "opaque", "id": task.as_str()},
                "event_timestamp": now_secs(),
                "initiating_entity": "policy",
                "reason_admin": {"en": format!("task revoked: {reason}")},
            }},
        }));
        let children = lock(&self.monitor.children)
            .get(task)
            .cloned()
            .unwrap_or_default();
        let why = format!("task revoked: {reason}");
        {
            let mut w = lock(&self.monitor.why);
            w.insert(task.clone(), why.clone());
            for c in &children {
                w.insert(
                    c.clone(),
                    format!("task revoked with its parent {task}: {reason}"),
                );
            }
        }
        // The live task state has the mandate; the store only for a task not in memory.
        let sandbox = match self.tasks.get(task) {
            Some(state) => state.mandate().sandbox,
            None => self
                .store
                .get_task(task)
                .await
                .ok()
                .flatten()
                .and_then(|t| t.mandate.sandbox),
        };
        self.record(AuditEvent::Revoked(TaskRevoked {
            task: task.clone(),
            reason: reason.to_owned(),
            signals,
            children: children.clone(),
            set: set.clone(),
            sandbox,
        }))
        .await?;
        self.end_task(task, &why).await?;
        for c in &children {
            self.end_task(c, &format!("task revoked with its parent {task}"))
                .await?;
        }
        self.monitor.publish(set);
        Ok(())
    }

    /// Why `task` was revoked by the monitor: from memory, or once after a restart from
    /// its audit log (its `task.revoked` record).
    pub(super) async fn revocation_reason(&self, task: &TaskId) -> Option<String> {
        if let Some(why) = self.monitor.revoked_why(task) {
            return Some(why);
        }
        if !lock(&self.monitor.looked_up).insert(task.clone()) {
            return None;
        }
        let records = self.store.audit_for_task(task, 100_000).await.ok()?;
        let why = records.iter().rev().find_map(|r| match r.event() {
            Ok(AuditEvent::Revoked(t)) if &t.task == task => {
                Some(format!("task revoked: {}", t.reason))
            }
            _ => None,
        })?;
        lock(&self.monitor.why).insert(task.clone(), why.clone());
        Some(why)
    }

    /// The SETs issued after event number `after`, waiting up to `wait` for one when
    /// there is none yet (long poll). Returns (number, SET) pairs, oldest first.
    pub async fn events(&self, after: u64, wait: Duration) -> Vec<(u64, String)> {
        let ready = self.monitor.since(after);
        if !ready.is_empty() || wait.is_zero() {
            return ready;
        }
        let posted = self.monitor.posted.notified();
        tokio::pin!(posted);
        posted.as_mut().enable();
        // Published between the first look and `enable`: seen now.
        let ready = self.monitor.since(after);
        if !ready.is_empty() {
            return ready;
        }
        let _ = tokio::time::timeout(wait, posted).await;
        self.monitor.since(after)
    }
}
