//! Shells: `bash -c STRING` is walked as a script; `bash script.sh` reads the script;
//! text fed on stdin (`bash <<EOF`, `... | sh`) runs as a script.

use crate::effect::ShellEffect;

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
        Some(script) => cx.read(script),
        None => match stdin {
            Stdin::Text(t) => cx.walk.script(t, &mut sub, &Stdin::Tty),
            Stdin::Decoded => cx.obfuscated(format!(
                "decoded data is piped into {name} and runs as a script"
            )),
            Stdin::Pipe(_) => cx.unparseable(format!(
                "data piped into {name} runs as a script that Mandate cannot see"
            )),
            Stdin::File(p) => cx.emit(ShellEffect::Read(p.clone())),
            Stdin::Tty => {}
        },
    }
}
