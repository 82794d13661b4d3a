//! The program knowledge base: which programs do what with their arguments.
//!
//! The knowledge base is data (`data/programs.toml`), not code: each entry names the
//! programs it covers, their class, what their positional arguments are (files read,
//! written, deleted, URLs, an inner command, ...), which flags take a value and what that
//! value is, and switches that change the meaning of the arguments (`sed -i`).
//! Users may add entries with [`KnowledgeBase::extend_from_toml`].

use std::collections::HashMap;

use mandate_types::ProgramClass;
use serde::Deserialize;

/// The knowledge base shipped with Mandate, file by file (later files may not repeat a
/// name an earlier one has: a unit test checks).
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("programs.toml", include_str!("../data/programs.toml")),
    (
        "programs-network.toml",
        include_str!("../data/programs-network.toml"),
    ),
    ("tools-1.toml", include_str!("../data/tools-1.toml")),
    ("tools-2.toml", include_str!("../data/tools-2.toml")),
    ("tools-3.toml", include_str!("../data/tools-3.toml")),
    ("tools-4.toml", include_str!("../data/tools-4.toml")),
    ("tools-5.toml", include_str!("../data/tools-5.toml")),
    ("tools-6.toml", include_str!("../data/tools-6.toml")),
    ("tools-7.toml", include_str!("../data/tools-7.toml")),
    ("tools-8.toml", include_str!("../data/tools-8.toml")),
    (
        "agent-harness.toml",
        include_str!("../data/agent-harness.toml"),
    ),
];

/// What a program's positional arguments are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ArgsRole {
    /// Not files (or not interesting): `echo`, `mkdir -p` handled as write.
    #[default]
    None,
    /// Files read.
    Read,
    /// Files written (created or modified).
    Write,
    /// Files deleted.
    Delete,
    /// Files read and rewritten in place.
    ReadWrite,
    /// All but the last are read; the last is written (`cp`).
    Copy,
    /// All but the last are read and deleted; the last is written (`mv`).
    Move,
    /// Only the last is written; the others are names, not files read (`ln -s TARGET LINK`).
    Target,
    /// Symbolic links: the last is the link written, the others what it points at, relative
    /// to the link's directory (`ln -s ../README.md docs/README.md`): not read now, but
    /// reading the link later reads them.
    Link,
    /// The first is an archive written; the rest are read (`zip OUT.zip FILES`, `7z a`).
    Archive,
    /// The first is a pattern (unless a pattern flag was given); the rest are read (`grep`).
    PatternRead,
    /// URLs to fetch (`curl`, `wget`).
    Url,
    /// Files read, or URLs fetched (`mpv FILE|URL`, `glow FILE|URL`): a word that names a
    /// network place is a connection, any other a file read.
    ReadOrUrl,
    /// Hosts or URLs the program connects to (`ping HOST`, `dig NAME`, `telnet HOST PORT`):
    /// a connection to each, carrying stdin when data is piped in.
    Host,
    /// The first positional starts an inner command (`sudo`, `nohup`, `timeout 5`).
    Command,
    /// A shell: `-c STRING` is analysed as a script; otherwise the first positional is a
    /// script file that runs.
    Shell,
    /// An interpreter: `-c`/`-e` code is opaque; otherwise the first positional is a
    /// script file that runs.
    Interpreter,
    /// `ssh host [command]`.
    Ssh,
    /// `scp`/`rsync`: `host:path` arguments are remote; the last argument is the target.
    RemoteCopy,
    /// `nc host port`: a raw connection carrying stdin.
    Netcat,
    /// `find`: paths first, then an expression (`-exec`, `-delete`, ...).
    Find,
    /// `dd if=... of=...`.
    Dd,
    /// `xargs [opts] command...`: the inner command gets extra arguments from stdin.
    Xargs,
    /// `env [-i] [VAR=val]... command...`.
    Env,
    /// `git`: handled by subcommand.
    Git,
    /// `tar`: create, extract or list (old-style keys too).
    Tar,
    /// `cpio`: archive the names on stdin, extract, or copy.
    Cpio,
    /// `patch`: writes the files its diff names.
    Patch,
    /// `cmake`: `-E` commands are file operations; otherwise a build tool.
    Cmake,
    /// Container engines (`docker`, `podman`): images, mounts, privileges.
    Container,
    /// Package specifications to install or run (`pip install`, `npm i`, `cargo install`,
    /// `go run`): a name comes from a registry; a URL, a repository (`git+https://…`,
    /// `github:user/repo`, `user/repo`) or a module path is code from elsewhere, which runs.
    Packages,
}

/// What a flag's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagRole {
    /// A value that is not a path (a count, a name).
    Value,
    /// A file read.
    Read,
    /// A file written.
    Write,
    /// A file deleted.
    Delete,
    /// A directory the program changes into (`git -C`, `make -C`).
    Dir,
    /// Request data: `@file` is read and sent, `@-` sends stdin, anything else is sent.
    Data,
    /// A file uploaded (read and sent).
    Upload,
    /// A form field: `name=@file` uploads the file.
    Form,
    /// A URL to connect to.
    Url,
    /// A host (or `host:port`) to connect to (`-h db.example.com`, `--server HOST`).
    Host,
    /// A shell command string (`su -c`, `watch`).
    Command,
    /// Code for an interpreter (`python -c`): opaque.
    Code,
    /// The pattern or script of `grep -e` / `sed -e`: not a path, but it means the
    /// first positional is not a pattern.
    Pattern,
    /// An address to listen on (`--listen`, `php -S`): the program becomes a server.
    Listen,
    /// Native code to load (`openssl -engine`, `mysql --default-auth`).
    Library,
    /// A proxy or jump host every connection goes through (`curl -x`, `ssh -J`, `nc -x`):
    /// what the program sends, it sends there too.
    Proxy,
    /// A configuration file that can change anything the program does (`curl -K`,
    /// `ssh -F`, `wget --config`): read, and unparseable, since Mandate does not read it.
    Config,
}

/// What a program's options that its entry does not list may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OtherOptions {
    /// Not known: an unlisted option written with a value (`--name=value`) is
    /// unparseable, since the value could be a file, a command or a host.
    #[default]
    Unknown,
    /// Known to be inert: every unlisted option is a switch or takes a value that names
    /// no file, command, code, host or configuration. Only claim this for programs
    /// whose whole option set has been checked.
    Inert,
}

/// One knowledge-base entry as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    /// Program names this entry covers (basenames).
    #[serde(default)]
    pub names: Vec<String>,
    /// The class of `exec` effect.
    #[serde(default = "default_class")]
    pub class: ProgramClass,
    /// What positional arguments are.
    #[serde(default)]
    pub args: ArgsRole,
    /// How many leading positional arguments are not paths (`chmod MODE`, `timeout 5`).
    #[serde(default)]
    pub skip: usize,
    /// Flags that take a value which is not a path.
    #[serde(default)]
    pub value_flags: Vec<String>,
    /// Flags that take a value with a role.
    #[serde(default)]
    pub flags: HashMap<String, FlagRole>,
    /// Switches that change what positional arguments are (`sed -i` → `read_write`).
    #[serde(default)]
    pub switches: HashMap<String, ArgsRole>,
    /// Switches whose value, if any, is attached (`-i.bak`, `--in-place=.bak`).
    #[serde(default)]
    pub attached_value: Vec<String>,
    /// The program changes privileges (`sudo`).
    #[serde(default)]
    pub privilege: bool,
    /// The program listens for connections when it runs (a server).
    #[serde(default)]
    pub listen: bool,
    /// What the options this entry does not list may be.
    #[serde(default)]
    pub other_options: OtherOptions,
    /// Hosts the program contacts on its own, whatever its arguments (a service's API,
    /// `*.amazonaws.com`): each is a connection.
    #[serde(default)]
    pub connects: Vec<String>,
    /// The program sends what it reads (its files, its directory) to the hosts it
    /// connects to: publishing, uploading, deploying.
    #[serde(default)]
    pub uploads: bool,
    /// Files the program reads without being told (`~/.hledger.journal`, `.env`).
    #[serde(default)]
    pub reads: Vec<String>,
    /// Files the program writes without being told.
    #[serde(default)]
    pub writes: Vec<String>,
    /// Switches that make the program read directories whole (`cp -r`, `rsync -a`,
    /// `zip -r`): its sources are then trees.
    #[serde(default)]
    pub tree_switches: Vec<String>,
    /// The program always reads the directories it is given whole (`tar c`, `7z a`).
    #[serde(default)]
    pub reads_trees: bool,
    /// Options that make the program administer the machine (`date -s`, `hwclock --set`,
    /// `journalctl --vacuum-time`): with one of them, it runs as a system tool.
    #[serde(default)]
    pub system_options: Vec<String>,
    /// Switches (or whole `--option=value` words) that make the program write where it was
    /// not told: a global install (`npm -g` into its global prefix), a per-user one (`pip
    /// --user` into `~/.local`), a global setting (`--global` into `~/.npmrc`).
    #[serde(default)]
    pub switch_writes: HashMap<String, Vec<String>>,
    /// Options with which a `system` program only inspects (`tcpdump -r FILE` reads a saved
    /// capture, `-D` lists interfaces): with one of them, it runs as an inspection tool.
    #[serde(default)]
    pub inspect_options: Vec<String>,
    /// A first argument `+NAME` picks a toolchain (rustup's proxies: `cargo +nightly build`).
    #[serde(default)]
    pub toolchain_selector: bool,
    /// Switches whose names sound risky but which are known to be inert (`--init`).
    #[serde(default)]
    pub known_switches: Vec<String>,
    /// Why the program (or subcommand) cannot be analysed: it is known, and known to do
    /// things Mandate cannot follow (an agent, `wine cmd /c`). Unparseable, with this reason.
    #[serde(default)]
    pub unparseable: Option<String>,
    /// Subcommands with their own spec (`git push`, `cargo publish`).
    #[serde(default)]
    pub subcommands: HashMap<String, ProgramSpec>,
    /// For subcommand entries: other names of the same subcommand.
    #[serde(default)]
    pub aliases: Vec<String>,
}

fn default_class() -> ProgramClass {
    ProgramClass::Unknown
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KbFile {
    #[serde(default)]
    program: Vec<ProgramSpec>,
}

/// An error in a knowledge-base file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KbError {
    /// The TOML did not parse or had unknown fields.
    #[error("program knowledge base: {0}")]
    Toml(#[from] toml::de::Error),
    /// An entry named no program.
    #[error("program knowledge base: entry {index} has no names")]
    NoNames {
        /// The entry's index.
        index: usize,
    },
}

/// Program name → spec.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    programs: HashMap<String, ProgramSpec>,
}

impl KnowledgeBase {
    /// The knowledge base shipped with Mandate.
    #[expect(
        clippy::expect_used,
        reason = "the built-in files are constant and parsed by a unit test"
    )]
    pub fn builtin() -> Self {
        let mut kb = Self::default();
        for (_, text) in BUILTIN_FILES {
            kb.extend_from_toml(text)
                .expect("the built-in program knowledge base parses (tested)");
        }
        kb
    }

    /// Adds (or replaces) entries from TOML text.
    pub fn extend_from_toml(&mut self, text: &str) -> Result<(), KbError> {
        let file: KbFile = toml::from_str(text)?;
        for (index, mut spec) in file.program.into_iter().enumerate() {
            if spec.names.is_empty() {
                return Err(KbError::NoNames { index });
            }
            inherit(&mut spec);
            for name in std::mem::take(&mut spec.names) {
                self.programs.insert(name, spec.clone());
            }
        }
        Ok(())
    }

    /// The spec for a program (by basename).
    pub fn get(&self, name: &str) -> Option<&ProgramSpec> {
        self.programs.get(name)
    }

    /// How many program names the base covers.
    pub fn len(&self) -> usize {
        self.programs.len()
    }

    /// Whether the base is empty.
    pub fn is_empty(&self) -> bool {
        self.programs.is_empty()
    }
}

/// Subcommands inherit what their program says unless they say otherwise: its class (a
/// subcommand left `unknown` is the program's), its privilege and its options' roles; and
/// each alias names its subcommand. Applied down every level of subcommands.
fn inherit(spec: &mut ProgramSpec) {
    let parent = spec.clone();
    for sub in spec.subcommands.values_mut() {
        if sub.class == ProgramClass::Unknown {
            sub.class = parent.class;
        }
        sub.privilege |= parent.privilege;
        for (k, v) in &parent.switch_writes {
            sub.switch_writes
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        for o in &parent.system_options {
            if !sub.system_options.contains(o) {
                sub.system_options.push(o.clone());
            }
        }
        for f in &parent.value_flags {
            if !sub.value_flags.contains(f) && !sub.flags.contains_key(f) {
                sub.value_flags.push(f.clone());
            }
        }
        for (f, r) in &parent.flags {
            if !sub.value_flags.contains(f) {
                sub.flags.entry(f.clone()).or_insert(*r);
            }
        }
        inherit(sub);
    }
    for sub in spec.subcommands.clone().into_values() {
        for alias in &sub.aliases {
            spec.subcommands.insert(alias.clone(), sub.clone());
        }
    }
}

impl ProgramSpec {
    /// The role of a flag's value, if the flag takes one.
    pub fn flag_role(&self, flag: &str) -> Option<FlagRole> {
        if let Some(r) = self.flags.get(flag) {
            return Some(*r);
        }
        self.value_flags
            .iter()
            .any(|f| f == flag)
            .then_some(FlagRole::Value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_kb_parses_and_covers_core_programs() {
        let kb = KnowledgeBase::builtin();
        for p in [
            "cat", "grep", "cp", "mv", "rm", "curl", "wget", "git", "bash", "sudo", "tee", "sed",
        ] {
            assert!(kb.get(p).is_some(), "{p} missing");
        }
        assert_eq!(
            kb.get("sed").unwrap().switches.get("-i"),
            Some(&ArgsRole::ReadWrite)
        );
    }

    #[test]
    fn a_program_is_described_once_across_the_built_in_files() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut repeated = Vec::new();
        for (file, text) in BUILTIN_FILES {
            let parsed: KbFile = toml::from_str(text).unwrap_or_else(|e| panic!("{file}: {e}"));
            let mut own = std::collections::HashSet::new();
            for spec in parsed.program {
                for name in spec.names {
                    if !own.insert(name.clone()) {
                        repeated.push(format!("{name} twice in {file}"));
                    }
                    if let Some(first) = seen.insert(name.clone(), file) {
                        repeated.push(format!("{name} in {first} and {file}"));
                    }
                }
            }
        }
        assert!(repeated.is_empty(), "{repeated:#?}");
    }

    #[test]
    fn bad_entries_are_errors() {
        let mut kb = KnowledgeBase::default();
        assert!(matches!(
            kb.extend_from_toml("[[program]]\nclass = \"inspect\"\n"),
            Err(KbError::NoNames { index: 0 })
        ));
        assert!(
            kb.extend_from_toml("[[program]]\nnames=[\"x\"]\nbogus = 1\n")
                .is_err()
        );
    }
}
