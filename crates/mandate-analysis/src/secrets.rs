//! Secret scanning of content (tool outputs, file contents) with a rule file.

use regex::Regex;
use serde::Deserialize;

/// The rules shipped with Mandate.
pub const BUILTIN_SECRET_RULES: &str = include_str!("../../../policies/secret-rules.toml");

/// Most bytes of one content scanned (the rest is ignored).
pub const MAX_SCAN: usize = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    id: String,
    regex: String,
    #[serde(default)]
    keywords: Vec<String>,
}

/// A secret rule file that did not load.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretRuleError {
    /// Bad TOML.
    #[error("{source_name}: {error}")]
    Toml {
        /// Which file.
        source_name: String,
        /// The parse error.
        error: toml::de::Error,
    },
    /// A regex did not compile.
    #[error("{source_name}: rule {id}: bad regex: {error}")]
    Regex {
        /// Which file.
        source_name: String,
        /// The rule.
        id: String,
        error: regex::Error,
    },
}

#[derive(Debug, Clone)]
struct Rule {
    id: String,
    regex: Regex,
    keywords: Vec<String>,
}

/// Compiled secret rules.
#[derive(Debug, Clone, Default)]
pub struct SecretScanner {
    rules: Vec<Rule>,
}

impl SecretScanner {
    /// The shipped rules.
    #[expect(
        clippy::expect_used,
        reason = "the shipped rules are compiled into the binary and a unit test compiles them"
    )]
    pub fn builtin() -> Self {
        let mut s = Self::default();
        s.extend_from_toml("policies/secret-rules.toml", BUILTIN_SECRET_RULES)
            .expect("built-in secret rules compile (tested)");
        s
    }

    /// Adds rules from TOML text.
    pub fn extend_from_toml(
        &mut self,
        source_name: &str,
        text: &str,
    ) -> Result<(), SecretRuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|error| SecretRuleError::Toml {
            source_name: source_name.to_owned(),
            error,
        })?;
        for r in file.rule {
            let regex = Regex::new(&r.regex).map_err(|error| SecretRuleError::Regex {
                source_name: source_name.to_owned(),
                id: r.id.clone(),
                error,
            })?;
            self.rules.push(Rule {
                id: r.id,
                regex,
                keywords: r
                    .keywords
                    .into_iter()
                    .map(|k| k.to_ascii_lowercase())
                    .collect(),
            });
        }
        Ok(())
    }

    /// How many rules are loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rules are loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The ids of the rules that match `content` (first [`MAX_SCAN`] bytes).
    pub fn scan(&self, content: &str) -> Vec<&str> {
        self.find(content).into_iter().map(|(id, _)| id).collect()
    }

    /// Like [`Self::scan`], with the matched text of each rule (its first capture group
    /// when it has one, else the whole match): the secret strings themselves, for
    /// fingerprinting.
    pub fn find<'t>(&self, content: &'t str) -> Vec<(&str, &'t str)> {
        let mut end = content.len().min(MAX_SCAN);
        while !content.is_char_boundary(end) {
            end -= 1;
        }
        let text = &content[..end];
        let lower = text.to_ascii_lowercase();
        self.rules
            .iter()
            .filter(|r| {
                r.keywords.is_empty() || r.keywords.iter().any(|k| lower.contains(k.as_str()))
            })
            .filter_map(|r| {
                let c = r.regex.captures(text)?;
                let m = c.get(1).or_else(|| c.get(0))?;
                Some((r.id.as_str(), m.as_str()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_common_secrets_and_ignores_prose() {
        let s = SecretScanner::builtin();
        assert_eq!(
            s.scan("-----BEGIN OPENSSH PRIVATE KEY-----\nabc"),
            vec!["private-key"]
        );
        assert_eq!(
            s.scan("aws_access_key_id = AKIAIOSFODNN7EXAMPLE"),
            vec!["aws-access-key-id"]
        );
        assert_eq!(
            s.scan(&format!("token ghp_{}", "a".repeat(36))),
            vec!["github-token"]
        );
        assert!(
            s.scan("API_TOKEN=sk-live-123abcdefghijk")
                .contains(&"generic-credential-assignment")
        );
        assert!(
            s.scan("postgres://app:hunter2secret@db.internal/prod")
                .contains(&"url-with-password")
        );
        assert!(
            s.scan("fn main() { println!(\"hello\"); }\nall tests passed")
                .is_empty()
        );
        assert!(s.scan("the password field is required").is_empty());
    }
}
