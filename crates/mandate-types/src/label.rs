//! Data-sensitivity and provenance labels, as a small copyable set.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One data label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Key material, tokens, `.env` values: must not leave the machine.
    Secret,
    /// A credential store (cloud, registry, git credentials).
    Credential,
    /// Personal data.
    Pii,
    /// Came from outside the trust boundary (web page, issue text, MCP result).
    Untrusted,
}

impl Label {
    /// Every label, in a stable order.
    pub const ALL: [Label; 4] = [
        Label::Secret,
        Label::Credential,
        Label::Pii,
        Label::Untrusted,
    ];

    /// The label's name as used in policies and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Secret => "secret",
            Label::Credential => "credential",
            Label::Pii => "pii",
            Label::Untrusted => "untrusted",
        }
    }

    /// Parses a label name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`Label`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(u8);

impl Labels {
    /// The empty set.
    pub const NONE: Labels = Labels(0);

    /// A set with one label.
    pub fn of(l: Label) -> Self {
        Labels(l.bit())
    }

    /// Adds a label.
    pub fn insert(&mut self, l: Label) {
        self.0 |= l.bit();
    }

    /// Whether the set contains `l`.
    pub fn contains(self, l: Label) -> bool {
        self.0 & l.bit() != 0
    }

    /// The union of two sets.
    pub fn union(self, other: Labels) -> Labels {
        Labels(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The labels in a stable order.
    pub fn iter(self) -> impl Iterator<Item = Label> {
        Label::ALL.into_iter().filter(move |l| self.contains(*l))
    }

    /// A set from raw bits (unknown bits are dropped).
    pub fn from_bits(bits: u8) -> Labels {
        Labels(bits & 0b1111)
    }

    /// The raw bits, for compact cache keys.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl FromIterator<Label> for Labels {
    fn from_iter<I: IntoIterator<Item = Label>>(iter: I) -> Self {
        let mut s = Labels::NONE;
        for l in iter {
            s.insert(l);
        }
        s
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<Label>::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for l in self.iter() {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str(l.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_set_operations_and_json() {
        let mut s = Labels::of(Label::Secret);
        s.insert(Label::Untrusted);
        assert!(s.contains(Label::Secret) && !s.contains(Label::Pii));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["secret","untrusted"]"#
        );
        let back: Labels = serde_json::from_str(r#"["untrusted","secret"]"#).unwrap();
        assert_eq!(back, s);
        assert_eq!(s.to_string(), "secret,untrusted");
    }
}
