//! `mandate run --sandbox`: what the kernel offers, the plan the supervisor enforces,
//! and the bridge from the sandbox's network namespace to the egress proxy.

use std::path::{Path, PathBuf};

use mandate_adapters::{Assistant, Scope};
use mandate_analysis::{HOME_SECRETS, SensitivePaths};
use mandate_sandbox::{NetworkPlan, Plan, PlanInputs, Support};
use mandate_types::api::ProxyInfo;
use mandate_types::{Label, SandboxLayers};

use crate::cli::SandboxMode;
use crate::exit::{CliError, CliResult};

/// The loopback port the proxy is reached at inside the sandbox's namespace.
const INNER_PROXY_PORT: u16 = 7879;

/// The assistants' own state, which they write while they run.
const ASSISTANT_STATE: &[&str] = &[".claude", ".gemini", ".codex", ".cursor", ".copilot"];

/// The state directory of `assistant` under the home directory.
fn state_dir(assistant: Assistant) -> &'static str {
    match assistant {
        Assistant::Claude => ".claude",
        Assistant::Cursor => ".cursor",
        Assistant::Gemini => ".gemini",
        Assistant::Codex => ".codex",
        Assistant::Copilot => ".copilot",
    }
}

/// The layers this kernel gives, or why the sandbox cannot start.
pub fn layers(mode: SandboxMode) -> CliResult<SandboxLayers> {
    let support = Support::probe();
    let best_effort = mode == SandboxMode::BestEffort;
    let layers = support.layers(best_effort).map_err(|e| {
        CliError::Refused(format!(
            "the sandbox cannot start: {e}. Run without --sandbox, or with --sandbox=best-effort to accept fewer layers (every record of the task will say which held)"
        ))
    })?;
    for m in support.missing() {
        eprintln!("mandate: sandbox (best effort): without {m}");
    }
    Ok(layers)
}

/// A sandbox made ready for one session: its plan on disk, its temp dir, the bridge.
pub struct Prepared {
    pub plan_file: PathBuf,
    /// The task's temp dir (`TMPDIR`), removed when the session ends.
    pub temp: tempfile::TempDir,
    /// The proxy as the sandboxed processes reach it.
    pub proxy: Option<ProxyInfo>,
}

/// What a session's sandbox needs beyond its layers.
pub struct Session<'a> {
    pub task: &'a mandate_types::TaskId,
    /// The program run (as given: a name on PATH or a path).
    pub program: &'a str,
    pub assistant: Option<Assistant>,
    pub dir: &'a Path,
    pub session: &'a Path,
    pub repo: &'a Path,
    pub exe: &'a Path,
    pub proxy: Option<&'a ProxyInfo>,
    pub policy_dir: Option<PathBuf>,
}

/// Variables naming toolchain installations.
const TOOLCHAIN_VARS: &[&str] = &[
    "RUSTUP_HOME",
    "CARGO_HOME",
    "PYENV_ROOT",
    "NVM_DIR",
    "VOLTA_HOME",
    "GOROOT",
    "GOPATH",
    "JAVA_HOME",
    "BUN_INSTALL",
    "DENO_INSTALL",
    "PNPM_HOME",
    "SDKMAN_DIR",
    "ASDF_DIR",
];

/// Where the user's toolchains are installed: each `PATH` directory (its parent when
/// it is a `bin` or `shims` directory, the installation's root: `~/.pyenv`,
/// `~/.cargo`), and the toolchain variables.
fn toolchains() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path).filter(|d| d.is_absolute() && d.is_dir()) {
            let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
            let root = match dir.file_name().and_then(|n| n.to_str()) {
                Some("bin" | "shims") => dir.parent().map(Path::to_path_buf).unwrap_or(dir),
                _ => dir,
            };
            // `/` or `/usr` as a "root" would be the whole system: the system trees
            // are granted on their own.
            if root.components().count() > 2 {
                out.push(root);
            }
        }
    }
    for var in TOOLCHAIN_VARS {
        if let Some(v) = std::env::var_os(var).map(PathBuf::from)
            && v.is_absolute()
            && v.is_dir()
        {
            out.push(v);
        }
    }
    // rustup's proxies need its home even when only CARGO_HOME is set.
    let home = crate::paths::home();
    if std::env::var_os("RUSTUP_HOME").is_none() && home.join(".rustup").is_dir() {
        out.push(home.join(".rustup"));
    }
    out
}

/// The directory the program is installed in (its real path's), readable and
/// executable inside the sandbox: an assistant installed with npm outside the system
/// and home trees still runs, its bundled helpers with it.
fn installation(program: &str) -> Option<PathBuf> {
    let path = if program.contains('/') {
        PathBuf::from(program)
    } else {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(program))
            .find(|p| p.is_file())?
    };
    std::fs::canonicalize(path)
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}

/// Writes the plan and starts the bridge to the proxy.
pub fn prepare(layers: SandboxLayers, s: &Session<'_>) -> CliResult<Prepared> {
    let home = crate::paths::home();
    // The assistant run keeps its state in its own directory: made here when missing,
    // as the assistant would, since the sandbox leaves the home directory read-only.
    if let Some(a) = s.assistant {
        let dir = home.join(state_dir(a));
        std::fs::create_dir_all(&dir).map_err(CliError::io(dir.display().to_string()))?;
    }
    let temp = tempfile::Builder::new()
        .prefix("mandate-task-")
        .tempdir()
        .map_err(CliError::io("creating the task's temp dir"))?;
    let network = match (layers.network, s.proxy) {
        (true, Some(p)) => {
            let socket = s.session.join("proxy.sock");
            mandate_sandbox::net::serve_unix_to_tcp(&socket, p.listen.clone())
                .map_err(CliError::io(socket.display().to_string()))?;
            let resolv_conf = s.session.join("resolv.conf");
            std::fs::write(
                &resolv_conf,
                "# Mandate's sandbox: names are answered only for hosts the task may reach.\nnameserver 127.0.0.1\noptions timeout:2 attempts:1\n",
            )
            .map_err(CliError::io(resolv_conf.display().to_string()))?;
            Some(NetworkPlan {
                proxy_socket: socket,
                proxy_port: INNER_PROXY_PORT,
                resolv_conf,
            })
        }
        (true, None) => {
            eprintln!(
                "mandate: the broker runs no egress proxy: the sandbox's network has no way out at all"
            );
            None
        }
        (false, _) => None,
    };
    let sensitive = SensitivePaths::builtin();
    let is_sensitive = |p: &Path| {
        let labels = sensitive.labels(&p.to_string_lossy());
        labels.contains(Label::Secret) || labels.contains(Label::Credential)
    };
    let mut hook_configs = Vec::new();
    for a in Assistant::ALL {
        for scope in [Scope::User, Scope::Project] {
            let path = a.adapter().settings_path(scope, &home, s.repo);
            if let Some(parent) = path.parent() {
                // Claude Code's local settings sit beside its shared ones.
                hook_configs.push(parent.join("settings.local.json"));
            }
            hook_configs.push(path);
        }
    }
    let mut protected = vec![s.dir.to_path_buf()];
    protected.extend(s.policy_dir.clone());
    let plan = Plan::build(&PlanInputs {
        task: s.task.clone(),
        repo: s.repo.to_path_buf(),
        temp: temp.path().to_path_buf(),
        home: home.clone(),
        protected,
        home_credentials: HOME_SECRETS.iter().map(|s| (*s).to_owned()).collect(),
        hook_configs,
        assistant_state: ASSISTANT_STATE.iter().map(|d| home.join(d)).collect(),
        executables: [s.exe.to_path_buf(), crate::paths::hook_binary(s.exe)]
            .into_iter()
            .chain(installation(s.program))
            .collect(),
        toolchains: toolchains(),
        is_sensitive: &is_sensitive,
        layers,
        network,
    })
    .map_err(|e| CliError::Refused(format!("the sandbox cannot start: {e}")))?;
    let plan_file = s.session.join("sandbox-plan.json");
    let text = serde_json::to_string_pretty(&plan)
        .map_err(|e| CliError::Failed(format!("writing the sandbox plan: {e}")))?;
    std::fs::write(&plan_file, text).map_err(CliError::io(plan_file.display().to_string()))?;
    eprintln!(
        "mandate: sandbox: {layers}; writable: {}",
        plan.write
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let proxy = s.proxy.map(|p| ProxyInfo {
        listen: if plan.network.is_some() {
            format!("127.0.0.1:{INNER_PROXY_PORT}")
        } else {
            p.listen.clone()
        },
        ca_cert: p.ca_cert.clone(),
    });
    Ok(Prepared {
        plan_file,
        temp,
        proxy,
    })
}
