//! The mandate: the signed grant for one task, and its scope.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::check_nonempty;
use crate::{AbsPath, AgentId, Host, InvalidInput, PrincipalId, ProfileName, Purpose, TaskId};

/// Matches `text` against a pattern where `*` stands for any run of characters
/// (including `/`) and every other character stands for itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

macro_rules! pattern_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses and validates the pattern.
            pub fn parse(s: &str) -> Result<Self, InvalidInput> {
                check_nonempty($field, s, 512)?;
                let check: fn(&str) -> Result<String, String> = $check;
                let norm = check(s).map_err(|p| InvalidInput::malformed($field, p))?;
                Ok(Self(norm))
            }

            /// The pattern text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pattern_type!(
    /// A host the task may reach: `example.com` (exactly) or `*.example.com` (any
    /// subdomain, not the apex).
    HostPattern, "host", |s| {
        let (wild, rest) = match s.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let host = Host::parse(rest).map_err(|e| e.to_string())?;
        Ok(if wild { format!("*.{host}") } else { host.as_str().to_owned() })
    }
);

impl HostPattern {
    /// Whether `host` is covered by this pattern.
    pub fn matches(&self, host: &Host) -> bool {
        match self.0.strip_prefix("*.") {
            Some(suffix) => host
                .as_str()
                .strip_suffix(suffix)
                .is_some_and(|head| head.ends_with('.')),
            None => self.0 == host.as_str(),
        }
    }
}

pattern_type!(
    /// A path glob (gitignore-like `**`), absolute or relative to the repository.
    PathGlob, "path glob", |s| Ok(s.to_owned())
);

pattern_type!(
    /// A git branch pattern such as `mandate/*` (`*` matches any characters).
    BranchPattern, "branch pattern", |s| {
        if s.starts_with('-') || s.contains("..") || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{s:?} is not a valid branch pattern"));
        }
        Ok(s.strip_prefix("refs/heads/").unwrap_or(s).to_owned())
    }
);

impl BranchPattern {
    /// Whether `branch` (without `refs/heads/`) matches.
    pub fn matches(&self, branch: &str) -> bool {
        wildcard_match(
            &self.0,
            branch.strip_prefix("refs/heads/").unwrap_or(branch),
        )
    }
}

pattern_type!(
    /// An MCP tool pattern `server/tool`; either side may be `*`.
    McpToolPattern, "mcp tool", |s| {
        let (server, tool) = s.split_once('/').ok_or("must look like server/tool (either may be *)")?;
        if server.is_empty() || tool.is_empty() {
            return Err("server and tool must not be empty".into());
        }
        Ok(s.to_owned())
    }
);

impl McpToolPattern {
    /// Whether `server`/`tool` is covered.
    pub fn matches(&self, server: &str, tool: &str) -> bool {
        let (ps, pt) = self.0.split_once('/').unwrap_or((&self.0, "*"));
        wildcard_match(ps, server) && wildcard_match(pt, tool)
    }
}

/// What a mandate may touch beyond what its profile grants everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Repositories (absolute, canonical roots) the task works in; the first is primary.
    #[serde(default)]
    pub repos: Vec<AbsPath>,
    /// Extra paths the task may read.
    #[serde(default)]
    pub read: Vec<PathGlob>,
    /// Extra paths the task may write.
    #[serde(default)]
    pub write: Vec<PathGlob>,
    /// Hosts the task may connect to, beyond the profile's defaults.
    #[serde(default)]
    pub hosts: Vec<HostPattern>,
    /// Named secrets the task may use through the broker.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// MCP tools the task may call.
    #[serde(default)]
    pub mcp_tools: Vec<McpToolPattern>,
    /// Branches the task may push to.
    #[serde(default)]
    pub branches: Vec<BranchPattern>,
    /// Repositories the task may push to: the URLs (or paths) of its repository's remotes
    /// when it started, compared in the spelling [`normalize_git_url`] gives.
    #[serde(default)]
    pub remotes: Vec<String>,
}

impl Scope {
    /// Whether `host` is named by one of the scope's host patterns.
    pub fn allows_host(&self, host: &Host) -> bool {
        self.hosts.iter().any(|p| p.matches(host))
    }

    /// Whether pushing to `branch` is in scope.
    pub fn allows_branch(&self, branch: &str) -> bool {
        self.branches.iter().any(|p| p.matches(branch))
    }

    /// Whether `url` (a git URL or an absolute path) names one of the scope's remotes.
    pub fn allows_remote(&self, url: &str) -> bool {
        let url = normalize_git_url(url);
        !url.is_empty() && self.remotes.iter().any(|r| normalize_git_url(r) == url)
    }

    /// Whether calling `server`/`tool` is in scope.
    pub fn allows_tool(&self, server: &str, tool: &str) -> bool {
        self.mcp_tools.iter().any(|p| p.matches(server, tool))
    }
}

/// The repository a git URL names, in one spelling: `host/path` for another host (the
/// scheme, user, password and port dropped, the host in lower case; `[user@]host:path` as
/// `host/path`), the path for a local one (`file://` dropped); in both, without a
/// trailing `/` or `.git`. Relative local paths are left as they are.
pub fn normalize_git_url(url: &str) -> String {
    let url = url.trim();
    let (host, path) = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => (None, rest),
        Some((_, rest)) => {
            // The authority ends at a path, query or fragment, or a backslash.
            let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
            let (auth, path) = rest.split_at(end);
            (Some(auth), path.strip_prefix('/').unwrap_or(path))
        }
        None => match url.split_once(':') {
            Some((head, path)) if !head.is_empty() && !head.contains('/') => (Some(head), path),
            _ => (None, url),
        },
    };
    let mut path = path.trim_end_matches('/');
    path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    match host {
        None => path.to_owned(),
        Some(auth) => {
            let hostport = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
            let host = match hostport.strip_prefix('[') {
                Some(v6) => v6.split_once(']').map_or(v6, |(h, _)| h),
                None => hostport.split_once(':').map_or(hostport, |(h, _)| h),
            };
            format!(
                "{}/{}",
                host.to_ascii_lowercase(),
                path.trim_start_matches('/')
            )
        }
    }
}

/// The grant for one task. Signed into the task token; every decision reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mandate {
    /// The task this mandate is for.
    pub task: TaskId,
    /// Who delegated the task.
    pub delegator: PrincipalId,
    /// Which agent acts.
    pub agent: AgentId,
    /// Why, in the delegator's words.
    pub purpose: Purpose,
    /// The policy profile that decides its actions.
    pub profile: ProfileName,
    /// What it may touch.
    pub scope: Scope,
    /// When it was issued (Unix seconds).
    pub issued_at: crate::UnixSeconds,
    /// When it expires (Unix seconds).
    pub expires_at: crate::UnixSeconds,
    /// The parent task, for sub-agents.
    #[serde(default)]
    pub parent: Option<TaskId>,
    /// The kernel sandbox around the task's processes, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<crate::SandboxLayers>,
}

impl Mandate {
    /// The primary repository root, if the task has one.
    pub fn repo(&self) -> Option<&AbsPath> {
        self.scope.repos.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matches_like_a_shell_star() {
        assert!(wildcard_match("mandate/*", "mandate/task-1/fix"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b", "ac"));
        assert!(!wildcard_match("main", "main2"));
    }

    #[test]
    fn host_patterns_match_exact_and_subdomains() {
        let exact = HostPattern::parse("Example.com").unwrap();
        let wild = HostPattern::parse("*.example.com").unwrap();
        let h = |s| Host::parse(s).unwrap();
        assert!(exact.matches(&h("example.com")));
        assert!(!exact.matches(&h("api.example.com")));
        assert!(wild.matches(&h("api.example.com")));
        assert!(!wild.matches(&h("example.com")));
        assert!(!wild.matches(&h("badexample.com")));
        assert!(HostPattern::parse("*").is_err());
    }

    #[test]
    fn git_urls_are_compared_in_one_spelling() {
        let same = [
            "https://github.com/acme/app.git",
            "https://github.com/acme/app",
            "https://GitHub.com/acme/app/",
            "http://user:pw@github.com:443/acme/app.git/",
            "ssh://git@github.com/acme/app.git",
            "ssh://git@github.com:22/acme/app",
            "git@github.com:acme/app.git",
            "github.com:acme/app",
            "git://github.com/acme/app.git",
        ];
        for u in same {
            assert_eq!(normalize_git_url(u), "github.com/acme/app", "{u}");
        }
        assert_eq!(normalize_git_url("file:///srv/git/app.git"), "/srv/git/app");
        assert_eq!(normalize_git_url("/srv/git/app/"), "/srv/git/app");
        assert_eq!(normalize_git_url("ssh://[::1]:2222/x.git"), "::1/x");
        for tricky in [
            "https://evil.example#@github.com/acme/app.git",
            "https://evil.example?@github.com/acme/app.git",
            "https://github.com@evil.example/acme/app.git",
        ] {
            assert!(
                !normalize_git_url(tricky).starts_with("github.com/"),
                "{tricky}"
            );
        }
        assert_ne!(
            normalize_git_url("https://github.com/attacker/app.git"),
            normalize_git_url("https://github.com/acme/app.git")
        );
        assert_ne!(
            normalize_git_url("https://github.com/Acme/app"),
            normalize_git_url("https://github.com/acme/app"),
            "paths keep their case"
        );
        let scope = Scope {
            remotes: vec!["https://github.com/acme/app.git".into()],
            ..Scope::default()
        };
        assert!(scope.allows_remote("git@github.com:acme/app.git"));
        assert!(!scope.allows_remote("https://evil.example/acme/app.git"));
        assert!(!scope.allows_remote(""));
        assert!(!Scope::default().allows_remote("https://github.com/acme/app.git"));
    }

    #[test]
    fn a_scope_without_remotes_still_parses() {
        let s: Scope = serde_json::from_str(r#"{"hosts": ["github.com"]}"#).unwrap();
        assert!(s.remotes.is_empty());
    }

    #[test]
    fn branch_and_tool_patterns() {
        let b = BranchPattern::parse("refs/heads/mandate/*").unwrap();
        assert!(b.matches("mandate/x") && b.matches("refs/heads/mandate/x"));
        assert!(!b.matches("main"));
        assert!(BranchPattern::parse("-f").is_err());
        let t = McpToolPattern::parse("github/*").unwrap();
        assert!(t.matches("github", "create_issue") && !t.matches("slack", "post"));
        assert!(McpToolPattern::parse("github").is_err());
    }
}
