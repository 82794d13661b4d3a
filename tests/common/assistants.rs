//! Running the real assistant CLIs (pinned in `tests/e2e/package.json`) under
//! `mandate run`, offline, against the scripted model servers of [`super::fake`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed expectation is the test failing"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::fake::FakeModel;
use super::{bin, mandate, run, scratch_repo};

/// The pinned CLI `name` from `tests/e2e/node_modules/.bin` (or `$MANDATE_E2E_BIN_DIR`);
/// `None`, with a message, when it is not installed, except under CI, where that fails.
pub fn cli(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("MANDATE_E2E_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/node_modules/.bin")
        });
    let p = dir.join(name);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{} is missing; CI must install it (npm install --prefix tests/e2e)",
            p.display()
        );
    }
    eprintln!(
        "SKIP: {} not found; run `npm install --prefix tests/e2e` to run the real-assistant tests",
        p.display()
    );
    None
}

pub struct Session {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub data: PathBuf,
    pub repo: PathBuf,
    pub home: PathBuf,
}

/// A scratch repository, data directory and home for one assistant run.
pub fn session() -> Session {
    // Not under /tmp: Gemini CLI ignores configuration below world-writable directories.
    let base = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
        .join(".cache/mandate-e2e");
    std::fs::create_dir_all(&base).unwrap();
    let tmp = tempfile::tempdir_in(&base).unwrap();
    let root = mandate_analysis::resolve(tmp.path());
    let data = root.join("data");
    let repo = scratch_repo(&root);
    let home = root.join("home");
    std::fs::create_dir_all(&home).unwrap();
    Session {
        _tmp: tmp,
        root,
        data,
        repo,
        home,
    }
}

/// `mandate run` with a clean environment (no user config leaks in).
pub fn mandate_run(
    s: &Session,
    env: &[(&str, String)],
    args: &[&str],
    assistant: &[String],
) -> Output {
    let mut c = Command::new(bin());
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &s.home)
        .env("TERM", "dumb")
        .current_dir(&s.repo)
        .arg("--data-dir")
        .arg(&s.data)
        .arg("run")
        .args(args)
        .arg("--")
        .args(assistant);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Every audit record's body, with its kind.
pub fn audit_bodies(data: &Path) -> Vec<serde_json::Value> {
    let out = run(mandate(data).args(["audit", "tail", "-n", "10000", "--json"]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|r| {
            let mut b: serde_json::Value =
                serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            b["kind"] = r["kind"].clone();
            b
        })
        .collect()
}

/// The decision recorded for an action whose command or path contains `needle`.
pub fn decided(bodies: &[serde_json::Value], needle: &str) -> Vec<String> {
    bodies
        .iter()
        .filter(|b| b["kind"] == "decision" && b["action"].to_string().contains(needle))
        .map(|b| b["decision"].as_str().unwrap_or("").to_owned())
        .collect()
}

pub fn claude_env(fake: &FakeModel) -> Vec<(&'static str, String)> {
    vec![
        ("ANTHROPIC_BASE_URL", fake.base.clone()),
        ("ANTHROPIC_AUTH_TOKEN", "fake-token".into()),
        ("DISABLE_TELEMETRY", "1".into()),
        ("DISABLE_ERROR_REPORTING", "1".into()),
        ("DISABLE_AUTOUPDATER", "1".into()),
        ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
        ("CLAUDE_CODE_DISABLE_TERMINAL_TITLE", "1".into()),
        ("API_TIMEOUT_MS", "20000".into()),
        ("CLAUDE_CODE_MAX_RETRIES", "0".into()),
    ]
}

pub fn claude_args(claude: &Path) -> Vec<String> {
    [
        claude.to_str().unwrap(),
        "-p",
        "do the task",
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        "claude-sonnet-4-5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

pub fn codex_home(s: &Session, base: &str) -> PathBuf {
    let home = s.root.join("codex-home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "model = \"gpt-5\"\nmodel_provider = \"fake\"\napproval_policy = \"never\"\nsandbox_mode = \"danger-full-access\"\n\
             [model_providers.fake]\nname = \"fake\"\nbase_url = \"{base}/v1\"\nwire_api = \"responses\"\nenv_key = \"FAKE_KEY\"\n\
             request_max_retries = 0\nstream_max_retries = 0\n[features]\nhooks = true\n"
        ),
    )
    .unwrap();
    home
}

/// `mandate run -- codex exec …` against a fake Responses API.
pub fn run_codex(s: &Session, codex: &Path, fake: &FakeModel) -> Output {
    let home = codex_home(s, &fake.base);
    let env = vec![
        ("CODEX_HOME", home.to_string_lossy().into_owned()),
        ("FAKE_KEY", "fake".to_owned()),
    ];
    let args: Vec<String> = [
        codex.to_str().unwrap(),
        "exec",
        "--skip-git-repo-check",
        "--json",
        "do the task",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    mandate_run(s, &env, &[], &args)
}
