//! A task's value provenance: which distinctive values it has seen from trusted sources
//! (its purpose, the user's prompts, the repository's files, tools the operator trusts)
//! and which only from content outsiders can write (web pages, issue and mail bodies,
//! outputs of external tools), and fingerprints of the secrets it has read. From these,
//! each action gets its [`FlowFacts`]: which of its values were injected, whether it
//! carries a secret, whether it is a plain read of a public page.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use mandate_analysis::values::{self, Found, Print, SecretPrints, ValueKey, ValueKind};
use mandate_policy::FlowFacts;
use mandate_types::api::ToolReport;
use mandate_types::{Action, ActionKind, Effect, HttpMethod, Label, PathZone};

use crate::engine::{Engine, TaskState};
use serde::{Deserialize, Serialize};

/// At most this many values of each trust are kept per task. Past it, trusted values are
/// dropped (an action is then more likely to be called injected, never less) and
/// untrusted content counts as seen only in part.
const MAX_VALUES: usize = 50_000;

/// Where content came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// The user's words, the mandate, the repository's files, tools the operator trusts.
    Trusted,
    /// Content outsiders can write.
    Untrusted,
}

/// What one piece of content added to a task's provenance (recorded in the audit log).
pub type Learned = mandate_types::audit::ProvenanceDelta;

/// One task's provenance.
#[derive(Debug, Default)]
pub struct Provenance {
    trusted: HashSet<u64>,
    /// Untrusted values mentioned in prose → the index of the content that brought them.
    untrusted: HashMap<u64, u32>,
    /// Untrusted values that stood as whole fields of structured data (a record's
    /// sender, participants, link): seen, but not an outsider's instruction.
    untrusted_data: HashSet<u64>,
    /// What brought untrusted values (`tool.result WebFetch`, ...).
    origins: Vec<String>,
    secrets: SecretPrints,
    /// Untrusted content was seen only in part (cut before it reached us, or beyond
    /// what is kept): a value found in no trusted source may have come from it.
    unseen_untrusted: bool,
}

impl Provenance {
    /// Takes the values of `text`, seen from a source of `trust`; returns what was new.
    pub fn learn(&mut self, key: &ValueKey, trust: Trust, text: &str, origin: &str) -> Learned {
        self.absorb(&hashed(key, trust, text, false), origin)
    }

    /// Takes the user's own words (the purpose, a prompt): see [`user_words`].
    pub fn learn_words(&mut self, key: &ValueKey, text: &str) -> Learned {
        self.absorb(&user_words(key, text), "prompt")
    }

    /// Adds hashes found in one piece of content (by [`hashed`] or [`user_words`],
    /// outside any lock); returns those that were new.
    pub fn absorb(&mut self, found: &Learned, origin: &str) -> Learned {
        Learned {
            trusted: self.add_trusted(&found.trusted),
            untrusted: self.add_untrusted(&found.untrusted, origin),
            untrusted_data: self.add_untrusted_data(&found.untrusted_data),
            secrets: Vec::new(),
        }
    }

    /// Notes that untrusted content was seen only in part.
    pub fn mark_unseen(&mut self) {
        self.unseen_untrusted = true;
    }

    /// Fingerprints secret strings; returns the new prints.
    pub fn learn_secrets<'a>(
        &mut self,
        key: &ValueKey,
        secrets: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Print> {
        let mut out = Vec::new();
        for s in secrets {
            let prints = SecretPrints::prints_of(key, s);
            if self.secrets.insert(&prints) {
                out.extend(prints);
            }
        }
        out
    }

    /// Puts back what an earlier state learned (from the audit log).
    pub fn restore(&mut self, l: &Learned, origin: &str) {
        self.absorb(l, origin);
        self.secrets.insert(&l.secrets);
    }

    fn add_trusted(&mut self, hashes: &[u64]) -> Vec<u64> {
        let mut new = Vec::new();
        for h in hashes {
            if self.trusted.len() < MAX_VALUES && self.trusted.insert(*h) {
                new.push(*h);
            }
        }
        new
    }

    fn add_untrusted_data(&mut self, hashes: &[u64]) -> Vec<u64> {
        let mut new = Vec::new();
        for h in hashes {
            if self.untrusted_data.len() >= MAX_VALUES {
                self.unseen_untrusted = true;
                break;
            }
            if self.untrusted_data.insert(*h) {
                new.push(*h);
            }
        }
        new
    }

    fn add_untrusted(&mut self, hashes: &[u64], origin: &str) -> Vec<u64> {
        let mut new = Vec::new();
        let idx = match self.origins.iter().position(|o| o == origin) {
            Some(i) => i,
            None => {
                self.origins.push(origin.to_owned());
                self.origins.len() - 1
            }
        };
        let idx = u32::try_from(idx).unwrap_or(u32::MAX);
        for h in hashes {
            if self.untrusted.contains_key(h) {
                continue;
            }
            if self.untrusted.len() >= MAX_VALUES {
                self.unseen_untrusted = true;
                break;
            }
            self.untrusted.insert(*h, idx);
            new.push(*h);
        }
        new
    }

    /// Whether `action`'s facts can differ from [`quiet_facts`]: something untrusted or
    /// secret has been seen, or the action is a GET and the task has data its URL could
    /// carry.
    pub fn needs_facts(&self, action: &Action) -> bool {
        !self.untrusted.is_empty()
            || !self.secrets.is_empty()
            || self.unseen_untrusted
            || (matches!(&action.kind, ActionKind::Http { .. }) && !self.trusted.is_empty())
    }

    /// The facts of one action, and what brought its injected values.
    pub fn facts(&self, key: &ValueKey, action: &Action) -> (FlowFacts, Vec<String>) {
        let text = action_text(action);
        let mut facts = FlowFacts {
            carries_secret: self.secrets.found_in(key, &text),
            ..FlowFacts::NONE
        };
        let mut injected: BTreeSet<&'static str> = BTreeSet::new();
        let mut from: BTreeSet<&str> = BTreeSet::new();
        // A value is injected when it is found only in an outsider's words; after content
        // seen only in part, any value of no trusted source may be (names excepted: a
        // tool's name is compared only with names seen).
        let mut judge = |kind: ValueKind, h: u64, unseen_counts: bool| {
            if self.trusted.contains(&h) {
                return;
            }
            // A record's field is data the agent may act on, unless an outsider also
            // quoted that short literal in prose: then it was pointed at (`delete the
            // file with ID '13'`), and the listing that holds it does not excuse it.
            let quoted = kind == ValueKind::Literal && self.untrusted.contains_key(&h);
            if self.untrusted_data.contains(&h) && !quoted {
                return;
            }
            if let Some(origin) = self.untrusted.get(&h) {
                injected.insert(kind.as_str());
                if let Some(o) = self.origins.get(*origin as usize) {
                    from.insert(o.as_str());
                }
            } else if unseen_counts && self.unseen_untrusted {
                injected.insert(kind.as_str());
                from.insert("untrusted content seen only in part");
            }
        };
        // Without names and quoted literals: in a command line those are mostly words of
        // hosts, paths and messages; they count only as an MCP call's tool and whole
        // arguments (below).
        let mut task_data = false;
        for f in values::distinctive_values(&text) {
            let h = key.value(&f);
            judge(f.kind, h, true);
            task_data |=
                !matches!(f.kind, ValueKind::Url | ValueKind::Host) && self.trusted.contains(&h);
        }
        // An MCP tool named only in untrusted content was chosen by it; so was an
        // argument that is a whole name (`new_password`, `InvestmentDiversion`) or a
        // short literal an outsider quoted (`the file with ID '13'`). The action's text
        // is then its arguments' scalars, one per line.
        if let ActionKind::McpCall { tool, .. } = &action.kind {
            let tool_name = Found {
                kind: ValueKind::Name,
                norm: values::normalise_name(&tool.tool),
            };
            judge(ValueKind::Name, key.value(&tool_name), false);
            for line in text.lines() {
                if let Some(norm) = values::whole_name(line) {
                    let name = Found {
                        kind: ValueKind::Name,
                        norm,
                    };
                    judge(ValueKind::Name, key.value(&name), false);
                }
                if let Some(literal) = values::literal(line) {
                    judge(ValueKind::Literal, key.value(&literal), false);
                }
            }
        }
        facts.public_fetch = matches!(
            &action.kind,
            ActionKind::Http {
                method: HttpMethod::Get,
                ..
            }
        ) && !facts.carries_secret
            && !task_data;
        facts.injected = injected.into_iter().collect();
        (facts, from.into_iter().map(str::to_owned).collect())
    }
}

/// The hashes of the values of `text`, seen from a source of `trust`; `records` says
/// the text is a tool's structured output (an MCP tool's JSON or YAML), whose whole
/// scalars are data rather than an outsider's words. Pure: run it outside any lock.
pub fn hashed(key: &ValueKey, trust: Trust, text: &str, records: bool) -> Learned {
    let hash = |v: &[Found]| -> Vec<u64> { v.iter().map(|f| key.value(f)).collect() };
    match trust {
        // A trusted tool's records: the operator vouches for the fields the tool laid
        // out, not for free text someone wrote into one (a channel's name, a transfer's
        // subject, a note), which is as much an outsider's words as a mail body.
        Trust::Trusted if records => {
            let (data, prose) = values::distinctive_in_records(text);
            Learned {
                trusted: hash(&data),
                untrusted: hash(&prose),
                ..Learned::default()
            }
        }
        Trust::Trusted => Learned {
            trusted: hash(&values::distinctive(text)),
            ..Learned::default()
        },
        Trust::Untrusted => {
            let (data, prose) = if records {
                values::distinctive_in_records(text)
            } else {
                (Vec::new(), values::distinctive(text))
            };
            Learned {
                untrusted: hash(&prose),
                untrusted_data: hash(&data),
                ..Learned::default()
            }
        }
    }
}

/// The user's own words (the purpose, a prompt): their values, and every word as a
/// literal they may mean as an argument, all trusted.
pub fn user_words(key: &ValueKey, text: &str) -> Learned {
    let mut found = values::distinctive(text);
    found.extend(values::words(text));
    Learned {
        trusted: found.iter().map(|f| key.value(f)).collect(),
        ..Learned::default()
    }
}

/// The facts of an action of a task with no provenance yet.
pub fn quiet_facts(action: &Action) -> FlowFacts {
    FlowFacts {
        public_fetch: matches!(
            &action.kind,
            ActionKind::Http {
                method: HttpMethod::Get,
                ..
            }
        ),
        ..FlowFacts::NONE
    }
}

/// The text an action carries: a command line, a path, a URL, the scalars of a tool's
/// arguments (one per line).
fn action_text(action: &Action) -> Cow<'_, str> {
    match &action.kind {
        ActionKind::Shell { command } => Cow::Borrowed(command),
        ActionKind::FileRead { path }
        | ActionKind::FileWrite {
            path,
            content: None,
        } => Cow::Borrowed(path),
        ActionKind::FileWrite {
            path,
            content: Some(c),
        } => Cow::Owned(format!("{path}\n{c}")),
        ActionKind::Http { url, .. } => Cow::Borrowed(url.as_str()),
        ActionKind::McpCall { args, .. } => {
            let mut out = String::new();
            scalars(args, &mut out);
            Cow::Owned(out)
        }
        ActionKind::AssistantTool { prompt, input, .. } => {
            let mut out = prompt
                .as_ref()
                .and_then(|p| p.text.clone())
                .unwrap_or_default();
            scalars(input, &mut out);
            Cow::Owned(out)
        }
    }
}

/// Every scalar of a JSON value, one per line (so values never run together).
fn scalars(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| scalars(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| scalars(x, out)),
        serde_json::Value::Bool(_) | serde_json::Value::Null => {}
    }
}

/// The action a tool report's input describes (its command, its path, its URL), as if
/// run in the task's first repository.
fn reported_action(state: &TaskState, r: &ToolReport) -> Option<Action> {
    let input = r.input.as_ref()?;
    let text = |k: &str| input.get(k).and_then(serde_json::Value::as_str);
    let kind = if let Some(c) = text("command") {
        ActionKind::shell(c).ok()?
    } else if let Some(p) = text("file_path").or(text("path")).or(text("absolute_path")) {
        ActionKind::file_read(p).ok()?
    } else {
        return None;
    };
    let cwd = state.mandate().scope.repos.first()?.clone();
    Some(Action { kind, cwd })
}

/// Where a tool's output came from, judged from its input (its command, path or URL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Source {
    /// Content outsiders can write: a URL, a command that reached another machine, a file
    /// outside the task's repository and temp dir, or a dependency's file inside it.
    pub outsider: bool,
    /// A file known to hold secrets (then every assignment in it is a secret).
    pub secret_file: bool,
}

/// Judges the source of a reported tool's output.
pub fn source_of(engine: &Engine, state: &TaskState, r: &ToolReport) -> Source {
    if r.input.as_ref().and_then(|i| i.get("url")).is_some() {
        return Source {
            outsider: true,
            secret_file: false,
        };
    }
    let Some(action) = reported_action(state, r) else {
        return Source::default();
    };
    let mut source = Source::default();
    for e in engine.analyzer().analyze(&action, &state.view).effects {
        match e {
            Effect::Connect(h) | Effect::Send { to: h, .. } | Effect::RunRemote(h) => {
                source.outsider |= !h.loopback;
            }
            Effect::Read(f) => {
                source.outsider |= !matches!(f.zone, PathZone::Repo | PathZone::Temp)
                    || THIRD_PARTY.iter().any(|d| f.path.contains(d));
                source.secret_file |=
                    f.labels.contains(Label::Secret) || f.labels.contains(Label::Credential);
            }
            _ => {}
        }
    }
    source
}

/// Where a repository keeps code it did not write.
const THIRD_PARTY: &[&str] = &["/node_modules/", "/site-packages/", "/vendor/", "/.venv/"];
