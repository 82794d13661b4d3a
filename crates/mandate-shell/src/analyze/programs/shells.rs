//! Shells: `bash -c STRING` is walked as a script; `bash script.sh` reads the script;
//! text fed on stdin (`bash <<EOF`, `... | sh`) runs as a script.

use crate::effect::RunAs;

use crate::analyze::args::Parsed;
use crate::analyze::context::WalkCx;
use crate::analyze::obfuscation::decodes;
use crate::analyze::state::{State, Stdin};

/// The positional arguments and stdin of a shell (`args = "shell"`).
pub(crate) fn shell(cx: &mut WalkCx<'_>, name: &str, parsed: &Parsed) {
    // A new shell sees exported variables, but plain shell variables are not exported.
    let mut sub = State::at(cx.st.cwd.clone());
    let stdin = cx.stdin;
    if parsed.letters.contains(&'c') {
        match parsed.positional.first() {
            Some(s) if !s.dynamic => cx.walk.script(&s.text, &mut sub, stdin),
            Some(s) if s.substitutions.iter().any(|x| decodes(x)) => {
                cx.obfuscated(format!("{name} -c runs a payload decoded at run time"))
            }
            Some(s) => cx.unparseable(format!(
                "{name} -c runs a command computed at run time ({:?})",
                s.text
            )),
            None => cx.unparseable(format!("{name} -c without a command")),
        }
        return;
    }
    match parsed.positional.first() {
        Some(script) => cx.runs_file(
            cx.path(script),
            RunAs::ShellScript,
            parsed.positional[1..]
                .iter()
                .map(|a| a.text.clone())
                .collect(),
        ),
        None => match stdin {
            Stdin::Text(t) => cx.walk.script(t, &mut sub, &Stdin::Tty),
            Stdin::Decoded => cx.obfuscated(format!(
                "decoded data is piped into {name} and runs as a script"
            )),
            Stdin::Pipe(_) => cx.unparseable(format!(
                "data piped into {name} runs as a script that Mandate cannot see"
            )),
            Stdin::File(p) => cx.runs_file(p.clone(), RunAs::ShellScript, Vec::new()),
            Stdin::Tty => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::roles::ByRoles;
    use crate::analyze::testing::{Harness, path, run, walk};

    #[test]
    fn dash_c_is_walked_as_a_script() {
        assert_eq!(
            run(&ByRoles, &["bash", "-c", "cat .env"]),
            ["exec cat", "read .env"]
        );
        assert_eq!(
            run(&ByRoles, &["sh", "-ec", "rm x"]),
            ["exec rm", "delete x"]
        );
        let computed = run(&ByRoles, &["bash", "-c", "$X"]);
        assert!(
            computed[0].starts_with("unparseable: bash -c runs a command computed"),
            "{computed:?}"
        );
        assert_eq!(
            run(&ByRoles, &["bash", "-c"]),
            ["unparseable: bash -c without a command"]
        );
    }

    #[test]
    fn a_script_file_is_read() {
        assert_eq!(
            run(&ByRoles, &["bash", "deploy.sh", "arg"]),
            ["runs deploy.sh as shell script [arg]"]
        );
    }

    #[test]
    fn stdin_runs_as_the_script() {
        let text = Harness::new()
            .stdin(Stdin::Text("rm -rf build".into()))
            .model(&ByRoles, &["sh"]);
        assert_eq!(text, ["exec rm", "delete build"]);
        let decoded = Harness::new()
            .stdin(Stdin::Decoded)
            .model(&ByRoles, &["sh"]);
        assert_eq!(
            decoded,
            ["obfuscated: decoded data is piped into sh and runs as a script"]
        );
        let piped = Harness::new()
            .stdin(Stdin::Pipe(vec![]))
            .model(&ByRoles, &["bash"]);
        assert!(
            piped[0].starts_with("unparseable: data piped into bash"),
            "{piped:?}"
        );
        let file = Harness::new()
            .stdin(Stdin::File(path("s.sh")))
            .model(&ByRoles, &["bash"]);
        assert_eq!(file, ["runs s.sh as shell script []"]);
    }

    #[test]
    fn the_new_shell_does_not_see_plain_shell_variables() {
        assert_eq!(
            walk("F=.env; bash -c 'cat $F'"),
            ["exec bash", "exec cat", "read $F?"]
        );
        assert_eq!(
            walk("export F=.env; bash -c 'cat $F'"),
            ["exec bash", "exec cat", "read $F?"],
            "exported ones are not passed on either (see the report)"
        );
    }
}
