//! Checking a JWT access token a client presents (the resource server's
//! side, RFC 9068 / RFC 7519): its signature against the issuer's
//! published keys (a JWK Set, found through the issuer's metadata or
//! given), its issuer, audience and validity period.
//!
//! Accepted algorithms: RS256/384/512, PS256/384/512, ES256, ES384 and
//! EdDSA (Ed25519); `none` and the HMAC ones (a shared secret is not an
//! issuer's key) are refused. Keys are cached for ten minutes; a token
//! whose `kid` is unknown refetches them, at most every 30 s, so a key
//! rotation is picked up without letting bad tokens hammer the issuer.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::RwLock;
use url::Url;

use super::http::checked_url;
use super::metadata::{auth_server_metadata, fetch};
use crate::Result;

/// Default allowance for clock skew on `exp` and `nbf`: 60 s.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// How long fetched keys are trusted: ten minutes.
const KEYS_TTL: Duration = Duration::from_secs(600);
/// The shortest time between two fetches of the keys.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// The deadline of one metadata or key fetch.
const FETCH_DEADLINE: Duration = Duration::from_secs(10);

/// Why a token is refused. The message is for the server's log and for
/// the client's `WWW-Authenticate` `error_description`: it never holds
/// the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejected {
    /// Not a JWT (three base64url parts with JSON header and claims).
    #[error("the token is not a JWT: {0}")]
    Malformed(String),
    /// An algorithm this server does not accept.
    #[error("the token's algorithm {0} is not accepted")]
    Algorithm(String),
    /// No published key matches the token's `kid` and algorithm.
    #[error("no key of the issuer matches the token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    Signature,
    /// Past its `exp` (or it has none).
    #[error("the token has expired")]
    Expired,
    /// Before its `nbf`.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Issued by someone else.
    #[error("the token was issued by {0:?}, not by this server's issuer")]
    Issuer(String),
    /// Meant for another resource.
    #[error("the token is not meant for this server (audience)")]
    Audience,
    /// The issuer's keys could not be had.
    #[error("the issuer's keys are unavailable: {0}")]
    Keys(String),
}

/// The claims of a token that passed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// `sub`, if any.
    pub subject: Option<String>,
    /// `scope` (space-separated) or `scp`, as a list.
    pub scopes: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub expires_at: u64,
    /// Every claim as it came.
    pub all: Map<String, Value>,
}

/// One key of a JWK Set, the fields used.
#[derive(Debug, Clone, Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    usage: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

#[derive(Default)]
struct KeyCache {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
}

/// Checks JWT access tokens of one issuer for one resource.
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    jwks_url: Option<Url>,
    leeway: Duration,
    http: reqwest::Client,
    cache: RwLock<KeyCache>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("jwks_url", &self.jwks_url.as_ref().map(Url::as_str))
            .finish_non_exhaustive()
    }
}

fn b64(part: &str) -> std::result::Result<Vec<u8>, TokenRejected> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenRejected::Malformed("a part is not base64url".into()))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl JwtVerifier {
    /// Tokens of `issuer` (an `https` URL, or `http` on loopback) whose
    /// `aud` names one of `audiences` (the resource's canonical URL,
    /// normally). Its keys come from the issuer's metadata (`jwks_uri`)
    /// unless [`JwtVerifier::jwks_url`] gives them; leeway
    /// [`DEFAULT_LEEWAY`].
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>) -> Result<Self> {
        let issuer = issuer.into();
        checked_url("the token issuer", &issuer)?;
        Ok(JwtVerifier {
            issuer,
            audiences,
            jwks_url: None,
            leeway: DEFAULT_LEEWAY,
            http: super::http::client(FETCH_DEADLINE)?,
            cache: RwLock::new(KeyCache::default()),
        })
    }

    /// Reads the keys from `url` instead of the issuer's metadata.
    pub fn jwks_url(mut self, url: &str) -> Result<Self> {
        self.jwks_url = Some(checked_url("the JWK Set URL", url)?);
        Ok(self)
    }

    /// The allowance for clock skew (default [`DEFAULT_LEEWAY`]).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The issuer tokens must come from.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Checks `token`; its claims when it passes.
    pub async fn verify(&self, token: &str) -> std::result::Result<Claims, TokenRejected> {
        let mut parts = token.split('.');
        let (Some(head), Some(body), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenRejected::Malformed("not three parts".into()));
        };
        let header: Header = serde_json::from_slice(&b64(head)?)
            .map_err(|e| TokenRejected::Malformed(format!("header: {e}")))?;
        let algorithm = algorithm(&header.alg)?;
        let signed = &token.as_bytes()[..head.len() + 1 + body.len()];
        let signature = b64(sig)?;
        let key = self.key(&header).await?;
        if !verifies(&key, algorithm, signed, &signature) {
            return Err(TokenRejected::Signature);
        }
        let all: Map<String, Value> = serde_json::from_slice(&b64(body)?)
            .map_err(|e| TokenRejected::Malformed(format!("claims: {e}")))?;
        self.check_claims(all)
    }

    fn check_claims(&self, all: Map<String, Value>) -> std::result::Result<Claims, TokenRejected> {
        let now = now();
        let leeway = self.leeway.as_secs();
        let issuer = all.get("iss").and_then(Value::as_str).unwrap_or_default();
        if issuer != self.issuer {
            return Err(TokenRejected::Issuer(issuer.to_owned()));
        }
        let audience_ok = match all.get("aud") {
            Some(Value::String(a)) => self.audiences.iter().any(|x| x == a),
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(Value::as_str)
                .any(|a| self.audiences.iter().any(|x| x == a)),
            _ => false,
        };
        if !audience_ok {
            return Err(TokenRejected::Audience);
        }
        let expires_at = all.get("exp").and_then(Value::as_u64).unwrap_or(0);
        if expires_at.saturating_add(leeway) <= now {
            return Err(TokenRejected::Expired);
        }
        if let Some(nbf) = all.get("nbf").and_then(Value::as_u64) {
            if nbf > now.saturating_add(leeway) {
                return Err(TokenRejected::NotYetValid);
            }
        }
        let scopes = match (all.get("scope"), all.get("scp")) {
            (Some(Value::String(s)), _) => s.split_whitespace().map(str::to_owned).collect(),
            (_, Some(Value::Array(list))) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Claims {
            subject: all.get("sub").and_then(Value::as_str).map(str::to_owned),
            scopes,
            expires_at,
            all,
        })
    }

    /// The key for `header`: from the cache, or fetched again when the
    /// cache is stale or does not know the key (at most every 30 s).
    async fn key(&self, header: &Header) -> std::result::Result<Jwk, TokenRejected> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched.is_some_and(|t| t.elapsed() < KEYS_TTL);
            if let (true, Some(key)) = (fresh, pick(&cache.keys, header)) {
                return Ok(key);
            }
        }
        let mut cache = self.cache.write().await;
        if let Some(key) = pick(&cache.keys, header) {
            if cache.fetched.is_some_and(|t| t.elapsed() < KEYS_TTL) {
                return Ok(key);
            }
        }
        let recent = cache.fetched.is_some_and(|t| t.elapsed() < REFETCH_AFTER);
        if !recent {
            cache.keys = self.fetch_keys().await?;
            cache.fetched = Some(Instant::now());
        }
        pick(&cache.keys, header).ok_or(TokenRejected::UnknownKey)
    }

    async fn fetch_keys(&self) -> std::result::Result<Vec<Jwk>, TokenRejected> {
        let keys = |e: crate::Error| TokenRejected::Keys(e.to_string());
        let url = match &self.jwks_url {
            Some(url) => url.clone(),
            None => {
                let metadata = auth_server_metadata(&self.http, &self.issuer, true, FETCH_DEADLINE)
                    .await
                    .map_err(keys)?
                    .ok_or_else(|| {
                        TokenRejected::Keys(format!("no metadata found for {}", self.issuer))
                    })?;
                let raw = metadata.jwks_uri.ok_or_else(|| {
                    TokenRejected::Keys("the issuer's metadata has no jwks_uri".into())
                })?;
                checked_url("jwks_uri", &raw).map_err(keys)?
            }
        };
        let set: JwkSet = fetch(&self.http, "the issuer's JWK Set", &url, FETCH_DEADLINE)
            .await
            .map_err(keys)?
            .ok_or_else(|| TokenRejected::Keys(format!("no JWK Set at {url}")))?;
        tracing::debug!(issuer = %self.issuer, keys = set.keys.len(), "fetched the issuer's keys");
        Ok(set.keys)
    }
}

/// The key `header` names: by `kid` when it has one, else the only key
/// of a fitting type; never an encryption key or one for another
/// algorithm.
fn pick(keys: &[Jwk], header: &Header) -> Option<Jwk> {
    let fits = |k: &&Jwk| {
        k.usage.as_deref().is_none_or(|u| u == "sig")
            && k.alg.as_deref().is_none_or(|a| a == header.alg)
            && kty_for(&header.alg) == Some(k.kty.as_str())
    };
    match &header.kid {
        Some(kid) => keys
            .iter()
            .filter(fits)
            .find(|k| k.kid.as_deref() == Some(kid)),
        None => {
            let mut fitting = keys.iter().filter(fits);
            match (fitting.next(), fitting.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    }
    .cloned()
}

fn kty_for(alg: &str) -> Option<&'static str> {
    match alg {
        "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" => Some("RSA"),
        "ES256" | "ES384" => Some("EC"),
        "EdDSA" => Some("OKP"),
        _ => None,
    }
}

/// What verifies `alg`'s signatures.
enum Algorithm {
    Rsa(&'static signature::RsaParameters),
    Ec(&'static signature::EcdsaVerificationAlgorithm, &'static str),
    Ed25519,
}

fn algorithm(alg: &str) -> std::result::Result<Algorithm, TokenRejected> {
    Ok(match alg {
        "RS256" => Algorithm::Rsa(&signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => Algorithm::Rsa(&signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => Algorithm::Rsa(&signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => Algorithm::Rsa(&signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => Algorithm::Rsa(&signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => Algorithm::Rsa(&signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => Algorithm::Ec(&signature::ECDSA_P256_SHA256_FIXED, "P-256"),
        "ES384" => Algorithm::Ec(&signature::ECDSA_P384_SHA384_FIXED, "P-384"),
        "EdDSA" => Algorithm::Ed25519,
        other => return Err(TokenRejected::Algorithm(other.to_owned())),
    })
}

fn verifies(key: &Jwk, algorithm: Algorithm, message: &[u8], sig: &[u8]) -> bool {
    let part = |v: &Option<String>| v.as_deref().and_then(|p| URL_SAFE_NO_PAD.decode(p).ok());
    match algorithm {
        Algorithm::Rsa(params) => {
            let (Some(n), Some(e)) = (part(&key.n), part(&key.e)) else {
                return false;
            };
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(params, message, sig)
                .is_ok()
        }
        Algorithm::Ec(alg, curve) => {
            let (Some(x), Some(y)) = (part(&key.x), part(&key.y)) else {
                return false;
            };
            if key.crv.as_deref() != Some(curve) {
                return false;
            }
            let mut point = Vec::with_capacity(1 + x.len() + y.len());
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            verify_with(alg, &point, message, sig)
        }
        Algorithm::Ed25519 => {
            let Some(x) = part(&key.x) else {
                return false;
            };
            key.crv.as_deref() == Some("Ed25519")
                && verify_with(&signature::ED25519, &x, message, sig)
        }
    }
}

fn verify_with(
    alg: &'static dyn VerificationAlgorithm,
    key: &[u8],
    message: &[u8],
    sig: &[u8],
) -> bool {
    UnparsedPublicKey::new(alg, key)
        .verify(message, sig)
        .is_ok()
}
