//! `mandate policy validate|test`: check policies without a running broker.

use std::path::{Path, PathBuf};

use mandate_broker::config;
use mandate_eval::golden;

use super::configured_policy_dir;
use crate::cli::PolicyCmd;
use crate::exit::{CliError, CliResult, Exit};
use crate::output::print_json;
use crate::paths::absolute;

/// Runs one policy subcommand.
pub fn policy(dir: &Path, cmd: PolicyCmd, json: bool) -> CliResult {
    match cmd {
        PolicyCmd::Validate { dir: pdir } => {
            let pdir = pdir
                .map(|p| absolute(&p))
                .or_else(|| configured_policy_dir(dir));
            validate(pdir.as_deref(), json)
        }
        PolicyCmd::Test { dir: cdir } => test(
            dir,
            &absolute(&cdir.unwrap_or_else(|| PathBuf::from("tests/policy"))),
            json,
        ),
    }
}

fn validate(pdir: Option<&Path>, json: bool) -> CliResult {
    let engine = config::build_engine(pdir, mandate_analysis::Environment::from_process())?;
    let p = engine.policy();
    if json {
        print_json(
            &serde_json::json!({"ok": true, "profiles": p.profile_names(), "hash": p.hash()}),
        )?;
    } else {
        let counts: Vec<String> = p
            .profile_names()
            .iter()
            .map(|n| {
                format!(
                    "{n} ({} policies)",
                    p.profile(n).map_or(0, |x| x.policy_count())
                )
            })
            .collect();
        out!("policy OK: {}; hash {}", counts.join(", "), p.hash());
    }
    Ok(Exit::Success)
}

fn test(dir: &Path, cdir: &Path, json: bool) -> CliResult {
    let cases = golden::load_corpus(cdir)?;
    let (scratch, env) =
        golden::Scratch::new().map_err(CliError::io("creating the scratch directory"))?;
    let engine = config::build_engine(configured_policy_dir(dir).as_deref(), env)?;
    let results = golden::run_corpus(&cases, &engine, &scratch);
    let failed: Vec<&golden::CaseResult> = results.iter().filter(|r| !r.passed).collect();
    if json {
        let v: Vec<serde_json::Value> = results
            .iter()
            .map(|r| serde_json::json!({"file": r.file, "name": r.name, "passed": r.passed, "detail": r.detail}))
            .collect();
        print_json(&v)?;
    } else {
        for r in &failed {
            out!("FAIL {} / {}: {}", r.file, r.name, r.detail);
        }
        out!(
            "{} cases, {} passed, {} failed ({})",
            results.len(),
            results.len() - failed.len(),
            failed.len(),
            cdir.display()
        );
    }
    Ok(if failed.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
