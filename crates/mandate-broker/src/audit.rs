//! The audit writer: one task owns the chain's tail, batches appends into one durable
//! transaction (group commit), and signs a checkpoint every N records, on idle and at
//! shutdown. The latest checkpoint is also written to an anchor file outside the
//! database, so deleting rows *and* their checkpoints is still detected.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use mandate_store::{AuditEntry, ChainBroken, ChainReport, Checkpoint, Store, StoreError};
use mandate_token::{BrokerKey, PublicKey};
use tokio::sync::{mpsc, oneshot};

/// Most entries committed in one transaction.
const MAX_BATCH: usize = 512;

/// Why an audit append failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The writer has stopped (the broker is shutting down).
    #[error("the audit writer has stopped")]
    Stopped,
    /// The store refused the append.
    #[error("audit store error: {0}")]
    Store(String),
}

enum Job {
    Append(AuditEntry, oneshot::Sender<Result<i64, String>>),
    Checkpoint(oneshot::Sender<Result<Option<Checkpoint>, String>>),
}

/// A handle to the audit writer task.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Append(e, _) => write!(f, "Append({})", e.kind),
            Job::Checkpoint(_) => write!(f, "Checkpoint"),
        }
    }
}

impl AuditWriter {
    /// Starts the writer. A checkpoint is signed every `every` records and after
    /// `idle` without one.
    pub fn spawn(
        store: Arc<dyn Store>,
        key: Arc<BrokerKey>,
        anchor: PathBuf,
        every: i64,
        idle: Duration,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(8192);
        let handle = tokio::spawn(run(rx, store, key, anchor, every, idle));
        (Self { tx }, handle)
    }

    /// Appends one entry and waits until it is durable; returns its sequence number.
    pub async fn append(&self, entry: AuditEntry) -> Result<i64, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Append(entry, reply))
            .await
            .map_err(|_| AuditError::Stopped)?;
        rx.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Store)
    }

    /// Signs a checkpoint at the current head now (if there are records).
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Checkpoint(reply))
            .await
            .map_err(|_| AuditError::Stopped)?;
        rx.await
            .map_err(|_| AuditError::Stopped)?
            .map_err(AuditError::Store)
    }
}

async fn run(
    mut rx: mpsc::Receiver<Job>,
    store: Arc<dyn Store>,
    key: Arc<BrokerKey>,
    anchor: PathBuf,
    every: i64,
    idle: Duration,
) {
    let mut last_checkpoint = store
        .checkpoints()
        .await
        .ok()
        .and_then(|c| c.last().map(|c| c.seq))
        .unwrap_or(0);
    let mut head = store.audit_head().await.ok().flatten().map_or(0, |h| h.0);
    let mut ticker = tokio::time::interval(idle);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            job = rx.recv() => match job { Some(j) => j, None => break },
            _ = ticker.tick() => {
                if head > last_checkpoint
                    && let Ok(Some(c)) = sign_checkpoint(store.as_ref(), &key, &anchor).await {
                        last_checkpoint = c.seq;
                    }
                continue;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut entries = Vec::new();
        let mut replies = Vec::new();
        let mut checkpoint_replies = Vec::new();
        for j in jobs {
            match j {
                Job::Append(e, r) => {
                    entries.push(e);
                    replies.push(r);
                }
                Job::Checkpoint(r) => checkpoint_replies.push(r),
            }
        }
        if !entries.is_empty() {
            match store.append_audit(&entries).await {
                Ok(sealed) => {
                    for (r, s) in replies.into_iter().zip(sealed.iter()) {
                        let _ = r.send(Ok(s.seq));
                    }
                    if let Some(s) = sealed.last() {
                        head = s.seq;
                    }
                    metrics::counter!("mandate_audit_records_total").increment(sealed.len() as u64);
                }
                Err(e) => {
                    let msg = e.to_string();
                    tracing::error!(error = %msg, "audit append failed");
                    for r in replies {
                        let _ = r.send(Err(msg.clone()));
                    }
                }
            }
        }
        if head - last_checkpoint >= every || !checkpoint_replies.is_empty() {
            let result = sign_checkpoint(store.as_ref(), &key, &anchor)
                .await
                .map_err(|e| e.to_string());
            if let Ok(Some(c)) = &result {
                last_checkpoint = c.seq;
            }
            for r in checkpoint_replies {
                let _ = r.send(result.clone());
            }
        }
    }
    // Shutdown: seal what was written.
    if head > last_checkpoint {
        let _ = sign_checkpoint(store.as_ref(), &key, &anchor).await;
    }
}

/// Signs a checkpoint at the store's head, stores it and writes the anchor file.
pub async fn sign_checkpoint(
    store: &dyn Store,
    key: &BrokerKey,
    anchor: &Path,
) -> Result<Option<Checkpoint>, StoreError> {
    let Some((seq, hash)) = store.audit_head().await? else {
        return Ok(None);
    };
    let mut c = Checkpoint {
        seq,
        hash,
        time_ms: crate::now_ms(),
        kid: key.kid().to_owned(),
        signature: String::new(),
    };
    c.signature = key.sign_bytes(&c.signed_message());
    store.put_checkpoint(&c).await?;
    if let Err(e) = write_anchor(anchor, &c) {
        tracing::warn!(error = %e, "cannot write the audit anchor file");
    }
    Ok(Some(c))
}

fn write_anchor(path: &Path, c: &Checkpoint) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(serde_json::to_string(c).unwrap_or_default().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(tmp, path)
}

/// Reads the anchor file, if there is one.
pub fn read_anchor(path: &Path) -> Result<Option<Checkpoint>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(&t)
            .map(Some)
            .map_err(|e| format!("{}: not a checkpoint: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Verifies the whole log against the broker's public keys and the anchor.
pub async fn verify(
    store: &dyn Store,
    keys: &[PublicKey],
    anchor: Option<Checkpoint>,
) -> Result<Result<ChainReport, ChainBroken>, StoreError> {
    let check = |c: &Checkpoint| {
        keys.iter()
            .any(|k| k.kid() == c.kid && k.verify_bytes(&c.signed_message(), &c.signature))
    };
    let extra: Vec<Checkpoint> = anchor.into_iter().collect();
    mandate_store::verify_log(store, &extra, &check).await
}
