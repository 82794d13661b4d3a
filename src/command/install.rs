//! `mandate install|uninstall <assistant>`: persistent hook configuration for people who
//! do not use `mandate run`, recorded so that `uninstall` removes exactly what was added.

use std::path::{Path, PathBuf};

use mandate_adapters::{Assistant, Scope, add_entries, remove_entries};
use mandate_broker::config;
use serde_json::Value;

use crate::cli::InstallScope;
use crate::exit::{CliError, CliResult, Exit};
use crate::paths::home;

/// A record of what `mandate install` wrote, so `uninstall` removes exactly that.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Installs {
    entries: Vec<Installed>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Installed {
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

    /// The settings document, `None` if the file does not exist or is empty. A file we
    /// cannot merge into safely (not JSON, or JSON that is not an object) is refused and
    /// left as it is.
    fn read_settings(&self) -> CliResult<Option<Value>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CliError::io(self.path.display().to_string())(e)),
        };
        if text.trim().is_empty() {
            return Ok(None);
        }
        let doc: Value = serde_json::from_str(&text).map_err(|e| {
            CliError::Failed(format!(
                "{} is not valid JSON ({e}); fix or move it, then run this again. It was not changed.",
                self.path.display()
            ))
        })?;
        if !doc.is_object() {
            return Err(CliError::Failed(format!(
                "{} holds JSON that is not an object, so hooks cannot be added to it safely; \
                 fix or move it, then run this again. It was not changed.",
                self.path.display()
            )));
        }
        Ok(Some(doc))
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
    let mut doc = t.read_settings()?.unwrap_or_else(|| serde_json::json!({}));
    let exe = std::env::current_exe().map_err(CliError::io("finding the mandate binary"))?;
    let entries = a.adapter().install_entries(&exe);
    if let Some(root) = doc.as_object_mut() {
        for (key, value) in a.adapter().settings_defaults() {
            root.entry(key).or_insert(value);
        }
    }
    let changed = add_entries(&mut doc, &entries);
    if let Some(parent) = t.path.parent() {
        std::fs::create_dir_all(parent).map_err(CliError::io(parent.display().to_string()))?;
    }
    t.write(&t.path, &(serde_json::to_string_pretty(&doc)? + "\n"))?;
    let path = t.path.clone();
    t.record
        .entries
        .retain(|i| !(i.assistant == a.name() && i.path == path));
    t.record.entries.push(Installed {
        assistant: a.name().into(),
        path: path.clone(),
        hooks: entries,
    });
    t.save_record()?;
    out!(
        "{} {} hooks in {}",
        if changed {
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
    let mut doc = t.read_settings()?.unwrap_or_else(|| serde_json::json!({}));
    let installed = t.record.entries.remove(pos);
    let removed = remove_entries(&mut doc, &installed.hooks);
    if doc.as_object().is_some_and(|o| a.adapter().is_leftover(o)) {
        let _ = std::fs::remove_file(&t.path);
    } else {
        t.write(&t.path, &(serde_json::to_string_pretty(&doc)? + "\n"))?;
    }
    t.save_record()?;
    out!(
        "removed {removed} {a} hook entries from {}",
        t.path.display()
    );
    Ok(Exit::Success)
}
