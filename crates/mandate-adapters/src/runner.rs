//! The hook process: read the payload, ask the broker, print the assistant's answer —
//! within a deadline, and failing closed on every error.

use std::io::Read;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mandate_client::Client;
use mandate_types::Verdict;
use mandate_types::api::{
    BatchItem, BatchRequest, BatchResponse, EvaluationRequest, ReportOrigin, Subject, TaskEvent,
    ToolReport,
};

use crate::{
    AdapterError, Answer, Assistant, Event, HookOutput, deny_message, parse, render, render_failure,
};

/// Largest hook payload accepted (bigger ones are refused, not truncated).
pub const MAX_INPUT: usize = 4 * 1024 * 1024;
/// Largest tool output sent to the broker for labelling.
pub const MAX_REPORT: usize = 1024 * 1024;
/// Default deadline for a decision.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);

/// The whole hook process, for `mandate hook` and the `mandate-hook` binary: reads
/// `[--data-dir D] hook NAME [EVENT]` from `args` (the program name already taken off),
/// answers the payload on stdin on stdout/stderr, and returns the exit status. `None`
/// when `args` are not a hook call.
pub fn hook_main(args: impl Iterator<Item = std::ffi::OsString>) -> Option<u8> {
    let mut args = args;
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
    let (name, event) = match rest.as_slice() {
        [a] if !a.starts_with('-') => (a.clone(), None),
        [a, e] if !a.starts_with('-') && !e.starts_with('-') => (a.clone(), Some(e.clone())),
        _ => return None,
    };
    let Some(assistant) = Assistant::parse(&name) else {
        eprintln!(
            "mandate: unknown assistant {name:?}; use claude, cursor, gemini, codex or copilot"
        );
        // Refused (2), not failed (1): the assistants that read exit codes treat 1 as "go on".
        return Some(2);
    };
    let socket = mandate_client::data_dir(dir.as_deref()).join("mandate.sock");
    let out = run_with_hint(
        assistant,
        HookEnv::from_env(socket),
        event,
        std::io::stdin(),
    );
    use std::io::Write as _;
    let mut so = std::io::stdout().lock();
    let _ = so.write_all(out.stdout.as_bytes());
    let _ = so.flush();
    if !out.stderr.is_empty() {
        eprintln!("{}", out.stderr);
    }
    // A status that does not fit a byte cannot come from our adapters; block if it did.
    Some(u8::try_from(out.exit_code).unwrap_or(2))
}

/// Where the hook finds its task and its broker.
#[derive(Debug, Clone)]
pub struct HookEnv {
    /// `MANDATE_TOKEN`.
    pub token: Option<String>,
    /// `MANDATE_SOCKET`, else `<data-dir>/mandate.sock`.
    pub socket: PathBuf,
    /// `MANDATE_HOOK_TIMEOUT_MS`, else 2 s.
    pub deadline: Duration,
}

impl HookEnv {
    /// Reads the environment; `default_socket` is `<data-dir>/mandate.sock`.
    pub fn from_env(default_socket: PathBuf) -> Self {
        let token = std::env::var("MANDATE_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty());
        let socket = std::env::var_os("MANDATE_SOCKET")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .unwrap_or(default_socket);
        let deadline = std::env::var("MANDATE_HOOK_TIMEOUT_MS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_DEADLINE);
        Self {
            token,
            socket,
            deadline,
        }
    }
}

fn read_input(mut stdin: impl Read) -> Result<Vec<u8>, AdapterError> {
    let mut buf = Vec::new();
    let n = (&mut stdin)
        .take(MAX_INPUT as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| AdapterError::Malformed {
            assistant: Assistant::Claude.name(),
            detail: format!("cannot read stdin: {e}"),
        })?;
    if n > MAX_INPUT {
        return Err(AdapterError::TooLarge(MAX_INPUT));
    }
    Ok(buf)
}

/// [`run`] with the event name given on the command line, for assistants whose payload
/// may not name it ([`crate::Adapter::takes_event_hint`]).
pub fn run_with_hint(
    assistant: Assistant,
    env: HookEnv,
    hint: Option<String>,
    stdin: impl Read + Send + 'static,
) -> HookOutput {
    match hint {
        Some(h) if assistant.adapter().takes_event_hint() => run(
            assistant,
            env,
            HintedInput {
                hint: Some(h),
                inner: stdin,
                buf: None,
            },
        ),
        _ => run(assistant, env, stdin),
    }
}

/// Adds `"event": <hint>` to a JSON object payload that has no event name of its own.
struct HintedInput<R> {
    hint: Option<String>,
    inner: R,
    buf: Option<std::io::Cursor<Vec<u8>>>,
}

impl<R: Read> Read for HintedInput<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.buf.is_none() {
            let mut raw = Vec::new();
            (&mut self.inner)
                .take(MAX_INPUT as u64 + 1)
                .read_to_end(&mut raw)?;
            let patched = match (
                serde_json::from_slice::<serde_json::Value>(&raw),
                self.hint.take(),
            ) {
                (Ok(serde_json::Value::Object(mut m)), Some(h))
                    if !m.contains_key("hook_event_name") =>
                {
                    m.insert("event".into(), h.into());
                    serde_json::to_vec(&m).unwrap_or(raw)
                }
                _ => raw,
            };
            self.buf = Some(std::io::Cursor::new(patched));
        }
        self.buf.as_mut().map_or(Ok(0), |b| b.read(out))
    }
}

/// Runs one hook invocation within the deadline. Never panics and never waits past the
/// deadline: a slow broker, a crash in this process's worker, an unreadable payload all
/// end in a denial the assistant honours.
pub fn run(assistant: Assistant, env: HookEnv, stdin: impl Read + Send + 'static) -> HookOutput {
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let deadline = env.deadline;
    let worker = std::thread::Builder::new()
        .name("mandate-hook".into())
        .spawn(move || {
            let extend = tx.clone();
            let waiting = move |d: Duration| {
                let _ = extend.send(Progress::Waiting(d));
            };
            let out = handle(assistant, &env, stdin, start, &waiting);
            let _ = tx.send(Progress::Done(out));
        });
    if worker.is_err() {
        return render_failure(
            assistant,
            "",
            &deny_message("the hook could not start its worker"),
        );
    }
    let mut until = start + deadline + Duration::from_millis(250);
    let received = loop {
        match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            // The worker waits for a human's answer: the deadline moves with it.
            Ok(Progress::Waiting(d)) => until = Instant::now() + d + Duration::from_millis(250),
            Ok(Progress::Done(out)) => break Ok(out),
            Err(e) => break Err(e),
        }
    };
    match received {
        Ok(out) => out,
        Err(mpsc::RecvTimeoutError::Timeout) => render_failure(
            assistant,
            "",
            &deny_message(&format!(
                "the Mandate broker did not answer within {} ms; check that `mandate serve` is healthy",
                deadline.as_millis()
            )),
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            render_failure(assistant, "", &deny_message("the hook failed unexpectedly"))
        }
    }
}

/// What the worker tells [`run`].
enum Progress {
    /// It waits this long for a human's answer.
    Waiting(Duration),
    Done(HookOutput),
}

fn handle(
    assistant: Assistant,
    env: &HookEnv,
    stdin: impl Read,
    start: Instant,
    waiting: &dyn Fn(Duration),
) -> HookOutput {
    let input = match read_input(stdin) {
        Ok(i) => i,
        Err(e) => return render_failure(assistant, "", &deny_message(&e.to_string())),
    };
    let event = match parse(assistant, &input) {
        Ok(e) => e,
        Err(e) => return render_failure(assistant, "", &deny_message(&e.to_string())),
    };
    let remaining = env
        .deadline
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(50));
    let client = Client::new(&env.socket).with_timeout(remaining);
    let bearer = env.token.as_deref().map(|t| format!("Bearer {t}"));
    match event {
        Event::PreTool(pre) => {
            let Some(token) = env.token.as_deref() else {
                return render(
                    assistant,
                    &pre.event_name,
                    &Answer::Deny(deny_message(
                        "no task token (MANDATE_TOKEN is not set); start the assistant with `mandate run -- <assistant>`",
                    )),
                );
            };
            let (answer, approvals) = decide_with_approvals(&client, token, &pre.actions);
            let answer = match answer {
                Answer::Ask(why)
                    if !assistant.adapter().asks_its_user() && !approvals.is_empty() =>
                {
                    wait_for_answers(env, token, &pre.actions, &approvals, &why, waiting)
                }
                other => other,
            };
            render(assistant, &pre.event_name, &answer)
        }
        Event::PostTool(post) => {
            if let Some(b) = &bearer {
                let output = truncated(post.output);
                let report = ToolReport {
                    tool: post.tool,
                    tool_use_id: post.tool_use_id,
                    succeeded: post.succeeded,
                    exit_code: post.exit_code,
                    output,
                    untrusted: post.untrusted,
                    origin: ReportOrigin::Tool,
                    input: post.input,
                    actions: if assistant.adapter().asks_its_user() {
                        post.actions
                    } else {
                        Vec::new()
                    },
                };
                send(&client, "/v1/report", b, &report);
            }
            HookOutput::default()
        }
        Event::Refused(pre) => {
            if let Some(b) = &bearer {
                let report = ToolReport {
                    tool: pre.tool,
                    tool_use_id: pre.tool_use_id,
                    succeeded: Some(false),
                    exit_code: None,
                    output: String::new(),
                    untrusted: false,
                    origin: ReportOrigin::Refused,
                    input: None,
                    actions: pre.actions,
                };
                send(&client, "/v1/report", b, &report);
            }
            HookOutput::default()
        }
        Event::Prompt(prompt) => {
            if let Some(b) = &bearer {
                let report = ToolReport {
                    tool: "UserPromptSubmit".into(),
                    tool_use_id: None,
                    succeeded: None,
                    exit_code: None,
                    output: truncated(prompt),
                    untrusted: false,
                    origin: ReportOrigin::Prompt,
                    input: None,
                    actions: Vec::new(),
                };
                send(&client, "/v1/report", b, &report);
            }
            HookOutput::default()
        }
        Event::Session { kind, detail } => {
            if let Some(b) = &bearer {
                send(&client, "/v1/events", b, &TaskEvent { kind, detail });
            }
            HookOutput::default()
        }
        Event::Ignored(_) => HookOutput::default(),
    }
}

/// A report's text, cut at [`MAX_REPORT`] bytes.
fn truncated(mut text: String) -> String {
    if text.len() > MAX_REPORT {
        let mut end = MAX_REPORT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// Reports and events cannot block the assistant; failures go to stderr only.
fn send<T: serde::Serialize>(client: &Client, path: &str, bearer: &str, body: &T) {
    let Ok(bytes) = serde_json::to_vec(body) else {
        return;
    };
    if let Err(e) = client.request("POST", path, Some(&bytes), &[("Authorization", bearer)]) {
        eprintln!("mandate: could not report to the broker: {e}");
    }
}

/// Where the assistant cannot ask its user: waits for a human's answers to the pending
/// approvals (`mandate approve`), up to the broker's `approval_wait`, then decides the
/// tool call again (an approval is used once). No answer in time, or a denial, is a
/// denial that says how to approve.
fn wait_for_answers(
    env: &HookEnv,
    token: &str,
    actions: &[mandate_types::Action],
    approvals: &[String],
    why: &str,
    waiting: &dyn Fn(Duration),
) -> Answer {
    const POLL: Duration = Duration::from_millis(200);
    let client = Client::new(&env.socket).with_timeout(DEFAULT_DEADLINE);
    let how = approvals
        .iter()
        .map(|id| format!("`mandate approve {id}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let view = |id: &str| {
        client.json::<(), mandate_types::api::ApprovalView>(
            "GET",
            &format!("/v1/approvals/{id}"),
            None,
        )
    };
    let wait = approvals
        .iter()
        .filter_map(|id| view(id).ok())
        .map(|v| Duration::from_millis(v.wait_ms))
        .max()
        .unwrap_or_default();
    if wait.is_zero() {
        return Answer::Deny(deny_message(&format!(
            "{why}; approve with {how}, then retry"
        )));
    }
    waiting(wait + DEFAULT_DEADLINE);
    eprintln!(
        "mandate: waiting up to {} s for `mandate approve` ({how})",
        wait.as_secs()
    );
    let until = Instant::now() + wait;
    loop {
        let states: Vec<String> = approvals
            .iter()
            .map(|id| view(id).map(|v| v.state).unwrap_or_else(|_| "gone".into()))
            .collect();
        if states.iter().all(|s| s.starts_with("approved")) {
            return decide(&client, token, actions);
        }
        if let Some(s) = states.iter().find(|s| *s != "pending") {
            return Answer::Deny(deny_message(&format!("{why}; the approval is {s}")));
        }
        if Instant::now() >= until {
            return Answer::Deny(deny_message(&format!(
                "{why}; no one answered within {} s: approve with {how}, then retry",
                wait.as_secs()
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Asks the broker about every action of one tool call; any deny → deny, else any ask →
/// ask, else allow.
pub fn decide(client: &Client, token: &str, actions: &[mandate_types::Action]) -> Answer {
    decide_with_approvals(client, token, actions).0
}

/// [`decide`], with the pending approvals of the actions asked about.
fn decide_with_approvals(
    client: &Client,
    token: &str,
    actions: &[mandate_types::Action],
) -> (Answer, Vec<String>) {
    let mut subject = Subject {
        kind: "task".into(),
        ..Default::default()
    };
    subject.properties.insert("token".into(), token.into());
    let batch = BatchRequest {
        subject: Some(subject),
        evaluations: actions
            .iter()
            .map(|a| {
                let r = EvaluationRequest::for_action(None, a);
                BatchItem {
                    subject: None,
                    action: Some(r.action),
                    resource: Some(r.resource),
                    context: Some(r.context),
                }
            })
            .collect(),
        ..Default::default()
    };
    let resp: BatchResponse = match client.json("POST", "/access/v1/evaluations", Some(&batch)) {
        Ok(r) => r,
        Err(e) => return (Answer::Deny(deny_message(&e.to_string())), Vec::new()),
    };
    if resp.evaluations.len() != actions.len() || actions.is_empty() {
        return (
            Answer::Deny(deny_message(
                "the broker's answer did not cover every action",
            )),
            Vec::new(),
        );
    }
    let approvals: Vec<String> = resp
        .evaluations
        .iter()
        .filter(|e| e.context.decision == Verdict::Ask)
        .filter_map(|e| e.context.approval.clone())
        .collect();
    let worst = resp
        .evaluations
        .iter()
        .map(|e| e.context.decision)
        .max()
        .unwrap_or(Verdict::Deny);
    let summary = resp
        .evaluations
        .iter()
        .filter(|e| e.context.decision == worst)
        .map(|e| e.context.summary())
        .collect::<Vec<_>>()
        .join("; ");
    let ids = resp
        .evaluations
        .iter()
        .map(|e| e.context.decision_id.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let answer = match worst {
        Verdict::Allow => Answer::Allow(format!("Mandate allowed ({ids})")),
        Verdict::Ask => Answer::Ask(format!("Mandate asks for approval: {summary} ({ids})")),
        Verdict::Deny => Answer::Deny(format!("{} ({ids})", deny_message(&summary))),
    };
    (answer, approvals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(socket: &str, token: Option<&str>) -> HookEnv {
        HookEnv {
            token: token.map(str::to_owned),
            socket: PathBuf::from(socket),
            deadline: Duration::from_millis(500),
        }
    }

    const BASH: &str = r#"{"hook_event_name":"PreToolUse","cwd":"/tmp","tool_name":"Bash","tool_input":{"command":"ls"}}"#;

    #[test]
    fn unreachable_broker_denies_with_how_to_fix() {
        let out = run(
            Assistant::Claude,
            env("/nonexistent/m.sock", Some("t")),
            BASH.as_bytes(),
        );
        assert_eq!(out.exit_code, 2);
        assert!(
            out.stdout.contains("\"deny\"") && out.stdout.contains("mandate serve"),
            "{}",
            out.stdout
        );
    }

    #[test]
    fn missing_token_denies() {
        let out = run(
            Assistant::Claude,
            env("/nonexistent/m.sock", None),
            BASH.as_bytes(),
        );
        assert_eq!(out.exit_code, 2);
        assert!(out.stdout.contains("MANDATE_TOKEN"));
    }

    #[test]
    fn oversized_and_garbage_input_deny() {
        let big = vec![b' '; MAX_INPUT + 10];
        let out = run(
            Assistant::Claude,
            env("/x", Some("t")),
            std::io::Cursor::new(big),
        );
        assert_eq!(out.exit_code, 2);
        assert!(out.stdout.contains("larger than"));
        let out = run(
            Assistant::Claude,
            env("/x", Some("t")),
            &b"{\"hook_event_name\": \"PreTo"[..],
        );
        assert_eq!(out.exit_code, 2);
    }

    #[test]
    fn a_stalled_stdin_is_cut_off_at_the_deadline() {
        struct Stall;
        impl Read for Stall {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_secs(30));
                Ok(0)
            }
        }
        let t = Instant::now();
        let out = run(Assistant::Claude, env("/x", Some("t")), Stall);
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(out.exit_code, 2);
        assert!(out.stdout.contains("did not answer"));
    }

    #[test]
    fn a_silent_broker_is_cut_off_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("m.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        std::thread::spawn(move || {
            let _held: Vec<_> = listener.incoming().take(1).collect();
            std::thread::sleep(Duration::from_secs(30));
        });
        let t = Instant::now();
        let out = run(
            Assistant::Claude,
            env(sock.to_str().unwrap(), Some("t")),
            BASH.as_bytes(),
        );
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!(out.exit_code, 2);
    }

    #[test]
    fn the_event_hint_names_the_event_only_where_the_adapter_takes_it() {
        let no_event = r#"{"sessionId":"s","timestamp":1704614600000,"cwd":"/p"}"#;
        let hinted = |a| {
            run_with_hint(
                a,
                env("/x", None),
                Some("agentStop".into()),
                no_event.as_bytes(),
            )
        };
        assert_eq!(hinted(Assistant::Copilot), HookOutput::default());
        let unhinted = run_with_hint(
            Assistant::Copilot,
            env("/x", None),
            None,
            no_event.as_bytes(),
        );
        assert!(unhinted.stdout.contains("\"deny\""), "{}", unhinted.stdout);
        let claude = hinted(Assistant::Claude);
        assert_eq!(claude.exit_code, 2, "{}", claude.stdout);
    }
}
