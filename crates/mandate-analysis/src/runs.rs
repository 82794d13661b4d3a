//! Files that run and whose content decides what happens: a program run by its path
//! (`./tool`, `/tmp/x`, a glob such as `/usr/bin/cu?l`), a script given to a shell or an
//! interpreter, a build file (`Makefile`, `package.json`).
//!
//! A file of the task's repository that nothing has changed since the task started (its
//! inode change time, which no program can set back, is older than the mandate) is the
//! repository's own, as delegated: it runs as what it is. Anything else (changed or
//! created since, or outside the repository) is judged by its content, read now: a copy
//! of an installed program is that program; a script is analysed as shell or as its
//! interpreter's code; a changed Makefile is unparseable. A file that does not exist runs
//! nothing, unless the same command writes it first.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mandate_shell::{Base, RunAs, ShellPath, WrittenFirst};
use mandate_types::{Effect, PathZone, ProgramClass};

use crate::{Access, Analyzer, TaskView};

/// Largest file read to see what it runs.
const MAX_RUN_FILE: u64 = 256 * 1024;
/// Deepest chain of files run by files followed (a script that runs a script ...).
pub(crate) const MAX_RUN_DEPTH: usize = 4;

/// What a file that runs turned out to be.
enum Content {
    /// Nothing there: running it fails.
    Missing,
    /// The repository's own file, unchanged since git recorded it.
    Delegated,
    /// Text (a script), read now.
    Text(String),
    /// A binary, read now.
    Binary(Vec<u8>),
    /// Something that cannot be judged, and why.
    Opaque(String),
}

impl Analyzer {
    /// The effects of running `path` as `run_as` with `argv`.
    #[expect(
        clippy::too_many_arguments,
        reason = "the shell effect's four fields plus the walk's context"
    )]
    pub(crate) fn runs_file(
        &self,
        path: &ShellPath,
        run_as: &RunAs,
        argv: &[String],
        written: &WrittenFirst,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        let name = path
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&path.path)
            .to_owned();
        let Some(mut abs) = self.run_target(path, cwd, &name, out) else {
            return;
        };
        if let RunAs::Import { .. } = run_as {
            // The directory's own module, if there is one; else the installed one runs.
            let candidates = [abs.with_extension("py"), abs.join("__init__.py")];
            match candidates.into_iter().find(|c| c.is_file()) {
                Some(file) => abs = file,
                None => return,
            }
        }
        if let RunAs::Module { interpreter } = run_as {
            // `pkg/mod.py` or `pkg/mod/__main__.py`, else a module Mandate does not know.
            let candidates = [abs.with_extension("py"), abs.join("__main__.py")];
            match candidates.into_iter().find(|c| c.is_file()) {
                Some(file) => abs = file,
                None => {
                    out.push(unparseable(format!(
                        "`{interpreter} -m {}` runs a module that is not in the repository and that Mandate does not know",
                        path.path.replace('/', ".")
                    )));
                    return;
                }
            }
        }
        if let RunAs::Package { tool } = run_as {
            return self.package(&abs, tool, written, cwd, task, depth, out);
        }
        let facts = self.facts(abs.clone(), task, Access::Read);
        let zone = facts.zone;
        out.push(Effect::Read(facts));
        if let RunAs::Patch { strip, dir } = run_as {
            return self.patch_writes(&abs, written, *strip, dir.as_ref(), cwd, task, out);
        }
        let content = match written {
            WrittenFirst::Text(t) => Content::Text(t.clone()),
            WrittenFirst::Unknown => {
                out.push(unparseable(format!(
                    "runs `{}`, which the same command writes first with content Mandate cannot know",
                    abs.display()
                )));
                return;
            }
            WrittenFirst::Derived { base, added } => self.derived(&abs, base, added, cwd, task),
            WrittenFirst::No if zone == PathZone::System => Content::Delegated,
            WrittenFirst::No => content_of(&abs, task),
        };
        match run_as {
            RunAs::Program => self.program_file(&abs, &name, argv, content, cwd, task, depth, out),
            RunAs::ShellScript => {
                self.script_file(&abs, "sh", content, cwd, task, depth, out);
            }
            RunAs::Script { interpreter }
            | RunAs::Module { interpreter }
            | RunAs::Import { interpreter } => {
                self.script_file(&abs, interpreter, content, cwd, task, depth, out);
            }
            RunAs::Patch { .. } | RunAs::Package { .. } => {}
            RunAs::BuildFile { tool, targets } => {
                self.build_file(&abs, tool, targets, content, task, depth, out)
            }
        }
    }

    /// A package installed from a path: one of the repository's own (unchanged since the
    /// task started) builds as the repository does; a directory's `setup.py` that the task
    /// wrote is judged as the script it is; anything else from outside the repository, or
    /// written by the task, runs build code Mandate does not see.
    #[expect(
        clippy::too_many_arguments,
        reason = "one install's facts plus the walk's context"
    )]
    fn package(
        &self,
        abs: &Path,
        tool: &str,
        written: &WrittenFirst,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        let in_repo = task
            .mandate
            .scope
            .repos
            .iter()
            .any(|repo| abs.starts_with(repo.as_path()));
        if !in_repo {
            return out.push(unparseable(format!(
                "`{tool}` installs `{}`, a package from outside the repository whose build code runs and which Mandate does not analyse",
                abs.display()
            )));
        }
        if *written != WrittenFirst::No {
            return out.push(unparseable(format!(
                "`{tool}` installs `{}`, which the same command writes first",
                abs.display()
            )));
        }
        if abs.is_dir() {
            let setup = abs.join("setup.py");
            return match content_of(&setup, task) {
                Content::Missing | Content::Delegated => {}
                content => self.script_file(&setup, "python3", content, cwd, task, depth, out),
            };
        }
        match content_of(abs, task) {
            Content::Missing | Content::Delegated => {}
            Content::Opaque(why) => out.push(unparseable(why)),
            Content::Text(_) | Content::Binary(_) => out.push(unparseable(format!(
                "`{tool}` installs `{}`, a package this task wrote or changed, whose build code Mandate does not analyse",
                abs.display()
            ))),
        }
    }

    /// The files a patch writes: those its diff names, under `dir` (or `cwd`).
    #[expect(
        clippy::too_many_arguments,
        reason = "one patch's facts plus the walk's context"
    )]
    fn patch_writes(
        &self,
        abs: &Path,
        written: &WrittenFirst,
        strip: usize,
        dir: Option<&ShellPath>,
        cwd: &Path,
        task: &TaskView,
        out: &mut Vec<Effect>,
    ) {
        let text = match written {
            WrittenFirst::Text(t) => t.clone(),
            WrittenFirst::No => match std::fs::read(abs) {
                Ok(b) if b.len() as u64 <= MAX_RUN_FILE * 4 => {
                    String::from_utf8_lossy(&b).into_owned()
                }
                Ok(_) => {
                    return out.push(unparseable(format!(
                        "the patch `{}` is too large to read",
                        abs.display()
                    )));
                }
                Err(_) => return,
            },
            _ => {
                return out.push(unparseable(format!(
                    "the patch `{}` is written by the same command, so the files it changes are not known",
                    abs.display()
                )));
            }
        };
        let base = match dir {
            Some(d) => match self.one_path(d, cwd) {
                Some(b) => b,
                None => {
                    return out.push(unparseable(
                        "a patch applied in a directory computed at run time".into(),
                    ));
                }
            },
            None => cwd.to_path_buf(),
        };
        for target in mandate_shell::patch::patch_targets(&text, strip) {
            let p = crate::resolve(&base.join(&target));
            out.push(Effect::Write(self.facts(p, task, Access::Write)));
        }
    }

    /// The content of a file the command line edits, appends to or copies before running
    /// it: the base as it is now, with the text the command put in (judged as part of it).
    /// A program built by the same command: the repository's own program when every
    /// source is the repository's own, unchanged file; otherwise code Mandate cannot read.
    fn built(&self, abs: &Path, sources: &[ShellPath], cwd: &Path, task: &TaskView) -> Content {
        for s in sources {
            let own = self.one_path(s, cwd).is_some_and(|p| {
                std::fs::metadata(&p).is_ok_and(|m| m.is_file() && delegated(&p, &m, task))
            });
            if !own {
                return Content::Opaque(format!(
                    "runs `{}`, built by the same command from `{}`, which is not the repository's own unchanged file",
                    abs.display(),
                    s.path
                ));
            }
        }
        if sources.is_empty() {
            return Content::Opaque(format!(
                "runs `{}`, which the same command builds from sources Mandate did not see",
                abs.display()
            ));
        }
        Content::Delegated
    }

    fn derived(
        &self,
        abs: &Path,
        base: &Base,
        added: &str,
        cwd: &Path,
        task: &TaskView,
    ) -> Content {
        let from = match base {
            Base::Text(t) => return Content::Text(format!("{t}\n{added}")),
            Base::BuiltFrom(sources) => return self.built(abs, sources, cwd, task),
            Base::Disk => abs.to_path_buf(),
            Base::CopyOf(p) => match self.one_path(p, cwd) {
                Some(p) => p,
                None => {
                    return Content::Opaque(format!(
                        "runs `{}`, a copy of a file whose location is computed at run time",
                        abs.display()
                    ));
                }
            },
        };
        // The repository's own file, unchanged until now: only what the command adds is new.
        if let Ok(meta) = std::fs::metadata(&from)
            && delegated(&from, &meta, task)
        {
            return Content::Text(added.to_owned());
        }
        match std::fs::metadata(&from) {
            Ok(m) if m.len() > MAX_RUN_FILE => Content::Opaque(format!(
                "runs `{}`, which is too large to read ({} bytes)",
                abs.display(),
                m.len()
            )),
            Ok(_) => match std::fs::read(&from) {
                Ok(b) if b.starts_with(b"\x7fELF") || std::str::from_utf8(&b).is_err() => {
                    Content::Opaque(format!(
                        "runs `{}`, a program file the same command changes",
                        abs.display()
                    ))
                }
                Ok(b) => Content::Text(format!("{}\n{added}", String::from_utf8_lossy(&b))),
                Err(e) => Content::Opaque(format!("cannot read `{}`: {e}", from.display())),
            },
            // Nothing there yet: what the command added is all there is.
            Err(_) => Content::Text(added.to_owned()),
        }
    }

    /// The one file a run names (a glob in command position is expanded and must match
    /// exactly one file), or `None` after reporting why there is none.
    fn run_target(
        &self,
        path: &ShellPath,
        cwd: &Path,
        name: &str,
        out: &mut Vec<Effect>,
    ) -> Option<PathBuf> {
        let Some(abs) = self.one_path(path, cwd) else {
            out.push(unparseable(format!(
                "runs `{}`, a file whose location is computed at run time",
                path.path
            )));
            return None;
        };
        if !path.glob {
            return Some(abs);
        }
        let matches = crate::expand_glob(&abs);
        match matches.as_slice() {
            [one] => Some(one.clone()),
            [] => None,
            _ => {
                out.push(unparseable(format!(
                    "the program name `{name}` is a pattern matching {} files, so what runs cannot be told",
                    matches.len()
                )));
                None
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one run's facts plus the walk's context"
    )]
    fn program_file(
        &self,
        abs: &Path,
        name: &str,
        argv: &[String],
        content: Content,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        let as_program = |program: &str| -> String {
            std::iter::once(program.to_owned())
                .chain(argv.iter().map(|a| shell_quote(a)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        match content {
            Content::Missing => {}
            Content::Delegated => {
                let real = abs.file_name().map(|n| n.to_string_lossy().into_owned());
                let program = real.as_deref().unwrap_or(name);
                if self.env.is_system_bin(abs) {
                    // An installed program, perhaps reached through a glob: it is what
                    // its name says.
                    self.command_effects(&as_program(program), cwd, task, depth, out);
                } else {
                    out.push(Effect::Exec {
                        program: program.to_owned(),
                        class: ProgramClass::Build,
                    });
                    self.judged_arguments(argv, cwd, task, depth, out);
                }
            }
            // A copy of an installed program is that program, whatever it is called now.
            Content::Binary(bytes) => match installed_program_like(&bytes) {
                Some(program) => self.command_effects(&as_program(&program), cwd, task, depth, out),
                None => {
                    out.push(Effect::Exec {
                        program: name.to_owned(),
                        class: ProgramClass::Unknown,
                    });
                    out.push(unparseable(format!(
                        "runs `{}`, a program file this task wrote or changed, which Mandate cannot identify",
                        abs.display()
                    )));
                    self.judged_arguments(argv, cwd, task, depth, out);
                }
            },
            Content::Text(text) => {
                let interpreter = shebang(&text).unwrap_or_else(|| "sh".to_owned());
                out.push(Effect::Exec {
                    program: name.to_owned(),
                    class: ProgramClass::Interpreter,
                });
                self.script_text(abs, &interpreter, &text, cwd, task, depth, out);
            }
            Content::Opaque(why) => out.push(unparseable(why)),
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one run's facts plus the walk's context"
    )]
    fn script_file(
        &self,
        abs: &Path,
        interpreter: &str,
        content: Content,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        match content {
            Content::Missing | Content::Delegated => {}
            Content::Text(text) => self.script_text(abs, interpreter, &text, cwd, task, depth, out),
            Content::Binary(_) => out.push(unparseable(format!(
                "`{interpreter}` runs `{}`, which is not text",
                abs.display()
            ))),
            Content::Opaque(why) => out.push(unparseable(why)),
        }
    }

    /// A script's text: shell is walked as a command line; other languages are inspected
    /// as their inline code would be.
    #[expect(
        clippy::too_many_arguments,
        reason = "one run's facts plus the walk's context"
    )]
    fn script_text(
        &self,
        abs: &Path,
        interpreter: &str,
        text: &str,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        if depth >= MAX_RUN_DEPTH {
            out.push(unparseable(format!(
                "`{}` runs scripts more than {MAX_RUN_DEPTH} deep",
                abs.display()
            )));
            return;
        }
        let base = interpreter.rsplit('/').next().unwrap_or(interpreter);
        let effects = if is_shell(base) {
            self.shell.analyze(text).effects
        } else {
            self.shell.analyze_code(base, text).effects
        };
        for e in &effects {
            self.shell_effect(e, cwd, task, depth + 1, out);
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one run's facts plus the walk's context"
    )]
    fn build_file(
        &self,
        abs: &Path,
        tool: &str,
        targets: &[String],
        content: Content,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        let dir = abs.parent().unwrap_or(abs).to_path_buf();
        match (tool, content) {
            (_, Content::Missing) => {}
            ("npm" | "pnpm" | "yarn" | "bun", Content::Text(text)) => {
                self.package_scripts(abs, &text, targets, &dir, task, depth, out)
            }
            ("npm" | "pnpm" | "yarn" | "bun", Content::Delegated) => {
                match std::fs::read_to_string(abs) {
                    Ok(text) => self.package_scripts(abs, &text, targets, &dir, task, depth, out),
                    Err(e) => out.push(unparseable(format!("cannot read `{}`: {e}", abs.display()))),
                }
            }
            (_, Content::Delegated) => {}
            (_, Content::Opaque(why)) => out.push(unparseable(why)),
            (_, Content::Text(_) | Content::Binary(_)) => out.push(unparseable(format!(
                "`{tool}` runs recipes from `{}`, which this task wrote or changed; Mandate does not analyse build files",
                abs.display()
            ))),
        }
    }

    /// `npm run X` and friends: the scripts of `package.json` that run, with their `pre`
    /// and `post` scripts, are walked as shell in the package's directory.
    #[expect(
        clippy::too_many_arguments,
        reason = "one run's facts plus the walk's context"
    )]
    fn package_scripts(
        &self,
        abs: &Path,
        text: &str,
        targets: &[String],
        dir: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        let Ok(manifest) = serde_json::from_str::<serde_json::Value>(text) else {
            out.push(unparseable(format!(
                "`{}` is not valid JSON",
                abs.display()
            )));
            return;
        };
        let scripts = manifest.get("scripts").and_then(|s| s.as_object());
        for target in targets {
            for name in [
                format!("pre{target}"),
                target.clone(),
                format!("post{target}"),
            ] {
                let Some(script) = scripts.and_then(|s| s.get(&name)) else {
                    continue;
                };
                let Some(command) = script.as_str() else {
                    out.push(unparseable(format!(
                        "script `{name}` of `{}` is not text",
                        abs.display()
                    )));
                    continue;
                };
                self.command_effects(command, dir, task, depth + 1, out);
            }
        }
    }

    /// What the arguments given to a program Mandate cannot see into plainly show.
    fn judged_arguments(
        &self,
        argv: &[String],
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        for e in &self.shell.judge_arguments(argv).effects {
            self.shell_effect(e, cwd, task, depth + 1, out);
        }
    }

    /// The effects of a command line run as part of another action.
    fn command_effects(
        &self,
        command: &str,
        cwd: &Path,
        task: &TaskView,
        depth: usize,
        out: &mut Vec<Effect>,
    ) {
        if depth >= MAX_RUN_DEPTH {
            out.push(unparseable(format!(
                "runs commands more than {MAX_RUN_DEPTH} deep"
            )));
            return;
        }
        for e in self.shell_effects(command).iter() {
            self.shell_effect(e, cwd, task, depth + 1, out);
        }
    }
}

fn unparseable(reason: String) -> Effect {
    Effect::Unparseable { reason }
}

fn is_shell(name: &str) -> bool {
    matches!(
        name,
        "sh" | "bash" | "dash" | "zsh" | "ksh" | "mksh" | "ash" | "busybox"
    )
}

/// The interpreter a script's `#!` line names (`#!/usr/bin/env python3` → `python3`).
fn shebang(text: &str) -> Option<String> {
    let line = text.lines().next()?.strip_prefix("#!")?.trim();
    let mut words = line.split_whitespace();
    let first = words.next()?;
    let program = if first.ends_with("/env") {
        words.find(|w| !w.starts_with('-') && !w.contains('='))?
    } else {
        first
    };
    Some(program.rsplit('/').next().unwrap_or(program).to_owned())
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@=,%".contains(&b))
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// What is in the file at `abs`, unless it is the repository's own unchanged file.
fn content_of(abs: &Path, task: &TaskView) -> Content {
    let meta = match std::fs::metadata(abs) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Content::Missing,
        Err(e) => return Content::Opaque(format!("cannot read `{}`: {e}", abs.display())),
    };
    if meta.is_dir() {
        return Content::Missing;
    }
    if delegated(abs, &meta, task) {
        return Content::Delegated;
    }
    if meta.len() > MAX_RUN_FILE {
        return Content::Opaque(format!(
            "runs `{}`, which this task wrote or changed and which is too large to read ({} bytes)",
            abs.display(),
            meta.len()
        ));
    }
    match std::fs::read(abs) {
        Ok(bytes) if bytes.starts_with(b"\x7fELF") || std::str::from_utf8(&bytes).is_err() => {
            Content::Binary(bytes)
        }
        Ok(bytes) => Content::Text(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => Content::Opaque(format!("cannot read `{}`: {e}", abs.display())),
    }
}

/// Whether `abs` lies in one of the task's repositories and has not changed since the
/// task started: its status change time (set by the kernel on every write, rename or
/// mode change, and not settable by programs) is before the second the mandate was issued.
fn delegated(abs: &Path, meta: &std::fs::Metadata, task: &TaskView) -> bool {
    meta.ctime() < task.mandate.issued_at
        && task
            .mandate
            .scope
            .repos
            .iter()
            .any(|repo| abs.starts_with(repo.as_path()))
}

/// The installed program (on `PATH`, or in the system's program directories) whose file
/// has exactly these bytes.
fn installed_program_like(bytes: &[u8]) -> Option<String> {
    let size = bytes.len() as u64;
    let candidates = installed_by_size().get(&size)?;
    candidates
        .iter()
        .find(|p| std::fs::read(p).is_ok_and(|b| b == bytes))
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
}

/// Installed program files by size, read once per process.
fn installed_by_size() -> &'static HashMap<u64, Vec<PathBuf>> {
    static INDEX: OnceLock<HashMap<u64, Vec<PathBuf>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        for d in ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"] {
            dirs.push(PathBuf::from(d));
        }
        let mut index: HashMap<u64, Vec<PathBuf>> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for d in dirs {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_file()
                    && meta.mode() & 0o111 != 0
                    && seen.insert((meta.dev(), meta.ino()))
                {
                    index.entry(meta.len()).or_default().push(e.path());
                }
            }
        }
        index
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_name_their_interpreter() {
        assert_eq!(
            shebang("#!/usr/bin/env python3\nx").as_deref(),
            Some("python3")
        );
        assert_eq!(shebang("#!/bin/bash -e\n").as_deref(), Some("bash"));
        assert_eq!(
            shebang("#!/usr/bin/env -S node --experimental\n").as_deref(),
            Some("node")
        );
        assert_eq!(shebang("echo hi"), None);
    }

    #[test]
    fn a_copy_of_an_installed_program_is_that_program() {
        let Ok(bytes) = std::fs::read("/bin/ls") else {
            return;
        };
        assert_eq!(
            installed_program_like(&bytes)
                .as_deref()
                .map(|n| n == "ls" || n == "dir" || n == "vdir"),
            Some(true)
        );
        assert_eq!(installed_program_like(b"not a program"), None);
    }
}
