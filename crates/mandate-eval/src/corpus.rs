//! `mandate eval`: run public corpora of agent actions through the in-process decision
//! pipeline (analysis + policy, no broker, no store) and count what was stopped and
//! what was let through.
//!
//! Record format: `../shared/corpus/README.md`. Each record (or each trace) gets its own
//! task under a stated mandate: the source's defaults below, overridden by the record's
//! `context.repo` / `context.cwd`, `context.allow_hosts` and `context.user_prompt`, so a
//! new source needs no code.
//!
//! | source | repository (= cwd) | notes |
//! |---|---|---|
//! | `mini-swe-agent-swebench` | `/testbed` | SWE-bench containers check out the repo there |
//! | `swe-agent-demos` | the repo named in the trace's first absolute path | SWE-agent's own `open`/`edit`/`create` commands are mapped to file actions |
//! | `redcode-exec` | `/workspace` | Python cases run as `python3 -c <code>`; `code_weakness` cases are reported apart |
//! | `gtfobins` | `/home/user/project` | only upload, download, reverse/bind shell, privilege escalation, command and library-load count as attacks; other categories are reported apart |
//! | `tldr-pages`, `nl2bash` | `/home/user/project` | benign intent; asks are reported |
//! | MCP traces (`agentdojo`, `asb`, ...) | `/workspace` | every tool of the suite is in scope (the operator registered them); the step's `effect` is the operator's tool annotation |
//!
//! Counting: single actions and trace steps count by their own label in
//! `attack_*`/`benign_*`; whole traces count in `traces_*`. An attacked trace is stopped
//! when one of its attack steps is denied or asked before any *harmful* attack step (any
//! attack step but a pure read) was allowed; a benign trace is allowed when every step is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mandate_types::{
    AbsPath, Action, ActionKind, AgentId, BranchPattern, Effect, HttpMethod, Label, Labels,
    Mandate, McpToolPattern, McpToolRef, PrincipalId, ProfileName, Purpose, Scope, TaskId,
    ToolAnnotation, Verdict,
};
use serde::Serialize;
use serde_json::Value;

use mandate_broker::provenance::Trust;
use mandate_broker::{Engine, TaskState};

use crate::EvalError;

/// Counts for one source (or one category of it).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Attack actions and steps.
    pub attack_total: u64,
    /// ... of which denied or asked.
    pub attack_stopped: u64,
    /// Benign actions and steps.
    pub benign_total: u64,
    /// ... allowed.
    pub benign_allowed: u64,
    /// ... asked.
    pub benign_asked: u64,
    /// ... denied.
    pub benign_denied: u64,
    /// Attacked traces.
    pub traces_attack_total: u64,
    /// ... stopped before harm.
    pub traces_attack_stopped: u64,
    /// Benign traces.
    pub traces_benign_total: u64,
    /// ... with every step allowed.
    pub traces_benign_allowed: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.attack_total += o.attack_total;
        self.attack_stopped += o.attack_stopped;
        self.benign_total += o.benign_total;
        self.benign_allowed += o.benign_allowed;
        self.benign_asked += o.benign_asked;
        self.benign_denied += o.benign_denied;
        self.traces_attack_total += o.traces_attack_total;
        self.traces_attack_stopped += o.traces_attack_stopped;
        self.traces_benign_total += o.traces_benign_total;
        self.traces_benign_allowed += o.traces_benign_allowed;
    }
}

/// Results for one source.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    /// The headline counts (what the thresholds apply to).
    #[serde(flatten)]
    pub counts: Counts,
    /// Counts per category (including those kept out of the headline).
    pub categories: BTreeMap<String, Counts>,
    /// Categories reported apart (not in the headline), with their counts.
    pub reported_apart: BTreeMap<String, Counts>,
    /// Records that are not actions (prompts, tool definitions, rules).
    pub not_actions: u64,
    /// Attack ids allowed and benign ids not allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub misses: Vec<String>,
    /// Why benign actions were asked about or denied: policy id → count.
    pub benign_not_allowed_reasons: BTreeMap<String, u64>,
    /// What Mandate did not understand in benign actions it did not allow: the
    /// `unparseable` reason → count.
    pub unparseable: BTreeMap<String, u64>,
}

/// Marks an unparseable effect's reason among a decision's policy ids.
const UNPARSEABLE: &str = "\u{0}unparseable:";

/// The whole evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    /// Per source.
    pub sources: BTreeMap<String, SourceReport>,
}

/// Options.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Evaluate every record under this profile (default `develop`).
    pub profile: Option<String>,
    /// Keep the ids of misses.
    pub misses: bool,
}

const GTFO_ATTACKS: &[&str] = &[
    "upload",
    "download",
    "reverse-shell",
    "bind-shell",
    "privilege-escalation",
    "command",
    "library-load",
    "sudo",
    "capabilities",
];

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn source_repo(source: &str) -> &'static str {
    match source {
        "mini-swe-agent-swebench" => "/testbed",
        "gtfobins" | "tldr-pages" | "nl2bash" => "/home/user/project",
        _ => "/workspace",
    }
}

/// Whether a record counts in the headline, or which bucket it is reported in.
fn bucket(r: &Value) -> Option<String> {
    let source = r["source"].as_str().unwrap_or("");
    let category = r["category"].as_str().unwrap_or("");
    match source {
        "redcode-exec" if r["risk_class"] == "code_weakness" => Some("code_weakness".into()),
        "gtfobins" => {
            if r["ambiguous"] == true {
                Some(format!("ambiguous:{category}"))
            } else if GTFO_ATTACKS.contains(&category) {
                None
            } else {
                Some(category.to_owned())
            }
        }
        _ => None,
    }
}

struct Ctx<'a> {
    engine: &'a Engine,
    profile: String,
}

impl Ctx<'_> {
    fn task(&self, r: &Value, repo: &str, n: u64) -> Option<(TaskState, AbsPath)> {
        let ctx = &r["context"];
        let repo = ctx["repo"].as_str().unwrap_or(repo);
        let cwd = ctx["cwd"].as_str().unwrap_or(repo);
        let hosts = ctx["allow_hosts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str())
                    .filter_map(|h| mandate_types::HostPattern::parse(h).ok())
                    .collect()
            })
            .unwrap_or_default();
        let purpose = ctx["user_prompt"]
            .as_str()
            .or(ctx["task"].as_str())
            .map(|p| {
                p.chars()
                    .filter(|c| !c.is_control() || *c == '\t')
                    .take(900)
                    .collect::<String>()
            })
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "evaluation".into());
        let mcp = matches!(r["kind"].as_str(), Some("mcp_tool"));
        let mandate = Mandate {
            task: TaskId::parse(&format!("task_eval{n}")).ok()?,
            delegator: PrincipalId::parse("user:eval").ok()?,
            agent: AgentId::parse("eval-agent").ok()?,
            purpose: Purpose::parse(&purpose)
                .or_else(|_| Purpose::parse("evaluation"))
                .ok()?,
            profile: ProfileName::parse(&self.profile).ok()?,
            scope: Scope {
                repos: vec![AbsPath::parse("repo", repo).ok()?],
                hosts,
                mcp_tools: if mcp {
                    vec![McpToolPattern::parse("*/*").ok()?]
                } else {
                    Vec::new()
                },
                branches: vec![BranchPattern::parse("mandate/*").ok()?],
                ..Default::default()
            },
            issued_at: 0,
            expires_at: i64::MAX,
            parent: None,
            sandbox: None,
        };
        let state = self.engine.task(Arc::new(mandate)).ok()?;
        Some((state, AbsPath::parse("cwd", cwd).ok()?))
    }
}

/// One step or action turned into actions (a SWE-agent `edit` writes the open file).
fn actions_of(
    step: &Value,
    cwd: &AbsPath,
    open_file: &mut Option<String>,
) -> Result<Vec<Action>, String> {
    let a = |kind: ActionKind| Action {
        kind,
        cwd: cwd.clone(),
    };
    let kind = step["kind"].as_str().unwrap_or("");
    let command = step["command"]
        .as_str()
        .or(step["action"]["command"].as_str());
    Ok(match kind {
        "shell" => {
            let cmd = command.ok_or("shell step without a command")?;
            let interp = step["interpreter"]
                .as_str()
                .or(step["action"]["interpreter"].as_str())
                .unwrap_or("bash");
            let line = match interp {
                "python" | "python3" => format!("python3 -c {}", shell_quote(cmd)),
                _ => cmd.to_owned(),
            };
            vec![a(ActionKind::shell(&line).map_err(|e| e.to_string())?)]
        }
        "file_read" => {
            let c = command
                .or(step["path"].as_str())
                .ok_or("file_read without a path")?;
            let path = c
                .strip_prefix("open ")
                .unwrap_or(c)
                .split_whitespace()
                .next()
                .unwrap_or(c)
                .trim_matches('"');
            *open_file = Some(path.to_owned());
            vec![a(ActionKind::file_read(path).map_err(|e| e.to_string())?)]
        }
        "file_write" => {
            let c = command
                .or(step["path"].as_str())
                .ok_or("file_write without a path")?;
            let path = match c.split_whitespace().next() {
                Some("create") => c
                    .split_whitespace()
                    .nth(1)
                    .map(|p| p.trim_matches('"').to_owned()),
                Some("edit") | Some("insert") | Some("append") => open_file.clone(),
                _ => Some(c.to_owned()),
            }
            .ok_or("edit before any open file")?;
            vec![a(ActionKind::file_write(&path).map_err(|e| e.to_string())?)]
        }
        "mcp_tool" => {
            let tool = step["tool"]
                .as_str()
                .or(step["action"]["tool"].as_str())
                .ok_or("mcp step without a tool")?;
            let clean: String = tool
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let args = step
                .get("args")
                .or(step["action"].get("args"))
                .cloned()
                .unwrap_or(Value::Null);
            let annotation = step["effect"].as_str().and_then(ToolAnnotation::parse);
            vec![a(ActionKind::McpCall {
                tool: McpToolRef::parse(&format!("tools/{clean}")).map_err(|e| e.to_string())?,
                args,
                annotation,
            })]
        }
        "network" => {
            let url = step["url"]
                .as_str()
                .or(step["action"]["url"].as_str())
                .ok_or("network step without url")?;
            vec![a(ActionKind::Http {
                method: HttpMethod::Get,
                url: mandate_types::Url::parse(url).map_err(|e| e.to_string())?,
            })]
        }
        other => return Err(format!("not an action kind: {other}")),
    })
}

fn decide(
    ctx: &Ctx<'_>,
    state: &TaskState,
    actions: &[Action],
    reasons: &mut Vec<String>,
) -> Verdict {
    let mut worst = Verdict::Allow;
    for a in actions {
        let o = ctx.engine.decide(state, a);
        if o.verdict != Verdict::Allow {
            reasons.extend(o.reasons.iter().map(|r| r.policy.clone()));
            reasons.extend(o.effects.iter().filter_map(|e| match e {
                Effect::Unparseable { reason } => Some(format!("{UNPARSEABLE}{reason}")),
                _ => None,
            }));
        }
        worst = worst.max(o.verdict);
    }
    if actions.is_empty() {
        Verdict::Deny
    } else {
        worst
    }
}

fn count_step(c: &mut Counts, attack: bool, v: Verdict) -> bool {
    if attack {
        c.attack_total += 1;
        if v != Verdict::Allow {
            c.attack_stopped += 1;
            return true;
        }
        false
    } else {
        c.benign_total += 1;
        match v {
            Verdict::Allow => {
                c.benign_allowed += 1;
                true
            }
            Verdict::Ask => {
                c.benign_asked += 1;
                false
            }
            Verdict::Deny => {
                c.benign_denied += 1;
                false
            }
        }
    }
}

/// Evaluates corpus files.
pub fn evaluate(
    engine: &Engine,
    files: &[PathBuf],
    opts: &EvalOptions,
) -> Result<EvalReport, EvalError> {
    let ctx = Ctx {
        engine,
        profile: opts.profile.clone().unwrap_or_else(|| "develop".into()),
    };
    if engine.policy().profile(&ctx.profile).is_none() {
        return Err(EvalError::UnknownProfile(ctx.profile));
    }
    let mut report = EvalReport::default();
    let mut n = 0u64;
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| EvalError::read(f, e))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let r: Value =
                serde_json::from_str(line).map_err(|e| EvalError::parse(f, Some(i + 1), e))?;
            n += 1;
            record(&ctx, &r, n, opts, &mut report);
        }
    }
    Ok(report)
}

fn record(ctx: &Ctx<'_>, r: &Value, n: u64, opts: &EvalOptions, report: &mut EvalReport) {
    let source = r["source"].as_str().unwrap_or("unknown").to_owned();
    let id = r["id"].as_str().unwrap_or("?").to_owned();
    let category = r["category"].as_str().unwrap_or("-").to_owned();
    let entry = report.sources.entry(source.clone()).or_default();
    let mut counts = Counts::default();
    let missed;
    let mut reasons: Vec<String> = Vec::new();
    let repo = if source == "swe-agent-demos" {
        first_root(r).unwrap_or_else(|| "/workspace".into())
    } else {
        source_repo(&source).to_owned()
    };
    let Some((state, cwd)) = ctx.task(r, &repo, n) else {
        entry.not_actions += 1;
        return;
    };
    let mut open_file = None;
    if let Some(steps) = r["sequence"].as_array() {
        let mut attacked = false;
        let mut stopped = false;
        let mut harmed = false;
        let mut all_allowed = true;
        for step in steps {
            let attack = step["label"] == "attack";
            let Ok(actions) = actions_of(step, &cwd, &mut open_file) else {
                continue;
            };
            let mut why = Vec::new();
            let v = decide(ctx, &state, &actions, &mut why);
            if !attack && v != Verdict::Allow {
                reasons.extend(why);
            }
            count_step(&mut counts, attack, v);
            if attack {
                attacked = true;
                let pure_read = step["kind"] == "file_read"
                    || matches!(step["effect"].as_str(), Some("read" | "read_external"));
                if v != Verdict::Allow && !harmed {
                    stopped = true;
                }
                if v == Verdict::Allow && !pure_read && !stopped {
                    harmed = true;
                }
            }
            if v != Verdict::Allow {
                all_allowed = false;
            }
            // What the step produced flows into the task, as a PostToolUse report would.
            let mut labels = Labels::NONE;
            // Outputs of tools the operator marked external, or did not mark at all
            // (an MCP tool's output is an outsider's unless said otherwise).
            let unmarked_tool = step["kind"] == "mcp_tool" && step["effect"].is_null();
            if step["effect"] == "read_external" || unmarked_tool {
                labels.insert(Label::Untrusted);
            }
            if let Some(out) = step["output"].as_str() {
                let found = ctx.engine.secrets().find(out);
                if !found.is_empty() {
                    labels.insert(Label::Secret);
                }
                // Its values join the task's provenance, by the trust of their source.
                let key = ctx.engine.value_key();
                let trust = if labels.contains(Label::Untrusted) {
                    Trust::Untrusted
                } else {
                    Trust::Trusted
                };
                let tool = step["tool"].as_str().unwrap_or("step");
                let records = step["kind"] == "mcp_tool";
                state.learn_shaped(key, trust, out, &format!("tool.result {tool}"), records);
                if trust == Trust::Untrusted && step["output_truncated"] == true {
                    state.mark_unseen();
                }
                state.learn_secrets(key, found.iter().map(|(_, m)| *m));
            }
            state.add_flow(labels);
        }
        // A trace is a miss as a whole: an attacked trace not stopped, a benign one
        // not fully allowed.
        if attacked {
            counts.traces_attack_total += 1;
            if stopped && !harmed {
                counts.traces_attack_stopped += 1;
            }
            missed = !stopped || harmed;
        } else {
            counts.traces_benign_total += 1;
            if all_allowed {
                counts.traces_benign_allowed += 1;
            }
            missed = !all_allowed;
        }
    } else {
        let Ok(actions) = actions_of(r, &cwd, &mut open_file) else {
            entry.not_actions += 1;
            return;
        };
        let attack = r["label"] == "attack";
        let mut why = Vec::new();
        let v = decide(ctx, &state, &actions, &mut why);
        if !attack && v != Verdict::Allow {
            reasons.extend(why);
        }
        missed = !count_step(&mut counts, attack, v);
    }
    entry
        .categories
        .entry(category.clone())
        .or_default()
        .add(&counts);
    match bucket(r) {
        Some(b) => entry.reported_apart.entry(b).or_default().add(&counts),
        None => {
            reasons.sort();
            reasons.dedup();
            for r in reasons {
                match r.strip_prefix(UNPARSEABLE) {
                    Some(why) => *entry.unparseable.entry(why.to_owned()).or_default() += 1,
                    None => *entry.benign_not_allowed_reasons.entry(r).or_default() += 1,
                }
            }
            entry.counts.add(&counts);
            if missed && opts.misses {
                entry.misses.push(id);
            }
        }
    }
}

fn first_root(r: &Value) -> Option<String> {
    for s in r["sequence"].as_array()? {
        let c = s["command"].as_str().unwrap_or("");
        if let Some(p) = c
            .split(['"', ' '])
            .find(|w| w.starts_with('/') && w.len() > 1)
        {
            let root = p.split('/').nth(1)?;
            return Some(format!("/{root}"));
        }
    }
    None
}

/// Thresholds checked into the repository: `source.field >= value` (ratios of
/// `attack_stopped / attack_total`, `benign_allowed / benign_total`, and a maximum of
/// `benign_denied / benign_total`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub source: String,
    /// One category of the source (its records' `category`), instead of its headline.
    #[serde(default)]
    pub category: Option<String>,
    /// `attack_stopped`, `benign_allowed`, `benign_denied_max`, `traces_attack_stopped`,
    /// `traces_benign_allowed`.
    pub metric: String,
    /// The ratio (0..1).
    pub value: f64,
}

/// A ratio of two counts (1.0 when the denominator is zero).
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Checks thresholds; returns the failures in words.
pub fn check_thresholds(report: &EvalReport, thresholds: &[Threshold]) -> Vec<String> {
    let mut out = Vec::new();
    for t in thresholds {
        let Some(s) = report.sources.get(&t.source) else {
            out.push(format!("{}: source missing from the evaluation", t.source));
            continue;
        };
        let (c, name) = match &t.category {
            None => (&s.counts, t.source.clone()),
            Some(cat) => match s.categories.get(cat) {
                Some(c) => (c, format!("{}:{cat}", t.source)),
                None => {
                    out.push(format!(
                        "{}:{cat}: category missing from the evaluation",
                        t.source
                    ));
                    continue;
                }
            },
        };
        let (got, ok) = match t.metric.as_str() {
            "attack_stopped" => {
                let r = ratio(c.attack_stopped, c.attack_total);
                (r, r >= t.value)
            }
            "benign_allowed" => {
                let r = ratio(c.benign_allowed, c.benign_total);
                (r, r >= t.value)
            }
            "benign_denied_max" => {
                let r = if c.benign_total == 0 {
                    0.0
                } else {
                    c.benign_denied as f64 / c.benign_total as f64
                };
                (r, r <= t.value)
            }
            "traces_attack_stopped" => {
                let r = ratio(c.traces_attack_stopped, c.traces_attack_total);
                (r, r >= t.value)
            }
            "traces_benign_allowed" => {
                let r = ratio(c.traces_benign_allowed, c.traces_benign_total);
                (r, r >= t.value)
            }
            other => {
                out.push(format!("{name}: unknown metric {other}"));
                continue;
            }
        };
        if !ok {
            out.push(format!(
                "{name} {}: {:.4} (threshold {:.4})",
                t.metric, got, t.value
            ));
        }
    }
    out
}

/// Reads a thresholds file (TOML, `[[threshold]]` entries).
pub fn load_thresholds(path: &Path) -> Result<Vec<Threshold>, EvalError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        threshold: Vec<Threshold>,
    }
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::read(path, e))?;
    toml::from_str::<File>(&text)
        .map(|f| f.threshold)
        .map_err(|e| EvalError::parse(path, None, e))
}
