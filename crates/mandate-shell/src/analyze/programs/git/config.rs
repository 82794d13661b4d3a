//! Configuration that changes what git runs or where it goes: `-c KEY=VALUE`,
//! `--config-env KEY=VAR`, `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`,
//! `GIT_CONFIG_PARAMETERS`, the other `GIT_*` variables git reads, and `git config`.

use std::collections::HashMap;

use crate::effect::{NetTarget, ShellEffect};
use crate::words::{Expanded, VarValue};

use crate::analyze::args::Parsed;
use crate::analyze::context::WalkCx;
use crate::analyze::state::Stdin;

use super::Invocation;
use super::knowledge::{Key, KeyClass, knowledge};

/// Most `GIT_CONFIG_KEY_n` pairs read from `GIT_CONFIG_COUNT`.
const MAX_ENV_PAIRS: usize = 64;

/// A configuration value as the command line gives it.
#[derive(Debug, Clone)]
pub(super) struct Value {
    pub(super) text: String,
    /// Computed at run time.
    pub(super) dynamic: bool,
}

impl Value {
    pub(super) fn of(e: &Expanded) -> Self {
        Self {
            text: e.text.clone(),
            dynamic: e.dynamic,
        }
    }

    fn var(v: Option<&VarValue>) -> Self {
        match v {
            Some(VarValue::Static(t)) => Self {
                text: t.clone(),
                dynamic: false,
            },
            _ => Self {
                text: String::new(),
                dynamic: true,
            },
        }
    }

    /// Whether the value turns the setting off (empty, a boolean false, `/dev/null`).
    fn is_off(&self) -> bool {
        !self.dynamic
            && matches!(
                self.text.trim().to_ascii_lowercase().as_str(),
                "" | "false" | "no" | "off" | "0" | "/dev/null"
            )
    }

    /// Whether the value is a boolean (for keys that take a boolean or a command).
    fn is_bool(&self) -> bool {
        !self.dynamic
            && matches!(
                self.text.trim().to_ascii_lowercase().as_str(),
                "" | "true" | "false" | "yes" | "no" | "on" | "off" | "0" | "1"
            )
    }
}

/// Applies one setting given for this run of git (`-c`, `--config-env`, the
/// environment) to `inv`, reporting what it makes git run or reach.
pub(super) fn apply(cx: &mut WalkCx<'_>, inv: &mut Invocation, key: &str, value: &Value) {
    if key.contains('$') {
        return cx.unparseable(format!(
            "git is given a configuration key computed at run time ({key})"
        ));
    }
    let Some(k) = Key::parse(key) else { return };
    let name = k.normalized();
    match knowledge().class(&k) {
        KeyClass::Destination => {
            if value.dynamic {
                inv.unknown_remotes = Some(format!("git remote set by {name} at run time"));
            } else {
                inv.remote_config.push((name, value.text.clone()));
            }
        }
        KeyClass::WorkTree => inv.work_tree = Some(cx.path(&word(value))),
        KeyClass::Include | KeyClass::RunsFrom if value.is_off() => {}
        KeyClass::Include => cx.unparseable(format!(
            "git {name} reads configuration from another file, which may run anything"
        )),
        KeyClass::RunsFrom => cx.unparseable(format!(
            "git {name} runs hooks or templates from a directory Mandate does not read"
        )),
        KeyClass::Proxy => proxy(cx, &name, value),
        KeyClass::CredentialHelper => credential_helper(cx, &name, value),
        KeyClass::Unfollowed => {
            let harmless = k.name == "allow" && value.text.eq_ignore_ascii_case("never");
            if !harmless {
                cx.unparseable(format!(
                    "git {name} makes git run something Mandate does not follow"
                ));
            }
        }
        KeyClass::Shell => shell(cx, &k, &name, value),
        KeyClass::Other => {}
    }
}

fn word(v: &Value) -> Expanded {
    Expanded {
        text: v.text.clone(),
        dynamic: v.dynamic,
        ..Default::default()
    }
}

/// A value that is shell text git runs.
fn shell(cx: &mut WalkCx<'_>, k: &Key<'_>, name: &str, value: &Value) {
    let takes_bool = k.section == "pager" || k.name == "fsmonitor";
    if value.text.is_empty() && !value.dynamic || takes_bool && value.is_bool() {
        return;
    }
    let mut text = value.text.as_str();
    if k.section == "submodule" {
        // `submodule.NAME.update` runs a command only as `!command`.
        match text.strip_prefix('!') {
            Some(cmd) => text = cmd,
            None if !value.dynamic => return,
            None => {}
        }
    }
    if k.name == "gitproxy" {
        // `core.gitProxy = COMMAND for DOMAIN`.
        text = text.split(" for ").next().unwrap_or(text);
    }
    run_text(
        cx,
        name,
        &Value {
            text: text.trim_start_matches('!').to_owned(),
            dynamic: value.dynamic,
        },
    );
}

/// `credential.helper`: `!shell text`, a program's path, or `NAME` for the program
/// `git-credential-NAME`.
fn credential_helper(cx: &mut WalkCx<'_>, name: &str, value: &Value) {
    let text = value.text.trim();
    if text.is_empty() && !value.dynamic {
        return;
    }
    let command = match text.strip_prefix('!') {
        Some(cmd) => cmd.to_owned(),
        None if text.starts_with('/') || text.starts_with('~') || value.dynamic => text.to_owned(),
        None => format!("git-credential-{text}"),
    };
    run_text(
        cx,
        name,
        &Value {
            text: command,
            dynamic: value.dynamic,
        },
    );
}

/// A proxy: what git sends goes to its host.
fn proxy(cx: &mut WalkCx<'_>, name: &str, value: &Value) {
    if value.dynamic {
        return cx.unparseable(format!(
            "git {name} sends through a proxy computed at run time"
        ));
    }
    let text = value.text.trim();
    if text.is_empty() {
        return;
    }
    let url = if text.contains("://") {
        text.to_owned()
    } else {
        format!("http://{text}")
    };
    let data = cx.subst_reads.to_vec();
    cx.emit(ShellEffect::Connect {
        target: NetTarget::Url { url },
        sends: true,
        data_from: data,
    });
}

/// Shell text git runs as the value of `what`: followed when known, else unparseable.
pub(super) fn run_text(cx: &mut WalkCx<'_>, what: &str, value: &Value) {
    if value.dynamic {
        cx.unparseable(format!("git {what} runs a command computed at run time"));
    } else {
        cx.child_script(&value.text, &Stdin::Tty);
    }
}

/// Variables git reads from its environment (set for it, or exported earlier).
pub(super) fn environment(cx: &mut WalkCx<'_>, inv: &mut Invocation) {
    let vars = &cx.st.vars;
    let get = |k: &str| vars.get(k).cloned();
    let mut problems: Vec<String> = Vec::new();
    let settings = env_settings(vars, &mut problems);
    env_elsewhere(vars, &mut problems);
    let mut commands: Vec<(String, Value)> = Vec::new();
    let mut writes: Vec<String> = Vec::new();
    for k in ENV_COMMANDS {
        if let Some(v) = get(k) {
            commands.push(((*k).to_owned(), Value::var(Some(&v))));
        }
    }
    for (k, v) in vars.iter().filter(|(k, _)| k.starts_with("GIT_TRACE")) {
        match v {
            VarValue::Static(t) if t.starts_with('/') || t.starts_with('~') => {
                writes.push(t.clone())
            }
            VarValue::Static(_) => {}
            VarValue::Dynamic | VarValue::Glob(_) => {
                problems.push(format!("{k} is computed at run time (it may name a file)"))
            }
        }
    }
    if let Some(v) = get("GIT_DIR") {
        inv.repo = Some(cx.path(&word(&Value::var(Some(&v)))));
    }
    if let Some(v) = get("GIT_WORK_TREE") {
        inv.work_tree = Some(cx.path(&word(&Value::var(Some(&v)))));
    }
    writes.sort();
    if inv.template.is_none() && get("GIT_TEMPLATE_DIR").is_some() {
        inv.template = Some("GIT_TEMPLATE_DIR".into());
    }
    for p in problems {
        cx.unparseable(p);
    }
    for (k, v) in commands {
        let text = Value {
            text: v.text.trim_start_matches(['|', '-']).to_owned(),
            ..v
        };
        run_text(cx, &k, &text);
    }
    for w in writes {
        cx.write(&Expanded {
            text: w,
            ..Default::default()
        });
    }
    for (k, v) in settings {
        apply(cx, inv, &k, &v);
    }
}

/// The settings `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n` and
/// `GIT_CONFIG_PARAMETERS` give git; `problems` gets why some cannot be known.
fn env_settings(
    vars: &HashMap<String, VarValue>,
    problems: &mut Vec<String>,
) -> Vec<(String, Value)> {
    let get = |k: &str| vars.get(k).cloned();
    let mut settings: Vec<(String, Value)> = Vec::new();
    if let Some(count) = get("GIT_CONFIG_COUNT") {
        match count {
            VarValue::Static(n) => match n.trim().parse::<usize>() {
                Ok(n) => {
                    for i in 0..n.min(MAX_ENV_PAIRS) {
                        match get(&format!("GIT_CONFIG_KEY_{i}")) {
                            Some(VarValue::Static(k)) => {
                                let v = get(&format!("GIT_CONFIG_VALUE_{i}"));
                                settings.push((k, Value::var(v.as_ref())));
                            }
                            Some(VarValue::Dynamic | VarValue::Glob(_)) => {
                                problems
                                    .push(format!("GIT_CONFIG_KEY_{i} is computed at run time"));
                            }
                            None => {}
                        }
                    }
                }
                Err(_) if n.trim().is_empty() => {}
                Err(_) => problems.push(format!("GIT_CONFIG_COUNT={n:?} is not a number")),
            },
            VarValue::Dynamic | VarValue::Glob(_) => {
                problems.push("GIT_CONFIG_COUNT is computed at run time".into())
            }
        }
    }
    match get("GIT_CONFIG_PARAMETERS") {
        Some(VarValue::Static(p)) => match parse_parameters(&p) {
            Some(pairs) => settings.extend(pairs),
            None => problems.push("GIT_CONFIG_PARAMETERS cannot be read".into()),
        },
        Some(VarValue::Dynamic | VarValue::Glob(_)) => {
            problems.push("GIT_CONFIG_PARAMETERS is computed at run time".into());
        }
        None => {}
    }
    settings
}

/// Variables that make git read its configuration or run its programs from elsewhere.
fn env_elsewhere(vars: &HashMap<String, VarValue>, problems: &mut Vec<String>) {
    let get = |k: &str| vars.get(k).cloned();
    for k in ["GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG"] {
        if let Some(v) = get(k)
            && v != VarValue::Static("/dev/null".into())
        {
            problems.push(format!(
                "{k} makes git read configuration from another file"
            ));
        }
    }
    for k in ["HOME", "XDG_CONFIG_HOME"] {
        if get(k).is_some() {
            problems.push(format!(
                "{k} set for git makes it read another user configuration"
            ));
        }
    }
    if get("GIT_EXEC_PATH").is_some() {
        problems.push("GIT_EXEC_PATH makes git run its programs from another directory".into());
    }
}

/// Variables whose value is a command git (or what it runs) runs.
const ENV_COMMANDS: &[&str] = &[
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "PAGER",
    "EDITOR",
    "VISUAL",
];

/// `GIT_CONFIG_PARAMETERS`: space-separated single-quoted `'key'='value'` (or
/// `'key=value'`) items, as git writes them for its children.
fn parse_parameters(text: &str) -> Option<Vec<(String, Value)>> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let first = quoted_word(&mut chars)?;
        let (key, value) = if chars.peek() == Some(&'=') {
            chars.next();
            (first, quoted_word(&mut chars)?)
        } else {
            let (k, v) = first.split_once('=').unwrap_or((&first, "true"));
            (k.to_owned(), v.to_owned())
        };
        if !matches!(chars.peek(), None | Some(' ')) {
            return None;
        }
        out.push((
            key,
            Value {
                text: value,
                dynamic: false,
            },
        ));
    }
}

/// One word of `'…'` pieces and `\x` escapes, up to the first other character.
fn quoted_word(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
    let mut s = String::new();
    let mut any = false;
    while let Some(&c) = chars.peek() {
        match c {
            '\'' => {
                chars.next();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => s.push(c),
                    }
                }
            }
            '\\' => {
                chars.next();
                s.push(chars.next()?);
            }
            _ => break,
        }
        any = true;
    }
    any.then_some(s)
}

/// `-c KEY=VALUE` (`-c KEY` alone is `true`) and `--config-env KEY=VAR`.
pub(super) fn option(cx: &mut WalkCx<'_>, inv: &mut Invocation, flag: &str, v: &Expanded) {
    let (key, rest) = match v.text.split_once('=') {
        Some((k, r)) => (k, Some(r)),
        None => (v.text.as_str(), None),
    };
    let value = if flag == "--config-env" {
        Value::var(rest.and_then(|var| cx.st.vars.get(var)))
    } else {
        Value {
            text: rest.unwrap_or("true").to_owned(),
            dynamic: v.dynamic,
        }
    };
    apply(cx, inv, key, &value);
}

/// `git config [--global|--system|--file F] [--get…|--list] KEY [VALUE]`, and the
/// `get`/`set`/`unset`/`list` subcommands of newer git.
pub(super) fn config(cx: &mut WalkCx<'_>, parsed: &Parsed) {
    let words: Vec<&Expanded> = parsed.positional.iter().collect();
    let (action, rest) = match words.first().map(|w| w.text.as_str()) {
        Some(
            a @ ("get" | "list" | "set" | "unset" | "rename-section" | "remove-section" | "edit"),
        ) => (Some(a), &words[1..]),
        _ => (None, &words[..]),
    };
    let read_only = match action {
        Some(a) => matches!(a, "get" | "list"),
        None => {
            parsed.switches.iter().any(|s| {
                matches!(
                    s.as_str(),
                    "--get"
                        | "--get-all"
                        | "--get-regexp"
                        | "--get-urlmatch"
                        | "--list"
                        | "-l"
                        | "--show-origin"
                        | "--show-scope"
                )
            }) || rest.len() <= 1
                && !parsed.switches.iter().any(|s| {
                    matches!(
                        s.as_str(),
                        "--unset"
                            | "--unset-all"
                            | "--remove-section"
                            | "--rename-section"
                            | "-e"
                            | "--edit"
                    )
                })
        }
    };
    let file = match parsed.value_of(&["-f", "--file"]) {
        Some(f) => f.clone(),
        None => Expanded {
            text: if parsed.has("--global") {
                "~/.gitconfig"
            } else if parsed.has("--system") {
                "/etc/gitconfig"
            } else {
                ".git/config"
            }
            .to_owned(),
            ..Default::default()
        },
    };
    if read_only {
        return cx.read(&file);
    }
    cx.write(&file);
    if let (Some(key), Some(value)) = (rest.first(), rest.get(1)) {
        written(cx, key, value);
    }
}

/// A key set with `git config`, kept for every later git command.
fn written(cx: &mut WalkCx<'_>, key: &Expanded, value: &Expanded) {
    if key.dynamic {
        return cx.unparseable("git config sets a key computed at run time");
    }
    let Some(k) = Key::parse(&key.text) else {
        return;
    };
    let name = k.normalized();
    match knowledge().class(&k) {
        KeyClass::Other => {}
        KeyClass::Destination => match (k.name.as_str(), k.subsection) {
            ("url" | "pushurl", _) => destination(cx, &value.text, value.dynamic),
            ("insteadof" | "pushinsteadof", Some(base)) => destination(cx, base, false),
            _ => {}
        },
        _ => cx.unparseable(format!(
            "git config {name} makes later git commands run something or read configuration from elsewhere"
        )),
    }
}

/// A URL a remote is set to point at: a connection to its host (local paths are judged
/// when something is pushed there).
pub(super) fn destination(cx: &mut WalkCx<'_>, url: &str, dynamic: bool) {
    let target = if dynamic {
        NetTarget::Dynamic {
            text: url.to_owned(),
        }
    } else if super::is_url(url) {
        NetTarget::Url {
            url: url.to_owned(),
        }
    } else {
        return;
    };
    cx.emit(ShellEffect::Connect {
        target,
        sends: false,
        data_from: Vec::new(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parameters_are_read_in_both_forms() {
        let p = parse_parameters("'remote.origin.url'='https://e.example/x' 'core.pager=less'")
            .unwrap();
        let got: Vec<(&str, &str)> = p
            .iter()
            .map(|(k, v)| (k.as_str(), v.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("remote.origin.url", "https://e.example/x"),
                ("core.pager", "less")
            ]
        );
        let escaped = parse_parameters(r"'alias.x'='!echo '\''hi'\'''").unwrap();
        assert_eq!(escaped[0].1.text, "!echo 'hi'");
        assert!(parse_parameters("'unterminated").is_none());
        assert!(parse_parameters("").unwrap().is_empty());
    }

    #[test]
    fn values_that_turn_a_setting_off() {
        let v = |t: &str| Value {
            text: t.into(),
            dynamic: false,
        };
        assert!(v("").is_off() && v("/dev/null").is_off() && v("false").is_off());
        assert!(!v("/tmp/hooks").is_off());
        assert!(v("true").is_bool() && !v("less").is_bool());
    }
}
