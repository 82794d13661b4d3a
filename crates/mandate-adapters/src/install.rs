//! `mandate install` and `mandate uninstall` as pure functions over a settings file's
//! text: add Mandate's hook entries to it, or remove exactly the entries added, keeping
//! everything else of the user's. The caller reads and writes the file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::adapter::Adapter;
use crate::hook_config::{add_entries, remove_entries};

/// A settings file that cannot be merged into safely. The caller leaves it as it is; the
/// message names the file and says so.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The file is not JSON.
    #[error(
        "{} is not valid JSON ({detail}); fix or move it, then run this again. It was not changed.",
        .path.display()
    )]
    NotJson {
        /// The settings file.
        path: PathBuf,
        /// What the JSON parser said.
        detail: String,
    },
    /// The file is JSON but not an object (`[]`, `"x"`, `42`, `null`), so there is no
    /// place for hooks in it.
    #[error(
        "{} holds JSON that is not an object, so hooks cannot be added to it safely; fix or move it, then run this again. It was not changed.",
        .path.display()
    )]
    NotAnObject {
        /// The settings file.
        path: PathBuf,
    },
}

/// What `mandate install` makes of a settings file.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    /// The file's new text: the document, pretty-printed, with a final newline.
    pub text: String,
    /// The `(event, entry)` pairs installed; [`remove`] takes exactly these back out.
    pub entries: Vec<(String, Value)>,
    /// Whether any entry was missing (false: all were installed already).
    pub changed: bool,
}

/// What is left of a settings file after `mandate uninstall`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// The file's new text.
    Text(String),
    /// Nothing of the user's is left (at most the assistant's settings defaults): delete
    /// the file.
    Delete,
}

/// What `mandate uninstall` makes of a settings file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// What to do with the file.
    pub file: Leftover,
    /// How many entries were removed.
    pub removed: usize,
}

/// The settings document in `text`; an empty one when there is no file or only
/// whitespace in it.
fn document(path: &Path, text: Option<&str>) -> Result<Map<String, Value>, InstallError> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Map::new());
    };
    match serde_json::from_str(text) {
        Ok(Value::Object(doc)) => Ok(doc),
        Ok(_) => Err(InstallError::NotAnObject {
            path: path.to_owned(),
        }),
        Err(e) => Err(InstallError::NotJson {
            path: path.to_owned(),
            detail: e.to_string(),
        }),
    }
}

fn pretty(doc: &Value) -> String {
    format!("{doc:#}\n")
}

/// Adds the hooks that run `exe` to the settings file at `path`, whose text is `existing`
/// (`None` when there is no file), with the assistant's settings defaults where missing.
pub fn add(
    adapter: &dyn Adapter,
    path: &Path,
    existing: Option<&str>,
    exe: &Path,
) -> Result<Installed, InstallError> {
    let mut doc = document(path, existing)?;
    for (key, value) in adapter.settings_defaults() {
        doc.entry(key).or_insert(value);
    }
    let mut doc = Value::Object(doc);
    let entries = adapter.install_entries(exe);
    let changed = add_entries(&mut doc, &entries);
    Ok(Installed {
        text: pretty(&doc),
        entries,
        changed,
    })
}

/// Removes exactly `entries` (what [`add`] returned) from the settings file at `path`,
/// whose text is `existing` (`None` when there is no file).
pub fn remove(
    adapter: &dyn Adapter,
    path: &Path,
    existing: Option<&str>,
    entries: &[(String, Value)],
) -> Result<Removed, InstallError> {
    let mut doc = Value::Object(document(path, existing)?);
    let removed = remove_entries(&mut doc, entries);
    let file = match &doc {
        Value::Object(o) if adapter.is_leftover(o) => Leftover::Delete,
        _ => Leftover::Text(pretty(&doc)),
    };
    Ok(Removed { file, removed })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::adapter::{RunWiring, Scope};
    use crate::event::{AdapterError, Answer, Event, HookOutput};

    /// An assistant whose settings file may need a `"version"`.
    struct Fake {
        versioned: bool,
    }

    impl Adapter for Fake {
        fn name(&self) -> &'static str {
            "fake"
        }
        fn agent_name(&self) -> &'static str {
            "fake-cli"
        }
        fn programs(&self) -> &'static [&'static str] {
            &["fake"]
        }
        fn parse(&self, _: &Value) -> Result<Event, AdapterError> {
            Ok(Event::Ignored("fake".into()))
        }
        fn tools(&self) -> &'static [(&'static str, crate::ToolKind)] {
            &[]
        }
        fn is_mcp_tool(&self, _: &str) -> bool {
            false
        }
        fn render(&self, _: &str, _: &Answer) -> HookOutput {
            HookOutput::default()
        }
        fn run_wiring(&self, _: &Path, _: &Path) -> RunWiring {
            RunWiring::default()
        }
        fn settings_path(&self, _: Scope, home: &Path, _: &Path) -> PathBuf {
            home.join("fake.json")
        }
        fn install_entries(&self, exe: &Path) -> Vec<(String, Value)> {
            let cmd = format!("{} hook fake", exe.display());
            vec![
                ("Before".into(), json!({"command": cmd})),
                ("After".into(), json!({"command": cmd})),
            ]
        }
        fn settings_defaults(&self) -> Map<String, Value> {
            if self.versioned {
                Map::from_iter([("version".to_owned(), json!(1))])
            } else {
                Map::new()
            }
        }
    }

    const PLAIN: Fake = Fake { versioned: false };
    const VERSIONED: Fake = Fake { versioned: true };

    fn path() -> &'static Path {
        Path::new("/home/u/.fake/settings.json")
    }

    fn exe() -> &'static Path {
        Path::new("/opt/mandate")
    }

    fn json_of(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn what_cannot_be_merged_is_refused_with_the_file_named() {
        for content in ["[]", "\"x\"", "{\"hooks\": ", "42\n", "null"] {
            let err = add(&PLAIN, path(), Some(content), exe()).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.starts_with("/home/u/.fake/settings.json ")
                    && msg.ends_with("It was not changed."),
                "{content:?}: {msg}"
            );
            assert_eq!(
                remove(&PLAIN, path(), Some(content), &[]).unwrap_err(),
                err,
                "{content:?}"
            );
        }
        assert!(matches!(
            add(&PLAIN, path(), Some("{\"hooks\": "), exe()),
            Err(InstallError::NotJson { .. })
        ));
        assert!(matches!(
            add(&PLAIN, path(), Some("[]"), exe()),
            Err(InstallError::NotAnObject { .. })
        ));
    }

    #[test]
    fn no_file_or_a_blank_one_starts_a_new_document() {
        for existing in [None, Some(""), Some("  \n")] {
            let done = add(&PLAIN, path(), existing, exe()).unwrap();
            assert!(done.changed);
            assert_eq!(done.entries, PLAIN.install_entries(exe()));
            assert_eq!(
                json_of(&done.text),
                json!({"hooks": {
                    "Before": [{"command": "/opt/mandate hook fake"}],
                    "After": [{"command": "/opt/mandate hook fake"}],
                }})
            );
        }
    }

    #[test]
    fn the_text_is_pretty_json_with_a_final_newline() {
        let done = add(&PLAIN, path(), Some(r#"{"theme":"dark"}"#), exe()).unwrap();
        let doc = json_of(&done.text);
        assert_eq!(
            done.text,
            serde_json::to_string_pretty(&doc).unwrap() + "\n"
        );
    }

    #[test]
    fn settings_defaults_are_added_but_never_overwritten() {
        let done = add(&VERSIONED, path(), None, exe()).unwrap();
        assert_eq!(json_of(&done.text)["version"], 1);
        let done = add(&VERSIONED, path(), Some(r#"{"version": 2}"#), exe()).unwrap();
        assert_eq!(json_of(&done.text)["version"], 2);
        let done = add(&PLAIN, path(), None, exe()).unwrap();
        assert!(json_of(&done.text).get("version").is_none());
    }

    #[test]
    fn installing_twice_changes_nothing() {
        let first = add(&VERSIONED, path(), Some(r#"{"theme": "dark"}"#), exe()).unwrap();
        let second = add(&VERSIONED, path(), Some(&first.text), exe()).unwrap();
        assert!(!second.changed);
        assert_eq!(second.text, first.text);
    }

    #[test]
    fn uninstall_removes_exactly_what_install_added() {
        let mine = r#"{"theme": "dark", "hooks": {"Before": [{"command": "mine"}]}}"#;
        for fake in [&PLAIN, &VERSIONED] {
            let done = add(fake, path(), Some(mine), exe()).unwrap();
            let undone = remove(fake, path(), Some(&done.text), &done.entries).unwrap();
            assert_eq!(undone.removed, 2);
            let Leftover::Text(text) = undone.file else {
                panic!("the user's settings are kept: {undone:?}")
            };
            let mut expected = json_of(mine);
            if fake.versioned {
                expected["version"] = json!(1);
            }
            assert_eq!(json_of(&text), expected);
        }
    }

    #[test]
    fn a_file_left_with_nothing_of_the_users_is_deleted() {
        for fake in [&PLAIN, &VERSIONED] {
            let done = add(fake, path(), None, exe()).unwrap();
            let undone = remove(fake, path(), Some(&done.text), &done.entries).unwrap();
            assert_eq!(
                undone,
                Removed {
                    file: Leftover::Delete,
                    removed: 2
                }
            );
        }
        assert_eq!(
            remove(&PLAIN, path(), None, &PLAIN.install_entries(exe())).unwrap(),
            Removed {
                file: Leftover::Delete,
                removed: 0
            },
            "no file: nothing to remove, nothing to keep"
        );
        // A "version" is the user's own where the assistant has no such default.
        let undone = remove(&PLAIN, path(), Some(r#"{"version": 1}"#), &[]).unwrap();
        assert_eq!(
            undone.file,
            Leftover::Text("{\n  \"version\": 1\n}\n".into())
        );
    }
}
