//! Knowledge-base check for the people who write it: runs example command lines through
//! the real analysis and the `develop` profile, as `mandate eval` does, and prints what
//! was not allowed and why.
//!
//! ```sh
//! cargo run -p mandate-eval --example kb_check -- [--repo DIR] [--kb EXTRA.toml]... FILE.jsonl [PROGRAM...]
//! ```
//! Each line of FILE is `{"program": NAME, "examples": [COMMAND, ...]}` or
//! `{"command": COMMAND}`. With PROGRAM names, only those programs are checked. `--kb`
//! adds knowledge-base files on top of the built-in one (as an organisation's
//! `programs.toml` would), so entries can be tried without rebuilding.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a developer tool: a bad input file ends it with the error"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use mandate_broker::config::build_engine;
use mandate_types::{
    AbsPath, Action, ActionKind, AgentId, BranchPattern, Effect, Mandate, PrincipalId, ProfileName,
    Purpose, Scope, TaskId, Verdict,
};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut extra = String::new();
    let mut repo_dir = "/home/user/project".to_owned();
    if args.first().is_some_and(|a| a == "--repo") {
        repo_dir = args.get(1).expect("--repo DIR").clone();
        args.drain(..2);
    }
    while args.first().is_some_and(|a| a == "--kb") {
        let path = args.get(1).expect("--kb FILE").clone();
        let text = std::fs::read_to_string(&path).expect("read --kb file");
        // Check each file alone first, so an error names the file.
        mandate_shell::kb::KnowledgeBase::default()
            .extend_from_toml(&text)
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        extra.push_str(&text);
        extra.push('\n');
        args.drain(..2);
    }
    let file = args
        .first()
        .expect("usage: kb_check [--kb EXTRA.toml]... FILE.jsonl [PROGRAM...]")
        .clone();
    let only: Vec<String> = args.iter().skip(1).cloned().collect();
    let policy_dir = tempfile::tempdir().unwrap();
    std::fs::write(policy_dir.path().join("programs.toml"), &extra).unwrap();
    let env = mandate_analysis::Environment {
        home: PathBuf::from("/home/user"),
        temp_dirs: vec![PathBuf::from("/tmp"), PathBuf::from("/var/tmp")],
        mandate_dirs: vec![PathBuf::from("/home/user/.local/share/mandate")],
    };
    let engine = build_engine(Some(policy_dir.path()), env).expect("policy builds");
    let repo = AbsPath::parse("repo", &repo_dir).unwrap();
    let mut per_program: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut allowed, mut total) = (0, 0);
    for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let program = v["program"].as_str().unwrap_or("-").to_owned();
        if !only.is_empty() && !only.contains(&program) {
            continue;
        }
        let commands: Vec<String> = match v["examples"].as_array() {
            Some(a) => a
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect(),
            None => v["command"]
                .as_str()
                .map(str::to_owned)
                .into_iter()
                .collect(),
        };
        for command in commands {
            let mandate = Mandate {
                task: TaskId::parse(&format!("task_kb{n}")).unwrap(),
                delegator: PrincipalId::parse("user:kb").unwrap(),
                agent: AgentId::parse("kb-check").unwrap(),
                purpose: Purpose::parse("knowledge-base check").unwrap(),
                profile: ProfileName::parse("develop").unwrap(),
                scope: Scope {
                    repos: vec![repo.clone()],
                    branches: vec![BranchPattern::parse("mandate/*").unwrap()],
                    ..Default::default()
                },
                issued_at: 0,
                expires_at: i64::MAX,
                parent: None,
                sandbox: None,
            };
            let task = engine.task(Arc::new(mandate)).unwrap();
            let Ok(kind) = ActionKind::shell(&command) else {
                continue;
            };
            let o = engine.decide(
                &task,
                &Action {
                    kind,
                    cwd: repo.clone(),
                },
            );
            let entry = per_program.entry(program.clone()).or_default();
            entry.1 += 1;
            total += 1;
            if o.verdict == Verdict::Allow {
                entry.0 += 1;
                allowed += 1;
                continue;
            }
            let mut why: Vec<String> = o
                .effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Unparseable { reason } => Some(format!("unparseable: {reason}")),
                    _ => None,
                })
                .collect();
            why.extend(
                o.reasons
                    .iter()
                    .map(|r| format!("{}: {}", r.policy, r.message)),
            );
            let effects: Vec<String> = o.effects.iter().map(|e| e.to_string()).collect();
            println!("{:<5} {command}", o.verdict);
            for w in why {
                println!("        {w}");
            }
            println!("        effects: {}", effects.join(", "));
        }
    }
    println!();
    for (p, (a, t)) in &per_program {
        if a < t {
            println!("{p}: {a}/{t} allowed");
        }
    }
    println!(
        "allowed {allowed} of {total} ({:.1}%)",
        100.0 * allowed as f64 / total.max(1) as f64
    );
}
