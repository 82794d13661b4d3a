//! The child's way out under `mandate run`: the egress proxy with the task's token in
//! its URL, trust in the proxy's CA for intercepted hosts, and git's credential helper.

use std::path::Path;

use mandate_types::api::ProxyInfo;

use crate::exit::{CliError, CliResult};

/// System CA bundles, first found wins (Debian/Ubuntu, RHEL/Fedora, Alpine/macOS, SUSE).
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
];

/// Writes the trust the child's TLS clients get: the system's roots (or the user's own
/// `SSL_CERT_FILE`) and the proxy's CA. `SSL_CERT_FILE` and its kin replace a client's
/// roots rather than add to them, so the CA alone would break every tunnelled host.
pub fn write_ca_bundle(ca: &Path, out: &Path) -> CliResult<()> {
    let mut bundle = std::env::var_os("SSL_CERT_FILE")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from))
        .find_map(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let ours = std::fs::read_to_string(ca).map_err(CliError::io(ca.display().to_string()))?;
    if !bundle.ends_with('\n') && !bundle.is_empty() {
        bundle.push('\n');
    }
    bundle.push_str(&ours);
    std::fs::write(out, bundle).map_err(CliError::io(out.display().to_string()))
}

/// The variables that send the child's traffic through the proxy as this task.
pub fn environment(p: &ProxyInfo, token: &str, bundle: &Path, exe: &Path) -> Vec<(String, String)> {
    let url = format!("http://task:{token}@{}", p.listen);
    let bundle = bundle.display().to_string();
    let mut env: Vec<(String, String)> = Vec::new();
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
        env.push((name.to_owned(), url.clone()));
        env.push((name.to_ascii_lowercase(), url.clone()));
    }
    // Only the machine itself skips the proxy; everything else is decided there.
    for name in ["NO_PROXY", "no_proxy"] {
        env.push((name.to_owned(), "localhost,127.0.0.1,::1".to_owned()));
    }
    for name in [
        "SSL_CERT_FILE",
        "CURL_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE",
        "GIT_SSL_CAINFO",
        "CARGO_HTTP_CAINFO",
    ] {
        env.push((name.to_owned(), bundle.clone()));
    }
    // Node adds these to its own roots.
    env.push(("NODE_EXTRA_CA_CERTS".to_owned(), p.ca_cert.clone()));
    env.extend(git_helper(exe));
    env
}

/// git's credential helper for the child only (`GIT_CONFIG_*`, after any the user set):
/// an empty `credential.helper` clears the helpers of every configuration file, then
/// ours answers.
fn git_helper(exe: &Path) -> Vec<(String, String)> {
    let first: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let quoted = format!("'{}'", exe.display().to_string().replace('\'', r"'\''"));
    let entries = [
        ("credential.helper", String::new()),
        ("credential.helper", format!("!{quoted} git-credential")),
    ];
    let mut env = vec![(
        "GIT_CONFIG_COUNT".to_owned(),
        (first + entries.len()).to_string(),
    )];
    for (i, (k, v)) in entries.into_iter().enumerate() {
        env.push((format!("GIT_CONFIG_KEY_{}", first + i), k.to_owned()));
        env.push((format!("GIT_CONFIG_VALUE_{}", first + i), v));
    }
    env
}
