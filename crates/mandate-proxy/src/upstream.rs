//! Connections to upstream servers, always to the addresses the broker checked.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use mandate_types::Url;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

use crate::body::{Body, BoxError};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an upstream exchange failed (a 502 to the client).
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("could not connect to {addrs}: {why}")]
    Connect { addrs: String, why: String },
    #[error("TLS with the upstream server failed: {0}")]
    Tls(String),
    #[error("the upstream exchange failed: {0}")]
    Http(#[from] hyper::Error),
}

/// Where a request goes: the name (for TLS and `Host`) and the checked addresses.
#[derive(Debug, Clone)]
pub struct Target {
    host: String,
    port: u16,
    addresses: Vec<SocketAddr>,
}

impl Target {
    pub fn of(url: &Url, addresses: Vec<SocketAddr>) -> Self {
        Self {
            host: url.host().map(|h| h.to_string()).unwrap_or_default(),
            port: url.port(),
            addresses,
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` (`[v6]:port`).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A TCP connection to the first checked address that answers.
pub async fn connect_tcp(target: &Target) -> Result<TcpStream, UpstreamError> {
    let mut last = String::from("no addresses");
    for addr in &target.addresses {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = "timed out".into(),
        }
    }
    Err(UpstreamError::Connect {
        addrs: target
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        why: last,
    })
}

/// Sends one plain-HTTP request on a new connection.
pub async fn send_plain(
    target: &Target,
    req: Request<Body>,
) -> Result<Response<Body>, UpstreamError> {
    let stream = connect_tcp(target).await?;
    let mut sender = handshake(TokioIo::new(stream)).await?;
    let resp = sender.send_request(with_host(req, target)).await?;
    Ok(resp.map(|b| b.map_err(BoxError::from).boxed()))
}

async fn handshake<T>(io: T) -> Result<SendRequest<Body>, UpstreamError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(io).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::debug!(error = %e, "upstream connection ended");
        }
    });
    Ok(sender)
}

fn with_host(mut req: Request<Body>, target: &Target) -> Request<Body> {
    if !req.headers().contains_key(hyper::header::HOST) {
        let host = if target.port == 443 || target.port == 80 {
            target.host.clone()
        } else {
            target.authority()
        };
        if let Ok(v) = hyper::header::HeaderValue::from_str(&host) {
            req.headers_mut().insert(hyper::header::HOST, v);
        }
    }
    req
}

/// One upstream TLS connection per intercepted client connection, reused while it
/// stays open.
#[derive(Default)]
pub struct Reused {
    sender: tokio::sync::Mutex<Option<SendRequest<Body>>>,
}

impl Reused {
    pub async fn send(
        &self,
        config: &Arc<rustls::ClientConfig>,
        target: &Target,
        req: Request<Body>,
    ) -> Result<Response<Body>, UpstreamError> {
        let mut guard = self.sender.lock().await;
        let reusable = match guard.as_mut() {
            Some(s) => s.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            *guard = Some(tls_handshake(config, target).await?);
        }
        let Some(sender) = guard.as_mut() else {
            return Err(UpstreamError::Tls("no connection".into()));
        };
        let resp = sender.send_request(with_host(req, target)).await?;
        Ok(resp.map(|b| b.map_err(BoxError::from).boxed()))
    }
}

async fn tls_handshake(
    config: &Arc<rustls::ClientConfig>,
    target: &Target,
) -> Result<SendRequest<Body>, UpstreamError> {
    let stream = connect_tcp(target).await?;
    let name =
        ServerName::try_from(target.host.clone()).map_err(|e| UpstreamError::Tls(e.to_string()))?;
    let tls = tokio_rustls::TlsConnector::from(config.clone())
        .connect(name, stream)
        .await
        .map_err(|e| UpstreamError::Tls(e.to_string()))?;
    handshake(TokioIo::new(tls)).await
}
