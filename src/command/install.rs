//! `mandate install|uninstall <assistant>`: persistent hook configuration for people who
//! do not use `mandate run`, recorded so that `uninstall` removes exactly what was added.
//! The merge itself is `mandate_adapters::install`; this module reads and writes the
//! settings file and the record.

use std::path::{Path, PathBuf};

use mandate_adapters::install::{self as merge, Leftover};
use mandate_adapters::{Assistant, Scope};
use mandate_broker::config;
use serde_json::Value;

use crate::cli::InstallScope;
use crate::exit::{CliError, CliResult, Exit};
use crate::paths::home;

/// A record of what `mandate install` wrote, so `uninstall` removes exactly that.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Installs {
    entries: Vec<Record>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    assistant: String,
    path: PathBuf,
    hooks: Vec<(String, Value)>,
}

/// Where one install goes: the assistant, its settings file and our record of installs.
struct Target {
    assistant: Assistant,
    path: PathBuf,
    record_path: PathBuf,
    record: Installs,
}

impl Target {
    fn new(dir: &Path, assistant: &str, scope: InstallScope) -> CliResult<Self> {
        let Some(a) = Assistant::parse(assistant) else {
            return Err(CliError::Failed(format!(
                "unknown assistant {assistant:?}; use claude, cursor, gemini, codex or copilot"
            )));
        };
        let project = std::env::current_dir().map_err(CliError::io("the current directory"))?;
        let scope = match scope {
            InstallScope::User => Scope::User,
            InstallScope::Project => Scope::Project,
        };
        config::ensure_data_dir(dir)?;
        let record_path = dir.join("installs.json");
        let record = std::fs::read_to_string(&record_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        Ok(Self {
            assistant: a,
            path: a.adapter().settings_path(scope, &home(), &project),
            record_path,
            record,
        })
    }

    /// The settings file's text, `None` if there is no such file.
    fn read_settings(&self) -> CliResult<Option<String>> {
        match std::fs::read_to_string(&self.path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::io(self.path.display().to_string())(e)),
        }
    }

    fn write(&self, path: &Path, text: &str) -> CliResult<()> {
        std::fs::write(path, text).map_err(CliError::io(path.display().to_string()))
    }

    fn save_record(&self) -> CliResult<()> {
        self.write(
            &self.record_path,
            &serde_json::to_string_pretty(&self.record)?,
        )
    }
}

/// `mandate install`.
pub fn install(dir: &Path, assistant: &str, scope: InstallScope) -> CliResult {
    let mut t = Target::new(dir, assistant, scope)?;
    let a = t.assistant;
    let existing = t.read_settings()?;
    let exe = std::env::current_exe().map_err(CliError::io("finding the mandate binary"))?;
    let done = merge::add(
        a.adapter(),
        &t.path,
        existing.as_deref(),
        &crate::paths::hook_binary(&exe),
    )?;
    if let Some(parent) = t.path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::io(parent.display().to_string()))?;
    }
    t.write(&t.path, &done.text)?;
    let path = t.path.clone();
    t.record
        .entries
        .retain(|i| !(i.assistant == a.name() && i.path == path));
    t.record.entries.push(Record {
        assistant: a.name().into(),
        path: path.clone(),
        hooks: done.entries,
    });
    t.save_record()?;
    out!(
        "{} {} hooks in {}",
        if done.changed {
            "installed"
        } else {
            "already installed:"
        },
        a,
        path.display()
    );
    out!(
        "The hooks deny every action until a task token is set: export MANDATE_TOKEN from `mandate task start`."
    );
    Ok(Exit::Success)
}

/// `mandate uninstall`.
pub fn uninstall(dir: &Path, assistant: &str, scope: InstallScope) -> CliResult {
    let mut t = Target::new(dir, assistant, scope)?;
    let a = t.assistant;
    let Some(pos) = t
        .record
        .entries
        .iter()
        .position(|i| i.assistant == a.name() && i.path == t.path)
    else {
        out!(
            "nothing to remove: mandate did not install {a} hooks in {}",
            t.path.display()
        );
        return Ok(Exit::Success);
    };
    let existing = t.read_settings()?;
    let done = merge::remove(
        a.adapter(),
        &t.path,
        existing.as_deref(),
        &t.record.entries[pos].hooks,
    )?;
    t.record.entries.remove(pos);
    match &done.file {
        Leftover::Delete => {
            let _ = std::fs::remove_file(&t.path);
        }
        Leftover::Text(text) => t.write(&t.path, text)?,
    }
    t.save_record()?;
    out!(
        "removed {} {a} hook entries from {}",
        done.removed,
        t.path.display()
    );
    Ok(Exit::Success)
}
