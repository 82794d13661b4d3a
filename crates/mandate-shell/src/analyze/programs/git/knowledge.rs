//! `data/git.toml`: the kind of each git subcommand and the class of each configuration
//! key, parsed once.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// What git's subcommands and configuration keys do.
const GIT_DATA: &str = include_str!("../../../../data/git.toml");

/// The kinds of subcommand `data/git.toml` sorts git's subcommands into (see there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Kind {
    Fetch,
    Push,
    Clone,
    Config,
    Remote,
    Submodule,
    Lfs,
    Shows,
    Log,
    Grep,
    CatFile,
    Blame,
    Archive,
    Bundle,
    FormatPatch,
    Stash,
    WorkTree,
    Commit,
    NewTree,
    Tools,
    Unparseable,
    Inspect,
    LocalChange,
}

/// What setting a configuration key does (see `data/git.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyClass {
    /// Where remotes point or what is pushed: resolved by the analysis layer.
    Destination,
    /// Configuration read from another file.
    Include,
    /// The work tree.
    WorkTree,
    /// A directory whose hooks or templates run.
    RunsFrom,
    /// A proxy every connection goes through.
    Proxy,
    /// A credential helper: shell text after `!`, else a program.
    CredentialHelper,
    /// Makes git run something Mandate does not follow.
    Unfollowed,
    /// Shell text git runs.
    Shell,
    /// Nothing Mandate looks at.
    Other,
}

/// `data/git.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitData {
    /// Kind → the subcommands of that kind.
    subcommands: HashMap<Kind, Vec<String>>,
    config: ConfigData,
}

/// The `[config]` table: key patterns by class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigData {
    destination: Vec<String>,
    include: Vec<String>,
    work_tree: Vec<String>,
    runs_from: Vec<String>,
    proxy: Vec<String>,
    credential_helper: Vec<String>,
    unfollowed: Vec<String>,
    shell: Vec<String>,
    command_suffixes: Vec<String>,
    directory_suffixes: Vec<String>,
}

/// `data/git.toml`, parsed, with subcommands looked up by name.
pub(super) struct Knowledge {
    kinds: HashMap<String, Kind>,
    /// Patterns in the order classes are tried.
    classes: Vec<(KeyClass, Vec<String>)>,
    command_suffixes: Vec<String>,
    directory_suffixes: Vec<String>,
}

/// A configuration key split as git does: the section and name (lower case) and the
/// subsection between them (as written), if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key<'a> {
    pub(crate) section: String,
    pub(crate) subsection: Option<&'a str>,
    pub(crate) name: String,
}

impl<'a> Key<'a> {
    /// Splits `key` at its first and last dot; `None` when it has no dot.
    pub(crate) fn parse(key: &'a str) -> Option<Self> {
        let (section, rest) = key.split_once('.')?;
        let (subsection, name) = match rest.rsplit_once('.') {
            Some((sub, name)) => (Some(sub), name),
            None => (None, rest),
        };
        Some(Self {
            section: section.to_ascii_lowercase(),
            subsection,
            name: name.to_ascii_lowercase(),
        })
    }

    /// The key as git spells it in messages and as it is passed on: section and name
    /// in lower case, the subsection as written.
    pub(crate) fn normalized(&self) -> String {
        match self.subsection {
            Some(sub) => format!("{}.{sub}.{}", self.section, self.name),
            None => format!("{}.{}", self.section, self.name),
        }
    }

    /// Whether a pattern of `data/git.toml` (`section.name`, `section.*`,
    /// `section.*.name`) matches.
    fn matches(&self, pattern: &str) -> bool {
        let parts: Vec<&str> = pattern.split('.').collect();
        match parts.as_slice() {
            [s, "*"] => *s == self.section,
            [s, n] => *s == self.section && self.subsection.is_none() && *n == self.name,
            [s, "*", n] => *s == self.section && self.subsection.is_some() && *n == self.name,
            _ => false,
        }
    }
}

impl Knowledge {
    /// The kind of the subcommand `name`.
    pub(super) fn kind(&self, name: &str) -> Option<Kind> {
        self.kinds.get(name).copied()
    }

    /// What setting `key` does.
    pub(super) fn class(&self, key: &Key<'_>) -> KeyClass {
        if let Some((class, _)) = self
            .classes
            .iter()
            .find(|(_, patterns)| patterns.iter().any(|p| key.matches(p)))
        {
            return *class;
        }
        let ends = |suffixes: &[String]| suffixes.iter().any(|s| key.name.ends_with(s.as_str()));
        if ends(&self.command_suffixes) {
            KeyClass::Shell
        } else if ends(&self.directory_suffixes) {
            KeyClass::RunsFrom
        } else if key.name.ends_with("proxy") {
            KeyClass::Proxy
        } else {
            KeyClass::Other
        }
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
    let c = data.config;
    Ok(Knowledge {
        kinds,
        classes: vec![
            (KeyClass::Destination, c.destination),
            (KeyClass::Include, c.include),
            (KeyClass::WorkTree, c.work_tree),
            (KeyClass::RunsFrom, c.runs_from),
            (KeyClass::Proxy, c.proxy),
            (KeyClass::CredentialHelper, c.credential_helper),
            (KeyClass::Unfollowed, c.unfollowed),
            (KeyClass::Shell, c.shell),
        ],
        command_suffixes: c.command_suffixes,
        directory_suffixes: c.directory_suffixes,
    })
}

#[expect(
    clippy::expect_used,
    reason = "data/git.toml is built in and parsed by a unit test"
)]
pub(super) fn knowledge() -> &'static Knowledge {
    static KNOWLEDGE: OnceLock<Knowledge> = OnceLock::new();
    KNOWLEDGE.get_or_init(|| parse_knowledge(GIT_DATA).expect("data/git.toml parses"))
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
    fn patterns_are_lower_case_with_two_or_three_parts() {
        let k = knowledge();
        for (_, patterns) in &k.classes {
            for p in patterns {
                assert_eq!(*p, p.to_ascii_lowercase());
                assert!(matches!(p.split('.').count(), 2 | 3), "{p}");
            }
        }
    }

    #[test]
    fn keys_split_at_their_first_and_last_dot() {
        let k = Key::parse("url.https://Evil.example/.insteadOf").unwrap();
        assert_eq!(k.section, "url");
        assert_eq!(k.subsection, Some("https://Evil.example/"));
        assert_eq!(k.name, "insteadof");
        assert_eq!(k.normalized(), "url.https://Evil.example/.insteadof");
        assert_eq!(Key::parse("Core.Pager").unwrap().normalized(), "core.pager");
        assert_eq!(Key::parse("nodot"), None);
    }

    fn class(key: &str) -> KeyClass {
        knowledge().class(&Key::parse(key).unwrap())
    }

    #[test]
    fn each_class_of_key() {
        use KeyClass::*;
        for (key, want) in [
            ("remote.origin.url", Destination),
            ("remote.Fork.pushurl", Destination),
            ("url.ssh://x/.pushInsteadOf", Destination),
            ("branch.main.merge", Destination),
            ("push.default", Destination),
            ("include.path", Include),
            ("includeIf.gitdir:~/x/.path", Include),
            ("core.worktree", WorkTree),
            ("core.hooksPath", RunsFrom),
            ("init.templateDir", RunsFrom),
            ("http.proxy", Proxy),
            ("http.https://x/.proxy", Proxy),
            ("remote.upstream.proxy", Proxy),
            ("credential.helper", CredentialHelper),
            ("credential.https://x.helper", CredentialHelper),
            ("alias.st", Unfollowed),
            ("protocol.ext.allow", Unfollowed),
            ("remote.x.vcs", Unfollowed),
            ("core.sshCommand", Shell),
            ("core.fsmonitor", Shell),
            ("filter.lfs.smudge", Shell),
            ("diff.word.textconv", Shell),
            ("merge.ours.driver", Shell),
            ("remote.upstream.uploadpack", Shell),
            ("pager.log", Shell),
            ("gpg.ssh.program", Shell),
            ("uploadpack.packObjectsHook", Shell),
            ("user.name", Other),
            ("core.autocrlf", Other),
        ] {
            assert_eq!(class(key), want, "{key}");
        }
    }

    #[test]
    fn keys_are_classed_by_their_last_part_when_not_listed() {
        use KeyClass::*;
        assert_eq!(class("difftool.x.cmd"), Shell);
        assert_eq!(class("trailer.sign.command"), Shell);
        assert_eq!(class("gpg.x509.program"), Shell);
        assert_eq!(class("core.alternateRefsCommand"), Shell);
        assert_eq!(class("sendemail.smtpserver"), Other);
        assert_eq!(class("something.hooksPath"), RunsFrom);
        assert_eq!(class("foo.bar.proxy"), Proxy);
        assert_eq!(class("core.gitProxy"), Shell);
    }
}
