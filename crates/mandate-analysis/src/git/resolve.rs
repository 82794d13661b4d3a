//! Where a git remote goes, as git works it out: the remote a command names (or the one
//! git picks by default), its URLs (`pushurl` before `url` for a push), rewritten by the
//! longest matching `url.<base>.insteadOf` (`pushInsteadOf` for a push to a remote
//! without a `pushurl`), from the system, user (`~/.gitconfig`,
//! `$XDG_CONFIG_HOME/git/config`) and repository configuration and what the command
//! line sets; and what a push without refspecs pushes.

use std::path::{Path, PathBuf};

use super::config::{Entry, load_into};
use super::files::STABLE_TTL;
use super::{current_branch, git_dir};
use std::time::Duration;

/// Where a remote resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// A URL of another host (`https://…`, `ssh://…`, `[user@]host:path`).
    Url(String),
    /// A repository on this machine (a path, `file://…`).
    Path(PathBuf),
    /// A transport that runs a program (`ext::…`, another `NAME::address` helper).
    Helper(String),
}

/// A repository's configuration, merged with the user's, the system's and the command
/// line's, as one run of git sees it.
#[derive(Debug)]
pub struct Repo {
    /// The git directory, when one was found.
    pub git_dir: Option<PathBuf>,
    /// The top of the work tree (or where the search started), for relative paths.
    pub top: PathBuf,
    home: PathBuf,
    /// The branch `HEAD` points at, read once.
    branch: Option<String>,
    entries: Vec<Entry>,
}

impl Repo {
    /// The repository found from `start` (walking up), with `overrides` (`-c` and the
    /// environment) applied last.
    pub fn open(start: &Path, home: &Path, overrides: &[(String, String)]) -> Self {
        let git_dir = git_dir(start);
        let top = git_dir
            .as_deref()
            .filter(|g| g.file_name().is_some_and(|n| n == ".git"))
            .and_then(Path::parent)
            .unwrap_or(start)
            .to_path_buf();
        let mut entries = Vec::new();
        load_into(Path::new("/etc/gitconfig"), home, STABLE_TTL, &mut entries);
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".config"));
        load_into(&xdg.join("git/config"), home, STABLE_TTL, &mut entries);
        load_into(&home.join(".gitconfig"), home, STABLE_TTL, &mut entries);
        if let Some(g) = &git_dir {
            load_into(&g.join("config"), home, Duration::ZERO, &mut entries);
        }
        entries.extend(overrides.iter().cloned());
        Self {
            branch: git_dir.as_deref().and_then(current_branch),
            git_dir,
            top,
            home: home.to_path_buf(),
            entries,
        }
    }

    /// The last value of `key`.
    pub fn last(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The branch `HEAD` points at.
    pub fn branch(&self) -> Option<&str> {
        self.branch.as_deref()
    }

    /// The configured remotes (those with a `url` or `pushurl`), in order.
    pub fn remotes(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (k, _) in &self.entries {
            if let Some(rest) = k.strip_prefix("remote.")
                && let Some(name) = rest
                    .strip_suffix(".url")
                    .or_else(|| rest.strip_suffix(".pushurl"))
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
        out
    }

    /// The remote git uses when none is named.
    pub fn default_remote(&self, push: bool) -> String {
        let of_branch = |what: &str| {
            self.branch()
                .and_then(|b| self.last(&format!("branch.{b}.{what}")))
                .filter(|r| !r.is_empty())
        };
        let pushed = if push {
            of_branch("pushremote").or_else(|| self.last("remote.pushdefault"))
        } else {
            None
        };
        pushed
            .or_else(|| of_branch("remote"))
            .unwrap_or("origin")
            .to_owned()
    }

    /// Where `git fetch NAME` goes: `""` is the default remote (every remote when there
    /// are several), `"*"` every remote, `"*submodules"` the submodules' remotes, `"*lfs"`
    /// (`"*lfs REMOTE"`) the Git LFS server of the default remote (of REMOTE).
    pub fn fetch_dests(&self, name: &str) -> Vec<Dest> {
        if let Some(rest) = name.strip_prefix("*lfs") {
            return self.lfs(rest.trim());
        }
        match name {
            "*" => self.every_remote(),
            "*submodules" => self.submodules(),
            "" if self.remotes().len() > 1 => self.every_remote(),
            "" => self.fetch_dests(&self.default_remote(false)),
            _ => self
                .urls(name, false)
                .iter()
                .map(|u| self.dest(u))
                .collect(),
        }
    }

    fn every_remote(&self) -> Vec<Dest> {
        let mut out = Vec::new();
        for r in self.remotes() {
            for d in self.fetch_dests(r) {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
        out
    }

    /// Where `git push NAME` goes (`""`: the default remote).
    pub fn push_dests(&self, name: &str) -> Vec<Dest> {
        let name = if name.is_empty() {
            self.default_remote(true)
        } else {
            name.to_owned()
        };
        self.urls(&name, true)
            .iter()
            .map(|u| self.dest(u))
            .collect()
    }

    /// The URLs of remote `name` (or `name` itself, when no remote has that name, as git
    /// takes it), rewritten.
    fn urls(&self, name: &str, push: bool) -> Vec<String> {
        let urls = self.all(&format!("remote.{name}.url"));
        let pushurls = self.all(&format!("remote.{name}.pushurl"));
        let configured = !urls.is_empty() || !pushurls.is_empty();
        let urls: Vec<&str> = if configured { urls } else { vec![name] };
        let rewrites = self.rewrites("insteadof");
        if push && !pushurls.is_empty() {
            return pushurls.iter().map(|u| rewrite(u, &rewrites)).collect();
        }
        let push_rewrites = if push {
            self.rewrites("pushinsteadof")
        } else {
            Vec::new()
        };
        urls.iter()
            .filter(|u| !u.is_empty())
            .map(|u| match longest(u, &push_rewrites) {
                Some(rewritten) => rewritten,
                None => rewrite(u, &rewrites),
            })
            .collect()
    }

    /// `(base, prefix)` of every `url.<base>.<what>`.
    fn rewrites(&self, what: &str) -> Vec<(&str, &str)> {
        self.entries
            .iter()
            .filter_map(|(k, v)| {
                let base = k
                    .strip_prefix("url.")?
                    .strip_suffix(what)?
                    .strip_suffix('.')?;
                Some((base, v.as_str()))
            })
            .collect()
    }

    /// A URL or path as a destination: relative paths are relative to the work tree.
    pub fn dest(&self, url: &str) -> Dest {
        if let Some((helper, _)) = url.split_once("::")
            && !helper.is_empty()
            && !helper.contains(['/', ':'])
        {
            return Dest::Helper(url.to_owned());
        }
        if let Some(path) = url.strip_prefix("file://") {
            return Dest::Path(PathBuf::from(path));
        }
        if is_url(url) {
            return Dest::Url(url.to_owned());
        }
        Dest::Path(match url.strip_prefix("~/") {
            Some(rest) => self.home.join(rest),
            None if url == "~" => self.home.clone(),
            None => self.top.join(url),
        })
    }

    /// The Git LFS server of `remote` (`""`: the default remote): `remote.NAME.lfsurl` or
    /// `lfs.url` from git's configuration, then from `.lfsconfig`, else the remote itself.
    fn lfs(&self, remote: &str) -> Vec<Dest> {
        let remote = if remote.is_empty() {
            self.default_remote(false)
        } else {
            remote.to_owned()
        };
        let keys = [format!("remote.{remote}.lfsurl"), "lfs.url".to_owned()];
        let mut lfsconfig = Vec::new();
        load_into(
            &self.top.join(".lfsconfig"),
            &self.home,
            Duration::ZERO,
            &mut lfsconfig,
        );
        let in_file = |key: &str| {
            lfsconfig
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let configured = keys
            .iter()
            .find_map(|k| self.last(k).map(str::to_owned))
            .or_else(|| keys.iter().find_map(|k| in_file(k)));
        match configured {
            Some(url) => vec![self.dest(&rewrite(&url, &self.rewrites("insteadof")))],
            None => self.fetch_dests(&remote),
        }
    }

    /// The URLs of the submodules (`.gitmodules` and the repository's configuration);
    /// relative ones are relative to the default remote's URL.
    fn submodules(&self) -> Vec<Dest> {
        let mut urls: Vec<String> = Vec::new();
        let mut modules = Vec::new();
        load_into(
            &self.top.join(".gitmodules"),
            &self.home,
            Duration::ZERO,
            &mut modules,
        );
        for (k, v) in modules.iter().chain(&self.entries) {
            if k.starts_with("submodule.") && k.ends_with(".url") && !urls.contains(v) {
                urls.push(v.clone());
            }
        }
        let base = self
            .urls(&self.default_remote(false), false)
            .into_iter()
            .next();
        let rewrites = self.rewrites("insteadof");
        urls.iter()
            .map(|u| {
                let full = match (&base, u.starts_with("./") || u.starts_with("../")) {
                    (Some(b), true) => join_relative(b, u),
                    _ => u.clone(),
                };
                self.dest(&rewrite(&full, &rewrites))
            })
            .collect()
    }
}

/// Whether `text` is a URL of another host: `scheme://…` (not `file://`), or
/// `[user@]host:path` (a colon before any slash).
pub fn is_url(text: &str) -> bool {
    match text.split_once("://") {
        Some((scheme, _)) => !scheme.eq_ignore_ascii_case("file"),
        None => text
            .split_once(':')
            .is_some_and(|(head, _)| !head.is_empty() && !head.contains('/')),
    }
}

/// `url` rewritten by the longest matching rule (`base` replaces the matched prefix).
fn longest(url: &str, rules: &[(&str, &str)]) -> Option<String> {
    rules
        .iter()
        .filter(|(_, prefix)| !prefix.is_empty() && url.starts_with(prefix))
        .max_by_key(|(_, prefix)| prefix.len())
        .map(|(base, prefix)| format!("{base}{}", &url[prefix.len()..]))
}

fn rewrite(url: &str, rules: &[(&str, &str)]) -> String {
    longest(url, rules).unwrap_or_else(|| url.to_owned())
}

/// A relative submodule URL (`../lib.git`) against its superproject's URL.
fn join_relative(base: &str, rel: &str) -> String {
    let mut base = base.trim_end_matches('/').to_owned();
    let mut rel = rel;
    loop {
        if let Some(r) = rel.strip_prefix("./") {
            rel = r;
        } else if let Some(r) = rel.strip_prefix("../") {
            rel = r;
            match base.rfind(['/', ':']) {
                Some(i) => base.truncate(i),
                None => base.clear(),
            }
        } else {
            break;
        }
    }
    format!("{base}/{rel}")
}

/// What a push with these refspecs sends, with the repository's defaults applied when
/// there are none: the destination branch when one can be named, and whether every
/// branch (or a mirror) is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The destination branch (without `refs/heads/`), when one can be named.
    pub branch: Option<String>,
    /// Tags are pushed.
    pub tag: bool,
    /// The refspecs in effect (given, or configured for the remote).
    pub refspecs: usize,
    /// The remote is a mirror (`remote.NAME.mirror`): every ref, with force.
    pub mirror: bool,
}

impl Repo {
    /// What `git push REMOTE REFSPECS` pushes (`remote` as named; `""` for the default).
    pub fn pushed(&self, remote: &str, refspecs: &[String]) -> Pushed {
        let name = if remote.is_empty() {
            self.default_remote(true)
        } else {
            remote.to_owned()
        };
        let mirror = self
            .last(&format!("remote.{name}.mirror"))
            .is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")
            });
        let configured: Vec<String> = self
            .all(&format!("remote.{name}.push"))
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let specs: &[String] = if refspecs.is_empty() {
            &configured
        } else {
            refspecs
        };
        let current = self.branch().map(str::to_owned);
        let dst = match specs.first() {
            Some(r) => {
                let r = r.trim_start_matches('+');
                let d = r.split_once(':').map_or(r, |(_, d)| d);
                if d == "HEAD" || d == "@" {
                    current.clone()
                } else {
                    Some(d.to_owned())
                }
            }
            None => match self.last("push.default").unwrap_or("simple") {
                "upstream" | "tracking" => current.as_deref().and_then(|b| {
                    self.last(&format!("branch.{b}.merge"))
                        .map(|m| m.strip_prefix("refs/heads/").unwrap_or(m).to_owned())
                }),
                "current" | "simple" => current.clone(),
                _ => None,
            },
        };
        let tag = dst.as_deref().is_some_and(|b| b.starts_with("refs/tags/"));
        let branch = dst
            .filter(|b| !b.is_empty() && !b.starts_with("refs/tags/"))
            .map(|b| b.strip_prefix("refs/heads/").unwrap_or(&b).to_owned());
        Pushed {
            branch,
            tag,
            refspecs: specs.len().max(1),
            mirror,
        }
    }
}

#[cfg(test)]
mod tests;
