//! Per-task placeholders: what the agent holds instead of a secret.
//!
//! `mandate_ph_<NAME>_<40 hex>`: the hex is an HMAC-SHA256 (truncated to 160 bits) of the
//! task id and the secret's name under a key only the broker has, so a placeholder names
//! its secret, proves which task it was issued to, and is worth nothing anywhere but at
//! Mandate's proxy. No table of issued placeholders is kept: the broker recomputes one
//! to check it.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::SecretName;

const PREFIX: &str = "mandate_ph_";
const MAC_HEX: usize = 40;

/// Issues and checks placeholders.
pub struct Placeholders {
    key: Zeroizing<[u8; 32]>,
}

/// A placeholder found in some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPlaceholder {
    /// Byte range of the whole placeholder in the text.
    pub range: std::ops::Range<usize>,
    /// The secret it stands for.
    pub name: SecretName,
    mac: String,
}

impl Placeholders {
    /// Placeholders under `key` (derived from the store's key, never the key itself).
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            key: Zeroizing::new(key),
        }
    }

    /// The placeholder of `secret` for the task `task`.
    pub fn placeholder(&self, task: &str, secret: &SecretName) -> String {
        format!("{PREFIX}{secret}_{}", self.mac(task, secret))
    }

    /// Whether `found` was issued to `task`.
    pub fn issued_to(&self, found: &FoundPlaceholder, task: &str) -> bool {
        let expected = self.mac(task, &found.name);
        // Constant time: the comparison must not tell an attacker how much was right.
        expected.len() == found.mac.len()
            && expected
                .bytes()
                .zip(found.mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    fn mac(&self, task: &str, secret: &SecretName) -> String {
        #[expect(
            clippy::expect_used,
            reason = "HMAC accepts keys of any length; 32 bytes cannot fail"
        )]
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()).expect("any key length");
        mac.update(b"mandate placeholder v1\0");
        mac.update(task.as_bytes());
        mac.update(b"\0");
        mac.update(secret.as_str().as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut hex = String::with_capacity(MAC_HEX);
        for b in &digest[..MAC_HEX / 2] {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    }
}

/// Every placeholder-shaped string in `text`, whoever it was issued to.
pub fn find_placeholders(text: &str) -> Vec<FoundPlaceholder> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(PREFIX) {
        let start = from + at;
        let body_start = start + PREFIX.len();
        let body_len = text[body_start..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let body = &text[body_start..body_start + body_len];
        from = body_start;
        // NAME_<40 hex>: the name is what precedes the last `_`.
        let Some((name, mac)) = body.rsplit_once('_') else {
            continue;
        };
        if mac.len() != MAC_HEX || !mac.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            continue;
        }
        let Ok(name) = SecretName::parse(name) else {
            continue;
        };
        out.push(FoundPlaceholder {
            range: start..body_start + body_len,
            name,
            mac: mac.to_owned(),
        });
        from = body_start + body_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> SecretName {
        SecretName::parse(s).unwrap()
    }

    #[test]
    fn a_placeholder_is_bound_to_its_task_and_secret() {
        let p = Placeholders::new([7; 32]);
        let ph = p.placeholder("task_a", &name("GH_TOKEN"));
        let found = find_placeholders(&format!("Bearer {ph}"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, name("GH_TOKEN"));
        assert_eq!(found[0].range, 7..7 + ph.len());
        assert!(p.issued_to(&found[0], "task_a"));
        assert!(!p.issued_to(&found[0], "task_b"));
        // Another key (another install) does not recognise it.
        assert!(!Placeholders::new([8; 32]).issued_to(&found[0], "task_a"));
        // Different tasks and secrets get different placeholders.
        assert_ne!(ph, p.placeholder("task_b", &name("GH_TOKEN")));
        assert_ne!(ph, p.placeholder("task_a", &name("NPM_TOKEN")));
    }

    #[test]
    fn placeholders_are_found_anywhere_and_forgeries_are_not_placeholders() {
        let p = Placeholders::new([1; 32]);
        let a = p.placeholder("t", &name("A_B"));
        let b = p.placeholder("t", &name("C"));
        let text = format!("x={a}&y={b}.{}", "mandate_ph_X_123");
        let found = find_placeholders(&text);
        assert_eq!(
            found.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["A_B", "C"]
        );
        assert!(find_placeholders("mandate_ph_").is_empty());
        assert!(find_placeholders(&format!("mandate_ph_A_{}", "G".repeat(40))).is_empty());
    }
}
