//! `git [GLOBAL OPTIONS] SUBCOMMAND [ARGS]`: what each subcommand does is data
//! (`data/git.toml`); what needs code is here: the global options (`-C DIR`,
//! `-c KEY=VALUE` that makes git run a command), remotes given by name or URL, and the
//! analysis of `push` (refspecs, force, all), `clone`, `fetch`, `config` and `remote`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::effect::{NetTarget, ShellEffect, ShellPath};
use crate::kb::{FlagRole, ProgramSpec};
use crate::words::Expanded;

use crate::analyze::args::{Parsed, Until};
use crate::analyze::context::{ProgramModel, WalkCx};
use crate::analyze::state::Stdin;
use crate::analyze::targets::remote_spec;

/// What git's subcommands and configuration keys do.
const GIT_DATA: &str = include_str!("../../../data/git.toml");

/// The kinds of subcommand `data/git.toml` sorts git's subcommands into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// Receives from a remote (`fetch`, `pull`, `ls-remote`).
    Fetch,
    Push,
    Clone,
    Config,
    Remote,
    /// Only reads the repository.
    Inspect,
    /// Changes the repository locally.
    LocalChange,
    /// Reaches past the repository in a way not modelled yet.
    NotModelled,
}

/// `data/git.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitData {
    /// Kind → the subcommands of that kind.
    subcommands: HashMap<Kind, Vec<String>>,
    config: ConfigKeys,
}

/// Configuration keys that make git run a command.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigKeys {
    /// Keys whose command `git -c` follows when its value is known.
    followed: Vec<String>,
    /// Keys whose setting is otherwise unparseable.
    runs_command: Vec<String>,
    /// Key prefixes treated as `runs_command`.
    runs_command_prefixes: Vec<String>,
}

/// `data/git.toml`, parsed once, with subcommands looked up by name.
struct Knowledge {
    kinds: HashMap<String, Kind>,
    config: ConfigKeys,
}

impl ConfigKeys {
    fn is_followed(&self, key: &str) -> bool {
        self.followed.iter().any(|k| k == key)
    }

    fn runs_command(&self, key: &str) -> bool {
        self.runs_command.iter().any(|k| k == key)
            || self
                .runs_command_prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()))
    }
}

fn parse_knowledge(text: &str) -> Result<Knowledge, toml::de::Error> {
    let data: GitData = toml::from_str(text)?;
    let mut kinds = HashMap::new();
    for (kind, names) in data.subcommands {
        for name in names {
            kinds.insert(name, kind);
        }
    }
    Ok(Knowledge {
        kinds,
        config: data.config,
    })
}

#[expect(
    clippy::expect_used,
    reason = "data/git.toml is built in and parsed by a unit test"
)]
fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| parse_knowledge(GIT_DATA).expect("data/git.toml parses"))
}

/// `git` (`args = "git"`).
pub(crate) struct Git;

impl ProgramModel for Git {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let (global, consumed) = cx.parse_args(name, spec, args, Until::FirstPositional);
        global_options(cx, &global);
        let Some(sub) = global.positional.first() else {
            return;
        };
        let Some(sub_spec) = spec.subcommands.get(&sub.text) else {
            return cx.unparseable(format!(
                "unknown git subcommand {:?} (an alias or an external git-{} program may run anything)",
                sub.text, sub.text
            ));
        };
        let (parsed, _) = cx.parse_args(
            &format!("{name} {}", sub.text),
            sub_spec,
            &args[consumed..],
            Until::End,
        );
        match knowledge().kinds.get(&sub.text) {
            Some(Kind::Push) => push(cx, &parsed),
            Some(Kind::Clone) => clone(cx, &parsed),
            Some(Kind::Fetch) => fetch(cx, &parsed),
            Some(Kind::Config) => config(cx, &parsed),
            Some(Kind::Remote) => remote(cx, &parsed),
            Some(Kind::Inspect | Kind::LocalChange | Kind::NotModelled) | None => {}
        }
    }

    fn reads_own_subcommands(&self) -> bool {
        true
    }
}

/// `-C DIR` (and `--git-dir`, `--work-tree`) moves git; `-c KEY=VALUE` and
/// `--config-env KEY=VAR` may make it run a command.
fn global_options(cx: &mut WalkCx<'_>, global: &Parsed) {
    let keys = &knowledge().config;
    for (flag, role, v) in &global.flags {
        match role {
            FlagRole::Dir => cx.dir = Some(cx.path(v)),
            _ if flag == "-c" || flag == "--config-env" => {
                let (key, value) = v.text.split_once('=').unwrap_or((&v.text, ""));
                let key = key.to_ascii_lowercase();
                if keys.is_followed(&key) && !v.dynamic && !value.is_empty() {
                    // Follow the command git will run (`credential.helper` may be a
                    // `!`-prefixed shell snippet).
                    let value = value.strip_prefix('!').unwrap_or(value);
                    cx.child_script(value, &Stdin::Tty);
                } else if keys.runs_command(&key) {
                    cx.unparseable(format!("git -c {key}=... makes git run a command"));
                }
            }
            _ => {}
        }
    }
}

/// A remote as written: a URL (`https://…`, `git@host:repo`), or the name of one
/// configured in the repository at `dir`.
fn remote_target(e: &Expanded, dir: Option<&ShellPath>) -> NetTarget {
    if e.dynamic {
        NetTarget::Dynamic {
            text: e.text.clone(),
        }
    } else if e.text.contains("://") || remote_spec(&e.text).is_some() && e.text.contains(':') {
        NetTarget::Url {
            url: e.text.clone(),
        }
    } else {
        NetTarget::GitRemote {
            name: e.text.clone(),
            dir: dir.cloned(),
        }
    }
}

/// `git push [REMOTE [REFSPEC...]]`.
fn push(cx: &mut WalkCx<'_>, parsed: &Parsed) {
    let force = parsed.switches.iter().any(|s| {
        matches!(
            s.as_str(),
            "-f" | "--force"
                | "--force-with-lease"
                | "--force-if-includes"
                | "--delete"
                | "-d"
                | "--mirror"
                | "--prune"
        )
    }) || parsed
        .positional
        .iter()
        .skip(1)
        .any(|r| r.text.starts_with('+') || r.text.starts_with(':'));
    let all = parsed.switches.iter().any(|s| {
        matches!(
            s.as_str(),
            "--all" | "--mirror" | "--tags" | "--follow-tags"
        )
    });
    let remote = parsed
        .positional
        .first()
        .map(|r| remote_target(r, cx.dir.as_ref()));
    let refspecs = parsed
        .positional
        .iter()
        .skip(1)
        .map(|r| r.text.clone())
        .collect();
    cx.emit(ShellEffect::Push {
        remote,
        refspecs,
        force,
        all,
        dir: cx.dir.clone(),
    });
}

/// `git clone URL [DIR]`: the directory defaults to the URL's last component.
fn clone(cx: &mut WalkCx<'_>, parsed: &Parsed) {
    let Some(url) = parsed.positional.first() else {
        return;
    };
    cx.emit(ShellEffect::Connect {
        target: remote_target(url, cx.dir.as_ref()),
        sends: false,
        data_from: Vec::new(),
    });
    let dest = match parsed.positional.get(1) {
        Some(d) => d.clone(),
        None => Expanded {
            text: url
                .text
                .trim_end_matches('/')
                .trim_end_matches(".git")
                .rsplit(['/', ':'])
                .next()
                .unwrap_or("repo")
                .to_owned(),
            ..url.clone()
        },
    };
    cx.write(&dest);
}

/// `git fetch|pull|ls-remote [REMOTE]`.
fn fetch(cx: &mut WalkCx<'_>, parsed: &Parsed) {
    let remote = parsed.positional.first().cloned().unwrap_or(Expanded {
        text: "origin".into(),
        ..Default::default()
    });
    let target = if remote.text == "--all" || parsed.has("--all") {
        NetTarget::Dynamic {
            text: "all remotes".into(),
        }
    } else {
        remote_target(&remote, cx.dir.as_ref())
    };
    cx.emit(ShellEffect::Connect {
        target,
        sends: false,
        data_from: Vec::new(),
    });
}

/// `git config [--global|--system] [--get…|--list] KEY [VALUE]`.
fn config(cx: &mut WalkCx<'_>, parsed: &Parsed) {
    let read_only = parsed.switches.iter().any(|s| {
        matches!(
            s.as_str(),
            "--get" | "--get-all" | "--get-regexp" | "--list" | "-l" | "--show-origin"
        )
    }) || parsed.positional.len() <= 1;
    let key = parsed
        .positional
        .first()
        .map(|k| k.text.to_ascii_lowercase())
        .unwrap_or_default();
    let file = if parsed.has("--global") {
        "~/.gitconfig"
    } else if parsed.has("--system") {
        "/etc/gitconfig"
    } else {
        ".git/config"
    };
    let file = Expanded {
        text: file.to_owned(),
        ..Default::default()
    };
    if read_only {
        cx.read(&file);
    } else {
        if knowledge().config.runs_command(&key) {
            cx.unparseable(format!("git config {key} makes git run a command"));
        }
        cx.write(&file);
    }
}

/// `git remote add|set-url|rename|remove|rm ...` writes the repository's configuration.
fn remote(cx: &mut WalkCx<'_>, parsed: &Parsed) {
    let action = parsed
        .positional
        .get(1)
        .map(|a| a.text.as_str())
        .unwrap_or("");
    if matches!(action, "add" | "set-url" | "rename" | "remove" | "rm") {
        cx.write(&Expanded {
            text: ".git/config".into(),
            ..Default::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::kb::KnowledgeBase;

    #[test]
    fn git_data_parses_and_sorts_every_known_subcommand_exactly_once() {
        let data: GitData = toml::from_str(GIT_DATA).unwrap();
        let listed: Vec<&String> = data.subcommands.values().flatten().collect();
        let unique: HashSet<&String> = listed.iter().copied().collect();
        assert_eq!(listed.len(), unique.len(), "a subcommand is listed twice");
        let kb = KnowledgeBase::builtin();
        let known: HashSet<&String> = kb.get("git").unwrap().subcommands.keys().collect();
        assert_eq!(unique, known, "data/git.toml and programs.toml disagree");
    }

    #[test]
    fn config_keys_are_lower_case_and_followed_keys_run_commands() {
        let keys = &knowledge().config;
        for k in keys.followed.iter().chain(&keys.runs_command) {
            assert_eq!(*k, k.to_ascii_lowercase());
        }
        for k in &keys.followed {
            assert!(keys.runs_command(k), "{k}");
        }
        assert!(keys.runs_command("alias.st"));
        assert!(!keys.runs_command("user.name"));
    }

    use crate::analyze::testing::run;

    #[test]
    fn push_reports_remote_refspecs_and_force() {
        assert_eq!(
            run(&Git, &["git", "push", "origin", "main"]),
            ["push remote origin main"]
        );
        assert_eq!(
            run(&Git, &["git", "push", "-f", "origin", "main"]),
            ["push remote origin main force"]
        );
        assert_eq!(
            run(&Git, &["git", "push", "origin", ":gone"]),
            ["push remote origin :gone force"]
        );
        assert_eq!(
            run(&Git, &["git", "push", "--mirror", "origin"]),
            ["push remote origin  force all"]
        );
        assert_eq!(run(&Git, &["git", "push"]), ["push - "]);
        assert_eq!(
            run(&Git, &["git", "push", "git@github.com:a/b.git", "main"]),
            ["push git@github.com:a/b.git main"]
        );
        assert_eq!(
            run(&Git, &["git", "-C", "../other", "push", "origin", "main"]),
            ["push remote origin main in ../other"]
        );
    }

    #[test]
    fn clone_and_fetch_reach_the_remote() {
        assert_eq!(
            run(&Git, &["git", "clone", "https://h.example/a/b.git"]),
            ["connect https://h.example/a/b.git", "write b"]
        );
        assert_eq!(
            run(&Git, &["git", "clone", "git@h.example:r.git", "dest"]),
            ["connect git@h.example:r.git", "write dest"]
        );
        assert_eq!(run(&Git, &["git", "fetch"]), ["connect remote origin"]);
        assert_eq!(
            run(&Git, &["git", "pull", "upstream", "main"]),
            ["connect remote upstream"]
        );
        assert_eq!(
            run(&Git, &["git", "fetch", "--all"]),
            ["connect dynamic all remotes"]
        );
        assert_eq!(
            run(&Git, &["git", "ls-remote", "$R"]),
            ["connect dynamic $R"]
        );
    }

    #[test]
    fn config_reads_or_writes_the_config_file() {
        assert_eq!(
            run(&Git, &["git", "config", "--get", "user.name"]),
            ["read .git/config"]
        );
        assert_eq!(
            run(&Git, &["git", "config", "--global", "user.name", "x"]),
            ["write ~/.gitconfig"]
        );
        let hook = run(&Git, &["git", "config", "core.hooksPath", "h"]);
        assert_eq!(hook.len(), 2);
        assert!(
            hook[0].starts_with("unparseable: git config core.hookspath"),
            "{hook:?}"
        );
        assert_eq!(
            run(&Git, &["git", "remote", "set-url", "rm", "u"]),
            ["write .git/config"],
            "the action is read from the second positional (see the report)"
        );
    }

    #[test]
    fn config_options_that_run_commands() {
        assert_eq!(
            run(
                &Git,
                &[
                    "git",
                    "-c",
                    "core.sshCommand=cat ~/.aws/credentials",
                    "fetch"
                ]
            ),
            [
                "exec cat",
                "read ~/.aws/credentials",
                "connect remote origin"
            ]
        );
        assert_eq!(
            run(
                &Git,
                &["git", "-c", "credential.helper=!cat .netrc", "status"]
            ),
            ["exec cat", "read .netrc"]
        );
        let alias = run(&Git, &["git", "-c", "alias.x=!sh", "status"]);
        assert!(
            alias[0].starts_with("unparseable: git -c alias.x"),
            "{alias:?}"
        );
        let computed = run(&Git, &["git", "-c", "core.pager=$P", "log"]);
        assert!(
            computed[0].starts_with("unparseable: git -c core.pager"),
            "{computed:?}"
        );
    }

    #[test]
    fn unknown_subcommands_are_unparseable_and_local_ones_have_no_effect_yet() {
        let unknown = run(&Git, &["git", "frobnicate"]);
        assert!(
            unknown[0].starts_with("unparseable: unknown git subcommand"),
            "{unknown:?}"
        );
        assert!(run(&Git, &["git", "status"]).is_empty());
        assert!(run(&Git, &["git", "commit", "-m", "x"]).is_empty());
        assert!(run(&Git, &["git"]).is_empty());
    }
}
