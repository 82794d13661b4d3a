//! Files git commands print, write or change. What `show`, `diff`, `log -p`, `grep`,
//! `cat-file`, `blame` and `archive` print is read from the paths they name (`REV:path`,
//! pathspecs), so a secret stays a secret however git prints it; `archive -o`,
//! `bundle create`, `format-patch -o` write; and with a work tree named (`--work-tree`,
//! `GIT_WORK_TREE`, `-C`), the commands that change it write there.
//!
//! `REV:path` is relative to the top of the work tree (`./` and `../` to the current
//! directory). The top is not known here: it is the work tree when one is named, else
//! `-C`'s directory or the current directory, which is the top when git runs there.

use crate::effect::{ShellEffect, ShellPath};
use crate::kb::FlagRole;
use crate::words::Expanded;

use crate::analyze::args::Parsed;
use crate::analyze::context::WalkCx;
use crate::analyze::state::Stdin;

use super::config::{self, Value};
use super::remotes;
use super::{Invocation, Sub};

/// The directory paths in a tree are relative to (see the module doc).
fn top(cx: &WalkCx<'_>, inv: &Invocation) -> Option<ShellPath> {
    inv.work_tree.clone().or_else(|| cx.dir.clone())
}

fn in_dir(cx: &WalkCx<'_>, e: &Expanded, dir: Option<&ShellPath>) -> ShellPath {
    cx.st.path_in(e, dir.or(cx.dir.as_ref()))
}

/// The `rev` and `path` of `REV:path`: split at the first colon outside `@{…}`, with a
/// known revision before it.
fn split_rev_path(t: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (i, c) in t.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '$' | '`' => return None,
            ':' if depth == 0 => return Some((&t[..i], &t[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The file `REV:path` (also `:path`, `:N:path`) names, if `e` is one.
fn tree_path(cx: &WalkCx<'_>, inv: &Invocation, e: &Expanded) -> Option<ShellPath> {
    let path = match e.text.strip_prefix(':') {
        // `:/text` searches commit messages.
        Some(rest) if rest.starts_with('/') => return None,
        Some(rest) => match rest.as_bytes() {
            [b'0'..=b'3', b':', ..] => &rest[2..],
            _ => rest,
        },
        None => {
            split_rev_path(&e.text)
                .filter(|(rev, _)| !rev.is_empty())?
                .1
        }
    };
    if path.is_empty() {
        return None;
    }
    let w = Expanded {
        text: path.to_owned(),
        ..e.clone()
    };
    Some(if path.starts_with("./") || path.starts_with("../") {
        cx.path(&w)
    } else {
        in_dir(cx, &w, top(cx, inv).as_ref())
    })
}

/// A pathspec as a path, magic dropped (`:(top)x`, `:/x`); `None` for exclusions. Paths
/// are relative to `base` when given (a work tree), else to the current directory.
fn pathspec(cx: &WalkCx<'_>, e: &Expanded, base: Option<&ShellPath>) -> Option<ShellPath> {
    let mut t = e.text.as_str();
    if let Some(rest) = t.strip_prefix(":(") {
        let (magic, r) = rest.split_once(')')?;
        if magic.split(',').any(|m| m.starts_with("exclude")) {
            return None;
        }
        t = r;
    } else if let Some(rest) = t.strip_prefix(':') {
        match rest.chars().next() {
            Some('!' | '^') => return None,
            Some('/') => t = &rest[1..],
            _ => t = rest,
        }
    }
    let w = Expanded {
        text: if t.is_empty() {
            ".".into()
        } else {
            t.to_owned()
        },
        ..e.clone()
    };
    Some(in_dir(cx, &w, base))
}

/// Whether a positional is a revision rather than a path: a range, a message search
/// (`:/text`), a relative or reflog revision, `HEAD` and its kin, an object name.
fn is_revision(t: &str) -> bool {
    let range = t.contains("..") && !t.starts_with("../") && !t.contains("/../") && t != "..";
    range
        || t.starts_with(":/")
        || t.contains('~') && !t.starts_with('~')
        || t.contains('^')
        || t.contains("@{")
        || t == "@"
        || t.ends_with("HEAD") && t.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        || (4..=64).contains(&t.len()) && t.chars().all(|c| c.is_ascii_hexdigit())
}

fn read(cx: &mut WalkCx<'_>, p: Option<ShellPath>) -> bool {
    match p {
        Some(p) => {
            cx.emit(ShellEffect::Read(p));
            true
        }
        None => false,
    }
}

/// Reads a positional: the file of `REV:path`, or the path a word that is not a
/// revision may be. Returns whether it named a file.
fn read_named(cx: &mut WalkCx<'_>, inv: &Invocation, e: &Expanded) -> bool {
    if let Some(p) = tree_path(cx, inv, e) {
        return read(cx, Some(p));
    }
    if is_revision(&e.text) {
        return false;
    }
    let base = inv.work_tree.clone();
    let p = pathspec(cx, e, base.as_ref());
    read(cx, p)
}

/// Reads the pathspecs after `--`. Returns whether there were any.
fn read_pathspecs(cx: &mut WalkCx<'_>, inv: &Invocation, specs: &[Expanded]) -> bool {
    let base = inv.work_tree.clone();
    let mut any = false;
    for e in specs {
        let p = pathspec(cx, e, base.as_ref());
        any |= read(cx, p);
    }
    any
}

/// Options with a file role: `read` files are read, `write` files written.
pub(super) fn reads_files(cx: &mut WalkCx<'_>, p: &Parsed) {
    for (_, role, v) in &p.flags {
        match role {
            FlagRole::Read if v.text != "-" => cx.read(v),
            FlagRole::Write if v.text != "-" => cx.write(v),
            _ => {}
        }
    }
}

/// `git show|diff [REV|REV:path|path]... [-- path...]` (`diff --no-index A B` reads A
/// and B).
pub(super) fn shows(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    reads_files(cx, sub.parsed);
    let (before, after) = sub.split_paths();
    if sub.parsed.has("--no-index") {
        for e in before.iter().chain(after) {
            cx.read(e);
        }
        return;
    }
    for e in before {
        read_named(cx, inv, e);
    }
    read_pathspecs(cx, inv, after);
}

/// `git log|whatchanged`: with a patch option, what `show` reads; `-L …:file` reads file.
pub(super) fn log(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    reads_files(cx, p);
    for (flag, _, v) in &p.flags {
        if flag == "-L"
            && let Some((_, file)) = v.text.rsplit_once(':')
            && !file.is_empty()
        {
            let f = Expanded {
                text: file.to_owned(),
                ..v.clone()
            };
            cx.read(&f);
        }
    }
    let patch = p.switches.iter().any(|s| {
        matches!(
            s.as_str(),
            "-p" | "-u"
                | "--patch"
                | "--patch-with-stat"
                | "--patch-with-raw"
                | "--cc"
                | "-c"
                | "--full-diff"
        ) || s.starts_with("--word-diff")
            || s.starts_with("--color-words")
    });
    if patch {
        shows(cx, inv, sub);
    }
}

/// `git grep [-e PATTERN | -f FILE | PATTERN] [REV...] [[--] PATH...]`: reads the paths
/// named, else the work tree (`--no-index`: the current directory).
pub(super) fn grep(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    if p.has("-O") {
        cx.unparseable("git grep -O opens the files it finds in a pager, a command");
    }
    reads_files(cx, p);
    let patterned = p
        .flags
        .iter()
        .any(|(_, role, _)| matches!(role, FlagRole::Pattern | FlagRole::Read));
    let (before, after) = sub.split_paths();
    let named = if patterned {
        before
    } else {
        before.get(1..).unwrap_or(&[])
    };
    let mut any = false;
    for e in named {
        any |= read_named(cx, inv, e);
    }
    any |= read_pathspecs(cx, inv, after);
    if !any {
        let tree = if p.has("--no-index") {
            None
        } else {
            top(cx, inv)
        };
        let here = Expanded {
            text: ".".into(),
            ..Default::default()
        };
        let p = match tree {
            Some(t) => t,
            None => cx.path(&here),
        };
        cx.emit(ShellEffect::Read(p));
    }
}

/// `git cat-file -p|TYPE OBJECT` prints an object: `REV:path` is read. `--batch` reads
/// object names from its input: those in a here-document or here-string are read too.
pub(super) fn cat_file(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    let typed = matches!(sub.action(), "blob" | "tree" | "commit" | "tag");
    if typed || ["-p", "--textconv", "--filters"].iter().any(|s| p.has(s)) {
        let objects = if typed {
            p.positional.get(1..).unwrap_or(&[])
        } else {
            &p.positional[..]
        };
        for o in objects {
            let path = tree_path(cx, inv, o);
            read(cx, path);
        }
    }
    let batch = p
        .switches
        .iter()
        .any(|s| s.starts_with("--batch") && !s.starts_with("--batch-check"));
    if batch && let Stdin::Text(text) = cx.stdin {
        let names: Vec<String> = text
            .lines()
            .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
            .collect();
        for n in names {
            let path = tree_path(
                cx,
                inv,
                &Expanded {
                    text: n,
                    ..Default::default()
                },
            );
            read(cx, path);
        }
    }
}

/// `git blame [REV] [--] FILE`.
pub(super) fn blame(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    reads_files(cx, sub.parsed);
    let (before, after) = sub.split_paths();
    let file = after.last().or_else(|| before.last());
    if let Some(f) = file {
        let base = inv.work_tree.clone();
        let p = pathspec(cx, f, base.as_ref());
        read(cx, p);
    }
}

/// `git archive [-o FILE] [--remote REPO] TREE [PATH...]`.
pub(super) fn archive(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    reads_files(cx, p);
    for (flag, _, v) in &p.flags {
        if flag == "--exec" {
            config::run_text(cx, "archive --exec", &Value::of(v));
        }
    }
    if let Some(r) = p.value_of(&["--remote"]) {
        // The paths are the remote repository's.
        let t = remotes::target(cx, inv, Some(r));
        cx.emit(ShellEffect::Connect {
            target: t,
            sends: false,
            data_from: Vec::new(),
        });
        return;
    }
    let (before, after) = sub.split_paths();
    if let Some(tree) = before.first() {
        let path = tree_path(cx, inv, tree);
        read(cx, path);
    }
    for e in before.iter().skip(1) {
        read_named(cx, inv, e);
    }
    read_pathspecs(cx, inv, after);
}

/// `git bundle create FILE ...` writes the history to FILE; `verify`, `list-heads` and
/// `unbundle` read it.
pub(super) fn bundle(cx: &mut WalkCx<'_>, sub: &Sub<'_>) {
    let Some(file) = sub.parsed.positional.get(1).filter(|f| f.text != "-") else {
        return;
    };
    match sub.action() {
        "create" => cx.write(file),
        "verify" | "list-heads" | "unbundle" => cx.read(file),
        _ => {}
    }
}

/// `git format-patch [-o DIR] ... [-- PATH...]`.
pub(super) fn format_patch(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    reads_files(cx, sub.parsed);
    let (_, after) = sub.split_paths();
    read_pathspecs(cx, inv, after);
}

/// `git stash [push|save|pop|apply|branch|show ...]`: all but `show`, `list`, `drop` and
/// `clear` change the work tree.
pub(super) fn stash(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    reads_files(cx, sub.parsed);
    match sub.action() {
        "show" => {
            let (_, after) = sub.split_paths();
            read_pathspecs(cx, inv, after);
        }
        "list" | "drop" | "clear" | "create" | "store" => {}
        _ => work_tree(cx, inv, sub),
    }
}

/// Commands that change the work tree, when it is named (`--work-tree`, `GIT_WORK_TREE`,
/// `-C`): the files they name there are written (deleted, for `rm` and `clean`), or the
/// whole tree when they name none.
pub(super) fn work_tree(cx: &mut WalkCx<'_>, inv: &Invocation, sub: &Sub<'_>) {
    let Some(base) = top(cx, inv) else {
        return;
    };
    let p = sub.parsed;
    if sub.name == "reset" && !["--hard", "--merge", "--keep"].iter().any(|s| p.has(s)) {
        return; // HEAD and the index only
    }
    reads_files(cx, p);
    let (before, after) = sub.split_paths();
    let named: Vec<&Expanded> = match sub.name {
        "restore" | "rm" | "mv" | "checkout" => before
            .iter()
            .chain(after)
            .filter(|e| !is_revision(&e.text) && tree_path(cx, inv, e).is_none())
            .collect(),
        _ => after.iter().collect(),
    };
    let delete = matches!(sub.name, "rm" | "clean");
    let whole = named.is_empty() || sub.name == "checkout" && after.is_empty();
    let mut targets: Vec<ShellPath> = named
        .iter()
        .filter_map(|e| pathspec(cx, e, Some(&base)))
        .collect();
    if whole {
        targets.push(base);
    }
    for t in targets {
        cx.emit(if delete {
            ShellEffect::Delete(t)
        } else {
            ShellEffect::Write(t)
        });
    }
}

/// `git init [--template=DIR] [DIR]` and `git worktree add|move|remove PATH`.
pub(super) fn new_tree(cx: &mut WalkCx<'_>, inv: &mut Invocation, sub: &Sub<'_>) {
    let p = sub.parsed;
    reads_files(cx, p);
    if sub.name == "init" {
        if let Some(t) = p.value_of(&["--template"])
            && !t.text.is_empty()
            && t.text != "/dev/null"
        {
            inv.template = Some("--template".into());
        }
        remotes::templates(cx, inv, sub);
        if let Some(dir) = p.positional.first() {
            cx.write(dir);
        }
        return;
    }
    let args = p.positional.get(1..).unwrap_or(&[]);
    match sub.action() {
        "add" => {
            if let Some(path) = args.first() {
                cx.write(path);
            }
        }
        "move" => {
            if let Some(path) = args.get(1) {
                cx.write(path);
            }
        }
        "remove" => {
            if let Some(path) = args.first() {
                cx.delete(path);
            }
        }
        _ => {}
    }
}

/// Built-in diff and merge tools, and the program each runs.
const TOOLS: &[(&str, &str)] = &[
    ("vimdiff", "vim"),
    ("vimdiff1", "vim"),
    ("vimdiff2", "vim"),
    ("vimdiff3", "vim"),
    ("gvimdiff", "gvim"),
    ("nvimdiff", "nvim"),
    ("meld", "meld"),
    ("kdiff3", "kdiff3"),
    ("opendiff", "opendiff"),
    ("emerge", "emacs"),
    ("vscode", "code"),
    ("tkdiff", "tkdiff"),
    ("xxdiff", "xxdiff"),
];

/// `git difftool|mergetool`: the command (`-x CMD`) or a built-in tool (`-t NAME`) is
/// followed; otherwise the configured tool runs, which may be any command.
pub(super) fn tools(cx: &mut WalkCx<'_>, sub: &Sub<'_>) {
    let p = sub.parsed;
    if p.has("--tool-help") {
        return;
    }
    if let Some(cmd) = p.value_of(&["-x", "--extcmd"]) {
        return config::run_text(cx, &format!("{} --extcmd", sub.name), &Value::of(cmd));
    }
    let known = p
        .value_of(&["-t", "--tool"])
        .and_then(|t| TOOLS.iter().find(|(name, _)| *name == t.text));
    match known {
        Some((_, program)) => cx.child_script(program, &Stdin::Tty),
        None => cx.unparseable(format!(
            "git {} runs the configured tool, which may be any command",
            sub.name
        )),
    }
}
