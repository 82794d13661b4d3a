//! Persistence: tasks, revocations and the hash-chained audit log behind one [`Store`]
//! trait, with SQLite as the embedded default and a conformance suite
//! ([`conformance`]) that every backend must pass.
//!
//! SQL is kept portable (`$n` placeholders, `BIGINT`/`TEXT` columns) so the PostgreSQL
//! backend can share it. The audit chain is extended inside the store's transaction, so
//! several brokers sharing one database still produce one unbroken chain.

#![forbid(unsafe_code)]

pub mod canonical;
pub mod chain;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod sqlite;

use async_trait::async_trait;
use mandate_types::audit::{AuditEvent, UnreadableRecord};
use mandate_types::{Mandate, TaskId, UnixSeconds};
use serde::{Deserialize, Serialize};

pub use chain::{ChainBroken, ChainReport, ChainVerifier, GENESIS};
pub use sqlite::SqliteStore;

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored value did not parse back (the database was edited by hand?).
    #[error("corrupt stored value in {what}: {detail}")]
    Corrupt {
        /// Which table or column.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A record with this key exists already.
    #[error("{0} already exists")]
    Duplicate(String),
    /// The store could not be opened.
    #[error("cannot open the store at {path}: {detail}")]
    Open { path: String, detail: String },
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub mandate: Mandate,
    /// The token id issued for it.
    pub jti: String,
    /// When it ended (Unix seconds), if it has.
    pub ended_at: Option<UnixSeconds>,
    /// Why it ended.
    pub end_reason: Option<String>,
}

impl TaskRecord {
    /// Whether the task is active at `now` (not ended, not expired).
    pub fn is_active(&self, now: UnixSeconds) -> bool {
        self.ended_at.is_none() && now < self.mandate.expires_at
    }
}

/// A revoked token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// The token id.
    pub jti: String,
    /// The task it belonged to.
    pub task_id: TaskId,
    /// When (Unix seconds).
    pub revoked_at: UnixSeconds,
    pub reason: String,
}

/// An audit entry to append; the store assigns its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// What happened: `decision`, `task.start`, `task.end`, ...
    pub kind: String,
    /// The task concerned.
    pub task_id: Option<TaskId>,
    /// When (Unix milliseconds).
    pub time_ms: i64,
    /// The record's content; stored as canonical JSON.
    pub body: serde_json::Value,
}

impl AuditEntry {
    /// The entry that records `event` at `time_ms`.
    pub fn of(event: &AuditEvent, time_ms: i64) -> Self {
        Self {
            kind: event.kind().to_owned(),
            task_id: event.task().cloned(),
            time_ms,
            body: event.body(),
        }
    }
}

/// An audit record as stored, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// What happened.
    pub kind: String,
    /// The task concerned.
    pub task_id: Option<String>,
    /// When (Unix milliseconds).
    pub time_ms: i64,
    /// The content, canonical JSON text (hashed as stored).
    pub body: String,
    /// The previous record's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

impl AuditRecord {
    /// The record's content, typed.
    pub fn event(&self) -> Result<AuditEvent, UnreadableRecord> {
        AuditEvent::parse(&self.kind, &self.body)
    }
}

/// A signed statement of the log's head at some record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The record covered.
    pub seq: i64,
    /// That record's hash.
    pub hash: String,
    /// When it was taken (Unix milliseconds).
    pub time_ms: i64,
    /// The signing key's id.
    pub kid: String,
    /// The Ed25519 signature over [`Checkpoint::signed_message`], base64url.
    pub signature: String,
}

/// Where Mandate keeps its state. Implementations must pass [`conformance::run_all`].
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new task; fails with [`StoreError::Duplicate`] if the id exists.
    async fn insert_task(&self, task: &TaskRecord) -> Result<(), StoreError>;
    /// Loads a task.
    async fn get_task(&self, id: &TaskId) -> Result<Option<TaskRecord>, StoreError>;
    /// The most recent tasks, newest first.
    async fn list_tasks(&self, limit: i64) -> Result<Vec<TaskRecord>, StoreError>;
    /// Ends a task and revokes its token in one transaction. Returns false if it had
    /// already ended (the call is then a no-op).
    async fn end_task(
        &self,
        id: &TaskId,
        at: UnixSeconds,
        reason: &str,
    ) -> Result<bool, StoreError>;
    /// Records a revocation (idempotent by `jti`).
    async fn revoke(&self, r: &Revocation) -> Result<(), StoreError>;
    /// Every revocation made at or after `since`.
    async fn revocations_since(&self, since: UnixSeconds) -> Result<Vec<Revocation>, StoreError>;
    /// Appends entries to the audit chain atomically, in order; returns them sealed.
    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>, StoreError>;
    /// Records from `from_seq` on, in order, at most `limit`.
    async fn audit_range(&self, from_seq: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError>;
    /// The last `limit` records of one task, in order.
    async fn audit_for_task(
        &self,
        task: &TaskId,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// The last record's sequence number and hash.
    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError>;
    /// Stores a signed checkpoint.
    async fn put_checkpoint(&self, c: &Checkpoint) -> Result<(), StoreError>;
    /// Every checkpoint, in order.
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;
}

/// Verifies the whole audit log of a store, page by page. `extra` are checkpoints kept
/// outside the store (the data directory's anchor file), checked like stored ones.
pub async fn verify_log(
    store: &dyn Store,
    extra: &[Checkpoint],
    verify_signature: &dyn Fn(&Checkpoint) -> bool,
) -> Result<Result<ChainReport, ChainBroken>, StoreError> {
    let mut checkpoints = store.checkpoints().await?;
    for c in extra {
        if !checkpoints.contains(c) {
            checkpoints.push(c.clone());
        }
    }
    let mut v = ChainVerifier::new(checkpoints.iter().map(|c| c.seq));
    let mut from = 1;
    loop {
        let page = store.audit_range(from, 2000).await?;
        if let Err(e) = v.feed(&page) {
            return Ok(Err(e));
        }
        match page.last() {
            Some(last) if page.len() == 2000 => from = last.seq + 1,
            _ => break,
        }
    }
    Ok(v.finish(&checkpoints, verify_signature))
}
