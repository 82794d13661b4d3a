//! One request to the proxy: who asks, what for, and what happens to it.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use mandate_broker::{EgressAnswer, EgressRequest, TaskGrant};
use mandate_secrets::{FoundPlaceholder, find_placeholders};
use mandate_types::{HttpMethod, Url, Verdict};

use crate::body::{Body, BoxError, full};
use crate::respond::{need_task, refused, text};
use crate::upstream::{self, Target};
use crate::{HEADER_TIMEOUT, MAX_HEAD, Proxy};

/// The most header bytes a request may carry.
const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The largest plain-HTTP request body read (to look for placeholders in it).
const MAX_BODY: usize = 16 * 1024 * 1024;

pub(crate) async fn handle(
    proxy: Arc<Proxy>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let head: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if head > MAX_HEADER_BYTES {
        return Ok(text(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("request headers are limited to {MAX_HEADER_BYTES} bytes\n"),
        ));
    }
    let Some(token) = task_token(req.headers()) else {
        return Ok(need_task("the request has no Proxy-Authorization"));
    };
    if let Err(r) = proxy.broker.grant(&token) {
        return Ok(need_task(&r.message));
    }
    Ok(if req.method() == Method::CONNECT {
        connect(proxy, token, req).await
    } else {
        forward(proxy, token, req).await
    })
}

/// The task token from `Proxy-Authorization: Basic base64(task:TOKEN)` (what clients
/// make of `http://task:TOKEN@host:port`) or `Bearer TOKEN`.
fn task_token(headers: &header::HeaderMap) -> Option<String> {
    let value = headers.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    let decoded = crate::swap::basic_credentials(value)?;
    let (_, token) = decoded.split_once(':')?;
    // Clients percent-encode the URL's password; a JWT has nothing to encode.
    Some(token.to_owned()).filter(|t| !t.is_empty())
}

/// `CONNECT host:port`: decided as a connection to `https://host:port/`; intercepted when
/// a secret the task holds is bound there, else tunnelled.
async fn connect(proxy: Arc<Proxy>, token: String, mut req: Request<Incoming>) -> Response<Body> {
    let Some(authority) = req.uri().authority().cloned() else {
        return bad_request("CONNECT needs host:port");
    };
    if authority.port_u16().is_none() {
        return bad_request("CONNECT needs host:port");
    }
    let Ok(url) = Url::parse(&format!("https://{authority}/")) else {
        return bad_request(&format!("CONNECT to {authority} names no valid host"));
    };
    let answer = proxy
        .broker
        .egress_connect(
            &token,
            EgressRequest {
                method: None,
                url: url.clone(),
                placeholders: find_placeholders(authority.as_str()),
            },
        )
        .await;
    if answer.decision.decision != Verdict::Allow {
        return refused(&format!("CONNECT {authority}"), &answer.decision);
    }
    let Some(grant) = answer.grant.clone() else {
        return need_task("the task is not live");
    };
    let target = Target::of(&url, answer.addresses.clone());
    if answer.secrets.is_empty() {
        let upstream = match upstream::connect_tcp(&target).await {
            Ok(s) => s,
            Err(e) => return bad_gateway(&target, &e),
        };
        let ends = proxy.broker.task_ends();
        tokio::spawn(async move {
            let Ok(upgraded) = hyper::upgrade::on(&mut req).await else {
                return;
            };
            let mut client = TokioIo::new(upgraded);
            let mut upstream = upstream;
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                () = task_gone(ends, &grant) => {
                    tracing::info!(task = %grant.task(), "task ended: tunnel cut");
                }
            }
        });
        return Response::new(full(Bytes::new()));
    }
    let config = match proxy.ca.server_config(target.host()) {
        Ok(c) => c,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let ends = proxy.broker.task_ends();
    let connection = upstream::Reused::default();
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(&mut req).await else {
            return;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let Ok(tls) = acceptor.accept(TokioIo::new(upgraded)).await else {
            return;
        };
        let inner = Arc::new(Intercepted {
            proxy,
            token,
            target,
            connection,
        });
        let service = service_fn(move |r| {
            let inner = inner.clone();
            async move { Ok::<_, Infallible>(inner.handle(r).await) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_buf_size(MAX_HEAD)
            .serve_connection(TokioIo::new(tls), service);
        tokio::select! {
            _ = conn => {}
            () = task_gone(ends, &grant) => {
                tracing::info!(task = %grant.task(), "task ended: intercepted connection cut");
            }
        }
    });
    Response::new(full(Bytes::new()))
}

/// The requests inside an intercepted `CONNECT`.
struct Intercepted {
    proxy: Arc<Proxy>,
    token: String,
    target: Target,
    connection: upstream::Reused,
}

impl Intercepted {
    async fn handle(&self, req: Request<Incoming>) -> Response<Body> {
        let (mut parts, body) = req.into_parts();
        let Some(method) = http_method(&parts.method) else {
            return method_not_allowed(&parts.method);
        };
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let Ok(url) = Url::parse(&format!("https://{}{path}", self.target.authority())) else {
            return bad_request("the request target is not a path");
        };
        let placeholders = scan(&parts.uri.to_string(), &parts.headers, None);
        let answer = match decide(&self.proxy, &self.token, method, &url, placeholders).await {
            Ok(a) => a,
            Err(refusal) => return refusal,
        };
        crate::swap::swap(&mut parts.headers, &mut parts.uri, &answer.secrets);
        strip_proxy_headers(&mut parts.headers);
        let body = self.scanned(body, &answer);
        let req = Request::from_parts(parts, body);
        // Where the request's own decision checked the name resolves.
        let target = Target::of(&url, answer.addresses.clone());
        match self
            .connection
            .send(&self.proxy.upstream, &target, req)
            .await
        {
            Ok(r) => r,
            Err(e) => match refusal_in(&e) {
                Some(reason) => text(
                    StatusCode::FORBIDDEN,
                    format!(
                        "Mandate stopped {method} {url}:\n  - {} ({})\n",
                        reason.message, reason.policy
                    ),
                ),
                None => bad_gateway(&self.target, &e),
            },
        }
    }
}

impl Intercepted {
    /// The request body, searched for placeholders as it streams to the upstream.
    fn scanned(&self, body: Incoming, answer: &EgressAnswer) -> Body {
        let Some(grant) = answer.grant.clone() else {
            return body.map_err(BoxError::from).boxed();
        };
        let broker = self.proxy.broker.clone();
        let (host, port) = (self.target.host().to_owned(), self.target.port());
        let Ok(host_name) = mandate_types::Host::parse(&host) else {
            return body.map_err(BoxError::from).boxed();
        };
        let check_grant = grant.clone();
        let check_broker = broker.clone();
        let check: crate::scan::Check = Arc::new(move |found| {
            check_broker.placeholders_allowed(&check_grant, &host_name, port, found)
        });
        let destination = self.target.authority();
        let report = Box::new(move |reason: mandate_types::Reason| {
            tokio::spawn(async move {
                broker.record_deviation(&grant, &reason, destination).await;
            });
        });
        crate::scan::ScannedBody::new(body.map_err(BoxError::from).boxed(), check, report).boxed()
    }
}

/// The reason a streamed body was stopped, if that is why the exchange failed.
fn refusal_in(e: &upstream::UpstreamError) -> Option<mandate_types::Reason> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(r) = err.downcast_ref::<crate::scan::BodyRefused>() {
            return Some(r.0.clone());
        }
        source = err.source();
    }
    None
}

/// A plain `http://` request in absolute form.
async fn forward(proxy: Arc<Proxy>, token: String, req: Request<Incoming>) -> Response<Body> {
    let (mut parts, body) = req.into_parts();
    let Some(method) = http_method(&parts.method) else {
        return method_not_allowed(&parts.method);
    };
    if parts.uri.scheme_str() != Some("http") || parts.uri.authority().is_none() {
        return bad_request(
            "the proxy takes absolute http:// URLs (GET http://host/path) and CONNECT host:port for TLS",
        );
    }
    let Ok(url) = Url::parse(&parts.uri.to_string()) else {
        return bad_request("the request URL is not valid");
    };
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request bodies through the proxy are limited to {MAX_BODY} bytes\n"),
            );
        }
    };
    let placeholders = scan(&parts.uri.to_string(), &parts.headers, Some(&body));
    let answer = match decide(&proxy, &token, method, &url, placeholders).await {
        Ok(a) => a,
        Err(refusal) => return refusal,
    };
    crate::swap::swap(&mut parts.headers, &mut parts.uri, &answer.secrets);
    strip_proxy_headers(&mut parts.headers);
    let target = Target::of(&url, answer.addresses);
    // Upstream gets the origin form.
    let origin = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    parts.uri = origin.parse().unwrap_or_default();
    let req = Request::from_parts(parts, full(body));
    match upstream::send_plain(&target, req).await {
        Ok(r) => r,
        Err(e) => bad_gateway(&target, &e),
    }
}

/// Decides one request (not a tunnel) and readies its secrets; a refusal is the answer
/// to send back.
async fn decide(
    proxy: &Proxy,
    token: &str,
    method: HttpMethod,
    url: &Url,
    placeholders: Vec<FoundPlaceholder>,
) -> Result<EgressAnswer, Response<Body>> {
    let mut answer = proxy
        .broker
        .egress(
            token,
            EgressRequest {
                method: Some(method),
                url: url.clone(),
                placeholders,
            },
        )
        .await;
    if answer.decision.decision != Verdict::Allow {
        return Err(refused(&format!("{method} {url}"), &answer.decision));
    }
    mint_for(proxy, &mut answer).await?;
    Ok(answer)
}

/// Puts the task's minted credentials in place of the keys they are minted from; a
/// credential that cannot be minted is a 502 that says why.
async fn mint_for(proxy: &Proxy, answer: &mut EgressAnswer) -> Result<(), Response<Body>> {
    let Some(grant) = &answer.grant else {
        return Ok(());
    };
    let task = grant.task().clone();
    proxy
        .mints
        .resolve(&task, &mut answer.secrets)
        .await
        .map_err(|e| {
            text(
                StatusCode::BAD_GATEWAY,
                format!("no credential could be minted for this request: {e}\n"),
            )
        })
}

/// Placeholders anywhere in the request line, the headers and the body.
fn scan(uri: &str, headers: &header::HeaderMap, body: Option<&Bytes>) -> Vec<FoundPlaceholder> {
    let mut found = find_placeholders(uri);
    for value in headers.values() {
        let text = String::from_utf8_lossy(value.as_bytes());
        found.extend(find_placeholders(&text));
        // Inside Basic credentials too (git puts its password there).
        if let Some(decoded) = crate::swap::basic_credentials(&text) {
            found.extend(find_placeholders(&decoded));
        }
    }
    if let Some(b) = body {
        found.extend(find_placeholders(&String::from_utf8_lossy(b)));
    }
    found
}

fn http_method(m: &Method) -> Option<HttpMethod> {
    HttpMethod::parse(m.as_str()).ok()
}

/// Headers meant for the proxy or this hop only.
fn strip_proxy_headers(h: &mut header::HeaderMap) {
    for name in [
        header::PROXY_AUTHORIZATION,
        header::HeaderName::from_static("proxy-connection"),
    ] {
        h.remove(name);
    }
}

/// Resolves when the task is over: ended or revoked (announced by the broker), or its
/// token expired.
async fn task_gone(
    mut ends: tokio::sync::broadcast::Receiver<mandate_types::TaskId>,
    grant: &TaskGrant,
) {
    let left = grant.expires_at() - mandate_broker::now_secs();
    let expiry = tokio::time::sleep(std::time::Duration::from_secs(left.max(0).unsigned_abs()));
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => return,
            got = ends.recv() => match got {
                Ok(t) if &t == grant.task() => return,
                Ok(_) => {}
                // Missed announcements: cut, to be safe; the client reconnects and is
                // decided again.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

fn bad_request(why: &str) -> Response<Body> {
    text(StatusCode::BAD_REQUEST, format!("{why}\n"))
}

fn method_not_allowed(m: &Method) -> Response<Body> {
    text(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "the proxy does not forward {m} requests (GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE and CONNECT only)\n"
        ),
    )
}

fn bad_gateway(target: &Target, e: &upstream::UpstreamError) -> Response<Body> {
    text(
        StatusCode::BAD_GATEWAY,
        format!("{}: {e}\n", target.authority()),
    )
}
