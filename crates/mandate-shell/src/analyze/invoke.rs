//! Running one simple command: what its name and environment say before any program
//! knowledge applies (a hidden or computed name, variables that load code or name a
//! command to run), shell functions and builtins, then the program's knowledge-base
//! entry and the [`ProgramModel`](super::context::ProgramModel) registered for its
//! argument role.

use mandate_types::ProgramClass;

use crate::effect::{RunAs, ShellEffect};
use crate::words::{Expanded, VarValue};

use super::args::{self, Until};
use super::builtins;
use super::context::WalkCx;
use super::obfuscation::{escaped_program_name, expanded_program_name};
use super::programs::build_files::build_files;
use super::state::Stdin;
use super::{environment, roles, unknown};

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
    if cx.st.vars.contains_key("IFS") {
        cx.unparseable("words split on a custom IFS after it was reassigned");
    }
    let name = basename(&first.text).to_owned();
    let args = &argv[1..];
    if let Some(def) = cx.st.functions.get(&first.text).cloned() {
        return cx.walk.call_function(&def, cx.st, cx.stdin, args);
    }
    if builtins::run(cx, &name, args) {
        return;
    }
    // Variables that load code or name commands matter to programs, not to the shell's
    // own builtins (`cd`, `export`); the commands a builtin runs are checked themselves.
    environment::environment(cx, &first.text, env);
    environment::path_probes(cx, &name, args);
    if let Some(target) = roles::remote_code(&first.text) {
        // `npx github:user/tool`, `uv run https://…/script.py`: code fetched and run.
        return cx.emit(ShellEffect::RunRemote { target });
    }
    if first.glob || first.text.contains('/') && !in_system_bin(&first.text) {
        // Which program runs depends on the file there: the analysis layer looks.
        return cx.runs_file(
            cx.path(first),
            RunAs::Program,
            args.iter().map(|a| a.text.clone()).collect(),
        );
    }
    command_options(cx, &name, args);
    let kb = cx.kb;
    let Some(spec) = kb.get(&name) else {
        return unknown::run(cx, &name, args);
    };
    let args = match args.split_first() {
        Some((first, rest)) if spec.toolchain_selector && first.text.starts_with('+') => rest,
        _ => args,
    };
    let all_args = args;
    // The deepest subcommand named (`tool pkg publish`) decides, unless the program's
    // model reads its own subcommands (`git`).
    let (mut spec, mut args, mut title) = (spec, args, name.clone());
    while !spec.subcommands.is_empty() && !cx.walk.model_for(spec.args).reads_own_subcommands() {
        let (global, consumed) = args::parse(spec, args, Until::FirstPositional);
        let Some(sub) = global
            .positional
            .first()
            .and_then(|s| spec.subcommands.get(&s.text).map(|sub| (s, sub)))
        else {
            break;
        };
        title = format!("{title} {}", sub.0.text);
        // Options before the subcommand are the program's own: judged as such.
        let (own, _) = cx.parse_args(&name, spec, &args[..consumed - 1], Until::End);
        roles::option_effects(cx, &name, &own);
        (spec, args) = (sub.1, &args[consumed..]);
    }
    let administers = args
        .iter()
        .any(|a| names_option(&a.text, &spec.system_options));
    let inspects = spec.class == ProgramClass::System
        && !administers
        && args
            .iter()
            .any(|a| names_option(&a.text, &spec.inspect_options));
    cx.emit(ShellEffect::Exec {
        program: name.clone(),
        class: if inspects {
            ProgramClass::Inspect
        } else {
            spec.class
        },
    });
    if spec.privilege {
        cx.emit(ShellEffect::Privilege {
            program: name.clone(),
        });
    }
    if spec.listen {
        cx.unparseable(format!("`{title}` listens for connections"));
    }
    if administers {
        cx.emit(ShellEffect::Exec {
            program: name.clone(),
            class: ProgramClass::System,
        });
    }
    for a in all_args {
        let opt = a.text.split_once('=').map_or(a.text.as_str(), |(o, _)| o);
        let paths = spec
            .switch_writes
            .get(&a.text)
            .or_else(|| spec.switch_writes.get(opt));
        for p in paths.into_iter().flatten() {
            cx.write(&Expanded {
                text: p.clone(),
                ..Default::default()
            });
        }
    }
    permissions(cx, &name, all_args);
    if let Some(why) = &spec.unparseable {
        cx.unparseable(format!("`{title}`: {why}"));
    }
    if name == "getent" {
        getent(cx, all_args);
    }
    build_files(cx, &name, all_args);
    fixed_files(cx, spec);
    // A change of mode or owner leaves the content as it was: a script the command wrote
    // and then made executable (`cat > t.sh <<'EOF' … chmod +x t.sh; ./t.sh`) is still
    // judged by what was written.
    let known = matches!(name.as_str(), "chmod" | "chown" | "chgrp")
        .then(|| cx.walk.report().written_snapshot());
    cx.walk.model_for(spec.args).run(cx, &name, spec, args);
    if let Some(known) = known {
        cx.walk.report().written_restore(known);
    }
}

/// Whether the word `arg` is one of `options`: `--opt`, `--opt=value`, or a cluster of
/// one-letter options that starts with a listed one or holds one (`-Qi` for `-Q`, `-km`
/// for `-k`).
fn names_option(arg: &str, options: &[String]) -> bool {
    let opt = arg.split_once('=').map_or(arg, |(o, _)| o);
    options.iter().any(|o| {
        o == opt
            || (o.len() == 2
                && o.starts_with('-')
                && !o.starts_with("--")
                && opt.starts_with('-')
                && !opt.starts_with("--")
                && opt[1..].contains(&o[1..]))
    })
}

/// Modes and owners that give a file more than its owner's rights: setuid and setgid bits
/// (`chmod u+s`, `chmod 4755`, `install -m 4755`) and files given to root (`chown root`).
fn permissions(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    let mode = match name {
        "chmod" => args
            .iter()
            .find(|a| !a.text.starts_with('-') || a.text.starts_with("-s")),
        "install" | "mkdir" => args
            .iter()
            .position(|a| a.text == "-m" || a.text == "--mode")
            .and_then(|i| args.get(i + 1))
            .or_else(|| {
                args.iter().find(|a| {
                    a.text.starts_with("--mode=") || a.text.starts_with("-m") && a.text.len() > 2
                })
            }),
        _ => None,
    };
    if let Some(m) = mode {
        let m = m
            .text
            .trim_start_matches("--mode=")
            .trim_start_matches("-m");
        if sets_id_bits(m) {
            cx.emit(ShellEffect::Privilege {
                program: format!("{name} {m}"),
            });
        }
    }
    if matches!(name, "chown" | "chgrp")
        && let Some(owner) = args.iter().find(|a| !a.text.starts_with('-'))
    {
        let o = owner.text.as_str();
        let to_root = o
            .split([':', '.'])
            .any(|part| matches!(part, "root" | "0" | "wheel" | "sudo" | "admin"));
        if to_root || owner.dynamic {
            cx.emit(ShellEffect::Privilege {
                program: format!("{name} {o}"),
            });
        }
    }
}

/// Whether a mode sets the setuid or setgid bit (`u+s`, `+s`, `g=rws`, `4755`, `02755`).
fn sets_id_bits(mode: &str) -> bool {
    if mode.chars().all(|c| c.is_ascii_digit()) {
        let digits = mode.trim_start_matches('0');
        return digits.len() >= 4
            && digits
                .chars()
                .next()
                .and_then(|c| c.to_digit(8))
                .is_some_and(|d| d & 0b110 != 0);
    }
    mode.split(',').any(|clause| {
        clause
            .split_once(['+', '='])
            .is_some_and(|(_, perms)| perms.contains('s'))
    })
}

/// The files an entry says the program reads or writes without being told.
fn fixed_files(cx: &mut WalkCx<'_>, spec: &crate::kb::ProgramSpec) {
    let word = |t: &String| Expanded {
        text: t.clone(),
        ..Default::default()
    };
    for r in &spec.reads {
        cx.read(&word(r));
    }
    for w in &spec.writes {
        cx.write(&word(w));
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

/// Directories of installed programs, where the task cannot put one: a program run by
/// its path there is the program its name says.
const SYSTEM_BIN: &[&str] = &[
    "/usr/bin/",
    "/bin/",
    "/usr/sbin/",
    "/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/snap/bin/",
    "/opt/homebrew/bin/",
];

fn in_system_bin(path: &str) -> bool {
    SYSTEM_BIN.iter().any(|d| {
        path.strip_prefix(d)
            .is_some_and(|rest| !rest.contains('/') && !rest.is_empty())
    })
}

/// The last component of a program path.
fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testing::{Harness, word};

    /// Runs `argv` with `env` set for it; returns its effects.
    fn invoke(argv: &[&str], env: &[(&str, &str)]) -> Vec<String> {
        let argv: Vec<Expanded> = argv.iter().map(|a| word(a)).collect();
        let env: Vec<(String, VarValue)> = env
            .iter()
            .map(|(k, v)| {
                let value = if v.contains('$') {
                    VarValue::Dynamic
                } else {
                    VarValue::Static((*v).to_owned())
                };
                ((*k).to_owned(), value)
            })
            .collect();
        Harness::new().with_cx(|cx| command(cx, &argv, &env)).1
    }

    #[test]
    fn a_known_program_runs_with_its_model() {
        assert_eq!(invoke(&["cat", "a"], &[]), ["exec cat", "read a"]);
        assert_eq!(
            invoke(&["sudo", "cat", "a"], &[]),
            ["exec sudo", "privilege sudo", "exec cat", "read a"]
        );
    }

    #[test]
    fn an_unknown_program_is_unparseable_and_may_read_its_plain_arguments() {
        const UNKNOWN: &str = ": Mandate does not know what it does with its arguments";
        assert_eq!(
            invoke(&["frobnicate", "-v", "a", "b"], &[]),
            [
                "exec frobnicate",
                &format!("unparseable: unknown program `frobnicate`{UNKNOWN}"),
                "read a",
                "read b"
            ]
        );
        assert_eq!(
            invoke(&["./run.sh", "x"], &[]),
            ["runs ./run.sh as program [x]"]
        );
    }

    #[test]
    fn computed_program_names() {
        let computed = invoke(&["$CMD", "x"], &[]);
        assert_eq!(computed.len(), 1);
        assert!(computed[0].starts_with("unparseable: the program name \"$CMD\" is computed"));
        let expansion = invoke(&["${!c}"], &[]);
        assert!(
            expansion[0].starts_with("obfuscated: the program name"),
            "{expansion:?}"
        );
    }

    #[test]
    fn variables_that_load_code_or_name_commands() {
        let preload = invoke(&["ls"], &[("LD_PRELOAD", "/tmp/x.so")]);
        assert_eq!(preload[0], "unparseable: `LD_PRELOAD` loads code into `ls`");
        assert_eq!(
            invoke(&["git", "log"], &[("GIT_PAGER", "|cat .env")]),
            ["exec cat", "read .env", "exec git"]
        );
        let computed = invoke(&["less", "f"], &[("LESSOPEN", "$X")]);
        assert!(
            computed[0].starts_with("unparseable: `LESSOPEN` makes `less` run a command computed"),
            "{computed:?}"
        );
        assert_eq!(invoke(&["ls"], &[("LANG", "C")]), ["exec ls"]);
    }

    #[test]
    fn options_whose_value_is_a_command() {
        assert_eq!(
            invoke(&["tool", "--password-command=cat .env"], &[])[..3],
            ["exec cat", "read .env", "exec tool"]
        );
    }

    #[test]
    fn subcommands_with_their_own_entry_and_getent() {
        let proxy = invoke(&["kubectl", "proxy"], &[]);
        assert_eq!(proxy[0], "exec kubectl");
        assert!(proxy.contains(&"unparseable: `kubectl proxy` listens for connections".to_owned()));
        assert_eq!(
            invoke(&["getent", "shadow", "hosts"], &[]),
            ["exec getent", "read /etc/shadow"]
        );
    }

    #[test]
    fn functions_run_their_body_with_the_call_s_arguments_and_builtins_run_nothing_new() {
        use crate::analyze::testing::walk;
        assert_eq!(walk("deploy() { :; }; deploy x"), ["exec :"]);
        assert_eq!(
            walk("show() { cat \"$1\"; }; show .env"),
            ["exec cat", "read .env"]
        );
        assert_eq!(walk("f() { cat; }; f < .env"), ["read .env", "exec cat"]);
        let e = walk("f() { f; }; f");
        assert!(e.iter().any(|x| x.contains("more than 4 deep")), "{e:?}");
        assert!(invoke(&["cd", "x"], &[]).is_empty());
    }

    #[test]
    fn setuid_modes_and_files_given_to_root_are_privilege() {
        use crate::analyze::testing::walk;
        for cmd in [
            "chmod u+s bin/tool",
            "chmod 4755 bin/tool",
            "chmod -R g+s dir",
            "chmod +s x",
            "chmod 06755 x",
            "install -m 4755 a b",
            "install --mode=2755 a b",
            "chown root bin/tool",
            "chown 0:0 bin/tool",
            "chgrp root x",
        ] {
            assert!(
                walk(cmd).iter().any(|e| e.starts_with("privilege")),
                "{cmd}"
            );
        }
        for cmd in [
            "chmod 755 x",
            "chmod u+x x",
            "chmod -s x",
            "chown me:me x",
            "install -m 644 a b",
        ] {
            assert!(
                !walk(cmd).iter().any(|e| e.starts_with("privilege")),
                "{cmd}"
            );
        }
    }
}
