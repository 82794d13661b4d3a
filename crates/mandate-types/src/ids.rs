//! Identifier newtypes. Each has a fixed alphabet so that ids can be embedded in Cedar
//! entity ids, SQL, JSON and log lines without escaping surprises.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::InvalidInput;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses and validates the identifier.
            pub fn parse(s: &str) -> Result<Self, InvalidInput> {
                crate::text::check_nonempty($field, s, $max)?;
                let check: fn(&str) -> Result<(), String> = $check;
                check(s).map_err(|problem| InvalidInput::malformed($field, problem))?;
                Ok(Self(s.to_owned()))
            }

            /// The identifier as a string.
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

        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

fn prefixed(prefix: &'static str) -> impl Fn(&str) -> Result<(), String> {
    move |s: &str| {
        let rest = s
            .strip_prefix(prefix)
            .ok_or_else(|| format!("must start with {prefix:?}"))?;
        if rest.is_empty()
            || !rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        {
            return Err(format!(
                "must be {prefix:?} followed by lower-case letters and digits"
            ));
        }
        Ok(())
    }
}

fn name_chars(s: &str, extra: &[u8]) -> Result<(), String> {
    match s
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || extra.contains(b)))
    {
        None => Ok(()),
        Some(b) => Err(format!("character {:?} is not allowed", b as char)),
    }
}

id_type!(
    /// A task id: `task_` followed by lower-case letters and digits.
    TaskId, "task_id", 64, |s| prefixed("task_")(s)
);
id_type!(
    /// A decision id: `dec_` followed by lower-case letters and digits.
    DecisionId, "decision_id", 64, |s| prefixed("dec_")(s)
);
id_type!(
    /// The principal who delegates a task, `kind:name`, e.g. `user:alice` or `ci:github`.
    PrincipalId, "delegator", 160, |s| {
        let (kind, name) = s.split_once(':').ok_or("must look like kind:name, e.g. user:alice")?;
        if !matches!(kind, "user" | "service" | "ci") {
            return Err(format!("kind {kind:?} must be one of user, service, ci"));
        }
        if name.is_empty() {
            return Err("name after ':' must not be empty".into());
        }
        name_chars(name, b"._@-+")
    }
);
id_type!(
    /// The agent a task is delegated to, e.g. `claude-code@laptop-7`.
    AgentId, "agent", 128, |s| name_chars(s, b"._@:/-+")
);
id_type!(
    /// A policy profile name such as `develop`: lower-case letters, digits and `-`.
    ProfileName, "profile", 64, |s| {
        if s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            Ok(())
        } else {
            Err("use lower-case letters, digits and '-'".into())
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_validate_their_alphabet() {
        assert!(TaskId::parse("task_01abc").is_ok());
        assert!(TaskId::parse("task_").is_err());
        assert!(TaskId::parse("task_ABC").is_err());
        assert!(TaskId::parse("dec_1").is_err());
        assert!(DecisionId::parse("dec_1").is_ok());
        assert!(PrincipalId::parse("user:alice").is_ok());
        assert!(PrincipalId::parse("alice").is_err());
        assert!(PrincipalId::parse("root:alice").is_err());
        assert!(PrincipalId::parse("user:a b").is_err());
        assert!(AgentId::parse("claude-code@laptop-7").is_ok());
        assert!(AgentId::parse("bad agent").is_err());
        assert!(ProfileName::parse("develop").is_ok());
        assert!(ProfileName::parse("Develop").is_err());
    }

    #[test]
    fn ids_reject_nul_and_overlong() {
        assert!(matches!(
            TaskId::parse("task_a\0"),
            Err(InvalidInput::Nul { .. })
        ));
        let long = format!("task_{}", "a".repeat(100));
        assert!(matches!(
            TaskId::parse(&long),
            Err(InvalidInput::TooLong { .. })
        ));
    }
}
