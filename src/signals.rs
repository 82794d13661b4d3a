//! The signals `serve` and `run` act on, in one place.

use tokio::signal::unix::{Signal as Stream, SignalKind, signal};

/// A signal received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// SIGHUP.
    Hangup,
}

/// Listens for SIGINT, SIGTERM and SIGHUP from the moment it is created. Must be created
/// inside a tokio runtime.
pub struct Signals {
    int: Option<Stream>,
    term: Option<Stream>,
    hup: Option<Stream>,
}

impl Signals {
    /// Starts listening. A signal whose handler cannot be installed is never reported.
    pub fn new() -> Self {
        Self {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// The next signal.
    pub async fn next(&mut self) -> Signal {
        async fn recv(s: &mut Option<Stream>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = recv(&mut self.int) => Signal::Interrupt,
            _ = recv(&mut self.term) => Signal::Terminate,
            _ = recv(&mut self.hup) => Signal::Hangup,
        }
    }
}
