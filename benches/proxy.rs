//! Egress proxy overhead: the time of one HTTPS request on a fresh connection (what a
//! `curl` invocation costs), direct to a local upstream versus through the proxy, for a
//! tunnelled host and for an intercepted one (a secret bound there: TLS terminated,
//! the request decided and the placeholder swapped), plus a request on an intercepted
//! connection that is already open. All in one run, rounds interleaved; loopback only.
//!
//! Run: `cargo bench --bench proxy` (prints a table for docs/benchmarks.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark: a setup that fails is the benchmark failing"
)]

#[path = "../tests/common/upstream.rs"]
#[allow(dead_code, reason = "shared with the tests")]
mod upstream;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use mandate_broker::config::{Overrides, load_settings};
use mandate_types::api::StartTaskRequest;
use mandate_types::{AbsPath, HostPattern, PrincipalId, ProfileName, Purpose};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ROUNDS: usize = 400;
const CANARY: &str = "bench-secret-value";

fn tls(ca: &Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Opens `api.test` over `stream` with TLS and returns a sender.
async fn open(stream: TcpStream, tls: &tokio_rustls::TlsConnector) -> SendRequest<Empty<Bytes>> {
    let name = ServerName::try_from("api.test").unwrap();
    let s = tls.connect(name, stream).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

async fn get(sender: &mut SendRequest<Empty<Bytes>>, port: u16, auth: Option<&str>) {
    let mut req = hyper::Request::get("/bench").header("host", format!("api.test:{port}"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = sender
        .send_request(req.body(Empty::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body().collect().await.unwrap();
}

async fn connect_via(proxy: SocketAddr, token: &str, port: u16) -> TcpStream {
    let mut s = TcpStream::connect(proxy).await.unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(
        format!("CONNECT api.test:{port} HTTP/1.1\r\nHost: api.test:{port}\r\nProxy-Authorization: Bearer {token}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    s
}

fn table(label: &str, mut v: Vec<Duration>, base: Option<f64>) -> f64 {
    v.sort();
    let p = |q: f64| v[((v.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    let added = base.map_or(String::from("—"), |b| format!("{:+.3}", p(0.5) - b));
    println!("| {label} | {:.3} | {:.3} | {added} |", p(0.5), p(0.99));
    p(0.5)
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let up = upstream::start(tmp.path(), &["api.test"], tmp.path().to_owned(), CANARY);
    let port = up.addr.port();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("config.toml"),
        format!(
            "proxy_upstream_ca = {:?}\nproxy_tunnel_ports = [{port}]\n[resolve]\n\"api.test\" = [\"127.0.0.1\"]\n",
            up.ca_pem.display().to_string()
        ),
    )
    .unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let o = Overrides {
        listen: Some("127.0.0.1:0".into()),
        proxy_listen: Some("127.0.0.1:0".into()),
        ..Default::default()
    };
    let settings = load_settings(&data, &o).unwrap();
    let running = rt.block_on(mandate_server::launch(settings)).unwrap();
    let broker = running.broker().clone();
    let proxy: SocketAddr = running.proxy().unwrap().listen.parse().unwrap();
    let proxy_ca = data.join("proxy-ca.pem");
    let name = mandate_secrets::SecretName::parse("BENCH_TOKEN").unwrap();
    let binding = mandate_secrets::Binding::new(
        vec![mandate_secrets::Destination::parse(&format!("api.test:{port}")).unwrap()],
        None,
        None,
        None,
        None,
    )
    .unwrap();
    broker
        .secret_store()
        .set(
            &name,
            binding,
            &mandate_secrets::SecretValue::from_input(CANARY.into()).unwrap(),
        )
        .unwrap();
    let start = |secrets: Vec<String>| {
        let req = StartTaskRequest {
            profile: ProfileName::parse("develop").unwrap(),
            repo: AbsPath::from_path("repo", &repo).unwrap(),
            purpose: Purpose::parse("proxy benchmark").unwrap(),
            ttl: None,
            agent: None,
            allow_hosts: vec![HostPattern::parse("api.test").unwrap()],
            allow_read: vec![],
            allow_write: vec![],
            branches: vec![],
            mcp_tools: vec![],
            parent: None,
            secrets,
            sandbox: None,
        };
        rt.block_on(broker.start_task(req, PrincipalId::parse("user:bench").unwrap()))
            .unwrap()
    };
    let plain = start(vec![]);
    let with_secret = start(vec!["BENCH_TOKEN".into()]);
    let placeholder = format!("Bearer {}", with_secret.placeholders["BENCH_TOKEN"]);
    let direct_tls = tls(&up.ca_pem);
    let proxy_tls = tls(&proxy_ca);

    let (mut direct, mut tunnel, mut intercept, mut kept) = (vec![], vec![], vec![], vec![]);
    let (mut direct_kept, mut stages) = (vec![], vec![]);
    rt.block_on(async {
        let mut open_conn = open(
            connect_via(proxy, &with_secret.token, port).await,
            &proxy_tls,
        )
        .await;
        let mut open_direct = open(TcpStream::connect(up.addr).await.unwrap(), &direct_tls).await;
        for round in 0..ROUNDS + 20 {
            let t = Instant::now();
            let mut s = open(TcpStream::connect(up.addr).await.unwrap(), &direct_tls).await;
            get(&mut s, port, None).await;
            let d = t.elapsed();
            let t = Instant::now();
            let mut s = open(connect_via(proxy, &plain.token, port).await, &direct_tls).await;
            get(&mut s, port, None).await;
            let tu = t.elapsed();
            let t = Instant::now();
            let c = connect_via(proxy, &with_secret.token, port).await;
            let t_connect = t.elapsed();
            let mut s = open(c, &proxy_tls).await;
            let t_tls = t.elapsed();
            get(&mut s, port, Some(&placeholder)).await;
            let i = t.elapsed();
            stages.push((t_connect, t_tls));
            let t = Instant::now();
            get(&mut open_conn, port, Some(&placeholder)).await;
            let k = t.elapsed();
            let t = Instant::now();
            get(&mut open_direct, port, None).await;
            let dk = t.elapsed();
            // The first rounds warm caches and connections; they are not counted.
            if round >= 20 {
                direct.push(d);
                tunnel.push(tu);
                intercept.push(i);
                kept.push(k);
                direct_kept.push(dk);
            }
        }
    });
    assert!(
        up.seen
            .lock()
            .unwrap()
            .contains(&Some(format!("Bearer {CANARY}")))
    );
    println!("| request ({ROUNDS} each, ms) | p50 | p99 | added p50 |");
    println!("|---|---|---|---|");
    let base = table("direct, new TLS connection", direct, None);
    table("through the proxy, tunnelled", tunnel, Some(base));
    table(
        "through the proxy, intercepted (placeholder swapped)",
        intercept,
        Some(base),
    );
    let base_kept = table("direct, on an open connection", direct_kept, None);
    table("intercepted, on an open connection", kept, Some(base_kept));
    stages.sort();
    let (c, t) = stages[stages.len() / 2];
    println!(
        "\nintercepted, median stages: CONNECT answered after {:.3} ms, TLS with the proxy done after {:.3} ms",
        c.as_secs_f64() * 1e3,
        t.as_secs_f64() * 1e3
    );
    rt.block_on(running.stop());
}
