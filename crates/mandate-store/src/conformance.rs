//! The conformance suite every [`Store`] backend runs. Each check panics with a message
//! naming the broken property. Checks work on a store that already holds data (they use
//! fresh ids and compare against the chain head they find).
//!
//! Test support, not runtime code: compiled for this crate's tests and, for other
//! backends' tests, behind the `conformance` feature.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test suite: a failed expectation is the test failing, with its message"
)]

use std::sync::Arc;

use mandate_types::{AbsPath, AgentId, Mandate, PrincipalId, ProfileName, Purpose, Scope, TaskId};

use crate::{AuditEntry, Checkpoint, Revocation, Store, StoreError, TaskRecord, verify_log};

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}{nanos}{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A task record with fresh ids, for tests.
pub fn sample_task(issued_at: i64) -> TaskRecord {
    TaskRecord {
        mandate: Mandate {
            task: TaskId::parse(&unique("task_")).expect("valid id"),
            delegator: PrincipalId::parse("user:conformance").expect("valid"),
            agent: AgentId::parse("test-agent").expect("valid"),
            purpose: Purpose::parse("conformance check").expect("valid"),
            profile: ProfileName::parse("develop").expect("valid"),
            scope: Scope {
                repos: vec![AbsPath::parse("repo", "/repo").expect("valid")],
                ..Default::default()
            },
            issued_at,
            expires_at: issued_at + 3600,
            parent: None,
            sandbox: None,
        },
        jti: unique("jti-"),
        ended_at: None,
        end_reason: None,
    }
}

/// Runs every check.
pub async fn run_all(store: &dyn Store) {
    tasks_round_trip(store).await;
    duplicate_task_is_refused(store).await;
    end_task_revokes_once(store).await;
    audit_chain_appends_in_order(store).await;
    audit_for_task_returns_the_timeline(store).await;
    checkpoints_round_trip(store).await;
    whole_log_verifies(store).await;
}

/// A stored task reads back equal, and appears in the listing.
pub async fn tasks_round_trip(store: &dyn Store) {
    let t = sample_task(1_700_000_000);
    store.insert_task(&t).await.expect("insert task");
    let back = store.get_task(&t.mandate.task).await.expect("get task");
    assert_eq!(back.as_ref(), Some(&t), "a task reads back as stored");
    let list = store.list_tasks(1000).await.expect("list");
    assert!(
        list.iter().any(|x| x.mandate.task == t.mandate.task),
        "list_tasks includes the new task"
    );
    let missing = TaskId::parse(&unique("task_")).expect("valid");
    assert!(
        store.get_task(&missing).await.expect("get").is_none(),
        "unknown ids are None"
    );
}

/// Inserting the same task id twice fails with `Duplicate`.
pub async fn duplicate_task_is_refused(store: &dyn Store) {
    let t = sample_task(1_700_000_001);
    store.insert_task(&t).await.expect("insert");
    match store.insert_task(&t).await {
        Err(StoreError::Duplicate(_)) => {}
        other => panic!("a duplicate task must be refused with Duplicate, got {other:?}"),
    }
}

/// Ending a task marks it ended and revokes its token, exactly once.
pub async fn end_task_revokes_once(store: &dyn Store) {
    let now = 1_800_000_000;
    let t = sample_task(now - 10);
    store.insert_task(&t).await.expect("insert");
    assert!(
        store
            .end_task(&t.mandate.task, now, "test end")
            .await
            .expect("end"),
        "first end returns true"
    );
    assert!(
        !store
            .end_task(&t.mandate.task, now + 1, "again")
            .await
            .expect("end"),
        "second end is a no-op"
    );
    let back = store
        .get_task(&t.mandate.task)
        .await
        .expect("get")
        .expect("present");
    assert_eq!(back.ended_at, Some(now));
    assert_eq!(back.end_reason.as_deref(), Some("test end"));
    assert!(!back.is_active(now));
    let revs = store.revocations_since(now).await.expect("revocations");
    assert!(
        revs.iter()
            .any(|r| r.jti == t.jti && r.task_id == t.mandate.task),
        "ending revokes the token"
    );
    let r = Revocation {
        jti: unique("jti-"),
        task_id: t.mandate.task.clone(),
        revoked_at: now + 5,
        reason: "manual".into(),
    };
    store.revoke(&r).await.expect("revoke");
    store.revoke(&r).await.expect("revoke is idempotent");
    let revs = store.revocations_since(now + 5).await.expect("revocations");
    assert_eq!(revs.iter().filter(|x| x.jti == r.jti).count(), 1);
    let unknown = TaskId::parse(&unique("task_")).expect("valid");
    assert!(
        !store
            .end_task(&unknown, now, "x")
            .await
            .expect("end unknown"),
        "ending an unknown task is false"
    );
}

fn entry(kind: &str, task: Option<&TaskId>, n: i64) -> AuditEntry {
    AuditEntry {
        kind: kind.into(),
        task_id: task.cloned(),
        time_ms: 1_700_000_000_000 + n,
        body: serde_json::json!({"n": n, "z": "last", "a": ["x", {"k": true}]}),
    }
}

/// Appends get consecutive sequence numbers and chain to the previous head.
pub async fn audit_chain_appends_in_order(store: &dyn Store) {
    let head = store.audit_head().await.expect("head");
    let task = TaskId::parse(&unique("task_")).expect("valid");
    let sealed = store
        .append_audit(&[
            entry("decision", Some(&task), 1),
            entry("decision", None, 2),
        ])
        .await
        .expect("append");
    assert_eq!(sealed.len(), 2);
    let start = head.as_ref().map_or(1, |h| h.0 + 1);
    assert_eq!(sealed[0].seq, start, "sequence continues from the head");
    assert_eq!(sealed[1].seq, start + 1);
    assert_eq!(
        sealed[0].prev_hash,
        head.map_or(crate::GENESIS.to_owned(), |h| h.1),
        "the first new record chains to the old head"
    );
    assert_eq!(sealed[1].prev_hash, sealed[0].hash);
    for r in &sealed {
        assert_eq!(r.computed_hash(), r.hash, "stored hash matches content");
    }
    assert!(
        sealed[0].body.starts_with("{\"a\":"),
        "bodies are canonical JSON: {}",
        sealed[0].body
    );
    let back = store.audit_range(start, 10).await.expect("range");
    assert_eq!(&back[..2], &sealed[..], "records read back as sealed");
    assert_eq!(
        store.append_audit(&[]).await.expect("empty append").len(),
        0
    );
}

/// A task's timeline holds its records in order.
pub async fn audit_for_task_returns_the_timeline(store: &dyn Store) {
    let task = TaskId::parse(&unique("task_")).expect("valid");
    let other = TaskId::parse(&unique("task_")).expect("valid");
    for i in 0..5 {
        store
            .append_audit(&[
                entry("decision", Some(&task), i),
                entry("decision", Some(&other), i),
            ])
            .await
            .expect("append");
    }
    let tl = store.audit_for_task(&task, 3).await.expect("timeline");
    assert_eq!(tl.len(), 3, "limit applies");
    assert!(
        tl.windows(2).all(|w| w[0].seq < w[1].seq),
        "timeline is in order"
    );
    assert!(
        tl.iter()
            .all(|r| r.task_id.as_deref() == Some(task.as_str()))
    );
    let all = store.audit_for_task(&task, 100).await.expect("timeline");
    assert_eq!(
        all.last(),
        tl.last(),
        "the limit keeps the most recent records"
    );
}

/// Checkpoints read back in order.
pub async fn checkpoints_round_trip(store: &dyn Store) {
    let (seq, hash) = store
        .audit_head()
        .await
        .expect("head")
        .expect("records exist");
    let c = Checkpoint {
        seq,
        hash,
        time_ms: 1,
        kid: "k".into(),
        signature: "sig".into(),
    };
    store.put_checkpoint(&c).await.expect("put");
    store
        .put_checkpoint(&c)
        .await
        .expect("put twice is a no-op");
    let all = store.checkpoints().await.expect("checkpoints");
    assert_eq!(all.iter().filter(|x| x.seq == seq).count(), 1);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
}

/// The whole log verifies (checkpoint signatures accepted by the test).
pub async fn whole_log_verifies(store: &dyn Store) {
    let report = verify_log(store, &[], &|_| true)
        .await
        .expect("verify runs");
    let report = report.expect("an untouched log verifies");
    let head = store.audit_head().await.expect("head").expect("records");
    assert_eq!(report.records, head.0);
    assert_eq!(report.head, head.1);
}

/// Many concurrent appends produce one gapless chain.
pub async fn concurrent_appends<S: Store + Clone>(store: &S) {
    let before = store.audit_head().await.expect("head").map_or(0, |h| h.0);
    let store = Arc::new(store.clone());
    let mut set = tokio::task::JoinSet::new();
    for i in 0..16 {
        let s = store.clone();
        set.spawn(async move {
            for j in 0..10 {
                s.append_audit(&[entry("decision", None, i * 100 + j)])
                    .await
                    .expect("append");
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.expect("appender finished");
    }
    let after = store.audit_head().await.expect("head").expect("records").0;
    assert_eq!(
        after - before,
        160,
        "every append got its own sequence number"
    );
    verify_log(store.as_ref(), &[], &|_| true)
        .await
        .expect("verify runs")
        .expect("concurrent appends keep the chain intact");
}
