//! Decisions: allow, deny or ask, with reasons a human can act on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DecisionId, Effect};

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The action may proceed.
    Allow,
    /// A human must approve the action first.
    Ask,
    /// The action must not proceed.
    Deny,
}

impl Verdict {
    /// The verdict's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Ask => "ask",
            Self::Deny => "deny",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason behind a decision: the policy (or built-in check) id and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reason {
    /// The id of the policy or check, e.g. `develop.read.sensitive` or `token.expired`.
    pub policy: String,
    /// What happened and what to do about it, in words.
    pub message: String,
}

impl Reason {
    /// Builds a reason.
    pub fn new(policy: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            policy: policy.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.policy, self.message)
    }
}

/// A decision on one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The verdict.
    pub decision: Verdict,
    /// Why; never empty for `deny` and `ask`.
    pub reasons: Vec<Reason>,
    /// The decision's id (also the audit record's).
    pub decision_id: DecisionId,
    /// The effects analysis found.
    pub effects: Vec<Effect>,
    /// For an `ask`: the pending approval a human answers with `mandate approve ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
}

impl Decision {
    /// The reasons joined into one sentence, for an assistant's deny message.
    pub fn summary(&self) -> String {
        if self.reasons.is_empty() {
            return self.decision.to_string();
        }
        self.reasons
            .iter()
            .map(|r| format!("{} [{}]", r.message, r.policy))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
