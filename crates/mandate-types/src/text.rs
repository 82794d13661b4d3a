//! Text-like newtypes: absolute paths, hosts, purposes.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::InvalidInput;

/// Checks the rules every untrusted string obeys: no NUL, at most `max` bytes.
pub(crate) fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), InvalidInput> {
    if s.len() > max {
        return Err(InvalidInput::TooLong {
            field,
            len: s.len(),
            max,
        });
    }
    if s.contains('\0') {
        return Err(InvalidInput::Nul { field });
    }
    Ok(())
}

/// Checks [`check_text`] and that the value is not empty.
pub(crate) fn check_nonempty(field: &'static str, s: &str, max: usize) -> Result<(), InvalidInput> {
    if s.trim().is_empty() {
        return Err(InvalidInput::Empty { field });
    }
    check_text(field, s, max)
}

/// Longest path we accept (Linux `PATH_MAX`).
pub const MAX_PATH: usize = 4096;

/// An absolute, UTF-8 filesystem path without NUL bytes. It is not necessarily
/// canonical: resolution of `..` and symlinks happens in analysis, which does I/O.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AbsPath(String);

impl AbsPath {
    /// Parses an absolute path.
    pub fn parse(field: &'static str, s: &str) -> Result<Self, InvalidInput> {
        check_nonempty(field, s, MAX_PATH)?;
        if !s.starts_with('/') {
            return Err(InvalidInput::malformed(
                field,
                format!("must be an absolute path, got {s:?}"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Wraps a path known to be absolute and UTF-8 (for example from `canonicalize`).
    pub fn from_path(field: &'static str, p: &Path) -> Result<Self, InvalidInput> {
        let s = p
            .to_str()
            .ok_or_else(|| InvalidInput::malformed(field, "path is not valid UTF-8"))?;
        Self::parse(field, s)
    }

    /// The path as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path as a [`Path`].
    pub fn as_path(&self) -> &Path {
        Path::new(&self.0)
    }

    /// The path as an owned [`PathBuf`].
    pub fn to_path_buf(&self) -> PathBuf {
        PathBuf::from(&self.0)
    }
}

impl<'de> Deserialize<'de> for AbsPath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse("path", &s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for AbsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A network host: a lower-case DNS name or an IP literal (IPv6 without brackets).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Host(String);

impl Host {
    /// Parses a host name or IP literal; brackets around IPv6 are removed, case is folded
    /// and a trailing dot is dropped.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        const FIELD: &str = "host";
        check_nonempty(FIELD, s, 253)?;
        // An IP literal in any spelling (`127.1`, `2130706433`, `[::ffff:127.0.0.1]`) is
        // the address it reaches.
        if let Some(ip) = crate::ip::parse_ip_literal(s) {
            return Ok(Self(ip.to_string()));
        }
        let s = s.trim_end_matches('.');
        let inner = s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(s);
        let lower = inner.to_ascii_lowercase();
        let ok = !lower.is_empty()
            && lower.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !ok {
            return Err(InvalidInput::malformed(
                FIELD,
                format!("{s:?} is not a valid host name or IP address"),
            ));
        }
        Ok(Self(lower))
    }

    /// The host as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `localhost`, `127.0.0.0/8`, `::1` and the unspecified addresses (which
    /// reach this machine).
    pub fn is_loopback(&self) -> bool {
        if self.0 == "localhost" || self.0.ends_with(".localhost") {
            return true;
        }
        self.address_kind() == Some(crate::ip::AddressKind::Loopback)
    }

    /// The address, when the host is an IP literal.
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.0.parse().ok()
    }

    /// Where the address points, when the host is an IP literal.
    pub fn address_kind(&self) -> Option<crate::ip::AddressKind> {
        self.ip().map(crate::ip::address_kind)
    }
}

impl<'de> Deserialize<'de> for Host {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a task exists, in the delegator's words: non-empty, at most 1,000 bytes, no
/// control characters other than tab.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Purpose(String);

impl Purpose {
    /// Parses a purpose.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        check_nonempty("purpose", s, 1000)?;
        if s.chars().any(|c| c.is_control() && c != '\t') {
            return Err(InvalidInput::malformed(
                "purpose",
                "must not contain control characters",
            ));
        }
        Ok(Self(s.trim().to_owned()))
    }

    /// The purpose text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Purpose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs_path_rejects_relative_and_nul() {
        assert!(AbsPath::parse("cwd", "/repo").is_ok());
        assert!(matches!(
            AbsPath::parse("cwd", "repo"),
            Err(InvalidInput::Malformed { .. })
        ));
        assert_eq!(
            AbsPath::parse("cwd", "/re\0po"),
            Err(InvalidInput::Nul { field: "cwd" })
        );
        assert!(matches!(
            AbsPath::parse("cwd", ""),
            Err(InvalidInput::Empty { .. })
        ));
    }

    #[test]
    fn host_normalises_case_brackets_and_dot() {
        assert_eq!(Host::parse("Example.COM.").unwrap().as_str(), "example.com");
        assert_eq!(Host::parse("[::1]").unwrap().as_str(), "::1");
        assert!(Host::parse("::1").unwrap().is_loopback());
        assert!(Host::parse("127.0.0.2").unwrap().is_loopback());
        assert!(!Host::parse("paste.example").unwrap().is_loopback());
        assert!(Host::parse("bad host").is_err());
        assert!(Host::parse("a..b").is_err());
    }

    #[test]
    fn purpose_rejects_control_characters() {
        assert!(Purpose::parse("fix the flaky test").is_ok());
        assert!(Purpose::parse("  ").is_err());
        assert!(Purpose::parse("a\u{1b}[2J").is_err());
    }
}
