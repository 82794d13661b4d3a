//! Where a secret may be used, and where in a request it goes.

use std::fmt;

use mandate_types::{Host, split_host_port};
use serde::{Deserialize, Serialize};

use crate::SecretError;

/// A secret's name: what the task's environment calls it (`GITHUB_TOKEN`). Letters,
/// digits and `_`, not starting with a digit, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct SecretName(String);

impl SecretName {
    /// Parses a name.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(SecretError::Invalid(format!(
                "{s:?} is not a secret name: use letters, digits and _ (an environment variable name), at most 64 characters"
            )))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for SecretName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A host (exactly; no wildcards: a secret goes to the hosts named, not their
/// neighbours) and optionally one port; without a port, 443 only: a secret goes over
/// plain HTTP only to a destination that names port 80 (or another) itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    pub host: Host,
    pub port: Option<u16>,
}

impl Destination {
    /// Parses `host`, `host:port` or `[v6]:port`.
    pub fn parse(s: &str) -> Result<Self, SecretError> {
        let (host, port) = split_host_port(s)
            .map_err(|e| SecretError::Invalid(format!("destination {s:?}: {e}")))?;
        let host = Host::parse(host)
            .map_err(|e| SecretError::Invalid(format!("destination {s:?}: {e}")))?;
        Ok(Self { host, port })
    }

    /// Whether a request to `host`:`port` is to this destination.
    pub fn matches(&self, host: &Host, port: u16) -> bool {
        &self.host == host
            && match self.port {
                Some(p) => p == port,
                None => port == 443,
            }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.port, self.host.as_str().contains(':')) {
            (Some(p), true) => write!(f, "[{}]:{p}", self.host),
            (Some(p), false) => write!(f, "{}:{p}", self.host),
            (None, _) => f.write_str(self.host.as_str()),
        }
    }
}

impl Serialize for Destination {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Destination {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Where in a request the secret goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "in", content = "name")]
pub enum Location {
    /// A request header (`Authorization` unless told otherwise). In a `Basic` header the
    /// placeholder is found inside the decoded `user:password` too (git sends it there).
    Header(String),
    /// A query parameter of the URL.
    Query(String),
}

/// Where a secret may be used and how it is written there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The destinations the secret may go to; never empty.
    pub hosts: Vec<Destination>,
    pub location: Location,
    /// How the header's value is written, `{}` standing for the secret (`Bearer {}`).
    /// When set, a header carrying the placeholder is replaced whole by this form;
    /// when absent, the placeholder alone is swapped where it stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The user name the git credential helper answers with (`x-access-token`, what
    /// GitHub expects with app and personal tokens).
    #[serde(default = "default_git_user")]
    pub git_user: String,
    /// When set, the stored value is not sent anywhere: it is the key a short-lived
    /// credential is minted with, per task, and that credential is what the proxy puts
    /// in place of the placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mint: Option<Mint>,
}

/// How a short-lived credential is minted from a stored key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Mint {
    /// A GitHub App installation token: a JWT signed with the app's private key (the
    /// stored value) is exchanged at `POST {api}/app/installations/{id}/access_tokens`
    /// for a token that lives an hour, limited to `repositories` and `permissions`
    /// when given, and revoked (`DELETE {api}/installation/token`) when the task ends.
    GithubApp {
        app_id: u64,
        installation_id: u64,
        /// The API's base URL (`https://api.github.com`).
        api: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        repositories: Vec<String>,
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        permissions: std::collections::BTreeMap<String, String>,
    },
}

impl Mint {
    /// A GitHub App mint, validated: an `https://` (or, for a local stand-in,
    /// `http://`) API URL, repository names and `permission=read|write|admin` pairs.
    pub fn github_app(
        app_id: u64,
        installation_id: u64,
        api: &str,
        repositories: Vec<String>,
        permissions: &[String],
    ) -> Result<Self, SecretError> {
        let url = mandate_types::Url::parse(api)
            .map_err(|e| SecretError::Invalid(format!("--github-api: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(SecretError::Invalid(format!(
                "--github-api {api:?} must be an https:// URL"
            )));
        }
        for r in &repositories {
            if r.is_empty()
                || !r
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(SecretError::Invalid(format!(
                    "--repository {r:?} is not a repository name (owner not included)"
                )));
            }
        }
        let mut perms = std::collections::BTreeMap::new();
        for p in permissions {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                SecretError::Invalid(format!("--permission {p:?} must look like contents=write"))
            })?;
            let name_ok = !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !name_ok || !matches!(v, "read" | "write" | "admin") {
                return Err(SecretError::Invalid(format!(
                    "--permission {p:?} must be NAME=read|write|admin"
                )));
            }
            perms.insert(k.to_owned(), v.to_owned());
        }
        Ok(Self::GithubApp {
            app_id,
            installation_id,
            api: api.trim_end_matches('/').to_owned(),
            repositories,
            permissions: perms,
        })
    }
}

fn default_git_user() -> String {
    "x-access-token".to_owned()
}

impl Binding {
    /// Validates and builds a binding: at least one host; at most one of a header or a
    /// query parameter (the `Authorization` header when neither is given); a format
    /// only for a header, with exactly one `{}`.
    pub fn new(
        hosts: Vec<Destination>,
        header: Option<&str>,
        query: Option<&str>,
        format: Option<&str>,
        git_user: Option<&str>,
    ) -> Result<Self, SecretError> {
        if hosts.is_empty() {
            return Err(SecretError::Invalid(
                "a secret must name at least one --host it may be sent to".into(),
            ));
        }
        let location = match (header, query) {
            (Some(_), Some(_)) => {
                return Err(SecretError::Invalid(
                    "give either --header or --query, not both".into(),
                ));
            }
            (Some(h), None) => Location::Header(header_name(h)?),
            (None, Some(q)) => Location::Query(query_name(q)?),
            (None, None) => Location::Header("authorization".into()),
        };
        if let Some(f) = format {
            if matches!(location, Location::Query(_)) {
                return Err(SecretError::Invalid(
                    "--format applies to a header, not to a query parameter".into(),
                ));
            }
            if f.matches("{}").count() != 1 || f.chars().any(|c| c.is_control()) {
                return Err(SecretError::Invalid(format!(
                    "--format {f:?} must contain {{}} exactly once (where the secret goes) and no control characters"
                )));
            }
        }
        let git_user = git_user.unwrap_or("x-access-token");
        if git_user.is_empty() || git_user.contains(['\n', '\0', ':']) {
            return Err(SecretError::Invalid(format!(
                "--git-user {git_user:?} must be non-empty, without ':' or line breaks"
            )));
        }
        Ok(Self {
            hosts,
            location,
            format: format.map(str::to_owned),
            git_user: git_user.to_owned(),
            mint: None,
        })
    }

    /// The binding with its credential minted from the stored key.
    pub fn minted(mut self, mint: Mint) -> Self {
        self.mint = Some(mint);
        self
    }

    /// Whether the secret may go to `host`:`port`.
    pub fn allows(&self, host: &Host, port: u16) -> bool {
        self.hosts.iter().any(|d| d.matches(host, port))
    }
}

/// A header name, lower-cased (RFC 9110 token characters).
fn header_name(s: &str) -> Result<String, SecretError> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(SecretError::Invalid(format!(
            "--header {s:?} is not an HTTP header name"
        )))
    }
}

fn query_name(s: &str) -> Result<String, SecretError> {
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(SecretError::Invalid(format!(
            "--query {s:?} is not a plain query parameter name (letters, digits, - . _ ~)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(s: &str) -> Destination {
        Destination::parse(s).unwrap()
    }

    #[test]
    fn names_are_environment_variable_names() {
        assert!(SecretName::parse("GITHUB_TOKEN").is_ok());
        for bad in ["", "1X", "A-B", "A B", "A=B", &"X".repeat(65)] {
            assert!(SecretName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_destination_without_port_is_https_only() {
        let h = Host::parse("api.example.com").unwrap();
        assert!(dest("api.example.com").matches(&h, 443));
        assert!(!dest("api.example.com").matches(&h, 80));
        assert!(dest("api.example.com:80").matches(&h, 80));
        assert!(!dest("api.example.com").matches(&h, 8443));
        assert!(dest("api.example.com:8443").matches(&h, 8443));
        assert!(!dest("API.example.com.").matches(&Host::parse("x.example.com").unwrap(), 443));
        assert_eq!(dest("[::1]:8443").to_string(), "[::1]:8443");
    }

    #[test]
    fn bindings_are_validated() {
        let hosts = vec![dest("api.example.com")];
        let b = Binding::new(hosts.clone(), None, None, None, None).unwrap();
        assert_eq!(b.location, Location::Header("authorization".into()));
        assert!(Binding::new(vec![], None, None, None, None).is_err());
        assert!(Binding::new(hosts.clone(), Some("X-Key"), Some("k"), None, None).is_err());
        assert!(Binding::new(hosts.clone(), None, Some("k"), Some("{}"), None).is_err());
        assert!(Binding::new(hosts.clone(), None, None, Some("Bearer"), None).is_err());
        assert!(Binding::new(hosts.clone(), Some("Bad Header"), None, None, None).is_err());
        let b = Binding::new(hosts, Some("X-Api-Key"), None, Some("Key {}"), None).unwrap();
        assert_eq!(b.location, Location::Header("x-api-key".into()));
    }
}
