//! A real HTTPS server playing the upstream behind the egress proxy: a test CA, a
//! certificate for its name, a record of every request's `Authorization`, and `git
//! http-backend` (as CGI) under `/repo.git/` for pushes that need the real token.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// The server; lives as long as its runtime.
pub struct Upstream {
    pub addr: SocketAddr,
    /// `Authorization` of every request (`None` when absent), in order.
    pub seen: Arc<Mutex<Vec<Option<String>>>>,
    pub ca_pem: PathBuf,
    /// The GitHub App stand-in: what it minted and revoked.
    pub issuer: Arc<TokenIssuer>,
    _rt: tokio::runtime::Runtime,
}

/// A stand-in of GitHub's installation-token endpoints: checks the app's JWT against
/// the test key (`tests/fixtures/github-app-test-key.pub.pem`), issues `ghs_minted_N`.
#[derive(Default)]
pub struct TokenIssuer {
    /// The JSON body of each accepted mint request, with the JWT's `iss`.
    pub minted: Mutex<Vec<(String, serde_json::Value)>>,
    /// Tokens revoked.
    pub revoked: Mutex<Vec<String>>,
    /// Seconds until an issued token expires (default one hour).
    pub lifetime: std::sync::atomic::AtomicI64,
}

/// Starts an HTTPS server for `names` on 127.0.0.1 with a fresh CA written to
/// `dir/upstream-ca.pem`. Under `/repo.git/` it serves the bare repositories of
/// `git_root` and demands `Basic x-access-token:<token>`.
pub fn start(dir: &Path, names: &[&str], git_root: PathBuf, token: &str) -> Upstream {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    // Its own name: a leaf whose issuer equals its subject reads as self-signed.
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "test upstream CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca_pem = dir.join("upstream-ca.pem");
    std::fs::write(&ca_pem, ca_cert.pem()).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone(), ca_cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{token}"))
    );
    let issuer = Arc::new(TokenIssuer::default());
    issuer
        .lifetime
        .store(3600, std::sync::atomic::Ordering::SeqCst);
    let state = Arc::new((seen.clone(), git_root, expected, issuer.clone()));
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            // As servers on the internet do: no Nagle delay on small answers.
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let state = state.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, std::convert::Infallible>(answer(req, &state).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    Upstream {
        addr,
        seen,
        ca_pem,
        issuer,
        _rt: rt,
    }
}

type State = (
    Arc<Mutex<Vec<Option<String>>>>,
    PathBuf,
    String,
    Arc<TokenIssuer>,
);

async fn answer(req: Request<Incoming>, state: &State) -> Response<Full<Bytes>> {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    state.0.lock().unwrap().push(auth.clone());
    let path = req.uri().path().to_owned();
    if path.starts_with("/app/installations/") || path == "/installation/token" {
        return issue(req, auth, &state.3).await;
    }
    if !path.starts_with("/repo.git") {
        // Read the whole request first, as an API would.
        let body = req.into_body().collect().await.map(|b| b.to_bytes().len());
        return Response::new(Full::new(Bytes::from(format!(
            "hello from upstream ({} bytes received)\n",
            body.unwrap_or(0)
        ))));
    }
    if auth.as_deref() != Some(state.2.as_str()) {
        let mut r = Response::new(Full::new(Bytes::from("authentication required\n")));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut()
            .insert("www-authenticate", "Basic realm=\"git\"".parse().unwrap());
        return r;
    }
    cgi(req, &state.1).await
}

async fn issue(
    req: Request<Incoming>,
    auth: Option<String>,
    issuer: &TokenIssuer,
) -> Response<Full<Bytes>> {
    let status = |code: u16, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = StatusCode::from_u16(code).unwrap();
        r
    };
    let bearer = auth
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    if req.method() == hyper::Method::DELETE {
        issuer.revoked.lock().unwrap().push(bearer);
        return status(204, String::new());
    }
    let public = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/github-app-test-key.pub.pem"
    ))
    .unwrap();
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&public).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "iss"]);
    let claims = match jsonwebtoken::decode::<serde_json::Value>(&bearer, &key, &validation) {
        Ok(d) => d.claims,
        Err(e) => return status(401, format!("{{\"message\": \"bad JWT: {e}\"}}")),
    };
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mut minted = issuer.minted.lock().unwrap();
    minted.push((claims["iss"].as_str().unwrap_or_default().to_owned(), body));
    let n = minted.len();
    let lifetime = issuer.lifetime.load(std::sync::atomic::Ordering::SeqCst);
    let expires =
        std::time::SystemTime::now() + std::time::Duration::from_secs(lifetime.unsigned_abs());
    status(
        201,
        serde_json::json!({
            "token": format!("ghs_minted_{n}"),
            "expires_at": humantime::format_rfc3339_seconds(expires).to_string(),
        })
        .to_string(),
    )
}

/// Runs `git http-backend` for one request.
async fn cgi(req: Request<Incoming>, root: &Path) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REMOTE_USER", "x-access-token")
        .env("REQUEST_METHOD", parts.method.as_str())
        .env("PATH_INFO", parts.uri.path())
        .env("QUERY_STRING", parts.uri.query().unwrap_or(""))
        .env("CONTENT_TYPE", header("content-type"))
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
        .env("GIT_PROTOCOL", header("git-protocol"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stdin, &body)
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| (p, 4))
        .or_else(|| {
            out.stdout
                .windows(2)
                .position(|w| w == b"\n\n")
                .map(|p| (p, 2))
        })
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout[..split.0]).into_owned();
    let mut r = Response::new(Full::new(Bytes::copy_from_slice(
        &out.stdout[split.0 + split.1..],
    )));
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("status") {
            let code: u16 = v.split_whitespace().next().unwrap().parse().unwrap();
            *r.status_mut() = StatusCode::from_u16(code).unwrap();
        } else {
            r.headers_mut().insert(
                hyper::header::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
    }
    r
}
