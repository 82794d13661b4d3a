//! The embedded SQLite backend (WAL, `synchronous=FULL`: nothing acknowledged is lost).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use mandate_types::{Mandate, TaskId, UnixSeconds};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::canonical::to_canonical;
use crate::chain::{GENESIS, record_hash};
use crate::{AuditEntry, AuditRecord, Checkpoint, Revocation, Store, StoreError, TaskRecord};

/// The schema, portable between SQLite and PostgreSQL.
pub(crate) const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS tasks (
        id TEXT PRIMARY KEY,
        delegator TEXT NOT NULL,
        agent TEXT NOT NULL,
        profile TEXT NOT NULL,
        mandate TEXT NOT NULL,
        jti TEXT NOT NULL UNIQUE,
        issued_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT)",
    "CREATE INDEX IF NOT EXISTS tasks_issued ON tasks (issued_at)",
    "CREATE TABLE IF NOT EXISTS revocations (
        jti TEXT PRIMARY KEY,
        task_id TEXT NOT NULL,
        revoked_at BIGINT NOT NULL,
        reason TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS revocations_at ON revocations (revoked_at)",
    "CREATE TABLE IF NOT EXISTS audit_log (
        seq BIGINT PRIMARY KEY,
        kind TEXT NOT NULL,
        task_id TEXT,
        time_ms BIGINT NOT NULL,
        body TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_task ON audit_log (task_id, seq)",
    "CREATE TABLE IF NOT EXISTS audit_checkpoints (
        seq BIGINT PRIMARY KEY,
        hash TEXT NOT NULL,
        time_ms BIGINT NOT NULL,
        kid TEXT NOT NULL,
        signature TEXT NOT NULL)",
];

/// Audit records per `INSERT` statement: 7 bound values each, well under SQLite's limit
/// of 32,766 variables per statement.
const ROWS_PER_INSERT: usize = 500;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed, mode 0600) the database file and its schema.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |detail: String| StoreError::Open {
            path: path.display().to_string(),
            detail,
        };
        if !path.exists() {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| open_err(e.to_string()))?;
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
            .map_err(|e| open_err(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| open_err(e.to_string()))?;
        for stmt in SCHEMA {
            sqlx::query(*stmt).execute(&pool).await?;
        }
        Ok(Self { pool })
    }

    /// Flushes the WAL into the main database file (used at shutdown).
    pub async fn checkpoint_wal(&self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn task_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<TaskRecord, StoreError> {
    let text: String = row.try_get("mandate")?;
    let mandate: Mandate = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
        what: "tasks.mandate",
        detail: e.to_string(),
    })?;
    Ok(TaskRecord {
        mandate,
        jti: row.try_get("jti")?,
        ended_at: row.try_get("ended_at")?,
        end_reason: row.try_get("end_reason")?,
    })
}

fn audit_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        kind: row.try_get("kind")?,
        task_id: row.try_get("task_id")?,
        time_ms: row.try_get("time_ms")?,
        body: row.try_get("body")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const TASK_COLUMNS: &str = "mandate, jti, ended_at, end_reason";
const AUDIT_COLUMNS: &str = "seq, kind, task_id, time_ms, body, prev_hash, hash";

#[async_trait]
impl Store for SqliteStore {
    async fn insert_task(&self, t: &TaskRecord) -> Result<(), StoreError> {
        let m = &t.mandate;
        let json = serde_json::to_string(m).map_err(|e| StoreError::Corrupt {
            what: "tasks.mandate",
            detail: e.to_string(),
        })?;
        let r = sqlx::query(
            "INSERT INTO tasks (id, delegator, agent, profile, mandate, jti, issued_at, expires_at, ended_at, end_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(m.task.as_str())
        .bind(m.delegator.as_str())
        .bind(m.agent.as_str())
        .bind(m.profile.as_str())
        .bind(json)
        .bind(&t.jti)
        .bind(m.issued_at)
        .bind(m.expires_at)
        .bind(t.ended_at)
        .bind(&t.end_reason)
        .execute(&self.pool)
        .await;
        match r {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Duplicate(format!("task {}", m.task)))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn get_task(&self, id: &TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"
        )))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(task_from_row).transpose()
    }

    async fn list_tasks(&self, limit: i64) -> Result<Vec<TaskRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TASK_COLUMNS} FROM tasks ORDER BY issued_at DESC, id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(task_from_row).collect()
    }

    async fn end_task(
        &self,
        id: &TaskId,
        at: UnixSeconds,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT jti, ended_at FROM tasks WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let ended: Option<i64> = row.try_get("ended_at")?;
        if ended.is_some() {
            tx.rollback().await?;
            return Ok(false);
        }
        let jti: String = row.try_get("jti")?;
        sqlx::query("UPDATE tasks SET ended_at = $1, end_reason = $2 WHERE id = $3")
            .bind(at)
            .bind(reason)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO revocations (jti, task_id, revoked_at, reason) VALUES ($1, $2, $3, $4)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&jti)
        .bind(id.as_str())
        .bind(at)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn revoke(&self, r: &Revocation) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO revocations (jti, task_id, revoked_at, reason) VALUES ($1, $2, $3, $4)
             ON CONFLICT (jti) DO NOTHING",
        )
        .bind(&r.jti)
        .bind(r.task_id.as_str())
        .bind(r.revoked_at)
        .bind(&r.reason)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revocations_since(&self, since: UnixSeconds) -> Result<Vec<Revocation>, StoreError> {
        let rows = sqlx::query(
            "SELECT jti, task_id, revoked_at, reason FROM revocations WHERE revoked_at >= $1 ORDER BY revoked_at",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let task: String = row.try_get("task_id")?;
                Ok(Revocation {
                    jti: row.try_get("jti")?,
                    task_id: TaskId::parse(&task).map_err(|e| StoreError::Corrupt {
                        what: "revocations.task_id",
                        detail: e.to_string(),
                    })?,
                    revoked_at: row.try_get("revoked_at")?,
                    reason: row.try_get("reason")?,
                })
            })
            .collect()
    }

    async fn append_audit(&self, entries: &[AuditEntry]) -> Result<Vec<AuditRecord>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        // IMMEDIATE takes the write lock first, so the head read below cannot go stale.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let (mut seq, mut prev) = match head {
            Some(r) => (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("hash")?),
            None => (0, GENESIS.to_owned()),
        };
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            seq += 1;
            let body = to_canonical(&e.body);
            let task_id = e.task_id.as_ref().map(|t| t.as_str().to_owned());
            let hash = record_hash(&prev, seq, &e.kind, task_id.as_deref(), e.time_ms, &body);
            out.push(AuditRecord {
                seq,
                kind: e.kind.clone(),
                task_id,
                time_ms: e.time_ms,
                body,
                prev_hash: prev,
                hash: hash.clone(),
            });
            prev = hash;
        }
        // One statement per chunk, not one per record: each statement is a round trip to
        // sqlx's SQLite thread (two context switches), which under load cost more than
        // the inserts themselves.
        for chunk in out.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO audit_log (seq, kind, task_id, time_ms, body, prev_hash, hash) ",
            );
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(r.seq)
                    .push_bind(&r.kind)
                    .push_bind(&r.task_id)
                    .push_bind(r.time_ms)
                    .push_bind(&r.body)
                    .push_bind(&r.prev_hash)
                    .push_bind(&r.hash);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn audit_range(&self, from_seq: i64, limit: i64) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2"
        )))
        .bind(from_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_for_task(
        &self,
        task: &TaskId,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM (SELECT {AUDIT_COLUMNS} FROM audit_log WHERE task_id = $1
             ORDER BY seq DESC LIMIT $2) AS recent ORDER BY seq"
        )))
        .bind(task.as_str())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("seq")?, r.try_get("hash")?)))
            .transpose()
    }

    async fn put_checkpoint(&self, c: &Checkpoint) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, time_ms, kid, signature) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (seq) DO NOTHING",
        )
        .bind(c.seq)
        .bind(&c.hash)
        .bind(c.time_ms)
        .bind(&c.kid)
        .bind(&c.signature)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, hash, time_ms, kid, signature FROM audit_checkpoints ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Checkpoint {
                    seq: r.try_get("seq")?,
                    hash: r.try_get("hash")?,
                    time_ms: r.try_get("time_ms")?,
                    kid: r.try_get("kid")?,
                    signature: r.try_get("signature")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mandate.db");
        let store = SqliteStore::open(&path).await.unwrap();
        crate::conformance::run_all(&store).await;
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the database file is private");
    }

    #[tokio::test]
    async fn concurrent_appends_keep_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("m.db")).await.unwrap();
        crate::conformance::concurrent_appends(&store).await;
    }
}
