//! Corpus tooling, kept out of the runtime broker: `mandate eval` over public corpora of
//! agent actions ([`corpus`]), the golden policy tests of `tests/policy/` ([`golden`]) and
//! the evaluation table the CLI prints ([`table`]).

#![forbid(unsafe_code)]

pub mod corpus;
pub mod golden;
pub mod table;

use std::path::{Path, PathBuf};

/// Why a corpus, a golden case file or a thresholds file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file or directory could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file did not parse.
    #[error("{}{}: {detail}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        /// The line, when known.
        line: Option<usize>,
        /// What the parser said.
        detail: String,
    },
    /// `--profile` names no profile.
    #[error("unknown profile {0}")]
    UnknownProfile(String),
}

impl EvalError {
    fn read(path: &Path, source: std::io::Error) -> Self {
        Self::Read {
            path: path.to_owned(),
            source,
        }
    }

    fn parse(path: &Path, line: Option<usize>, detail: impl std::fmt::Display) -> Self {
        Self::Parse {
            path: path.to_owned(),
            line,
            detail: detail.to_string(),
        }
    }
}
