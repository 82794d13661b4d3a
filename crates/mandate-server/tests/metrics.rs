//! `/metrics` shows each cache's hits, misses, entries and capacity.

use mandate_broker::config::{Overrides, load_settings};
use mandate_types::api::StartTaskRequest;
use mandate_types::{AbsPath, Action, ActionKind, PrincipalId};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The sample value of `metric{cache="name"}` in a Prometheus text body.
fn sample(body: &str, metric: &str, cache: &str) -> Option<u64> {
    let prefix = format!("{metric}{{cache=\"{cache}\"}} ");
    body.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn metrics_show_the_hit_rate_of_every_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    let settings = load_settings(
        &data,
        &Overrides {
            listen: Some("127.0.0.1:0".into()),
            policy_dir: None,
            proxy_listen: Some("off".into()),
        },
    )
    .unwrap();
    let running = mandate_server::launch(settings).await.unwrap();
    let broker = running.broker().clone();

    let req: StartTaskRequest = serde_json::from_value(serde_json::json!({
        "profile": "develop",
        "repo": repo,
        "purpose": "metrics test",
    }))
    .unwrap();
    let task = broker
        .start_task(req, PrincipalId::parse("user:test").unwrap())
        .await
        .unwrap();
    let action = Action {
        kind: ActionKind::shell("cargo test").unwrap(),
        cwd: AbsPath::from_path("cwd", &repo).unwrap(),
    };
    // The second decision finds everything the first one cached.
    for _ in 0..2 {
        let d = broker.check(&task.token, action.clone()).await;
        assert_eq!(d.decision, mandate_types::Verdict::Allow, "{d:?}");
    }

    let mut stream = tokio::net::TcpStream::connect(running.addr())
        .await
        .unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    drop(broker);
    running.stop().await;

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("mandate_decisions_total"),
        "the recorder's metrics are still there: {response}"
    );
    assert!(response.contains("# TYPE mandate_cache_hits_total counter"));
    for cache in [
        "token.verified",
        "broker.tasks",
        "analysis.shell",
        "analysis.cwds",
        "policy.decisions",
    ] {
        let hits = sample(&response, "mandate_cache_hits_total", cache);
        let misses = sample(&response, "mandate_cache_misses_total", cache);
        let entries = sample(&response, "mandate_cache_entries", cache);
        let capacity = sample(&response, "mandate_cache_capacity", cache);
        assert!(hits >= Some(1), "{cache}: hits {hits:?}\n{response}");
        assert!(misses.is_some(), "{cache}: misses\n{response}");
        assert!(
            entries >= Some(1),
            "{cache}: entries {entries:?}\n{response}"
        );
        assert!(
            capacity >= entries,
            "{cache}: capacity {capacity:?}\n{response}"
        );
    }
}
