//! Just enough of a git repository's files to resolve remotes and the current branch:
//! configuration files (`config`), where remotes go (`resolve`), and the effects of
//! pushes and fetches (`effects`).

pub mod config;
mod effects;
pub mod files;
pub mod resolve;

pub(crate) use effects::PushCmd;

use std::path::{Path, PathBuf};

/// Finds the git directory for a work tree path (walking up; `.git` files are followed,
/// and a directory that is itself a git directory, as `--git-dir` names, is one).
pub fn git_dir(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let dot = d.join(".git");
        if dot.is_dir() {
            return Some(dot);
        }
        if dot.is_file() {
            let text = std::fs::read_to_string(&dot).ok()?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            let p = Path::new(target);
            return Some(if p.is_absolute() {
                p.to_path_buf()
            } else {
                d.join(p)
            });
        }
        if d.join("HEAD").is_file() && d.join("objects").is_dir() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// The URLs (and paths) a task started in `repo` may push to and fetch from: every
/// remote's fetch and push destinations, resolved as git would then (see [`resolve`]).
pub fn task_remotes(repo: &Path, home: &Path) -> Vec<String> {
    let r = resolve::Repo::open(repo, home, &[]);
    let mut out: Vec<String> = Vec::new();
    for name in r.remotes() {
        for d in r.fetch_dests(name).into_iter().chain(r.push_dests(name)) {
            let text = match d {
                resolve::Dest::Url(u) => u,
                resolve::Dest::Path(p) => crate::resolve(&p).to_string_lossy().into_owned(),
                resolve::Dest::Helper(_) => continue,
            };
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// The URL of a named remote, from the repository's `config`.
pub fn remote_url(git_dir: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(git_dir.join("config")).ok()?;
    let wanted = format!("[remote \"{name}\"]");
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l == wanted;
            continue;
        }
        if inside
            && let Some((k, v)) = l.split_once('=')
            && k.trim() == "url"
        {
            return Some(v.trim().to_owned());
        }
    }
    None
}

/// Every remote URL in the repository's `config`.
pub fn remote_urls(git_dir: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(git_dir.join("config")) else {
        return Vec::new();
    };
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l.starts_with("[remote ");
            continue;
        }
        if let (true, Some((k, v))) = (inside, l.split_once('='))
            && matches!(k.trim(), "url" | "pushurl")
        {
            out.push(v.trim().to_owned());
        }
    }
    out
}

/// The hosts of a repository's remotes (they belong to the task's scope).
pub fn remote_hosts(repo: &Path) -> Vec<String> {
    let mut out: Vec<String> = git_dir(repo)
        .map(|g| remote_urls(&g))
        .unwrap_or_default()
        .iter()
        .filter_map(|u| url_host(u).map(|(h, _)| h))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The branch `HEAD` points at, if it is a branch.
pub fn current_branch(git_dir: &Path) -> Option<String> {
    static HEADS: std::sync::OnceLock<files::FileCache<Option<String>>> =
        std::sync::OnceLock::new();
    let branch = HEADS.get_or_init(files::FileCache::default).get(
        &git_dir.join("HEAD"),
        std::time::Duration::ZERO,
        |text| {
            text.trim()
                .strip_prefix("ref: refs/heads/")
                .map(str::to_owned)
        },
    );
    (*branch).clone()
}

/// The host of a git URL: `https://host/...`, `ssh://user@host:port/...`, `user@host:path`.
pub fn url_host(url: &str) -> Option<(String, Option<u16>)> {
    if let Some((_, rest)) = url.split_once("://") {
        // The authority ends at a path, query or fragment (`https://evil#@github.com/`
        // goes to `evil`), or a backslash.
        let auth = rest.split(['/', '?', '#', '\\']).next().unwrap_or(rest);
        let hp = auth.rsplit('@').next().unwrap_or(auth);
        let (h, p) = mandate_types::split_host_port(hp).ok()?;
        return Some((h.to_owned(), p));
    }
    // scp-like syntax: [user@]host:path
    let (head, _) = url.split_once(':')?;
    if head.contains('/') {
        return None;
    }
    Some((head.rsplit('@').next().unwrap_or(head).to_owned(), Some(22)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts() {
        assert_eq!(
            url_host("https://github.com/a/b.git"),
            Some(("github.com".into(), None))
        );
        assert_eq!(
            url_host("git@github.com:a/b.git"),
            Some(("github.com".into(), Some(22)))
        );
        assert_eq!(
            url_host("ssh://git@h.example:2222/x"),
            Some(("h.example".into(), Some(2222)))
        );
        assert_eq!(url_host("/local/path"), None);
        for tricky in [
            "https://evil.example#@github.com/a/b.git",
            "https://evil.example?@github.com/a/b.git",
            "https://evil.example\\@github.com/a/b.git",
            "https://github.com@evil.example/a/b.git",
        ] {
            assert_eq!(url_host(tricky).unwrap().0, "evil.example", "{tricky}");
        }
    }

    #[test]
    fn reads_config_and_head() {
        let d = tempfile::tempdir().unwrap();
        let g = d.path().join(".git");
        std::fs::create_dir_all(&g).unwrap();
        std::fs::write(g.join("HEAD"), "ref: refs/heads/mandate/x\n").unwrap();
        std::fs::write(
            g.join("config"),
            "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:a/b.git\n\tfetch = +refs/heads/*\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.path().join("sub")).unwrap();
        let found = git_dir(&d.path().join("sub")).unwrap();
        assert_eq!(found, g);
        assert_eq!(
            remote_url(&g, "origin").as_deref(),
            Some("git@github.com:a/b.git")
        );
        assert_eq!(remote_url(&g, "upstream"), None);
        assert_eq!(current_branch(&g).as_deref(), Some("mandate/x"));
        assert_eq!(remote_urls(&g), vec!["git@github.com:a/b.git".to_string()]);
    }

    #[test]
    fn a_git_dir_named_directly_is_found() {
        let d = tempfile::tempdir().unwrap();
        let bare = d.path().join("r.git");
        std::fs::create_dir_all(bare.join("objects")).unwrap();
        std::fs::write(bare.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(git_dir(&bare), Some(bare.clone()));
        assert_eq!(git_dir(&bare.join("objects")), Some(bare));
    }

    #[test]
    fn task_remotes_are_every_remote_as_git_resolves_it() {
        let d = tempfile::tempdir().unwrap();
        let (repo, home) = (d.path().join("repo"), d.path().join("home"));
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            repo.join(".git/config"),
            "[remote \"origin\"]\n\turl = https://github.com/a/b.git\n\
             [remote \"local\"]\n\turl = ../mirror\n",
        )
        .unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            "[url \"git@github.com:\"]\n\tpushInsteadOf = https://github.com/\n",
        )
        .unwrap();
        std::fs::create_dir_all(d.path().join("mirror")).unwrap();
        let mirror = crate::resolve(&d.path().join("mirror"));
        assert_eq!(
            task_remotes(&repo, &home),
            [
                "https://github.com/a/b.git".to_owned(),
                "git@github.com:a/b.git".to_owned(),
                mirror.to_string_lossy().into_owned(),
            ]
        );
    }
}
