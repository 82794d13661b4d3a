//! A small, synchronous client for the broker's Unix socket.
//!
//! It speaks just enough HTTP/1.1 (one request per connection, `Connection: close`) to
//! keep process start-up cheap: enforcement points such as assistant hooks start a new
//! process for every tool call, and this client needs no async runtime.

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest response accepted (16 MiB).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// A client failure. Messages say what the user can do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket could not be reached.
    #[error("cannot reach the broker at {path}: {source}; start it with: mandate serve")]
    Unreachable {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The broker did not answer in time.
    #[error("the broker did not answer within {0:?}")]
    Timeout(Duration),
    /// The answer was not understood.
    #[error("unexpected answer from the broker: {0}")]
    Protocol(String),
    /// The broker answered with an error status.
    #[error("{message} (HTTP {status})")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The broker's error message.
        message: String,
    },
}

/// A client bound to one socket.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    timeout: Duration,
    bearer: Option<String>,
}

impl Client {
    /// A client for `socket` with a 30 s timeout.
    pub fn new(socket: impl Into<PathBuf>) -> Self {
        Self {
            socket: socket.into(),
            timeout: Duration::from_secs(30),
            bearer: None,
        }
    }

    /// Sends `Authorization: Bearer TOKEN` with [`Client::json`] requests.
    pub fn with_bearer(mut self, token: &str) -> Self {
        let token = token.trim();
        // A token with a line break would write headers of its own; none is valid.
        self.bearer = (!token.chars().any(char::is_control)).then(|| format!("Bearer {token}"));
        self
    }

    /// Sets the deadline for connecting, sending and receiving.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Sends a request; returns the status and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut s =
            UnixStream::connect(&self.socket).map_err(|source| ClientError::Unreachable {
                path: self.socket.clone(),
                source,
            })?;
        let io = |e: std::io::Error| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                ClientError::Timeout(self.timeout)
            } else {
                ClientError::Protocol(e.to_string())
            }
        };
        s.set_read_timeout(Some(self.timeout)).map_err(io)?;
        s.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let body = body.unwrap_or(&[]);
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: mandate\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !body.is_empty() {
            req.push_str("Content-Type: application/json\r\n");
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut wire = req.into_bytes();
        wire.extend_from_slice(body);
        s.write_all(&wire).map_err(io)?;
        let mut buf = Vec::new();
        s.take(MAX_RESPONSE as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.len() > MAX_RESPONSE {
            return Err(ClientError::Protocol("response too large".into()));
        }
        parse_response(&buf)
    }

    /// Sends JSON and decodes a JSON answer; error statuses become [`ClientError::Api`].
    pub fn json<B: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, ClientError> {
        let bytes = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let auth: Vec<(&str, &str)> = self
            .bearer
            .as_deref()
            .map(|b| ("Authorization", b))
            .into_iter()
            .collect();
        let (status, resp) = self.request(method, path, bytes.as_deref(), &auth)?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<serde_json::Value>(&resp)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&resp).into_owned());
            return Err(ClientError::Api { status, message });
        }
        serde_json::from_slice(&resp).map_err(|e| ClientError::Protocol(format!("{e}")))
    }
}

fn parse_response(buf: &[u8]) -> Result<(u16, Vec<u8>), ClientError> {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| ClientError::Protocol("no end of headers".into()))?;
    let head = std::str::from_utf8(&buf[..split])
        .map_err(|_| ClientError::Protocol("headers not UTF-8".into()))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ClientError::Protocol(format!("bad status line {status_line:?}")))?;
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k == "content-length" {
                length = v.parse().ok();
            }
        }
    }
    let body = &buf[split + 4..];
    let body = if chunked {
        dechunk(body)?
    } else {
        match length {
            Some(n) if n <= body.len() => body[..n].to_vec(),
            Some(_) => return Err(ClientError::Protocol("truncated body".into())),
            None => body.to_vec(),
        }
    };
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| ClientError::Protocol("bad chunk".into()))?;
        let size_text = std::str::from_utf8(&b[..eol])
            .map_err(|_| ClientError::Protocol("bad chunk size".into()))?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| ClientError::Protocol("bad chunk size".into()))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err(ClientError::Protocol("truncated chunk".into()));
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

/// `p` made absolute against the current directory.
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// The data directory: `flag` (`--data-dir`), else `$MANDATE_HOME`, else
/// `$XDG_DATA_HOME/mandate`, else `~/.local/share/mandate` (made absolute against the
/// current directory). The CLI and the hook binary resolve it the same way.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return absolute(d);
    }
    if let Some(d) = std::env::var_os("MANDATE_HOME").filter(|d| !d.is_empty()) {
        return absolute(Path::new(&d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("mandate");
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
        .join(".local/share/mandate")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_length_and_chunked_responses() {
        let (s, b) = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi").unwrap();
        assert_eq!((s, b.as_slice()), (200, &b"hi"[..]));
        let (s, b) =
            parse_response(b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n").unwrap();
        assert_eq!((s, b.as_slice()), (404, &b"abcd"[..]));
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nhi").is_err());
    }

    #[test]
    fn unreachable_socket_says_how_to_start_the_broker() {
        let e = Client::new("/nonexistent/mandate.sock")
            .request("GET", "/healthz", None, &[])
            .unwrap_err();
        assert!(e.to_string().contains("mandate serve"), "{e}");
    }
}
