//! The hook configuration the adapters write: the command line that runs the hook, and
//! the merge of hook entries into (and out of) an assistant's event → entries map.

use std::path::Path;

use serde_json::{Value, json};

/// Seconds an assistant waits for the hook before giving up. Generous, because most
/// assistants treat a timed-out hook as "go on": the hook's own deadline (2 s by default)
/// is what bounds a decision, and it always answers with a denial.
pub const HOOK_TIMEOUT_SECS: u64 = 30;

/// The top-level key that holds the event → entries map in every assistant's settings
/// file (and in the documents `mandate run` passes them).
pub const HOOKS_KEY: &str = "hooks";

/// The shell command line that runs `mandate hook <assistant>` with the binary at `exe`.
pub fn hook_command(exe: &Path, assistant: &str) -> String {
    format!("{} hook {assistant}", shell_quote(&exe.to_string_lossy()))
}

/// Single-quotes a word for `sh -c`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The `(event, entry)` pairs of an event → entries map.
pub fn entries_of(hooks: &Value) -> Vec<(String, Value)> {
    hooks
        .as_object()
        .map(|m| {
            m.iter()
                .flat_map(|(k, v)| {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .map(move |e| (k.clone(), e.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds entries to a settings document (creating the `hooks` map as needed); entries
/// already present are not duplicated. Returns whether anything changed. A document, hooks
/// map or event list of the wrong JSON type is replaced only where it is ours to create;
/// callers refuse documents that are not objects before calling this.
pub fn add_entries(doc: &mut Value, entries: &[(String, Value)]) -> bool {
    let Some(root) = doc.as_object_mut() else {
        return false;
    };
    let hooks = root.entry(HOOKS_KEY).or_insert_with(|| json!({}));
    if !hooks.is_object() {
        *hooks = json!({});
    }
    let Some(hooks) = hooks.as_object_mut() else {
        return false;
    };
    let mut changed = false;
    for (event, entry) in entries {
        let list = hooks.entry(event.clone()).or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        if let Some(arr) = list.as_array_mut()
            && !arr.contains(entry)
        {
            arr.push(entry.clone());
            changed = true;
        }
    }
    changed
}

/// Removes exactly the given entries; drops event lists and the hooks map when they
/// become empty. Returns how many entries were removed.
pub fn remove_entries(doc: &mut Value, entries: &[(String, Value)]) -> usize {
    let mut removed = 0;
    let Some(hooks) = doc.get_mut(HOOKS_KEY).and_then(|h| h.as_object_mut()) else {
        return 0;
    };
    for (event, entry) in entries {
        if let Some(arr) = hooks.get_mut(event).and_then(|l| l.as_array_mut()) {
            let before = arr.len();
            arr.retain(|e| e != entry);
            removed += before - arr.len();
            if arr.is_empty() {
                hooks.remove(event);
            }
        }
    }
    if hooks.is_empty()
        && let Some(o) = doc.as_object_mut()
    {
        o.remove(HOOKS_KEY);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(shell_quote("/usr/bin/mandate"), "/usr/bin/mandate");
        assert_eq!(shell_quote("/a b/it's"), r"'/a b/it'\''s'");
    }
}
