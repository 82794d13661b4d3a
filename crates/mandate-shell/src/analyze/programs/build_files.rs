//! Build tools run what their build file says: `make` runs the recipes of its Makefile,
//! `npm run X` (and `npm test`, `npm install`, yarn, pnpm, bun) run the scripts of
//! `package.json`. The file is reported as run, for the analysis layer to read.

use crate::effect::RunAs;
use crate::words::Expanded;

use crate::analyze::context::WalkCx;
use crate::analyze::environment::{Kind, kind_of};

/// Reports the build file `name` runs with `args`, if it is a build tool.
pub(crate) fn build_files(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    match name {
        "make" | "gmake" | "bmake" => make(cx, name, args),
        "npm" | "pnpm" | "yarn" | "bun" => package_scripts(cx, name, args),
        "just" => recipe_files(cx, name, &["justfile", "Justfile", ".justfile"]),
        "task" | "go-task" => {
            recipe_files(cx, name, &["Taskfile.yml", "Taskfile.yaml", "taskfile.yml"])
        }
        _ => {}
    }
}

/// The value of `-X VALUE`, `-XVALUE`, `--long VALUE` or `--long=VALUE` among `args`.
fn option(args: &[Expanded], short: &[&str], long: &[&str]) -> Option<Expanded> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let t = a.text.as_str();
        for l in long {
            if let Some(v) = t.strip_prefix(l).and_then(|r| r.strip_prefix('=')) {
                return Some(Expanded {
                    text: v.to_owned(),
                    ..a.clone()
                });
            }
        }
        if short.contains(&t) || long.contains(&t) {
            return it.next().cloned();
        }
        for s in short {
            if let Some(v) = t
                .strip_prefix(s)
                .filter(|v| !v.is_empty() && !t.starts_with("--"))
            {
                return Some(Expanded {
                    text: v.to_owned(),
                    ..a.clone()
                });
            }
        }
    }
    None
}

fn make(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    for a in args {
        let Some((var, value)) = a.text.split_once('=') else {
            continue;
        };
        if matches!(var, "SHELL" | "MAKESHELL" | ".SHELLFLAGS") {
            cx.unparseable(format!(
                "`{name} {var}=…` makes every recipe run through another command"
            ));
        } else if kind_of(var) == Some(Kind::RunsCommand) {
            // `make CC=…`: recipes run that command.
            if a.dynamic {
                cx.unparseable(format!(
                    "`{name} {var}=…` names a command computed at run time"
                ));
            } else {
                cx.child_script(value, &crate::analyze::state::Stdin::Tty);
            }
        } else if kind_of(var).is_some() {
            cx.unparseable(format!(
                "`{name} {var}=…` changes what the recipes' programs do"
            ));
        }
    }
    let dir = option(args, &["-C"], &["--directory"]);
    let file = option(args, &["-f"], &["--file", "--makefile"]).unwrap_or_else(|| Expanded {
        text: "Makefile".into(),
        ..Default::default()
    });
    // Which recipes run is not needed: a Makefile is judged as a whole.
    let targets = Vec::new();
    let saved = cx.dir.clone();
    if let Some(d) = &dir {
        cx.dir = Some(cx.path(d));
    }
    let path = cx.path(&file);
    cx.dir = saved;
    cx.runs_file(
        path,
        RunAs::BuildFile {
            tool: name.to_owned(),
            targets,
        },
        Vec::new(),
    );
}

/// A task runner's recipe file, under whichever of its names is there.
fn recipe_files(cx: &mut WalkCx<'_>, name: &str, files: &[&str]) {
    for f in files {
        let path = cx.path(&Expanded {
            text: (*f).to_owned(),
            ..Default::default()
        });
        cx.runs_file(
            path,
            RunAs::BuildFile {
                tool: name.to_owned(),
                targets: Vec::new(),
            },
            Vec::new(),
        );
    }
}

/// The npm-style commands that run scripts of `package.json`, and which.
fn scripts_run(name: &str, positionals: &[&str]) -> Option<Vec<String>> {
    let (sub, rest) = positionals.split_first()?;
    let one = |s: &str| Some(vec![s.to_owned()]);
    match *sub {
        "run" | "run-script" | "rum" | "urn" => rest.first().and_then(|s| one(s)),
        "test" | "t" | "tst" => one("test"),
        "start" | "stop" | "restart" => one(sub),
        // The package's own lifecycle scripts run on an install of its dependencies.
        "install" | "i" | "ci" | "clean-install" | "add" if rest.is_empty() || *sub == "ci" => {
            Some(vec!["install".into(), "prepare".into()])
        }
        "pack" | "publish" => Some(vec!["pack".into(), "prepare".into(), "publish".into()]),
        // `yarn build`, `pnpm build`, `bun build`? Only yarn and pnpm run a script by its
        // bare name, and only when it is not one of their own commands.
        _ if name == "yarn" || name == "pnpm" => None,
        _ => None,
    }
}

fn package_scripts(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    let positionals: Vec<&str> = args
        .iter()
        .filter(|a| !a.text.starts_with('-'))
        .map(|a| a.text.as_str())
        .collect();
    let Some(targets) = scripts_run(name, &positionals) else {
        return;
    };
    let dir = option(args, &["-C"], &["--prefix", "--cwd", "--dir"]);
    let saved = cx.dir.clone();
    if let Some(d) = &dir {
        cx.dir = Some(cx.path(d));
    }
    let path = cx.path(&Expanded {
        text: "package.json".into(),
        ..Default::default()
    });
    cx.dir = saved;
    cx.runs_file(
        path,
        RunAs::BuildFile {
            tool: name.to_owned(),
            targets,
        },
        Vec::new(),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::testing::walk;

    #[test]
    fn build_tools_run_their_build_files() {
        let e = walk("make -j4 test");
        assert!(
            e.contains(&"runs Makefile as make file []".to_owned()),
            "{e:?}"
        );
        assert!(
            walk("make -C sub -f build.mk")
                .contains(&"runs sub/build.mk as make file []".to_owned())
        );
        let e = walk("make SHELL=/tmp/x all");
        assert!(e.iter().any(|x| x.contains("every recipe")), "{e:?}");
        assert!(
            walk("npm run build").contains(&"runs package.json as npm file build []".to_owned())
        );
        assert!(walk("npm test").contains(&"runs package.json as npm file test []".to_owned()));
        assert!(
            walk("npm ci").contains(&"runs package.json as npm file install prepare []".to_owned())
        );
        assert!(
            !walk("npm install lodash")
                .iter()
                .any(|x| x.starts_with("runs"))
        );
    }
}
