//! Where git goes: the remote a command names (or git's default), handed to the analysis
//! layer with the configuration the command line sets, for `push`, `fetch`, `pull`,
//! `ls-remote`, `clone`, `remote`, `submodule` and `lfs`; and the commands their options
//! run (`--upload-pack`, `--receive-pack`).

use crate::effect::{NetTarget, ShellEffect, ShellPath};
use crate::words::Expanded;

use crate::analyze::context::WalkCx;
use crate::analyze::state::{Cwd, Stdin};

use super::config::{self, Value};
use super::{Invocation, Sub, is_url};

/// The remote helper a `transport::address` remote runs (`ext::` runs any command).
fn helper(text: &str) -> Option<&str> {
    let (name, _) = text.split_once("::")?;
    (!name.is_empty() && !name.contains(['/', ':'])).then_some(name)
}

fn word(text: &str) -> Expanded {
    Expanded {
        text: text.to_owned(),
        ..Default::default()
    }
}

/// The directory git looks for its repository from: `--git-dir`, else `-C`, else the
/// shell's current directory when a `cd` moved it.
pub(super) fn repo_dir(cx: &WalkCx<'_>, inv: &Invocation) -> Option<ShellPath> {
    inv.repo
        .clone()
        .or_else(|| cx.dir.clone())
        .or_else(|| match &cx.st.cwd {
            Cwd::Known(None) => None,
            _ => Some(cx.path(&word("."))),
        })
}

/// A file in the git directory (`config`, `hooks/pre-push`).
pub(super) fn git_file(cx: &WalkCx<'_>, inv: &Invocation, name: &str) -> ShellPath {
    match &inv.repo {
        Some(g) => cx.st.path_in(&word(name), Some(g)),
        None => cx.path(&word(&format!(".git/{name}"))),
    }
}

/// The remote `w` names (`None`: git's default), for the analysis layer to resolve.
pub(super) fn target(cx: &mut WalkCx<'_>, inv: &Invocation, w: Option<&Expanded>) -> NetTarget {
    if let Some(reason) = &inv.unknown_remotes {
        return NetTarget::Dynamic {
            text: reason.clone(),
        };
    }
    let name = match w {
        None => String::new(),
        Some(w) if w.dynamic => {
            return NetTarget::Dynamic {
                text: w.text.clone(),
            };
        }
        Some(w) => w.text.clone(),
    };
    if let Some(h) = helper(&name) {
        cx.unparseable(format!(
            "git remote {name:?} runs the remote helper git-remote-{h}, which may run anything"
        ));
        return NetTarget::Dynamic { text: name };
    }
    NetTarget::GitRemote {
        name,
        dir: repo_dir(cx, inv),
        config: inv.remote_config.clone(),
    }
}

/// A connection to `target`; what command substitutions in the command's words read goes
/// with it.
fn connect(cx: &mut WalkCx<'_>, target: NetTarget) {
    let data = cx.subst_reads.to_vec();
    cx.emit(ShellEffect::Connect {
        target,
        sends: !data.is_empty(),
        data_from: data,
    });
}

/// Options whose value is a command git runs (`--upload-pack`, `--receive-pack`, `--exec`).
fn pack_commands(cx: &mut WalkCx<'_>, sub: &Sub<'_>, flags: &[&str]) {
    for (flag, _, v) in &sub.parsed.flags {
        if flags.contains(&flag.as_str()) {
            config::run_text(cx, &format!("{} {flag}", sub.name), &Value::of(v));
        }
    }
}

/// `git push [--repo=REMOTE] [REMOTE [REFSPEC...]]`.
pub(super) fn push(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    pack_commands(cx, sub, &["--receive-pack", "--exec"]);
    let (remote, refspecs) = match p.value_of(&["--repo"]) {
        Some(r) => (Some(r), &p.positional[..]),
        None => (p.positional.first(), p.positional.get(1..).unwrap_or(&[])),
    };
    let force = p.switches.iter().any(|s| {
        matches!(
            s.as_str(),
            "-f" | "--force"
                | "--force-with-lease"
                | "--force-if-includes"
                | "--delete"
                | "-d"
                | "--mirror"
                | "--prune"
        ) || s.starts_with("--force-with-lease=")
    }) || refspecs
        .iter()
        .any(|r| r.text.starts_with('+') || r.text.starts_with(':'));
    let all = p.switches.iter().any(|s| {
        matches!(
            s.as_str(),
            "--all" | "--branches" | "--mirror" | "--tags" | "--follow-tags"
        )
    });
    let defaults =
        remote.is_none() && inv.remote_config.is_empty() && inv.unknown_remotes.is_none();
    let remote = (!defaults).then(|| target(cx, inv, remote));
    let dir = repo_dir(cx, inv);
    cx.emit(ShellEffect::Push {
        remote,
        refspecs: refspecs.iter().map(|r| r.text.clone()).collect(),
        force,
        all,
        dir,
    });
    // `--recurse-submodules=on-demand` pushes the submodules to their own remotes.
    if sub.args.iter().any(|a| {
        a.text == "--recurse-submodules=on-demand" || a.text == "--recurse-submodules=only"
    }) {
        let t = target(cx, inv, Some(&word("*submodules")));
        cx.emit(ShellEffect::Connect {
            target: t,
            sends: true,
            data_from: Vec::new(),
        });
    }
}

/// `git fetch|pull|ls-remote [--all | --multiple REMOTE... | REMOTE]`.
pub(super) fn fetch(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    let commands: &[&str] = if sub.name == "ls-remote" {
        &["--upload-pack", "-u"]
    } else {
        &["--upload-pack"]
    };
    pack_commands(cx, sub, commands);
    let all = word("*");
    let remotes: Vec<Option<&Expanded>> = if p.has("--all") {
        vec![Some(&all)]
    } else if p.has("--multiple") {
        p.positional.iter().map(Some).collect()
    } else {
        vec![p.positional.first()]
    };
    for r in remotes {
        let t = target(cx, inv, r);
        connect(cx, t);
    }
    // The parser keeps only the name of `--recurse-submodules=no`.
    if sub.args.iter().any(|a| {
        a.text == "--recurse-submodules"
            || a.text.starts_with("--recurse-submodules=") && !a.text.ends_with("=no")
    }) {
        let t = target(cx, inv, Some(&word("*submodules")));
        connect(cx, t);
    }
}

/// `git clone [-c KEY=VALUE] [-u CMD] URL [DIR]`: the directory defaults to the URL's
/// last component.
pub(super) fn clone(cx: &mut WalkCx<'_>, inv: &mut Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    pack_commands(cx, sub, &["-u", "--upload-pack"]);
    for (flag, _, v) in &p.flags {
        match flag.as_str() {
            "-c" | "--config" => config::option(cx, inv, "-c", v),
            "--reference" | "--reference-if-able" => cx.read(v),
            "--separate-git-dir" => cx.write(v),
            "--bundle-uri" => connect(
                cx,
                NetTarget::Url {
                    url: v.text.clone(),
                },
            ),
            "--template" if !v.text.is_empty() && v.text != "/dev/null" => {
                inv.template = Some("--template".into());
            }
            _ => {}
        }
    }
    templates(cx, inv, sub);
    let Some(url) = p.positional.first() else {
        return;
    };
    let plain = inv.remote_config.is_empty() && inv.unknown_remotes.is_none();
    let t = if plain && !url.dynamic && is_url(&url.text) && helper(&url.text).is_none() {
        NetTarget::Url {
            url: url.text.clone(),
        }
    } else {
        target(cx, inv, Some(url))
    };
    connect(cx, t);
    if p.switches
        .iter()
        .any(|s| s.starts_with("--recurse-submodules"))
    {
        connect(
            cx,
            NetTarget::Dynamic {
                text: format!("the submodules of {}", url.text),
            },
        );
    }
    let dest = p
        .positional
        .get(1)
        .cloned()
        .unwrap_or_else(|| checkout_named_after(url, "repo"));
    cx.write(&dest);
}

/// The directory git checks `url` out into when none is given: the URL's last part,
/// without `.git` (`fallback` if there is none).
fn checkout_named_after(url: &Expanded, fallback: &str) -> Expanded {
    let name = url
        .text
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or(fallback);
    Expanded {
        text: name.to_owned(),
        ..url.clone()
    }
}

/// `init` and `clone` copy a template directory's hooks, which then run.
pub(super) fn templates(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    if let Some(what) = &inv.template {
        cx.unparseable(format!(
            "git {} with {what} copies hooks from a template directory, and they run",
            sub.name
        ));
    }
}

/// `git remote add|set-url|rename|remove|update|prune|show ...`.
pub(super) fn remote(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    let args = p.positional.get(1..).unwrap_or(&[]);
    let write_config = |cx: &mut WalkCx<'_>| {
        let f = git_file(cx, inv, "config");
        cx.emit(ShellEffect::Write(f));
    };
    match sub.action() {
        "add" => {
            write_config(cx);
            if let Some(url) = args.get(1) {
                config::destination(cx, &url.text, url.dynamic);
            }
        }
        "set-url" => {
            write_config(cx);
            if !p.has("--delete")
                && let Some(url) = args.get(1)
            {
                config::destination(cx, &url.text, url.dynamic);
            }
        }
        "rename" | "remove" | "rm" | "set-branches" => write_config(cx),
        "set-head" => {
            write_config(cx);
            if p.has("-a") || p.has("--auto") {
                let t = target(cx, inv, args.first());
                connect(cx, t);
            }
        }
        "update" => {
            let t = target(cx, inv, Some(&word("*")));
            connect(cx, t);
        }
        "prune" | "show" if !p.has("-n") => {
            for r in args {
                let t = target(cx, inv, Some(r));
                connect(cx, t);
            }
        }
        _ => {}
    }
}

/// `git submodule add URL [PATH] | update | foreach CMD | set-url PATH URL | ...`.
pub(super) fn submodule(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    match sub.action() {
        "add" => {
            let Some(url) = p.positional.get(1) else {
                return;
            };
            let t = target(cx, inv, Some(url));
            connect(cx, t);
            let path = p
                .positional
                .get(2)
                .cloned()
                .unwrap_or_else(|| checkout_named_after(url, "sub"));
            cx.write(&path);
            cx.write(&word(".gitmodules"));
        }
        "update" if !p.has("--no-fetch") && !p.has("-N") => {
            let t = target(cx, inv, Some(&word("*submodules")));
            connect(cx, t);
        }
        "set-url" => {
            if let Some(url) = p.positional.get(2) {
                config::destination(cx, &url.text, url.dynamic);
            }
            cx.write(&word(".gitmodules"));
        }
        "foreach" => foreach(cx, sub),
        _ => {}
    }
}

/// `git submodule foreach [--recursive] CMD...` runs CMD in a shell in each submodule.
fn foreach(cx: &mut WalkCx<'_>, sub: &Sub<'_>) {
    let Some(i) = sub.args.iter().position(|a| a.text == "foreach") else {
        return;
    };
    let words: Vec<&Expanded> = sub.args[i + 1..]
        .iter()
        .skip_while(|a| matches!(a.text.as_str(), "--recursive" | "-q" | "--quiet"))
        .collect();
    if words.iter().any(|w| w.dynamic) {
        return cx.unparseable("git submodule foreach runs a command computed at run time");
    }
    let text: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
    // Each submodule's directory is somewhere in the repository: paths are relative to it.
    let mut child = cx.st.clone();
    child.cwd = Cwd::Unknown;
    cx.walk.script(&text.join(" "), &mut child, &Stdin::Tty);
}

/// `git lfs ...`: the Git LFS server is wherever the configuration (`lfs.url`,
/// `.lfsconfig`) puts it, which the analysis layer reads (`"*lfs REMOTE"`).
pub(super) fn lfs(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    let server = |cx: &mut WalkCx<'_>| {
        let remote = match p.positional.get(1) {
            Some(r) if r.dynamic || r.text.contains(' ') => return target(cx, inv, Some(r)),
            Some(r) => format!("*lfs {}", r.text),
            None => "*lfs".to_owned(),
        };
        target(cx, inv, Some(&word(&remote)))
    };
    match sub.action() {
        "fetch" | "pull" | "clone" | "lock" | "unlock" | "locks" | "prune" | "dedup" => {
            let t = server(cx);
            connect(cx, t);
        }
        "push" | "pre-push" => {
            let target = server(cx);
            cx.emit(ShellEffect::Connect {
                target,
                sends: true,
                data_from: Vec::new(),
            });
        }
        "install" | "uninstall" | "update" => {
            let hook = git_file(cx, inv, "hooks/pre-push");
            cx.emit(ShellEffect::Write(hook));
            if !p.has("--local") && !p.has("--worktree") && sub.action() != "update" {
                let global = if p.has("--system") {
                    "/etc/gitconfig"
                } else {
                    "~/.gitconfig"
                };
                cx.write(&word(global));
            }
        }
        "track" | "untrack" => cx.write(&word(".gitattributes")),
        "ls-files" | "status" | "env" | "version" | "logs" | "migrate" | "checkout" | "pointer"
        | "ext" | "smudge" | "clean" | "filter-process" | "fsck" | "post-checkout"
        | "post-commit" | "post-merge" | "merge-driver" | "" => {}
        other => cx.unparseable(format!("git lfs {other} is not modelled")),
    }
}
