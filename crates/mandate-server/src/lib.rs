//! The broker's HTTP API, served on a Unix socket (every route; the caller is known by
//! its peer credentials) and on TCP (decisions, JWKS, health and metrics only).
//!
//! Every body is parsed by hand from bytes so that malformed JSON, invalid UTF-8 and
//! oversized bodies get a clear JSON error (`{"error": "..."}`) rather than a framework
//! default; nothing a client sends can panic the server.

#![forbid(unsafe_code)]

mod lifecycle;

pub use lifecycle::{LaunchError, Running, launch};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use mandate_broker::{Broker, BrokerError};
use mandate_types::api::{
    ApiError, BatchRequest, BatchResponse, CredentialQuery, EvaluationRequest, EvaluationResponse,
    ProxyInfo, StartTaskRequest, TaskEvent, ToolReport,
};
use mandate_types::{PrincipalId, TaskId};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;
use tokio::net::{TcpListener, UnixListener};

/// Largest request body accepted (a 1 MiB command plus JSON framing).
pub const MAX_BODY: usize = 2 * 1024 * 1024;

/// A server failure at start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A listener could not be bound.
    #[error("cannot listen on {what}: {detail}")]
    Bind {
        /// Which address or socket.
        what: String,
        detail: String,
    },
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, Json(ApiError { error: msg.into() })).into_response()
}

impl From<BrokerErrorResponse> for Response {
    fn from(e: BrokerErrorResponse) -> Self {
        let status = match &e.0 {
            BrokerError::Invalid(_) => StatusCode::BAD_REQUEST,
            BrokerError::NotFound(_) => StatusCode::NOT_FOUND,
            BrokerError::Forbidden(_) => StatusCode::FORBIDDEN,
            BrokerError::Audit(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        error(status, e.0.to_string())
    }
}

struct BrokerErrorResponse(BrokerError);

#[expect(
    clippy::result_large_err,
    reason = "the error is the HTTP response itself, returned straight to the client"
)]
fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        let what = if std::str::from_utf8(body).is_err() {
            "request body is not valid UTF-8".to_owned()
        } else {
            format!(
                "malformed JSON body at line {} column {}: {e}",
                e.line(),
                e.column()
            )
        };
        error(StatusCode::BAD_REQUEST, what)
    })
}

/// Who is calling over the Unix socket (from `SO_PEERCRED`).
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    uid: Option<u32>,
    pid: Option<i32>,
}

impl Connected<axum::serve::IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, UnixListener>) -> Self {
        let cred = stream.io().peer_cred().ok();
        Self {
            uid: cred.map(|c| c.uid()),
            pid: cred.and_then(|c| c.pid()),
        }
    }
}

#[expect(
    clippy::expect_used,
    reason = "`user:unknown` is a valid principal; the fallback covers user names it is not"
)]
fn delegator(peer: Peer) -> PrincipalId {
    let name = peer
        .uid
        .map(mandate_analysis::machine::user_name)
        .unwrap_or_else(|| "unknown".into());
    PrincipalId::parse(&format!("user:{name}"))
        .unwrap_or_else(|_| PrincipalId::parse("user:unknown").expect("valid"))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned())
}

#[derive(Clone)]
struct App {
    broker: Arc<Broker>,
    metrics: PrometheusHandle,
    proxy: Option<ProxyInfo>,
}

async fn evaluate_one(
    app: &App,
    headers: &HeaderMap,
    req: &EvaluationRequest,
) -> Result<EvaluationResponse, Response> {
    let action = req
        .to_action()
        .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
    let token = req
        .token()
        .map(str::to_owned)
        .or_else(|| bearer(headers))
        .unwrap_or_default();
    Ok(app.broker.check(&token, action).await.into())
}

async fn evaluation(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let req: EvaluationRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match evaluate_one(&app, &headers, &req).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => e,
    }
}

async fn evaluations(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let req: BatchRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if req.evaluations.len() > 256 {
        return error(StatusCode::BAD_REQUEST, "at most 256 evaluations per batch");
    }
    let mut out = Vec::with_capacity(req.evaluations.len());
    for (i, r) in req.expand().iter().enumerate() {
        match evaluate_one(&app, &headers, r).await {
            Ok(x) => out.push(x),
            Err(_) => {
                let msg = r
                    .to_action()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                return error(StatusCode::BAD_REQUEST, format!("evaluations[{i}]: {msg}"));
            }
        }
    }
    Json(BatchResponse { evaluations: out }).into_response()
}

async fn report(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let r: ToolReport = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let token = bearer(&headers).unwrap_or_default();
    match app.broker.report(&token, r).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

async fn event(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let e: TaskEvent = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let token = bearer(&headers).unwrap_or_default();
    match app.broker.event(&token, e).await {
        Ok(()) => Json(serde_json::json!({"recorded": true})).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

async fn proxy_info(State(app): State<App>) -> Response {
    match app.proxy {
        Some(p) => Json(p).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "this broker runs no egress proxy (proxy_listen is off)"})),
        )
            .into_response(),
    }
}

async fn credential(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let q: CredentialQuery = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let token = bearer(&headers).unwrap_or_default();
    match app.broker.git_credential(&token, &q).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

async fn sandbox_lookup(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let q: mandate_types::api::LookupQuery = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let token = bearer(&headers).unwrap_or_default();
    match app.broker.sandbox_lookup(&token, &q.name).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

async fn sandbox_refusal(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let r: mandate_types::audit::SandboxRefusal = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let token = bearer(&headers).unwrap_or_default();
    match app.broker.sandbox_refusal(&token, r).await {
        Ok(()) => Json(serde_json::json!({"recorded": true})).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

#[derive(Deserialize)]
struct EventsQuery {
    /// Events after this number (0: all kept).
    #[serde(default)]
    after: u64,
    /// Seconds to wait for one when there is none (at most 25).
    #[serde(default)]
    wait: u64,
}

/// The Security Event Tokens the broker issued (CAEP `session-revoked` when the
/// deviation monitor revokes a task), as a long poll: `{"events": [{"id", "set"}]}`.
async fn security_events(State(app): State<App>, Query(q): Query<EventsQuery>) -> Response {
    let wait = std::time::Duration::from_secs(q.wait.min(25));
    let events: Vec<serde_json::Value> = app
        .broker
        .events(q.after, wait)
        .await
        .into_iter()
        .map(|(id, set)| serde_json::json!({"id": id, "set": set}))
        .collect();
    Json(serde_json::json!({"events": events})).into_response()
}

async fn list_approvals(State(app): State<App>) -> Response {
    Json(app.broker.approvals()).into_response()
}

async fn show_approval(State(app): State<App>, UrlPath(id): UrlPath<String>) -> Response {
    match app.broker.approval(&id) {
        Ok(v) => Json(v).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

async fn answer_approval(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Response {
    let a: mandate_types::api::ApprovalAnswer = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if peer.pid.is_some_and(in_other_user_namespace) {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "approvals cannot be answered from inside a sandbox: a task cannot approve its own actions"})),
        )
            .into_response();
    }
    let by = delegator(peer);
    match app
        .broker
        .answer_approval(&id, a.approve, a.for_task, by.as_str())
        .await
    {
        Ok(v) => Json(v).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

/// Whether process `pid` lives in another user namespace than the broker — a task's
/// process in `mandate run --sandbox`.
fn in_other_user_namespace(pid: i32) -> bool {
    let ours = std::fs::read_link("/proc/self/ns/user");
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/user"));
    match (ours, theirs) {
        (Ok(a), Ok(b)) => a != b,
        // Unknown counts as inside: fail closed.
        _ => true,
    }
}

async fn start_task(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    body: Bytes,
) -> Response {
    let req: StartTaskRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match app.broker.start_task(req, delegator(peer)).await {
        Ok(t) => (StatusCode::CREATED, Json(t)).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list_tasks(State(app): State<App>, Query(q): Query<ListQuery>) -> Response {
    match app
        .broker
        .list_tasks(q.limit.unwrap_or(100).clamp(1, 10_000))
        .await
    {
        Ok(t) => Json(t).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

#[expect(
    clippy::result_large_err,
    reason = "the error is the HTTP response itself, returned straight to the client"
)]
fn task_id(s: &str) -> Result<TaskId, Response> {
    TaskId::parse(s).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))
}

async fn show_task(
    State(app): State<App>,
    UrlPath(id): UrlPath<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    let id = match task_id(&id) {
        Ok(i) => i,
        Err(e) => return e,
    };
    match app
        .broker
        .task_detail(&id, q.limit.unwrap_or(1000).clamp(1, 100_000))
        .await
    {
        Ok(t) => Json(t).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EndBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn end_task(State(app): State<App>, UrlPath(id): UrlPath<String>, body: Bytes) -> Response {
    let id = match task_id(&id) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let b: EndBody = if body.is_empty() {
        EndBody::default()
    } else {
        match parse(&body) {
            Ok(b) => b,
            Err(e) => return e,
        }
    };
    let reason = b.reason.unwrap_or_else(|| "ended by the delegator".into());
    if reason.len() > 500 || reason.contains('\0') {
        return error(StatusCode::BAD_REQUEST, "reason: at most 500 bytes, no NUL");
    }
    match app.broker.end_task(&id, &reason).await {
        Ok(ended) => Json(serde_json::json!({"task_id": id, "ended": ended})).into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

fn form_token(body: &Bytes) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "token").then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn revoke(State(app): State<App>, body: Bytes) -> Response {
    let Some(token) = form_token(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "RFC 7009: send token=<token> as a form body",
        );
    };
    match app.broker.revoke_token(&token).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => BrokerErrorResponse(e).into(),
    }
}

async fn introspect(State(app): State<App>, body: Bytes) -> Response {
    let Some(token) = form_token(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "RFC 7662: send token=<token> as a form body",
        );
    };
    Json(app.broker.introspect(&token)).into_response()
}

async fn jwks(State(app): State<App>) -> Response {
    Json(app.broker.jwks()).into_response()
}

async fn metadata(State(app): State<App>) -> Response {
    let base = format!("http://{}", app.broker.settings().listen);
    Json(serde_json::json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
    }))
    .into_response()
}

async fn healthz(State(app): State<App>) -> Response {
    Json(serde_json::json!({
        "status": "ok",
        "policy_hash": app.broker.engine().policy().hash(),
        "profiles": app.broker.engine().policy().profile_names(),
    }))
    .into_response()
}

async fn metrics(State(app): State<App>) -> Response {
    let mut text = app.metrics.render();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    cache_metrics(&mut text, &mandate_cache::snapshot());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Appends every cache's counters in the Prometheus text format. They are read here, at
/// scrape time, from the caches' own atomics: a lookup never touches the `metrics`
/// recorder.
fn cache_metrics(out: &mut String, caches: &[mandate_cache::CacheStats]) {
    use std::fmt::Write as _;
    if caches.is_empty() {
        return;
    }
    type Field = fn(&mandate_cache::CacheStats) -> u64;
    let families: [(&str, &str, &str, Field); 6] = [
        (
            "mandate_cache_hits_total",
            "counter",
            "Cache lookups that found a value.",
            |s| s.hits,
        ),
        (
            "mandate_cache_misses_total",
            "counter",
            "Cache lookups that found nothing.",
            |s| s.misses,
        ),
        (
            "mandate_cache_evictions_total",
            "counter",
            "Cache entries pushed out to make room.",
            |s| s.evictions,
        ),
        (
            "mandate_cache_entries",
            "gauge",
            "Entries held, summed over the caches of one name.",
            |s| u64::try_from(s.entries).unwrap_or(u64::MAX),
        ),
        (
            "mandate_cache_capacity",
            "gauge",
            "Most entries held, summed over the caches of one name.",
            |s| u64::try_from(s.capacity).unwrap_or(u64::MAX),
        ),
        (
            "mandate_cache_instances",
            "gauge",
            "Live caches of one name (one per task for per-task memos).",
            |s| u64::try_from(s.caches).unwrap_or(u64::MAX),
        ),
    ];
    for (name, kind, help, field) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for s in caches {
            let _ = writeln!(out, "{name}{{cache=\"{}\"}} {}", label(s.name), field(s));
        }
    }
}

/// A Prometheus label value, with backslashes, double quotes and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn unix_only() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "task management is only available on the broker's Unix socket (mandate task ...)",
    )
}

fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Only the first broker in a process installs the recorder (tests run several).
            let _ = metrics::set_global_recorder(recorder);
            // Histogram samples wait in a buffer until upkeep folds them into their
            // summaries; a recorder built by hand gets no upkeep of its own, and without
            // it every decision's timing stayed in memory until /metrics was read.
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "no metrics upkeep thread: timings are kept until /metrics is read");
            }
            handle
        })
        .clone()
}

fn public_routes() -> Router<App> {
    Router::new()
        .route("/access/v1/evaluation", post(evaluation))
        .route("/access/v1/evaluations", post(evaluations))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/authzen-configuration", get(metadata))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/oauth/revoke", post(revoke))
        .route("/v1/report", post(report))
        .route("/v1/events", post(event).get(security_events))
        .fallback(not_found)
}

/// Routes for the Unix socket: everything.
fn unix_router(app: App) -> Router {
    public_routes()
        .route("/v1/tasks", post(start_task).get(list_tasks))
        .route("/v1/proxy", get(proxy_info))
        .route("/v1/credential", post(credential))
        .route("/v1/approvals", get(list_approvals))
        .route(
            "/v1/approvals/{id}",
            post(answer_approval).get(show_approval),
        )
        .route("/v1/sandbox/lookup", post(sandbox_lookup))
        .route("/v1/sandbox/refusals", post(sandbox_refusal))
        .route("/v1/tasks/{id}", get(show_task))
        .route("/v1/tasks/{id}/end", post(end_task))
        .route("/oauth/introspect", post(introspect))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

/// Routes for TCP: no task management.
fn tcp_router(app: App) -> Router {
    public_routes()
        .route("/v1/tasks", post(unix_only).get(unix_only))
        .route("/v1/proxy", get(unix_only))
        .route("/v1/credential", post(unix_only))
        .route("/v1/approvals", get(unix_only))
        .route("/v1/approvals/{id}", post(unix_only).get(unix_only))
        .route("/v1/sandbox/lookup", post(unix_only))
        .route("/v1/sandbox/refusals", post(unix_only))
        .route("/v1/tasks/{id}", get(unix_only))
        .route("/v1/tasks/{id}/end", post(unix_only))
        .route("/oauth/introspect", post(unix_only))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}

/// Listeners bound and ready to serve.
#[derive(Debug)]
pub struct Bound {
    tcp: TcpListener,
    unix: UnixListener,
    socket: PathBuf,
    /// The TCP address actually bound (port 0 resolved).
    pub addr: SocketAddr,
}

/// Binds the TCP address and the Unix socket (mode 0600, in the 0700 data directory).
/// A live broker on the socket is an error; a stale socket file is replaced.
pub async fn bind(listen: SocketAddr, socket: &Path) -> Result<Bound, ServeError> {
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return Err(ServeError::Bind {
                what: socket.display().to_string(),
                detail: "another broker is already running on this socket".into(),
            });
        }
        let _ = std::fs::remove_file(socket);
    }
    let tcp = TcpListener::bind(listen)
        .await
        .map_err(|e| ServeError::Bind {
            what: listen.to_string(),
            detail: e.to_string(),
        })?;
    let addr = tcp.local_addr().map_err(|e| ServeError::Bind {
        what: listen.to_string(),
        detail: e.to_string(),
    })?;
    let unix = UnixListener::bind(socket).map_err(|e| ServeError::Bind {
        what: socket.display().to_string(),
        detail: e.to_string(),
    })?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        ServeError::Bind {
            what: socket.display().to_string(),
            detail: e.to_string(),
        }
    })?;
    Ok(Bound {
        tcp,
        unix,
        socket: socket.to_path_buf(),
        addr,
    })
}

/// Serves until `shutdown` completes, then stops accepting and removes the socket.
pub async fn serve(
    broker: Arc<Broker>,
    bound: Bound,
    proxy: Option<ProxyInfo>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    let app = App {
        broker,
        metrics: metrics_handle(),
        proxy,
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut rx2 = rx.clone();
    let mut rx1 = rx;
    let tcp = axum::serve(bound.tcp, tcp_router(app.clone())).with_graceful_shutdown(async move {
        let _ = rx1.wait_for(|v| *v).await;
    });
    let unix = axum::serve(
        bound.unix,
        unix_router(app).into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(async move {
        let _ = rx2.wait_for(|v| *v).await;
    });
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let (a, b) = tokio::join!(tcp.into_future(), unix.into_future());
    if let Err(e) = a.and(b) {
        tracing::error!(error = %e, "server error");
    }
    let _ = std::fs::remove_file(&bound.socket);
}
