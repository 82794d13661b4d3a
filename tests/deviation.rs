//! The deviation monitor: a task that keeps being refused is revoked on the spot, with
//! its sub-agents' tasks; a CAEP `session-revoked` SET that verifies against the
//! broker's JWKS is in the audit log and the event feed; `task show` says why.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use common::{Broker, check, http_raw, json, mandate, run, scratch_repo, start_task};

#[test]
fn a_task_that_keeps_being_refused_is_revoked_with_a_verifiable_set() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Three refusals (10 each) trip a develop task here.
    std::fs::write(
        data.join("config.toml"),
        "[deviation_threshold]\ndevelop = 30\n",
    )
    .unwrap();
    let repo = scratch_repo(tmp.path());
    let broker = Broker::start(&data, &[]);
    let (task, token) = start_task(&data, &repo);
    // A sub-agent's task, started by the task's own token.
    let client = mandate_client::Client::new(data.join("mandate.sock"));
    let child: serde_json::Value = client
        .json(
            "POST",
            "/v1/tasks",
            Some(&serde_json::json!({
                "profile": "develop", "repo": repo, "purpose": "sub-agent",
                "parent": task,
            })),
        )
        .unwrap();
    let child_token = child["token"].as_str().unwrap().to_owned();

    // Ordinary work and a first refusal do not trip it.
    assert_eq!(
        check(&data, &token, &repo, "--shell", "cargo test")["decision"],
        "allow"
    );
    for target in ["/etc/hosts", "/etc/passwd"] {
        assert_eq!(
            check(&data, &token, &repo, "--write", target)["decision"],
            "deny"
        );
    }
    assert_eq!(
        check(&data, &token, &repo, "--shell", "ls")["decision"],
        "allow"
    );
    // The third refusal does; the very next action is refused as revoked.
    let tripping = check(&data, &token, &repo, "--write", "/etc/shadow");
    assert_eq!(tripping["decision"], "deny");
    let after = check(&data, &token, &repo, "--shell", "ls");
    assert_eq!(after["decision"], "deny", "{after}");
    assert_eq!(after["reasons"][0]["policy"], "task.revoked", "{after}");
    assert!(
        after["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("task revoked: "),
        "{after}"
    );
    // Its sub-agent's task with it.
    let child_after = check(&data, &child_token, &repo, "--shell", "ls");
    assert_eq!(
        child_after["reasons"][0]["policy"], "task.revoked",
        "{child_after}"
    );

    // The record: within 10 ms of the tripping decision, with the SET.
    let out = run(mandate(&data).args(["--json", "audit", "tail", "-n", "100"]));
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tripped_at = records
        .iter()
        .find(|r| {
            r["kind"] == "decision"
                && r["body"]
                    .as_str()
                    .unwrap()
                    .contains(tripping["decision_id"].as_str().unwrap())
        })
        .unwrap()["time_ms"]
        .as_i64()
        .unwrap();
    let revoked = records
        .iter()
        .find(|r| r["kind"] == "task.revoked")
        .unwrap();
    let revoked_at = revoked["time_ms"].as_i64().unwrap();
    assert!(
        (0..=10).contains(&(revoked_at - tripped_at)),
        "revoked {} ms after the tripping action",
        revoked_at - tripped_at
    );
    let body: serde_json::Value = serde_json::from_str(revoked["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["children"][0], child["task_id"]);
    let set = body["set"].as_str().unwrap().to_owned();

    // The SET verifies against the broker's JWKS, and says what happened.
    let (status, jwks) = http_raw(
        &broker.addr,
        b"GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&jwks).unwrap();
    let header = jsonwebtoken::decode_header(&set).unwrap();
    assert_eq!(header.typ.as_deref(), Some("secevent+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["mandate"]);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &set,
        &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    let event =
        &claims["events"]["https://schemas.openid.net/secevent/caep/event-type/session-revoked"];
    assert_eq!(event["subject"]["id"], task.as_str());
    assert!(
        event["reason_admin"]["en"]
            .as_str()
            .unwrap()
            .contains("deviation score")
    );

    // The feed offers it to subscribers.
    let (status, feed) = http_raw(
        &broker.addr,
        b"GET /v1/events?after=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{feed}");
    let feed: serde_json::Value = serde_json::from_str(&feed).unwrap();
    assert_eq!(feed["events"][0]["set"], set.as_str());

    // And `task show` says why.
    let show = run(mandate(&data).args(["task", "show", &task]));
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("task revoked: its deviation score passed 30"),
        "{text}"
    );
    let detail = json(&run(mandate(&data).args(["--json", "task", "show", &task])));
    assert_eq!(detail["task"]["state"], "ended");
}

/// A SET receiver (RFC 8935) on the local machine: answers `202 Accepted` and hands each
/// request (head and body) to the test.
fn receiver() -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/caep/events", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (String::new(), String::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break (head.to_owned(), body.to_owned());
                    }
                }
            };
            let _ = s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
            let _ = tx.send((head, body));
        }
    });
    (url, rx)
}

#[test]
fn a_revocation_is_pushed_to_the_configured_set_receiver() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (url, received) = receiver();
    std::fs::write(
        data.join("config.toml"),
        format!("set_receivers = [\"{url}\"]\n[deviation_threshold]\ndevelop = 20\n"),
    )
    .unwrap();
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    for target in ["/etc/hosts", "/etc/passwd"] {
        check(&data, &token, &repo, "--write", target);
    }
    let (head, body) = received
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the SET was pushed");
    assert!(head.starts_with("POST /caep/events HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/secevent+jwt"),
        "{head}"
    );
    // The same SET as in the audit log and the pull feed.
    let out = run(mandate(&data).args(["--json", "audit", "tail", "-n", "100"]));
    let revoked = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["kind"] == "task.revoked")
        .expect("task.revoked recorded");
    let recorded: serde_json::Value =
        serde_json::from_str(revoked["body"].as_str().unwrap()).unwrap();
    assert_eq!(recorded["set"].as_str().unwrap(), body.trim());
}

#[test]
fn a_set_receiver_must_be_https_unless_local() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("config.toml"),
        "set_receivers = [\"http://siem.example.com/events\"]\n",
    )
    .unwrap();
    let out = run(mandate(&data).args(["serve"]));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("must be https://"), "{stderr}");
}

#[test]
fn a_revoked_task_stays_revoked_and_says_why_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("config.toml"),
        "[deviation_threshold]\ndevelop = 20\n",
    )
    .unwrap();
    let repo = scratch_repo(tmp.path());
    let broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    for target in ["/etc/hosts", "/etc/passwd"] {
        check(&data, &token, &repo, "--write", target);
    }
    let before = check(&data, &token, &repo, "--shell", "ls");
    assert_eq!(before["reasons"][0]["policy"], "task.revoked", "{before}");

    broker.stop();
    let _broker = Broker::start(&data, &[]);
    let after = check(&data, &token, &repo, "--shell", "ls");
    assert_eq!(after["decision"], "deny", "{after}");
    assert_eq!(after["reasons"][0]["policy"], "task.revoked", "{after}");
    assert_eq!(
        after["reasons"][0]["message"], before["reasons"][0]["message"],
        "the same reason after the restart"
    );
}
