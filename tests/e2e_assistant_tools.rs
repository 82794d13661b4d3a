//! Every tool each pinned assistant CLI (`tests/e2e/package.json`) offers its model is
//! one its adapter maps. The names are read live from the first request each CLI sends
//! the scripted model, so a new tool in a new CLI version fails this test until
//! `crates/mandate-adapters` maps it (and `docs/assistant-tools.md` shows it). Each run
//! also calls some of the assistant's own tools and checks what was decided and what
//! the audit log recorded: scheduling is refused, a sub-agent start is asked about with
//! its prompt on record, bookkeeping is allowed.
//!
//! Like `e2e_assistants`, the tests skip when the CLIs are not installed, except under
//! CI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use mandate_adapters::{Assistant, ToolHandling};
use serde_json::{Value, json};

use common::assistants::*;
use common::fake::{FakeModel, Turn};

/// Fails, naming them, on the tools `assistant`'s adapter does not map.
fn assert_mapped(assistant: Assistant, names: &[String]) {
    eprintln!("{assistant} offers its model: {}", names.join(", "));
    assert!(
        !names.is_empty(),
        "{assistant}: no tools seen in the first request to the fake model"
    );
    let unmapped: Vec<&String> = names
        .iter()
        .filter(|n| assistant.tool_handling(n) == ToolHandling::Unknown)
        .collect();
    assert!(
        unmapped.is_empty(),
        "{assistant} offers tools its adapter does not map: {unmapped:?}; say what each does \
         in crates/mandate-adapters/src/{assistant}.rs (TOOLS) and docs/assistant-tools.md"
    );
}

/// The decisions recorded for calls of the assistant's own tool `tool`.
fn own_tool_decisions<'a>(bodies: &'a [Value], tool: &str) -> Vec<&'a Value> {
    bodies
        .iter()
        .filter(|b| {
            b["kind"] == "decision"
                && b["action"]["kind"] == "assistant_tool"
                && b["action"]["tool"] == tool
        })
        .collect()
}

/// The verdict of the one decision on `tool`, and the prompt text recorded with it.
fn verdict_and_prompt(bodies: &[Value], tool: &str) -> (String, Option<String>) {
    let d = own_tool_decisions(bodies, tool);
    assert_eq!(d.len(), 1, "one decision on {tool}: {d:#?}");
    (
        d[0]["decision"].as_str().unwrap_or("").to_owned(),
        d[0]["action"]["prompt"]["text"].as_str().map(str::to_owned),
    )
}

#[test]
fn claude_code_offers_only_tools_its_adapter_maps() {
    let Some(claude) = cli("claude") else { return };
    let s = session();
    let script = vec![
        Turn::Tool(
            "CronCreate",
            json!({"cron": "*/5 * * * *", "prompt": "check the deploy", "durable": true}),
        ),
        Turn::Tool(
            "Agent",
            json!({"description": "explore", "prompt": "look at src/main.rs"}),
        ),
        Turn::Tool(
            "TaskCreate",
            json!({"subject": "fix", "description": "fix the bug"}),
        ),
        Turn::Text("all done"),
    ];
    let fake = FakeModel::anthropic(script, None);
    let out = mandate_run(&s, &claude_env(&fake), &[], &claude_args(&claude));
    assert!(
        out.status.success(),
        "claude failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_mapped(Assistant::Claude, &fake.first_request_tools());

    let bodies = audit_bodies(&s.data);
    assert_eq!(
        verdict_and_prompt(&bodies, "CronCreate"),
        ("deny".into(), Some("check the deploy".into()))
    );
    assert!(
        !s.repo.join(".claude/scheduled_tasks.json").exists(),
        "no durable cron job was written"
    );
    assert_eq!(
        verdict_and_prompt(&bodies, "Agent"),
        ("ask".into(), Some("look at src/main.rs".into()))
    );
    assert_eq!(verdict_and_prompt(&bodies, "TaskCreate").0, "allow");
}

#[test]
fn gemini_cli_offers_only_tools_its_adapter_maps() {
    let Some(gemini) = cli("gemini") else { return };
    let s = session();
    let fake = FakeModel::gemini(vec![
        Turn::Tool(
            "invoke_agent",
            json!({"agent_name": "codebase_investigator", "prompt": "map the repository"}),
        ),
        Turn::Tool(
            "update_topic",
            json!({"title": "t", "summary": "s", "strategic_intent": "i"}),
        ),
        Turn::Text("all done"),
    ]);
    let gemini_home = s.root.join("gemini-home");
    std::fs::create_dir_all(gemini_home.join(".gemini")).unwrap();
    std::fs::write(
        gemini_home.join(".gemini/settings.json"),
        json!({"security": {"auth": {"selectedType": "gemini-api-key"}},
               "telemetry": {"enabled": false}, "general": {"enableAutoUpdate": false}})
        .to_string(),
    )
    .unwrap();
    let env = vec![
        ("GEMINI_API_KEY", "fake".to_owned()),
        ("GOOGLE_GEMINI_BASE_URL", fake.base.clone()),
        (
            "GEMINI_CLI_HOME",
            gemini_home.to_string_lossy().into_owned(),
        ),
        ("GEMINI_CLI_TRUST_WORKSPACE", "true".to_owned()),
    ];
    // yolo: the tools that need confirmation are offered too.
    let args: Vec<String> = [
        gemini.to_str().unwrap(),
        "-p",
        "do the task",
        "--approval-mode",
        "yolo",
        "--output-format",
        "json",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let out = mandate_run(&s, &env, &[], &args);
    assert_mapped(Assistant::Gemini, &fake.first_request_tools());

    let bodies = audit_bodies(&s.data);
    assert_eq!(
        verdict_and_prompt(&bodies, "invoke_agent"),
        ("ask".into(), Some("map the repository".into())),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(verdict_and_prompt(&bodies, "update_topic").0, "allow");
}

#[test]
fn codex_cli_offers_only_tools_its_adapter_maps() {
    let Some(codex) = cli("codex") else { return };
    let s = session();
    let fake = FakeModel::openai_responses(
        vec![
            Turn::Tool(
                "multi_agent_v1.spawn_agent",
                json!({"message": "look at src/main.rs"}),
            ),
            Turn::Tool("get_goal", json!({})),
            Turn::Text("all done"),
        ],
        None,
    );
    // Codex cannot ask its user: its hook waits this long for `mandate approve`.
    std::fs::create_dir_all(&s.data).unwrap();
    std::fs::write(s.data.join("config.toml"), "approval_wait_ms = 500\n").unwrap();
    let out = run_codex(&s, &codex, &fake);
    assert_mapped(Assistant::Codex, &fake.first_request_tools());

    let bodies = audit_bodies(&s.data);
    assert_eq!(
        verdict_and_prompt(&bodies, "spawn_agent"),
        ("ask".into(), Some("look at src/main.rs".into())),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fake.tool_results()
            .iter()
            .any(|r| r.contains("no one answered") && r.contains("mandate approve apr_")),
        "Codex, which cannot ask, was told nobody approved the start, and how to: {:#?}",
        fake.tool_results()
    );
    assert_eq!(verdict_and_prompt(&bodies, "get_goal").0, "allow");
}
