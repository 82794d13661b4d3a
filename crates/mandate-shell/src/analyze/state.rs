//! The shell state that flows through a script (current directory, variables,
//! functions), what feeds a command's standard input, and how a word becomes a
//! [`ShellPath`] in that state.

use std::collections::HashMap;
use std::sync::Arc;

use brush_parser::ast;

use crate::effect::ShellPath;
use crate::words::{Expanded, VarLookup, VarValue};

/// Where the current directory is during the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cwd {
    /// The action's cwd, or a known directory relative to it (or absolute).
    Known(Option<String>),
    /// Changed to something we cannot know.
    Unknown,
}

/// Shell state that flows through a script: a subshell gets a copy, a builtin such as
/// `cd` or `export` changes it for the commands after.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) cwd: Cwd,
    /// Variables set so far (static text, or computed at run time).
    pub(crate) vars: HashMap<String, VarValue>,
    /// Shell functions defined so far: a call walks the body with the call's arguments.
    pub(crate) functions: HashMap<String, Arc<ast::FunctionDefinition>>,
    /// How many function calls surround the current command.
    pub(crate) call_depth: usize,
}

impl State {
    /// A new shell in `cwd`, with no variables or functions set.
    pub(crate) fn at(cwd: Cwd) -> Self {
        Self {
            cwd,
            vars: HashMap::new(),
            functions: HashMap::new(),
            call_depth: 0,
        }
    }

    /// The path `e` names, relative to `dir` when a command option moved it there
    /// (`git -C`, `make -C`), else to the shell's current directory.
    pub(crate) fn path_in(&self, e: &Expanded, dir: Option<&ShellPath>) -> ShellPath {
        let (dir, unknown_dir) = match (dir, &self.cwd) {
            (Some(d), _) => (Some(join_dir(d)), d.unknown_dir || d.dynamic),
            (None, Cwd::Known(d)) => (d.clone(), false),
            (None, Cwd::Unknown) => (None, true),
        };
        ShellPath {
            dir,
            path: e.text.clone(),
            dynamic: e.dynamic,
            glob: e.glob,
            unknown_dir,
        }
    }

    /// The path `e` names, relative to the shell's current directory.
    pub(crate) fn path(&self, e: &Expanded) -> ShellPath {
        self.path_in(e, None)
    }
}

impl VarLookup for State {
    fn lookup(&self, name: &str) -> Option<VarValue> {
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        // `$PWD` (and `$(pwd)`): the current directory, as a path relative to the action's.
        match (name, &self.cwd) {
            ("PWD", Cwd::Known(d)) => {
                Some(VarValue::Static(d.clone().unwrap_or_else(|| ".".into())))
            }
            _ => None,
        }
    }
}

/// The directory a [`ShellPath`] names, as a `dir` for paths inside it.
fn join_dir(d: &ShellPath) -> String {
    if d.path.starts_with('/') || d.path.starts_with('~') {
        return d.path.clone();
    }
    match &d.dir {
        Some(base) => format!("{base}/{}", d.path),
        None => d.path.clone(),
    }
}

/// What feeds a command's standard input.
#[derive(Debug, Clone, Default)]
pub(crate) enum Stdin {
    /// The terminal (or nothing we know of).
    #[default]
    Tty,
    /// A pipe from earlier stages, which read these files.
    Pipe(Vec<ShellPath>),
    File(ShellPath),
    /// Inline text (here-document or here-string).
    Text(String),
    /// A pipe from a stage that decodes data (`base64 -d`, `xxd -r`, ...).
    Decoded,
}

impl Stdin {
    /// The files whose content arrives on this stdin (those read upstream of a pipe, or
    /// the redirected file).
    pub(crate) fn data(&self) -> Vec<ShellPath> {
        match self {
            Stdin::Pipe(p) => p.clone(),
            Stdin::File(f) => vec![f.clone()],
            _ => Vec::new(),
        }
    }

    /// Whether anything but the terminal feeds stdin.
    pub(crate) fn is_data(&self) -> bool {
        !matches!(self, Stdin::Tty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> Expanded {
        Expanded {
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn paths_follow_the_current_directory() {
        let st = State::at(Cwd::Known(Some("sub".into())));
        let p = st.path(&word("a.txt"));
        assert_eq!((p.dir.as_deref(), p.path.as_str()), (Some("sub"), "a.txt"));
        assert!(!p.unknown_dir);
        assert!(State::at(Cwd::Unknown).path(&word("a")).unknown_dir);
        assert_eq!(State::at(Cwd::Known(None)).path(&word("a")).dir, None);
    }

    #[test]
    fn an_option_directory_wins_over_the_current_one() {
        let st = State::at(Cwd::Unknown);
        let dir = State::at(Cwd::Known(Some("top".into()))).path(&word("repo"));
        let p = st.path_in(&word("f"), Some(&dir));
        assert_eq!(p.dir.as_deref(), Some("top/repo"));
        assert!(!p.unknown_dir);
        let abs = st.path_in(&word("f"), Some(&st.path(&word("/srv"))));
        assert_eq!(abs.dir.as_deref(), Some("/srv"));
        let computed = Expanded {
            dynamic: true,
            ..word("$D")
        };
        assert!(
            st.path_in(&word("f"), Some(&st.path(&computed)))
                .unknown_dir
        );
    }

    #[test]
    fn stdin_data_is_what_was_read_upstream_or_redirected() {
        let f = State::at(Cwd::Known(None)).path(&word(".env"));
        assert_eq!(Stdin::File(f.clone()).data(), vec![f.clone()]);
        assert_eq!(Stdin::Pipe(vec![f.clone()]).data(), vec![f]);
        assert!(Stdin::Text("x".into()).data().is_empty());
        assert!(Stdin::Decoded.is_data());
        assert!(!Stdin::Tty.is_data());
    }
}
