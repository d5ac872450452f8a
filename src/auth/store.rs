//! Tokens and where they are kept: a [`TokenStore`] keyed per
//! authorization server (issuer) and protected resource, in memory or in a
//! file only its owner can read ([`FileTokenStore`](super::FileTokenStore),
//! in `store_file.rs`). Tokens and secrets never appear in `Debug` output
//! or logs.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::Result;

/// Seconds since the Unix epoch, now.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An access token and what came with it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Tokens {
    /// The access token (sent as `Authorization: Bearer ...`).
    pub access_token: String,
    /// The token type the server named (`Bearer`).
    #[serde(default)]
    pub token_type: Option<String>,
    /// The refresh token, if one was issued (kept across refreshes that
    /// do not rotate it).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix seconds), if the server said.
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// The scopes granted, space-separated, if the server said.
    #[serde(default)]
    pub scope: Option<String>,
}

impl Tokens {
    /// A bearer token with nothing else known about it.
    pub fn bearer(access_token: impl Into<String>) -> Tokens {
        Tokens {
            access_token: access_token.into(),
            token_type: Some("Bearer".into()),
            refresh_token: None,
            expires_at: None,
            scope: None,
        }
    }

    /// True if the token expires within `margin` (unknown expiry: never).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now_secs().saturating_add(margin.as_secs()))
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A client's identity at one authorization server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientCredentials {
    /// The client id (a URL for a Client ID Metadata Document).
    pub client_id: String,
    /// The client secret, for confidential clients.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The token endpoint authentication method the server assigned.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
}

impl ClientCredentials {
    /// A client id, with a secret if it has one.
    pub fn new(client_id: impl Into<String>, client_secret: Option<String>) -> Self {
        ClientCredentials {
            client_id: client_id.into(),
            client_secret,
            token_endpoint_auth_method: None,
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .finish()
    }
}

/// What is kept for one authorization server and resource.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, Debug)]
#[non_exhaustive]
pub struct StoredAuth {
    /// The client registered with that server (dynamically or by
    /// metadata document); pre-registered clients come from the config.
    #[serde(default)]
    pub client: Option<ClientCredentials>,
    /// The latest tokens.
    #[serde(default)]
    pub tokens: Option<Tokens>,
}

/// The key of a stored entry: the authorization server's issuer and the
/// protected resource. Credentials are never shared between issuers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StoreKey {
    /// The authorization server's issuer identifier.
    pub issuer: String,
    /// The protected resource (the `resource` parameter).
    pub resource: String,
}

/// Where tokens and registered clients are kept between requests (and,
/// for a persistent store, between runs).
pub trait TokenStore: Send + Sync + 'static {
    /// The entry for `key`, if any.
    fn load(&self, key: &StoreKey) -> Result<Option<StoredAuth>>;
    /// Replaces the entry for `key`.
    fn save(&self, key: &StoreKey, value: &StoredAuth) -> Result<()>;
    /// Forgets the entry for `key`.
    fn remove(&self, key: &StoreKey) -> Result<()>;
}

/// Keeps everything in memory: gone when the process ends.
#[derive(Default)]
pub struct MemoryTokenStore {
    entries: Mutex<HashMap<StoreKey, StoredAuth>>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryTokenStore")
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredAuth>> {
        Ok(lock(&self.entries).get(key).cloned())
    }

    fn save(&self, key: &StoreKey, value: &StoredAuth) -> Result<()> {
        lock(&self.entries).insert(key.clone(), value.clone());
        Ok(())
    }

    fn remove(&self, key: &StoreKey) -> Result<()> {
        lock(&self.entries).remove(key);
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A key for `issuer` and one fixed resource (shared with the file
    /// store's tests).
    pub(in crate::auth) fn key(issuer: &str) -> StoreKey {
        StoreKey {
            issuer: issuer.into(),
            resource: "https://mcp.example.com/mcp".into(),
        }
    }

    /// An entry with a client secret `s3cret` and the bearer `token`.
    pub(in crate::auth) fn entry(token: &str) -> StoredAuth {
        StoredAuth {
            client: Some(ClientCredentials::new("id", Some("s3cret".into()))),
            tokens: Some(Tokens::bearer(token)),
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let shown = format!("{:?}", entry("tok3n"));
        assert!(
            !shown.contains("tok3n") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("\"id\""));
    }

    #[test]
    fn memory_store_keys_by_issuer() {
        let s = MemoryTokenStore::new();
        s.save(&key("https://a"), &entry("a")).unwrap();
        assert_eq!(s.load(&key("https://a")).unwrap(), Some(entry("a")));
        assert_eq!(s.load(&key("https://b")).unwrap(), None);
        s.remove(&key("https://a")).unwrap();
        assert_eq!(s.load(&key("https://a")).unwrap(), None);
    }

    #[test]
    fn expiry() {
        let mut t = Tokens::bearer("x");
        assert!(!t.expires_within(Duration::from_secs(60)));
        t.expires_at = Some(now_secs() + 30);
        assert!(t.expires_within(Duration::from_secs(60)));
        assert!(!t.expires_within(Duration::from_secs(5)));
    }
}
