//! Archivers: `tar` (old-style keys too: `tar czf a.tgz dir`) and `cpio`. Creating reads
//! the sources whole and writes the archive; extracting reads the archive and writes into
//! the target directory, whose members are only known at run time; absolute member names
//! (`tar -P`, `cpio` without `--no-absolute-filenames`) may land anywhere.

use crate::effect::{NetTarget, ShellEffect, ShellPath};
use crate::kb::ProgramSpec;
use crate::words::Expanded;

use crate::analyze::args::Until;
use crate::analyze::context::{ProgramModel, WalkCx};
use crate::analyze::roles;
use crate::analyze::state::Stdin;
use crate::analyze::targets::remote_spec;

/// `tar` (`args = "tar"`).
pub(crate) struct Tar;

/// tar's key letters that take a value, in old-style bundles.
const TAR_VALUE_LETTERS: &str = "fCTXbKNVgFLI";

/// `tar czf a.tgz dir` → `tar -c -z -f a.tgz dir`.
fn old_style(args: &[Expanded]) -> Vec<Expanded> {
    let Some(first) = args.first() else {
        return Vec::new();
    };
    let key = first.text.as_str();
    let is_key = !key.starts_with('-')
        && !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphabetic())
        && key.chars().any(|c| "ctxrudA".contains(c));
    if !is_key || first.dynamic {
        return args.to_vec();
    }
    let mut out = Vec::new();
    let mut values = args[1..].iter();
    for c in key.chars() {
        out.push(Expanded {
            text: format!("-{c}"),
            ..first.clone()
        });
        if TAR_VALUE_LETTERS.contains(c)
            && let Some(v) = values.next()
        {
            out.push(v.clone());
        }
    }
    out.extend(values.cloned());
    out
}

impl ProgramModel for Tar {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let args = old_style(args);
        let (parsed, _) = cx.parse_args(name, spec, &args, Until::End);
        let has = |s: &[&str]| parsed.switches.iter().any(|x| s.contains(&x.as_str()));
        let extract = has(&["-x", "--extract", "--get"]);
        let list = has(&["-t", "--list", "-d", "--diff", "--compare"]);
        let absolute = has(&["-P", "--absolute-names"]);
        let archive = parsed.value_of(&["-f", "--file"]).cloned();
        // Options other than the archive and the directory keep their roles.
        let mut own = parsed.clone();
        own.flags
            .retain(|(f, _, _)| !matches!(f.as_str(), "-f" | "--file" | "-C" | "--directory"));
        roles::option_effects(cx, name, &own);
        let dir = parsed.value_of(&["-C", "--directory"]).map(|d| cx.path(d));
        // `-f host:path` is an archive on another machine, reached through rsh/ssh
        // (`--rsh-command`), unless `--force-local`.
        let remote = archive
            .as_ref()
            .filter(|_| !has(&["--force-local"]))
            .and_then(|a| remote_spec(&a.text).map(|host| (a.dynamic, host)));
        if let Some((dynamic, host)) = remote {
            let reads_before = cx.walk.report().len();
            if !(extract || list) {
                read_sources(cx, dir, &parsed.positional);
            }
            let target = if dynamic {
                NetTarget::Dynamic { text: host }
            } else {
                NetTarget::Host { host, port: None }
            };
            let data_from = cx.walk.report().reads_since(reads_before);
            cx.emit(ShellEffect::Connect {
                target,
                sends: !(extract || list),
                data_from,
            });
            if extract {
                extracted(
                    cx,
                    parsed.value_of(&["-C", "--directory"]).map(|d| cx.path(d)),
                    &parsed.positional,
                    absolute,
                );
            }
            return;
        }
        if extract || list {
            match &archive {
                Some(a) if a.text != "-" => cx.read(a),
                _ => read_stdin(cx),
            }
            if extract {
                extracted(cx, dir, &parsed.positional, absolute);
            }
            return;
        }
        read_sources(cx, dir, &parsed.positional);
        if let Some(a) = archive.filter(|a| a.text != "-") {
            cx.write(&a);
        }
    }
}

/// The content of an archive on stdin is read (a pipe's or a file's).
fn read_stdin(cx: &mut WalkCx<'_>) {
    if let Stdin::File(p) = cx.stdin {
        let p = p.clone();
        cx.emit(ShellEffect::Read(p));
    }
}

/// What extracting writes: the members named, else anything under the directory; with
/// absolute names, anywhere.
/// Creating (or appending to) an archive: the sources are read whole, relative to `-C`.
fn read_sources(cx: &mut WalkCx<'_>, dir: Option<ShellPath>, sources: &[Expanded]) {
    let saved = cx.dir.clone();
    if dir.is_some() {
        cx.dir = dir;
    }
    for p in sources {
        let path = cx.path(p);
        cx.emit(ShellEffect::ReadTree(path));
    }
    cx.dir = saved;
}

fn extracted(cx: &mut WalkCx<'_>, dir: Option<ShellPath>, members: &[Expanded], absolute: bool) {
    if absolute {
        return cx.emit(ShellEffect::Write(ShellPath {
            dir: None,
            path: "<absolute member names>".into(),
            dynamic: true,
            glob: false,
            unknown_dir: false,
        }));
    }
    let saved = cx.dir.clone();
    if dir.is_some() {
        cx.dir = dir;
    }
    if members.is_empty() {
        let any = Expanded {
            text: "*".into(),
            glob: true,
            ..Default::default()
        };
        cx.write(&any);
    }
    for m in members {
        cx.write(m);
    }
    cx.dir = saved;
}

/// `cpio` (`args = "cpio"`): `-o` archives the files named on stdin, `-i` extracts,
/// `-p DIR` copies the files named on stdin into DIR.
pub(crate) struct Cpio;

impl ProgramModel for Cpio {
    fn run(&self, cx: &mut WalkCx<'_>, name: &str, spec: &ProgramSpec, args: &[Expanded]) {
        let (parsed, _) = cx.parse_args(name, spec, args, Until::End);
        let has = |s: &[&str]| parsed.switches.iter().any(|x| s.contains(&x.as_str()));
        roles::option_effects(cx, name, &parsed);
        if has(&["-o", "--create", "-p", "--pass-through"]) {
            // The names come from stdin: a pipe from `find`, or a list in a file.
            match cx.stdin {
                Stdin::Pipe(paths) => {
                    for p in paths.clone() {
                        cx.emit(ShellEffect::ReadTree(p));
                    }
                }
                _ => cx.unparseable(format!(
                    "`{name}` archives the files named on its input, which Mandate cannot see"
                )),
            }
        }
        if has(&["-i", "--extract"]) {
            read_stdin(cx);
            let absolute = !has(&["--no-absolute-filenames"]);
            extracted(cx, None, &parsed.positional, absolute);
        }
        if has(&["-p", "--pass-through"]) {
            let dir = parsed.positional.first().map(|d| cx.path(d));
            extracted(cx, dir, &[], false);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::testing::walk;

    #[test]
    fn tar_creates_from_trees_and_extracts_into_its_directory() {
        assert_eq!(
            walk("tar czf /tmp/a.tgz -C ~ .aws"),
            ["exec tar", "read tree ~/.aws", "write /tmp/a.tgz"]
        );
        assert_eq!(
            walk("tar -xf dotfiles.tar -C ~"),
            ["exec tar", "read dotfiles.tar", "write ~/*"]
        );
        let e = walk("tar -xPf kit.tar");
        assert!(
            e.iter().any(|x| x.contains("absolute member names")),
            "{e:?}"
        );
        assert_eq!(walk("tar -tf a.tar"), ["exec tar", "read a.tar"]);
        assert_eq!(
            walk("tar -cf out.tar src"),
            ["exec tar", "read tree src", "write out.tar"]
        );
    }

    #[test]
    fn cpio_archives_what_find_names() {
        let e = walk("find ~/.ssh | cpio -o > /tmp/k.cpio");
        assert!(e.iter().any(|x| x.starts_with("read tree ~/.ssh")), "{e:?}");
        let e = walk("cpio -idmu < kit.cpio");
        assert!(
            e.iter().any(|x| x.contains("absolute member names")),
            "{e:?}"
        );
    }
}
