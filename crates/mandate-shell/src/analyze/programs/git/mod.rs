//! `git [GLOBAL OPTIONS] SUBCOMMAND [ARGS]`: what each subcommand does is data
//! (`data/git.toml`, read by `knowledge`); what needs code is here and in the modules
//! below: the global options and the environment git reads (`-C`, `--git-dir`,
//! `--work-tree`, `-c`, `GIT_*`; `config`), the remotes commands reach (`remotes`), and
//! the files commands print, write or change (`content`).

mod config;
mod content;
mod knowledge;
mod remotes;
mod runs;
#[cfg(test)]
mod tests;

use crate::effect::ShellPath;
use crate::kb::{FlagRole, ProgramSpec};
use crate::words::Expanded;

use crate::analyze::args::Parsed;
use crate::analyze::args::Until;
use crate::analyze::context::{ProgramModel, WalkCx};

use knowledge::{Kind, knowledge};

/// `git` (`args = "git"`).
pub(crate) struct Git;

/// What the global options, the environment and `-c` say about one run of git.
#[derive(Debug, Default)]
pub(super) struct Invocation {
    /// The git directory (`--git-dir`, `GIT_DIR`), if named.
    repo: Option<ShellPath>,
    /// The work tree (`--work-tree`, `GIT_WORK_TREE`, `core.worktree`), if named.
    work_tree: Option<ShellPath>,
    /// Settings that change where remotes point (`key`, `value`), for the analysis layer.
    remote_config: Vec<(String, String)>,
    /// Why no remote can be known (one of those settings is computed at run time).
    unknown_remotes: Option<String>,
    /// What names a template directory for `init` and `clone` (whose hooks run).
    template: Option<String>,
}

/// One subcommand: its name and its arguments (as written, and split by its entry).
pub(super) struct Sub<'a> {
    name: &'a str,
    parsed: &'a Parsed,
    args: &'a [Expanded],
}

impl Sub<'_> {
    /// The positionals before `--` and the words after it (pathspecs).
    fn split_paths(&self) -> (&[Expanded], &[Expanded]) {
        let after = self
            .args
            .iter()
            .position(|a| a.text == "--" && !a.dynamic)
            .map_or(0, |i| self.args.len() - i - 1);
        let pos = &self.parsed.positional;
        pos.split_at(pos.len().saturating_sub(after))
    }

    /// The text of the first positional (a subcommand's action), or "".
    fn action(&self) -> &str {
        self.parsed
            .positional
            .first()
            .map_or("", |a| a.text.as_str())
    }
}

impl ProgramModel for Git {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let (global, consumed) = cx.parse_args(name, spec, args, Until::FirstPositional);
        let mut inv = Invocation::default();
        global_options(cx, &global, &mut inv);
        config::environment(cx, &mut inv);
        let Some(sub) = global.positional.first() else {
            return;
        };
        if sub.dynamic {
            return cx.unparseable("the git subcommand is computed at run time");
        }
        let Some(sub_spec) = spec.subcommands.get(&sub.text) else {
            return cx.unparseable(format!(
                "unknown git subcommand {:?} (an alias or an external git-{} program may run anything)",
                sub.text, sub.text
            ));
        };
        let rest = &args[consumed..];
        let (plain, others): (Vec<Expanded>, Vec<Expanded>) = rest
            .iter()
            .cloned()
            .partition(|a| PLAIN_SWITCHES.contains(&a.text.as_str()));
        let (mut parsed, _) = cx.parse_args(
            &format!("{name} {}", sub.text),
            sub_spec,
            &others,
            Until::End,
        );
        parsed.switches.extend(plain.into_iter().map(|a| a.text));
        let sub = Sub {
            name: &sub.text,
            parsed: &parsed,
            args: rest,
        };
        subcommand(cx, &mut inv, &sub);
    }

    fn reads_own_subcommands(&self) -> bool {
        true
    }
}

/// Switches whose name the option parser takes for one that runs something, but which
/// only choose what git does (`submodule update --init`).
const PLAIN_SWITCHES: &[&str] = &["--init"];

/// Reports what the subcommand `sub` does, by its kind.
fn subcommand(cx: &mut WalkCx<'_>, inv: &mut Invocation, sub: &Sub<'_>) {
    runs::commands(cx, sub);
    match knowledge().kind(sub.name) {
        Some(Kind::Push) => remotes::push(cx, inv, sub),
        Some(Kind::Fetch) => {
            remotes::fetch(cx, inv, sub);
            if sub.name == "pull" {
                content::work_tree(cx, inv, sub);
            }
        }
        Some(Kind::Clone) => remotes::clone(cx, inv, sub),
        Some(Kind::Config) => config::config(cx, sub.parsed),
        Some(Kind::Remote) => remotes::remote(cx, inv, sub),
        Some(Kind::Submodule) => remotes::submodule(cx, inv, sub),
        Some(Kind::Lfs) => remotes::lfs(cx, inv, sub),
        Some(Kind::Shows) => content::shows(cx, inv, sub),
        Some(Kind::Log) => content::log(cx, inv, sub),
        Some(Kind::Grep) => content::grep(cx, inv, sub),
        Some(Kind::CatFile) => content::cat_file(cx, inv, sub),
        Some(Kind::Blame) => content::blame(cx, inv, sub),
        Some(Kind::Archive) => content::archive(cx, inv, sub),
        Some(Kind::Bundle) => content::bundle(cx, sub),
        Some(Kind::FormatPatch) => content::format_patch(cx, inv, sub),
        Some(Kind::Stash) => content::stash(cx, inv, sub),
        Some(Kind::WorkTree) => content::work_tree(cx, inv, sub),
        Some(Kind::Commit) => content::reads_files(cx, sub.parsed),
        Some(Kind::NewTree) => content::new_tree(cx, inv, sub),
        Some(Kind::Tools) => content::tools(cx, sub),
        Some(Kind::Unparseable) => cx.unparseable(format!(
            "git {} serves the repository or runs configured tools, which Mandate does not follow",
            sub.name
        )),
        Some(Kind::Inspect | Kind::LocalChange) | None => {}
    }
}

/// `-C DIR` moves git; `--git-dir` and `--work-tree` name its repository and work tree;
/// `-c KEY=VALUE` and `--config-env KEY=VAR` set configuration.
fn global_options(cx: &mut WalkCx<'_>, global: &Parsed, inv: &mut Invocation) {
    for (flag, role, v) in &global.flags {
        match (flag.as_str(), role) {
            (_, FlagRole::Dir) => cx.dir = Some(cx.path(v)),
            ("--git-dir", _) => inv.repo = Some(cx.path(v)),
            ("--work-tree", _) => inv.work_tree = Some(cx.path(v)),
            ("-c" | "--config-env", _) => config::option(cx, inv, flag, v),
            _ => {}
        }
    }
}

/// Whether `text` is a URL of another host rather than a remote's name or a path:
/// `scheme://…` (not `file://`), or `[user@]host:path` (a colon before any slash).
pub(super) fn is_url(text: &str) -> bool {
    match text.split_once("://") {
        Some((scheme, _)) => !scheme.eq_ignore_ascii_case("file"),
        None => text
            .split_once(':')
            .is_some_and(|(head, _)| !head.is_empty() && !head.contains('/')),
    }
}
