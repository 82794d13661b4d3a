//! Small programs whose arguments need code: `patch` (writes what its diff names) and
//! `cmake -E` (a portable file and process toolbox).

use crate::effect::{RunAs, ShellEffect};
use crate::kb::ProgramSpec;
use crate::words::Expanded;

use crate::analyze::args::Until;
use crate::analyze::context::{ProgramModel, WalkCx};
use crate::analyze::roles::{self, ByRoles};
use crate::analyze::state::Stdin;

/// `patch` (`args = "patch"`): `patch [OPTIONS] [ORIGFILE [PATCHFILE]]`.
pub(crate) struct Patch;

impl ProgramModel for Patch {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let (parsed, _) = cx.parse_args(name, spec, args, Until::End);
        let strip = parsed
            .value_of(&["-p", "--strip"])
            .and_then(|v| v.text.parse().ok())
            .unwrap_or(0);
        let dir = parsed.value_of(&["-d", "--directory"]).map(|d| cx.path(d));
        let mut own = parsed.clone();
        own.flags
            .retain(|(f, _, _)| !matches!(f.as_str(), "-d" | "--directory" | "-i" | "--input"));
        roles::option_effects(cx, name, &own);
        let saved = cx.dir.clone();
        if dir.is_some() {
            cx.dir = dir.clone();
        }
        let mut pos = parsed.positional.iter();
        let orig = pos.next();
        let patch_file = parsed.value_of(&["-i", "--input"]).or(pos.next());
        if let Some(o) = orig {
            // One file named: that is what changes.
            cx.read(o);
            cx.write(o);
        } else if let Some(p) = patch_file {
            cx.dir = saved.clone();
            let path = cx.path(p);
            cx.runs_file(path, RunAs::Patch { strip, dir }, Vec::new());
        } else {
            match cx.stdin.clone() {
                Stdin::Text(t) => {
                    for target in crate::patch::patch_targets(&t, strip) {
                        let t = Expanded {
                            text: target,
                            ..Default::default()
                        };
                        cx.write(&t);
                    }
                }
                Stdin::File(p) => {
                    cx.dir = saved.clone();
                    cx.runs_file(p, RunAs::Patch { strip, dir }, Vec::new());
                }
                _ => cx.unparseable(format!(
                    "`{name}` writes the files its input names, which Mandate cannot see"
                )),
            }
        }
        cx.dir = saved;
    }
}

/// `cmake` (`args = "cmake"`): `cmake -E COMMAND ARGS` is a toolbox of file and process
/// commands; anything else is the build tool its entry describes.
pub(crate) struct Cmake;

impl ProgramModel for Cmake {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let Some(at) = args.iter().position(|a| a.text == "-E") else {
            return ByRoles.run(cx, name, spec, args);
        };
        let Some((command, rest)) = args[at + 1..].split_first() else {
            return;
        };
        let files: Vec<&Expanded> = rest.iter().filter(|a| !a.text.starts_with('-')).collect();
        match command.text.as_str() {
            "copy"
            | "copy_if_different"
            | "copy_directory"
            | "copy_directory_if_different"
            | "create_symlink"
            | "create_hardlink"
            | "rename" => {
                if let Some((dest, sources)) = files.split_last() {
                    for s in sources {
                        if command.text.starts_with("copy_directory") {
                            let p = cx.path(s);
                            cx.emit(ShellEffect::ReadTree(p));
                        } else {
                            cx.read(s);
                        }
                        if command.text == "rename" {
                            cx.delete(s);
                        }
                    }
                    cx.write(dest);
                }
            }
            "rm" | "remove" | "remove_directory" => files.iter().for_each(|f| cx.delete(f)),
            "make_directory" | "touch" | "touch_nocreate" => files.iter().for_each(|f| cx.write(f)),
            "cat" | "sha1sum" | "sha224sum" | "sha256sum" | "sha384sum" | "sha512sum"
            | "md5sum" | "compare_files" | "cmake_echo_color" => {
                files.iter().for_each(|f| cx.read(f))
            }
            "echo" | "echo_append" | "environment" | "capabilities" | "sleep" | "true"
            | "false" => {}
            "time" | "env" => {
                // The command after (`env` takes NAME=VALUE first).
                let start = rest
                    .iter()
                    .position(|a| !a.text.contains('=') && !a.text.starts_with('-'));
                if let Some(s) = start {
                    cx.run_command(&rest[s..], &[]);
                }
            }
            "chdir" => {
                if let Some((d, cmd)) = rest.split_first() {
                    cx.dir = Some(cx.path(d));
                    cx.run_command(cmd, &[]);
                }
            }
            other => cx.unparseable(format!(
                "`{name} -E {other}` is not a command Mandate knows"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::testing::walk;

    #[test]
    fn patch_writes_what_its_diff_names() {
        let e = walk("patch -p1 <<'EOF'\n--- a/src/x.rs\n+++ b/src/x.rs\n@@ -1 +1 @@\n-a\n+b\nEOF");
        assert!(e.contains(&"write src/x.rs".to_owned()), "{e:?}");
        let e = walk("patch -d ~ -p1 < x.patch");
        assert!(
            e.iter().any(|x| x.starts_with("runs x.patch as patch")),
            "{e:?}"
        );
        assert_eq!(
            walk("patch ~/.bashrc < x.patch")[1..],
            ["exec patch", "read ~/.bashrc", "write ~/.bashrc"]
        );
    }

    #[test]
    fn cmake_e_commands_are_file_operations() {
        assert_eq!(
            walk("cmake -E copy hook.sh ~/.bashrc"),
            ["exec cmake", "read hook.sh", "write ~/.bashrc"]
        );
        assert_eq!(
            walk("cmake -E touch ~/.hushlogin"),
            ["exec cmake", "write ~/.hushlogin"]
        );
        assert_eq!(
            walk("cmake -E rm -rf build"),
            ["exec cmake", "delete build"]
        );
        let e = walk("cmake -E env FOO=1 cat .env");
        assert!(e.contains(&"read .env".to_owned()), "{e:?}");
        let e = walk("cmake -E frobnicate");
        assert!(
            e.iter().any(|x| x.contains("not a command Mandate knows")),
            "{e:?}"
        );
    }
}
