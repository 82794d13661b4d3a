//! A small HTTPS client for the broker's own calls out (minting credentials, pushing
//! security events): one request per connection, upstream TLS as the proxy's, names in
//! the broker's `[resolve]` table sent to the addresses given.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use mandate_types::Url;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;

/// Largest answer body read.
const MAX_ANSWER: usize = 256 * 1024;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{url} could not be reached: {detail}")]
pub struct Unreachable {
    pub url: String,
    pub detail: String,
}

/// The client.
#[derive(Clone)]
pub struct HttpClient {
    tls: Arc<rustls::ClientConfig>,
    resolve: BTreeMap<String, Vec<IpAddr>>,
    timeout: Duration,
}

impl HttpClient {
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        resolve: BTreeMap<String, Vec<IpAddr>>,
        timeout: Duration,
    ) -> Self {
        Self {
            tls,
            resolve,
            timeout,
        }
    }

    /// Sends one request; returns the status and the body (at most 256 KiB).
    pub async fn request(
        &self,
        method: hyper::Method,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<(u16, Bytes), Unreachable> {
        let fail = |detail: String| Unreachable {
            url: url.to_owned(),
            detail,
        };
        let parsed = Url::parse(url).map_err(|e| fail(e.to_string()))?;
        let host = parsed.host().map(|h| h.to_string()).unwrap_or_default();
        let port = parsed.port();
        let addrs: Vec<SocketAddr> = match self.resolve.get(&host) {
            Some(ips) => ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect(),
            None => tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| fail(e.to_string()))?
                .collect(),
        };
        let addr = *addrs.first().ok_or_else(|| fail("no address".into()))?;
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
            .unwrap_or_else(|| "/".into());
        let default_port = if parsed.scheme() == "https" { 443 } else { 80 };
        let mut req = hyper::Request::builder().method(method).uri(path).header(
            "host",
            if port == default_port {
                host.clone()
            } else {
                format!("{host}:{port}")
            },
        );
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let req = req
            .header("user-agent", "mandate")
            .body(Full::new(body))
            .map_err(|e| fail(e.to_string()))?;
        let exchange = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| fail(e.to_string()))?;
            if parsed.scheme() == "https" {
                let name = ServerName::try_from(host.clone()).map_err(|e| fail(e.to_string()))?;
                let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
                send(TokioIo::new(tls), req).await
            } else {
                send(TokioIo::new(tcp), req).await
            }
            .map_err(fail)
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| fail("timed out".into()))?
    }
}

async fn send<T>(io: T, req: hyper::Request<Full<Bytes>>) -> Result<(u16, Bytes), String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = Limited::new(resp.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}
