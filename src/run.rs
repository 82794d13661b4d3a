//! `mandate run -- <assistant> ...` and `mandate install/uninstall <assistant>`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use mandate_adapters::{Assistant, settings};
use mandate_broker::Broker;
use mandate_broker::config::{self, Overrides};
use mandate_client::Client;
use mandate_store::SqliteStore;
use mandate_types::api::{StartTaskRequest, StartedTask};
use mandate_types::{AgentId, BranchPattern, HostPattern, McpToolPattern, ProfileName, Purpose};

use crate::cli::{InstallScope, RunArgs};
use crate::{Failure, Result, abs_path, fail, parse_all};

/// A broker running inside this process for the length of one session.
struct Embedded {
    rt: tokio::runtime::Runtime,
    broker: Arc<Broker>,
    store: SqliteStore,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Embedded {
    fn start(dir: &Path) -> Result<Self> {
        let o = Overrides {
            listen: Some("127.0.0.1:0".into()),
            policy_dir: None,
        };
        let settings = crate::settings(dir, &o)?;
        let err = |e: config::ConfigError| Failure {
            code: 2,
            message: format!("cannot start the embedded broker: {e}"),
        };
        let (engine, key) = config::prepare(&settings).map_err(err)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (broker, store, bound) = rt.block_on(async {
            let store = SqliteStore::open(&settings.db_path()).await?;
            let broker =
                Broker::open(settings.clone(), engine, Arc::new(store.clone()), key).await?;
            let bound = mandate_server::bind(settings.listen, &settings.socket_path()).await?;
            Ok::<_, Failure>((broker, store, bound))
        })?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = rt.spawn(mandate_server::serve(broker.clone(), bound, async move {
            let _ = stopped.await;
        }));
        eprintln!(
            "mandate: no broker was running; started one for this session (data dir {})",
            settings.data_dir.display()
        );
        Ok(Self {
            rt,
            broker,
            store,
            stop: Some(stop),
            served: Some(served),
        })
    }

    fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let served = self.served.take();
        let broker = self.broker.clone();
        let store = self.store.clone();
        self.rt.block_on(async move {
            if let Some(h) = served {
                let _ = tokio::time::timeout(Duration::from_secs(5), h).await;
            }
            broker.shutdown().await;
            let _ = store.checkpoint_wal().await;
            store.close().await;
        });
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into())
}

fn broker_is_up(socket: &Path) -> bool {
    Client::new(socket)
        .with_timeout(Duration::from_secs(2))
        .request("GET", "/healthz", None, &[])
        .map(|(s, _)| s == 200)
        .unwrap_or(false)
}

/// Runs an assistant under a fresh task.
pub fn run(dir: &Path, args: RunArgs) -> Result<u8> {
    let program = args.command[0].clone();
    let assistant = Assistant::from_program(&program);
    let socket = dir.join("mandate.sock");
    let embedded = if broker_is_up(&socket) {
        None
    } else {
        Some(Embedded::start(dir)?)
    };
    let client = Client::new(&socket);

    let repo = abs_path(
        "repo",
        &args.repo.clone().unwrap_or_else(|| PathBuf::from(".")),
    )?;
    let name = assistant.map(|a| a.agent_name()).unwrap_or("agent");
    let agent = AgentId::parse(&format!("{name}@{}", hostname()))
        .or_else(|_| AgentId::parse(name))
        .map_err(Failure::from)?;
    let purpose = args.purpose.clone().unwrap_or_else(|| {
        format!(
            "{} session in {}",
            program.rsplit('/').next().unwrap_or(&program),
            repo
        )
    });
    let req = StartTaskRequest {
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
    };
    let task: StartedTask = match client.json("POST", "/v1/tasks", Some(&req)) {
        Ok(t) => t,
        Err(e) => {
            if let Some(b) = embedded {
                b.shutdown();
            }
            return fail(format!("cannot start a task: {e}"));
        }
    };
    eprintln!(
        "mandate: task {} ({}) for {}",
        task.task_id, task.mandate.profile, program
    );

    let outcome = run_child(dir, &program, &args.command[1..], assistant, &task, &socket);

    let reason = match &outcome {
        Ok(code) => format!("{program} exited with status {code}"),
        Err(f) => format!("{program} could not run: {}", f.message),
    };
    let body = serde_json::json!({ "reason": reason });
    if let Err(e) = client.json::<_, serde_json::Value>(
        "POST",
        &format!("/v1/tasks/{}/end", task.task_id),
        Some(&body),
    ) {
        eprintln!("mandate: could not end task {}: {e}", task.task_id);
    } else {
        eprintln!("mandate: task {} ended; its token is revoked", task.task_id);
    }
    if let Some(b) = embedded {
        b.shutdown();
    }
    outcome
}

fn run_child(
    dir: &Path,
    program: &str,
    rest: &[String],
    assistant: Option<Assistant>,
    task: &StartedTask,
    socket: &Path,
) -> Result<u8> {
    let exe = std::env::current_exe()?;
    // Session files live in the private data directory: assistants refuse configuration
    // from world-writable places such as /tmp (Gemini CLI checks every parent).
    let sessions = dir.join("sessions");
    std::fs::create_dir_all(&sessions)?;
    let session = tempfile::Builder::new()
        .prefix("session-")
        .tempdir_in(&sessions)?;
    let wiring = match assistant {
        Some(a) => settings::run_wiring(a, &exe, session.path()),
        None => settings::RunWiring {
            notes: vec![format!(
                "{program} is not an assistant Mandate knows; it gets MANDATE_TOKEN but no hooks"
            )],
            ..Default::default()
        },
    };
    for n in &wiring.notes {
        eprintln!("mandate: {n}");
    }
    let mut created: Vec<PathBuf> = Vec::new();
    for (path, content) in &wiring.files {
        if path.exists() {
            return fail(format!(
                "{} already exists; refusing to overwrite it",
                path.display()
            ));
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
            std::fs::create_dir_all(parent)?;
            created.extend(missing.into_iter().rev());
        }
        std::fs::write(path, content)?;
        created.push(path.clone());
    }
    let cleanup = |created: &[PathBuf]| {
        for p in created.iter().rev() {
            let _ = if p.is_dir() {
                std::fs::remove_dir(p)
            } else {
                std::fs::remove_file(p)
            };
        }
    };

    let mut cmd = std::process::Command::new(program);
    cmd.args(&wiring.args)
        .args(rest)
        .env("MANDATE_TOKEN", &task.token)
        .env("MANDATE_SOCKET", socket)
        .env("MANDATE_TASK_ID", task.task_id.as_str())
        .envs(wiring.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    // Ctrl-C reaches the assistant directly (same process group); this process must
    // survive it to end the task, and forwards SIGTERM.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            cleanup(&created);
            return fail(format!("cannot start {program}: {e}"));
        }
    };
    let pid = child.id();
    let status = rt.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        let mut hup = signal(SignalKind::hangup()).ok();
        let waiter = tokio::task::spawn_blocking(move || child.wait());
        tokio::pin!(waiter);
        loop {
            tokio::select! {
                s = &mut waiter => return s,
                _ = async { match int.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
                _ = async { match term.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
                }
                _ = async { match hup.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {
                    let _ = std::process::Command::new("kill").arg("-HUP").arg(pid.to_string()).status();
                }
            }
        }
    });
    cleanup(&created);
    let status = status
        .map_err(|e| Failure::from(format!("waiting for {program}: {e}")))?
        .map_err(|e| Failure::from(format!("waiting for {program}: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(255),
        _ => 1,
    })
}

/// A record of what `mandate install` wrote, so `uninstall` removes exactly that.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Installs {
    entries: Vec<Installed>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Installed {
    assistant: String,
    path: PathBuf,
    hooks: Vec<(String, serde_json::Value)>,
}

/// `mandate install` (add = true) and `mandate uninstall` (add = false).
pub fn install(dir: &Path, assistant: &str, scope: InstallScope, add: bool) -> Result<u8> {
    let Some(a) = Assistant::parse(assistant) else {
        return fail(format!(
            "unknown assistant {assistant:?}; use claude, cursor, gemini, codex or copilot"
        ));
    };
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    let project = std::env::current_dir()?;
    let scope = match scope {
        InstallScope::User => settings::Scope::User,
        InstallScope::Project => settings::Scope::Project,
    };
    let path = settings::settings_path(a, scope, &home, &project);
    config::ensure_data_dir(dir).map_err(Failure::from)?;
    let record_path = dir.join("installs.json");
    let mut record: Installs = std::fs::read_to_string(&record_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut doc: serde_json::Value = match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => serde_json::from_str(&t).map_err(|e| {
            Failure::from(format!(
                "{}: not JSON ({e}); not touching it",
                path.display()
            ))
        })?,
        _ => serde_json::json!({}),
    };
    let key = settings::hooks_key(a);
    if add {
        let exe = std::env::current_exe()?;
        let entries = settings::install_entries(a, &exe);
        if matches!(a, Assistant::Cursor | Assistant::Copilot) && doc.get("version").is_none() {
            doc["version"] = serde_json::json!(1);
        }
        let changed = settings::add_entries(&mut doc, key, &entries);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")?;
        record
            .entries
            .retain(|i| !(i.assistant == a.name() && i.path == path));
        record.entries.push(Installed {
            assistant: a.name().into(),
            path: path.clone(),
            hooks: entries,
        });
        std::fs::write(&record_path, serde_json::to_string_pretty(&record)?)?;
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
    } else {
        let Some(pos) = record
            .entries
            .iter()
            .position(|i| i.assistant == a.name() && i.path == path)
        else {
            out!(
                "nothing to remove: mandate did not install {a} hooks in {}",
                path.display()
            );
            return Ok(0);
        };
        let installed = record.entries.remove(pos);
        let removed = settings::remove_entries(&mut doc, key, &installed.hooks);
        let only_version = doc
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "version"));
        if doc.as_object().is_some_and(|o| o.is_empty())
            || (only_version && matches!(a, Assistant::Cursor | Assistant::Copilot))
        {
            let _ = std::fs::remove_file(&path);
        } else {
            std::fs::write(&path, serde_json::to_string_pretty(&doc)? + "\n")?;
        }
        std::fs::write(&record_path, serde_json::to_string_pretty(&record)?)?;
        out!("removed {removed} {a} hook entries from {}", path.display());
    }
    Ok(0)
}
