//! Task tokens: short-lived JWTs (RFC 9068 access-token profile) signed with the broker's
//! Ed25519 key. The token *is* the signed mandate: `sub` is the task, `client_id` the
//! agent, `act` the delegation chain (RFC 8693) and `authorization_details` (RFC 9396)
//! the scope.
//!
//! [`Verifier::verify`] is the only way to get a [`Verified`] token, and the broker's
//! decision path requires one: a skipped check does not compile.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use mandate_cache::BoundedCache;
use mandate_types::{
    AgentId, Mandate, PrincipalId, ProfileName, Purpose, Scope, TaskId, UnixSeconds,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `typ` header of access tokens (RFC 9068 §2.1).
pub const TOKEN_TYPE: &str = "at+jwt";
/// The `authorization_details` type that carries a mandate's scope.
pub const DETAILS_TYPE: &str = "urn:mandate:task";
/// Most verified tokens remembered (a verify costs an Ed25519 signature check).
const MAX_VERIFIED_CACHE: usize = 16_384;

/// Why a token was refused. Every variant's message tells the human what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a JWT, or its header or claims are not what Mandate issues.
    #[error("malformed task token: {0}")]
    Malformed(String),
    /// `alg` is not EdDSA (this includes `alg: none`).
    #[error("task token uses algorithm {0:?}; only EdDSA tokens from this broker are accepted")]
    Algorithm(String),
    /// `typ` is not `at+jwt`.
    #[error("task token has type {0:?}; expected at+jwt (an ID token is not an access token)")]
    Type(String),
    /// The signing key is not one of this broker's.
    #[error(
        "task token was signed by an unknown key (kid {0:?}); it was not issued by this broker"
    )]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("task token signature is invalid; the token was forged or altered")]
    Signature,
    /// The token has expired.
    #[error("task token expired; start a new task (mandate task start)")]
    Expired,
    /// The token is not valid yet.
    #[error("task token is not valid yet (iat/nbf in the future); check the clock")]
    NotYetValid,
    /// Issued for another audience.
    #[error("task token is for another audience; expected {0:?}")]
    Audience(String),
    /// Issued by another issuer.
    #[error("task token is from another issuer; expected {0:?}")]
    Issuer(String),
}

/// An RFC 8693 actor claim: who acts, and who acted before them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The acting party.
    pub sub: String,
    /// The actor before this one in the delegation chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

/// The scope as an RFC 9396 authorization detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDetails {
    /// Always [`DETAILS_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The policy profile.
    pub profile: ProfileName,
    pub purpose: Purpose,
    /// Who delegated.
    pub delegator: PrincipalId,
    /// The parent task, for sub-agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<TaskId>,
    /// The kernel sandbox around the task, when it runs in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<mandate_types::SandboxLayers>,
    #[serde(flatten)]
    pub scope: Scope,
}

/// The claims of a task token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// The task.
    pub sub: TaskId,
    /// Audience.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: UnixSeconds,
    /// Issued at.
    pub iat: UnixSeconds,
    /// Not before.
    pub nbf: UnixSeconds,
    /// Token id (revocation handle).
    pub jti: String,
    /// The agent (RFC 9068 `client_id`).
    pub client_id: AgentId,
    /// The delegation chain (RFC 8693).
    pub act: Actor,
    /// The scope (RFC 9396), one entry of type [`DETAILS_TYPE`].
    pub authorization_details: Vec<TaskDetails>,
}

impl Claims {
    /// Builds the claims for a mandate.
    pub fn for_mandate(
        m: &Mandate,
        iss: &str,
        aud: &str,
        jti: String,
        chain: Option<Actor>,
    ) -> Self {
        Self {
            iss: iss.to_owned(),
            sub: m.task.clone(),
            aud: aud.to_owned(),
            exp: m.expires_at,
            iat: m.issued_at,
            nbf: m.issued_at,
            jti,
            client_id: m.agent.clone(),
            act: Actor {
                sub: m.agent.to_string(),
                act: chain.map(Box::new),
            },
            authorization_details: vec![TaskDetails {
                kind: DETAILS_TYPE.to_owned(),
                profile: m.profile.clone(),
                purpose: m.purpose.clone(),
                delegator: m.delegator.clone(),
                parent: m.parent.clone(),
                sandbox: m.sandbox,
                scope: m.scope.clone(),
            }],
        }
    }

    /// The mandate these claims carry.
    pub fn mandate(&self) -> Result<Mandate, TokenError> {
        let d = match self.authorization_details.as_slice() {
            [d] if d.kind == DETAILS_TYPE => d,
            _ => {
                return Err(TokenError::Malformed(format!(
                    "authorization_details must hold exactly one {DETAILS_TYPE:?} entry"
                )));
            }
        };
        Ok(Mandate {
            task: self.sub.clone(),
            delegator: d.delegator.clone(),
            agent: self.client_id.clone(),
            purpose: d.purpose.clone(),
            profile: d.profile.clone(),
            scope: d.scope.clone(),
            issued_at: self.iat,
            expires_at: self.exp,
            parent: d.parent.clone(),
            sandbox: d.sandbox,
        })
    }
}

/// A token that passed every check. Only [`Verifier::verify`] makes one.
#[derive(Debug, Clone)]
pub struct Verified {
    claims: Claims,
    mandate: Arc<Mandate>,
}

impl Verified {
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    pub fn mandate(&self) -> &Arc<Mandate> {
        &self.mandate
    }
}

/// The broker's signing key.
pub struct BrokerKey {
    signing: SigningKey,
    kid: String,
    encoding: EncodingKey,
}

impl std::fmt::Debug for BrokerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Why a key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key text is not a base64url 32-byte Ed25519 seed.
    #[error("broker key is not a base64url-encoded 32-byte Ed25519 seed")]
    Format,
    /// PKCS#8 encoding failed.
    #[error("cannot encode the broker key: {0}")]
    Encode(String),
}

impl BrokerKey {
    /// A fresh random key.
    #[expect(
        clippy::expect_used,
        reason = "from_seed fails only on a seed that does not encode; any 32 bytes do"
    )]
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        Self::from_seed(seed).expect("a fresh seed encodes")
    }

    fn from_seed(seed: [u8; 32]) -> Result<Self, KeyError> {
        let signing = SigningKey::from_bytes(&seed);
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| KeyError::Encode(e.to_string()))?;
        let kid = kid_of(&signing.verifying_key());
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            signing,
            kid,
        })
    }

    /// Loads a key from its stored text (see [`BrokerKey::to_text`]).
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| KeyError::Format)?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Format)?;
        Self::from_seed(seed)
    }

    /// The key as text for storage (the seed, base64url). Keep it private (mode 0600).
    pub fn to_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.to_bytes())
    }

    /// The key id (a thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            kid: self.kid.clone(),
            key: self.signing.verifying_key(),
        }
    }

    /// Signs a token for these claims.
    #[expect(
        clippy::expect_used,
        reason = "EdDSA signing with a key that parsed cannot fail, and the claims always serialise"
    )]
    pub fn sign(&self, claims: &Claims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TOKEN_TYPE.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("EdDSA signing with a valid key cannot fail")
    }

    /// Signs a Security Event Token (RFC 8417): `typ` is `secevent+jwt`, so it can never
    /// be taken for a task token.
    #[expect(
        clippy::expect_used,
        reason = "EdDSA signing with a key that parsed cannot fail, and a JSON value always serialises"
    )]
    pub fn sign_set(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("secevent+jwt".to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("EdDSA signing with a valid key cannot fail")
    }

    /// Signs arbitrary bytes (audit checkpoints).
    pub fn sign_bytes(&self, msg: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.signing.sign(msg).to_bytes())
    }
}

fn kid_of(k: &VerifyingKey) -> String {
    let d = Sha256::digest(k.as_bytes());
    URL_SAFE_NO_PAD.encode(&d[..12])
}

/// A public verification key with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    key: VerifyingKey,
}

impl PublicKey {
    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as a JWK (RFC 8037 OKP).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.key.as_bytes()),
        })
    }

    /// Parses a JWK made by [`PublicKey::jwk`].
    pub fn from_jwk(v: &serde_json::Value) -> Option<Self> {
        let x = v.get("x")?.as_str()?;
        let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(x).ok()?.try_into().ok()?;
        let key = VerifyingKey::from_bytes(&bytes).ok()?;
        Some(Self {
            kid: kid_of(&key),
            key,
        })
    }

    /// Verifies a signature made by [`BrokerKey::sign_bytes`].
    pub fn verify_bytes(&self, msg: &[u8], sig: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(sig) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else {
            return false;
        };
        self.key.verify(msg, &sig).is_ok()
    }
}

/// A JWKS document for a set of keys.
pub fn jwks(keys: &[PublicKey]) -> serde_json::Value {
    serde_json::json!({ "keys": keys.iter().map(PublicKey::jwk).collect::<Vec<_>>() })
}

/// Verifies task tokens, remembering good ones so a token's signature is checked once.
/// Expiry is checked on every call; revocation is the caller's (the broker's) check.
pub struct Verifier {
    issuer: String,
    audience: String,
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    cache: BoundedCache<String, Verified>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Clock skew allowed when judging `nbf` and `exp`, in seconds.
const LEEWAY_SECS: i64 = 5;

impl Verifier {
    /// A verifier for tokens from `issuer` to `audience`, signed by one of `keys`.
    pub fn new(issuer: &str, audience: &str, keys: &[PublicKey]) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        let keys = keys
            .iter()
            .map(|k| {
                #[expect(
                    clippy::expect_used,
                    reason = "we encode 32 bytes as base64url just above, so they decode"
                )]
                let dk = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(k.key.as_bytes()))
                    .expect("base64url of 32 bytes decodes");
                (k.kid.clone(), dk)
            })
            .collect();
        Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            keys,
            validation,
            cache: BoundedCache::new("token.verified", MAX_VERIFIED_CACHE),
        }
    }

    /// Verifies a token at time `now`: structure, `alg`, `typ`, key, signature, issuer,
    /// audience, expiry and not-before.
    pub fn verify(&self, token: &str, now: UnixSeconds) -> Result<Verified, TokenError> {
        if let Some(v) = self.cache.get(token) {
            // A verification is remembered, not the time it was made: the clock may
            // have moved either way since (and wall clocks do jump).
            if now >= v.claims.exp {
                return Err(TokenError::Expired);
            }
            if v.claims.nbf > now + LEEWAY_SECS {
                return Err(TokenError::NotYetValid);
            }
            return Ok(v);
        }
        let v = self.verify_uncached(token, now)?;
        self.cache.insert(token.to_owned(), v.clone());
        Ok(v)
    }

    fn verify_uncached(&self, token: &str, now: UnixSeconds) -> Result<Verified, TokenError> {
        if token.len() > 64 * 1024 {
            return Err(TokenError::Malformed("longer than 64 KiB".into()));
        }
        let header_b64 = token.split('.').next().unwrap_or("");
        let header: serde_json::Value = URL_SAFE_NO_PAD
            .decode(header_b64)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| TokenError::Malformed("the header is not base64url JSON".into()))?;
        let alg = header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
        if alg != "EdDSA" {
            return Err(TokenError::Algorithm(alg.to_owned()));
        }
        let typ = header.get("typ").and_then(|a| a.as_str()).unwrap_or("");
        if !typ.eq_ignore_ascii_case(TOKEN_TYPE) && !typ.eq_ignore_ascii_case("application/at+jwt")
        {
            return Err(TokenError::Type(typ.to_owned()));
        }
        let kid = header.get("kid").and_then(|a| a.as_str()).unwrap_or("");
        let key = self
            .keys
            .get(kid)
            .ok_or_else(|| TokenError::UnknownKey(kid.to_owned()))?;
        use jsonwebtoken::errors::ErrorKind;
        let data =
            jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(|e| {
                match e.kind() {
                    ErrorKind::InvalidSignature => TokenError::Signature,
                    ErrorKind::ExpiredSignature => TokenError::Expired,
                    ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                    ErrorKind::InvalidAudience => TokenError::Audience(self.audience.clone()),
                    ErrorKind::InvalidIssuer => TokenError::Issuer(self.issuer.clone()),
                    _ => TokenError::Malformed(e.to_string()),
                }
            })?;
        let claims = data.claims;
        // jsonwebtoken checks against the system clock; check against `now` as well so
        // callers (and tests) control time.
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        if claims.iat > now + 5 || claims.nbf > now + 5 {
            return Err(TokenError::NotYetValid);
        }
        let mandate = Arc::new(claims.mandate()?);
        Ok(Verified { claims, mandate })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mandate_types::AbsPath;

    fn mandate(now: i64, ttl: i64) -> Mandate {
        Mandate {
            task: TaskId::parse("task_abc").unwrap(),
            delegator: PrincipalId::parse("user:alice").unwrap(),
            agent: AgentId::parse("claude-code@laptop").unwrap(),
            purpose: Purpose::parse("fix the build").unwrap(),
            profile: ProfileName::parse("develop").unwrap(),
            scope: Scope {
                repos: vec![AbsPath::parse("repo", "/repo").unwrap()],
                ..Default::default()
            },
            issued_at: now,
            expires_at: now + ttl,
            parent: None,
            sandbox: None,
        }
    }

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    #[test]
    fn round_trip_carries_the_mandate() {
        let key = BrokerKey::generate();
        let m = mandate(now(), 600);
        let token = key.sign(&Claims::for_mandate(
            &m,
            "mandate",
            "mandate",
            "j1".into(),
            None,
        ));
        let v = Verifier::new("mandate", "mandate", &[key.public()]);
        let got = v.verify(&token, now()).unwrap();
        assert_eq!(**got.mandate(), m);
        assert_eq!(got.claims().act.sub, "claude-code@laptop");
        // A clock that jumped back before the token's issue makes it not yet valid,
        // cached or not.
        assert_eq!(
            v.verify(&token, now() - 3600).unwrap_err(),
            TokenError::NotYetValid
        );
        // Cached verification still checks expiry.
        assert_eq!(
            v.verify(&token, now() + 601).unwrap_err(),
            TokenError::Expired
        );
    }

    #[test]
    fn other_key_expired_and_alg_none_are_refused() {
        let key = BrokerKey::generate();
        let other = BrokerKey::generate();
        let v = Verifier::new("mandate", "mandate", &[key.public()]);
        let m = mandate(now(), 600);
        let forged = other.sign(&Claims::for_mandate(
            &m,
            "mandate",
            "mandate",
            "j".into(),
            None,
        ));
        assert!(matches!(
            v.verify(&forged, now()),
            Err(TokenError::UnknownKey(_))
        ));

        // Same kid, other key's signature: the signature check catches it.
        let good = key.sign(&Claims::for_mandate(
            &m,
            "mandate",
            "mandate",
            "j".into(),
            None,
        ));
        let parts: Vec<&str> = good.split('.').collect();
        let other_sig = forged.split('.').nth(2).unwrap();
        let spliced = format!("{}.{}.{}", parts[0], parts[1], other_sig);
        assert_eq!(
            v.verify(&spliced, now()).unwrap_err(),
            TokenError::Signature
        );

        let old = mandate(now() - 7200, 600);
        let expired = key.sign(&Claims::for_mandate(
            &old,
            "mandate",
            "mandate",
            "j".into(),
            None,
        ));
        assert_eq!(v.verify(&expired, now()).unwrap_err(), TokenError::Expired);

        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"at+jwt"}"#);
        let unsigned = format!("{none_header}.{}.", parts[1]);
        assert_eq!(
            v.verify(&unsigned, now()).unwrap_err(),
            TokenError::Algorithm("none".into())
        );

        let wrong_aud = key.sign(&Claims::for_mandate(
            &m,
            "mandate",
            "elsewhere",
            "j".into(),
            None,
        ));
        assert!(matches!(
            v.verify(&wrong_aud, now()),
            Err(TokenError::Audience(_))
        ));
        assert!(matches!(
            v.verify("garbage", now()),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn key_text_round_trips_and_checkpoint_signatures_verify() {
        let key = BrokerKey::generate();
        let again = BrokerKey::from_text(&key.to_text()).unwrap();
        assert_eq!(key.kid(), again.kid());
        let sig = key.sign_bytes(b"checkpoint");
        assert!(again.public().verify_bytes(b"checkpoint", &sig));
        assert!(!again.public().verify_bytes(b"checkpoinT", &sig));
        let jwk = key.public().jwk();
        assert_eq!(PublicKey::from_jwk(&jwk).unwrap(), key.public());
        assert!(BrokerKey::from_text("short").is_err());
    }
}
