//! The effects of git reaching its remotes, each resolved through the repository's
//! configuration ([`Repo`]): a push is a `push` per destination (with whether it is one of
//! the task's remotes) and the repository's data sent to that host, or written to that
//! path; a fetch is a connection to each destination, or a read of a local repository.
//! A remote that cannot be known is an unknown host; a transport that runs a program is
//! unparseable.

use std::path::Path;

use mandate_shell::{NetTarget, ShellPath};
use mandate_types::{Effect, Host, HostFacts, Labels, PushFacts};

use super::resolve::{Dest, Repo};
use super::url_host;
use crate::{Access, Analyzer, TaskView, plain};

/// A `git push` as the shell analyser reports it.
pub(crate) struct PushCmd<'a> {
    pub(crate) remote: Option<&'a NetTarget>,
    pub(crate) refspecs: &'a [String],
    pub(crate) force: bool,
    pub(crate) all: bool,
    pub(crate) dir: Option<&'a ShellPath>,
}

/// The port a git URL uses when it names none.
fn default_port(url: &str) -> u16 {
    match url.split_once("://").map(|(s, _)| s.to_ascii_lowercase()) {
        Some(s) if s == "http" => 80,
        Some(s) if s == "https" => 443,
        Some(s) if s == "git" => 9418,
        _ => 22,
    }
}

fn helper_reason(h: &str) -> Effect {
    Effect::Unparseable {
        reason: format!("git reaches {h:?} through a remote helper, which may run anything"),
    }
}

impl Analyzer {
    /// The repository a git command runs in, with the command line's settings.
    fn git_repo(
        &self,
        dir: Option<&ShellPath>,
        cwd: &Path,
        config: &[(String, String)],
    ) -> Option<Repo> {
        let start = match dir {
            Some(d) => self.one_path(d, cwd)?,
            None => cwd.to_path_buf(),
        };
        Some(Repo::open(&start, &self.env.home, config))
    }

    fn git_url_facts(&self, url: &str, task: &TaskView) -> HostFacts {
        match url_host(url) {
            Some((h, p)) => {
                self.host_facts(Host::parse(&h).ok(), p.unwrap_or(default_port(url)), task)
            }
            None => self.host_facts(None, 0, task),
        }
    }

    /// The first destination of a git remote, as host facts (`run_remote`).
    pub(crate) fn git_target_facts(
        &self,
        name: &str,
        dir: Option<&ShellPath>,
        config: &[(String, String)],
        cwd: &Path,
        task: &TaskView,
    ) -> HostFacts {
        let dest = self
            .git_repo(dir, cwd, config)
            .and_then(|r| r.fetch_dests(name).into_iter().next());
        match dest {
            Some(Dest::Url(u)) => self.git_url_facts(&u, task),
            _ => self.host_facts(None, 0, task),
        }
    }

    /// `git fetch|pull|ls-remote|clone` reaching the remote `name`: a connection to
    /// each destination (data sent with it when `sends`), a read of a local one.
    #[expect(clippy::too_many_arguments, reason = "the parts of one shell effect")]
    pub(crate) fn git_connect(
        &self,
        name: &str,
        dir: Option<&ShellPath>,
        config: &[(String, String)],
        sends: Option<Labels>,
        cwd: &Path,
        task: &TaskView,
        out: &mut Vec<Effect>,
    ) {
        let reach = |h: HostFacts| match sends {
            Some(labels) => Effect::Send { to: h, labels },
            None => Effect::Connect(h),
        };
        let Some(repo) = self.git_repo(dir, cwd, config) else {
            return out.push(reach(self.host_facts(None, 0, task)));
        };
        for d in repo.fetch_dests(name) {
            match d {
                Dest::Url(u) => out.push(reach(self.git_url_facts(&u, task))),
                Dest::Path(p) => {
                    let sp = plain(&p.to_string_lossy());
                    out.extend(
                        self.files(&sp, cwd, task, Access::Read)
                            .into_iter()
                            .map(Effect::Read),
                    );
                }
                Dest::Helper(h) => out.push(helper_reason(&h)),
            }
        }
    }

    /// `git push`: per destination, the push (branch rules, and whether it goes to one of
    /// the task's remotes) and the repository's data sent there (or written, for a path).
    pub(crate) fn git_push(
        &self,
        cmd: &PushCmd<'_>,
        cwd: &Path,
        task: &TaskView,
        out: &mut Vec<Effect>,
    ) {
        let (name, config, dir) = match cmd.remote {
            None => ("", &[][..], cmd.dir),
            Some(NetTarget::GitRemote { name, dir, config }) => {
                (name.as_str(), config.as_slice(), dir.as_ref().or(cmd.dir))
            }
            Some(NetTarget::Url { url }) => (url.as_str(), &[][..], cmd.dir),
            Some(NetTarget::Host { host, .. }) => (host.as_str(), &[][..], cmd.dir),
            Some(NetTarget::Dynamic { text }) => return self.unknown_push(text, cmd, task, out),
        };
        let Some(repo) = self.git_repo(dir, cwd, config) else {
            return self.unknown_push(name, cmd, task, out);
        };
        let pushed = repo.pushed(name, cmd.refspecs);
        let branch = (!cmd.all && !pushed.mirror)
            .then_some(pushed.branch)
            .flatten();
        let facts = |remote: String, remote_in_scope: bool| PushFacts {
            remote,
            branch_in_scope: branch
                .as_deref()
                .is_some_and(|b| task.mandate.scope.allows_branch(b))
                && pushed.refspecs <= 1,
            branch: branch.clone(),
            force: cmd.force || pushed.mirror,
            tag: pushed.tag,
            remote_in_scope,
        };
        let dests = repo.push_dests(name);
        if dests.is_empty() {
            return self.unknown_push(name, cmd, task, out);
        }
        let scope = &task.mandate.scope;
        for d in dests {
            match d {
                Dest::Url(u) => {
                    out.push(Effect::Send {
                        to: self.git_url_facts(&u, task),
                        labels: Labels::NONE,
                    });
                    out.push(Effect::Push(facts(u.clone(), scope.allows_remote(&u))));
                }
                Dest::Path(p) => {
                    let text = crate::resolve(&p).to_string_lossy().into_owned();
                    let written = self.files(&plain(&text), cwd, task, Access::Write);
                    out.extend(written.into_iter().map(Effect::Write));
                    out.push(Effect::Push(facts(
                        text.clone(),
                        scope.allows_remote(&text),
                    )));
                }
                Dest::Helper(h) => {
                    out.push(helper_reason(&h));
                    out.push(Effect::Push(facts(h, false)));
                }
            }
        }
    }

    /// A push whose destination cannot be known: to an unknown host, outside the
    /// task's remotes.
    fn unknown_push(&self, text: &str, cmd: &PushCmd<'_>, task: &TaskView, out: &mut Vec<Effect>) {
        out.push(Effect::Send {
            to: self.host_facts(None, 0, task),
            labels: Labels::NONE,
        });
        out.push(Effect::Push(PushFacts {
            remote: text.to_owned(),
            branch: None,
            branch_in_scope: false,
            force: cmd.force,
            tag: false,
            remote_in_scope: false,
        }));
    }
}
