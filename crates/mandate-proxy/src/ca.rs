//! The per-install certificate authority that signs the proxy's certificates for hosts
//! whose requests carry a secret (and only those: every other host is tunnelled).
//!
//! `proxy-ca.pem` (public, 0644: `mandate run` points the child's TLS clients at it) and
//! `proxy-ca.key` (0600) in the data directory, made on first use. Host certificates
//! live in memory for a day, signed on demand.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mandate_cache::BoundedCache;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use crate::ProxyError;

const CA_CERT: &str = "proxy-ca.pem";
const CA_KEY: &str = "proxy-ca.key";
/// Hosts whose certificates are kept signed.
const MAX_HOST_CERTS: usize = 1024;

/// The CA and its host certificates.
pub struct Authority {
    cert_path: PathBuf,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    hosts: BoundedCache<String, (i64, Arc<ServerConfig>)>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// The CA's name. The same parameters are rebuilt to sign with a stored key, so the
/// issuer name of every host certificate matches the stored CA certificate.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Mandate");
    dn.push(
        DnType::CommonName,
        "Mandate egress proxy CA (this install only)",
    );
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Authority {
    /// Loads the CA of `data_dir`, creating it on first use. Refuses a key file other
    /// users can read.
    pub fn open(data_dir: &Path) -> Result<Self, ProxyError> {
        let cert_path = data_dir.join(CA_CERT);
        let key_path = data_dir.join(CA_KEY);
        let (cert_pem, key) = match fs::metadata(&key_path) {
            Ok(m) => {
                if m.permissions().mode() & 0o077 != 0 {
                    return Err(ProxyError::Ca(format!(
                        "{} is readable by other users; make it private with `chmod 600`",
                        key_path.display()
                    )));
                }
                let key_pem = read(&key_path)?;
                let key = KeyPair::from_pem(&key_pem)
                    .map_err(|e| ProxyError::Ca(format!("{}: {e}", key_path.display())))?;
                (read(&cert_path)?, key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = KeyPair::generate().map_err(|e| ProxyError::Ca(e.to_string()))?;
                let mut params = ca_params();
                let now = OffsetDateTime::now_utc();
                params.not_before = now - Duration::days(1);
                params.not_after = now + Duration::days(3650);
                let cert = params
                    .self_signed(&key)
                    .map_err(|e| ProxyError::Ca(e.to_string()))?;
                write_new(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
                write_new(&cert_path, cert.pem().as_bytes(), 0o644)?;
                (cert.pem(), key)
            }
            Err(e) => return Err(ProxyError::io(&key_path, e)),
        };
        let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| ProxyError::Ca(format!("{}: {e}", cert_path.display())))?;
        Ok(Self {
            cert_path,
            ca_der,
            issuer: Issuer::new(ca_params(), key),
            hosts: BoundedCache::new("proxy.host_certs", MAX_HOST_CERTS),
        })
    }

    /// Where the CA certificate is (for `SSL_CERT_FILE` and friends).
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The TLS configuration presenting a certificate for `host`.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, ProxyError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        if let Some((made, config)) = self.hosts.get(&host.to_owned())
            && now - made < 86_400
        {
            return Ok(config);
        }
        let key = KeyPair::generate().map_err(|e| ProxyError::Ca(e.to_string()))?;
        let mut params = CertificateParams::default();
        params.subject_alt_names = vec![match host.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                host.to_owned()
                    .try_into()
                    .map_err(|e| ProxyError::Ca(format!("{host}: {e}")))?,
            ),
        }];
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        params.distinguished_name = dn;
        let start = OffsetDateTime::now_utc();
        params.not_before = start - Duration::hours(1);
        params.not_after = start + Duration::days(2);
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| ProxyError::Ca(e.to_string()))?;
        let chain = vec![cert.der().clone(), self.ca_der.clone()];
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| ProxyError::Ca(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| ProxyError::Ca(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        self.hosts.insert(host.to_owned(), (now, config.clone()));
        Ok(config)
    }
}

fn read(path: &Path) -> Result<String, ProxyError> {
    fs::read_to_string(path).map_err(|e| ProxyError::io(path, e))
}

fn write_new(path: &Path, body: &[u8], mode: u32) -> Result<(), ProxyError> {
    let io = |e| ProxyError::io(path, e);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    f.write_all(body).map_err(io)?;
    f.sync_all().map_err(io)
}
