//! [`OAuth`]: the MCP authorization spec as an [`AuthProvider`] for one
//! server. On a 401 it discovers the authorization server, identifies the
//! client, runs the authorization code flow with PKCE (or the client
//! credentials grant) and keeps the tokens; on a 403 `insufficient_scope`
//! it re-authorizes with the union of the scopes; tokens about to expire
//! are refreshed first. One flow or refresh at a time per server.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::Url;

use super::assertion::{jwt_bearer_form, Assertion};
use super::challenge::{oauth_challenge, wants_dpop_nonce};
use super::dpop::Dpop;
use super::flow::{self, select_scopes, union_scopes};
use super::handler::AuthorizationHandler;
use super::jwt::SigningKey;
use super::metadata::{discover, Discovery};
use super::provider::{AuthProvider, Refusal};
use super::registration::{choose_client_auth, register, ClientMetadata};
use super::store::{ClientCredentials, MemoryTokenStore, StoreKey, StoredAuth, TokenStore, Tokens};
use super::token_exchange::TokenExchange;
use super::{browser::BrowserHandler, http};
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// Refresh a token this long before it expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Which grant obtains tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Grant {
    /// Authorization code with PKCE: a user authorizes (the default).
    #[default]
    AuthorizationCode,
    /// Client credentials (the `oauth-client-credentials` extension): a
    /// machine client with a pre-registered id and secret.
    ClientCredentials,
    /// The RFC 7523 JWT-bearer grant: a JWT the client holds (e.g. a
    /// workload identity token, SEP-1933) is the grant, from
    /// [`OAuthConfig::assertion`]. Its audience must be the authorization
    /// server's issuer. A refused assertion is an error at once: the
    /// request is not retried and no other grant is tried.
    JwtBearer,
    /// Enterprise-managed authorization (SEP-990, cross-app access): the
    /// user's ID token is exchanged at the identity provider for an
    /// ID-JAG ([`OAuthConfig::token_exchange`]), then presented to the
    /// MCP server's authorization server as a JWT-bearer grant by the
    /// pre-registered client ([`OAuthConfig::client_id`]).
    IdJag,
}

impl Grant {
    /// True for the grants that need a person at a browser.
    fn interactive(self) -> bool {
        self == Grant::AuthorizationCode
    }
}

/// How to authorize to one server. Every field has a default; the client
/// secret is never shown by `Debug`.
#[derive(Clone)]
pub struct OAuthConfig {
    client_id: Option<String>,
    client_secret: Option<String>,
    signing_key: Option<SigningKey>,
    assertion: Option<Assertion>,
    token_exchange: Option<TokenExchange>,
    dpop: bool,
    dpop_key: Option<SigningKey>,
    issuer: Option<String>,
    client_metadata_url: Option<String>,
    client_name: String,
    scopes: Vec<String>,
    redirect_uri: Option<String>,
    grant: Grant,
    timeout: Duration,
    handler: Option<Arc<dyn AuthorizationHandler>>,
    store: Option<Arc<dyn TokenStore>>,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            client_id: None,
            client_secret: None,
            signing_key: None,
            assertion: None,
            token_exchange: None,
            dpop: false,
            dpop_key: None,
            issuer: None,
            client_metadata_url: None,
            client_name: "Switchboard".into(),
            scopes: Vec::new(),
            redirect_uri: None,
            grant: Grant::AuthorizationCode,
            timeout: Duration::from_secs(30),
            handler: None,
            store: None,
        }
    }
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("signing_key", &self.signing_key)
            .field("assertion", &self.assertion)
            .field("token_exchange", &self.token_exchange)
            .field("dpop", &self.dpop)
            .field("dpop_key", &self.dpop_key)
            .field("issuer", &self.issuer)
            .field("client_metadata_url", &self.client_metadata_url)
            .field("client_name", &self.client_name)
            .field("scopes", &self.scopes)
            .field("redirect_uri", &self.redirect_uri)
            .field("grant", &self.grant)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OAuthConfig {
    /// The defaults: dynamic registration (or a metadata document, when
    /// set and supported), the browser handler, an in-memory store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A pre-registered client id (used before anything else).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The pre-registered client's secret (a confidential client).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// A pre-registered client that authenticates with a signed JWT
    /// (`private_key_jwt`, ES256) instead of a secret.
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// The JWT presented by the [`Grant::JwtBearer`] grant (read again at
    /// each token request when it is a file).
    pub fn assertion(mut self, assertion: Assertion) -> Self {
        self.assertion = Some(assertion);
        self
    }

    /// Where the [`Grant::IdJag`] grant gets its ID-JAG: the identity
    /// provider's token endpoint and the user's ID token.
    pub fn token_exchange(mut self, exchange: TokenExchange) -> Self {
        self.token_exchange = Some(exchange);
        self
    }

    /// Use DPoP (RFC 9449, the MCP `dpop` extension) with authorization
    /// servers that advertise ES256 in `dpop_signing_alg_values_supported`
    /// (default off): token requests carry a proof, and a token the
    /// server binds to the key (`token_type` `DPoP`) is sent as
    /// `Authorization: DPoP ...` with a fresh proof on every request.
    /// Servers that ask for a nonce (`use_dpop_nonce`) get it on the
    /// retried request; a nonce a successful response hands out
    /// (`DPoP-Nonce`) goes in the next proof to that server. The key is
    /// [`OAuthConfig::dpop_key`], else one generated for this provider
    /// (tokens in a file store then outlive it: after a restart they are
    /// refused and authorization runs again).
    pub fn dpop(mut self, enabled: bool) -> Self {
        self.dpop = enabled;
        self
    }

    /// The P-256 key DPoP proofs are signed with (implies
    /// [`OAuthConfig::dpop`]); keep it with the token store so stored
    /// DPoP-bound tokens stay usable.
    pub fn dpop_key(mut self, key: SigningKey) -> Self {
        self.dpop = true;
        self.dpop_key = Some(key);
        self
    }

    /// The issuer the pre-registered client belongs to: authorization
    /// fails if the server's authorization server is another one.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// An `https` URL serving this client's Client ID Metadata Document,
    /// used as the client id where the authorization server supports it.
    pub fn client_metadata_url(mut self, url: impl Into<String>) -> Self {
        self.client_metadata_url = Some(url.into());
        self
    }

    /// The name sent when registering dynamically.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }

    /// Scopes to ask for when neither the server's challenge nor its
    /// resource metadata names any.
    pub fn scopes(mut self, scopes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The redirect URI (when the handler does not choose one). A
    /// loopback `http` URI with a port makes the default browser handler
    /// listen on that port.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Which grant to use.
    pub fn grant(mut self, grant: Grant) -> Self {
        self.grant = grant;
        self
    }

    /// The deadline of each call to the authorization server (default
    /// 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Who visits the authorization URL (default: a [`BrowserHandler`],
    /// created on first use).
    pub fn handler(mut self, handler: Arc<dyn AuthorizationHandler>) -> Self {
        self.handler = Some(handler);
        self
    }

    /// Where tokens and registrations are kept (default: in memory).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The provider.
    pub fn build(self) -> Result<OAuth> {
        OAuth::new(self)
    }
}

#[derive(Default)]
struct State {
    current: Option<(StoreKey, Tokens)>,
    requested: Vec<String>,
    discovery: Option<Discovery>,
}

/// The MCP authorization flow for one server (see the module docs). Give
/// it to [`crate::transport::HttpConfig::auth`] or
/// [`crate::Source::http_with_auth`].
pub struct OAuth {
    config: OAuthConfig,
    http: reqwest::Client,
    store: Arc<dyn TokenStore>,
    handler: Mutex<Option<Arc<dyn AuthorizationHandler>>>,
    state: Mutex<State>,
    dpop: Option<Dpop>,
    /// One flow or refresh at a time.
    flow: tokio::sync::Mutex<()>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OAuth {
    /// A provider with `config`.
    pub fn new(config: OAuthConfig) -> Result<OAuth> {
        if config.grant == Grant::ClientCredentials
            && (config.client_id.is_none()
                || (config.client_secret.is_none() && config.signing_key.is_none()))
        {
            return Err(Error::config(
                "OAuth client credentials need a client_id and a client_secret or signing key",
            ));
        }
        if config.grant == Grant::JwtBearer && config.assertion.is_none() {
            return Err(Error::config(
                "the OAuth JWT-bearer grant needs an assertion (a JWT or a file holding one)",
            ));
        }
        if config.grant == Grant::IdJag
            && (config.token_exchange.is_none() || config.client_id.is_none())
        {
            return Err(Error::config(
                "the OAuth ID-JAG grant needs a token exchange (the identity provider's token endpoint and ID token) and a client_id",
            ));
        }
        let dpop = match (&config.dpop_key, config.dpop) {
            (Some(key), _) => Some(Dpop::new(key.clone())),
            (None, true) => Some(Dpop::new(SigningKey::generate()?)),
            (None, false) => None,
        };
        Ok(OAuth {
            dpop,
            http: http::client(config.timeout)?,
            store: config
                .store
                .clone()
                .unwrap_or_else(|| Arc::new(MemoryTokenStore::new())),
            handler: Mutex::new(config.handler.clone()),
            config,
            state: Mutex::new(State::default()),
            flow: tokio::sync::Mutex::new(()),
        })
    }

    /// The `Authorization` value for `t`: `DPoP` for a token bound to our
    /// key, else `Bearer`.
    fn auth_value(&self, t: &Tokens) -> String {
        let bound = t
            .token_type
            .as_deref()
            .is_some_and(|ty| ty.eq_ignore_ascii_case("dpop"));
        if bound && self.dpop.is_some() {
            format!("DPoP {}", t.access_token)
        } else {
            format!("Bearer {}", t.access_token)
        }
    }

    /// The DPoP prover, when enabled and the authorization server
    /// advertises ES256 proofs.
    fn dpop_for(&self, d: &Discovery) -> Option<&Dpop> {
        let advertised = d
            .metadata
            .as_ref()
            .and_then(|m| m.dpop_signing_alg_values_supported.as_deref())
            .is_some_and(|algs| algs.iter().any(|a| a == "ES256"));
        self.dpop.as_ref().filter(|_| advertised)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self) -> Option<(StoreKey, Tokens)> {
        self.state().current.clone()
    }

    fn handler(&self) -> Result<Arc<dyn AuthorizationHandler>> {
        let mut h = self.handler.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = h.as_ref() {
            return Ok(h.clone());
        }
        let port = self
            .config
            .redirect_uri
            .as_deref()
            .and_then(|r| Url::parse(r).ok())
            .filter(|u| u.scheme() == "http" && http::is_loopback(u))
            .and_then(|u| u.port())
            .unwrap_or(0);
        let made: Arc<dyn AuthorizationHandler> = Arc::new(BrowserHandler::on_port(port)?);
        *h = Some(made.clone());
        Ok(made)
    }

    fn adopt(&self, key: StoreKey, tokens: Tokens, requested: Option<Vec<String>>, d: Discovery) {
        let mut s = self.state();
        s.current = Some((key, tokens));
        if let Some(r) = requested {
            s.requested = r;
        }
        s.discovery = Some(d);
    }

    fn configured_client(&self) -> Option<ClientCredentials> {
        self.config
            .client_id
            .as_ref()
            .map(|id| ClientCredentials::new(id.clone(), self.config.client_secret.clone()))
    }

    /// The client to present to the discovered authorization server:
    /// pre-registered, else registered before (same issuer), else a
    /// metadata document URL, else a dynamic registration.
    async fn client_for(
        &self,
        d: &Discovery,
        entry: &mut StoredAuth,
        scopes: &[String],
    ) -> Result<ClientCredentials> {
        if let Some(c) = self.configured_client() {
            if let Some(iss) = self.config.issuer.as_deref().filter(|i| *i != d.issuer) {
                return Err(Error::auth(AuthErrorKind::Unsafe, format!(
                    "the pre-registered client belongs to {iss}, but this server's authorization server is {}",
                    d.issuer
                )));
            }
            return Ok(c);
        }
        if let Some(c) = &entry.client {
            return Ok(c.clone());
        }
        let cimd = d
            .metadata
            .as_ref()
            .and_then(|m| m.client_id_metadata_document_supported)
            .unwrap_or(false);
        if let (true, Some(url)) = (cimd, &self.config.client_metadata_url) {
            let mut c = ClientCredentials::new(url.clone(), None);
            c.token_endpoint_auth_method = Some("none".into());
            return Ok(c);
        }
        let Some(endpoint) = &d.registration_endpoint else {
            return Err(Error::auth(
                AuthErrorKind::Registration,
                format!(
                    "{} offers no dynamic client registration: configure a client_id for it",
                    d.issuer
                ),
            ));
        };
        let meta = ClientMetadata {
            client_name: self.config.client_name.clone(),
            redirect_uri: self.redirect_uri()?,
            scope: (!scopes.is_empty()).then(|| scopes.join(" ")),
            client_credentials: self.config.grant == Grant::ClientCredentials,
        };
        let c = register(&self.http, endpoint, &meta, self.config.timeout).await?;
        tracing::debug!(issuer = %d.issuer, client_id = %c.client_id, "registered a client");
        entry.client = Some(c.clone());
        Ok(c)
    }

    fn redirect_uri(&self) -> Result<String> {
        if !self.config.grant.interactive() {
            return Ok(String::new());
        }
        let h = self.handler()?;
        Ok(h.redirect_uri()
            .or_else(|| self.config.redirect_uri.clone())
            .unwrap_or_else(|| "http://127.0.0.1/callback".into()))
    }

    fn auth_method(&self, d: &Discovery, c: &ClientCredentials) -> super::ClientAuth {
        if self.config.signing_key.is_some() {
            return super::ClientAuth::PrivateKeyJwt;
        }
        let supported = d
            .metadata
            .as_ref()
            .and_then(|m| m.token_endpoint_auth_methods_supported.as_deref());
        choose_client_auth(c, supported)
    }

    async fn refresh(
        &self,
        d: &Discovery,
        client: &ClientCredentials,
        refresh_token: String,
    ) -> Result<Tokens> {
        let form = vec![
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh_token.clone()),
            ("resource", d.resource.clone()),
        ];
        let how = self.auth_method(d, client);
        self.token_request(
            d,
            form,
            client,
            how,
            Some(refresh_token),
            self.config.timeout,
        )
        .await
    }

    async fn obtain(
        &self,
        d: &Discovery,
        client: &ClientCredentials,
        scopes: &[String],
    ) -> Result<Tokens> {
        let how = self.auth_method(d, client);
        let form = match self.config.grant {
            Grant::AuthorizationCode => None,
            Grant::ClientCredentials => {
                let mut form = vec![
                    ("grant_type", "client_credentials".to_owned()),
                    ("resource", d.resource.clone()),
                ];
                if !scopes.is_empty() {
                    form.push(("scope", scopes.join(" ")));
                }
                Some(form)
            }
            Grant::JwtBearer => {
                let Some(assertion) = &self.config.assertion else {
                    return Err(Error::config("the JWT-bearer grant has no assertion"));
                };
                Some(jwt_bearer_form(
                    assertion.read().await?,
                    &d.resource,
                    scopes,
                ))
            }
            Grant::IdJag => {
                let Some(exchange) = &self.config.token_exchange else {
                    return Err(Error::config("the ID-JAG grant has no token exchange"));
                };
                let id_jag = exchange
                    .request_id_jag(
                        &self.http,
                        &d.issuer,
                        &d.resource,
                        scopes,
                        self.config.timeout,
                    )
                    .await?;
                tracing::debug!(issuer = %d.issuer, "exchanged the ID token for an ID-JAG");
                Some(jwt_bearer_form(id_jag, &d.resource, scopes))
            }
        };
        if let Some(form) = form {
            return self
                .token_request(d, form, client, how, None, self.config.timeout)
                .await;
        }
        let redirect_uri = self.redirect_uri()?;
        let pending = flow::authorization_request(
            &d.authorization_endpoint,
            d.metadata.as_ref(),
            &d.issuer,
            &client.client_id,
            &redirect_uri,
            scopes,
            &d.resource,
        )?;
        tracing::debug!(issuer = %d.issuer, scopes = %scopes.join(" "), "asking for authorization");
        let back = self.handler()?.authorize(&pending.url).await?;
        let code =
            flow::check_redirect(&back, &pending.state, &pending.issuer, pending.iss_required)?;
        let form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", pending.redirect_uri.clone()),
            ("code_verifier", pending.pkce.verifier().to_owned()),
            ("resource", d.resource.clone()),
        ];
        self.token_request(d, form, client, how, None, self.config.timeout)
            .await
    }

    /// A token request, with the client's signed assertion when it
    /// authenticates by key.
    #[allow(clippy::too_many_arguments)]
    async fn token_request(
        &self,
        d: &Discovery,
        form: Vec<(&'static str, String)>,
        client: &ClientCredentials,
        how: super::ClientAuth,
        refresh_token: Option<String>,
        timeout: Duration,
    ) -> Result<Tokens> {
        let client_key = match (how, &self.config.signing_key) {
            // The audience is the authorization server's issuer (what
            // servers check; RFC 7523 allows it alongside the endpoint).
            (super::ClientAuth::PrivateKeyJwt, Some(key)) => Some((key, d.issuer.as_str())),
            _ => None,
        };
        let signers = flow::Signers {
            client_key,
            dpop: self.dpop_for(d),
        };
        flow::token_request(
            &self.http,
            &d.token_endpoint,
            form,
            client,
            how,
            refresh_token,
            timeout,
            signers,
        )
        .await
    }

    async fn handle(&self, r: Refusal<'_>) -> Result<bool> {
        let headers = || r.www_authenticate.iter().map(String::as_str);
        if let (401, Some(dpop), Some(nonce)) = (r.status, &self.dpop, r.dpop_nonce.as_deref()) {
            if wants_dpop_nonce(headers()) {
                // RFC 9449 §9: the next proof carries the server's nonce.
                // The transport bounds how often a request is sent again.
                tracing::debug!("the server wants a DPoP nonce; sending the request again");
                return Ok(dpop.learn_nonce(r.server_url, nonce));
            }
        }
        let challenge = oauth_challenge(headers()).unwrap_or_default();
        let step_up = match r.status {
            401 => false,
            403 if challenge.error() == Some("insufficient_scope") => true,
            _ => return Ok(false),
        };
        let _one_at_a_time = self.flow.lock().await;
        let current = self.current();
        let current_header = current.as_ref().map(|(_, t)| self.auth_value(t));
        if current_header.is_some() && current_header.as_deref() != r.sent_authorization {
            // Another request renewed the credentials while this one was
            // refused: try again with them.
            return Ok(true);
        }
        let scopes = if step_up {
            let before = self.state().requested.clone();
            let wanted = union_scopes(&before, &challenge.scopes());
            if wanted == before {
                tracing::warn!(
                    "the server wants scopes that were already granted; not asking again"
                );
                return Ok(false);
            }
            Some(wanted)
        } else {
            None
        };
        let d = discover(
            &self.http,
            r.server_url,
            challenge.resource_metadata(),
            self.config.issuer.as_deref(),
            self.config.timeout,
        )
        .await?;
        let key = StoreKey {
            issuer: d.issuer.clone(),
            resource: d.resource.clone(),
        };
        let mut entry = self.store.load(&key)?.unwrap_or_default();
        if !step_up {
            if let Some(t) = entry.tokens.take() {
                if Some(self.auth_value(&t).as_str()) != r.sent_authorization
                    && !t.expires_within(Duration::ZERO)
                {
                    tracing::debug!(issuer = %d.issuer, "using a stored token");
                    self.adopt(key, t, None, d);
                    return Ok(true);
                }
                let client = entry.client.clone().or_else(|| self.configured_client());
                if let (Some(rt), Some(client)) = (t.refresh_token.clone(), client) {
                    match self.refresh(&d, &client, rt).await {
                        Ok(new) => {
                            entry.tokens = Some(new.clone());
                            self.store.save(&key, &entry)?;
                            self.adopt(key, new, None, d);
                            return Ok(true);
                        }
                        Err(e) => tracing::debug!("refreshing failed, authorizing again: {e}"),
                    }
                }
            }
        }
        let scopes = match scopes {
            Some(s) => s,
            None => select_scopes(
                &challenge.scopes(),
                d.resource_scopes.as_deref(),
                &self.config.scopes,
                d.metadata
                    .as_ref()
                    .and_then(|m| m.scopes_supported.as_deref()),
            ),
        };
        let client = self.client_for(&d, &mut entry, &scopes).await?;
        let tokens = self.obtain(&d, &client, &scopes).await?;
        entry.tokens = Some(tokens.clone());
        self.store.save(&key, &entry)?;
        self.adopt(key, tokens, Some(scopes), d);
        Ok(true)
    }

    async fn header(&self) -> Result<Option<String>> {
        let Some((key, t)) = self.current() else {
            return Ok(None);
        };
        if !(t.expires_within(REFRESH_MARGIN) && t.refresh_token.is_some()) {
            return Ok(Some(self.auth_value(&t)));
        }
        let _one_at_a_time = self.flow.lock().await;
        let (Some((key2, t2)), Some(d)) = (self.current(), self.state().discovery.clone()) else {
            return Ok(Some(self.auth_value(&t)));
        };
        if key2 != key || t2 != t {
            return Ok(Some(self.auth_value(&t2)));
        }
        let mut entry = self.store.load(&key)?.unwrap_or_default();
        let client = entry.client.clone().or_else(|| self.configured_client());
        let (Some(rt), Some(client)) = (t.refresh_token.clone(), client) else {
            return Ok(Some(self.auth_value(&t)));
        };
        match self.refresh(&d, &client, rt).await {
            Ok(new) => {
                entry.tokens = Some(new.clone());
                self.store.save(&key, &entry)?;
                let h = self.auth_value(&new);
                self.adopt(key, new, None, d);
                Ok(Some(h))
            }
            Err(e) => {
                // The server will refuse the old token; the 401 path
                // authorizes again.
                tracing::debug!("refreshing an expiring token failed: {e}");
                Ok(Some(self.auth_value(&t)))
            }
        }
    }
}

impl AuthProvider for OAuth {
    fn authorization<'a>(&'a self, _server_url: &'a Url) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(self.header())
    }

    fn refused<'a>(&'a self, refusal: Refusal<'a>) -> BoxFuture<'a, Result<bool>> {
        Box::pin(self.handle(refusal))
    }

    fn dpop_proof(&self, method: &str, url: &Url, authorization: &str) -> Result<Option<String>> {
        match (&self.dpop, authorization.strip_prefix("DPoP ")) {
            (Some(dpop), Some(token)) => dpop.proof(method, url, Some(token)).map(Some),
            _ => Ok(None),
        }
    }

    fn observe_nonce(&self, server_url: &Url, nonce: &str) {
        if let Some(dpop) = &self.dpop {
            dpop.learn_nonce(server_url, nonce);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(proof: &str) -> serde_json::Value {
        let payload = proof.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn a_resource_servers_nonce_is_learned_and_the_request_retried() {
        let oauth = OAuthConfig::new().dpop(true).build().unwrap();
        let url = Url::parse("http://127.0.0.1:9/mcp").unwrap();
        let first = oauth.dpop_proof("POST", &url, "DPoP tok").unwrap().unwrap();
        assert!(claims(&first).get("nonce").is_none());
        let retry = oauth
            .refused(Refusal {
                status: 401,
                www_authenticate: vec![r#"DPoP error="use_dpop_nonce", algs="ES256""#.into()],
                server_url: &url,
                sent_authorization: Some("DPoP tok"),
                dpop_nonce: Some("rs-nonce".into()),
            })
            .await
            .unwrap();
        assert!(
            retry,
            "a nonce refusal is retried, without a new authorization"
        );
        let next = claims(&oauth.dpop_proof("POST", &url, "DPoP tok").unwrap().unwrap());
        assert_eq!(next["nonce"], "rs-nonce");
        assert_eq!(next["ath"], super::super::dpop::ath("tok").as_str());
        assert_eq!(next["htu"], "http://127.0.0.1:9/mcp");
        // A bearer token gets no proof.
        assert!(oauth
            .dpop_proof("POST", &url, "Bearer tok")
            .unwrap()
            .is_none());
        // A nonce a successful response handed out goes in the next proof.
        oauth.observe_nonce(&url, "rs-nonce-2");
        let next = claims(&oauth.dpop_proof("GET", &url, "DPoP tok").unwrap().unwrap());
        assert_eq!(next["nonce"], "rs-nonce-2");
        // Without DPoP there is nothing to keep.
        OAuthConfig::new()
            .build()
            .unwrap()
            .observe_nonce(&url, "ignored");
    }

    #[test]
    fn dpop_bound_tokens_use_the_dpop_scheme_only_with_a_key() {
        let mut t = Tokens::bearer("tok");
        t.token_type = Some("DPoP".into());
        let with = OAuthConfig::new().dpop(true).build().unwrap();
        assert_eq!(with.auth_value(&t), "DPoP tok");
        assert_eq!(with.auth_value(&Tokens::bearer("tok")), "Bearer tok");
        let without = OAuthConfig::new().build().unwrap();
        assert_eq!(without.auth_value(&t), "Bearer tok");
        assert!(without
            .dpop_proof(
                "POST",
                &Url::parse("http://127.0.0.1:9/mcp").unwrap(),
                "DPoP tok"
            )
            .unwrap()
            .is_none());
    }
}
