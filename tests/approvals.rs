//! Approvals for `ask`: bound to the task and the exact action, single use unless given
//! for the task, expiring, never answered twice, never from inside the sandbox.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Broker, check, json, mandate, run, run_with_stdin, scratch_repo, start_task};

const CI_FILE: &str = ".github/workflows/ci.yml";

fn ask(data: &Path, token: &str, repo: &Path, file: &str) -> serde_json::Value {
    check(data, token, repo, "--write", file)
}

/// The pending approval an ask names.
fn approval_of(decision: &serde_json::Value) -> String {
    decision["approval"].as_str().unwrap().to_owned()
}

/// `mandate approve|deny …`: (succeeded, stdout + stderr).
fn answer(data: &Path, args: &[&str]) -> (bool, String) {
    let out = run(mandate(data).args(args));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn an_approval_allows_the_asked_action_once_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (task, token) = start_task(&data, &repo);

    let first = ask(&data, &token, &repo, CI_FILE);
    assert_eq!(first["decision"], "ask", "{first}");
    let id = approval_of(&first);
    assert!(id.starts_with("apr_"));
    // Asking again while it waits points at the same approval.
    assert_eq!(ask(&data, &token, &repo, CI_FILE)["approval"], id.as_str());
    let listed = json(&run(mandate(&data).args(["approvals", "--json"])));
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["state"], "pending");
    assert_eq!(listed[0]["task"], task.as_str());

    let (ok, said) = answer(&data, &["approve", &id]);
    assert!(ok, "{said}");
    let allowed = ask(&data, &token, &repo, CI_FILE);
    assert_eq!(allowed["decision"], "allow", "{allowed}");
    assert_eq!(allowed["reasons"][0]["policy"], "approval.granted");

    // Single use: the same action asks again, under a new approval.
    let again = ask(&data, &token, &repo, CI_FILE);
    assert_eq!(again["decision"], "ask", "{again}");
    let second = approval_of(&again);
    assert_ne!(second, id);
    // Replaying the answer is refused.
    let (ok, said) = answer(&data, &["approve", &id]);
    assert!(!ok && said.contains("already answered or used"), "{said}");

    // An approval for these arguments does not cover others.
    let (ok, _) = answer(&data, &["approve", &second]);
    assert!(ok);
    let other = ask(&data, &token, &repo, ".github/workflows/release.yml");
    assert_eq!(other["decision"], "ask", "{other}");
    assert_ne!(other["approval"], second.as_str());
    assert_eq!(ask(&data, &token, &repo, CI_FILE)["decision"], "allow");

    // Nor another task's identical action.
    let (_, token2) = start_task(&data, &repo);
    assert_eq!(ask(&data, &token2, &repo, CI_FILE)["decision"], "ask");

    // A denial holds for the action; an unknown id is refused.
    let pending = approval_of(&ask(&data, &token, &repo, CI_FILE));
    assert!(answer(&data, &["deny", &pending]).0);
    let denied = ask(&data, &token, &repo, CI_FILE);
    assert_eq!(denied["decision"], "deny", "{denied}");
    assert_eq!(denied["reasons"][0]["policy"], "approval.denied");
    assert!(!answer(&data, &["approve", "apr_0000"]).0);

    // Every answer is in the task's timeline.
    let show = run(mandate(&data).args(["--json", "task", "show", &task]));
    let kinds: Vec<String> = json(&show)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "approval").count(),
        3,
        "{kinds:?}"
    );
}

#[test]
fn an_approval_for_the_task_holds_until_it_ends_and_an_expired_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), "approval_ttl = \"2s\"\n").unwrap();
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);

    let id = approval_of(&ask(&data, &token, &repo, CI_FILE));
    assert!(answer(&data, &["approve", &id, "--for-task"]).0);
    std::thread::sleep(Duration::from_millis(3200));
    for _ in 0..2 {
        assert_eq!(ask(&data, &token, &repo, CI_FILE)["decision"], "allow");
    }

    // Unanswered past its lifetime: cannot be approved.
    let late = approval_of(&ask(&data, &token, &repo, ".github/workflows/late.yml"));
    // Lifetimes are whole seconds: past 2 s means past 3 s of the clock.
    std::thread::sleep(Duration::from_millis(3200));
    let (ok, said) = answer(&data, &["approve", &late]);
    assert!(!ok && said.contains("expired"), "{said}");
    // Answered, then past its lifetime unused: no longer allows.
    let once = approval_of(&ask(&data, &token, &repo, ".github/workflows/once.yml"));
    assert!(answer(&data, &["approve", &once]).0);
    std::thread::sleep(Duration::from_millis(3200));
    assert_eq!(
        ask(&data, &token, &repo, ".github/workflows/once.yml")["decision"],
        "ask"
    );
}

#[test]
fn a_sandboxed_task_cannot_approve_its_own_ask() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    let id = approval_of(&ask(&data, &token, &repo, CI_FILE));
    let out = run(mandate(&data)
        .args(["run", "--sandbox", "--repo"])
        .arg(&repo)
        .args(["--", common::bin(), "--data-dir"])
        .arg(&data)
        .args(["approve", &id])
        .current_dir(&repo));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot be answered from inside a sandbox"),
        "{stderr}"
    );
    let listed = json(&run(mandate(&data).args(["approvals", "--json"])));
    assert_eq!(listed[0]["state"], "pending");
}

/// The id of the first pending approval, once one is there (within 10 s).
fn first_pending(data: &Path) -> String {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let listed = json(&run(mandate(data).args(["approvals", "--json"])));
        if let Some(a) = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["state"] == "pending")
        {
            return a["id"].as_str().unwrap().to_owned();
        }
        assert!(
            std::time::Instant::now() < until,
            "no approval became pending"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `mandate hook codex` for a Bash call in `repo`; Codex cannot ask its user.
fn codex_hook(data: &Path, token: &str, repo: &Path, command: &str) -> std::process::Child {
    use std::io::Write;
    let payload = serde_json::json!({
        "session_id": "s1", "turn_id": "t1", "hook_event_name": "PreToolUse",
        "cwd": repo, "model": "m", "permission_mode": "default",
        "tool_name": "Bash", "tool_input": {"command": command}, "tool_use_id": "call_1",
    });
    let mut child = mandate(data)
        .args(["hook", "codex"])
        .env("MANDATE_TOKEN", token)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    child
}

#[test]
fn a_hook_whose_assistant_cannot_ask_waits_for_the_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), "approval_wait_ms = 8000\n").unwrap();
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    let command = "mkdir -p .github/workflows && echo 'on: push' > .github/workflows/ci.yml";

    // Approved while the hook waits: the tool call goes ahead.
    let hook = codex_hook(&data, &token, &repo, command);
    let id = first_pending(&data);
    assert!(answer(&data, &["approve", &id]).0);
    let out = hook.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\"allow\""),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Denied while it waits: denied, and so said.
    let hook = codex_hook(&data, &token, &repo, command);
    let id = first_pending(&data);
    assert!(answer(&data, &["deny", &id]).0);
    let out = hook.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\"deny\"") && stdout.contains("denied"),
        "{stdout}"
    );
}

#[test]
fn a_hook_that_gets_no_answer_in_time_denies_and_says_how_to_approve() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("config.toml"), "approval_wait_ms = 1000\n").unwrap();
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    let started = std::time::Instant::now();
    let out = codex_hook(
        &data,
        &token,
        &repo,
        "echo 'on: push' > .github/workflows/ci.yml",
    )
    .wait_with_output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"deny\""), "{stdout}");
    assert!(stdout.contains("mandate approve apr_"), "{stdout}");
    assert!(stdout.contains("no one answered"), "{stdout}");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

/// `mandate hook claude` with one payload; returns its stdout.
fn claude_hook(data: &Path, token: &str, payload: serde_json::Value) -> String {
    let out = run_with_stdin(
        mandate(data)
            .args(["hook", "claude"])
            .env("MANDATE_TOKEN", token),
        payload.to_string().as_bytes(),
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn approval_states(data: &Path) -> Vec<(String, String)> {
    let out = run(mandate(data).args(["approvals", "--json"]));
    json(&out)
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["target"].as_str().unwrap_or_default().to_owned(),
                a["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn claude_codes_own_prompt_answers_the_approval() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let repo = scratch_repo(tmp.path());
    let _broker = Broker::start(&data, &[]);
    let (_, token) = start_task(&data, &repo);
    let payload = |event: &str, command: &str| {
        serde_json::json!({
            "session_id": "s1", "hook_event_name": event, "cwd": repo,
            "tool_name": "Bash", "tool_input": {"command": command}, "tool_use_id": "toolu_1",
            "tool_response": {"stdout": "", "stderr": "", "interrupted": false},
        })
    };

    // Claude Code shows the ask to its user; the user says yes; the tool runs.
    let approved = "echo 'on: push' > .github/workflows/ci.yml";
    let out = claude_hook(&data, &token, payload("PreToolUse", approved));
    assert!(out.contains("\"ask\""), "{out}");
    claude_hook(&data, &token, payload("PostToolUse", approved));
    let states = approval_states(&data);
    assert!(
        states
            .iter()
            .any(|(a, s)| a.contains("ci.yml") && s == "used"),
        "the ask was answered yes in Claude Code's prompt: {states:?}"
    );
    // Used up: the same call asks again.
    let out = claude_hook(&data, &token, payload("PreToolUse", approved));
    assert!(out.contains("\"ask\""), "{out}");

    // Claude Code's auto mode refuses a call: the ask is answered no, and the same
    // call is then denied, naming the answer.
    let refused = "echo 'on: pull_request' > .github/workflows/other.yml";
    let out = claude_hook(&data, &token, payload("PreToolUse", refused));
    assert!(out.contains("\"ask\""), "{out}");
    claude_hook(&data, &token, payload("PermissionDenied", refused));
    let states = approval_states(&data);
    assert!(
        states
            .iter()
            .any(|(a, s)| a.contains("other.yml") && s == "denied"),
        "{states:?}"
    );
    let out = claude_hook(&data, &token, payload("PreToolUse", refused));
    assert!(
        out.contains("\"deny\"") && out.contains("denied this action"),
        "{out}"
    );

    // The answers are in the audit log, attributed to the assistant's prompt.
    let out = run(mandate(&data).args(["audit", "tail", "--json", "-n", "100"]));
    let text = String::from_utf8_lossy(&out.stdout);
    let answers = text
        .lines()
        .filter(|l| {
            l.contains("\"kind\":\"approval\"")
                && l.contains("the assistant's own prompt, reported by its hook")
        })
        .count();
    assert_eq!(answers, 2, "{text}");
}
