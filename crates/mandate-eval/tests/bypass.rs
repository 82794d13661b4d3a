//! The bypass suite (`tests/bypass/`): single-step attacks under the `develop` profile
//! that must be stopped (ask or deny), and ordinary coding commands that must be allowed.
//!
//! Every attack file (`01-…` to `08-…`) holds cases that expect `["ask", "deny"]`;
//! `benign.json` holds cases that expect `allow`. The test runs every case through the real
//! analysis and policy (the golden runner) and fails listing each case that is not as
//! expected, grouped by file, with the decision, reasons and effects, after a per-file
//! summary. With `MANDATE_BYPASS_BASELINE=path` set it also writes the results as
//! Markdown to that path (that is how `tests/bypass/BASELINE.md` is made).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use mandate_broker::config::build_engine;
use mandate_eval::golden::{Case, CaseResult, Expect, Scratch, load_corpus, run_corpus};
use mandate_types::Verdict;

const BENIGN: &str = "benign.json";
const MIN_ATTACKS: usize = 360;
const MIN_BENIGN: usize = 170;

fn is_attack_expectation(e: &Expect) -> bool {
    match e {
        Expect::One(v) => *v != Verdict::Allow,
        Expect::Any(vs) => !vs.is_empty() && !vs.contains(&Verdict::Allow),
    }
}

fn is_benign_expectation(e: &Expect) -> bool {
    match e {
        Expect::One(v) => *v == Verdict::Allow,
        Expect::Any(vs) => vs == &[Verdict::Allow],
    }
}

fn command(case: &Case) -> String {
    let a = &case.action;
    a.shell
        .clone()
        .or_else(|| a.read.as_ref().map(|p| format!("(read) {p}")))
        .or_else(|| a.write.as_ref().map(|p| format!("(write) {p}")))
        .or_else(|| a.fetch.as_ref().map(|u| format!("(fetch) {u}")))
        .or_else(|| a.mcp.as_ref().map(|t| format!("(mcp) {t}")))
        .unwrap_or_default()
}

fn verdict(r: &CaseResult) -> &'static str {
    r.verdict.map_or("error", Verdict::as_str)
}

fn list(xs: &[String]) -> String {
    if xs.is_empty() {
        "none".into()
    } else {
        xs.join(", ")
    }
}

/// Per file: how many cases, stopped (ask or deny), allowed, and not decided (setup errors).
#[derive(Default)]
struct Tally {
    total: usize,
    stopped: usize,
    allowed: usize,
    errors: usize,
}

fn markdown_code(s: &str) -> String {
    // Inline code that survives backticks and pipes inside the command.
    let fence = if s.contains("``") {
        "```"
    } else if s.contains('`') {
        "``"
    } else {
        "`"
    };
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{}{pad}{fence}", s.replace('\n', "⏎"))
}

fn baseline(
    cases: &[(String, Case)],
    results: &[CaseResult],
    tallies: &BTreeMap<String, Tally>,
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Bypass suite: baseline\n");
    let _ = writeln!(
        md,
        "Made by `MANDATE_BYPASS_BASELINE=$PWD/tests/bypass/BASELINE.md cargo test -p mandate-eval --test bypass`.\n\
         Every attack case runs under the `develop` profile in a scratch repository holding `.env`,\n\
         on branch `mandate/fix` with `origin` = `https://github.com/acme/app.git`, and must be stopped\n\
         (ask or deny); every case of `benign.json` must be allowed.\n"
    );
    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(md, "| file | cases | stopped | allowed | errors |");
    let _ = writeln!(md, "|---|---:|---:|---:|---:|");
    let (mut at, mut ast, mut aal) = (0, 0, 0);
    for (file, t) in tallies {
        let _ = writeln!(
            md,
            "| {file} | {} | {} | {} | {} |",
            t.total, t.stopped, t.allowed, t.errors
        );
        if file != BENIGN {
            at += t.total;
            ast += t.stopped;
            aal += t.allowed;
        }
    }
    let _ = writeln!(md, "\nAttacks: {ast}/{at} stopped, {aal}/{at} allowed.\n");
    let mut why: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results.iter().filter(|r| r.file != BENIGN) {
        if matches!(r.verdict, Some(Verdict::Ask | Verdict::Deny)) {
            let ids: BTreeSet<&str> = r.reasons.iter().map(String::as_str).collect();
            for id in ids {
                *why.entry(id).or_default() += 1;
            }
        }
    }
    let _ = writeln!(
        md,
        "Reasons among the {ast} stopped attacks (attacks whose decision names the policy):\n"
    );
    let _ = writeln!(md, "| policy | attacks |");
    let _ = writeln!(md, "|---|---:|");
    let mut why: Vec<(&str, usize)> = why.into_iter().collect();
    why.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (id, n) in why {
        let _ = writeln!(md, "| {id} | {n} |");
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "## Attacks that get through\n");
    for file in tallies.keys().filter(|f| f.as_str() != BENIGN) {
        let through: Vec<usize> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| &r.file == file && !r.passed)
            .map(|(i, _)| i)
            .collect();
        let _ = writeln!(md, "### {file} ({} through)\n", through.len());
        for i in through {
            let r = &results[i];
            let _ = writeln!(
                md,
                "- **{}**: {} → {} (effects: {}{})",
                r.name,
                markdown_code(&command(&cases[i].1)),
                verdict(r),
                list(&r.effects),
                if r.verdict.is_none() {
                    format!("; {}", r.detail)
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md, "## Benign commands that are not allowed\n");
    let mut any = false;
    for (i, r) in results.iter().enumerate() {
        if r.file == BENIGN && !r.passed {
            any = true;
            let _ = writeln!(
                md,
                "- **{}**: {} → {} (reasons: {}; effects: {}{})",
                r.name,
                markdown_code(&command(&cases[i].1)),
                verdict(r),
                list(&r.reasons),
                list(&r.effects),
                if r.verdict.is_none() {
                    format!("; {}", r.detail)
                } else {
                    String::new()
                }
            );
        }
    }
    if !any {
        let _ = writeln!(md, "None.");
    }
    md
}

#[test]
fn bypass_suite() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bypass");
    let cases = load_corpus(&dir).expect("suite loads");

    // The suite's own shape: attacks expect a stop, benign cases expect allow.
    let mut shape = Vec::new();
    let mut names: BTreeSet<(&str, &str)> = BTreeSet::new();
    let (mut attacks, mut benign) = (0, 0);
    for (file, case) in &cases {
        if !names.insert((file, &case.name)) {
            shape.push(format!("{file}: duplicate name {:?}", case.name));
        }
        if file == BENIGN {
            benign += 1;
            if !is_benign_expectation(&case.expect) {
                shape.push(format!("{file} / {}: benign cases expect allow", case.name));
            }
        } else {
            attacks += 1;
            if case.profile != "develop" || !is_attack_expectation(&case.expect) {
                shape.push(format!(
                    "{file} / {}: attack cases run under develop and expect ask or deny",
                    case.name
                ));
            }
        }
    }
    assert!(shape.is_empty(), "malformed suite:\n{}", shape.join("\n"));
    assert!(
        attacks >= MIN_ATTACKS,
        "at least {MIN_ATTACKS} attacks, found {attacks}"
    );
    assert!(
        benign >= MIN_BENIGN,
        "at least {MIN_BENIGN} benign cases, found {benign}"
    );

    let (scratch, env) = Scratch::new().expect("scratch");
    let engine = build_engine(None, env).expect("builtin policy compiles");
    let results = run_corpus(&cases, &engine, &scratch);

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        let t = tallies.entry(r.file.clone()).or_default();
        t.total += 1;
        match r.verdict {
            Some(Verdict::Allow) => t.allowed += 1,
            Some(_) => t.stopped += 1,
            None => t.errors += 1,
        }
        if !r.passed {
            failures.entry(&r.file).or_default().push(format!(
                "  {}\n      $ {}\n      → {} (reasons: {}; effects: {}){}",
                r.name,
                command(&cases[i].1),
                verdict(r),
                list(&r.reasons),
                list(&r.effects),
                if r.verdict.is_none() {
                    format!("\n      {}", r.detail)
                } else {
                    String::new()
                }
            ));
        }
    }

    let mut summary = format!("{:<36} stopped/total  allowed/total\n", "file");
    for (file, t) in &tallies {
        let _ = writeln!(
            summary,
            "{file:<36} {:>7}/{:<5}  {:>7}/{:<5}{}",
            t.stopped,
            t.total,
            t.allowed,
            t.total,
            if t.errors > 0 {
                format!("  ({} setup errors)", t.errors)
            } else {
                String::new()
            }
        );
    }
    println!("{summary}");

    if let Ok(path) = std::env::var("MANDATE_BYPASS_BASELINE") {
        std::fs::write(&path, baseline(&cases, &results, &tallies)).expect("baseline written");
    }

    let count: usize = failures.values().map(Vec::len).sum();
    let mut report = String::new();
    for (file, fs) in &failures {
        let _ = writeln!(report, "{file} ({} not as expected):", fs.len());
        for f in fs {
            let _ = writeln!(report, "{f}");
        }
    }
    assert!(
        failures.is_empty(),
        "{count} cases not as expected\n\n{summary}\n{report}"
    );
}
