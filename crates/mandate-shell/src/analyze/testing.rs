//! Test support: runs one part of the analyser directly (a program model, a builtin)
//! inside a real walk, and renders effects compactly.

use brush_parser::ParserOptions;

use crate::effect::{NetTarget, RunAs, ShellEffect, ShellPath, WrittenFirst};
use crate::kb::KnowledgeBase;
use crate::words::Expanded;

use super::context::{ProgramModel, Walk, WalkCx};
use super::state::{Cwd, State, Stdin};
use super::walk::Walker;

/// A word as typed, without shell syntax; a word with `$` in it is computed at run time.
pub(crate) fn word(text: &str) -> Expanded {
    Expanded {
        text: text.to_owned(),
        dynamic: text.contains('$'),
        ..Default::default()
    }
}

/// A path as the walk reports it in the action's cwd.
pub(crate) fn path(text: &str) -> ShellPath {
    State::at(Cwd::Known(None)).path(&word(text))
}

/// An effect in a few words: `read dir/path`, `send host:22 [a,b]`, `push origin main
/// force`, `unparseable: reason`.
pub(crate) fn render(e: &ShellEffect) -> String {
    let p = |s: &ShellPath| {
        let mut out = match &s.dir {
            Some(d) => format!("{d}/{}", s.path),
            None => s.path.clone(),
        };
        if s.dynamic {
            out.push('?');
        }
        if s.unknown_dir {
            out = format!("?/{out}");
        }
        out
    };
    let t = |t: &NetTarget| match t {
        NetTarget::Url { url } => url.clone(),
        NetTarget::Host { host, port } => {
            format!("{host}:{}", port.map_or("?".into(), |p| p.to_string()))
        }
        NetTarget::GitRemote { name, .. } => format!("remote {name}"),
        NetTarget::Dynamic { text } => format!("dynamic {text}"),
    };
    match e {
        ShellEffect::Exec { program, .. } => format!("exec {program}"),
        ShellEffect::Read(x) => format!("read {}", p(x)),
        ShellEffect::ReadTree(x) => format!("read tree {}", p(x)),
        ShellEffect::Write(x) => format!("write {}", p(x)),
        ShellEffect::Delete(x) => format!("delete {}", p(x)),
        ShellEffect::Connect {
            target,
            sends: true,
            data_from,
        } => {
            let data: Vec<String> = data_from.iter().map(p).collect();
            format!("send {} [{}]", t(target), data.join(","))
        }
        ShellEffect::Connect { target, .. } => format!("connect {}", t(target)),
        ShellEffect::Push {
            remote,
            refspecs,
            force,
            all,
            dir,
        } => {
            let mut out = format!(
                "push {} {}",
                remote.as_ref().map_or("-".into(), t),
                refspecs.join(" ")
            );
            for (flag, word) in [(*force, " force"), (*all, " all")] {
                if flag {
                    out.push_str(word);
                }
            }
            if let Some(d) = dir {
                out.push_str(&format!(" in {}", p(d)));
            }
            out
        }
        ShellEffect::RunRemote { target } => format!("run_remote {}", t(target)),
        ShellEffect::RunsFile {
            path,
            run_as,
            argv,
            written,
        } => {
            let how = match run_as {
                RunAs::Program => "program".to_owned(),
                RunAs::ShellScript => "shell script".to_owned(),
                RunAs::Script { interpreter } => format!("{interpreter} script"),
                RunAs::Module { interpreter } => format!("{interpreter} module"),
                RunAs::Patch { strip, .. } => format!("patch -p{strip}"),
                RunAs::BuildFile { tool, targets } => format!("{tool} file {}", targets.join(" ")),
                RunAs::Package { tool } => format!("{tool} package"),
                RunAs::Import { interpreter } => format!("{interpreter} import"),
            };
            let first = match written {
                WrittenFirst::No => String::new(),
                WrittenFirst::Unknown => " written first".into(),
                WrittenFirst::Text(t) => format!(" written first with {t:?}"),
                WrittenFirst::Derived { base, added } => {
                    format!(" written first from {base:?} adding {added:?}")
                }
            };
            format!(
                "runs {} as {} [{}]{first}",
                p(path),
                how.trim_end(),
                argv.join(" ")
            )
        }
        ShellEffect::Privilege { program } => format!("privilege {program}"),
        ShellEffect::Obfuscated { reason } => format!("obfuscated: {reason}"),
        ShellEffect::Unparseable { reason } => format!("unparseable: {reason}"),
    }
}

/// The built-in knowledge base, parsed once for all tests.
fn builtin_kb() -> &'static KnowledgeBase {
    static KB: std::sync::OnceLock<KnowledgeBase> = std::sync::OnceLock::new();
    KB.get_or_init(KnowledgeBase::builtin)
}

/// A shell to run one part of the analyser in: the built-in knowledge base, a state and
/// a stdin.
pub(crate) struct Harness {
    kb: &'static KnowledgeBase,
    options: ParserOptions,
    /// The shell state; what the part changes stays here.
    pub(crate) st: State,
    stdin: Stdin,
}

impl Harness {
    /// In the action's cwd, with the terminal on stdin.
    pub(crate) fn new() -> Self {
        Self {
            kb: builtin_kb(),
            options: ParserOptions::default(),
            st: State::at(Cwd::Known(None)),
            stdin: Stdin::Tty,
        }
    }

    /// With `stdin` instead.
    pub(crate) fn stdin(mut self, stdin: Stdin) -> Self {
        self.stdin = stdin;
        self
    }

    /// Runs `f` with a context for a command, and returns what it returned and the
    /// effects reported, rendered.
    pub(crate) fn with_cx<R>(&mut self, f: impl FnOnce(&mut WalkCx<'_>) -> R) -> (R, Vec<String>) {
        let mut walker = Walker::new(self.kb, &self.options, 0);
        let mut cx = WalkCx {
            walk: &mut walker,
            kb: self.kb,
            st: &mut self.st,
            stdin: &self.stdin,
            subst_reads: &[],
            dir: None,
        };
        let r = f(&mut cx);
        let effects = walker.into_effects().iter().map(render).collect();
        (r, effects)
    }

    /// The effects `model` reports for `argv` (the program's name, then its arguments),
    /// with the program's built-in knowledge-base entry.
    pub(crate) fn model(&mut self, model: &dyn ProgramModel, argv: &[&str]) -> Vec<String> {
        let spec = self.kb.get(argv[0]).unwrap();
        let args: Vec<Expanded> = argv[1..].iter().map(|a| word(a)).collect();
        self.with_cx(|cx| model.run(cx, argv[0], spec, &args)).1
    }

    /// The effects of walking `script`.
    pub(crate) fn script(&mut self, script: &str) -> Vec<String> {
        let mut walker = Walker::new(self.kb, &self.options, 0);
        walker.script(script, &mut self.st, &self.stdin);
        walker.into_effects().iter().map(render).collect()
    }
}

/// The effects `model` reports for `argv`, in a fresh [`Harness`].
pub(crate) fn run(model: &dyn ProgramModel, argv: &[&str]) -> Vec<String> {
    Harness::new().model(model, argv)
}

/// The effects of walking `script` in a fresh [`Harness`].
pub(crate) fn walk(script: &str) -> Vec<String> {
    Harness::new().script(script)
}
