//! The errors of the secret store.

use std::path::PathBuf;

/// What can go wrong storing, reading or naming a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// A name, host, header or format that is not valid.
    #[error("{0}")]
    Invalid(String),
    /// No secret of that name.
    #[error("no secret named {0:?}; `mandate secret list` shows the stored ones")]
    NotFound(String),
    /// Reading or writing a file of the store.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The key file is readable by other users.
    #[error(
        "{0} is readable by other users; make it private with `chmod 600` (the secrets it protects may be known to others)"
    )]
    KeyExposed(PathBuf),
    /// The store file is not what this version writes.
    #[error("{path} is not a secret store this version can read: {why}")]
    Corrupt { path: PathBuf, why: String },
    /// A value failed authentication: the file was altered or the key is not the one it
    /// was written with.
    #[error(
        "the secret {0:?} cannot be decrypted: the store was altered or the key changed; set it again"
    )]
    Tampered(String),
}

impl SecretError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
