//! `mandate hook <assistant>` on hostile or broken input: always a denial the assistant
//! honours, never a panic, never a hang past the deadline. A well-formed call of a tool
//! nobody knows is not broken input: it is asked about, by name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn hook(assistant: &str, input: &[u8], env: &[(&str, &str)]) -> (i32, String, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut c = Command::new(bin());
    c.arg("--data-dir")
        .arg(tmp.path())
        .args(["hook", assistant])
        .env_remove("MANDATE_TOKEN")
        .env_remove("MANDATE_SOCKET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        t.elapsed(),
    )
}

#[test]
fn broken_input_is_denied_clearly_for_every_assistant() {
    let big = {
        let mut v = br#"{"hook_event_name":"PreToolUse","cwd":"/tmp","tool_name":"Write","tool_input":{"file_path":"/tmp/x","content":""#.to_vec();
        v.extend(std::iter::repeat_n(b'a', 5 * 1024 * 1024));
        v.extend(br#""}}"#);
        v
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "no input"),
        (
            "truncated",
            br#"{"hook_event_name":"PreToolUse","tool_na"#.to_vec(),
            "not valid",
        ),
        ("invalid UTF-8", vec![0xff, 0xfe, 0x7b], "UTF-8"),
        ("5 MB", big, "larger than"),
    ];
    for assistant in ["claude", "gemini", "codex", "cursor", "copilot"] {
        for (name, input, why) in &cases {
            let (code, stdout, took) = hook(assistant, input, &[("MANDATE_TOKEN", "x")]);
            assert!(
                took < Duration::from_secs(4),
                "{assistant}/{name} took {took:?}"
            );
            assert!(stdout.contains("deny"), "{assistant}/{name}: {stdout}");
            assert!(
                stdout.contains(why),
                "{assistant}/{name} says why ({why}): {stdout}"
            );
            assert_ne!(
                code, 1,
                "{assistant}/{name}: exit 1 means 'go on' to Claude Code"
            );
            assert!(code == 0 || code == 2, "{assistant}/{name}: exit {code}");
        }
    }
}

#[test]
fn an_unknown_tool_is_asked_about_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let repo = scratch_repo(tmp.path());
    let broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    let unknown = format!(
        r#"{{"hook_event_name":"PreToolUse","cwd":"{}","tool_name":"Teleport","tool_input":{{"to":"mars"}}}}"#,
        repo.display()
    );
    let socket = data.join("mandate.sock");
    let (code, out, _) = hook(
        "claude",
        unknown.as_bytes(),
        &[
            ("MANDATE_TOKEN", &token),
            ("MANDATE_SOCKET", socket.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"ask\""), "{out}");
    assert!(
        out.contains("claude") && out.contains("Teleport"),
        "the reason names the assistant and the tool: {out}"
    );
    drop(broker);
}

#[test]
fn missing_tokens_and_absent_brokers_are_denied() {
    let bash = br#"{"hook_event_name":"PreToolUse","cwd":"/tmp","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let (code, out, _) = hook("claude", bash, &[]);
    assert_eq!(code, 2);
    assert!(out.contains("MANDATE_TOKEN"), "{out}");

    let (code, out, took) = hook(
        "claude",
        bash,
        &[
            ("MANDATE_TOKEN", "x"),
            ("MANDATE_SOCKET", "/nonexistent/m.sock"),
        ],
    );
    assert_eq!(code, 2);
    assert!(out.contains("mandate serve"), "says how to fix it: {out}");
    assert!(took < Duration::from_secs(3));
}

#[test]
fn a_hung_broker_is_cut_off_at_the_deadline() {
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("hung.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        let _held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(60));
    });
    let bash = br#"{"hook_event_name":"PreToolUse","cwd":"/tmp","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
    let (code, out, took) = hook(
        "claude",
        bash,
        &[
            ("MANDATE_TOKEN", "x"),
            ("MANDATE_SOCKET", sock.to_str().unwrap()),
            ("MANDATE_HOOK_TIMEOUT_MS", "500"),
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn post_tool_and_session_events_never_block() {
    let post = br#"{"hook_event_name":"PostToolUse","cwd":"/tmp","tool_name":"Bash","tool_response":{"stdout":"x"}}"#;
    let (code, out, _) = hook(
        "claude",
        post,
        &[
            ("MANDATE_TOKEN", "x"),
            ("MANDATE_SOCKET", "/nonexistent/m.sock"),
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn a_misconfigured_hook_blocks_instead_of_letting_the_action_through() {
    // Claude Code and Gemini CLI treat exit 1 as "go on"; a typo in the hook command
    // must not open the door.
    let (code, _, _) = hook("claud", br#"{"hook_event_name":"PreToolUse"}"#, &[]);
    assert_eq!(code, 2);
}
