//! `mandate eval`: public corpora through the in-process decision pipeline.

use std::path::{Path, PathBuf};

use mandate_broker::config;
use mandate_eval::{corpus, table};

use super::configured_policy_dir;
use crate::cli::EvalArgs;
use crate::exit::{CliError, CliResult, Exit};

/// Evaluates the corpus files and checks the thresholds, if given.
pub fn eval(dir: &Path, args: EvalArgs, json: bool) -> CliResult {
    // A fixed, fictional machine: the corpora's paths must not meet this machine's files.
    let env = mandate_analysis::Environment {
        home: PathBuf::from("/home/user"),
        temp_dirs: vec![PathBuf::from("/tmp"), PathBuf::from("/var/tmp")],
        mandate_dirs: vec![PathBuf::from("/home/user/.local/share/mandate")],
    };
    let engine = config::build_engine(configured_policy_dir(dir).as_deref(), env)?;
    let started = std::time::Instant::now();
    let opts = corpus::EvalOptions {
        profile: args.profile,
        misses: args.misses,
    };
    let report = corpus::evaluate(&engine, &args.files, &opts)?;
    if json {
        out!("{}", serde_json::to_string(&report)?);
    } else {
        out!("{}", table::render(&report, args.misses).trim_end());
        eprintln!("evaluated in {:.1} s", started.elapsed().as_secs_f64());
    }
    if let Some(t) = args.thresholds {
        let failures = corpus::check_thresholds(&report, &corpus::load_thresholds(&t)?);
        if !failures.is_empty() {
            return Err(CliError::Failed(format!(
                "evaluation below thresholds ({}):\n{}",
                t.display(),
                failures.join("\n")
            )));
        }
    }
    Ok(Exit::Success)
}
