//! Programs that run another command: `sudo CMD`, `nohup CMD`, `timeout 5 CMD`,
//! `env [VAR=value]... CMD` (and `env -S 'CMD ...'`), `xargs CMD` (whose arguments come
//! from stdin).

use crate::kb::{ArgsRole, ProgramSpec};
use crate::words::{Expanded, VarValue};

use crate::analyze::args::Until;
use crate::analyze::context::{ProgramModel, WalkCx};
use crate::analyze::roles;
use crate::analyze::state::Stdin;

/// Wrappers (`args = "command"`, `"env"` or `"xargs"`): the first positional starts the
/// inner command, which runs in the same shell state.
pub(crate) struct Wrapper;

impl ProgramModel for Wrapper {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let (parsed, consumed) = cx.parse_args(name, spec, args, Until::FirstPositional);
        // The wrapper's own options (`nohup`'s none, `flock -c CMD`, `daemonize -o LOG`)
        // and the services it contacts (`srun` reaches its cluster).
        let before = cx.walk.report().len();
        roles::option_effects(cx, name, &parsed);
        roles::services(cx, spec, before);
        // The first positional (already consumed) starts the inner command.
        let mut inner: Vec<Expanded> = parsed.positional.clone();
        inner.extend(args[consumed..].iter().cloned());
        let mut env = Vec::new();
        if spec.args == ArgsRole::Env {
            env = leading_assignments(&mut inner);
            if let Some(s) = parsed.value_of(&["-S", "--split-string"]) {
                return cx.child_script(&s.text, cx.stdin);
            }
        }
        // Leading words that are the wrapper's own (`timeout DURATION`, `chroot DIR`,
        // `flock FILE`), not the command.
        let skip = if name == "timeout" {
            spec.skip.max(1)
        } else {
            spec.skip
        };
        inner.drain(..skip.min(inner.len()));
        if spec.args == ArgsRole::Xargs {
            if inner.is_empty() {
                inner.push(Expanded {
                    text: "echo".into(),
                    ..Default::default()
                });
            }
            xargs_arguments(&mut inner, parsed.value_of(&["-I", "-i", "--replace"]));
        }
        if inner.is_empty() {
            return;
        }
        // One word with spaces (`tmux new 'make test'`, `watch 'ls | wc -l'`): tmux, screen,
        // watch and their kind run it with `sh -c`; as a program name it would not run at all.
        if let [only] = inner.as_slice()
            && !only.dynamic
            && only.text.contains(char::is_whitespace)
        {
            let text = only.text.clone();
            return cx.child_script(&text, &Stdin::Tty);
        }
        // `env NAME=value cmd` sets the variables for that command alone.
        let mut scoped = cx.st.clone();
        for (k, v) in &env {
            scoped.vars.insert(k.clone(), v.clone());
        }
        let mut inner_cx = WalkCx {
            walk: &mut *cx.walk,
            kb: cx.kb,
            st: &mut scoped,
            stdin: &Stdin::Tty,
            subst_reads: cx.subst_reads,
            dir: cx.dir.clone(),
        };
        inner_cx.run_command(&inner, &env);
    }
}

/// Removes `env`'s leading `NAME=value` arguments from `inner` and returns them.
fn leading_assignments(inner: &mut Vec<Expanded>) -> Vec<(String, VarValue)> {
    let mut env = Vec::new();
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
    env
}

/// `xargs` adds arguments read from stdin: at the end, or where the `-I` replacement
/// string appears.
fn xargs_arguments(inner: &mut Vec<Expanded>, replace: Option<&Expanded>) {
    match replace {
        Some(r) => {
            for a in inner.iter_mut() {
                if a.text.contains(r.text.as_str()) {
                    a.dynamic = true;
                }
            }
        }
        None => inner.push(Expanded {
            text: "<arguments from stdin>".into(),
            dynamic: true,
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::run;

    #[test]
    fn the_inner_command_runs() {
        assert_eq!(
            run(&Wrapper, &["sudo", "-u", "root", "cat", "/etc/shadow"]),
            ["exec cat", "read /etc/shadow"]
        );
        assert_eq!(
            run(&Wrapper, &["nohup", "rm", "x"]),
            ["exec rm", "delete x"]
        );
        assert!(run(&Wrapper, &["nohup"]).is_empty());
    }

    #[test]
    fn timeout_drops_its_duration() {
        assert_eq!(
            run(&Wrapper, &["timeout", "5", "cat", ".env"]),
            ["exec cat", "read .env"]
        );
    }

    #[test]
    fn env_sets_variables_for_the_inner_command() {
        assert_eq!(
            run(&Wrapper, &["env", "A=1", "PAGER=cat .env", "ls"]),
            ["exec cat", "read .env", "exec ls"]
        );
        assert_eq!(
            run(&Wrapper, &["env", "-S", "cat .env"]),
            ["exec cat", "read .env"]
        );
    }

    #[test]
    fn xargs_adds_arguments_from_stdin() {
        assert_eq!(
            run(&Wrapper, &["xargs", "rm"]),
            ["exec rm", "delete <arguments from stdin>?"]
        );
        assert_eq!(
            run(&Wrapper, &["xargs", "-I", "{}", "cp", "{}", "dest"]),
            ["exec cp", "read {}?", "write dest"]
        );
        assert_eq!(run(&Wrapper, &["xargs"]), ["exec echo"]);
    }
}
