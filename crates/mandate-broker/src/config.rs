//! Configuration and policy loading, all validated before the broker binds a port.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mandate_analysis::{Analyzer, Environment, SensitivePaths};
use mandate_policy::{CompiledPolicy, PolicyBundle, PolicySource};
use mandate_shell::ShellAnalyzer;
use mandate_shell::kb::KnowledgeBase;
use mandate_token::BrokerKey;
use serde::Deserialize;

use crate::engine::Engine;

/// The default HTTP listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// Default egress proxy address.
pub const DEFAULT_PROXY_LISTEN: &str = "127.0.0.1:7879";
/// How long an approval waits, and stays good once answered.
const DEFAULT_APPROVAL_TTL_SECS: i64 = 600;
/// How long a hook waits for an answer where its assistant cannot ask.
const DEFAULT_APPROVAL_WAIT_MS: u64 = 20_000;
/// The default task lifetime.
pub const DEFAULT_TTL_SECS: i64 = 2 * 3600;
/// The longest task lifetime accepted.
pub const MAX_TTL_SECS: i64 = 24 * 3600;
/// Default longest time for one decision (analysis + policy), in milliseconds; a
/// decision normally takes microseconds.
pub const DEFAULT_DECISION_TIMEOUT_MS: u64 = 1000;

/// A configuration or policy problem, naming the file (and line where known).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file had a problem at a place.
    #[error("{file}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    File {
        file: String,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The policy did not compile (each error names file and line).
    #[error("{0}")]
    Policy(#[from] mandate_policy::PolicyErrors),
    /// A value was invalid.
    #[error("{0}")]
    Invalid(String),
}

impl ConfigError {
    fn file(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self::File {
            file: file.display().to_string(),
            line,
            message: message.into(),
        }
    }

    fn toml(file: &Path, text: &str, e: &toml::de::Error) -> Self {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        Self::file(file, line, e.message().to_owned())
    }
}

/// `<data-dir>/config.toml`, all fields optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    listen: Option<String>,
    policy_dir: Option<PathBuf>,
    issuer: Option<String>,
    default_ttl: Option<String>,
    max_ttl: Option<String>,
    decision_timeout_ms: Option<u64>,
    proxy_listen: Option<String>,
    proxy_upstream_ca: Option<PathBuf>,
    proxy_tunnel_ports: Option<Vec<u16>>,
    approval_ttl: Option<String>,
    approval_wait_ms: Option<u64>,
    /// Per profile: the deviation score at which a task is revoked.
    #[serde(default)]
    deviation_threshold: std::collections::BTreeMap<String, u32>,
    deviation_window_secs: Option<u64>,
    #[serde(default)]
    resolve: std::collections::BTreeMap<String, Vec<std::net::IpAddr>>,
    /// RFC 8935 push receivers of the broker's Security Event Tokens.
    #[serde(default)]
    set_receivers: Vec<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the key, database, socket and anchor live.
    pub data_dir: PathBuf,
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// The organisation policy directory, if any.
    pub policy_dir: Option<PathBuf>,
    /// The token issuer.
    pub issuer: String,
    /// The token audience.
    pub audience: String,
    /// Default task lifetime (seconds).
    pub default_ttl: i64,
    /// Longest task lifetime (seconds).
    pub max_ttl: i64,
    /// Longest one decision may take before it is a denial (`decision_timeout_ms`).
    pub decision_timeout: Duration,
    /// Where the egress proxy listens (`proxy_listen`, `--proxy-listen`; `off` for none).
    pub proxy_listen: Option<SocketAddr>,
    /// Extra CA certificates (PEM) the proxy trusts for upstream servers, beside the
    /// system's roots (`proxy_upstream_ca`).
    pub proxy_upstream_ca: Option<PathBuf>,
    /// Ports `CONNECT` may reach (`proxy_tunnel_ports`, default 443), beside the ports
    /// the task's secrets are bound to.
    pub proxy_tunnel_ports: Vec<u16>,
    /// Names the proxy resolves to fixed addresses instead of asking DNS (`[resolve]`,
    /// like curl's `--resolve`); the addresses are still checked like resolved ones.
    pub resolve: std::collections::BTreeMap<String, Vec<std::net::IpAddr>>,
    /// How long an action asked about waits for a human's answer (`approval_ttl`,
    /// default 10m), and how long an answer stays good for.
    pub approval_ttl: i64,
    /// How long a hook whose assistant cannot ask waits for a human's answer
    /// (`approval_wait_ms`, default 20000; under the assistants' 30 s hook timeout).
    pub approval_wait: Duration,
    /// The deviation score at which a task of each profile is revoked
    /// (`[deviation_threshold]`; defaults: develop 200, build 100, release 60, others 200).
    pub deviation_threshold: std::collections::BTreeMap<String, u32>,
    /// How far back the deviation monitor counts (`deviation_window_secs`, default 600).
    pub deviation_window: Duration,
    /// Where the broker pushes its Security Event Tokens (RFC 8935; `set_receivers`):
    /// `https://` URLs, or `http://` to the local machine.
    pub set_receivers: Vec<mandate_types::Url>,
}

impl Settings {
    /// The deviation score at which a task of `profile` is revoked.
    pub fn deviation_threshold(&self, profile: &str) -> u32 {
        self.deviation_threshold
            .get(profile)
            .copied()
            .unwrap_or(match profile {
                "build" => 100,
                "release" => 60,
                _ => 200,
            })
    }
}

impl Settings {
    /// The Unix socket path.
    pub fn socket_path(&self) -> PathBuf {
        self.data_dir.join("mandate.sock")
    }

    /// The SQLite database path.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("mandate.db")
    }

    /// The signing key path.
    pub fn key_path(&self) -> PathBuf {
        self.data_dir.join("broker.key")
    }

    /// The audit anchor (latest signed checkpoint, outside the database).
    pub fn anchor_path(&self) -> PathBuf {
        self.data_dir.join("audit.checkpoint")
    }
}

/// Overrides from the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<String>,
    /// `--policy-dir`.
    pub policy_dir: Option<PathBuf>,
    /// `--proxy-listen` (`off` for no proxy).
    pub proxy_listen: Option<String>,
}

/// Parses a duration such as `90s`, `15m`, `2h`, `1d` into seconds.
pub fn parse_ttl(s: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("bad duration {s:?}: {e} (try 30m, 2h)"))?;
    i64::try_from(d.as_secs()).map_err(|_| format!("duration {s:?} is too long"))
}

/// Reads `<data-dir>/config.toml` (if present) and applies overrides.
pub fn load_settings(data_dir: &Path, o: &Overrides) -> Result<Settings, ConfigError> {
    let path = data_dir.join("config.toml");
    let file: ConfigFile = match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::toml(&path, &text, &e))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
        Err(e) => return Err(ConfigError::file(&path, None, e.to_string())),
    };
    let listen_text = o
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
    let listen: SocketAddr = listen_text.parse().map_err(|_| {
        ConfigError::Invalid(format!(
            "--listen {listen_text:?} is not an address like 127.0.0.1:7878"
        ))
    })?;
    let ttl = |v: Option<String>, default: i64, what: &str| -> Result<i64, ConfigError> {
        match v {
            None => Ok(default),
            Some(s) => {
                parse_ttl(&s).map_err(|m| ConfigError::file(&path, None, format!("{what}: {m}")))
            }
        }
    };
    let default_ttl = ttl(file.default_ttl, DEFAULT_TTL_SECS, "default_ttl")?;
    let max_ttl = ttl(file.max_ttl, MAX_TTL_SECS, "max_ttl")?;
    let approval_ttl = ttl(file.approval_ttl, DEFAULT_APPROVAL_TTL_SECS, "approval_ttl")?;
    if approval_ttl <= 0 {
        return Err(ConfigError::file(
            &path,
            None,
            "approval_ttl must be positive",
        ));
    }
    let approval_wait_ms = file.approval_wait_ms.unwrap_or(DEFAULT_APPROVAL_WAIT_MS);
    if approval_wait_ms > 25_000 {
        return Err(ConfigError::file(
            &path,
            None,
            "approval_wait_ms must be at most 25000: the assistants give a hook 30 s",
        ));
    }
    if default_ttl <= 0 || default_ttl > max_ttl {
        return Err(ConfigError::file(
            &path,
            None,
            "default_ttl must be positive and at most max_ttl",
        ));
    }
    let decision_timeout_ms = file
        .decision_timeout_ms
        .unwrap_or(DEFAULT_DECISION_TIMEOUT_MS);
    if !(1..=60_000).contains(&decision_timeout_ms) {
        return Err(ConfigError::file(
            &path,
            None,
            "decision_timeout_ms must be between 1 and 60000",
        ));
    }
    let policy_dir = o.policy_dir.clone().or(file.policy_dir);
    if let Some(d) = &policy_dir
        && !d.is_dir()
    {
        return Err(ConfigError::Invalid(format!(
            "policy directory {} does not exist",
            d.display()
        )));
    }
    let proxy_text = o
        .proxy_listen
        .clone()
        .or(file.proxy_listen)
        .unwrap_or_else(|| DEFAULT_PROXY_LISTEN.to_owned());
    let proxy_listen = match proxy_text.as_str() {
        "off" | "none" => None,
        t => Some(t.parse::<SocketAddr>().map_err(|_| {
            ConfigError::Invalid(format!(
                "--proxy-listen {t:?} is not an address like 127.0.0.1:7879 (or `off`)"
            ))
        })?),
    };
    let mut resolve = std::collections::BTreeMap::new();
    for (name, addrs) in file.resolve {
        let host = mandate_types::Host::parse(&name)
            .map_err(|e| ConfigError::file(&path, None, format!("[resolve] {name:?}: {e}")))?;
        if addrs.is_empty() {
            return Err(ConfigError::file(
                &path,
                None,
                format!("[resolve] {name:?} names no address"),
            ));
        }
        resolve.insert(host.as_str().to_owned(), addrs);
    }
    let mut set_receivers = Vec::new();
    for r in &file.set_receivers {
        let url = mandate_types::Url::parse(r)
            .map_err(|e| ConfigError::file(&path, None, format!("set_receivers: {r}: {e}")))?;
        let local = url.host().is_some_and(|h| {
            h.as_str() == "localhost"
                || h.as_str()
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if url.scheme() != "https" && !(url.scheme() == "http" && local) {
            return Err(ConfigError::file(
                &path,
                None,
                format!("set_receivers: {r}: must be https:// (http:// only to the local machine)"),
            ));
        }
        set_receivers.push(url);
    }
    Ok(Settings {
        set_receivers,
        proxy_listen,
        proxy_upstream_ca: file.proxy_upstream_ca,
        proxy_tunnel_ports: file.proxy_tunnel_ports.unwrap_or_else(|| vec![443]),
        resolve,
        data_dir: data_dir.to_path_buf(),
        listen,
        policy_dir,
        issuer: file.issuer.unwrap_or_else(|| "mandate".to_owned()),
        audience: "mandate".to_owned(),
        default_ttl,
        max_ttl,
        decision_timeout: Duration::from_millis(decision_timeout_ms),
        approval_ttl,
        approval_wait: Duration::from_millis(approval_wait_ms),
        deviation_threshold: file.deviation_threshold,
        deviation_window: Duration::from_secs(file.deviation_window_secs.unwrap_or(600).max(1)),
    })
}

/// Creates the data directory (mode 0700) if needed.
pub fn ensure_data_dir(dir: &Path) -> Result<(), ConfigError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        ConfigError::Invalid(format!(
            "cannot create data directory {}: {e}",
            dir.display()
        ))
    })?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    Ok(())
}

/// Loads the broker key, creating it (mode 0600) on first start. A key readable by
/// others is refused.
pub fn load_or_create_key(path: &Path) -> Result<BrokerKey, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mode = std::fs::metadata(path)
                .map(|m| m.permissions().mode())
                .unwrap_or(0);
            if mode & 0o077 != 0 {
                return Err(ConfigError::file(
                    path,
                    None,
                    format!(
                        "the signing key is readable by others (mode {:o}); run: chmod 600 {}",
                        mode & 0o777,
                        path.display()
                    ),
                ));
            }
            BrokerKey::from_text(&text).map_err(|e| ConfigError::file(path, None, e.to_string()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = BrokerKey::generate();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| ConfigError::file(path, None, e.to_string()))?;
            use std::io::Write;
            f.write_all(key.to_text().as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| ConfigError::file(path, None, e.to_string()))?;
            Ok(key)
        }
        Err(e) => Err(ConfigError::file(path, None, e.to_string())),
    }
}

/// The parts of an organisation policy directory.
#[derive(Debug, Default)]
pub struct PolicyDir {
    /// `*.cedar` at the top: layered on every profile.
    pub org: Vec<PolicySource>,
    /// `profiles/<name>.cedar`: replace or add profiles.
    pub profiles: BTreeMap<String, PolicySource>,
    /// `sensitive-paths.toml`.
    pub sensitive: Option<(PathBuf, String)>,
    /// `programs.toml`.
    pub programs: Option<(PathBuf, String)>,
}

fn cedar_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ConfigError::file(dir, None, e.to_string())),
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cedar"))
        .collect();
    v.sort();
    Ok(v)
}

fn read(p: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(p).map_err(|e| ConfigError::file(p, None, e.to_string()))
}

/// Reads an organisation policy directory.
pub fn read_policy_dir(dir: &Path) -> Result<PolicyDir, ConfigError> {
    if !dir.is_dir() {
        return Err(ConfigError::Invalid(format!(
            "policy directory {} does not exist",
            dir.display()
        )));
    }
    let mut out = PolicyDir::default();
    for p in cedar_files(dir)? {
        out.org
            .push(PolicySource::new(p.display().to_string(), read(&p)?));
    }
    for p in cedar_files(&dir.join("profiles"))? {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        mandate_types::ProfileName::parse(&name).map_err(|e| {
            ConfigError::file(
                &p,
                None,
                format!("the file name must be a profile name: {e}"),
            )
        })?;
        out.profiles
            .insert(name, PolicySource::new(p.display().to_string(), read(&p)?));
    }
    for (name, slot) in [
        ("sensitive-paths.toml", &mut out.sensitive),
        ("programs.toml", &mut out.programs),
    ] {
        let p = dir.join(name);
        if p.exists() {
            *slot = Some((p.clone(), read(&p)?));
        }
    }
    Ok(out)
}

/// Builds the decision engine from the shipped policy and an optional organisation
/// directory, validating everything.
pub fn build_engine(policy_dir: Option<&Path>, env: Environment) -> Result<Engine, ConfigError> {
    let mut bundle = PolicyBundle::builtin();
    let mut sensitive = SensitivePaths::builtin();
    let mut kb = KnowledgeBase::builtin();
    if let Some(dir) = policy_dir {
        let d = read_policy_dir(dir)?;
        bundle.org = d.org;
        bundle.profiles.extend(d.profiles);
        if let Some((p, text)) = d.sensitive {
            sensitive
                .extend_from_toml(&p.display().to_string(), &text)
                .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        }
        if let Some((p, text)) = d.programs {
            kb.extend_from_toml(&text).map_err(|e| match &e {
                mandate_shell::kb::KbError::Toml(t) => ConfigError::toml(&p, &text, t),
                other => ConfigError::file(&p, None, other.to_string()),
            })?;
        }
    }
    let policy = CompiledPolicy::compile(&bundle)?;
    Ok(Engine::new(
        Analyzer::new(ShellAnalyzer::new(kb), sensitive, env),
        policy,
    ))
}

/// Everything a broker needs from its settings, validated before any port is bound: the
/// data directory (created 0700), the decision engine (Mandate's own directories marked
/// as such) and the signing key (created 0600 on first start).
pub fn prepare(settings: &Settings) -> Result<(Engine, BrokerKey), ConfigError> {
    ensure_data_dir(&settings.data_dir)?;
    let mut env = Environment::from_process();
    env.mandate_dirs
        .push(mandate_analysis::resolve(&settings.data_dir));
    if let Some(p) = &settings.policy_dir {
        env.mandate_dirs.push(mandate_analysis::resolve(p));
    }
    let engine = build_engine(settings.policy_dir.as_deref(), env)?;
    let key = load_or_create_key(&settings.key_path())?;
    Ok((engine, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("config.toml"),
            "listen = \"127.0.0.1:1\"\nbogus = 1\n",
        )
        .unwrap();
        let e = load_settings(d.path(), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.toml:2"), "{e}");
        let e = load_settings(
            tempfile::tempdir().unwrap().path(),
            &Overrides {
                listen: Some("nope".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("nope"));
    }

    #[test]
    fn key_is_created_private_and_reloaded() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("broker.key");
        let k = load_or_create_key(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_or_create_key(&p).unwrap().kid(), k.kid());
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            load_or_create_key(&p)
                .unwrap_err()
                .to_string()
                .contains("chmod 600")
        );
    }

    #[test]
    fn broken_org_policy_names_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("org.cedar"),
            "@id(\"a\")\npermit (principal, action, resource)\nwhen { ;\n",
        )
        .unwrap();
        let e = build_engine(Some(d.path()), Environment::from_process())
            .unwrap_err()
            .to_string();
        assert!(e.contains("org.cedar:3"), "{e}");
    }
}
