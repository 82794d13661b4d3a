//! Running one simple command: what its name and environment say before any program
//! knowledge applies (a hidden or computed name, variables that load code or name a
//! command to run), shell functions and builtins, then the program's knowledge-base
//! entry and the [`ProgramModel`](super::context::ProgramModel) registered for its
//! argument role.

use mandate_types::ProgramClass;

use crate::effect::ShellEffect;
use crate::kb::{ArgsRole, ProgramSpec};
use crate::words::{Expanded, VarValue};

use super::args::{self, Until};
use super::builtins;
use super::context::WalkCx;
use super::obfuscation::{escaped_program_name, expanded_program_name};
use super::state::Stdin;

/// Reports the effects of running `argv` with the variables `env` set for it alone.
pub(crate) fn command(cx: &mut WalkCx<'_>, argv: &[Expanded], env: &[(String, VarValue)]) {
    let Some(first) = argv.first() else { return };
    if let Some(reason) = escaped_program_name(first) {
        cx.obfuscated(reason);
    }
    if let Some(reason) = expanded_program_name(first) {
        return cx.obfuscated(reason);
    }
    if first.dynamic {
        return cx.unparseable(format!(
            "the program name {:?} is computed at run time, so what runs cannot be known",
            first.text
        ));
    }
    environment(cx, &first.text, env);
    if cx.st.vars.contains_key("IFS") {
        cx.unparseable("words split on a custom IFS after it was reassigned");
    }
    let name = basename(&first.text).to_owned();
    let args = &argv[1..];
    if cx.st.functions.contains(&first.text) {
        return;
    }
    if builtins::run(cx, &name, args) {
        return;
    }
    if first.text.contains('/') {
        // A relative program path runs a file of the repository or cwd.
        cx.read(first);
    }
    command_options(cx, &name, args);
    let kb = cx.kb;
    let Some(spec) = kb.get(&name) else {
        return unknown_program(cx, name, args);
    };
    cx.emit(ShellEffect::Exec {
        program: name.clone(),
        class: spec.class,
    });
    if spec.privilege {
        cx.emit(ShellEffect::Privilege {
            program: name.clone(),
        });
    }
    if spec.listen {
        cx.unparseable(format!("{name} listens for connections"));
    }
    if name == "getent" {
        getent(cx, args);
    }
    if !spec.subcommands.is_empty() && spec.args != ArgsRole::Git {
        let (global, consumed) = args::parse(spec, args, Until::FirstPositional);
        if let Some(sub_name) = global.positional.first()
            && let Some(sub) = spec.subcommands.get(&sub_name.text)
        {
            if sub.listen {
                cx.unparseable(format!("{name} {} listens for connections", sub_name.text));
            }
            return run_model(cx, &name, sub, &args[consumed..]);
        }
    }
    run_model(cx, &name, spec, args);
}

/// Hands the command to the model registered for its argument role.
fn run_model(cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
    cx.walk.model_for(spec.args).run(cx, name, spec, args);
}

/// Variables set for the command that load code into it or name a command it runs
/// (`LD_PRELOAD`, `BASH_ENV`, `GIT_SSH_COMMAND`, `PAGER`, ...).
fn environment(cx: &mut WalkCx<'_>, program: &str, env: &[(String, VarValue)]) {
    for (k, v) in env {
        if matches!(
            k.as_str(),
            "LD_PRELOAD" | "LD_LIBRARY_PATH" | "LD_AUDIT" | "DYLD_INSERT_LIBRARIES"
        ) {
            cx.unparseable(format!("{k} loads arbitrary code into {program}"));
        }
        if matches!(k.as_str(), "BASH_ENV" | "ENV" | "PROMPT_COMMAND") {
            cx.unparseable(format!("{k} makes {program} run another command"));
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
                    let cmd = cmd.trim_start_matches(['|', '-']).to_owned();
                    cx.child_script(&cmd, &Stdin::Tty);
                }
                VarValue::Dynamic => cx.unparseable(format!(
                    "{k} makes {program} run a command computed at run time"
                )),
            }
        }
    }
}

/// Options of any program whose value is a command it runs (`--password-command=...`).
fn command_options(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    for a in args {
        if let Some((flag, value)) = a.text.strip_prefix("--").and_then(|t| t.split_once('='))
            && (flag.ends_with("-command")
                || flag.ends_with("-cmd")
                || flag.ends_with("-script")
                || flag == "exec")
        {
            if a.dynamic {
                cx.unparseable(format!(
                    "{name} --{flag} runs a command computed at run time"
                ));
            } else {
                cx.child_script(value, &Stdin::Tty);
            }
        }
    }
}

/// A program the knowledge base does not know: it runs, and its plain arguments are
/// taken as files it may read.
fn unknown_program(cx: &mut WalkCx<'_>, name: String, args: &[Expanded]) {
    cx.emit(ShellEffect::Exec {
        program: name,
        class: ProgramClass::Unknown,
    });
    for a in args
        .iter()
        .filter(|a| !a.text.starts_with('-') && !a.text.is_empty())
    {
        cx.read(a);
    }
}

/// `getent shadow` and friends read the file behind the database.
fn getent(cx: &mut WalkCx<'_>, args: &[Expanded]) {
    for db in args
        .iter()
        .filter(|a| matches!(a.text.as_str(), "shadow" | "gshadow" | "passwd" | "group"))
    {
        let p = cx.st.path(&Expanded {
            text: format!("/etc/{}", db.text),
            ..Default::default()
        });
        cx.emit(ShellEffect::Read(p));
    }
}

/// The last component of a program path.
fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}
