//! Each assistant's hook payloads for its own tools, through its adapter and the
//! shipped policy: scheduling is refused, a sub-agent start is asked about with its
//! prompt on record, bookkeeping is allowed, and a tool nobody knows is asked about
//! with a reason that names it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use std::sync::Arc;

use mandate_adapters::{Assistant, Event, parse};
use mandate_analysis::Environment;
use mandate_broker::config::build_engine;
use mandate_broker::{Engine, Outcome};
use mandate_types::{Action, ActionKind, Mandate, ToolRole, Verdict};
use serde_json::{Value, json};

struct World {
    _dir: tempfile::TempDir,
    repo: String,
    engine: Engine,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let root = mandate_analysis::resolve(dir.path());
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    let env = Environment {
        home: root.join("home"),
        temp_dirs: vec![root.join("tmp")],
        mandate_dirs: vec![root.join("home/.local/share/mandate")],
    };
    World {
        _dir: dir,
        repo: repo.to_str().unwrap().to_owned(),
        engine: build_engine(None, env).unwrap(),
    }
}

impl World {
    /// The payload's one action and what `profile` decides about it.
    fn decide(&self, profile: &str, assistant: Assistant, payload: &Value) -> (Action, Outcome) {
        let text = payload.to_string().replace("$REPO", &self.repo);
        let Event::PreTool(pre) = parse(assistant, text.as_bytes()).unwrap() else {
            panic!("not a pre-tool event: {text}")
        };
        assert_eq!(pre.actions.len(), 1, "{text}");
        let mandate: Mandate = serde_json::from_value(json!({
            "task": "task_t1", "delegator": "user:t", "agent": "test-agent", "purpose": "test",
            "profile": profile, "scope": {"repos": [self.repo]}, "issued_at": 0,
            "expires_at": 9_999_999_999_i64,
        }))
        .unwrap();
        let state = self.engine.task(Arc::new(mandate)).unwrap();
        let action = pre.actions[0].clone();
        let out = self.engine.decide(&state, &action);
        (action, out)
    }
}

fn policies(o: &Outcome) -> Vec<&str> {
    o.reasons.iter().map(|r| r.policy.as_str()).collect()
}

fn claude(tool: &str, input: Value) -> Value {
    json!({"session_id":"s","transcript_path":"/t","cwd":"$REPO","permission_mode":"default",
           "hook_event_name":"PreToolUse","tool_name":tool,"tool_input":input,"tool_use_id":"toolu_1"})
}

fn gemini(tool: &str, input: Value) -> Value {
    json!({"session_id":"s","cwd":"$REPO","hook_event_name":"BeforeTool","timestamp":"t",
           "tool_name":tool,"tool_input":input})
}

fn codex(tool: &str, input: Value) -> Value {
    json!({"session_id":"s","turn_id":"t","cwd":"$REPO","hook_event_name":"PreToolUse","model":"gpt-5",
           "permission_mode":"bypassPermissions","tool_name":tool,"tool_input":input,"tool_use_id":"call_1"})
}

fn cursor(tool: &str, input: Value) -> Value {
    json!({"hook_event_name":"preToolUse","tool_name":tool,"tool_input":input,"tool_use_id":"a","cwd":"$REPO"})
}

fn copilot(tool: &str, input: Value) -> Value {
    json!({"sessionId":"s","timestamp":1,"cwd":"$REPO","toolName":tool,"toolArgs":input.to_string()})
}

/// Every assistant's scheduling, delegating, bookkeeping and unknown tools, as
/// (assistant, payload, role).
fn own_tools() -> Vec<(Assistant, Value, ToolRole)> {
    use Assistant::*;
    use ToolRole::*;
    vec![
        (
            Claude,
            claude(
                "CronCreate",
                json!({"cron":"*/5 * * * *","prompt":"check the deploy","durable":true}),
            ),
            Schedule,
        ),
        (
            Claude,
            claude(
                "ScheduleWakeup",
                json!({"delaySeconds":600,"reason":"r","prompt":"/loop go on"}),
            ),
            Schedule,
        ),
        (
            Claude,
            claude(
                "RemoteTrigger",
                json!({"action":"create","body":{"prompt":"nightly"}}),
            ),
            Schedule,
        ),
        (
            Claude,
            claude("Agent", json!({"description":"d","prompt":"look at src"})),
            Delegate,
        ),
        (
            Claude,
            claude(
                "SendMessage",
                json!({"to":"researcher","message":"start on task 1"}),
            ),
            Delegate,
        ),
        (
            Claude,
            claude("Workflow", json!({"script":"export const meta = {}"})),
            Delegate,
        ),
        (
            Claude,
            claude("TaskCreate", json!({"subject":"s","description":"d"})),
            Bookkeeping,
        ),
        (Claude, claude("Teleport", json!({"to":"mars"})), Unknown),
        (
            Gemini,
            gemini(
                "invoke_agent",
                json!({"agent_name":"x","prompt":"look at src"}),
            ),
            Delegate,
        ),
        (
            Gemini,
            gemini("write_todos", json!({"todos":[]})),
            Bookkeeping,
        ),
        (Gemini, gemini("teleport", json!({})), Unknown),
        (
            Codex,
            codex("spawn_agent", json!({"message":"look at src"})),
            Delegate,
        ),
        (
            Codex,
            codex("update_goal", json!({"status":"complete"})),
            Bookkeeping,
        ),
        (Codex, codex("teleport", json!({})), Unknown),
        (
            Cursor,
            cursor("Task", json!({"prompt":"look at src"})),
            Delegate,
        ),
        (Cursor, cursor("Teleport", json!({})), Unknown),
        (
            Copilot,
            copilot("task", json!({"prompt":"look at src"})),
            Delegate,
        ),
        (
            Copilot,
            copilot("update_todo", json!({"todos":"- [ ] x"})),
            Bookkeeping,
        ),
        (Copilot, copilot("teleport", json!({})), Unknown),
    ]
}

#[test]
fn develop_refuses_schedules_asks_delegations_and_unknown_tools_and_allows_bookkeeping() {
    let w = world();
    for (assistant, payload, role) in own_tools() {
        let (action, out) = w.decide("develop", assistant, &payload);
        let ActionKind::AssistantTool {
            role: got,
            prompt,
            tool,
            ..
        } = &action.kind
        else {
            panic!("{assistant}: {:?}", action.kind)
        };
        assert_eq!(*got, role, "{assistant} {tool}");
        let (verdict, policy) = match role {
            ToolRole::Schedule => (Verdict::Deny, "develop.schedule"),
            ToolRole::Delegate => (Verdict::Ask, "develop.delegate"),
            ToolRole::Bookkeeping => (Verdict::Allow, "develop.bookkeeping"),
            ToolRole::Unknown => (Verdict::Ask, "develop.unparseable"),
            ToolRole::Worktree => unreachable!(),
        };
        assert_eq!(
            out.verdict, verdict,
            "{assistant} {tool}: {:?}",
            out.reasons
        );
        assert_eq!(policies(&out), [policy], "{assistant} {tool}");
        if matches!(role, ToolRole::Schedule | ToolRole::Delegate) {
            assert!(
                prompt.is_some(),
                "{assistant} {tool}: the prompt is recorded"
            );
        }
        if role == ToolRole::Unknown {
            let message = &out.reasons[0].message;
            assert!(
                message.contains(assistant.name()) && message.contains(tool.as_str()),
                "the reason names the assistant and the tool: {message}"
            );
        }
    }
}

#[test]
fn build_release_and_read_only_refuse_schedules_and_delegations() {
    let w = world();
    for profile in ["build", "release", "read-only"] {
        for (assistant, payload, role) in own_tools() {
            let (_, out) = w.decide(profile, assistant, &payload);
            let expected = match role {
                ToolRole::Schedule => (Verdict::Deny, format!("{profile}.schedule")),
                ToolRole::Delegate => (Verdict::Deny, format!("{profile}.delegate")),
                ToolRole::Bookkeeping => (Verdict::Allow, format!("{profile}.bookkeeping")),
                ToolRole::Unknown => (Verdict::Ask, format!("{profile}.unparseable")),
                ToolRole::Worktree => unreachable!(),
            };
            assert_eq!(
                (out.verdict, policies(&out)),
                (expected.0, vec![expected.1.as_str()]),
                "{profile}: {assistant} {payload}"
            );
        }
    }
}

#[test]
fn a_worktree_is_a_write_of_its_directory_or_of_git_worktrees() {
    let w = world();
    let (_, out) = w.decide(
        "develop",
        Assistant::Claude,
        &claude("EnterWorktree", json!({"name":"fix"})),
    );
    assert_eq!(out.verdict, Verdict::Ask, "{:?}", out.reasons);
    assert_eq!(policies(&out), ["develop.write.git-internal"]);
    assert!(
        out.effects[0]
            .to_string()
            .ends_with("/repo/.git/worktrees)"),
        "{:?}",
        out.effects
    );
    let (_, out) = w.decide(
        "build",
        Assistant::Claude,
        &claude("ExitWorktree", json!({"action":"remove"})),
    );
    assert_eq!(out.verdict, Verdict::Deny);
    let inside = claude("EnterWorktree", json!({"path":"$REPO/wt/fix"}));
    let (_, out) = w.decide("develop", Assistant::Claude, &inside);
    assert_eq!(out.verdict, Verdict::Allow, "{:?}", out.reasons);
    let elsewhere = claude("EnterWorktree", json!({"path":"/srv/other/wt"}));
    let (_, out) = w.decide("develop", Assistant::Claude, &elsewhere);
    assert_ne!(out.verdict, Verdict::Allow, "{:?}", out.reasons);
}
