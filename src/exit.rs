//! How `mandate` ends: typed exit codes and the error tree of the command line.

use std::process::ExitCode;

use mandate_adapters::install::InstallError;
use mandate_broker::BrokerError;
use mandate_broker::config::ConfigError;
use mandate_client::ClientError;
use mandate_eval::EvalError;
use mandate_server::LaunchError;
use mandate_store::StoreError;
use mandate_types::InvalidInput;

/// Every exit status `mandate` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: done; `check`: allowed.
    Success,
    /// 1: the command failed.
    Failure,
    /// 2: refused: `check` denied the action, a configuration was refused at start, or a
    /// hook cannot run (assistants read 2 as "block" and 1 as "go on").
    Refused,
    /// 3: `check`: a human must approve the action.
    Ask,
    /// A status decided elsewhere: the assistant's own under `run`; the one an
    /// assistant's hook format asks for under `hook`.
    Status(u8),
    /// 141: the reader of our output went away (the shell's status for SIGPIPE).
    BrokenPipe,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(match e {
            Exit::Success => 0,
            Exit::Failure => 1,
            Exit::Refused => 2,
            Exit::Ask => 3,
            Exit::Status(c) => c,
            Exit::BrokenPipe => 141,
        })
    }
}

/// Why a command failed; each kind knows its exit status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The broker could not be reached or answered with an error.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A flag's value was refused.
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    /// `config.toml`, the policies or the key were refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A broker could not start.
    #[error("refusing to start: {0}")]
    Launch(#[from] LaunchError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The broker failed.
    #[error(transparent)]
    Broker(#[from] BrokerError),
    /// A corpus or thresholds file could not be used.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// A settings file `mandate install` or `uninstall` cannot merge into; left as it is.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Output could not be encoded.
    #[error("cannot encode the output: {0}")]
    Json(#[from] serde_json::Error),
    /// A failure stated in words (a check that did not pass, a missing argument).
    #[error("{0}")]
    Failed(String),
    /// Something was refused, exit 2.
    #[error("{0}")]
    Refused(String),
}

impl CliError {
    /// The exit status this error ends the command with.
    pub fn exit(&self) -> Exit {
        match self {
            Self::Launch(_) | Self::Refused(_) => Exit::Refused,
            Self::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => {
                Exit::BrokenPipe
            }
            _ => Exit::Failure,
        }
    }

    /// An I/O failure while doing `what`.
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// The result of a command.
pub type CliResult<T = Exit> = Result<T, CliError>;
