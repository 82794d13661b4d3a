//! `mandate run -- <assistant> ...`: run an assistant under a fresh task, with its hooks
//! injected for the session only, and end the task (revoking its token) when it exits.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mandate_adapters::{Assistant, RunWiring};
use mandate_broker::config::Overrides;
use mandate_client::Client;
use mandate_server::Running;
use mandate_types::api::{ProxyInfo, StartTaskRequest, StartedTask};
use mandate_types::{
    AgentId, BranchPattern, HostPattern, McpToolPattern, ProfileName, Purpose, SandboxLayers,
};
use tokio::runtime::Runtime;

use super::parse_all;
use crate::cli::RunArgs;
use crate::exit::{CliError, CliResult, Exit};
use crate::paths::abs_path;
use crate::signals::{Signal, Signals};

mod egress;
mod sandbox;

/// A broker running inside this process for the length of one session.
struct Embedded {
    rt: Runtime,
    running: Running,
}

impl Embedded {
    fn start(dir: &Path) -> CliResult<Self> {
        let o = Overrides {
            listen: Some("127.0.0.1:0".into()),
            policy_dir: None,
            // A free port: a session's own broker must not collide with a served one.
            proxy_listen: Some("127.0.0.1:0".into()),
        };
        let settings = super::settings(dir, &o)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(CliError::io("starting the async runtime"))?;
        let running = rt.block_on(mandate_server::launch(settings.clone()))?;
        eprintln!(
            "mandate: no broker was running; started one for this session (data dir {})",
            settings.data_dir.display()
        );
        Ok(Self { rt, running })
    }

    fn stop(self) {
        self.rt.block_on(self.running.stop());
    }
}

fn broker_is_up(socket: &Path) -> bool {
    Client::new(socket)
        .with_timeout(Duration::from_secs(2))
        .request("GET", "/healthz", None, &[])
        .map(|(s, _)| s == 200)
        .unwrap_or(false)
}

/// Runs an assistant under a fresh task; the exit status is the assistant's.
pub fn run(dir: &Path, args: RunArgs) -> CliResult {
    let program = args.command[0].clone();
    let assistant = Assistant::from_program(&program);
    let socket = dir.join("mandate.sock");
    let embedded = if broker_is_up(&socket) {
        None
    } else {
        Some(Embedded::start(dir)?)
    };
    let layers = match args.sandbox.map(sandbox::layers).transpose() {
        Ok(l) => l,
        Err(e) => {
            if let Some(b) = embedded {
                b.stop();
            }
            return Err(e);
        }
    };
    let client = Client::new(&socket);
    let started = task_request(&args, &program, assistant, layers)
        .and_then(|req| Ok(client.json::<_, StartedTask>("POST", "/v1/tasks", Some(&req))?));
    let task = match started {
        Ok(t) => t,
        Err(e) => {
            if let Some(b) = embedded {
                b.stop();
            }
            return Err(CliError::Failed(format!("cannot start a task: {e}")));
        }
    };
    eprintln!(
        "mandate: task {} ({}) for {}",
        task.task_id, task.mandate.profile, program
    );

    let proxy = match client.json::<(), ProxyInfo>("GET", "/v1/proxy", None) {
        Ok(p) => Some(p),
        Err(e) if task.placeholders.is_empty() && layers.is_none() => {
            eprintln!("mandate: no egress proxy ({e}); network requests are judged at the hooks only");
            None
        }
        Err(e) => Err(CliError::Failed(format!(
            "the task holds secrets or runs in the sandbox, and only the egress proxy can carry them out, but the broker runs none: {e}"
        )))
        .inspect_err(|_| end_quietly(&client, &task))?,
    };
    let outcome = run_child(
        dir,
        &Child {
            program: &program,
            rest: &args.command[1..],
            assistant,
            task: &task,
            socket: &socket,
            proxy: proxy.as_ref(),
            sandbox: layers,
        },
    );

    let reason = match &outcome {
        Ok(Exit::Status(code)) => format!("{program} exited with status {code}"),
        Ok(other) => format!("{program} exited ({other:?})"),
        Err(e) => format!("{program} could not run: {e}"),
    };
    let body = serde_json::json!({ "reason": reason });
    match client.json::<_, serde_json::Value>(
        "POST",
        &format!("/v1/tasks/{}/end", task.task_id),
        Some(&body),
    ) {
        Err(e) => eprintln!("mandate: could not end task {}: {e}", task.task_id),
        Ok(_) => eprintln!("mandate: task {} ended; its token is revoked", task.task_id),
    }
    if let Some(b) = embedded {
        b.stop();
    }
    outcome
}

fn end_quietly(client: &Client, task: &StartedTask) {
    let body = serde_json::json!({ "reason": "mandate run could not start the session" });
    let _ = client.json::<_, serde_json::Value>(
        "POST",
        &format!("/v1/tasks/{}/end", task.task_id),
        Some(&body),
    );
}

fn task_request(
    args: &RunArgs,
    program: &str,
    assistant: Option<Assistant>,
    sandbox: Option<SandboxLayers>,
) -> CliResult<StartTaskRequest> {
    let repo = abs_path(
        "repo",
        &args.repo.clone().unwrap_or_else(|| PathBuf::from(".")),
    )?;
    let name = assistant.map(|a| a.agent_name()).unwrap_or("agent");
    let host = mandate_analysis::machine::hostname();
    let agent = AgentId::parse(&format!("{name}@{host}")).or_else(|_| AgentId::parse(name))?;
    let purpose = args.purpose.clone().unwrap_or_else(|| {
        format!(
            "{} session in {}",
            program.rsplit('/').next().unwrap_or(program),
            repo
        )
    });
    Ok(StartTaskRequest {
        profile: ProfileName::parse(&args.profile)?,
        repo,
        purpose: Purpose::parse(&purpose)?,
        ttl: args.ttl.clone(),
        agent: Some(agent),
        allow_hosts: parse_all(&args.allow_host, HostPattern::parse)?,
        allow_read: Vec::new(),
        allow_write: Vec::new(),
        branches: parse_all(&args.branch, BranchPattern::parse)?,
        mcp_tools: parse_all(&args.allow_tool, McpToolPattern::parse)?,
        parent: None,
        secrets: args.secret.clone(),
        sandbox,
    })
}

/// Files created for one session, removed (newest first) when it ends.
#[derive(Default)]
struct SessionFiles(Vec<PathBuf>);

impl SessionFiles {
    /// Creates `path` with `content` (and any missing parent directories); refuses to
    /// overwrite anything.
    fn create(&mut self, path: &Path, content: &str) -> CliResult<()> {
        if path.exists() {
            return Err(CliError::Failed(format!(
                "{} already exists; refusing to overwrite it",
                path.display()
            )));
        }
        if let Some(parent) = path.parent() {
            let mut missing = Vec::new();
            let mut p = parent;
            while !p.exists() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(up) => p = up,
                    None => break,
                }
            }
            std::fs::create_dir_all(parent).map_err(CliError::io(parent.display().to_string()))?;
            self.0.extend(missing.into_iter().rev());
        }
        std::fs::write(path, content).map_err(CliError::io(path.display().to_string()))?;
        self.0.push(path.to_path_buf());
        Ok(())
    }
}

impl Drop for SessionFiles {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            let _ = if p.is_dir() {
                std::fs::remove_dir(p)
            } else {
                std::fs::remove_file(p)
            };
        }
    }
}

/// What the session runs, and how.
struct Child<'a> {
    program: &'a str,
    rest: &'a [String],
    assistant: Option<Assistant>,
    task: &'a StartedTask,
    socket: &'a Path,
    proxy: Option<&'a ProxyInfo>,
    sandbox: Option<SandboxLayers>,
}

fn run_child(dir: &Path, c: &Child<'_>) -> CliResult {
    let Child {
        program,
        rest,
        assistant,
        task,
        socket,
        proxy,
        sandbox,
    } = *c;
    let exe = std::env::current_exe().map_err(CliError::io("finding the mandate binary"))?;
    // Session files live in the private data directory: assistants refuse configuration
    // from world-writable places such as /tmp (Gemini CLI checks every parent).
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions).map_err(CliError::io(sessions.display().to_string()))?;
    let session = tempfile::Builder::new()
        .prefix("session-")
        .tempdir_in(&sessions)
        .map_err(CliError::io(sessions.display().to_string()))?;
    let wiring = match assistant {
        Some(a) => a
            .adapter()
            .run_wiring(&crate::paths::hook_binary(&exe), session.path()),
        None => RunWiring {
            notes: vec![format!(
                "{program} is not an assistant Mandate knows; it gets MANDATE_TOKEN but no hooks"
            )],
            ..Default::default()
        },
    };
    for n in &wiring.notes {
        eprintln!("mandate: {n}");
    }
    let mut files = SessionFiles::default();
    for (path, content) in &wiring.files {
        files.create(path, content)?;
    }
    let prepared = match sandbox {
        Some(layers) => {
            let repo = task
                .mandate
                .repo()
                .map(|r| r.as_path().to_path_buf())
                .ok_or_else(|| CliError::Failed("the task has no repository".into()))?;
            Some(sandbox::prepare(
                layers,
                &sandbox::Session {
                    task: &task.task_id,
                    program,
                    assistant,
                    dir,
                    session: session.path(),
                    repo: &repo,
                    exe: &exe,
                    proxy,
                    policy_dir: super::configured_policy_dir(dir),
                },
            )?)
        }
        None => None,
    };
    let mut cmd = match &prepared {
        Some(p) => {
            let mut cmd = std::process::Command::new(&exe);
            cmd.arg("sandbox-exec")
                .arg("--plan")
                .arg(&p.plan_file)
                .arg("--")
                .arg(program)
                .env("TMPDIR", p.temp.path());
            cmd
        }
        None => std::process::Command::new(program),
    };
    cmd.args(&wiring.args)
        .args(rest)
        .env("MANDATE_TOKEN", &task.token)
        .env("MANDATE_SOCKET", socket)
        .env("MANDATE_TASK_ID", task.task_id.as_str())
        .envs(wiring.env.iter().map(|(k, v)| (k, v)))
        .envs(&task.placeholders);
    // Inside the sandbox the proxy is at its bridge, and the CA files are in the task's
    // temp dir: the data dir is out of the sandbox's reach.
    let proxy = match &prepared {
        Some(p) => p.proxy.clone(),
        None => proxy.cloned(),
    };
    if let Some(mut p) = proxy {
        let files = prepared.as_ref().map_or_else(
            || session.path().to_path_buf(),
            |s| s.temp.path().to_path_buf(),
        );
        let bundle = files.join("ca-bundle.pem");
        egress::write_ca_bundle(Path::new(&p.ca_cert), &bundle)?;
        if prepared.is_some() {
            let ca = files.join("proxy-ca.pem");
            std::fs::copy(&p.ca_cert, &ca).map_err(CliError::io(ca.display().to_string()))?;
            p.ca_cert = ca.display().to_string();
        }
        cmd.envs(egress::environment(&p, &task.token, &bundle, &exe));
    }
    cmd.stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::io("starting the async runtime"))?;
    let child = cmd
        .spawn()
        .map_err(|e| CliError::Failed(format!("cannot start {program}: {e}")))?;
    let status = rt
        .block_on(wait_forwarding_signals(child))
        .map_err(CliError::io(format!("waiting for {program}")))?;
    drop(files);
    use std::os::unix::process::ExitStatusExt;
    Ok(Exit::Status(match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(255),
        _ => 1,
    }))
}

/// Waits for the assistant. Ctrl-C reaches it directly (same process group); this process
/// survives it to end the task, and forwards SIGTERM and SIGHUP.
async fn wait_forwarding_signals(
    mut child: std::process::Child,
) -> std::io::Result<std::process::ExitStatus> {
    let mut signals = Signals::new();
    let pid = child.id();
    let waiter = tokio::task::spawn_blocking(move || child.wait());
    tokio::pin!(waiter);
    loop {
        tokio::select! {
            s = &mut waiter => return s.map_err(std::io::Error::other)?,
            sig = signals.next() => {
                let name = match sig {
                    Signal::Interrupt => continue,
                    Signal::Terminate => "-TERM",
                    Signal::Hangup => "-HUP",
                };
                let _ = std::process::Command::new("kill").arg(name).arg(pid.to_string()).status();
            }
        }
    }
}
