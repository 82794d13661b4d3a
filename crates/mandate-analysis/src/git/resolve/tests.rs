use std::path::Path;

use super::*;

/// A repository at `dir/repo` on `branch` with `config`, and a home with `global`.
fn repo(dir: &Path, branch: &str, config: &str, global: &str) -> PathBuf {
    let r = dir.join("repo");
    std::fs::create_dir_all(r.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    std::fs::write(r.join(".git/HEAD"), format!("ref: refs/heads/{branch}\n")).unwrap();
    std::fs::write(r.join(".git/config"), config).unwrap();
    std::fs::write(dir.join("home/.gitconfig"), global).unwrap();
    r
}

fn open(dir: &Path, overrides: &[(&str, &str)]) -> Repo {
    let o: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Repo::open(&dir.join("repo"), &dir.join("home"), &o)
}

fn url(u: &str) -> Dest {
    Dest::Url(u.into())
}

const ORIGIN: &str = "[remote \"origin\"]\n\turl = https://github.com/acme/app.git\n";

#[test]
fn a_remote_resolves_to_its_url_and_a_push_to_its_pushurl() {
    let d = tempfile::tempdir().unwrap();
    repo(
        d.path(),
        "main",
        &format!(
            "{ORIGIN}[remote \"fork\"]\n\turl = git@github.com:me/app.git\n\tpushurl = ssh://git@backup.example/app.git\n"
        ),
        "",
    );
    let r = open(d.path(), &[]);
    assert_eq!(r.remotes(), ["origin", "fork"]);
    assert_eq!(
        r.push_dests("origin"),
        [url("https://github.com/acme/app.git")]
    );
    assert_eq!(r.fetch_dests("fork"), [url("git@github.com:me/app.git")]);
    assert_eq!(
        r.push_dests("fork"),
        [url("ssh://git@backup.example/app.git")]
    );
}

#[test]
fn names_that_are_no_remote_are_urls_or_paths() {
    let d = tempfile::tempdir().unwrap();
    let top = repo(d.path(), "main", ORIGIN, "");
    let r = open(d.path(), &[]);
    assert_eq!(
        r.push_dests("https://evil.example/x.git"),
        [url("https://evil.example/x.git")]
    );
    assert_eq!(
        r.push_dests("git@evil.example:x"),
        [url("git@evil.example:x")]
    );
    assert_eq!(r.push_dests("../other"), [Dest::Path(top.join("../other"))]);
    assert_eq!(
        r.push_dests("~/backup.git"),
        [Dest::Path(d.path().join("home/backup.git"))]
    );
    assert_eq!(
        r.push_dests("file:///srv/x.git"),
        [Dest::Path("/srv/x.git".into())]
    );
    assert_eq!(
        r.push_dests("ext::sh -c evil"),
        [Dest::Helper("ext::sh -c evil".into())]
    );
}

#[test]
fn the_command_line_overrides_the_repository() {
    let d = tempfile::tempdir().unwrap();
    repo(d.path(), "main", ORIGIN, "");
    let url_set = open(
        d.path(),
        &[("remote.origin.url", "https://evil.example/x.git")],
    );
    // `-c remote.origin.url` adds a URL: git pushes to every one.
    assert!(
        url_set
            .push_dests("origin")
            .contains(&url("https://evil.example/x.git"))
    );
    let pushurl = open(
        d.path(),
        &[("remote.origin.pushurl", "https://github.com/attacker/x.git")],
    );
    assert_eq!(
        pushurl.push_dests("origin"),
        [url("https://github.com/attacker/x.git")]
    );
    assert_eq!(
        pushurl.fetch_dests("origin"),
        [url("https://github.com/acme/app.git")],
        "a pushurl does not change fetches"
    );
}

#[test]
fn urls_are_rewritten_by_the_longest_matching_rule() {
    let d = tempfile::tempdir().unwrap();
    repo(
        d.path(),
        "main",
        &format!(
            "{ORIGIN}[url \"https://mirror.example/acme/\"]\n\tinsteadOf = https://github.com/acme/\n"
        ),
        "[url \"https://global.example/\"]\n\tinsteadOf = https://github.com/\n",
    );
    let r = open(d.path(), &[]);
    assert_eq!(
        r.fetch_dests("origin"),
        [url("https://mirror.example/acme/app.git")]
    );
    let push_only = open(
        d.path(),
        &[(
            "url.https://evil.example/.pushinsteadof",
            "https://github.com/acme/app",
        )],
    );
    assert_eq!(
        push_only.push_dests("origin"),
        [url("https://evil.example/.git")]
    );
    assert_eq!(
        push_only.fetch_dests("origin"),
        [url("https://mirror.example/acme/app.git")]
    );
    let insteadof = open(
        d.path(),
        &[(
            "url.ssh://git@evil.example/.insteadof",
            "https://github.com/acme/app",
        )],
    );
    assert_eq!(
        insteadof.push_dests("origin"),
        [url("ssh://git@evil.example/.git")]
    );
}

#[test]
fn the_global_configuration_rewrites_too() {
    let d = tempfile::tempdir().unwrap();
    repo(d.path(), "main", ORIGIN, "[include]\n\tpath = extra.cfg\n");
    std::fs::write(
        d.path().join("home/extra.cfg"),
        "[url \"git@github.com:\"]\n\tpushInsteadOf = https://github.com/\n",
    )
    .unwrap();
    let r = open(d.path(), &[]);
    assert_eq!(r.push_dests("origin"), [url("git@github.com:acme/app.git")]);
    assert_eq!(
        r.fetch_dests("origin"),
        [url("https://github.com/acme/app.git")]
    );
}

#[test]
fn the_default_remote() {
    let d = tempfile::tempdir().unwrap();
    let two = format!("{ORIGIN}[remote \"up\"]\n\turl = https://github.com/up/app.git\n");
    repo(d.path(), "feat", &two, "");
    let r = open(d.path(), &[]);
    assert_eq!(r.default_remote(true), "origin");
    assert_eq!(
        r.fetch_dests(""),
        [
            url("https://github.com/acme/app.git"),
            url("https://github.com/up/app.git")
        ],
        "a fetch of the default remote, when there are several, may reach any"
    );
    assert_eq!(r.fetch_dests("*").len(), 2);
    let branch = open(d.path(), &[("branch.feat.remote", "up")]);
    assert_eq!(branch.default_remote(true), "up");
    let pushdefault = open(
        d.path(),
        &[("branch.feat.remote", "up"), ("remote.pushdefault", "x")],
    );
    assert_eq!(pushdefault.default_remote(true), "x");
    assert_eq!(pushdefault.default_remote(false), "up");
    let pushremote = open(
        d.path(),
        &[("remote.pushdefault", "x"), ("branch.feat.pushremote", "y")],
    );
    assert_eq!(pushremote.default_remote(true), "y");
}

#[test]
fn submodule_urls_relative_to_the_superproject() {
    let d = tempfile::tempdir().unwrap();
    let top = repo(d.path(), "main", ORIGIN, "");
    std::fs::write(
        top.join(".gitmodules"),
        "[submodule \"lib\"]\n\tpath = lib\n\turl = ../lib.git\n[submodule \"x\"]\n\turl = https://evil.example/x.git\n",
    )
    .unwrap();
    let r = open(d.path(), &[]);
    assert_eq!(
        r.fetch_dests("*submodules"),
        [
            url("https://github.com/acme/lib.git"),
            url("https://evil.example/x.git")
        ]
    );
    assert_eq!(join_relative("git@h:a/b.git", "../c.git"), "git@h:a/c.git");
    assert_eq!(join_relative("https://h/a/b", "./c"), "https://h/a/b/c");
}

#[test]
fn what_a_push_sends() {
    let d = tempfile::tempdir().unwrap();
    repo(d.path(), "mandate/fix", ORIGIN, "");
    let r = open(d.path(), &[]);
    let specs = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let branch = |p: Pushed| p.branch;
    assert_eq!(branch(r.pushed("origin", &[])), Some("mandate/fix".into()));
    assert_eq!(
        branch(r.pushed("origin", &specs(&["HEAD"]))),
        Some("mandate/fix".into())
    );
    assert_eq!(
        branch(r.pushed("origin", &specs(&["HEAD:main"]))),
        Some("main".into())
    );
    assert_eq!(
        branch(r.pushed("origin", &specs(&["+x:refs/heads/rel"]))),
        Some("rel".into())
    );
    let tag = r.pushed("origin", &specs(&["refs/tags/v1"]));
    assert!(tag.tag && tag.branch.is_none());
    let upstream = open(
        d.path(),
        &[
            ("push.default", "upstream"),
            ("branch.mandate/fix.merge", "refs/heads/main"),
        ],
    );
    assert_eq!(branch(upstream.pushed("", &[])), Some("main".into()));
    let matching = open(d.path(), &[("push.default", "matching")]);
    assert_eq!(branch(matching.pushed("", &[])), None);
    let configured = open(d.path(), &[("remote.origin.push", "HEAD:main")]);
    assert_eq!(
        branch(configured.pushed("origin", &[])),
        Some("main".into())
    );
    let mirror = open(d.path(), &[("remote.origin.mirror", "true")]);
    assert!(mirror.pushed("origin", &[]).mirror);
    assert_eq!(r.pushed("origin", &specs(&["a", "b"])).refspecs, 2);
}

#[test]
fn the_lfs_server_is_configured_or_the_remote() {
    let d = tempfile::tempdir().unwrap();
    let top = repo(d.path(), "main", ORIGIN, "");
    let r = open(d.path(), &[]);
    assert_eq!(
        r.fetch_dests("*lfs"),
        [url("https://github.com/acme/app.git")]
    );
    std::fs::write(
        top.join(".lfsconfig"),
        "[lfs]\n\turl = https://lfs.evil.example/x\n",
    )
    .unwrap();
    let r = open(d.path(), &[]);
    assert_eq!(r.fetch_dests("*lfs"), [url("https://lfs.evil.example/x")]);
    let r = open(
        d.path(),
        &[("remote.origin.lfsurl", "https://other.example/y")],
    );
    assert_eq!(
        r.fetch_dests("*lfs origin"),
        [url("https://other.example/y")]
    );
}
