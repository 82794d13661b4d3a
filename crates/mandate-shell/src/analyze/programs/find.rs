//! `find ROOTS... EXPRESSION`: the roots are read; `-exec`/`-ok` run a command on each
//! file found, `-delete` deletes them, `-fprint` and friends write a file.

use crate::effect::ShellEffect;
use crate::kb::ProgramSpec;
use crate::words::Expanded;

use crate::analyze::context::{ProgramModel, WalkCx};

/// `find` (`args = "find"`).
pub(crate) struct Find;

impl ProgramModel for Find {
    fn run(&self, cx: &mut WalkCx<'_>, _name: &str, _spec: &ProgramSpec, args: &[Expanded]) {
        let mut i = 0;
        let mut roots = Vec::new();
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
            let p = cx.st.path(r);
            cx.emit(ShellEffect::Read(p));
        }
        // What is found: anything under the roots, of the one name asked for if there is one.
        let names: Vec<&Expanded> = args
            .windows(2)
            .filter(|w| matches!(w[0].text.as_str(), "-name" | "-iname"))
            .map(|w| &w[1])
            .collect();
        let name = match names.as_slice() {
            [one] if !one.dynamic && !one.text.contains('/') => one.text.as_str(),
            _ => "*",
        };
        while i < args.len() {
            match args[i].text.as_str() {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    i = exec(cx, args, i + 1, &roots[0], name);
                }
                "-delete" => {
                    for r in &roots {
                        let p = cx.st.path(&found(r, name));
                        cx.emit(ShellEffect::Delete(p));
                    }
                }
                "-fprint" | "-fprint0" | "-fprintf" | "-fls" => {
                    if let Some(f) = args.get(i + 1) {
                        let p = cx.st.path(f);
                        cx.emit(ShellEffect::Write(p));
                    }
                    i += 1;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The files found under `root` (named `name`, a pattern), as a glob word: their location
/// is known to be under the root, and their name says what they may be (`**/.env`).
fn found(root: &Expanded, name: &str) -> Expanded {
    Expanded {
        text: format!("{}/**/{name}", root.text.trim_end_matches('/')),
        dynamic: root.dynamic,
        glob: true,
        ..Default::default()
    }
}

/// The command of an `-exec` starting at `args[start]`, up to `;` or `+`, run with `{}`
/// standing for a file found under `root`; returns the index of its terminator.
fn exec(
    cx: &mut WalkCx<'_>,
    args: &[Expanded],
    start: usize,
    root: &Expanded,
    name: &str,
) -> usize {
    let mut i = start;
    let mut cmd = Vec::new();
    while i < args.len() && args[i].text != ";" && args[i].text != "+" {
        let mut a = args[i].clone();
        if a.text.contains("{}") {
            // A name pattern could match any file (`-name '.e*'` finds `.env`): what the
            // command then does with it is to a file Mandate cannot name.
            let f = found(root, name);
            let wildcard = name.contains(['*', '?', '[']);
            a = Expanded {
                text: a.text.replace("{}", &f.text),
                dynamic: a.dynamic || f.dynamic || wildcard,
                glob: true,
                ..a
            };
        }
        cmd.push(a);
        i += 1;
    }
    // Each file is handled by its own process, which starts with a copy of the state.
    let mut sub = cx.st.clone();
    let mut exec_cx = WalkCx {
        walk: &mut *cx.walk,
        kb: cx.kb,
        st: &mut sub,
        stdin: cx.stdin,
        subst_reads: &[],
        dir: None,
    };
    exec_cx.run_command(&cmd, &[]);
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::run;

    #[test]
    fn roots_are_read_and_default_to_the_current_directory() {
        assert_eq!(
            run(&Find, &["find", "src", "docs", "-name", "x"]),
            ["read src", "read docs"]
        );
        assert_eq!(run(&Find, &["find", "-name", "x"]), ["read ."]);
    }

    #[test]
    fn exec_runs_its_command_on_what_was_found() {
        assert_eq!(
            run(&Find, &["find", ".", "-exec", "cat", "{}", ";"]),
            ["read .", "exec cat", "read ./**/*?"]
        );
        assert_eq!(
            run(
                &Find,
                &["find", "d/", "-execdir", "rm", "{}", "+", "-print"]
            ),
            ["read d/", "exec rm", "delete d/**/*?"]
        );
    }

    #[test]
    fn delete_and_fprint() {
        assert_eq!(
            run(&Find, &["find", "a", "b", "-delete"]),
            ["read a", "read b", "delete a/**/*", "delete b/**/*"]
        );
        assert_eq!(
            run(&Find, &["find", ".", "-fprint", "out"]),
            ["read .", "write out"]
        );
    }
}
