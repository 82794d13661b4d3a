//! The interface between the walk of the shell syntax and the code that knows what
//! programs do with their arguments.
//!
//! The walker ([`walk`](super::walk)) implements [`Walk`]; for each command it builds a
//! [`WalkCx`] and hands it to [`invoke`](super::invoke), which picks the
//! [`ProgramModel`] registered for the program's argument role
//! ([`programs::model_for`](super::programs::model_for)). Models reach the walker only
//! through [`Walk`] (an inner command, as `sudo CMD` runs, goes back through `invoke`),
//! so no module depends back on the walker.

use crate::effect::{RunAs, ShellEffect, ShellPath};
use crate::kb::{ArgsRole, KnowledgeBase, ProgramSpec};
use crate::words::{Expanded, VarValue};

use super::args::{self, Parsed, Unmodelled, Until};
use super::report::Report;
use super::state::{State, Stdin};

/// What program models may ask of the walk that contains them.
pub(crate) trait Walk {
    /// Where effects are reported.
    fn report(&mut self) -> &mut Report;

    /// Parses and walks shell text that runs as part of the command (`bash -c`,
    /// `eval`, a `ProxyCommand`), one level deeper, in the shell state `st`.
    fn script(&mut self, text: &str, st: &mut State, stdin: &Stdin);

    /// Walks shell text that runs on another host (`ssh host CMD`), in a fresh shell
    /// whose directory is unknown, and returns its effects instead of reporting them.
    fn walk_remote(&mut self, text: &str) -> Vec<ShellEffect>;

    /// The model that analyses programs whose arguments have the role `role`.
    fn model_for(&self, role: ArgsRole) -> &'static dyn ProgramModel;
    /// Walks the body of a shell function called with `args`.
    fn call_function(
        &mut self,
        def: &brush_parser::ast::FunctionDefinition,
        st: &mut State,
        stdin: &Stdin,
        args: &[Expanded],
    );
    /// How the walk runs one command (`sudo CMD`'s CMD, `find -exec CMD`), so that models
    /// can run inner commands without depending on the walker.
    fn command(&self) -> CommandFn;
}

/// Runs `argv`, with the variables `env` set for it, in a command's context.
pub(crate) type CommandFn = fn(&mut WalkCx<'_>, &[Expanded], &[(String, VarValue)]);

/// Code that knows what one kind of program does with its arguments.
pub(crate) trait ProgramModel: Sync {
    /// Reports the effects of running `name` (whose knowledge-base entry is `spec`)
    /// with `args`, in the context `cx`.
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]);

    /// Whether the model reads the program's subcommands itself (`git`). Otherwise a
    /// subcommand with its own knowledge-base entry (`kubectl proxy`) is run by the
    /// model of that entry, with the arguments after it.
    fn reads_own_subcommands(&self) -> bool {
        false
    }
}

/// One command being analysed: the walk it belongs to and the context it runs in.
pub(crate) struct WalkCx<'a> {
    /// The walk, for reporting effects and following nested shell text.
    pub(crate) walk: &'a mut dyn Walk,
    /// The program knowledge base.
    pub(crate) kb: &'a KnowledgeBase,
    /// The shell state the command runs in; builtins such as `cd` change it.
    pub(crate) st: &'a mut State,
    /// What feeds the command's standard input.
    pub(crate) stdin: &'a Stdin,
    /// Files read by command substitutions in the command's own words: their content
    /// is in its arguments (`curl -d "$(cat .env)"`).
    pub(crate) subst_reads: &'a [ShellPath],
    /// The directory an option moved the program to (`git -C`, `make -C`); paths it
    /// names are relative to it instead of the shell's current directory.
    pub(crate) dir: Option<ShellPath>,
}

impl WalkCx<'_> {
    /// Reports an effect.
    pub(crate) fn emit(&mut self, e: ShellEffect) {
        self.walk.report().emit(e);
    }

    /// Reports that part of the command could not be analysed, and why.
    pub(crate) fn unparseable(&mut self, reason: impl Into<String>) {
        self.walk.report().unparseable(reason);
    }

    /// Reports code that is decoded or assembled at run time, and how.
    pub(crate) fn obfuscated(&mut self, reason: impl Into<String>) {
        self.walk.report().obfuscated(reason);
    }

    /// The path `e` names, relative to [`WalkCx::dir`] if an option set it.
    pub(crate) fn path(&self, e: &Expanded) -> ShellPath {
        self.st.path_in(e, self.dir.as_ref())
    }

    /// Reports that the file `e` is read.
    pub(crate) fn read(&mut self, e: &Expanded) {
        let p = self.path(e);
        self.emit(ShellEffect::Read(p));
    }

    /// Reports that the file `e` is written.
    pub(crate) fn write(&mut self, e: &Expanded) {
        let p = self.path(e);
        self.emit(ShellEffect::Write(p));
    }

    /// Reports that the file `e` is deleted.
    pub(crate) fn delete(&mut self, e: &Expanded) {
        let p = self.path(e);
        self.emit(ShellEffect::Delete(p));
    }

    /// Runs `argv` (with `env` set for it) as a command in this context.
    pub(crate) fn run_command(&mut self, argv: &[Expanded], env: &[(String, VarValue)]) {
        let command = self.walk.command();
        command(self, argv, env);
    }

    /// Reports that the file `path` runs as `run_as` with `argv`, with what the command
    /// line wrote to it first, if it did.
    pub(crate) fn runs_file(&mut self, path: ShellPath, run_as: RunAs, argv: Vec<String>) {
        let written = self.walk.report().written_first(&path);
        self.emit(ShellEffect::RunsFile {
            path,
            run_as,
            argv,
            written,
        });
    }

    /// Splits `name`'s arguments by its entry `spec` and reports the options the entry
    /// does not model as unparseable.
    pub(crate) fn parse_args(
        &mut self,
        name: &str,
        spec: &ProgramSpec,
        args: &[Expanded],
        until: Until,
    ) -> (Parsed, usize) {
        let (parsed, used) = args::parse(spec, args, until);
        for (option, why) in &parsed.unmodelled {
            self.unparseable(match why {
                Unmodelled::Risky => format!(
                    "`{name}` option `{option}` may run a command, load code, read a \
                     configuration or send data elsewhere, and Mandate does not model it"
                ),
                Unmodelled::Valued => format!(
                    "`{name}` option `{option}` takes a value Mandate does not model (it could \
                     name a file, a command or a host)"
                ),
            });
        }
        (parsed, used)
    }

    /// Walks shell text the command runs in a child shell, which starts with a copy of
    /// the current state and whose changes do not come back.
    pub(crate) fn child_script(&mut self, text: &str, stdin: &Stdin) {
        let mut child = self.st.clone();
        self.walk.script(text, &mut child, stdin);
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::state::Stdin;
    use crate::analyze::testing::{Harness, word};

    #[test]
    fn paths_are_relative_to_an_option_directory_when_one_is_set() {
        let mut h = Harness::new();
        let (_, effects) = h.with_cx(|cx| {
            cx.read(&word("a"));
            cx.dir = Some(cx.path(&word("sub")));
            cx.write(&word("b"));
            cx.delete(&word("c"));
        });
        assert_eq!(effects, ["read a", "write sub/b", "delete sub/c"]);
    }

    #[test]
    fn a_child_script_does_not_change_this_shell() {
        let mut h = Harness::new();
        let (_, effects) = h.with_cx(|cx| cx.child_script("cd sub; X=1; cat a", &Stdin::Tty));
        assert_eq!(effects, ["exec cat", "read sub/a"]);
        assert!(h.st.vars.is_empty());
        assert_eq!(h.script("cat a"), ["exec cat", "read a"]);
    }
}
