//! Shell builtins that change the shell's state (`cd`, `export`, `unset`) or run other
//! code (`eval`, `source`, `enable -f`, `alias`).

use mandate_types::ProgramClass;

use crate::effect::{RunAs, ShellEffect};
use crate::words::Expanded;

use super::context::WalkCx;
use super::environment::assigned_value;
use super::obfuscation::decodes;
use super::state::Cwd;

/// Runs `name` if it is one of these builtins; returns whether it was.
pub(crate) fn run(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) -> bool {
    match name {
        "cd" | "pushd" => cd(cx, args),
        "popd" => cx.st.cwd = Cwd::Unknown,
        "export" | "declare" | "typeset" | "local" | "readonly" => {
            for a in args.iter().filter(|a| !a.text.starts_with('-')) {
                if let Some((k, v)) = a.text.split_once('=') {
                    let value = Expanded {
                        text: v.to_owned(),
                        ..a.clone()
                    };
                    cx.st.vars.insert(k.to_owned(), assigned_value(k, &value));
                }
            }
        }
        "unset" => {
            for a in args {
                cx.st.vars.remove(&a.text);
            }
        }
        "eval" => eval(cx, args),
        // `trap CMD SIGNAL...`: CMD runs later, in this shell.
        "trap" => {
            if let Some(cmd) = args.iter().find(|a| !a.text.starts_with('-')) {
                if cmd.dynamic {
                    cx.unparseable("trap runs a command computed at run time");
                } else if !cmd.text.is_empty() {
                    let text = cmd.text.clone();
                    cx.child_script(&text, &crate::analyze::state::Stdin::Tty);
                }
            }
        }
        "source" | "." => {
            cx.emit(ShellEffect::Exec {
                program: name.to_owned(),
                class: ProgramClass::Interpreter,
            });
            if let Some(a) = args.first() {
                let p = cx.st.path(a);
                cx.runs_file(
                    p,
                    RunAs::ShellScript,
                    args[1..].iter().map(|a| a.text.clone()).collect(),
                );
            }
        }
        "enable" => {
            if args.iter().any(|a| a.text == "-f") {
                cx.unparseable("enable -f loads a shared library into the shell");
            }
        }
        "alias" => {
            // An alias defined here could rename any later command.
            if args.iter().any(|a| a.text.contains('=')) {
                cx.unparseable("alias redefines commands; what later names run cannot be known");
            }
        }
        _ => return false,
    }
    true
}

/// `cd DIR`: the directory later paths are relative to.
fn cd(cx: &mut WalkCx<'_>, args: &[Expanded]) {
    let target = args
        .iter()
        .find(|a| !a.text.starts_with('-') || a.text == "-");
    let relative = |t: &Expanded| !t.text.starts_with('/') && !t.text.starts_with('~');
    cx.st.cwd = match target {
        None => Cwd::Known(Some("~".into())),
        Some(t) if t.dynamic || t.text == "-" => Cwd::Unknown,
        Some(t) => match &cx.st.cwd {
            Cwd::Unknown if relative(t) => Cwd::Unknown,
            Cwd::Known(Some(d)) if relative(t) => Cwd::Known(Some(format!("{d}/{}", t.text))),
            _ => Cwd::Known(Some(t.text.clone())),
        },
    };
}

/// `eval ARGS`: the joined arguments run as shell text in the current shell.
fn eval(cx: &mut WalkCx<'_>, args: &[Expanded]) {
    if args
        .iter()
        .any(|a| a.substitutions.iter().any(|s| decodes(s)))
    {
        cx.obfuscated("eval runs a payload decoded at run time");
    } else if args.iter().any(|a| a.dynamic) {
        cx.unparseable("eval runs text computed at run time");
    } else {
        let text = args
            .iter()
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        cx.walk.script(&text, cx.st, cx.stdin);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::{Harness, word};
    use crate::words::VarValue;

    /// Runs the builtin `argv` in `h`; returns whether it was one and its effects.
    fn builtin(h: &mut Harness, argv: &[&str]) -> (bool, Vec<String>) {
        let args: Vec<Expanded> = argv[1..].iter().map(|a| word(a)).collect();
        h.with_cx(|cx| run(cx, argv[0], &args))
    }

    #[test]
    fn cd_moves_the_current_directory() {
        let mut h = Harness::new();
        builtin(&mut h, &["cd", "a"]);
        builtin(&mut h, &["cd", "b"]);
        assert_eq!(h.st.cwd, Cwd::Known(Some("a/b".into())));
        builtin(&mut h, &["cd", "/srv"]);
        assert_eq!(h.st.cwd, Cwd::Known(Some("/srv".into())));
        builtin(&mut h, &["cd"]);
        assert_eq!(h.st.cwd, Cwd::Known(Some("~".into())));
        for unknowable in [&["cd", "-"][..], &["cd", "$D"], &["popd"]] {
            let mut h = Harness::new();
            builtin(&mut h, unknowable);
            assert_eq!(h.st.cwd, Cwd::Unknown, "{unknowable:?}");
        }
    }

    #[test]
    fn export_and_unset_change_variables() {
        let mut h = Harness::new();
        builtin(&mut h, &["export", "-x", "A=1", "B=$X"]);
        assert_eq!(h.st.vars.get("A"), Some(&VarValue::Static("1".into())));
        assert_eq!(h.st.vars.get("B"), Some(&VarValue::Dynamic));
        builtin(&mut h, &["unset", "A"]);
        assert!(!h.st.vars.contains_key("A"));
    }

    #[test]
    fn eval_runs_its_text_in_this_shell() {
        let mut h = Harness::new();
        let (_, effects) = builtin(&mut h, &["eval", "cd sub;", "cat .env"]);
        assert_eq!(effects, ["exec cat", "read sub/.env"]);
        assert_eq!(h.st.cwd, Cwd::Known(Some("sub".into())));
        let (_, effects) = builtin(&mut Harness::new(), &["eval", "$X"]);
        assert_eq!(
            effects,
            ["unparseable: eval runs text computed at run time"]
        );
    }

    #[test]
    fn source_enable_and_alias() {
        let (_, effects) = builtin(&mut Harness::new(), &[".", "env.sh"]);
        assert_eq!(effects, ["exec .", "runs env.sh as shell script []"]);
        let (_, effects) = builtin(&mut Harness::new(), &["enable", "-f", "x.so", "y"]);
        assert_eq!(effects.len(), 1);
        assert!(effects[0].starts_with("unparseable: enable -f"));
        let (_, effects) = builtin(&mut Harness::new(), &["alias", "ls=rm"]);
        assert!(effects[0].starts_with("unparseable: alias redefines"));
        assert_eq!(builtin(&mut Harness::new(), &["alias"]), (true, vec![]));
    }

    #[test]
    fn other_names_are_not_builtins() {
        assert_eq!(builtin(&mut Harness::new(), &["cat", "x"]), (false, vec![]));
    }
}
