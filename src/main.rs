//! `mandate`: the command line. Thin wiring over the library crates: parse arguments,
//! call the broker (over its Unix socket) or a library function, print the result.

#![forbid(unsafe_code)]

/// `println!` for command output that a closed pipe (`mandate audit tail | head`) ends
/// quietly, with the shell's SIGPIPE status, instead of a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(141);
            }
        }
    }};
}

mod cli;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use cli::{AuditCmd, Cli, Command, PolicyCmd, TaskCmd};
use mandate_broker::config::{self, Overrides, Settings};
use mandate_broker::{Broker, ocsf, policy_test};
use mandate_client::Client;
use mandate_store::{SqliteStore, Store};
use mandate_types::api::{
    EvaluationRequest, EvaluationResponse, StartTaskRequest, StartedTask, TaskDetail, TaskSummary,
};
use mandate_types::{
    AbsPath, Action, ActionKind, AgentId, BranchPattern, HostPattern, HttpMethod, McpToolPattern,
    McpToolRef, PathGlob, ProfileName, Purpose, TaskId, Url, Verdict,
};

/// A failure with the exit code to leave with.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Self {
            code: 1,
            message: e.to_string(),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

pub(crate) fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(Failure {
        code: 1,
        message: message.into(),
    })
}

fn main() -> ExitCode {
    // The hook runs once per tool call: skip building the whole CLI for it.
    if let Some((dir, assistant, event)) = hook_args() {
        return exit(hook(&data_dir(&dir), &assistant, event));
    }
    exit(run(Cli::parse()))
}

fn exit(result: Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            for line in f.message.lines() {
                eprintln!("mandate: {line}");
            }
            ExitCode::from(f.code)
        }
    }
}

/// `[--data-dir DIR] hook ASSISTANT [EVENT]` exactly as the hook configuration writes it;
/// anything else (help, other flags) goes through the full parser.
fn hook_args() -> Option<(Option<PathBuf>, String, Option<String>)> {
    let mut args = std::env::args_os().skip(1);
    let mut dir = None;
    let mut first = args.next()?;
    if first == "--data-dir" {
        dir = Some(PathBuf::from(args.next()?));
        first = args.next()?;
    }
    if first != "hook" {
        return None;
    }
    let rest: Vec<String> = args.map(|a| a.into_string().ok()).collect::<Option<_>>()?;
    match rest.as_slice() {
        [a] if !a.starts_with('-') => Some((dir, a.clone(), None)),
        [a, e] if !a.starts_with('-') && !e.starts_with('-') => {
            Some((dir, a.clone(), Some(e.clone())))
        }
        _ => None,
    }
}

/// `--data-dir`, else `$MANDATE_HOME`, else `$XDG_DATA_HOME/mandate`, else
/// `~/.local/share/mandate`.
fn data_dir(flag: &Option<PathBuf>) -> PathBuf {
    if let Some(d) = flag {
        return absolute(d);
    }
    if let Some(d) = std::env::var_os("MANDATE_HOME").filter(|d| !d.is_empty()) {
        return absolute(Path::new(&d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("mandate");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"));
    home.join(".local/share/mandate")
}

pub(crate) fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

pub(crate) fn abs_path(field: &'static str, p: &Path) -> Result<AbsPath> {
    let p = absolute(p);
    let text = p
        .to_str()
        .ok_or_else(|| Failure::from(format!("{field}: path is not valid UTF-8")))?;
    Ok(AbsPath::parse(field, text)?)
}

fn run(cli: Cli) -> Result<u8> {
    let dir = data_dir(&cli.data_dir);
    let json = cli.json;
    match cli.command {
        Command::Serve { listen, policy_dir } => serve(&dir, listen, policy_dir),
        Command::Task { cmd } => task(&dir, cmd, json),
        Command::Check(c) => check(&dir, c, json),
        Command::Audit { cmd } => audit(&dir, cmd, json),
        Command::Policy { cmd } => policy(&dir, cmd, json),
        Command::Hook { assistant, event } => hook(&dir, &assistant, event),
        Command::Eval {
            files,
            profile,
            misses,
            thresholds,
        } => eval(&dir, files, profile, misses, thresholds, json),
        Command::Run(args) => run::run(&dir, args),
        Command::Install { assistant, scope } => run::install(&dir, &assistant, scope, true),
        Command::Uninstall { assistant, scope } => run::install(&dir, &assistant, scope, false),
    }
}

/// `mandate hook <assistant>`: the hot path of every tool call. No async runtime, no
/// policy loading: read stdin, ask the broker, print, exit.
fn hook(dir: &Path, assistant: &str, event: Option<String>) -> Result<u8> {
    use mandate_adapters::{Assistant, runner};
    let Some(a) = Assistant::parse(assistant) else {
        // Exit 2, not 1: the assistants that read exit codes treat 1 as "go on".
        return Err(Failure {
            code: 2,
            message: format!(
                "unknown assistant {assistant:?}; use claude, cursor, gemini, codex or copilot"
            ),
        });
    };
    let env = runner::HookEnv::from_env(dir.join("mandate.sock"));
    let stdin = std::io::stdin();
    let out = runner::run_with_hint(a, env, event, stdin);
    use std::io::Write;
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.stdout.as_bytes());
    let _ = so.flush();
    if !out.stderr.is_empty() {
        eprintln!("{}", out.stderr);
    }
    Ok(u8::try_from(out.exit_code).unwrap_or(2))
}

fn eval(
    dir: &Path,
    files: Vec<PathBuf>,
    profile: Option<String>,
    misses: bool,
    thresholds: Option<PathBuf>,
    json: bool,
) -> Result<u8> {
    use mandate_broker::eval;
    let configured = config::load_settings(dir, &Overrides::default())
        .ok()
        .and_then(|s| s.policy_dir);
    // A fixed, fictional machine: the corpora's paths must not meet this machine's files.
    let env = mandate_analysis::Environment {
        home: PathBuf::from("/home/user"),
        temp_dirs: vec![PathBuf::from("/tmp"), PathBuf::from("/var/tmp")],
        mandate_dirs: vec![PathBuf::from("/home/user/.local/share/mandate")],
    };
    let engine = config::build_engine(configured.as_deref(), env)?;
    let started = std::time::Instant::now();
    let report = eval::evaluate(&engine, &files, &eval::EvalOptions { profile, misses })?;
    if json {
        out!("{}", serde_json::to_string(&report)?);
    } else {
        let pct = |a: u64, b: u64| {
            if b == 0 {
                "-".to_owned()
            } else {
                format!("{:.1}%", 100.0 * a as f64 / b as f64)
            }
        };
        out!(
            "{:<28} {:>16} {:>16} {:>10} {:>10} {:>16} {:>16}",
            "source",
            "attacks stopped",
            "benign allowed",
            "asked",
            "denied",
            "traces stopped",
            "traces allowed"
        );
        for (name, s) in &report.sources {
            let c = &s.counts;
            out!(
                "{:<28} {:>16} {:>16} {:>10} {:>10} {:>16} {:>16}",
                name,
                format!(
                    "{} / {}",
                    pct(c.attack_stopped, c.attack_total),
                    c.attack_total
                ),
                format!(
                    "{} / {}",
                    pct(c.benign_allowed, c.benign_total),
                    c.benign_total
                ),
                pct(c.benign_asked, c.benign_total),
                pct(c.benign_denied, c.benign_total),
                format!(
                    "{} / {}",
                    pct(c.traces_attack_stopped, c.traces_attack_total),
                    c.traces_attack_total
                ),
                format!(
                    "{} / {}",
                    pct(c.traces_benign_allowed, c.traces_benign_total),
                    c.traces_benign_total
                ),
            );
            for (apart, k) in &s.reported_apart {
                out!(
                    "  (apart) {:<18} {:>16} {:>16}",
                    apart,
                    format!(
                        "{} / {}",
                        pct(k.attack_stopped, k.attack_total),
                        k.attack_total
                    ),
                    format!(
                        "{} / {}",
                        pct(k.benign_allowed, k.benign_total),
                        k.benign_total
                    )
                );
            }
            if misses && !s.misses.is_empty() {
                out!("  misses: {}", s.misses.join(" "));
            }
        }
        eprintln!("evaluated in {:.1} s", started.elapsed().as_secs_f64());
    }
    if let Some(t) = thresholds {
        let failures = eval::check_thresholds(&report, &eval::load_thresholds(&t)?);
        if !failures.is_empty() {
            return Err(Failure {
                code: 1,
                message: format!(
                    "evaluation below thresholds ({}):\n{}",
                    t.display(),
                    failures.join("\n")
                ),
            });
        }
    }
    Ok(0)
}

pub(crate) fn settings(dir: &Path, o: &Overrides) -> Result<Settings> {
    config::load_settings(dir, o).map_err(|e| Failure {
        code: 2,
        message: e.to_string(),
    })
}

fn serve(dir: &Path, listen: Option<String>, policy_dir: Option<PathBuf>) -> Result<u8> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MANDATE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not for log files and journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let o = Overrides {
        listen,
        policy_dir: policy_dir.map(|p| absolute(&p)),
    };
    let settings = settings(dir, &o)?;
    // Everything is validated before a port is bound.
    let config_err = |e: config::ConfigError| Failure {
        code: 2,
        message: format!("refusing to start: {e}"),
    };
    let (engine, key) = config::prepare(&settings).map_err(config_err)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let store = SqliteStore::open(&settings.db_path()).await.map_err(|e| Failure {
            code: 2,
            message: format!("refusing to start: {e}"),
        })?;
        let store_handle = store.clone();
        let broker = Broker::open(settings.clone(), engine, Arc::new(store), key).await?;
        let bound = mandate_server::bind(settings.listen, &settings.socket_path())
            .await
            .map_err(|e| Failure {
                code: 2,
                message: e.to_string(),
            })?;
        out!(
            "mandate: listening on http://{} and unix:{} (data dir {}, policy {})",
            bound.addr,
            settings.socket_path().display(),
            settings.data_dir.display(),
            &broker.engine().policy().hash()[..12]
        );
        tracing::info!(addr = %bound.addr, socket = %settings.socket_path().display(), "broker ready");
        mandate_server::serve(broker.clone(), bound, shutdown_signal()).await;
        broker.shutdown().await;
        let _ = store_handle.checkpoint_wal().await;
        store_handle.close().await;
        tracing::info!("broker stopped");
        Ok(0)
    })
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
}

fn client(dir: &Path) -> Client {
    Client::new(dir.join("mandate.sock"))
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    out!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

pub(crate) fn parse_all<T>(
    items: &[String],
    f: impl Fn(&str) -> std::result::Result<T, mandate_types::InvalidInput>,
) -> Result<Vec<T>> {
    items.iter().map(|s| f(s).map_err(Failure::from)).collect()
}

fn task(dir: &Path, cmd: TaskCmd, json: bool) -> Result<u8> {
    let c = client(dir);
    match cmd {
        TaskCmd::Start(s) => {
            let req = StartTaskRequest {
                profile: ProfileName::parse(&s.profile)?,
                repo: abs_path("repo", &s.repo)?,
                purpose: Purpose::parse(&s.purpose)?,
                ttl: s.ttl,
                agent: s.agent.as_deref().map(AgentId::parse).transpose()?,
                allow_hosts: parse_all(&s.allow_host, HostPattern::parse)?,
                allow_read: parse_all(&s.allow_read, PathGlob::parse)?,
                allow_write: parse_all(&s.allow_write, PathGlob::parse)?,
                branches: parse_all(&s.branch, BranchPattern::parse)?,
                mcp_tools: parse_all(&s.allow_tool, McpToolPattern::parse)?,
                parent: None,
            };
            let t: StartedTask = c.json("POST", "/v1/tasks", Some(&req))?;
            if json {
                print_json(&t)?;
            } else {
                out!(
                    "task {} started (profile {}, expires {})",
                    t.task_id,
                    t.mandate.profile,
                    t.expires_at
                );
                out!("export MANDATE_TOKEN={}", t.token);
            }
            Ok(0)
        }
        TaskCmd::End { id, reason } => {
            let id = TaskId::parse(&id)?;
            let body = serde_json::json!({ "reason": reason.unwrap_or_else(|| "ended by the delegator".into()) });
            let v: serde_json::Value =
                c.json("POST", &format!("/v1/tasks/{id}/end"), Some(&body))?;
            if json {
                print_json(&v)?;
            } else if v["ended"] == true {
                out!("task {id} ended; its token is revoked");
            } else {
                out!("task {id} had already ended");
            }
            Ok(0)
        }
        TaskCmd::List { limit } => {
            let v: Vec<TaskSummary> =
                c.json::<(), _>("GET", &format!("/v1/tasks?limit={limit}"), None)?;
            if json {
                print_json(&v)?;
            } else {
                out!(
                    "{:<38} {:<8} {:<10} {:<20} PURPOSE",
                    "TASK",
                    "STATE",
                    "PROFILE",
                    "EXPIRES"
                );
                for t in v {
                    out!(
                        "{:<38} {:<8} {:<10} {:<20} {}",
                        t.task_id,
                        t.state,
                        t.profile,
                        t.expires_at,
                        t.purpose
                    );
                }
            }
            Ok(0)
        }
        TaskCmd::Show { id } => {
            let id = TaskId::parse(&id)?;
            let d: TaskDetail = c.json::<(), _>("GET", &format!("/v1/tasks/{id}"), None)?;
            if json {
                print_json(&d)?;
            } else {
                let t = &d.task;
                out!("task     {} ({})", t.task_id, t.state);
                out!("purpose  {}", t.purpose);
                out!(
                    "profile  {}   agent {}   delegator {}",
                    t.profile,
                    t.agent,
                    t.delegator
                );
                if let Some(r) = &t.repo {
                    out!("repo     {r}");
                }
                out!("issued   {}   expires {}", t.issued_at, t.expires_at);
                if let Some(e) = &t.ended_at {
                    out!(
                        "ended    {e} ({})",
                        t.end_reason.clone().unwrap_or_default()
                    );
                }
                out!();
                for e in &d.timeline {
                    let r = &e.record;
                    match e.kind.as_str() {
                        "decision" => {
                            let action = &r["action"];
                            let target = action["command"]
                                .as_str()
                                .or(action["path"].as_str())
                                .or(action["url"].as_str())
                                .map(str::to_owned)
                                .unwrap_or_else(|| action["tool"].to_string());
                            let why = r["reasons"][0]["message"].as_str().unwrap_or("");
                            out!(
                                "{}  {:<5} {:<10} {}{}",
                                e.time,
                                r["decision"].as_str().unwrap_or("?"),
                                action["kind"].as_str().unwrap_or("?"),
                                target,
                                if r["decision"] == "allow" {
                                    String::new()
                                } else {
                                    format!("\n{:>30}↳ {why}", "")
                                }
                            );
                        }
                        other => out!("{}  {other}", e.time),
                    }
                }
            }
            Ok(0)
        }
    }
}

fn check(dir: &Path, c: cli::CheckArgs, json: bool) -> Result<u8> {
    let token = match c.token.or_else(|| std::env::var("MANDATE_TOKEN").ok()) {
        Some(t) => t,
        None => {
            return fail(
                "no task token: pass --token or set MANDATE_TOKEN (from mandate task start)",
            );
        }
    };
    let cwd = abs_path("cwd", &c.cwd.unwrap_or_else(|| PathBuf::from(".")))?;
    let kind = if let Some(cmd) = c.shell {
        ActionKind::shell(&cmd)?
    } else if let Some(p) = c.read {
        ActionKind::file_read(&p)?
    } else if let Some(p) = c.write {
        ActionKind::file_write(&p)?
    } else if let Some(u) = c.fetch {
        ActionKind::Http {
            method: HttpMethod::parse(&c.method)?,
            url: Url::parse(&u)?,
        }
    } else if let Some(t) = c.mcp {
        let args = match c.args {
            Some(a) => serde_json::from_str(&a)
                .map_err(|e| Failure::from(format!("--args is not JSON: {e}")))?,
            None => serde_json::Value::Object(Default::default()),
        };
        ActionKind::McpCall {
            tool: McpToolRef::parse(&t)?,
            args,
            annotation: None,
        }
    } else {
        return fail("give one action: --shell, --read, --write, --fetch or --mcp");
    };
    let action = Action { kind, cwd };
    let req = EvaluationRequest::for_action(Some(&token), &action);
    let resp: EvaluationResponse = client(dir).json("POST", "/access/v1/evaluation", Some(&req))?;
    let d = resp.context;
    if json {
        print_json(&d)?;
    } else {
        out!("{}  ({})", d.decision, d.decision_id);
        for r in &d.reasons {
            out!("  {}: {}", r.policy, r.message);
        }
        if !d.effects.is_empty() {
            let effects: Vec<String> = d.effects.iter().map(|e| e.to_string()).collect();
            out!("  effects: {}", effects.join(", "));
        }
    }
    Ok(match d.decision {
        Verdict::Allow => 0,
        Verdict::Deny => 2,
        Verdict::Ask => 3,
    })
}

fn open_store_for_audit(dir: &Path, rt: &tokio::runtime::Runtime) -> Result<SqliteStore> {
    let db = dir.join("mandate.db");
    if !db.exists() {
        return fail(format!(
            "no audit log at {} (has the broker run with this data dir?)",
            db.display()
        ));
    }
    Ok(rt.block_on(SqliteStore::open(&db))?)
}

fn audit(dir: &Path, cmd: AuditCmd, json: bool) -> Result<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let store = open_store_for_audit(dir, &rt)?;
    match cmd {
        AuditCmd::Verify => {
            let key_text = std::fs::read_to_string(dir.join("broker.key"))
                .map_err(|e| Failure::from(format!("{}: {e}", dir.join("broker.key").display())))?;
            let key = mandate_token::BrokerKey::from_text(&key_text)?;
            let r = rt.block_on(mandate_broker::verify_audit(
                &store,
                &[key.public()],
                &dir.join("audit.checkpoint"),
            ))?;
            match r {
                Ok(rep) => {
                    if json {
                        print_json(
                            &serde_json::json!({"ok": true, "records": rep.records, "checkpoints": rep.checkpoints, "head": rep.head}),
                        )?;
                    } else {
                        out!(
                            "audit log OK: {} records, {} signed checkpoints, head {}",
                            rep.records,
                            rep.checkpoints,
                            rep.head
                        );
                    }
                    Ok(0)
                }
                Err(broken) => {
                    if json {
                        print_json(
                            &serde_json::json!({"ok": false, "record": broken.seq, "error": broken.message}),
                        )?;
                    }
                    Err(Failure {
                        code: 1,
                        message: format!("audit log BROKEN: {}", broken.message),
                    })
                }
            }
        }
        AuditCmd::Tail { n } => {
            let head = rt.block_on(store.audit_head())?.map_or(0, |h| h.0);
            let records = rt.block_on(store.audit_range((head - n as i64 + 1).max(1), n as i64))?;
            for r in records {
                if json {
                    out!("{}", serde_json::to_string(&r)?);
                } else {
                    let b: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
                    let what = match r.kind.as_str() {
                        "decision" => format!(
                            "{} {} {}",
                            b["decision"].as_str().unwrap_or("?"),
                            b["action"]["kind"].as_str().unwrap_or("?"),
                            b["action"]["command"]
                                .as_str()
                                .or(b["action"]["path"].as_str())
                                .or(b["action"]["url"].as_str())
                                .unwrap_or("")
                        ),
                        _ => String::new(),
                    };
                    out!(
                        "{:>6} {} {:<10} {} {}",
                        r.seq,
                        r.time_ms,
                        r.kind,
                        r.task_id.unwrap_or_default(),
                        what
                    );
                }
            }
            Ok(0)
        }
        AuditCmd::Export { format, since } => {
            use std::io::Write;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let mut from = since.max(1);
            loop {
                let page = rt.block_on(store.audit_range(from, 1000))?;
                for r in &page {
                    let line = match format {
                        cli::ExportFormat::Ocsf => serde_json::to_string(&ocsf::to_ocsf(r))?,
                        cli::ExportFormat::Jsonl => serde_json::to_string(r)?,
                    };
                    writeln!(out, "{line}")?;
                }
                match page.last() {
                    Some(l) if page.len() == 1000 => from = l.seq + 1,
                    _ => break,
                }
            }
            out.flush()?;
            Ok(0)
        }
    }
}

fn policy(dir: &Path, cmd: PolicyCmd, json: bool) -> Result<u8> {
    let configured = config::load_settings(dir, &Overrides::default())
        .ok()
        .and_then(|s| s.policy_dir);
    match cmd {
        PolicyCmd::Validate { dir: pdir } => {
            let pdir = pdir.map(|p| absolute(&p)).or(configured);
            match config::build_engine(
                pdir.as_deref(),
                mandate_analysis::Environment::from_process(),
            ) {
                Ok(engine) => {
                    let p = engine.policy();
                    let counts: Vec<String> = p
                        .profile_names()
                        .iter()
                        .map(|n| {
                            format!(
                                "{n} ({} policies)",
                                p.profile(n).map_or(0, |x| x.policy_count())
                            )
                        })
                        .collect();
                    if json {
                        print_json(
                            &serde_json::json!({"ok": true, "profiles": p.profile_names(), "hash": p.hash()}),
                        )?;
                    } else {
                        out!("policy OK: {}; hash {}", counts.join(", "), p.hash());
                    }
                    Ok(0)
                }
                Err(e) => Err(Failure {
                    code: 1,
                    message: e.to_string(),
                }),
            }
        }
        PolicyCmd::Test { dir: cdir } => {
            let cdir = absolute(&cdir.unwrap_or_else(|| PathBuf::from("tests/policy")));
            let cases = policy_test::load_corpus(&cdir)?;
            let (scratch, env) = policy_test::Scratch::new()?;
            let engine = config::build_engine(configured.as_deref(), env)?;
            let results = policy_test::run_corpus(&cases, &engine, &scratch);
            let failed: Vec<&policy_test::CaseResult> =
                results.iter().filter(|r| !r.passed).collect();
            if json {
                let v: Vec<serde_json::Value> = results
                    .iter()
                    .map(|r| serde_json::json!({"file": r.file, "name": r.name, "passed": r.passed, "detail": r.detail}))
                    .collect();
                print_json(&v)?;
            } else {
                for r in &failed {
                    out!("FAIL {} / {}: {}", r.file, r.name, r.detail);
                }
                out!(
                    "{} cases, {} passed, {} failed ({})",
                    results.len(),
                    results.len() - failed.len(),
                    failed.len(),
                    cdir.display()
                );
            }
            Ok(if failed.is_empty() { 0 } else { 1 })
        }
    }
}
