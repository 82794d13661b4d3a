//! Short-lived credentials minted per task from a stored key ([`Mint`]), put in place of
//! the placeholder instead of the key itself; refreshed before they expire and revoked
//! when the task ends.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use crate::client::HttpClient;
use async_trait::async_trait;
use bytes::Bytes;
use mandate_broker::BoundSecret;
use mandate_secrets::{Mint, SecretName, SecretValue};
use mandate_types::TaskId;
use serde::Deserialize;

/// A credential is minted again when it has less than this left.
const REFRESH_MARGIN_SECS: i64 = 300;
/// How long one exchange with the issuer may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// Why no credential could be minted or revoked.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("the stored key is not usable: {0}")]
    Key(String),
    #[error("the issuer at {0} could not be reached: {1}")]
    Unreachable(String, String),
    #[error("the issuer refused (HTTP {0}): {1}")]
    Refused(u16, String),
    #[error("the issuer's answer is not understood: {0}")]
    Answer(String),
}

/// A minted credential.
#[derive(Clone)]
pub struct Minted {
    pub token: SecretValue,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Turns a stored key into a short-lived credential, and takes one back.
#[async_trait]
pub trait Minter: Send + Sync {
    async fn mint(&self, mint: &Mint, key: &SecretValue) -> Result<Minted, MintError>;
    async fn revoke(&self, mint: &Mint, token: &SecretValue) -> Result<(), MintError>;
}

/// The live credentials of every task, by task and secret.
pub struct Mints {
    minter: Arc<dyn Minter>,
    live: tokio::sync::Mutex<HashMap<(TaskId, SecretName), (Mint, Minted)>>,
}

impl Mints {
    pub fn new(minter: Arc<dyn Minter>) -> Self {
        Self {
            minter,
            live: tokio::sync::Mutex::default(),
        }
    }

    /// Replaces the key of each minted secret by the task's credential, minting one
    /// when there is none or it expires within five minutes.
    pub async fn resolve(
        &self,
        task: &TaskId,
        secrets: &mut [BoundSecret],
    ) -> Result<(), MintError> {
        for s in secrets.iter_mut() {
            let Some(mint) = s.binding.mint.clone() else {
                continue;
            };
            let key = (task.clone(), s.name.clone());
            // One lock across the exchange: two requests of a task never mint twice.
            let mut live = self.live.lock().await;
            let now = mandate_broker::now_secs();
            let fresh = live
                .get(&key)
                .filter(|(m, t)| m == &mint && t.expires_at - now > REFRESH_MARGIN_SECS)
                .map(|(_, t)| t.token.clone());
            let token = match fresh {
                Some(t) => t,
                None => {
                    let minted = self.minter.mint(&mint, &s.value).await?;
                    tracing::info!(task = %task, secret = %s.name, expires_at = minted.expires_at, "credential minted");
                    let token = minted.token.clone();
                    live.insert(key, (mint, minted));
                    token
                }
            };
            s.value = token;
        }
        Ok(())
    }

    /// Revokes the credentials minted for `task`.
    pub async fn task_ended(&self, task: &TaskId) {
        let ended: Vec<(Mint, Minted)> = {
            let mut live = self.live.lock().await;
            let keys: Vec<_> = live.keys().filter(|(t, _)| t == task).cloned().collect();
            keys.into_iter().filter_map(|k| live.remove(&k)).collect()
        };
        for (mint, minted) in ended {
            match self.minter.revoke(&mint, &minted.token).await {
                Ok(()) => tracing::info!(task = %task, "minted credential revoked"),
                Err(e) => {
                    tracing::warn!(task = %task, error = %e, "revoking a minted credential failed; it expires on its own")
                }
            }
        }
    }
}

/// GitHub App installation tokens.
pub struct GithubApp {
    client: HttpClient,
}

impl GithubApp {
    /// Talks to the API over `tls`; names in `resolve` go to the addresses given.
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        resolve: BTreeMap<String, Vec<std::net::IpAddr>>,
    ) -> Self {
        Self {
            client: HttpClient::new(tls, resolve, EXCHANGE_TIMEOUT),
        }
    }

    async fn call(
        &self,
        method: hyper::Method,
        url: &str,
        bearer: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(u16, Bytes), MintError> {
        let headers = [
            ("authorization", format!("Bearer {bearer}")),
            ("accept", "application/vnd.github+json".to_owned()),
            ("x-github-api-version", "2022-11-28".to_owned()),
            ("content-type", "application/json".to_owned()),
        ];
        let body = Bytes::from(body.map(|b| b.to_string()).unwrap_or_default());
        self.client
            .request(method, url, &headers, body)
            .await
            .map_err(|e| MintError::Unreachable(e.url, e.detail))
    }
}

#[derive(serde::Serialize)]
struct AppClaims {
    iat: i64,
    exp: i64,
    iss: String,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
    expires_at: String,
}

#[async_trait]
impl Minter for GithubApp {
    async fn mint(&self, mint: &Mint, key: &SecretValue) -> Result<Minted, MintError> {
        let Mint::GithubApp {
            app_id,
            installation_id,
            api,
            repositories,
            permissions,
        } = mint;
        let signing = jsonwebtoken::EncodingKey::from_rsa_pem(key.expose().as_bytes())
            .map_err(|e| MintError::Key(e.to_string()))?;
        let now = mandate_broker::now_secs();
        // GitHub allows clock drift of a minute and app JWTs of at most ten.
        let claims = AppClaims {
            iat: now - 60,
            exp: now + 540,
            iss: app_id.to_string(),
        };
        let jwt = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &signing,
        )
        .map_err(|e| MintError::Key(e.to_string()))?;
        let mut body = serde_json::Map::new();
        if !repositories.is_empty() {
            body.insert("repositories".into(), serde_json::json!(repositories));
        }
        if !permissions.is_empty() {
            body.insert("permissions".into(), serde_json::json!(permissions));
        }
        let url = format!("{api}/app/installations/{installation_id}/access_tokens");
        let (status, answer) = self
            .call(hyper::Method::POST, &url, &jwt, Some(body.into()))
            .await?;
        if !(200..300).contains(&status) {
            return Err(MintError::Refused(
                status,
                String::from_utf8_lossy(&answer).chars().take(300).collect(),
            ));
        }
        let t: AccessToken =
            serde_json::from_slice(&answer).map_err(|e| MintError::Answer(e.to_string()))?;
        let expires_at = humantime::parse_rfc3339(&t.expires_at)
            .map_err(|e| MintError::Answer(format!("expires_at: {e}")))?
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| MintError::Answer(e.to_string()))?
            .as_secs();
        Ok(Minted {
            token: SecretValue::minted(t.token).map_err(|e| MintError::Answer(e.to_string()))?,
            expires_at: i64::try_from(expires_at).unwrap_or(i64::MAX),
        })
    }

    async fn revoke(&self, mint: &Mint, token: &SecretValue) -> Result<(), MintError> {
        let Mint::GithubApp { api, .. } = mint;
        let url = format!("{api}/installation/token");
        let (status, answer) = self
            .call(hyper::Method::DELETE, &url, token.expose(), None)
            .await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(MintError::Refused(
                status,
                String::from_utf8_lossy(&answer).chars().take(300).collect(),
            ))
        }
    }
}
