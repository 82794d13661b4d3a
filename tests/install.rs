//! `mandate install` / `uninstall` against the user's own settings files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

mod common;

use std::path::Path;
use std::process::Output;

use common::mandate;

fn install(data: &Path, project: &Path, assistant: &str, verb: &str) -> Output {
    mandate(data)
        .args([verb, assistant, "--scope", "project"])
        .current_dir(project)
        .output()
        .expect("run mandate")
}

#[test]
fn a_settings_file_that_cannot_be_merged_is_refused_and_left_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    for (assistant, rel) in [
        ("claude", ".claude/settings.json"),
        ("gemini", ".gemini/settings.json"),
        ("cursor", ".cursor/hooks.json"),
    ] {
        for content in ["[]", "\"x\"", "{\"hooks\": ", "42\n", "null"] {
            let project = tmp.path().join(format!("p-{assistant}-{}", content.len()));
            let path = project.join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, content).expect("write");
            for verb in ["install", "uninstall"] {
                let out = install(&data, &project, assistant, verb);
                let err = String::from_utf8_lossy(&out.stderr);
                if verb == "install" {
                    assert!(!out.status.success(), "{assistant} {content:?}: {err}");
                    assert!(
                        err.contains(&path.display().to_string()) && err.contains("not changed"),
                        "{assistant} {content:?}: the error names the file and says it was left alone: {err}"
                    );
                }
                assert_eq!(
                    std::fs::read_to_string(&path).expect("read"),
                    content,
                    "{assistant} {verb} {content:?} changed the file"
                );
            }
        }
    }
}

#[test]
fn install_then_uninstall_keeps_the_users_own_settings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let project = tmp.path().join("p");
    let path = project.join(".claude/settings.json");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mine = r#"{"theme": "dark", "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "mine"}]}]}}"#;
    std::fs::write(&path, mine).expect("write");
    assert!(
        install(&data, &project, "claude", "install")
            .status
            .success()
    );
    let installed = std::fs::read_to_string(&path).expect("read");
    assert!(installed.contains("hook claude") && installed.contains("mine"));
    assert!(
        install(&data, &project, "claude", "uninstall")
            .status
            .success()
    );
    let after: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let before: serde_json::Value = serde_json::from_str(mine).expect("json");
    assert_eq!(after, before);
}
