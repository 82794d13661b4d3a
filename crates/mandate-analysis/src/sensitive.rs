//! Sensitive-path rules: which paths hold secrets or credentials.

use globset::{Candidate, Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use mandate_types::{Label, Labels};
use serde::Deserialize;

/// The rules shipped with Mandate.
pub const BUILTIN_RULES: &str = include_str!("../../../policies/sensitive-paths.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    label: String,
    patterns: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
}

/// An error in a sensitive-path rule file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The TOML did not parse.
    #[error("{source_name}: {error}")]
    Toml {
        /// Which file.
        source_name: String,
        /// The parse error (with line and column).
        error: toml::de::Error,
    },
    /// A label name is not one of secret, credential, pii, untrusted.
    #[error("{source_name}: unknown label {label:?} (use secret, credential, pii or untrusted)")]
    Label {
        /// Which file.
        source_name: String,
        /// The label given.
        label: String,
    },
    /// A glob did not compile.
    #[error("{source_name}: bad pattern {pattern:?}: {error}")]
    Glob {
        /// Which file.
        source_name: String,
        pattern: String,
        error: globset::Error,
    },
}

#[derive(Debug, Clone)]
struct Rule {
    label: Label,
    include: GlobSet,
    exclude: GlobSet,
}

/// Compiled sensitive-path rules.
#[derive(Debug, Clone, Default)]
pub struct SensitivePaths {
    rules: Vec<Rule>,
}

fn glob(source_name: &str, p: &str) -> Result<Glob, RuleError> {
    GlobBuilder::new(p)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|error| RuleError::Glob {
            source_name: source_name.to_owned(),
            pattern: p.to_owned(),
            error,
        })
}

fn set(source_name: &str, pats: &[String]) -> Result<GlobSet, RuleError> {
    let mut b = GlobSetBuilder::new();
    for p in pats {
        b.add(glob(source_name, p)?);
    }
    b.build().map_err(|error| RuleError::Glob {
        source_name: source_name.to_owned(),
        pattern: pats.join(", "),
        error,
    })
}

impl SensitivePaths {
    /// The built-in rules.
    #[expect(
        clippy::expect_used,
        reason = "the shipped rules are compiled into the binary and a unit test compiles them"
    )]
    pub fn builtin() -> Self {
        let mut s = Self::default();
        s.extend_from_toml("policies/sensitive-paths.toml", BUILTIN_RULES)
            .expect("built-in sensitive-path rules compile (tested)");
        s
    }

    /// Adds rules from a TOML file's text; `source_name` names it in errors.
    pub fn extend_from_toml(&mut self, source_name: &str, text: &str) -> Result<(), RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|error| RuleError::Toml {
            source_name: source_name.to_owned(),
            error,
        })?;
        for r in file.rule {
            let label = Label::parse(&r.label).ok_or_else(|| RuleError::Label {
                source_name: source_name.to_owned(),
                label: r.label.clone(),
            })?;
            self.rules.push(Rule {
                label,
                include: set(source_name, &r.patterns)?,
                exclude: set(source_name, &r.except)?,
            });
        }
        Ok(())
    }

    /// The labels of a path. Relative or unresolved text is matched as if it were under
    /// some directory, so `$DIR/.env` is still a secret.
    pub fn labels(&self, path: &str) -> Labels {
        let owned;
        let p = if path.starts_with('/') {
            path
        } else {
            owned = format!("/{path}");
            &owned
        };
        let mut out = Labels::NONE;
        let candidate = Candidate::new(p);
        for r in &self.rules {
            if r.include.is_match_candidate(&candidate) && !r.exclude.is_match_candidate(&candidate)
            {
                out.insert(r.label);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_label_the_usual_suspects() {
        let s = SensitivePaths::builtin();
        let secret = |p: &str| s.labels(p).contains(Label::Secret);
        let cred = |p: &str| s.labels(p).contains(Label::Credential);
        for p in [
            "/repo/.env",
            "/repo/.env.local",
            "/repo/certs/server.pem",
            "/repo/tls.key",
            "/home/u/.ssh/id_rsa",
            "/home/u/.ssh/id_ed25519",
            "/etc/shadow",
            "/proc/1/environ",
            "$DIR/.env",
            "sub/.env",
        ] {
            assert!(secret(p), "{p} should be secret");
        }
        for p in [
            "/home/u/.aws/credentials",
            "/home/u/.netrc",
            "/home/u/.git-credentials",
            "/repo/.npmrc",
            "/home/u/.pypirc",
            "/home/u/.kube/config",
            "/home/u/.docker/config.json",
        ] {
            assert!(cred(p), "{p} should be a credential");
        }
        for p in [
            "/repo/src/main.rs",
            "/repo/.env.example",
            "/home/u/.ssh/id_rsa.pub",
            "/repo/README.md",
            "/repo/environment.rs",
            "/repo/keys.rs",
        ] {
            assert!(s.labels(p).is_empty(), "{p} should not be sensitive");
        }
    }

    #[test]
    fn rule_errors_name_the_file() {
        let mut s = SensitivePaths::default();
        let e = s
            .extend_from_toml("org.toml", "[[rule]]\nlabel='nope'\npatterns=[]\n")
            .unwrap_err();
        assert!(e.to_string().contains("org.toml") && e.to_string().contains("nope"));
        assert!(
            s.extend_from_toml("org.toml", "[[rule]\n")
                .unwrap_err()
                .to_string()
                .contains("org.toml")
        );
    }
}
