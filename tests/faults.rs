//! The broker under faults: killed mid-write, slow clients, a full disk, its clock
//! jumping. What it acknowledged stays recorded, the chain verifies, hooks deny while it
//! is down, it resumes with its revocations intact, and tokens are judged at the time
//! as it is.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Broker, bin, check, http_post, mandate, run, scratch_repo, start_task};

fn evaluation(token: &str, repo: &std::path::Path, n: usize) -> String {
    let (name, kind, id) = match n % 3 {
        0 => ("shell", "command", "cargo test"),
        1 => ("file_read", "file", "src/main.rs"),
        _ => ("file_read", "file", ".env"),
    };
    serde_json::json!({
        "subject": {"type": "task", "properties": {"token": token}},
        "action": {"name": name},
        "resource": {"type": kind, "id": id},
        "context": {"cwd": repo},
    })
    .to_string()
}

/// `mandate audit verify` passes on `data`: the hash chain is whole, the checkpoints verify.
fn assert_audit_verifies(data: &std::path::Path) {
    let verify = run(mandate(data).args(["audit", "verify"]));
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// A decision request; `None` once the broker is gone.
fn try_post(addr: &str, body: &[u8]) -> Option<(u16, String)> {
    use std::io::Read;
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let head = format!(
        "POST /access/v1/evaluation HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text.split("\r\n\r\n").nth(1)?.to_owned()))
}

#[test]
fn a_broker_killed_under_load_loses_no_acknowledged_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let data = tmp.path().join("data");
    let mut broker = Broker::start(&data, &["--proxy-listen", "off"]);
    let (_, live) = start_task(&data, &repo);
    let (dead_id, dead) = start_task(&data, &repo);
    assert!(
        run(mandate(&data).args(["task", "end", &dead_id]))
            .status
            .success()
    );

    // Six clients decide as fast as they can; every answer they get is acknowledged.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|w| {
            let (addr, token, repo) = (broker.addr.clone(), live.clone(), repo.clone());
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = w;
                while !stop.load(Ordering::SeqCst) {
                    let Some((status, body)) =
                        try_post(&addr, evaluation(&token, &repo, n).as_bytes())
                    else {
                        return;
                    };
                    if status == 200 {
                        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push(v["context"]["decision_id"].as_str().unwrap().to_owned());
                    }
                    n += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // SIGKILL: no shutdown, no final checkpoint, writes cut wherever they were.
    broker.child.kill().unwrap();
    broker.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!("{} decisions acknowledged before the kill", acked.len());
    assert!(
        acked.len() >= 20,
        "the load ran: {} decisions acknowledged",
        acked.len()
    );

    // While it is down, the hook denies.
    let mut hook = Command::new(bin())
        .args(["hook", "claude"])
        .env("MANDATE_TOKEN", &live)
        .env("MANDATE_SOCKET", data.join("mandate.sock"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    hook.stdin
        .take()
        .unwrap()
        .write_all(br#"{"hook_event_name":"PreToolUse","cwd":"/tmp","tool_name":"Bash","tool_input":{"command":"ls"}}"#)
        .unwrap();
    let out = hook.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Restarted on the same data directory, it verifies, holds every acknowledged
    // decision, and still knows which tasks ended.
    let broker = Broker::start(&data, &["--proxy-listen", "off"]);
    assert_audit_verifies(&data);
    let export = run(mandate(&data).args(["audit", "export", "--format", "jsonl"]));
    let recorded: HashSet<String> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            v["body"]
                .as_str()
                .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
        })
        .filter_map(|b| b["decision_id"].as_str().map(str::to_owned))
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|id| !recorded.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged decisions lost: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    let d = check(&data, &live, &repo, "--read", "src/main.rs");
    assert_eq!(d["decision"], "allow", "{d}");
    let d = check(&data, &dead, &repo, "--read", "src/main.rs");
    assert_eq!(d["reasons"][0]["policy"], "token.revoked", "{d}");
    broker.stop();
}

#[test]
fn slow_clients_do_not_hold_up_others() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let data = tmp.path().join("data");
    let broker = Broker::start(&data, &["--proxy-listen", "off"]);
    let (_, token) = start_task(&data, &repo);
    // Fifty clients that send half a request and stall.
    let stalled: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(&broker.addr).unwrap();
            s.write_all(
                b"POST /access/v1/evaluation HTTP/1.1\r\nContent-Length: 500\r\n\r\n{\"subj",
            )
            .unwrap();
            s
        })
        .collect();
    let started = Instant::now();
    for n in 0..20 {
        let (status, body) = http_post(
            &broker.addr,
            "/access/v1/evaluation",
            evaluation(&token, &repo, n).as_bytes(),
        );
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "20 decisions took {:?} beside stalled clients",
        started.elapsed()
    );
    drop(stalled);
    broker.stop();
}

/// A tmpfs of `size` at `dir`, unmounted on drop; `None` where mounting is not allowed
/// (not root).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(dir: &std::path::Path, size: &str) -> Option<Self> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(dir.to_owned()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_closed_and_recovers_when_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let data = tmp.path().join("data");
    let Some(_disk) = SmallDisk::mount(&data, "8m") else {
        // Mounting needs root (or CAP_SYS_ADMIN); a runner without it skips, loudly.
        eprintln!("SKIPPED: cannot mount a small tmpfs here (needs root)");
        return;
    };
    let broker = Broker::start(&data, &["--proxy-listen", "off"]);
    let (_, token) = start_task(&data, &repo);
    let d = check(&data, &token, &repo, "--read", "src/main.rs");
    assert_eq!(d["decision"], "allow", "{d}");
    // Fill the disk to the last byte.
    let filler = data.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let byte = [0u8; 1];
        while f.write_all(&byte).is_ok() {}
        let _ = f.sync_all();
    }
    // Decisions cannot be recorded: denied, saying why.
    let mut denied = None;
    for n in 0..50 {
        let d = check(
            &data,
            &token,
            &repo,
            "--shell",
            &format!("echo {n} > out-{n}.txt"),
        );
        if d["decision"] != "allow" {
            denied = Some(d);
            break;
        }
    }
    let d = denied.expect("a decision was allowed with a full disk");
    assert_eq!(d["decision"], "deny", "{d}");
    assert_eq!(d["reasons"][0]["policy"], "audit.unavailable", "{d}");
    // Space returns: decisions are recorded and allowed again, and the log verifies.
    std::fs::remove_file(&filler).unwrap();
    let mut recovered = false;
    for _ in 0..50 {
        let d = check(&data, &token, &repo, "--read", "src/main.rs");
        if d["decision"] == "allow" {
            recovered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(recovered, "decisions resume once space returns");
    broker.stop();
    assert_audit_verifies(&data);
}

/// libfaketime, which moves the wall clock of one process (Debian's `faketime`).
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[test]
fn a_clock_jump_under_a_running_broker_is_judged_at_the_new_time() {
    if !std::path::Path::new(LIBFAKETIME).exists() {
        eprintln!("SKIPPED: libfaketime is not installed (Debian package faketime)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = scratch_repo(tmp.path());
    let data = tmp.path().join("data");
    // The broker's wall clock is the real one plus the offset in this file, read afresh
    // by every thread at every call (no cache: each thread sees the same time); its
    // monotonic clock (tokio's timers) is left alone.
    let offset = tmp.path().join("clock-offset");
    let set_clock = |o: &str| std::fs::write(&offset, o).unwrap();
    set_clock("+0");
    let broker = Broker::start_with_env(
        &data,
        &["--proxy-listen", "off"],
        &[
            ("LD_PRELOAD", std::path::Path::new(LIBFAKETIME)),
            ("FAKETIME_TIMESTAMP_FILE", &offset),
            ("FAKETIME_NO_CACHE", std::path::Path::new("1")),
            ("FAKETIME_DONT_FAKE_MONOTONIC", std::path::Path::new("1")),
        ],
    );
    let (_, token) = start_task(&data, &repo);
    // Each step: the offset, then the answer a decision gets at that time. Back to the
    // present after each jump: nothing was cached as valid or as expired.
    for (offset, verdict, policy) in [
        ("+0", "allow", None),
        // Two days on, the task's token has expired.
        ("+2d", "deny", Some("token.expired")),
        ("+0", "allow", None),
        // A day back, before the token was issued: not yet valid.
        ("-1d", "deny", Some("token.not_yet_valid")),
        ("+0", "allow", None),
    ] {
        set_clock(offset);
        let d = check(&data, &token, &repo, "--read", "src/main.rs");
        assert_eq!(d["decision"], verdict, "clock {offset}: {d}");
        if let Some(p) = policy {
            assert_eq!(d["reasons"][0]["policy"], p, "clock {offset}: {d}");
        }
    }
    broker.stop();
    // Every record, whatever clock stamped it, is in one verifiable chain.
    assert_audit_verifies(&data);
}
