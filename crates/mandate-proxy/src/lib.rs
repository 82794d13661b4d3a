//! Mandate's egress proxy: every request a task's processes make on the network is
//! decided by the broker (the same pipeline as a `fetch`/`send` effect) and recorded.
//!
//! - The task is named by its token in `Proxy-Authorization` (`mandate run` puts it in
//!   `HTTP(S)_PROXY`); no or a bad token is a 407.
//! - `CONNECT` to a host with a secret bound to it is intercepted: TLS is terminated
//!   with the install's CA ([`ca`]), each request inside is decided and gets the secret
//!   in place of its placeholder ([`swap`]), and goes upstream over TLS verified
//!   against the system's roots. Any other `CONNECT` is tunnelled untouched.
//! - Plain `http://` requests are read whole (up to 16 MiB), decided and forwarded.
//! - The connection goes to the addresses the broker checked, never to a second lookup.
//! - When the task ends (or its token expires) its tunnels and intercepted
//!   connections are cut.
//!
//! Hostile input is hyper's to refuse (400 for a malformed request, 431 for oversized
//! headers, a closed connection for a client that does not finish its headers in
//! 10 s); every connection is its own task, so one slow client stalls nobody else.

#![forbid(unsafe_code)]

mod body;
pub mod ca;
pub mod client;
mod handler;
pub mod mint;
mod respond;
mod scan;
pub mod setpush;
mod swap;
pub mod tls;
mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use mandate_broker::Broker;
use tokio::net::TcpListener;

pub use body::{Body, BoxError};

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head accepted (a larger one is a 431).
const MAX_HEAD: usize = 64 * 1024;
/// Connections served at once; past it a new one is closed at once, so a process
/// opening sockets in a loop cannot take the broker's memory.
const MAX_CONNECTIONS: usize = 4096;

/// What can stop the proxy from starting.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// A file of the proxy's CA or the upstream bundle.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CA or a certificate could not be made or read.
    #[error("proxy CA: {0}")]
    Ca(String),
    /// The listen address could not be bound.
    #[error(
        "cannot listen on {addr} for the egress proxy: {source} (choose another with --proxy-listen, or `off`)"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl ProxyError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The proxy's shared state.
pub struct Proxy {
    broker: Arc<Broker>,
    ca: ca::Authority,
    upstream: Arc<rustls::ClientConfig>,
    mints: mint::Mints,
}

impl Proxy {
    /// The proxy of `broker`: its CA in the broker's data directory, upstream trust from
    /// the system plus the configured bundle.
    pub fn new(broker: Arc<Broker>) -> Result<Self, ProxyError> {
        let settings = broker.settings();
        let ca = ca::Authority::open(&settings.data_dir)?;
        let upstream = tls::upstream_config(settings.proxy_upstream_ca.as_deref())?;
        let minter = Arc::new(mint::GithubApp::new(
            upstream.clone(),
            settings.resolve.clone(),
        ));
        Ok(Self {
            broker,
            ca,
            upstream,
            mints: mint::Mints::new(minter),
        })
    }

    /// Mints credentials with `minter` instead of the built-in ones.
    pub fn with_minter(mut self, minter: Arc<dyn mint::Minter>) -> Self {
        self.mints = mint::Mints::new(minter);
        self
    }

    /// The CA certificate clients must trust for intercepted hosts.
    pub fn ca_path(&self) -> &Path {
        self.ca.cert_path()
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Binds the proxy's listener.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ProxyError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ProxyError::Bind { addr, source })
}

/// Serves connections until `shutdown` resolves; each connection is its own task.
pub async fn serve(
    listener: TcpListener,
    proxy: Arc<Proxy>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    // Credentials minted for a task are revoked when it ends.
    let mut ends = proxy.broker.task_ends();
    let revoker = proxy.clone();
    let revoking = tokio::spawn(async move {
        loop {
            match ends.recv().await {
                Ok(task) => revoker.mints.task_ended(&task).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "missed task ends; their minted credentials expire on their own"
                    );
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let _revoking = AbortOnDrop(revoking);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => return,
            a = listener.accept() => a,
        };
        let (stream, _) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "proxy accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                limit = MAX_CONNECTIONS,
                "proxy connection limit reached; connection closed"
            );
            continue;
        };
        let _ = stream.set_nodelay(true);
        let proxy = proxy.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = service_fn(move |req| handler::handle(proxy.clone(), req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "proxy connection ended");
            }
        });
    }
}
